/*
 * dkim.c - sign and verify sessions (see dkim.h); making signatures is in
 * dkim_sign.c.
 *
 * Headers are kept in one bounded buffer. At end-of-headers each signature
 * to make or check is attached to a body hasher keyed by (canonicalization,
 * length limit), so two signatures that hash the body the same way share one
 * pass over it. Header hashes are computed at end-of-message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dkim.h"
#include "keycache.h"
#include "keyrec.h"
#include "dkim_int.h"
#include "bounds.h"


struct dkim *
dkim_create(time_t now)
{
	struct dkim *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->now = now;
	buf_init(&d->headers, LIMIT_HEADER_TOTAL);
	buf_init(&d->from, LIMIT_HEADER_FIELD);
	return d;
}

void
dkim_free(struct dkim *d)
{
	size_t i;

	if (d == NULL)
		return;
	dkim_free_signers(d);
	for (i = 0; i < d->nvsigs; i++) {
		sig_free(&d->vsigs[i].sig);
		keyrec_clear(&d->vsigs[i].kr);
	}
	free(d->vsigs);
	for (i = 0; i < d->nhashers; i++)
		canon_body_free(d->hashers[i].cb);
	free(d->hdrs);
	buf_release(&d->headers);
	buf_release(&d->from);
	free(d);
}

void
dkim_set_keycache(struct dkim *d, struct keycache *kc)
{
	d->keycache = kc;
}

void
dkim_enable_verify(struct dkim *d, size_t max)
{
	d->verify = 1;
	d->max_verify = max > LIMIT_SIGNATURES ? LIMIT_SIGNATURES : max;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Room for one more header field. The table grows rather than being sized
 * for the limit: zeroing LIMIT_HEADER_COUNT entries in every session cost
 * more than the rest of setting one up.
 */
static int
hdrs_reserve(struct dkim *d)
{
	struct hdr *p;
	size_t ncap;

	if (d->nhdrs < d->hdrcap)
		return 0;
	if (d->nhdrs == LIMIT_HEADER_COUNT)
		return -1;
	ncap = d->hdrcap > 0 ? 2 * d->hdrcap : 32;
	if (ncap > LIMIT_HEADER_COUNT)
		ncap = LIMIT_HEADER_COUNT;
	if ((p = realloc(d->hdrs, ncap * sizeof(*p))) == NULL)
		return -1;
	d->hdrs = p;
	d->hdrcap = ncap;
	return 0;
}

/* Index the field just appended at headers[off, off + len). */
static void
hdr_register(struct dkim *d, size_t off, size_t len)
{
	const char *field = d->headers.data + off;
	const char *colon = memchr(field, ':', len);
	struct hdr *h = &d->hdrs[d->nhdrs++];
	size_t nlen;

	h->off = off;
	h->len = len;
	/* A line without a colon cannot match any h= name. */
	nlen = colon ? (size_t)(colon - field) : 0;
	while (nlen > 0 && is_wsp(field[nlen - 1]))
		nlen--;
	h->nlen = nlen;
	if (nlen == 4 && strncasecmp(field, "from", 4) == 0) {
		d->nfrom++;
		if (d->nfrom == 1) {
			size_t i;

			/*
			 * Unfolded: a line break followed by white space goes.
			 * Any other CR or LF stays, so that the From: parser
			 * refuses the field instead of reading "a@b.c\rX" as
			 * the domain b.cx.
			 */
			for (i = (size_t)(colon - field) + 1; i < len; i++) {
				if (field[i] == '\r' && i + 2 < len && field[i + 1] == '\n' &&
				    is_wsp(field[i + 2])) {
					i++;
					continue;
				}
				if (field[i] == '\n' && i + 1 < len && is_wsp(field[i + 1]))
					continue;
				if (buf_putc(&d->from, field[i]) < 0)
					break;
			}
		}
	}
}

/* Room for one more field of len bytes; -1 (and the message fails) if none. */
static int
hdr_room(struct dkim *d, size_t len)
{
	if (d->header_overflow)
		return -1;
	if (len > LIMIT_HEADER_FIELD || hdrs_reserve(d) < 0 ||
	    len > d->headers.max - d->headers.len) {
		dkim_header_overflow(d);
		return -1;
	}
	return 0;
}

int
dkim_header(struct dkim *d, const char *field, size_t len)
{
	size_t off = d->headers.len;

	if (hdr_room(d, len) < 0 || buf_append(&d->headers, field, len) < 0) {
		dkim_header_overflow(d);
		return -1;
	}
	hdr_register(d, off, len);
	return 0;
}

