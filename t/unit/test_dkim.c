/*
 * test_dkim.c - sign and verify sessions.
 *
 * Signatures come from two sources: the engine's own signer (round trips),
 * and a signer written here from RFC 6376 3.7 that picks the header fields
 * to hash by hand and signs with OpenSSL directly, so the verifier's header
 * selection, b= blanking and l= handling are checked against code that does
 * not share them. The RFC 8463 example checks both against the outside world.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "bounds.h"
#include "buf.h"
#include "canon.h"
#include "dkim.h"
#include "sig.h"
#include "testutil.h"

#define NOW ((time_t)1700000000)

/* ---- messages ------------------------------------------------------------- */

#define MAXH 320

struct msg {
	char *h[MAXH];		/* header fields, folds as CRLF, no final CRLF */
	size_t nh;
	char *body;
	size_t blen;
};

static void
msg_add(struct msg *m, size_t at, const char *field, size_t len)
{
	ck_assert_uint_lt(m->nh, MAXH);
	memmove(&m->h[at + 1], &m->h[at], (m->nh - at) * sizeof(m->h[0]));
	m->h[at] = strndup(field, len);
	ck_assert_ptr_nonnull(m->h[at]);
	m->nh++;
}

static void
msg_set_body(struct msg *m, const char *body, size_t len)
{
	free(m->body);
	m->body = malloc(len + 1);
	ck_assert_ptr_nonnull(m->body);
	memcpy(m->body, body, len);
	m->body[len] = '\0';
	m->blen = len;
}

static void
msg_free(struct msg *m)
{
	size_t i;

	for (i = 0; i < m->nh; i++)
		free(m->h[i]);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/* The test message most cases start from. */
static void
msg_basic(struct msg *m)
{
	static const char *const hdrs[] = {
		"Received: from relay.example.net by mx.example.org; Tue, 14 Nov 2023 22:13:20 +0000",
		"From: Joe SixPack <joe@example.com>",
		"To: Suzie Q <suzie@shopping.example.net>",
		"Subject: Is dinner ready?",
		"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
		"Message-ID: <20030712040037.46341.5F8J@example.com>",
	};
	static const char body[] = "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\n"
	    "Joe.\r\n";
	size_t i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++)
		msg_add(m, m->nh, hdrs[i], strlen(hdrs[i]));
	msg_set_body(m, body, strlen(body));
}

/* Split a wire-format message into fields and body. */
static void
msg_parse(struct msg *m, const char *raw, size_t len)
{
	size_t i = 0, start = 0;

	memset(m, 0, sizeof(*m));
	while (i < len) {
		const char *lf = memchr(raw + i, '\n', len - i);
		size_t end = lf ? (size_t)(lf - raw) : len, next = end + 1;

		ck_assert_ptr_nonnull(lf);
		if (end == i || (end == i + 1 && raw[i] == '\r')) {
			if (i > start)
				msg_add(m, m->nh, raw + start, i - start - 2);
			msg_set_body(m, raw + next, len - next);
			return;
		}
		if (i > start && raw[i] != ' ' && raw[i] != '\t') {
			msg_add(m, m->nh, raw + start, i - start - 2);
			start = i;
		}
		i = next;
	}
	ck_abort_msg("message without a body separator");
}

/* ---- the engine as signer and verifier ---------------------------------- */

struct signopt {
	enum canon_alg hc, bc;
	const char *domain, *selector, *identity;
	const char *const *names;	/* NULL: the defaults */
	size_t nnames;
	const char *const *over;	/* with names: oversigned ones */
	size_t nover;
	long long lifetime;
	size_t chunk;			/* body chunk size, 0: whole */
};

static void
feed_body(struct dkim *d, const char *body, size_t blen, size_t chunk)
{
	size_t off;

	if (chunk == 0)
		chunk = blen ? blen : 1;
	for (off = 0; off < blen; off += chunk)
		ck_assert_int_eq(dkim_body(d, body + off, blen - off < chunk ? blen - off : chunk),
		    0);
}

/* Sign m with key; returns the DKIM-Signature field. */
static char *
engine_sign(struct crypto_key *key, const struct signopt *o, const struct msg *m)
{
	struct dkim_signer s = {
		.key = key, .domain = o->domain ? o->domain : "example.com",
		.selector = o->selector ? o->selector : "sel", .identity = o->identity,
		.hcanon = o->hc, .bcanon = o->bc,
		.headers = o->names ? o->names : dkim_default_headers,
		.nheaders = o->names ? o->nnames : dkim_default_nheaders,
		.oversign = o->names ? o->over : dkim_default_oversign,
		.noversign = o->names ? o->nover : dkim_default_noversign,
		.lifetime = o->lifetime,
	};
	struct dkim *d = dkim_create(NOW);
	char err[256] = "", *out;
	size_t i;

	ck_assert_ptr_nonnull(d);
	ck_assert_msg(dkim_add_signer(d, &s, err, sizeof(err)) == 0, "%s", err);
	for (i = 0; i < m->nh; i++)
		ck_assert_int_eq(dkim_header(d, m->h[i], strlen(m->h[i])), 0);
	ck_assert_int_eq(dkim_eoh(d), 0);
	feed_body(d, m->body, m->blen, o->chunk);
	ck_assert_msg(dkim_eom(d) == 0, "signing failed: %s", dkim_error(d));
	ck_assert_uint_eq(dkim_nsignatures(d), 1);
	out = strdup(dkim_signature(d, 0));
	dkim_free(d);
	ck_assert_ptr_nonnull(out);
	return out;
}

/* What DNS says for one selector. */
struct keyent {
	const char *selector;
	enum dkim_keystate state;
	const char *txt[2];	/* up to two TXT records */
};

/* The verdict fields the tests look at, copied out of the session. */
struct result {
	enum dkim_status status;
	char reason[LIMIT_REASON];
	char d[LIMIT_DOMAIN + 1], s[LIMIT_DOMAIN + 1];
	int parsed, partial_body, testing, skipped, key_bits;
};

#define MAXRES 40

/*
 * Verify m (with its DKIM-Signature fields among its headers) at time now,
 * answering key requests from keys. Returns the number of verdicts.
 */
static size_t
engine_verify_at(const struct msg *m, const struct keyent *keys, size_t nkeys, size_t chunk,
    time_t now, size_t max, struct result *res)
{
	struct dkim *d = dkim_create(now);
	size_t i, n;

	ck_assert_ptr_nonnull(d);
	dkim_enable_verify(d, max);
	for (i = 0; i < m->nh; i++)
		dkim_header(d, m->h[i], strlen(m->h[i]));
	ck_assert_int_eq(dkim_eoh(d), 0);
	n = dkim_nverdicts(d);
	ck_assert_uint_le(n, MAXRES);
	for (i = 0; i < n; i++) {
		struct dkim_verdict *v = dkim_verdict(d, i);
		size_t k, ntxt = 0, lens[2];

		if (!v->key_needed)
			continue;
		for (k = 0; k < nkeys; k++)
			if (strcmp(keys[k].selector, v->sig->s) == 0)
				break;
		if (k == nkeys) {
			dkim_set_key(d, i, DKIM_KEY_MISSING, NULL, NULL, 0, NULL, "NXDOMAIN");
			continue;
		}
		while (ntxt < 2 && keys[k].txt[ntxt] != NULL) {
			lens[ntxt] = strlen(keys[k].txt[ntxt]);
			ntxt++;
		}
		dkim_set_key(d, i, keys[k].state, keys[k].txt, lens, ntxt, NULL,
		    keys[k].state == DKIM_KEY_TEMPFAIL ? "SERVFAIL" : NULL);
	}
	feed_body(d, m->body, m->blen, chunk);
	ck_assert_int_eq(dkim_eom(d), 0);
	for (i = 0; i < n; i++) {
		const struct dkim_verdict *v = dkim_verdict(d, i);

		memset(&res[i], 0, sizeof(res[i]));
		res[i].status = v->status;
		str_copy(res[i].reason, v->reason, sizeof(res[i].reason));
		str_copy(res[i].d, v->sig->d, sizeof(res[i].d));
		str_copy(res[i].s, v->sig->s, sizeof(res[i].s));
		res[i].parsed = v->parsed;
		res[i].partial_body = v->partial_body;
		res[i].testing = v->testing;
		res[i].skipped = v->skipped;
		res[i].key_bits = v->key_bits;
	}
	dkim_free(d);
	return n;
}

static size_t
engine_verify(const struct msg *m, const struct keyent *keys, size_t nkeys,
    struct result *res)
{
	return engine_verify_at(m, keys, nkeys, 0, NOW, LIMIT_SIGNATURES, res);
}

/* Verify m with one signature and one key record; the single verdict. */
static struct result
verify_one_key(const struct msg *m, const char *record)
{
	struct keyent k = { "sel", DKIM_KEY_FOUND, { record, NULL } };
	struct result r[MAXRES];

	ck_assert_uint_eq(engine_verify(m, &k, 1, r), 1);
	return r[0];
}

