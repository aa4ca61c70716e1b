/*
 * privcache.h - private signing keys, decoded on first use and kept in a
 * bounded cache.
 *
 * A host signing for 100,000 domains cannot decode every key at start (a
 * 2048-bit RSA key costs a fraction of a millisecond and a few kilobytes),
 * and most are used rarely. The cache maps a key file's path to the key
 * decoded from it, checks the file's identity (device, inode, size, mtime)
 * on every use so a replaced file is decoded again, and drops the least
 * recently used key past its size. A file that does not decode is cached as
 * a failure too, so the daemon reports it once and not for every message;
 * it is tried again when the file changes. Thread-safe; the daemon shares
 * one cache between configuration snapshots.
 */
#ifndef DKIMGATE_PRIVCACHE_H
#define DKIMGATE_PRIVCACHE_H

#include <stddef.h>

#include "crypto.h"

struct privcache;

/* A cache holding at most max keys (max >= 1); NULL when out of memory. */
struct privcache *privcache_create(size_t max);
struct privcache *privcache_ref(struct privcache *pc);
/* Drop a reference; the last one frees every key. Accepts NULL. */
void privcache_unref(struct privcache *pc);
size_t privcache_max(const struct privcache *pc);

/*
 * The key in path, with a reference the caller releases (crypto_key_unref).
 * A file readable by group or others is refused unless allow_readable; an
 * RSA key under 1024 bits is refused (RFC 8301). On failure NULL, with the
 * reason in err, and *fresh set to 1 the first time this failure is seen
 * for this version of the file (0 after), so the caller can log it once.
 */
struct crypto_key *privcache_get(struct privcache *pc, const char *path,
    int allow_readable, char *err, size_t errlen, int *fresh);

/* Keys held now (for tests and the benchmark's memory figures). */
size_t privcache_count(struct privcache *pc);

#endif
