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

#include "snap.h"

/*
 * Check every key of s (logging each problem) and decide each successor.
 * Returns the number of keys whose record is missing or does not match.
 */
int keywatch_check_all(struct snap *s, time_t now);
/* Re-decide successors not yet in use (called periodically). */
void keywatch_poll(struct snap *s, time_t now);
/* 1 when key k signs with its successor now. Thread-safe. */
int keywatch_uses_successor(const struct snap *s, size_t k);

/*
 * Path of the file recording when key id switched to selector succ
 * (state_dir/rotated-ID-SELECTOR) into out; -1 when state_dir is "" or
 * the path does not fit.
 */
int keywatch_state_path(const char *state_dir, const char *id, const char *succ,
    char *out, size_t outlen);

#endif