static void
assert_result(const struct result *r, enum dkim_status st, const char *sub, int line)
{
	ck_assert_msg(r->status == st, "line %d: got %s (%s), want %s", line,
	    dkim_status_name(r->status), r->reason, dkim_status_name(st));
	if (sub != NULL)
		ck_assert_msg(strstr(r->reason, sub) != NULL, "line %d: reason '%s' lacks '%s'",
		    line, r->reason, sub);
}

#define ASSERT_RESULT(r, st, sub) assert_result(&(r), (st), (sub), __LINE__)

/* ---- the independent signer ----------------------------------------------- */

struct manual {
	const char *keyfile;
	const char *alg;		/* a= */
	enum canon_alg hc, bc;
	const char *tags;		/* more tags, e.g. "l=5; t=1;" */
	const char *h;			/* h= as written */
	const size_t *pick;		/* header fields hashed, in h= order */
	size_t npick;
	long long l;			/* body bytes hashed, -1: all */
	int fold_b;			/* fold b= every 40 characters */
};

static EVP_PKEY *
load_pkey(const char *file)
{
	size_t len;
	char *pem = tu_read_data(file, &len);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

	BIO_free(bio);
	free(pem);
	ck_assert_ptr_nonnull(pk);
	return pk;
}

static char *
manual_sign(const struct manual *o, const struct msg *m)
{
	int sha1 = strcmp(o->alg, "rsa-sha1") == 0;
	const EVP_MD *md = sha1 ? EVP_sha1() : EVP_sha256();
	struct canon_body *cb = canon_body_create(o->bc, o->l < 0 ? CANON_NO_LIMIT :
	    (unsigned long long)o->l, md);
	unsigned char bh[EVP_MAX_MD_SIZE], hd[EVP_MAX_MD_SIZE], sig[1024];
	unsigned int bhlen, hdlen;
	size_t siglen = sizeof(sig), k;
	struct buf field, hashed;
	EVP_PKEY *pk = load_pkey(o->keyfile);
	char *b64;

	ck_assert_ptr_nonnull(cb);
	ck_assert_int_eq(canon_body_update(cb, m->body, m->blen), 0);
	ck_assert_int_eq(canon_body_final(cb, bh, &bhlen), 0);
	canon_body_free(cb);
	b64 = tu_b64(bh, bhlen);
	buf_init(&field, LIMIT_OUT_HEADER);
	ck_assert_int_eq(buf_printf(&field, "DKIM-Signature: v=1; a=%s; c=%s/%s; %s\r\n"
	    "\th=%s; bh=%s;\r\n\tb=", o->alg, canon_name(o->hc), canon_name(o->bc),
	    o->tags, o->h, b64), 0);
	free(b64);
	buf_init(&hashed, LIMIT_HEADER_TOTAL);
	for (k = 0; k < o->npick; k++)
		ck_assert_int_eq(canon_header(o->hc, m->h[o->pick[k]], strlen(m->h[o->pick[k]]),
		    &hashed), 0);
	ck_assert_int_eq(canon_header(o->hc, field.data, field.len, &hashed), 0);
	ck_assert_int_eq(EVP_Digest(hashed.data, hashed.len - 2, hd, &hdlen, md, NULL), 1);
	buf_release(&hashed);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk), 1);
		ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, hd, hdlen), 1);
		EVP_MD_CTX_free(ctx);
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);

		ck_assert_int_eq(EVP_PKEY_sign_init(ctx), 1);
		ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
		ck_assert_int_eq(EVP_PKEY_CTX_set_signature_md(ctx, md), 1);
		ck_assert_int_eq(EVP_PKEY_sign(ctx, sig, &siglen, hd, hdlen), 1);
		EVP_PKEY_CTX_free(ctx);
	}
	EVP_PKEY_free(pk);
	b64 = tu_b64(sig, siglen);
	for (k = 0; k < strlen(b64); k += 40) {
		size_t n = strlen(b64) - k < 40 ? strlen(b64) - k : 40;

		if (k > 0 && o->fold_b)
			ck_assert_int_eq(buf_puts(&field, "\r\n\t"), 0);
		ck_assert_int_eq(buf_append(&field, b64 + k, n), 0);
	}
	free(b64);
	return buf_steal(&field);
}

/* The key record for a fixture key. */
static char *
record_for(const char *keyfile, const char *extra)
{
	struct crypto_key *k = tu_load_key(keyfile);
	char *rec = tu_key_record(k, extra);

	crypto_key_unref(k);
	return rec;
}

/* ---- RFC 8463 appendix A ---------------------------------------------------- */

static const struct keyent rfc8463_keys[] = {
	{ "brisbane", DKIM_KEY_FOUND,
	  { "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", NULL } },
	{ "test", DKIM_KEY_FOUND,
	  { "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3i"
	    "dY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1L"
	    "xj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
	    NULL } },
};

START_TEST(rfc8463_example_both_signatures_pass)
{
	static const size_t chunks[] = { 0, 1, 7 };
	size_t len, c;
	char *raw = tu_read_data("rfc8463-signed.eml", &len);
	struct msg m;
	struct result r[MAXRES];

	msg_parse(&m, raw, len);
	free(raw);
	ck_assert_uint_eq(m.nh, 7);
	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		ck_assert_uint_eq(engine_verify_at(&m, rfc8463_keys, 2, chunks[c], NOW,
		    LIMIT_SIGNATURES, r), 2);
		ck_assert_str_eq(r[0].s, "brisbane");
		ck_assert_str_eq(r[0].d, "football.example.com");
		ASSERT_RESULT(r[0], DKIM_PASS, "good");
		ck_assert_str_eq(r[1].s, "test");
		ASSERT_RESULT(r[1], DKIM_PASS, "good");
		ck_assert_int_eq(r[1].key_bits, 1024);
	}
	/* The same message with one body byte changed fails both. */
	m.body[5] ^= 0x20;
	ck_assert_uint_eq(engine_verify(&m, rfc8463_keys, 2, r), 2);
	ASSERT_RESULT(r[0], DKIM_FAIL, "body hash");
	ASSERT_RESULT(r[1], DKIM_FAIL, "body hash");
	m.body[5] ^= 0x20;
	/* And with the To: field changed, both fail on the header hash. */
	m.h[3][5] = 'X';
	ck_assert_uint_eq(engine_verify(&m, rfc8463_keys, 2, r), 2);
	ASSERT_RESULT(r[0], DKIM_FAIL, "signature");
	ASSERT_RESULT(r[1], DKIM_FAIL, "signature");
	msg_free(&m);
}
END_TEST

/* ---- round trips ------------------------------------------------------------ */

static const struct {
	const char *key;
	enum canon_alg hc, bc;
	const char *a;
} trips[] = {
	{ "rsa2048-pkcs1.pem", CANON_SIMPLE, CANON_SIMPLE, "a=rsa-sha256" },
	{ "rsa2048-pkcs1.pem", CANON_SIMPLE, CANON_RELAXED, "a=rsa-sha256" },
	{ "rsa2048-pkcs1.pem", CANON_RELAXED, CANON_SIMPLE, "a=rsa-sha256" },
	{ "rsa2048-pkcs1.pem", CANON_RELAXED, CANON_RELAXED, "a=rsa-sha256" },
	{ "ed25519.pem", CANON_SIMPLE, CANON_SIMPLE, "a=ed25519-sha256" },
	{ "ed25519.pem", CANON_SIMPLE, CANON_RELAXED, "a=ed25519-sha256" },
	{ "ed25519.pem", CANON_RELAXED, CANON_SIMPLE, "a=ed25519-sha256" },
	{ "ed25519.pem", CANON_RELAXED, CANON_RELAXED, "a=ed25519-sha256" },
	{ "rsa1024.pem", CANON_RELAXED, CANON_RELAXED, "a=rsa-sha256" },
	{ "rsa4096.pem", CANON_SIMPLE, CANON_RELAXED, "a=rsa-sha256" },
};

START_TEST(sign_then_verify_passes)
{
	struct crypto_key *key = tu_load_key(trips[_i].key);
	struct signopt o = { .hc = trips[_i].hc, .bc = trips[_i].bc, .chunk = 5 };
	char *rec = tu_key_record(key, NULL), *sig, want_c[40];
	struct keyent k = { "sel", DKIM_KEY_FOUND, { rec, NULL } };
	struct result r[MAXRES];
	struct msg m;
	size_t c;

	msg_basic(&m);
	sig = engine_sign(key, &o, &m);
	ck_assert_ptr_nonnull(strstr(sig, trips[_i].a));
	snprintf(want_c, sizeof(want_c), "c=%s/%s;", canon_name(trips[_i].hc),
	    canon_name(trips[_i].bc));
	ck_assert_ptr_nonnull(strstr(sig, want_c));
	ck_assert_ptr_nonnull(strstr(sig, "d=example.com;"));
	ck_assert_ptr_nonnull(strstr(sig, "t=1700000000;"));
	msg_add(&m, 0, sig, strlen(sig));
	for (c = 0; c < 4; c++) {
		ck_assert_uint_eq(engine_verify_at(&m, &k, 1, c == 0 ? 0 : c * 3 - 2, NOW + 60,
		    LIMIT_SIGNATURES, r), 1);
		ASSERT_RESULT(r[0], DKIM_PASS, NULL);
		ck_assert_int_eq(r[0].partial_body, 0);
		ck_assert_int_eq(r[0].testing, 0);
	}
	free(sig);
	free(rec);
	msg_free(&m);
	crypto_key_unref(key);
}
END_TEST

