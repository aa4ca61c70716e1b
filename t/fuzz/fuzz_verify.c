/*
 * fuzz_verify.c - a whole verifying session: header fields, signatures,
 * key records, body canonicalization and hashing, verdicts, and the
 * Authentication-Results field built from them.
 *
 * Input: a message (LF or CRLF). Keys come from the fixed table of
 * fuzz_keys.h instead of DNS; a signature whose key is not there gets the
 * records of the message's X-Fuzz-Key fields if it has any (so mutations
 * reach key records too), else "no key"; a selector starting with
 * "tempfail" gets a temporary failure.
 *
 * The message is verified twice: once with the body in one piece and keys
 * given after it, once with the body in random small chunks, keys given
 * before it and parsed through a key cache. Properties: no memory error;
 * both runs give the same verdicts (status, reason, key facts) - chunking
 * and key order never change a result; a verdict is a known status; the
 * Authentication-Results field passes fuzz_check_authres.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "align.h"
#include "authres.h"
#include "dkim.h"
#include "fuzz.h"
#include "fuzz_keys.h"
#include "keycache.h"

#define MAX_SIGS 16
#define MAX_TXT 8

struct outcome {
	int eoh_rc, eom_rc;
	size_t n, seen;
	struct {
		enum dkim_status status;
		char reason[LIMIT_REASON];
		int parsed, key_bits, testing, partial_body, skipped;
		enum crypto_type key_type;
	} v[LIMIT_SIGNATURES];
};

static struct keycache *kc;
static struct align *al;

/* The value of each X-Fuzz-Key field, as a key record. */
static size_t
fuzz_key_fields(const struct fuzz_msg *m, const char **txt, size_t *len, size_t max)
{
	static const char name[] = "X-Fuzz-Key:";
	size_t i, n = 0;

	for (i = 0; i < m->n && n < max; i++) {
		const char *f = m->fields[i];
		size_t k = sizeof(name) - 1;

		if (f == NULL || m->lens[i] < k || strncasecmp(f, name, k) != 0)
			continue;
		while (k < m->lens[i] && (f[k] == ' ' || f[k] == '\t'))
			k++;
		txt[n] = f + k;
		len[n] = m->lens[i] - k;
		n++;
	}
	return n;
}

static void
supply_keys(struct dkim *d, const struct fuzz_msg *m)
{
	size_t i, n;

	for (i = 0; i < dkim_nverdicts(d); i++) {
		struct dkim_verdict *v = dkim_verdict(d, i);
		const char *txt[MAX_TXT];
		size_t len[MAX_TXT];

		if (!v->key_needed)
			continue;
		if (strncmp(v->sig->s, "tempfail", 8) == 0) {
			dkim_set_key(d, i, DKIM_KEY_TEMPFAIL, NULL, NULL, 0, NULL, "timed out");
			continue;
		}
		n = fuzz_keys_lookup(v->sig->s, v->sig->d, txt, len, MAX_TXT);
		if (n == 0)
			n = fuzz_key_fields(m, txt, len, MAX_TXT);
		if (n == 0)
			dkim_set_key(d, i, DKIM_KEY_MISSING, NULL, NULL, 0, NULL, "NXDOMAIN");
		else
			dkim_set_key(d, i, DKIM_KEY_FOUND, txt, len, n,
			    (i & 1) ? "secure" : "insecure", NULL);
	}
}

/* The Authentication-Results field the daemon would write (see verify.c). */
static void
check_authres(struct dkim *d)
{
	struct buf ar;
	char from_domain[LIMIT_DOMAIN + 1] = "", why[128];
	const char *from;
	size_t i, n = dkim_nverdicts(d), count, nres = 0;
	int any_pass = 0;

	if ((from = dkim_from(d, &count)) != NULL && count == 1 &&
	    align_from(from, NULL, 0, from_domain, sizeof(from_domain)) != 1)
		from_domain[0] = '\0';
	buf_init(&ar, LIMIT_OUT_HEADER);
	if (authres_begin(&ar, "mx.fuzz.example") < 0)
		fuzz_fail("authres_begin failed");
	for (i = 0; i < n; i++) {
		struct dkim_verdict *v = dkim_verdict(d, i);
		struct authres_align a;

		memset(&a, 0, sizeof(a));
		if (from_domain[0] && v->parsed) {
			a.from_domain = from_domain;
			a.strict = align_strict(v->sig->d, from_domain);
			a.relaxed = a.strict || align_relaxed(al, v->sig->d, from_domain);
			a.mode = 'r';
		}
		any_pass |= v->status == DKIM_PASS;
		if (authres_add_dkim(&ar, v, a.from_domain ? &a : NULL) < 0)
			fuzz_fail("Authentication-Results field too large");
		nres++;
	}
	if (n == 0 && authres_add_none(&ar, "no DKIM signature") == 0)
		nres++;
	if (authres_add_verdict(&ar, n == 0 ? "none" : any_pass ? "unaligned-pass" : "fail",
	    from_domain[0] ? from_domain : NULL, NULL) == 0)
		nres++;
	if (fuzz_check_authres(buf_str(&ar), ar.len, nres, why, sizeof(why)) < 0)
		fuzz_fail("%s in: %s", why, buf_str(&ar));
	buf_release(&ar);
}

