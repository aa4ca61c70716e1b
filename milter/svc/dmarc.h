/*
 * dmarc.h - DMARC policy records and the DNS Tree Walk of RFC 9989, without
 * any I/O.
 *
 * dmarc_parse reads one TXT record the way RFC 9989 sections 4.7 and 4.8
 * describe it: "v=DMARC1" must come first; the other tags may come in any
 * order; unknown tags are ignored; pct, rf and ri (removed by RFC 9989) are
 * tolerated and only noted; np= is understood; a tag or value outside the
 * grammar is dropped for the default. A record that cannot be read as one
 * tag list (a known tag twice) is malformed: the caller treats it as absent
 * and keeps the reason. A record whose p=, sp= or np= is invalid and that
 * names no reporting URI still counts in the tree walk, but DMARC does not
 * apply through it (section 4.10.1): it is marked unusable.
 *
 * The tree walk (section 4.10) is split into a plan and an evaluation so
 * that the caller chooses how to query: dmarc_walk_plan lists the at most
 * DMARC_WALK_MAX domains whose _dmarc names may be asked, in order;
 * dmarc_walk_feed takes the answer for each in that order and says when the
 * walk is over; dmarc_walk_result gives the policy record (section 4.10.1),
 * the Organizational Domain (section 4.10.2) and whether a DNS failure left
 * either undecided. Everything here is plain data: thread-safe, no
 * allocation, nothing to free.
 */
#ifndef DKIMGATE_DMARC_H
#define DKIMGATE_DMARC_H

#include <stddef.h>

#include "bounds.h"

/* Section 4.10: no walk sends more than eight queries. */
#define DMARC_WALK_MAX 8
/* Section 4.10 step 5: a longer name is cut to this many labels first. */
#define DMARC_WALK_SKIP_TO 7

enum dmarc_psd { DMARC_PSD_U = 0, DMARC_PSD_Y, DMARC_PSD_N };

/* Tags RFC 9989 removed, seen in a record (bit mask of dmarc_rec.removed). */
#define DMARC_REMOVED_PCT 1u
#define DMARC_REMOVED_RF  2u
#define DMARC_REMOVED_RI  4u

struct dmarc_rec {
	char adkim;		/* 'r' or 's' (default 'r') */
	char aspf;		/* 'r' or 's' (default 'r') */
	enum dmarc_psd psd;	/* default u */
	char p[12];		/* "none", "quarantine", "reject"; absent: "none" */
	char sp[12];		/* same; "" when absent */
	char np[12];		/* same; "" when absent */
	int testing;		/* t=y */
	unsigned removed;	/* DMARC_REMOVED_* tags present (ignored) */
	size_t unknown;		/* unknown tags ignored */
	size_t invalid;		/* tags or values outside the grammar, ignored */
	int unusable;		/* invalid p=/sp=/np= and no rua=: DMARC does not apply */
};

enum dmarc_parse_rc {
	DMARC_REC_OK = 0,
	DMARC_REC_NOT = -1,	/* not a DMARC record: discarded without comment */
	DMARC_REC_BAD = -2	/* starts as DMARC1 but is malformed: why says how */
	/* DMARC_REC_OK with rec.unusable set: why says why */
};

/* Parse txt[0..len); on DMARC_REC_BAD why receives the reason. */
enum dmarc_parse_rc dmarc_parse(const char *txt, size_t len, struct dmarc_rec *r,
    char *why, size_t whylen);

/* "u", "y" or "n". */
const char *dmarc_psd_name(enum dmarc_psd psd);

/*
 * What the DNS said for one _dmarc name, reduced by the caller to one of
 * three outcomes (dmarc_answer_from_txt does it for a TXT answer set).
 */
enum dmarc_ans {
	DMARC_ANS_NONE = 0,	/* no usable record (none, several, malformed) */
	DMARC_ANS_REC,		/* exactly one valid record */
	DMARC_ANS_TEMP		/* the lookup failed: nothing is known */
};

struct dmarc_answer {
	enum dmarc_ans kind;
	struct dmarc_rec rec;	/* when DMARC_ANS_REC */
	char why[LIMIT_REASON];	/* for NONE (when a record was set aside) and TEMP */
};

/*
 * Reduce a TXT answer set (records joined, as dns.h delivers them) to an
 * answer (section 4.10 steps 2 and 7): records that are not DMARC are
 * dropped, several DMARC records count as none, a malformed one counts as
 * none with its reason.
 */
void dmarc_answer_from_txt(struct dmarc_answer *a, const char *const *txt,
    const size_t *txtlen, size_t n);

struct dmarc_walk {
	char start[LIMIT_DOMAIN + 1];	/* lower-case, no trailing dot */
	size_t start_labels;
	char target[DMARC_WALK_MAX][LIMIT_DOMAIN + 1];
	size_t ntargets;
	/* evaluation state */
	size_t fed;			/* answers taken so far */
	int done;			/* the walk stopped */
	int temp;			/* a failure came before the stop */
	char temp_why[LIMIT_REASON];
	unsigned char have[DMARC_WALK_MAX];	/* a record at target[i] */
	struct dmarc_rec rec[DMARC_WALK_MAX];
	char rec_why[DMARC_WALK_MAX][LIMIT_REASON];	/* why a record is unusable */
	int fewest_at;			/* index of the record with fewest labels */
	int org_at;			/* index of the psd= record that stopped the walk */
	int org_below;			/* org is one label below target[org_at] */
};

/*
 * Plan the walk from domain (a DNS name; trailing dot and case ignored).
 * -1 when domain is empty, too long or has an empty label.
 */
int dmarc_walk_plan(struct dmarc_walk *w, const char *domain);

/*
 * Give the answer for target[w->fed]. Returns 1 when the walk is over (no
 * further answers are needed or looked at), 0 when the next target is
 * wanted. Answers after the end are ignored.
 */
int dmarc_walk_feed(struct dmarc_walk *w, const struct dmarc_answer *a);

struct dmarc_result {
	/*
	 * Section 4.10.1: the record that applies to the start domain: its
	 * own, else its Organizational Domain's, else its Public Suffix
	 * Domain's.
	 */
	int policy_known;		/* 0: a DNS failure hid it */
	int policy_found;		/* a record applies */
	char policy_domain[LIMIT_DOMAIN + 1];	/* where it was found */
	struct dmarc_rec policy;
	char adkim;			/* the policy's adkim; 'r' without a usable one */
	/* Section 4.10.2: the Organizational Domain of the start domain. */
	int org_known;			/* 0: a DNS failure left it undecided */
	char org[LIMIT_DOMAIN + 1];
	const char *org_rule;		/* which rule decided (static text) */
	size_t queries;			/* answers the walk used */
	char why[LIMIT_REASON];		/* the failure, when something is unknown */
};

/* The outcome of a walk fed until it returned 1 (or all targets fed). */
void dmarc_walk_result(const struct dmarc_walk *w, struct dmarc_result *res);

#endif
