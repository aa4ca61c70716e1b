/*
 * conf.c - dkimgate.conf loader (see conf.h).
 *
 * Every setting is declared once, in the table below: path, type, default,
 * limits, where it is stored and whether a reload applies it. Defaults,
 * loading, the unknown-name check and the list of restart-only settings
 * all come from the table. A list (networks, names, keys, the signing
 * table, users, sources) names the small parser that reads it. Unknown
 * names are errors, so a typo never silently leaves a default in place.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>

#include "bounds.h"
#include "conf.h"
#include "conf_int.h"
#include "dkim.h"
#include "sources.h"
#include "metrics_addr.h"

/*
 * S_INT is stored as an int, S_INT64 as a long long (durations that may
 * pass 2^31); S_MODE is an octal string stored as an int; S_ENUM is a
 * string that must be one of names[], stored as the string and, when
 * enum_off is set, as its index in names[] (an int or enum).
 */
enum stype { S_STR, S_INT, S_INT64, S_BOOL, S_ACTION, S_CANON, S_MODE, S_ENUM, S_LIST };

/* Reads list setting s (present in the file) into c; reports with err_at. */
typedef void (*list_fn)(struct loader *ld, config_setting_t *s, struct conf *c);

struct setting {
	const char *path;
	enum stype type;
	const char *sdef;	/* default for strings, actions, canon, mode, enums */
	long long idef, min, max;
	size_t off;
	int reloadable;		/* 0: needs a restart (socket, user) */
	const char *const *names;	/* S_ENUM: the accepted values */
	size_t enum_off;	/* S_ENUM: where the value's index goes; 0: nowhere */
	list_fn load;		/* S_LIST: its parser (lists keep their own defaults) */
};

static const char *const log_names[] = { "syslog", "stderr", NULL };
/* In the order of enum conf_keycheck and enum conf_alignment. */
static const char *const keycheck_names[] = { "off", "warn", "require", NULL };
static const char *const alignment_names[] = { "rfc9989", "rfc7489", NULL };

static void load_nets(struct loader *ld, config_setting_t *s, struct conf *c);
static void load_daemon_names(struct loader *ld, config_setting_t *s, struct conf *c);
static void load_headers(struct loader *ld, config_setting_t *s, struct conf *c);
static void load_oversign(struct loader *ld, config_setting_t *s, struct conf *c);
static void load_sources(struct loader *ld, config_setting_t *s, struct conf *c);

