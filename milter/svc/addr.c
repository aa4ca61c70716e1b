/*
 * addr.c - strict From: parsing and domain validation (see addr.h).
 *
 * A recursive-descent parser over the field body. It backtracks in one
 * place only: a mailbox that starts like an addr-spec but reaches no '@'
 * is read again as a display name. Once an '@' is seen the address is
 * committed: whatever is wrong with it makes the whole field refused,
 * which is what keeps "alice@example.com; dkim=pass" and friends out of
 * the Authentication-Results field and out of DNS.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "addr.h"
#include "buf.h"

struct pstate {
	const unsigned char *p;
	const char *why;		/* first error seen */
	int n;				/* mailboxes */
	struct addr_from *out;
};

static int
bad(struct pstate *st, const char *why)
{
	if (st->why == NULL)
		st->why = why;
	return -1;
}

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 atext, plus any 8-bit byte (RFC 6532 UTF-8). */
static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL) || c >= 0x80;
}

/* A line break is only allowed as folding: CRLF or LF, then white space. */
static int
fold(struct pstate *st)
{
	const unsigned char *q = st->p;

	if (*q == '\r')
		q++;
	if (*q != '\n')
		return bad(st, "bare CR in the field");
	q++;
	if (!is_wsp(*q))
		return bad(st, "line break not followed by white space");
	st->p = q;
	return 0;
}

/* [CFWS]: white space, folds and (nested) comments. */
static int
cfws(struct pstate *st)
{
	for (;;) {
		if (is_wsp(*st->p))
			st->p++;
		else if (*st->p == '\r' || *st->p == '\n') {
			if (fold(st) < 0)
				return -1;
		} else if (*st->p == '(') {
			int depth = 0;

			do {
				unsigned char c = *st->p;

				if (c == '\0')
					return bad(st, "unterminated comment");
				if (c == '\\') {
					if (st->p[1] == '\0')
						return bad(st, "unterminated comment");
					st->p += 2;
					continue;
				}
				if (c == '\r' || c == '\n') {
					if (fold(st) < 0)
						return -1;
					continue;
				}
				if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
				st->p++;
			} while (depth > 0);
		} else
			return 0;
	}
}

static int
quoted_string(struct pstate *st)
{
	st->p++;
	for (;;) {
		unsigned char c = *st->p;

		if (c == '\0')
			return bad(st, "unterminated quoted string");
		if (c == '"') {
			st->p++;
			return 0;
		}
		if (c == '\\') {
			if (st->p[1] == '\0')
				return bad(st, "unterminated quoted string");
			st->p += 2;
		} else if (c == '\r' || c == '\n') {
			if (fold(st) < 0)
				return -1;
		} else
			st->p++;
	}
}

/* 1*atext *("." 1*atext); 0 when there is none, -1 on a stray dot. */
static int
dot_atom_text(struct pstate *st, const unsigned char **start, size_t *len)
{
	const unsigned char *s = st->p;

	if (!is_atext(*st->p))
		return 0;
	for (;;) {
		while (is_atext(*st->p))
			st->p++;
		if (*st->p != '.')
			break;
		st->p++;
		if (!is_atext(*st->p))
			return bad(st, "empty label or trailing dot");
	}
	*start = s;
	*len = (size_t)(st->p - s);
	return 1;
}

/* local-part "@" domain, from after any leading CFWS. */
static int
addr_spec(struct pstate *st, int *committed)
{
	const unsigned char *ls = st->p, *ds;
	size_t llen, dlen;
	char dom[LIMIT_DOMAIN + 1];
	const char *why;
	int r;

	*committed = 0;
	if (*st->p == '"') {
		if (quoted_string(st) < 0)
			return -1;
	} else if ((r = dot_atom_text(st, &ls, &llen)) <= 0) {
		/* "J.. Smith <j@example.com>": a display name, not a bad address. */
		st->why = NULL;
		return 0;
	}
	llen = (size_t)(st->p - ls);
	if (cfws(st) < 0)
		return -1;
	if (*st->p != '@')
		return 0;
	*committed = 1;
	st->p++;
	if (cfws(st) < 0)
		return -1;
	if (*st->p == '[')
		return bad(st, "domain literal, not a domain name");
	if (*st->p == '"')
		return bad(st, "quoted domain");
	if ((r = dot_atom_text(st, &ds, &dlen)) < 0)
		return -1;
	if (r == 0)
		return bad(st, "no domain after '@'");
	if (addr_domain((const char *)ds, dlen, dom, sizeof(dom), &why) < 0)
		return bad(st, why);
	if (llen > ADDR_LOCAL_MAX)
		return bad(st, "local part too long");
	if (++st->n == 1) {
		memcpy(st->out->local, ls, llen);
		st->out->local[llen] = '\0';
		str_copy(st->out->domain, dom, sizeof(st->out->domain));
	}
	return 1;
}

