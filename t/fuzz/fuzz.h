/*
 * fuzz.h - what the fuzz harnesses in t/fuzz share.
 *
 * Each harness defines LLVMFuzzerTestOneInput for one input surface and
 * checks properties of what the code under test returns; a broken property
 * is reported with fuzz_fail, which aborts so libFuzzer keeps the input.
 * With --enable-fuzz a harness links libFuzzer; in every build it also
 * links replay.c, which feeds it saved inputs, so make check replays the
 * seed corpus and every reproducer in t/fuzz/regress.
 *
 * Harnesses initialise lazily on their first input (no global
 * constructors) and must not leak across inputs: LeakSanitizer runs at the
 * end of every libFuzzer and replay run.
 */
#ifndef DKIMGATE_FUZZ_H
#define DKIMGATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The fixed clock of every session, so results do not depend on the day. */
#define FUZZ_NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated heap copy of data (caller frees); aborts when out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);
/* An exact-size heap copy (no terminator), so ASan sees any over-read. */
char *fuzz_memdup(const uint8_t *data, size_t size);

/* Report a broken property and abort. */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A cursor over the input, for harnesses that read structured data. */
struct fuzz_rd {
	const uint8_t *p;
	size_t n;
};
/* Next byte, 0 when the input is used up. */
unsigned fuzz_byte(struct fuzz_rd *r);
/* Next string up to a NUL byte (or the end), at most max bytes; caller frees. */
char *fuzz_str(struct fuzz_rd *r, size_t max);

/* The directory holding t/data (compiled in; FUZZ_DATA_DIR overrides). */
const char *fuzz_data_dir(void);

/*
 * Check an Authentication-Results field as dkimgate writes it, holding
 * nresults results, or any number for (size_t)-1 (archeck.c). 0, or -1
 * with why.
 */
int fuzz_check_authres(const char *field, size_t len, size_t nresults, char *why,
    size_t whylen);

/*
 * A message split into header fields and body by msgfile (msg.c): fields[i]
 * is NULL for a field dropped as too large.
 */
struct dkim;
struct fuzz_msg {
	char **fields;
	size_t *lens;
	size_t n, cap;
	struct buf body;
};
void fuzz_msg_split(struct fuzz_msg *m, const uint8_t *data, size_t size);
void fuzz_msg_free(struct fuzz_msg *m);
/* Give the fields to a session, and the body: whole (seed 0) or in random chunks. */
void fuzz_msg_headers(struct dkim *d, const struct fuzz_msg *m);
void fuzz_msg_body(struct dkim *d, const struct fuzz_msg *m, uint64_t seed);

/* A small deterministic generator for chunk sizes. */
uint64_t fuzz_hash(const uint8_t *data, size_t size);
uint64_t fuzz_rand(uint64_t *state);

#endif
