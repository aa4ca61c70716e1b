/*
 * test_authres.c - Authentication-Results fields: values a sender controls
 * (d=, s=, i=, a=, b=, reasons) can never break out of their value, and the
 * field parses as RFC 8601 says; authserv-id recognition for removing
 * forged fields.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "dkim.h"
#include "sig.h"
#include "testutil.h"

/* ---- a small RFC 8601 reader ---------------------------------------------- */

/*
 * Characters a value may hold unquoted. RFC 2045 token characters, plus the
 * '/', '=', '@' and '?' authres.c admits on purpose (base64 header.b values
 * and addresses, see is_token_char there); never space, control characters,
 * or the separators that would end the value: ( ) < > , ; : \ " [ ].
 */
static int
token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>,;:\\\"[]", c) == NULL;
}

struct reader {
	const char *p;
	const char *err;
};

/* A value: token or quoted-string; its text (unescaped) goes to out. */
static int
read_value(struct reader *r, struct buf *out)
{
	buf_reset(out);
	if (*r->p == '"') {
		for (r->p++; *r->p != '"'; r->p++) {
			unsigned char c = (unsigned char)*r->p;

			if (c == '\0') {
				r->err = "unterminated quoted-string";
				return -1;
			}
			if (c == '\\') {
				c = (unsigned char)*++r->p;
				if (c == '\0') {
					r->err = "backslash at the end";
					return -1;
				}
			}
			if (c < 0x20 || c >= 0x7f) {
				r->err = "control or non-ASCII byte in a quoted-string";
				return -1;
			}
			TU_OK(buf_putc(out, (char)c));
		}
		r->p++;
		return 0;
	}
	if (!token_char((unsigned char)*r->p)) {
		r->err = "value is neither token nor quoted-string";
		return -1;
	}
	while (token_char((unsigned char)*r->p))
		TU_OK(buf_putc(out, *r->p++));
	return 0;
}

static int
read_name(struct reader *r, const char *extra)
{
	const char *start = r->p;

	while ((*r->p >= 'a' && *r->p <= 'z') || (*r->p >= '0' && *r->p <= '9') ||
	    (*r->p != '\0' && strchr(extra, *r->p) != NULL))
		r->p++;
	if (r->p == start) {
		r->err = "name expected";
		return -1;
	}
	return 0;
}

/*
 * Check a whole field; the values seen are appended to vals, one per line.
 * Returns NULL when well formed, else what is wrong.
 */
static const char *
check_field(const char *f, struct buf *vals)
{
	struct reader r = { f, NULL };
	struct buf v;
	const char *s;

	/* The only line breaks are the folds. */
	for (s = f; *s != '\0'; s++) {
		if (*s == '\r' && (s[1] != '\n' || s[2] != '\t'))
			return "bare CR or a CRLF not followed by a tab";
		if (*s == '\n' && (s == f || s[-1] != '\r'))
			return "bare LF";
	}
	buf_init(&v, 1 << 16);
	if (strncmp(r.p, "Authentication-Results: ", 24) != 0)
		return "field name";
	r.p += 24;
	if (read_value(&r, &v) < 0)
		goto bad;
	TU_OK(buf_printf(vals, "%s\n", buf_str(&v)));
	while (*r.p != '\0') {
		if (strncmp(r.p, ";\r\n\t", 4) != 0) {
			r.err = "results must be separated by ';' and a fold";
			goto bad;
		}
		r.p += 4;
		if (read_name(&r, "-") < 0)
			goto bad;
		if (*r.p++ != '=') {
			r.err = "method without '='";
			goto bad;
		}
		if (read_name(&r, "-") < 0)	/* the result */
			goto bad;
		while (*r.p == ' ') {
			r.p++;
			if (*r.p == '(') {
				for (r.p++; *r.p != ')'; r.p++)
					if (*r.p == '\0' || *r.p == '(' || *r.p == '\\' ||
					    (unsigned char)*r.p < 0x20) {
						r.err = "bad comment";
						goto bad;
					}
				r.p++;
				continue;
			}
			if (read_name(&r, ".-") < 0)
				goto bad;
			if (*r.p++ != '=') {
				r.err = "property without '='";
				goto bad;
			}
			if (read_value(&r, &v) < 0)
				goto bad;
			TU_OK(buf_printf(vals, "%s\n", buf_str(&v)));
		}
		if (*r.p != '\0' && *r.p != ';') {
			r.err = "garbage after a result";
			goto bad;
		}
	}
	buf_release(&v);
	return NULL;
bad:
	buf_release(&v);
	return r.err;
}

