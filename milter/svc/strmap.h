/*
 * strmap.h - a string-keyed hash index, case-insensitive for ASCII.
 *
 * Maps names (key ids, signing-table patterns, domains) to small integers
 * so that a table of 100,000 entries is searched in constant time. The map
 * does not copy its keys: the caller keeps each key string alive, unchanged,
 * as long as the map. Insertion keeps the first value given for a key.
 * Not thread-safe while being filled; lookups on a map nobody changes may
 * run in any number of threads.
 */
#ifndef DKIMGATE_STRMAP_H
#define DKIMGATE_STRMAP_H

#include <stddef.h>

struct strmap;

/* An empty map; NULL when out of memory. strmap_free accepts NULL. */
struct strmap *strmap_create(void);
void strmap_free(struct strmap *m);

/*
 * Map key (len bytes, followed by a NUL; no NUL inside) to value (below
 * 2^32). Returns 0 when added, 1 when key was there already (the old value
 * stays, *old receives it when old is not NULL), -1 when out of memory or
 * the key or value does not fit.
 */
int strmap_put(struct strmap *m, const char *key, size_t len, size_t value, size_t *old);
/* Make room for n keys without growing again; -1 when out of memory. */
int strmap_reserve(struct strmap *m, size_t n);
/* The value for key (len bytes, no NUL needed), or -1 when absent. */
long strmap_get(const struct strmap *m, const char *key, size_t len);
size_t strmap_count(const struct strmap *m);

#endif
