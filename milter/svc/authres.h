/*
 * authres.h - Authentication-Results header fields (RFC 8601) for DKIM.
 *
 * Values that come from the message (d=, s=, i=, b=) are checked and quoted
 * here, so nothing a sender writes can break out of the field or add one.
 * The field is folded with CRLF + TAB between results. Thread-safe.
 */
#ifndef DKIMGATE_AUTHRES_H
#define DKIMGATE_AUTHRES_H

#include "buf.h"
#include "dkim.h"

/* Optional alignment facts attached to one dkim= result. */
struct authres_align {
	const char *from_domain;	/* header.from domain, or NULL */
	int relaxed;			/* d= aligns under relaxed rules */
	int strict;			/* d= aligns under strict rules */
	int relaxed_unknown;		/* a DNS failure left relaxed undecided */
	char mode;			/* 'r' or 's': the mode that applies; else unknown */
};

/* Which method decided alignment, and from what (appended to a result). */
struct authres_policy {
	const char *method;		/* "rfc9989" or "rfc7489" */
	const char *org;		/* Organizational Domain; NULL or "" to leave out */
	char adkim;			/* 'r' or 's'; anything else leaves it out */
	const char *source;		/* "_dmarc.NAME" or "none"; NULL or "" to leave out */
};

/* Start the field: "Authentication-Results: ID;" (name included). */
int authres_begin(struct buf *out, const char *authserv_id) BUF_MUST_CHECK;
/* One "dkim=..." result for a verdict; align may be NULL. */
int authres_add_dkim(struct buf *out, const struct dkim_verdict *v,
    const struct authres_align *align) BUF_MUST_CHECK;
/* "dkim=none" with a reason. */
int authres_add_none(struct buf *out, const char *reason) BUF_MUST_CHECK;
/*
 * "dkim=policy" for the signatures past the limit of those evaluated: more
 * of them were not looked at, limit is how many were.
 */
int authres_add_unevaluated(struct buf *out, size_t more, int limit) BUF_MUST_CHECK;
/*
 * The per-message alignment verdict as its own result,
 * "dkim-alignment=VERDICT" (syntax in the README): verdict is one of
 * aligned-pass, unaligned-pass, fail, none.
 */
int authres_add_verdict(struct buf *out, const char *verdict, const char *from_domain,
    const char *detail) BUF_MUST_CHECK;

/*
 * " policy.method=M [policy.org-domain=O] [policy.adkim=A]
 * [policy.adkim-source=S]" after the result just added.
 */
int authres_add_policy(struct buf *out, const struct authres_policy *p) BUF_MUST_CHECK;

/*
 * Append s as an RFC 8601 value: a token when it can be one, else a quoted
 * string. Control characters and non-ASCII bytes are replaced by '?'.
 */
int authres_value(struct buf *out, const char *s) BUF_MUST_CHECK;

/*
 * 1 when field is an Authentication-Results field whose authserv-id is id,
 * compared as domain names: case-insensitive, a trailing dot on either side
 * ignored.
 */
int authres_claims_id(const char *value, const char *id);

#endif
