/*
 * dmarc.c - DMARC record parser and DNS Tree Walk (see dmarc.h).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dmarc.h"
#include "tagval.h"

const char *
dmarc_psd_name(enum dmarc_psd psd)
{
	return psd == DMARC_PSD_Y ? "y" : psd == DMARC_PSD_N ? "n" : "u";
}

/* Tag values in the ABNF of section 4.8 are literal strings: case-insensitive. */
static int
val_is(const struct tagval_pair *p, const char *s)
{
	size_t n = strlen(s);

	return p->vlen == n && strncasecmp(p->val, s, n) == 0;
}

static int
name_is(const struct tagval_pair *p, const char *s)
{
	size_t n = strlen(s);

	return p->nlen == n && memcmp(p->name, s, n) == 0;
}

/*
 * "v" *WSP "=" *WSP "DMARC1" at the very start, then the end or a ';'
 * (section 4.8; the version string is case-sensitive there).
 */
static int
starts_dmarc1(const char *t, size_t len)
{
	size_t i = 0;

	if (len == 0 || t[0] != 'v')
		return 0;
	for (i = 1; i < len && (t[i] == ' ' || t[i] == '\t'); i++)
		;
	if (i == len || t[i] != '=')
		return 0;
	for (i++; i < len && (t[i] == ' ' || t[i] == '\t'); i++)
		;
	if (len - i < 6 || memcmp(t + i, "DMARC1", 6) != 0)
		return 0;
	for (i += 6; i < len && (t[i] == ' ' || t[i] == '\t'); i++)
		;
	return i == len || t[i] == ';';
}

/* One of none, quarantine, reject into out; -1 when the value is none of them. */
static int
policy_value(const struct tagval_pair *p, char *out, size_t outlen)
{
	static const char *const names[] = { "none", "quarantine", "reject" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (val_is(p, names[i])) {
			str_copy(out, names[i], outlen);
			return 0;
		}
	return -1;
}

/* 1 when a rua= list holds at least one item shaped like a URI (scheme ":"). */
static int
rua_has_uri(const struct tagval_pair *p)
{
	size_t i = 0;

	while (i < p->vlen) {
		size_t j = i, k;

		while (j < p->vlen && p->val[j] != ',')
			j++;
		while (i < j && (p->val[i] == ' ' || p->val[i] == '\t'))
			i++;
		for (k = i; k < j; k++) {
			char c = p->val[k];

			if (c == ':')
				break;
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (k > i && ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
			    c == '.'))))
				break;
		}
		if (k > i && k < j && p->val[k] == ':' && k + 1 < j)
			return 1;
		i = j + 1;
	}
	return 0;
}

