/*
 * keywatch.h - the daemon watches its own keys in DNS.
 *
 * At start and on reload every key-table entry is checked as a receiver
 * would see it (the checks of dkimctl testkey -k); problems are logged, and
 * with key_check = "require" they stop the start or the reload. A key with
 * a successor switches to it only once the successor's public key is
 * visible in DNS and matches, and its planned time has come; until then the
 * old key keeps signing and the log says why. The switch time is recorded
 * under state_dir so dkimctl testkey can say when the old record may go.
 */
#ifndef DKIMGATE_KEYWATCH_H
#define DKIMGATE_KEYWATCH_H

#include <time.h>

#include "metrics.h"
#include "snap.h"

/*
 * Check every key of s now (logging each problem and a summary line) and
 * decide each successor; for key_check = "require", which must know before
 * serving. Returns the number of keys whose record is missing or does not
 * match. Main thread.
 */
int keywatch_check_all(struct snap *s, time_t now);
/*
 * Decide each successor, then check every key of s in a thread of its own
 * at key_check_rate keys a second, so that serving never waits for DNS; a
 * "keycheck summary" line (checked, ok, missing, mismatching, unknown)
 * ends the pass. Nothing is checked with key_check = "off". Main thread.
 */
void keywatch_start(struct snap *s, time_t now);
/* Ask s's background pass to end after the key in hand (s is being replaced). */
void keywatch_stop(struct snap *s);

/*
 * The key-check results of s so far, for the metrics and anyone else: the
 * counts in *out, and, when fn is not NULL, fn called for every key (of
 * dkimgate.conf, key directories and OpenDKIM tables, in order) with its
 * state (MKS_UNCHECKED until checked). Thread-safe; s must stay referenced.
 */
struct keywatch_counts {
	size_t keys, checked, ok, missing, mismatching, unknown;
	int done;		/* the pass is over (or was stopped) */
};
typedef void (*keywatch_state_fn)(void *arg, const struct conf_key *k,
    enum metrics_keystate st);
void keywatch_results(const struct snap *s, keywatch_state_fn fn, void *arg,
    struct keywatch_counts *out);

/* Free the check state of a snapshot (snap_unref calls it). Accepts NULL. */
struct keywatch_scan;
void keywatch_scan_free(struct keywatch_scan *sc);
/* Re-decide successors not yet in use (called periodically). */
void keywatch_poll(struct snap *s, time_t now);
/* 1 when key k signs with its successor now. Thread-safe. */
int keywatch_uses_successor(const struct snap *s, size_t k);

#endif
