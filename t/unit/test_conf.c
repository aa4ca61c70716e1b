/*
 * test_conf.c - the configuration loader (conf.c): every default, settings
 * of each type read from a file, and the problems a file can have, each
 * reported as "file:line: reason" with the right line, the whole file
 * refused. Key files are fixtures copied to a private scratch directory.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "testutil.h"

/* Load text as a configuration file; errors get the problems. */
static struct conf *
load(const char *text, enum conf_keys keys, struct buf *errors)
{
	char *path = tu_write_tmp(text);
	struct conf *c = conf_load(path, keys, errors);

	unlink(path);
	free(path);
	return c;
}

START_TEST(test_defaults)
{
	struct conf *c = conf_defaults();

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->socket, "inet:8891@127.0.0.1");
	ck_assert_int_eq(c->socket_mode, 0660);
	ck_assert_str_eq(c->log, "syslog");
	ck_assert_int_eq(c->milter_timeout, 300);
	ck_assert_str_eq(c->key_check, "warn");
	ck_assert_int_eq(c->key_check_mode, KEYCHECK_MODE_WARN);
	ck_assert_int_eq(c->key_check_rate, 20);
	ck_assert_int_eq(c->max_delivery_delay, 7 * 86400);
	ck_assert_int_eq(c->key_cache_size, 4096);
	ck_assert_int_eq(c->sign_authenticated, 1);
	ck_assert_int_eq(c->hcanon, CANON_RELAXED);
	ck_assert_int_eq(c->bcanon, CANON_RELAXED);
	ck_assert_int_eq(c->lifetime, 0);
	ck_assert_int_eq(c->on_sign_error, ACTION_TEMPFAIL);
	ck_assert_int_eq(c->on_fail, ACTION_ACCEPT);
	ck_assert_int_eq(c->max_signatures, 5);
	ck_assert_int_eq(c->dmarc_lookup, 1);
	ck_assert_str_eq(c->alignment_name, "rfc9989");
	ck_assert_int_eq(c->alignment, ALIGN_RFC9989);
	ck_assert_int_eq(c->dns_timeout, 5);
	ck_assert_int_eq(c->dns_max_outstanding, 1000);
	ck_assert_uint_eq(c->nnets, 2);
	ck_assert_int_eq(c->nets[0].family, AF_INET);
	ck_assert_int_eq(c->nets[0].prefix, 8);
	ck_assert_int_eq(c->nets[1].family, AF_INET6);
	ck_assert_int_eq(c->nets[1].prefix, 128);
	ck_assert_uint_gt(c->nheaders, 0);
	ck_assert_uint_gt(c->noversign, 0);
	conf_unref(c);
}
END_TEST

