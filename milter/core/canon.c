/*
 * canon.c - streaming body canonicalization and header canonicalization.
 *
 * The body machines keep only what a chunk boundary can cut: a CR that may
 * start a CRLF, blanks that may turn out to be trailing, and the count of
 * empty lines that may turn out to be at the end of the body. Stretches of
 * input that canonicalize to themselves are hashed straight from the caller's
 * buffer; only the bytes the rules change go through the staging area. That
 * keeps simple canonicalization close to raw digest speed.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

#define STAGE_SIZE 8192
/* Spans at least this long are hashed in place rather than staged. */
#define DIRECT_MIN 512
/*
 * Bytes the fast paths check at a time (multiples of the vector width: the
 * checks are branch-free loops that compilers vectorize at -O2).
 */
#define SIMPLE_BLOCK 64
#define RELAXED_BLOCK 16

struct canon_body {
	enum canon_alg alg;
	EVP_MD_CTX *md;
	unsigned long long limit;	/* bytes to hash at most */
	unsigned long long hashed;	/* bytes hashed so far */
	unsigned long long total;	/* canonical length, uncapped */
	unsigned long long empty_lines;	/* deferred: may be trailing */
	int pending_cr;			/* last chunk ended in CR */
	int pending_wsp;		/* relaxed: blanks not yet known to be inner */
	int line_content;		/* current line has produced output */
	int failed;
	size_t slen;
	unsigned char stage[STAGE_SIZE];
};

static const char crlfs[] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

