/*
 * conf_keys.c - the lists of dkimgate.conf that name keys: keys (with
 * their successors), signing_table and users; and the problems reported
 * while loading (see conf_int.h). conf.c declares them in its table of
 * settings and calls them; nothing here calls back into conf.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>

#include "addr.h"
#include "bounds.h"
#include "conf.h"
#include "conf_int.h"
#include "keyfile.h"
#include "keycheck.h"
#include "pattern.h"

void
conf_err_at(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vreport_at(ld->errors, ld->file, s ? (int)config_setting_source_line(s) : 0,
	    fmt, ap);
	va_end(ap);
	ld->nerr++;
}

/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" (UTC) or seconds since the epoch. */
static int
parse_when(const config_setting_t *s, long long *out)
{
	const char *str, *end;
	struct tm tm;

	if (config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64) {
		*out = config_setting_get_int64(s);
		return *out >= 0 ? 0 : -1;
	}
	if ((str = config_setting_get_string(s)) == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(str, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(str, "%Y-%m-%d", &tm)) == NULL || *end != '\0')
			return -1;
	}
	*out = (long long)timegm(&tm);
	return 0;
}

static void
check_key_file(struct loader *ld, const config_setting_t *s, struct conf *c,
    const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		conf_err_at(ld, s, "key file %s: %s", path, strerror(errno));
		return;
	}
	if ((st.st_mode & 077) != 0 && !c->allow_readable_keys)
		conf_err_at(ld, s, "key file %s is readable by group or others (mode %04o): "
		    "chmod 600 it, or set allow_readable_keys = true",
		    path, (unsigned)(st.st_mode & 07777));
}

/* successor = { selector = "..."; file = "..."; after = "YYYY-MM-DD"; } */
static void
load_successor(struct loader *ld, config_setting_t *e, struct conf *c,
    struct conf_key *k, int read_keys)
{
	config_setting_t *su = config_setting_get_member(e, "successor"), *af;
	const char *sel = NULL, *file = NULL;
	char err[512];

	if (su == NULL)
		return;
	if (config_setting_type(su) != CONFIG_TYPE_GROUP) {
		conf_err_at(ld, su, "key '%s': successor must be a group { ... }", k->id);
		return;
	}
	config_setting_lookup_string(su, "selector", &sel);
	config_setting_lookup_string(su, "file", &file);
	if (sel == NULL || file == NULL) {
		conf_err_at(ld, su, "key '%s': a successor needs selector and file", k->id);
		return;
	}
	if (strcmp(sel, k->selector) == 0) {
		conf_err_at(ld, su, "key '%s': the successor must use a new selector", k->id);
		return;
	}
	if ((af = config_setting_get_member(su, "after")) != NULL &&
	    parse_when(af, &k->succ_after) < 0)
		conf_err_at(ld, af, "key '%s': successor after must be \"YYYY-MM-DD\", "
		    "\"YYYY-MM-DDTHH:MM:SSZ\" or seconds since 1970", k->id);
	k->succ_selector = strdup(sel);
	k->succ_path = strdup(file);
	if (!read_keys)
		return;
	check_key_file(ld, su, c, file);
	if (keyfile_load_private(file, &k->succ_key, err, sizeof(err)) < 0)
		conf_err_at(ld, su, "key '%s' successor: %s", k->id, err);
}

/*
 * The daemon decodes keys on first use; here it only makes sure the file
 * is there, private and readable, so a typo still refuses the
 * configuration instead of surfacing as failed mail.
 */
