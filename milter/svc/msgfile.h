/*
 * msgfile.h - read an RFC 5322 message from a stream in constant memory.
 *
 * Header fields are delivered whole (continuation lines joined with CRLF,
 * no final line end); the body is delivered in chunks exactly as read.
 * LF and CRLF files are both accepted. Not thread-safe per call.
 */
#ifndef DKIMGATE_MSGFILE_H
#define DKIMGATE_MSGFILE_H

#include <stddef.h>
#include <stdio.h>

struct msgfile_cb {
	/* field == NULL: a field longer than the header limit was dropped. */
	int (*header)(void *arg, const char *field, size_t len);
	int (*eoh)(void *arg);
	int (*body)(void *arg, const char *p, size_t n);
};

/*
 * Read fp to the end. A callback returning non-zero stops the reading and
 * is returned. Returns 0, a callback's value, or -1 on a read error (err
 * set). *crlf is set to 1 when the first line ended in CRLF.
 */
int msgfile_read(FILE *fp, const struct msgfile_cb *cb, void *arg, int *crlf,
    char *err, size_t errlen);

#endif
