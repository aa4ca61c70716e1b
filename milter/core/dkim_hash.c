/*
 * dkim_hash.c - what signing (dkim_sign.c) and verifying (dkim.c) share:
 * the stored header fields, the body hashers keyed by (canonicalization,
 * length limit, digest), and the header hash of one signature. See
 * dkim_int.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "buf.h"
#include "dkim_int.h"

const char *
hdr_text(const struct dkim *d, const struct hdr *h)
{
	return d->headers.data + h->off;
}

int
hdr_is(const struct dkim *d, const struct hdr *h, const char *lname)
{
	size_t n = strlen(lname);

	return h->nlen == n && strncasecmp(hdr_text(d, h), lname, n) == 0;
}

/* The hasher for (canon, limit, digest), created on first use. */
struct hasher *
get_hasher(struct dkim *d, enum canon_alg canon, long long limit, const EVP_MD *alg)
{
	size_t i;
	struct hasher *h;

	for (i = 0; i < d->nhashers; i++)
		if (d->hashers[i].canon == canon && d->hashers[i].limit == limit &&
		    d->hashers[i].alg == alg)
			return &d->hashers[i];
	if (d->nhashers == sizeof(d->hashers) / sizeof(d->hashers[0]))
		return NULL;
	h = &d->hashers[d->nhashers];
	h->canon = canon;
	h->limit = limit;
	h->alg = alg;
	h->cb = canon_body_create(canon, limit < 0 ? CANON_NO_LIMIT :
	    (unsigned long long)limit, alg);
	if (h->cb == NULL)
		return NULL;
	d->nhashers++;
	return h;
}

/*
 * Feed the signed header fields for h= (bottom-up per name, each instance
 * used once; names with no instance left contribute nothing) and then the
 * signature field itself, without its final CRLF, into the digest.
 */
int
hash_headers(struct dkim *d, EVP_MD_CTX *md, const EVP_MD *alg, enum canon_alg hc,
    char *const *hnames, size_t nh, const char *sigfield, size_t siglen,
    long self_index, unsigned char *out, unsigned int *outlen)
{
	unsigned char used[LIMIT_HEADER_COUNT];
	struct buf cbuf;
	size_t k;
	int rc = -1;

	memset(used, 0, d->nhdrs);
	buf_init(&cbuf, LIMIT_HEADER_TOTAL + LIMIT_OUT_HEADER);
	if (EVP_DigestInit_ex(md, alg, NULL) != 1)
		goto out;
	for (k = 0; k < nh; k++) {
		size_t j = d->nhdrs;

		while (j > 0) {
			j--;
			if (!used[j] && (long)j != self_index &&
			    hdr_is(d, &d->hdrs[j], hnames[k])) {
				used[j] = 1;
				if (canon_header(hc, hdr_text(d, &d->hdrs[j]),
				    d->hdrs[j].len, &cbuf) < 0)
					goto out;
				break;
			}
		}
	}
	if (canon_header(hc, sigfield, siglen, &cbuf) < 0)
		goto out;
	buf_truncate(&cbuf, cbuf.len - 2);	/* no CRLF after the signature */
	if (EVP_DigestUpdate(md, cbuf.data, cbuf.len) != 1 ||
	    EVP_DigestFinal_ex(md, out, outlen) != 1)
		goto out;
	rc = 0;
out:
	buf_release(&cbuf);
	return rc;
}

