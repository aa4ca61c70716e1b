/*
 * keyset.c - indexed keys and signing-table entries of one source (see keyset.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "keycheck.h"
#include "keyset.h"
#include "strmap.h"

struct keyset_memo {
	pthread_mutex_t lock;
	struct strmap *index;		/* pattern -> slot */
	struct conf_sigentry **slots;	/* current entry per pattern */
	size_t nslots, capslots;
	struct conf_sigentry **graveyard;	/* replaced entries */
	size_t ngrave, capgrave;
};

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
keyset_create_backed(const char *origin, const struct keyset_backend *b)
{
	struct keyset *ks = keyset_create(origin);

	if (ks == NULL || (ks->memo = calloc(1, sizeof(*ks->memo))) == NULL ||
	    (ks->memo->index = strmap_create()) == NULL) {
		keyset_unref(ks);
		if (b->free != NULL)
			b->free(b->ctx);
		return NULL;
	}
	pthread_mutex_init(&ks->memo->lock, NULL);
	ks->backend = *b;
	return ks;
}

static void
entry_free(struct conf_sigentry *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nkeys; i++)
		free(e->own[i].id);
	free(e->own);
	free(e->keys);
	free(e->pattern);
	free(e->raw);
	free(e->bad);
	free(e);
}

static void
memo_free(struct keyset_memo *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nslots; i++)
		entry_free(m->slots[i]);
	for (i = 0; i < m->ngrave; i++)
		entry_free(m->graveyard[i]);
	free(m->slots);
	free(m->graveyard);
	strmap_free(m->index);
	if (m->index != NULL)
		pthread_mutex_destroy(&m->lock);
	free(m);
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
	memo_free(ks->memo);
	if (ks->backend.free != NULL)
		ks->backend.free(ks->backend.ctx);
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

int
keyset_reserve(struct keyset *ks, size_t nkeys, size_t nentries)
{
	void *p;

	if (nkeys > ks->capkeys) {
		if ((p = realloc(ks->keys, nkeys * sizeof(*ks->keys))) == NULL)
			return -1;
		ks->keys = p;
		ks->capkeys = nkeys;
	}
	if (nentries > ks->captable) {
		if ((p = realloc(ks->table, nentries * sizeof(*ks->table))) == NULL)
			return -1;
		ks->table = p;
		ks->captable = nentries;
	}
	return strmap_reserve(ks->ids, nkeys) < 0 ||
	    strmap_reserve(ks->patterns, nentries) < 0 ? -1 : 0;
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

const struct conf_key *
keyset_entry_key(const struct keyset *ks, const struct conf_sigentry *e, size_t k)
{
	return e->own != NULL ? &e->own[e->keys[k]] : &ks->keys[e->keys[k]];
}

/*
 * The next "DOMAIN:SELECTOR:/KEYFILE" of a map value at *p (blanks or
 * commas between them), cut in place. 1 found, 0 at the end, -1 a token
 * that does not parse (why says which; *p moves past it).
 */
static int
next_spec(char **p, char **dom, char **sel, char **path, char *why, size_t whylen)
{
	char *tok, *c1, *c2;

	*p += strspn(*p, " \t\r\n,");
	if (**p == '\0')
		return 0;
	tok = *p;
	*p += strcspn(*p, " \t\r\n,");
	if (**p != '\0')
		*(*p)++ = '\0';
	c1 = strchr(tok, ':');
	c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL) {
		snprintf(why, whylen, "'%.100s' is not DOMAIN:SELECTOR:KEYFILE", tok);
		return -1;
	}
	*c1 = *c2 = '\0';
	if (!keycheck_name_ok(tok) || !keycheck_name_ok(c1 + 1) || c2[1] != '/') {
		snprintf(why, whylen, "'%.60s:%.60s:%.100s' is not DOMAIN:SELECTOR:/KEYFILE",
		    tok, c1 + 1, c2 + 1);
		return -1;
	}
	*dom = tok;
	*sel = c1 + 1;
	*path = c2 + 1;
	return 1;
}

