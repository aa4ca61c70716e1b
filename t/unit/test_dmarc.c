/*
 * test_dmarc.c - RFC 9989 DMARC records and the DNS Tree Walk: the record
 * grammar (version first, free tag order, unknown and removed tags, bad
 * values), answer sets (several records, malformed ones), the walk's plan
 * (label skipping, eight-query bound) and its outcome (policy record,
 * Organizational Domain by psd=n, psd=y and fewest labels, DNS failures).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1

/* rc, then adkim, aspf, psd, p, sp, np, t, removed, unknown, invalid, unusable, why. */
static const struct {
	const char *what;
	const char *text;
	size_t len;
	enum dmarc_parse_rc rc;
	char adkim, aspf;
	enum dmarc_psd psd;
	const char *p, *sp, *np;
	int testing;
	unsigned removed;
	size_t unknown, invalid;
	int unusable;
	const char *why;	/* substring of the reason (BAD, or unusable) */
} recs[] = {
	{ "minimal", S("v=DMARC1; p=none"), DMARC_REC_OK, 'r', 'r', DMARC_PSD_U,
	  "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "no p= counts as p=none", S("v=DMARC1"), DMARC_REC_OK, 'r', 'r',
	  DMARC_PSD_U, "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "every tag, reordered", S("v=DMARC1; psd=n; np=reject; adkim=s; t=y; "
	  "sp=quarantine; aspf=s; p=reject; rua=mailto:a@example.com"), DMARC_REC_OK,
	  's', 's', DMARC_PSD_N, "reject", "quarantine", "reject", 1, 0, 0, 0, 0, NULL },
	{ "p= need not follow v=", S("v=DMARC1; adkim=s; p=quarantine"), DMARC_REC_OK,
	  's', 'r', DMARC_PSD_U, "quarantine", "", "", 0, 0, 0, 0, 0, NULL },
	{ "unknown tags ignored", S("v=DMARC1; zz=1; p=none; future=yes; adkim=s"),
	  DMARC_REC_OK, 's', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 2, 0, 0, NULL },
	{ "an unknown tag twice is still ignored", S("v=DMARC1; zz=1; zz=2; adkim=s"),
	  DMARC_REC_OK, 's', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 2, 0, 0, NULL },
	{ "removed tags tolerated", S("v=DMARC1; p=reject; pct=50; rf=afrf; ri=3600"),
	  DMARC_REC_OK, 'r', 'r', DMARC_PSD_U, "reject", "", "", 0,
	  DMARC_REMOVED_PCT | DMARC_REMOVED_RF | DMARC_REMOVED_RI, 0, 0, 0, NULL },
	{ "removed tag with a nonsense value still tolerated", S("v=DMARC1; pct=abc"),
	  DMARC_REC_OK, 'r', 'r', DMARC_PSD_U, "none", "", "", 0, DMARC_REMOVED_PCT, 0, 0,
	  0, NULL },
	{ "psd=y", S("v=DMARC1; p=none; psd=y"), DMARC_REC_OK, 'r', 'r', DMARC_PSD_Y,
	  "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "psd=u explicit", S("v=DMARC1; psd=u"), DMARC_REC_OK, 'r', 'r', DMARC_PSD_U,
	  "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "values are case-insensitive", S("v=DMARC1; p=REJECT; adkim=S; psd=Y"),
	  DMARC_REC_OK, 's', 'r', DMARC_PSD_Y, "reject", "", "", 0, 0, 0, 0, 0, NULL },
	{ "whitespace around '=' and ';'", S("v = DMARC1 ;p = none ; adkim = s ;"),
	  DMARC_REC_OK, 's', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "empty specs are no error", S("v=DMARC1;; p=reject;;"), DMARC_REC_OK, 'r', 'r',
	  DMARC_PSD_U, "reject", "", "", 0, 0, 0, 0, 0, NULL },
	{ "bad adkim value falls back to r", S("v=DMARC1; p=none; adkim=x"),
	  DMARC_REC_OK, 'r', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 0, 1, 0, NULL },
	{ "bad psd value falls back to u", S("v=DMARC1; p=none; psd=maybe"),
	  DMARC_REC_OK, 'r', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 0, 1, 0, NULL },
	{ "a spec without '=' is dropped", S("v=DMARC1; p=reject; garbage; adkim=s"),
	  DMARC_REC_OK, 's', 'r', DMARC_PSD_U, "reject", "", "", 0, 0, 0, 1, 0, NULL },
	{ "a value with a control character is dropped", S("v=DMARC1; p=re\001ject"),
	  DMARC_REC_OK, 'r', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 0, 1, 0, NULL },
	{ "an empty value is dropped", S("v=DMARC1; adkim=; p=reject"),
	  DMARC_REC_OK, 'r', 'r', DMARC_PSD_U, "reject", "", "", 0, 0, 0, 1, 0, NULL },
	{ "bad p= with rua= counts as p=none",
	  S("v=DMARC1; p=block; rua=mailto:r@example.com"), DMARC_REC_OK, 'r', 'r',
	  DMARC_PSD_U, "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "bad np= with rua= counts as p=none",
	  S("v=DMARC1; p=reject; np=drop; rua=mailto:r@example.com"), DMARC_REC_OK,
	  'r', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 0, 0, 0, NULL },
	{ "bad p= without rua=: DMARC does not apply through it", S("v=DMARC1; p=block; adkim=s"),
	  DMARC_REC_OK, 's', 'r', DMARC_PSD_U, "none", "", "", 0, 0, 0, 0, 1, "invalid p=" },
	{ "bad sp= with a rua= that is no URI: unusable",
	  S("v=DMARC1; p=none; sp=x; rua=nothing"), DMARC_REC_OK, 'r', 'r', DMARC_PSD_U,
	  "none", "", "", 0, 0, 0, 0, 1, "invalid sp=" },
	{ "a known tag twice is malformed", S("v=DMARC1; p=none; p=reject"), DMARC_REC_BAD,
	  0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, "tag p= given twice" },
	{ "v= not first is no DMARC record", S("p=none; v=DMARC1"), DMARC_REC_NOT,
	  0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL },
	{ "leading space is no DMARC record", S(" v=DMARC1; p=none"), DMARC_REC_NOT,
	  0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL },
	{ "version is case-sensitive", S("v=dmarc1; p=none"), DMARC_REC_NOT,
	  0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL },
	{ "DMARC10 is another version", S("v=DMARC10; p=none"), DMARC_REC_NOT,
	  0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL },
	{ "SPF record", S("v=spf1 -all"), DMARC_REC_NOT,
	  0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL },
	{ "empty", S(""), DMARC_REC_NOT, 0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL },
};

