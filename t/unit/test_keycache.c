/*
 * test_keycache.c - the cache of parsed key records: a record seen again is
 * not parsed again, a changed record is a new entry, failures are never
 * cached, and every key reference handed out is the caller's own.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "keycache.h"
#include "testutil.h"

START_TEST(same_record_gives_the_cached_key)
{
	struct crypto_key *k = tu_load_key("rsa2048-pkcs1.pem");
	char *rec = tu_key_record(k, NULL);
	struct keycache *kc = keycache_create();
	struct keyrec a, b;
	char why[160];

	ck_assert_ptr_nonnull(kc);
	ck_assert_int_eq(keycache_parse(kc, &a, rec, strlen(rec), why, sizeof(why)), 0);
	ck_assert_int_eq(keycache_parse(kc, &b, rec, strlen(rec), why, sizeof(why)), 0);
	/* The second parse is the cached key itself, with its own reference. */
	ck_assert_ptr_eq(a.key, b.key);
	ck_assert_int_eq(b.bits, 2048);
	ck_assert(crypto_key_public_equal(a.key, k));
	keyrec_clear(&a);
	keycache_free(kc);
	/* b's reference outlives the cache and the first caller's. */
	ck_assert(crypto_key_public_equal(b.key, k));
	keyrec_clear(&b);
	crypto_key_unref(k);
	free(rec);
}
END_TEST

START_TEST(changed_record_is_parsed_anew)
{
	struct crypto_key *k1 = tu_load_key("rsa2048-pkcs1.pem");
	struct crypto_key *k2 = tu_load_key("ed25519.pem");
	char *r1 = tu_key_record(k1, NULL);
	char *r2 = tu_key_record(k2, NULL);
	struct keycache *kc = keycache_create();
	struct keyrec a, b;
	char why[160];
	unsigned char raw[32];
	size_t rawlen = 0;
	unsigned char *der;

	/* tu_key_record writes RSA records; make a proper Ed25519 one. */
	ck_assert_int_eq(crypto_key_public_der(k2, &der, &rawlen), 0);
	memcpy(raw, der, rawlen);
	free(der);
	free(r2);
	{
		char *b64 = tu_b64(raw, rawlen);
		size_t n = strlen(b64) + 32;

		r2 = malloc(n);
		snprintf(r2, n, "v=DKIM1; k=ed25519; p=%s", b64);
		free(b64);
	}
	ck_assert_int_eq(keycache_parse(kc, &a, r1, strlen(r1), why, sizeof(why)), 0);
	ck_assert_int_eq(keycache_parse(kc, &b, r2, strlen(r2), why, sizeof(why)), 0);
	ck_assert_int_eq(a.type, CRYPTO_RSA);
	ck_assert_int_eq(b.type, CRYPTO_ED25519);
	ck_assert(crypto_key_public_equal(b.key, k2));
	keyrec_clear(&a);
	keyrec_clear(&b);
	keycache_free(kc);
	crypto_key_unref(k1);
	crypto_key_unref(k2);
	free(r1);
	free(r2);
}
END_TEST

START_TEST(failures_are_reported_every_time)
{
	static const char bad[] = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA";
	struct keycache *kc = keycache_create();
	struct keyrec a;
	char why[160];
	int i;

	for (i = 0; i < 3; i++) {
		why[0] = '\0';
		ck_assert_int_eq(keycache_parse(kc, &a, bad, strlen(bad), why, sizeof(why)), -1);
		ck_assert_msg(why[0] != '\0', "no reason on attempt %d", i);
	}
	keycache_free(kc);
}
END_TEST

START_TEST(revoked_record_stays_revoked)
{
	static const char rev[] = "v=DKIM1; k=rsa; p=";
	struct keycache *kc = keycache_create();
	struct keyrec a, b;
	char why[160];

	ck_assert_int_eq(keycache_parse(kc, &a, rev, strlen(rev), why, sizeof(why)), 0);
	ck_assert_int_eq(keycache_parse(kc, &b, rev, strlen(rev), why, sizeof(why)), 0);
	ck_assert(a.revoked && b.revoked);
	ck_assert_ptr_null(b.key);
	keyrec_clear(&a);
	keyrec_clear(&b);
	keycache_free(kc);
}
END_TEST

START_TEST(without_a_cache_it_just_parses)
{
	struct crypto_key *k = tu_load_key("rsa2048-pkcs1.pem");
	char *rec = tu_key_record(k, NULL);
	struct keyrec a;
	char why[160];

	ck_assert_int_eq(keycache_parse(NULL, &a, rec, strlen(rec), why, sizeof(why)), 0);
	ck_assert(crypto_key_public_equal(a.key, k));
	keyrec_clear(&a);
	crypto_key_unref(k);
	free(rec);
}
END_TEST

static Suite *
keycache_suite(void)
{
	Suite *s = suite_create("keycache");
	TCase *tc = tu_tcase("core");

	tcase_add_test(tc, same_record_gives_the_cached_key);
	tcase_add_test(tc, changed_record_is_parsed_anew);
	tcase_add_test(tc, failures_are_reported_every_time);
	tcase_add_test(tc, revoked_record_stays_revoked);
	tcase_add_test(tc, without_a_cache_it_just_parses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(keycache_suite());
}
