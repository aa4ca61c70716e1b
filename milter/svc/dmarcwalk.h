/*
 * dmarcwalk.h - the RFC 9989 DNS Tree Walk (dmarc.h) run over dns.h, with
 * its outcomes cached.
 *
 * dmarcwalk_start plans the walk from a domain and sends the queries for
 * all of its (at most eight) _dmarc names at once, so that the walk costs
 * one round trip and overlaps the key lookups. The queries belong to a
 * pool, one per message, so that the walks of one message (the From:
 * domain's and those of the d= domains, which mostly share their upper
 * names) ask each name once; dmarcwalk_wait then reads
 * the answers in the walk's order and stops where RFC 9989 stops, ignoring
 * the rest. A walk whose policy and Organizational Domain were both decided
 * is cached by its start domain for the shortest TTL it read (at most
 * DMARCWALK_MAX_TTL seconds); a walk that met a DNS failure is never
 * cached, so the next message asks again. dmarcwalk_run is the same walk
 * one query at a time, stopping early, for dkimctl; it records each step.
 *
 * A struct dmarcwalk and its pool belong to one thread; the cache is
 * thread-safe.
 */
#ifndef DKIMGATE_DMARCWALK_H
#define DKIMGATE_DMARCWALK_H

#include <stddef.h>

#include "dmarc.h"
#include "dns.h"

#define DMARCWALK_CACHE_SLOTS 512
#define DMARCWALK_MAX_TTL 3600

struct dmarcwalk_cache;
struct dmarcwalk_pool;
struct dmarcwalk;

/* NULL when out of memory; free accepts NULL. */
struct dmarcwalk_cache *dmarcwalk_cache_create(void);
void dmarcwalk_cache_free(struct dmarcwalk_cache *c);

/*
 * The queries of one message's walks. NULL when out of memory. Free it
 * after the walks that used it (dmarcwalk_pool_free accepts NULL).
 */
struct dmarcwalk_pool *dmarcwalk_pool_create(struct dns *dns);
void dmarcwalk_pool_free(struct dmarcwalk_pool *pool);
/* Distinct _dmarc names the pool has asked for. */
size_t dmarcwalk_pool_sent(const struct dmarcwalk_pool *pool);

/*
 * Start a walk from domain, its queries in pool; cache may be NULL. NULL
 * when out of memory or when domain is not a usable name (then there is
 * nothing to walk).
 */
struct dmarcwalk *dmarcwalk_start(struct dmarcwalk_pool *pool,
    struct dmarcwalk_cache *cache, const char *domain);
/* The outcome; owned by the walk. Blocks at most the DNS timeout. */
const struct dmarc_result *dmarcwalk_wait(struct dmarcwalk *w);
/* 1 when the outcome came from the cache (no query was sent). */
int dmarcwalk_cached(const struct dmarcwalk *w);
void dmarcwalk_free(struct dmarcwalk *w);

/* One step of dmarcwalk_run. */
struct dmarcwalk_step {
	char name[LIMIT_DOMAIN + 8];	/* the _dmarc name asked */
	enum dmarc_ans kind;
	const char *dns;		/* dns_status_name of the answer */
	struct dmarc_rec rec;		/* when kind is DMARC_ANS_REC */
	char why[LIMIT_REASON];
};

/*
 * The walk from domain, one query at a time; steps (DMARC_WALK_MAX of them)
 * receives what each query gave and *nsteps how many were sent. -1 when
 * domain is not a usable name.
 */
int dmarcwalk_run(struct dns *dns, const char *domain, struct dmarc_result *res,
    struct dmarcwalk_step *steps, size_t *nsteps);

/* Turn one TXT lookup result into a walk answer (DNS failures are TEMP). */
void dmarcwalk_answer(const struct dns_result *r, struct dmarc_answer *a);

#endif
