/*
 * dmarcwalk.c - tree walks over the resolver, and their cache (see dmarcwalk.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dmarcwalk.h"
#include "fnv.h"
#include "metrics.h"

struct slot {
	char domain[LIMIT_DOMAIN + 1];
	time_t expires;
	struct dmarc_result res;
};

struct dmarcwalk_cache {
	pthread_mutex_t lock;
	struct slot slots[DMARCWALK_CACHE_SLOTS];
};

struct pooled {
	char name[LIMIT_DOMAIN + 8];
	struct dns_query *q;
};

struct dmarcwalk_pool {
	struct dns *dns;
	struct pooled *items;
	size_t n, alloc;
};

struct dmarcwalk {
	struct dmarc_walk walk;
	struct dns_query *q[DMARC_WALK_MAX];	/* borrowed from the pool */
	unsigned char toolong[DMARC_WALK_MAX];	/* _dmarc.NAME is no DNS name */
	int waited;
	int cached;
	struct dmarcwalk_cache *cache;
	struct dmarc_result res;
};

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct dmarcwalk_cache *
dmarcwalk_cache_create(void)
{
	struct dmarcwalk_cache *c = calloc(1, sizeof(*c));

	if (c != NULL)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void
dmarcwalk_cache_free(struct dmarcwalk_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* FNV-1a over the domain; a collision only costs a walk. */
static struct slot *
slot_of(struct dmarcwalk_cache *c, const char *d)
{
	return &c->slots[fnv1a(d, strlen(d), 0) % DMARCWALK_CACHE_SLOTS];
}

static int
cache_get(struct dmarcwalk_cache *c, const char *d, struct dmarc_result *res)
{
	struct slot *s;
	int hit;

	if (c == NULL)
		return 0;
	s = slot_of(c, d);
	pthread_mutex_lock(&c->lock);
	hit = s->domain[0] != '\0' && strcmp(s->domain, d) == 0 &&
	    s->expires > now_mono();
	if (hit)
		*res = s->res;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void
cache_put(struct dmarcwalk_cache *c, const char *d, const struct dmarc_result *res,
    int ttl)
{
	struct slot *s;

	/* Only a walk that decided everything may stand in for the DNS. */
	if (c == NULL || ttl <= 0 || !res->policy_known || !res->org_known)
		return;
	if (ttl > DMARCWALK_MAX_TTL)
		ttl = DMARCWALK_MAX_TTL;
	s = slot_of(c, d);
	pthread_mutex_lock(&c->lock);
	str_copy(s->domain, d, sizeof(s->domain));
	s->expires = now_mono() + ttl;
	s->res = *res;
	pthread_mutex_unlock(&c->lock);
}

void
dmarcwalk_answer(const struct dns_result *r, struct dmarc_answer *a)
{
	switch (r->status) {
	case DNS_OK:
		dmarc_answer_from_txt(a, (const char *const *)r->txt, r->txtlen, r->n);
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		memset(a, 0, sizeof(*a));
		a->kind = DMARC_ANS_NONE;
		break;
	default:
		/* SERVFAIL, timeout, a DNSSEC failure: nothing may be concluded. */
		memset(a, 0, sizeof(*a));
		a->kind = DMARC_ANS_TEMP;
		str_copy(a->why, r->why, sizeof(a->why));
		break;
	}
}

/* "_dmarc." + domain into out; -1 when it does not fit a DNS name. */
static int
dmarc_name(const char *domain, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "_dmarc.%s", domain);

	return n < 0 || (size_t)n >= outlen || n > 253 ? -1 : 0;
}

struct dmarcwalk_pool *
dmarcwalk_pool_create(struct dns *dns)
{
	struct dmarcwalk_pool *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->dns = dns;
	return p;
}

void
dmarcwalk_pool_free(struct dmarcwalk_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	/* Queries no walk waited for may still be in flight: dns.c owns them then. */
	for (i = 0; i < p->n; i++)
		dns_query_free(p->items[i].q);
	free(p->items);
	free(p);
}

size_t
dmarcwalk_pool_sent(const struct dmarcwalk_pool *p)
{
	return p->n;
}

/* The query for name, started now or by an earlier walk; NULL: out of memory. */
static struct dns_query *
pool_query(struct dmarcwalk_pool *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->items[i].name, name) == 0)
			return p->items[i].q;
	if (p->n == p->alloc) {
		size_t na = p->alloc ? 2 * p->alloc : 16;
		struct pooled *ni = realloc(p->items, na * sizeof(*ni));

		if (ni == NULL)
			return NULL;
		p->items = ni;
		p->alloc = na;
	}
	str_copy(p->items[p->n].name, name, sizeof(p->items[0].name));
	if ((p->items[p->n].q = dns_txt_start(p->dns, name)) == NULL)
		return NULL;
	return p->items[p->n++].q;
}

