/*
 * test_canon.c - RFC 6376 3.4 canonicalization.
 *
 * The streaming body machines are checked three ways: against the example
 * of RFC 6376 3.4.6, against a table of hand-written canonical forms, and as
 * a property over generated bodies: the digest and the canonical length must
 * equal those of an independent whole-buffer reference canonicalizer
 * (written here, straight from 3.4.3 and 3.4.4), however the body is cut
 * into chunks and whatever the l= limit.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "canon.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1

/* ---- reference canonicalizer -------------------------------------------- */

static int
ref_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The canonical body, whole: split into lines at LF (a CR just before the LF
 * is part of the line end, so a bare LF counts as CRLF and a bare CR is an
 * ordinary character), apply the per-line rule, give every line a CRLF
 * (which adds the missing final one), then drop the trailing empty lines.
 */
static void
ref_canon(enum canon_alg alg, const unsigned char *p, size_t n, struct buf *out)
{
	size_t start = 0, keep = 0;

	buf_reset(out);
	while (start < n) {
		const unsigned char *lf = memchr(p + start, '\n', n - start);
		size_t end = lf ? (size_t)(lf - p) : n, cend = end, before = out->len, i;
		int pending = 0;

		if (lf != NULL && cend > start && p[cend - 1] == '\r')
			cend--;
		for (i = start; i < cend; i++) {
			if (alg == CANON_RELAXED && ref_wsp(p[i])) {
				pending = 1;
				continue;
			}
			if (pending)
				TU_OK(buf_putc(out, ' '));
			pending = 0;
			TU_OK(buf_putc(out, (char)p[i]));
		}
		/* relaxed: the blanks still pending are at the end of the line: gone */
		if (out->len > before)
			keep = out->len + 2;
		TU_OK(buf_append(out, "\r\n", 2));
		start = end + 1;
	}
	buf_truncate(out, keep);
	if (alg == CANON_SIMPLE && out->len == 0)
		ck_assert_int_eq(buf_append(out, "\r\n", 2), 0);
}

/* ---- driving the engine ------------------------------------------------- */

struct digest {
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len;
	unsigned long long total;
};

static void
ref_digest(enum canon_alg alg, unsigned long long limit, const void *p, size_t n,
    struct digest *dg)
{
	struct buf c;
	size_t hashed;

	buf_init(&c, 64 * 1024 * 1024);
	ref_canon(alg, p, n, &c);
	dg->total = c.len;
	hashed = limit < c.len ? (size_t)limit : c.len;
	TU_OK(EVP_Digest(c.len ? c.data : "", hashed, dg->md, &dg->len, EVP_sha256(),
	    NULL) != 1);
	buf_release(&c);
}

/* Feed p[0..n) cut at the offsets in cuts (ascending). */
static void
engine_digest(enum canon_alg alg, unsigned long long limit, const void *p, size_t n,
    const size_t *cuts, size_t ncuts, struct digest *dg)
{
	struct canon_body *cb = canon_body_create(alg, limit, EVP_sha256());
	const unsigned char *b = p;
	size_t prev = 0, k;

	TU_OK(cb == NULL);
	for (k = 0; k <= ncuts; k++) {
		size_t at = k < ncuts ? cuts[k] : n;

		TU_OK(canon_body_update(cb, b + prev, at - prev));
		prev = at;
	}
	TU_OK(canon_body_final(cb, dg->md, &dg->len));
	dg->total = canon_body_length(cb);
	canon_body_free(cb);
}

static void
show(struct buf *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 200; i++) {
		unsigned char c = p[i];

		if (c == '\r')
			TU_OK(buf_puts(out, "\\r"));
		else if (c == '\n')
			TU_OK(buf_puts(out, "\\n"));
		else if (c == '\t')
			TU_OK(buf_puts(out, "\\t"));
		else if (c < 0x20 || c >= 0x7f)
			TU_OK(buf_printf(out, "\\x%02x", c));
		else
			TU_OK(buf_putc(out, (char)c));
	}
}

