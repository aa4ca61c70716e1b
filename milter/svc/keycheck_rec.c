/*
 * keycheck_rec.c - the checks of one TXT record set at a key's name: count,
 * then, for each record, the findings of keyrec.c (syntax, tags, key data,
 * key size) put in words with what to do, and whether it holds a given
 * private key's public half (see keycheck.h). The record itself is only
 * interpreted by keyrec.c, the verifier's parser. No I/O, so the daemon can
 * call it on records it fetched itself, and unit tests on plain strings.
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
#include "keyrec.h"

/*
 * Findings are added here, where most are made; keycheck.c adds the DNS
 * ones through the same function (so the call goes one way, to this file).
 */
void
keycheck_add(struct keycheck *kc, enum keycheck_verdict v, const char *code,
    const char *fix, const char *fmt, ...)
{
	struct keycheck_finding *f;
	va_list ap;

	if (v > kc->worst)
		kc->worst = v;
	if (kc->n == KEYCHECK_MAX_FINDINGS) {
		kc->dropped++;
		return;
	}
	f = &kc->findings[kc->n++];
	f->verdict = v;
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	str_copy(f->fix, fix ? fix : "", sizeof(f->fix));
}

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

static const char fix_match[] =
    "Publish the record made for this private key (the .txt file genkey wrote "
    "next to it), or point the key table at the right key file.";

/* The tag findings of keyrec.h, in words. */
static void
say_tag(struct rec_ctx *rc, const struct keyrec_finding *f)
{
	const char *c = f->code;
	enum keycheck_verdict v = (enum keycheck_verdict)f->verdict;

	if (strcmp(c, "version-missing") == 0)
		radd(rc, v, c, NULL,
		    "no v= tag (allowed; starting with v=DKIM1 is recommended)");
	else if (strcmp(c, "version-bad") == 0)
		radd(rc, v, c, "Start the record with exactly v=DKIM1; (or leave v= out).",
		    "v=%s%s: receivers discard a key record whose v= is not DKIM1 as its "
		    "first tag", f->val, f->flag ? " is not the first tag" : "");
	else if (strcmp(c, "version-ok") == 0)
		radd(rc, v, c, NULL, "v=DKIM1");
	else if (strcmp(c, "type-rsa") == 0)
		radd(rc, v, c, NULL, "key type RSA%s",
		    f->flag ? " (no k=, RSA is the default)" : "");
	else if (strcmp(c, "type-ed25519") == 0)
		radd(rc, v, c, NULL,
		    "key type Ed25519 (RFC 8463; many receivers do not verify it yet, "
		    "so sign with an RSA key as well)");
	else if (strcmp(c, "type-unknown") == 0)
		radd(rc, v, c, "Use k=rsa for an RSA key or k=ed25519 for an Ed25519 key "
		    "(lower case).",
		    "k=%s is not a key type receivers know: they ignore the key", f->val);
	else if (strcmp(c, "hash-ok") == 0)
		radd(rc, v, c, NULL, "%s", f->flag ? "no h= (every hash algorithm allowed)" :
		    "h= allows sha256");
	else if (strcmp(c, "hash-no-sha256") == 0)
		radd(rc, v, c, "Remove the h= tag, or make it h=sha256.",
		    "h=%s excludes sha256: receivers must refuse sha256 signatures "
		    "with this key, and sha1 ones are no longer accepted (RFC 8301)",
		    f->val);
	else if (strcmp(c, "service-ok") == 0)
		radd(rc, v, c, NULL, "usable for e-mail%s",
		    f->flag ? " (no s= restriction)" : " (s= lists email or *)");
	else if (strcmp(c, "service-not-email") == 0)
		radd(rc, v, c, "Remove the s= tag (or set s=email).",
		    "s=%s restricts the key to other services: receivers ignore it for "
		    "e-mail", f->val);
	else if (strcmp(c, "testing-on") == 0) {
		rc->kc->testing = 1;
		radd(rc, v, c,
		    "Remove y from t= once signatures verify (check a signed message "
		    "with dkimctl verify, or a receiver's Authentication-Results).",
		    "t=y: the domain says it is only testing DKIM, so receivers may treat "
		    "its signatures as if the mail were unsigned");
	} else if (strcmp(c, "testing-off") == 0)
		radd(rc, v, c, NULL, "not in testing mode (no t=y)");
}