#define O(f) offsetof(struct conf, f)
static const struct setting settings[] = {
	{ "socket", S_STR, "inet:8891@127.0.0.1", 0, 0, 0, O(socket), 0, NULL, 0, NULL },
	{ "user", S_STR, "", 0, 0, 0, O(user), 0, NULL, 0, NULL },
	{ "group", S_STR, "", 0, 0, 0, O(group), 0, NULL, 0, NULL },
	{ "pid_file", S_STR, "", 0, 0, 0, O(pid_file), 0, NULL, 0, NULL },
	{ "socket_owner", S_STR, "", 0, 0, 0, O(socket_owner), 0, NULL, 0, NULL },
	{ "socket_group", S_STR, "", 0, 0, 0, O(socket_group), 0, NULL, 0, NULL },
	{ "socket_mode", S_MODE, "0660", 0, 0, 0777, O(socket_mode), 0, NULL, 0, NULL },
	{ "log", S_ENUM, "syslog", 0, 0, 0, O(log), 0, log_names, 0, NULL },
	{ "authserv_id", S_STR, "", 0, 0, 0, O(authserv_id), 1, NULL, 0, NULL },
	{ "allow_readable_keys", S_BOOL, NULL, 0, 0, 1,
	    O(allow_readable_keys), 1, NULL, 0, NULL },
	{ "milter_timeout", S_INT, NULL, 300, 10, 3600, O(milter_timeout), 0, NULL, 0, NULL },
	{ "key_check", S_ENUM, "warn", 0, 0, 0, O(key_check), 1, keycheck_names,
	    O(key_check_mode), NULL },
	{ "key_check_interval", S_INT, NULL, 300, 1, 86400,
	    O(key_check_interval), 1, NULL, 0, NULL },
	{ "key_check_rate", S_INT, NULL, 20, 1, 10000, O(key_check_rate), 1, NULL, 0, NULL },
	{ "state_dir", S_STR, "/var/lib/dkimgate", 0, 0, 0, O(state_dir), 1, NULL, 0, NULL },
	{ "max_delivery_delay", S_INT64, NULL, 7 * 86400, 0, 365LL * 86400,
	    O(max_delivery_delay), 1, NULL, 0, NULL },
	{ "key_cache_size", S_INT, NULL, 4096, 1, 10000000, O(key_cache_size), 1, NULL, 0, NULL },
	{ "watch_interval", S_INT, NULL, 30, 1, 86400, O(watch_interval), 1, NULL, 0, NULL },
	{ "metrics", S_STR, "", 0, 0, 0, O(metrics), 0, NULL, 0, NULL },
	{ "metrics_allow_remote", S_BOOL, NULL, 0, 0, 1,
	    O(metrics_allow_remote), 0, NULL, 0, NULL },
	{ "metrics_keys", S_INT, NULL, 20, 0, 10000, O(metrics_keys), 1, NULL, 0, NULL },
	{ "sign.authenticated", S_BOOL, NULL, 1, 0, 1, O(sign_authenticated), 1, NULL, 0, NULL },
	{ "sign.canonicalization", S_CANON, "relaxed/relaxed", 0, 0, 0,
	    O(hcanon), 1, NULL, 0, NULL },
	{ "sign.lifetime", S_INT64, NULL, 0, 0, 366LL * 86400, O(lifetime), 1, NULL, 0, NULL },
	{ "sign.on_error", S_ACTION, "tempfail", 0, 0, 0, O(on_sign_error), 1, NULL, 0, NULL },
	{ "verify.max_signatures", S_INT, NULL, 5, 1, 32, O(max_signatures), 1, NULL, 0, NULL },
	{ "verify.partial_body_policy", S_BOOL, NULL, 0, 0, 1,
	    O(partial_body_policy), 1, NULL, 0, NULL },
	{ "verify.max_age", S_INT64, NULL, 0, 0, 3650LL * 86400, O(max_age), 1, NULL, 0, NULL },
	{ "verify.dmarc_lookup", S_BOOL, NULL, 1, 0, 1, O(dmarc_lookup), 1, NULL, 0, NULL },
	{ "verify.alignment", S_ENUM, "rfc9989", 0, 0, 0, O(alignment_name), 1,
	    alignment_names, O(alignment), NULL },
	{ "verify.on_fail", S_ACTION, "accept", 0, 0, 0, O(on_fail), 1, NULL, 0, NULL },
	{ "verify.on_permerror", S_ACTION, "accept", 0, 0, 0, O(on_permerror), 1, NULL, 0, NULL },
	{ "verify.on_temperror", S_ACTION, "accept", 0, 0, 0, O(on_temperror), 1, NULL, 0, NULL },
	{ "verify.on_policy", S_ACTION, "accept", 0, 0, 0, O(on_policy), 1, NULL, 0, NULL },
	{ "verify.on_none", S_ACTION, "accept", 0, 0, 0, O(on_none), 1, NULL, 0, NULL },
	{ "verify.reject_reply", S_STR, "5.7.1 DKIM verification failed", 0, 0, 0,
	    O(reject_reply), 1, NULL, 0, NULL },
	{ "verify.tempfail_reply", S_STR, "4.7.1 DKIM verification incomplete, try later",
	    0, 0, 0, O(tempfail_reply), 1, NULL, 0, NULL },
	{ "dns.resolver", S_STR, "", 0, 0, 0, O(resolver), 1, NULL, 0, NULL },
	{ "dns.trust_anchor", S_STR, "/usr/share/dns/root.key", 0, 0, 0,
	    O(trust_anchor), 1, NULL, 0, NULL },
	{ "dns.timeout", S_INT, NULL, 5, 1, 60, O(dns_timeout), 1, NULL, 0, NULL },
	{ "dns.max_outstanding", S_INT, NULL, 1000, 1, 1000000,
	    O(dns_max_outstanding), 1, NULL, 0, NULL },
	{ "psl_file", S_STR, "/usr/share/publicsuffix/public_suffix_list.dat", 0, 0, 0,
	    O(psl_file), 1, NULL, 0, NULL },
	/* Lists, read in this order after every other setting. */
	{ "sign.internal_networks", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, load_nets },
	{ "sign.daemon_names", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, load_daemon_names },
	{ "sign.headers", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, load_headers },
	{ "sign.oversign", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, load_oversign },
	{ "keys", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, conf_load_keys },
	{ "signing_table", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, conf_load_table },
	{ "users", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, conf_load_users },
	{ "sources", S_LIST, NULL, 0, 0, 0, 0, 1, NULL, 0, load_sources },
};
#undef O
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const groups[] = { "sign", "verify", "dns" };

