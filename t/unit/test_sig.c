/*
 * test_sig.c - DKIM-Signature parsing and validation (every permerror cause
 * with its reason), the fields of well-formed signatures, and formatting
 * round trips through the parser.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim.h"
#include "sig.h"
#include "testutil.h"

#define NOW 1700000000LL
#define BH "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="
#define B "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ=="

/* The signature every case starts from, tag by tag. */
static const char *const base_tags[] = {
	"v=1", "a=rsa-sha256", "c=relaxed/simple", "d=example.com", "s=sel",
	"h=From:To:Subject", "bh=" BH, "b=" B,
};
#define NBASE (sizeof(base_tags) / sizeof(base_tags[0]))

/*
 * The base signature with edits applied: "-n" removes tag n, "n=v" replaces
 * tag n or, when absent, adds it before b=. Edits are separated by '|'.
 */
static char *
build(const char *edits)
{
	const char *tags[NBASE + 16];
	char *own[16];
	size_t nt = NBASE, no = 0, i;
	struct buf out;
	const char *e = edits;

	memcpy(tags, base_tags, sizeof(base_tags));
	while (e != NULL && *e != '\0') {
		const char *bar = strchr(e, '|');
		size_t len = bar ? (size_t)(bar - e) : strlen(e), nlen;
		int remove = e[0] == '-';
		const char *name = remove ? e + 1 : e;
		char *edit = strndup(e, len);

		ck_assert_ptr_nonnull(edit);
		own[no++] = edit;
		nlen = remove ? len - 1 : (size_t)(strchr(edit, '=') - edit);
		for (i = 0; i < nt; i++)
			if (strncmp(tags[i], name, nlen) == 0 && tags[i][nlen] == '=')
				break;
		if (remove) {
			ck_assert_msg(i < nt, "edit %s: no such tag", edit);
			memmove(&tags[i], &tags[i + 1], (nt - i - 1) * sizeof(tags[0]));
			nt--;
		} else if (i < nt)
			tags[i] = edit;
		else {
			tags[nt] = tags[nt - 1];	/* keep b= last */
			tags[nt - 1] = edit;
			nt++;
		}
		e = bar ? bar + 1 : NULL;
	}
	buf_init(&out, 1 << 16);
	ck_assert_int_eq(buf_puts(&out, "DKIM-Signature: "), 0);
	for (i = 0; i < nt; i++)
		ck_assert_int_eq(buf_printf(&out, "%s%s", i ? "; " : "", tags[i]), 0);
	for (i = 0; i < no; i++)
		free(own[i]);
	return buf_steal(&out);
}

