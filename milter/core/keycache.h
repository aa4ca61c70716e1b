/*
 * keycache.h - parsed key records shared across messages and threads.
 *
 * Turning a key record's p= into an OpenSSL key is the largest part of
 * verifying a small message, and the same few keys sign most mail. The
 * cache maps the exact record text to its parsed form, so a record that
 * changes in DNS is simply a new entry; bounded in size, old entries are
 * replaced. Thread-safe; the daemon keeps one per configuration snapshot.
 */
#ifndef DKIMGATE_KEYCACHE_H
#define DKIMGATE_KEYCACHE_H

#include <stddef.h>

#include "keyrec.h"

#define KEYCACHE_SLOTS 512

struct keycache;

/* NULL when out of memory. keycache_free accepts NULL. */
struct keycache *keycache_create(void);
void keycache_free(struct keycache *kc);

/*
 * keyrec_parse through the cache: on success *kr holds its own key
 * reference (release with keyrec_clear); failures are not cached.
 */
int keycache_parse(struct keycache *kc, struct keyrec *kr, const char *txt, size_t len,
    char *reason, size_t reasonlen);

#endif
