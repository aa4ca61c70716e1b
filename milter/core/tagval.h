/*
 * tagval.h - RFC 6376 section 3.2 tag=value lists.
 *
 * Shared by DKIM-Signature fields, key records and DMARC records. The parser
 * does not copy: each pair points into the caller's text, which must outlive
 * the list. Values keep their inner whitespace (folding included); leading and
 * trailing whitespace is trimmed. Duplicate tag names and malformed specs are
 * errors; unknown names are kept for the caller to ignore. Thread-safe (no
 * shared state).
 */
#ifndef DKIMGATE_TAGVAL_H
#define DKIMGATE_TAGVAL_H

#include <stddef.h>

#include "bounds.h"

struct tagval_pair {
	const char *name;
	size_t nlen;
	const char *val;	/* may be empty (vlen 0), never NULL */
	size_t vlen;
	size_t val_off;		/* offset of val within the parsed text */
};

struct tagval {
	struct tagval_pair pairs[LIMIT_TAGS];
	size_t n;
};

/*
 * Parse text[0..len). Returns 0, or -1 with *err set to a static reason
 * ("duplicate tag", "too many tags", ...).
 */
int tagval_parse(struct tagval *tv, const char *text, size_t len, const char **err);

/* The pair named name (case-sensitive, as the RFC says), or NULL. */
const struct tagval_pair *tagval_get(const struct tagval *tv, const char *name);

/*
 * Copy a value with all whitespace (SP, HTAB, CR, LF) removed into dst, which
 * holds dstlen bytes; returns the length, or -1 when it does not fit.
 */
long tagval_compact(const struct tagval_pair *p, char *dst, size_t dstlen);

/*
 * 1 when the value is a colon-separated list (RFC 6376 3.6.1: h=, s=, t=
 * of key records) holding item, whitespace around items ignored.
 */
int tagval_list_has(const struct tagval_pair *p, const char *item);

/* 1 when the value equals s exactly (after the trim the parser did). */
int tagval_is(const struct tagval_pair *p, const char *s);

#endif
