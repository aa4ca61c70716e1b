/*
 * testutil.h - helpers shared by the Check suites in t/unit.
 *
 * Fixtures are read from t/data (found through $top_srcdir, which the test
 * harness exports, or the source path compiled in). Every helper aborts the
 * running test case with a message when something it needs is missing, so a
 * broken fixture shows up as a failed case, not a crash. Returned memory is
 * malloc'd and owned by the caller.
 */
#ifndef DKIMGATE_TESTUTIL_H
#define DKIMGATE_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/*
 * Abort the test case unless expr is 0. For hot loops: ck_assert_* records
 * its location on every success (a write to the parent in fork mode), which
 * dominates the run time of loops over millions of bytes.
 */
#define TU_OK(expr) do { \
	if ((expr) != 0) \
		ck_abort_msg("%s failed at %s:%d", #expr, __FILE__, __LINE__); \
} while (0)

/* Full path of fixture name. */
char *tu_data_path(const char *name);
/* Whole fixture file, NUL-terminated; *len gets its length (may be NULL). */
char *tu_read_data(const char *name, size_t *len);
/* Private key from a PEM fixture. */
struct crypto_key *tu_load_key(const char *name);
/* "v=DKIM1; k=rsa; p=..." for the public half of k, then extra (may be NULL). */
char *tu_key_record(const struct crypto_key *k, const char *extra);
/* Base64 of p[0..n), NUL-terminated. */
char *tu_b64(const unsigned char *p, size_t n);
/* base64(SHA-256(p[0..n))), as bh= carries it. */
char *tu_sha256_b64(const void *p, size_t n);

/*
 * Write text to a fresh file (mkstemp under $TMPDIR or /tmp, mode 0600) and
 * return its malloc'd path; the caller unlinks and frees it.
 */
char *tu_write_tmp(const char *text);

/* Deterministic PRNG (xorshift64*): the same seed gives the same cases. */
uint64_t tu_rand(uint64_t *state);
/* Uniform-enough value in [0, n). */
size_t tu_rand_below(uint64_t *state, size_t n);

/*
 * A test case with a timeout that leaves room for sanitizer builds on a
 * loaded machine (Check's default is 4 s).
 */
struct TCase;
struct TCase *tu_tcase(const char *name);
/* Run a suite and return the process exit status automake expects. */
struct Suite;
int tu_run(struct Suite *s);

#endif
