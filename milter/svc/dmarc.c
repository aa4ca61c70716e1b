/*
 * dmarc.c - DMARC record parser and DNS Tree Walk (see dmarc.h).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dmarc.h"

const char *
dmarc_psd_name(enum dmarc_psd psd)
{
	return psd == DMARC_PSD_Y ? "y" : psd == DMARC_PSD_N ? "n" : "u";
}

/* Tag values in the ABNF of section 4.8 are literal strings: case-insensitive. */
static int
val_is(const char *v, size_t vlen, const char *s)
{
	size_t n = strlen(s);

	return vlen == n && strncasecmp(v, s, n) == 0;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * "v" *WSP "=" *WSP "DMARC1" at the very start, then the end or a ';'
 * (section 4.8; the version string is case-sensitive there). Returns the
 * offset after it, or 0.
 */
static size_t
version_end(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || t[0] != 'v')
		return 0;
	for (i = 1; i < len && is_wsp(t[i]); i++)
		;
	if (i == len || t[i] != '=')
		return 0;
	for (i++; i < len && is_wsp(t[i]); i++)
		;
	if (len - i < 6 || memcmp(t + i, "DMARC1", 6) != 0)
		return 0;
	for (i += 6; i < len && is_wsp(t[i]); i++)
		;
	return i == len || t[i] == ';' ? i : 0;
}

