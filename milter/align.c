/*
 * align.c - From: parsing, organizational domains and alignment (see align.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include "align.h"
#include "buf.h"
#include "tagval.h"

struct align {
	psl_ctx_t *psl;
	int builtin;
};

struct align *
align_create(const char *psl_file)
{
	struct align *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if (psl_file != NULL && *psl_file != '\0')
		a->psl = psl_load_file(psl_file);
	if (a->psl == NULL) {
		a->psl = (psl_ctx_t *)psl_builtin();
		a->builtin = 1;
	}
	if (a->psl == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void
align_free(struct align *a)
{
	if (a == NULL)
		return;
	if (!a->builtin)
		psl_free(a->psl);
	free(a);
}

const char *
align_psl_source(const struct align *a)
{
	return a->builtin ? "built-in" : "file";
}

/* --- RFC 3492 punycode, for internationalized From: domains --- */

static int
utf8_next(const unsigned char **p, const unsigned char *end, unsigned long *cp)
{
	const unsigned char *s = *p;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		n = 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		*cp = s[0] & 0x1f;
		n = 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		*cp = s[0] & 0x0f;
		n = 3;
	} else if ((s[0] & 0xf8) == 0xf0) {
		*cp = s[0] & 0x07;
		n = 4;
	} else
		return -1;
	if (end - s < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	*p = s + n;
	return 0;
}

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
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 * delta) / (delta + 38);
}