static void
assert_same(const struct digest *want, const struct digest *got, enum canon_alg alg,
    unsigned long long limit, const void *body, size_t n, const char *how)
{
	if (want->len == got->len && want->total == got->total &&
	    memcmp(want->md, got->md, want->len) == 0)
		return;
	{
		struct buf b;

		buf_init(&b, 4096);
		show(&b, body, n);
		ck_abort_msg("%s body \"%s\" (%zu bytes), limit %lld, %s: length %llu, "
		    "reference %llu, digests %s", canon_name(alg), buf_str(&b), n,
		    limit == CANON_NO_LIMIT ? -1LL : (long long)limit, how, got->total,
		    want->total, memcmp(want->md, got->md, want->len) ? "differ" : "equal");
	}
}

/* ---- RFC 6376 3.4.6 ----------------------------------------------------- */

static const struct {
	const char *field;
	const char *simple;
	const char *relaxed;
} rfc_headers[] = {
	{ "A: X", "A: X\r\n", "a:X\r\n" },
	{ "B : Y\t\r\n\tZ  ", "B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n" },
};

START_TEST(rfc6376_example_headers_canonicalize_as_printed)
{
	struct buf s, r;
	size_t i;

	buf_init(&s, 4096);
	buf_init(&r, 4096);
	for (i = 0; i < sizeof(rfc_headers) / sizeof(rfc_headers[0]); i++) {
		const char *f = rfc_headers[i].field;

		buf_reset(&s);
		buf_reset(&r);
		ck_assert_int_eq(canon_header(CANON_SIMPLE, f, strlen(f), &s), 0);
		ck_assert_int_eq(canon_header(CANON_RELAXED, f, strlen(f), &r), 0);
		ck_assert_str_eq(buf_str(&s), rfc_headers[i].simple);
		ck_assert_str_eq(buf_str(&r), rfc_headers[i].relaxed);
	}
	buf_release(&s);
	buf_release(&r);
}
END_TEST

static const char rfc_body[] = " C \r\nD \t E\r\n\r\n\r\n";

START_TEST(rfc6376_example_body_digest_is_sha256_of_printed_form)
{
	static const struct {
		enum canon_alg alg;
		const char *canonical;
	} forms[] = {
		{ CANON_RELAXED, " C\r\nD E\r\n" },
		{ CANON_SIMPLE, " C \r\nD \t E\r\n" },
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		struct digest got;
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen;

		engine_digest(forms[i].alg, CANON_NO_LIMIT, rfc_body, strlen(rfc_body),
		    NULL, 0, &got);
		ck_assert_int_eq(EVP_Digest(forms[i].canonical, strlen(forms[i].canonical),
		    md, &mdlen, EVP_sha256(), NULL), 1);
		ck_assert_uint_eq(got.len, 32);
		ck_assert_mem_eq(got.md, md, 32);
		ck_assert_uint_eq(got.total, strlen(forms[i].canonical));
	}
}
END_TEST

/* ---- hand-written body table -------------------------------------------- */

static const struct {
	const char *body;
	size_t len;
	const char *simple;
	size_t slen;
	const char *relaxed;
	size_t rlen;
} bodies[] = {
	{ S(""), S("\r\n"), S("") },
	{ S("\r\n"), S("\r\n"), S("") },
	{ S("\r\n\r\n\r\n"), S("\r\n"), S("") },
	{ S("\n\n\n"), S("\r\n"), S("") },
	{ S("abc"), S("abc\r\n"), S("abc\r\n") },
	{ S("abc\r\n"), S("abc\r\n"), S("abc\r\n") },
	{ S("abc\r\n\r\n"), S("abc\r\n"), S("abc\r\n") },
	{ S("abc\n\n"), S("abc\r\n"), S("abc\r\n") },
	{ S("a\nb\n"), S("a\r\nb\r\n"), S("a\r\nb\r\n") },
	{ S("a\n\r\n\n"), S("a\r\n"), S("a\r\n") },
	{ S(" \r\n"), S(" \r\n"), S("") },
	{ S("abc\r\n \t \r\n\r\n"), S("abc\r\n \t \r\n"), S("abc\r\n") },
	{ S("x\r\n \r\ny\r\n"), S("x\r\n \r\ny\r\n"), S("x\r\n\r\ny\r\n") },
	{ S("a  \t b \r\n"), S("a  \t b \r\n"), S("a b\r\n") },
	{ S("\t lead\r\n"), S("\t lead\r\n"), S(" lead\r\n") },
	{ S("abc  "), S("abc  \r\n"), S("abc\r\n") },
	{ S("   "), S("   \r\n"), S("") },
	{ S("a\rb\r\n"), S("a\rb\r\n"), S("a\rb\r\n") },
	{ S("abc\r"), S("abc\r\r\n"), S("abc\r\r\n") },
	{ S("\r"), S("\r\r\n"), S("\r\r\n") },
	{ S("\r\r\n"), S("\r\r\n"), S("\r\r\n") },
	{ S("a \r b\r\n"), S("a \r b\r\n"), S("a \r b\r\n") },
	{ S("a \r\n"), S("a \r\n"), S("a\r\n") },
	{ S("a\t\r\n"), S("a\t\r\n"), S("a\r\n") },
	{ S("\r\n\r\nx\r\n\r\n"), S("\r\n\r\nx\r\n"), S("\r\n\r\nx\r\n") },
	{ S("\0a\0\r\n"), S("\0a\0\r\n"), S("\0a\0\r\n") },
	{ S("a\0 \0\r\n"), S("a\0 \0\r\n"), S("a\0 \0\r\n") },
};

