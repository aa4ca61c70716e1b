/*
 * buf.h - bounded, always-terminated byte and string builder.
 *
 * A struct buf grows on demand up to the maximum given at creation; an append
 * that would pass it fails and leaves the contents unchanged. Every append
 * returns 0 on success and -1 on failure (over the maximum, or out of memory),
 * and callers must check it. Not thread-safe: one owner at a time.
 */
#ifndef DKIMGATE_BUF_H
#define DKIMGATE_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;	/* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;	/* hard ceiling on len */
};

/* Initialise an embedded buffer; nothing is allocated until the first append. */
void buf_init(struct buf *b, size_t max);
/* Release the storage of an embedded buffer; the struct may be reused after buf_init. */
void buf_release(struct buf *b);

/* Heap-allocated buffer; NULL when out of memory. buf_free accepts NULL. */
struct buf *buf_create(size_t max);
void buf_free(struct buf *b);

/*
 * The appends. Their status cannot be ignored: the compiler warns about a
 * call whose result is not used (a cast to void does not silence it).
 */
#define BUF_MUST_CHECK __attribute__((warn_unused_result))
int buf_append(struct buf *b, const void *p, size_t n) BUF_MUST_CHECK;
int buf_puts(struct buf *b, const char *s) BUF_MUST_CHECK;
int buf_putc(struct buf *b, char c) BUF_MUST_CHECK;
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) BUF_MUST_CHECK;
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0))) BUF_MUST_CHECK;

/*
 * Reports: lists of problems or explanations, one line each. buf_report
 * appends fmt and a line end. A report past its maximum keeps the lines
 * that fit and ends with the line BUF_REPORT_CUT once, so whoever reads it
 * knows it is incomplete; out of memory is treated the same way. That is
 * the whole of the failure handling, so nothing is returned.
 */
#define BUF_REPORT_CUT "(more lines left out: the report is full)\n"
void buf_report(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vreport(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * A report line "file:line: reason" (a problem with a file): control
 * characters in the reason become '?', so a value quoted from the file
 * cannot break the line; a reason longer than a line buffer is cut.
 */
void buf_report_at(struct buf *b, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void buf_vreport_at(struct buf *b, const char *file, int line, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

/* Empty the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Shorten to n bytes (n <= len). */
void buf_truncate(struct buf *b, size_t n);
/* The contents as a C string; "" for a buffer that never held anything. */
const char *buf_str(const struct buf *b);
/* Take ownership of the storage (caller frees); the buffer is left empty. */
char *buf_steal(struct buf *b);

/* Copy src into dst of size dstlen, always terminating; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t dstlen);

#endif
