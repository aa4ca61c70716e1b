/*
 * dkim_sign.c - the signing half of a DKIM session: signers, the choice of
 * h= (oversigning) and making each DKIM-Signature at end of message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_int.h"

const char *const dkim_default_headers[] = {
	"from", "reply-to", "subject", "date", "to", "cc", "message-id",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "content-disposition", "content-language",
	"list-id", "list-help", "list-unsubscribe", "list-unsubscribe-post",
	"list-subscribe", "list-post", "list-owner", "list-archive",
	"resent-date", "resent-from", "resent-to", "resent-cc", "sender",
};
const size_t dkim_default_nheaders =
    sizeof(dkim_default_headers) / sizeof(dkim_default_headers[0]);
const char *const dkim_default_oversign[] = {
	"from", "reply-to", "subject", "date", "to", "cc", "message-id",
	"mime-version", "content-type", "content-transfer-encoding",
	"list-unsubscribe", "list-unsubscribe-post",
};
const size_t dkim_default_noversign =
    sizeof(dkim_default_oversign) / sizeof(dkim_default_oversign[0]);

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
static char *
lowerdup(const char *s)
{
	size_t n = strlen(s), i;
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	for (i = 0; i <= n; i++)
		p[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	return p;
}
static char **
dup_names(const char *const *v, size_t n)
{
	char **out = calloc(n + 1, sizeof(*out));
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((out[i] = lowerdup(v[i])) == NULL) {
			free_strv(out, i);
			return NULL;
		}
	}
	return out;
}
int
dkim_add_signer(struct dkim *d, const struct dkim_signer *in, char *err, size_t errlen)
{
	struct signer *s;

	if (d->eoh_done) {
		snprintf(err, errlen, "signers must be added before the end of the header");
		return -1;
	}
	if (d->nsigners == LIMIT_SIGNERS) {
		snprintf(err, errlen, "too many signatures for one message (max %d)",
		    LIMIT_SIGNERS);
		return -1;
	}
	if (in->key == NULL || in->domain == NULL || in->selector == NULL) {
		snprintf(err, errlen, "signer needs a key, a domain and a selector");
		return -1;
	}
	s = &d->signers[d->nsigners];
	memset(s, 0, sizeof(*s));
	buf_init(&s->out, LIMIT_OUT_HEADER);
	s->hcanon = in->hcanon;
	s->bcanon = in->bcanon;
	s->lifetime = in->lifetime;
	s->domain = strdup(in->domain);
	s->selector = strdup(in->selector);
	s->identity = in->identity ? strdup(in->identity) : NULL;
	s->headers = dup_names(in->headers, in->nheaders);
	s->nheaders = in->nheaders;
	s->oversign = dup_names(in->oversign, in->noversign);
	s->noversign = in->noversign;
	s->key = crypto_key_ref(in->key);
	d->nsigners++;	/* counted now so dkim_free releases a partial signer */
	if (s->domain == NULL || s->selector == NULL || s->headers == NULL ||
	    s->oversign == NULL || (in->identity && s->identity == NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
static size_t
count_hdr(const struct dkim *d, const char *lname)
{
	size_t i, n = 0;

	for (i = 0; i < d->nhdrs; i++)
		if (hdr_is(d, &d->hdrs[i], lname))
			n++;
	return n;
}
static int
in_list(char **v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}
/* Choose h= for a signer: each name once per instance, oversigned ones once more. */
int
dkim_choose_headers(struct dkim *d, struct signer *s)
{
	size_t i, k, n;

	for (i = 0; i < s->nheaders; i++) {
		n = count_hdr(d, s->headers[i]);
		if (in_list(s->oversign, s->noversign, s->headers[i]))
			n++;
		for (k = 0; k < n; k++) {
			if (s->nh == LIMIT_SIGNED_HEADERS)
				return -1;
			s->hlist[s->nh++] = s->headers[i];
		}
	}
	/* Oversigned names not in the signed list still get their entries. */
	for (i = 0; i < s->noversign; i++) {
		if (in_list(s->headers, s->nheaders, s->oversign[i]))
			continue;
		n = count_hdr(d, s->oversign[i]) + 1;
		for (k = 0; k < n; k++) {
			if (s->nh == LIMIT_SIGNED_HEADERS)
				return -1;
			s->hlist[s->nh++] = s->oversign[i];
		}
	}
	return 0;
}
int
dkim_sign_one(struct dkim *d, struct signer *s, EVP_MD_CTX *md)
{
	struct sig_spec sp;
	unsigned char hd[EVP_MAX_MD_SIZE], sigbytes[LIMIT_SIG_BYTES];
	unsigned int hdlen;
	size_t siglen = sizeof(sigbytes);
	char err[200];

	if (s->h->mdlen == 0) {
		snprintf(d->error, sizeof(d->error), "body digest failed");
		return -1;
	}
	/*
	 * RFC 6376 5.4: From must be signed. A message without one, or a
	 * header list that leaves it out, would get a signature every
	 * verifier refuses: fail here and say why instead.
	 */
	if (d->nfrom == 0) {
		snprintf(d->error, sizeof(d->error), "no From: header field to sign");
		return -1;
	}
	if (!in_list(s->hlist, s->nh, "from")) {
		snprintf(d->error, sizeof(d->error), "%s/%s: From is not among the signed "
		    "header fields", s->domain, s->selector);
		return -1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.alg = crypto_key_type(s->key) == CRYPTO_ED25519 ? SIG_ED25519_SHA256 :
	    SIG_RSA_SHA256;
	sp.hcanon = s->hcanon;
	sp.bcanon = s->bcanon;
	sp.d = s->domain;
	sp.s = s->selector;
	sp.i = s->identity;
	sp.hnames = (const char *const *)s->hlist;
	sp.nh = s->nh;
	sp.t = (long long)d->now;
	sp.x = s->lifetime > 0 ? (long long)d->now + s->lifetime : -1;
	buf_reset(&s->out);
	if (sig_format(&s->out, &sp, s->h->md, s->h->mdlen) < 0 ||
	    hash_headers(d, md, EVP_sha256(), s->hcanon, s->hlist, s->nh, s->out.data,
	    s->out.len, -1, hd, &hdlen) < 0) {
		snprintf(d->error, sizeof(d->error), "signature header too large");
		return -1;
	}
	if (siglen > crypto_key_sigsize(s->key))
		siglen = crypto_key_sigsize(s->key);
	str_copy(err, "signature too large", sizeof(err));
	if (crypto_key_sigsize(s->key) > sizeof(sigbytes) ||
	    crypto_sign(s->key, hd, hdlen, sigbytes, &siglen, err, sizeof(err)) < 0 ||
	    sig_append_b(&s->out, sigbytes, siglen) < 0) {
		snprintf(d->error, sizeof(d->error), "%s/%s: %s", s->domain, s->selector,
		    err);
		return -1;
	}
	return 0;
}
size_t
dkim_nsignatures(const struct dkim *d)
{
	return d->eom_done ? d->nsigners : 0;
}
const char *
dkim_signature(const struct dkim *d, size_t k)
{
	return k < d->nsigners ? buf_str(&d->signers[k].out) : NULL;
}

void
dkim_free_signers(struct dkim *d)
{
	size_t i;

	for (i = 0; i < d->nsigners; i++) {
		struct signer *s = &d->signers[i];

		crypto_key_unref(s->key);
		free(s->domain);
		free(s->selector);
		free(s->identity);
		free_strv(s->headers, s->nheaders);
		free_strv(s->oversign, s->noversign);
		buf_release(&s->out);
	}
}
