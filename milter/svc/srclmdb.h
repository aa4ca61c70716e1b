/*
 * srclmdb.h - an LMDB map as a signing table, for control panels that
 * update one domain at a time.
 *
 * The map (one LMDB file, opened read-only, without a subdirectory) maps
 * a lower-case pattern - "user@example.com", "example.com",
 * "*.example.com" or "*" - to the keys that sign for it:
 * "DOMAIN:SELECTOR:/path/to/key.pem", several separated by spaces or
 * commas. Nothing is loaded: every lookup reads the map, so a domain
 * added or removed by the writer signs or stops with the next message,
 * and 100,000 domains cost nothing at start. Readers take no lock; the
 * daemon's account needs read access to the map and read-write access to
 * its lock file (PATH-lock), which every LMDB reader registers in.
 */
#ifndef DKIMGATE_SRCLMDB_H
#define DKIMGATE_SRCLMDB_H

#include <stddef.h>

#include "buf.h"
#include "keyset.h"

/* A backed keyset reading the map at path; NULL with err when it cannot be opened. */
struct keyset *srclmdb_open(const char *path, char *err, size_t errlen);
/*
 * The map's generation (its last committed transaction) as ks sees it
 * now; ks must come from srclmdb_open. Changes with every write.
 */
unsigned long long srclmdb_generation(const struct keyset *ks);
/*
 * Copy every entry of the map into ks's own tables (for dkimgate -n and
 * dkimctl testkey --all, which go through every key); values that do not
 * parse are problems. Lookups still read the map.
 */
int srclmdb_snapshot(struct keyset *ks, struct buf *problems);

#endif
