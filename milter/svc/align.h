/*
 * align.h - DMARC-style identifier alignment of DKIM d= with the From: domain
 * (RFC 7489 section 3.1.1).
 *
 * align_from parses an RFC 5322 From: field body strictly (addr.h: display
 * names, comments, quoted strings, groups, several addresses) and returns
 * the one author domain, lower-cased, internationalized names as A-labels,
 * only when it is a valid domain name.
 * Organizational domains come from a public suffix list (libpsl): the
 * system file when it loads, the list built into libpsl otherwise.
 * struct align is read-only after creation and may be shared by threads.
 */
#ifndef DKIMGATE_ALIGN_H
#define DKIMGATE_ALIGN_H

#include <stddef.h>

#include "bounds.h"

struct align;

/* psl_file may be NULL or unreadable: the built-in list is used then. */
struct align *align_create(const char *psl_file);
void align_free(struct align *a);
/* "file" or "built-in": which list is in use. */
const char *align_psl_source(const struct align *a);

/*
 * Parse the From: value. Returns the number of addresses found (0, 1, 2+);
 * when exactly 1, domain receives its domain (dlen >= LIMIT_DOMAIN + 1) and
 * addr, when not NULL, the address as local@domain with the domain
 * normalized. -1 when the field does not parse or an address has no valid
 * domain (addr_parse_from says why).
 */
int align_from(const char *value, char *addr, size_t alen, char *domain, size_t dlen);

/* The organizational domain of domain into out; -1 when it has none. */
int align_org_domain(const struct align *a, const char *domain, char *out, size_t outlen);

/* 1 when d and from are the same domain (case-insensitive). */
int align_strict(const char *d, const char *from);
/* 1 when d and from share an organizational domain. */
int align_relaxed(const struct align *a, const char *d, const char *from);

/*
 * Parse a DMARC record (v=DMARC1 first); *adkim receives 'r' or 's'
 * (default 'r'). -1 when the text is not a DMARC record.
 */
int align_dmarc_adkim(const char *txt, size_t len, char *adkim);

#endif
