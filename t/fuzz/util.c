/*
 * util.c - helpers shared by the fuzz harnesses (see fuzz.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		fuzz_fail("out of memory");
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

char *
fuzz_memdup(const uint8_t *data, size_t size)
{
	/* malloc(0) may return NULL; one byte keeps the pointer valid. */
	char *s = malloc(size ? size : 1);

	if (s == NULL)
		fuzz_fail("out of memory");
	if (size > 0)
		memcpy(s, data, size);
	return s;
}

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: property broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

unsigned
fuzz_byte(struct fuzz_rd *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

char *
fuzz_str(struct fuzz_rd *r, size_t max)
{
	size_t k = 0;
	char *s;

	while (k < r->n && k < max && r->p[k] != 0)
		k++;
	s = fuzz_strndup(r->p, k);
	/* Step over the separator too. */
	if (k < r->n && r->p[k] == 0)
		k++;
	r->p += k;
	r->n -= k;
	return s;
}

const char *
fuzz_data_dir(void)
{
	const char *e = getenv("FUZZ_DATA_DIR");

	return e != NULL && *e != '\0' ? e : FUZZ_DATA_DIR;
}

uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < size; i++) {
		h ^= data[i];
		h *= 1099511628211ULL;
	}
	return h | 1;
}

uint64_t
fuzz_rand(uint64_t *s)
{
	/* xorshift64 */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