static const struct {
	const char *what;
	const char *edits;
	enum dkim_status want;
	const char *reason;	/* substring of the reason, when not a pass */
} cases[] = {
	{ "base signature", "", DKIM_PASS, NULL },
	{ "missing v=", "-v", DKIM_PERMERROR, "v= missing" },
	{ "missing a=", "-a", DKIM_PERMERROR, "a= missing" },
	{ "missing b=", "-b", DKIM_PERMERROR, "b= missing" },
	{ "missing bh=", "-bh", DKIM_PERMERROR, "bh= missing" },
	{ "missing d=", "-d", DKIM_PERMERROR, "d= missing" },
	{ "missing h=", "-h", DKIM_PERMERROR, "h= missing" },
	{ "missing s=", "-s", DKIM_PERMERROR, "s= missing" },
	{ "v=2", "v=2", DKIM_PERMERROR, "version" },
	{ "v=1.0", "v=1.0", DKIM_PERMERROR, "version" },
	{ "empty v=", "v=", DKIM_PERMERROR, "version" },
	{ "unknown a=", "a=rsa-sha512", DKIM_PERMERROR, "algorithm" },
	{ "a= in upper case", "a=RSA-SHA256", DKIM_PERMERROR, "algorithm" },
	{ "ed25519 with sha1", "a=ed25519-sha1", DKIM_PERMERROR, "algorithm" },
	{ "unknown body c=", "c=relaxed/fancy", DKIM_PERMERROR, "canonicalization" },
	{ "unknown header c=", "c=fancy/simple", DKIM_PERMERROR, "canonicalization" },
	{ "empty body c=", "c=relaxed/", DKIM_PERMERROR, "canonicalization" },
	{ "c= in upper case", "c=Relaxed", DKIM_PERMERROR, "canonicalization" },
	{ "three-part c=", "c=relaxed/simple/simple", DKIM_PERMERROR, "canonicalization" },
	{ "q= without dns/txt", "q=dns", DKIM_PERMERROR, "q=" },
	{ "q= other method", "q=http/well-known", DKIM_PERMERROR, "q=" },
	{ "q= empty", "q=", DKIM_PERMERROR, "q=" },
	{ "q= lists dns/txt second", "q=foo/bar:dns/txt", DKIM_PASS, NULL },
	{ "q=dns/txt", "q=dns/txt", DKIM_PASS, NULL },
	{ "i= of another domain", "i=@other.com", DKIM_PERMERROR, "not within" },
	{ "i= with d= only as suffix", "i=user@notexample.com", DKIM_PERMERROR,
	  "not within" },
	{ "i= parent of d=", "d=mail.example.com|i=@example.com", DKIM_PERMERROR,
	  "not within" },
	{ "i= without @", "i=example.com", DKIM_PERMERROR, "identity" },
	{ "i= subdomain of d=", "i=user@sub.example.com", DKIM_PASS, NULL },
	{ "i= equal to d= in another case", "i=@EXAMPLE.com", DKIM_PASS, NULL },
	{ "h= without From", "h=To:Subject", DKIM_PERMERROR, "From" },
	{ "h= with an empty element", "h=From::To", DKIM_PERMERROR, "empty header name" },
	{ "h= with a trailing colon", "h=From:To:", DKIM_PERMERROR, "empty header name" },
	{ "h= with a leading colon", "h=:From", DKIM_PERMERROR, "empty header name" },
	{ "h= empty", "h=", DKIM_PERMERROR, "empty header name" },
	{ "h= name with a space inside", "h=From:Sub ject", DKIM_PERMERROR, "header name" },
	{ "h= name with a control character", "h=From:Sub\177ject", DKIM_PERMERROR, NULL },
	{ "h= with folding around names", "h=from :\r\n\tto : subject", DKIM_PASS, NULL },
	{ "l= not a number", "l=abc", DKIM_PERMERROR, "l=" },
	{ "l= negative", "l=-1", DKIM_PERMERROR, "l=" },
	{ "l= empty", "l=", DKIM_PERMERROR, "l=" },
	{ "l= with a sign", "l=+5", DKIM_PERMERROR, "l=" },
	{ "l= huge is capped, not an error", "l=99999999999999999999999999999999", DKIM_PASS,
	  NULL },
	{ "t= not a number", "t=yesterday", DKIM_PERMERROR, "t=" },
	{ "t= too many digits", "t=1234567890123", DKIM_PERMERROR, "t=" },
	{ "t= negative", "t=-5", DKIM_PERMERROR, "t=" },
	{ "x= not a number", "x=soon", DKIM_PERMERROR, "x=" },
	{ "x= too many digits", "x=1234567890123", DKIM_PERMERROR, "x=" },
	{ "x= before t=", "t=1700000000|x=1699999999", DKIM_PERMERROR, "before" },
	{ "x= equal to t=", "t=1700000000|x=1700000000", DKIM_PASS, NULL },
	{ "expired long ago", "x=1000000000", DKIM_PERMERROR, "expired" },
	{ "expired just past the allowance", "x=1699999699", DKIM_PERMERROR, "expired" },
	{ "expired within the allowance", "x=1699999700", DKIM_PASS, NULL },
	{ "expired a little, within the allowance", "x=1699999900", DKIM_PASS, NULL },
	{ "x= in the future", "x=1800000000", DKIM_PASS, NULL },
	{ "bad base64 in b=", "b=abc!def", DKIM_PERMERROR, "b=" },
	{ "bad padding in b=", "b=YQ=", DKIM_PERMERROR, "b=" },
	{ "empty b=", "b=", DKIM_PERMERROR, "empty signature" },
	{ "bad base64 in bh=", "bh=####", DKIM_PERMERROR, "bh=" },
	{ "empty bh=", "bh=", DKIM_PERMERROR, "bh=" },
	{ "bh= too long", "bh=" BH BH BH, DKIM_PERMERROR, "bh=" },
	{ "b= folded is fine", "b=dGhpcyBpcyBub3Qg\r\n\tYSByZWFsIHNpZ25hdHVyZQ==", DKIM_PASS,
	  NULL },
	{ "d= with non-ASCII bytes", "d=ex\xc3\xa4mple.com", DKIM_PERMERROR, "d=" },
	{ "d= with a space", "d=ex ample.com", DKIM_PERMERROR, "d=" },
	{ "d= with an empty label", "d=example..com", DKIM_PERMERROR, "d=" },
	{ "d= starting with a dot", "d=.example.com", DKIM_PERMERROR, "d=" },
	{ "d= with a label over 63", "d=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
	  DKIM_PERMERROR, "d=" },
	{ "s= with non-ASCII bytes", "s=s\xc3\xa9l", DKIM_PERMERROR, "s=" },
	{ "s= with a slash", "s=a/b", DKIM_PERMERROR, "s=" },
	{ "s= with dots", "s=2024.mail", DKIM_PASS, NULL },
	{ "rsa-sha1 parses (refused later, by the verifier)", "a=rsa-sha1", DKIM_PASS, NULL },
	{ "unknown tags are ignored", "z=whatever; q2=x", DKIM_PASS, NULL },
};