/*
 * The signer folds b= wherever the line ends; with the right domain length
 * the value starts on a fresh line. With simple header canonicalization the
 * verifier must then blank the fold together with the value.
 */
START_TEST(signature_verifies_wherever_b_is_folded)
{
	struct crypto_key *key = tu_load_key("ed25519.pem");
	char *rec = tu_key_record(key, NULL);
	char domain[80], identity[160];
	size_t dl, sl, folded = 0;
	int hc;

	/*
	 * The i= length moves everything after it by one column per step; a
	 * short h= (the default list always ends a line far enough right) lets
	 * bh= end where b= has no room left on its line.
	 */
	static const char *const names[] = { "from", "to", "subject", "date" };

	for (hc = 0; hc < 2; hc++)
		for (dl = 1; dl < 14; dl += 4)
			for (sl = 1; sl < 60; sl++) {
				struct signopt o = { .hc = hc ? CANON_RELAXED : CANON_SIMPLE,
				    .bc = CANON_SIMPLE, .domain = domain, .selector = "s",
				    .identity = identity, .names = names, .nnames = 4 };
				struct keyent k = { "s", DKIM_KEY_FOUND, { rec, NULL } };
				struct result r[MAXRES];
				struct msg m;
				char *sig;

				memset(domain, 'a', dl);
				memcpy(domain + dl, ".example", 9);
				memset(identity, 'u', sl);
				identity[sl] = '@';
				memcpy(identity + sl + 1, domain, dl + 9);
				msg_basic(&m);
				sig = engine_sign(key, &o, &m);
				folded += strstr(sig, "b=\r\n") != NULL;
				msg_add(&m, 0, sig, strlen(sig));
				ck_assert_uint_eq(engine_verify(&m, &k, 1, r), 1);
				ck_assert_msg(r[0].status == DKIM_PASS, "%s, d= of %zu, i= of %zu: "
				    "%s\n%s", canon_name(o.hc), dl + 8, sl, r[0].reason, sig);
				free(sig);
				msg_free(&m);
			}
	/* The loop did reach the case it is for. */
	ck_assert_uint_gt(folded, 0);
	free(rec);
	crypto_key_unref(key);
}
END_TEST

/* ---- what changes break which signature ---------------------------------- */

enum change {
	CH_NONE, CH_SUBJECT_TEXT, CH_SUBJECT_SPACES, CH_NAME_CASE, CH_REFOLD, CH_BODY_TEXT,
	CH_BODY_TRAILING_LINES, CH_BODY_INNER_SPACES, CH_BODY_LINE_END_SPACES,
	CH_BODY_LF, CH_UNSIGNED_HEADER, CH_SIGNED_HEADER_ADDED, CH_HEADER_REMOVED,
	CH_REORDER_DIFFERENT_NAMES,
};

static void
apply_change(struct msg *m, enum change c)
{
	size_t i;

	switch (c) {
	case CH_NONE:
		break;
	case CH_SUBJECT_TEXT:
		free(m->h[4]);
		m->h[4] = strdup("Subject: Is dinner ready?!");
		break;
	case CH_SUBJECT_SPACES:
		free(m->h[4]);
		m->h[4] = strdup("Subject:   Is  dinner\tready?  ");
		break;
	case CH_NAME_CASE:
		memcpy(m->h[4], "SUBJECT", 7);
		break;
	case CH_REFOLD:
		free(m->h[4]);
		m->h[4] = strdup("Subject: Is dinner\r\n ready?");
		break;
	case CH_BODY_TEXT:
		m->body[0] = 'h';
		break;
	case CH_BODY_TRAILING_LINES: {
		char *b = malloc(m->blen + 7);

		memcpy(b, m->body, m->blen);
		memcpy(b + m->blen, "\r\n\r\n\r\n", 7);
		free(m->body);
		m->body = b;
		m->blen += 6;
		break;
	}
	case CH_BODY_INNER_SPACES: {
		char *p = strstr(m->body, "lost the");

		ck_assert_ptr_nonnull(p);
		p[4] = '\t';
		break;
	}
	case CH_BODY_LINE_END_SPACES:
		msg_set_body(m, "Hi. \r\n\r\nWe lost the game.  Are you hungry yet?\t\r\n\r\n"
		    "Joe.\r\n", strlen("Hi. \r\n\r\nWe lost the game.  Are you hungry yet?\t"
		    "\r\n\r\nJoe.\r\n"));
		break;
	case CH_BODY_LF:
		msg_set_body(m, "Hi.\n\nWe lost the game.  Are you hungry yet?\n\nJoe.\n",
		    strlen("Hi.\n\nWe lost the game.  Are you hungry yet?\n\nJoe.\n"));
		break;
	case CH_UNSIGNED_HEADER:
		msg_add(m, 1, "X-Spam-Score: 0.1", 17);
		break;
	case CH_SIGNED_HEADER_ADDED:
		msg_add(m, m->nh, "Cc: someone@example.org", 23);
		break;
	case CH_HEADER_REMOVED:
		for (i = 0; i < m->nh; i++)
			if (strncmp(m->h[i], "Date:", 5) == 0)
				break;
		ck_assert_uint_lt(i, m->nh);
		free(m->h[i]);
		memmove(&m->h[i], &m->h[i + 1], (m->nh - i - 1) * sizeof(m->h[0]));
		m->nh--;
		break;
	case CH_REORDER_DIFFERENT_NAMES: {
		/* Swap To and Subject: different names, order does not matter. */
		char *t = m->h[3];

		m->h[3] = m->h[4];
		m->h[4] = t;
		break;
	}
	}
}

static const struct {
	const char *what;
	enum change change;
	enum canon_alg hc, bc;
	enum dkim_status want;
	const char *reason;
} changes[] = {
	{ "nothing changed", CH_NONE, CANON_SIMPLE, CANON_SIMPLE, DKIM_PASS, NULL },
	{ "Subject text changed (relaxed)", CH_SUBJECT_TEXT, CANON_RELAXED, CANON_RELAXED,
	  DKIM_FAIL, "signature" },
	{ "Subject text changed (simple)", CH_SUBJECT_TEXT, CANON_SIMPLE, CANON_SIMPLE,
	  DKIM_FAIL, "signature" },
	{ "Subject spacing (relaxed)", CH_SUBJECT_SPACES, CANON_RELAXED, CANON_SIMPLE,
	  DKIM_PASS, NULL },
	{ "Subject spacing (simple)", CH_SUBJECT_SPACES, CANON_SIMPLE, CANON_RELAXED,
	  DKIM_FAIL, "signature" },
	{ "name case (relaxed)", CH_NAME_CASE, CANON_RELAXED, CANON_SIMPLE, DKIM_PASS, NULL },
	{ "name case (simple)", CH_NAME_CASE, CANON_SIMPLE, CANON_SIMPLE, DKIM_FAIL,
	  "signature" },
	{ "refolded (relaxed)", CH_REFOLD, CANON_RELAXED, CANON_RELAXED, DKIM_PASS, NULL },
	{ "refolded (simple)", CH_REFOLD, CANON_SIMPLE, CANON_RELAXED, DKIM_FAIL, "signature" },
	{ "body text changed (relaxed)", CH_BODY_TEXT, CANON_RELAXED, CANON_RELAXED,
	  DKIM_FAIL, "body hash" },
	{ "body text changed (simple)", CH_BODY_TEXT, CANON_SIMPLE, CANON_SIMPLE, DKIM_FAIL,
	  "body hash" },
	{ "trailing empty lines (simple)", CH_BODY_TRAILING_LINES, CANON_SIMPLE, CANON_SIMPLE,
	  DKIM_PASS, NULL },
	{ "trailing empty lines (relaxed)", CH_BODY_TRAILING_LINES, CANON_SIMPLE,
	  CANON_RELAXED, DKIM_PASS, NULL },
	{ "inner body whitespace (relaxed)", CH_BODY_INNER_SPACES, CANON_SIMPLE,
	  CANON_RELAXED, DKIM_PASS, NULL },
	{ "inner body whitespace (simple)", CH_BODY_INNER_SPACES, CANON_RELAXED, CANON_SIMPLE,
	  DKIM_FAIL, "body hash" },
	{ "line-end whitespace (relaxed)", CH_BODY_LINE_END_SPACES, CANON_RELAXED,
	  CANON_RELAXED, DKIM_PASS, NULL },
	{ "line-end whitespace (simple)", CH_BODY_LINE_END_SPACES, CANON_RELAXED,
	  CANON_SIMPLE, DKIM_FAIL, "body hash" },
	{ "bare LF line ends (simple)", CH_BODY_LF, CANON_SIMPLE, CANON_SIMPLE, DKIM_PASS,
	  NULL },
	{ "unsigned header added", CH_UNSIGNED_HEADER, CANON_SIMPLE, CANON_SIMPLE, DKIM_PASS,
	  NULL },
	{ "oversigned Cc added", CH_SIGNED_HEADER_ADDED, CANON_RELAXED, CANON_RELAXED,
	  DKIM_FAIL, "signature" },
	{ "signed Date removed", CH_HEADER_REMOVED, CANON_RELAXED, CANON_RELAXED, DKIM_FAIL,
	  "signature" },
	{ "fields of different names reordered", CH_REORDER_DIFFERENT_NAMES, CANON_SIMPLE,
	  CANON_SIMPLE, DKIM_PASS, NULL },
};

