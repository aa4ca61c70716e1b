/*
 * test_tagval.c - RFC 6376 3.2 tag lists: whitespace and folding rules,
 * malformed lists, limits, and control characters.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tagval.h"
#include "testutil.h"

/* The parsed list as "name=value|name=value". */
static char *
render(const struct tagval *tv)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < tv->n; i++) {
		const struct tagval_pair *p = &tv->pairs[i];

		ck_assert_int_eq(buf_printf(&b, "%s%.*s=", i ? "|" : "", (int)p->nlen,
		    p->name), 0);
		ck_assert_int_eq(buf_append(&b, p->val, p->vlen), 0);
	}
	return buf_steal(&b);
}

#define S(lit) lit, sizeof(lit) - 1

static const struct {
	const char *what;
	const char *text;
	size_t len;
	const char *want;	/* rendered pairs, or NULL for an error */
	const char *err;	/* expected error text when want is NULL */
} cases[] = {
	{ "plain list", S("a=1; b=2"), "a=1|b=2", NULL },
	{ "FWS around names, '=' and values", S("  a =  1 ;\tb\t=\t2  "), "a=1|b=2", NULL },
	{ "folding whitespace before '='", S("a\r\n =1"), "a=1", NULL },
	{ "trailing ';' allowed", S("a=1;"), "a=1", NULL },
	{ "trailing ';' and FWS allowed", S("a=1; \r\n\t"), "a=1", NULL },
	{ "empty value", S("a=; b=x"), "a=|b=x", NULL },
	{ "empty value at the end", S("a="), "a=", NULL },
	{ "folded value keeps inner whitespace", S("b=abc\r\n\tdef ghi;\r\n c=1"),
	  "b=abc\r\n\tdef ghi|c=1", NULL },
	{ "value may contain '='", S("bh=abc=="), "bh=abc==", NULL },
	{ "names are case-sensitive", S("A=1; a=2"), "A=1|a=2", NULL },
	{ "underscore and digits in names", S("a_1=x; z9=y"), "a_1=x|z9=y", NULL },
	{ "empty list", S(""), NULL, "empty tag list" },
	{ "only whitespace", S(" \r\n\t "), NULL, "empty tag list" },
	{ "lone ';'", S(";"), NULL, "empty tag" },
	{ "empty spec in the middle", S("a=1;;b=2"), NULL, "empty tag" },
	{ "duplicate tag", S("a=1; b=2; a=3"), NULL, "duplicate tag" },
	{ "duplicate tag with different spacing", S("a=1;a =1"), NULL, "duplicate tag" },
	{ "name starting with a digit", S("1a=x"), NULL, "bad tag name" },
	{ "name starting with '_'", S("_a=x"), NULL, "bad tag name" },
	{ "name with '-'", S("a-b=x"), NULL, "tag without '='" },
	{ "name without '='", S("a"), NULL, "tag without '='" },
	{ "name without '=' after a good tag", S("a=1; b"), NULL, "tag without '='" },
	{ "space inside a name", S("a b=1"), NULL, "tag without '='" },
	{ "NUL in a value", S("a=x\0y"), NULL, "control character" },
	{ "NUL in a name", S("a\0=1"), NULL, "tag without '='" },
	{ "SOH in a value", S("a=x\001y"), NULL, "control character" },
	{ "DEL in a value", S("a=x\177"), NULL, "control character" },
	{ "ESC in a later value", S("a=1; b=\033[0m"), NULL, "control character" },
	{ "NUL as the whole text", S("\0"), NULL, "bad tag name" },
};

START_TEST(parses_or_rejects_as_expected)
{
	struct tagval tv;
	const char *err = NULL;
	int rc = tagval_parse(&tv, cases[_i].text, cases[_i].len, &err);

	if (cases[_i].want != NULL) {
		char *got;

		ck_assert_msg(rc == 0, "%s: rejected (%s)", cases[_i].what, err);
		got = render(&tv);
		ck_assert_msg(strcmp(got, cases[_i].want) == 0, "%s: got '%s'",
		    cases[_i].what, got);
		free(got);
	} else {
		ck_assert_msg(rc == -1, "%s: accepted", cases[_i].what);
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(strstr(err, cases[_i].err) != NULL, "%s: error '%s'",
		    cases[_i].what, err);
	}
}
END_TEST

/* n tags "t0=v; t1=v; ..." */
static char *
many_tags(size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 24);
	for (i = 0; i < n; i++)
		TU_OK(buf_printf(&b, "t%zu=v%zu; ", i, i));
	return buf_steal(&b);
}