START_TEST(record_parses_as_rfc9989_says)
{
	struct dmarc_rec r;
	char why[LIMIT_REASON];
	enum dmarc_parse_rc rc = dmarc_parse(recs[_i].text, recs[_i].len, &r, why,
	    sizeof(why));

	ck_assert_msg(rc == recs[_i].rc, "%s: rc %d, want %d (%s)", recs[_i].what,
	    (int)rc, (int)recs[_i].rc, why);
	if (recs[_i].why != NULL)
		ck_assert_msg(strstr(why, recs[_i].why) != NULL, "%s: why \"%s\"",
		    recs[_i].what, why);
	if (rc != DMARC_REC_OK)
		return;
	ck_assert_msg(r.adkim == recs[_i].adkim, "%s: adkim %c", recs[_i].what, r.adkim);
	ck_assert_msg(r.aspf == recs[_i].aspf, "%s: aspf %c", recs[_i].what, r.aspf);
	ck_assert_msg(r.psd == recs[_i].psd, "%s: psd %s", recs[_i].what,
	    dmarc_psd_name(r.psd));
	ck_assert_str_eq(r.p, recs[_i].p);
	ck_assert_str_eq(r.sp, recs[_i].sp);
	ck_assert_str_eq(r.np, recs[_i].np);
	ck_assert_int_eq(r.testing, recs[_i].testing);
	ck_assert_uint_eq(r.removed, recs[_i].removed);
	ck_assert_msg(r.unknown == recs[_i].unknown, "%s: unknown %zu", recs[_i].what,
	    r.unknown);
	ck_assert_msg(r.invalid == recs[_i].invalid, "%s: invalid %zu", recs[_i].what,
	    r.invalid);
	ck_assert_int_eq(r.unusable, recs[_i].unusable);
	if (!r.unusable)
		ck_assert_str_eq(why, "");
}
END_TEST