/* "<" [obs-route] addr-spec ">", from the '<'. */
static int
angle_addr(struct pstate *st)
{
	int committed, r;

	st->p++;
	if (cfws(st) < 0)
		return -1;
	if (*st->p == '@') {
		/* obs-route "@a,@b:" is dropped, as RFC 5322 4.4 says. */
		while (*st->p != ':') {
			if (*st->p == '\0' || *st->p == '>')
				return bad(st, "malformed source route");
			st->p++;
		}
		st->p++;
		if (cfws(st) < 0)
			return -1;
	}
	if (*st->p == '>')
		return bad(st, "empty address <>");
	if ((r = addr_spec(st, &committed)) < 0)
		return -1;
	if (r == 0)
		return bad(st, "address in <> has no '@'");
	if (cfws(st) < 0)
		return -1;
	if (*st->p != '>')
		return bad(st, "unexpected text in <>");
	st->p++;
	return 0;
}

/* display-name (obs-phrase: words and dots); the number of words. */
static int
phrase(struct pstate *st)
{
	int words = 0;

	for (;;) {
		if (cfws(st) < 0)
			return -1;
		if (*st->p == '"') {
			if (quoted_string(st) < 0)
				return -1;
			words++;
		} else if (is_atext(*st->p)) {
			while (is_atext(*st->p))
				st->p++;
			words++;
		} else if (*st->p == '.' && words > 0)
			st->p++;
		else
			return words;
	}
}

static int mailbox_list(struct pstate *st, int in_group);

static int
mailbox_or_group(struct pstate *st, int in_group)
{
	const unsigned char *save = st->p;
	int committed, r, w;

	if (*st->p == '<')
		return angle_addr(st);
	if ((r = addr_spec(st, &committed)) < 0)
		return -1;
	if (r == 1)
		return 0;
	/* Not an addr-spec: a display name, then <addr> or a group. */
	st->p = save;
	if ((w = phrase(st)) < 0)
		return -1;
	if (*st->p == '<')
		return angle_addr(st);
	if (*st->p == ':' && w > 0) {
		if (in_group)
			return bad(st, "group inside a group");
		st->p++;
		if (mailbox_list(st, 1) < 0)
			return -1;
		if (*st->p != ';')
			return bad(st, "group without its ';'");
		st->p++;
		return 0;
	}
	return bad(st, w > 0 ? "no address (a name without <address> or '@')" :
	    "unexpected character");
}

/* mailboxes separated by ','; a group's list ends at ';'. */
static int
mailbox_list(struct pstate *st, int in_group)
{
	for (;;) {
		if (cfws(st) < 0)
			return -1;
		if (*st->p == '\0' || (in_group && *st->p == ';'))
			return 0;
		if (*st->p == ',') {	/* obs-mbox-list: empty members */
			st->p++;
			continue;
		}
		if (mailbox_or_group(st, in_group) < 0 || cfws(st) < 0)
			return -1;
		if (*st->p == ',')
			st->p++;
		else if (*st->p == '\0' || (in_group && *st->p == ';'))
			return 0;
		else
			return bad(st, "unexpected text after an address");
	}
}

int
addr_parse_from(const char *value, struct addr_from *out)
{
	struct pstate st;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.p = (const unsigned char *)value;
	st.out = out;
	if (mailbox_list(&st, 0) < 0 || *st.p != '\0') {
		out->why = st.why ? st.why : "unexpected text";
		out->local[0] = out->domain[0] = '\0';
		out->n = -1;
		return -1;
	}
	out->n = st.n;
	if (st.n != 1)
		out->local[0] = out->domain[0] = '\0';
	return st.n;
}

/* --- domains: LDH labels and IDN (RFC 3492 punycode) --- */

