/*
 * pattern.h - the grammar of the addresses, domains and networks that
 * dkimgate.conf matches mail against, in one place for the loader (which
 * refuses what does not parse) and the decision (which matches).
 *
 * A From pattern is "*", "*.domain" (any name strictly below domain),
 * "domain", or "local@domain"; matching ignores ASCII case. A network is
 * an IPv4 or IPv6 address with an optional "/prefix". Pure functions,
 * thread-safe.
 */
#ifndef DKIMGATE_PATTERN_H
#define DKIMGATE_PATTERN_H

#include <stddef.h>

struct pattern_net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

/* 1 when p is a From pattern (see above), 0 otherwise. */
int pattern_valid(const char *p);
/* The domain of address s (a pointer into s; all of s when it has no '@'). */
const char *pattern_domain(const char *s);
/* 1 when address or domain s matches pattern p. */
int pattern_match(const char *p, const char *s);

/* Parse "ADDR" or "ADDR/PREFIX" into net; -1 when it is neither. */
int pattern_net_parse(const char *s, struct pattern_net *net);
/* 1 when address a (4 or 16 bytes, of family) is inside n. */
int pattern_net_contains(const struct pattern_net *n, int family, const unsigned char *a);
/* "ADDR/PREFIX" into out (truncated to outlen). */
void pattern_net_text(const struct pattern_net *n, char *out, size_t outlen);

#endif
