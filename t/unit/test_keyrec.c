/*
 * test_keyrec.c - DKIM key records: which are usable, which are refused and
 * why, and the flags a usable one carries.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "keyrec.h"
#include "testutil.h"

/* The keys of RFC 8463 A.2. */
#define RSA_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
#define ED_P "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
/* The same RSA key cut after 100 base64 characters (still valid base64). */
#define RSA_P_TRUNC "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx"
#define ED_P_31 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
#define ED_P_33 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

enum { OK = 0, BAD = -1 };

static const struct {
	const char *what;
	const char *rec;
	int rc;
	const char *reason;	/* substring, for BAD */
	enum crypto_type type;
	int revoked, testing, strict, has_version, sha256_ok;
} cases[] = {
	{ "RSA with v= and k=", "v=DKIM1; k=rsa; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 1 },
	{ "RSA without v=", "k=rsa; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 0, 1 },
	{ "k= defaults to rsa", "p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 0, 1 },
	{ "Ed25519", "v=DKIM1; k=ed25519; p=" ED_P, OK, NULL, CRYPTO_ED25519, 0, 0, 0, 1, 1 },
	{ "p= folded across strings", "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoB"
	  " TzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e"
	  "/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
	  OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 1 },
	{ "unknown tags ignored", "v=DKIM1; n=a note; zz=1; p=" RSA_P, OK, NULL, CRYPTO_RSA,
	  0, 0, 0, 1, 1 },
	{ "trailing ';'", "v=DKIM1; p=" ED_P "; k=ed25519;", OK, NULL, CRYPTO_ED25519,
	  0, 0, 0, 1, 1 },
	{ "v= not first", "k=rsa; v=DKIM1; p=" RSA_P, BAD, "version", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "v=DKIM2", "v=DKIM2; p=" RSA_P, BAD, "version", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "v= empty", "v=; p=" RSA_P, BAD, "version", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "unknown k=", "v=DKIM1; k=dsa; p=" RSA_P, BAD, "key type", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "k= empty", "v=DKIM1; k=; p=" RSA_P, BAD, "key type", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "revoked RSA (empty p=)", "v=DKIM1; p=", OK, NULL, CRYPTO_RSA, 1, 0, 0, 1, 1 },
	{ "revoked Ed25519", "v=DKIM1; k=ed25519; p=", OK, NULL, CRYPTO_ED25519, 1, 0, 0, 1, 1 },
	{ "revoked, p= only whitespace", "v=DKIM1; p= \t ", OK, NULL, CRYPTO_RSA, 1, 0, 0, 1, 1 },
	{ "testing t=y", "v=DKIM1; t=y; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 1, 0, 1, 1 },
	{ "strict t=s", "v=DKIM1; t=s; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 1, 1, 1 },
	{ "both t=y:s", "v=DKIM1; t=y : s; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 1, 1, 1, 1 },
	{ "unknown t= flag ignored", "v=DKIM1; t=q; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 1 },
	{ "h=sha256", "v=DKIM1; h=sha256; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 1 },
	{ "h=sha1:sha256", "v=DKIM1; h=sha1:sha256; p=" RSA_P, OK, NULL, CRYPTO_RSA,
	  0, 0, 0, 1, 1 },
	/* Parsed, but not for sha256: the verifier refuses it for rsa-sha256 and ed25519. */
	{ "h=sha1 only", "v=DKIM1; h=sha1; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 0 },
	{ "h= naming no known hash", "v=DKIM1; h=md5; p=" RSA_P, BAD, "h=", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "s=email", "v=DKIM1; s=email; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 1 },
	{ "s=*", "v=DKIM1; s=*; p=" RSA_P, OK, NULL, CRYPTO_RSA, 0, 0, 0, 1, 1 },
	{ "s=tlsrpt:email", "v=DKIM1; s=tlsrpt:email; p=" RSA_P, OK, NULL, CRYPTO_RSA,
	  0, 0, 0, 1, 1 },
	{ "s=tlsrpt only", "v=DKIM1; s=tlsrpt; p=" RSA_P, BAD, "e-mail", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "s= empty", "v=DKIM1; s=; p=" RSA_P, BAD, "e-mail", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "p= missing", "v=DKIM1; k=rsa", BAD, "p=", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "p= invalid base64", "v=DKIM1; p=MIGf!MA0G", BAD, "base64", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "p= bad padding", "v=DKIM1; p=" RSA_P "=", BAD, "base64", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "truncated RSA key", "v=DKIM1; k=rsa; p=" RSA_P_TRUNC, BAD, "does not parse", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "Ed25519 key of 31 bytes", "v=DKIM1; k=ed25519; p=" ED_P_31, BAD, "31 bytes", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "Ed25519 key of 33 bytes", "v=DKIM1; k=ed25519; p=" ED_P_33, BAD, "33 bytes", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "RSA key given as Ed25519", "v=DKIM1; k=ed25519; p=" RSA_P, BAD, "not 32", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "Ed25519 key given as RSA", "v=DKIM1; k=rsa; p=" ED_P, BAD, "does not parse", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "syntax error", "v=DKIM1; p", BAD, "syntax", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "duplicate p=", "v=DKIM1; p=" ED_P "; p=" ED_P, BAD, "duplicate", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "empty record", "", BAD, "syntax", CRYPTO_RSA, 0, 0, 0, 0, 0 },
	{ "control character", "v=DKIM1; k=rsa\001; p=" RSA_P, BAD, "syntax", CRYPTO_RSA, 0, 0, 0, 0, 0 },
};

START_TEST(record_is_accepted_or_refused_as_expected)
{
	const char *rec = cases[_i].rec;
	char reason[LIMIT_REASON] = "";
	struct keyrec kr;
	int rc = keyrec_parse(&kr, rec, strlen(rec), reason, sizeof(reason));

	ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s)", cases[_i].what, rc, reason);
	if (rc < 0) {
		ck_assert_msg(strstr(reason, cases[_i].reason) != NULL, "%s: reason '%s'",
		    cases[_i].what, reason);
		ck_assert_ptr_null(kr.key);
	} else {
		ck_assert_int_eq(kr.type, cases[_i].type);
		ck_assert_int_eq(kr.revoked, cases[_i].revoked);
		ck_assert_int_eq(kr.testing, cases[_i].testing);
		ck_assert_int_eq(kr.strict, cases[_i].strict);
		ck_assert_int_eq(kr.has_version, cases[_i].has_version);
		ck_assert_int_eq(kr.sha256_ok, cases[_i].sha256_ok);
		if (kr.revoked) {
			ck_assert_ptr_null(kr.key);
			ck_assert_int_eq(kr.bits, 0);
		} else {
			ck_assert_ptr_nonnull(kr.key);
			ck_assert_int_eq(crypto_key_type(kr.key), cases[_i].type);
			if (cases[_i].type == CRYPTO_RSA)
				ck_assert_int_eq(kr.bits, 1024);
			else
				ck_assert_int_gt(kr.bits, 0);
		}
	}
	keyrec_clear(&kr);
	keyrec_clear(&kr);	/* twice is harmless */
}
END_TEST

/*
 * The findings dkimctl testkey and the daemon's key checks put in words
 * come from the verifier's own parse: same verdict, same reason, and
 * "usable" exactly when a verifier would take a sha256 signature.
 */
START_TEST(findings_agree_with_the_verifier)
{
	char r1[LIMIT_REASON] = "", r2[LIMIT_REASON] = "";
	struct keyrec a, b;
	struct keyrec_findings *fs = malloc(sizeof(*fs));
	const char *rec = cases[_i].rec;
	int rc = keyrec_parse(&a, rec, strlen(rec), r1, sizeof(r1)), fail = 0;
	size_t k;

	ck_assert_ptr_nonnull(fs);
	ck_assert_int_eq(keyrec_examine(&b, rec, strlen(rec), fs, r2, sizeof(r2)), rc);
	ck_assert_str_eq(r1, r2);
	ck_assert_int_eq(fs->usable, rc == 0 && !a.revoked && a.sha256_ok &&
	    (a.type != CRYPTO_RSA || a.bits >= LIMIT_RSA_MIN_BITS));
	ck_assert_uint_gt(fs->n, 0);
	for (k = 0; k < fs->n; k++)
		fail |= fs->f[k].verdict == KEYREC_FAIL;
	/* Refused, or revoked, or not for sha256: a failing finding says why. */
	ck_assert_int_eq(fail, rc < 0 || a.revoked || !a.sha256_ok);
	keyrec_clear(&a);
	keyrec_clear(&b);
	free(fs);
}
END_TEST

START_TEST(bare_pkcs1_and_spki_public_keys_accepted)
{
	static const char *const forms[] = {
		"rsa2048-pubkey-pkcs1.b64", "rsa2048-pubkey-spki.b64",
	};
	struct crypto_key *priv = tu_load_key("rsa2048-pkcs1.pem");
	size_t f;

	for (f = 0; f < 2; f++) {
		char *p = tu_read_data(forms[f], NULL), reason[LIMIT_REASON] = "";
		struct buf rec;
		struct keyrec kr;

		buf_init(&rec, 16384);
		ck_assert_int_eq(buf_printf(&rec, "v=DKIM1; k=rsa; p=%s", p), 0);
		ck_assert_msg(keyrec_parse(&kr, rec.data, rec.len, reason, sizeof(reason)) == 0,
		    "%s: %s", forms[f], reason);
		ck_assert_int_eq(kr.bits, 2048);
		ck_assert_int_eq(crypto_key_public_equal(kr.key, priv), 1);
		keyrec_clear(&kr);
		buf_release(&rec);
		free(p);
	}
	crypto_key_unref(priv);
}
END_TEST

START_TEST(oversized_record_is_refused_without_crashing)
{
	struct buf rec;
	struct keyrec kr;
	char reason[LIMIT_REASON] = "";
	int i;

	buf_init(&rec, 1 << 20);
	ck_assert_int_eq(buf_puts(&rec, "v=DKIM1; p="), 0);
	for (i = 0; i < 3000; i++)	/* 12000 characters: 9000 bytes, past LIMIT_KEY_RECORD */
		ck_assert_int_eq(buf_puts(&rec, "MIGf"), 0);
	ck_assert_int_eq(keyrec_parse(&kr, rec.data, rec.len, reason, sizeof(reason)), -1);
	ck_assert_str_ne(reason, "");
	ck_assert_ptr_null(kr.key);
	buf_release(&rec);
}
END_TEST

START_TEST(record_parse_does_not_read_past_len)
{
	static const char text[] = "v=DKIM1; k=ed25519; p=" ED_P "; t=y";
	struct keyrec kr;
	char reason[LIMIT_REASON] = "";

	/* Cut before "; t=y": no testing flag. */
	ck_assert_int_eq(keyrec_parse(&kr, text, strlen(text) - 5, reason, sizeof(reason)), 0);
	ck_assert_int_eq(kr.testing, 0);
	keyrec_clear(&kr);
	ck_assert_int_eq(keyrec_parse(&kr, text, strlen(text), reason, sizeof(reason)), 0);
	ck_assert_int_eq(kr.testing, 1);
	keyrec_clear(&kr);
}
END_TEST

static Suite *
keyrec_suite(void)
{
	Suite *s = suite_create("keyrec");
	TCase *tc = tu_tcase("parse");

	tcase_add_loop_test(tc, record_is_accepted_or_refused_as_expected, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, findings_agree_with_the_verifier, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, bare_pkcs1_and_spki_public_keys_accepted);
	tcase_add_test(tc, oversized_record_is_refused_without_crashing);
	tcase_add_test(tc, record_parse_does_not_read_past_len);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(keyrec_suite());
}
