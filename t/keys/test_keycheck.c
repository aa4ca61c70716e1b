/*
 * test_keycheck.c - milter/keycheck without DNS: key records as operators
 * publish them (good, truncated, weak, revoked, testing, wrong tags, pasted
 * quotes, several records), DNS answers as keycheck_answer receives them,
 * and the name rules genkey relies on for safe file names.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "keycheck.h"
#include "testutil.h"

/* How a case's record is made from the key's base64 (see make_record). */
enum mutate {
	M_NONE,		/* PRE p=KEY POST */
	M_CUT255,	/* the whole record cut at 255 characters */
	M_CUT300,	/* p= cut to 300 characters (a multiple of 4) */
	M_QUOTE,	/* '" "' pasted into the middle of p= */
	M_EMPTY_P,	/* p= empty: revoked */
	M_RAW		/* pre is the whole record */
};

static const struct {
	const char *what;
	const char *key;	/* fixture whose public half is published */
	const char *pre, *post;
	enum mutate m;
	const char *priv;	/* -k fixture, or NULL */
	enum keycheck_verdict worst;
	const char *code;	/* must be among the findings */
	enum keycheck_pub pub;
} cases[] = {
	{ "good 2048-bit key", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "", M_NONE,
	  NULL, KEYCHECK_OK, "size-ok", KEYCHECK_PUB_UNKNOWN },
	{ "good key matching its private key", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ",
	  "", M_NONE, "rsa2048-pkcs1.pem", KEYCHECK_OK, "match-ok", KEYCHECK_PUB_YES },
	{ "another private key", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "", M_NONE,
	  "rsa1024.pem", KEYCHECK_FAIL, "match-differs", KEYCHECK_PUB_NO },
	{ "private key of another type", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "",
	  M_NONE, "ed25519.pem", KEYCHECK_FAIL, "match-type", KEYCHECK_PUB_NO },
	{ "no v= is allowed", "rsa2048-pkcs1.pem", "k=rsa; ", "", M_NONE, NULL,
	  KEYCHECK_OK, "version-missing", KEYCHECK_PUB_UNKNOWN },
	{ "ed25519 key", "ed25519.pem", "v=DKIM1; k=ed25519; ", "", M_NONE, "ed25519.pem",
	  KEYCHECK_OK, "type-ed25519", KEYCHECK_PUB_YES },
	{ "1024 bits warns", "rsa1024.pem", "v=DKIM1; k=rsa; ", "", M_NONE, NULL,
	  KEYCHECK_WARN, "size-weak", KEYCHECK_PUB_UNKNOWN },
	{ "512 bits fails", "rsa512.pem", "v=DKIM1; k=rsa; ", "", M_NONE, "rsa512.pem",
	  KEYCHECK_FAIL, "size-too-small", KEYCHECK_PUB_NO },
	{ "4096 bits is fine", "rsa4096.pem", "v=DKIM1; k=rsa; ", "", M_NONE, NULL,
	  KEYCHECK_OK, "size-ok", KEYCHECK_PUB_UNKNOWN },
	{ "cut at 255 characters", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "", M_CUT255,
	  NULL, KEYCHECK_FAIL, "key-truncated", KEYCHECK_PUB_UNKNOWN },
	{ "cut at a multiple of 4", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "", M_CUT300,
	  "rsa2048-pkcs1.pem", KEYCHECK_FAIL, "key-truncated", KEYCHECK_PUB_NO },
	{ "quotes pasted into p=", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "", M_QUOTE,
	  NULL, KEYCHECK_FAIL, "key-bad-base64", KEYCHECK_PUB_UNKNOWN },
	{ "revoked", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; ", "", M_EMPTY_P,
	  "rsa2048-pkcs1.pem", KEYCHECK_FAIL, "key-revoked", KEYCHECK_PUB_NO },
	{ "t=y warns", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; t=y; ", "", M_NONE,
	  "rsa2048-pkcs1.pem", KEYCHECK_WARN, "testing-on", KEYCHECK_PUB_YES },
	{ "t=s is not testing", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; t=s; ", "", M_NONE,
	  NULL, KEYCHECK_OK, "testing-off", KEYCHECK_PUB_UNKNOWN },
	{ "h=sha1 only", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; h=sha1; ", "", M_NONE,
	  "rsa2048-pkcs1.pem", KEYCHECK_FAIL, "hash-no-sha256", KEYCHECK_PUB_NO },
	{ "h=sha1:sha256", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; h=sha1:sha256; ", "",
	  M_NONE, NULL, KEYCHECK_OK, "hash-ok", KEYCHECK_PUB_UNKNOWN },
	{ "s= not e-mail", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; s=tlsrpt; ", "", M_NONE,
	  NULL, KEYCHECK_FAIL, "service-not-email", KEYCHECK_PUB_UNKNOWN },
	{ "s=email:*", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa; s=email:*; ", "", M_NONE,
	  NULL, KEYCHECK_OK, "service-ok", KEYCHECK_PUB_UNKNOWN },
	{ "v=DKIM2", "rsa2048-pkcs1.pem", "v=DKIM2; k=rsa; ", "", M_NONE, NULL,
	  KEYCHECK_FAIL, "version-bad", KEYCHECK_PUB_UNKNOWN },
	{ "v= not first", "rsa2048-pkcs1.pem", "k=rsa; v=DKIM1; ", "", M_NONE, NULL,
	  KEYCHECK_FAIL, "version-bad", KEYCHECK_PUB_UNKNOWN },
	{ "unknown k=", "rsa2048-pkcs1.pem", "v=DKIM1; k=dsa; ", "", M_NONE, NULL,
	  KEYCHECK_FAIL, "type-unknown", KEYCHECK_PUB_UNKNOWN },
	{ "k=rsa holding an Ed25519 key", "ed25519.pem", "v=DKIM1; k=rsa; ", "", M_NONE,
	  NULL, KEYCHECK_FAIL, "key-unparsable", KEYCHECK_PUB_UNKNOWN },
	{ "not a tag list", "rsa2048-pkcs1.pem", "hello world", NULL, M_RAW, NULL,
	  KEYCHECK_FAIL, "syntax-error", KEYCHECK_PUB_UNKNOWN },
	{ "an SPF record, no p=", "rsa2048-pkcs1.pem", "v=spf1 -all", NULL, M_RAW, NULL,
	  KEYCHECK_FAIL, "key-missing", KEYCHECK_PUB_UNKNOWN },
	{ "no p= tag", "rsa2048-pkcs1.pem", "v=DKIM1; k=rsa", NULL, M_RAW, NULL,
	  KEYCHECK_FAIL, "key-missing", KEYCHECK_PUB_UNKNOWN },
	{ "whole value quoted", "rsa2048-pkcs1.pem", "\"v=DKIM1; k=rsa; p=\"", NULL,
	  M_RAW, NULL, KEYCHECK_FAIL, "record-quotes", KEYCHECK_PUB_UNKNOWN },
	{ "not base64", "rsa2048-pkcs1.pem", "v=DKIM1; p=MIIB!AAA", NULL, M_RAW, NULL,
	  KEYCHECK_FAIL, "key-bad-base64", KEYCHECK_PUB_UNKNOWN },
};