enum dmarc_parse_rc
dmarc_parse(const char *txt, size_t len, struct dmarc_rec *r, char *why, size_t whylen)
{
	struct tagval tv;
	const char *err;
	const struct tagval_pair *rua = NULL;
	const char *bad_policy = NULL;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->adkim = 'r';
	r->aspf = 'r';
	r->psd = DMARC_PSD_U;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	/* Section 4.10 steps 2 and 7: only a record opening with v=DMARC1 counts. */
	if (!starts_dmarc1(txt, len))
		return DMARC_REC_NOT;
	if (tagval_parse(&tv, txt, len, &err) < 0) {
		if (why != NULL)
			str_copy(why, err, whylen);
		return DMARC_REC_BAD;
	}
	/*
	 * Section 4.7: any order after v=; unknown tags ignored; a value that
	 * breaks the grammar is dropped for the default. pct, rf and ri were
	 * removed by RFC 9989 and mean nothing now.
	 */
	for (i = 1; i < tv.n; i++) {
		const struct tagval_pair *p = &tv.pairs[i];

		if (name_is(p, "adkim") || name_is(p, "aspf")) {
			char *m = name_is(p, "adkim") ? &r->adkim : &r->aspf;

			if (val_is(p, "r") || val_is(p, "s"))
				*m = (char)(p->val[0] | 0x20);
			else
				r->unknown++;
		} else if (name_is(p, "psd")) {
			if (val_is(p, "y"))
				r->psd = DMARC_PSD_Y;
			else if (val_is(p, "n"))
				r->psd = DMARC_PSD_N;
			else if (!val_is(p, "u"))
				r->unknown++;
		} else if (name_is(p, "t")) {
			if (val_is(p, "y"))
				r->testing = 1;
			else if (!val_is(p, "n"))
				r->unknown++;
		} else if (name_is(p, "p")) {
			if (policy_value(p, r->p, sizeof(r->p)) < 0)
				bad_policy = "p=";
		} else if (name_is(p, "sp")) {
			if (policy_value(p, r->sp, sizeof(r->sp)) < 0)
				bad_policy = "sp=";
		} else if (name_is(p, "np")) {
			if (policy_value(p, r->np, sizeof(r->np)) < 0)
				bad_policy = "np=";
		} else if (name_is(p, "pct"))
			r->removed |= DMARC_REMOVED_PCT;
		else if (name_is(p, "rf"))
			r->removed |= DMARC_REMOVED_RF;
		else if (name_is(p, "ri"))
			r->removed |= DMARC_REMOVED_RI;
		else if (name_is(p, "rua"))
			rua = p;
		else if (!name_is(p, "ruf") && !name_is(p, "fo"))
			r->unknown++;
	}
	/*
	 * A policy tag with a value outside the grammar: the record still
	 * counts, as p=none, when it asks for aggregate reports; otherwise
	 * DMARC does not apply through it (RFC 9989, p= and sp=/np= handling).
	 */
	if (bad_policy != NULL) {
		if (rua == NULL || !rua_has_uri(rua)) {
			if (why != NULL) {
				str_copy(why, "invalid ", whylen);
				str_copy(why + strlen(why), bad_policy,
				    whylen > strlen(why) ? whylen - strlen(why) : 0);
				str_copy(why + strlen(why), " value and no rua= to report to",
				    whylen > strlen(why) ? whylen - strlen(why) : 0);
			}
			return DMARC_REC_BAD;
		}
		str_copy(r->p, "none", sizeof(r->p));
		r->sp[0] = r->np[0] = '\0';
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
			} else {
				str_copy(a->why, "malformed record: ", sizeof(a->why));
				str_copy(a->why + strlen(a->why), why,
				    sizeof(a->why) - strlen(a->why));
			}
		}
	}
	/* Section 4.10 steps 2 and 7: several DMARC records are all discarded. */
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
	w->policy_at = w->fewest_at = w->org_at = -1;
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
	 * Section 4.10 steps 1, 5 and 8: the domain itself; then, for a name of
	 * eight labels or more, straight to its last seven; then one label
	 * less each time down to a single label. At most eight names.
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
		/* Section 4.10.1: the first record found is the one that applies. */
		if (w->policy_at < 0) {
			w->policy_at = (int)i;
			w->policy = a->rec;
		}
		w->fewest_at = (int)i;
		/*
		 * Section 4.10 steps 2 and 7, and 4.10.2: psd=n ends the walk
		 * anywhere and names the Organizational Domain; psd=y ends it
		 * above the start and puts the Organizational Domain one label
		 * below.
		 */
		if (a->rec.psd == DMARC_PSD_N) {
			w->org_at = (int)i;
			w->done = 1;
		} else if (a->rec.psd == DMARC_PSD_Y && i > 0) {
			w->org_at = (int)i;
			w->org_below = 1;
			w->done = 1;
		}
	}
	if (w->fed == w->ntargets)
		w->done = 1;
	return w->done;
}

void
dmarc_walk_result(const struct dmarc_walk *w, struct dmarc_result *res)
{
	memset(res, 0, sizeof(*res));
	res->queries = w->fed;
	res->adkim = 'r';
	if (w->policy_at >= 0) {
		res->policy_known = res->policy_found = 1;
		str_copy(res->policy_domain, w->target[w->policy_at],
		    sizeof(res->policy_domain));
		res->policy = w->policy;
		res->adkim = w->policy.adkim;
	} else
		res->policy_known = !w->temp;
	if (w->temp) {
		str_copy(res->why, w->temp_why, sizeof(res->why));
		res->org_rule = "unknown";
		return;
	}
	res->org_known = 1;
	if (w->org_at >= 0 && w->org_below) {
		str_copy(res->org, suffix(w->start, labels(w->target[w->org_at]) + 1),
		    sizeof(res->org));
		res->org_rule = "below psd=y";
	} else if (w->org_at >= 0) {
		str_copy(res->org, w->target[w->org_at], sizeof(res->org));
		res->org_rule = "psd=n";
	} else if (w->fewest_at >= 0) {
		str_copy(res->org, w->target[w->fewest_at], sizeof(res->org));
		res->org_rule = "fewest labels";
	} else {
		str_copy(res->org, w->start, sizeof(res->org));
		res->org_rule = "no record";
	}
}
