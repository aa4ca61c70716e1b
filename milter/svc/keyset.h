/*
 * keyset.h - signing keys and signing-table entries from one place (the
 * configuration file itself, a key directory, an OpenDKIM table pair),
 * indexed by key id and by pattern.
 *
 * A keyset is filled once by its loader and then only read: lookups are
 * hash probes, so a table of 100,000 domains costs the same per message as
 * a table of one. Patterns are stored lower-cased and matched without
 * regard to ASCII case. Reference-counted, so a reload that finds a source
 * unchanged hands the same keyset to the new configuration. Filling is not
 * thread-safe; reading a filled keyset is. Errors come back as text; the
 * module never logs.
 */
#ifndef DKIMGATE_KEYSET_H
#define DKIMGATE_KEYSET_H

#include <stddef.h>

#include "crypto.h"

struct strmap;

struct conf_key {
	/* id, domain, selector and path share one allocation, owned by id. */
	char *id, *domain, *selector, *path;
	/*
	 * The decoded private key when the loader was asked to decode keys
	 * (dkimgate -n, dkimctl); NULL in the daemon, which decodes on first
	 * use through its bounded cache (privcache.h).
	 */
	struct crypto_key *key;
	/*
	 * Key rotation: the successor signs instead once its public key is
	 * visible in DNS and matches, and not before succ_after (0: no date).
	 */
	char *succ_selector, *succ_path;	/* NULL: no successor */
	struct crypto_key *succ_key;
	long long succ_after;
	int line;
	/* Index in dkimgate.conf's own key list (rotation state); -1 elsewhere. */
	long slot;
};

struct conf_sigentry {
	char *pattern;		/* "user@dom", "dom", "*.dom" or "*", lower case */
	size_t *keys;		/* indexes into the keyset's keys[], or into own[] */
	size_t nkeys;
	int line;
	/* Entries looked up in a map (backed keysets) own their keys. */
	struct conf_key *own;
	char *raw;		/* the map's value they were made from */
	char *bad;		/* why the value gave no key; NULL when fine */
};

/*
 * A keyset backed by a map that changes under it (an LMDB file): get
 * returns the value stored for a lower-case pattern ("D:S:KEYFILE", one or
 * more separated by spaces or commas), malloc'd, or NULL when absent. It
 * must be thread-safe. free releases ctx with the keyset.
 */
struct keyset_backend {
	char *(*get)(void *ctx, const char *pattern, size_t len);
	void (*free)(void *ctx);
	void *ctx;
};

struct keyset {
	int refs;
	char *origin;			/* the file or directory it was read from */
	struct conf_key *keys;
	size_t nkeys, capkeys;
	struct conf_sigentry *table;
	size_t ntable, captable;
	struct strmap *ids, *patterns;
	/*
	 * Backed keysets: each lookup asks the map, and keeps what it made
	 * from each value in memo (an entry made from an older value stays
	 * alive in the graveyard: messages in flight may point into it).
	 */
	struct keyset_backend backend;
	struct keyset_memo *memo;
};

/* An empty keyset read from origin; NULL when out of memory. */
struct keyset *keyset_create(const char *origin);
/* A keyset whose entries come from b (taken over, freed with the keyset). */
struct keyset *keyset_create_backed(const char *origin, const struct keyset_backend *b);
struct keyset *keyset_ref(struct keyset *ks);
/* Thread-safe; the last reference frees keys, entries and indexes. Accepts NULL. */
void keyset_unref(struct keyset *ks);

/* Make room for this many keys and entries (a loader that knows); -1 when out of memory. */
int keyset_reserve(struct keyset *ks, size_t nkeys, size_t nentries);
/*
 * Add a key (strings copied). Returns its index, or -1 with err: a
 * duplicate id (naming the line of the first), or out of memory.
 */
long keyset_add_key(struct keyset *ks, const char *id, const char *domain,
    const char *selector, const char *path, int line, char *err, size_t errlen);
/* Index of the key with this id, or -1. */
long keyset_key_index(const struct keyset *ks, const char *id);

/*
 * Add a signing-table entry for pattern, without keys yet. Returns its
 * index; -2 when the pattern is there already (*first receives the line of
 * the entry that stays); -1 when out of memory.
 */
long keyset_add_entry(struct keyset *ks, const char *pattern, int line, int *first);
/* Index of the entry for exactly this pattern (any case), or -1. */
long keyset_entry_index(const struct keyset *ks, const char *pattern);
/* Append key index k to entry e; -1 when out of memory. */
int keyset_entry_add_key(struct keyset *ks, size_t e, size_t k);

/*
 * The entry for exactly this pattern (len bytes, any case), or NULL. For a
 * backed keyset the map is asked each time, so a change in it shows at
 * once; the entry stays valid as long as the keyset. An entry may have no
 * keys, with ->bad saying why.
 */
const struct conf_sigentry *keyset_find(const struct keyset *ks, const char *pattern,
    size_t len);
/*
 * Add an entry for pattern from a map's value ("D:S:/KEYFILE", several
 * separated by blanks or commas; keys get the id "D.S", shared between
 * patterns). -1 with why when a part of it could not be taken (the rest is).
 */
int keyset_add_value(struct keyset *ks, const char *pattern, const char *value, char *why,
    size_t whylen);
/* Key k of entry e of ks. */
const struct conf_key *keyset_entry_key(const struct keyset *ks,
    const struct conf_sigentry *e, size_t k);

#endif