/* The base64 of a fixture's public half (caller frees). */
static char *
pub_b64(const char *fixture)
{
	struct crypto_key *k = tu_load_key(fixture);
	unsigned char *der;
	size_t n;
	char *b64;

	ck_assert_int_eq(crypto_key_public_der(k, &der, &n), 0);
	b64 = tu_b64(der, n);
	free(der);
	crypto_key_unref(k);
	return b64;
}

static char *
make_record(size_t i)
{
	struct buf b;
	char *key = pub_b64(cases[i].key);
	size_t klen = strlen(key);

	buf_init(&b, 16384);
	switch (cases[i].m) {
	case M_RAW:
		ck_assert_int_eq(buf_puts(&b, cases[i].pre), 0);
		break;
	case M_EMPTY_P:
		ck_assert_int_eq(buf_printf(&b, "%sp=%s", cases[i].pre, cases[i].post), 0);
		break;
	case M_CUT300:
		ck_assert_int_eq(buf_printf(&b, "%sp=%.300s", cases[i].pre, key), 0);
		break;
	case M_QUOTE:
		ck_assert_int_eq(buf_printf(&b, "%sp=%.*s\" \"%s", cases[i].pre,
		    (int)(klen / 2), key, key + klen / 2), 0);
		break;
	default:
		ck_assert_int_eq(buf_printf(&b, "%sp=%s%s", cases[i].pre, key,
		    cases[i].post), 0);
		if (cases[i].m == M_CUT255)
			buf_truncate(&b, 255);
	}
	free(key);
	return buf_steal(&b);
}

