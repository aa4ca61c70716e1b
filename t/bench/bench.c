/*
 * bench.c - in-process benchmark of the DKIM engine. A benchmark, not a
 * test: it never fails on a missed target, it reports it.
 *
 * Four groups, each selectable with --only:
 *
 *   body    body canonicalization + SHA-256 of a 10 MiB text body fed in
 *           64 KiB chunks (CRLF and LF-only, read in place; and CRLF copied
 *           into a receive buffer chunk by chunk, as the milter has it),
 *           against SHA-256 of the same bytes fed the same way;
 *   sign    one 2 KiB message per session (rsa-sha256 2048, ed25519-sha256,
 *           the four canonicalization pairs), against crypto_sign alone;
 *   verify  the same messages verified, the key record given to
 *           dkim_set_key for every message, against crypto_verify alone;
 *           again with a key cache (the key parsed once, as the daemon
 *           does), and keyrec_parse on its own;
 *   large   a 10 MiB message signed and verified, 64 KiB chunks.
 *
 * Each figure is the best of -r repetitions, each repeating the operation
 * for at least -t seconds on CLOCK_MONOTONIC. The operations of a group
 * (a reference and what is compared with it) take turns within every
 * repetition, so a change of load on a shared machine hits them alike.
 * Figures from `openssl speed` can be passed with --ref-* (run-engine-bench.sh
 * does): the per-message rows then show their ratio to those first, and the
 * targets are judged on it. MB means 10^6 bytes, as in openssl speed.
 *
 * Output: an aligned table, then one line per measurement:
 *   bench name=... value=... unit=... ratio=... [key=value ...]
 * Exit status: 0 when it ran (whatever the targets), 1 when the engine
 * failed, 2 on bad usage.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "buf.h"
#include "canon.h"
#include "crypto.h"
#include "dkim.h"
#include "keycache.h"
#include "keyrec.h"

#define BODY_SIZE	(10 * 1024 * 1024)
#define SMALL_SIZE	2048
#define CHUNK		(64 * 1024)
#define MAX_FIELDS	16
#define MAX_ROWS	96
#define BENCH_NOW	1725357600	/* fixed t= so runs are comparable */

struct opts {
	double mintime;		/* seconds per repetition, at least */
	int reps;
	const char *only;	/* group name or NULL */
	double ref_sha256;	/* MB/s from openssl speed, 0: not given */
	double ref_sign[2], ref_verify[2];	/* per second, by crypto_type */
};

struct row {
	char name[64];
	double value;
	const char *unit;
	double us;		/* µs per operation, 0: not shown */
	double ratio;		/* against ref; < 0: none */
	const char *ref;
	double ratio2;		/* against ref2; < 0: none */
	const char *ref2;
	int cmp;		/* +1: ratio must be >= target, -1: <=, 0: no target */
	double target;
	double mbps;		/* body MB/s, 0: not shown */
	char note[48];
};

struct bench {
	struct opts o;
	struct row rows[MAX_ROWS];
	size_t nrows;
};

/* A message: header fields without line ends, and a body. */
struct field {
	const char *p;
	size_t n;
};

struct msg {
	struct field f[MAX_FIELDS];
	size_t nf;
	const unsigned char *body;
	size_t blen;
	size_t chunk;
};

static const char *const alg_name[] = { "rsa2048", "ed25519" };
static const enum canon_alg canon_pairs[4][2] = {
	{ CANON_SIMPLE, CANON_SIMPLE }, { CANON_SIMPLE, CANON_RELAXED },
	{ CANON_RELAXED, CANON_SIMPLE }, { CANON_RELAXED, CANON_RELAXED },
};

static void
die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One operation to time: fn returns 0, or -1 when the engine failed. */
struct op {
	int (*fn)(void *);
	void *arg;
	double sec;		/* result: best seconds per call */
};

/*
 * Time the operations together: after one warm-up call each, every
 * repetition runs each operation in turn for at least mintime, and each
 * keeps its best seconds per call. Interleaving them means a reference and
 * what is compared with it see the same load on a shared machine.
 */