/* Answer sets: each string one TXT record. */
static const struct {
	const char *what;
	const char *txt[3];
	enum dmarc_ans kind;
	char adkim;
	const char *why;
} sets[] = {
	{ "one record", { "v=DMARC1; p=none; adkim=s" }, DMARC_ANS_REC, 's', "" },
	{ "other TXT beside it ignored", { "v=spf1 -all", "v=DMARC1; p=none", "hello" },
	  DMARC_ANS_REC, 'r', "" },
	{ "two DMARC records: none", { "v=DMARC1; p=none", "v=DMARC1; p=reject" },
	  DMARC_ANS_NONE, 0, "several DMARC records" },
	{ "a good and a malformed: none", { "v=DMARC1; p=none", "v=DMARC1; p=x" },
	  DMARC_ANS_NONE, 0, "several DMARC records" },
	{ "one malformed: none with the reason", { "v=DMARC1; p=none; p=reject" },
	  DMARC_ANS_NONE, 0, "malformed record: tag p= given twice" },
	{ "an unusable record is a record, with the reason", { "v=DMARC1; p=x; adkim=s" },
	  DMARC_ANS_REC, 's', "invalid p= and no rua= URI: DMARC does not apply through "
	  "this record" },
	{ "no DMARC record", { "v=spf1 -all" }, DMARC_ANS_NONE, 0, "" },
};

START_TEST(answer_set_reduces_as_rfc9989_says)
{
	struct dmarc_answer a;
	size_t len[3], n;

	for (n = 0; n < 3 && sets[_i].txt[n] != NULL; n++)
		len[n] = strlen(sets[_i].txt[n]);
	dmarc_answer_from_txt(&a, sets[_i].txt, len, n);
	ck_assert_msg(a.kind == sets[_i].kind, "%s: kind %d", sets[_i].what, (int)a.kind);
	if (a.kind == DMARC_ANS_REC)
		ck_assert_int_eq(a.rec.adkim, sets[_i].adkim);
	ck_assert_str_eq(a.why, sets[_i].why);
}
END_TEST

/*
 * Walks. zone: "domain=record" entries, "domain=!" for a DNS failure; any
 * other name has no record. want: the names asked, space-separated, then
 * the result.
 */