/* The size findings of keyrec.h, in words. */
static void
say_size(struct rec_ctx *rc, const struct keyrec_finding *f, const struct keyrec *kr)
{
	const char *c = f->code;
	enum keycheck_verdict v = (enum keycheck_verdict)f->verdict;
	char fix[KEYCHECK_TEXT];

	if (strcmp(c, "size-ok") == 0)
		radd(rc, v, c, NULL, kr->type == CRYPTO_ED25519 ?
		    "Ed25519 keys have a fixed, strong size" : "RSA key of %ld bits", f->num);
	else if (strcmp(c, "size-too-small") == 0) {
		snprintf(fix, sizeof(fix), "Make a %d-bit key (dkimctl genkey -d "
		    "%s), publish it under its new selector, then sign with it.",
		    LIMIT_RSA_RECOMMENDED_BITS, rc->kc->domain);
		radd(rc, v, c, fix,
		    "RSA key of %ld bits: receivers ignore signatures made with keys under "
		    "%d bits (RFC 8301), so mail counts as unsigned", f->num,
		    LIMIT_RSA_MIN_BITS);
	} else if (strcmp(c, "size-weak") == 0) {
		snprintf(fix, sizeof(fix), "Rotate to a %d-bit key: dkimctl genkey "
		    "-d %s, publish the new record, wait for it to resolve, switch the "
		    "signer, and keep this record a few days for mail in transit.",
		    LIMIT_RSA_RECOMMENDED_BITS, rc->kc->domain);
		radd(rc, v, c, fix,
		    "RSA key of %ld bits: still accepted, but considered weak; %d "
		    "bits is the recommended size", f->num, LIMIT_RSA_RECOMMENDED_BITS);
	} else if (strcmp(c, "size-large") == 0)
		radd(rc, v, c, "Use a 2048-bit key (or at most 4096 bits).",
		    "RSA key of %ld bits: receivers are only required to handle keys up to "
		    "%d bits (RFC 8301), and some will not verify it", f->num,
		    LIMIT_RSA_MAX_BITS);
}

/* The key-data findings of keyrec.h, in words. */
static void
say_key(struct rec_ctx *rc, const struct keyrec_finding *f, const struct keyrec *kr)
{
	const char *c = f->code;
	enum keycheck_verdict v = (enum keycheck_verdict)f->verdict;
	char start[64];

	if (strcmp(c, "key-missing") == 0) {
		excerpt(start, sizeof(start), rc->txt, rc->len, 40);
		radd(rc, v, c, "Publish the DKIM key record (v=DKIM1; k=rsa; p=...) at this name.",
		    "no p= tag: this TXT record (\"%s\") is not a DKIM key", start);
	} else if (strcmp(c, "key-bad-base64") == 0) {
		if (f->flag == KEYREC_B64_TOO_LONG)
			radd(rc, v, c, fix_republish, "p= is too long to be a key");
		else if (f->flag == KEYREC_B64_QUOTE || f->flag == KEYREC_B64_BACKSLASH)
			radd(rc, v, c,
			    "Remove the quote marks and backslashes from the value: in a web "
			    "form enter the key as one unbroken string.",
			    "p= contains %s (character %ld of the key): the quoted pieces of a "
			    "multi-string record were pasted into one value, so the key does "
			    "not decode", f->flag == KEYREC_B64_QUOTE ? "a quote mark" :
			    "a backslash", f->num);
		else if (f->flag == KEYREC_B64_CHAR)
			radd(rc, v, c, fix_republish,
			    "p= contains '%c' (character %ld of the key), which is not base64: "
			    "the key does not decode", f->val[0], f->num);
		else
			radd(rc, v, c, fix_republish,
			    "p= is not valid base64 (misplaced '=' padding): the key does not "
			    "decode%s", cut_hint(rc));
	} else if (strcmp(c, "key-truncated") == 0) {
		if (f->flag == 0)
			radd(rc, v, c, fix_republish,
			    "p= holds %ld characters, which cannot be complete base64: the key "
			    "was cut short%s", f->num, cut_hint(rc));
		else
			radd(rc, v, c, fix_republish,
			    "the key data says it is %ld bytes long but only %ld are published: "
			    "the key was cut short%s", f->num, f->num2, cut_hint(rc));
	} else if (strcmp(c, "key-revoked") == 0) {
		rc->kc->revoked = 1;
		radd(rc, v, c,
		    "If this selector was retired on purpose, stop signing with it; "
		    "otherwise publish its key (p=...) again.",
		    "p= is empty: the key is revoked, and receivers fail every signature "
		    "made with this selector");
	} else if (strcmp(c, "key-unparsable") == 0) {
		if (f->flag)
			radd(rc, v, c,
			    "Publish the bare 32-byte key: openssl pkey -in KEYFILE -pubout "
			    "-outform DER | tail -c 32 | base64 (dkimctl genkey writes it so).",
			    "p= holds the Ed25519 key wrapped as SubjectPublicKeyInfo (44 bytes, "
			    "as openssl writes it); RFC 8463 records hold the bare 32-byte key, "
			    "so receivers cannot use it");
		else
			radd(rc, v, c, fix_republish,
			    "p= decodes but is not a usable public key (%s); a damaged or "
			    "truncated record is the usual cause%s", f->why, cut_hint(rc));
	} else if (strcmp(c, "key-ok") == 0) {
		if (!rc->kc->has_key) {
			rc->kc->has_key = 1;
			rc->kc->type = kr->type;
			rc->kc->bits = (int)f->num;
		}
		radd(rc, v, c, NULL, "the public key parses (%s, %ld bits)",
		    kr->type == CRYPTO_RSA ? "RSA" : "Ed25519", f->num);
	} else if (strncmp(c, "size-", 5) == 0)
		say_size(rc, f, kr);
}

