/*
 * canon.h - RFC 6376 section 3.4 canonicalization, streaming.
 *
 * Body canonicalizers are state machines fed arbitrary chunks: the digest is
 * the same however the body is cut (a CRLF, a run of blanks or trailing empty
 * lines split across chunks). A bare LF in the input is treated as CRLF. The
 * output is hashed at once, never buffered beyond a small staging area, so
 * memory does not grow with the body. An optional length limit (l=) caps the
 * bytes hashed while still counting the full canonical length.
 *
 * Header canonicalization works on one whole field ("Name: value", folds
 * included, no final CRLF) and appends the canonical form with its CRLF.
 * Not thread-safe per object; separate objects are independent.
 */
#ifndef DKIMGATE_CANON_H
#define DKIMGATE_CANON_H

#include <stddef.h>
#include <openssl/evp.h>

#include "buf.h"

enum canon_alg {
	CANON_SIMPLE = 0,
	CANON_RELAXED = 1
};

#define CANON_NO_LIMIT (~0ULL)

struct canon_body;

/* NULL when out of memory or the digest cannot be set up. */
struct canon_body *canon_body_create(enum canon_alg alg, unsigned long long limit,
    const EVP_MD *md);
void canon_body_free(struct canon_body *cb);

/* 0, or -1 when the digest fails (a broken library, not bad input). */
int canon_body_update(struct canon_body *cb, const void *p, size_t n);
/* Flush the end-of-body rules and write the digest; md must hold EVP_MAX_MD_SIZE. */
int canon_body_final(struct canon_body *cb, unsigned char *md, unsigned int *mdlen);
/* Canonical body length seen so far (not capped by the limit). */
unsigned long long canon_body_length(const struct canon_body *cb);

/*
 * Append the canonical form of field[0..len) plus CRLF to out. Folds in the
 * field may be CRLF or bare LF. -1 when out is full.
 */
int canon_header(enum canon_alg alg, const char *field, size_t len, struct buf *out);

/* Parse "simple", "relaxed"; -1 otherwise. */
int canon_parse(const char *s, size_t n, enum canon_alg *out);
/*
 * Parse "HEADER/BODY" ("relaxed/simple"); a single name is the header's
 * and the body's is simple (RFC 6376 3.5 c=). h and b are set only on 0.
 */
int canon_parse_pair(const char *s, enum canon_alg *h, enum canon_alg *b);
const char *canon_name(enum canon_alg alg);

#endif
