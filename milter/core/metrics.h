/*
 * metrics.h - the daemon's counters, gauges and latency histograms, and
 * their Prometheus text exposition.
 *
 * One set per process. Counting is a relaxed atomic add on a fixed slot:
 * no lock, no allocation, safe from any thread (milter workers, the DNS
 * driver, the main thread) and from library code that has no other way to
 * reach the daemon (dns.c, keycache.c). The storage is zero-initialised
 * static memory, so a program that never serves the numbers (dkimctl, the
 * unit tests) may count without setting anything up; why one instance and
 * not a struct passed around: every layer counts, and threading a pointer
 * through every API for write-only statistics would couple them all.
 *
 * Label sets are fixed at compile time (no per-domain labels, so
 * cardinality stays bounded whatever the key table holds), except the
 * per-key gauges, which keep at most the top N keys given by the caller
 * (metrics_keys), keys with a problem first.
 *
 * metrics_write renders everything in the text exposition format 0.0.4;
 * it only reads atomics, plus the key table under its own mutex, which no
 * milter thread ever takes.
 */
#ifndef DKIMGATE_METRICS_H
#define DKIMGATE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Counter families, each with a fixed label set (see metrics.c). */
enum metrics_counter {
	MC_MESSAGES,		/* decision: sign, verify, pass-unsigned */
	MC_ACTIONS,		/* action: accept, reject, tempfail */
	MC_ABORTED,		/* messages the MTA abandoned before their end */
	MC_SIGNATURES,		/* algorithm: rsa-sha256, ed25519-sha256 */
	MC_SIGN_ERRORS,		/* messages that could not be signed */
	MC_VERIFY_RESULTS,	/* result: pass, fail, neutral, policy, temperror, permerror, none */
	MC_ALIGNMENT,		/* verdict: aligned-pass, unaligned-pass, fail, none, temperror */
	MC_AR_REMOVED,		/* forged Authentication-Results fields deleted */
	MC_DNS_QUERIES,		/* lookups started */
	MC_DNS_ANSWERS,		/* status: ok, nxdomain, nodata, servfail, bogus, timeout, error */
	MC_DNS_DNSSEC,		/* status: secure, insecure, bogus */
	MC_DNS_JOINED,		/* lookups that joined one in flight (no new query) */
	MC_KEY_CACHE,		/* result: hit, miss (parsed key records) */
	MC_DMARC_CACHE,		/* result: hit, miss (RFC 9989 tree walk outcomes) */
	MC_RELOADS,		/* result: success, failure */
	MC__COUNT
};

/* Label values of the families above, in their order. */
enum { MD_SIGN, MD_VERIFY, MD_PASS_UNSIGNED };
enum { MA_ACCEPT, MA_REJECT, MA_TEMPFAIL };
enum { MS_RSA_SHA256, MS_ED25519_SHA256 };
/* Verification results: in the order of enum dkim_status (dkim_result.h). */
enum { MV_NONE, MV_PASS, MV_FAIL, MV_NEUTRAL, MV_POLICY, MV_TEMPERROR, MV_PERMERROR };
enum { MAL_ALIGNED_PASS, MAL_UNALIGNED_PASS, MAL_FAIL, MAL_NONE, MAL_TEMPERROR };
/* DNS answers: in the order of enum dns_status (dns.h). */
enum { MQ_OK, MQ_NXDOMAIN, MQ_NODATA, MQ_SERVFAIL, MQ_BOGUS, MQ_TIMEOUT, MQ_ERROR };
enum { MSEC_SECURE, MSEC_INSECURE, MSEC_BOGUS };
enum { MK_HIT, MK_MISS };
enum { MR_SUCCESS, MR_FAILURE };

/* Gauges: values that go up and down, or are set. */
enum metrics_gauge {
	MG_MSG_INFLIGHT,	/* messages between MAIL FROM and their end */
	MG_DNS_INFLIGHT,	/* lookups libunbound still holds */
	MG_CONFIG_GENERATION,	/* 1 at start, +1 per configuration applied by reload */
	MG_RELOAD_OK,		/* 1 when the last reload was applied (or none was tried) */
	MG_RELOAD_OK_TIME,	/* Unix time of the last configuration applied */
	MG_START_TIME,		/* Unix time the process started */
	MG__COUNT
};

/* Latency histograms (fixed buckets, seconds). */
enum metrics_hist {
	MH_EOM_SIGN,		/* end of message, signing */
	MH_EOM_VERIFY,		/* end of message, verifying (waits for DNS) */
	MH_DNS,			/* one lookup, start to answer or timeout */
	MH__COUNT
};

/* Bucket upper bounds, in microseconds; +Inf is implicit. */
#define METRICS_NBUCKETS 14

void metrics_add(enum metrics_counter c, unsigned label, uint64_t n);
#define metrics_inc(c, label) metrics_add((c), (label), 1)
void metrics_gauge_add(enum metrics_gauge g, int64_t n);
void metrics_gauge_set(enum metrics_gauge g, int64_t v);
/* Record one duration in microseconds. */
void metrics_observe(enum metrics_hist h, uint64_t usec);
/* Monotonic clock in microseconds, for durations. */
uint64_t metrics_now_us(void);

/* Values as stored (for tests and for callers that report them). */
uint64_t metrics_counter_value(enum metrics_counter c, unsigned label);
int64_t metrics_gauge_value(enum metrics_gauge g);
uint64_t metrics_hist_count(enum metrics_hist h);

/*
 * A counter family's series name and label name (NULL: unlabelled), the
 * number of its label values and the name of one; static strings, NULL
 * when out of range.
 */
const char *metrics_counter_name(enum metrics_counter c);
const char *metrics_counter_label(enum metrics_counter c);
unsigned metrics_nlabels(enum metrics_counter c);
const char *metrics_label(enum metrics_counter c, unsigned label);

/*
 * Key states, as the daemon's key checks saw them. A state set is built
 * off to the side (metrics_keys_create, metrics_keys_add) and then swapped
 * in whole (metrics_keys_publish), so a scrape never sees half of one.
 */
enum metrics_keystate { MKS_OK, MKS_MISSING, MKS_MISMATCH, MKS_UNKNOWN, MKS_UNCHECKED,
	MKS__COUNT };
enum metrics_rotation { MRO_NONE, MRO_WAITING, MRO_SWITCHED, MRO__COUNT };

struct metrics_keys;

/* A set that keeps per-key entries for at most topn keys; NULL when out of memory. */
struct metrics_keys *metrics_keys_create(size_t topn);
/*
 * Count one key; its own entry is kept while there is room, and a key with
 * a problem takes the place of one without. -1 when out of memory (the key
 * is still counted). id is copied.
 */
int metrics_keys_add(struct metrics_keys *mk, const char *id, enum metrics_keystate st,
    enum metrics_rotation rot);
/* Swap mk in (ownership passes; the previous set is freed). Thread-safe. */
void metrics_keys_publish(struct metrics_keys *mk);
/* Key id moves from one rotation state to another. Thread-safe. */
void metrics_keys_rotation(const char *id, enum metrics_rotation from,
    enum metrics_rotation to);
void metrics_keys_free(struct metrics_keys *mk);

/* build_info's version label; a static string. Call once at start-up. */
void metrics_set_version(const char *version);

/*
 * Append the exposition text to out. 0, or -1 when out's maximum was
 * reached (the text is then incomplete and must not be served).
 * Thread-safe.
 */
int metrics_write(struct buf *out);

/* Zero every counter, gauge, histogram and the key set (tests only). */
void metrics_reset(void);

#endif
