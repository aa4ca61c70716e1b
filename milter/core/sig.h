/*
 * sig.h - DKIM-Signature header fields: parse and validate (verifying side),
 * format and fold (signing side). RFC 6376 sections 3.5 and 6.1.1, RFC 8301,
 * RFC 8463.
 *
 * struct sig is self-contained (it copies what it needs from the field); it
 * is plain data, freed with sig_free (which accepts NULL). Thread-safe.
 */
#ifndef DKIMGATE_SIG_H
#define DKIMGATE_SIG_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "canon.h"
#include "dkim_result.h"
#include "bounds.h"

enum sig_alg {
	SIG_RSA_SHA256 = 0,
	SIG_ED25519_SHA256,
	SIG_RSA_SHA1,
	SIG_ALG_UNKNOWN
};

/* Seconds a signature may still be accepted after x= (clocks drift). */
#define SIG_CLOCK_ALLOWANCE 300

struct sig {
	char *field;		/* the whole field as received */
	size_t field_len;
	size_t b_start, b_end;	/* b= value span inside field, to empty it */
	enum sig_alg alg;
	char a_text[32];	/* a= as written (for header.a) */
	enum canon_alg hcanon, bcanon;
	char d[LIMIT_DOMAIN + 1];
	char s[LIMIT_DOMAIN + 1];
	char i[LIMIT_DOMAIN + 130];	/* "" when absent */
	char b64_prefix[16];	/* first characters of b= (header.b) */
	char *hnames[LIMIT_SIGNED_HEADERS];	/* lower-cased h= names */
	size_t nh;
	unsigned char bh[64];
	size_t bhlen;
	unsigned char b[LIMIT_SIG_BYTES];
	size_t blen;
	long long l;		/* -1: no l= */
	long long t;		/* -1: no t= */
	long long x;		/* -1: no x= */
};

/*
 * Parse the field "DKIM-Signature: ..." (folds as CRLF or LF, no final CRLF).
 * Fills as much of *sg as it can even on error (d=, s=, b= prefix for the
 * report). Returns DKIM_PASS when the signature is well formed and usable,
 * DKIM_PERMERROR for syntax and semantic errors; reason receives a human
 * text. now is the current time. An rsa-sha1 signature parses as usable
 * (alg SIG_RSA_SHA1): RFC 8301 forbids accepting it, which the verifier does
 * after evaluating it (see verify_one in dkim.c). i= is stored decoded from
 * dkim-quoted-printable.
 */
enum dkim_status sig_parse(struct sig *sg, const char *field, size_t len, time_t now,
    char *reason, size_t reasonlen);
void sig_free(struct sig *sg);

/* 1 if field is a DKIM-Signature header (name compared case-insensitively). */
int sig_is_dkim_field(const char *field, size_t len);

/* Parameters of a signature to be made. */
struct sig_spec {
	enum sig_alg alg;
	enum canon_alg hcanon, bcanon;
	const char *d, *s, *i;	/* i may be NULL */
	const char *const *hnames;	/* names as they go into h= */
	size_t nh;
	long long t, x;		/* -1: leave out */
};

/*
 * Format the field with bh= filled and b= empty (its value last), folded at
 * 78 columns, into out ("DKIM-Signature: v=1; ..."). Then sig_append_b adds
 * the folded b= value. -1 when out is full.
 */
int sig_format(struct buf *out, const struct sig_spec *spec, const unsigned char *bh,
    size_t bhlen);
int sig_append_b(struct buf *out, const unsigned char *b, size_t blen);

const char *sig_alg_name(enum sig_alg alg);

#endif
