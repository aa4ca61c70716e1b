/*
 * test_align.c - identifier alignment (align.c): strict and relaxed
 * alignment of d= with the From: domain, Organizational Domains from the
 * public suffix list (the system file and the list built into libpsl),
 * the author domain of a From: field, and adkim= from a DMARC record.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "testutil.h"

#define PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

static const struct {
	const char *d, *from;
	int strict, relaxed;
} pairs[] = {
	{ "example.com", "example.com", 1, 1 },
	{ "EXAMPLE.com", "example.com", 1, 1 },
	{ "example.com.", "example.com", 1, 1 },
	{ "example.com", "mail.example.com", 0, 1 },
	{ "mail.example.com", "example.com", 0, 1 },
	{ "a.example.com", "b.example.com", 0, 1 },
	{ "Mail.Example.COM.", "news.example.com", 0, 1 },
	{ "example.co.uk", "mail.example.co.uk", 0, 1 },
	{ "other.co.uk", "example.co.uk", 0, 0 },
	{ "co.uk", "example.co.uk", 0, 0 },
	{ "example.org", "example.com", 0, 0 },
	{ "examplecom", "example.com", 0, 0 },
	{ "xample.com", "example.com", 0, 0 },
	{ "example.com.evil.test", "example.com", 0, 0 },
	{ "com", "example.com", 0, 0 },
};

static const struct {
	const char *domain;
	const char *org;	/* NULL: none */
} orgs[] = {
	{ "example.com", "example.com" },
	{ "a.b.c.example.com", "example.com" },
	{ "mail.example.co.uk", "example.co.uk" },
	{ "x.city.kawasaki.jp", "city.kawasaki.jp" },
	{ "com", NULL },
	{ "co.uk", NULL },
};

static const struct {
	const char *record;
	int rc;
	char adkim;
} dmarc[] = {
	{ "v=DMARC1; p=none", 0, 'r' },
	{ "v=DMARC1; p=reject; adkim=s", 0, 's' },
	{ "v=DMARC1;adkim=s;p=none", 0, 's' },
	{ "v=DMARC1; adkim=r", 0, 'r' },
	{ "v=DMARC1; adkim=x", 0, 'r' },
	{ "p=none; v=DMARC1; adkim=s", -1, 'r' },
	{ "v=spf1 -all", -1, 'r' },
	{ "", -1, 'r' },
	{ "v=DMARC1; adkim=s; p", -1, 'r' },
};

static const struct {
	const char *from;
	int n;
	const char *addr, *domain;
} froms[] = {
	{ "Alice <alice@Example.COM>", 1, "alice@example.com", "example.com" },
	{ "bob@mail.example.org (Bob)", 1, "bob@mail.example.org", "mail.example.org" },
	{ "a@example.com, b@example.org", 2, NULL, NULL },
	{ "undisclosed-recipients:;", 0, NULL, NULL },
	{ "alice@example.com; dkim=pass", -1, NULL, NULL },
};

static struct align *
make(int builtin)
{
	struct align *a = align_create(builtin ? NULL : PSL_FILE);

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(align_psl_source(a), builtin ? "built-in" : "file");
	return a;
}

START_TEST(test_pairs)
{
	/* _i: case * 2 + which list. */
	struct align *a = make(_i % 2);
	size_t i = (size_t)_i / 2;

	ck_assert_msg(align_strict(pairs[i].d, pairs[i].from) == pairs[i].strict,
	    "strict %s ~ %s", pairs[i].d, pairs[i].from);
	ck_assert_msg(align_relaxed(a, pairs[i].d, pairs[i].from) == pairs[i].relaxed,
	    "relaxed %s ~ %s (%s list)", pairs[i].d, pairs[i].from, align_psl_source(a));
	align_free(a);
}
END_TEST

START_TEST(test_org_domains)
{
	struct align *a = make(_i % 2);
	size_t i = (size_t)_i / 2;
	char out[LIMIT_DOMAIN + 1];
	int rc = align_org_domain(a, orgs[i].domain, out, sizeof(out));

	if (orgs[i].org == NULL)
		ck_assert_msg(rc == -1, "%s has an organizational domain %s", orgs[i].domain,
		    out);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, orgs[i].org);
	}
	align_free(a);
}
END_TEST

START_TEST(test_dmarc_adkim)
{
	char adkim = '?';
	int rc = align_dmarc_adkim(dmarc[_i].record, strlen(dmarc[_i].record), &adkim);

	ck_assert_msg(rc == dmarc[_i].rc, "'%s': %d", dmarc[_i].record, rc);
	ck_assert_int_eq(adkim, dmarc[_i].adkim);
}
END_TEST

START_TEST(test_from)
{
	char addr[LIMIT_DOMAIN + 80] = "", domain[LIMIT_DOMAIN + 1] = "";
	int n = align_from(froms[_i].from, addr, sizeof(addr), domain, sizeof(domain));

	ck_assert_msg(n == froms[_i].n, "'%s': %d addresses", froms[_i].from, n);
	if (n == 1) {
		ck_assert_str_eq(addr, froms[_i].addr);
		ck_assert_str_eq(domain, froms[_i].domain);
	}
}
END_TEST

START_TEST(test_unreadable_list_falls_back)
{
	struct align *a = align_create("/nonexistent/public_suffix_list.dat");

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(align_psl_source(a), "built-in");
	ck_assert_int_eq(align_relaxed(a, "a.example.com", "b.example.com"), 1);
	align_free(a);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int
main(void)
{
	Suite *s = suite_create("align");
	TCase *tc = tu_tcase("align");

	tcase_add_loop_test(tc, test_pairs, 0, 2 * N(pairs));
	tcase_add_loop_test(tc, test_org_domains, 0, 2 * N(orgs));
	tcase_add_loop_test(tc, test_dmarc_adkim, 0, N(dmarc));
	tcase_add_loop_test(tc, test_from, 0, N(froms));
	tcase_add_test(tc, test_unreadable_list_falls_back);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