/* Whether the published key is priv's public half. */
static void
check_match(struct rec_ctx *rc, const struct keyrec *kr, const struct crypto_key *priv)
{
	if (crypto_key_type(priv) != kr->type) {
		radd(rc, KEYCHECK_FAIL, "match-type", fix_match,
		    "the record holds an %s key but the private key is %s",
		    kr->type == CRYPTO_RSA ? "RSA" : "Ed25519",
		    crypto_key_type(priv) == CRYPTO_RSA ? "RSA" : "Ed25519");
		rc->usable = 0;
	} else if (!crypto_key_public_equal(kr->key, priv)) {
		radd(rc, KEYCHECK_FAIL, "match-differs", fix_match,
		    "the published key is not the public half of the private key: every "
		    "signature made with it fails");
		rc->usable = 0;
	} else
		radd(rc, KEYCHECK_OK, "match-ok", NULL,
		    "the published key matches the private key");
}

/* All checks of one record; 1 when it is usable and holds priv's key. */
static int
check_one(struct keycheck *kc, const char *txt, size_t len, const struct crypto_key *priv,
    size_t i, size_t n)
{
	struct keyrec_findings *fs = malloc(sizeof(*fs));
	struct rec_ctx rc;
	struct keyrec kr;
	char reason[LIMIT_REASON], start[64];
	size_t k;
	int match = 0;

	if (fs == NULL) {
		keycheck_add(kc, KEYCHECK_FAIL, "syntax-error", NULL, "out of memory");
		return 0;
	}
	memset(&rc, 0, sizeof(rc));
	rc.kc = kc;
	rc.txt = txt;
	rc.len = len;
	if (n > 1)
		snprintf(rc.pfx, sizeof(rc.pfx), "record %zu of %zu: ", i + 1, n);
	/* The findings, not the verifier's verdict: a revoked key is reported too. */
	(void)keyrec_examine(&kr, txt, len, fs, reason, sizeof(reason));
	for (k = 0; k < fs->n; k++) {
		const struct keyrec_finding *f = &fs->f[k];

		if (strcmp(f->code, "record-quotes") == 0)
			radd(&rc, KEYCHECK_FAIL, f->code,
			    "Enter the value without quote marks (a DNS web form adds what it "
			    "needs); in a zone file, quote each piece of at most 255 characters.",
			    "the record contains quote marks: they were typed as part of the "
			    "value");
		else if (strcmp(f->code, "syntax-error") == 0) {
			excerpt(start, sizeof(start), txt, len, 40);
			radd(&rc, KEYCHECK_FAIL, f->code,
			    "Publish the record as tag=value pairs separated by ';', e.g. "
			    "v=DKIM1; k=rsa; p=MIIB...",
			    "the record is not a valid tag=value list (%s): \"%s\"", f->why, start);
		} else if (strcmp(f->code, "syntax-ok") == 0)
			radd(&rc, KEYCHECK_OK, f->code, NULL,
			    "the record is a valid tag=value list");
		else if (strncmp(f->code, "key-", 4) == 0 || strncmp(f->code, "size-", 5) == 0)
			say_key(&rc, f, &kr);
		else
			say_tag(&rc, f);
	}
	rc.usable = fs->usable;
	if (kr.key != NULL && priv != NULL)
		check_match(&rc, &kr, priv);
	match = rc.usable && priv != NULL && kr.key != NULL;
	keyrec_clear(&kr);
	free(fs);
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