START_TEST(each_case_gives_the_expected_status_and_reason)
{
	char *field = build(cases[_i].edits);
	char reason[LIMIT_REASON] = "";
	struct sig sg;
	enum dkim_status st = sig_parse(&sg, field, strlen(field), (time_t)NOW, reason,
	    sizeof(reason));

	ck_assert_msg(st == cases[_i].want, "%s: got %s (%s), want %s\n%s", cases[_i].what,
	    dkim_status_name(st), reason, dkim_status_name(cases[_i].want), field);
	if (st != DKIM_PASS) {
		ck_assert_msg(reason[0] != '\0', "%s: no reason", cases[_i].what);
		if (cases[_i].reason != NULL)
			ck_assert_msg(strstr(reason, cases[_i].reason) != NULL,
			    "%s: reason '%s' lacks '%s'", cases[_i].what, reason,
			    cases[_i].reason);
	}
	sig_free(&sg);
	free(field);
}
END_TEST

/* Fields that are not even tag lists. */
static const struct {
	const char *what;
	const char *field;
	size_t len;
	const char *reason;
} raw_cases[] = {
	{ "duplicate d=", "DKIM-Signature: v=1; a=rsa-sha256; d=a.com; d=b.com; s=s; "
	  "h=from; bh=" BH "; b=" B, 0, "duplicate" },
	{ "syntax error", "DKIM-Signature: v=1; a", 0, "syntax" },
	{ "empty value list", "DKIM-Signature:", 0, "syntax" },
	{ "NUL byte", "DKIM-Signature: v=1; a=rsa-sha256; d=example.com\0; s=sel; "
	  "h=from; bh=" BH "; b=" B, 93, "NUL" },
	{ "control character", "DKIM-Signature: v=1; a=rsa-sha256\033; d=example.com; "
	  "s=sel; h=from; bh=" BH "; b=" B, 0, "control character" },
	{ "no colon at all", "DKIM-Signature v=1 a=rsa-sha256", 0, NULL },
	{ "empty field", "", 0, NULL },
};

