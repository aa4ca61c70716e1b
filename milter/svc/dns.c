/*
 * dns.c - libunbound driver (see dns.h).
 *
 * Two objects. A lookup (struct dns_lookup) is one question (name, type,
 * record format) given to libunbound; a query (struct dns_query) is one
 * caller waiting for a lookup's answer, with its own deadline and its own
 * copy of the result. While libunbound holds a lookup it sits in a hash
 * table keyed on the lower-cased name and the type, so a second caller
 * asking the same question joins it instead of sending another: a lookup
 * whose callers all went away (aborted messages) stays joinable until
 * libunbound is done with it, which is what keeps a dead zone from filling
 * the daemon-wide bound with copies of one question.
 *
 * Ownership: a lookup holds one reference per query attached to it and one
 * while libunbound may still call back (in_flight). Everything about
 * lookups (the hash, references, the shared answer, waking waiters) is
 * under dns->lock, which also serialises ub_resolve_async and ub_process,
 * so a callback and a waiter timing out never see each other half-done.
 * A query leaves its lookup (drops its reference) when it has copied the
 * answer, when its deadline passes, or when its caller frees it; the last
 * reference frees the lookup. The driver thread polls libunbound's
 * descriptor and runs the callbacks; waiters sleep on the lookup's
 * condition variable with dns->lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "buf.h"
#include "dns.h"
#include "fnv.h"
#include "metrics.h"

/* Answers are counted by their enum value: the two orders must agree. */
_Static_assert((int)DNS_OK == MQ_OK && (int)DNS_NXDOMAIN == MQ_NXDOMAIN &&
    (int)DNS_NODATA == MQ_NODATA && (int)DNS_SERVFAIL == MQ_SERVFAIL &&
    (int)DNS_BOGUS == MQ_BOGUS && (int)DNS_TIMEOUT == MQ_TIMEOUT &&
    (int)DNS_ERROR == MQ_ERROR,
    "metrics.h DNS labels follow enum dns_status");

/*
 * Hash buckets: the next power of two at or above dns.max_outstanding (the
 * most lookups the table can hold), at most this many, so chains stay
 * short without a large table for a large bound.
 */
#define DNS_BUCKETS_MIN 64
#define DNS_BUCKETS_MAX 65536

struct dns {
	struct ub_ctx *ub;
	int timeout_ms;
	int max_outstanding;	/* lookups libunbound may hold at once */
	int outstanding;	/* atomic: lookups libunbound holds now */
	unsigned long refused;	/* atomic: lookups refused over the bound */
	unsigned long joined;	/* atomic: queries that joined a lookup in flight */
	pthread_t thread;
	int thread_started;
	int wake[2];		/* written to stop the driver at once */
	/* Serialises ub_resolve_async/ub_process; guards every lookup. */
	pthread_mutex_t lock;
	/* Lookups libunbound holds, by key; freed by dns_free if never answered. */
	struct dns_lookup **bucket;
	size_t nbucket;		/* a power of two */
};

struct dns_lookup {
	struct dns *dns;
	struct dns_lookup *hnext;	/* hash chain, while in_flight */
	uint32_t hash;
	int rrtype;
	int raw;		/* copy rdata as it came (dns_query_type) */
	int refs;		/* queries attached, plus one while in_flight */
	int in_flight;		/* libunbound may still call back */
	int done;		/* res is the answer */
	int async_id;
	uint64_t answered_us;	/* when the answer came, for the histogram */
	pthread_cond_t cond;	/* with dns->lock: res became final */
	struct dns_result res;	/* the answer; queries copy it */
	size_t namelen;		/* without a final dot */
	char name[];		/* as the first caller spelled it */
};

struct dns_query {
	struct dns *dns;
	struct dns_lookup *lk;	/* attached until done or freed; NULL after */
	int done;		/* res is final for this caller */
	struct timespec deadline;
	uint64_t started_us;	/* for the latency histogram */
	struct dns_result res;	/* the caller's own copy */
};