START_TEST(table_bodies_canonicalize_as_written)
{
	struct buf ref;
	int a;

	buf_init(&ref, 4096);
	for (a = 0; a < 2; a++) {
		enum canon_alg alg = a ? CANON_RELAXED : CANON_SIMPLE;
		const char *form = a ? bodies[_i].relaxed : bodies[_i].simple;
		size_t flen = a ? bodies[_i].rlen : bodies[_i].slen;
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen;
		struct digest got;

		/* The reference agrees with the table... */
		ref_canon(alg, (const unsigned char *)bodies[_i].body, bodies[_i].len, &ref);
		ck_assert_msg(ref.len == flen && memcmp(ref.len ? ref.data : "", form, flen) == 0,
		    "reference canonicalizer disagrees with table row %d (%s)", _i,
		    canon_name(alg));
		/* ...and so does the engine. */
		engine_digest(alg, CANON_NO_LIMIT, bodies[_i].body, bodies[_i].len, NULL, 0, &got);
		ck_assert_int_eq(EVP_Digest(form, flen, md, &mdlen, EVP_sha256(), NULL), 1);
		ck_assert_msg(got.total == flen && memcmp(got.md, md, mdlen) == 0,
		    "engine disagrees with table row %d (%s): length %llu", _i,
		    canon_name(alg), got.total);
	}
	buf_release(&ref);
}
END_TEST

