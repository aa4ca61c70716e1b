/*
 * keyrec.c - key record interpretation (see keyrec.h).
 *
 * Every check adds a finding; the first check that a verifier must refuse
 * the record for also sets the reason. The checks run in the order the
 * findings are listed, so the reason is always that of the first failing
 * tag, as a receiver reading the record from the left would find it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "keyrec.h"
#include "tagval.h"

struct exam {
	struct keyrec *kr;
	struct keyrec_findings *out;	/* may be NULL */
	char *reason;
	size_t reasonlen;
	int failed;			/* a reason has been set */
	int tags_ok;			/* tags allow sha256 e-mail signatures */
};

/* Add a finding (ignored without a findings list); returns it, or NULL. */
static struct keyrec_finding *
add(struct exam *x, enum keyrec_verdict v, const char *code)
{
	struct keyrec_finding *f;

	if (x->out == NULL || x->out->n >= KEYREC_MAX_FINDINGS)
		return NULL;
	f = &x->out->f[x->out->n++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->verdict = v;
	return f;
}

/* A finding carrying an excerpt of a tag's value. */
static void
add_val(struct exam *x, enum keyrec_verdict v, const char *code,
    const struct tagval_pair *p, size_t max, int flag)
{
	struct keyrec_finding *f = add(x, v, code);
	size_t i, o = 0;

	if (f == NULL)
		return;
	f->flag = flag;
	for (i = 0; p != NULL && i < p->vlen && i < max && o + 2 < sizeof(f->val); i++)
		f->val[o++] = (p->val[i] >= 0x20 && p->val[i] < 0x7f) ? p->val[i] : '?';
	if (p != NULL && i < p->vlen && o + 4 < sizeof(f->val)) {
		memcpy(f->val + o, "...", 3);
		o += 3;
	}
	f->val[o] = '\0';
}

/* The verifier's reason: the first one set wins. */
static void
refuse(struct exam *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
refuse(struct exam *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failed)
		return;
	x->failed = 1;
	va_start(ap, fmt);
	vsnprintf(x->reason, x->reasonlen, fmt, ap);
	va_end(ap);
}

/* 1 when the value starts or ends with a quote mark: quotes typed into a form. */
static int
quoted(const char *txt, size_t len)
{
	size_t s = 0, e = len;

	while (s < e && (txt[s] == ' ' || txt[s] == '\t'))
		s++;
	while (e > s && (txt[e - 1] == ' ' || txt[e - 1] == '\t'))
		e--;
	return e > s && (txt[s] == '"' || txt[e - 1] == '"');
}

/* v=, k=, h=, s= and t=. Returns the key type, or -1 when k= is unknown. */
static int
check_tags(struct exam *x, const struct tagval *tv)
{
	struct keyrec *kr = x->kr;
	const struct tagval_pair *p;
	int type = CRYPTO_RSA;

	/* v=, when present, must come first and be DKIM1. */
	if ((p = tagval_get(tv, "v")) == NULL)
		add(x, KEYREC_OK, "version-missing");
	else if (p != &tv->pairs[0] || !tagval_is(p, "DKIM1")) {
		add_val(x, KEYREC_FAIL, "version-bad", p, 20, p != &tv->pairs[0]);
		refuse(x, "key record has a bad version (v= must be DKIM1, first)");
		x->tags_ok = 0;
	} else {
		kr->has_version = 1;
		add(x, KEYREC_OK, "version-ok");
	}
	if ((p = tagval_get(tv, "k")) == NULL || tagval_is(p, "rsa"))
		add_val(x, KEYREC_OK, "type-rsa", NULL, 0, p == NULL);
	else if (tagval_is(p, "ed25519")) {
		type = CRYPTO_ED25519;
		add(x, KEYREC_OK, "type-ed25519");
	} else {
		add_val(x, KEYREC_FAIL, "type-unknown", p, 20, 0);
		refuse(x, "key record has an unknown key type (k=)");
		x->tags_ok = 0;
		type = -1;
	}
	kr->type = type < 0 ? CRYPTO_RSA : (enum crypto_type)type;
	if ((p = tagval_get(tv, "h")) == NULL)
		add_val(x, KEYREC_OK, "hash-ok", NULL, 0, 1);
	else {
		kr->sha256_ok = tagval_list_has(p, "sha256");
		kr->sha1_ok = tagval_list_has(p, "sha1");
		if (kr->sha256_ok)
			add(x, KEYREC_OK, "hash-ok");
		else {
			/* sha1 alone still lets a verifier report rsa-sha1 as policy. */
			add_val(x, KEYREC_FAIL, "hash-no-sha256", p, 30, 0);
			x->tags_ok = 0;
			if (!kr->sha1_ok)
				refuse(x, "key record does not allow sha256 (h=)");
		}
	}
	if ((p = tagval_get(tv, "s")) == NULL || tagval_list_has(p, "*") ||
	    tagval_list_has(p, "email"))
		add_val(x, KEYREC_OK, "service-ok", NULL, 0, p == NULL);
	else {
		kr->email_ok = 0;
		add_val(x, KEYREC_FAIL, "service-not-email", p, 30, 0);
		refuse(x, "key record is not for e-mail (s=)");
		x->tags_ok = 0;
	}
	if ((p = tagval_get(tv, "t")) != NULL) {
		kr->testing = tagval_list_has(p, "y");
		kr->strict = tagval_list_has(p, "s");
	}
	add(x, kr->testing ? KEYREC_WARN : KEYREC_OK, kr->testing ? "testing-on" :
	    "testing-off");
	return type;
}

/* The length a DER SEQUENCE at der claims for itself, or 0 if not one. */
static size_t
der_claimed(const unsigned char *der, size_t n)
{
	if (n < 2 || der[0] != 0x30)
		return 0;
	if (der[1] < 0x80)
		return 2 + (size_t)der[1];
	if (der[1] == 0x81 && n >= 3)
		return 3 + (size_t)der[2];
	if (der[1] == 0x82 && n >= 4)
		return 4 + ((size_t)der[2] << 8 | der[3]);
	return 0;
}

/* How openssl wraps an Ed25519 public key (RFC 8410): 12 bytes, then the key. */
static const unsigned char ed25519_spki[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
};

/* A bad-base64 finding. */
static void
bad_b64(struct exam *x, int flag, long pos, char c)
{
	struct keyrec_finding *f = add(x, KEYREC_FAIL, "key-bad-base64");

	if (f != NULL) {
		f->flag = flag;
		f->num = pos;
		f->val[0] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	refuse(x, "key record p= is not valid base64");
}

/* Decode p= (folding white space removed) into der; its length, or -1. */
static long
decode_key(struct exam *x, const struct tagval_pair *p, unsigned char *der,
    size_t derlen)
{
	/* Room for base64 of a full der[] buffer, so only absurd keys are cut. */
	char b64[2 * LIMIT_KEY_RECORD];
	long n = tagval_compact(p, b64, sizeof(b64)), i, len;
	struct keyrec_finding *f;

	if (n < 0) {
		bad_b64(x, KEYREC_B64_TOO_LONG, 0, '?');
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b64[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')) {
			bad_b64(x, c == '"' ? KEYREC_B64_QUOTE : c == '\\' ?
			    KEYREC_B64_BACKSLASH : KEYREC_B64_CHAR, i + 1, (char)c);
			return -1;
		}
	}
	if ((len = crypto_b64_decode(b64, (size_t)n, der, derlen)) >= 0)
		return len;
	if (n % 4 != 0 && memchr(b64, '=', (size_t)n) == NULL) {
		if ((f = add(x, KEYREC_FAIL, "key-truncated")) != NULL)
			f->num = n;
		refuse(x, "key record p= is not valid base64");
	} else
		bad_b64(x, KEYREC_B64_PADDING, 0, '=');
	return -1;
}

/* The key's size against RFC 8301's limits. */
static void
check_size(struct exam *x, enum crypto_type type, int bits)
{
	struct keyrec_finding *f;

	if (type == CRYPTO_ED25519)
		f = add(x, KEYREC_OK, "size-ok");
	else if (bits < LIMIT_RSA_MIN_BITS) {
		f = add(x, KEYREC_FAIL, "size-too-small");
		x->tags_ok = 0;
	} else if (bits < LIMIT_RSA_RECOMMENDED_BITS)
		f = add(x, KEYREC_WARN, "size-weak");
	else if (bits > LIMIT_RSA_MAX_BITS)
		f = add(x, KEYREC_WARN, "size-large");
	else
		f = add(x, KEYREC_OK, "size-ok");
	if (f != NULL)
		f->num = bits;
}

/* p=: present, not revoked, decodes and parses; then its size. */
static void
check_key(struct exam *x, const struct tagval *tv, enum crypto_type type)
{
	struct keyrec *kr = x->kr;
	const struct tagval_pair *p = tagval_get(tv, "p");
	unsigned char der[LIMIT_KEY_RECORD];
	struct keyrec_finding *f;
	char why[200];
	size_t claimed;
	long n;

	if (p == NULL) {
		add(x, KEYREC_FAIL, "key-missing");
		refuse(x, "key record has no public key (p= missing)");
		return;
	}
	if ((n = decode_key(x, p, der, sizeof(der))) < 0)
		return;
	if (n == 0) {
		kr->revoked = 1;
		add(x, KEYREC_FAIL, "key-revoked");
		return;
	}
	if (crypto_key_public(type, der, (size_t)n, &kr->key, why, sizeof(why)) < 0) {
		claimed = type == CRYPTO_RSA ? der_claimed(der, (size_t)n) : 0;
		if (claimed > (size_t)n) {
			if ((f = add(x, KEYREC_FAIL, "key-truncated")) != NULL) {
				f->flag = 1;
				f->num = (long)claimed;
				f->num2 = n;
			}
		} else if ((f = add(x, KEYREC_FAIL, "key-unparsable")) != NULL) {
			f->flag = type == CRYPTO_ED25519 && n == sizeof(ed25519_spki) + 32 &&
			    memcmp(der, ed25519_spki, sizeof(ed25519_spki)) == 0;
			str_copy(f->why, why, sizeof(f->why));
		}
		refuse(x, "key record p= unusable: %s", why);
		return;
	}
	kr->bits = crypto_key_bits(kr->key);
	/* OpenSSL counts 253 bits for Ed25519; everyone else says 256. */
	if ((f = add(x, KEYREC_OK, "key-ok")) != NULL)
		f->num = type == CRYPTO_ED25519 ? 256 : kr->bits;
	check_size(x, type, type == CRYPTO_ED25519 ? 256 : kr->bits);
	if (x->out != NULL)
		x->out->usable = x->tags_ok;
}

int
keyrec_examine(struct keyrec *kr, const char *txt, size_t len,
    struct keyrec_findings *out, char *reason, size_t reasonlen)
{
	struct exam x = { kr, out, reason, reasonlen, 0, 1 };
	struct keyrec_finding *f;
	struct tagval tv;
	const char *err;
	int type;

	memset(kr, 0, sizeof(*kr));
	kr->sha256_ok = kr->sha1_ok = kr->email_ok = 1;
	if (out != NULL) {
		out->n = 0;
		out->usable = 0;
	}
	if (quoted(txt, len))
		add(&x, KEYREC_FAIL, "record-quotes");
	if (tagval_parse(&tv, txt, len, &err) < 0) {
		if ((f = add(&x, KEYREC_FAIL, "syntax-error")) != NULL)
			str_copy(f->why, err, sizeof(f->why));
		refuse(&x, "key record syntax error: %s", err);
		return -1;
	}
	add(&x, KEYREC_OK, "syntax-ok");
	if ((type = check_tags(&x, &tv)) >= 0)
		check_key(&x, &tv, (enum crypto_type)type);
	if (x.failed) {
		/* A checker reading the findings may still compare the key. */
		if (out == NULL)
			keyrec_clear(kr);
		return -1;
	}
	return 0;
}

int
keyrec_parse(struct keyrec *kr, const char *txt, size_t len, char *reason,
    size_t reasonlen)
{
	return keyrec_examine(kr, txt, len, NULL, reason, reasonlen);
}

void
keyrec_clear(struct keyrec *kr)
{
	crypto_key_unref(kr->key);
	kr->key = NULL;
}
