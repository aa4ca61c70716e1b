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
#include "dns.h"
#include "keycache.h"

struct snap {
	int refs;
	struct conf *conf;
	struct dns *dns;
	struct align *align;
	struct keycache *keys;	/* parsed key records seen in DNS */
	int *succ_active;	/* per key: signing with the successor (atomic) */
	char *succ_logged;	/* per key: "still waiting" already logged (main thread) */
};

/* Takes over the caller's reference to c. NULL with err on failure. */
struct snap *snap_create(struct conf *c, char *err, size_t errlen);
struct snap *snap_ref(struct snap *s);
/* Thread-safe; the last reference frees everything. Accepts NULL. */
void snap_unref(struct snap *s);

#endif
