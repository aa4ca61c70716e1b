/*
 * metrics_addr.h - the address the metrics endpoint listens on.
 *
 * Accepted forms: "IPV4:PORT", "[IPV6]:PORT" and "localhost:PORT" (which is
 * 127.0.0.1); PORT is 1 to 65535. Names other than localhost are refused:
 * the daemon must not depend on a resolver to decide where it listens.
 * The endpoint has no authentication, so callers refuse an address that
 * is not loopback unless the operator said so explicitly.
 */
#ifndef DKIMGATE_METRICS_ADDR_H
#define DKIMGATE_METRICS_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct metrics_addr {
	struct sockaddr_storage sa;
	socklen_t salen;
	int family;		/* AF_INET or AF_INET6 */
	int port;
	int loopback;		/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104 */
	char host[64];		/* the address as text, without brackets */
};

/*
 * Parse spec into *out. 0, or -1 with a reason in err (NUL-terminated,
 * cut to errlen). Thread-safe; no I/O.
 */
int metrics_addr_parse(const char *spec, struct metrics_addr *out, char *err,
    size_t errlen);

#endif