static void
measure(const struct opts *o, struct op *ops, size_t nops)
{
	size_t i;
	int r;

	for (i = 0; i < nops; i++) {
		ops[i].sec = HUGE_VAL;
		if (ops[i].fn(ops[i].arg) < 0)
			die("an operation failed during warm-up");
	}
	for (r = 0; r < o->reps; r++) {
		for (i = 0; i < nops; i++) {
			double t0 = now_s(), t;
			unsigned long n = 0;

			do {
				if (ops[i].fn(ops[i].arg) < 0)
					die("an operation failed");
				n++;
			} while ((t = now_s() - t0) < o->mintime);
			if (t / (double)n < ops[i].sec)
				ops[i].sec = t / (double)n;
		}
	}
}

static struct row *
add_row(struct bench *b, const char *name, double value, const char *unit, double us)
{
	struct row *r;

	if (b->nrows == MAX_ROWS)
		die("too many rows");
	r = &b->rows[b->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->value = value;
	r->unit = unit;
	r->us = us;
	r->ratio = r->ratio2 = -1;
	fprintf(stderr, "  %-40s %12.1f %s\n", name, value, unit);
	return r;
}

static void
set_ratio(struct row *r, double ratio, const char *ref)
{
	if (r->ratio < 0) {
		r->ratio = ratio;
		r->ref = ref;
	} else {
		r->ratio2 = ratio;
		r->ref2 = ref;
	}
}

/* Deterministic pseudo-random numbers, so every run hashes the same text. */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned int
rnd(unsigned int n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned int)(rng_state % n);
}

/*
 * Fill p with n bytes (or a little less, ending at a line end) of e-mail
 * like text: lines of about 70 characters, words separated by one space,
 * now and then two spaces or a tab, a trailing blank, an empty line between
 * paragraphs. Returns the length used.
 */
static size_t
make_text(unsigned char *p, size_t n, int crlf)
{
	static const char *const words[] = {
		"the", "of", "and", "to", "a", "in", "for", "is", "on", "that",
		"by", "this", "with", "you", "it", "not", "or", "be", "are",
		"from", "at", "as", "your", "all", "have", "new", "more", "an",
		"was", "we", "will", "can", "us", "about", "if", "my", "has",
		"message", "signature", "domain", "selector", "canonicalization",
		"header", "body", "delivery", "Postfix", "server", "report",
		"quarterly", "meeting", "Thursday", "attached", "regards", "DKIM",
		"2024", "received", "configuration", "please", "thanks", "review",
	};
	const size_t nwords = sizeof(words) / sizeof(words[0]);
	const char *eol = crlf ? "\r\n" : "\n";
	size_t eollen = crlf ? 2 : 1, len = 0;

	for (;;) {
		char line[128];
		size_t ll = 0, want = 60 + rnd(16);

		while (ll < want) {
			const char *w = words[rnd((unsigned int)nwords)];
			size_t wl = strlen(w);
			unsigned int sep = rnd(40);

			if (ll > 0) {
				if (sep == 0)
					line[ll++] = '\t';
				else if (sep == 1) {
					line[ll++] = ' ';
					line[ll++] = ' ';
				} else
					line[ll++] = ' ';
			}
			memcpy(line + ll, w, wl);
			ll += wl;
		}
		if (rnd(50) == 0)
			line[ll++] = ' ';
		if (len + ll + 2 * eollen > n)
			return len;
		memcpy(p + len, line, ll);
		len += ll;
		memcpy(p + len, eol, eollen);
		len += eollen;
		if (rnd(12) == 0) {
			memcpy(p + len, eol, eollen);
			len += eollen;
		}
	}
}

/* --- body canonicalization -------------------------------------------- */

struct body_arg {
	const unsigned char *p;
	size_t n;
	enum canon_alg alg;
	unsigned char *recv;	/* CHUNK bytes, or NULL: read the body in place */
};

/*
 * Where chunk off..off+len is read from. With a receive buffer the chunk is
 * first copied there, as the milter's read from its socket leaves it: the
 * bytes are then in the cache when the engine sees them.
 */
static const unsigned char *
chunk_at(const struct body_arg *a, size_t off, size_t len)
{
	if (a->recv == NULL)
		return a->p + off;
	memcpy(a->recv, a->p + off, len);
	return a->recv;
}

