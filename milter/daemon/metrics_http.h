/*
 * metrics_http.h - the HTTP listener that serves GET /metrics.
 *
 * libmicrohttpd runs the listener in a thread of its own: a scrape never
 * runs on, or waits for, a milter thread (it only reads metrics' atomics).
 * Nothing but GET (and HEAD) of /metrics is served; every other path is
 * 404 and every other method 405. Connections are few and short: at most
 * METRICS_HTTP_CONNECTIONS at once, each dropped after
 * METRICS_HTTP_TIMEOUT seconds of silence.
 */
#ifndef DKIMGATE_METRICS_HTTP_H
#define DKIMGATE_METRICS_HTTP_H

#include <stddef.h>

#include "metrics_addr.h"

#define METRICS_HTTP_CONNECTIONS 8
#define METRICS_HTTP_TIMEOUT 10
/* Largest exposition text served (the per-key gauges are bounded too). */
#define METRICS_HTTP_MAXBODY (4 * 1024 * 1024)

struct metrics_http;

/*
 * Bind a, start serving. The listener's thread blocks every signal (they
 * belong to the main thread). NULL with a reason in err on failure (the
 * bind error, e.g. the port is in use). Call from one thread.
 */
struct metrics_http *metrics_http_start(const struct metrics_addr *a, char *err,
    size_t errlen);
/* Stop serving, close the socket and free h; accepts NULL. */
void metrics_http_stop(struct metrics_http *h);

#endif
