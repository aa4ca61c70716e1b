/*
 * test_decide.c - the sign-or-verify decision and the signing-table lookup
 * (decide.c): which rule makes a message signed (authentication, internal
 * networks, daemon name) in which order, pattern matching, the most
 * specific signing-table entry, and the users restriction.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "decide.h"
#include "pattern.h"
#include "testutil.h"

static const struct {
	const char *pattern, *s;
	int match;
} matches[] = {
	{ "*", "alice@example.com", 1 },
	{ "*", "example.com", 1 },
	{ "example.com", "alice@example.com", 1 },
	{ "example.com", "EXAMPLE.com", 1 },
	{ "example.com", "alice@mail.example.com", 0 },
	{ "*.example.com", "alice@mail.example.com", 1 },
	{ "*.example.com", "a.b.example.com", 1 },
	{ "*.example.com", "alice@example.com", 0 },
	{ "*.example.com", "alice@badexample.com", 0 },
	{ "alice@example.com", "alice@example.com", 1 },
	{ "alice@example.com", "ALICE@Example.com", 1 },
	{ "alice@example.com", "bob@example.com", 0 },
	{ "alice@example.com", "example.com", 0 },
};

START_TEST(test_match)
{
	ck_assert_msg(pattern_match(matches[_i].pattern, matches[_i].s) == matches[_i].match,
	    "'%s' ~ '%s'", matches[_i].pattern, matches[_i].s);
}
END_TEST

/* One configuration for the mode and key cases; keyfile fills %s. */
static const char conf_text[] =
	"sign = { authenticated = %s;\n"
	"         internal_networks = [ \"192.0.2.0/24\", \"2001:db8::/32\", \"10.1.2.3\" ];\n"
	"         daemon_names = [ \"ORIGINATING\" ]; };\n"
	"keys = ( { id = \"a\"; domain = \"example.com\"; selector = \"s1\"; file = \"%s\"; },\n"
	"         { id = \"b\"; domain = \"example.com\"; selector = \"s2\"; file = \"%s\"; },\n"
	"         { id = \"c\"; domain = \"example.org\"; selector = \"s1\"; file = \"%s\"; } );\n"
	"signing_table = (\n"
	"  { from = \"ceo@example.com\"; keys = [ \"b\" ]; },\n"
	"  { from = \"example.com\"; keys = [ \"a\", \"b\" ]; },\n"
	"  { from = \"*.example.com\"; keys = [ \"a\" ]; },\n"
	"  { from = \"*.mail.example.com\"; keys = [ \"b\" ]; },\n"
	"  { from = \"*\"; keys = [ \"c\" ]; } );\n"
	"users = ( { user = \"alice\"; from = [ \"alice@example.com\", \"*.example.com\" ]; },\n"
	"          { user = \"*\"; from = [ \"example.org\" ]; } );\n";

static struct conf *
make_conf(int sign_authenticated)
{
	char *pem = tu_read_data("ed25519.pem", NULL);
	char *keyfile = tu_write_tmp(pem), *path;
	struct buf text, errors;
	struct conf *c;

	buf_init(&text, 65536);
	buf_init(&errors, 65536);
	ck_assert_int_eq(buf_printf(&text, conf_text,
	    sign_authenticated ? "true" : "false", keyfile, keyfile, keyfile), 0);
	path = tu_write_tmp(buf_str(&text));
	c = conf_load(path, CONF_KEYS_NONE, &errors);
	ck_assert_msg(c != NULL, "%s", buf_str(&errors));
	unlink(path);
	unlink(keyfile);
	free(path);
	free(keyfile);
	free(pem);
	buf_release(&text);
	buf_release(&errors);
	return c;
}

static const struct {
	int sign_authenticated;
	const char *addr, *user, *daemon;
	enum decide_mode mode;
	const char *why;
} modes[] = {
	{ 1, "203.0.113.9", "alice", NULL, DECIDE_SIGN, "authenticated as alice" },
	{ 0, "203.0.113.9", "alice", NULL, DECIDE_VERIFY, "no signing rule matched" },
	{ 1, "192.0.2.77", NULL, NULL, DECIDE_SIGN, "internal network 192.0.2.0/24" },
	{ 1, "192.0.3.1", NULL, NULL, DECIDE_VERIFY, "no signing rule matched" },
	{ 1, "10.1.2.3", "", NULL, DECIDE_SIGN, "internal network 10.1.2.3/32" },
	{ 1, "10.1.2.4", NULL, NULL, DECIDE_VERIFY, "no signing rule matched" },
	{ 1, "2001:db8:1::5", NULL, NULL, DECIDE_SIGN, "internal network 2001:db8::/32" },
	{ 1, "IPv6:2001:db8::1", NULL, NULL, DECIDE_SIGN, "internal network 2001:db8::/32" },
	{ 1, "::ffff:192.0.2.1", NULL, NULL, DECIDE_SIGN, "internal network 192.0.2.0/24" },
	{ 1, "2001:db9::1", NULL, NULL, DECIDE_VERIFY, "no signing rule matched" },
	{ 1, "203.0.113.9", NULL, "ORIGINATING", DECIDE_SIGN, "daemon name ORIGINATING" },
	{ 1, "203.0.113.9", NULL, "originating", DECIDE_VERIFY, "no signing rule matched" },
	{ 1, NULL, NULL, NULL, DECIDE_VERIFY, "no signing rule matched" },
	{ 1, "unknown", NULL, "ORIGINATING", DECIDE_SIGN, "daemon name ORIGINATING" },
	/* The loopback default is replaced by the list given. */
	{ 1, "127.0.0.1", NULL, NULL, DECIDE_VERIFY, "no signing rule matched" },
};