int
dkim_header_nv(struct dkim *d, const char *name, const char *value, int space)
{
	size_t off = d->headers.len, nl = strlen(name), vl = strlen(value);
	size_t len = nl + 1 + (space ? 1 : 0) + vl;

	if (hdr_room(d, len) < 0 || buf_append(&d->headers, name, nl) < 0 ||
	    buf_append(&d->headers, space ? ": " : ":", space ? 2 : 1) < 0 ||
	    buf_append(&d->headers, value, vl) < 0) {
		dkim_header_overflow(d);
		return -1;
	}
	hdr_register(d, off, len);
	return 0;
}

void
dkim_header_overflow(struct dkim *d)
{
	d->header_overflow = 1;
	snprintf(d->error, sizeof(d->error), "message header too large");
}

/* The digest a signature algorithm hashes with. */
static const EVP_MD *
sig_md(enum sig_alg alg)
{
	return alg == SIG_RSA_SHA1 ? EVP_sha1() : EVP_sha256();
}

int
dkim_eoh(struct dkim *d)
{
	size_t i, nsig = 0;

	/* A second end of header would parse the signatures again over the first. */
	if (d->eoh_done) {
		snprintf(d->error, sizeof(d->error), "end of header given twice");
		return -1;
	}
	d->eoh_done = 1;
	for (i = 0; i < d->nsigners; i++) {
		struct signer *s = &d->signers[i];

		if (dkim_choose_headers(d, s) < 0) {
			snprintf(d->error, sizeof(d->error), "too many headers to sign");
			return -1;
		}
		if ((s->h = get_hasher(d, s->bcanon, -1, EVP_sha256())) == NULL) {
			snprintf(d->error, sizeof(d->error), "out of memory");
			return -1;
		}
	}
	if (!d->verify)
		return 0;
	for (i = 0; i < d->nhdrs; i++)
		if (sig_is_dkim_field(hdr_text(d, &d->hdrs[i]), d->hdrs[i].len))
			nsig++;
	d->nsig_seen = nsig;
	if (nsig > LIMIT_SIGNATURES)
		nsig = LIMIT_SIGNATURES;
	if (nsig == 0)
		return 0;
	if ((d->vsigs = calloc(nsig, sizeof(*d->vsigs))) == NULL) {
		snprintf(d->error, sizeof(d->error), "out of memory");
		return -1;
	}
	/* Signatures are numbered from the top of the header, as receivers list them. */
	for (i = 0; i < d->nhdrs && d->nvsigs < nsig; i++) {
		const struct hdr *h = &d->hdrs[i];
		struct vsig *vs;
		struct dkim_verdict *v;

		if (!sig_is_dkim_field(hdr_text(d, h), h->len))
			continue;
		vs = &d->vsigs[d->nvsigs++];
		v = &vs->v;
		vs->hdr_index = i;
		v->sig = &vs->sig;
		v->status = sig_parse(&vs->sig, hdr_text(d, h), h->len, d->now,
		    v->reason, sizeof(v->reason));
		if (d->header_overflow) {
			v->status = DKIM_PERMERROR;
			str_copy(v->reason, "message header too large", sizeof(v->reason));
		}
		if (v->status != DKIM_PASS)
			continue;
		v->parsed = 1;
		if (d->nvsigs > d->max_verify) {
			dkim_skip(d, d->nvsigs - 1);
			continue;
		}
		v->key_needed = 1;
		if ((vs->h = get_hasher(d, vs->sig.bcanon, vs->sig.l,
		    sig_md(vs->sig.alg))) == NULL) {
			v->status = DKIM_TEMPERROR;
			v->key_needed = 0;
			str_copy(v->reason, "out of memory", sizeof(v->reason));
		}
	}
	return 0;
}

size_t
dkim_nsignatures_seen(const struct dkim *d)
{
	return d->nsig_seen;
}

int
dkim_header_too_large(const struct dkim *d)
{
	return d->header_overflow;
}

size_t
dkim_nverdicts(const struct dkim *d)
{
	return d->nvsigs;
}

struct dkim_verdict *
dkim_verdict(struct dkim *d, size_t i)
{
	return i < d->nvsigs ? &d->vsigs[i].v : NULL;
}

void
dkim_skip(struct dkim *d, size_t i)
{
	struct dkim_verdict *v = dkim_verdict(d, i);

	if (v == NULL || v->status != DKIM_PASS)
		return;
	v->skipped = 1;
	v->key_needed = 0;
	v->status = DKIM_POLICY;
	str_copy(v->reason, "not verified: too many signatures", sizeof(v->reason));
	d->vsigs[i].h = NULL;
}