static int
run_canon(void *arg)
{
	struct body_arg *a = arg;
	struct canon_body *cb = canon_body_create(a->alg, CANON_NO_LIMIT, EVP_sha256());
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t off, len;
	int rc = 0;

	if (cb == NULL)
		return -1;
	for (off = 0; off < a->n && rc == 0; off += len) {
		len = a->n - off < CHUNK ? a->n - off : CHUNK;
		rc = canon_body_update(cb, chunk_at(a, off, len), len);
	}
	if (rc == 0)
		rc = canon_body_final(cb, md, &mdlen);
	canon_body_free(cb);
	return rc;
}

/* Raw SHA-256: one EVP_Digest in place, or chunk by chunk through recv. */
static int
run_evp(void *arg)
{
	struct body_arg *a = arg;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	EVP_MD_CTX *ctx;
	size_t off, len;
	int ok;

	if (a->recv == NULL)
		return EVP_Digest(a->p, a->n, md, &mdlen, EVP_sha256(), NULL) == 1 ? 0 : -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	for (off = 0; off < a->n && ok; off += len) {
		len = a->n - off < CHUNK ? a->n - off : CHUNK;
		ok = EVP_DigestUpdate(ctx, chunk_at(a, off, len), len) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * Three feeds: CRLF and LF-only text read in place from the 10 MiB buffer
 * (the bytes come from memory as the engine reads them), and CRLF copied a
 * chunk at a time into a receive buffer first, as the milter gets it.
 */
static void
bench_body(struct bench *b)
{
	static const char *const feed[] = { "crlf", "lf", "crlf.recv" };
	unsigned char *buf = malloc(BODY_SIZE), *recv = malloc(CHUNK);
	struct body_arg a[3];
	struct op ops[3];
	double evp;
	char name[64];
	int f, c;

	if (buf == NULL || recv == NULL)
		die("out of memory");
	if (b->o.ref_sha256 > 0)
		add_row(b, "sha256.openssl_speed", b->o.ref_sha256, "MB/s", 0);
	for (f = 0; f < 3; f++) {
		size_t n = make_text(buf, BODY_SIZE, f != 1);

		for (c = 0; c < 3; c++) {
			a[c].p = buf;
			a[c].n = n;
			a[c].alg = c == 1 ? CANON_SIMPLE : CANON_RELAXED;
			a[c].recv = f == 2 ? recv : NULL;
			ops[c].fn = c == 0 ? run_evp : run_canon;
			ops[c].arg = &a[c];
		}
		measure(&b->o, ops, 3);
		evp = (double)n / ops[0].sec / 1e6;
		snprintf(name, sizeof(name), "sha256.evp_digest.%s", feed[f]);
		{
			struct row *r = add_row(b, name, evp, "MB/s", 0);

			if (b->o.ref_sha256 > 0)
				set_ratio(r, evp / b->o.ref_sha256, "openssl");
		}
		for (c = 1; c < 3; c++) {
			struct row *r;

			snprintf(name, sizeof(name), "body.%s.%s", canon_name(a[c].alg), feed[f]);
			r = add_row(b, name, (double)n / ops[c].sec / 1e6, "MB/s", 0);
			set_ratio(r, r->value / evp, "evp");
			if (b->o.ref_sha256 > 0)
				set_ratio(r, r->value / b->o.ref_sha256, "openssl");
			r->cmp = 1;
			r->target = c == 1 ? 0.80 : 0.50;
		}
	}
	free(recv);
	free(buf);
}

/* --- messages, signing and verifying ------------------------------------ */

static const char *const small_headers[] = {
	"Received: from mail.example.org (mail.example.org [192.0.2.25])\r\n"
	"\tby mx.example.com (Postfix) with ESMTPS id 4WyZ3k1Qn5z9sVh\r\n"
	"\tfor <bob@example.net>; Tue,  3 Sep 2024 10:00:00 +0000 (UTC)",
	"From: Alice Example <alice@example.com>",
	"To: Bob Example <bob@example.net>",
	"Cc: Carol Example <carol@example.net>",
	"Subject: Quarterly report and notes from Thursday's meeting",
	"Date: Tue, 3 Sep 2024 10:00:00 +0000",
	"Message-ID: <20240903100000.4WyZ3k1Qn5z9sVh@mail.example.com>",
	"MIME-Version: 1.0",
	"Content-Type: text/plain; charset=utf-8; format=flowed",
	"Content-Transfer-Encoding: 8bit",
};
#define NSMALL_HEADERS (sizeof(small_headers) / sizeof(small_headers[0]))

/* The headers above, and a body that makes the whole message total bytes. */
static void
make_msg(struct msg *m, unsigned char *body, size_t total, size_t chunk)
{
	size_t i, hlen = 2;	/* the empty line */

	m->nf = 0;
	for (i = 0; i < NSMALL_HEADERS; i++) {
		m->f[m->nf].p = small_headers[i];
		m->f[m->nf].n = strlen(small_headers[i]);
		hlen += m->f[m->nf].n + 2;
		m->nf++;
	}
	m->body = body;
	m->blen = make_text(body, total - hlen, 1);
	m->chunk = chunk;
}

static int
feed_headers(struct dkim *d, const struct msg *m, const char *sig)
{
	size_t i;

	if (sig != NULL && dkim_header(d, sig, strlen(sig)) < 0)
		return -1;
	for (i = 0; i < m->nf; i++)
		if (dkim_header(d, m->f[i].p, m->f[i].n) < 0)
			return -1;
	if (dkim_eoh(d) < 0)
		return -1;
	return 0;
}

static int
feed_body(struct dkim *d, const struct msg *m)
{
	size_t off, n;

	for (off = 0; off < m->blen; off += n) {
		n = m->blen - off < m->chunk ? m->blen - off : m->chunk;
		if (dkim_body(d, m->body + off, n) < 0)
			return -1;
	}
	return 0;
}

struct sign_arg {
	const struct msg *m;
	struct crypto_key *key;
	enum canon_alg hc, bc;
	char *out;		/* last signature made, when kept */
	int keep;
};

static int
run_sign(void *arg)
{
	struct sign_arg *a = arg;
	struct dkim *d = dkim_create(BENCH_NOW);
	struct dkim_signer s;
	char err[256];
	int rc = -1;

	if (d == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	s.key = a->key;
	s.domain = "example.com";
	s.selector = "bench";
	s.hcanon = a->hc;
	s.bcanon = a->bc;
	s.headers = dkim_default_headers;
	s.nheaders = dkim_default_nheaders;
	s.oversign = dkim_default_oversign;
	s.noversign = dkim_default_noversign;
	if (dkim_add_signer(d, &s, err, sizeof(err)) == 0 && feed_headers(d, a->m, NULL) == 0 &&
	    feed_body(d, a->m) == 0 && dkim_eom(d) == 0 && dkim_nsignatures(d) == 1) {
		rc = 0;
		if (a->keep) {
			free(a->out);
			if ((a->out = strdup(dkim_signature(d, 0))) == NULL)
				rc = -1;
		}
	}
	dkim_free(d);
	return rc;
}

struct verify_arg {
	const struct msg *m;
	const char *sig;
	const char *txt;	/* key record */
	size_t txtlen;
	struct keycache *kc;	/* NULL: the record is parsed for every message */
};

static int
run_verify(void *arg)
{
	struct verify_arg *a = arg;
	struct dkim *d = dkim_create(BENCH_NOW);
	struct dkim_verdict *v;
	int rc = -1;

	if (d == NULL)
		return -1;
	dkim_enable_verify(d, 4);
	if (a->kc != NULL)
		dkim_set_keycache(d, a->kc);
	if (feed_headers(d, a->m, a->sig) == 0 && dkim_nverdicts(d) == 1) {
		dkim_set_key(d, 0, DKIM_KEY_FOUND, &a->txt, &a->txtlen, 1, NULL, NULL);
		if (feed_body(d, a->m) == 0 && dkim_eom(d) == 0 &&
		    (v = dkim_verdict(d, 0)) != NULL && v->status == DKIM_PASS)
			rc = 0;
	}
	dkim_free(d);
	return rc;
}

struct raw_arg {
	struct crypto_key *key;	/* private for signing, public for verifying */
	unsigned char digest[32];
	unsigned char sig[1024];
	size_t siglen;
};

static int
run_raw_sign(void *arg)
{
	struct raw_arg *a = arg;
	char err[256];

	a->siglen = sizeof(a->sig);
	return crypto_sign(a->key, a->digest, sizeof(a->digest), a->sig, &a->siglen,
	    err, sizeof(err));
}

static int
run_raw_verify(void *arg)
{
	struct raw_arg *a = arg;

	return crypto_verify(a->key, a->digest, sizeof(a->digest), a->sig,
	    a->siglen) == 1 ? 0 : -1;
}

static int
run_keyrec(void *arg)
{
	struct verify_arg *a = arg;
	struct keyrec kr;
	char reason[200];
	int rc;

	rc = keyrec_parse(&kr, a->txt, a->txtlen, reason, sizeof(reason));
	keyrec_clear(&kr);
	return rc;
}

/* "v=DKIM1; k=...; p=..." for key k, malloc'd. */
static char *
key_record(struct crypto_key *k)
{
	unsigned char *der;
	size_t derlen;
	char *b64, *txt;
	size_t cap;

	if (crypto_key_public_der(k, &der, &derlen) < 0)
		die("cannot export the public key");
	cap = 4 * (derlen / 3 + 1) + 64;
	if ((b64 = malloc(4 * (derlen / 3 + 1) + 1)) == NULL || (txt = malloc(cap)) == NULL)
		die("out of memory");
	crypto_b64_encode(der, derlen, b64);
	snprintf(txt, cap, "v=DKIM1; k=%s; p=%s",
	    crypto_key_type(k) == CRYPTO_ED25519 ? "ed25519" : "rsa", b64);
	free(der);
	free(b64);
	return txt;
}

struct keys {
	struct crypto_key *priv[2], *pub[2];
	char *txt[2];
};

static void
make_keys(struct keys *k)
{
	char err[256];
	int t;

	for (t = 0; t < 2; t++) {
		struct keyrec kr;

		if (crypto_key_generate(t == 0 ? CRYPTO_RSA : CRYPTO_ED25519, 2048,
		    &k->priv[t], err, sizeof(err)) < 0)
			die(err);
		k->txt[t] = key_record(k->priv[t]);
		if (keyrec_parse(&kr, k->txt[t], strlen(k->txt[t]), err, sizeof(err)) < 0)
			die(err);
		k->pub[t] = crypto_key_ref(kr.key);
		keyrec_clear(&kr);
	}
}

static void
free_keys(struct keys *k)
{
	int t;

	for (t = 0; t < 2; t++) {
		crypto_key_unref(k->priv[t]);
		crypto_key_unref(k->pub[t]);
		free(k->txt[t]);
	}
}

static const char *
pair_name(int p)
{
	static const char *const names[] = {
		"simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"
	};

	return names[p];
}

/* One row for per-message cost sec against the raw operation. */
static struct row *
cost_row(struct bench *b, const char *name, double sec, double raw, double openssl,
    double target)
{
	struct row *r = add_row(b, name, 1 / sec, "msg/s", sec * 1e6);

	if (openssl > 0)
		set_ratio(r, sec * openssl, "openssl");
	set_ratio(r, sec / raw, "crypto");
	if (target > 0) {
		r->cmp = -1;
		r->target = target;
	}
	return r;
}

/* A signature for each canonicalization pair, for the verifiers. */
static void
sign_pairs(struct sign_arg sa[4], const struct msg *m, struct crypto_key *key)
{
	int p;

	for (p = 0; p < 4; p++) {
		sa[p].m = m;
		sa[p].key = key;
		sa[p].hc = canon_pairs[p][0];
		sa[p].bc = canon_pairs[p][1];
		sa[p].out = NULL;
		sa[p].keep = 1;
		if (run_sign(&sa[p]) < 0)
			die("signing failed");
		sa[p].keep = 0;
	}
}

/*
 * Per algorithm, interleaved: crypto_sign alone, the four signing sessions,
 * crypto_verify alone, the four verifying sessions parsing the key record
 * each time, the same with a key cache (warm after the first message, so
 * the key is parsed once), and keyrec_parse alone.
 */
static void
bench_small(struct bench *b, const struct keys *k, int do_sign, int do_verify)
{
	enum { O_RS, O_S, O_RV = O_S + 4, O_V, O_VC = O_V + 4, O_KR = O_VC + 4, O_N };
	unsigned char body[SMALL_SIZE];
	struct msg m;
	char name[64];
	int t, p;

	make_msg(&m, body, SMALL_SIZE, CHUNK);
	for (t = 0; t < 2; t++) {
		struct sign_arg sa[4];
		struct verify_arg va[4], vc[4];
		struct keycache *kc = keycache_create();
		struct raw_arg rs, rv;
		struct op ops[O_N];
		size_t nops = 0, i;
		struct row *r;

		if (kc == NULL)
			die("out of memory");
		memset(&rs, 0, sizeof(rs));
		memset(rs.digest, 0x5a, sizeof(rs.digest));
		rs.key = k->priv[t];
		if (run_raw_sign(&rs) < 0)
			die("crypto_sign failed");
		rv = rs;
		rv.key = k->pub[t];
		sign_pairs(sa, &m, k->priv[t]);
		for (p = 0; p < 4; p++) {
			va[p].m = &m;
			va[p].sig = sa[p].out;
			va[p].txt = k->txt[t];
			va[p].txtlen = strlen(k->txt[t]);
			va[p].kc = NULL;
			vc[p] = va[p];
			vc[p].kc = kc;
		}
		ops[O_RS] = (struct op){ run_raw_sign, &rs, 0 };
		ops[O_RV] = (struct op){ run_raw_verify, &rv, 0 };
		ops[O_KR] = (struct op){ do_verify ? run_keyrec : NULL, &va[0], 0 };
		for (p = 0; p < 4; p++) {
			ops[O_S + p] = (struct op){ do_sign ? run_sign : NULL, &sa[p], 0 };
			ops[O_V + p] = (struct op){ do_verify ? run_verify : NULL, &va[p], 0 };
			ops[O_VC + p] = (struct op){ do_verify ? run_verify : NULL, &vc[p], 0 };
		}
		/* Time what was asked for, packed together, then put the results back. */
		{
			struct op run[O_N];
			size_t slot[O_N];

			for (i = 0; i < O_N; i++)
				if (ops[i].fn != NULL) {
					slot[nops] = i;
					run[nops++] = ops[i];
				}
			measure(&b->o, run, nops);
			for (i = 0; i < nops; i++)
				ops[slot[i]].sec = run[i].sec;
		}

		snprintf(name, sizeof(name), "raw.%s.crypto_sign", alg_name[t]);
		r = add_row(b, name, 1 / ops[O_RS].sec, "op/s", ops[O_RS].sec * 1e6);
		if (b->o.ref_sign[t] > 0) {
			set_ratio(r, ops[O_RS].sec * b->o.ref_sign[t], "openssl");
			snprintf(name, sizeof(name), "raw.%s.openssl_speed_sign", alg_name[t]);
			add_row(b, name, b->o.ref_sign[t], "op/s", 1e6 / b->o.ref_sign[t]);
		}
		snprintf(name, sizeof(name), "raw.%s.crypto_verify", alg_name[t]);
		r = add_row(b, name, 1 / ops[O_RV].sec, "op/s", ops[O_RV].sec * 1e6);
		if (b->o.ref_verify[t] > 0) {
			set_ratio(r, ops[O_RV].sec * b->o.ref_verify[t], "openssl");
			snprintf(name, sizeof(name), "raw.%s.openssl_speed_verify", alg_name[t]);
			add_row(b, name, b->o.ref_verify[t], "op/s", 1e6 / b->o.ref_verify[t]);
		}
		for (p = 0; p < 4 && do_sign; p++) {
			snprintf(name, sizeof(name), "sign2k.%s.%s", alg_name[t], pair_name(p));
			cost_row(b, name, ops[O_S + p].sec, ops[O_RS].sec, b->o.ref_sign[t], 1.10);
		}
		for (p = 0; p < 4 && do_verify; p++) {
			snprintf(name, sizeof(name), "verify2k.%s.%s", alg_name[t], pair_name(p));
			cost_row(b, name, ops[O_V + p].sec, ops[O_RV].sec, b->o.ref_verify[t], 0);
		}
		for (p = 0; p < 4 && do_verify; p++) {
			snprintf(name, sizeof(name), "verify2k.%s.%s.keycache", alg_name[t],
			    pair_name(p));
			r = cost_row(b, name, ops[O_VC + p].sec, ops[O_RV].sec,
			    b->o.ref_verify[t], 0);
			snprintf(r->note, sizeof(r->note), "key parsed once");
		}
		if (do_verify) {
			double kr = ops[O_KR].sec, v = ops[O_V + 3].sec;

			snprintf(name, sizeof(name), "keyrec_parse.%s", alg_name[t]);
			r = add_row(b, name, 1 / kr, "op/s", kr * 1e6);
			snprintf(r->note, sizeof(r->note), "%.0f%% of verify2k r/r", 100 * kr / v);
		}
		for (p = 0; p < 4; p++)
			free(sa[p].out);
		keycache_free(kc);
	}
}

/* Per algorithm, interleaved: the four signing, then the four verifying sessions. */
static void
bench_large(struct bench *b, const struct keys *k)
{
	unsigned char *body = malloc(BODY_SIZE);
	struct msg m;
	char name[64];
	int t, p;

	if (body == NULL)
		die("out of memory");
	make_msg(&m, body, BODY_SIZE, CHUNK);
	for (t = 0; t < 2; t++) {
		struct sign_arg sa[4];
		struct verify_arg va[4];
		struct op ops[8];

		sign_pairs(sa, &m, k->priv[t]);
		for (p = 0; p < 4; p++) {
			va[p].m = &m;
			va[p].sig = sa[p].out;
			va[p].txt = k->txt[t];
			va[p].txtlen = strlen(k->txt[t]);
			va[p].kc = NULL;
			ops[p].fn = run_sign;
			ops[p].arg = &sa[p];
			ops[4 + p].fn = run_verify;
			ops[4 + p].arg = &va[p];
		}
		measure(&b->o, ops, 8);
		for (p = 0; p < 8; p++) {
			double sec = ops[p].sec;
			struct row *r;

			snprintf(name, sizeof(name), "%s.%s.%s", p < 4 ? "sign10m" : "verify10m",
			    alg_name[t], pair_name(p % 4));
			r = add_row(b, name, 1 / sec, "msg/s", sec * 1e6);
			r->mbps = (double)m.blen / sec / 1e6;
			snprintf(r->note, sizeof(r->note), "%.1f MB/s", r->mbps);
		}
		for (p = 0; p < 4; p++)
			free(sa[p].out);
	}
	free(body);
}

/* --- output ------------------------------------------------------------- */

static int
row_ok(const struct row *r)
{
	return r->cmp > 0 ? r->ratio >= r->target : r->ratio <= r->target;
}

static void
print_table(const struct bench *b)
{
	size_t i;

	printf("%-40s %12s %-5s %10s %14s %14s %8s %4s  %s\n", "measurement", "value",
	    "unit", "us/op", "ratio", "ratio2", "target", "ok", "note");
	for (i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];
		char us[16] = "", ra[32] = "", rb[32] = "", tg[16] = "";

		if (r->us > 0)
			snprintf(us, sizeof(us), "%.1f", r->us);
		if (r->ratio >= 0)
			snprintf(ra, sizeof(ra), "%.3f %s", r->ratio, r->ref);
		if (r->ratio2 >= 0)
			snprintf(rb, sizeof(rb), "%.3f %s", r->ratio2, r->ref2);
		if (r->cmp != 0)
			snprintf(tg, sizeof(tg), "%s%.2f", r->cmp > 0 ? ">=" : "<=", r->target);
		printf("%-40s %12.1f %-5s %10s %14s %14s %8s %4s  %s\n", r->name, r->value,
		    r->unit, us, ra, rb, tg, r->cmp == 0 ? "" : row_ok(r) ? "yes" : "NO",
		    r->note);
	}
	printf("\n");
	for (i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		printf("bench name=%s value=%.2f unit=%s", r->name, r->value, r->unit);
		if (r->ratio >= 0)
			printf(" ratio=%.4f ref=%s", r->ratio, r->ref);
		if (r->ratio2 >= 0)
			printf(" ratio_%s=%.4f", r->ref2, r->ratio2);
		if (r->us > 0)
			printf(" us=%.2f", r->us);
		if (r->mbps > 0)
			printf(" mbps=%.2f", r->mbps);
		if (r->cmp != 0)
			printf(" target=%s%.2f ok=%s", r->cmp > 0 ? ">=" : "<=", r->target,
			    row_ok(r) ? "yes" : "no");
		printf("\n");
	}
}

/* --- options ------------------------------------------------------------ */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: bench [-t SECONDS] [-r REPS] [--quick] [--only body|sign|verify|large]\n"
	    "             [--ref-sha256 MB/s] [--ref-rsa-sign N] [--ref-rsa-verify N]\n"
	    "             [--ref-ed25519-sign N] [--ref-ed25519-verify N]\n"
	    "  -t  minimum time of one repetition (default 1.5)\n"
	    "  -r  repetitions, the best is reported (default 3)\n"
	    "  --quick  -t 0.1 -r 1, a smoke run\n"
	    "  --ref-*  figures from openssl speed (per second) to compare with\n");
}