const char *
conf_action_name(enum conf_action a)
{
	return a == ACTION_TEMPFAIL ? "tempfail" : a == ACTION_REJECT ? "reject" : "accept";
}

static char **
strv_from(const char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((out[i] = strdup(v[i])) == NULL)
			return out;	/* freed by conf_unref through the count */
	return out;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int parse_action(const char *s, enum conf_action *out);

/* The index of s in the NULL-terminated names, or -1. */
static int
enum_index(const char *const *names, const char *s)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static int
set_defaults(struct conf *c)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++) {
		const struct setting *st = &settings[i];
		char *base = (char *)c + st->off;

		switch (st->type) {
		case S_STR:
		case S_ENUM:
			if ((*(char **)base = strdup(st->sdef)) == NULL)
				return -1;
			if (st->type == S_ENUM && st->enum_off != 0)
				*(int *)((char *)c + st->enum_off) = enum_index(st->names, st->sdef);
			break;
		case S_INT:
		case S_BOOL:
			*(int *)base = (int)st->idef;
			break;
		case S_INT64:
			*(long long *)base = st->idef;
			break;
		case S_ACTION:
			if (parse_action(st->sdef, (enum conf_action *)base) < 0)
				return -1;
			break;
		case S_CANON:
			if (canon_parse_pair(st->sdef, &c->hcanon, &c->bcanon) < 0)
				return -1;
			break;
		case S_MODE:
			*(int *)base = (int)strtol(st->sdef, NULL, 8);
			break;
		case S_LIST:
			break;
		}
	}
	/* Loopback: mail injected locally (Postfix sendmail(1), cron) is ours. */
	if ((c->nets = calloc(2, sizeof(*c->nets))) == NULL)
		return -1;
	pattern_net_parse("127.0.0.0/8", &c->nets[0]);
	pattern_net_parse("::1/128", &c->nets[1]);
	c->nnets = 2;
	/* The engine's choice of headers to sign and oversign. */
	c->headers = strv_from(dkim_default_headers, dkim_default_nheaders);
	c->nheaders = dkim_default_nheaders;
	c->oversign = strv_from(dkim_default_oversign, dkim_default_noversign);
	c->noversign = dkim_default_noversign;
	return c->headers && c->oversign ? 0 : -1;
}

struct conf *
conf_defaults(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->refs = 1;
	if (set_defaults(c) < 0) {
		conf_unref(c);
		return NULL;
	}
	return c;
}

static int
parse_action(const char *s, enum conf_action *out)
{
	if (strcmp(s, "accept") == 0)
		*out = ACTION_ACCEPT;
	else if (strcmp(s, "tempfail") == 0)
		*out = ACTION_TEMPFAIL;
	else if (strcmp(s, "reject") == 0)
		*out = ACTION_REJECT;
	else
		return -1;
	return 0;
}

