/*
 * keycache.c - cache of parsed key records (see keycache.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "keycache.h"
#include "metrics.h"

struct slot {
	char *txt;
	size_t len;
	struct keyrec kr;	/* holds one key reference */
};

struct keycache {
	pthread_mutex_t lock;
	struct slot slots[KEYCACHE_SLOTS];
};

struct keycache *
keycache_create(void)
{
	struct keycache *kc = calloc(1, sizeof(*kc));

	if (kc != NULL)
		pthread_mutex_init(&kc->lock, NULL);
	return kc;
}

void
keycache_free(struct keycache *kc)
{
	size_t i;

	if (kc == NULL)
		return;
	for (i = 0; i < KEYCACHE_SLOTS; i++) {
		free(kc->slots[i].txt);
		keyrec_clear(&kc->slots[i].kr);
	}
	pthread_mutex_destroy(&kc->lock);
	free(kc);
}

/* FNV-1a: the record texts are not attacker-chosen for collisions' sake,
 * and a collision only costs a re-parse. */
static size_t
slot_of(const char *txt, size_t len)
{
	unsigned long h = 2166136261UL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)txt[i]) * 16777619UL;
	return h % KEYCACHE_SLOTS;
}

int
keycache_parse(struct keycache *kc, struct keyrec *kr, const char *txt, size_t len,
    char *reason, size_t reasonlen)
{
	struct slot *s;
	char *copy;

	if (kc == NULL)
		return keyrec_parse(kr, txt, len, reason, reasonlen);
	s = &kc->slots[slot_of(txt, len)];
	pthread_mutex_lock(&kc->lock);
	if (s->txt != NULL && s->len == len && memcmp(s->txt, txt, len) == 0) {
		*kr = s->kr;
		crypto_key_ref(kr->key);
		pthread_mutex_unlock(&kc->lock);
		metrics_inc(MC_KEY_CACHE, MK_HIT);
		return 0;
	}
	pthread_mutex_unlock(&kc->lock);
	metrics_inc(MC_KEY_CACHE, MK_MISS);
	if (keyrec_parse(kr, txt, len, reason, reasonlen) < 0)
		return -1;
	if ((copy = malloc(len + 1)) == NULL)
		return 0;	/* parsed fine; just not cached */
	memcpy(copy, txt, len);
	copy[len] = '\0';
	pthread_mutex_lock(&kc->lock);
	free(s->txt);
	keyrec_clear(&s->kr);
	s->txt = copy;
	s->len = len;
	s->kr = *kr;
	crypto_key_ref(s->kr.key);
	pthread_mutex_unlock(&kc->lock);
	return 0;
}