static double
num(const char *s, double min)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= min)) {
		fprintf(stderr, "bench: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	enum { O_SHA = 256, O_RS, O_RV, O_ES, O_EV, O_ONLY };
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "only", required_argument, NULL, O_ONLY },
		{ "ref-sha256", required_argument, NULL, O_SHA },
		{ "ref-rsa-sign", required_argument, NULL, O_RS },
		{ "ref-rsa-verify", required_argument, NULL, O_RV },
		{ "ref-ed25519-sign", required_argument, NULL, O_ES },
		{ "ref-ed25519-verify", required_argument, NULL, O_EV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->mintime = 1.5;
	o->reps = 3;
	while ((c = getopt_long(argc, argv, "t:r:qh", lo, NULL)) != -1) {
		switch (c) {
		case 't': o->mintime = num(optarg, 0); break;
		case 'r': o->reps = (int)num(optarg, 1); break;
		case 'q': o->mintime = 0.1; o->reps = 1; break;
		case O_ONLY: o->only = optarg; break;
		case O_SHA: o->ref_sha256 = num(optarg, 0); break;
		case O_RS: o->ref_sign[CRYPTO_RSA] = num(optarg, 0); break;
		case O_RV: o->ref_verify[CRYPTO_RSA] = num(optarg, 0); break;
		case O_ES: o->ref_sign[CRYPTO_ED25519] = num(optarg, 0); break;
		case O_EV: o->ref_verify[CRYPTO_ED25519] = num(optarg, 0); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || (o->only != NULL && strcmp(o->only, "body") != 0 &&
	    strcmp(o->only, "sign") != 0 && strcmp(o->only, "verify") != 0 &&
	    strcmp(o->only, "large") != 0)) {
		usage(stderr);
		exit(2);
	}
}

static int
want(const struct opts *o, const char *group)
{
	return o->only == NULL || strcmp(o->only, group) == 0;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct keys k;

	parse_opts(&b.o, argc, argv);
	fprintf(stderr, "bench: -t %.2f -r %d%s%s\n", b.o.mintime, b.o.reps,
	    b.o.only ? " --only " : "", b.o.only ? b.o.only : "");
	if (want(&b.o, "body"))
		bench_body(&b);
	if (want(&b.o, "sign") || want(&b.o, "verify") || want(&b.o, "large")) {
		make_keys(&k);
		if (want(&b.o, "sign") || want(&b.o, "verify"))
			bench_small(&b, &k, want(&b.o, "sign"), want(&b.o, "verify"));
		if (want(&b.o, "large"))
			bench_large(&b, &k);
		free_keys(&k);
	}
	print_table(&b);
	return 0;
}