/* "NAME must be "a", "b" or "c"" for an S_ENUM setting. */
static void
err_enum(struct loader *ld, const config_setting_t *s, const struct setting *st)
{
	struct buf text;
	size_t i;
	int ok = 1;

	buf_init(&text, 1024);
	for (i = 0; ok && st->names[i] != NULL; i++)
		ok = buf_printf(&text, "%s\"%s\"", i == 0 ? "" : st->names[i + 1] == NULL ?
		    " or " : ", ", st->names[i]) == 0;
	conf_err_at(ld, s, "%s must be %s", st->path, buf_str(&text));
	buf_release(&text);
}

/* Read setting st when the file has it; its default stays otherwise. */
static void
load_setting(struct loader *ld, config_t *cf, struct conf *c, const struct setting *st)
{
	config_setting_t *s = config_lookup(cf, st->path);
	char *base = (char *)c + st->off;
	const char *str;
	long long v;
	int e = 0;

	if (s == NULL)
		return;
	switch (st->type) {
	case S_LIST:
		st->load(ld, s, c);
		return;
	case S_STR:
	case S_ENUM:
	case S_ACTION:
	case S_CANON:
	case S_MODE:
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			conf_err_at(ld, s, "%s must be a string", st->path);
			return;
		}
		str = config_setting_get_string(s);
		if (st->type == S_STR || st->type == S_ENUM) {
			if (st->type == S_ENUM && (e = enum_index(st->names, str)) < 0) {
				err_enum(ld, s, st);
				return;
			}
			free(*(char **)base);
			*(char **)base = strdup(str);
			if (st->type == S_ENUM && st->enum_off != 0)
				*(int *)((char *)c + st->enum_off) = e;
		} else if (st->type == S_ACTION) {
			if (parse_action(str, (enum conf_action *)base) < 0)
				conf_err_at(ld, s, "%s: '%s' is not accept, tempfail or reject",
				    st->path, str);
		} else if (st->type == S_CANON) {
			if (canon_parse_pair(str, &c->hcanon, &c->bcanon) < 0)
				conf_err_at(ld, s, "%s: '%s' is not like relaxed/relaxed", st->path,
				    str);
		} else {
			char *end;

			errno = 0;
			v = strtoll(str, &end, 8);
			if (*str == '\0' || *end != '\0' || v < 0 || v > st->max)
				conf_err_at(ld, s, "%s: '%s' is not an octal mode", st->path, str);
			else
				*(int *)base = (int)v;
		}
		return;
	case S_INT:
	case S_INT64:
		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64) {
			conf_err_at(ld, s, "%s must be a number", st->path);
			return;
		}
		v = config_setting_get_int64(s);
		if (v < st->min || v > st->max) {
			conf_err_at(ld, s, "%s = %lld is out of range (%lld to %lld)", st->path, v,
			    st->min, st->max);
			return;
		}
		if (st->type == S_INT64)
			*(long long *)base = v;
		else
			*(int *)base = (int)v;
		return;
	case S_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			conf_err_at(ld, s, "%s must be true or false", st->path);
			return;
		}
		*(int *)base = config_setting_get_bool(s);
		return;
	}
}

/* 1 when setting st holds the same value in a and b. */
static int
same_value(const struct conf *a, const struct conf *b, const struct setting *st)
{
	const char *pa = (const char *)a + st->off, *pb = (const char *)b + st->off;

	switch (st->type) {
	case S_STR:
	case S_ENUM:
		return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
	case S_INT64:
		return *(const long long *)pa == *(const long long *)pb;
	case S_ACTION:
		return *(const enum conf_action *)pa == *(const enum conf_action *)pb;
	case S_CANON:
		return a->hcanon == b->hcanon && a->bcanon == b->bcanon;
	case S_INT:
	case S_BOOL:
	case S_MODE:
		return *(const int *)pa == *(const int *)pb;
	case S_LIST:
		break;
	}
	return 1;	/* every list is reloadable */
}

size_t
conf_restart_changes(const struct conf *old, const struct conf *nw, const char **names,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < NSETTINGS; i++) {
		if (settings[i].reloadable || same_value(old, nw, &settings[i]))
			continue;
		if (n < max)
			names[n] = settings[i].path;
		n++;
	}
	return n;
}

