/*
 * msgfile.c - streaming message reader (see msgfile.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "bounds.h"
#include "msgfile.h"

#define CHUNK 65536

struct reader {
	const struct msgfile_cb *cb;
	void *arg;
	struct buf field;	/* header field being assembled */
	struct buf line;	/* a line cut by a chunk boundary */
	int overflow;		/* current field passed the limit */
	int have_field;
	int line_over;		/* the line being assembled passed the limit */
};

static int
flush_field(struct reader *r)
{
	int rc = 0;

	if (r->have_field) {
		if (r->overflow)
			rc = r->cb->header(r->arg, NULL, 0);
		else
			rc = r->cb->header(r->arg, r->field.data, r->field.len);
	}
	buf_reset(&r->field);
	r->overflow = 0;
	r->have_field = 0;
	return rc;
}

/* One header line without its line end. Returns 1 at the empty line. */
static int
header_line(struct reader *r, const char *p, size_t n, int *rc)
{
	if (n == 0) {
		*rc = flush_field(r);
		return 1;
	}
	if ((p[0] == ' ' || p[0] == '\t') && r->have_field) {
		if (!r->overflow && (buf_append(&r->field, "\r\n", 2) < 0 ||
		    buf_append(&r->field, p, n) < 0))
			r->overflow = 1;
		return 0;
	}
	if ((*rc = flush_field(r)) != 0)
		return 0;
	r->have_field = 1;
	if (buf_append(&r->field, p, n) < 0)
		r->overflow = 1;
	return 0;
}

int
msgfile_read(FILE *fp, const struct msgfile_cb *cb, void *arg, int *crlf, char *err,
    size_t errlen)
{
	static const size_t chunk = CHUNK;
	char data[CHUNK];
	struct reader r;
	int in_header = 1, first = 1, rc = 0;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.cb = cb;
	r.arg = arg;
	buf_init(&r.field, LIMIT_HEADER_FIELD);
	buf_init(&r.line, LIMIT_HEADER_FIELD);
	*crlf = 0;
	while (rc == 0 && (n = fread(data, 1, chunk, fp)) > 0) {
		size_t i = 0;

		while (in_header && i < n && rc == 0) {
			const char *lf = memchr(data + i, '\n', n - i);
			const char *lp;
			size_t ln;

			if (lf == NULL) {
				/*
				 * Keep the partial line for the next chunk (bounded);
				 * nothing more of a line already too long, or its tail
				 * would be taken for the start of the next line.
				 */
				if (!r.line_over && buf_append(&r.line, data + i, n - i) < 0) {
					r.line_over = 1;
					buf_reset(&r.line);
				}
				i = n;
				break;
			}
			if (r.line_over) {
				/* An overlong line is a field of its own, reported as dropped. */
				r.line_over = 0;
				if ((rc = flush_field(&r)) != 0)
					break;
				r.have_field = 1;
				r.overflow = 1;
				i = (size_t)(lf - data) + 1;
				first = 0;
				continue;
			}
			if (r.line.len > 0) {
				if (buf_append(&r.line, data + i, (size_t)(lf - data) - i) < 0) {
					r.line_over = 1;
					buf_reset(&r.line);
					i = (size_t)(lf - data);
					continue;
				}
				lp = r.line.data ? r.line.data : "";
				ln = r.line.len;
			} else {
				lp = data + i;
				ln = (size_t)(lf - data) - i;
			}
			if (ln > 0 && lp[ln - 1] == '\r') {
				ln--;
				if (first)
					*crlf = 1;
			}
			first = 0;
			i = (size_t)(lf - data) + 1;
			if (header_line(&r, lp, ln, &rc)) {
				in_header = 0;
				if (rc == 0)
					rc = cb->eoh(arg);
			}
			buf_reset(&r.line);
		}
		if (!in_header && i < n && rc == 0)
			rc = cb->body(arg, data + i, n - i);
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "read error: %s", strerror(errno));
		rc = -1;
	} else if (rc == 0 && in_header) {
		/* No empty line: the whole input is header, the body is empty. */
		if (r.line_over) {
			/* It ended inside an overlong line: a dropped field. */
			rc = flush_field(&r);
			r.have_field = 1;
			r.overflow = 1;
		} else if (r.line.len > 0) {
			size_t ln = r.line.len;

			if (r.line.data[ln - 1] == '\r')
				ln--;
			header_line(&r, r.line.data, ln, &rc);
		}
		if (rc == 0)
			rc = flush_field(&r);
		if (rc == 0)
			rc = cb->eoh(arg);
	}
	buf_release(&r.field);
	buf_release(&r.line);
	return rc;
}
