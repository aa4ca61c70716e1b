/*
 * test_addr.c - the strict From: parser (addr.c): which fields give an
 * author domain, which give several or none, and which are refused
 * because they do not parse or their domain is not a valid domain name.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "testutil.h"

#define BAD (-1)

static const struct {
	const char *value;
	int n;			/* addresses, or BAD */
	const char *local;	/* when n == 1 */
	const char *domain;	/* when n == 1 */
} cases[] = {
	/* Good: one author. */
	{ "alice@example.com", 1, "alice", "example.com" },
	{ "  alice@example.com  ", 1, "alice", "example.com" },
	{ "Alice <alice@example.com>", 1, "alice", "example.com" },
	{ "<alice@example.com>", 1, "alice", "example.com" },
	{ "\"Doe, John\" <john@example.com>", 1, "john", "example.com" },
	{ "\"Doe, John (Sales) \\\"JD\\\"\" <john@example.com> (comment; \"x\" <y@z>)", 1,
	    "john", "example.com" },
	{ "John Q. Public <jqp@example.com>", 1, "jqp", "example.com" },
	{ "J.. Smith <js@example.com>", 1, "js", "example.com" },
	{ "alice@EXAMPLE.Com", 1, "alice", "example.com" },
	{ "Alice.Smith+tag@example.com", 1, "Alice.Smith+tag", "example.com" },
	{ "\"alice smith\"@example.com", 1, "\"alice smith\"", "example.com" },
	{ "\"a@b\"@example.com", 1, "\"a@b\"", "example.com" },
	{ "(comment) alice (more) @ (x) example.com (end)", 1, "alice", "example.com" },
	{ "Alice\r\n <alice@example.com>", 1, "alice", "example.com" },
	{ "Alice\n\t<alice@example.com>", 1, "alice", "example.com" },
	{ "Alice <\r\n alice@example.com\r\n >", 1, "alice", "example.com" },
	{ "(a (nested) comment) alice@example.com", 1, "alice", "example.com" },
	{ "Team: alice@example.com;", 1, "alice", "example.com" },
	{ "Team: Alice <alice@example.com>;  ", 1, "alice", "example.com" },
	{ "<@relay.example.net:alice@example.com>", 1, "alice", "example.com" },
	{ "alice@mail.sub.example.co.uk", 1, "alice", "mail.sub.example.co.uk" },
	{ "x@a-b.example", 1, "x", "a-b.example" },
	{ "x@123.example", 1, "x", "123.example" },
	{ "x@localhost", 1, "x", "localhost" },
	{ "J\xc3\xb6rg <joerg@example.com>", 1, "joerg", "example.com" },
	{ "=?utf-8?q?J=C3=B6rg?= <joerg@example.com>", 1, "joerg", "example.com" },
	{ "j\xc3\xb6rg@example.com", 1, "j\xc3\xb6rg", "example.com" },
	/* IDN: U-labels become A-labels, valid A-labels stay. */
	{ "x@b\xc3\xbc" "cher.example", 1, "x", "xn--bcher-kva.example" },
	{ "x@B\xc3\x9c" "CHER.example", 1, "x", "xn--bcher-kva.example" },
	{ "x@xn--bcher-kva.example", 1, "x", "xn--bcher-kva.example" },
	{ "x@XN--BCHER-KVA.example", 1, "x", "xn--bcher-kva.example" },
	{ "x@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 1, "x",
	    "xn--r8jz45g.xn--zckzah" },
	/* Several, or none. */
	{ "a@example.com, b@example.org", 2, NULL, NULL },
	{ "a@example.com, \"B\" <b@example.org>", 2, NULL, NULL },
	{ "Team: alice@example.com, bob@example.com;", 2, NULL, NULL },
	{ "a@example.com,, b@example.org", 2, NULL, NULL },
	{ "undisclosed-recipients:;", 0, NULL, NULL },
	{ "", 0, NULL, NULL },
	{ "   ", 0, NULL, NULL },
	{ "(only a comment)", 0, NULL, NULL },
	/* Refused: the field does not parse. */
	{ "alice@example.com; dkim=pass", BAD, NULL, NULL },
	{ "alice@example.com;dkim=pass", BAD, NULL, NULL },
	{ "alice@\"example.com\"", BAD, NULL, NULL },
	{ "alice@\"example.com; dkim=pass\"", BAD, NULL, NULL },
	{ "alice@exam\r\n ple.com", BAD, NULL, NULL },
	{ "alice@exam\n ple.com", BAD, NULL, NULL },
	{ "alice@example.\r\n com", BAD, NULL, NULL },
	{ "alice@example .com", BAD, NULL, NULL },
	{ "alice@example(c).com", BAD, NULL, NULL },
	{ "alice@example.com\r\nX-Injected: 1", BAD, NULL, NULL },
	{ "alice@example.com\rX", BAD, NULL, NULL },
	{ "alice@example.com\nX", BAD, NULL, NULL },
	{ "Alice <alice@example.com", BAD, NULL, NULL },
	{ "Alice alice@example.com>", BAD, NULL, NULL },
	{ "Alice <alice@example.com> trailing", BAD, NULL, NULL },
	{ "alice@example.com <bob@example.org>", BAD, NULL, NULL },
	{ "<alice@example.com> <bob@example.org>", BAD, NULL, NULL },
	{ "<>", BAD, NULL, NULL },
	{ "Alice <>", BAD, NULL, NULL },
	{ "just-a-name", BAD, NULL, NULL },
	{ "Alice Smith", BAD, NULL, NULL },
	{ "alice@", BAD, NULL, NULL },
	{ "@example.com", BAD, NULL, NULL },
	{ "alice@@example.com", BAD, NULL, NULL },
	{ "alice@[192.0.2.1]", BAD, NULL, NULL },
	{ "alice@example.com.", BAD, NULL, NULL },
	{ "alice@.example.com", BAD, NULL, NULL },
	{ "alice@example..com", BAD, NULL, NULL },
	{ "alice@exa_mple.com", BAD, NULL, NULL },
	{ "alice@exa!mple.com", BAD, NULL, NULL },
	{ "alice@exa$mple.com", BAD, NULL, NULL },
	{ "alice@-example.com", BAD, NULL, NULL },
	{ "alice@example-.com", BAD, NULL, NULL },
	{ "alice@example.com-", BAD, NULL, NULL },
	{ "alice@xn--.example", BAD, NULL, NULL },
	{ "alice@xn--abc-.example", BAD, NULL, NULL },
	{ "alice@xn--99999999999999999.example", BAD, NULL, NULL },
	{ "alice@xn--a!b.example", BAD, NULL, NULL },
	{ "alice@b\xfc" "cher.example", BAD, NULL, NULL },
	{ "alice@b\xc3" ".example", BAD, NULL, NULL },
	{ "alice@\xc0\xae.example", BAD, NULL, NULL },
	{ "alice@\xed\xa0\x80.example", BAD, NULL, NULL },
	{ "alice@\xe2\x80\x8b-.example", BAD, NULL, NULL },
	/* NFKC while lower-casing: U+2480 is "(13)", U+212A a plain "k" (fuzz_from). */
	{ "A@\xe2\x92\x80" "f", BAD, NULL, NULL },
	{ "alice@\xe2\x84\xaa.example", BAD, NULL, NULL },
	{ "alice@\xef\xbc\xa1\xef\xbc\x8e.example", BAD, NULL, NULL },
	{ "\"unterminated@example.com", BAD, NULL, NULL },
	{ "(unterminated alice@example.com", BAD, NULL, NULL },
	{ "Alice (x <alice@example.com>", BAD, NULL, NULL },
	{ "Team: alice@example.com", BAD, NULL, NULL },
	{ "Team: Inner: alice@example.com;;", BAD, NULL, NULL },
	{ "a@example.com, bad@exa_mple.com", BAD, NULL, NULL },
	{ "a@example.com, just-a-name", BAD, NULL, NULL },
	{ "<@relay.example.net alice@example.com>", BAD, NULL, NULL },
	{ "alice@example.com)", BAD, NULL, NULL },
	{ ":alice@example.com", BAD, NULL, NULL },
	{ "alice@example.com\\", BAD, NULL, NULL },
	/* U+20A8 RUPEE SIGN normalizes to "Rs", after lower-casing (fuzz_from). */
	{ "alice@\xe2\x82\xa8\xc3\xa9.example", 1, "alice", "xn--rs-cja.example" },
};