static int
known_name(const char *path)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].path, path) == 0)
			return 1;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (strcmp(groups[i], path) == 0)
			return 2;
	return 0;
}

static void
check_names(struct loader *ld, config_setting_t *grp, const char *prefix)
{
	int i, n = config_setting_length(grp);

	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		char path[128];
		int k;

		if (name == NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		k = known_name(path);
		if (k == 0)
			conf_err_at(ld, s, "unknown setting '%s'", path);
		else if (k == 2 && *prefix == '\0') {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				conf_err_at(ld, s, "'%s' must be a group { ... }", path);
			else
				check_names(ld, s, name);
		}
	}
}

/* A list of strings; returns the count, or -1 after reporting an error. */
static long
load_strings(struct loader *ld, config_setting_t *s, char ***out)
{
	const char *path = config_setting_name(s);
	char full[128];
	int i, n;

	/* The full name ("sign.headers") for messages. */
	if (config_setting_parent(s) != NULL && config_setting_name(config_setting_parent(s)))
		snprintf(full, sizeof(full), "%s.%s",
		    config_setting_name(config_setting_parent(s)), path);
	else
		snprintf(full, sizeof(full), "%s", path);
	path = full;
	if (!config_setting_is_aggregate(s)) {
		conf_err_at(ld, s, "%s must be a list [ \"...\", ... ]", path);
		return -1;
	}
	n = config_setting_length(s);
	if ((*out = calloc((size_t)n + 1, sizeof(**out))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (v == NULL) {
			conf_err_at(ld, e, "%s: element %d is not a string", path, i + 1);
			v = "";
		}
		(*out)[i] = strdup(v);
	}
	return n;
}

static void
load_nets(struct loader *ld, config_setting_t *s, struct conf *c)
{
	char **nets = NULL;
	long n = load_strings(ld, s, &nets);
	size_t i;

	if (n < 0)
		return;
	free(c->nets);
	c->nnets = 0;
	c->nets = calloc((size_t)n + 1, sizeof(*c->nets));
	for (i = 0; c->nets && i < (size_t)n; i++) {
		if (pattern_net_parse(nets[i], &c->nets[c->nnets]) < 0)
			conf_err_at(ld, s, "'%s' is not an address or CIDR network", nets[i]);
		else
			c->nnets++;
	}
	strv_free(nets, (size_t)n);
}

static void
load_daemon_names(struct loader *ld, config_setting_t *s, struct conf *c)
{
	long n = load_strings(ld, s, &c->daemon_names);

	if (n >= 0)
		c->ndaemon_names = (size_t)n;
}

static void
load_headers(struct loader *ld, config_setting_t *s, struct conf *c)
{
	char **v = NULL;
	long n = load_strings(ld, s, &v);
	size_t i;

	if (n < 0)
		return;
	strv_free(c->headers, c->nheaders);
	c->headers = v;
	c->nheaders = (size_t)n;
	for (i = 0; i < c->nheaders; i++)
		if (strcasecmp(c->headers[i], "from") == 0)
			return;
	conf_err_at(ld, s, "sign.headers must include From (RFC 6376 5.4)");
}

static void
load_oversign(struct loader *ld, config_setting_t *s, struct conf *c)
{
	char **v = NULL;
	long n = load_strings(ld, s, &v);

	if (n < 0)
		return;
	strv_free(c->oversign, c->noversign);
	c->oversign = v;
	c->noversign = (size_t)n;
}

static void
load_sources(struct loader *ld, config_setting_t *s, struct conf *c)
{
	ld->nerr += sources_load(ld->file, s, c, ld->prev, ld->read_keys, ld->errors,
	    ld->problems);
}

/*
 * The metrics endpoint has no authentication: an address off loopback is
 * refused unless metrics_allow_remote says the operator means it.
 */
static void
check_metrics(struct loader *ld, config_t *cf, const struct conf *c)
{
	struct metrics_addr a;
	char err[256];

	if (c->metrics[0] == '\0')
		return;
	if (metrics_addr_parse(c->metrics, &a, err, sizeof(err)) < 0)
		conf_err_at(ld, config_lookup(cf, "metrics"), "metrics: %s", err);
	else if (!a.loopback && !c->metrics_allow_remote)
		conf_err_at(ld, config_lookup(cf, "metrics"), "metrics: %s is not a loopback address "
		    "and the endpoint has no authentication; set metrics_allow_remote = true "
		    "to serve it there anyway", a.host);
}

struct conf *
conf_load(const char *path, enum conf_keys read_keys, struct buf *errors)
{
	return conf_load_from(path, read_keys, NULL, errors);
}

struct conf *
conf_load_from(const char *path, enum conf_keys read_keys, const struct conf *prev,
    struct buf *errors)
{
	struct buf problems;
	struct loader ld = { path, errors, 0, read_keys, prev, &problems };
	struct conf *c;
	config_t cf;
	size_t i;

	if ((c = conf_defaults()) == NULL) {
		buf_report_at(errors, path, 0, "out of memory");
		return NULL;
	}
	c->path = strdup(path);
	if ((c->sets = calloc(1, sizeof(*c->sets))) == NULL ||
	    (c->sets[0] = keyset_create(path)) == NULL) {
		buf_report_at(errors, path, 0, "out of memory");
		conf_unref(c);
		return NULL;
	}
	c->nsets = 1;
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			buf_report_at(errors, path, 0, "cannot read: %s", strerror(errno));
		else
			buf_report_at(errors, config_error_file(&cf) ? config_error_file(&cf) :
			    path, config_error_line(&cf), "%s", config_error_text(&cf));
		config_destroy(&cf);
		conf_unref(c);
		return NULL;
	}
	check_names(&ld, config_root_setting(&cf), "");
	buf_init(&problems, 16 * 1024 * 1024);
	/* Every scalar first: the lists (keys, sources) may depend on them. */
	for (i = 0; i < NSETTINGS; i++)
		if (settings[i].type != S_LIST)
			load_setting(&ld, &cf, c, &settings[i]);
	check_metrics(&ld, &cf, c);
	if (c->authserv_id[0] == '\0') {
		char host[256];

		/* The host name is what RFC 8601 suggests for the authserv-id. */
		if (gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			free(c->authserv_id);
			c->authserv_id = strdup(host);
		}
	}
	for (i = 0; i < NSETTINGS; i++)
		if (settings[i].type == S_LIST)
			load_setting(&ld, &cf, c, &settings[i]);
	if (problems.len > 0)
		c->source_problems = buf_steal(&problems);
	buf_release(&problems);
	c->keys = c->sets[0]->keys;
	c->nkeys = c->sets[0]->nkeys;
	c->table = c->sets[0]->table;
	c->ntable = c->sets[0]->ntable;
	config_destroy(&cf);
	if (ld.nerr > 0) {
		conf_unref(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_ref(struct conf *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
	return c;
}

void
conf_unref(struct conf *c)
{
	size_t i;

	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	/* S_ENUM values are strings too (set_defaults strdups both). */
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (settings[i].type == S_STR || settings[i].type == S_ENUM)
			free(*(char **)((char *)c + settings[i].off));
	free(c->path);
	free(c->nets);
	strv_free(c->daemon_names, c->ndaemon_names);
	strv_free(c->headers, c->nheaders);
	strv_free(c->oversign, c->noversign);
	for (i = 0; i < c->nsets; i++)
		keyset_unref(c->sets[i]);
	free(c->sets);
	sources_free(c->sources, c->nsources);
	free(c->source_problems);
	for (i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		strv_free(c->users[i].from, c->users[i].nfrom);
	}
	free(c->users);
	free(c);
}

size_t
conf_nkeys_all(const struct conf *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nsets; i++)
		n += c->sets[i]->nkeys;
	return n;
}

size_t
conf_ntable_all(const struct conf *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nsets; i++)
		n += c->sets[i]->ntable;
	return n;
}
