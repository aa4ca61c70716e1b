/*
 * test_msgfile.c - reading messages from a stream: line ends, folding,
 * messages without a body, fields and line ends cut by the reader's chunk
 * boundaries, overlong fields, and callbacks that stop the reading.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "msgfile.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1

/* Everything the callbacks saw: "H[field]" per field, "H<dropped>", "E". */
struct seen {
	struct buf log;
	struct buf body;
	size_t nbody;		/* body callbacks */
	int stop_header;	/* return this from the n-th header callback */
	size_t stop_at;
	size_t nheader;
	int stop_eoh, stop_body;
	int after_stop;		/* callbacks made after one returned non-zero */
	int stopped;
};

static void
escape(struct buf *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r')
			TU_OK(buf_puts(b, "\\r"));
		else if (p[i] == '\n')
			TU_OK(buf_puts(b, "\\n"));
		else if (p[i] == '\t')
			TU_OK(buf_puts(b, "\\t"));
		else
			TU_OK(buf_putc(b, p[i]));
	}
}

static int
on_header(void *arg, const char *field, size_t len)
{
	struct seen *s = arg;

	s->after_stop |= s->stopped;
	s->nheader++;
	if (field == NULL)
		ck_assert_int_eq(buf_puts(&s->log, "H<dropped>"), 0);
	else if (len > 200) {
		/* Long fields are summarized: their start and length. */
		ck_assert_int_eq(buf_puts(&s->log, "H["), 0);
		escape(&s->log, field, 10);
		ck_assert_int_eq(buf_printf(&s->log, "...%zu]", len), 0);
	} else {
		ck_assert_int_eq(buf_puts(&s->log, "H["), 0);
		escape(&s->log, field, len);
		ck_assert_int_eq(buf_puts(&s->log, "]"), 0);
	}
	if (s->stop_header && s->nheader == s->stop_at) {
		s->stopped = 1;
		return s->stop_header;
	}
	return 0;
}

static int
on_eoh(void *arg)
{
	struct seen *s = arg;

	s->after_stop |= s->stopped;
	ck_assert_int_eq(buf_puts(&s->log, "E"), 0);
	if (s->stop_eoh) {
		s->stopped = 1;
		return s->stop_eoh;
	}
	return 0;
}

static int
on_body(void *arg, const char *p, size_t n)
{
	struct seen *s = arg;

	s->after_stop |= s->stopped;
	TU_OK(n == 0);
	s->nbody++;
	TU_OK(buf_append(&s->body, p, n));
	if (s->stop_body) {
		s->stopped = 1;
		return s->stop_body;
	}
	return 0;
}

static const struct msgfile_cb cbs = { on_header, on_eoh, on_body };

static void
seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->log, 1 << 20);
	buf_init(&s->body, 1 << 26);
}

static void
seen_release(struct seen *s)
{
	buf_release(&s->log);
	buf_release(&s->body);
}

