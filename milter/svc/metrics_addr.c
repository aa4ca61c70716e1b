/*
 * metrics_addr.c - parse the metrics listen address (see metrics_addr.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics_addr.h"

static int
parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int
metrics_addr_parse(const char *spec, struct metrics_addr *out, char *err, size_t errlen)
{
	const char *colon, *port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':') {
			snprintf(err, errlen, "'%s': an IPv6 address is written [ADDRESS]:PORT", spec);
			return -1;
		}
		hlen = (size_t)(close - spec - 1);
		port = close + 2;
		if (hlen >= sizeof(out->host)) {
			snprintf(err, errlen, "'%s': address too long", spec);
			return -1;
		}
		memcpy(out->host, spec + 1, hlen);
		out->host[hlen] = '\0';
		out->family = AF_INET6;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL || strchr(spec, ':') != colon) {
			snprintf(err, errlen, "'%s' is not ADDRESS:PORT (IPv6: [ADDRESS]:PORT)", spec);
			return -1;
		}
		hlen = (size_t)(colon - spec);
		port = colon + 1;
		if (hlen == 0 || hlen >= sizeof(out->host)) {
			snprintf(err, errlen, "'%s': no address before the port", spec);
			return -1;
		}
		memcpy(out->host, spec, hlen);
		out->host[hlen] = '\0';
		if (strcmp(out->host, "localhost") == 0)
			str_copy(out->host, "127.0.0.1", sizeof(out->host));
		out->family = AF_INET;
	}
	if (parse_port(port, &out->port) < 0) {
		snprintf(err, errlen, "'%s': the port must be a number from 1 to 65535", spec);
		return -1;
	}
	if (out->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&out->sa;

		if (inet_pton(AF_INET, out->host, &sin->sin_addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv4 address (names other "
			    "than localhost are not looked up)", spec, out->host);
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)out->port);
		out->salen = sizeof(*sin);
		out->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&out->sa;
		const unsigned char *a;

		if (inet_pton(AF_INET6, out->host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv6 address", spec, out->host);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)out->port);
		out->salen = sizeof(*sin6);
		a = sin6->sin6_addr.s6_addr;
		out->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && a[12] == 127);
	}
	return 0;
}