/* An empty file gives the defaults, and authserv_id the host name. */
START_TEST(test_empty_file)
{
	struct buf errors;
	struct conf *c;
	char host[256];

	buf_init(&errors, 65536);
	c = load("", CONF_KEYS_NONE, &errors);
	ck_assert_msg(c != NULL, "%s", buf_str(&errors));
	ck_assert_int_eq(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	ck_assert_str_eq(c->authserv_id, host);
	ck_assert_int_eq(c->milter_timeout, 300);
	conf_unref(c);
	buf_release(&errors);
}
END_TEST

/* Good files: one setting each, and what it becomes. */
static const struct {
	const char *text;
	size_t off;		/* field of struct conf */
	char type;		/* 'i' int, 'l' long long, 's' string */
	long long ival;
	const char *sval;
} good[] = {
	{ "milter_timeout = 10;", offsetof(struct conf, milter_timeout), 'i', 10, NULL },
	{ "milter_timeout = 3600;", offsetof(struct conf, milter_timeout), 'i', 3600, NULL },
	{ "socket_mode = \"0600\";", offsetof(struct conf, socket_mode), 'i', 0600, NULL },
	{ "allow_readable_keys = true;", offsetof(struct conf, allow_readable_keys), 'i', 1,
	  NULL },
	{ "sign = { authenticated = false; };", offsetof(struct conf, sign_authenticated),
	  'i', 0, NULL },
	{ "sign = { canonicalization = \"simple\"; };", offsetof(struct conf, bcanon), 'i',
	  CANON_SIMPLE, NULL },
	{ "sign = { canonicalization = \"simple/relaxed\"; };", offsetof(struct conf, hcanon),
	  'i', CANON_SIMPLE, NULL },
	{ "sign = { lifetime = 604800; };", offsetof(struct conf, lifetime), 'l', 604800,
	  NULL },
	{ "sign = { on_error = \"reject\"; };", offsetof(struct conf, on_sign_error), 'i',
	  ACTION_REJECT, NULL },
	{ "verify = { on_fail = \"tempfail\"; };", offsetof(struct conf, on_fail), 'i',
	  ACTION_TEMPFAIL, NULL },
	{ "verify = { max_age = 31536000L; };", offsetof(struct conf, max_age), 'l',
	  31536000, NULL },
	{ "verify = { alignment = \"rfc7489\"; };", offsetof(struct conf, alignment), 'i',
	  ALIGN_RFC7489, NULL },
	{ "max_delivery_delay = 0;", offsetof(struct conf, max_delivery_delay), 'l', 0,
	  NULL },
	{ "key_check = \"require\";", offsetof(struct conf, key_check_mode), 'i',
	  KEYCHECK_MODE_REQUIRE, NULL },
	{ "key_check = \"off\";", offsetof(struct conf, key_check_mode), 'i',
	  KEYCHECK_MODE_OFF, NULL },
	{ "dns = { resolver = \"127.0.0.1@5353\"; timeout = 2; };",
	  offsetof(struct conf, resolver), 's', 0, "127.0.0.1@5353" },
	{ "authserv_id = \"mx.example.com\";", offsetof(struct conf, authserv_id), 's', 0,
	  "mx.example.com" },
	{ "log = \"stderr\";", offsetof(struct conf, log), 's', 0, "stderr" },
};

START_TEST(test_good)
{
	struct buf errors;
	struct conf *c;
	const char *base;

	buf_init(&errors, 65536);
	c = load(good[_i].text, CONF_KEYS_NONE, &errors);
	ck_assert_msg(c != NULL, "'%s': %s", good[_i].text, buf_str(&errors));
	base = (const char *)c + good[_i].off;
	switch (good[_i].type) {
	case 'i':
		ck_assert_int_eq(*(const int *)base, good[_i].ival);
		break;
	case 'l':
		ck_assert_int_eq(*(const long long *)base, good[_i].ival);
		break;
	default:
		ck_assert_str_eq(*(char *const *)base, good[_i].sval);
	}
	conf_unref(c);
	buf_release(&errors);
}
END_TEST

/* Bad files: refused, with this text in the problems. */
static const struct {
	const char *text;
	const char *problem;
} bad[] = {
	{ "milter_timeout = 9;", ":1: milter_timeout = 9 is out of range (10 to 3600)" },
	{ "milter_timeout = \"300\";", ":1: milter_timeout must be a number" },
	{ "\n\nsocket_mode = \"0999\";", ":3: socket_mode: '0999' is not an octal mode" },
	{ "allow_readable_keys = 1;", "allow_readable_keys must be true or false" },
	{ "socket = 5;", "socket must be a string" },
	{ "sign = { on_error = \"drop\"; };", "'drop' is not accept, tempfail or reject" },
	{ "sign = { canonicalization = \"loose\"; };", "is not like relaxed/relaxed" },
	{ "key_check = \"maybe\";", "key_check must be \"off\", \"warn\" or \"require\"" },
	{ "verify = { alignment = \"psl\"; };", "verify.alignment must be \"rfc9989\"" },
	{ "log = \"file\";", "log must be \"syslog\" or \"stderr\"" },
	{ "verify = { max_signatures = 33; };", "verify.max_signatures = 33 is out of range" },
	{ "milter_timout = 30;", "milter_timout" },
	{ "sign = { bogus = 1; };", "sign.bogus" },
	{ "sign = { internal_networks = [ \"10.0.0.0/33\" ]; };",
	  "'10.0.0.0/33' is not an address or CIDR network" },
	{ "sign = { internal_networks = [ \"example.com\" ]; };",
	  "'example.com' is not an address or CIDR network" },
	{ "sign = { internal_networks = [ \"10.0.0.0/\" ]; };", "is not an address" },
	{ "sign = { headers = [ \"Subject\" ]; };", "sign.headers must include From" },
	{ "keys = ( { id = \"k\"; domain = \"example.com\"; } );",
	  "a key needs id, domain, selector and file" },
	{ "signing_table = ( { from = \"a b\"; keys = [ \"k\" ]; } );", "'a b' is not a pattern" },
	{ "signing_table = ( { from = \"*x.example\"; keys = [ \"k\" ]; } );",
	  "is not a pattern" },
	{ "signing_table = ( { from = \"a@b@c\"; keys = [ \"k\" ]; } );", "is not a pattern" },
	{ "signing_table = ( { from = \"example.com\"; keys = [ \"nokey\" ]; } );",
	  "no key with id 'nokey'" },
	{ "signing_table = ( { from = \"example.com\"; } );",
	  "a signing_table entry needs from" },
	{ "users = ( { user = \"alice\"; from = [ \"a*b\" ]; } );",
	  "users: 'a*b' is not a pattern" },
	{ "milter_timeout = ;", ":1: syntax error" },
};

START_TEST(test_bad)
{
	struct buf errors;
	struct conf *c;

	buf_init(&errors, 65536);
	c = load(bad[_i].text, CONF_KEYS_NONE, &errors);
	ck_assert_msg(c == NULL, "'%s' was accepted", bad[_i].text);
	ck_assert_msg(strstr(buf_str(&errors), bad[_i].problem) != NULL,
	    "'%s': want '%s' in:\n%s", bad[_i].text, bad[_i].problem, buf_str(&errors));
	/* One problem a line, each "file:line: reason". */
	ck_assert_msg(strstr(buf_str(&errors), "/tu.") != NULL, "%s", buf_str(&errors));
	buf_release(&errors);
}
END_TEST

/* Every problem of a file is reported, not only the first. */
START_TEST(test_all_problems)
{
	struct buf errors;
	const char *e;
	int lines = 0;

	buf_init(&errors, 65536);
	ck_assert_ptr_null(load("milter_timeout = 1;\nlog = \"x\";\nkey_check = \"y\";\n",
	    CONF_KEYS_NONE, &errors));
	for (e = buf_str(&errors); *e; e++)
		lines += *e == '\n';
	ck_assert_int_eq(lines, 3);
	ck_assert_ptr_nonnull(strstr(buf_str(&errors), ":1: milter_timeout"));
	ck_assert_ptr_nonnull(strstr(buf_str(&errors), ":2: log"));
	ck_assert_ptr_nonnull(strstr(buf_str(&errors), ":3: key_check"));
	buf_release(&errors);
}
END_TEST

START_TEST(test_missing_file)
{
	struct buf errors;

	buf_init(&errors, 65536);
	ck_assert_ptr_null(conf_load("/nonexistent/dkimgate.conf", CONF_KEYS_NONE, &errors));
	ck_assert_ptr_nonnull(strstr(buf_str(&errors),
	    "/nonexistent/dkimgate.conf:0: cannot read"));
	buf_release(&errors);
}
END_TEST

/* Keys, the signing table and users, with a decoded key file. */
START_TEST(test_keys_and_table)
{
	char *pem = tu_read_data("ed25519.pem", NULL);
	char *keyfile = tu_write_tmp(pem);
	struct buf text, errors;
	struct conf *c;

	buf_init(&text, 65536);
	buf_init(&errors, 65536);
	ck_assert_int_eq(buf_printf(&text,
	    "keys = ( { id = \"ed\"; domain = \"example.com\"; selector = \"e1\";\n"
	    "           file = \"%s\"; } );\n"
	    "signing_table = ( { from = \"Example.COM\"; keys = [ \"ed\" ]; },\n"
	    "                  { from = \"*.example.com\"; keys = [ \"ed\", \"ed\" ]; } );\n"
	    "users = ( { user = \"alice\"; from = [ \"alice@example.com\" ]; } );\n",
	    keyfile), 0);
	c = load(buf_str(&text), CONF_KEYS_DECODE, &errors);
	ck_assert_msg(c != NULL, "%s", buf_str(&errors));
	ck_assert_uint_eq(c->nkeys, 1);
	ck_assert_str_eq(c->keys[0].id, "ed");
	ck_assert_str_eq(c->keys[0].selector, "e1");
	ck_assert_ptr_nonnull(c->keys[0].key);
	ck_assert_int_eq(conf_key_index(c, "ed"), 0);
	ck_assert_int_eq(conf_key_index(c, "rsa"), -1);
	ck_assert_uint_eq(c->ntable, 2);
	ck_assert_str_eq(c->table[0].pattern, "example.com");
	ck_assert_uint_eq(c->table[1].nkeys, 2);
	ck_assert_uint_eq(c->nusers, 1);
	ck_assert_str_eq(c->users[0].from[0], "alice@example.com");
	ck_assert_uint_eq(conf_nkeys_all(c), 1);
	ck_assert_uint_eq(conf_ntable_all(c), 2);
	conf_unref(c);
	unlink(keyfile);
	free(keyfile);
	free(pem);
	buf_release(&text);
	buf_release(&errors);
}
END_TEST

/* What a reload reports as waiting for a restart: the non-reloadable settings. */
static const struct {
	const char *before, *after;
	const char *changed;	/* names, space-separated, in table order */
} restarts[] = {
	{ "", "", "" },
	{ "socket = \"inet:1@127.0.0.1\";", "socket = \"inet:2@127.0.0.1\";", "socket" },
	{ "", "socket_mode = \"0600\"; milter_timeout = 60;", "socket_mode milter_timeout" },
	{ "", "log = \"stderr\"; user = \"mail\";", "user log" },
	{ "", "metrics = \"127.0.0.1:9100\"; metrics_allow_remote = true;",
	  "metrics metrics_allow_remote" },
	/* Reloadable ones are not reported. */
	{ "", "authserv_id = \"mx\"; dns = { timeout = 3; }; verify = { on_fail = \"reject\"; };"
	  " sign = { lifetime = 60; canonicalization = \"simple\"; };", "" },
	{ "milter_timeout = 60;", "milter_timeout = 60;", "" },
};

START_TEST(test_restart_changes)
{
	struct buf errors, got;
	struct conf *a, *b;
	const char *names[64];
	size_t i, n;

	buf_init(&errors, 65536);
	buf_init(&got, 4096);
	a = load(restarts[_i].before, CONF_KEYS_NONE, &errors);
	b = load(restarts[_i].after, CONF_KEYS_NONE, &errors);
	ck_assert_msg(a != NULL && b != NULL, "%s", buf_str(&errors));
	n = conf_restart_changes(a, b, names, 64);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(buf_printf(&got, "%s%s", i ? " " : "", names[i]), 0);
	ck_assert_str_eq(buf_str(&got), restarts[_i].changed);
	/* Symmetric, and a short array still gets the count. */
	ck_assert_uint_eq(conf_restart_changes(b, a, names, 1), n);
	conf_unref(a);
	conf_unref(b);
	buf_release(&errors);
	buf_release(&got);
}
END_TEST

START_TEST(test_action_names)
{
	ck_assert_str_eq(conf_action_name(ACTION_ACCEPT), "accept");
	ck_assert_str_eq(conf_action_name(ACTION_TEMPFAIL), "tempfail");
	ck_assert_str_eq(conf_action_name(ACTION_REJECT), "reject");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tu_tcase("conf");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_file);
	tcase_add_loop_test(tc, test_good, 0, N(good));
	tcase_add_loop_test(tc, test_bad, 0, N(bad));
	tcase_add_test(tc, test_all_problems);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_keys_and_table);
	tcase_add_test(tc, test_action_names);
	tcase_add_loop_test(tc, test_restart_changes, 0, N(restarts));
	suite_add_tcase(s, tc);
	return tu_run(s);
}
