/*
 * msg.c - split a fuzz input into header fields and body the way dkimctl
 * reads a message file (msgfile.c), so the reader is fuzzed as well, and
 * feed a body to a session in chunks (see fuzz.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim.h"
#include "fuzz.h"
#include "msgfile.h"

#define FIELDS_MAX 8192

static int
on_header(void *arg, const char *f, size_t n)
{
	struct fuzz_msg *m = arg;

	if (m->n == FIELDS_MAX)
		return 0;	/* far past the engine's own limit */
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		char **nf = realloc(m->fields, cap * sizeof(*nf));
		size_t *nl;

		if (nf == NULL)
			fuzz_fail("out of memory");
		m->fields = nf;
		if ((nl = realloc(m->lens, cap * sizeof(*nl))) == NULL)
			fuzz_fail("out of memory");
		m->lens = nl;
		m->cap = cap;
	}
	m->fields[m->n] = f ? fuzz_memdup((const uint8_t *)f, n) : NULL;
	m->lens[m->n] = n;
	m->n++;
	return 0;
}

static int
on_eoh(void *arg)
{
	return 0;
}

static int
on_body(void *arg, const char *p, size_t n)
{
	struct fuzz_msg *m = arg;

	if (buf_append(&m->body, p, n) < 0)
		fuzz_fail("body too large");
	return 0;
}

void
fuzz_msg_split(struct fuzz_msg *m, const uint8_t *data, size_t size)
{
	struct msgfile_cb cb = { on_header, on_eoh, on_body };
	char err[256];
	FILE *fp;
	int crlf;

	memset(m, 0, sizeof(*m));
	buf_init(&m->body, 64 * 1024 * 1024);
	if (size == 0)
		return;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "rb")) == NULL)
		fuzz_fail("fmemopen failed");
	if (msgfile_read(fp, &cb, m, &crlf, err, sizeof(err)) != 0)
		fuzz_fail("msgfile_read: %s", err);
	fclose(fp);
}

void
fuzz_msg_free(struct fuzz_msg *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->fields[i]);
	free(m->fields);
	free(m->lens);
	buf_release(&m->body);
}

void
fuzz_msg_headers(struct dkim *d, const struct fuzz_msg *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->fields[i] == NULL)
			dkim_header_overflow(d);
		else
			(void)dkim_header(d, m->fields[i], m->lens[i]);
	}
}

void
fuzz_msg_body(struct dkim *d, const struct fuzz_msg *m, uint64_t seed)
{
	const char *p = m->body.data;
	size_t left = m->body.len, n;

	if (seed == 0) {
		if (left > 0)
			(void)dkim_body(d, p, left);
		return;
	}
	while (left > 0) {
		uint64_t r = fuzz_rand(&seed);

		/* Mostly small pieces, so CR LF pairs and dots are split often. */
		n = (r & 3) == 0 ? 1 + (size_t)(r >> 8) % 4096 : 1 + (size_t)(r >> 8) % 7;
		if (n > left)
			n = left;
		(void)dkim_body(d, p, n);
		p += n;
		left -= n;
	}
}
