/*
 * test_metrics.c - counters, gauges and histograms count exactly (also
 * from several threads at once), the exposition text has the shape the
 * Prometheus text format wants, per-key gauges stay within their top N
 * with problems first, and the listen address parser takes what
 * dkimgate.conf(5) says and refuses the rest.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_addr.h"
#include "testutil.h"

/* The whole exposition text; the caller frees it. */
static char *
render(void)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	ck_assert_int_eq(metrics_write(&b), 0);
	return buf_steal(&b);
}

/* 1 when text holds line as one whole line. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

START_TEST(counters_count_exactly_and_ignore_unknown_labels)
{
	char *t;

	metrics_reset();
	metrics_inc(MC_MESSAGES, MD_SIGN);
	metrics_inc(MC_MESSAGES, MD_SIGN);
	metrics_inc(MC_MESSAGES, MD_PASS_UNSIGNED);
	metrics_add(MC_AR_REMOVED, 0, 40);
	metrics_inc(MC_MESSAGES, 3);		/* no such label: ignored */
	metrics_inc(MC__COUNT, 0);		/* no such family: ignored */
	metrics_inc(MC_DNS_ANSWERS, MQ_TIMEOUT);
	ck_assert_uint_eq(metrics_counter_value(MC_MESSAGES, MD_SIGN), 2);
	ck_assert_uint_eq(metrics_counter_value(MC_MESSAGES, MD_VERIFY), 0);
	t = render();
	ck_assert(has_line(t, "dkimgate_messages_total{decision=\"sign\"} 2"));
	ck_assert(has_line(t, "dkimgate_messages_total{decision=\"verify\"} 0"));
	ck_assert(has_line(t, "dkimgate_messages_total{decision=\"pass-unsigned\"} 1"));
	ck_assert(has_line(t, "dkimgate_authres_removed_total 40"));
	ck_assert(has_line(t, "dkimgate_dns_answers_total{status=\"timeout\"} 1"));
	ck_assert(has_line(t, "# TYPE dkimgate_messages_total counter"));
	free(t);
}
END_TEST

START_TEST(gauges_go_up_and_down_and_can_be_set)
{
	char *t;

	metrics_reset();
	metrics_gauge_add(MG_DNS_INFLIGHT, 3);
	metrics_gauge_add(MG_DNS_INFLIGHT, -2);
	metrics_gauge_set(MG_START_TIME, 1796000000);
	metrics_set_version("9.9.9-test");
	ck_assert_int_eq(metrics_gauge_value(MG_DNS_INFLIGHT), 1);
	t = render();
	ck_assert(has_line(t, "dkimgate_dns_in_flight 1"));
	ck_assert(has_line(t, "dkimgate_process_start_time_seconds 1796000000"));
	ck_assert(has_line(t, "dkimgate_build_info{version=\"9.9.9-test\"} 1"));
	ck_assert(has_line(t, "# TYPE dkimgate_messages_in_flight gauge"));
	free(t);
}
END_TEST

#define THREADS 4
#define PER_THREAD 200000

static void *
hammer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < PER_THREAD; i++) {
		metrics_inc(MC_VERIFY_RESULTS, MV_PASS);
		metrics_gauge_add(MG_MSG_INFLIGHT, 1);
		metrics_gauge_add(MG_MSG_INFLIGHT, -1);
		metrics_observe(MH_DNS, (uint64_t)i % 3000);
	}
	return NULL;
}

START_TEST(counting_from_many_threads_loses_nothing)
{
	pthread_t t[THREADS];
	int i;

	metrics_reset();
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(metrics_counter_value(MC_VERIFY_RESULTS, MV_PASS),
	    (uint64_t)THREADS * PER_THREAD);
	ck_assert_int_eq(metrics_gauge_value(MG_MSG_INFLIGHT), 0);
	ck_assert_uint_eq(metrics_hist_count(MH_DNS), (uint64_t)THREADS * PER_THREAD);
}
END_TEST