/* ---- values ---------------------------------------------------------------- */

static const struct {
	const char *in;
	const char *out;
} values[] = {
	{ "example.com", "example.com" },
	{ "joe@example.com", "joe@example.com" },
	{ "abcd/EFG+h=", "abcd/EFG+h=" },
	{ "a b", "\"a b\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "a\\b", "\"a\\\\b\"" },
	{ "x;y", "\"x;y\"" },
	{ "x:y", "\"x:y\"" },
	{ "(x)", "\"(x)\"" },
	{ "<x>", "\"<x>\"" },
	{ "[x],y", "\"[x],y\"" },
	{ "\r\n", "\"??\"" },
	{ "tab\there", "\"tab?here\"" },
	{ "esc\033[31m", "\"esc?[31m\"" },
	{ "del\177", "\"del?\"" },
	{ "caf\xc3\xa9", "\"caf??\"" },
	{ "", "\"\"" },
	{ "\\", "\"\\\\\"" },
	{ "\"", "\"\\\"\"" },
};

START_TEST(value_is_token_or_escaped_quoted_string)
{
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(authres_value(&b, values[_i].in), 0);
	ck_assert_str_eq(buf_str(&b), values[_i].out);
	buf_release(&b);
}
END_TEST

/* ---- whole fields with hostile values ------------------------------------ */

static const char *const hostile[] = {
	"evil.example\r\nX-Injected: yes",
	"evil.example\r\n\tdkim=pass header.d=paypal.com",
	"a\"b\\c",
	"semi;colon; dkim=pass",
	"\"quoted\"",
	"trailing\\",
	"ctl\001\002\177\033[31m",
	"non-ascii \xc3\xa9\xff",
	"(comment) x",
	"close) paren",
	"",
	"\r\n",
	"\n",
	"\r",
	"lf\nonly",
	"cr\ronly",
	"tab\there",
	"a=b c=d",
	"=",
	";",
};

/* The field for a verdict whose every sender-controlled text is h. */
static void
build(struct buf *out, const char *h, int with_align)
{
	struct sig sg;
	struct dkim_verdict v;
	struct authres_align al = { h, 1, 0, 'r' };

	memset(&sg, 0, sizeof(sg));
	memset(&v, 0, sizeof(v));
	str_copy(sg.d, h, sizeof(sg.d));
	str_copy(sg.s, h, sizeof(sg.s));
	str_copy(sg.i, h, sizeof(sg.i));
	str_copy(sg.a_text, h, sizeof(sg.a_text));
	str_copy(sg.b64_prefix, h, sizeof(sg.b64_prefix));
	v.sig = &sg;
	v.status = DKIM_FAIL;
	str_copy(v.reason, h, sizeof(v.reason));
	v.key_type = CRYPTO_RSA;
	v.key_bits = 2048;
	v.dnssec = "insecure";
	v.testing = 1;
	ck_assert_int_eq(authres_begin(out, h), 0);
	ck_assert_int_eq(authres_add_dkim(out, &v, with_align ? &al : NULL), 0);
	ck_assert_int_eq(authres_add_none(out, h), 0);
	ck_assert_int_eq(authres_add_verdict(out, "fail", h, h), 0);
}

/* What a value holding s reads back as: control and non-ASCII bytes become '?'. */
static void
expected_text(const char *s, char *dst, size_t dstlen)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < dstlen; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
	dst[i] = '\0';
}

START_TEST(hostile_values_cannot_inject)
{
	int al;

	for (al = 0; al < 2; al++) {
		struct buf out, vals;
		const char *why;
		char want[256];

		buf_init(&out, LIMIT_OUT_HEADER);
		buf_init(&vals, 1 << 16);
		build(&out, hostile[_i], al);
		why = check_field(buf_str(&out), &vals);
		ck_assert_msg(why == NULL, "'%s': %s in\n%s", hostile[_i], why, buf_str(&out));
		/* The authserv-id reads back as what was given. */
		expected_text(hostile[_i], want, sizeof(want));
		ck_assert_int_eq(strncmp(buf_str(&vals), want, strlen(want)), 0);
		ck_assert_int_eq(buf_str(&vals)[strlen(want)], '\n');
		/* Nothing starts a new header line. */
		ck_assert_ptr_null(strstr(buf_str(&out), "\nX-Injected"));
		ck_assert_ptr_null(strstr(buf_str(&out), "\r\n\tdkim=pass"));
		buf_release(&out);
		buf_release(&vals);
	}
}
END_TEST