/* One of none, quarantine, reject into out; -1 when the value is none of them. */
static int
policy_value(const char *v, size_t vlen, char *out, size_t outlen)
{
	static const char *const names[] = { "none", "quarantine", "reject" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (val_is(v, vlen, names[i])) {
			str_copy(out, names[i], outlen);
			return 0;
		}
	return -1;
}

/* 1 when a rua= list holds at least one item shaped like a URI (scheme ":" ...). */
static int
rua_has_uri(const char *v, size_t vlen)
{
	size_t i = 0;

	while (i < vlen) {
		size_t j = i, k;

		while (j < vlen && v[j] != ',')
			j++;
		while (i < j && is_wsp(v[i]))
			i++;
		for (k = i; k < j; k++) {
			char c = v[k];

			if (c == ':')
				break;
			if (!(is_alpha(c) || (k > i && ((c >= '0' && c <= '9') || c == '+' ||
			    c == '-' || c == '.'))))
				break;
		}
		if (k > i && k < j && v[k] == ':' && k + 1 < j)
			return 1;
		i = j + 1;
	}
	return 0;
}

/* The known tags, in the order of section 4.7; bit i marks tag i seen. */
static const char *const known[] = {
	"adkim", "aspf", "fo", "np", "p", "psd", "rua", "ruf", "sp", "t",
	"pct", "rf", "ri"	/* removed by RFC 9989, still recognised */
};

/* Apply one known tag (index k) with its value; 0, or -1 for an invalid policy value. */
static int
apply_tag(struct dmarc_rec *r, size_t k, const char *v, size_t vlen)
{
	switch (k) {
	case 0: case 1: {
		char *m = k == 0 ? &r->adkim : &r->aspf;

		if (val_is(v, vlen, "r") || val_is(v, vlen, "s"))
			*m = (char)(v[0] | 0x20);
		else
			r->invalid++;
		return 0;
	}
	case 3: return policy_value(v, vlen, r->np, sizeof(r->np));
	case 4: return policy_value(v, vlen, r->p, sizeof(r->p));
	case 5:
		if (val_is(v, vlen, "y"))
			r->psd = DMARC_PSD_Y;
		else if (val_is(v, vlen, "n"))
			r->psd = DMARC_PSD_N;
		else if (!val_is(v, vlen, "u"))
			r->invalid++;
		return 0;
	case 8: return policy_value(v, vlen, r->sp, sizeof(r->sp));
	case 9:
		if (val_is(v, vlen, "y"))
			r->testing = 1;
		else if (!val_is(v, vlen, "n"))
			r->invalid++;
		return 0;
	case 10: r->removed |= DMARC_REMOVED_PCT; return 0;
	case 11: r->removed |= DMARC_REMOVED_RF; return 0;
	case 12: r->removed |= DMARC_REMOVED_RI; return 0;
	default: return 0;	/* fo, rua, ruf: nothing to do with them here */
	}
}

static void
set_why(char *why, size_t whylen, const char *a, const char *b, const char *c)
{
	size_t l;

	if (why == NULL || whylen == 0)
		return;
	str_copy(why, a, whylen);
	l = strlen(why);
	str_copy(why + l, b, whylen - l);
	l = strlen(why);
	str_copy(why + l, c, whylen - l);
}

enum dmarc_parse_rc
dmarc_parse(const char *txt, size_t len, struct dmarc_rec *r, char *why, size_t whylen)
{
	const char *rua = NULL, *bad_policy = NULL;
	size_t rualen = 0, i, seen = 0;

	memset(r, 0, sizeof(*r));
	r->adkim = 'r';
	r->aspf = 'r';
	r->psd = DMARC_PSD_U;
	/* Section 4.7 (p): a record without p= counts as p=none. */
	str_copy(r->p, "none", sizeof(r->p));
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* Sections 4.7 (v) and 4.10 step 2: only a record opening with v=DMARC1 counts. */
	if ((i = version_end(txt, len)) == 0)
		return DMARC_REC_NOT;
	/*
	 * Section 4.8: after the version, tags separated by ';' in any order.
	 * A spec that is no tag=value (or whose value has characters outside
	 * the printable range) is a syntax error, dropped; unknown tags are
	 * ignored; a value outside a known tag's grammar leaves its default.
	 * Section 4.7 takes the tag-list rules of DKIM, under which a tag
	 * named twice makes the whole list invalid: a known tag twice is
	 * ambiguous, so the record is malformed.
	 */
	while (i < len) {
		size_t ns, ne, vs, ve, k;

		i++;	/* the ';' */
		while (i < len && is_wsp(txt[i]))
			i++;
		ns = i;
		while (i < len && is_alpha(txt[i]))
			i++;
		ne = i;
		while (i < len && is_wsp(txt[i]))
			i++;
		if (ne == ns || i == len || txt[i] != '=') {
			/* Not a tag: skip to the next ';' (an empty spec is no error). */
			while (i < len && txt[i] != ';')
				i++;
			if (ne > ns || i > ns)
				r->invalid++;
			continue;
		}
		for (i++; i < len && is_wsp(txt[i]); i++)
			;
		vs = i;
		while (i < len && txt[i] != ';')
			i++;
		for (ve = i; ve > vs && is_wsp(txt[ve - 1]); ve--)
			;
		for (k = vs; k < ve; k++)
			if ((unsigned char)txt[k] < 0x20 || (unsigned char)txt[k] > 0x7e)
				break;
		if (ve == vs || k < ve) {
			r->invalid++;
			continue;
		}
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (ne - ns == strlen(known[k]) && memcmp(txt + ns, known[k], ne - ns) == 0)
				break;
		if (k == sizeof(known) / sizeof(known[0])) {
			r->unknown++;
			continue;
		}
		if (seen & (1u << k)) {
			set_why(why, whylen, "tag ", known[k], "= given twice");
			return DMARC_REC_BAD;
		}
		seen |= 1u << k;
		if (k == 6) {
			rua = txt + vs;
			rualen = ve - vs;
		}
		if (apply_tag(r, k, txt + vs, ve - vs) < 0)
			bad_policy = known[k];
	}
	/*
	 * Section 4.10.1: an invalid p=, sp= or np= counts as p=none when the
	 * record names a reporting URI; otherwise DMARC does not apply through
	 * this record.
	 */
	if (bad_policy != NULL) {
		str_copy(r->p, "none", sizeof(r->p));
		r->sp[0] = r->np[0] = '\0';
		if (rua == NULL || !rua_has_uri(rua, rualen)) {
			r->unusable = 1;
			set_why(why, whylen, "invalid ", bad_policy,
			    "= and no rua= URI: DMARC does not apply through this record");
		}
	}
	return DMARC_REC_OK;
}

void
dmarc_answer_from_txt(struct dmarc_answer *a, const char *const *txt,
    const size_t *txtlen, size_t n)
{
	size_t i, ndmarc = 0;
	char why[LIMIT_REASON];

	memset(a, 0, sizeof(*a));
	a->kind = DMARC_ANS_NONE;
	for (i = 0; i < n; i++) {
		struct dmarc_rec r;
		enum dmarc_parse_rc rc = dmarc_parse(txt[i], txtlen[i], &r, why, sizeof(why));

		if (rc == DMARC_REC_NOT)
			continue;
		if (++ndmarc == 1) {
			if (rc == DMARC_REC_OK) {
				a->kind = DMARC_ANS_REC;
				a->rec = r;
				if (r.unusable)
					str_copy(a->why, why, sizeof(a->why));
			} else {
				str_copy(a->why, "malformed record: ", sizeof(a->why));
				str_copy(a->why + strlen(a->why), why,
				    sizeof(a->why) - strlen(a->why));
			}
		}
	}
	/* Section 4.10 steps 2 and 6: several DMARC records are all discarded. */
	if (ndmarc > 1) {
		a->kind = DMARC_ANS_NONE;
		str_copy(a->why, "several DMARC records", sizeof(a->why));
	}
}

/* Number of labels of a name without trailing dot. */
static size_t
labels(const char *d)
{
	size_t n = 1;

	for (; *d != '\0'; d++)
		if (*d == '.')
			n++;
	return n;
}

/* The last k labels of d (k <= labels(d)). */
static const char *
suffix(const char *d, size_t k)
{
	size_t skip = labels(d) - k;

	while (skip > 0) {
		d = strchr(d, '.') + 1;
		skip--;
	}
	return d;
}

int
dmarc_walk_plan(struct dmarc_walk *w, const char *domain)
{
	size_t i, len = strlen(domain), x;

	memset(w, 0, sizeof(*w));
	w->fewest_at = w->org_at = -1;
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i < len; i++) {
		char c = domain[i];

		if (c == '.' && (i == 0 || domain[i - 1] == '.'))
			return -1;
		w->start[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	w->start[len] = '\0';
	if (w->start[len - 1] == '.')
		return -1;
	w->start_labels = x = labels(w->start);
	/*
	 * Section 4.10 steps 1, 3, 4 and 7: the domain itself; then, for a
	 * name of eight labels or more, straight to its last seven; then one
	 * label less each time down to a single label. At most eight names.
	 */
	str_copy(w->target[w->ntargets++], w->start, sizeof(w->target[0]));
	x = x >= DMARC_WALK_SKIP_TO + 1 ? DMARC_WALK_SKIP_TO : x - 1;
	for (; x >= 1 && w->ntargets < DMARC_WALK_MAX; x--)
		str_copy(w->target[w->ntargets++], suffix(w->start, x), sizeof(w->target[0]));
	return 0;
}

int
dmarc_walk_feed(struct dmarc_walk *w, const struct dmarc_answer *a)
{
	size_t i;

	if (w->done || w->fed >= w->ntargets)
		return 1;
	i = w->fed++;
	if (a->kind == DMARC_ANS_TEMP) {
		/* Whatever this name holds could change the outcome: stop, unknown. */
		w->temp = 1;
		str_copy(w->temp_why, a->why, sizeof(w->temp_why));
		w->done = 1;
		return 1;
	}
	if (a->kind == DMARC_ANS_REC) {
		w->have[i] = 1;
		w->rec[i] = a->rec;
		str_copy(w->rec_why[i], a->why, sizeof(w->rec_why[i]));
		w->fewest_at = (int)i;
		/* Section 4.10 steps 2 and 6: a psd=n or psd=y record ends the walk. */
		if (a->rec.psd != DMARC_PSD_U) {
			w->org_at = (int)i;
			/* Section 4.10.2 rule 2: psd=y, except at the start. */
			w->org_below = a->rec.psd == DMARC_PSD_Y && i > 0;
			w->done = 1;
		}
	}
	if (w->fed == w->ntargets)
		w->done = 1;
	return w->done;
}

/* The index of the target named d, or -1. */
static int
target_index(const struct dmarc_walk *w, const char *d)
{
	size_t i;

	for (i = 0; i < w->fed; i++)
		if (strcmp(w->target[i], d) == 0)
			return (int)i;
	return -1;
}

/* The policy record is the one at index i (section 4.10.1). */
static void
take_policy(const struct dmarc_walk *w, int i, struct dmarc_result *res)
{
	res->policy_known = res->policy_found = 1;
	str_copy(res->policy_domain, w->target[i], sizeof(res->policy_domain));
	res->policy = w->rec[i];
	/* A record DMARC does not apply through gives no adkim. */
	res->adkim = w->rec[i].unusable ? 'r' : w->rec[i].adkim;
	if (w->rec[i].unusable)
		str_copy(res->why, w->rec_why[i], sizeof(res->why));
}

void
dmarc_walk_result(const struct dmarc_walk *w, struct dmarc_result *res)
{
	int i;

	memset(res, 0, sizeof(*res));
	res->queries = w->fed;
	res->adkim = 'r';
	/* Section 4.10.1: the Author Domain's own record comes first. */
	if (w->fed > 0 && w->have[0])
		take_policy(w, 0, res);
	if (w->temp) {
		str_copy(res->why, w->temp_why, sizeof(res->why));
		res->org_rule = "unknown";
		return;
	}
	/* Section 4.10.2: psd=n, then psd=y, then the fewest labels, then the start. */
	res->org_known = 1;
	if (w->org_at >= 0 && w->org_below) {
		str_copy(res->org, suffix(w->start, labels(w->target[w->org_at]) + 1),
		    sizeof(res->org));
		res->org_rule = "below psd=y";
	} else if (w->org_at >= 0) {
		str_copy(res->org, w->target[w->org_at], sizeof(res->org));
		res->org_rule = w->rec[w->org_at].psd == DMARC_PSD_N ? "psd=n" :
		    "psd=y at the domain itself";
	} else if (w->fewest_at >= 0) {
		str_copy(res->org, w->target[w->fewest_at], sizeof(res->org));
		res->org_rule = "fewest labels";
	} else {
		str_copy(res->org, w->start, sizeof(res->org));
		res->org_rule = "no record";
	}
	if (res->policy_found)
		return;
	/*
	 * Section 4.10.1: else the Organizational Domain's record, else the
	 * Public Suffix Domain's (the psd=y record that ended the walk).
	 */
	res->policy_known = 1;
	if ((i = target_index(w, res->org)) >= 0 && w->have[i])
		take_policy(w, i, res);
	else if (w->org_at >= 0 && w->org_below)
		take_policy(w, w->org_at, res);
}