START_TEST(malformed_fields_are_permerror)
{
	const char *f = raw_cases[_i].field;
	size_t len = raw_cases[_i].len ? raw_cases[_i].len : strlen(f);
	char reason[LIMIT_REASON] = "";
	struct sig sg;
	enum dkim_status st = sig_parse(&sg, f, len, (time_t)NOW, reason, sizeof(reason));

	ck_assert_msg(st == DKIM_PERMERROR, "%s: got %s", raw_cases[_i].what,
	    dkim_status_name(st));
	ck_assert_msg(reason[0] != '\0', "%s: no reason", raw_cases[_i].what);
	if (raw_cases[_i].reason != NULL)
		ck_assert_msg(strstr(reason, raw_cases[_i].reason) != NULL, "%s: reason '%s'",
		    raw_cases[_i].what, reason);
	sig_free(&sg);
}
END_TEST

START_TEST(parsed_fields_are_right)
{
	static const char field[] =
	    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
	    "\td=example.com; s=brisbane; i=joe=40Mail.Example.com;\r\n"
	    "\tl=123; t=1699999000; x=1700086400; q=dns/txt;\r\n"
	    "\th=From : TO:subject:Date:from; bh=" BH ";\r\n"
	    "\tb=dGhpcyBpcyBub3Qg\r\n\tYSByZWFsIHNpZ25hdHVyZQ==";
	static const char *const names[] = { "from", "to", "subject", "date", "from" };
	char reason[LIMIT_REASON] = "";
	struct sig sg;
	size_t k;

	ck_assert_msg(sig_parse(&sg, field, strlen(field), (time_t)NOW, reason,
	    sizeof(reason)) == DKIM_PASS, "%s", reason);
	ck_assert_int_eq(sg.alg, SIG_ED25519_SHA256);
	ck_assert_str_eq(sg.a_text, "ed25519-sha256");
	ck_assert_int_eq(sg.hcanon, CANON_RELAXED);
	ck_assert_int_eq(sg.bcanon, CANON_RELAXED);
	ck_assert_str_eq(sg.d, "example.com");
	ck_assert_str_eq(sg.s, "brisbane");
	ck_assert_str_eq(sg.i, "joe@Mail.Example.com");	/* dkim-quoted-printable */
	ck_assert_int_eq(sg.l, 123);
	ck_assert_int_eq(sg.t, 1699999000);
	ck_assert_int_eq(sg.x, 1700086400);
	ck_assert_uint_eq(sg.nh, 5);
	for (k = 0; k < 5; k++)
		ck_assert_str_eq(sg.hnames[k], names[k]);
	ck_assert_uint_eq(sg.bhlen, 32);
	ck_assert_uint_eq(sg.blen, strlen("this is not a real signature"));
	ck_assert_mem_eq(sg.b, "this is not a real signature", sg.blen);
	ck_assert_int_eq(strncmp(sg.b64_prefix, "dGhpcyBpcyBub3Qg", 8), 0);
	ck_assert_uint_eq(sg.field_len, strlen(field));
	/* The b= span covers the whole value and nothing after it. */
	ck_assert_uint_eq(sg.b_end, strlen(field));
	ck_assert_int_eq(memcmp(field + sg.b_start - 2, "b=", 2), 0);
	sig_free(&sg);
}
END_TEST

/*
 * The span emptied for hashing starts right after "b=": a fold between '='
 * and the value belongs to it (RFC 6376 3.7, "including all surrounding
 * whitespace"); the signer hashed "b=" with nothing after it.
 */
static const struct {
	const char *tail;	/* the field from "b=" on */
	const char *blanked;	/* what is left of it */
} bspans[] = {
	{ "b=" B, "b=" },
	{ "b=\r\n\t" B, "b=" },
	{ "b= \t" B " ", "b=" },
	{ "b=\r\n " B ";\r\n\tz=1", "b=;\r\n\tz=1" },
	{ "b=dGhpcyBpcyBub3Qg\r\n\tYSByZWFsIHNpZ25hdHVyZQ==", "b=" },
};

