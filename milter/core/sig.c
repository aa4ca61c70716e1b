/*
 * sig.c - DKIM-Signature parsing, validation and formatting (see sig.h).
 *
 * Each tag has its own small parser in a dispatch table; the table also says
 * which tags are required. Validation stops at the first error, which becomes
 * the reason reported for the signature.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "sig.h"
#include "tagval.h"

const char *
dkim_status_name(enum dkim_status st)
{
	switch (st) {
	case DKIM_NONE: return "none";
	case DKIM_PASS: return "pass";
	case DKIM_FAIL: return "fail";
	case DKIM_NEUTRAL: return "neutral";
	case DKIM_POLICY: return "policy";
	case DKIM_TEMPERROR: return "temperror";
	case DKIM_PERMERROR: return "permerror";
	}
	return "permerror";
}

const char *
sig_alg_name(enum sig_alg alg)
{
	switch (alg) {
	case SIG_RSA_SHA256: return "rsa-sha256";
	case SIG_ED25519_SHA256: return "ed25519-sha256";
	case SIG_RSA_SHA1: return "rsa-sha1";
	default: return "unknown";
	}
}

int
sig_is_dkim_field(const char *f, size_t len)
{
	size_t i = 14;

	if (len < 15 || strncasecmp(f, "DKIM-Signature", 14) != 0)
		return 0;
	while (i < len && (f[i] == ' ' || f[i] == '\t'))
		i++;
	return i < len && f[i] == ':';
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy a value into dst, failing when it does not fit. */
static int
copy_val(const struct tagval_pair *p, char *dst, size_t dstlen)
{
	if (p->vlen >= dstlen)
		return -1;
	memcpy(dst, p->val, p->vlen);
	dst[p->vlen] = '\0';
	return 0;
}

