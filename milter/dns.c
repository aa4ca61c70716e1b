/*
 * dns.c - libunbound driver (see dns.h).
 *
 * A query is shared by the waiter and the libunbound callback, so it is
 * reference-counted: one reference for the caller, one while libunbound may
 * still call back. The driver thread polls libunbound's descriptor and runs
 * the callbacks; waiters sleep on the query's condition variable.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "buf.h"
#include "dns.h"
#include "metrics.h"

/* Answers are counted by their enum value: the two orders must agree. */
_Static_assert((int)DNS_OK == MQ_OK && (int)DNS_NXDOMAIN == MQ_NXDOMAIN &&
    (int)DNS_NODATA == MQ_NODATA && (int)DNS_SERVFAIL == MQ_SERVFAIL &&
    (int)DNS_BOGUS == MQ_BOGUS && (int)DNS_TIMEOUT == MQ_TIMEOUT &&
    (int)DNS_ERROR == MQ_ERROR,
    "metrics.h DNS labels follow enum dns_status");

struct dns {
	struct ub_ctx *ub;
	int timeout_ms;
	int max_outstanding;	/* lookups libunbound may hold at once */
	int outstanding;	/* atomic: lookups libunbound holds now */
	unsigned long refused;	/* atomic: lookups refused over the bound */
	pthread_t thread;
	int thread_started;
	int wake[2];		/* written to stop the driver at once */
	pthread_mutex_t lock;	/* serialises ub_resolve_async/ub_process */
	/* Lookups libunbound holds (under lock), freed by dns_free if never answered. */
	struct dns_query *inflight;
};

struct dns_query {
	struct dns *dns;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	int done;
	int async_id;
	int in_flight;		/* libunbound still holds a reference */
	int abandoned;		/* the caller is gone: nobody reads the answer */
	int linked;		/* in dns->inflight */
	struct dns_query *prev, *next;	/* in dns->inflight while in_flight */
	int raw;		/* copy rdata as it came (dns_query_type) */
	struct timespec deadline;
	uint64_t started_us;	/* for the latency histogram */
	struct dns_result res;
};

static void query_unref(struct dns_query *q);
static void inflight_unlink(struct dns_query *q);
static void left_resolver(struct dns_query *q);

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_SERVFAIL: return "servfail";
	case DNS_BOGUS: return "bogus";
	case DNS_TIMEOUT: return "timeout";
	default: return "error";
	}
}

static void *
driver(void *arg)
{
	struct dns *dns = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(dns->ub);
	pfd[0].events = POLLIN;
	pfd[1].fd = dns->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		int n = poll(pfd, 2, -1);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && pfd[1].revents != 0)
			break;
		if (n > 0 && pfd[0].revents != 0) {
			pthread_mutex_lock(&dns->lock);
			ub_process(dns->ub);
			pthread_mutex_unlock(&dns->lock);
		}
	}
	return NULL;
}

