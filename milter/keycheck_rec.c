/*
 * keycheck_rec.c - the checks of one TXT record set at a key's name: count,
 * syntax, tags, key data, key size, and whether it holds a given private
 * key's public half (see keycheck.h). No I/O, so the daemon can call it on
 * records it fetched itself, and unit tests on plain strings.
 *
 * A key that does not decode or parse is almost always a record cut short
 * (a DNS form that keeps 255 characters, or only the first of several quoted
 * strings published), so those findings look for the signs and say so.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "keycheck.h"
#include "tagval.h"

/* One DNS character-string: a record cut here by a form is truncated. */
#define TXT_STRING_MAX 255

/* Findings about one record of the set: prefixed when there are several. */
struct rec_ctx {
	struct keycheck *kc;
	char pfx[64];
	const char *txt;
	size_t len;
	int usable;		/* a receiver could verify sha256 mail with it */
	struct crypto_key *key;	/* the parsed public key, or NULL */
};

static void
radd(struct rec_ctx *rc, enum keycheck_verdict v, const char *code, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
radd(struct rec_ctx *rc, enum keycheck_verdict v, const char *code, const char *fix,
    const char *fmt, ...)
{
	char msg[KEYCHECK_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	keycheck_add(rc->kc, v, code, fix, "%s%s", rc->pfx, msg);
}

/* A printable excerpt of text for messages. */
static void
excerpt(char *dst, size_t dstlen, const char *text, size_t len, size_t max)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < max && o + 2 < dstlen; i++)
		dst[o++] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
	if (i < len && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* v=, k=, h=, s= and t=. Returns the key type, or -1 when k= is unknown. */
static int
check_tags(struct rec_ctx *rc, const struct tagval *tv)
{
	const struct tagval_pair *p;
	char val[64];
	int type = CRYPTO_RSA;

	if ((p = tagval_get(tv, "v")) == NULL)
		radd(rc, KEYCHECK_OK, "version-missing", NULL,
		    "no v= tag (allowed; starting with v=DKIM1 is recommended)");
	else if (p != &tv->pairs[0] || !tagval_is(p, "DKIM1")) {
		excerpt(val, sizeof(val), p->val, p->vlen, 20);
		radd(rc, KEYCHECK_FAIL, "version-bad",
		    "Start the record with exactly v=DKIM1; (or leave v= out).",
		    "v=%s%s: receivers discard a key record whose v= is not DKIM1 as its "
		    "first tag", val, p == &tv->pairs[0] ? "" : " is not the first tag");
		rc->usable = 0;
	} else
		radd(rc, KEYCHECK_OK, "version-ok", NULL, "v=DKIM1");

	if ((p = tagval_get(tv, "k")) == NULL || tagval_is(p, "rsa"))
		radd(rc, KEYCHECK_OK, "type-rsa", NULL, "key type RSA%s",
		    p == NULL ? " (no k=, RSA is the default)" : "");
	else if (tagval_is(p, "ed25519")) {
		type = CRYPTO_ED25519;
		radd(rc, KEYCHECK_OK, "type-ed25519", NULL,
		    "key type Ed25519 (RFC 8463; many receivers do not verify it yet, "
		    "so sign with an RSA key as well)");
	} else {
		excerpt(val, sizeof(val), p->val, p->vlen, 20);
		radd(rc, KEYCHECK_FAIL, "type-unknown",
		    "Use k=rsa for an RSA key or k=ed25519 for an Ed25519 key "
		    "(lower case).",
		    "k=%s is not a key type receivers know: they ignore the key", val);
		rc->usable = 0;
		type = -1;
	}

	if ((p = tagval_get(tv, "h")) == NULL)
		radd(rc, KEYCHECK_OK, "hash-ok", NULL,
		    "no h= (every hash algorithm allowed)");
	else if (tagval_list_has(p, "sha256"))
		radd(rc, KEYCHECK_OK, "hash-ok", NULL, "h= allows sha256");
	else {
		excerpt(val, sizeof(val), p->val, p->vlen, 30);
		radd(rc, KEYCHECK_FAIL, "hash-no-sha256",
		    "Remove the h= tag, or make it h=sha256.",
		    "h=%s excludes sha256: receivers must refuse sha256 signatures "
		    "with this key, and sha1 ones are no longer accepted (RFC 8301)",
		    val);
		rc->usable = 0;
	}

	if ((p = tagval_get(tv, "s")) == NULL || tagval_list_has(p, "*") ||
	    tagval_list_has(p, "email"))
		radd(rc, KEYCHECK_OK, "service-ok", NULL, "usable for e-mail%s",
		    p == NULL ? " (no s= restriction)" : " (s= lists email or *)");
	else {
		excerpt(val, sizeof(val), p->val, p->vlen, 30);
		radd(rc, KEYCHECK_FAIL, "service-not-email",
		    "Remove the s= tag (or set s=email).",
		    "s=%s restricts the key to other services: receivers ignore it for "
		    "e-mail", val);
		rc->usable = 0;
	}

	if ((p = tagval_get(tv, "t")) != NULL && tagval_list_has(p, "y")) {
		rc->kc->testing = 1;
		radd(rc, KEYCHECK_WARN, "testing-on",
		    "Remove y from t= once signatures verify (check a signed message "
		    "with dkimctl verify, or a receiver's Authentication-Results).",
		    "t=y: the domain says it is only testing DKIM, so receivers may treat "
		    "its signatures as if the mail were unsigned");
	} else
		radd(rc, KEYCHECK_OK, "testing-off", NULL, "not in testing mode (no t=y)");
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

/* Said of a key that does not decode or parse, when the record looks cut. */
static const char *
cut_hint(const struct rec_ctx *rc)
{
	return rc->len == TXT_STRING_MAX ?
	    "; the record is exactly 255 characters, the limit of one DNS string: it "
	    "was cut there (a DNS form that truncates, or only the first quoted string "
	    "published)" : "";
}

static const char fix_republish[] =
    "Publish the record again exactly as generated: a 2048-bit key is longer "
    "than the 255 characters one DNS string holds, so it must be entered as "
    "several quoted strings in one record (\"v=DKIM1; k=rsa; \" \"p=MIIB...\" "
    "\"...\"), or in a form that splits it for you; then check the value the "
    "form saved is complete.";

/* Find a character that is not base64; -1 after a finding, 0 if none. */
static int
scan_b64(struct rec_ctx *rc, const char *b64, long n)
{
	long i;
	unsigned char c = 0;

	for (i = 0; i < n; i++) {
		c = (unsigned char)b64[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			break;
	}
	if (i == n)
		return 0;
	if (c == '"' || c == '\\')
		radd(rc, KEYCHECK_FAIL, "key-bad-base64",
		    "Remove the quote marks and backslashes from the value: in a web "
		    "form enter the key as one unbroken string.",
		    "p= contains %s (character %ld of the key): the quoted pieces of a "
		    "multi-string record were pasted into one value, so the key does "
		    "not decode", c == '"' ? "a quote mark" : "a backslash", i + 1);
	else
		radd(rc, KEYCHECK_FAIL, "key-bad-base64", fix_republish,
		    "p= contains '%c' (character %ld of the key), which is not base64: "
		    "the key does not decode", c >= 0x20 && c < 0x7f ? c : '?', i + 1);
	return -1;
}

/* Decode p= into der; returns its length, or -1 after a finding. */
static long
decode_key(struct rec_ctx *rc, const struct tagval_pair *p, unsigned char *der,
    size_t derlen)
{
	char b64[LIMIT_KEY_RECORD];
	long n = tagval_compact(p, b64, sizeof(b64)), len;

	if (n < 0) {
		radd(rc, KEYCHECK_FAIL, "key-bad-base64", fix_republish,
		    "p= is too long to be a key");
		return -1;
	}
	if (scan_b64(rc, b64, n) < 0)
		return -1;
	if ((len = crypto_b64_decode(b64, (size_t)n, der, derlen)) >= 0)
		return len;
	if (n % 4 != 0 && memchr(b64, '=', (size_t)n) == NULL)
		radd(rc, KEYCHECK_FAIL, "key-truncated", fix_republish,
		    "p= holds %ld characters, which cannot be complete base64: the key "
		    "was cut short%s", n, cut_hint(rc));
	else
		radd(rc, KEYCHECK_FAIL, "key-bad-base64", fix_republish,
		    "p= is not valid base64 (misplaced '=' padding): the key does not "
		    "decode%s", cut_hint(rc));
	return -1;
}

/* The key's size: too small to count, weak, too large for some, or fine. */
static void
check_size(struct rec_ctx *rc, enum crypto_type type, int bits)
{
	char fix[KEYCHECK_TEXT];

	if (type == CRYPTO_ED25519)
		radd(rc, KEYCHECK_OK, "size-ok", NULL,
		    "Ed25519 keys have a fixed, strong size");
	else if (bits < 1024) {
		snprintf(fix, sizeof(fix), "Make a 2048-bit key (dkimctl genkey -d "
		    "%s), publish it under its new selector, then sign with it.",
		    rc->kc->domain);
		radd(rc, KEYCHECK_FAIL, "size-too-small", fix,
		    "RSA key of %d bits: receivers ignore signatures made with keys under "
		    "1024 bits (RFC 8301), so mail counts as unsigned", bits);
		rc->usable = 0;
	} else if (bits < 2048) {
		snprintf(fix, sizeof(fix), "Rotate to a 2048-bit key: dkimctl genkey "
		    "-d %s, publish the new record, wait for it to resolve, switch the "
		    "signer, and keep this record a few days for mail in transit.",
		    rc->kc->domain);
		radd(rc, KEYCHECK_WARN, "size-weak", fix,
		    "RSA key of %d bits: still accepted, but considered weak; 2048 "
		    "bits is the recommended size", bits);
	} else if (bits > 4096)
		radd(rc, KEYCHECK_WARN, "size-large",
		    "Use a 2048-bit key (or at most 4096 bits).",
		    "RSA key of %d bits: receivers are only required to handle keys up to "
		    "4096 bits (RFC 8301), and some will not verify it", bits);
	else
		radd(rc, KEYCHECK_OK, "size-ok", NULL, "RSA key of %d bits", bits);
}

static const char fix_match[] =
    "Publish the record made for this private key (the .txt file genkey wrote "
    "next to it), or point the key table at the right key file.";

/* Whether the published key is priv's public half. */
static void
check_match(struct rec_ctx *rc, enum crypto_type type, const struct crypto_key *priv)
{
	if (crypto_key_type(priv) != type) {
		radd(rc, KEYCHECK_FAIL, "match-type", fix_match,
		    "the record holds an %s key but the private key is %s",
		    type == CRYPTO_RSA ? "RSA" : "Ed25519",
		    crypto_key_type(priv) == CRYPTO_RSA ? "RSA" : "Ed25519");
		rc->usable = 0;
	} else if (!crypto_key_public_equal(rc->key, priv)) {
		radd(rc, KEYCHECK_FAIL, "match-differs", fix_match,
		    "the published key is not the public half of the private key: every "
		    "signature made with it fails");
		rc->usable = 0;
	} else
		radd(rc, KEYCHECK_OK, "match-ok", NULL,
		    "the published key matches the private key");
}

/* p=: present, not revoked, decodes and parses; then its size and match. */
static void
check_key(struct rec_ctx *rc, const struct tagval *tv, enum crypto_type type,
    const struct crypto_key *priv)
{
	struct keycheck *kc = rc->kc;
	const struct tagval_pair *p = tagval_get(tv, "p");
	unsigned char der[LIMIT_KEY_RECORD];
	char why[200], start[64];
	long n;
	size_t claimed;
	int bits, tags_ok = rc->usable;

	rc->usable = 0;		/* until the key parses */
	if (p == NULL) {
		excerpt(start, sizeof(start), rc->txt, rc->len, 40);
		radd(rc, KEYCHECK_FAIL, "key-missing",
		    "Publish the DKIM key record (v=DKIM1; k=rsa; p=...) at this name.",
		    "no p= tag: this TXT record (\"%s\") is not a DKIM key", start);
		return;
	}
	if ((n = decode_key(rc, p, der, sizeof(der))) < 0)
		return;
	if (n == 0) {
		kc->revoked = 1;
		radd(rc, KEYCHECK_FAIL, "key-revoked",
		    "If this selector was retired on purpose, stop signing with it; "
		    "otherwise publish its key (p=...) again.",
		    "p= is empty: the key is revoked, and receivers fail every signature "
		    "made with this selector");
		return;
	}
	claimed = type == CRYPTO_RSA ? der_claimed(der, (size_t)n) : 0;
	if (claimed > (size_t)n) {
		radd(rc, KEYCHECK_FAIL, "key-truncated", fix_republish,
		    "the key data says it is %zu bytes long but only %ld are published: "
		    "the key was cut short%s", claimed, n, cut_hint(rc));
		return;
	}
	if (type == CRYPTO_ED25519 && n == sizeof(ed25519_spki) + 32 &&
	    memcmp(der, ed25519_spki, sizeof(ed25519_spki)) == 0) {
		radd(rc, KEYCHECK_FAIL, "key-unparsable",
		    "Publish the bare 32-byte key: openssl pkey -in KEYFILE -pubout "
		    "-outform DER | tail -c 32 | base64 (dkimctl genkey writes it so).",
		    "p= holds the Ed25519 key wrapped as SubjectPublicKeyInfo (44 bytes, "
		    "as openssl writes it); RFC 8463 records hold the bare 32-byte key, "
		    "so receivers cannot use it");
		return;
	}
	if (crypto_key_public(type, der, (size_t)n, &rc->key, why, sizeof(why)) < 0) {
		radd(rc, KEYCHECK_FAIL, "key-unparsable", fix_republish,
		    "p= decodes but is not a usable public key (%s); a damaged or "
		    "truncated record is the usual cause%s", why, cut_hint(rc));
		return;
	}
	rc->usable = tags_ok;
	/* OpenSSL counts 253 bits for Ed25519; everyone else says 256. */
	bits = type == CRYPTO_ED25519 ? 256 : crypto_key_bits(rc->key);
	if (!kc->has_key) {
		kc->has_key = 1;
		kc->type = type;
		kc->bits = bits;
	}
	radd(rc, KEYCHECK_OK, "key-ok", NULL, "the public key parses (%s, %d bits)",
	    type == CRYPTO_RSA ? "RSA" : "Ed25519", bits);
	check_size(rc, type, bits);
	if (priv != NULL)
		check_match(rc, type, priv);
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

/* All checks of one record; 1 when it is usable and holds priv's key. */
static int
check_one(struct keycheck *kc, const char *txt, size_t len, const struct crypto_key *priv,
    size_t i, size_t n)
{
	struct rec_ctx rc;
	struct tagval tv;
	const char *err;
	int type, match;

	memset(&rc, 0, sizeof(rc));
	rc.kc = kc;
	rc.txt = txt;
	rc.len = len;
	rc.usable = 1;
	if (n > 1)
		snprintf(rc.pfx, sizeof(rc.pfx), "record %zu of %zu: ", i + 1, n);
	if (quoted(txt, len))
		radd(&rc, KEYCHECK_FAIL, "record-quotes",
		    "Enter the value without quote marks (a DNS web form adds what it "
		    "needs); in a zone file, quote each piece of at most 255 characters.",
		    "the record contains quote marks: they were typed as part of the "
		    "value");
	if (tagval_parse(&tv, txt, len, &err) < 0) {
		char start[64];

		excerpt(start, sizeof(start), txt, len, 40);
		radd(&rc, KEYCHECK_FAIL, "syntax-error",
		    "Publish the record as tag=value pairs separated by ';', e.g. "
		    "v=DKIM1; k=rsa; p=MIIB...",
		    "the record is not a valid tag=value list (%s): \"%s\"", err, start);
		return 0;
	}
	radd(&rc, KEYCHECK_OK, "syntax-ok", NULL, "the record is a valid tag=value list");
	type = check_tags(&rc, &tv);
	if (type >= 0)
		check_key(&rc, &tv, (enum crypto_type)type, priv);
	else
		rc.usable = 0;
	match = rc.usable && priv != NULL && rc.key != NULL;
	crypto_key_unref(rc.key);
	return match;
}

void
keycheck_record(struct keycheck *kc, const char *const *txt, const size_t *len,
    size_t n, const struct crypto_key *priv)
{
	size_t i;
	int good = 0;

	kc->nrecords = n;
	if (n > 1)
		keycheck_add(kc, KEYCHECK_FAIL, "record-multiple",
		    "Delete every TXT record at this name except the current key record.",
		    "%s has %zu TXT records: a receiver uses one of them, so signatures "
		    "fail at random", kc->name, n);
	for (i = 0; i < n && i < KEYCHECK_MAX_RECORDS; i++)
		good += check_one(kc, txt[i], len[i], priv, i, n);
	if (priv != NULL)
		kc->published = n == 1 && good == 1 ? KEYCHECK_PUB_YES : KEYCHECK_PUB_NO;
}