START_TEST(changes_break_what_they_should)
{
	static const char *const keys[] = { "rsa2048-pkcs1.pem", "ed25519.pem" };
	size_t k;

	for (k = 0; k < 2; k++) {
		struct crypto_key *key = tu_load_key(keys[k]);
		char *rec = tu_key_record(key, NULL), *sig;
		struct signopt o = { .hc = changes[_i].hc, .bc = changes[_i].bc };
		struct result r;
		struct msg m;

		msg_basic(&m);
		sig = engine_sign(key, &o, &m);
		msg_add(&m, 0, sig, strlen(sig));
		apply_change(&m, changes[_i].change);
		r = verify_one_key(&m, rec);
		ck_assert_msg(r.status == changes[_i].want, "%s (%s): got %s (%s)",
		    changes[_i].what, keys[k], dkim_status_name(r.status), r.reason);
		if (changes[_i].reason != NULL)
			ck_assert_msg(strstr(r.reason, changes[_i].reason) != NULL,
			    "%s: reason '%s'", changes[_i].what, r.reason);
		free(sig);
		free(rec);
		msg_free(&m);
		crypto_key_unref(key);
	}
}
END_TEST

/* ---- oversigning and h= selection -------------------------------------------- */

START_TEST(oversigned_from_added_anywhere_fails)
{
	static const char *const extra[] = {
		"From: Mallory <mallory@evil.example>",
		"Subject: Free money",
		"Reply-To: mallory@evil.example",
	};
	struct crypto_key *key = tu_load_key("ed25519.pem");
	char *rec = tu_key_record(key, NULL), *sig, reason[LIMIT_REASON];
	struct signopt o = { .hc = CANON_RELAXED, .bc = CANON_RELAXED };
	struct msg m;
	struct sig sg;
	size_t e, nfrom = 0, k;

	msg_basic(&m);
	sig = engine_sign(key, &o, &m);
	/* h= names From once more than the message has it. */
	ck_assert_int_eq(sig_parse(&sg, sig, strlen(sig), NOW, reason, sizeof(reason)),
	    DKIM_PASS);
	for (k = 0; k < sg.nh; k++)
		nfrom += strcmp(sg.hnames[k], "from") == 0;
	ck_assert_uint_eq(nfrom, 2);
	sig_free(&sg);
	for (e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
		size_t where;

		for (where = 0; where < 3; where++) {
			struct msg v;
			struct result r;
			size_t i;

			memset(&v, 0, sizeof(v));
			for (i = 0; i < m.nh; i++)
				msg_add(&v, v.nh, m.h[i], strlen(m.h[i]));
			msg_set_body(&v, m.body, m.blen);
			msg_add(&v, 0, sig, strlen(sig));
			/* at the top, in the middle, at the bottom */
			msg_add(&v, where == 0 ? 1 : where == 1 ? 3 : v.nh, extra[e],
			    strlen(extra[e]));
			r = verify_one_key(&v, rec);
			ck_assert_msg(r.status == DKIM_FAIL, "'%s' added at %zu: %s (%s)", extra[e],
			    where, dkim_status_name(r.status), r.reason);
			msg_free(&v);
		}
	}
	free(sig);
	free(rec);
	msg_free(&m);
	crypto_key_unref(key);
}
END_TEST

/*
 * Hand-made signatures over a message with two X-A fields: h= names are
 * matched from the bottom up, each instance once; a name listed more often
 * than it occurs matches nothing the extra times.
 */
static const size_t pick_bottom_up[] = { 0, 2, 1 };
static const size_t pick_top_down[] = { 0, 1, 2 };
static const size_t pick_from_xa[] = { 0, 2 };
static const size_t pick_from[] = { 0 };

static const struct {
	const char *what;
	const char *h;
	const size_t *pick;
	size_t npick;
	int add_top, add_bottom;	/* add an X-A there before verifying */
	enum dkim_status want;
} picks[] = {
	{ "two instances, bottom-up", "from:x-a:x-a", pick_bottom_up, 3, 0, 0, DKIM_PASS },
	{ "two instances, top-down is wrong", "from:x-a:x-a", pick_top_down, 3, 0, 0,
	  DKIM_FAIL },
	{ "one name listed thrice, two present", "from:x-a:x-a:x-a", pick_bottom_up, 3, 0, 0,
	  DKIM_PASS },
	{ "listed thrice, third added later at top", "from:x-a:x-a:x-a", pick_bottom_up, 3, 1,
	  0, DKIM_FAIL },
	{ "listed once: the bottom one is signed", "from:x-a", pick_from_xa, 2, 0, 0,
	  DKIM_PASS },
	{ "listed once, another added on top", "from:x-a", pick_from_xa, 2, 1, 0, DKIM_PASS },
	{ "listed once, another added at the bottom", "from:x-a", pick_from_xa, 2, 0, 1,
	  DKIM_FAIL },
	{ "absent name signed as absent", "from:x-b", pick_from, 1, 0, 0, DKIM_PASS },
	{ "names match case-insensitively", "FROM:X-A:x-A", pick_bottom_up, 3, 0, 0,
	  DKIM_PASS },
};