static int
has_code(const struct keycheck *kc, const char *code)
{
	size_t i;

	for (i = 0; i < kc->n; i++)
		if (strcmp(kc->findings[i].code, code) == 0)
			return 1;
	return 0;
}

/* Every finding that is not ok says what to do. */
static void
assert_fixes(const struct keycheck *kc)
{
	size_t i;

	for (i = 0; i < kc->n; i++)
		ck_assert_msg(kc->findings[i].verdict == KEYCHECK_OK ||
		    kc->findings[i].fix[0] != '\0', "finding %s has no fix",
		    kc->findings[i].code);
}

START_TEST(record_cases)
{
	struct keycheck *kc = keycheck_create("example.com", "sel");
	struct crypto_key *priv = cases[_i].priv ? tu_load_key(cases[_i].priv) : NULL;
	char *rec = make_record((size_t)_i);
	const char *txt[1] = { rec };
	size_t len[1] = { strlen(rec) };

	ck_assert_ptr_nonnull(kc);
	keycheck_record(kc, txt, len, 1, priv);
	ck_assert_msg(kc->worst == cases[_i].worst, "%s: worst %s, want %s",
	    cases[_i].what, keycheck_verdict_name(kc->worst),
	    keycheck_verdict_name(cases[_i].worst));
	ck_assert_msg(has_code(kc, cases[_i].code), "%s: no %s finding", cases[_i].what,
	    cases[_i].code);
	ck_assert_msg(kc->published == cases[_i].pub, "%s: published %d, want %d",
	    cases[_i].what, (int)kc->published, (int)cases[_i].pub);
	assert_fixes(kc);
	free(rec);
	crypto_key_unref(priv);
	keycheck_free(kc);
}
END_TEST

/* The usual truncation says where the record was cut. */
START_TEST(truncation_is_explained)
{
	struct keycheck *kc = keycheck_create("example.com", "sel");
	char *rec;
	const char *txt[1];
	size_t len[1], i;
	int said = 0;

	for (i = 0; cases[i].m != M_CUT255; i++)
		;
	rec = make_record(i);
	txt[0] = rec;
	len[0] = strlen(rec);
	ck_assert_uint_eq(len[0], 255);
	keycheck_record(kc, txt, len, 1, NULL);
	for (i = 0; i < kc->n; i++)
		if (strstr(kc->findings[i].msg, "exactly 255 characters") != NULL)
			said = 1;
	ck_assert_msg(said, "the 255-character cut is not mentioned");
	free(rec);
	keycheck_free(kc);
}
END_TEST

START_TEST(two_records_fail)
{
	struct keycheck *kc = keycheck_create("example.com", "sel");
	struct crypto_key *priv = tu_load_key("rsa2048-pkcs1.pem");
	char *a = make_record(0), *b = make_record(6);
	const char *txt[2] = { a, b };
	size_t len[2] = { strlen(a), strlen(b) };

	keycheck_record(kc, txt, len, 2, priv);
	ck_assert_int_eq(kc->worst, KEYCHECK_FAIL);
	ck_assert(has_code(kc, "record-multiple"));
	ck_assert_int_eq(kc->published, KEYCHECK_PUB_NO);
	ck_assert_uint_eq(kc->nrecords, 2);
	ck_assert_ptr_nonnull(strstr(kc->findings[1].msg, "record 1 of 2: "));
	free(a);
	free(b);
	crypto_key_unref(priv);
	keycheck_free(kc);
}
END_TEST

