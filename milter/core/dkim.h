/*
 * dkim.h - DKIM sign and verify sessions, one per message.
 *
 * The API follows the order a message arrives in, so the milter callbacks,
 * dkimctl and the tests drive it the same way:
 *
 *	dkim_create -> [dkim_add_signer...] -> dkim_header... -> dkim_eoh
 *	  -> (verifying: dkim_key_request / dkim_set_key per signature)
 *	  -> dkim_body... -> dkim_eom -> results / signatures -> dkim_free
 *
 * The engine does no I/O: when verification needs a key it names the
 * (selector, domain) and the caller supplies what DNS said. Body hashing is
 * incremental and shared between signatures with the same canonicalization
 * and length limit, so memory does not grow with the body. A session is used
 * by one thread at a time; separate sessions are independent.
 */
#ifndef DKIMGATE_DKIM_H
#define DKIMGATE_DKIM_H

#include <stddef.h>
#include <time.h>

#include "canon.h"
#include "crypto.h"
#include "dkim_result.h"
#include "sig.h"

struct dkim;

/* What to sign with. Strings and arrays are copied by dkim_add_signer. */
struct dkim_signer {
	struct crypto_key *key;		/* the session takes its own reference */
	const char *domain;
	const char *selector;
	const char *identity;		/* i=, or NULL */
	enum canon_alg hcanon, bcanon;
	const char *const *headers;	/* names signed when present */
	size_t nheaders;
	const char *const *oversign;	/* names listed once more than present */
	size_t noversign;
	long long lifetime;		/* x= = t= + lifetime; <= 0: no x= */
};

/* Recommended defaults: signed when present, and oversigned. */
extern const char *const dkim_default_headers[];
extern const size_t dkim_default_nheaders;
extern const char *const dkim_default_oversign[];
extern const size_t dkim_default_noversign;

/* What a key lookup produced. */
enum dkim_keystate {
	DKIM_KEY_FOUND,		/* records given */
	DKIM_KEY_MISSING,	/* NXDOMAIN or no TXT: permerror */
	DKIM_KEY_TEMPFAIL	/* SERVFAIL, timeout: temperror */
};

/* The outcome for one DKIM-Signature field, valid until dkim_free. */
struct dkim_verdict {
	enum dkim_status status;
	char reason[LIMIT_REASON];
	const struct sig *sig;		/* d, s, i, a_text, b64_prefix */
	int parsed;			/* 1 when the signature itself was well formed */
	int key_needed;			/* 1 while waiting for dkim_set_key */
	enum crypto_type key_type;
	int key_bits;			/* 0 when no key was obtained */
	int testing;			/* key record has t=y */
	int partial_body;		/* l= left part of the body unsigned */
	const char *dnssec;		/* "secure", "insecure", "bogus" or NULL */
	int skipped;			/* not verified (over the per-message limit) */
};

/* now: the time used for t=, x= and expiry checks. NULL when out of memory. */
struct dkim *dkim_create(time_t now);
void dkim_free(struct dkim *d);

/*
 * Add a signature to make; any time before dkim_eoh (the milter picks keys
 * once it has seen From:). 0, or -1 with err.
 */
int dkim_add_signer(struct dkim *d, const struct dkim_signer *s, char *err,
    size_t errlen);
struct keycache;
/* Parse key records through kc (shared, outlives the session); optional. */
void dkim_set_keycache(struct dkim *d, struct keycache *kc);
/* Verify the DKIM-Signature fields of the message (at most max of them). */
void dkim_enable_verify(struct dkim *d, size_t max);

/*
 * One header field "Name: value" (folds included, CRLF or LF, no final line
 * end). -1 when the header limits are passed; the session then fails the
 * message (signing: error; verifying: permerror for every signature).
 */
int dkim_header(struct dkim *d, const char *field, size_t len);
/*
 * The same for a field given as name and value, as the MTA hands it over
 * (space: put one SP after the colon). Saves assembling the field.
 */
int dkim_header_nv(struct dkim *d, const char *name, const char *value, int space);
/* A header field was too large to keep: the message fails as above. */
void dkim_header_overflow(struct dkim *d);
/* End of headers: signatures are parsed. 0, or -1 with dkim_error. */
int dkim_eoh(struct dkim *d);

size_t dkim_nverdicts(const struct dkim *d);
/* DKIM-Signature fields the message holds (more than the verdicts past the limit). */
size_t dkim_nsignatures_seen(const struct dkim *d);
/* 1 when the header passed the limits (the message can be neither signed nor verified). */
int dkim_header_too_large(const struct dkim *d);
struct dkim_verdict *dkim_verdict(struct dkim *d, size_t i);
/* Mark signature i not to be verified (it is reported as skipped). */
void dkim_skip(struct dkim *d, size_t i);

/*
 * Supply the key for signature i: state, the TXT records found (each one's
 * strings already joined), and the DNSSEC status text (may be NULL).
 */
void dkim_set_key(struct dkim *d, size_t i, enum dkim_keystate state,
    const char *const *txt, const size_t *txtlen, size_t ntxt, const char *dnssec,
    const char *why);

int dkim_body(struct dkim *d, const void *p, size_t n);
/*
 * End of message: body hashes are finished, signatures made, verdicts
 * decided. 0, or -1 (signing failed; dkim_error says why).
 */
int dkim_eom(struct dkim *d);

size_t dkim_nsignatures(const struct dkim *d);
/* Signature k as a complete field "DKIM-Signature: ..." with CRLF folds. */
const char *dkim_signature(const struct dkim *d, size_t k);

/* Why the last call that failed failed. */
const char *dkim_error(const struct dkim *d);

/*
 * The first From: header field's value, unfolded (a CRLF or LF followed by
 * white space removed, any other CR or LF kept) or NULL; count of From
 * fields.
 */
const char *dkim_from(const struct dkim *d, size_t *count);

#endif