/* Encode one label (UTF-8) as "xn--..." into out. */
static int
puny_label(const unsigned char *s, size_t n, struct buf *out)
{
	unsigned long cps[64], m, nn = 128, delta = 0, bias = 72, h, b = 0, q, k, t;
	size_t count = 0, i;
	const unsigned char *p = s, *end = s + n;

	while (p < end) {
		if (count == 64 || utf8_next(&p, end, &cps[count]) < 0)
			return -1;
		count++;
	}
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
			for (q = delta, k = 36;; k += 36) {
				t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias;
				if (q < t)
					break;
				if (buf_putc(out, puny_digit(t + (q - t) % (36 - t))) < 0)
					return -1;
				q = (q - t) / (36 - t);
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

/* Lower-case an ASCII domain, or turn a UTF-8 one into A-labels. */
static int
normalize_domain(const char *in, char *out, size_t outlen)
{
	struct buf b;
	char *lower = NULL;
	const char *src = in, *label;
	int ascii = 1, rc = -1;
	size_t i;

	for (i = 0; in[i]; i++)
		if ((unsigned char)in[i] >= 0x80)
			ascii = 0;
	if (!ascii) {
		if (psl_str_to_utf8lower(in, "utf-8", NULL, &lower) != PSL_SUCCESS)
			return -1;
		src = lower;
	}
	buf_init(&b, LIMIT_DOMAIN);
	for (label = src; *label;) {
		const char *dot = strchr(label, '.');
		size_t n = dot ? (size_t)(dot - label) : strlen(label);
		int la = 1;

		for (i = 0; i < n; i++)
			if ((unsigned char)label[i] >= 0x80)
				la = 0;
		if (la) {
			for (i = 0; i < n; i++) {
				char c = label[i];

				if (buf_putc(&b, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c)) < 0)
					goto out;
			}
		} else if (puny_label((const unsigned char *)label, n, &b) < 0)
			goto out;
		if (!dot)
			break;
		if (buf_putc(&b, '.') < 0)
			goto out;
		label = dot + 1;
	}
	/* A trailing dot (absolute name) is not part of the domain. */
	if (b.len > 0 && b.data[b.len - 1] == '.')
		buf_truncate(&b, b.len - 1);
	if (b.len == 0 || b.len >= outlen)
		goto out;
	memcpy(out, b.data, b.len + 1);
	rc = 0;
out:
	buf_release(&b);
	free(lower);
	return rc;
}

/* --- RFC 5322 address list --- */

struct scan {
	const char *p;
	int naddr;
	char last_domain[LIMIT_DOMAIN + 1];
	char last_addr[LIMIT_DOMAIN + 130];
	int bad;
};

static void
skip_cfws(struct scan *sc)
{
	for (;;) {
		while (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\r' || *sc->p == '\n')
			sc->p++;
		if (*sc->p != '(')
			return;
		{
			int depth = 0;

			do {
				if (*sc->p == '\\' && sc->p[1] != '\0')
					sc->p++;
				else if (*sc->p == '(')
					depth++;
				else if (*sc->p == ')')
					depth--;
				sc->p++;
			} while (depth > 0 && *sc->p != '\0');
			if (depth > 0)
				sc->bad = 1;
		}
	}
}

static void
skip_quoted(struct scan *sc)
{
	sc->p++;
	while (*sc->p != '\0' && *sc->p != '"') {
		if (*sc->p == '\\' && sc->p[1] != '\0')
			sc->p++;
		sc->p++;
	}
	if (*sc->p == '"')
		sc->p++;
	else
		sc->bad = 1;
}

/* Record an addr-spec's domain from text[s, e) (already without angle brackets). */
static void
take_addr(struct scan *sc, const char *s, const char *e)
{
	char tmp[LIMIT_DOMAIN * 2 + 1], dom[LIMIT_DOMAIN + 1];
	const char *at = NULL, *q;
	size_t n = 0;
	int inq = 0;

	/* The last '@' outside quotes separates local part and domain. */
	for (q = s; q < e; q++) {
		if (*q == '"')
			inq = !inq;
		else if (*q == '\\' && q + 1 < e)
			q++;
		else if (*q == '@' && !inq)
			at = q;
	}
	sc->naddr++;
	if (at == NULL) {
		sc->last_domain[0] = '\0';
		return;
	}
	for (q = at + 1; q < e && n + 1 < sizeof(tmp); q++) {
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			continue;
		if (*q == '(') {	/* a comment inside the domain */
			while (q < e && *q != ')')
				q++;
			continue;
		}
		tmp[n++] = *q;
	}
	tmp[n] = '\0';
	if (n == 0 || tmp[0] == '[' || normalize_domain(tmp, dom, sizeof(dom)) < 0) {
		sc->last_domain[0] = '\0';
		return;
	}
	str_copy(sc->last_domain, dom, sizeof(sc->last_domain));
	if ((size_t)(at - s) + strlen(dom) + 2 <= sizeof(sc->last_addr)) {
		memcpy(sc->last_addr, s, (size_t)(at - s));
		sc->last_addr[at - s] = '@';
		str_copy(sc->last_addr + (at - s) + 1, dom,
		    sizeof(sc->last_addr) - (size_t)(at - s) - 1);
	} else
		sc->last_addr[0] = '\0';
}

int
align_from(const char *value, char *addr, size_t alen, char *domain, size_t dlen)
{
	struct scan sc;
	const char *start;

	memset(&sc, 0, sizeof(sc));
	sc.p = value;
	/*
	 * Walk mailboxes separated by ',' and groups "name: a, b;". Within a
	 * mailbox an angle-addr wins over everything else; otherwise the
	 * mailbox is a bare addr-spec.
	 */
	for (;;) {
		const char *angle_s = NULL, *angle_e = NULL;

		skip_cfws(&sc);
		if (*sc.p == '\0')
			break;
		start = sc.p;
		while (*sc.p != '\0' && *sc.p != ',' && *sc.p != ';') {
			if (*sc.p == '"')
				skip_quoted(&sc);
			else if (*sc.p == '(')
				skip_cfws(&sc);
			else if (*sc.p == '<') {
				angle_s = ++sc.p;
				while (*sc.p != '\0' && *sc.p != '>') {
					if (*sc.p == '"')
						skip_quoted(&sc);
					else
						sc.p++;
				}
				angle_e = sc.p;
				if (*sc.p == '>')
					sc.p++;
				else
					sc.bad = 1;
			} else if (*sc.p == ':' && angle_s == NULL) {
				/* Group display name: what follows are its members. */
				sc.p++;
				start = sc.p;
			} else
				sc.p++;
		}
		if (angle_s != NULL)
			take_addr(&sc, angle_s, angle_e);
		else {
			const char *e = sc.p;

			while (e > start && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			    e[-1] == '\n'))
				e--;
			{
				const char *b = start;

				while (b < e && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
					b++;
				if (b < e)
					take_addr(&sc, b, e);
			}
		}
		if (*sc.p == '\0')
			break;
		sc.p++;	/* ',' or ';' */
	}
	if (sc.bad)
		return -1;
	if (sc.naddr == 1) {
		if (sc.last_domain[0] == '\0')
			return -1;
		str_copy(domain, sc.last_domain, dlen);
		if (addr != NULL)
			str_copy(addr, sc.last_addr, alen);
	}
	return sc.naddr;
}

int
align_org_domain(const struct align *a, const char *domain, char *out, size_t outlen)
{
	const char *rd = psl_registrable_domain(a->psl, domain);

	if (rd == NULL)
		return -1;
	str_copy(out, rd, outlen);
	return 0;
}

int
align_strict(const char *d, const char *from)
{
	size_t n = strlen(d);

	/* An absolute d= ("example.com.") names the same domain. */
	if (n > 0 && d[n - 1] == '.')
		n--;
	return strlen(from) == n && strncasecmp(d, from, n) == 0;
}

int
align_relaxed(const struct align *a, const char *d, const char *from)
{
	char od[LIMIT_DOMAIN + 1], of[LIMIT_DOMAIN + 1], dl[LIMIT_DOMAIN + 1];
	size_t i;

	if (align_strict(d, from))
		return 1;
	for (i = 0; d[i] != '\0' && i < LIMIT_DOMAIN; i++)
		dl[i] = (char)(d[i] >= 'A' && d[i] <= 'Z' ? d[i] + 32 : d[i]);
	dl[i] = '\0';
	if (i > 0 && dl[i - 1] == '.')
		dl[i - 1] = '\0';
	if (align_org_domain(a, dl, od, sizeof(od)) < 0 ||
	    align_org_domain(a, from, of, sizeof(of)) < 0)
		return 0;
	return strcmp(od, of) == 0;
}

int
align_dmarc_adkim(const char *txt, size_t len, char *adkim)
{
	struct tagval tv;
	const struct tagval_pair *p;
	const char *err;

	*adkim = 'r';
	if (tagval_parse(&tv, txt, len, &err) < 0 || tv.n == 0 ||
	    !(tv.pairs[0].nlen == 1 && tv.pairs[0].name[0] == 'v') ||
	    !tagval_is(&tv.pairs[0], "DMARC1"))
		return -1;
	if ((p = tagval_get(&tv, "adkim")) != NULL && tagval_is(p, "s"))
		*adkim = 's';
	return 0;
}