static const struct {
	const char *what;
	const char *from;
	const char *zone[6];
	const char *asked;
	int policy_known;
	const char *policy_domain;	/* "" none */
	char adkim;
	int org_known;
	const char *org;
} walks[] = {
	{ "record at the domain, none above: org is the domain",
	  "example.com", { "example.com=v=DMARC1; p=reject; adkim=s" },
	  "example.com com", 1, "example.com", 's', 1, "example.com" },
	{ "record two labels up: policy and org from it",
	  "a.b.example.com", { "example.com=v=DMARC1; p=none" },
	  "a.b.example.com b.example.com example.com com", 1, "example.com", 'r', 1,
	  "example.com" },
	{ "the Organizational Domain's record applies, not a nearer one",
	  "x.dept.example.com",
	  { "dept.example.com=v=DMARC1; p=none; adkim=s", "example.com=v=DMARC1; p=reject" },
	  "x.dept.example.com dept.example.com example.com com", 1, "example.com",
	  'r', 1, "example.com" },
	{ "the domain's own record applies before its Organizational Domain's",
	  "dept.example.com",
	  { "dept.example.com=v=DMARC1; p=none; adkim=s", "example.com=v=DMARC1; p=reject" },
	  "dept.example.com example.com com", 1, "dept.example.com", 's', 1,
	  "example.com" },
	{ "psd=n stops the walk and is the org",
	  "mail.dept.example.com",
	  { "dept.example.com=v=DMARC1; p=none; psd=n", "example.com=v=DMARC1; p=reject" },
	  "mail.dept.example.com dept.example.com", 1, "dept.example.com", 'r', 1,
	  "dept.example.com" },
	{ "psd=n at the start", "example.com",
	  { "example.com=v=DMARC1; psd=n; adkim=s", "com=!" },
	  "example.com", 1, "example.com", 's', 1, "example.com" },
	{ "parent publishes psd=y: org is one label below it",
	  "shop.city.psd.test", { "psd.test=v=DMARC1; p=reject; psd=y" },
	  "shop.city.psd.test city.psd.test psd.test", 1, "psd.test", 'r', 1,
	  "city.psd.test" },
	{ "psd=y above a record without psd",
	  "mail.shop.psd.test", { "shop.psd.test=v=DMARC1; p=none; adkim=s",
	  "psd.test=v=DMARC1; p=reject; psd=y" },
	  "mail.shop.psd.test shop.psd.test psd.test", 1, "shop.psd.test", 's', 1,
	  "shop.psd.test" },
	{ "psd=y at the start ends the walk: the domain is its own",
	  "psd.test", { "psd.test=v=DMARC1; p=reject; psd=y", "test=v=DMARC1; psd=n" },
	  "psd.test", 1, "psd.test", 'r', 1, "psd.test" },
	{ "single-label psd=y reached", "a.b.c.tld", { "tld=v=DMARC1; p=reject; psd=y" },
	  "a.b.c.tld b.c.tld c.tld tld", 1, "tld", 'r', 1, "c.tld" },
	{ "no record anywhere: org is the domain itself", "a.b.example.org", { NULL },
	  "a.b.example.org b.example.org example.org org", 1, "", 'r', 1,
	  "a.b.example.org" },
	{ "ten labels: domain, then seven labels, then one at a time (eight queries)",
	  "l1.l2.l3.l4.l5.l6.l7.l8.example.com", { NULL },
	  "l1.l2.l3.l4.l5.l6.l7.l8.example.com l4.l5.l6.l7.l8.example.com "
	  "l5.l6.l7.l8.example.com l6.l7.l8.example.com l7.l8.example.com "
	  "l8.example.com example.com com", 1, "", 'r', 1,
	  "l1.l2.l3.l4.l5.l6.l7.l8.example.com" },
	{ "eight labels: one label dropped first", "a.b.c.d.e.f.example.com", { NULL },
	  "a.b.c.d.e.f.example.com b.c.d.e.f.example.com c.d.e.f.example.com "
	  "d.e.f.example.com e.f.example.com f.example.com example.com com", 1, "", 'r',
	  1, "a.b.c.d.e.f.example.com" },
	{ "psd=y above a skipped part: org still one label below it",
	  "l1.l2.l3.l4.l5.l6.l7.l8.psd.test", { "psd.test=v=DMARC1; psd=y" },
	  "l1.l2.l3.l4.l5.l6.l7.l8.psd.test l4.l5.l6.l7.l8.psd.test "
	  "l5.l6.l7.l8.psd.test l6.l7.l8.psd.test l7.l8.psd.test l8.psd.test psd.test",
	  1, "psd.test", 'r', 1, "l8.psd.test" },
	{ "failure at the start: nothing known", "a.example.com",
	  { "a.example.com=!", "example.com=v=DMARC1; adkim=s" },
	  "a.example.com", 0, "", 'r', 0, "" },
	{ "failure above the policy record: policy known, org not",
	  "a.example.com", { "a.example.com=v=DMARC1; adkim=s", "example.com=!" },
	  "a.example.com example.com", 1, "a.example.com", 's', 0, "" },
	{ "failure at the TLD after a plain record: org not known",
	  "example.com", { "example.com=v=DMARC1; p=none", "com=!" },
	  "example.com com", 1, "example.com", 'r', 0, "" },
	{ "failure after the stop does not matter",
	  "a.example.com", { "example.com=v=DMARC1; psd=n", "com=!" },
	  "a.example.com example.com", 1, "example.com", 'r', 1, "example.com" },
	{ "several records at a level are none: walk goes on",
	  "a.example.com", { "a.example.com=v=DMARC1; adkim=s",
	  "a.example.com=v=DMARC1; adkim=r", "example.com=v=DMARC1; p=none" },
	  "a.example.com example.com com", 1, "example.com", 'r', 1, "example.com" },
	{ "malformed record at a level is none", "a.example.com",
	  { "a.example.com=v=DMARC1; p=none; p=reject", "example.com=v=DMARC1; adkim=s" },
	  "a.example.com example.com com", 1, "example.com", 's', 1, "example.com" },
	{ "unusable record (bad p=, no rua=) applies, with no adkim from it",
	  "a.example.com",
	  { "a.example.com=v=DMARC1; p=bogus; adkim=s", "example.com=v=DMARC1; adkim=s" },
	  "a.example.com example.com com", 1, "a.example.com", 'r', 1, "example.com" },
	{ "case and trailing dot ignored", "A.Example.COM.",
	  { "example.com=v=DMARC1; psd=n" },
	  "a.example.com example.com", 1, "example.com", 'r', 1, "example.com" },
};

