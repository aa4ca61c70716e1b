/*
 * snap.h - a running configuration: the conf snapshot plus what is built
 * from it (the DNS resolver, the public suffix list). Reference-counted;
 * each message holds the snapshot it started with, reload swaps in a new one.
 */
#ifndef DKIMGATE_SNAP_H
#define DKIMGATE_SNAP_H

#include <stddef.h>

#include "align.h"
#include "conf.h"
#include "dmarcwalk.h"
#include "dns.h"
#include "keycache.h"
#include "privcache.h"

struct keywatch_scan;

struct snap {
	int refs;
	struct conf *conf;
	struct dns *dns;
	struct align *align;
	struct keycache *keys;	/* parsed key records seen in DNS */
	struct privcache *privkeys;	/* decoded signing keys, shared across reloads */
	struct dmarcwalk_cache *walks;	/* DMARC tree walk outcomes */
	int *succ_active;	/* per key: signing with the successor (atomic) */
	char *succ_logged;	/* per key: "still waiting" already logged (main thread) */
	/*
	 * Key-check states, kept by the daemon's key watcher (keywatch.c) and
	 * freed through scan_free, so this module needs nothing of it.
	 */
	struct keywatch_scan *scan;
	void (*scan_free)(struct keywatch_scan *scan);
};

/*
 * Takes over the caller's reference to c. prev (may be NULL) is the running
 * snapshot: its decoded keys are kept when key_cache_size did not change.
 * NULL with err on failure.
 */
struct snap *snap_create(struct conf *c, const struct snap *prev, char *err, size_t errlen);

/*
 * The private key of k (decoded by conf_load, or through the cache), with
 * a reference for the caller; succ: the successor's. NULL with err when it
 * cannot be had; *fresh is 1 the first time that failure is seen.
 */
struct crypto_key *snap_signing_key(const struct snap *s, const struct conf_key *k,
    int succ, char *err, size_t errlen, int *fresh);
struct snap *snap_ref(struct snap *s);
/* Thread-safe; the last reference frees everything. Accepts NULL. */
void snap_unref(struct snap *s);

#endif
