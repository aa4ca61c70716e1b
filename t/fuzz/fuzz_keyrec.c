/*
 * fuzz_keyrec.c - DKIM key records (keyrec_parse, and the key cache).
 *
 * Input: the TXT record text, strings joined. Properties: no memory error;
 * an accepted record is either revoked (no key, no size) or holds a key of
 * the type it names with a positive size; the key cache gives the same
 * answer as the parser, the first time and when the entry is reused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "fuzz.h"
#include "keycache.h"
#include "keyrec.h"

static struct keycache *kc;

static void
check(const struct keyrec *kr)
{
	if (kr->revoked) {
		if (kr->key != NULL || kr->bits != 0)
			fuzz_fail("revoked record with a key");
		return;
	}
	if (kr->key == NULL || kr->bits <= 0)
		fuzz_fail("usable record without a key");
	if (crypto_key_type(kr->key) != kr->type)
		fuzz_fail("key type %d, record says %d", (int)crypto_key_type(kr->key),
		    (int)kr->type);
}

static int
same(const struct keyrec *a, const struct keyrec *b)
{
	return a->type == b->type && a->revoked == b->revoked && a->testing == b->testing &&
	    a->strict == b->strict && a->has_version == b->has_version &&
	    a->sha256_ok == b->sha256_ok && a->sha1_ok == b->sha1_ok &&
	    a->email_ok == b->email_ok && a->bits == b->bits &&
	    (a->key == NULL) == (b->key == NULL) &&
	    (a->key == NULL || crypto_key_public_equal(a->key, b->key));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyrec kr, k1, k2;
	char *txt = fuzz_memdup(data, size), reason[LIMIT_REASON];
	int rc, r1, r2;

	if (kc == NULL && (kc = keycache_create()) == NULL)
		fuzz_fail("out of memory");
	memset(&kr, 0, sizeof(kr));
	memset(&k1, 0, sizeof(k1));
	memset(&k2, 0, sizeof(k2));
	memset(reason, 'x', sizeof(reason));
	rc = keyrec_parse(&kr, txt, size, reason, sizeof(reason));
	if (rc != 0 && memchr(reason, '\0', sizeof(reason)) == NULL)
		fuzz_fail("reason not terminated");
	if (rc == 0)
		check(&kr);
	r1 = keycache_parse(kc, &k1, txt, size, reason, sizeof(reason));
	r2 = keycache_parse(kc, &k2, txt, size, reason, sizeof(reason));
	if (r1 != rc || r2 != rc)
		fuzz_fail("parser says %d, cache says %d then %d", rc, r1, r2);
	if (rc == 0 && (!same(&kr, &k1) || !same(&kr, &k2)))
		fuzz_fail("the cache's record differs from the parser's");
	keyrec_clear(&kr);
	keyrec_clear(&k1);
	keyrec_clear(&k2);
	free(txt);
	return 0;
}