static void left_resolver(struct dns_lookup *lk);
static void lookup_unref(struct dns_lookup *lk);
static int buckets_size(struct dns *dns);

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA: return "nodata";
	case DNS_SERVFAIL: return "servfail";
	case DNS_BOGUS: return "bogus";
	case DNS_TIMEOUT: return "timeout";
	default: return "error";
	}
}

static void *
driver(void *arg)
{
	struct dns *dns = arg;
	struct pollfd pfd[2];

	pfd[0].fd = ub_fd(dns->ub);
	pfd[0].events = POLLIN;
	pfd[1].fd = dns->wake[0];
	pfd[1].events = POLLIN;
	for (;;) {
		int n = poll(pfd, 2, -1);

		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && pfd[1].revents != 0)
			break;
		if (n > 0 && pfd[0].revents != 0) {
			pthread_mutex_lock(&dns->lock);
			ub_process(dns->ub);
			pthread_mutex_unlock(&dns->lock);
		}
	}
	return NULL;
}

struct dns *
dns_create(const char *resolver, const char *trust_anchor, int timeout_ms, char *err,
    size_t errlen)
{
	struct dns *dns = calloc(1, sizeof(*dns));
	int rc;

	if (dns == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&dns->lock, NULL);
	dns->wake[0] = dns->wake[1] = -1;
	dns->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	dns->max_outstanding = DNS_MAX_OUTSTANDING_DEFAULT;
	if (buckets_size(dns) < 0) {
		snprintf(err, errlen, "out of memory");
		dns_free(dns);
		return NULL;
	}
	if (pipe2(dns->wake, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		dns_free(dns);
		return NULL;
	}
	if ((dns->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create the libunbound context");
		dns_free(dns);
		return NULL;
	}
	/* Resolve in a libunbound thread so lookups overlap. */
	ub_ctx_async(dns->ub, 1);
	if (resolver != NULL && *resolver != '\0') {
		rc = ub_ctx_set_fwd(dns->ub, resolver);
		/* A forwarder on loopback is the normal test and local-resolver setup. */
		if (rc == 0)
			rc = ub_ctx_set_option(dns->ub, "do-not-query-localhost:", "no");
	} else
		rc = ub_ctx_resolvconf(dns->ub, NULL);
	/*
	 * After a SERVFAIL (or a timeout) libunbound sends the same question
	 * again, up to 5 more times by default: one broken zone cost six
	 * queries per name and message. Once more is enough to ride over a
	 * lost packet. The retry count also bounds timeouts, which back off
	 * from the server's measured round trip (50 ms at least): against a
	 * resolver that usually answers from its cache in a millisecond, a
	 * cold recursive lookup would be given up after 150 ms. So the first
	 * wait is three fifths of the timeout: a lost packet is still sent
	 * again within the caller's timeout, and libunbound gives up no
	 * earlier than 1.2 timeouts, so a dead server reads as a timeout for
	 * the message, not as a SERVFAIL racing the caller's deadline (with
	 * half, both fell at the same instant once the forwarder's round trip
	 * was back to its minimum). (A lower
	 * infra-cache-max-rtt would end dead lookups sooner, but libunbound
	 * then takes the forwarder itself for dead and fails every lookup.)
	 */
	if (rc == 0)
		rc = ub_ctx_set_option(dns->ub, "outbound-msg-retry:", "1");
	if (rc == 0) {
		char rtt[16];

		snprintf(rtt, sizeof(rtt), "%d", dns->timeout_ms * 3 / 5 > 50 ?
		    dns->timeout_ms * 3 / 5 : 50);
		rc = ub_ctx_set_option(dns->ub, "infra-cache-min-rtt:", rtt);
	}
	if (rc != 0) {
		snprintf(err, errlen, "resolver %s: %s", resolver ? resolver : "resolv.conf",
		    ub_strerror(rc));
		dns_free(dns);
		return NULL;
	}
	if (trust_anchor != NULL && *trust_anchor != '\0' &&
	    (rc = ub_ctx_add_ta_file(dns->ub, trust_anchor)) != 0) {
		snprintf(err, errlen, "trust anchor %s: %s", trust_anchor, ub_strerror(rc));
		dns_free(dns);
		return NULL;
	}
	{
		/* The driver never handles signals: they belong to the main thread. */
		sigset_t all, old;
		int prc;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		prc = pthread_create(&dns->thread, NULL, driver, dns);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (prc != 0) {
			snprintf(err, errlen, "cannot start the DNS thread");
			dns_free(dns);
			return NULL;
		}
	}
	dns->thread_started = 1;
	return dns;
}

void
dns_free(struct dns *dns)
{
	if (dns == NULL)
		return;
	if (dns->thread_started) {
		(void)!write(dns->wake[1], "x", 1);
		pthread_join(dns->thread, NULL);
	}
	if (dns->wake[0] >= 0) {
		close(dns->wake[0]);
		close(dns->wake[1]);
	}
	if (dns->ub != NULL)
		ub_ctx_delete(dns->ub);
	/*
	 * Lookups never answered: libunbound dropped them without a callback.
	 * Queries must all be freed by now (dns.h), so nobody waits for them.
	 */
	for (size_t i = 0; i < dns->nbucket; i++)
		while (dns->bucket[i] != NULL) {
			struct dns_lookup *lk = dns->bucket[i];

			left_resolver(lk);
			lookup_unref(lk);
		}
	free(dns->bucket);
	pthread_mutex_destroy(&dns->lock);
	free(dns);
}

void
dns_result_clear(struct dns_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->txt[i]);
	free(r->txt);
	free(r->txtlen);
	r->txt = NULL;
	r->txtlen = NULL;
	r->n = 0;
}

/* Join the character-strings of one TXT rdata. */
static char *
join_txt(const unsigned char *p, size_t n, size_t *outlen)
{
	struct buf b;
	size_t i = 0;

	buf_init(&b, 65536);
	while (i < n) {
		size_t l = p[i++];

		if (l > n - i || buf_append(&b, p + i, l) < 0) {
			buf_release(&b);
			return NULL;
		}
		i += l;
	}
	*outlen = b.len;
	return buf_steal(&b);
}

/*
 * Copy libunbound's answer into r: the status, and each record either as
 * its TXT strings joined (raw = 0) or as the rdata as it came (raw = 1).
 */
static void
fill_result(struct dns_result *r, int err, struct ub_result *ur, int raw)
{
	int i, n = 0;

	if (err != 0) {
		r->status = DNS_ERROR;
		snprintf(r->why, sizeof(r->why), "resolver error: %s", ub_strerror(err));
		return;
	}
	r->dnssec = ur->secure ? "secure" : ur->bogus ? "bogus" : "insecure";
	r->ttl = ur->ttl;
	if (ur->canonname != NULL)
		str_copy(r->canon, ur->canonname, sizeof(r->canon));
	if (ur->bogus) {
		r->status = DNS_BOGUS;
		snprintf(r->why, sizeof(r->why), "DNSSEC validation failed%s%s",
		    ur->why_bogus ? ": " : "", ur->why_bogus ? ur->why_bogus : "");
		return;
	}
	if (ur->nxdomain) {
		r->status = DNS_NXDOMAIN;
		snprintf(r->why, sizeof(r->why), "NXDOMAIN");
		return;
	}
	if (ur->rcode != 0) {
		r->status = DNS_SERVFAIL;
		snprintf(r->why, sizeof(r->why), "DNS rcode %d%s", ur->rcode,
		    ur->rcode == 2 ? " (SERVFAIL)" : ur->rcode == 5 ? " (REFUSED)" : "");
		return;
	}
	if (!ur->havedata) {
		r->status = DNS_NODATA;
		snprintf(r->why, sizeof(r->why), raw ? "no record of that type" :
		    "no TXT record");
		return;
	}
	while (ur->data[n] != NULL)
		n++;
	r->txt = calloc((size_t)n, sizeof(*r->txt));
	r->txtlen = calloc((size_t)n, sizeof(*r->txtlen));
	if (r->txt == NULL || r->txtlen == NULL) {
		r->status = DNS_ERROR;
		snprintf(r->why, sizeof(r->why), "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		size_t len = (size_t)ur->len[i];
		char *t;

		if (raw) {
			if ((t = malloc(len + 1)) != NULL) {
				memcpy(t, ur->data[i], len);
				t[len] = '\0';
			}
		} else
			t = join_txt((unsigned char *)ur->data[i], len, &len);
		if (t != NULL) {
			r->txtlen[r->n] = len;
			r->txt[r->n++] = t;
		}
	}
	r->status = r->n > 0 ? DNS_OK : raw ? DNS_ERROR : DNS_SERVFAIL;
	if (r->n == 0)
		snprintf(r->why, sizeof(r->why), raw ? "out of memory" :
		    "malformed TXT data");
}

/*
 * Copy src into dst (an empty result) with records of its own; DNS_ERROR
 * in dst when memory runs out.
 */
static void
copy_result(struct dns_result *dst, const struct dns_result *src)
{
	size_t i;

	*dst = *src;
	dst->txt = NULL;
	dst->txtlen = NULL;
	dst->n = 0;
	if (src->n == 0)
		return;
	dst->txt = calloc(src->n, sizeof(*dst->txt));
	dst->txtlen = calloc(src->n, sizeof(*dst->txtlen));
	for (i = 0; dst->txt != NULL && dst->txtlen != NULL && i < src->n; i++) {
		if ((dst->txt[i] = malloc(src->txtlen[i] + 1)) == NULL)
			break;
		memcpy(dst->txt[i], src->txt[i], src->txtlen[i] + 1);
		dst->txtlen[i] = src->txtlen[i];
		dst->n++;
	}
	if (dst->n < src->n) {
		dns_result_clear(dst);
		dst->status = DNS_ERROR;
		snprintf(dst->why, sizeof(dst->why), "out of memory");
	}
}

/*
 * The query ended with r at end_us: count its outcome and how long it
 * took, once per query (each caller's lookup counts, joined or not). A
 * query freed before its answer came is not counted: nobody saw it end.
 */
static void
count_answer(const struct dns_query *q, const struct dns_result *r, uint64_t end_us)
{
	const char *d = r->dnssec;

	metrics_inc(MC_DNS_ANSWERS, (unsigned)r->status);
	if (d != NULL)
		metrics_inc(MC_DNS_DNSSEC, strcmp(d, "secure") == 0 ? MSEC_SECURE :
		    strcmp(d, "bogus") == 0 ? MSEC_BOGUS : MSEC_INSECURE);
	metrics_observe(MH_DNS, end_us > q->started_us ? end_us - q->started_us : 0);
}

/* The length of name without one final dot: "a.example." is "a.example". */
static size_t
name_len(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && name[n - 1] == '.' ? n - 1 : n;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 'a' - 'A') : c;
}

/* FNV-1a over the lower-cased name, then the type and the record format. */
static uint32_t
key_hash(const char *name, size_t len, int rrtype, int raw)
{
	uint32_t h = fnv1a(name, len, 1);

	h = fnv1a_mix(h, (uint32_t)(rrtype & 0xffff));
	return fnv1a_mix(h, (uint32_t)raw);
}

/* Under dns->lock: the lookup in flight for this key, or NULL. */
static struct dns_lookup *
lookup_find(struct dns *dns, const char *name, size_t len, uint32_t h, int rrtype,
    int raw)
{
	struct dns_lookup *lk;
	size_t i;

	for (lk = dns->bucket[h & (dns->nbucket - 1)]; lk != NULL; lk = lk->hnext) {
		if (lk->hash != h || lk->rrtype != rrtype || lk->raw != raw ||
		    lk->namelen != len)
			continue;
		for (i = 0; i < len; i++)
			if (lower((unsigned char)lk->name[i]) != lower((unsigned char)name[i]))
				break;
		if (i == len)
			return lk;
	}
	return NULL;
}

/*
 * Size the hash for dns->max_outstanding lookups, moving any already in
 * it (under dns->lock, or before the driver starts). -1 without memory,
 * the old table kept.
 */
static int
buckets_size(struct dns *dns)
{
	size_t n = DNS_BUCKETS_MIN, i;
	struct dns_lookup **b;

	while (n < (size_t)dns->max_outstanding && n < DNS_BUCKETS_MAX)
		n *= 2;
	if (n == dns->nbucket)
		return 0;
	if ((b = calloc(n, sizeof(*b))) == NULL)
		return -1;
	for (i = 0; i < dns->nbucket; i++)
		while (dns->bucket[i] != NULL) {
			struct dns_lookup *lk = dns->bucket[i];

			dns->bucket[i] = lk->hnext;
			lk->hnext = b[lk->hash & (n - 1)];
			b[lk->hash & (n - 1)] = lk;
		}
	free(dns->bucket);
	dns->bucket = b;
	dns->nbucket = n;
	return 0;
}

/*
 * libunbound no longer holds lk (it answered, or the resolver is being
 * shut down): the one place that ends a lookup's time in flight, takes it
 * out of the hash and drops libunbound's reference (the caller does, by
 * lookup_unref). A lookup shut down unanswered gets an error as its answer
 * for the queries still attached. Under dns->lock.
 */
static void
left_resolver(struct dns_lookup *lk)
{
	struct dns *dns = lk->dns;
	struct dns_lookup **pp;

	if (!lk->in_flight)
		return;
	lk->in_flight = 0;
	metrics_gauge_add(MG_DNS_INFLIGHT, -1);
	__atomic_sub_fetch(&dns->outstanding, 1, __ATOMIC_SEQ_CST);
	for (pp = &dns->bucket[lk->hash & (dns->nbucket - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == lk) {
			*pp = lk->hnext;
			break;
		}
	lk->hnext = NULL;
	if (!lk->done) {
		lk->done = 1;
		lk->res.status = DNS_ERROR;
		snprintf(lk->res.why, sizeof(lk->res.why), "resolver shut down");
	}
	pthread_cond_broadcast(&lk->cond);
}

/* Under dns->lock. */
static void
lookup_unref(struct dns_lookup *lk)
{
	if (--lk->refs > 0)
		return;
	dns_result_clear(&lk->res);
	pthread_cond_destroy(&lk->cond);
	free(lk);
}

/* Runs inside ub_process, so under dns->lock. */
static void
callback(void *arg, int err, struct ub_result *ur)
{
	struct dns_lookup *lk = arg;

	/* Only libunbound's reference left: nobody would read the answer. */
	if (lk->refs > 1)
		fill_result(&lk->res, err, ur, lk->raw);
	lk->answered_us = metrics_now_us();
	lk->done = 1;
	left_resolver(lk);
	if (ur != NULL)
		ub_resolve_free(ur);
	lookup_unref(lk);
}

/*
 * A new lookup of name (len bytes count) given to libunbound, with a
 * reference for the caller and one for libunbound; NULL with q's result
 * set when it cannot be. Under dns->lock.
 */
static struct dns_lookup *
lookup_start(struct dns *dns, struct dns_query *q, const char *name, size_t len,
    uint32_t h, int rrtype, int raw)
{
	struct dns_lookup *lk;
	size_t nlen = strlen(name);
	int rc;

	/*
	 * A bound on what libunbound holds for us: past it a lookup fails at
	 * once (a temporary error for the message) instead of queueing
	 * behind lookups that a dead server will never answer.
	 */
	if (__atomic_load_n(&dns->outstanding, __ATOMIC_SEQ_CST) >= dns->max_outstanding) {
		__atomic_add_fetch(&dns->refused, 1, __ATOMIC_SEQ_CST);
		q->res.status = DNS_ERROR;
		snprintf(q->res.why, sizeof(q->res.why), "too many DNS lookups outstanding "
		    "(dns.max_outstanding %d)", dns->max_outstanding);
		return NULL;
	}
	if ((lk = calloc(1, sizeof(*lk) + nlen + 1)) == NULL) {
		q->res.status = DNS_ERROR;
		snprintf(q->res.why, sizeof(q->res.why), "out of memory");
		return NULL;
	}
	lk->dns = dns;
	lk->hash = h;
	lk->rrtype = rrtype;
	lk->raw = raw;
	lk->namelen = len;
	memcpy(lk->name, name, nlen + 1);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&lk->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	rc = ub_resolve_async(dns->ub, lk->name, rrtype, 1 /* IN */, lk, callback,
	    &lk->async_id);
	if (rc != 0) {
		pthread_cond_destroy(&lk->cond);
		free(lk);
		q->res.status = DNS_ERROR;
		snprintf(q->res.why, sizeof(q->res.why), "cannot start lookup: %s",
		    ub_strerror(rc));
		return NULL;
	}
	lk->refs = 2;	/* the caller's and libunbound's */
	lk->in_flight = 1;
	lk->hnext = dns->bucket[h & (dns->nbucket - 1)];
	dns->bucket[h & (dns->nbucket - 1)] = lk;
	__atomic_add_fetch(&dns->outstanding, 1, __ATOMIC_SEQ_CST);
	metrics_gauge_add(MG_DNS_INFLIGHT, 1);
	return lk;
}

/* Start a lookup of name/rrtype, or join the one in flight; NULL without memory. */
static struct dns_query *
query_start(struct dns *dns, const char *name, int rrtype, int raw)
{
	struct dns_query *q = calloc(1, sizeof(*q));
	size_t len = name_len(name);
	uint32_t h = key_hash(name, len, rrtype, raw);

	if (q == NULL)
		return NULL;
	q->dns = dns;
	clock_gettime(CLOCK_MONOTONIC, &q->deadline);
	q->deadline.tv_sec += dns->timeout_ms / 1000;
	q->deadline.tv_nsec += (long)(dns->timeout_ms % 1000) * 1000000L;
	if (q->deadline.tv_nsec >= 1000000000L) {
		q->deadline.tv_sec++;
		q->deadline.tv_nsec -= 1000000000L;
	}
	q->started_us = metrics_now_us();
	metrics_inc(MC_DNS_QUERIES, 0);
	pthread_mutex_lock(&dns->lock);
	/*
	 * The same question already with libunbound: wait for its answer
	 * rather than ask again. It costs no new query, so the bound does not
	 * apply.
	 */
	if ((q->lk = lookup_find(dns, name, len, h, rrtype, raw)) != NULL) {
		q->lk->refs++;
		__atomic_add_fetch(&dns->joined, 1, __ATOMIC_SEQ_CST);
		metrics_inc(MC_DNS_JOINED, 0);
	} else
		q->lk = lookup_start(dns, q, name, len, h, rrtype, raw);
	pthread_mutex_unlock(&dns->lock);
	if (q->lk == NULL) {
		q->done = 1;
		count_answer(q, &q->res, metrics_now_us());
	}
	return q;
}

struct dns_query *
dns_txt_start(struct dns *dns, const char *name)
{
	return query_start(dns, name, 16 /* TXT */, 0);
}

/* The caller's deadline on the clock of metrics_now_us (CLOCK_MONOTONIC). */
static uint64_t
deadline_us(const struct dns_query *q)
{
	return (uint64_t)q->deadline.tv_sec * 1000000u +
	    (uint64_t)q->deadline.tv_nsec / 1000u;
}

static void
timed_out(struct dns_query *q)
{
	q->res.status = DNS_TIMEOUT;
	snprintf(q->res.why, sizeof(q->res.why), "DNS timeout after %d ms",
	    q->dns->timeout_ms);
}

const struct dns_result *
dns_query_wait(struct dns_query *q)
{
	struct dns *dns = q->dns;
	uint64_t end_us = 0;

	if (q->done)
		return &q->res;
	pthread_mutex_lock(&dns->lock);
	while (!q->done) {
		struct dns_lookup *lk = q->lk;

		if (lk->done && lk->res.status == DNS_SERVFAIL &&
		    lk->answered_us > deadline_us(q)) {
			/*
			 * libunbound gave up (SERVFAIL) only after this caller's
			 * deadline; the caller came late (it waits at end of
			 * message) or was not scheduled in time. For it the
			 * lookup timed out, as it would have had it waited on
			 * time. A real answer that came late is still used.
			 */
			timed_out(q);
			end_us = deadline_us(q);
		} else if (lk->done) {
			copy_result(&q->res, &lk->res);
			end_us = lk->answered_us;
		} else if (pthread_cond_timedwait(&lk->cond, &dns->lock, &q->deadline) !=
		    ETIMEDOUT || lk->done)
			continue;
		else {
			/* The lookup goes on for anyone who joins it; this caller stops. */
			timed_out(q);
			end_us = metrics_now_us();
		}
		q->done = 1;
		q->lk = NULL;
		lookup_unref(lk);
	}
	pthread_mutex_unlock(&dns->lock);
	count_answer(q, &q->res, end_us);
	return &q->res;
}

void
dns_query_free(struct dns_query *q)
{
	if (q == NULL)
		return;
	/*
	 * Nobody will wait for this answer (the message was aborted, its
	 * connection closed, or it is done). ub_cancel would not help: in
	 * threaded mode it only suppresses the callback while libunbound goes
	 * on resolving, so the lookup would still cost memory and queries but
	 * no longer be counted. The query only lets go of its lookup, which
	 * stays in flight (and joinable) until libunbound is done with it;
	 * its retry settings bound that to about the timeout.
	 */
	if (q->lk != NULL) {
		pthread_mutex_lock(&q->dns->lock);
		/* Answered but never read: it ended for this caller all the same. */
		if (q->lk->done)
			count_answer(q, &q->lk->res, q->lk->answered_us);
		lookup_unref(q->lk);
		pthread_mutex_unlock(&q->dns->lock);
	}
	dns_result_clear(&q->res);
	free(q);
}

int
dns_outstanding(const struct dns *dns)
{
	return dns ? __atomic_load_n(&dns->outstanding, __ATOMIC_SEQ_CST) : 0;
}

unsigned long
dns_refused(const struct dns *dns)
{
	return dns ? __atomic_load_n(&dns->refused, __ATOMIC_SEQ_CST) : 0;
}

unsigned long
dns_joined(const struct dns *dns)
{
	return dns ? __atomic_load_n(&dns->joined, __ATOMIC_SEQ_CST) : 0;
}

void
dns_set_max_outstanding(struct dns *dns, int max)
{
	char n[16];

	pthread_mutex_lock(&dns->lock);
	dns->max_outstanding = max > 0 ? max : DNS_MAX_OUTSTANDING_DEFAULT;
	/* Without memory the smaller table still works, with longer chains. */
	(void)buckets_size(dns);
	pthread_mutex_unlock(&dns->lock);
	/*
	 * libunbound's own limit on queries it works on must not be the
	 * tighter one, or it would drop lookups we let through. Only possible
	 * before the first lookup; later the earlier setting stays.
	 */
	snprintf(n, sizeof(n), "%d", dns->max_outstanding + 64);
	(void)ub_ctx_set_option(dns->ub, "num-queries-per-thread:", n);
}

/* Wait for q and move its result into out (then free q). */
static void
wait_move(struct dns_query *q, struct dns_result *out)
{
	memset(out, 0, sizeof(*out));
	if (q == NULL) {
		out->status = DNS_ERROR;
		snprintf(out->why, sizeof(out->why), "out of memory");
		return;
	}
	/* The result is the caller's own copy: move it, the query keeps nothing. */
	*out = *dns_query_wait(q);
	q->res.txt = NULL;
	q->res.txtlen = NULL;
	q->res.n = 0;
	dns_query_free(q);
}

void
dns_txt(struct dns *dns, const char *name, struct dns_result *out)
{
	wait_move(dns_txt_start(dns, name), out);
}

void
dns_query_type(struct dns *dns, const char *name, int rrtype, struct dns_result *out)
{
	wait_move(query_start(dns, name, rrtype, 1), out);
}
