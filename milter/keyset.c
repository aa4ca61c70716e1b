/*
 * keyset.c - indexed keys and signing-table entries of one source (see keyset.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"
#include "strmap.h"

struct keyset *
keyset_create(const char *origin)
{
	struct keyset *ks = calloc(1, sizeof(*ks));

	if (ks == NULL)
		return NULL;
	ks->refs = 1;
	ks->origin = strdup(origin);
	ks->ids = strmap_create();
	ks->patterns = strmap_create();
	if (ks->origin == NULL || ks->ids == NULL || ks->patterns == NULL) {
		keyset_unref(ks);
		return NULL;
	}
	return ks;
}

struct keyset *
keyset_ref(struct keyset *ks)
{
	if (ks != NULL)
		__atomic_add_fetch(&ks->refs, 1, __ATOMIC_SEQ_CST);
	return ks;
}

void
keyset_unref(struct keyset *ks)
{
	size_t i;

	if (ks == NULL || __atomic_sub_fetch(&ks->refs, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	for (i = 0; i < ks->nkeys; i++) {
		free(ks->keys[i].id);
		crypto_key_unref(ks->keys[i].key);
		free(ks->keys[i].succ_selector);
		free(ks->keys[i].succ_path);
		crypto_key_unref(ks->keys[i].succ_key);
	}
	free(ks->keys);
	for (i = 0; i < ks->ntable; i++) {
		free(ks->table[i].pattern);
		free(ks->table[i].keys);
	}
	free(ks->table);
	strmap_free(ks->ids);
	strmap_free(ks->patterns);
	free(ks->origin);
	free(ks);
}

/* Grow an array of n used elements of size sz to hold one more. */
static int
room(void **arr, size_t n, size_t *cap, size_t sz)
{
	void *p;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	if ((p = realloc(*arr, nc * sz)) == NULL)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

long
keyset_add_key(struct keyset *ks, const char *id, const char *domain,
    const char *selector, const char *path, int line, char *err, size_t errlen)
{
	size_t li = strlen(id), ld = strlen(domain), ls = strlen(selector),
	    lp = strlen(path), first;
	struct conf_key *k;
	char *s;
	int rc;

	if (room((void **)&ks->keys, ks->nkeys, &ks->capkeys, sizeof(*ks->keys)) < 0 ||
	    (s = malloc(li + ld + ls + lp + 4)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(s, id, li + 1);
	memcpy(s + li + 1, domain, ld + 1);
	memcpy(s + li + ld + 2, selector, ls + 1);
	memcpy(s + li + ld + ls + 3, path, lp + 1);
	if ((rc = strmap_put(ks->ids, s, li, ks->nkeys, &first)) != 0) {
		if (rc > 0)
			snprintf(err, errlen, "duplicate key id '%s' (first at line %d)", id,
			    ks->keys[first].line);
		else
			snprintf(err, errlen, "out of memory");
		free(s);
		return -1;
	}
	k = &ks->keys[ks->nkeys];
	memset(k, 0, sizeof(*k));
	k->id = s;
	k->domain = s + li + 1;
	k->selector = s + li + ld + 2;
	k->path = s + li + ld + ls + 3;
	k->line = line;
	k->slot = -1;
	return (long)ks->nkeys++;
}

long
keyset_key_index(const struct keyset *ks, const char *id)
{
	return strmap_get(ks->ids, id, strlen(id));
}

long
keyset_add_entry(struct keyset *ks, const char *pattern, int line, int *first)
{
	struct conf_sigentry *e;
	size_t len = strlen(pattern), i, old;
	char *p;
	int rc;

	if (room((void **)&ks->table, ks->ntable, &ks->captable, sizeof(*ks->table)) < 0 ||
	    (p = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i <= len; i++)
		p[i] = pattern[i] >= 'A' && pattern[i] <= 'Z' ? (char)(pattern[i] + 32) :
		    pattern[i];
	if ((rc = strmap_put(ks->patterns, p, len, ks->ntable, &old)) != 0) {
		if (rc > 0 && first != NULL)
			*first = ks->table[old].line;
		free(p);
		return rc > 0 ? -2 : -1;
	}
	e = &ks->table[ks->ntable];
	memset(e, 0, sizeof(*e));
	e->pattern = p;
	e->line = line;
	return (long)ks->ntable++;
}

long
keyset_entry_index(const struct keyset *ks, const char *pattern)
{
	return strmap_get(ks->patterns, pattern, strlen(pattern));
}

int
keyset_entry_add_key(struct keyset *ks, size_t e, size_t k)
{
	struct conf_sigentry *t = &ks->table[e];
	size_t *nk = realloc(t->keys, (t->nkeys + 1) * sizeof(*nk));

	if (nk == NULL)
		return -1;
	t->keys = nk;
	t->keys[t->nkeys++] = k;
	return 0;
}

const struct conf_sigentry *
keyset_find(const struct keyset *ks, const char *pattern, size_t len)
{
	long i = strmap_get(ks->patterns, pattern, len);

	return i < 0 ? NULL : &ks->table[i];
}