START_TEST(limit_tags_accepted_one_more_rejected)
{
	struct tagval tv;
	const char *err = NULL;
	char *ok = many_tags(LIMIT_TAGS), *over = many_tags(LIMIT_TAGS + 1);

	ck_assert_int_eq(tagval_parse(&tv, ok, strlen(ok), &err), 0);
	ck_assert_uint_eq(tv.n, LIMIT_TAGS);
	ck_assert_int_eq(tagval_parse(&tv, over, strlen(over), &err), -1);
	ck_assert_str_eq(err, "too many tags");
	free(ok);
	free(over);
}
END_TEST

START_TEST(thousands_of_tags_are_an_error_not_a_crash)
{
	struct tagval tv;
	const char *err = NULL;
	char *text = many_tags(20000);

	ck_assert_int_eq(tagval_parse(&tv, text, strlen(text), &err), -1);
	ck_assert_str_eq(err, "too many tags");
	ck_assert_uint_le(tv.n, LIMIT_TAGS);
	free(text);
}
END_TEST

START_TEST(thousands_of_duplicates_are_an_error)
{
	struct tagval tv;
	const char *err = NULL;
	struct buf b;
	int i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 5000; i++)
		TU_OK(buf_puts(&b, "a=1;"));
	ck_assert_int_eq(tagval_parse(&tv, b.data, b.len, &err), -1);
	ck_assert_str_eq(err, "duplicate tag");
	buf_release(&b);
}
END_TEST

START_TEST(parse_does_not_read_past_len)
{
	/* The text is not terminated where len ends: "a=1" then garbage. */
	const char text[] = "a=1; b=2\001\001";
	struct tagval tv;
	const char *err = NULL;

	ck_assert_int_eq(tagval_parse(&tv, text, 8, &err), 0);
	ck_assert_uint_eq(tv.n, 2);
	ck_assert_uint_eq(tv.pairs[1].vlen, 1);
}
END_TEST

START_TEST(get_is_case_sensitive_and_offsets_point_into_text)
{
	const char text[] = " v=1;  B = x ; b=\r\n\tabc def ";
	struct tagval tv;
	const struct tagval_pair *p;
	const char *err = NULL;

	ck_assert_int_eq(tagval_parse(&tv, text, strlen(text), &err), 0);
	p = tagval_get(&tv, "b");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->vlen, strlen("abc def"));
	ck_assert_ptr_eq(p->val, text + p->val_off);
	ck_assert_int_eq(memcmp(text + p->val_off, "abc def", 7), 0);
	p = tagval_get(&tv, "B");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(tagval_is(p, "x"), 1);
	ck_assert_int_eq(tagval_is(p, "x "), 0);
	ck_assert_int_eq(tagval_is(p, ""), 0);
	ck_assert_ptr_null(tagval_get(&tv, "V"));
	ck_assert_ptr_null(tagval_get(&tv, "bb"));
	ck_assert_ptr_nonnull(tagval_get(&tv, "v"));
}
END_TEST

START_TEST(compact_removes_all_whitespace_and_respects_size)
{
	const char text[] = "b= ab\r\n\tcd ef\tgh ";
	struct tagval tv;
	const char *err = NULL;
	char out[16];

	ck_assert_int_eq(tagval_parse(&tv, text, strlen(text), &err), 0);
	ck_assert_int_eq(tagval_compact(&tv.pairs[0], out, sizeof(out)), 8);
	ck_assert_str_eq(out, "abcdefgh");
	ck_assert_int_eq(tagval_compact(&tv.pairs[0], out, 9), 8);
	ck_assert_int_eq(tagval_compact(&tv.pairs[0], out, 8), -1);
}
END_TEST

static Suite *
tagval_suite(void)
{
	Suite *s = suite_create("tagval");
	TCase *tc = tu_tcase("parse");

	tcase_add_loop_test(tc, parses_or_rejects_as_expected, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, limit_tags_accepted_one_more_rejected);
	tcase_add_test(tc, thousands_of_tags_are_an_error_not_a_crash);
	tcase_add_test(tc, thousands_of_duplicates_are_an_error);
	tcase_add_test(tc, parse_does_not_read_past_len);
	tcase_add_test(tc, get_is_case_sensitive_and_offsets_point_into_text);
	tcase_add_test(tc, compact_removes_all_whitespace_and_respects_size);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(tagval_suite());
}