START_TEST(empty_body_digests_match_rfc4871_errata)
{
	struct digest s, r;
	char *sb, *rb;

	engine_digest(CANON_SIMPLE, CANON_NO_LIMIT, "", 0, NULL, 0, &s);
	engine_digest(CANON_RELAXED, CANON_NO_LIMIT, "", 0, NULL, 0, &r);
	sb = tu_b64(s.md, s.len);
	rb = tu_b64(r.md, r.len);
	ck_assert_str_eq(sb, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	ck_assert_str_eq(rb, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	free(sb);
	free(rb);
}
END_TEST

/* ---- chunking property -------------------------------------------------- */

/* Pieces generated bodies are made of: the characters the machines treat specially. */
static const char *const pieces[] = {
	"a", "b", "xyz", "Hello", " ", "  ", "\t", " \t ", "\r", "\n", "\r\n", "\r\n",
	"\r\n\r\n", "\r\r\n", "\n\n", " \r\n", "\t\r\n", "\r \n", "\0",
};

static size_t
gen_body(uint64_t *rng, unsigned char *out, size_t max)
{
	size_t n = 0, want = tu_rand_below(rng, max / 2);
	size_t tail = tu_rand_below(rng, 6);

	while (n < want) {
		size_t k = tu_rand_below(rng, sizeof(pieces) / sizeof(pieces[0]));
		const char *pc = pieces[k];
		size_t pl = pc[0] == '\0' ? 1 : strlen(pc);

		if (n + pl > max)
			break;
		memcpy(out + n, pc, pl);
		n += pl;
	}
	/* Endings that matter most: trailing empty or blank lines, no final CRLF, a CR. */
	{
		static const char *const tails[] = {
			"", "\r\n\r\n\r\n", " \r\n\t\r\n\r\n", "last", "\r", "  \t",
		};
		const char *t = tails[tail];
		size_t tl = strlen(t);

		if (n + tl <= max) {
			memcpy(out + n, t, tl);
			n += tl;
		}
	}
	return n;
}

/* Check one body under every chunking, for one algorithm and limit. */
static void
check_chunkings(uint64_t *rng, enum canon_alg alg, unsigned long long limit,
    const unsigned char *body, size_t n)
{
	static const size_t steps[] = { 1, 2, 3, 7 };
	struct digest want, got;
	size_t cuts[4096], nc, i, j, k;

	ref_digest(alg, limit, body, n, &want);
	engine_digest(alg, limit, body, n, NULL, 0, &got);
	assert_same(&want, &got, alg, limit, body, n, "one chunk");
	/* Every single split point. */
	for (i = 0; i <= n; i++) {
		cuts[0] = i;
		engine_digest(alg, limit, body, n, cuts, 1, &got);
		assert_same(&want, &got, alg, limit, body, n, "split in two");
	}
	/* Every pair of split points for short bodies. */
	if (n <= 12)
		for (i = 0; i <= n; i++)
			for (j = i; j <= n; j++) {
				cuts[0] = i;
				cuts[1] = j;
				engine_digest(alg, limit, body, n, cuts, 2, &got);
				assert_same(&want, &got, alg, limit, body, n, "split in three");
			}
	/* Fixed chunk sizes. */
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		for (nc = 0, i = steps[k]; i < n && nc < 4096; i += steps[k])
			cuts[nc++] = i;
		engine_digest(alg, limit, body, n, cuts, nc, &got);
		assert_same(&want, &got, alg, limit, body, n, "fixed chunks");
	}
	/* Random chunkings, empty chunks included. */
	for (k = 0; k < 3; k++) {
		for (nc = 0, i = 0; nc < 4096; ) {
			i += tu_rand_below(rng, 9);
			if (i > n)
				break;
			cuts[nc++] = i;
		}
		engine_digest(alg, limit, body, n, cuts, nc, &got);
		assert_same(&want, &got, alg, limit, body, n, "random chunks");
	}
}

#define PROPERTY_BODIES 200

START_TEST(digest_independent_of_chunking_and_equal_to_reference)
{
	uint64_t rng = 0x5eed0001ULL + (uint64_t)_i;
	unsigned char body[160];
	int b;

	/* _i selects a slice of the generated bodies, so a failure names a range. */
	for (b = 0; b < PROPERTY_BODIES / 10; b++) {
		size_t n = gen_body(&rng, body, sizeof(body));
		int a;

		for (a = 0; a < 2; a++) {
			enum canon_alg alg = a ? CANON_RELAXED : CANON_SIMPLE;

			check_chunkings(&rng, alg, CANON_NO_LIMIT, body, n);
			/* l=: 0, inside the body, or past it */
			check_chunkings(&rng, alg, b % 5 == 0 ? 0 : tu_rand_below(&rng, n + 4),
			    body, n);
		}
	}
}
END_TEST

START_TEST(table_bodies_independent_of_chunking)
{
	uint64_t rng = 0x7ab1eULL;
	int a;

	for (a = 0; a < 2; a++) {
		enum canon_alg alg = a ? CANON_RELAXED : CANON_SIMPLE;
		const unsigned char *p = (const unsigned char *)bodies[_i].body;
		size_t n = bodies[_i].len;

		check_chunkings(&rng, alg, CANON_NO_LIMIT, p, n);
		check_chunkings(&rng, alg, 1, p, n);
		check_chunkings(&rng, alg, 3, p, n);
	}
}
END_TEST

/* Long lines and long runs take the engine's direct-hash and staging paths. */
START_TEST(long_bodies_independent_of_chunking)
{
	uint64_t rng = 0x10bULL + (uint64_t)_i;
	size_t cap = 200000, n = 0;
	unsigned char *body = malloc(cap);
	int a, k;

	ck_assert_ptr_nonnull(body);
	while (n < cap - 2000) {
		size_t len = tu_rand_below(&rng, 1500), i;
		int kind = (int)tu_rand_below(&rng, 5);

		for (i = 0; i < len; i++) {
			size_t r = tu_rand_below(&rng, 40);

			body[n++] = kind == 0 ? ' ' : r == 0 ? '\t' : r == 1 ? ' ' : r == 2 ? '\r' :
			    (unsigned char)('a' + r % 26);
		}
		if (tu_rand_below(&rng, 4) == 0)
			body[n++] = '\n';
		else {
			body[n++] = '\r';
			body[n++] = '\n';
		}
		if (tu_rand_below(&rng, 10) == 0)
			for (i = tu_rand_below(&rng, 50); i > 0; i--) {
				body[n++] = '\r';
				body[n++] = '\n';
			}
	}
	for (a = 0; a < 2; a++) {
		enum canon_alg alg = a ? CANON_RELAXED : CANON_SIMPLE;
		unsigned long long limits[3] = { CANON_NO_LIMIT, 70000, 513 };
		int l;

		for (l = 0; l < 3; l++) {
			struct digest want, got;

			ref_digest(alg, limits[l], body, n, &want);
			for (k = 0; k < 6; k++) {
				size_t cuts[2048], nc = 0, at = 0;
				size_t step = k == 0 ? 1 + 8192 : k == 1 ? 511 : k == 2 ? 65536 : 0;

				while (nc < 2048) {
					at += step ? step : 1 + tu_rand_below(&rng, 4000);
					if (at >= n)
						break;
					cuts[nc++] = at;
				}
				engine_digest(alg, limits[l], body, n, cuts, nc, &got);
				assert_same(&want, &got, alg, limits[l], body, n, "long body");
			}
		}
	}
	free(body);
}
END_TEST

START_TEST(ten_megabytes_of_crlf_is_the_empty_body)
{
	static const size_t total = 10 * 1024 * 1024;
	size_t chunk = 65535, sent, i;	/* odd: every other chunk cuts a CRLF */
	char *buf = malloc(chunk + 1);
	int a;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i <= chunk; i++)
		buf[i] = i % 2 ? '\n' : '\r';
	for (a = 0; a < 2; a++) {
		enum canon_alg alg = a ? CANON_RELAXED : CANON_SIMPLE;
		struct canon_body *cb = canon_body_create(alg, CANON_NO_LIMIT, EVP_sha256());
		struct digest got, want;

		ck_assert_ptr_nonnull(cb);
		for (sent = 0; sent < total; ) {
			size_t n = total - sent < chunk ? total - sent : chunk;

			TU_OK(canon_body_update(cb, buf + sent % 2, n));
			sent += n;
		}
		ck_assert_int_eq(canon_body_final(cb, got.md, &got.len), 0);
		got.total = canon_body_length(cb);
		canon_body_free(cb);
		ref_digest(alg, CANON_NO_LIMIT, "", 0, &want);
		ck_assert_uint_eq(got.total, a ? 0 : 2);
		ck_assert_mem_eq(got.md, want.md, 32);
	}
	free(buf);
}
END_TEST