START_TEST(b_span_covers_value_and_surrounding_whitespace)
{
	struct buf f, blanked;
	char reason[LIMIT_REASON] = "";
	struct sig sg;
	const char *tail;

	buf_init(&f, 4096);
	buf_init(&blanked, 4096);
	ck_assert_int_eq(buf_printf(&f, "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; "
	    "s=sel; h=from; bh=%s; %s", BH, bspans[_i].tail), 0);
	ck_assert_msg(sig_parse(&sg, f.data, f.len, (time_t)NOW, reason, sizeof(reason)) ==
	    DKIM_PASS, "%s", reason);
	ck_assert_uint_le(sg.b_start, sg.b_end);
	ck_assert_int_eq(buf_append(&blanked, f.data, sg.b_start), 0);
	ck_assert_int_eq(buf_append(&blanked, f.data + sg.b_end, f.len - sg.b_end), 0);
	tail = strstr(buf_str(&blanked), "; b=");
	ck_assert_ptr_nonnull(tail);
	ck_assert_str_eq(tail + 2, bspans[_i].blanked);
	sig_free(&sg);
	buf_release(&f);
	buf_release(&blanked);
}
END_TEST

START_TEST(defaults_when_tags_are_absent)
{
	char *f = build("-c");
	char reason[LIMIT_REASON] = "";
	struct sig sg;

	ck_assert_int_eq(sig_parse(&sg, f, strlen(f), (time_t)NOW, reason, sizeof(reason)),
	    DKIM_PASS);
	ck_assert_int_eq(sg.hcanon, CANON_SIMPLE);
	ck_assert_int_eq(sg.bcanon, CANON_SIMPLE);
	ck_assert_str_eq(sg.i, "@example.com");
	ck_assert_int_eq(sg.l, -1);
	ck_assert_int_eq(sg.t, -1);
	ck_assert_int_eq(sg.x, -1);
	ck_assert_int_eq(sg.alg, SIG_RSA_SHA256);
	ck_assert_uint_eq(sg.nh, 3);
	ck_assert_str_eq(sg.hnames[0], "from");
	ck_assert_str_eq(sg.hnames[2], "subject");
	sig_free(&sg);
	free(f);
	/* c=relaxed alone means relaxed/simple. */
	f = build("c=relaxed");
	ck_assert_int_eq(sig_parse(&sg, f, strlen(f), (time_t)NOW, reason, sizeof(reason)),
	    DKIM_PASS);
	ck_assert_int_eq(sg.hcanon, CANON_RELAXED);
	ck_assert_int_eq(sg.bcanon, CANON_SIMPLE);
	sig_free(&sg);
	free(f);
	f = build("c=simple/relaxed|a=rsa-sha1|l=99999999999999999999999");
	ck_assert_int_eq(sig_parse(&sg, f, strlen(f), (time_t)NOW, reason, sizeof(reason)),
	    DKIM_PASS);
	ck_assert_int_eq(sg.hcanon, CANON_SIMPLE);
	ck_assert_int_eq(sg.bcanon, CANON_RELAXED);
	ck_assert_int_eq(sg.alg, SIG_RSA_SHA1);
	ck_assert_int_gt(sg.l, 1000000000000LL);
	sig_free(&sg);
	free(f);
}
END_TEST

/* A broken signature still names its signer, so the report can say whose it was. */
START_TEST(identifying_tags_filled_even_on_error)
{
	static const char *const edits[] = {
		"v=2", "a=rsa-sha512", "c=bogus", "b=!!!", "bh=!!!", "h=to", "x=1",
		"q=dns", "l=x",
	};
	char reason[LIMIT_REASON];
	struct sig sg;
	size_t k;

	for (k = 0; k < sizeof(edits) / sizeof(edits[0]); k++) {
		char *f = build(edits[k]);

		ck_assert_int_eq(sig_parse(&sg, f, strlen(f), (time_t)NOW, reason,
		    sizeof(reason)), DKIM_PERMERROR);
		ck_assert_msg(strcmp(sg.d, "example.com") == 0 && strcmp(sg.s, "sel") == 0,
		    "%s: d='%s' s='%s'", edits[k], sg.d, sg.s);
		sig_free(&sg);
		free(f);
	}
}
END_TEST

