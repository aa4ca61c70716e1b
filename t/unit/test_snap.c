/*
 * test_snap.c - running configuration snapshots (snap.c): what a snapshot
 * builds from its configuration, reference counting, the decoded-key cache
 * kept across a reload only when its size did not change, signing keys
 * decoded on first use with a failure reported fresh once, and a snapshot
 * refused when its resolver cannot be set up.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "snap.h"
#include "testutil.h"

static struct conf *make_conf_dns(const char *extra, const char *resolver, char **good,
    char **broken);

/* A configuration with one good and one undecodable key; paths freed by caller. */
static struct conf *
make_conf(const char *extra, char **good, char **broken)
{
	return make_conf_dns(extra, "127.0.0.1@53", good, broken);
}

static struct conf *
make_conf_dns(const char *extra, const char *resolver, char **good, char **broken)
{
	char *pem = tu_read_data("rsa2048-pkcs1.pem", NULL);
	char *path;
	struct buf text, errors;
	struct conf *c;

	*good = tu_write_tmp(pem);
	*broken = tu_write_tmp("-----BEGIN PRIVATE KEY-----\nnot a key\n"
	    "-----END PRIVATE KEY-----\n");
	buf_init(&text, 65536);
	buf_init(&errors, 65536);
	ck_assert_int_eq(buf_printf(&text,
	    "dns = { resolver = \"%s\"; trust_anchor = \"\"; };\n"
	    "keys = ( { id = \"good\"; domain = \"example.com\"; selector = \"s1\"; "
	    "file = \"%s\"; },\n"
	    "         { id = \"broken\"; domain = \"example.com\"; selector = \"s2\"; "
	    "file = \"%s\"; } );\n%s\n", resolver, *good, *broken, extra ? extra : ""), 0);
	path = tu_write_tmp(buf_str(&text));
	/* As the daemon loads it: keys decoded on first use. */
	c = conf_load(path, CONF_KEYS_CHECK, &errors);
	ck_assert_msg(c != NULL, "%s", buf_str(&errors));
	unlink(path);
	free(path);
	free(pem);
	buf_release(&text);
	buf_release(&errors);
	return c;
}

static void
drop(char *good, char *broken)
{
	unlink(good);
	unlink(broken);
	free(good);
	free(broken);
}

START_TEST(test_create)
{
	char *good, *broken, err[256] = "";
	struct snap *s = snap_create(make_conf(NULL, &good, &broken), NULL, err, sizeof(err));

	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(s->refs, 1);
	ck_assert_ptr_nonnull(s->dns);
	ck_assert_ptr_nonnull(s->align);
	ck_assert_ptr_nonnull(s->keys);
	ck_assert_ptr_nonnull(s->privkeys);
	ck_assert_ptr_nonnull(s->walks);
	ck_assert_ptr_eq(snap_ref(s), s);
	ck_assert_int_eq(s->refs, 2);
	snap_unref(s);
	ck_assert_int_eq(s->refs, 1);
	snap_unref(s);
	snap_unref(NULL);
	drop(good, broken);
}
END_TEST

/* Reload: the decoded keys survive when key_cache_size is unchanged. */
static const struct {
	const char *first, *second;
	int shared;
} reloads[] = {
	{ NULL, NULL, 1 },
	{ "key_cache_size = 10;", "key_cache_size = 10;", 1 },
	{ NULL, "key_cache_size = 10;", 0 },
	{ "key_cache_size = 10;", "key_cache_size = 11;", 0 },
};

START_TEST(test_reload_cache)
{
	char *g1, *b1, *g2, *b2, err[256] = "";
	struct snap *s1 = snap_create(make_conf(reloads[_i].first, &g1, &b1), NULL, err,
	    sizeof(err));
	struct snap *s2;

	ck_assert_msg(s1 != NULL, "%s", err);
	s2 = snap_create(make_conf(reloads[_i].second, &g2, &b2), s1, err, sizeof(err));
	ck_assert_msg(s2 != NULL, "%s", err);
	ck_assert_int_eq(s1->privkeys == s2->privkeys, reloads[_i].shared);
	/* Each snapshot frees only its share. */
	snap_unref(s1);
	snap_unref(s2);
	drop(g1, b1);
	drop(g2, b2);
}
END_TEST

START_TEST(test_signing_key)
{
	char *good, *broken, err[512] = "";
	struct snap *s = snap_create(make_conf(NULL, &good, &broken), NULL, err, sizeof(err));
	struct crypto_key *k1, *k2;
	int fresh = -1;

	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_ptr_null(s->conf->keys[0].key);
	k1 = snap_signing_key(s, &s->conf->keys[0], 0, err, sizeof(err), &fresh);
	ck_assert_msg(k1 != NULL, "%s", err);
	ck_assert_int_eq(fresh, 0);
	ck_assert_int_eq(crypto_key_type(k1), CRYPTO_RSA);
	/* The second use comes from the cache: the same key. */
	k2 = snap_signing_key(s, &s->conf->keys[0], 0, err, sizeof(err), &fresh);
	ck_assert_ptr_eq(k1, k2);
	crypto_key_unref(k1);
	crypto_key_unref(k2);
	/* A key that does not decode: an error, fresh the first time only. */
	ck_assert_ptr_null(snap_signing_key(s, &s->conf->keys[1], 0, err, sizeof(err),
	    &fresh));
	ck_assert_int_eq(fresh, 1);
	ck_assert_msg(err[0] != '\0', "no reason given");
	ck_assert_ptr_null(snap_signing_key(s, &s->conf->keys[1], 0, err, sizeof(err),
	    &fresh));
	ck_assert_int_eq(fresh, 0);
	snap_unref(s);
	drop(good, broken);
}
END_TEST

START_TEST(test_bad_resolver)
{
	char *good, *broken, err[256] = "";
	struct snap *s = snap_create(make_conf_dns(NULL, "not an address", &good,
	    &broken), NULL, err, sizeof(err));

	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "not an address"));
	drop(good, broken);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("snap");
	TCase *tc = tu_tcase("snap");

	tcase_add_test(tc, test_create);
	tcase_add_loop_test(tc, test_reload_cache, 0, sizeof(reloads) / sizeof(reloads[0]));
	tcase_add_test(tc, test_signing_key);
	tcase_add_test(tc, test_bad_resolver);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