START_TEST(length_counts_past_the_limit)
{
	struct digest got, want;
	const char body[] = "hello world\r\nsecond line\r\n";

	engine_digest(CANON_SIMPLE, 5, body, strlen(body), NULL, 0, &got);
	ck_assert_uint_eq(got.total, strlen(body));
	ck_assert_int_eq(EVP_Digest("hello", 5, want.md, &want.len, EVP_sha256(), NULL), 1);
	ck_assert_mem_eq(got.md, want.md, 32);
	/* A limit beyond the body hashes all of it. */
	engine_digest(CANON_SIMPLE, 1000, body, strlen(body), NULL, 0, &got);
	ck_assert_int_eq(EVP_Digest(body, strlen(body), want.md, &want.len, EVP_sha256(),
	    NULL), 1);
	ck_assert_mem_eq(got.md, want.md, 32);
}
END_TEST

/* ---- header canonicalization -------------------------------------------- */

static const struct {
	const char *field;
	const char *simple;
	const char *relaxed;
} headers[] = {
	{ "Subject: Hello World", "Subject: Hello World\r\n", "subject:Hello World\r\n" },
	{ "SUBJect: AbC", "SUBJect: AbC\r\n", "subject:AbC\r\n" },
	{ "Subject \t:\t value \t ", "Subject \t:\t value \t \r\n", "subject:value\r\n" },
	{ "Subject:", "Subject:\r\n", "subject:\r\n" },
	{ "Subject:   \t", "Subject:   \t\r\n", "subject:\r\n" },
	{ "To: a,\r\n\tb,\r\n  c", "To: a,\r\n\tb,\r\n  c\r\n", "to:a, b, c\r\n" },
	{ "To: a,\n b", "To: a,\r\n b\r\n", "to:a, b\r\n" },
	{ "X-Y:a\t\t\tb", "X-Y:a\t\t\tb\r\n", "x-y:a b\r\n" },
};