void
dkim_set_key(struct dkim *d, size_t i, enum dkim_keystate state,
    const char *const *txt, const size_t *txtlen, size_t ntxt, const char *dnssec,
    const char *why)
{
	struct vsig *vs;
	struct dkim_verdict *v;
	char reason[LIMIT_REASON];
	size_t k;

	if (i >= d->nvsigs || !d->vsigs[i].v.key_needed)
		return;
	vs = &d->vsigs[i];
	v = &vs->v;
	v->key_needed = 0;
	v->dnssec = dnssec;
	if (state == DKIM_KEY_TEMPFAIL) {
		v->status = DKIM_TEMPERROR;
		snprintf(v->reason, sizeof(v->reason), "key lookup failed: %s",
		    why ? why : "DNS error");
		return;
	}
	if (state == DKIM_KEY_MISSING || ntxt == 0) {
		v->status = DKIM_PERMERROR;
		snprintf(v->reason, sizeof(v->reason), "no key for signature (%s)",
		    why ? why : "no TXT record");
		return;
	}
	/* Several records: use the first that is a usable key record. */
	reason[0] = '\0';
	for (k = 0; k < ntxt; k++) {
		char r[LIMIT_REASON];

		if (keycache_parse(d->keycache, &vs->kr, txt[k], txtlen[k], r,
		    sizeof(r)) == 0) {
			vs->have_key = 1;
			break;
		}
		keyrec_clear(&vs->kr);
		if (reason[0] == '\0')
			str_copy(reason, r, sizeof(reason));
	}
	if (!vs->have_key) {
		v->status = DKIM_PERMERROR;
		str_copy(v->reason, reason, sizeof(v->reason));
		return;
	}
	v->testing = vs->kr.testing;
	v->key_type = vs->kr.type;
	v->key_bits = vs->kr.bits;
	/* RFC 6376 6.1.2 step 6: h= must allow the hash a= names. */
	if (!(vs->sig.alg == SIG_RSA_SHA1 ? vs->kr.sha1_ok : vs->kr.sha256_ok)) {
		v->status = DKIM_PERMERROR;
		snprintf(v->reason, sizeof(v->reason), "key record does not allow %s (h=)",
		    vs->sig.alg == SIG_RSA_SHA1 ? "sha1" : "sha256");
		return;
	}
	if (vs->kr.revoked) {
		v->status = DKIM_PERMERROR;
		str_copy(v->reason, "key revoked (empty p=)", sizeof(v->reason));
		return;
	}
	if ((vs->kr.type == CRYPTO_ED25519) != (vs->sig.alg == SIG_ED25519_SHA256)) {
		v->status = DKIM_PERMERROR;
		str_copy(v->reason, "key type (k=) does not match the algorithm (a=)",
		    sizeof(v->reason));
		return;
	}
	if (vs->kr.type == CRYPTO_RSA && vs->kr.bits < LIMIT_RSA_MIN_BITS) {
		v->status = DKIM_POLICY;
		snprintf(v->reason, sizeof(v->reason),
		    "RSA key of %d bits is too weak (RFC 8301 requires %d)", vs->kr.bits,
		    LIMIT_RSA_MIN_BITS);
		return;
	}
	if (vs->kr.strict) {
		const char *at = strrchr(vs->sig.i, '@');

		if (at == NULL || strcasecmp(at + 1, vs->sig.d) != 0) {
			v->status = DKIM_PERMERROR;
			str_copy(v->reason, "key has t=s but i= is a subdomain of d=",
			    sizeof(v->reason));
		}
	}
}

int
dkim_body(struct dkim *d, const void *p, size_t n)
{
	size_t i;

	for (i = 0; i < d->nhashers; i++)
		if (canon_body_update(d->hashers[i].cb, p, n) < 0) {
			snprintf(d->error, sizeof(d->error), "body digest failed");
			return -1;
		}
	return 0;
}

static void
finish_hashers(struct dkim *d)
{
	size_t i;

	for (i = 0; i < d->nhashers; i++) {
		struct hasher *h = &d->hashers[i];

		h->length = canon_body_length(h->cb);
		if (canon_body_final(h->cb, h->md, &h->mdlen) < 0)
			h->mdlen = 0;
		h->length = canon_body_length(h->cb);
	}
}

