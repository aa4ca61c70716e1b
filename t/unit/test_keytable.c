/*
 * test_keytable.c - the signing table at scale: the hash index (any case,
 * first value kept, growth), the choice of entry by hash probes (address,
 * domain, longest "*.parent", "*" in that order, as the linear search it
 * replaces chose), duplicate key ids, and the bounded cache of decoded
 * private keys (decoded once, decoded again when the file changes, a
 * failure reported once, never more keys than its size).
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide.h"
#include "keywatch.h"
#include "keyset.h"
#include "privcache.h"
#include "snap.h"
#include "srcodk.h"
#include "strmap.h"
#include "testutil.h"

START_TEST(strmap_any_case_first_wins_and_grows)
{
	struct strmap *m = strmap_create();
	static char names[20000][16];
	size_t old = 0, i;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(strmap_put(m, "Example.COM", 11, 7, NULL), 0);
	ck_assert_int_eq(strmap_put(m, "example.com", 11, 8, &old), 1);
	ck_assert_uint_eq(old, 7);
	ck_assert_int_eq(strmap_get(m, "EXAMPLE.com", 11), 7);
	ck_assert_int_eq(strmap_get(m, "example.co", 10), -1);
	/* Length, not NUL, ends a probe... */
	ck_assert_int_eq(strmap_get(m, "example.comX", 11), 7);
	/* ...but a stored key must end at its length. */
	ck_assert_int_eq(strmap_put(m, "example.orgX", 11, 9, NULL), -1);
	for (i = 0; i < 20000; i++) {
		snprintf(names[i], sizeof(names[i]), "d%zu.example", i);
		TU_OK(strmap_put(m, names[i], strlen(names[i]), i, NULL));
	}
	for (i = 0; i < 20000; i++)
		TU_OK(strmap_get(m, names[i], strlen(names[i])) != (long)i);
	ck_assert_uint_eq(strmap_count(m), 20001);
	strmap_free(m);
}
END_TEST