/* The answer the zone table gives for name. */
static void
zone_answer(const char *const *zone, const char *name, struct dmarc_answer *a)
{
	const char *txt[6];
	size_t len[6], n = 0, i, nl = strlen(name);

	for (i = 0; i < 6 && zone[i] != NULL; i++) {
		if (strncmp(zone[i], name, nl) != 0 || zone[i][nl] != '=')
			continue;
		if (strcmp(zone[i] + nl + 1, "!") == 0) {
			memset(a, 0, sizeof(*a));
			a->kind = DMARC_ANS_TEMP;
			str_copy(a->why, "SERVFAIL", sizeof(a->why));
			return;
		}
		txt[n] = zone[i] + nl + 1;
		len[n] = strlen(txt[n]);
		n++;
	}
	dmarc_answer_from_txt(a, txt, len, n);
}

START_TEST(walk_asks_and_decides_as_rfc9989_says)
{
	struct dmarc_walk w;
	struct dmarc_result res;
	struct buf asked;
	size_t i;

	ck_assert_int_eq(dmarc_walk_plan(&w, walks[_i].from), 0);
	ck_assert_uint_le(w.ntargets, DMARC_WALK_MAX);
	buf_init(&asked, 4096);
	for (i = 0; i < w.ntargets; i++) {
		struct dmarc_answer a;

		zone_answer(walks[_i].zone, w.target[i], &a);
		ck_assert_int_eq(buf_printf(&asked, "%s%s", i ? " " : "", w.target[i]), 0);
		if (dmarc_walk_feed(&w, &a))
			break;
	}
	ck_assert_msg(strcmp(buf_str(&asked), walks[_i].asked) == 0,
	    "%s: asked \"%s\"", walks[_i].what, buf_str(&asked));
	dmarc_walk_result(&w, &res);
	ck_assert_uint_eq(res.queries, i < w.ntargets ? i + 1 : w.ntargets);
	ck_assert_msg(res.policy_known == walks[_i].policy_known, "%s: policy_known",
	    walks[_i].what);
	ck_assert_msg(strcmp(res.policy_domain, walks[_i].policy_domain) == 0,
	    "%s: policy at \"%s\"", walks[_i].what, res.policy_domain);
	ck_assert_int_eq(res.policy_found, walks[_i].policy_domain[0] != '\0');
	ck_assert_msg(res.adkim == walks[_i].adkim, "%s: adkim %c", walks[_i].what,
	    res.adkim);
	ck_assert_msg(res.org_known == walks[_i].org_known, "%s: org_known",
	    walks[_i].what);
	ck_assert_msg(strcmp(res.org, walks[_i].org) == 0, "%s: org \"%s\"",
	    walks[_i].what, res.org);
	if (!res.org_known)
		ck_assert_str_eq(res.why, "SERVFAIL");
	buf_release(&asked);
}
END_TEST

