/*
 * keyrec.h - DKIM key records (RFC 6376 section 3.6.1, RFC 8463).
 *
 * keyrec_parse validates the TXT text (strings already joined) and builds
 * the public key. The result owns one key reference, released by
 * keyrec_clear. Thread-safe.
 */
#ifndef DKIMGATE_KEYREC_H
#define DKIMGATE_KEYREC_H

#include <stddef.h>

#include "crypto.h"

struct keyrec {
	enum crypto_type type;
	struct crypto_key *key;	/* NULL when revoked */
	int revoked;		/* empty p= */
	int testing;		/* t=y */
	int strict;		/* t=s: i= domain must equal d= */
	int has_version;	/* v=DKIM1 present */
	int sha256_ok;		/* h= absent or lists sha256 */
	int sha1_ok;		/* h= absent or lists sha1 (for rsa-sha1) */
	int email_ok;		/* s= absent, *, or lists email */
	int bits;		/* key size, 0 when revoked */
};

/*
 * Returns 0 when the record is usable for e-mail signatures with sha256 or
 * sha1 (a revoked key is "usable" only to say it is revoked: check
 * ->revoked; whether h= allows the signature's hash is the caller's check,
 * with ->sha256_ok and ->sha1_ok), -1 with a reason otherwise (syntax, v=,
 * k=, h= naming neither, s=, undecodable p=).
 */
int keyrec_parse(struct keyrec *kr, const char *txt, size_t len, char *reason,
    size_t reasonlen);
void keyrec_clear(struct keyrec *kr);

#endif