START_TEST(keyset_refuses_duplicate_ids)
{
	struct keyset *ks = keyset_create("t.conf");
	char err[200];
	int first = 0;

	ck_assert_int_eq(keyset_add_key(ks, "a", "example.com", "s1", "/k/a", 3, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(keyset_add_key(ks, "a", "example.org", "s1", "/k/b", 9, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "duplicate key id 'a' (first at line 3)");
	ck_assert_str_eq(ks->keys[0].path, "/k/a");
	ck_assert_int_eq(keyset_add_entry(ks, "Example.COM", 4, &first), 0);
	ck_assert_int_eq(keyset_add_entry(ks, "example.com", 5, &first), -2);
	ck_assert_int_eq(first, 4);
	ck_assert_str_eq(keyset_find(ks, "EXAMPLE.com", 11)->pattern, "example.com");
	keyset_unref(ks);
}
END_TEST

/* A configuration with the given body, loaded without key files. */
static struct conf *
conf_from(const char *body)
{
	char path[] = "/tmp/test_keytable.XXXXXX";
	struct buf errors;
	struct conf *c;
	int fd = mkstemp(path);
	FILE *fp;

	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(body, fp);
	fclose(fp);
	buf_init(&errors, 65536);
	c = conf_load(path, CONF_KEYS_NONE, &errors);
	unlink(path);
	ck_assert_msg(c != NULL, "%s", buf_str(&errors));
	buf_release(&errors);
	return c;
}

static const char table_conf[] =
	"keys = (\n"
	" { id = \"all\"; domain = \"example.net\"; selector = \"s\"; file = \"/k/all\"; },\n"
	" { id = \"wild\"; domain = \"example.com\"; selector = \"s\"; file = \"/k/w\"; },\n"
	" { id = \"wildb\"; domain = \"b.example.com\"; selector = \"s\"; file = \"/k/wb\"; },\n"
	" { id = \"dom\"; domain = \"example.com\"; selector = \"s\"; file = \"/k/d\"; },\n"
	" { id = \"addr\"; domain = \"example.com\"; selector = \"s\"; file = \"/k/a\"; },\n"
	" { id = \"dup\"; domain = \"example.com\"; selector = \"s\"; file = \"/k/x\"; }\n"
	");\n"
	"signing_table = (\n"
	" { from = \"*\"; keys = [ \"all\" ]; },\n"
	" { from = \"*.example.com\"; keys = [ \"wild\" ]; },\n"
	" { from = \"*.b.example.com\"; keys = [ \"wildb\" ]; },\n"
	" { from = \"Example.com\"; keys = [ \"dom\" ]; },\n"
	" { from = \"alice@example.com\"; keys = [ \"addr\", \"dom\" ]; },\n"
	" { from = \"example.com\"; keys = [ \"dup\" ]; }\n"
	");\n";

static const struct {
	const char *from;
	const char *pattern;	/* NULL: no entry */
	const char *first_key;
} table_cases[] = {
	{ "alice@example.com", "alice@example.com", "addr" },
	{ "ALICE@Example.Com", "alice@example.com", "addr" },
	{ "bob@example.com", "example.com", "dom" },	/* first of two equal entries */
	{ "example.com", "example.com", "dom" },
	{ "x@a.example.com", "*.example.com", "wild" },
	{ "x@c.b.example.com", "*.b.example.com", "wildb" },
	{ "x@b.example.com", "*.example.com", "wild" },	/* *.b does not cover b */
	{ "x@example.org", "*", "all" },
	{ "x@com", "*", "all" },
	{ "x@notexample.com", "*", "all" },
};

START_TEST(signing_table_most_specific_wins)
{
	struct conf *c = conf_from(table_conf);
	struct decide_keys dk;
	size_t n = decide_keys(c, table_cases[_i].from, NULL, &dk, NULL);

	ck_assert_msg(n > 0, "%s: not signed (%s)", table_cases[_i].from, dk.why);
	ck_assert_str_eq(dk.pattern, table_cases[_i].pattern);
	ck_assert_str_eq(dk.keys[0]->id, table_cases[_i].first_key);
	conf_unref(c);
}
END_TEST

START_TEST(signing_table_without_catch_all)
{
	struct conf *c = conf_from(
	    "keys = ( { id = \"k\"; domain = \"example.com\"; selector = \"s\"; file = \"/k\"; } );\n"
	    "signing_table = ( { from = \"example.com\"; keys = [ \"k\" ]; } );\n");
	struct decide_keys dk;

	ck_assert_uint_eq(decide_keys(c, "x@example.org", NULL, &dk, NULL), 0);
	ck_assert_str_eq(dk.why, "no signing_table entry for x@example.org");
	ck_assert_uint_eq(decide_keys(c, "x@example.com", NULL, &dk, NULL), 1);
	ck_assert_str_eq(dk.keys[0]->selector, "s");
	conf_unref(c);
}
END_TEST

START_TEST(duplicate_key_id_is_an_error_with_its_line)
{
	char path[] = "/tmp/test_keytable.XXXXXX";
	struct buf errors;
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fputs("keys = (\n"
	    " { id = \"k\"; domain = \"a.example\"; selector = \"s\"; file = \"/k1\"; },\n"
	    " { id = \"k\"; domain = \"b.example\"; selector = \"s\"; file = \"/k2\"; }\n"
	    ");\n", fp);
	fclose(fp);
	buf_init(&errors, 4096);
	ck_assert_ptr_null(conf_load(path, CONF_KEYS_NONE, &errors));
	ck_assert_msg(strstr(buf_str(&errors), ":3: duplicate key id 'k' (first at line 2)") != NULL,
	    "%s", buf_str(&errors));
	buf_release(&errors);
	unlink(path);
}
END_TEST

/* A value with a line break is quoted on the problem's own line (fuzz_conf). */
START_TEST(problem_with_a_line_break_stays_on_one_line)
{
	char path[] = "/tmp/test_keytable.XXXXXX";
	struct buf errors;
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");
	const char *e, *nl;
	size_t plen = strlen(path);

	fputs("keys = (\n"
	    " { id = \"k\"; domain = \"a.example\"; selector = \"s\\nX-Injected: 1\";"
	    " file = \"/k1\"; }\n);\n", fp);
	fclose(fp);
	buf_init(&errors, 4096);
	ck_assert_ptr_null(conf_load(path, CONF_KEYS_NONE, &errors));
	for (e = buf_str(&errors); *e; e = nl + 1) {
		ck_assert_ptr_nonnull(nl = strchr(e, '\n'));
		ck_assert_msg(strncmp(e, path, plen) == 0 && e[plen] == ':', "%s",
		    buf_str(&errors));
	}
	ck_assert_ptr_nonnull(strstr(buf_str(&errors), "s?X-Injected: 1"));
	buf_release(&errors);
	unlink(path);
}
END_TEST

/* Copy fixture name to a fresh private file; returns its path. */
static char *
key_copy(const char *name)
{
	char *path = strdup("/tmp/test_keytable-key.XXXXXX");
	size_t len;
	char *pem = tu_read_data(name, &len);
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, pem, len), (ssize_t)len);
	close(fd);
	free(pem);
	return path;
}

START_TEST(privcache_decodes_once_and_again_on_change)
{
	struct privcache *pc = privcache_create(4);
	char *path = key_copy("ed25519.pem"), err[300];
	struct crypto_key *a, *b, *c;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };
	int fresh = -1;

	a = privcache_get(pc, path, 0, err, sizeof(err), &fresh);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(fresh, 0);
	b = privcache_get(pc, path, 0, err, sizeof(err), &fresh);
	ck_assert_ptr_eq(a, b);		/* the cached key itself */
	/* Another version of the file is decoded anew. */
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	c = privcache_get(pc, path, 0, err, sizeof(err), &fresh);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_ne(a, c);
	ck_assert_uint_eq(privcache_count(pc), 1);
	crypto_key_unref(a);
	crypto_key_unref(b);
	crypto_key_unref(c);
	privcache_unref(pc);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(privcache_failure_reported_once)
{
	struct privcache *pc = privcache_create(4);
	char *path = key_copy("README"), err[300];
	int fresh = -1;

	ck_assert_ptr_null(privcache_get(pc, path, 0, err, sizeof(err), &fresh));
	ck_assert_int_eq(fresh, 1);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	ck_assert_ptr_null(privcache_get(pc, path, 0, err, sizeof(err), &fresh));
	ck_assert_int_eq(fresh, 0);
	ck_assert_msg(strstr(err, path) != NULL, "%s", err);
	unlink(path);
	ck_assert_ptr_null(privcache_get(pc, path, 0, err, sizeof(err), &fresh));
	ck_assert_int_eq(fresh, 1);	/* a new failure: the file went away */
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
	ck_assert_ptr_null(privcache_get(pc, path, 0, err, sizeof(err), &fresh));
	ck_assert_int_eq(fresh, 0);
	privcache_unref(pc);
	free(path);
}
END_TEST

START_TEST(privcache_refuses_readable_and_weak_keys)
{
	struct privcache *pc = privcache_create(4);
	char *path = key_copy("ed25519.pem"), *weak = key_copy("rsa512.pem"), err[300];
	struct crypto_key *k;
	int fresh;

	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_ptr_null(privcache_get(pc, path, 0, err, sizeof(err), &fresh));
	ck_assert_msg(strstr(err, "readable by group or others") != NULL, "%s", err);
	k = privcache_get(pc, path, 1, err, sizeof(err), &fresh);
	ck_assert_ptr_nonnull(k);
	crypto_key_unref(k);
	ck_assert_ptr_null(privcache_get(pc, weak, 0, err, sizeof(err), &fresh));
	ck_assert_msg(strstr(err, "RSA 512 bits") != NULL, "%s", err);
	privcache_unref(pc);
	unlink(path);
	unlink(weak);
	free(path);
	free(weak);
}
END_TEST

START_TEST(privcache_holds_at_most_its_size)
{
	struct privcache *pc = privcache_create(3);
	char *paths[5], err[300];
	struct crypto_key *first, *again;
	int fresh, i;

	for (i = 0; i < 5; i++)
		paths[i] = key_copy("ed25519.pem");
	first = privcache_get(pc, paths[0], 0, err, sizeof(err), &fresh);
	for (i = 1; i < 5; i++) {
		struct crypto_key *k = privcache_get(pc, paths[i], 0, err, sizeof(err), &fresh);

		ck_assert_ptr_nonnull(k);
		crypto_key_unref(k);
		ck_assert_uint_le(privcache_count(pc), 3);
	}
	/* The least recently used went first: paths[0] is decoded again. */
	again = privcache_get(pc, paths[0], 0, err, sizeof(err), &fresh);
	ck_assert_ptr_ne(first, again);
	crypto_key_unref(first);
	crypto_key_unref(again);
	privcache_unref(pc);
	for (i = 0; i < 5; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
}
END_TEST


static const struct {
	const char *in;
	int refile;
	const char *out;	/* NULL: not carried over */
} odk_cases[] = {
	{ "*", 1, "*" },
	{ "*@*", 1, "*" },
	{ "*@example.com", 1, "example.com" },
	{ "*@*.example.com", 1, "*.example.com" },
	{ "*.example.com", 1, "*.example.com" },
	{ "user@example.com", 1, "user@example.com" },
	{ "example.com", 1, NULL },		/* matched against the whole address */
	{ "*@example.*", 1, NULL },
	{ "*example.com", 1, NULL },
	{ "a*@example.com", 1, NULL },
	{ "a@b@example.com", 1, NULL },
	{ "example.com", 0, "example.com" },
	{ ".example.com", 0, "*.example.com" },
	{ "user@example.com", 0, "user@example.com" },
	{ "*", 0, "*" },
	{ "exa mple", 0, NULL },
};

START_TEST(opendkim_patterns_carried_over)
{
	char out[300];
	const char *why;
	int rc = srcodk_pattern(odk_cases[_i].in, odk_cases[_i].refile, out, sizeof(out), &why);

	if (odk_cases[_i].out == NULL) {
		ck_assert_msg(rc < 0, "%s carried over as %s", odk_cases[_i].in, out);
		ck_assert_ptr_nonnull(why);
	} else {
		ck_assert_msg(rc == 0, "%s: %s", odk_cases[_i].in, why);
		ck_assert_str_eq(out, odk_cases[_i].out);
	}
}
END_TEST


struct seen {
	char ids[8][64];
	int states[8];
	size_t n;
};

static void
record_state(void *arg, const struct conf_key *k, enum metrics_keystate st)
{
	struct seen *sn = arg;

	if (sn->n < 8) {
		str_copy(sn->ids[sn->n], k->id, sizeof(sn->ids[0]));
		sn->states[sn->n] = (int)st;
	}
	sn->n++;
}

START_TEST(key_check_results_cover_every_source)
{
	char dir[] = "/tmp/test_keytable-dir.XXXXXX", path[300], body[1200];
	struct keywatch_counts kc;
	struct seen sn;
	struct snap *s;
	struct conf *c;
	char err[300];
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.example.s3.pem", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fclose(fp);
	snprintf(body, sizeof(body),
	    "key_check = \"off\";\npsl_file = \"\";\n"
	    "dns = { resolver = \"127.0.0.1@9\"; trust_anchor = \"\"; };\n"
	    "keys = ( { id = \"a\"; domain = \"a.example\"; selector = \"s1\"; file = \"/k/a\"; },\n"
	    "  { id = \"b\"; domain = \"b.example\"; selector = \"s2\"; file = \"/k/b\"; } );\n"
	    "sources = ( { type = \"directory\"; path = \"%s\"; } );\n", dir);
	c = conf_from(body);
	s = snap_create(c, NULL, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	/* Before any check: every key counted, none checked. */
	memset(&sn, 0, sizeof(sn));
	keywatch_results(s, record_state, &sn, &kc);
	ck_assert_uint_eq(kc.keys, 3);
	ck_assert_uint_eq(kc.checked, 0);
	/* key_check = "off": the pass records nothing, but lists every key. */
	keywatch_check_all(s, 0);
	memset(&sn, 0, sizeof(sn));
	keywatch_results(s, record_state, &sn, &kc);
	ck_assert_uint_eq(kc.keys, 3);
	ck_assert_uint_eq(kc.checked, 0);
	ck_assert_uint_eq(sn.n, 3);
	ck_assert_str_eq(sn.ids[0], "a");
	ck_assert_str_eq(sn.ids[1], "b");
	ck_assert_str_eq(sn.ids[2], "c.example.s3");
	ck_assert_int_eq(sn.states[2], MKS_UNCHECKED);
	snap_unref(s);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *
keytable_suite(void)
{
	Suite *s = suite_create("keytable");
	TCase *tc = tu_tcase("core");

	tcase_add_test(tc, strmap_any_case_first_wins_and_grows);
	tcase_add_test(tc, keyset_refuses_duplicate_ids);
	tcase_add_loop_test(tc, signing_table_most_specific_wins, 0,
	    (int)(sizeof(table_cases) / sizeof(table_cases[0])));
	tcase_add_test(tc, signing_table_without_catch_all);
	tcase_add_test(tc, duplicate_key_id_is_an_error_with_its_line);
	tcase_add_test(tc, problem_with_a_line_break_stays_on_one_line);
	tcase_add_test(tc, privcache_decodes_once_and_again_on_change);
	tcase_add_test(tc, privcache_failure_reported_once);
	tcase_add_test(tc, privcache_refuses_readable_and_weak_keys);
	tcase_add_test(tc, privcache_holds_at_most_its_size);
	tcase_add_test(tc, key_check_results_cover_every_source);
	tcase_add_loop_test(tc, opendkim_patterns_carried_over, 0,
	    (int)(sizeof(odk_cases) / sizeof(odk_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(keytable_suite());
}
