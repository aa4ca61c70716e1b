/*
 * crypto.h - the only place that talks to OpenSSL's EVP interface.
 *
 * Keys are reference-counted so a key table reload can drop its reference
 * while messages in flight still sign with the old key. A key may be used
 * from several threads at once (OpenSSL keys are read-only after loading).
 * Functions return 0 on success, -1 on failure with a reason in err.
 */
#ifndef DKIMGATE_CRYPTO_H
#define DKIMGATE_CRYPTO_H

#include <stddef.h>

enum crypto_type {
	CRYPTO_RSA = 0,
	CRYPTO_ED25519 = 1
};

struct crypto_key;

/*
 * Parse a PEM private key (PKCS#8 or PKCS#1/traditional) held in memory.
 * Reading it from a file is keyfile.h's job: this module does no I/O.
 */
int crypto_key_private_pem(const char *pem, size_t len, struct crypto_key **out,
    char *err, size_t errlen);
/*
 * Build a public key from the decoded p= of a key record: RSA as
 * SubjectPublicKeyInfo (or bare PKCS#1 RSAPublicKey), Ed25519 as 32 raw bytes.
 */
int crypto_key_public(enum crypto_type type, const unsigned char *der, size_t len,
    struct crypto_key **out, char *err, size_t errlen);

struct crypto_key *crypto_key_ref(struct crypto_key *k);
/* Drop a reference; accepts NULL. */
void crypto_key_unref(struct crypto_key *k);

enum crypto_type crypto_key_type(const struct crypto_key *k);
int crypto_key_bits(const struct crypto_key *k);
/* 1 when k is an RSA key below LIMIT_RSA_MIN_BITS (RFC 8301: it cannot sign). */
int crypto_key_too_small(const struct crypto_key *k);
/* 1 when a and b hold the same public key. */
int crypto_key_public_equal(const struct crypto_key *a, const struct crypto_key *b);

/*
 * Export the public half as key-record p= bytes (SPKI DER for RSA, raw for
 * Ed25519) into out (malloc'd, caller frees).
 */
int crypto_key_public_der(const struct crypto_key *k, unsigned char **out,
    size_t *outlen);

/*
 * Sign or verify a SHA-256 digest the DKIM way: RSASSA-PKCS1-v1_5 with
 * SHA-256 for RSA; PureEdDSA over the 32-byte digest for Ed25519 (RFC 8463).
 * crypto_verify also takes a SHA-1 digest (dlen CRYPTO_SHA1_LEN) with an RSA
 * key, for rsa-sha1 signatures, which are verified but never made.
 * sig must hold crypto_key_sigsize() bytes. Verify returns 1 good, 0 bad, -1 error.
 */
#define CRYPTO_SHA1_LEN 20
int crypto_sign(struct crypto_key *k, const unsigned char *digest, size_t dlen,
    unsigned char *sig, size_t *siglen, char *err, size_t errlen);
int crypto_verify(struct crypto_key *k, const unsigned char *digest, size_t dlen,
    const unsigned char *sig, size_t siglen);
size_t crypto_key_sigsize(const struct crypto_key *k);

/* Generate a new key (RSA of bits, or Ed25519). */
int crypto_key_generate(enum crypto_type type, int bits, struct crypto_key **out,
    char *err, size_t errlen);
/*
 * The private key as PEM PKCS#8 in *pem (malloc'd, NUL-terminated, *len
 * bytes); the caller clears it with crypto_cleanse before freeing it.
 */
int crypto_key_private_to_pem(const struct crypto_key *k, char **pem, size_t *len,
    char *err, size_t errlen);
/* Overwrite n bytes at p (key material) so the compiler cannot skip it. */
void crypto_cleanse(void *p, size_t n);

/*
 * Base64. decode skips whitespace, rejects any other non-alphabet byte and
 * bad padding; returns the decoded length or -1. encode returns the length
 * written (out needs 4 * ceil(n / 3) + 1 bytes) and terminates.
 */
long crypto_b64_decode(const char *in, size_t n, unsigned char *out, size_t outlen);
size_t crypto_b64_encode(const unsigned char *in, size_t n, char *out);

#endif
