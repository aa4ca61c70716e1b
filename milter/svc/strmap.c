/*
 * strmap.c - open-addressing hash index over caller-owned strings (see strmap.h).
 *
 * Linear probing at a load factor of at most one half; a slot is 16 bytes
 * (key pointer, 32-bit hash, 32-bit value: 100,000 names cost 4 MB), and a
 * probe compares bytes only on a full hash match.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "strmap.h"

struct slot {
	const char *key;	/* NULL: empty */
	uint32_t hash;
	uint32_t value;
};

struct strmap {
	struct slot *slots;
	size_t cap;		/* a power of two */
	size_t count;
};

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Keys compare without case. */
static uint32_t
hash_of(const char *s, size_t len)
{
	return fnv1a(s, len, 1);
}

/* The stored key ends at its NUL, the probe at len. */
static int
same(const struct slot *sl, const char *key, size_t len, uint32_t h)
{
	size_t i;

	if (sl->hash != h)
		return 0;
	for (i = 0; i < len; i++)
		if (sl->key[i] == '\0' ||
		    lower((unsigned char)sl->key[i]) != lower((unsigned char)key[i]))
			return 0;
	return sl->key[len] == '\0';
}

struct strmap *
strmap_create(void)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = 16;
	if ((m->slots = calloc(m->cap, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m);
}

static int
grow(struct strmap *m)
{
	size_t ncap = m->cap * 2, i;
	struct slot *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (m->slots[i].key == NULL)
			continue;
		for (j = m->slots[i].hash & (ncap - 1); ns[j].key != NULL; j = (j + 1) & (ncap - 1))
			;
		ns[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

int
strmap_reserve(struct strmap *m, size_t n)
{
	while (n * 2 > m->cap)
		if (grow(m) < 0)
			return -1;
	return 0;
}

int
strmap_put(struct strmap *m, const char *key, size_t len, size_t value, size_t *old)
{
	uint32_t h = hash_of(key, len);
	size_t j;

	if (value > UINT32_MAX || memchr(key, '\0', len) != NULL || key[len] != '\0')
		return -1;
	if ((m->count + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	for (j = h & (m->cap - 1); m->slots[j].key != NULL; j = (j + 1) & (m->cap - 1)) {
		if (same(&m->slots[j], key, len, h)) {
			if (old != NULL)
				*old = m->slots[j].value;
			return 1;
		}
	}
	m->slots[j].key = key;
	m->slots[j].value = (uint32_t)value;
	m->slots[j].hash = h;
	m->count++;
	return 0;
}

long
strmap_get(const struct strmap *m, const char *key, size_t len)
{
	uint32_t h = hash_of(key, len);
	size_t j;

	for (j = h & (m->cap - 1); m->slots[j].key != NULL; j = (j + 1) & (m->cap - 1))
		if (same(&m->slots[j], key, len, h))
			return (long)m->slots[j].value;
	return -1;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->count;
}