/* Append n copies of c. */
static int
pad(struct buf *b, char c, size_t n)
{
	char chunk[4096];

	memset(chunk, c, sizeof(chunk));
	while (n > 0) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		if (buf_append(b, chunk, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Read text[0..len) through fmemopen. */
static int
read_mem(const char *text, size_t len, struct seen *s, int *crlf)
{
	char err[256] = "";
	FILE *fp;
	int rc;

	/* fmemopen of a zero-length buffer is not portable: use an empty tmpfile. */
	fp = len ? fmemopen((void *)text, len, "r") : tmpfile();
	ck_assert_ptr_nonnull(fp);
	rc = msgfile_read(fp, &cbs, s, crlf, err, sizeof(err));
	fclose(fp);
	return rc;
}

static const struct {
	const char *what;
	const char *text;
	size_t len;
	const char *log;
	const char *body;
	size_t blen;
	int crlf;
} cases[] = {
	{ "CRLF message", S("From: a\r\nTo: b\r\n\r\nbody\r\n"), "H[From: a]H[To: b]E",
	  S("body\r\n"), 1 },
	{ "LF message", S("From: a\nTo: b\n\nbody\n"), "H[From: a]H[To: b]E", S("body\n"), 0 },
	{ "folded CRLF", S("Subject: a\r\n\tb\r\n c\r\nTo: x\r\n\r\n"),
	  "H[Subject: a\\r\\n\\tb\\r\\n c]H[To: x]E", S(""), 1 },
	{ "folded LF joined with CRLF", S("Subject: a\n\tb\nTo: x\n\n"),
	  "H[Subject: a\\r\\n\\tb]H[To: x]E", S(""), 0 },
	{ "fold as the last header line", S("To: x\nSubject: a\n b\n\nz"),
	  "H[To: x]H[Subject: a\\r\\n b]E", S("z"), 0 },
	{ "header only, final LF", S("From: a\nTo: b\n"), "H[From: a]H[To: b]E", S(""), 0 },
	{ "header only, no final line end", S("From: a\nTo: b"), "H[From: a]H[To: b]E", S(""),
	  0 },
	{ "header only, CRLF, no final line end", S("From: a\r\nTo: b"),
	  "H[From: a]H[To: b]E", S(""), 1 },
	{ "header only, ends in CR", S("From: a\r\nTo: b\r"), "H[From: a]H[To: b]E", S(""), 1 },
	{ "header only, folded last field", S("From: a\n\tz"), "H[From: a\\r\\n\\tz]E", S(""),
	  0 },
	{ "empty input", S(""), "E", S(""), 0 },
	{ "only the empty line", S("\r\n"), "E", S(""), 1 },
	{ "no header, body", S("\nbody"), "E", S("body"), 0 },
	{ "body keeps blank lines and From lines", S("A: 1\n\nx\n\nFrom: y\n"), "H[A: 1]E",
	  S("x\n\nFrom: y\n"), 0 },
	{ "body line ends untouched", S("A: 1\r\n\r\nx\ny\r\n\r\n\r\n"), "H[A: 1]E",
	  S("x\ny\r\n\r\n\r\n"), 1 },
	{ "crlf from the first line only", S("A: 1\nB: 2\r\n\r\n"), "H[A: 1]H[B: 2]E", S(""),
	  0 },
	{ "bare CR inside a field", S("Subject: a\rb\n\n"), "H[Subject: a\\rb]E", S(""), 0 },
	{ "NUL bytes in the body", S("A: 1\n\na\0b\0"), "H[A: 1]E", S("a\0b\0"), 0 },
};

START_TEST(messages_read_as_expected)
{
	struct seen s;
	int crlf = -1;

	seen_init(&s);
	ck_assert_int_eq(read_mem(cases[_i].text, cases[_i].len, &s, &crlf), 0);
	ck_assert_msg(strcmp(buf_str(&s.log), cases[_i].log) == 0, "%s: got %s",
	    cases[_i].what, buf_str(&s.log));
	ck_assert_msg(s.body.len == cases[_i].blen &&
	    memcmp(s.body.len ? s.body.data : "", cases[_i].body, cases[_i].blen) == 0,
	    "%s: body of %zu bytes", cases[_i].what, s.body.len);
	ck_assert_int_eq(crlf, cases[_i].crlf);
	seen_release(&s);
}
END_TEST

/*
 * A padding field of p bytes moves every later byte; sweeping p puts the
 * reader's chunk boundary (64 KB, or any size near it) on each byte of the
 * fields, the folds, the CR and LF of the empty line and the body's start.
 */
START_TEST(chunk_boundaries_anywhere_change_nothing)
{
	static const char *const eol[] = { "\r\n", "\n" };
	const char *nl = eol[_i];
	size_t nll = strlen(nl), p;

	for (p = 65536 - 80; p <= 65536 + 8; p++) {
		struct buf msg, want;
		struct seen s;
		int crlf;

		buf_init(&msg, 1 << 20);
		buf_init(&want, 4096);
		ck_assert_int_eq(buf_puts(&msg, "X-Pad: "), 0);
		TU_OK(pad(&msg, 'p', p - msg.len));
		ck_assert_int_eq(buf_printf(&msg, "%sSubject: a%s\tb%sTo: x%s%sbody 1%s", nl, nl,
		    nl, nl, nl, nl), 0);
		ck_assert_int_eq(buf_printf(&want, "H[X-Pad: ppp...%zu]H[Subject: a\\r\\n\\tb]"
		    "H[To: x]E", p), 0);
		seen_init(&s);
		ck_assert_int_eq(read_mem(msg.data, msg.len, &s, &crlf), 0);
		ck_assert_msg(strcmp(buf_str(&s.log), buf_str(&want)) == 0, "pad %zu: %s", p,
		    buf_str(&s.log));
		ck_assert_uint_eq(s.body.len, 6 + nll);
		ck_assert_int_eq(memcmp(s.body.data, "body 1", 6), 0);
		ck_assert_int_eq(crlf, nll == 2);
		seen_release(&s);
		buf_release(&msg);
		buf_release(&want);
	}
}
END_TEST

START_TEST(large_body_arrives_whole_in_several_chunks)
{
	size_t n = 300000, i;
	struct buf msg;
	struct seen s;
	uint64_t rng = 42;
	int crlf;

	buf_init(&msg, 1 << 20);
	ck_assert_int_eq(buf_puts(&msg, "From: a\r\n\r\n"), 0);
	for (i = 0; i < n; i++)
		TU_OK(buf_putc(&msg, (char)tu_rand(&rng)));
	seen_init(&s);
	ck_assert_int_eq(read_mem(msg.data, msg.len, &s, &crlf), 0);
	ck_assert_str_eq(buf_str(&s.log), "H[From: a]E");
	ck_assert_uint_eq(s.body.len, n);
	ck_assert_mem_eq(s.body.data, msg.data + 11, n);
	ck_assert_uint_ge(s.nbody, 2);
	seen_release(&s);
	buf_release(&msg);
}
END_TEST

/*
 * A field longer than LIMIT_HEADER_FIELD is reported as dropped, and the
 * fields after it arrive intact: nothing of the long line leaks into them.
 */
static const size_t long_lines[] = {
	LIMIT_HEADER_FIELD - 100, LIMIT_HEADER_FIELD + 100, 300000, 400000, 500000, 800000,
};

START_TEST(overlong_field_is_dropped_and_the_rest_survives)
{
	size_t n = long_lines[_i];
	struct buf msg;
	struct seen s;
	int crlf, tail;

	for (tail = 0; tail < 2; tail++) {
		buf_init(&msg, 1 << 21);
		ck_assert_int_eq(buf_puts(&msg, "From: a\n"), 0);
		ck_assert_int_eq(buf_puts(&msg, "X-Long: "), 0);
		TU_OK(pad(&msg, 'a', 8 + n - msg.len));
		if (tail == 0)
			ck_assert_int_eq(buf_puts(&msg, "\nSubject: hi\n\nbody\n"), 0);
		seen_init(&s);
		ck_assert_int_eq(read_mem(msg.data, msg.len, &s, &crlf), 0);
		if (n <= LIMIT_HEADER_FIELD) {
			char want[128];

			snprintf(want, sizeof(want), "H[From: a]H[X-Long: aa...%zu]%sE", n,
			    tail == 0 ? "H[Subject: hi]" : "");
			ck_assert_str_eq(buf_str(&s.log), want);
		} else
			ck_assert_msg(strcmp(buf_str(&s.log), tail == 0 ?
			    "H[From: a]H<dropped>H[Subject: hi]E" : "H[From: a]H<dropped>E") == 0,
			    "line of %zu%s: %s", n, tail ? " at the end" : "", buf_str(&s.log));
		if (tail == 0)
			ck_assert_str_eq(buf_str(&s.body), "body\n");
		seen_release(&s);
		buf_release(&msg);
	}
}
END_TEST

START_TEST(overlong_folded_field_is_dropped)
{
	struct buf msg;
	struct seen s;
	int crlf, i;

	buf_init(&msg, 1 << 21);
	ck_assert_int_eq(buf_puts(&msg, "X-Many: start\r\n"), 0);
	for (i = 0; i < 400; i++) {	/* 400 lines of 1000 bytes */
		TU_OK(buf_putc(&msg, '\t'));
		TU_OK(pad(&msg, 'x', 998 - msg.len % 1000));
		TU_OK(buf_puts(&msg, "\r\n"));
	}
	ck_assert_int_eq(buf_puts(&msg, "To: b\r\n\r\nz"), 0);
	seen_init(&s);
	ck_assert_int_eq(read_mem(msg.data, msg.len, &s, &crlf), 0);
	ck_assert_str_eq(buf_str(&s.log), "H<dropped>H[To: b]E");
	ck_assert_str_eq(buf_str(&s.body), "z");
	seen_release(&s);
	buf_release(&msg);
}
END_TEST

static const struct {
	const char *what;
	int stop_header, stop_at, stop_eoh, stop_body;
	int want;
	const char *log;
} stops[] = {
	{ "header callback stops", 7, 2, 0, 0, 7, "H[A: 1]H[B: 2]" },
	{ "first header callback stops", 9, 1, 0, 0, 9, "H[A: 1]" },
	{ "eoh callback stops", 0, 0, 3, 0, 3, "H[A: 1]H[B: 2]H[C: 3]E" },
	{ "body callback stops", 0, 0, 0, 5, 5, "H[A: 1]H[B: 2]H[C: 3]E" },
};

START_TEST(callback_result_stops_the_reading)
{
	static const char text[] = "A: 1\nB: 2\nC: 3\n\nbody\n";
	struct seen s;
	int crlf;

	seen_init(&s);
	s.stop_header = stops[_i].stop_header;
	s.stop_at = (size_t)stops[_i].stop_at;
	s.stop_eoh = stops[_i].stop_eoh;
	s.stop_body = stops[_i].stop_body;
	ck_assert_int_eq(read_mem(text, strlen(text), &s, &crlf), stops[_i].want);
	ck_assert_str_eq(buf_str(&s.log), stops[_i].log);
	ck_assert_int_eq(s.after_stop, 0);
	seen_release(&s);
}
END_TEST

START_TEST(read_error_is_reported)
{
	FILE *fp = fopen("/dev/null", "w");	/* not readable: fread fails */
	struct seen s;
	char err[256] = "";
	int crlf;

	ck_assert_ptr_nonnull(fp);
	seen_init(&s);
	ck_assert_int_eq(msgfile_read(fp, &cbs, &s, &crlf, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "read error"));
	fclose(fp);
	seen_release(&s);
}
END_TEST

static Suite *
msgfile_suite(void)
{
	Suite *s = suite_create("msgfile");
	TCase *tc = tu_tcase("read");
	TCase *big = tu_tcase("chunks");

	tcase_add_loop_test(tc, messages_read_as_expected, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(tc, callback_result_stops_the_reading, 0,
	    sizeof(stops) / sizeof(stops[0]));
	tcase_add_test(tc, read_error_is_reported);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(big, chunk_boundaries_anywhere_change_nothing, 0, 2);
	tcase_add_test(big, large_body_arrives_whole_in_several_chunks);
	tcase_add_loop_test(big, overlong_field_is_dropped_and_the_rest_survives, 0,
	    sizeof(long_lines) / sizeof(long_lines[0]));
	tcase_add_test(big, overlong_folded_field_is_dropped);
	suite_add_tcase(s, big);
	return s;
}

int
main(void)
{
	return tu_run(msgfile_suite());
}
