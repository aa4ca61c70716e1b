/*
 * keyrec.h - DKIM key records (RFC 6376 section 3.6.1, RFC 8301, RFC 8463):
 * the one place a key record is interpreted.
 *
 * keyrec_examine reads the TXT text (strings already joined), builds the
 * public key, and, when asked, lists every finding about the record in
 * order (tags, key data, key size), each with a stable code. Verification
 * (keyrec_parse, through the key cache) and the key checks of dkimctl
 * testkey and the daemon (keycheck.h, which words the findings for people)
 * read the same findings, so they cannot disagree about a record.
 * The result owns one key reference, released by keyrec_clear.
 * Thread-safe; no I/O.
 */
#ifndef DKIMGATE_KEYREC_H
#define DKIMGATE_KEYREC_H

#include <stddef.h>

#include "bounds.h"
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

enum keyrec_verdict {
	KEYREC_OK = 0,
	KEYREC_WARN = 1,
	KEYREC_FAIL = 2
};

/*
 * One finding. code is static and one of:
 *   record-quotes fail, syntax-ok ok, syntax-error fail (why: the parser's
 *   reason), version-ok ok, version-missing ok, version-bad fail (val; flag 1
 *   when v= is not the first tag), type-rsa ok (flag 1: no k=), type-ed25519
 *   ok, type-unknown fail (val), hash-ok ok (flag 1: no h=), hash-no-sha256
 *   fail (val), service-ok ok (flag 1: no s=), service-not-email fail (val),
 *   testing-on warn, testing-off ok, key-missing fail, key-revoked fail,
 *   key-bad-base64 fail (flag: KEYREC_B64_*; num: 1-based position of the
 *   bad character, val[0] the character), key-truncated fail (flag 0: num
 *   base64 characters, which cannot be complete; flag 1: the DER claims num
 *   bytes, num2 are there), key-unparsable fail (flag 0: why; flag 1: an
 *   Ed25519 key wrapped as SubjectPublicKeyInfo), key-ok ok (num: bits),
 *   size-ok ok, size-weak warn, size-too-small fail, size-large warn (num:
 *   bits; Ed25519 counts 256).
 */
enum keyrec_b64 {
	KEYREC_B64_TOO_LONG = 0,
	KEYREC_B64_QUOTE,
	KEYREC_B64_BACKSLASH,
	KEYREC_B64_CHAR,
	KEYREC_B64_PADDING
};

struct keyrec_finding {
	const char *code;
	enum keyrec_verdict verdict;
	char val[64];		/* printable excerpt of the value concerned */
	char why[200];
	long num, num2;
	int flag;
};

#define KEYREC_MAX_FINDINGS 16

struct keyrec_findings {
	struct keyrec_finding f[KEYREC_MAX_FINDINGS];
	size_t n;
	/*
	 * 1 when a receiver could verify sha256 signatures with the record:
	 * its tags allow it and the key parses and is not too small.
	 */
	int usable;
};

/*
 * Interpret the record. Returns 0 when it is usable for e-mail signatures
 * with sha256 or sha1 (a revoked key is "usable" only to say it is revoked:
 * check ->revoked; whether h= allows the signature's hash is the caller's
 * check, with ->sha256_ok and ->sha1_ok; the key size is the verifier's,
 * against LIMIT_RSA_MIN_BITS), -1 with the first reason otherwise (syntax,
 * v=, k=, h= naming neither, s=, p= missing or undecodable). out, when not
 * NULL, receives every finding; then kr may hold a key even on -1 (one
 * that parses in a record refused for its tags), and the caller must call
 * keyrec_clear after either result. Without out, -1 leaves no key.
 */
int keyrec_examine(struct keyrec *kr, const char *txt, size_t len,
    struct keyrec_findings *out, char *reason, size_t reasonlen);
/* keyrec_examine without the findings. */
int keyrec_parse(struct keyrec *kr, const char *txt, size_t len, char *reason,
    size_t reasonlen);
void keyrec_clear(struct keyrec *kr);

#endif