struct canon_body *
canon_body_create(enum canon_alg alg, unsigned long long limit, const EVP_MD *md)
{
	struct canon_body *cb = malloc(sizeof(*cb));

	if (cb == NULL)
		return NULL;
	/* The staging area is written before it is read: only the state is zeroed. */
	memset(cb, 0, offsetof(struct canon_body, stage));
	cb->alg = alg;
	cb->limit = limit;
	if ((cb->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(cb->md, md, NULL) != 1) {
		canon_body_free(cb);
		return NULL;
	}
	return cb;
}

void
canon_body_free(struct canon_body *cb)
{
	if (cb == NULL)
		return;
	EVP_MD_CTX_free(cb->md);
	free(cb);
}

static void
stage_flush(struct canon_body *cb)
{
	if (cb->slen > 0) {
		if (EVP_DigestUpdate(cb->md, cb->stage, cb->slen) != 1)
			cb->failed = 1;
		cb->slen = 0;
	}
}

/*
 * Output n canonical bytes, honouring the length limit. Inline: relaxed
 * canonicalization of ordinary text calls it every hundred bytes or so.
 */
static inline void
emit(struct canon_body *cb, const void *p, size_t n)
{
	unsigned long long room;

	cb->total += n;
	if (cb->hashed >= cb->limit)
		return;
	room = cb->limit - cb->hashed;
	if (n > room)
		n = (size_t)room;
	cb->hashed += n;
	if (n >= DIRECT_MIN) {
		stage_flush(cb);
		if (EVP_DigestUpdate(cb->md, p, n) != 1)
			cb->failed = 1;
		return;
	}
	if (cb->slen + n > STAGE_SIZE)
		stage_flush(cb);
	memcpy(cb->stage + cb->slen, p, n);
	cb->slen += n;
}

static void
flush_empty_lines(struct canon_body *cb)
{
	while (cb->empty_lines > 0) {
		size_t k = cb->empty_lines > 16 ? 16 : (size_t)cb->empty_lines;

		emit(cb, crlfs, 2 * k);
		cb->empty_lines -= k;
	}
}

/* A line ended: its CRLF is output now only when the line had content. */
static void
end_line(struct canon_body *cb)
{
	if (cb->line_content)
		emit(cb, "\r\n", 2);
	else
		cb->empty_lines++;
	cb->line_content = 0;
	cb->pending_wsp = 0;
}

/* Content is about to be output: deferred empty lines and blanks come first. */
static void
begin_content(struct canon_body *cb)
{
	if (cb->empty_lines > 0)
		flush_empty_lines(cb);
	if (cb->pending_wsp) {
		emit(cb, " ", 1);
		cb->pending_wsp = 0;
	}
	cb->line_content = 1;
}

/*
 * Simple: 1 when every LF in p[0..SIMPLE_BLOCK) follows a CR, so the block
 * is its own canonical form unless it ends in empty lines at the end of the
 * body. Reads p[-1].
 */
static int
simple_block_clean(const unsigned char *p)
{
	const unsigned char *p1 = p - 1;
	unsigned char bad = 0;
	size_t k;

	for (k = 0; k < SIMPLE_BLOCK; k++)
		bad |= (p[k] == '\n') & (p1[k] != '\r');
	return bad == 0;
}

/*
 * Simple: lines are opaque; only line ends (LF, optionally after CR) matter.
 * A run of complete non-empty CRLF lines is hashed in one piece. Finding
 * them a line at a time (memchr per line) costs about as much as hashing,
 * so stretches of such lines are found a block at a time first.
 */
static void
simple_update(struct canon_body *cb, const unsigned char *p, size_t n)
{
	size_t i = 0, run = 0;	/* run: start of bytes not yet output */
	size_t retry = 0, skip = SIMPLE_BLOCK;	/* when to check blocks again */
	const unsigned char *lf;

	while (i < n) {
		size_t end, cont;

		/*
		 * Clean blocks join the run when no empty lines are held back,
		 * up to their last byte of line content: empty lines followed
		 * by content are their own canonical form, so a CRLF body is
		 * hashed in one piece per chunk. A stretch shorter than two
		 * blocks saves nothing over the line loop, and where blocks
		 * keep failing (LF-only text) they are tried less often.
		 */
		if (i >= 1 && i >= retry && cb->empty_lines == 0 && n - i >= SIMPLE_BLOCK) {
			size_t e = i;

			while (n - e >= SIMPLE_BLOCK && simple_block_clean(p + e))
				e += SIMPLE_BLOCK;
			if (e - i < 2 * SIMPLE_BLOCK)
				e = i;
			while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n'))
				e--;
			skip = e > i ? SIMPLE_BLOCK : skip < 16 * SIMPLE_BLOCK ? 2 * skip : skip;
			retry = e + skip;
			if (e > i) {
				i = e;
				cb->line_content = 1;
				continue;
			}
		}
		lf = memchr(p + i, '\n', n - i);
		if (lf == NULL) {
			/* Partial line: output it, holding back a final CR. */
			end = n;
			if (p[n - 1] == '\r') {
				end = n - 1;
				cb->pending_cr = 1;
			}
			if (i > run)
				emit(cb, p + run, i - run);
			if (end > i) {
				if (!cb->line_content && cb->empty_lines > 0)
					flush_empty_lines(cb);
				emit(cb, p + i, end - i);
				cb->line_content = 1;
			}
			return;
		}
		end = (size_t)(lf - p);
		cont = (end > i && p[end - 1] == '\r') ? end - 1 : end;
		if ((cont > i || cb->line_content) && end > cont && cb->empty_lines == 0) {
			/* Non-empty CRLF line: extend the run. */
			cb->line_content = 0;
			i = end + 1;
			continue;
		}
		/* Output what the run holds, then this line the slow way. */
		if (i > run)
			emit(cb, p + run, i - run);
		if (cont > i) {
			if (!cb->line_content && cb->empty_lines > 0)
				flush_empty_lines(cb);
			emit(cb, p + i, cont - i);
			cb->line_content = 1;
		}
		end_line(cb);
		i = end + 1;
		run = i;
	}
	if (n > run)
		emit(cb, p + run, n - run);
}

/* Byte classes for relaxed canonicalization. */
enum { C_TEXT = 0, C_WSP = 1, C_CR = 2, C_LF = 3 };
static const unsigned char rclass[256] = {
	['\t'] = C_WSP, [' '] = C_WSP, ['\r'] = C_CR, ['\n'] = C_LF,
};

/*
 * Relaxed: 1 unless byte c, between pv and nx, may stay as it is in a run
 * that content follows: it must not be a tab, a SP before a blank, line end
 * or control byte, or a LF without its CR. (A CR not before LF is text.)
 * Branch-free for the vectorizer.
 */
static inline unsigned char
relaxed_bad(unsigned char pv, unsigned char c, unsigned char nx)
{
	return (unsigned char)((c == '\t') | ((c == ' ') & (nx <= ' ')) |
	    ((c == '\n') & (pv != '\r')));
}

/*
 * Relaxed: 1 when no byte of p[0..len) is bad; reads p[-1] to p[len]. Called
 * with constant lengths so that each copy is a vectorized loop.
 */
static inline int
relaxed_clean(const unsigned char *p, size_t len)
{
	const unsigned char *p1 = p - 1, *n1 = p + 1;
	unsigned char bad = 0;
	size_t k;

	for (k = 0; k < len; k++)
		bad |= relaxed_bad(p1[k], p[k], n1[k]);
	return bad == 0;
}

/*
 * Relaxed: blanks collapse to one SP, blanks at line end vanish. A run holds
 * input bytes that are their own canonical form: text, single SPs between
 * text, CRLF after text, and empty lines once content follows them. The
 * byte machine below costs several times the digest, so inside a run clean
 * stretches are first skipped a block at a time.
 */
static void
relaxed_update(struct canon_body *cb, const unsigned char *p, size_t n)
{
	size_t i = 0, run = 0, retry = 0;
	int in_run = 0;

	while (i < n) {
		unsigned char c;

		/*
		 * The stretch ends at its last byte of line content (not a
		 * blank or line end), so what it holds is followed by content;
		 * the machine resumes there in the same state as after text.
		 */
		if (in_run && i >= 1 && i >= retry && n - i > RELAXED_BLOCK) {
			size_t e = i;

			while (n - e > RELAXED_BLOCK && relaxed_clean(p + e, RELAXED_BLOCK))
				e += RELAXED_BLOCK;
			/* Narrow down to the bad byte: half a block, then bytes. */
			if (n - e > RELAXED_BLOCK / 2 && relaxed_clean(p + e, RELAXED_BLOCK / 2))
				e += RELAXED_BLOCK / 2;
			while (e + 1 < n && (p[e] > ' ' || !relaxed_bad(p[e - 1], p[e], p[e + 1])))
				e++;
			/* Blanks before text, the usual bad byte: one SP, same run. */
			if (p[e] == ' ' || p[e] == '\t') {
				size_t j = e + 1;

				while (j < n && (p[j] == ' ' || p[j] == '\t'))
					j++;
				if (j < n && p[j] > ' ') {
					if (p[e] == ' ')
						emit(cb, p + run, e + 1 - run);
					else {
						emit(cb, p + run, e - run);
						emit(cb, " ", 1);
					}
					run = i = j;
					continue;
				}
			}
			retry = e + 1;
			while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
				e--;
			if (e > i) {
				i = e;
				cb->line_content = 1;
				continue;
			}
		}
		c = p[i];

		switch (rclass[c]) {
		case C_TEXT:
			if (!in_run) {
				begin_content(cb);
				run = i;
				in_run = 1;
			}
			cb->line_content = 1;
			i++;
			continue;
		case C_WSP:
			if (in_run && c == ' ' && i + 1 < n && rclass[p[i + 1]] == C_TEXT) {
				i++;
				continue;
			}
			if (in_run) {
				size_t j = i + 1;

				/* Blanks between text become one SP without leaving the run. */
				while (j < n && rclass[p[j]] == C_WSP)
					j++;
				if (j < n && rclass[p[j]] == C_TEXT) {
					if (c == ' ')
						emit(cb, p + run, i + 1 - run);
					else {
						emit(cb, p + run, i - run);
						emit(cb, " ", 1);
					}
					run = i = j;
					continue;
				}
				emit(cb, p + run, i - run);
				in_run = 0;
			}
			cb->pending_wsp = 1;
			i++;
			continue;
		case C_CR:
			if (i + 1 == n) {
				if (in_run)
					emit(cb, p + run, i - run);
				cb->pending_cr = 1;
				return;
			}
			if (p[i + 1] != '\n') {
				/* A lone CR is text. */
				if (!in_run) {
					begin_content(cb);
					run = i;
					in_run = 1;
				}
				cb->line_content = 1;
				i++;
				continue;
			}
			if (in_run && cb->line_content) {
				/* "text CRLF" is already canonical. */
				cb->line_content = 0;
				i += 2;
				continue;
			}
			if (in_run) {
				emit(cb, p + run, i - run);
				in_run = 0;
			}
			end_line(cb);
			i += 2;
			continue;
		default:	/* bare LF: a line end that must become CRLF */
			if (in_run) {
				emit(cb, p + run, i - run);
				in_run = 0;
			}
			end_line(cb);
			i++;
			continue;
		}
	}
	if (in_run)
		emit(cb, p + run, n - run);
}

int
canon_body_update(struct canon_body *cb, const void *data, size_t n)
{
	const unsigned char *p = data;

	if (n == 0)
		return cb->failed ? -1 : 0;
	if (cb->pending_cr) {
		cb->pending_cr = 0;
		if (p[0] == '\n') {
			end_line(cb);
			p++;
			n--;
		} else {
			begin_content(cb);
			emit(cb, "\r", 1);
		}
	}
	/* Once the limit is reached only the length is still needed, but the
	 * machines are cheap compared to hashing, so they keep running. */
	if (n > 0) {
		if (cb->alg == CANON_SIMPLE)
			simple_update(cb, p, n);
		else
			relaxed_update(cb, p, n);
	}
	return cb->failed ? -1 : 0;
}

int
canon_body_final(struct canon_body *cb, unsigned char *md, unsigned int *mdlen)
{
	if (cb->pending_cr) {
		cb->pending_cr = 0;
		begin_content(cb);
		emit(cb, "\r", 1);
	}
	/* An unterminated last line gets its CRLF; trailing empty lines vanish. */
	if (cb->line_content)
		emit(cb, "\r\n", 2);
	/* Simple: an empty body is one CRLF. Relaxed: it stays empty. */
	if (cb->alg == CANON_SIMPLE && cb->total == 0)
		emit(cb, "\r\n", 2);
	stage_flush(cb);
	if (cb->failed || EVP_DigestFinal_ex(cb->md, md, mdlen) != 1)
		return -1;
	return 0;
}

unsigned long long
canon_body_length(const struct canon_body *cb)
{
	return cb->total;
}

static int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Output goes out in spans rather than a byte at a time: with a bounded
 * append per byte, header canonicalization was about 5% of the cost of
 * signing a small message with Ed25519.
 */
int
canon_header(enum canon_alg alg, const char *f, size_t len, struct buf *out)
{
	size_t i, j, colon, nend, start = 0;
	int wsp = 0, started = 0;

	if (alg == CANON_SIMPLE) {
		/* Folds are stored as CRLF already; a bare LF is made CRLF. */
		for (i = 0; i < len; i++) {
			if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r')) {
				if (buf_append(out, f + start, i - start) < 0 ||
				    buf_append(out, "\r\n", 2) < 0)
					return -1;
				start = i + 1;
			}
		}
		if (buf_append(out, f + start, len - start) < 0)
			return -1;
		return buf_append(out, "\r\n", 2);
	}
	for (colon = 0; colon < len && f[colon] != ':'; colon++)
		;
	nend = colon;
	while (nend > 0 && is_wsp((unsigned char)f[nend - 1]))
		nend--;
	if (buf_append(out, f, nend) < 0)
		return -1;
	for (i = out->len - nend; i < out->len; i++)
		if (out->data[i] >= 'A' && out->data[i] <= 'Z')
			out->data[i] = (char)(out->data[i] - 'A' + 'a');
	if (buf_putc(out, ':') < 0)
		return -1;
	for (i = colon + 1; i < len; i = j) {
		unsigned char c = (unsigned char)f[i];

		j = i + 1;
		if (c == '\r' || c == '\n')
			continue;	/* unfold */
		if (is_wsp(c)) {
			wsp = 1;
			continue;
		}
		while (j < len && f[j] != '\r' && f[j] != '\n' && !is_wsp((unsigned char)f[j]))
			j++;
		if (wsp && started && buf_putc(out, ' ') < 0)
			return -1;
		wsp = 0;
		started = 1;
		if (buf_append(out, f + i, j - i) < 0)
			return -1;
	}
	return buf_append(out, "\r\n", 2);
}

int
canon_parse(const char *s, size_t n, enum canon_alg *out)
{
	if (n == 6 && memcmp(s, "simple", 6) == 0)
		*out = CANON_SIMPLE;
	else if (n == 7 && memcmp(s, "relaxed", 7) == 0)
		*out = CANON_RELAXED;
	else
		return -1;
	return 0;
}

int
canon_parse_pair(const char *s, enum canon_alg *h, enum canon_alg *b)
{
	const char *slash = strchr(s, '/');
	enum canon_alg hc, bc = CANON_SIMPLE;

	if (canon_parse(s, slash ? (size_t)(slash - s) : strlen(s), &hc) < 0 ||
	    (slash && canon_parse(slash + 1, strlen(slash + 1), &bc) < 0))
		return -1;
	*h = hc;
	*b = bc;
	return 0;
}

const char *
canon_name(enum canon_alg alg)
{
	return alg == CANON_SIMPLE ? "simple" : "relaxed";
}