struct dns *
dns_create(const char *resolver, const char *trust_anchor, int timeout_ms, char *err,
    size_t errlen)
{
	struct dns *dns = calloc(1, sizeof(*dns));
	int rc;

	if (dns == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&dns->lock, NULL);
	dns->wake[0] = dns->wake[1] = -1;
	dns->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	dns->max_outstanding = DNS_MAX_OUTSTANDING_DEFAULT;
	if (pipe2(dns->wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		dns_free(dns);
		return NULL;
	}
	if ((dns->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create the libunbound context");
		dns_free(dns);
		return NULL;
	}
	/* Resolve in a libunbound thread so lookups overlap. */
	ub_ctx_async(dns->ub, 1);
	if (resolver != NULL && *resolver != '\0') {
		rc = ub_ctx_set_fwd(dns->ub, resolver);
		/* A forwarder on loopback is the normal test and local-resolver setup. */
		if (rc == 0)
			rc = ub_ctx_set_option(dns->ub, "do-not-query-localhost:", "no");
	} else
		rc = ub_ctx_resolvconf(dns->ub, NULL);
	/*
	 * After a SERVFAIL (or a timeout) libunbound sends the same question
	 * again, up to 5 more times by default: one broken zone cost six
	 * queries per name and message. Once more is enough to ride over a
	 * lost packet. The retry count also bounds timeouts, which back off
	 * from the server's measured round trip (50 ms at least): against a
	 * resolver that usually answers from its cache in a millisecond, a
	 * cold recursive lookup would be given up after 150 ms. So the first
	 * wait is half the timeout: the caller's own timeout ends the lookup
	 * for the message, and libunbound gives up soon after. (A lower
	 * infra-cache-max-rtt would end dead lookups sooner, but libunbound
	 * then takes the forwarder itself for dead and fails every lookup.)
	 */
	if (rc == 0)
		rc = ub_ctx_set_option(dns->ub, "outbound-msg-retry:", "1");
	if (rc == 0) {
		char rtt[16];

		snprintf(rtt, sizeof(rtt), "%d", dns->timeout_ms / 2 > 50 ?
		    dns->timeout_ms / 2 : 50);
		rc = ub_ctx_set_option(dns->ub, "infra-cache-min-rtt:", rtt);
	}
	if (rc != 0) {
		snprintf(err, errlen, "resolver %s: %s", resolver ? resolver : "resolv.conf",
		    ub_strerror(rc));
		dns_free(dns);
		return NULL;
	}
	if (trust_anchor != NULL && *trust_anchor != '\0' &&
	    (rc = ub_ctx_add_ta_file(dns->ub, trust_anchor)) != 0) {
		snprintf(err, errlen, "trust anchor %s: %s", trust_anchor, ub_strerror(rc));
		dns_free(dns);
		return NULL;
	}
	{
		/* The driver never handles signals: they belong to the main thread. */
		sigset_t all, old;
		int prc;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		prc = pthread_create(&dns->thread, NULL, driver, dns);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (prc != 0) {
			snprintf(err, errlen, "cannot start the DNS thread");
			dns_free(dns);
			return NULL;
		}
	}
	dns->thread_started = 1;
	return dns;
}

void
dns_free(struct dns *dns)
{
	if (dns == NULL)
		return;
	if (dns->thread_started) {
		(void)!write(dns->wake[1], "x", 1);
		pthread_join(dns->thread, NULL);
	}
	if (dns->wake[0] >= 0) {
		close(dns->wake[0]);
		close(dns->wake[1]);
	}
	if (dns->ub != NULL)
		ub_ctx_delete(dns->ub);
	/* Lookups never answered: libunbound dropped them without a callback. */
	while (dns->inflight != NULL) {
		struct dns_query *q = dns->inflight;

		pthread_mutex_lock(&q->lock);
		left_resolver(q);
		if (!q->done) {
			q->done = 1;
			q->res.status = DNS_ERROR;
			snprintf(q->res.why, sizeof(q->res.why), "resolver shut down");
			pthread_cond_broadcast(&q->cond);
		}
		pthread_mutex_unlock(&q->lock);
		query_unref(q);
	}
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

void
dns_result_clear(struct dns_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->txt[i]);
	free(r->txt);
	free(r->txtlen);
	r->txt = NULL;
	r->txtlen = NULL;
	r->n = 0;
}

static void
query_unref(struct dns_query *q)
{
	int last;

	pthread_mutex_lock(&q->lock);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (!last)
		return;
	dns_result_clear(&q->res);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}

/* Join the character-strings of one TXT rdata. */
static char *
join_txt(const unsigned char *p, size_t n, size_t *outlen)
{
	struct buf b;
	size_t i = 0;

	buf_init(&b, 65536);
	while (i < n) {
		size_t l = p[i++];

		if (l > n - i || buf_append(&b, p + i, l) < 0) {
			buf_release(&b);
			return NULL;
		}
		i += l;
	}
	*outlen = b.len;
	return buf_steal(&b);
}

/*
 * Copy libunbound's answer into r: the status, and each record either as
 * its TXT strings joined (raw = 0) or as the rdata as it came (raw = 1).
 */
static void
fill_result(struct dns_result *r, int err, struct ub_result *ur, int raw)
{
	int i, n = 0;

	if (err != 0) {
		r->status = DNS_ERROR;
		snprintf(r->why, sizeof(r->why), "resolver error: %s", ub_strerror(err));
		return;
	}
	r->dnssec = ur->secure ? "secure" : ur->bogus ? "bogus" : "insecure";
	r->ttl = ur->ttl;
	if (ur->canonname != NULL)
		str_copy(r->canon, ur->canonname, sizeof(r->canon));
	if (ur->bogus) {
		r->status = DNS_BOGUS;
		snprintf(r->why, sizeof(r->why), "DNSSEC validation failed%s%s",
		    ur->why_bogus ? ": " : "", ur->why_bogus ? ur->why_bogus : "");
		return;
	}
	if (ur->nxdomain) {
		r->status = DNS_NXDOMAIN;
		snprintf(r->why, sizeof(r->why), "NXDOMAIN");
		return;
	}
	if (ur->rcode != 0) {
		r->status = DNS_SERVFAIL;
		snprintf(r->why, sizeof(r->why), "DNS rcode %d%s", ur->rcode,
		    ur->rcode == 2 ? " (SERVFAIL)" : ur->rcode == 5 ? " (REFUSED)" : "");
		return;
	}
	if (!ur->havedata) {
		r->status = DNS_NODATA;
		snprintf(r->why, sizeof(r->why), raw ? "no record of that type" :
		    "no TXT record");
		return;
	}
	while (ur->data[n] != NULL)
		n++;
	r->txt = calloc((size_t)n, sizeof(*r->txt));
	r->txtlen = calloc((size_t)n, sizeof(*r->txtlen));
	if (r->txt == NULL || r->txtlen == NULL) {
		r->status = DNS_ERROR;
		snprintf(r->why, sizeof(r->why), "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		size_t len = (size_t)ur->len[i];
		char *t;

		if (raw) {
			if ((t = malloc(len + 1)) != NULL) {
				memcpy(t, ur->data[i], len);
				t[len] = '\0';
			}
		} else
			t = join_txt((unsigned char *)ur->data[i], len, &len);
		if (t != NULL) {
			r->txtlen[r->n] = len;
			r->txt[r->n++] = t;
		}
	}
	r->status = r->n > 0 ? DNS_OK : raw ? DNS_ERROR : DNS_SERVFAIL;
	if (r->n == 0)
		snprintf(r->why, sizeof(r->why), raw ? "out of memory" :
		    "malformed TXT data");
}

/*
 * The query's answer is final (caller holds q->lock): count its outcome
 * and how long it took, once per query.
 */
static void
count_answer(struct dns_query *q)
{
	const char *d = q->res.dnssec;

	metrics_inc(MC_DNS_ANSWERS, (unsigned)q->res.status);
	if (d != NULL)
		metrics_inc(MC_DNS_DNSSEC, strcmp(d, "secure") == 0 ? MSEC_SECURE :
		    strcmp(d, "bogus") == 0 ? MSEC_BOGUS : MSEC_INSECURE);
	metrics_observe(MH_DNS, metrics_now_us() - q->started_us);
}

/*
 * libunbound no longer holds q (it answered, or the lookup was cancelled):
 * the one place that ends a lookup's time in flight (caller holds q->lock).
 */
static void
left_resolver(struct dns_query *q)
{
	if (q->in_flight) {
		metrics_gauge_add(MG_DNS_INFLIGHT, -1);
		__atomic_sub_fetch(&q->dns->outstanding, 1, __ATOMIC_SEQ_CST);
		/* Linked only once ub_resolve_async took it; under dns->lock. */
		if (q->linked)
			inflight_unlink(q);
	}
	q->in_flight = 0;
}

/* Under dns->lock. */
static void
inflight_unlink(struct dns_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		q->dns->inflight = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
	q->linked = 0;
}

static void
callback(void *arg, int err, struct ub_result *ur)
{
	struct dns_query *q = arg;

	pthread_mutex_lock(&q->lock);
	if (!q->done && !q->abandoned) {
		fill_result(&q->res, err, ur, q->raw);
		q->done = 1;
		count_answer(q);
		pthread_cond_broadcast(&q->cond);
	}
	/* Callbacks run inside ub_process, under dns->lock (for the unlink). */
	left_resolver(q);
	pthread_mutex_unlock(&q->lock);
	if (ur != NULL)
		ub_resolve_free(ur);
	query_unref(q);
}

/* Start a lookup of name/rrtype; never NULL but when out of memory. */
static struct dns_query *
query_start(struct dns *dns, const char *name, int rrtype, int raw)
{
	struct dns_query *q = calloc(1, sizeof(*q));
	int rc;

	if (q == NULL)
		return NULL;
	q->dns = dns;
	q->raw = raw;
	q->refs = 1;
	pthread_mutex_init(&q->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&q->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	clock_gettime(CLOCK_MONOTONIC, &q->deadline);
	q->deadline.tv_sec += dns->timeout_ms / 1000;
	q->deadline.tv_nsec += (long)(dns->timeout_ms % 1000) * 1000000L;
	if (q->deadline.tv_nsec >= 1000000000L) {
		q->deadline.tv_sec++;
		q->deadline.tv_nsec -= 1000000000L;
	}
	q->started_us = metrics_now_us();
	metrics_inc(MC_DNS_QUERIES, 0);
	/*
	 * A bound on what libunbound holds for us: past it a lookup fails at
	 * once (a temporary error for the message) instead of queueing
	 * behind lookups that a dead server will never answer.
	 */
	if (__atomic_add_fetch(&dns->outstanding, 1, __ATOMIC_SEQ_CST) >
	    dns->max_outstanding) {
		__atomic_sub_fetch(&dns->outstanding, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&dns->refused, 1, __ATOMIC_SEQ_CST);
		q->done = 1;
		q->res.status = DNS_ERROR;
		snprintf(q->res.why, sizeof(q->res.why), "too many DNS lookups outstanding "
		    "(dns.max_outstanding %d)", dns->max_outstanding);
		count_answer(q);
		return q;
	}
	q->refs++;	/* libunbound's */
	q->in_flight = 1;
	metrics_gauge_add(MG_DNS_INFLIGHT, 1);
	pthread_mutex_lock(&dns->lock);
	rc = ub_resolve_async(dns->ub, name, rrtype, 1 /* IN */, q, callback,
	    &q->async_id);
	if (rc == 0) {
		q->next = dns->inflight;
		if (q->next != NULL)
			q->next->prev = q;
		dns->inflight = q;
		q->linked = 1;
	}
	pthread_mutex_unlock(&dns->lock);
	if (rc != 0) {
		q->refs--;
		left_resolver(q);
		q->done = 1;
		q->res.status = DNS_ERROR;
		snprintf(q->res.why, sizeof(q->res.why), "cannot start lookup: %s",
		    ub_strerror(rc));
		count_answer(q);
	}
	return q;
}

struct dns_query *
dns_txt_start(struct dns *dns, const char *name)
{
	return query_start(dns, name, 16 /* TXT */, 0);
}

const struct dns_result *
dns_query_wait(struct dns_query *q)
{
	pthread_mutex_lock(&q->lock);
	while (!q->done) {
		if (pthread_cond_timedwait(&q->cond, &q->lock, &q->deadline) == ETIMEDOUT &&
		    !q->done) {
			q->done = 1;
			q->res.status = DNS_TIMEOUT;
			snprintf(q->res.why, sizeof(q->res.why), "DNS timeout after %d ms",
			    q->dns->timeout_ms);
			count_answer(q);
		}
	}
	pthread_mutex_unlock(&q->lock);
	return &q->res;
}

void
dns_query_free(struct dns_query *q)
{
	if (q == NULL)
		return;
	/*
	 * Nobody will wait for this answer (the message was aborted, its
	 * connection closed, or it is done). ub_cancel would not help: in
	 * threaded mode it only suppresses the callback while libunbound goes
	 * on resolving, so the lookup would still cost memory and queries but
	 * no longer be counted. The lookup is dropped instead: its answer is
	 * not kept, and it counts as outstanding until libunbound is done
	 * with it, which its retry settings bound to about the timeout.
	 */
	pthread_mutex_lock(&q->lock);
	q->abandoned = 1;
	pthread_mutex_unlock(&q->lock);
	query_unref(q);
}

int
dns_outstanding(const struct dns *dns)
{
	return dns ? __atomic_load_n(&dns->outstanding, __ATOMIC_SEQ_CST) : 0;
}

unsigned long
dns_refused(const struct dns *dns)
{
	return dns ? __atomic_load_n(&dns->refused, __ATOMIC_SEQ_CST) : 0;
}

void
dns_set_max_outstanding(struct dns *dns, int max)
{
	char n[16];

	dns->max_outstanding = max > 0 ? max : DNS_MAX_OUTSTANDING_DEFAULT;
	/*
	 * libunbound's own limit on queries it works on must not be the
	 * tighter one, or it would drop lookups we let through. Only possible
	 * before the first lookup; later the earlier setting stays.
	 */
	snprintf(n, sizeof(n), "%d", dns->max_outstanding + 64);
	(void)ub_ctx_set_option(dns->ub, "num-queries-per-thread:", n);
}

/* Wait for q and move its result into out (then free q). */
static void
wait_move(struct dns_query *q, struct dns_result *out)
{
	const struct dns_result *r;

	memset(out, 0, sizeof(*out));
	if (q == NULL) {
		out->status = DNS_ERROR;
		snprintf(out->why, sizeof(out->why), "out of memory");
		return;
	}
	r = dns_query_wait(q);
	/* Move the result out; the query keeps nothing to free. */
	pthread_mutex_lock(&q->lock);
	*out = *r;
	q->res.txt = NULL;
	q->res.txtlen = NULL;
	q->res.n = 0;
	pthread_mutex_unlock(&q->lock);
	dns_query_free(q);
}

void
dns_txt(struct dns *dns, const char *name, struct dns_result *out)
{
	wait_move(dns_txt_start(dns, name), out);
}

void
dns_query_type(struct dns *dns, const char *name, int rrtype, struct dns_result *out)
{
	wait_move(query_start(dns, name, rrtype, 1), out);
}