START_TEST(histogram_buckets_are_cumulative_with_inclusive_bounds)
{
	char *t;

	metrics_reset();
	metrics_observe(MH_EOM_SIGN, 400);	/* <= 0.0005 */
	metrics_observe(MH_EOM_SIGN, 500);	/* exactly on the bound: le is inclusive */
	metrics_observe(MH_EOM_SIGN, 501);	/* <= 0.001 */
	metrics_observe(MH_EOM_SIGN, 20000000);	/* past every bound: +Inf only */
	metrics_observe(MH_EOM_VERIFY, 3000000);	/* the other series of the family */
	t = render();
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_bucket{mode=\"sign\",le=\"0.0005\"} 2"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_bucket{mode=\"sign\",le=\"0.001\"} 3"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_bucket{mode=\"sign\",le=\"10\"} 3"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_bucket{mode=\"sign\",le=\"+Inf\"} 4"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_count{mode=\"sign\"} 4"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_sum{mode=\"sign\"} 20.001401"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_bucket{mode=\"verify\",le=\"2.5\"} 0"));
	ck_assert(has_line(t, "dkimgate_eom_duration_seconds_bucket{mode=\"verify\",le=\"5\"} 1"));
	ck_assert(has_line(t, "dkimgate_dns_lookup_duration_seconds_bucket{le=\"+Inf\"} 0"));
	ck_assert(has_line(t, "dkimgate_dns_lookup_duration_seconds_sum 0.000000"));
	/* One HELP/TYPE pair for the family, not one per series. */
	ck_assert_ptr_null(strstr(strstr(t, "# TYPE dkimgate_eom_duration_seconds histogram") + 1,
	    "# TYPE dkimgate_eom_duration_seconds "));
	free(t);
}
END_TEST

START_TEST(every_line_is_a_comment_or_a_sample)
{
	regex_t sample, comment;
	struct metrics_keys *mk = metrics_keys_create(4);
	char *t, *line, *nl;
	int n = 0;

	metrics_reset();
	ck_assert_int_eq(regcomp(&sample, "^[a-z_]+(\\{([a-z_]+=\"([^\"\\\\]|\\\\.)*\",?)+\\})? "
	    "(-?[0-9]+(\\.[0-9]+)?)$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(regcomp(&comment, "^# (HELP [a-z_]+ .+|TYPE [a-z_]+ "
	    "(counter|gauge|histogram))$", REG_EXTENDED | REG_NOSUB), 0);
	metrics_keys_add(mk, "quote\"back\\slash", MKS_MISSING, MRO_WAITING);
	metrics_keys_publish(mk);
	t = render();
	for (line = t; *line != '\0'; line = nl + 1, n++) {
		ck_assert_ptr_nonnull(nl = strchr(line, '\n'));	/* every line ends */
		*nl = '\0';
		if (regexec(&sample, line, 0, NULL, 0) != 0 &&
		    regexec(&comment, line, 0, NULL, 0) != 0)
			ck_abort_msg("not a sample or comment line: '%s'", line);
	}
	ck_assert_int_gt(n, 100);
	regfree(&sample);
	regfree(&comment);
	free(t);
}
END_TEST

START_TEST(key_ids_are_escaped_in_labels)
{
	struct metrics_keys *mk = metrics_keys_create(4);
	char *t;

	metrics_reset();
	ck_assert_int_eq(metrics_keys_add(mk, "a\"b\\c\nd", MKS_MISMATCH, MRO_NONE), 0);
	metrics_keys_publish(mk);
	t = render();
	ck_assert(has_line(t, "dkimgate_key_state{key=\"a\\\"b\\\\c\\nd\",state=\"mismatch\"} 1"));
	ck_assert(has_line(t, "dkimgate_key_state{key=\"a\\\"b\\\\c\\nd\",state=\"ok\"} 0"));
	free(t);
}
END_TEST

START_TEST(per_key_gauges_keep_top_n_problems_first)
{
	struct metrics_keys *mk = metrics_keys_create(2);
	char *t;

	metrics_reset();
	metrics_keys_add(mk, "ok1", MKS_OK, MRO_NONE);
	metrics_keys_add(mk, "ok2", MKS_OK, MRO_WAITING);
	metrics_keys_add(mk, "missing3", MKS_MISSING, MRO_NONE);
	metrics_keys_add(mk, "ok4", MKS_OK, MRO_NONE);
	metrics_keys_add(mk, "mismatch5", MKS_MISMATCH, MRO_NONE);
	metrics_keys_add(mk, "missing6", MKS_MISSING, MRO_NONE);	/* no room left */
	metrics_keys_publish(mk);
	t = render();
	/* Counted in full... */
	ck_assert(has_line(t, "dkimgate_keys{state=\"ok\"} 3"));
	ck_assert(has_line(t, "dkimgate_keys{state=\"missing\"} 2"));
	ck_assert(has_line(t, "dkimgate_keys{state=\"mismatch\"} 1"));
	ck_assert(has_line(t, "dkimgate_key_rotations{state=\"waiting\"} 1"));
	/* ...listed at most two, the first problems having pushed the fine keys out. */
	ck_assert(has_line(t, "dkimgate_key_state{key=\"missing3\",state=\"missing\"} 1"));
	ck_assert(has_line(t, "dkimgate_key_state{key=\"mismatch5\",state=\"mismatch\"} 1"));
	ck_assert_ptr_null(strstr(t, "key=\"ok1\""));
	ck_assert_ptr_null(strstr(t, "key=\"ok2\""));
	ck_assert_ptr_null(strstr(t, "key=\"missing6\""));
	free(t);
	/* No per-key series at all with metrics_keys = 0. */
	mk = metrics_keys_create(0);
	metrics_keys_add(mk, "k", MKS_MISSING, MRO_NONE);
	metrics_keys_publish(mk);
	t = render();
	ck_assert(has_line(t, "dkimgate_keys{state=\"missing\"} 1"));
	ck_assert_ptr_null(strstr(t, "key=\""));
	free(t);
}
END_TEST

START_TEST(rotation_moves_a_key_between_states)
{
	struct metrics_keys *mk = metrics_keys_create(8);
	char *t;

	metrics_reset();
	metrics_keys_add(mk, "com", MKS_OK, MRO_WAITING);
	metrics_keys_add(mk, "org", MKS_OK, MRO_WAITING);
	metrics_keys_publish(mk);
	metrics_keys_rotation("com", MRO_WAITING, MRO_SWITCHED);
	t = render();
	ck_assert(has_line(t, "dkimgate_key_rotations{state=\"waiting\"} 1"));
	ck_assert(has_line(t, "dkimgate_key_rotations{state=\"switched\"} 1"));
	ck_assert(has_line(t, "dkimgate_key_rotation_state{key=\"com\",state=\"switched\"} 1"));
	ck_assert(has_line(t, "dkimgate_key_rotation_state{key=\"com\",state=\"waiting\"} 0"));
	ck_assert(has_line(t, "dkimgate_key_rotation_state{key=\"org\",state=\"waiting\"} 1"));
	free(t);
}
END_TEST

START_TEST(text_over_the_buffer_maximum_is_an_error)
{
	struct buf b;

	metrics_reset();
	buf_init(&b, 200);
	ck_assert_int_eq(metrics_write(&b), -1);
	buf_release(&b);
}
END_TEST

static const struct {
	const char *spec;
	int ok, loopback, family, port;
	const char *host;
} addr_cases[] = {
	{ "127.0.0.1:9591", 1, 1, AF_INET, 9591, "127.0.0.1" },
	{ "127.1.2.3:1", 1, 1, AF_INET, 1, "127.1.2.3" },
	{ "localhost:9591", 1, 1, AF_INET, 9591, "127.0.0.1" },
	{ "[::1]:65535", 1, 1, AF_INET6, 65535, "::1" },
	{ "[::ffff:127.0.0.1]:80", 1, 1, AF_INET6, 80, "::ffff:127.0.0.1" },
	{ "0.0.0.0:9591", 1, 0, AF_INET, 9591, "0.0.0.0" },
	{ "192.0.2.1:9591", 1, 0, AF_INET, 9591, "192.0.2.1" },
	{ "[2001:db8::1]:9591", 1, 0, AF_INET6, 9591, "2001:db8::1" },
	{ "[::]:9591", 1, 0, AF_INET6, 9591, "::" },
	{ "9591", 0, 0, 0, 0, NULL },
	{ "127.0.0.1", 0, 0, 0, 0, NULL },
	{ "127.0.0.1:", 0, 0, 0, 0, NULL },
	{ "127.0.0.1:0", 0, 0, 0, 0, NULL },
	{ "127.0.0.1:65536", 0, 0, 0, 0, NULL },
	{ "127.0.0.1:95a1", 0, 0, 0, 0, NULL },
	{ "127.0.0.1:-1", 0, 0, 0, 0, NULL },
	{ ":9591", 0, 0, 0, 0, NULL },
	{ "::1:9591", 0, 0, 0, 0, NULL },
	{ "[::1]9591", 0, 0, 0, 0, NULL },
	{ "[::1:9591", 0, 0, 0, 0, NULL },
	{ "[127.0.0.1]:9591", 0, 0, 0, 0, NULL },
	{ "metrics.example.com:9591", 0, 0, 0, 0, NULL },
	{ "", 0, 0, 0, 0, NULL },
};

START_TEST(listen_addresses_parse_or_are_refused)
{
	struct metrics_addr a;
	char err[256] = "";
	int rc = metrics_addr_parse(addr_cases[_i].spec, &a, err, sizeof(err));

	if (!addr_cases[_i].ok) {
		ck_assert_msg(rc == -1, "'%s' accepted", addr_cases[_i].spec);
		ck_assert_msg(err[0] != '\0', "'%s': no reason given", addr_cases[_i].spec);
		return;
	}
	ck_assert_msg(rc == 0, "'%s' refused: %s", addr_cases[_i].spec, err);
	ck_assert_int_eq(a.loopback, addr_cases[_i].loopback);
	ck_assert_int_eq(a.family, addr_cases[_i].family);
	ck_assert_int_eq(a.port, addr_cases[_i].port);
	ck_assert_str_eq(a.host, addr_cases[_i].host);
	ck_assert_int_eq(a.sa.ss_family, addr_cases[_i].family);
	ck_assert_int_eq(ntohs(a.family == AF_INET ?
	    ((struct sockaddr_in *)(void *)&a.sa)->sin_port :
	    ((struct sockaddr_in6 *)(void *)&a.sa)->sin6_port), addr_cases[_i].port);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tu_tcase("core");

	tcase_add_test(tc, counters_count_exactly_and_ignore_unknown_labels);
	tcase_add_test(tc, gauges_go_up_and_down_and_can_be_set);
	tcase_add_test(tc, counting_from_many_threads_loses_nothing);
	tcase_add_test(tc, histogram_buckets_are_cumulative_with_inclusive_bounds);
	tcase_add_test(tc, every_line_is_a_comment_or_a_sample);
	tcase_add_test(tc, key_ids_are_escaped_in_labels);
	tcase_add_test(tc, per_key_gauges_keep_top_n_problems_first);
	tcase_add_test(tc, rotation_moves_a_key_between_states);
	tcase_add_test(tc, text_over_the_buffer_maximum_is_an_error);
	tcase_add_loop_test(tc, listen_addresses_parse_or_are_refused, 0,
	    sizeof(addr_cases) / sizeof(addr_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(metrics_suite());
}