START_TEST(h_names_select_fields_bottom_up)
{
	struct manual o = {
		.keyfile = "rsa1024.pem", .alg = "rsa-sha256", .hc = CANON_RELAXED,
		.bc = CANON_SIMPLE, .tags = "d=example.com; s=sel;", .h = picks[_i].h,
		.pick = picks[_i].pick, .npick = picks[_i].npick, .l = -1, .fold_b = 1,
	};
	char *rec = record_for("rsa1024.pem", NULL), *sig;
	struct msg m;
	struct result r;

	memset(&m, 0, sizeof(m));
	msg_add(&m, 0, "From: joe@example.com", 21);
	msg_add(&m, 1, "X-A: one", 8);
	msg_add(&m, 2, "X-A: two", 8);
	msg_set_body(&m, "body\r\n", 6);
	sig = manual_sign(&o, &m);
	msg_add(&m, 0, sig, strlen(sig));
	if (picks[_i].add_top)
		msg_add(&m, 1, "X-A: zero", 9);
	if (picks[_i].add_bottom)
		msg_add(&m, m.nh, "X-A: three", 10);
	if (strstr(picks[_i].what, "x-b") || strstr(picks[_i].h, "x-b")) {
		r = verify_one_key(&m, rec);
		ASSERT_RESULT(r, picks[_i].want, NULL);
		/* ...and adding the absent field later breaks it. */
		msg_add(&m, m.nh, "X-B: new", 8);
		r = verify_one_key(&m, rec);
		ASSERT_RESULT(r, DKIM_FAIL, "signature");
	} else {
		r = verify_one_key(&m, rec);
		ck_assert_msg(r.status == picks[_i].want, "%s: got %s (%s)", picks[_i].what,
		    dkim_status_name(r.status), r.reason);
	}
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

/* ---- l= ------------------------------------------------------------------------ */

static const struct {
	const char *what;
	long long l;
	const char *body_after;		/* body given to the verifier */
	enum dkim_status want;
	int partial;
	const char *reason;
} lcases[] = {
	{ "l= equal to the body", 12, "Hello\r\nJoe\r\n", DKIM_PASS, 0, NULL },
	{ "text appended after l=", 12, "Hello\r\nJoe\r\nBuy now!\r\n", DKIM_PASS, 1, NULL },
	{ "l= shorter than the body", 7, "Hello\r\nJoe\r\n", DKIM_PASS, 1, NULL },
	{ "l=0 signs nothing", 0, "Anything at all\r\n", DKIM_PASS, 1, NULL },
	{ "signed part changed", 12, "Hello\r\nJim\r\nBuy now!\r\n", DKIM_FAIL, 0, "body hash" },
	{ "body shorter than l=", 12, "Hello\r\n", DKIM_FAIL, 0, "body shorter than l=" },
	{ "empty body, l= not 0", 12, "", DKIM_FAIL, 0, "body shorter than l=" },
};

START_TEST(body_length_limit_is_honoured)
{
	static const size_t pick[] = { 0, 1 };
	char tags[128];
	struct manual o = {
		.keyfile = "ed25519.pem", .alg = "ed25519-sha256", .hc = CANON_RELAXED,
		.bc = CANON_SIMPLE, .tags = tags, .h = "from:subject", .pick = pick,
		.npick = 2, .l = lcases[_i].l,
	};
	char *rec = record_for("ed25519.pem", NULL), *sig;
	struct msg m;
	struct result r;

	snprintf(tags, sizeof(tags), "d=example.com; s=sel; l=%lld;", lcases[_i].l);
	memset(&m, 0, sizeof(m));
	msg_add(&m, 0, "From: joe@example.com", 21);
	msg_add(&m, 1, "Subject: hi", 11);
	msg_set_body(&m, "Hello\r\nJoe\r\n", 12);
	sig = manual_sign(&o, &m);
	msg_add(&m, 0, sig, strlen(sig));
	msg_set_body(&m, lcases[_i].body_after, strlen(lcases[_i].body_after));
	r = verify_one_key(&m, rec);
	ck_assert_msg(r.status == lcases[_i].want, "%s: got %s (%s)", lcases[_i].what,
	    dkim_status_name(r.status), r.reason);
	if (r.status == DKIM_PASS)
		ck_assert_int_eq(r.partial_body, lcases[_i].partial);
	if (lcases[_i].reason != NULL)
		ck_assert_msg(strstr(r.reason, lcases[_i].reason) != NULL, "reason '%s'",
		    r.reason);
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

/* ---- keys and key records ---------------------------------------------------- */

enum signer_kind { BY_ENGINE_RSA, BY_ENGINE_ED, BY_ENGINE_RSA512, BY_HAND_SHA1 };

static const struct {
	const char *what;
	enum signer_kind by;
	const char *identity;		/* i= for engine signatures */
	const char *keyfile;		/* record from this key, or NULL for txt */
	const char *extra;		/* appended to that record */
	const char *txt[2];		/* explicit records */
	enum dkim_keystate state;
	enum dkim_status want;
	const char *reason;
} keycases[] = {
	{ "RSA key found", BY_ENGINE_RSA, NULL, "rsa2048-pkcs1.pem", NULL, { NULL },
	  DKIM_KEY_FOUND, DKIM_PASS, "good" },
	{ "key in testing mode", BY_ENGINE_RSA, NULL, "rsa2048-pkcs1.pem", "; t=y", { NULL },
	  DKIM_KEY_FOUND, DKIM_PASS, "t=y" },
	{ "RSA 512-bit key", BY_ENGINE_RSA512, NULL, "rsa512.pem", NULL, { NULL },
	  DKIM_KEY_FOUND, DKIM_POLICY, "512" },
	{ "Ed25519 signature, RSA record", BY_ENGINE_ED, NULL, "rsa2048-pkcs1.pem", NULL,
	  { NULL }, DKIM_KEY_FOUND, DKIM_PERMERROR, "k=" },
	{ "RSA signature, Ed25519 record", BY_ENGINE_RSA, NULL, "ed25519.pem", NULL, { NULL },
	  DKIM_KEY_FOUND, DKIM_PERMERROR, "k=" },
	{ "another RSA key published", BY_ENGINE_RSA, NULL, "rsa1024.pem", NULL, { NULL },
	  DKIM_KEY_FOUND, DKIM_FAIL, "signature" },
	{ "revoked key", BY_ENGINE_RSA, NULL, NULL, NULL, { "v=DKIM1; k=rsa; p=", NULL },
	  DKIM_KEY_FOUND, DKIM_PERMERROR, "revoked" },
	{ "no key (NXDOMAIN)", BY_ENGINE_RSA, NULL, NULL, NULL, { NULL }, DKIM_KEY_MISSING,
	  DKIM_PERMERROR, "no key" },
	{ "record found but empty list", BY_ENGINE_RSA, NULL, NULL, NULL, { NULL },
	  DKIM_KEY_FOUND, DKIM_PERMERROR, "no key" },
	{ "lookup failed (SERVFAIL)", BY_ENGINE_RSA, NULL, NULL, NULL, { NULL },
	  DKIM_KEY_TEMPFAIL, DKIM_TEMPERROR, "SERVFAIL" },
	{ "garbage record", BY_ENGINE_ED, NULL, NULL, NULL, { "hello world", NULL },
	  DKIM_KEY_FOUND, DKIM_PERMERROR, "syntax" },
	{ "garbage then a good record", BY_ENGINE_ED, NULL, "ed25519.pem", NULL,
	  { "v=spf1 -all", NULL }, DKIM_KEY_FOUND, DKIM_PASS, NULL },
	{ "record allows only sha1", BY_ENGINE_RSA, NULL, "rsa2048-pkcs1.pem", "; h=sha1",
	  { NULL }, DKIM_KEY_FOUND, DKIM_PERMERROR, "sha256" },
	{ "record not for e-mail", BY_ENGINE_RSA, NULL, "rsa2048-pkcs1.pem", "; s=tlsrpt",
	  { NULL }, DKIM_KEY_FOUND, DKIM_PERMERROR, "e-mail" },
	{ "t=s with i= in a subdomain", BY_ENGINE_RSA, "joe@sub.example.com",
	  "rsa2048-pkcs1.pem", "; t=s", { NULL }, DKIM_KEY_FOUND, DKIM_PERMERROR, "t=s" },
	{ "t=s with i= of d= itself", BY_ENGINE_RSA, "joe@example.com", "rsa2048-pkcs1.pem",
	  "; t=s", { NULL }, DKIM_KEY_FOUND, DKIM_PASS, NULL },
	{ "rsa-sha1 that verifies is refused", BY_HAND_SHA1, NULL, "rsa1024.pem", NULL,
	  { NULL }, DKIM_KEY_FOUND, DKIM_POLICY, "sha1" },
	{ "rsa-sha1 with the wrong key fails", BY_HAND_SHA1, NULL, "rsa2048-pkcs1.pem", NULL,
	  { NULL }, DKIM_KEY_FOUND, DKIM_FAIL, NULL },
	{ "rsa-sha1 key lookup failure", BY_HAND_SHA1, NULL, NULL, NULL, { NULL },
	  DKIM_KEY_TEMPFAIL, DKIM_TEMPERROR, NULL },
};

START_TEST(key_lookup_outcomes)
{
	struct keyent k = { "sel", keycases[_i].state, { NULL, NULL } };
	struct result r[MAXRES];
	char *rec = NULL, *sig;
	struct msg m;

	msg_basic(&m);
	if (keycases[_i].by == BY_HAND_SHA1) {
		static const size_t pick[] = { 1, 3 };
		struct manual o = {
			.keyfile = "rsa1024.pem", .alg = "rsa-sha1", .hc = CANON_RELAXED,
			.bc = CANON_RELAXED, .tags = "d=example.com; s=sel;",
			.h = "from:subject", .pick = pick, .npick = 2, .l = -1,
		};

		sig = manual_sign(&o, &m);
	} else {
		struct crypto_key *key = tu_load_key(keycases[_i].by == BY_ENGINE_ED ?
		    "ed25519.pem" : keycases[_i].by == BY_ENGINE_RSA512 ? "rsa512.pem" :
		    "rsa2048-pkcs1.pem");
		struct signopt o = { .hc = CANON_RELAXED, .bc = CANON_RELAXED,
		    .identity = keycases[_i].identity };

		sig = engine_sign(key, &o, &m);
		crypto_key_unref(key);
	}
	msg_add(&m, 0, sig, strlen(sig));
	k.txt[0] = keycases[_i].txt[0];
	if (keycases[_i].keyfile != NULL) {
		rec = record_for(keycases[_i].keyfile, keycases[_i].extra);
		k.txt[k.txt[0] ? 1 : 0] = rec;
	}
	ck_assert_uint_eq(engine_verify(&m, &k, 1, r), 1);
	ck_assert_msg(r[0].status == keycases[_i].want, "%s: got %s (%s)", keycases[_i].what,
	    dkim_status_name(r[0].status), r[0].reason);
	if (keycases[_i].reason != NULL)
		ck_assert_msg(strstr(r[0].reason, keycases[_i].reason) != NULL,
		    "%s: reason '%s'", keycases[_i].what, r[0].reason);
	if (strstr(keycases[_i].what, "testing"))
		ck_assert_int_eq(r[0].testing, 1);
	free(rec);
	free(sig);
	msg_free(&m);
}
END_TEST

START_TEST(no_key_supplied_is_temperror)
{
	struct crypto_key *key = tu_load_key("ed25519.pem");
	struct signopt o = { .hc = CANON_RELAXED, .bc = CANON_RELAXED };
	struct result r[MAXRES];
	struct msg m;
	char *sig;

	msg_basic(&m);
	sig = engine_sign(key, &o, &m);
	msg_add(&m, 0, sig, strlen(sig));
	ck_assert_uint_eq(engine_verify(&m, NULL, 0, r), 1);	/* answered MISSING */
	ASSERT_RESULT(r[0], DKIM_PERMERROR, "no key");
	{
		/* Never answered at all. */
		struct dkim *d = dkim_create(NOW);
		size_t i;

		dkim_enable_verify(d, 4);
		for (i = 0; i < m.nh; i++)
			ck_assert_int_eq(dkim_header(d, m.h[i], strlen(m.h[i])), 0);
		ck_assert_int_eq(dkim_eoh(d), 0);
		ck_assert_int_eq(dkim_verdict(d, 0)->key_needed, 1);
		ck_assert_int_eq(dkim_body(d, m.body, m.blen), 0);
		ck_assert_int_eq(dkim_eom(d), 0);
		ck_assert_int_eq(dkim_verdict(d, 0)->status, DKIM_TEMPERROR);
		ck_assert_ptr_null(dkim_verdict(d, 1));
		dkim_free(d);
	}
	free(sig);
	msg_free(&m);
	crypto_key_unref(key);
}
END_TEST

START_TEST(expiry_honours_the_clock_allowance)
{
	struct crypto_key *key = tu_load_key("ed25519.pem");
	char *rec = tu_key_record(key, NULL), *sig;
	struct keyent k = { "sel", DKIM_KEY_FOUND, { rec, NULL } };
	struct signopt o = { .hc = CANON_RELAXED, .bc = CANON_RELAXED, .lifetime = 3600 };
	struct result r[MAXRES];
	struct msg m;

	msg_basic(&m);
	sig = engine_sign(key, &o, &m);
	ck_assert_ptr_nonnull(strstr(sig, "x=1700003600;"));
	msg_add(&m, 0, sig, strlen(sig));
	engine_verify_at(&m, &k, 1, 0, NOW + 3600, 4, r);
	ASSERT_RESULT(r[0], DKIM_PASS, NULL);
	engine_verify_at(&m, &k, 1, 0, NOW + 3600 + SIG_CLOCK_ALLOWANCE, 4, r);
	ASSERT_RESULT(r[0], DKIM_PASS, NULL);
	engine_verify_at(&m, &k, 1, 0, NOW + 3600 + SIG_CLOCK_ALLOWANCE + 1, 4, r);
	ASSERT_RESULT(r[0], DKIM_PERMERROR, "expired");
	free(sig);
	free(rec);
	msg_free(&m);
	crypto_key_unref(key);
}
END_TEST

/* ---- hostile input ------------------------------------------------------------- */

/* A signed message, its key record, ready for abuse. */
static char *
signed_basic(struct msg *m, char **rec)
{
	struct crypto_key *key = tu_load_key("ed25519.pem");
	struct signopt o = { .hc = CANON_RELAXED, .bc = CANON_RELAXED };
	char *sig;

	msg_basic(m);
	sig = engine_sign(key, &o, m);
	msg_add(m, 0, sig, strlen(sig));
	*rec = tu_key_record(key, NULL);
	crypto_key_unref(key);
	return sig;
}

START_TEST(oversized_header_field_fails_the_message)
{
	struct msg m;
	char *rec, *sig = signed_basic(&m, &rec), *big;
	size_t n = LIMIT_HEADER_FIELD + 10;
	struct dkim *d;
	size_t i;

	big = malloc(n + 1);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', n - 7);
	big[n] = '\0';
	/* Verifying: every signature becomes permerror. */
	d = dkim_create(NOW);
	dkim_enable_verify(d, 4);
	for (i = 0; i < m.nh; i++)
		ck_assert_int_eq(dkim_header(d, m.h[i], strlen(m.h[i])), 0);
	ck_assert_int_eq(dkim_header(d, big, n), -1);
	ck_assert_int_eq(dkim_eoh(d), 0);
	ck_assert_uint_eq(dkim_nverdicts(d), 1);
	ck_assert_int_eq(dkim_verdict(d, 0)->status, DKIM_PERMERROR);
	ck_assert_int_eq(dkim_verdict(d, 0)->key_needed, 0);
	ck_assert_int_eq(dkim_body(d, m.body, m.blen), 0);
	ck_assert_int_eq(dkim_eom(d), 0);
	ck_assert_int_eq(dkim_verdict(d, 0)->status, DKIM_PERMERROR);
	ck_assert_ptr_nonnull(strstr(dkim_verdict(d, 0)->reason, "too large"));
	dkim_free(d);
	/* Signing: the message is not signed. */
	{
		struct crypto_key *key = tu_load_key("ed25519.pem");
		struct dkim_signer s = {
			.key = key, .domain = "example.com", .selector = "sel",
			.hcanon = CANON_RELAXED, .bcanon = CANON_RELAXED,
			.headers = dkim_default_headers, .nheaders = dkim_default_nheaders,
			.oversign = dkim_default_oversign, .noversign = dkim_default_noversign,
		};
		char err[256];

		d = dkim_create(NOW);
		ck_assert_int_eq(dkim_add_signer(d, &s, err, sizeof(err)), 0);
		ck_assert_int_eq(dkim_header(d, "From: a@example.com", 19), 0);
		ck_assert_int_eq(dkim_header(d, big, n), -1);
		dkim_eoh(d);
		ck_assert_int_eq(dkim_eom(d), -1);
		ck_assert_ptr_nonnull(strstr(dkim_error(d), "too large"));
		ck_assert_uint_eq(dkim_nsignatures(d) == 0 || dkim_signature(d, 0)[0] == '\0', 1);
		dkim_free(d);
		crypto_key_unref(key);
	}
	free(big);
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

START_TEST(too_many_header_fields_fail_the_message)
{
	struct msg m;
	char *rec, *sig = signed_basic(&m, &rec);
	struct dkim *d = dkim_create(NOW);
	size_t i, accepted = 0;

	dkim_enable_verify(d, 4);
	for (i = 0; i < m.nh; i++)
		accepted += dkim_header(d, m.h[i], strlen(m.h[i])) == 0;
	for (i = 0; i < LIMIT_HEADER_COUNT + 50; i++)
		accepted += dkim_header(d, "Received: x", 11) == 0;
	ck_assert_uint_eq(accepted, LIMIT_HEADER_COUNT);
	ck_assert_int_eq(dkim_eoh(d), 0);
	ck_assert_int_eq(dkim_body(d, m.body, m.blen), 0);
	ck_assert_int_eq(dkim_eom(d), 0);
	ck_assert_uint_eq(dkim_nverdicts(d), 1);
	ck_assert_int_eq(dkim_verdict(d, 0)->status, DKIM_PERMERROR);
	dkim_free(d);
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

START_TEST(thousands_of_signatures_are_bounded)
{
	struct msg m;
	char *rec, *sig = signed_basic(&m, &rec);
	struct dkim *d = dkim_create(NOW);
	size_t lens[1];
	const char *txt[1];
	size_t i, n, pass = 0, skipped = 0, failed = 0;

	/* The good signature first, then 3000 forgeries after it. */
	dkim_enable_verify(d, 5);
	ck_assert_int_eq(dkim_header(d, m.h[0], strlen(m.h[0])), 0);
	for (i = 0; i < 3000; i++) {
		static const char forged[] = "DKIM-Signature: v=1; a=ed25519-sha256; "
		    "d=example.com; s=sel; h=from; bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=;"
		    " b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBhdCBhbGwgYnV0IGl0IGlzIDY0IGJ5dGVzIGxvbmcgISE=";

		dkim_header(d, forged, strlen(forged));
	}
	for (i = 1; i < m.nh; i++)
		dkim_header(d, m.h[i], strlen(m.h[i]));
	ck_assert_int_eq(dkim_eoh(d), 0);
	n = dkim_nverdicts(d);
	ck_assert_uint_ge(n, 5);
	ck_assert_uint_le(n, LIMIT_SIGNATURES);
	txt[0] = rec;
	lens[0] = strlen(rec);
	for (i = 0; i < n; i++)
		if (dkim_verdict(d, i)->key_needed)
			dkim_set_key(d, i, DKIM_KEY_FOUND, txt, lens, 1, NULL, NULL);
	ck_assert_int_eq(dkim_body(d, m.body, m.blen), 0);
	ck_assert_int_eq(dkim_eom(d), 0);
	for (i = 0; i < n; i++) {
		const struct dkim_verdict *v = dkim_verdict(d, i);

		ck_assert_int_ne(v->status, DKIM_NONE);
		ck_assert_str_ne(v->reason, "");
		pass += v->status == DKIM_PASS;
		skipped += v->skipped;
		failed += v->status == DKIM_FAIL || v->status == DKIM_PERMERROR;
	}
	/* The whole header may not fit; either way nothing forged passes. */
	ck_assert_uint_le(pass, 1);
	ck_assert_uint_eq(pass + skipped + failed, n);
	if (pass == 1)
		ck_assert_int_eq(dkim_verdict(d, 0)->status, DKIM_PASS);
	dkim_free(d);
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

START_TEST(hundreds_of_signatures_within_limits_verify_first_ones)
{
	struct msg m;
	char *rec, *sig = signed_basic(&m, &rec);
	struct keyent k = { "sel", DKIM_KEY_FOUND, { NULL, NULL } };
	struct result r[MAXRES];
	size_t i, n;

	k.txt[0] = rec;
	/* 300 copies of a real signature: 300 * ~400 bytes fits the header limit. */
	for (i = 0; i < 299; i++)
		msg_add(&m, 0, sig, strlen(sig));
	n = engine_verify_at(&m, &k, 1, 0, NOW, 3, r);
	ck_assert_uint_eq(n, LIMIT_SIGNATURES);
	for (i = 0; i < n; i++) {
		if (i < 3)
			ASSERT_RESULT(r[i], DKIM_PASS, NULL);
		else {
			ck_assert_int_eq(r[i].skipped, 1);
			ck_assert_int_eq(r[i].status, DKIM_POLICY);
		}
	}
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

START_TEST(nul_bytes_in_headers_and_body_round_trip)
{
	struct crypto_key *key = tu_load_key("rsa2048-pkcs1.pem");
	char *rec = tu_key_record(key, NULL), *sig;
	struct signopt o = { .hc = CANON_SIMPLE, .bc = CANON_SIMPLE };
	struct msg m;
	struct result r;
	int hc;

	for (hc = 0; hc < 2; hc++) {
		struct dkim *d;

		o.hc = o.bc = hc ? CANON_RELAXED : CANON_SIMPLE;
		memset(&m, 0, sizeof(m));
		msg_add(&m, 0, "From: joe@example.com", 21);
		msg_set_body(&m, "a\0b\r\n\0\r\n", 8);
		sig = engine_sign(key, &o, &m);
		msg_add(&m, 0, sig, strlen(sig));
		r = verify_one_key(&m, rec);
		ASSERT_RESULT(r, DKIM_PASS, NULL);
		m.body[2] = 'c';
		r = verify_one_key(&m, rec);
		ASSERT_RESULT(r, DKIM_FAIL, "body hash");
		/* A header field with a NUL inside: fed with its length, it is signed as is. */
		d = dkim_create(NOW);
		ck_assert_int_eq(dkim_header(d, "Subject: a\0b", 12), 0);
		dkim_free(d);
		free(sig);
		msg_free(&m);
	}
	/* NUL inside a DKIM-Signature field: permerror, not a truncated parse. */
	{
		struct dkim *d = dkim_create(NOW);
		static const char f[] = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; "
		    "s=sel; h=from; bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=; b=YWJj\0ZGVm";

		dkim_enable_verify(d, 4);
		ck_assert_int_eq(dkim_header(d, f, sizeof(f) - 1), 0);
		ck_assert_int_eq(dkim_header(d, "From: joe@example.com", 21), 0);
		ck_assert_int_eq(dkim_eoh(d), 0);
		ck_assert_uint_eq(dkim_nverdicts(d), 1);
		ck_assert_int_eq(dkim_verdict(d, 0)->status, DKIM_PERMERROR);
		ck_assert_ptr_nonnull(strstr(dkim_verdict(d, 0)->reason, "NUL"));
		ck_assert_int_eq(dkim_eom(d), 0);
		dkim_free(d);
	}
	free(rec);
	crypto_key_unref(key);
}
END_TEST

START_TEST(nul_byte_in_a_signed_header_round_trips)
{
	struct crypto_key *key = tu_load_key("ed25519.pem");
	char *rec = tu_key_record(key, NULL);
	struct dkim_signer s = {
		.key = key, .domain = "example.com", .selector = "sel",
		.hcanon = CANON_RELAXED, .bcanon = CANON_SIMPLE,
		.headers = dkim_default_headers, .nheaders = dkim_default_nheaders,
		.oversign = dkim_default_oversign, .noversign = dkim_default_noversign,
	};
	static const char subj[] = "Subject: a\0b";
	struct dkim *d = dkim_create(NOW);
	const char *txt[1] = { rec };
	size_t lens[1] = { strlen(rec) };
	char err[256], *sig;

	ck_assert_int_eq(dkim_add_signer(d, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(dkim_header(d, "From: joe@example.com", 21), 0);
	ck_assert_int_eq(dkim_header(d, subj, sizeof(subj) - 1), 0);
	ck_assert_int_eq(dkim_eoh(d), 0);
	ck_assert_int_eq(dkim_body(d, "x\r\n", 3), 0);
	ck_assert_int_eq(dkim_eom(d), 0);
	sig = strdup(dkim_signature(d, 0));
	dkim_free(d);
	/* Verify with the same NUL: pass; with the byte after it changed: fail. */
	for (int round = 0; round < 2; round++) {
		char changed[sizeof(subj)];

		memcpy(changed, subj, sizeof(subj));
		if (round == 1)
			changed[11] = 'c';
		d = dkim_create(NOW);
		dkim_enable_verify(d, 2);
		ck_assert_int_eq(dkim_header(d, sig, strlen(sig)), 0);
		ck_assert_int_eq(dkim_header(d, "From: joe@example.com", 21), 0);
		ck_assert_int_eq(dkim_header(d, changed, sizeof(subj) - 1), 0);
		ck_assert_int_eq(dkim_eoh(d), 0);
		dkim_set_key(d, 0, DKIM_KEY_FOUND, txt, lens, 1, NULL, NULL);
		ck_assert_int_eq(dkim_body(d, "x\r\n", 3), 0);
		ck_assert_int_eq(dkim_eom(d), 0);
		ck_assert_int_eq(dkim_verdict(d, 0)->status, round == 0 ? DKIM_PASS : DKIM_FAIL);
		dkim_free(d);
	}
	free(sig);
	free(rec);
	crypto_key_unref(key);
}
END_TEST

START_TEST(invalid_base64_in_a_real_signature_is_permerror)
{
	struct msg m;
	char *rec, *sig = signed_basic(&m, &rec), *b;
	struct result r;

	b = strstr(m.h[0], " b=");
	ck_assert_ptr_nonnull(b);
	b[5] = '!';
	r = verify_one_key(&m, rec);
	ASSERT_RESULT(r, DKIM_PERMERROR, "base64");
	ck_assert_str_eq(r.d, "example.com");
	free(sig);
	free(rec);
	msg_free(&m);
}
END_TEST

START_TEST(ten_megabyte_body_of_crlf_signs_and_verifies)
{
	static const size_t total = 10 * 1024 * 1024;
	struct crypto_key *key = tu_load_key("ed25519.pem");
	char *rec = tu_key_record(key, NULL);
	int c;

	for (c = 0; c < 2; c++) {
		struct signopt o = { .hc = CANON_RELAXED, .bc = c ? CANON_RELAXED : CANON_SIMPLE,
		    .chunk = 65535 };
		struct msg m;
		struct result r;
		char *sig;
		size_t i;

		memset(&m, 0, sizeof(m));
		msg_add(&m, 0, "From: joe@example.com", 21);
		m.body = malloc(total);
		for (i = 0; i < total; i += 2)
			memcpy(m.body + i, "\r\n", 2);
		m.blen = total;
		sig = engine_sign(key, &o, &m);
		/* The body canonicalizes to the empty body. */
		ck_assert_ptr_nonnull(strstr(sig, c ?
		    "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" :
		    "bh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="));
		msg_add(&m, 0, sig, strlen(sig));
		r = verify_one_key(&m, rec);
		ASSERT_RESULT(r, DKIM_PASS, NULL);
		free(sig);
		msg_free(&m);
	}
	free(rec);
	crypto_key_unref(key);
}
END_TEST

/* ---- session API --------------------------------------------------------------- */

START_TEST(session_misuse_is_refused)
{
	struct crypto_key *key = tu_load_key("ed25519.pem");
	struct dkim_signer s = {
		.key = key, .domain = "example.com", .selector = "sel",
		.headers = dkim_default_headers, .nheaders = dkim_default_nheaders,
		.oversign = dkim_default_oversign, .noversign = dkim_default_noversign,
	};
	struct dkim_signer nokey = s;
	struct dkim *d = dkim_create(NOW);
	char err[256];
	int i;

	nokey.key = NULL;
	ck_assert_int_eq(dkim_add_signer(d, &nokey, err, sizeof(err)), -1);
	for (i = 0; i < LIMIT_SIGNERS; i++)
		ck_assert_int_eq(dkim_add_signer(d, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(dkim_add_signer(d, &s, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too many"));
	ck_assert_int_eq(dkim_header(d, "From: joe@example.com", 21), 0);
	ck_assert_int_eq(dkim_eoh(d), 0);
	/* A second end of header is refused (it parsed everything again: fuzz_milter). */
	ck_assert_int_eq(dkim_eoh(d), -1);
	ck_assert_ptr_nonnull(strstr(dkim_error(d), "twice"));
	ck_assert_int_eq(dkim_add_signer(d, &s, err, sizeof(err)), -1);
	ck_assert_int_eq(dkim_eom(d), 0);
	ck_assert_uint_eq(dkim_nsignatures(d), LIMIT_SIGNERS);
	ck_assert_ptr_null(dkim_signature(d, LIMIT_SIGNERS));
	/* No signatures to verify: no verdicts, out-of-range lookups are NULL. */
	ck_assert_uint_eq(dkim_nverdicts(d), 0);
	ck_assert_ptr_null(dkim_verdict(d, 0));
	dkim_set_key(d, 7, DKIM_KEY_FOUND, NULL, NULL, 0, NULL, NULL);
	dkim_skip(d, 7);
	dkim_free(d);
	dkim_free(NULL);
	crypto_key_unref(key);
}
END_TEST

/* A repeated end of header in a verifying session keeps the first parse (fuzz_milter). */
START_TEST(end_of_header_twice_keeps_the_verdicts)
{
	static const char sigf[] = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; "
	    "h=from; bh=AAAA; b=AAAA";
	struct dkim *d = dkim_create(NOW);

	dkim_enable_verify(d, 8);
	ck_assert_int_eq(dkim_header(d, sigf, strlen(sigf)), 0);
	ck_assert_int_eq(dkim_header(d, "From: a@example.com", 19), 0);
	ck_assert_int_eq(dkim_eoh(d), 0);
	ck_assert_uint_eq(dkim_nverdicts(d), 1);
	ck_assert_int_eq(dkim_eoh(d), -1);
	ck_assert_uint_eq(dkim_nverdicts(d), 1);
	ck_assert_ptr_nonnull(dkim_verdict(d, 0)->sig);
	ck_assert_str_eq(dkim_verdict(d, 0)->sig->d, "example.com");
	dkim_free(d);
}
END_TEST

START_TEST(from_field_is_reported_with_its_count)
{
	struct dkim *d = dkim_create(NOW);
	size_t n = 99;

	ck_assert_ptr_null(dkim_from(d, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(dkim_header(d, "Subject: x", 10), 0);
	ck_assert_int_eq(dkim_header(d, "FROM : Joe\r\n <joe@example.com>", 30), 0);
	ck_assert_int_eq(dkim_header(d, "From: other@example.net", 23), 0);
	ck_assert_str_eq(dkim_from(d, &n), " Joe <joe@example.com>");
	ck_assert_uint_eq(n, 2);
	dkim_free(d);
}
END_TEST

/* Only folding is undone: a bare CR or LF stays for the From: parser to refuse. */
static const struct {
	const char *field;
	const char *value;
} from_unfold[] = {
	{ "From: Joe\r\n <joe@example.com>", " Joe <joe@example.com>" },
	{ "From: Joe\n\t<joe@example.com>", " Joe\t<joe@example.com>" },
	{ "From: joe@example.com\rX", " joe@example.com\rX" },
	{ "From: joe@example.com\nX", " joe@example.com\nX" },
	{ "From: joe@exam\r\n ple.com", " joe@exam ple.com" },
	{ "From: joe@example.com\r\n", " joe@example.com\r\n" },
};

START_TEST(from_field_is_unfolded_only)
{
	struct dkim *d = dkim_create(NOW);
	size_t n;

	ck_assert_int_eq(dkim_header(d, from_unfold[_i].field, strlen(from_unfold[_i].field)), 0);
	ck_assert_str_eq(dkim_from(d, &n), from_unfold[_i].value);
	dkim_free(d);
}
END_TEST

/*
 * RFC 6376 5.4: From must be signed. A message without a From field, or a
 * header list that leaves From out, gets no signature and an error, not a
 * signature every verifier refuses. (Found by t/fuzz/fuzz_sign: a field
 * named "F\x1d\0\0\0rom" was signed with h= lacking from.)
 */
static const struct {
	const char *name;
	const char *fields[3];
	int sign_from;		/* From in the signer's header list */
	int oversign;		/* default oversigning (lists from once more) */
	const char *error;	/* NULL: signing succeeds */
} from_cases[] = {
	{ "no From field", { "Subject: hi", "To: a@example.org", NULL }, 1, 0,
	  "no From: header field to sign" },
	{ "no From field, From oversigned", { "Subject: hi", NULL }, 1, 1,
	  "no From: header field to sign" },
	{ "From name with control bytes", { "F\x1drom: a@example.com", NULL }, 1, 0,
	  "no From: header field to sign" },
	{ "header list without From", { "From: a@example.com", "Subject: hi", NULL }, 0, 0,
	  "From is not among the signed header fields" },
	{ "From present and listed", { "From: a@example.com", "Subject: hi", NULL }, 1, 0,
	  NULL },
};

START_TEST(signing_requires_a_signed_from)
{
	static const char *const no_from[] = { "subject", "to" };
	struct crypto_key *key = tu_load_key("ed25519.pem");
	struct dkim_signer s = {
		.key = key, .domain = "example.com", .selector = "sel",
		.headers = dkim_default_headers, .nheaders = dkim_default_nheaders,
	};
	struct dkim *d = dkim_create(NOW);
	char err[256];
	size_t k;
	int rc;

	if (!from_cases[_i].sign_from) {
		s.headers = no_from;
		s.nheaders = 2;
	}
	if (from_cases[_i].oversign) {
		s.oversign = dkim_default_oversign;
		s.noversign = dkim_default_noversign;
	}
	ck_assert_int_eq(dkim_add_signer(d, &s, err, sizeof(err)), 0);
	for (k = 0; from_cases[_i].fields[k] != NULL; k++)
		ck_assert_int_eq(dkim_header(d, from_cases[_i].fields[k],
		    strlen(from_cases[_i].fields[k])), 0);
	ck_assert_int_eq(dkim_eoh(d), 0);
	ck_assert_int_eq(dkim_body(d, "x\r\n", 3), 0);
	rc = dkim_eom(d);
	if (from_cases[_i].error == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", from_cases[_i].name, dkim_error(d));
		ck_assert_uint_eq(dkim_nsignatures(d), 1);
	} else {
		ck_assert_msg(rc == -1, "%s: signed", from_cases[_i].name);
		ck_assert_msg(strstr(dkim_error(d), from_cases[_i].error) != NULL, "%s: %s",
		    from_cases[_i].name, dkim_error(d));
	}
	dkim_free(d);
	crypto_key_unref(key);
}
END_TEST

static Suite *
dkim_suite(void)
{
	Suite *s = suite_create("dkim");
	TCase *rfc = tu_tcase("rfc8463");
	TCase *trip = tu_tcase("round-trip");
	TCase *sel = tu_tcase("selection");
	TCase *keys = tu_tcase("keys");
	TCase *hostile = tu_tcase("hostile");

	tcase_add_test(rfc, rfc8463_example_both_signatures_pass);
	suite_add_tcase(s, rfc);

	tcase_add_loop_test(trip, sign_then_verify_passes, 0, sizeof(trips) / sizeof(trips[0]));
	tcase_add_test(trip, signature_verifies_wherever_b_is_folded);
	tcase_add_loop_test(trip, changes_break_what_they_should, 0,
	    sizeof(changes) / sizeof(changes[0]));
	suite_add_tcase(s, trip);

	tcase_add_test(sel, oversigned_from_added_anywhere_fails);
	tcase_add_loop_test(sel, h_names_select_fields_bottom_up, 0,
	    sizeof(picks) / sizeof(picks[0]));
	tcase_add_loop_test(sel, body_length_limit_is_honoured, 0,
	    sizeof(lcases) / sizeof(lcases[0]));
	suite_add_tcase(s, sel);

	tcase_add_loop_test(keys, key_lookup_outcomes, 0, sizeof(keycases) / sizeof(keycases[0]));
	tcase_add_test(keys, no_key_supplied_is_temperror);
	tcase_add_test(keys, expiry_honours_the_clock_allowance);
	suite_add_tcase(s, keys);

	tcase_set_timeout(hostile, 120);
	tcase_add_test(hostile, oversized_header_field_fails_the_message);
	tcase_add_test(hostile, too_many_header_fields_fail_the_message);
	tcase_add_test(hostile, thousands_of_signatures_are_bounded);
	tcase_add_test(hostile, hundreds_of_signatures_within_limits_verify_first_ones);
	tcase_add_test(hostile, nul_bytes_in_headers_and_body_round_trip);
	tcase_add_test(hostile, nul_byte_in_a_signed_header_round_trips);
	tcase_add_test(hostile, invalid_base64_in_a_real_signature_is_permerror);
	tcase_add_test(hostile, ten_megabyte_body_of_crlf_signs_and_verifies);
	tcase_add_test(hostile, session_misuse_is_refused);
	tcase_add_test(hostile, end_of_header_twice_keeps_the_verdicts);
	tcase_add_test(hostile, from_field_is_reported_with_its_count);
	tcase_add_loop_test(hostile, from_field_is_unfolded_only, 0,
	    sizeof(from_unfold) / sizeof(from_unfold[0]));
	tcase_add_loop_test(hostile, signing_requires_a_signed_from, 0,
	    sizeof(from_cases) / sizeof(from_cases[0]));
	suite_add_tcase(s, hostile);
	return s;
}

int
main(void)
{
	return tu_run(dkim_suite());
}
