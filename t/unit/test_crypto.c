/*
 * test_crypto.c - keys, signatures and base64: what loads, what is refused,
 * and that a signature made here verifies only against the right key and
 * the right digest.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "crypto.h"
#include "testutil.h"
#include "keyfile.h"

#define S(lit) lit, sizeof(lit) - 1

/* ---- base64 -------------------------------------------------------------- */

static const struct {
	const char *what;
	const char *in;
	size_t len;
	long want;		/* decoded length, or -1 */
	const char *out;	/* decoded bytes when want >= 0 */
} b64_cases[] = {
	{ "empty", S(""), 0, "" },
	{ "two pads", S("YQ=="), 1, "a" },
	{ "one pad", S("YWI="), 2, "ab" },
	{ "no pad needed", S("YWJj"), 3, "abc" },
	{ "missing padding tolerated", S("YQ"), 1, "a" },
	{ "whitespace anywhere", S(" Y W\r\n\tJ j "), 3, "abc" },
	{ "folding between pads", S("YQ=\r\n ="), 1, "a" },
	{ "all whitespace", S(" \t\r\n"), 0, "" },
	{ "three pads", S("YQ==="), -1, NULL },
	{ "pad after a full group", S("YWJj="), -1, NULL },
	{ "one pad where two belong", S("YQ="), -1, NULL },
	{ "two pads where one belongs", S("YWI=="), -1, NULL },
	{ "six leftover bits", S("Y"), -1, NULL },
	{ "five characters", S("YWJjZ"), -1, NULL },
	{ "data after padding", S("YQ==YQ=="), -1, NULL },
	{ "character after one pad", S("YWI=x"), -1, NULL },
	{ "only padding", S("="), -1, NULL },
	{ "only two pads", S("=="), -1, NULL },
	{ "bad character", S("YQ!="), -1, NULL },
	{ "url-safe alphabet", S("-_-_"), -1, NULL },
	{ "NUL inside", S("YQ\0="), -1, NULL },
	{ "non-ASCII byte", S("YW\xc3\xa9"), -1, NULL },
	{ "dot", S("YWJj.A=="), -1, NULL },
};

START_TEST(b64_decode_accepts_and_rejects_as_expected)
{
	unsigned char out[64];
	long n = crypto_b64_decode(b64_cases[_i].in, b64_cases[_i].len, out, sizeof(out));

	ck_assert_msg(n == b64_cases[_i].want, "%s: got %ld, want %ld", b64_cases[_i].what, n,
	    b64_cases[_i].want);
	if (n > 0)
		ck_assert_mem_eq(out, b64_cases[_i].out, (size_t)n);
}
END_TEST

START_TEST(b64_decode_refuses_to_overflow_output)
{
	unsigned char out[4];

	ck_assert_int_eq(crypto_b64_decode(S("YWJjZA=="), out, 4), 4);
	ck_assert_int_eq(crypto_b64_decode(S("YWJjZGU="), out, 4), -1);
	ck_assert_int_eq(crypto_b64_decode(S("YWJj"), out, 2), -1);
	ck_assert_int_eq(crypto_b64_decode(S("YWJj"), out, 0), -1);
}
END_TEST

START_TEST(b64_round_trips_every_length)
{
	uint64_t rng = 0xb64;
	unsigned char in[200], back[200];
	char enc[300];
	size_t n, i;

	for (n = 0; n < sizeof(in); n++) {
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)tu_rand(&rng);
		ck_assert_uint_eq(crypto_b64_encode(in, n, enc), 4 * ((n + 2) / 3));
		ck_assert_uint_eq(strlen(enc), 4 * ((n + 2) / 3));
		ck_assert_int_eq(crypto_b64_decode(enc, strlen(enc), back, sizeof(back)), (long)n);
		ck_assert_mem_eq(in, back, n);
	}
	ck_assert_uint_eq(crypto_b64_encode((const unsigned char *)"abc", 3, enc), 4);
	ck_assert_str_eq(enc, "YWJj");
	ck_assert_uint_eq(crypto_b64_encode((const unsigned char *)"a", 1, enc), 4);
	ck_assert_str_eq(enc, "YQ==");
}
END_TEST

