/*
 * test_dns.c - the libunbound resolver (dns.c) against a real DNS server on
 * loopback (t/dns/testdns): TXT answers (several strings joined, several
 * records, CNAMEs followed), NXDOMAIN and NODATA, SERVFAIL, a timeout from a
 * server that never answers, the asynchronous start/wait/free API, the
 * bound on outstanding lookups, and raw records of other types.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "testutil.h"
#include "tu_dns.h"

static struct tu_dns server;

/* A 300-octet value: testdns splits it into strings of at most 255. */
#define LONG300 \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"01234567890123456789"

static const char records[] =
	"one.example.com\tTXT\tv=DKIM1; p=ABCD\n"
	"two.example.com\tTXT\tfirst\n"
	"two.example.com\tTXT\tsecond\n"
	"long.example.com\tTXT\t" LONG300 "\n"
	"alias.example.com\tCNAME\tone.example.com.\n"
	"addr.example.com\tA\t192.0.2.7\n";

static const struct {
	const char *name;
	enum dns_status status;
	size_t n;		/* records when DNS_OK */
	const char *txt0;	/* one of them (any order), when DNS_OK */
	/* The CNAME target the answer came from ("" for none), or NULL. */
	const char *canon;
} cases[] = {
	{ "one.example.com", DNS_OK, 1, "v=DKIM1; p=ABCD", "" },
	{ "ONE.Example.COM", DNS_OK, 1, "v=DKIM1; p=ABCD", NULL },
	{ "two.example.com", DNS_OK, 2, "second", "" },
	{ "long.example.com", DNS_OK, 1, LONG300, NULL },
	{ "alias.example.com", DNS_OK, 1, "v=DKIM1; p=ABCD", "one.example.com." },
	{ "missing.example.com", DNS_NXDOMAIN, 0, NULL, NULL },
	{ "addr.example.com", DNS_NODATA, 0, NULL, NULL },
	{ "x.broken.example", DNS_SERVFAIL, 0, NULL, NULL },
	{ "slow.example.com", DNS_TIMEOUT, 0, NULL, NULL },
};

static struct dns *
make(int timeout_ms)
{
	char err[256] = "";
	struct dns *d = dns_create(server.resolver, NULL, timeout_ms, err, sizeof(err));

	ck_assert_msg(d != NULL, "dns_create: %s", err);
	return d;
}

START_TEST(test_txt_cases)
{
	struct dns *d = make(1500);
	struct dns_result r;
	size_t i;
	int found = 0;

	dns_txt(d, cases[_i].name, &r);
	ck_assert_msg(r.status == cases[_i].status, "%s: %s, want %s (%s)", cases[_i].name,
	    dns_status_name(r.status), dns_status_name(cases[_i].status), r.why);
	if (r.status == DNS_OK) {
		ck_assert_uint_eq(r.n, cases[_i].n);
		for (i = 0; i < r.n; i++) {
			ck_assert_uint_eq(strlen(r.txt[i]), r.txtlen[i]);
			found |= strcmp(r.txt[i], cases[_i].txt0) == 0;
		}
		ck_assert_msg(found, "%s: %s not among the answers", cases[_i].name,
		    cases[_i].txt0);
		ck_assert_str_eq(r.dnssec, "insecure");
	} else
		ck_assert_msg(r.why[0] != '\0', "%s: no reason given", cases[_i].name);
	if (cases[_i].canon != NULL)
		ck_assert_str_eq(r.canon, cases[_i].canon);
	dns_result_clear(&r);
	dns_free(d);
}
END_TEST

START_TEST(test_async_many)
{
	struct dns *d = make(3000);
	struct dns_query *q[16];
	size_t i;

	for (i = 0; i < 16; i++)
		q[i] = dns_txt_start(d, i % 2 ? "one.example.com" : "missing.example.com");
	for (i = 0; i < 16; i++) {
		const struct dns_result *r = dns_query_wait(q[i]);

		ck_assert_int_eq(r->status, i % 2 ? DNS_OK : DNS_NXDOMAIN);
	}
	for (i = 0; i < 16; i++)
		dns_query_free(q[i]);
	dns_free(d);
}
END_TEST

START_TEST(test_timeout_bounded)
{
	struct dns *d = make(800);
	struct timespec t0, t1;
	struct dns_result r;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	dns_txt(d, "other.slow.example.com", &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(r.status, DNS_TIMEOUT);
	/* The wait ends at the timeout, not at libunbound's own retries. */
	ck_assert_msg(s < 5.0, "waited %.1f s for an 0.8 s timeout", s);
	dns_result_clear(&r);
	dns_free(d);
}
END_TEST

START_TEST(test_max_outstanding)
{
	struct dns *d = make(1500);
	struct dns_query *q1, *q2;
	const struct dns_result *r;

	dns_set_max_outstanding(d, 1);
	q1 = dns_txt_start(d, "a.slow.example.com");
	q2 = dns_txt_start(d, "one.example.com");
	r = dns_query_wait(q2);
	ck_assert_int_eq(r->status, DNS_ERROR);
	ck_assert_ptr_nonnull(strstr(r->why, "too many DNS lookups outstanding"));
	ck_assert_uint_ge(dns_refused(d), 1);
	ck_assert_int_eq(dns_query_wait(q1)->status, DNS_TIMEOUT);
	dns_query_free(q1);
	dns_query_free(q2);
	dns_free(d);
}
END_TEST

START_TEST(test_query_type_a)
{
	struct dns *d = make(1500);
	struct dns_result r;

	dns_query_type(d, "addr.example.com", 1, &r);
	ck_assert_int_eq(r.status, DNS_OK);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.txtlen[0], 4);
	ck_assert_mem_eq(r.txt[0], "\xc0\x00\x02\x07", 4);
	dns_result_clear(&r);
	dns_query_type(d, "alias.example.com", 5, &r);
	ck_assert_int_eq(r.status, DNS_OK);
	ck_assert_uint_eq(r.n, 1);
	/* one.example.com. in wire format. */
	ck_assert_uint_eq(r.txtlen[0], 17);
	ck_assert_mem_eq(r.txt[0], "\3one\7example\3com\0", 17);
	dns_result_clear(&r);
	dns_free(d);
}
END_TEST

START_TEST(test_status_names)
{
	ck_assert_str_eq(dns_status_name(DNS_OK), "ok");
	ck_assert_str_eq(dns_status_name(DNS_NXDOMAIN), "nxdomain");
	ck_assert_str_eq(dns_status_name(DNS_TIMEOUT), "timeout");
}
END_TEST

START_TEST(test_bad_resolver)
{
	char err[256] = "";
	struct dns *d = dns_create("not an address", NULL, 1000, err, sizeof(err));

	ck_assert_ptr_null(d);
	ck_assert_msg(err[0] != '\0', "no reason given");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tu_tcase("dns");
	int rc = tu_dns_start(&server, records,
	    "--servfail broken.example --blackhole slow.example.com");

	if (rc != 0) {
		tu_dns_stop(&server);
		return rc == 77 ? 77 : EXIT_FAILURE;
	}
	tcase_add_loop_test(tc, test_txt_cases, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_async_many);
	tcase_add_test(tc, test_timeout_bounded);
	tcase_add_test(tc, test_max_outstanding);
	tcase_add_test(tc, test_query_type_a);
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_bad_resolver);
	suite_add_tcase(s, tc);
	rc = tu_run(s);
	tu_dns_stop(&server);
	return rc;
}