static int
check_key_readable(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * A key's d= and s= go into every signature and into DNS names: each must
 * be a domain name (a bare "*" or a wildcard is a pattern, not a domain;
 * a selector is dot-separated LDH labels too, RFC 6376 3.1).
 */
static int
key_names_bad(struct loader *ld, const config_setting_t *e, const char *id,
    const char *dom, const char *sel)
{
	char norm[LIMIT_DOMAIN + 1];
	const char *why;
	int bad = 0;

	if (addr_domain(dom, strlen(dom), norm, sizeof(norm), &why) < 0) {
		conf_err_at(ld, e, "key '%s': domain '%s' is not a domain name (%s)", id, dom, why);
		bad = 1;
	}
	if (addr_domain(sel, strlen(sel), norm, sizeof(norm), &why) < 0 ||
	    strcasecmp(norm, sel) != 0) {
		conf_err_at(ld, e, "key '%s': selector '%s' is not a selector (letters, digits "
		    "and hyphens, labels separated by dots)", id, sel);
		bad = 1;
	}
	return bad;
}

void
conf_load_keys(struct loader *ld, config_setting_t *ks, struct conf *c)
{
	enum conf_keys read_keys = ld->read_keys;
	struct keyset *set = c->sets[0];
	int i, n;

	if (!config_setting_is_list(ks)) {
		conf_err_at(ld, ks, "keys must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(ks);
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(ks, (unsigned)i);
		struct conf_key *k;
		const char *id = NULL, *dom = NULL, *sel = NULL, *file = NULL;
		char err[512];
		long idx;

		config_setting_lookup_string(e, "id", &id);
		config_setting_lookup_string(e, "domain", &dom);
		config_setting_lookup_string(e, "selector", &sel);
		config_setting_lookup_string(e, "file", &file);
		if (id == NULL || dom == NULL || sel == NULL || file == NULL) {
			conf_err_at(ld, e, "a key needs id, domain, selector and file");
			continue;
		}
		if (key_names_bad(ld, e, id, dom, sel))
			continue;
		if ((idx = keyset_add_key(set, id, dom, sel, file,
		    (int)config_setting_source_line(e), err, sizeof(err))) < 0) {
			conf_err_at(ld, e, "%s", err);
			continue;
		}
		k = &set->keys[idx];
		k->slot = idx;
		load_successor(ld, e, c, k, read_keys != CONF_KEYS_NONE);
		if (read_keys == CONF_KEYS_NONE)
			continue;
		check_key_file(ld, e, c, file);
		if (read_keys == CONF_KEYS_CHECK) {
			if (check_key_readable(file, err, sizeof(err)) < 0)
				conf_err_at(ld, e, "key '%s': %s", id, err);
			continue;
		}
		if (keyfile_load_private(file, &k->key, err, sizeof(err)) < 0) {
			conf_err_at(ld, e, "key '%s': %s", id, err);
			continue;
		}
		if (crypto_key_too_small(k->key))
			conf_err_at(ld, e, "key '%s' is RSA %d bits: below %d it cannot sign "
			    "(RFC 8301)", id, crypto_key_bits(k->key), LIMIT_RSA_MIN_BITS);
	}
}

void
conf_load_table(struct loader *ld, config_setting_t *ts, struct conf *c)
{
	int i, n;

	if (!config_setting_is_list(ts)) {
		conf_err_at(ld, ts, "signing_table must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(ts);
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(ts, (unsigned)i);
		config_setting_t *kl = config_setting_get_member(e, "keys");
		const char *from = NULL;
		int k, nk, first;
		long t;

		config_setting_lookup_string(e, "from", &from);
		if (from == NULL || kl == NULL || !config_setting_is_aggregate(kl)) {
			conf_err_at(ld, e, "a signing_table entry needs from = \"...\" and keys = [ ... ]");
			continue;
		}
		if (!pattern_valid(from)) {
			conf_err_at(ld, e, "'%s' is not a pattern (address, domain, *.domain or *)", from);
			continue;
		}
		nk = config_setting_length(kl);
		if (nk == 0) {
			/* An entry that matches but signs with nothing hides a mistake. */
			conf_err_at(ld, e, "signing_table entry for '%s' lists no key", from);
			continue;
		}
		if (nk > LIMIT_SIGNERS)
			conf_err_at(ld, kl, "signing_table: %d keys for '%s', at most %d signatures "
			    "per message", nk, from, LIMIT_SIGNERS);
		/* A repeated pattern is never reached: the first entry wins. */
		t = keyset_add_entry(c->sets[0], from, (int)config_setting_source_line(e),
		    &first);
		if (t == -2)
			continue;
		if (t < 0) {
			conf_err_at(ld, e, "out of memory");
			return;
		}
		for (k = 0; k < nk; k++) {
			const char *id = config_setting_get_string_elem(kl, (unsigned)k);
			long idx = id ? conf_key_index(c, id) : -1;

			if (idx < 0)
				conf_err_at(ld, kl, "signing_table: no key with id '%s'", id ? id : "?");
			else if (keyset_entry_add_key(c->sets[0], (size_t)t, (size_t)idx) < 0)
				conf_err_at(ld, kl, "out of memory");
		}
	}
}

void
conf_load_users(struct loader *ld, config_setting_t *us, struct conf *c)
{
	int i, n;

	if (!config_setting_is_list(us)) {
		conf_err_at(ld, us, "users must be a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(us);
	if ((c->users = calloc((size_t)n + 1, sizeof(*c->users))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(us, (unsigned)i);
		config_setting_t *fl = config_setting_get_member(e, "from");
		struct conf_user *u = &c->users[c->nusers];
		const char *name = NULL;
		int k, nf;

		config_setting_lookup_string(e, "user", &name);
		if (name == NULL || fl == NULL || !config_setting_is_aggregate(fl)) {
			conf_err_at(ld, e, "a users entry needs user = \"...\" and from = [ ... ]");
			continue;
		}
		nf = config_setting_length(fl);
		u->name = strdup(name);
		u->from = calloc((size_t)nf + 1, sizeof(*u->from));
		c->nusers++;
		for (k = 0; k < nf && u->from; k++) {
			const char *p = config_setting_get_string_elem(fl, (unsigned)k);

			if (p == NULL || !pattern_valid(p))
				conf_err_at(ld, fl, "users: '%s' is not a pattern", p ? p : "?");
			else
				u->from[u->nfrom++] = strdup(p);
		}
	}
}

long
conf_key_index(const struct conf *c, const char *id)
{
	return c->nsets > 0 ? keyset_key_index(c->sets[0], id) : -1;
}