START_TEST(long_and_random_values_stay_inside_the_field)
{
	uint64_t rng = 0xa7;
	int round;

	for (round = 0; round < 500; round++) {
		char h[200];
		size_t n = tu_rand_below(&rng, sizeof(h) - 1), i;
		struct buf out, vals;
		const char *why;

		for (i = 0; i < n; i++)
			h[i] = (char)(1 + tu_rand_below(&rng, 255));	/* any byte but NUL */
		h[n] = '\0';
		buf_init(&out, LIMIT_OUT_HEADER);
		buf_init(&vals, 1 << 16);
		build(&out, h, (int)(round & 1));
		why = check_field(buf_str(&out), &vals);
		ck_assert_msg(why == NULL, "round %d: %s", round, why);
		buf_release(&out);
		buf_release(&vals);
	}
}
END_TEST

START_TEST(plain_verdict_formats_as_expected)
{
	struct sig sg;
	struct dkim_verdict v;
	struct buf out, vals;

	memset(&sg, 0, sizeof(sg));
	memset(&v, 0, sizeof(v));
	str_copy(sg.d, "example.com", sizeof(sg.d));
	str_copy(sg.s, "sel", sizeof(sg.s));
	str_copy(sg.i, "@example.com", sizeof(sg.i));
	str_copy(sg.a_text, "rsa-sha256", sizeof(sg.a_text));
	str_copy(sg.b64_prefix, "abcdEFGH12345", sizeof(sg.b64_prefix));
	v.sig = &sg;
	v.status = DKIM_PASS;
	str_copy(v.reason, "good signature", sizeof(v.reason));
	v.key_type = CRYPTO_RSA;
	v.key_bits = 2048;
	buf_init(&out, LIMIT_OUT_HEADER);
	buf_init(&vals, 4096);
	ck_assert_int_eq(authres_begin(&out, "mx.example.org"), 0);
	ck_assert_int_eq(authres_add_dkim(&out, &v, NULL), 0);
	ck_assert_str_eq(buf_str(&out), "Authentication-Results: mx.example.org;\r\n"
	    "\tdkim=pass (rsa 2048-bit key) reason=\"good signature\" header.d=example.com "
	    "header.s=sel header.i=@example.com header.b=abcdEFGH1234 header.a=rsa-sha256");
	ck_assert_ptr_null(check_field(buf_str(&out), &vals));
	/* A b= prefix that is not base64 is left out rather than echoed. */
	buf_reset(&out);
	str_copy(sg.b64_prefix, "ab\"cd;ef", sizeof(sg.b64_prefix));
	ck_assert_int_eq(authres_begin(&out, "mx.example.org"), 0);
	ck_assert_int_eq(authres_add_dkim(&out, &v, NULL), 0);
	ck_assert_ptr_null(strstr(buf_str(&out), "header.b"));
	buf_release(&out);
	buf_release(&vals);
}
END_TEST

/* Signatures past the verification limit get a policy result of their own. */
START_TEST(unevaluated_signatures_are_a_policy_result)
{
	struct buf out, vals;

	buf_init(&out, 4096);
	buf_init(&vals, 4096);
	ck_assert_int_eq(authres_begin(&out, "mx.example.org"), 0);
	ck_assert_int_eq(authres_add_unevaluated(&out, 3, 32), 0);
	ck_assert_str_eq(buf_str(&out), "Authentication-Results: mx.example.org;\r\n"
	    "\tdkim=policy reason=\"3 more signatures not evaluated (limit 32)\"");
	ck_assert_ptr_null(check_field(buf_str(&out), &vals));
	buf_release(&out);
	/* Like every fragment, it fails when the field would pass its bound. */
	buf_init(&out, 60);
	ck_assert_int_eq(authres_begin(&out, "mx.example.org"), 0);
	ck_assert_int_eq(authres_add_unevaluated(&out, 3, 32), -1);
	buf_release(&out);
	buf_release(&vals);
}
END_TEST

