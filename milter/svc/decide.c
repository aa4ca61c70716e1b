/*
 * decide.c - sign-or-verify decision and signing-table lookup (see decide.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "pattern.h"

static void
explain(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
explain(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b == NULL)
		return;
	va_start(ap, fmt);
	buf_vreport(b, fmt, ap);
	va_end(ap);
}

enum decide_mode
decide_mode(const struct conf *c, const struct decide_in *in, char *why, size_t whylen,
    struct buf *ex)
{
	unsigned char addr[16];
	int family = 0;
	size_t i;

	if (in->auth_user != NULL && *in->auth_user != '\0') {
		if (c->sign_authenticated) {
			explain(ex, "sign: client authenticated as '%s' (sign.authenticated)",
			    in->auth_user);
			snprintf(why, whylen, "authenticated as %s", in->auth_user);
			return DECIDE_SIGN;
		}
		explain(ex, "client authenticated as '%s', but sign.authenticated is off",
		    in->auth_user);
	} else
		explain(ex, "client is not authenticated");
	if (in->client_addr != NULL) {
		const char *a = in->client_addr;

		/* Postfix writes IPv6 clients as "IPv6:addr" in some macros. */
		if (strncasecmp(a, "IPv6:", 5) == 0)
			a += 5;
		if (inet_pton(AF_INET, a, addr) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, a, addr) == 1)
			family = AF_INET6;
		/* An IPv4-mapped IPv6 client is matched as IPv4. */
		if (family == AF_INET6 && memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(addr, addr + 12, 4);
			family = AF_INET;
		}
	}
	for (i = 0; family != 0 && i < c->nnets; i++) {
		if (pattern_net_contains(&c->nets[i], family, addr)) {
			char n[64];

			pattern_net_text(&c->nets[i], n, sizeof(n));
			explain(ex, "sign: client %s is in internal network %s "
			    "(sign.internal_networks)", in->client_addr, n);
			snprintf(why, whylen, "internal network %s", n);
			return DECIDE_SIGN;
		}
	}
	if (family != 0)
		explain(ex, "client %s is in none of the %zu internal networks",
		    in->client_addr, c->nnets);
	else
		explain(ex, "client address unknown or not IP ('%s')",
		    in->client_addr ? in->client_addr : "");
	for (i = 0; in->daemon_name != NULL && i < c->ndaemon_names; i++) {
		if (strcmp(in->daemon_name, c->daemon_names[i]) == 0) {
			explain(ex, "sign: arrived on daemon '%s' (sign.daemon_names)",
			    in->daemon_name);
			snprintf(why, whylen, "daemon name %s", in->daemon_name);
			return DECIDE_SIGN;
		}
	}
	explain(ex, "daemon name '%s' is not a signing daemon",
	    in->daemon_name ? in->daemon_name : "");
	explain(ex, "verify: no signing rule matched");
	snprintf(why, whylen, "no signing rule matched");
	return DECIDE_VERIFY;
}

/* The first set holding exactly pattern p (len bytes), or NULL. */
static const struct conf_sigentry *
find(const struct conf *c, const char *p, size_t len, const struct keyset **from)
{
	const struct conf_sigentry *e;
	size_t i;

	for (i = 0; i < c->nsets; i++)
		if ((e = keyset_find(c->sets[i], p, len)) != NULL) {
			*from = c->sets[i];
			return e;
		}
	return NULL;
}

/* The most specific entry matching address or domain s (see decide_match). */
static const struct conf_sigentry *
best_entry(const struct conf *c, const char *s, const struct keyset **from)
{
	const struct conf_sigentry *e;
	const char *dom = pattern_domain(s), *d;
	char wild[LIMIT_DOMAIN + 3];
	size_t dl = strlen(dom);

	if (dom != s && (e = find(c, s, strlen(s), from)) != NULL)
		return e;
	if ((e = find(c, dom, dl, from)) != NULL)
		return e;
	/* "*.example.com" for a.example.com, never for example.com itself. */
	for (d = strchr(dom, '.'); d != NULL && d[1] != '\0'; d = strchr(d + 1, '.')) {
		size_t n = strlen(d);

		if (n + 1 >= sizeof(wild))
			continue;
		wild[0] = '*';
		memcpy(wild + 1, d, n + 1);
		if ((e = find(c, wild, n + 1, from)) != NULL)
			return e;
	}
	return find(c, "*", 1, from);
}

size_t
decide_keys(const struct conf *c, const char *from, const char *user,
    struct decide_keys *out, struct buf *ex)
{
	const struct conf_sigentry *best = NULL;
	const struct keyset *set = NULL;
	const struct conf_user *u = NULL;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	if (from == NULL || *from == '\0') {
		explain(ex, "not signed: no single From: address");
		snprintf(out->why, sizeof(out->why), "no single From: address");
		return 0;
	}
	best = best_entry(c, from, &set);
	if (best == NULL) {
		explain(ex, "not signed: no signing_table entry matches %s", from);
		snprintf(out->why, sizeof(out->why), "no signing_table entry for %s", from);
		return 0;
	}
	out->pattern = best->pattern;
	out->origin = set->origin;
	if (set == c->sets[0])
		explain(ex, "signing_table entry '%s' (line %d) matches %s", best->pattern,
		    best->line, from);
	else if (best->line > 0)
		explain(ex, "signing_table entry '%s' (%s:%d) matches %s", best->pattern,
		    set->origin, best->line, from);
	else
		explain(ex, "signing_table entry '%s' (%s) matches %s", best->pattern,
		    set->origin, from);
	if (user != NULL && *user != '\0') {
		/* The user's own entry, else the "*" entry for everyone else. */
		for (i = 0; i < c->nusers; i++)
			if (strcmp(c->users[i].name, user) == 0)
				u = &c->users[i];
		for (i = 0; u == NULL && i < c->nusers; i++)
			if (strcmp(c->users[i].name, "*") == 0)
				u = &c->users[i];
		if (u == NULL) {
			explain(ex, "not signed: user '%s' is not in users, so may not "
			    "sign for %s", user, from);
			snprintf(out->why, sizeof(out->why), "user %s not allowed to sign for %s",
			    user, from);
			return 0;
		}
		for (i = 0; i < u->nfrom; i++)
			if (pattern_match(u->from[i], from))
				break;
		if (i == u->nfrom) {
			explain(ex, "not signed: user '%s' may not use From %s "
			    "(allowed: see users)", user, from);
			snprintf(out->why, sizeof(out->why), "user %s not allowed to sign for %s",
			    user, from);
			return 0;
		}
		explain(ex, "user '%s' may sign for %s (pattern '%s')", user, from,
		    u->from[i]);
	}
	if (best->bad != NULL)
		explain(ex, "the entry's value in %s: %s", set->origin, best->bad);
	if (best->nkeys == 0) {
		explain(ex, "not signed: the entry gives no usable key");
		snprintf(out->why, sizeof(out->why), "entry %s in %s: %s", best->pattern,
		    set->origin, best->bad ? best->bad : "no key");
		return 0;
	}
	for (k = 0; k < best->nkeys && out->nkeys < LIMIT_SIGNERS; k++) {
		const struct conf_key *key = keyset_entry_key(set, best, k);

		out->keys[out->nkeys++] = key;
		explain(ex, "key '%s': d=%s s=%s (%s)", key->id, key->domain, key->selector,
		    key->path);
	}
	snprintf(out->why, sizeof(out->why), "entry %s", best->pattern);
	return out->nkeys;
}