/* ---- keys ---------------------------------------------------------------- */

static const struct {
	const char *file;
	const char *form;
	enum crypto_type type;
	int bits;
	size_t sigsize;
} key_cases[] = {
	{ "rsa1024.pem", "PKCS#8", CRYPTO_RSA, 1024, 128 },
	{ "rsa2048-pkcs1.pem", "PKCS#1", CRYPTO_RSA, 2048, 256 },
	{ "rsa4096.pem", "PKCS#8", CRYPTO_RSA, 4096, 512 },
	{ "ed25519.pem", "PKCS#8", CRYPTO_ED25519, 0, 64 },
};

START_TEST(private_keys_load_from_pem_and_file)
{
	struct crypto_key *k = tu_load_key(key_cases[_i].file), *k2 = NULL;
	char *path = tu_data_path(key_cases[_i].file);
	char err[256] = "";

	ck_assert_int_eq(crypto_key_type(k), key_cases[_i].type);
	if (key_cases[_i].bits > 0)
		ck_assert_int_eq(crypto_key_bits(k), key_cases[_i].bits);
	ck_assert_uint_eq(crypto_key_sigsize(k), key_cases[_i].sigsize);
	ck_assert_msg(keyfile_load_private(path, &k2, err, sizeof(err)) == 0,
	    "%s (%s): %s", key_cases[_i].file, key_cases[_i].form, err);
	ck_assert_int_eq(crypto_key_public_equal(k, k2), 1);
	crypto_key_unref(k2);
	crypto_key_unref(k);
	free(path);
}
END_TEST

/* Sign a SHA-256 digest with the private key, verify with the public half
 * rebuilt from its key-record form; then tamper with each input. */
