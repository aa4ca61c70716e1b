/*
 * crypto.c - OpenSSL 3 EVP wrappers for DKIM keys, signatures and base64.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "bounds.h"
#include "crypto.h"

struct crypto_key {
	EVP_PKEY *pkey;
	enum crypto_type type;
	atomic_int refs;
};

static void
set_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char ossl[200];

	if (e != 0) {
		ERR_error_string_n(e, ossl, sizeof(ossl));
		snprintf(err, errlen, "%s (%s)", what, ossl);
	} else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

static int
wrap(EVP_PKEY *pkey, struct crypto_key **out, char *err, size_t errlen)
{
	struct crypto_key *k;
	int id = EVP_PKEY_get_base_id(pkey);

	if (id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "key is neither RSA nor Ed25519");
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	k->pkey = pkey;
	k->type = id == EVP_PKEY_RSA ? CRYPTO_RSA : CRYPTO_ED25519;
	atomic_init(&k->refs, 1);
	*out = k;
	return 0;
}

int
crypto_key_private_pem(const char *pem, size_t len, struct crypto_key **out,
    char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey;

	if (bio == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		set_err(err, errlen, "not a PEM private key");
		return -1;
	}
	return wrap(pkey, out, err, errlen);
}

int
crypto_key_public(enum crypto_type type, const unsigned char *der, size_t len,
    struct crypto_key **out, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der;

	if (type == CRYPTO_ED25519) {
		if (len != 32) {
			snprintf(err, errlen, "ed25519 public key is %zu bytes, not 32", len);
			return -1;
		}
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, len);
		if (pkey == NULL) {
			set_err(err, errlen, "bad ed25519 public key");
			return -1;
		}
		return wrap(pkey, out, err, errlen);
	}
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey == NULL || p != der + len) {
		/* Some publishers put a bare PKCS#1 RSAPublicKey in p=. */
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		p = der;
		pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (pkey == NULL || p != der + len) {
			EVP_PKEY_free(pkey);
			set_err(err, errlen, "public key data does not parse (truncated record?)");
			return -1;
		}
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		snprintf(err, errlen, "key record says k=rsa but holds another key type");
		return -1;
	}
	return wrap(pkey, out, err, errlen);
}

struct crypto_key *
crypto_key_ref(struct crypto_key *k)
{
	if (k != NULL)
		atomic_fetch_add(&k->refs, 1);
	return k;
}

void
crypto_key_unref(struct crypto_key *k)
{
	if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum crypto_type
crypto_key_type(const struct crypto_key *k)
{
	return k->type;
}

int
crypto_key_bits(const struct crypto_key *k)
{
	return EVP_PKEY_get_bits(k->pkey);
}

int
crypto_key_too_small(const struct crypto_key *k)
{
	return crypto_key_type(k) == CRYPTO_RSA && crypto_key_bits(k) < LIMIT_RSA_MIN_BITS;
}

int
crypto_key_public_equal(const struct crypto_key *a, const struct crypto_key *b)
{
	return EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

int
crypto_key_public_der(const struct crypto_key *k, unsigned char **out, size_t *outlen)
{
	if (k->type == CRYPTO_ED25519) {
		size_t n = 32;

		if ((*out = malloc(n)) == NULL)
			return -1;
		if (EVP_PKEY_get_raw_public_key(k->pkey, *out, &n) != 1) {
			free(*out);
			*out = NULL;
			ERR_clear_error();
			return -1;
		}
		*outlen = n;
		return 0;
	} else {
		unsigned char *p = NULL;
		int n = i2d_PUBKEY(k->pkey, &p);

		if (n <= 0) {
			ERR_clear_error();
			return -1;
		}
		/* Hand back memory the caller can free() rather than OPENSSL_free(). */
		if ((*out = malloc((size_t)n)) == NULL) {
			OPENSSL_free(p);
			return -1;
		}
		memcpy(*out, p, (size_t)n);
		OPENSSL_free(p);
		*outlen = (size_t)n;
		return 0;
	}
}

size_t
crypto_key_sigsize(const struct crypto_key *k)
{
	return (size_t)EVP_PKEY_get_size(k->pkey);
}

int
crypto_sign(struct crypto_key *k, const unsigned char *digest, size_t dlen,
    unsigned char *sig, size_t *siglen, char *err, size_t errlen)
{
	int ok = 0;

	if (k->type == CRYPTO_ED25519) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		ok = ctx != NULL &&
		    EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestSign(ctx, sig, siglen, digest, dlen) == 1;
		EVP_MD_CTX_free(ctx);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

		ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
		    EVP_PKEY_sign(ctx, sig, siglen, digest, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	if (!ok) {
		set_err(err, errlen, "signing failed");
		return -1;
	}
	return 0;
}

int
crypto_verify(struct crypto_key *k, const unsigned char *digest, size_t dlen,
    const unsigned char *sig, size_t siglen)
{
	int rc;

	if (k->type == CRYPTO_ED25519) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (ctx == NULL)
			return -1;
		if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) != 1)
			rc = -1;
		else
			rc = EVP_DigestVerify(ctx, sig, siglen, digest, dlen) == 1;
		EVP_MD_CTX_free(ctx);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

		if (ctx == NULL)
			return -1;
		/*
		 * A 20-byte digest is an rsa-sha1 signature: it is checked only
		 * so the caller can tell a forged or broken one (fail) from one
		 * it refuses by policy (RFC 8301 3.1); it is never signed.
		 */
		if (EVP_PKEY_verify_init(ctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(ctx,
		    dlen == CRYPTO_SHA1_LEN ? EVP_sha1() : EVP_sha256()) != 1)
			rc = -1;
		else
			rc = EVP_PKEY_verify(ctx, sig, siglen, digest, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
	return rc;
}

int
crypto_key_generate(enum crypto_type type, int bits, struct crypto_key **out,
    char *err, size_t errlen)
{
	EVP_PKEY *pkey;

	if (type == CRYPTO_RSA)
		pkey = EVP_RSA_gen((unsigned int)bits);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		set_err(err, errlen, "key generation failed");
		return -1;
	}
	return wrap(pkey, out, err, errlen);
}

int
crypto_key_private_to_pem(const struct crypto_key *k, char **pem, size_t *len,
    char *err, size_t errlen)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	*pem = NULL;
	if (bio == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0 || (*pem = malloc((size_t)n + 1)) == NULL) {
		BIO_free(bio);
		set_err(err, errlen, "cannot write the private key");
		return -1;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	*len = (size_t)n;
	/* A memory BIO's buffer held the key: clear it before it is freed. */
	OPENSSL_cleanse(data, (size_t)n);
	BIO_free(bio);
	return 0;
}

void
crypto_cleanse(void *p, size_t n)
{
	if (p != NULL)
		OPENSSL_cleanse(p, n);
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
crypto_b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	unsigned int acc = 0;
	size_t i, o = 0;
	int bits = 0, pad = 0, v;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value(c)) < 0)
			return -1;	/* data after padding, or not base64 */
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be fewer than a byte, and padding must match them. */
	if (bits >= 6 || pad > 2 || (pad > 0 && pad != bits / 2))
		return -1;
	return (long)o;
}

size_t
crypto_b64_encode(const unsigned char *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}
