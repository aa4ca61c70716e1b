/*
 * pattern.c - From patterns and networks of dkimgate.conf (see pattern.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pattern.h"

int
pattern_valid(const char *p)
{
	if (strcmp(p, "*") == 0)
		return 1;
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0' || strchr(p, '*') != NULL || strchr(p, ' ') != NULL)
		return 0;
	return strchr(p, '@') == NULL || strchr(p, '@') == strrchr(p, '@');
}

const char *
pattern_domain(const char *s)
{
	const char *at = strrchr(s, '@');

	return at ? at + 1 : s;
}

int
pattern_match(const char *p, const char *s)
{
	const char *dom = pattern_domain(s);

	if (strcmp(p, "*") == 0)
		return 1;
	if (strchr(p, '@') != NULL)
		return strcasecmp(p, s) == 0;
	if (strncmp(p, "*.", 2) == 0) {
		size_t pl = strlen(p + 1), dl = strlen(dom);	/* ".example.com" */

		return dl > pl && strcasecmp(dom + dl - pl, p + 1) == 0;
	}
	return strcasecmp(p, dom) == 0;
}

int
pattern_net_parse(const char *s, struct pattern_net *net)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	if (alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else
		return -1;
	net->prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		if (slash[1] == '\0' || *end != '\0' || p < 0 || p > max)
			return -1;
		net->prefix = (int)p;
	}
	return 0;
}

int
pattern_net_contains(const struct pattern_net *n, int family, const unsigned char *a)
{
	int bits = n->prefix, i;

	if (n->family != family)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (n->addr[i] != a[i])
			return 0;
	if (bits > 0) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits));

		if ((n->addr[i] & mask) != (a[i] & mask))
			return 0;
	}
	return 1;
}

void
pattern_net_text(const struct pattern_net *n, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(n->family, n->addr, a, sizeof(a));
	snprintf(out, outlen, "%s/%d", a, n->prefix);
}
