/*
 * buf.c - bounded string builder (see buf.h for the contract).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

struct buf *
buf_create(size_t max)
{
	struct buf *b = malloc(sizeof(*b));

	if (b != NULL)
		buf_init(b, max);
	return b;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	buf_release(b);
	free(b);
}

/* Make room for n more bytes plus the terminator. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t want, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return -1;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_vreport(struct buf *b, const char *fmt, va_list ap)
{
	size_t len = b->len, cut = sizeof(BUF_REPORT_CUT) - 1, keep;

	if (b->len >= cut && memcmp(b->data + b->len - cut, BUF_REPORT_CUT, cut) == 0)
		return;		/* already cut: later lines are left out too */
	if (buf_vprintf(b, fmt, ap) == 0 && buf_putc(b, '\n') == 0)
		return;
	buf_truncate(b, len);
	if (b->max < cut)
		return;		/* the mark can never fit: keep what did */
	/* Make room for the mark by dropping whole lines from the end. */
	while (buf_puts(b, BUF_REPORT_CUT) < 0) {
		if (b->len == 0)
			return;		/* not even the mark fits */
		for (keep = b->len - 1; keep > 0 && b->data[keep - 1] != '\n'; keep--)
			;
		buf_truncate(b, keep);
	}
}

void
buf_report(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vreport(b, fmt, ap);
	va_end(ap);
}

void
buf_vreport_at(struct buf *b, const char *file, int line, const char *fmt, va_list ap)
{
	struct buf text;
	char *p;

	buf_init(&text, 4096);
	if (buf_vprintf(&text, fmt, ap) < 0 && buf_puts(&text, "(reason too long)") < 0)
		buf_truncate(&text, 0);
	for (p = text.data; p != NULL && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	buf_report(b, "%s:%d: %s", file, line, buf_str(&text));
	buf_release(&text);
}

void
buf_report_at(struct buf *b, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vreport_at(b, file, line, fmt, ap);
	va_end(ap);
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->data[n] = '\0';
	}
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

size_t
str_copy(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);

	if (dstlen > 0) {
		size_t c = n < dstlen - 1 ? n : dstlen - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}