START_TEST(from_field_is_parsed_strictly)
{
	struct addr_from af;
	int n = addr_parse_from(cases[_i].value, &af);

	ck_assert_msg(n == cases[_i].n, "'%s': got %d (%s), want %d", cases[_i].value, n,
	    af.why ? af.why : "-", cases[_i].n);
	ck_assert_int_eq(af.n, n);
	if (n == 1) {
		ck_assert_str_eq(af.local, cases[_i].local);
		ck_assert_str_eq(af.domain, cases[_i].domain);
	} else
		ck_assert_str_eq(af.domain, "");
	if (n < 0)
		ck_assert_msg(af.why != NULL && af.why[0] != '\0', "'%s': no reason",
		    cases[_i].value);
}
END_TEST

/* Label and name lengths at and past the limits. */
START_TEST(domain_length_limits)
{
	char l63[64], l64[65], name[400], out[LIMIT_DOMAIN + 1];
	const char *why;
	size_t i;

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	snprintf(name, sizeof(name), "%s.example", l63);
	ck_assert_int_eq(addr_domain(name, strlen(name), out, sizeof(out), &why), 0);
	snprintf(name, sizeof(name), "%s.example", l64);
	ck_assert_int_eq(addr_domain(name, strlen(name), out, sizeof(out), &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "63"));
	/* 4 x 63 + 3 dots = 255 > 253. */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", l63, l63, l63, l63);
	ck_assert_int_eq(addr_domain(name, strlen(name), out, sizeof(out), &why), -1);
	/* 3 x 63 + 61 + 3 dots = 253: the longest name. */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	ck_assert_int_eq(addr_domain(name, strlen(name), out, sizeof(out), &why), 0);
	ck_assert_uint_eq(strlen(out), 253);
	/* A U-label whose A-label passes 63 octets. */
	name[0] = '\0';
	for (i = 0; i < 63; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 3);
	ck_assert_int_eq(addr_domain(name, strlen(name), out, sizeof(out), &why), -1);
}
END_TEST

/* Random bytes never crash the parser, and whatever parses has a clean domain. */
START_TEST(random_fields_give_clean_domains)
{
	static const char alphabet[] = "aZ09.@<>\"()\\,;: \t\r\n-_[]\xc3\xa9!";
	uint64_t seed = 20261203;
	char v[64];
	struct addr_from af;
	int round;
	size_t i;

	for (round = 0; round < 200000; round++) {
		size_t n = tu_rand_below(&seed, sizeof(v));

		for (i = 0; i < n; i++)
			v[i] = alphabet[tu_rand_below(&seed, sizeof(alphabet) - 1)];
		v[n] = '\0';
		if (addr_parse_from(v, &af) != 1)
			continue;
		for (i = 0; af.domain[i]; i++)
			TU_OK(!((af.domain[i] >= 'a' && af.domain[i] <= 'z') ||
			    (af.domain[i] >= '0' && af.domain[i] <= '9') || af.domain[i] == '-' ||
			    af.domain[i] == '.'));
		TU_OK(i == 0);
	}
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tu_tcase("from");

	tcase_add_loop_test(tc, from_field_is_parsed_strictly, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, domain_length_limits);
	tcase_add_test(tc, random_fields_give_clean_domains);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(addr_suite());
}