START_TEST(full_output_buffer_is_an_error)
{
	struct buf out;

	buf_init(&out, 45);
	ck_assert_int_eq(authres_begin(&out, "mx.example.org"), 0);
	ck_assert_int_eq(authres_add_none(&out, "no signatures"), -1);
	buf_release(&out);
}
END_TEST

/* ---- authserv-id ------------------------------------------------------------ */

static const struct {
	const char *value;
	int want;
} claims[] = {
	{ "mx.example.org; dkim=pass", 1 },
	{ "  mx.example.org; dkim=pass", 1 },
	{ "\r\n\tmx.example.org;\r\n\tdkim=pass", 1 },
	{ "MX.Example.ORG; dkim=pass", 1 },
	{ "\"mx.example.org\"; dkim=pass", 1 },
	{ "mx.example.org 1; dkim=pass", 1 },
	{ "mx.example.org(comment); dkim=pass", 1 },
	{ "mx.example.org; none", 1 },
	{ "mx.example.org", 1 },
	{ "(forged) mx.example.org; dkim=pass", 1 },
	{ " (a (nested) comment)\r\n\t mx.example.org; dkim=pass", 1 },
	{ "(a \\) quoted paren) mx.example.org; dkim=pass", 1 },
	{ "mx.example.org.evil.example; dkim=pass", 0 },
	{ "evil-mx.example.org; dkim=pass", 0 },
	{ "sub.mx.example.org; dkim=pass", 0 },
	{ "mx.example.orgx; dkim=pass", 0 },
	{ "mx.example.or; dkim=pass", 0 },
	{ "other.example; dkim=pass header.d=mx.example.org", 0 },
	{ "(mx.example.org) other.example; dkim=pass", 0 },
	{ "", 0 },
	{ "(unterminated mx.example.org; dkim=pass", 0 },
	{ "mx.example.org.; dkim=pass", 1 },
	{ "MX.EXAMPLE.ORG.; dkim=pass", 1 },
	{ "\"mx.example.org.\"; dkim=pass", 1 },
	{ "mx.example.org. 1; dkim=pass", 1 },
	{ "mx.example.org.(c); dkim=pass", 1 },
	{ "mx.example.org..; dkim=pass", 0 },
	{ "mx.example.org.x; dkim=pass", 0 },
	{ "example.org(.mx.example.org; dkim=pass", 0 },
	{ "example.org(.mx.example.org); dkim=pass", 0 },
};

/* The configured id may itself be written with the root's dot. */
START_TEST(configured_id_with_trailing_dot)
{
	ck_assert_int_eq(authres_claims_id("mx.example.org; dkim=pass", "mx.example.org."), 1);
	ck_assert_int_eq(authres_claims_id("mx.example.org.; dkim=pass", "mx.example.org."), 1);
	ck_assert_int_eq(authres_claims_id("mx.example.orgx; dkim=pass", "mx.example.org."), 0);
	ck_assert_int_eq(authres_claims_id("; dkim=pass", "."), 0);
}
END_TEST

START_TEST(authserv_id_is_recognized_exactly)
{
	ck_assert_msg(authres_claims_id(claims[_i].value, "mx.example.org") == claims[_i].want,
	    "'%s'", claims[_i].value);
}
END_TEST

static Suite *
authres_suite(void)
{
	Suite *s = suite_create("authres");
	TCase *val = tu_tcase("values");
	TCase *field = tu_tcase("field");
	TCase *id = tu_tcase("authserv-id");

	tcase_add_loop_test(val, value_is_token_or_escaped_quoted_string, 0,
	    sizeof(values) / sizeof(values[0]));
	suite_add_tcase(s, val);

	tcase_add_loop_test(field, hostile_values_cannot_inject, 0,
	    sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(field, long_and_random_values_stay_inside_the_field);
	tcase_add_test(field, plain_verdict_formats_as_expected);
	tcase_add_test(field, full_output_buffer_is_an_error);
	tcase_add_test(field, unevaluated_signatures_are_a_policy_result);
	suite_add_tcase(s, field);

	tcase_add_loop_test(id, authserv_id_is_recognized_exactly, 0,
	    sizeof(claims) / sizeof(claims[0]));
	tcase_add_test(id, configured_id_with_trailing_dot);
	suite_add_tcase(s, id);
	return s;
}

int
main(void)
{
	return tu_run(authres_suite());
}