static int
utf8_next(const unsigned char **p, const unsigned char *end, unsigned long *cp)
{
	const unsigned char *s = *p;
	unsigned long min;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		n = 1;
		min = 0;
	} else if ((s[0] & 0xe0) == 0xc0) {
		*cp = s[0] & 0x1f;
		n = 2;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		*cp = s[0] & 0x0f;
		n = 3;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		*cp = s[0] & 0x07;
		n = 4;
		min = 0x10000;
	} else
		return -1;
	if (end - s < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are not UTF-8. */
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return -1;
	*p = s + n;
	return 0;
}

#define PUNY_BASE 36
#define PUNY_TMIN 1
#define PUNY_TMAX 26
#define PUNY_MAXINT 0x7fffffffUL

static char
puny_digit(unsigned long d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static unsigned long
puny_adapt(unsigned long delta, unsigned long numpoints, int first)
{
	unsigned long k = 0;

	delta = first ? delta / 700 : delta / 2;
	delta += delta / numpoints;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE * delta) / (delta + 38);
}

static unsigned long
puny_t(unsigned long k, unsigned long bias)
{
	return k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
}

/* Encode the code points of one label as "xn--..." into out. */
static int
puny_encode(const unsigned long *cps, size_t count, struct buf *out)
{
	unsigned long m, nn = 128, delta = 0, bias = 72, h, b = 0, q, k, t;
	size_t i;

	if (buf_puts(out, "xn--") < 0)
		return -1;
	for (i = 0; i < count; i++)
		if (cps[i] < 128) {
			if (buf_putc(out, (char)cps[i]) < 0)
				return -1;
			b++;
		}
	if (b > 0 && buf_putc(out, '-') < 0)
		return -1;
	h = b;
	while (h < count) {
		m = ~0UL;
		for (i = 0; i < count; i++)
			if (cps[i] >= nn && cps[i] < m)
				m = cps[i];
		delta += (m - nn) * (h + 1);
		nn = m;
		for (i = 0; i < count; i++) {
			if (cps[i] < nn)
				delta++;
			if (cps[i] != nn)
				continue;
			for (q = delta, k = PUNY_BASE;; k += PUNY_BASE) {
				t = puny_t(k, bias);
				if (q < t)
					break;
				if (buf_putc(out, puny_digit(t + (q - t) % (PUNY_BASE - t))) < 0)
					return -1;
				q = (q - t) / (PUNY_BASE - t);
			}
			if (buf_putc(out, puny_digit(q)) < 0)
				return -1;
			bias = puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
	return 0;
}

static int
puny_value(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '0' && c <= '9')
		return c - '0' + 26;
	return -1;
}

/*
 * 0 when s[0..n) (after "xn--") decodes (RFC 3492 6.2) to a label with at
 * least one non-ASCII code point; -1 otherwise.
 */
static int
puny_check(const unsigned char *s, size_t n)
{
	unsigned long nn = 128, i = 0, bias = 72, out = 0, oldi, w, k, t;
	size_t in = 0, j, delim = 0;
	int have_delim = 0, nonascii = 0;

	for (j = 0; j < n; j++)
		if (s[j] == '-') {
			delim = j;
			have_delim = 1;
		}
	if (have_delim) {
		out = delim;
		in = delim + 1;
	}
	while (in < n) {
		for (oldi = i, w = 1, k = PUNY_BASE;; k += PUNY_BASE) {
			int d;

			if (in >= n || (d = puny_value(s[in++])) < 0)
				return -1;
			if ((unsigned long)d > (PUNY_MAXINT - i) / w)
				return -1;
			i += (unsigned long)d * w;
			t = puny_t(k, bias);
			if ((unsigned long)d < t)
				break;
			if (w > PUNY_MAXINT / (PUNY_BASE - t))
				return -1;
			w *= PUNY_BASE - t;
		}
		bias = puny_adapt(i - oldi, out + 1, oldi == 0);
		if (i / (out + 1) > PUNY_MAXINT - nn)
			return -1;
		nn += i / (out + 1);
		i %= out + 1;
		if (nn > 0x10ffff || (nn >= 0xd800 && nn <= 0xdfff))
			return -1;
		nonascii = 1;
		out++;
		i++;
	}
	return nonascii ? 0 : -1;
}

static int
is_ldh(unsigned long c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-';
}

/* One label s[0..n) appended to out, lower-case ASCII. */
static int
label(const unsigned char *s, size_t n, struct buf *out, const char **why)
{
	size_t i, ascii = 1;

	if (n == 0)
		return (*why = "empty label"), -1;
	for (i = 0; i < n; i++)
		if (s[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		if (n > 63)
			return (*why = "label longer than 63 octets"), -1;
		for (i = 0; i < n; i++)
			if (!is_ldh(s[i]))
				return (*why = "label with a character other than letter, digit "
				    "or hyphen"), -1;
		if (s[0] == '-' || s[n - 1] == '-')
			return (*why = "label starts or ends with a hyphen"), -1;
		if (n >= 4 && strncasecmp((const char *)s, "xn--", 4) == 0 &&
		    puny_check(s + 4, n - 4) < 0)
			return (*why = "invalid A-label (punycode)"), -1;
		for (i = 0; i < n; i++)
			if (buf_putc(out, (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i])) < 0)
				return (*why = "domain too long"), -1;
		return 0;
	}
	{
		/* A U-label: lower-case it, check every code point, encode it. */
		char *copy = malloc(n + 1), *lower = NULL;
		unsigned long cps[64];
		const unsigned char *p, *end;
		size_t count = 0, before = out->len;
		int rc = -1, nonascii;

		if (copy == NULL)
			return (*why = "out of memory"), -1;
		memcpy(copy, s, n);
		copy[n] = '\0';
		p = (const unsigned char *)copy;
		end = p + n;
		while (p < end) {
			if (count == 64 || utf8_next(&p, end, &cps[count]) < 0) {
				*why = count == 64 ? "label longer than 63 octets" :
				    "invalid UTF-8 in the domain";
				goto out;
			}
			if (cps[count] < 0x80 && !is_ldh(cps[count])) {
				*why = "label with a character other than letter, digit or hyphen";
				goto out;
			}
			count++;
		}
		if (psl_str_to_utf8lower(copy, "utf-8", NULL, &lower) != PSL_SUCCESS) {
			*why = "invalid UTF-8 in the domain";
			goto out;
		}
		/*
		 * Lower-casing also normalizes (NFKC): U+2480 becomes "(13)",
		 * U+212A KELVIN SIGN a plain "k". Check the result again, so
		 * no ASCII but LDH, and no label that is ASCII only, can come
		 * out of the encoding.
		 */
		p = (const unsigned char *)lower;
		end = p + strlen(lower);
		count = 0;
		nonascii = 0;
		while (p < end) {
			if (count == 64 || utf8_next(&p, end, &cps[count]) < 0) {
				*why = "invalid UTF-8 in the domain";
				goto out;
			}
			if (cps[count] < 0x80 && !is_ldh(cps[count])) {
				*why = "label with a character other than letter, digit or hyphen";
				goto out;
			}
			/* NFKC runs after lower-casing: U+20A8 becomes "Rs". */
			if (cps[count] >= 'A' && cps[count] <= 'Z')
				cps[count] += 'a' - 'A';
			if (cps[count] >= 0x80)
				nonascii = 1;
			count++;
		}
		if (!nonascii) {
			*why = "U-label that normalizes to ASCII";
			goto out;
		}
		if (cps[0] == '-' || cps[count - 1] == '-') {
			*why = "label starts or ends with a hyphen";
			goto out;
		}
		if (puny_encode(cps, count, out) < 0) {
			*why = "domain too long";
			goto out;
		}
		if (out->len - before > 63) {
			*why = "label longer than 63 octets";
			goto out;
		}
		rc = 0;
out:
		free(copy);
		free(lower);
		return rc;
	}
}

int
addr_domain(const char *in, size_t n, char *out, size_t outlen, const char **why)
{
	const unsigned char *s = (const unsigned char *)in, *end = s + n;
	struct buf b;
	int rc = -1;

	*why = NULL;
	buf_init(&b, LIMIT_DOMAIN);
	if (n == 0) {
		*why = "empty domain";
		goto out;
	}
	while (s <= end) {
		const unsigned char *dot = memchr(s, '.', (size_t)(end - s));
		size_t len = dot ? (size_t)(dot - s) : (size_t)(end - s);

		if (label(s, len, &b, why) < 0)
			goto out;
		if (dot == NULL)
			break;
		if (buf_putc(&b, '.') < 0) {
			*why = "domain too long";
			goto out;
		}
		s = dot + 1;
	}
	if (b.len > 253 || b.len + 1 > outlen) {
		*why = "domain too long";
		goto out;
	}
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	buf_release(&b);
	return rc;
}
