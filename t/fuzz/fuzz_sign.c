/*
 * fuzz_sign.c - the signing path: header selection, oversigning,
 * canonicalization, hashing, signature formatting and folding.
 *
 * Input: one options byte, then a message (LF or CRLF). The options pick
 * the canonicalizations, the keys (Ed25519, RSA or both, from fuzz_keys.h),
 * an i= and an x=. Properties: no memory error; signing the body in one
 * piece or in random chunks gives byte-identical signatures (both
 * algorithms are deterministic and the clock is fixed); every signature
 * made is a well-formed header field (no CR or LF outside folding), parses
 * back as usable, and verifies as pass - with this engine, against the
 * published record - over the same message with the signatures placed on
 * top, as the milter inserts them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "fuzz.h"
#include "fuzz_keys.h"

struct signed_msg {
	int rc;
	size_t n;
	char *sigs[LIMIT_SIGNERS];
	char err[256];
};

static const char *const selectors[] = { "ed", "rsa" };

static void
sign(const struct fuzz_msg *m, unsigned opt, uint64_t seed, struct signed_msg *out)
{
	struct dkim *d = dkim_create(FUZZ_NOW);
	size_t k;
	int which;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		fuzz_fail("out of memory");
	for (which = 0; which < 2; which++) {
		struct dkim_signer s;
		char err[256];

		if (((opt >> 2) & 3) == (unsigned)(which ? 1 : 2))
			continue;	/* 0 and 3: both keys; 1: Ed25519 only; 2: RSA only */
		memset(&s, 0, sizeof(s));
		s.key = fuzz_keys_signing(which ? FUZZ_KEY_RSA : FUZZ_KEY_ED25519);
		s.domain = "fuzz.example";
		s.selector = selectors[which];
		s.identity = (opt & 16) ? "signer@fuzz.example" : NULL;
		s.hcanon = (opt & 1) ? CANON_RELAXED : CANON_SIMPLE;
		s.bcanon = (opt & 2) ? CANON_RELAXED : CANON_SIMPLE;
		s.headers = dkim_default_headers;
		s.nheaders = dkim_default_nheaders;
		if (!(opt & 64)) {
			s.oversign = dkim_default_oversign;
			s.noversign = dkim_default_noversign;
		}
		s.lifetime = (opt & 32) ? 86400 : 0;
		if (dkim_add_signer(d, &s, err, sizeof(err)) < 0)
			fuzz_fail("dkim_add_signer: %s", err);
	}
	fuzz_msg_headers(d, m);
	if ((out->rc = dkim_eoh(d)) == 0) {
		fuzz_msg_body(d, m, seed);
		out->rc = dkim_eom(d);
	}
	if (out->rc < 0)
		str_copy(out->err, dkim_error(d), sizeof(out->err));
	else {
		out->n = dkim_nsignatures(d);
		for (k = 0; k < out->n; k++) {
			const char *sg = dkim_signature(d, k);

			out->sigs[k] = fuzz_strndup((const uint8_t *)sg, strlen(sg));
		}
	}
	dkim_free(d);
}

static void
release(struct signed_msg *s)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		free(s->sigs[k]);
}

/* Each field alone: folding only, and it parses as a usable signature. */
static void
check_field(const char *f)
{
	struct sig sg;
	char reason[LIMIT_REASON];
	size_t i, len = strlen(f);

	for (i = 0; i < len; i++)
		if ((f[i] == '\r' && (f[i + 1] != '\n' || (f[i + 2] != ' ' && f[i + 2] != '\t'))) ||
		    (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')))
			fuzz_fail("signature with CR or LF outside folding: %s", f);
	memset(&sg, 0, sizeof(sg));
	if (sig_parse(&sg, f, len, FUZZ_NOW, reason, sizeof(reason)) != DKIM_PASS)
		fuzz_fail("our own signature does not parse (%s): %s", reason, f);
	sig_free(&sg);
}

static void
verify(const struct fuzz_msg *m, const struct signed_msg *s)
{
	struct dkim *d = dkim_create(FUZZ_NOW);
	size_t k, i;

	if (d == NULL)
		fuzz_fail("out of memory");
	dkim_enable_verify(d, LIMIT_SIGNATURES);
	/* The milter inserts at the top, one after the other: the last made is first. */
	for (k = s->n; k > 0; k--)
		if (dkim_header(d, s->sigs[k - 1], strlen(s->sigs[k - 1])) < 0)
			goto out;	/* the message's header was already at the limit */
	fuzz_msg_headers(d, m);
	if (dkim_eoh(d) < 0 || dkim_header_too_large(d))
		goto out;
	for (i = 0; i < s->n; i++) {
		struct dkim_verdict *v = dkim_verdict(d, i);
		const char *txt[4];
		size_t len[4], n;

		n = fuzz_keys_lookup(v->sig->s, v->sig->d, txt, len, 4);
		if (v->key_needed)
			dkim_set_key(d, i, n ? DKIM_KEY_FOUND : DKIM_KEY_MISSING, txt, len, n,
			    NULL, NULL);
	}
	fuzz_msg_body(d, m, 0);
	dkim_eom(d);
	for (i = 0; i < s->n; i++) {
		const struct dkim_verdict *v = dkim_verdict(d, i);

		if (v->status != DKIM_PASS)
			fuzz_fail("our own signature %zu does not verify: %s (%s): %s", i,
			    dkim_status_name(v->status), v->reason, s->sigs[s->n - 1 - i]);
	}
out:
	dkim_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_msg m;
	struct signed_msg *a, *b;
	unsigned opt;
	size_t k;

	if (size == 0)
		return 0;
	opt = data[0];
	if ((a = malloc(sizeof(*a))) == NULL || (b = malloc(sizeof(*b))) == NULL)
		fuzz_fail("out of memory");
	fuzz_msg_split(&m, data + 1, size - 1);
	sign(&m, opt, 0, a);
	sign(&m, opt, fuzz_hash(data, size), b);
	if (a->rc != b->rc || a->n != b->n || strcmp(a->err, b->err) != 0)
		fuzz_fail("chunking changed signing: %d/%d %zu/%zu %s/%s", a->rc, b->rc,
		    a->n, b->n, a->err, b->err);
	for (k = 0; k < a->n; k++) {
		if (strcmp(a->sigs[k], b->sigs[k]) != 0)
			fuzz_fail("chunking changed signature %zu:\n%s\n%s", k, a->sigs[k],
			    b->sigs[k]);
		check_field(a->sigs[k]);
	}
	if (a->rc == 0 && a->n > 0)
		verify(&m, a);
	release(a);
	release(b);
	free(a);
	free(b);
	fuzz_msg_free(&m);
	return 0;
}
