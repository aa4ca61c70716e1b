/*
 * test_buf.c - the bounded builder: ceilings hold, contents stay terminated,
 * and a failed append leaves the buffer as it was.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "testutil.h"

START_TEST(append_up_to_the_maximum_and_not_past_it)
{
	struct buf b;

	buf_init(&b, 10);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(buf_putc(&b, 'x'), -1);
	ck_assert_int_eq(buf_append(&b, "", 0), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 1), -1);
	ck_assert_str_eq(buf_str(&b), "0123456789");
	ck_assert_uint_eq(b.len, 10);
	buf_release(&b);
}
END_TEST

START_TEST(failed_append_leaves_contents_unchanged)
{
	struct buf *b = buf_create(8);

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(buf_puts(b, "abc"), 0);
	ck_assert_int_eq(buf_puts(b, "defghi"), -1);
	ck_assert_str_eq(buf_str(b), "abc");
	ck_assert_int_eq(buf_printf(b, "%s", "123456"), -1);
	ck_assert_str_eq(buf_str(b), "abc");
	ck_assert_int_eq(buf_printf(b, "%s%d", "de", 7), 0);
	ck_assert_str_eq(buf_str(b), "abcde7");
	buf_free(b);
	buf_free(NULL);
}
END_TEST

START_TEST(huge_length_does_not_wrap_around)
{
	struct buf b;

	buf_init(&b, 100);
	ck_assert_int_eq(buf_puts(&b, "x"), 0);
	ck_assert_int_eq(buf_append(&b, "y", (size_t)-1), -1);
	ck_assert_int_eq(buf_append(&b, "y", (size_t)-1 - 1), -1);
	ck_assert_str_eq(buf_str(&b), "x");
	buf_release(&b);
}
END_TEST

START_TEST(binary_data_and_truncate_reset_steal)
{
	struct buf b;
	char *p;

	buf_init(&b, 1 << 20);
	ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.data, "a\0b\0", 4);
	/* Growth past the first allocation keeps earlier bytes. */
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_puts(&b, "0123456789"), 0);
	ck_assert_uint_eq(b.len, 10003);
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_truncate(&b, 4);
	ck_assert_mem_eq(b.data, "a\0b0\0", 5);
	buf_truncate(&b, 100);	/* longer than len: no change */
	ck_assert_uint_eq(b.len, 4);
	buf_reset(&b);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_puts(&b, "kept"), 0);
	p = buf_steal(&b);
	ck_assert_str_eq(p, "kept");
	free(p);
	ck_assert_uint_eq(b.len, 0);
	p = buf_steal(&b);	/* never held anything: still a string */
	ck_assert_str_eq(p, "");
	free(p);
	buf_release(&b);
}
END_TEST

static const struct {
	const char *src;
	size_t dstlen;
	const char *want;
} copy_cases[] = {
	{ "hello", 10, "hello" },
	{ "hello", 6, "hello" },
	{ "hello", 5, "hell" },
	{ "hello", 1, "" },
	{ "", 4, "" },
};

START_TEST(str_copy_truncates_and_terminates)
{
	char dst[16];

	memset(dst, 'Z', sizeof(dst));
	ck_assert_uint_eq(str_copy(dst, copy_cases[_i].src, copy_cases[_i].dstlen),
	    strlen(copy_cases[_i].src));
	ck_assert_str_eq(dst, copy_cases[_i].want);
	ck_assert_int_eq(dst[copy_cases[_i].dstlen], 'Z');	/* nothing written past */
}
END_TEST

/* Reports keep whole lines and say when some were left out. */
#define CUT BUF_REPORT_CUT
static const struct {
	size_t max;
	int lines;		/* "line N" lines appended */
	const char *want;
} reports[] = {
	{ 1000, 0, "" },
	{ 1000, 2, "line 1\nline 2\n" },
	/* Eight lines fit, the ninth does not: two lines and the mark stay. */
	{ 14 + sizeof(CUT) - 1, 8, "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n"
	  "line 7\nline 8\n" },
	{ 14 + sizeof(CUT) - 1, 9, "line 1\nline 2\n" CUT },
	/* The mark comes once, and nothing after it. */
	{ 14 + sizeof(CUT) - 1, 12, "line 1\nline 2\n" CUT },
	/* Lines give way to the mark until it fits. */
	{ 7 + sizeof(CUT) - 1 + 3, 8, "line 1\n" CUT },
	/* The mark can never fit: the lines that fitted stay. */
	{ 17, 3, "line 1\nline 2\n" },
	{ 10, 3, "line 1\n" },
};

/* A problem quoting a value with a line break stays on its line. */
START_TEST(report_at_names_the_place_and_keeps_one_line)
{
	struct buf b;

	buf_init(&b, 1000);
	buf_report_at(&b, "f.conf", 7, "'%s' is bad", "a\nb\r\x7f");
	buf_report_at(&b, "f.conf", 0, "out of memory");
	ck_assert_str_eq(buf_str(&b), "f.conf:7: 'a?b?" "?' is bad\nf.conf:0: out of memory\n");
	buf_release(&b);
}
END_TEST

START_TEST(report_keeps_whole_lines_and_marks_the_cut)
{
	struct buf b;
	int i;

	buf_init(&b, reports[_i].max);
	for (i = 1; i <= reports[_i].lines; i++)
		buf_report(&b, "line %d", i);
	ck_assert_str_eq(buf_str(&b), reports[_i].want);
	ck_assert_uint_le(b.len, reports[_i].max);
	buf_release(&b);
}
END_TEST


static Suite *
buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tu_tcase("core");

	tcase_add_test(tc, append_up_to_the_maximum_and_not_past_it);
	tcase_add_test(tc, failed_append_leaves_contents_unchanged);
	tcase_add_test(tc, huge_length_does_not_wrap_around);
	tcase_add_test(tc, binary_data_and_truncate_reset_steal);
	tcase_add_test(tc, report_at_names_the_place_and_keeps_one_line);
	tcase_add_loop_test(tc, report_keeps_whole_lines_and_marks_the_cut, 0,
	    sizeof(reports) / sizeof(reports[0]));
	tcase_add_loop_test(tc, str_copy_truncates_and_terminates, 0,
	    sizeof(copy_cases) / sizeof(copy_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(buf_suite());
}
