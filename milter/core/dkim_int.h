/*
 * dkim_int.h - the inside of a DKIM session, shared by dkim.c (headers,
 * body hashing, verifying) and dkim_sign.c (making signatures). Private to
 * those two files.
 */
#ifndef DKIMGATE_DKIM_INT_H
#define DKIMGATE_DKIM_INT_H

#include <openssl/evp.h>

#include "buf.h"
#include "canon.h"
#include "dkim.h"
#include "keyrec.h"
#include "sig.h"

struct hdr {
	size_t off, len;	/* in headers buffer */
	size_t nlen;		/* length of the name before ':' (trimmed) */
};

struct hasher {
	enum canon_alg canon;
	long long limit;	/* -1: whole body */
	const EVP_MD *alg;	/* SHA-256; SHA-1 for rsa-sha1 signatures */
	struct canon_body *cb;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	unsigned long long length;
};

struct signer {
	struct crypto_key *key;
	char *domain, *selector, *identity;
	enum canon_alg hcanon, bcanon;
	char **headers;
	size_t nheaders;
	char **oversign;
	size_t noversign;
	long long lifetime;
	char *hlist[LIMIT_SIGNED_HEADERS];	/* h= chosen at eoh (borrowed names) */
	size_t nh;
	struct hasher *h;
	struct buf out;
};

struct vsig {
	struct sig sig;
	struct dkim_verdict v;
	size_t hdr_index;	/* which header field it is */
	struct keyrec kr;
	int have_key;
	struct hasher *h;
};

struct dkim {
	time_t now;
	struct buf headers;
	struct hdr *hdrs;	/* grows as fields arrive, to LIMIT_HEADER_COUNT */
	size_t nhdrs, hdrcap;
	int header_overflow;
	int verify;
	size_t max_verify;
	struct signer signers[LIMIT_SIGNERS];
	size_t nsigners;
	struct vsig *vsigs;
	size_t nvsigs;
	size_t nsig_seen;	/* DKIM-Signature fields in the message */
	struct hasher hashers[LIMIT_SIGNERS + LIMIT_SIGNATURES];
	size_t nhashers;
	int eoh_done, eom_done;
	char error[256];
	struct buf from;
	size_t nfrom;
	struct keycache *keycache;	/* borrowed; NULL: parse every key */
};

/* dkim_hash.c */
/* Header field h as stored, and whether its name is lname (lower case). */
const char *hdr_text(const struct dkim *d, const struct hdr *h);
int hdr_is(const struct dkim *d, const struct hdr *h, const char *lname);
/* The shared body hasher for (canon, limit, digest), made on first use; NULL if none left. */
struct hasher *get_hasher(struct dkim *d, enum canon_alg canon, long long limit,
    const EVP_MD *alg);
/*
 * Digest the fields named in hnames (bottom-up, each instance once) and then
 * sigfield without its CRLF, into out. 0, or -1 when the buffer overflows.
 */
int hash_headers(struct dkim *d, EVP_MD_CTX *md, const EVP_MD *alg, enum canon_alg hc,
    char *const *hnames, size_t nh, const char *sigfield, size_t siglen,
    long self_index, unsigned char *out, unsigned int *outlen);

/* dkim_sign.c */
int dkim_choose_headers(struct dkim *d, struct signer *s);
int dkim_sign_one(struct dkim *d, struct signer *s, EVP_MD_CTX *md);
void dkim_free_signers(struct dkim *d);

#endif