START_TEST(sign_verify_round_trip_and_tamper)
{
	struct crypto_key *k = tu_load_key(key_cases[_i].file), *pub = NULL, *other;
	unsigned char md[32], md2[32], sig[1024], sig2[1024], *der = NULL;
	size_t siglen = sizeof(sig), siglen2 = sizeof(sig2), derlen = 0;
	unsigned int mdlen;
	char err[256] = "";

	ck_assert_int_eq(EVP_Digest("message", 7, md, &mdlen, EVP_sha256(), NULL), 1);
	ck_assert_int_eq(EVP_Digest("messagf", 7, md2, &mdlen, EVP_sha256(), NULL), 1);
	ck_assert_msg(crypto_sign(k, md, 32, sig, &siglen, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(siglen, key_cases[_i].sigsize);
	ck_assert_int_eq(crypto_key_public_der(k, &der, &derlen), 0);
	ck_assert_msg(crypto_key_public(key_cases[_i].type, der, derlen, &pub, err,
	    sizeof(err)) == 0, "%s", err);
	free(der);
	ck_assert_int_eq(crypto_key_public_equal(k, pub), 1);
	ck_assert_int_eq(crypto_verify(pub, md, 32, sig, siglen), 1);
	ck_assert_int_eq(crypto_verify(k, md, 32, sig, siglen), 1);
	ck_assert_int_eq(crypto_verify(pub, md2, 32, sig, siglen), 0);
	sig[siglen / 2] ^= 0x01;
	ck_assert_int_eq(crypto_verify(pub, md, 32, sig, siglen), 0);
	sig[siglen / 2] ^= 0x01;
	ck_assert_int_ne(crypto_verify(pub, md, 32, sig, siglen - 1), 1);
	/* Ed25519 is deterministic; RSA PKCS#1 v1.5 too. */
	ck_assert_int_eq(crypto_sign(k, md, 32, sig2, &siglen2, err, sizeof(err)), 0);
	ck_assert_uint_eq(siglen2, siglen);
	ck_assert_mem_eq(sig, sig2, siglen);
	/* Another key of the same kind does not verify it. */
	other = tu_load_key(key_cases[_i].type == CRYPTO_ED25519 ? "rsa1024.pem" :
	    _i == 0 ? "rsa4096.pem" : "rsa1024.pem");
	ck_assert_int_ne(crypto_verify(other, md, 32, sig, siglen), 1);
	crypto_key_unref(other);
	crypto_key_unref(pub);
	crypto_key_unref(k);
}
END_TEST

START_TEST(generated_keys_sign_and_write_once)
{
	static const struct { enum crypto_type type; int bits; } gen[] = {
		{ CRYPTO_ED25519, 0 }, { CRYPTO_RSA, 1024 },
	};
	char dir[] = "/tmp/dkimgate-test-XXXXXX";
	size_t g;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (g = 0; g < 2; g++) {
		struct crypto_key *k = NULL, *back = NULL;
		unsigned char md[32] = { 1, 2, 3 }, sig[256];
		size_t siglen = sizeof(sig);
		char err[256] = "", path[128];

		ck_assert_int_eq(crypto_key_generate(gen[g].type, gen[g].bits, &k, err,
		    sizeof(err)), 0);
		ck_assert_int_eq(crypto_key_type(k), gen[g].type);
		snprintf(path, sizeof(path), "%s/key%zu.pem", dir, g);
		ck_assert_msg(keyfile_write_private(k, path, err, sizeof(err)) == 0, "%s", err);
		/* Never overwrites. */
		ck_assert_int_eq(keyfile_write_private(k, path, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, path));
		ck_assert_int_eq(keyfile_load_private(path, &back, err, sizeof(err)), 0);
		ck_assert_int_eq(crypto_key_public_equal(k, back), 1);
		ck_assert_int_eq(crypto_sign(k, md, 32, sig, &siglen, err, sizeof(err)), 0);
		ck_assert_int_eq(crypto_verify(back, md, 32, sig, siglen), 1);
		/* References: one more ref, two unrefs, no double free. */
		ck_assert_ptr_eq(crypto_key_ref(back), back);
		crypto_key_unref(back);
		crypto_key_unref(back);
		crypto_key_unref(k);
		unlink(path);
	}
	crypto_key_unref(NULL);
	ck_assert_ptr_null(crypto_key_ref(NULL));
	rmdir(dir);
}
END_TEST

START_TEST(bad_private_keys_fail_with_a_reason)
{
	static const char *const bad[] = {
		"",
		"not a key at all",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN PUBLIC KEY-----\n"
		"MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
		"-----END PUBLIC KEY-----\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct crypto_key *k = NULL;
		char err[256] = "";

		ck_assert_int_eq(crypto_key_private_pem(bad[i], strlen(bad[i]), &k, err,
		    sizeof(err)), -1);
		ck_assert_ptr_null(k);
		ck_assert_ptr_nonnull(strstr(err, "not a PEM private key"));
	}
	{
		struct crypto_key *k = NULL;
		char err[256] = "";

		ck_assert_int_eq(keyfile_load_private("/nonexistent/dkimgate.pem", &k, err,
		    sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dkimgate.pem"));
	}
}
END_TEST

/* ---- public keys from key records --------------------------------------- */

static unsigned char *
decode_fixture(const char *name, size_t *len)
{
	size_t tlen;
	char *text = tu_read_data(name, &tlen);
	unsigned char *der = malloc(tlen);
	long n;

	ck_assert_ptr_nonnull(der);
	n = crypto_b64_decode(text, tlen, der, tlen);
	ck_assert_int_gt(n, 0);
	free(text);
	*len = (size_t)n;
	return der;
}

START_TEST(rsa_public_key_as_spki_or_bare_pkcs1)
{
	static const char *const forms[] = {
		"rsa2048-pubkey-spki.b64", "rsa2048-pubkey-pkcs1.b64",
	};
	struct crypto_key *priv = tu_load_key("rsa2048-pkcs1.pem");
	size_t f;

	for (f = 0; f < 2; f++) {
		size_t len;
		unsigned char *der = decode_fixture(forms[f], &len);
		struct crypto_key *pub = NULL;
		char err[256] = "";

		ck_assert_msg(crypto_key_public(CRYPTO_RSA, der, len, &pub, err,
		    sizeof(err)) == 0, "%s: %s", forms[f], err);
		ck_assert_int_eq(crypto_key_bits(pub), 2048);
		ck_assert_int_eq(crypto_key_public_equal(priv, pub), 1);
		crypto_key_unref(pub);
		/* Truncated, or with a byte too many: refused. */
		ck_assert_int_eq(crypto_key_public(CRYPTO_RSA, der, len - 1, &pub, err,
		    sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "does not parse"));
		ck_assert_int_eq(crypto_key_public(CRYPTO_RSA, der, len / 2, &pub, err,
		    sizeof(err)), -1);
		{
			unsigned char *longer = malloc(len + 1);

			memcpy(longer, der, len);
			longer[len] = 0;
			ck_assert_int_eq(crypto_key_public(CRYPTO_RSA, longer, len + 1, &pub,
			    err, sizeof(err)), -1);
			free(longer);
		}
		free(der);
	}
	crypto_key_unref(priv);
}
END_TEST

START_TEST(public_key_of_the_wrong_kind_or_size_is_refused)
{
	/* SubjectPublicKeyInfo of the RFC 8463 Ed25519 key. */
	static const unsigned char ed_spki_prefix[] = {
		0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
	};
	unsigned char raw[33], spki[44];
	struct crypto_key *k = NULL;
	char err[256] = "";
	long n = crypto_b64_decode(S("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="), raw,
	    sizeof(raw));

	ck_assert_int_eq(n, 32);
	ck_assert_int_eq(crypto_key_public(CRYPTO_ED25519, raw, 32, &k, err, sizeof(err)), 0);
	ck_assert_int_eq(crypto_key_type(k), CRYPTO_ED25519);
	crypto_key_unref(k);
	k = NULL;
	ck_assert_int_eq(crypto_key_public(CRYPTO_ED25519, raw, 31, &k, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "31 bytes"));
	ck_assert_int_eq(crypto_key_public(CRYPTO_ED25519, raw, 33, &k, err, sizeof(err)), -1);
	ck_assert_int_eq(crypto_key_public(CRYPTO_ED25519, raw, 0, &k, err, sizeof(err)), -1);
	/* An Ed25519 SPKI given as k=rsa. */
	memcpy(spki, ed_spki_prefix, sizeof(ed_spki_prefix));
	memcpy(spki + sizeof(ed_spki_prefix), raw, 32);
	ck_assert_int_eq(crypto_key_public(CRYPTO_RSA, spki, sizeof(spki), &k, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "another key type"));
	/* An SPKI given as k=ed25519 is not 32 raw bytes. */
	ck_assert_int_eq(crypto_key_public(CRYPTO_ED25519, spki, sizeof(spki), &k, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(k);
	/* Garbage. */
	ck_assert_int_eq(crypto_key_public(CRYPTO_RSA, raw, 32, &k, err, sizeof(err)), -1);
	ck_assert_ptr_null(k);
}
END_TEST

static Suite *
crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *b64 = tu_tcase("base64");
	TCase *keys = tu_tcase("keys");

	tcase_add_loop_test(b64, b64_decode_accepts_and_rejects_as_expected, 0,
	    sizeof(b64_cases) / sizeof(b64_cases[0]));
	tcase_add_test(b64, b64_decode_refuses_to_overflow_output);
	tcase_add_test(b64, b64_round_trips_every_length);
	suite_add_tcase(s, b64);

	tcase_add_loop_test(keys, private_keys_load_from_pem_and_file, 0,
	    sizeof(key_cases) / sizeof(key_cases[0]));
	tcase_add_loop_test(keys, sign_verify_round_trip_and_tamper, 0,
	    sizeof(key_cases) / sizeof(key_cases[0]));
	tcase_add_test(keys, generated_keys_sign_and_write_once);
	tcase_add_test(keys, bad_private_keys_fail_with_a_reason);
	tcase_add_test(keys, rsa_public_key_as_spki_or_bare_pkcs1);
	tcase_add_test(keys, public_key_of_the_wrong_kind_or_size_is_refused);
	suite_add_tcase(s, keys);
	return s;
}

int
main(void)
{
	return tu_run(crypto_suite());
}
