/*
 * addr.h - strict RFC 5322 parsing of a From: field body, for alignment.
 *
 * The From: domain goes into the Authentication-Results field and into DNS
 * (_dmarc names), so only an address that parses and whose domain is a
 * valid domain name yields one. The field body is a mailbox-list (RFC 5322
 * 3.4): display names (atoms, quoted strings, the obsolete "." in phrases),
 * comments (nested, with quoted pairs), folding white space, angle
 * addresses with an obsolete route, and groups (RFC 6854 allows them in
 * From:); UTF-8 in phrases, comments, quoted strings and local parts
 * (RFC 6532). Refused: anything after an address that is not a separator,
 * white space or a comment inside the domain, a quoted domain, a domain
 * literal, unbalanced quotes, comments or brackets, bare CR or LF, NUL.
 *
 * A domain is valid when it is a dot-separated list of labels, 1 to 63
 * octets each and 253 in all, each either LDH (letters, digits, hyphens,
 * not at either end), or an A-label ("xn--" and punycode that decodes to
 * non-ASCII), or a U-label (UTF-8, non-ASCII, no ASCII other than LDH),
 * which is lower-cased and converted to its A-label. This is a syntax
 * check, not the full IDNA2008 table. The result is lower-case ASCII.
 *
 * Pure functions, no allocation kept, thread-safe.
 */
#ifndef DKIMGATE_ADDR_H
#define DKIMGATE_ADDR_H

#include <stddef.h>

#include "bounds.h"

/* The longest local part kept (RFC 5321 allows 64; quoted ones run longer). */
#define ADDR_LOCAL_MAX 128

struct addr_from {
	int n;				/* mailboxes in the field (0, 1, 2+) */
	char local[ADDR_LOCAL_MAX + 1];	/* when n == 1: the local part as written */
	char domain[LIMIT_DOMAIN + 1];	/* when n == 1: normalized domain */
	const char *why;		/* when the field does not parse: a static text */
};

/*
 * Parse a From: field body (NUL-terminated). Returns out->n (0, 1 or more
 * mailboxes), or -1 when the field does not parse or a mailbox has no valid
 * domain; out->why then says what is wrong.
 */
int addr_parse_from(const char *value, struct addr_from *out);

/*
 * Check and normalize the domain in[0..n): lower-case, U-labels as
 * A-labels. 0 and the result in out (outlen >= LIMIT_DOMAIN + 1), or -1
 * with *why (static text) when it is not a valid domain name.
 */
int addr_domain(const char *in, size_t n, char *out, size_t outlen, const char **why);

#endif