/* RFC 5321 sub-domain syntax, ASCII only (A-labels for IDNs). */
static int
valid_domain(const char *d)
{
	size_t label = 0, i;

	if (*d == '\0' || *d == '.')
		return 0;
	for (i = 0; d[i] != '\0'; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* Unsigned decimal of at most maxdigits digits; -1 when malformed. */
static long long
parse_num(const struct tagval_pair *p, size_t maxdigits, int saturate)
{
	long long v = 0;
	size_t i;

	if (p->vlen == 0 || (p->vlen > maxdigits && !saturate))
		return -1;
	for (i = 0; i < p->vlen; i++) {
		char c = p->val[i];

		if (c < '0' || c > '9')
			return -1;
		if (v > (0x7fffffffffffffffLL - 9) / 10) {
			if (!saturate)
				return -1;
			/* l= beyond any real body: cap, the body will be shorter. */
			v = 0x7fffffffffffffffLL;
			continue;
		}
		v = v * 10 + (c - '0');
	}
	return v;
}

struct parse_ctx {
	struct sig *sg;
	const char *why;
};

typedef int (*tag_fn)(struct parse_ctx *, const struct tagval_pair *);

static int
tag_v(struct parse_ctx *pc, const struct tagval_pair *p)
{
	if (!tagval_is(p, "1")) {
		pc->why = "unsupported version (v= is not 1)";
		return -1;
	}
	return 0;
}

static int
tag_a(struct parse_ctx *pc, const struct tagval_pair *p)
{
	struct sig *sg = pc->sg;

	copy_val(p, sg->a_text, sizeof(sg->a_text));
	if (tagval_is(p, "rsa-sha256"))
		sg->alg = SIG_RSA_SHA256;
	else if (tagval_is(p, "ed25519-sha256"))
		sg->alg = SIG_ED25519_SHA256;
	else if (tagval_is(p, "rsa-sha1"))
		sg->alg = SIG_RSA_SHA1;	/* refused after it is evaluated: dkim.c */
	else {
		pc->why = "unknown signature algorithm (a=)";
		return -1;
	}
	return 0;
}

static int
tag_c(struct parse_ctx *pc, const struct tagval_pair *p)
{
	const char *slash = memchr(p->val, '/', p->vlen);
	size_t hl = slash ? (size_t)(slash - p->val) : p->vlen;

	if (canon_parse(p->val, hl, &pc->sg->hcanon) < 0 ||
	    (slash && canon_parse(slash + 1, p->vlen - hl - 1, &pc->sg->bcanon) < 0)) {
		pc->why = "unknown canonicalization (c=)";
		return -1;
	}
	if (!slash)
		pc->sg->bcanon = CANON_SIMPLE;
	return 0;
}

static int
tag_d(struct parse_ctx *pc, const struct tagval_pair *p)
{
	if (copy_val(p, pc->sg->d, sizeof(pc->sg->d)) < 0 || !valid_domain(pc->sg->d)) {
		pc->why = "invalid signing domain (d=)";
		pc->sg->d[0] = '\0';
		return -1;
	}
	return 0;
}

static int
tag_s(struct parse_ctx *pc, const struct tagval_pair *p)
{
	if (copy_val(p, pc->sg->s, sizeof(pc->sg->s)) < 0 || !valid_domain(pc->sg->s)) {
		pc->why = "invalid selector (s=)";
		pc->sg->s[0] = '\0';
		return -1;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decode dkim-quoted-printable (RFC 6376 section 2.11): "=XX" is one octet,
 * whitespace is dropped. -1 when malformed, too long, or it decodes to a
 * control character.
 */
static int
qp_decode(const struct tagval_pair *p, char *dst, size_t dstlen)
{
	size_t i, o = 0;

	for (i = 0; i < p->vlen; i++) {
		int c = (unsigned char)p->val[i];

		if (is_ws((char)c))
			continue;
		if (c == '=') {
			int hi, lo;

			if (i + 2 >= p->vlen)
				return -1;
			if ((hi = hexval(p->val[i + 1])) < 0 ||
			    (lo = hexval(p->val[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= dstlen)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
tag_i(struct parse_ctx *pc, const struct tagval_pair *p)
{
	/* i= is dkim-quoted-printable (RFC 6376 3.5): "jlong=40example.com". */
	if (qp_decode(p, pc->sg->i, sizeof(pc->sg->i)) < 0 ||
	    strchr(pc->sg->i, '@') == NULL) {
		pc->why = "invalid identity (i=)";
		pc->sg->i[0] = '\0';
		return -1;
	}
	return 0;
}

static int
tag_h(struct parse_ctx *pc, const struct tagval_pair *p)
{
	struct sig *sg = pc->sg;
	size_t i = 0;

	while (i <= p->vlen) {
		size_t s, e;

		while (i < p->vlen && is_ws(p->val[i]))
			i++;
		s = i;
		while (i < p->vlen && p->val[i] != ':')
			i++;
		e = i;
		while (e > s && is_ws(p->val[e - 1]))
			e--;
		if (e == s) {
			pc->why = "empty header name in h=";
			return -1;
		}
		if (sg->nh == LIMIT_SIGNED_HEADERS) {
			pc->why = "too many header names in h=";
			return -1;
		}
		if ((sg->hnames[sg->nh] = malloc(e - s + 1)) == NULL) {
			pc->why = "out of memory";
			return -1;
		}
		for (size_t k = 0; k < e - s; k++) {
			unsigned char c = (unsigned char)p->val[s + k];

			if (c <= ' ' || c >= 0x7f) {
				free(sg->hnames[sg->nh]);
				sg->hnames[sg->nh] = NULL;
				pc->why = "invalid header name in h=";
				return -1;
			}
			sg->hnames[sg->nh][k] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
		sg->hnames[sg->nh][e - s] = '\0';
		sg->nh++;
		i++;	/* past ':' (or past the end) */
	}
	return 0;
}

static int
tag_bh(struct parse_ctx *pc, const struct tagval_pair *p)
{
	long n = crypto_b64_decode(p->val, p->vlen, pc->sg->bh, sizeof(pc->sg->bh));

	if (n <= 0) {
		pc->why = "body hash (bh=) is not valid base64";
		return -1;
	}
	pc->sg->bhlen = (size_t)n;
	return 0;
}

static int
tag_b(struct parse_ctx *pc, const struct tagval_pair *p)
{
	struct sig *sg = pc->sg;
	long n;

	tagval_compact(p, sg->b64_prefix, sizeof(sg->b64_prefix));
	n = crypto_b64_decode(p->val, p->vlen, sg->b, sizeof(sg->b));
	if (n <= 0) {
		pc->why = n == 0 ? "empty signature (b=)" : "signature (b=) is not valid base64";
		return -1;
	}
	sg->blen = (size_t)n;
	return 0;
}

static int
tag_l(struct parse_ctx *pc, const struct tagval_pair *p)
{
	if ((pc->sg->l = parse_num(p, 76, 1)) < 0) {
		pc->why = "invalid body length (l=)";
		return -1;
	}
	return 0;
}

static int
tag_q(struct parse_ctx *pc, const struct tagval_pair *p)
{
	size_t i = 0;

	/* A colon-separated list that must offer dns/txt. */
	while (i < p->vlen) {
		size_t s, e;

		while (i < p->vlen && is_ws(p->val[i]))
			i++;
		s = i;
		while (i < p->vlen && p->val[i] != ':')
			i++;
		e = i;
		while (e > s && is_ws(p->val[e - 1]))
			e--;
		if (e - s == 7 && strncasecmp(p->val + s, "dns/txt", 7) == 0)
			return 0;
		i++;
	}
	pc->why = "no supported query method (q= lacks dns/txt)";
	return -1;
}

static int
tag_t(struct parse_ctx *pc, const struct tagval_pair *p)
{
	if ((pc->sg->t = parse_num(p, 12, 0)) < 0) {
		pc->why = "invalid timestamp (t=)";
		return -1;
	}
	return 0;
}

static int
tag_x(struct parse_ctx *pc, const struct tagval_pair *p)
{
	if ((pc->sg->x = parse_num(p, 12, 0)) < 0) {
		pc->why = "invalid expiry (x=)";
		return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	tag_fn fn;
	int required;
} tags[] = {
	/* d=, s= and b= first: they name the signature in the report. */
	{ "d", tag_d, 1 },
	{ "s", tag_s, 1 },
	{ "b", tag_b, 1 },
	{ "v", tag_v, 1 },
	{ "a", tag_a, 1 },
	{ "bh", tag_bh, 1 },
	{ "h", tag_h, 1 },
	{ "c", tag_c, 0 },
	{ "i", tag_i, 0 },
	{ "l", tag_l, 0 },
	{ "q", tag_q, 0 },
	{ "t", tag_t, 0 },
	{ "x", tag_x, 0 },
};

/* 1 when i's domain is d or a subdomain of it. */
static int
identity_within(const char *i, const char *d)
{
	const char *at = strrchr(i, '@');
	size_t il, dl = strlen(d);

	if (at == NULL)
		return 0;
	at++;
	il = strlen(at);
	if (il == dl)
		return strcasecmp(at, d) == 0;
	return il > dl && at[il - dl - 1] == '.' && strcasecmp(at + il - dl, d) == 0;
}

enum dkim_status
sig_parse(struct sig *sg, const char *field, size_t len, time_t now, char *reason,
    size_t reasonlen)
{
	struct tagval tv;
	struct parse_ctx pc = { .sg = sg };
	const char *colon, *err;
	const struct tagval_pair *bp;
	size_t off, k, j;
	int from = 0;

	memset(sg, 0, sizeof(*sg));
	sg->alg = SIG_ALG_UNKNOWN;
	sg->l = sg->t = sg->x = -1;
	sg->hcanon = sg->bcanon = CANON_SIMPLE;
	if ((sg->field = malloc(len + 1)) == NULL) {
		str_copy(reason, "out of memory", reasonlen);
		return DKIM_TEMPERROR;
	}
	memcpy(sg->field, field, len);
	sg->field[len] = '\0';
	sg->field_len = len;
	if (memchr(field, '\0', len) != NULL) {
		str_copy(reason, "NUL byte in signature", reasonlen);
		return DKIM_PERMERROR;
	}
	if ((colon = memchr(sg->field, ':', len)) == NULL) {
		str_copy(reason, "not a header field (no colon)", reasonlen);
		return DKIM_PERMERROR;
	}
	off = (size_t)(colon - sg->field) + 1;
	if (tagval_parse(&tv, sg->field + off, len - off, &err) < 0) {
		snprintf(reason, reasonlen, "signature syntax error: %s", err);
		return DKIM_PERMERROR;
	}
	/* The identifying tags first, so even a broken signature can be reported. */
	for (k = 0; k < sizeof(tags) / sizeof(tags[0]); k++) {
		const struct tagval_pair *p = tagval_get(&tv, tags[k].name);

		if (p == NULL) {
			if (tags[k].required && pc.why == NULL) {
				snprintf(reason, reasonlen, "required tag %s= missing",
				    tags[k].name);
				pc.why = "";
			}
			continue;
		}
		if (tags[k].fn(&pc, p) < 0)
			break;
	}
	if (pc.why != NULL) {
		if (*pc.why != '\0')
			str_copy(reason, pc.why, reasonlen);
		return DKIM_PERMERROR;
	}
	bp = tagval_get(&tv, "b");
	sg->b_start = off + bp->val_off;
	/*
	 * b= is emptied from just after its '=' (a fold before the value goes
	 * too: RFC 6376 3.7, "including all surrounding whitespace") up to the
	 * next ';' (or the end), whitespace included.
	 */
	while (sg->b_start > 0 && is_ws(sg->field[sg->b_start - 1]))
		sg->b_start--;
	for (sg->b_end = sg->b_start; sg->b_end < len && sg->field[sg->b_end] != ';';)
		sg->b_end++;
	for (j = 0; j < sg->nh; j++)
		if (strcmp(sg->hnames[j], "from") == 0)
			from = 1;
	if (!from) {
		str_copy(reason, "From is not among the signed headers (h=)", reasonlen);
		return DKIM_PERMERROR;
	}
	if (sg->i[0] == '\0')
		snprintf(sg->i, sizeof(sg->i), "@%s", sg->d);
	else if (!identity_within(sg->i, sg->d)) {
		str_copy(reason, "identity (i=) is not within the signing domain (d=)",
		    reasonlen);
		return DKIM_PERMERROR;
	}
	if (sg->t >= 0 && sg->x >= 0 && sg->x < sg->t) {
		str_copy(reason, "expiry (x=) is before the timestamp (t=)", reasonlen);
		return DKIM_PERMERROR;
	}
	if (sg->x >= 0 && (long long)now > sg->x + SIG_CLOCK_ALLOWANCE) {
		str_copy(reason, "signature expired (x=)", reasonlen);
		return DKIM_PERMERROR;
	}
	return DKIM_PASS;
}

void
sig_free(struct sig *sg)
{
	size_t i;

	if (sg == NULL)
		return;
	for (i = 0; i < sg->nh; i++)
		free(sg->hnames[i]);
	sg->nh = 0;
	free(sg->field);
	sg->field = NULL;
}

/*
 * Append text to out, folding first when the line would pass 78 columns;
 * sep says whether a space separates it from what precedes on the same line.
 */
static int
put_folded(struct buf *out, size_t *col, const char *text, int sep)
{
	size_t n = strlen(text);

	if (*col + n + (size_t)sep > 78 && *col > 8) {
		if (buf_puts(out, "\r\n\t") < 0)
			return -1;
		*col = 8;
	} else if (sep) {
		if (buf_putc(out, ' ') < 0)
			return -1;
		(*col)++;
	}
	if (buf_append(out, text, n) < 0)
		return -1;
	*col += n;
	return 0;
}

int
sig_format(struct buf *out, const struct sig_spec *sp, const unsigned char *bh,
    size_t bhlen)
{
	char tmp[LIMIT_DOMAIN + 200], b64[128];
	size_t col = 15, k;

	if (buf_puts(out, "DKIM-Signature:") < 0)
		return -1;
#define PUT(sep, ...) do { snprintf(tmp, sizeof(tmp), __VA_ARGS__); \
	if (put_folded(out, &col, tmp, sep) < 0) return -1; } while (0)
	PUT(1, "v=1;");
	PUT(1, "a=%s;", sig_alg_name(sp->alg));
	PUT(1, "c=%s/%s;", canon_name(sp->hcanon), canon_name(sp->bcanon));
	PUT(1, "d=%s;", sp->d);
	PUT(1, "s=%s;", sp->s);
	if (sp->i != NULL && *sp->i != '\0')
		PUT(1, "i=%s;", sp->i);
	if (sp->t >= 0)
		PUT(1, "t=%lld;", sp->t);
	if (sp->x >= 0)
		PUT(1, "x=%lld;", sp->x);
	/* h= may fold after any colon; each name stays whole. */
	for (k = 0; k < sp->nh; k++)
		PUT(k == 0, "%s%s%s", k == 0 ? "h=" : "", sp->hnames[k],
		    k + 1 == sp->nh ? ";" : ":");
	crypto_b64_encode(bh, bhlen, b64);
	PUT(1, "bh=%s;", b64);
	PUT(1, "b=");
#undef PUT
	return 0;
}

int
sig_append_b(struct buf *out, const unsigned char *b, size_t blen)
{
	char b64[LIMIT_SIG_BYTES * 2];
	size_t n = crypto_b64_encode(b, blen, b64), i, col;
	const char *nl;

	/* Column of the last line (a fold starts it with a tab: 8 columns). */
	nl = strrchr(buf_str(out), '\n');
	col = nl ? out->len - (size_t)(nl + 1 - out->data) + 7 : out->len;
	for (i = 0; i < n;) {
		size_t room = col < 76 ? 76 - col : 0, take;

		if (room == 0) {
			if (buf_puts(out, "\r\n\t") < 0)
				return -1;
			col = 8;
			continue;
		}
		take = n - i < room ? n - i : room;
		if (buf_append(out, b64 + i, take) < 0)
			return -1;
		i += take;
		col += take;
	}
	return 0;
}
