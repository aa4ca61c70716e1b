/*
 * fuzz_dmarc.c - DMARC records and the DNS Tree Walk (dmarc.c), and the
 * adkim reader the verifier uses (align_dmarc_adkim).
 *
 * Input, NUL-separated: a TXT record; a domain to walk from; then, for each
 * name the walk asks for, a kind byte (no record, records, DNS failure)
 * and, for records, a count byte and that many TXT strings. Records are
 * exact-size copies, so reading past one is caught. Properties: a record
 * that parses has adkim and aspf of 'r' or 's' and policies that are
 * empty, none, quarantine or reject; a malformed one says why; the walk
 * plans at most DMARC_WALK_MAX names, each the start domain or a suffix of
 * it at a label boundary, asks only for planned names, and its results
 * (policy domain, Organizational Domain) are such suffixes too.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "dmarc.h"
#include "fuzz.h"

#define MAX_TXT 3

static int
valid_policy(const char *p)
{
	return *p == '\0' || strcmp(p, "none") == 0 || strcmp(p, "quarantine") == 0 ||
	    strcmp(p, "reject") == 0;
}

static void
check_rec(const struct dmarc_rec *r)
{
	if ((r->adkim != 'r' && r->adkim != 's') || (r->aspf != 'r' && r->aspf != 's'))
		fuzz_fail("adkim '%c' aspf '%c'", r->adkim, r->aspf);
	if (!valid_policy(r->p) || !valid_policy(r->sp) || !valid_policy(r->np))
		fuzz_fail("policy p=%s sp=%s np=%s", r->p, r->sp, r->np);
}

/* 1 when s is d or a suffix of d that starts a label. */
static int
is_suffix(const char *d, const char *s)
{
	size_t dl = strlen(d), sl = strlen(s);

	if (sl == 0 || sl > dl || strcmp(d + dl - sl, s) != 0)
		return 0;
	return sl == dl || d[dl - sl - 1] == '.';
}

static void
parse_one(const uint8_t *p, size_t n)
{
	struct dmarc_rec r;
	char *txt = fuzz_memdup(p, n), why[LIMIT_REASON], adkim = '?';
	enum dmarc_parse_rc rc;

	memset(why, 0, sizeof(why));
	rc = dmarc_parse(txt, n, &r, why, sizeof(why));
	if (rc == DMARC_REC_OK)
		check_rec(&r);
	else if (rc == DMARC_REC_BAD && why[0] == '\0')
		fuzz_fail("malformed record without a reason");
	else if (rc != DMARC_REC_BAD && rc != DMARC_REC_NOT)
		fuzz_fail("dmarc_parse returned %d", (int)rc);
	if (align_dmarc_adkim(txt, n, &adkim) < -1 || (adkim != 'r' && adkim != 's'))
		fuzz_fail("align_dmarc_adkim gave '%c'", adkim);
	free(txt);
}

/* One answer from the input. */
static void
answer(struct fuzz_rd *rd, struct dmarc_answer *a)
{
	unsigned kind = fuzz_byte(rd) % 3;
	char *txt[MAX_TXT], *copy[MAX_TXT];
	size_t len[MAX_TXT], n = 0, k;

	memset(a, 0, sizeof(*a));
	if (kind == 0) {
		a->kind = DMARC_ANS_NONE;
		return;
	}
	if (kind == 2) {
		a->kind = DMARC_ANS_TEMP;
		str_copy(a->why, "SERVFAIL", sizeof(a->why));
		return;
	}
	n = 1 + fuzz_byte(rd) % MAX_TXT;
	for (k = 0; k < n; k++) {
		txt[k] = fuzz_str(rd, 1024);
		len[k] = strlen(txt[k]);
		copy[k] = fuzz_memdup((const uint8_t *)txt[k], len[k]);
	}
	dmarc_answer_from_txt(a, (const char *const *)copy, len, n);
	if (a->kind == DMARC_ANS_REC)
		check_rec(&a->rec);
	else if (a->kind != DMARC_ANS_NONE)
		fuzz_fail("answer from records of kind %d", (int)a->kind);
	for (k = 0; k < n; k++) {
		free(txt[k]);
		free(copy[k]);
	}
}

static void
walk(struct fuzz_rd *rd, const char *domain)
{
	struct dmarc_walk w;
	struct dmarc_result res;
	size_t i;

	if (dmarc_walk_plan(&w, domain) < 0)
		return;
	if (w.ntargets == 0 || w.ntargets > DMARC_WALK_MAX)
		fuzz_fail("walk of %zu names", w.ntargets);
	for (i = 0; i < w.ntargets; i++)
		if (!is_suffix(w.start, w.target[i]))
			fuzz_fail("walk target %s is not within %s", w.target[i], w.start);
	for (i = 0; i < w.ntargets; i++) {
		struct dmarc_answer a;

		answer(rd, &a);
		if (dmarc_walk_feed(&w, &a))
			break;
	}
	memset(&res, 0, sizeof(res));
	dmarc_walk_result(&w, &res);
	if (res.queries > w.ntargets)
		fuzz_fail("%zu answers used of %zu planned", res.queries, w.ntargets);
	if (res.policy_found) {
		if (!is_suffix(w.start, res.policy_domain))
			fuzz_fail("policy from %s for %s", res.policy_domain, w.start);
		check_rec(&res.policy);
	}
	if (res.adkim != 'r' && res.adkim != 's')
		fuzz_fail("walk adkim '%c'", res.adkim);
	if (res.org_known && !is_suffix(w.start, res.org))
		fuzz_fail("organizational domain %s for %s", res.org, w.start);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rd rd = { data, size };
	const uint8_t *end = memchr(data, 0, size);
	size_t n = end ? (size_t)(end - data) : size;
	char *domain;

	parse_one(data, n);
	rd.p += n < size ? n + 1 : n;
	rd.n -= n < size ? n + 1 : n;
	domain = fuzz_str(&rd, 2 * LIMIT_DOMAIN);
	walk(&rd, domain);
	free(domain);
	return 0;
}
