/*
 * test_dns.c - the libunbound resolver (dns.c) against a real DNS server on
 * loopback (t/dns/testdns): TXT answers (several strings joined, several
 * records, CNAMEs followed), NXDOMAIN and NODATA, SERVFAIL, a timeout from a
 * server that never answers, the asynchronous start/wait/free API, the
 * bound on outstanding lookups, identical lookups joining the one in flight
 * (also after their callers went away), and raw records of other types.
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
	/*
	 * Also accepted: a server that never answers ends as a timeout, or as
	 * the SERVFAIL libunbound makes of it when its own retries give up
	 * first (which a loaded machine can bring about).
	 */
	enum dns_status alt;
	size_t n;		/* records when DNS_OK */
	const char *txt0;	/* one of them (any order), when DNS_OK */
	/* The CNAME target the answer came from ("" for none), or NULL. */
	const char *canon;
} cases[] = {
	{ "one.example.com", DNS_OK, DNS_OK, 1, "v=DKIM1; p=ABCD", "" },
	{ "ONE.Example.COM", DNS_OK, DNS_OK, 1, "v=DKIM1; p=ABCD", NULL },
	{ "two.example.com", DNS_OK, DNS_OK, 2, "second", "" },
	{ "long.example.com", DNS_OK, DNS_OK, 1, LONG300, NULL },
	{ "alias.example.com", DNS_OK, DNS_OK, 1, "v=DKIM1; p=ABCD", "one.example.com." },
	{ "missing.example.com", DNS_NXDOMAIN, DNS_NXDOMAIN, 0, NULL, NULL },
	{ "addr.example.com", DNS_NODATA, DNS_NODATA, 0, NULL, NULL },
	{ "x.broken.example", DNS_SERVFAIL, DNS_SERVFAIL, 0, NULL, NULL },
	{ "slow.example.com", DNS_TIMEOUT, DNS_SERVFAIL, 0, NULL, NULL },
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
	ck_assert_msg(r.status == cases[_i].status || r.status == cases[_i].alt,
	    "%s: %s, want %s (%s)", cases[_i].name,
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
	ck_assert_msg(r.status == DNS_TIMEOUT || r.status == DNS_SERVFAIL, "%s",
	    dns_status_name(r.status));
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
	r = dns_query_wait(q1);
	ck_assert_msg(r->status == DNS_TIMEOUT || r->status == DNS_SERVFAIL, "%s",
	    dns_status_name(r->status));
	dns_query_free(q1);
	dns_query_free(q2);
	dns_free(d);
}
END_TEST

static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Callers that went away (aborted messages) leave one lookup in flight per
 * question, not one each, and it does not count against the bound twice:
 * the next caller asking the same question (in any letter case, with or
 * without the final dot) joins it and waits its own timeout; different
 * questions still meet the bound.
 */
START_TEST(test_join_abandoned)
{
	static const char *const spell[] = { "dead.slow.example.com", "DEAD.slow.Example.COM",
	    "dead.slow.example.com." };
	struct dns *d = make(1000);
	struct dns_query *q, *q2, *q3;
	const struct dns_result *r;
	struct timespec t0;
	double s;
	int i;

	dns_set_max_outstanding(d, 2);
	for (i = 0; i < 60; i++)
		dns_query_free(dns_txt_start(d, spell[i % 3]));
	ck_assert_int_eq(dns_outstanding(d), 1);
	ck_assert_uint_eq(dns_joined(d), 59);
	ck_assert_uint_eq(dns_refused(d), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	q = dns_txt_start(d, "Dead.Slow.Example.Com");
	ck_assert_int_eq(dns_outstanding(d), 1);
	/* A second question fits the bound of 2; a third does not. */
	q2 = dns_txt_start(d, "other.slow.example.com");
	ck_assert_int_eq(dns_outstanding(d), 2);
	q3 = dns_txt_start(d, "third.slow.example.com");
	r = dns_query_wait(q3);
	ck_assert_int_eq(r->status, DNS_ERROR);
	ck_assert_ptr_nonnull(strstr(r->why, "too many DNS lookups outstanding"));
	ck_assert_uint_eq(dns_refused(d), 1);
	r = dns_query_wait(q);
	s = since(&t0);
	ck_assert_msg(r->status == DNS_TIMEOUT, "joined lookup: %s (%s)",
	    dns_status_name(r->status), r->why);
	/* Its own deadline: neither refused at once nor held past the timeout. */
	ck_assert_msg(s > 0.9 && s < 2.0, "joined lookup ended after %.2f s", s);
	dns_query_free(q);
	dns_query_free(q2);
	dns_query_free(q3);
	dns_free(d);
}
END_TEST

/*
 * Several callers of one question each get the whole answer as a copy of
 * their own, also when one of them leaves before it comes; a different
 * type or record format of the same name is a question of its own.
 */
START_TEST(test_join_answer)
{
	struct dns *d = make(3000);
	struct dns_query *q[8];
	struct dns_result raw;
	unsigned long joined;
	size_t i, k;
	int tries;

	/*
	 * Joining needs the answer to be still on its way when the next
	 * caller asks, which a loaded machine may not give every time.
	 */
	for (tries = 0; tries < 50; tries++) {
		for (i = 0; i < 8; i++)
			q[i] = dns_txt_start(d, i % 2 ? "two.example.com" : "TWO.example.com.");
		if (dns_joined(d) > 0)
			break;
		for (i = 0; i < 8; i++)
			dns_query_free(q[i]);
	}
	ck_assert_msg(dns_joined(d) > 0, "no lookup joined another in %d tries", tries);
	dns_query_free(q[3]);
	q[3] = NULL;
	for (i = 0; i < 8; i++) {
		const struct dns_result *r;
		int first = 0, second = 0;

		if (q[i] == NULL)
			continue;
		r = dns_query_wait(q[i]);
		ck_assert_int_eq(r->status, DNS_OK);
		ck_assert_uint_eq(r->n, 2);
		for (k = 0; k < r->n; k++) {
			first |= strcmp(r->txt[k], "first") == 0;
			second |= strcmp(r->txt[k], "second") == 0;
			if (i > 0)
				ck_assert_ptr_ne(r->txt[k], dns_query_wait(q[0])->txt[k]);
		}
		ck_assert(first && second);
	}
	for (i = 0; i < 8; i++)
		dns_query_free(q[i]);
	ck_assert_int_eq(dns_outstanding(d), 0);
	joined = dns_joined(d);
	/* TXT as raw rdata is not the joined TXT text: a query of its own. */
	q[0] = dns_txt_start(d, "one.example.com");
	dns_query_type(d, "one.example.com", 16, &raw);
	ck_assert_int_eq(raw.status, DNS_OK);
	ck_assert_uint_eq(raw.txtlen[0], strlen("v=DKIM1; p=ABCD") + 1);
	ck_assert_uint_eq(dns_joined(d), joined);
	ck_assert_int_eq(dns_query_wait(q[0])->status, DNS_OK);
	dns_query_free(q[0]);
	dns_result_clear(&raw);
	dns_free(d);
}
END_TEST

/*
 * A timeout as short as an answer's round trip: waiters give up while the
 * callback delivers, in every order, and callers free their queries before
 * or after the answer. Nothing may be freed twice or read after its free
 * (run it in the sanitizer build), every wait ends ok or timeout, and the
 * lookups all leave the resolver.
 */
START_TEST(test_timeout_races_answer)
{
	struct dns *d = make(1);
	struct dns_query *q[4];
	struct timespec t0;
	int i, k, ok = 0, late = 0;

	for (i = 0; i < 500; i++) {
		const char *name = i % 3 ? "one.example.com" : "two.example.com";

		for (k = 0; k < 4; k++)
			q[k] = dns_txt_start(d, name);
		if (i % 2)
			dns_query_free(q[0]);
		for (k = i % 2; k < 4; k++) {
			const struct dns_result *r = dns_query_wait(q[k]);

			ck_assert_msg(r->status == DNS_OK || r->status == DNS_TIMEOUT,
			    "%s: %s (%s)", name, dns_status_name(r->status), r->why);
			ok += r->status == DNS_OK;
			late += r->status == DNS_TIMEOUT;
			if (k == 2)
				dns_query_free(q[k]);
		}
		for (k = i % 2; k < 4; k++)
			if (k != 2)
				dns_query_free(q[k]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (dns_outstanding(d) > 0 && since(&t0) < 5.0)
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	ck_assert_int_eq(dns_outstanding(d), 0);
	ck_assert_int_eq(ok + late, 500 * 4 - 250);
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
	tcase_add_test(tc, test_join_abandoned);
	tcase_add_test(tc, test_join_answer);
	tcase_add_test(tc, test_timeout_races_answer);
	tcase_add_test(tc, test_query_type_a);
	tcase_add_test(tc, test_status_names);
	tcase_add_test(tc, test_bad_resolver);
	suite_add_tcase(s, tc);
	rc = tu_run(s);
	tu_dns_stop(&server);
	return rc;
}