START_TEST(header_fields_canonicalize_as_written)
{
	struct buf s, r;
	const char *f = headers[_i].field;

	buf_init(&s, 4096);
	buf_init(&r, 4096);
	ck_assert_int_eq(canon_header(CANON_SIMPLE, f, strlen(f), &s), 0);
	ck_assert_int_eq(canon_header(CANON_RELAXED, f, strlen(f), &r), 0);
	ck_assert_str_eq(buf_str(&s), headers[_i].simple);
	ck_assert_str_eq(buf_str(&r), headers[_i].relaxed);
	buf_release(&s);
	buf_release(&r);
}
END_TEST

START_TEST(header_canon_fails_when_output_is_full)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(canon_header(CANON_RELAXED, S("Subject: long value"), &b), -1);
	buf_release(&b);
	buf_init(&b, 8);
	ck_assert_int_eq(canon_header(CANON_SIMPLE, S("Subject: long value"), &b), -1);
	buf_release(&b);
	buf_init(&b, 9);
	ck_assert_int_eq(canon_header(CANON_RELAXED, S("A: 1234"), &b), 0);
	ck_assert_str_eq(buf_str(&b), "a:1234\r\n");
	buf_release(&b);
}
END_TEST

START_TEST(canon_names_parse_exactly)
{
	enum canon_alg a = CANON_RELAXED;

	ck_assert_int_eq(canon_parse(S("simple"), &a), 0);
	ck_assert_int_eq(a, CANON_SIMPLE);
	ck_assert_int_eq(canon_parse(S("relaxed"), &a), 0);
	ck_assert_int_eq(a, CANON_RELAXED);
	ck_assert_int_eq(canon_parse(S("Relaxed"), &a), -1);
	ck_assert_int_eq(canon_parse(S("simple "), &a), -1);
	ck_assert_int_eq(canon_parse(S(""), &a), -1);
	ck_assert_int_eq(canon_parse("relaxedX", 7, &a), 0);	/* length bounds the compare */
	ck_assert_str_eq(canon_name(CANON_SIMPLE), "simple");
	ck_assert_str_eq(canon_name(CANON_RELAXED), "relaxed");
}
END_TEST

static Suite *
canon_suite(void)
{
	Suite *s = suite_create("canon");
	TCase *rfc = tu_tcase("rfc6376");
	TCase *tab = tu_tcase("table");
	TCase *prop = tu_tcase("chunking");
	TCase *hdr = tu_tcase("header");

	tcase_add_test(rfc, rfc6376_example_headers_canonicalize_as_printed);
	tcase_add_test(rfc, rfc6376_example_body_digest_is_sha256_of_printed_form);
	tcase_add_test(rfc, empty_body_digests_match_rfc4871_errata);
	suite_add_tcase(s, rfc);

	tcase_add_loop_test(tab, table_bodies_canonicalize_as_written, 0,
	    sizeof(bodies) / sizeof(bodies[0]));
	tcase_add_test(tab, length_counts_past_the_limit);
	suite_add_tcase(s, tab);

	tcase_set_timeout(prop, 120);
	tcase_add_loop_test(prop, digest_independent_of_chunking_and_equal_to_reference, 0, 10);
	tcase_add_loop_test(prop, table_bodies_independent_of_chunking, 0,
	    sizeof(bodies) / sizeof(bodies[0]));
	tcase_add_loop_test(prop, long_bodies_independent_of_chunking, 0, 3);
	tcase_add_test(prop, ten_megabytes_of_crlf_is_the_empty_body);
	suite_add_tcase(s, prop);

	tcase_add_loop_test(hdr, header_fields_canonicalize_as_written, 0,
	    sizeof(headers) / sizeof(headers[0]));
	tcase_add_test(hdr, header_canon_fails_when_output_is_full);
	tcase_add_test(hdr, canon_names_parse_exactly);
	suite_add_tcase(s, hdr);
	return s;
}

int
main(void)
{
	return tu_run(canon_suite());
}
