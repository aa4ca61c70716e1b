/*
 * snap.c - running configuration snapshots (see snap.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "snap.h"

struct snap *
snap_create(struct conf *c, const struct snap *prev, char *err, size_t errlen)
{
	struct snap *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		conf_unref(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->refs = 1;
	s->conf = c;
	s->dns = dns_create(c->resolver, c->trust_anchor, c->dns_timeout * 1000, err, errlen);
	if (s->dns == NULL) {
		snap_unref(s);
		return NULL;
	}
	dns_set_max_outstanding(s->dns, c->dns_max_outstanding);
	s->keys = keycache_create();
	if (prev != NULL && prev->privkeys != NULL &&
	    privcache_max(prev->privkeys) == (size_t)c->key_cache_size)
		s->privkeys = privcache_ref(prev->privkeys);
	else
		s->privkeys = privcache_create((size_t)c->key_cache_size);
	s->walks = dmarcwalk_cache_create();
	s->succ_active = calloc(c->nkeys + 1, sizeof(*s->succ_active));
	s->succ_logged = calloc(c->nkeys + 1, 1);
	if (s->succ_active == NULL || s->succ_logged == NULL || s->keys == NULL ||
	    s->privkeys == NULL || s->walks == NULL) {
		snprintf(err, errlen, "out of memory");
		snap_unref(s);
		return NULL;
	}
	if ((s->align = align_create(c->psl_file)) == NULL) {
		snprintf(err, errlen, "cannot load a public suffix list");
		snap_unref(s);
		return NULL;
	}
	return s;
}

struct snap *
snap_ref(struct snap *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_SEQ_CST);
	return s;
}

void
snap_unref(struct snap *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	dns_free(s->dns);
	align_free(s->align);
	keycache_free(s->keys);
	privcache_unref(s->privkeys);
	dmarcwalk_cache_free(s->walks);
	free(s->succ_active);
	free(s->succ_logged);
	if (s->scan_free != NULL)
		s->scan_free(s->scan);
	conf_unref(s->conf);
	free(s);
}

struct crypto_key *
snap_signing_key(const struct snap *s, const struct conf_key *k, int succ, char *err,
    size_t errlen, int *fresh)
{
	const struct crypto_key *have = succ ? k->succ_key : k->key;

	*fresh = 0;
	if (have != NULL)
		return crypto_key_ref((struct crypto_key *)have);
	return privcache_get(s->privkeys, succ ? k->succ_path : k->path,
	    s->conf->allow_readable_keys, err, errlen, fresh);
}