START_TEST(test_mode)
{
	struct conf *c = make_conf(modes[_i].sign_authenticated);
	struct decide_in in = { modes[_i].addr, modes[_i].user, modes[_i].daemon };
	struct buf ex;
	char why[200] = "";

	buf_init(&ex, 65536);
	ck_assert_int_eq(decide_mode(c, &in, why, sizeof(why), &ex), modes[_i].mode);
	ck_assert_str_eq(why, modes[_i].why);
	/* The explanation ends with the decision. */
	ck_assert_ptr_nonnull(strstr(buf_str(&ex), modes[_i].mode == DECIDE_SIGN ?
	    "sign: " : "verify: no signing rule matched"));
	/* Without an explanation buffer the answer is the same. */
	ck_assert_int_eq(decide_mode(c, &in, why, sizeof(why), NULL), modes[_i].mode);
	buf_release(&ex);
	conf_unref(c);
}
END_TEST

static const struct {
	const char *from, *user;
	const char *keys;	/* ids, in order; "" none */
	const char *pattern;	/* entry used, or NULL */
	const char *why;	/* when no key */
} keys[] = {
	{ "ceo@example.com", NULL, "b", "ceo@example.com", NULL },
	{ "CEO@Example.com", NULL, "b", "ceo@example.com", NULL },
	{ "bob@example.com", NULL, "ab", "example.com", NULL },
	{ "example.com", NULL, "ab", "example.com", NULL },
	{ "x@news.example.com", NULL, "a", "*.example.com", NULL },
	{ "x@a.mail.example.com", NULL, "b", "*.mail.example.com", NULL },
	{ "x@mail.example.com", NULL, "a", "*.example.com", NULL },
	{ "x@example.net", NULL, "c", "*", NULL },
	{ "alice@example.com", "alice", "ab", "example.com", NULL },
	{ "x@news.example.com", "alice", "a", "*.example.com", NULL },
	{ "bob@example.com", "alice", "", "example.com", "user alice not allowed" },
	{ "bob@example.com", "mallory", "", "example.com", "user mallory not allowed" },
	{ "bob@example.org", "mallory", "c", "*", NULL },
	{ "", NULL, "", NULL, "no single From: address" },
};

START_TEST(test_keys)
{
	struct conf *c = make_conf(1);
	struct decide_keys out;
	struct buf ex;
	char ids[LIMIT_SIGNERS + 1];
	size_t i, n;

	buf_init(&ex, 65536);
	n = decide_keys(c, keys[_i].from, keys[_i].user, &out, &ex);
	for (i = 0; i < n; i++)
		ids[i] = out.keys[i]->id[0];
	ids[n] = '\0';
	ck_assert_str_eq(ids, keys[_i].keys);
	ck_assert_uint_eq(out.nkeys, n);
	if (keys[_i].pattern != NULL)
		ck_assert_str_eq(out.pattern, keys[_i].pattern);
	else
		ck_assert_ptr_null(out.pattern);
	if (keys[_i].why != NULL)
		ck_assert_msg(strstr(out.why, keys[_i].why) != NULL, "why: %s", out.why);
	else
		ck_assert_str_eq(out.origin, c->path);
	buf_release(&ex);
	conf_unref(c);
}
END_TEST

/* No entry at all: a table without "*". */
START_TEST(test_no_entry)
{
	struct conf *c = conf_defaults();
	struct decide_keys out;

	ck_assert_uint_eq(decide_keys(c, "a@example.com", NULL, &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.why, "no signing_table entry for a@example.com"));
	conf_unref(c);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tu_tcase("decide");

	tcase_add_loop_test(tc, test_match, 0, N(matches));
	tcase_add_loop_test(tc, test_mode, 0, N(modes));
	tcase_add_loop_test(tc, test_keys, 0, N(keys));
	tcase_add_test(tc, test_no_entry);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