struct dmarcwalk *
dmarcwalk_start(struct dmarcwalk_pool *pool, struct dmarcwalk_cache *cache,
    const char *domain)
{
	struct dmarcwalk *w = calloc(1, sizeof(*w));
	size_t i;

	if (w == NULL)
		return NULL;
	if (dmarc_walk_plan(&w->walk, domain) < 0) {
		free(w);
		return NULL;
	}
	w->cache = cache;
	if (cache_get(cache, w->walk.start, &w->res)) {
		metrics_inc(MC_DMARC_CACHE, MK_HIT);
		w->cached = w->waited = 1;
		return w;
	}
	if (cache != NULL)
		metrics_inc(MC_DMARC_CACHE, MK_MISS);
	for (i = 0; i < w->walk.ntargets; i++) {
		char name[LIMIT_DOMAIN + 8];

		if (dmarc_name(w->walk.target[i], name, sizeof(name)) == 0)
			w->q[i] = pool_query(pool, name);
		else
			w->toolong[i] = 1;
	}
	return w;
}

const struct dmarc_result *
dmarcwalk_wait(struct dmarcwalk *w)
{
	size_t i;
	int ttl = DMARCWALK_MAX_TTL;

	if (w->waited)
		return &w->res;
	w->waited = 1;
	for (i = 0; i < w->walk.ntargets; i++) {
		struct dmarc_answer a;

		if (w->toolong[i]) {
			/* No record can live at a name longer than DNS allows. */
			memset(&a, 0, sizeof(a));
			a.kind = DMARC_ANS_NONE;
		} else if (w->q[i] == NULL) {
			memset(&a, 0, sizeof(a));
			a.kind = DMARC_ANS_TEMP;
			str_copy(a.why, "cannot start the lookup: out of memory", sizeof(a.why));
		} else {
			const struct dns_result *r = dns_query_wait(w->q[i]);

			dmarcwalk_answer(r, &a);
			if (r->ttl < ttl)
				ttl = r->ttl;
		}
		if (dmarc_walk_feed(&w->walk, &a))
			break;
	}
	dmarc_walk_result(&w->walk, &w->res);
	cache_put(w->cache, w->walk.start, &w->res, ttl);
	return &w->res;
}

int
dmarcwalk_cached(const struct dmarcwalk *w)
{
	return w->cached;
}

void
dmarcwalk_free(struct dmarcwalk *w)
{
	free(w);	/* its queries belong to the pool */
}

int
dmarcwalk_run(struct dns *dns, const char *domain, struct dmarc_result *res,
    struct dmarcwalk_step *steps, size_t *nsteps)
{
	struct dmarc_walk walk;
	size_t i;

	*nsteps = 0;
	if (dmarc_walk_plan(&walk, domain) < 0)
		return -1;
	for (i = 0; i < walk.ntargets; i++) {
		struct dmarcwalk_step *st = &steps[i];
		struct dmarc_answer a;
		struct dns_result r;

		memset(st, 0, sizeof(*st));
		*nsteps = i + 1;
		if (dmarc_name(walk.target[i], st->name, sizeof(st->name)) < 0) {
			/* No record can live at a name longer than DNS allows. */
			memset(&a, 0, sizeof(a));
			a.kind = DMARC_ANS_NONE;
			st->dns = "name too long to ask";
		} else {
			dns_txt(dns, st->name, &r);
			dmarcwalk_answer(&r, &a);
			st->dns = dns_status_name(r.status);
			dns_result_clear(&r);
		}
		st->kind = a.kind;
		st->rec = a.rec;
		str_copy(st->why, a.why, sizeof(st->why));
		if (dmarc_walk_feed(&walk, &a))
			break;
	}
	dmarc_walk_result(&walk, res);
	return 0;
}
