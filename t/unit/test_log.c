/*
 * test_log.c - log lines: a value with line breaks or other control
 * characters cannot end the line or start a forged one (the milter fuzz
 * harness found MTA macros such as {auth_authen} and the queue id carried
 * into log lines with their line breaks).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

static const struct {
	const char *value;
	const char *line;
} cases[] = {
	{ "alice", "dkimgate[info]: user=alice end\n" },
	{ "alice\r\nABC123: signed", "dkimgate[info]: user=alice??ABC123: signed end\n" },
	{ "a\nb", "dkimgate[info]: user=a?b end\n" },
	{ "tab\there\x7f\x01", "dkimgate[info]: user=tab?here?? end\n" },
	{ "caf\xc3\xa9", "dkimgate[info]: user=caf\xc3\xa9 end\n" },
};

START_TEST(control_characters_do_not_break_the_line)
{
	char path[4096], got[512];
	const char *tmp = getenv("TMPDIR");
	int fd, saved;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/test_log.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_int_ge(fd = mkstemp(path), 0);
	fflush(stderr);
	ck_assert_int_ge(saved = dup(2), 0);
	ck_assert_int_ge(dup2(fd, 2), 0);
	log_open("dkimgate", 1);
	log_msg(LOG_INFO, "user=%s end", cases[_i].value);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "r"));
	rewind(fp);
	n = fread(got, 1, sizeof(got) - 1, fp);
	got[n] = '\0';
	fclose(fp);
	unlink(path);
	ck_assert_str_eq(got, cases[_i].line);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tu_tcase("lines");

	tcase_add_loop_test(tc, control_characters_do_not_break_the_line, 0,
	    sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(log_suite());
}
