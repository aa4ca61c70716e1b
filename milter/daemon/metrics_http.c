/*
 * metrics_http.c - GET /metrics through libmicrohttpd (see metrics_http.h).
 *
 * The listening socket is made here rather than by libmicrohttpd so that a
 * failed bind is reported with its real reason.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bounds.h"
#include "buf.h"
#include "metrics.h"
#include "metrics_http.h"

struct metrics_http {
	struct MHD_Daemon *mhd;
	int fd;
};

static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	struct buf body;
	size_t len;

	(void)cls;
	(void)version;
	(void)upload;
	if (*upload_size != 0) {
		*upload_size = 0;	/* a body we do not want: read and drop it */
		return MHD_YES;
	}
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "only /metrics is served here\n");
	buf_init(&body, METRICS_HTTP_MAXBODY);
	if (metrics_write(&body) < 0) {
		buf_release(&body);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "metrics text over its size limit\n");
	}
	len = body.len;
	r = MHD_create_response_from_buffer(len, buf_steal(&body), MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8");
	rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

struct metrics_http *
metrics_http_start(const struct metrics_addr *a, char *err, size_t errlen)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	sigset_t all, old;
	int one = 1;

	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((h->fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "metrics socket: %s", strerror(errno));
		free(h);
		return NULL;
	}
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->fd, (const struct sockaddr *)&a->sa, a->salen) < 0 ||
	    listen(h->fd, 16) < 0) {
		snprintf(err, errlen, "metrics %s%s%s:%d: %s", a->family == AF_INET6 ? "[" : "",
		    a->host, a->family == AF_INET6 ? "]" : "", a->port, strerror(errno));
		close(h->fd);
		free(h);
		return NULL;
	}
	/* The listener's thread inherits this mask: signals stay with main. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    (a->family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, handle, NULL,
	    MHD_OPTION_LISTEN_SOCKET, h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "cannot start the metrics listener (libmicrohttpd)");
		close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

void
metrics_http_stop(struct metrics_http *h)
{
	if (h == NULL)
		return;
	/* libmicrohttpd closes the listening socket it was given. */
	MHD_stop_daemon(h->mhd);
	free(h);
}
