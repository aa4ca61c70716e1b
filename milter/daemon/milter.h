/*
 * milter.h - the libmilter glue: callbacks, per-connection and per-message
 * contexts. The only module that includes libmilter's header.
 */
#ifndef DKIMGATE_MILTER_H
#define DKIMGATE_MILTER_H

#include "snap.h"

/*
 * Register the filter and open the socket (before privileges are dropped).
 * The initial snapshot's reference passes to the milter. 0, or -1 with err.
 */
int milter_setup(struct snap *initial, char *err, size_t errlen);
/* Serve until milter_stop; returns libmilter's status. Blocks. */
int milter_serve(void);
/*
 * Shutting down: from now on every new message gets a tempfail at MAIL
 * FROM, while those in flight go on. Thread- and signal-context-safe.
 */
void milter_drain(void);
/*
 * Stop libmilter. With Debian's libmilter (worker pool) this also ends every
 * session waiting for the MTA, in flight or not: drain first.
 */
void milter_stop(void);
/* Swap in a new snapshot (takes the reference); messages in flight keep theirs. */
void milter_swap(struct snap *s);
/* Messages between MAIL FROM and their end right now. */
int milter_inflight(void);
/* Drop the current snapshot (at exit). */
void milter_cleanup(void);

#endif