static void
verify_one(struct dkim *d, struct vsig *vs, EVP_MD_CTX *md)
{
	struct dkim_verdict *v = &vs->v;
	struct sig *sg = &vs->sig;
	unsigned char hd[EVP_MAX_MD_SIZE];
	unsigned int hdlen;
	char *blanked;
	int ok;

	if (v->key_needed) {
		v->key_needed = 0;
		v->status = DKIM_TEMPERROR;
		str_copy(v->reason, "no key lookup result", sizeof(v->reason));
		return;
	}
	if (v->status != DKIM_PASS || vs->h == NULL)
		return;
	if (vs->h->mdlen == 0) {
		v->status = DKIM_TEMPERROR;
		str_copy(v->reason, "body digest failed", sizeof(v->reason));
		return;
	}
	/*
	 * A body shorter than the signer hashed lost its end in transit: the
	 * signature does not verify (fail, as every established verifier says),
	 * it is not malformed.
	 */
	if (sg->l >= 0 && (unsigned long long)sg->l > vs->h->length) {
		v->status = DKIM_FAIL;
		str_copy(v->reason, "body shorter than l= (truncated in transit?)",
		    sizeof(v->reason));
		return;
	}
	if (sg->l >= 0 && (unsigned long long)sg->l < vs->h->length)
		v->partial_body = 1;
	/* The field with b= emptied, as the signer hashed it. */
	if ((blanked = malloc(sg->field_len + 1)) == NULL) {
		v->status = DKIM_TEMPERROR;
		str_copy(v->reason, "out of memory", sizeof(v->reason));
		return;
	}
	memcpy(blanked, sg->field, sg->b_start);
	memcpy(blanked + sg->b_start, sg->field + sg->b_end, sg->field_len - sg->b_end);
	ok = hash_headers(d, md, sig_md(sg->alg), sg->hcanon, sg->hnames, sg->nh, blanked,
	    sg->field_len - (sg->b_end - sg->b_start), (long)vs->hdr_index, hd, &hdlen);
	free(blanked);
	if (ok < 0) {
		v->status = DKIM_PERMERROR;
		str_copy(v->reason, "message header too large", sizeof(v->reason));
		return;
	}
	ok = crypto_verify(vs->kr.key, hd, hdlen, sg->b, sg->blen);
	if (ok == 1 && (sg->bhlen != vs->h->mdlen ||
	    memcmp(sg->bh, vs->h->md, sg->bhlen) != 0)) {
		v->status = DKIM_FAIL;
		str_copy(v->reason, "body hash did not verify (body modified)",
		    sizeof(v->reason));
	} else if (ok != 1) {
		v->status = DKIM_FAIL;
		if (sg->bhlen != vs->h->mdlen || memcmp(sg->bh, vs->h->md, sg->bhlen) != 0)
			str_copy(v->reason, "body hash did not verify (body modified)",
			    sizeof(v->reason));
		else
			str_copy(v->reason, "signature did not verify (headers modified)",
			    sizeof(v->reason));
	} else if (sg->alg == SIG_RSA_SHA1) {
		/*
		 * RFC 8301 3.1: rsa-sha1 MUST NOT be used for verifying, so a
		 * good one is never valid. It is refused only now, after the
		 * evaluation of RFC 6376 6.1 ran, so that a key that cannot be
		 * fetched still says temperror and a broken or forged signature
		 * still says fail: refusing it up front would hide a DNS outage
		 * or a forgery behind "policy", which RFC 8601 2.7.1 means for a
		 * signature that was evaluated but is unacceptable to the ADMD.
		 */
		v->status = DKIM_POLICY;
		str_copy(v->reason, "rsa-sha1 signature verified but not accepted (RFC 8301)",
		    sizeof(v->reason));
	} else {
		v->status = DKIM_PASS;
		str_copy(v->reason, v->testing ? "good signature (key in test mode t=y)" :
		    "good signature", sizeof(v->reason));
	}
}

int
dkim_eom(struct dkim *d)
{
	EVP_MD_CTX *md;
	size_t i;
	int rc = 0;

	if (!d->eoh_done && dkim_eoh(d) < 0)
		return -1;
	d->eom_done = 1;
	finish_hashers(d);
	if ((md = EVP_MD_CTX_new()) == NULL) {
		snprintf(d->error, sizeof(d->error), "out of memory");
		return -1;
	}
	for (i = 0; i < d->nsigners && rc == 0; i++) {
		if (d->header_overflow) {
			snprintf(d->error, sizeof(d->error), "message header too large");
			rc = -1;
			break;
		}
		rc = dkim_sign_one(d, &d->signers[i], md);
	}
	for (i = 0; i < d->nvsigs; i++)
		verify_one(d, &d->vsigs[i], md);
	EVP_MD_CTX_free(md);
	return rc;
}

const char *
dkim_error(const struct dkim *d)
{
	return d->error[0] ? d->error : "unknown error";
}

const char *
dkim_from(const struct dkim *d, size_t *count)
{
	*count = d->nfrom;
	return d->nfrom > 0 ? buf_str(&d->from) : NULL;
}