static const struct {
	const char *what;
	enum dns_status st;
	const char *canon;
	enum keycheck_verdict worst;
	const char *code;
	enum keycheck_pub pub;
} answers[] = {
	{ "NXDOMAIN", DNS_NXDOMAIN, "sel._domainkey.example.com.", KEYCHECK_FAIL,
	  "record-nxdomain", KEYCHECK_PUB_NO },
	{ "NODATA", DNS_NODATA, "", KEYCHECK_FAIL, "record-nodata", KEYCHECK_PUB_NO },
	{ "dangling CNAME", DNS_NXDOMAIN, "gone.esp.example.", KEYCHECK_FAIL,
	  "cname-dangling", KEYCHECK_PUB_NO },
	{ "SERVFAIL", DNS_SERVFAIL, "", KEYCHECK_FAIL, "dns-servfail",
	  KEYCHECK_PUB_UNKNOWN },
	{ "timeout", DNS_TIMEOUT, "", KEYCHECK_FAIL, "dns-timeout", KEYCHECK_PUB_UNKNOWN },
	{ "bogus", DNS_BOGUS, "", KEYCHECK_FAIL, "dnssec-bogus", KEYCHECK_PUB_NO },
};

START_TEST(answer_cases)
{
	struct keycheck *kc = keycheck_create("example.com", "sel");
	struct crypto_key *priv = tu_load_key("rsa2048-pkcs1.pem");
	struct dns_result r;

	memset(&r, 0, sizeof(r));
	r.status = answers[_i].st;
	r.dnssec = "insecure";
	str_copy(r.canon, answers[_i].canon, sizeof(r.canon));
	str_copy(r.why, "test", sizeof(r.why));
	keycheck_answer(kc, &r, priv, 1);
	ck_assert_msg(kc->worst == answers[_i].worst, "%s", answers[_i].what);
	ck_assert_msg(has_code(kc, answers[_i].code), "%s: no %s", answers[_i].what,
	    answers[_i].code);
	ck_assert_msg(kc->published == answers[_i].pub, "%s: published %d",
	    answers[_i].what, (int)kc->published);
	assert_fixes(kc);
	crypto_key_unref(priv);
	keycheck_free(kc);
}
END_TEST

START_TEST(secure_answer)
{
	struct keycheck *kc = keycheck_create("example.com.", "sel");
	char *rec = make_record(1);
	char *txt[1] = { rec };
	size_t len[1] = { strlen(rec) };
	struct dns_result r;

	memset(&r, 0, sizeof(r));
	r.status = DNS_OK;
	r.dnssec = "secure";
	r.txt = txt;
	r.txtlen = len;
	r.n = 1;
	str_copy(r.canon, "SEL._domainkey.Example.COM.", sizeof(r.canon));
	keycheck_answer(kc, &r, NULL, 1);
	ck_assert_int_eq(kc->worst, KEYCHECK_OK);
	ck_assert(has_code(kc, "dnssec-secure"));
	ck_assert(!has_code(kc, "cname-chain"));	/* same name, other case */
	ck_assert_str_eq(kc->name, "sel._domainkey.example.com");
	free(rec);
	keycheck_free(kc);
}
END_TEST

static const struct {
	const char *name;
	int ok;
} names[] = {
	{ "example.com", 1 }, { "example.com.", 1 }, { "s202611", 1 }, { "a_b-c.d", 1 },
	{ "", 0 }, { ".", 0 }, { "a..b", 0 }, { ".a", 0 }, { "a/b", 0 }, { "../x", 0 },
	{ "a b", 0 }, { "a.b..", 0 }, { "é.com", 0 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", 0 },
};

START_TEST(name_rules)
{
	ck_assert_msg(keycheck_name_ok(names[_i].name) == names[_i].ok, "'%s'",
	    names[_i].name);
}
END_TEST

START_TEST(bad_name_skips_dns)
{
	struct keycheck *kc = keycheck_create("exa mple.com", "sel");

	ck_assert_str_eq(kc->name, "");
	ck_assert_int_eq(kc->worst, KEYCHECK_FAIL);
	ck_assert(has_code(kc, "dns-bad-name"));
	keycheck_run(kc, NULL, NULL, 0);	/* never touches dns */
	ck_assert_uint_eq(kc->n, 1);
	keycheck_free(kc);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("keycheck");
	TCase *tc = tcase_create("keycheck");

	tcase_add_loop_test(tc, record_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, truncation_is_explained);
	tcase_add_test(tc, two_records_fail);
	tcase_add_loop_test(tc, answer_cases, 0,
	    (int)(sizeof(answers) / sizeof(answers[0])));
	tcase_add_test(tc, secure_answer);
	tcase_add_loop_test(tc, name_rules, 0, (int)(sizeof(names) / sizeof(names[0])));
	tcase_add_test(tc, bad_name_skips_dns);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