static const struct {
	const char *field;
	int want;
} name_cases[] = {
	{ "DKIM-Signature: v=1", 1 },
	{ "dkim-signature: v=1", 1 },
	{ "DKIM-SIGNATURE:v=1", 1 },
	{ "DKIM-Signature \t: v=1", 1 },
	{ "DKIM-Signature:", 1 },
	{ "DKIM-Signatures: v=1", 0 },
	{ "DKIM-Signature", 0 },
	{ "X-DKIM-Signature: v=1", 0 },
	{ "DomainKey-Signature: a=rsa-sha1", 0 },
	{ "DKIM-Signatur: v=1", 0 },
	{ "", 0 },
};

START_TEST(field_name_matches_case_insensitively)
{
	const char *f = name_cases[_i].field;

	ck_assert_msg(sig_is_dkim_field(f, strlen(f)) == name_cases[_i].want, "'%s'", f);
}
END_TEST

START_TEST(lower_case_field_name_parses)
{
	char *f = build("");
	char reason[LIMIT_REASON];
	struct sig sg;

	memcpy(f, "dkim-SIGNATURE", 14);
	ck_assert_int_eq(sig_parse(&sg, f, strlen(f), (time_t)NOW, reason, sizeof(reason)),
	    DKIM_PASS);
	sig_free(&sg);
	free(f);
}
END_TEST

/* Format a signature, add b=, and parse it back: every field survives. */
START_TEST(formatted_signature_parses_back)
{
	static const char *const hn[] = {
		"from", "reply-to", "subject", "date", "to", "cc", "message-id",
		"mime-version", "content-type", "content-transfer-encoding", "from",
		"list-unsubscribe", "list-unsubscribe-post", "subject",
	};
	static const struct {
		enum sig_alg alg;
		enum canon_alg hc, bc;
		const char *d, *s, *i;
		long long t, x;
		size_t siglen;
	} specs[] = {
		{ SIG_RSA_SHA256, CANON_RELAXED, CANON_SIMPLE, "example.com", "sel", NULL, -1,
		  -1, 256 },
		{ SIG_ED25519_SHA256, CANON_SIMPLE, CANON_RELAXED, "mail.example.org",
		  "2024-ed", "@mail.example.org", 1700000000, 1700086400, 64 },
		{ SIG_RSA_SHA256, CANON_SIMPLE, CANON_SIMPLE, "a-very-long-subdomain-name."
		  "of-a-long-domain-name.example", "selector-with-a-long-name", "u@a-very-long"
		  "-subdomain-name.of-a-long-domain-name.example", 1700000000, -1, 512 },
	};
	size_t k, j;

	for (k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct sig_spec sp = {
			.alg = specs[k].alg, .hcanon = specs[k].hc, .bcanon = specs[k].bc,
			.d = specs[k].d, .s = specs[k].s, .i = specs[k].i,
			.hnames = hn, .nh = sizeof(hn) / sizeof(hn[0]),
			.t = specs[k].t, .x = specs[k].x,
		};
		unsigned char bh[32], b[512];
		char reason[LIMIT_REASON] = "";
		struct buf out;
		struct sig sg;
		const char *line;

		for (j = 0; j < sizeof(bh); j++)
			bh[j] = (unsigned char)(j * 7 + k);
		for (j = 0; j < specs[k].siglen; j++)
			b[j] = (unsigned char)(j * 13 + k);
		buf_init(&out, LIMIT_OUT_HEADER);
		ck_assert_int_eq(sig_format(&out, &sp, bh, sizeof(bh)), 0);
		ck_assert_int_eq(strncmp(buf_str(&out), "DKIM-Signature: v=1;", 20), 0);
		ck_assert_int_eq(strcmp(buf_str(&out) + out.len - 2, "b="), 0);
		ck_assert_int_eq(sig_append_b(&out, b, specs[k].siglen), 0);
		/* Lines are folded with CRLF TAB and kept to 78 columns (tab = 8). */
		for (line = buf_str(&out); line != NULL; ) {
			const char *nl = strstr(line, "\r\n");
			size_t n = nl ? (size_t)(nl - line) : strlen(line);

			ck_assert_msg(n + (line[0] == '\t' ? 7 : 0) <= 78, "line too long: %.*s",
			    (int)n, line);
			ck_assert_ptr_null(memchr(line, '\n', n));
			if (nl != NULL)
				ck_assert_int_eq(nl[2], '\t');
			line = nl ? nl + 2 : NULL;
		}
		ck_assert_msg(sig_parse(&sg, out.data, out.len, (time_t)NOW, reason,
		    sizeof(reason)) == DKIM_PASS, "%s\n%s", reason, out.data);
		ck_assert_int_eq(sg.alg, specs[k].alg);
		ck_assert_int_eq(sg.hcanon, specs[k].hc);
		ck_assert_int_eq(sg.bcanon, specs[k].bc);
		ck_assert_str_eq(sg.d, specs[k].d);
		ck_assert_str_eq(sg.s, specs[k].s);
		if (specs[k].i != NULL)
			ck_assert_str_eq(sg.i, specs[k].i);
		ck_assert_int_eq(sg.t, specs[k].t);
		ck_assert_int_eq(sg.x, specs[k].x);
		ck_assert_uint_eq(sg.nh, sp.nh);
		for (j = 0; j < sp.nh; j++)
			ck_assert_str_eq(sg.hnames[j], hn[j]);
		ck_assert_uint_eq(sg.bhlen, sizeof(bh));
		ck_assert_mem_eq(sg.bh, bh, sizeof(bh));
		ck_assert_uint_eq(sg.blen, specs[k].siglen);
		ck_assert_mem_eq(sg.b, b, specs[k].siglen);
		/* b= is the last tag: its span reaches the end of the field. */
		ck_assert_uint_eq(sg.b_end, out.len);
		sig_free(&sg);
		buf_release(&out);
	}
}
END_TEST

