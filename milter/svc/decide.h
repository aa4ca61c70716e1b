/*
 * decide.h - the sign-or-verify decision and the choice of signing keys.
 *
 * Pure functions of the configuration snapshot and what the MTA told us, so
 * the milter, the dry run (dkimgate -E) and the tests reach the same answer.
 * Each step appends a line of explanation to a buffer when one is given;
 * the milter logs a condensed form.
 */
#ifndef DKIMGATE_DECIDE_H
#define DKIMGATE_DECIDE_H

#include <stddef.h>

#include "bounds.h"
#include "buf.h"
#include "conf.h"

struct decide_in {
	const char *client_addr;	/* textual IPv4/IPv6, or NULL */
	const char *auth_user;		/* {auth_authen}, or NULL/"" */
	const char *daemon_name;	/* {daemon_name}, or NULL */
};

enum decide_mode {
	DECIDE_VERIFY = 0,
	DECIDE_SIGN
};

/* Mode, with why (e.g. "authenticated as alice") in why[]. */
enum decide_mode decide_mode(const struct conf *c, const struct decide_in *in,
    char *why, size_t whylen, struct buf *explain);

struct decide_keys {
	/* The keys, in the configuration c the caller holds a reference to. */
	const struct conf_key *keys[LIMIT_SIGNERS];
	size_t nkeys;
	const char *pattern;		/* signing-table entry used, or NULL */
	const char *origin;		/* file the entry came from */
	char why[200];			/* condensed reason, for the log */
};

/*
 * Keys to sign a message from address from_addr (local@domain, or just a
 * domain) with; auth_user restricts them to the user's allowed patterns.
 * The signing table is searched by hash probes, most specific first: the
 * address, the domain, "*.parent" for each parent from the longest, "*";
 * so the cost grows with the number of labels, not the table size.
 * Returns the number of keys (0: do not sign, why says why).
 */
size_t decide_keys(const struct conf *c, const char *from_addr, const char *auth_user,
    struct decide_keys *out, struct buf *explain);

#endif
