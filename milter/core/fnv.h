/*
 * fnv.h - FNV-1a, the string hash of dkimgate's hash tables
 *
 * The string map, the private-key cache, the DNS lookups in flight and the
 * DMARC walk cache all index by a name. One hash serves them all, so a
 * change of hash (or a case-folding bug) is made in one place.
 *
 * fnv1a(p, n, fold): FNV-1a over n bytes, ASCII letters lower-cased when
 * fold is set (domain names compare without case). fnv1a_mix folds one
 * more 32-bit value into a hash. Neither is a defence against chosen
 * collisions; the tables bound their probes or their size instead.
 */
#ifndef DKIMGATE_FNV_H
#define DKIMGATE_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_BASIS 2166136261u
#define FNV1A_PRIME 16777619u

static inline uint32_t
fnv1a_mix(uint32_t h, uint32_t v)
{
	return (h ^ v) * FNV1A_PRIME;
}

static inline uint32_t
fnv1a(const void *p, size_t n, int fold)
{
	const unsigned char *s = p;
	uint32_t h = FNV1A_BASIS;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (fold && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 'a' - 'A');
		h = fnv1a_mix(h, c);
	}
	return h;
}

#endif