START_TEST(format_fails_cleanly_when_output_is_full)
{
	static const char *const hn[] = { "from" };
	struct sig_spec sp = {
		.alg = SIG_RSA_SHA256, .hcanon = CANON_RELAXED, .bcanon = CANON_RELAXED,
		.d = "example.com", .s = "sel", .hnames = hn, .nh = 1, .t = -1, .x = -1,
	};
	unsigned char bh[32] = { 0 }, b[256] = { 0 };
	struct buf out;

	buf_init(&out, 40);
	ck_assert_int_eq(sig_format(&out, &sp, bh, sizeof(bh)), -1);
	buf_release(&out);
	buf_init(&out, 200);
	ck_assert_int_eq(sig_format(&out, &sp, bh, sizeof(bh)), 0);
	ck_assert_int_eq(sig_append_b(&out, b, sizeof(b)), -1);
	buf_release(&out);
}
END_TEST

static Suite *
sig_suite(void)
{
	Suite *s = suite_create("sig");
	TCase *parse = tu_tcase("parse");
	TCase *fmt = tu_tcase("format");

	tcase_add_loop_test(parse, each_case_gives_the_expected_status_and_reason, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_loop_test(parse, malformed_fields_are_permerror, 0,
	    sizeof(raw_cases) / sizeof(raw_cases[0]));
	tcase_add_test(parse, parsed_fields_are_right);
	tcase_add_test(parse, defaults_when_tags_are_absent);
	tcase_add_loop_test(parse, b_span_covers_value_and_surrounding_whitespace, 0,
	    sizeof(bspans) / sizeof(bspans[0]));
	tcase_add_test(parse, identifying_tags_filled_even_on_error);
	tcase_add_loop_test(parse, field_name_matches_case_insensitively, 0,
	    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(parse, lower_case_field_name_parses);
	suite_add_tcase(s, parse);

	tcase_add_test(fmt, formatted_signature_parses_back);
	tcase_add_test(fmt, format_fails_cleanly_when_output_is_full);
	suite_add_tcase(s, fmt);
	return s;
}

int
main(void)
{
	return tu_run(sig_suite());
}