START_TEST(walk_never_plans_more_than_eight_queries)
{
	struct dmarc_walk w;
	char name[LIMIT_DOMAIN + 1];
	size_t k, j;

	/* 1 to 120 labels "a.a.a...": every plan ends at the one-label name. */
	for (k = 1; k <= 120; k++) {
		name[0] = 'a';
		for (j = 1; j < k; j++) {
			name[2 * j - 1] = '.';
			name[2 * j] = 'a';
		}
		name[2 * k - 1] = '\0';
		ck_assert_int_eq(dmarc_walk_plan(&w, name), 0);
		ck_assert_uint_eq(w.ntargets, k < DMARC_WALK_MAX ? k : DMARC_WALK_MAX);
		ck_assert_str_eq(w.target[w.ntargets - 1], "a");
		if (k > DMARC_WALK_MAX)
			ck_assert_uint_eq(strlen(w.target[1]), 2 * DMARC_WALK_SKIP_TO - 1);
	}
}
END_TEST

START_TEST(walk_refuses_bad_names)
{
	struct dmarc_walk w;
	char longname[300];

	ck_assert_int_eq(dmarc_walk_plan(&w, ""), -1);
	ck_assert_int_eq(dmarc_walk_plan(&w, "."), -1);
	ck_assert_int_eq(dmarc_walk_plan(&w, "a..b"), -1);
	ck_assert_int_eq(dmarc_walk_plan(&w, ".a.b"), -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(dmarc_walk_plan(&w, longname), -1);
}
END_TEST

START_TEST(feeding_past_the_end_changes_nothing)
{
	struct dmarc_walk w;
	struct dmarc_answer rec, temp;
	struct dmarc_result res;
	size_t len = strlen("v=DMARC1; psd=n");
	const char *t = "v=DMARC1; psd=n";

	dmarc_answer_from_txt(&rec, &t, &len, 1);
	memset(&temp, 0, sizeof(temp));
	temp.kind = DMARC_ANS_TEMP;
	ck_assert_int_eq(dmarc_walk_plan(&w, "example.com"), 0);
	ck_assert_int_eq(dmarc_walk_feed(&w, &rec), 1);
	ck_assert_int_eq(dmarc_walk_feed(&w, &temp), 1);
	dmarc_walk_result(&w, &res);
	ck_assert_int_eq(res.org_known, 1);
	ck_assert_str_eq(res.org, "example.com");
	ck_assert_uint_eq(res.queries, 1);
}
END_TEST

static Suite *
dmarc_suite(void)
{
	Suite *s = suite_create("dmarc");
	TCase *tc = tu_tcase("record");
	TCase *tw = tu_tcase("walk");

	tcase_add_loop_test(tc, record_parses_as_rfc9989_says, 0,
	    sizeof(recs) / sizeof(recs[0]));
	tcase_add_loop_test(tc, answer_set_reduces_as_rfc9989_says, 0,
	    sizeof(sets) / sizeof(sets[0]));
	suite_add_tcase(s, tc);
	tcase_add_loop_test(tw, walk_asks_and_decides_as_rfc9989_says, 0,
	    sizeof(walks) / sizeof(walks[0]));
	tcase_add_test(tw, walk_never_plans_more_than_eight_queries);
	tcase_add_test(tw, walk_refuses_bad_names);
	tcase_add_test(tw, feeding_past_the_end_changes_nothing);
	suite_add_tcase(s, tw);
	return s;
}

int
main(void)
{
	return tu_run(dmarc_suite());
}