static void
run(const struct fuzz_msg *m, uint64_t seed, struct outcome *o)
{
	struct dkim *d = dkim_create(FUZZ_NOW);
	size_t i;

	memset(o, 0, sizeof(*o));
	if (d == NULL)
		fuzz_fail("out of memory");
	if (seed != 0)
		dkim_set_keycache(d, kc);
	dkim_enable_verify(d, MAX_SIGS);
	fuzz_msg_headers(d, m);
	if ((o->eoh_rc = dkim_eoh(d)) == 0) {
		if (seed != 0)
			supply_keys(d, m);
		fuzz_msg_body(d, m, seed);
		if (seed == 0)
			supply_keys(d, m);
		o->eom_rc = dkim_eom(d);
	}
	o->n = dkim_nverdicts(d);
	o->seen = dkim_nsignatures_seen(d);
	if (o->n > LIMIT_SIGNATURES || o->n > o->seen)
		fuzz_fail("%zu verdicts for %zu signatures", o->n, o->seen);
	for (i = 0; i < o->n; i++) {
		const struct dkim_verdict *v = dkim_verdict(d, i);

		if ((int)v->status < DKIM_NONE || v->status > DKIM_PERMERROR)
			fuzz_fail("verdict %zu has status %d", i, (int)v->status);
		if (o->eoh_rc == 0 && v->key_needed)
			fuzz_fail("verdict %zu still waits for its key", i);
		if (memchr(v->reason, '\0', sizeof(v->reason)) == NULL)
			fuzz_fail("verdict %zu: reason not terminated", i);
		o->v[i].status = v->status;
		str_copy(o->v[i].reason, v->reason, sizeof(o->v[i].reason));
		o->v[i].parsed = v->parsed;
		o->v[i].key_bits = v->key_bits;
		o->v[i].key_type = v->key_type;
		o->v[i].testing = v->testing;
		o->v[i].partial_body = v->partial_body;
		o->v[i].skipped = v->skipped;
	}
	if (seed == 0 && o->eoh_rc == 0)
		check_authres(d);
	dkim_free(d);
}

static void
compare(const struct outcome *a, const struct outcome *b)
{
	size_t i;

	if (a->eoh_rc != b->eoh_rc || a->eom_rc != b->eom_rc || a->n != b->n ||
	    a->seen != b->seen)
		fuzz_fail("chunking changed the session: eoh %d/%d eom %d/%d verdicts %zu/%zu",
		    a->eoh_rc, b->eoh_rc, a->eom_rc, b->eom_rc, a->n, b->n);
	for (i = 0; i < a->n; i++)
		if (a->v[i].status != b->v[i].status || strcmp(a->v[i].reason, b->v[i].reason) ||
		    a->v[i].parsed != b->v[i].parsed || a->v[i].key_bits != b->v[i].key_bits ||
		    a->v[i].key_type != b->v[i].key_type || a->v[i].testing != b->v[i].testing ||
		    a->v[i].partial_body != b->v[i].partial_body ||
		    a->v[i].skipped != b->v[i].skipped)
			fuzz_fail("chunking changed verdict %zu: %s (%s) / %s (%s)", i,
			    dkim_status_name(a->v[i].status), a->v[i].reason,
			    dkim_status_name(b->v[i].status), b->v[i].reason);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_msg m;
	struct outcome *a, *b;

	if (kc == NULL && ((kc = keycache_create()) == NULL ||
	    (al = align_create(NULL)) == NULL))
		fuzz_fail("out of memory");
	if ((a = malloc(sizeof(*a))) == NULL || (b = malloc(sizeof(*b))) == NULL)
		fuzz_fail("out of memory");
	fuzz_msg_split(&m, data, size);
	run(&m, 0, a);
	run(&m, fuzz_hash(data, size), b);
	compare(a, b);
	if (getenv("FUZZ_VERBOSE") != NULL) {
		size_t i;

		/* For triage and for checking that seeds reach a pass. */
		for (i = 0; i < a->n; i++)
			fprintf(stderr, "verdict %zu: %s (%s)\n", i,
			    dkim_status_name(a->v[i].status), a->v[i].reason);
	}
	fuzz_msg_free(&m);
	free(a);
	free(b);
	return 0;
}