/* An entry made from a map's value "D:S:KEYFILE[ D:S:KEYFILE...]". */
static struct conf_sigentry *
entry_from_value(const char *pattern, size_t len, char *val)
{
	struct conf_sigentry *e = calloc(1, sizeof(*e));
	char *p = val, *dom, *sel, *path, why[300];
	int rc;

	if (e == NULL || (e->pattern = strndup(pattern, len)) == NULL ||
	    (e->raw = strdup(val)) == NULL ||
	    (e->own = calloc(LIMIT_SIGNERS, sizeof(*e->own))) == NULL ||
	    (e->keys = calloc(LIMIT_SIGNERS, sizeof(*e->keys))) == NULL) {
		entry_free(e);
		return NULL;
	}
	why[0] = '\0';
	while ((rc = next_spec(&p, &dom, &sel, &path, why, sizeof(why))) != 0) {
		struct conf_key *k;
		size_t ld, ls, lp;

		if (rc < 0)
			continue;
		if (e->nkeys == LIMIT_SIGNERS) {
			snprintf(why, sizeof(why), "more than %d keys", LIMIT_SIGNERS);
			break;
		}
		k = &e->own[e->nkeys];
		ld = strlen(dom);
		ls = strlen(sel);
		lp = strlen(path);
		/* id "DOMAIN.SELECTOR", then domain, selector, path: one allocation. */
		if ((k->id = malloc(2 * (ld + ls) + lp + 5)) == NULL)
			break;
		snprintf(k->id, ld + ls + 2, "%s.%s", dom, sel);
		k->domain = k->id + ld + ls + 2;
		memcpy(k->domain, dom, ld + 1);
		k->selector = k->domain + ld + 1;
		memcpy(k->selector, sel, ls + 1);
		k->path = k->selector + ls + 1;
		memcpy(k->path, path, lp + 1);
		k->slot = -1;
		e->keys[e->nkeys] = e->nkeys;
		e->nkeys++;
	}
	if (e->nkeys == 0 && why[0] == '\0')
		snprintf(why, sizeof(why), "no key");
	if (why[0] != '\0')
		e->bad = strdup(why);
	return e;
}

int
keyset_add_value(struct keyset *ks, const char *pattern, const char *value, char *why,
    size_t whylen)
{
	char *v = strdup(value), *p = v, *dom, *sel, *path, id[2 * LIMIT_DOMAIN + 2];
	long e = -1, k;
	int rc, first, bad = 0;

	if (v == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	while ((rc = next_spec(&p, &dom, &sel, &path, why, whylen)) != 0) {
		if (rc < 0) {
			bad = 1;
			continue;
		}
		snprintf(id, sizeof(id), "%s.%s", dom, sel);
		/* The same key may serve several patterns. */
		if ((k = keyset_key_index(ks, id)) < 0 &&
		    (k = keyset_add_key(ks, id, dom, sel, path, 0, why, whylen)) < 0) {
			bad = 1;
			continue;
		}
		if (e < 0 && (e = keyset_add_entry(ks, pattern, 0, &first)) < 0) {
			snprintf(why, whylen, "duplicate or out of memory");
			free(v);
			return -1;
		}
		if (ks->table[e].nkeys < LIMIT_SIGNERS &&
		    keyset_entry_add_key(ks, (size_t)e, (size_t)k) < 0)
			bad = 1;
	}
	free(v);
	if (e < 0 && !bad)
		snprintf(why, whylen, "no key");
	return e < 0 || bad ? -1 : 0;
}

/* Backed lookup: ask the map, reuse what the same value made before. */
static const struct conf_sigentry *
find_backed(const struct keyset *ks, const char *pattern, size_t len)
{
	struct keyset_memo *m = ks->memo;
	char low[LIMIT_DOMAIN + 130], *val;
	struct conf_sigentry *e, *old;
	size_t i;
	long slot;

	if (len >= sizeof(low))
		return NULL;
	for (i = 0; i < len; i++)
		low[i] = pattern[i] >= 'A' && pattern[i] <= 'Z' ? (char)(pattern[i] + 32) :
		    pattern[i];
	low[len] = '\0';
	if ((val = ks->backend.get(ks->backend.ctx, low, len)) == NULL)
		return NULL;
	pthread_mutex_lock(&m->lock);
	slot = strmap_get(m->index, low, len);
	if (slot >= 0 && strcmp(m->slots[slot]->raw, val) == 0) {
		e = m->slots[slot];
		pthread_mutex_unlock(&m->lock);
		free(val);
		return e;
	}
	if ((e = entry_from_value(low, len, val)) == NULL)
		goto fail;
	if (slot >= 0) {
		old = m->slots[slot];
		if (m->ngrave == m->capgrave) {
			size_t nc = m->capgrave ? m->capgrave * 2 : 16;
			struct conf_sigentry **ng = realloc(m->graveyard, nc * sizeof(*ng));

			if (ng == NULL)
				goto fail;
			m->graveyard = ng;
			m->capgrave = nc;
		}
		/* The old pattern text stays alive there: the index points at it. */
		m->graveyard[m->ngrave++] = old;
		m->slots[slot] = e;
	} else {
		if (m->nslots == m->capslots) {
			size_t nc = m->capslots ? m->capslots * 2 : 64;
			struct conf_sigentry **ns = realloc(m->slots, nc * sizeof(*ns));

			if (ns == NULL)
				goto fail;
			m->slots = ns;
			m->capslots = nc;
		}
		if (strmap_put(m->index, e->pattern, len, m->nslots, NULL) < 0)
			goto fail;
		m->slots[m->nslots++] = e;
	}
	pthread_mutex_unlock(&m->lock);
	free(val);
	return e;
fail:
	pthread_mutex_unlock(&m->lock);
	entry_free(e);
	free(val);
	return NULL;
}

const struct conf_sigentry *
keyset_find(const struct keyset *ks, const char *pattern, size_t len)
{
	long i;

	if (ks->memo != NULL)
		return find_backed(ks, pattern, len);
	i = strmap_get(ks->patterns, pattern, len);
	return i < 0 ? NULL : &ks->table[i];
}
