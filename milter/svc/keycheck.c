/*
 * keycheck.c - checks of a published key record: the name, its alias chain,
 * the DNS answer and DNSSEC, and key rotation (see keycheck.h); the record's
 * contents are judged in keycheck_rec.c.
 *
 * The checks run in the order a receiver meets the problems (name, alias
 * chain, DNSSEC, record count, then each record's tags and key), so the
 * first fail listed is usually the one to fix first. Messages say what was
 * found and what a receiver does with it; fixes say what the operator does.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "keycheck.h"

#define RR_CNAME 5

const char *
keycheck_verdict_name(enum keycheck_verdict v)
{
	return v == KEYCHECK_FAIL ? "fail" : v == KEYCHECK_WARN ? "warn" : "ok";
}

int
keycheck_state_path(const char *state_dir, const char *id, const char *succ,
    char *out, size_t outlen)
{
	int n;

	if (state_dir == NULL || state_dir[0] == '\0')
		return -1;
	n = snprintf(out, outlen, "%s/rotated-%s-%s", state_dir, id, succ);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* snprintf for message texts, which may be cut at the buffer's end. */
static void
text(char *dst, size_t dstlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
text(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
}

int
keycheck_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0;
}

/* Copy a name without its trailing dot. */
static void
name_copy(char *dst, const char *src, size_t dstlen)
{
	size_t n = str_copy(dst, src, dstlen);

	if (n > 0 && n < dstlen && dst[n - 1] == '.')
		dst[n - 1] = '\0';
}

/* Equal as DNS names: case and one trailing dot do not matter. */
static int
names_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

struct keycheck *
keycheck_create(const char *domain, const char *selector)
{
	struct keycheck *kc = calloc(1, sizeof(*kc));

	if (kc == NULL)
		return NULL;
	name_copy(kc->domain, domain, sizeof(kc->domain));
	name_copy(kc->selector, selector, sizeof(kc->selector));
	if (!keycheck_name_ok(domain) || !keycheck_name_ok(selector) ||
	    snprintf(kc->name, sizeof(kc->name), "%s._domainkey.%s", kc->selector,
	    kc->domain) >= 254) {
		kc->name[0] = '\0';
		keycheck_add(kc, KEYCHECK_FAIL, "dns-bad-name",
		    "Use a plain domain name and selector: letters, digits, '-' and '_' "
		    "in dot-separated labels.",
		    "'%.60s' with selector '%.60s' does not make a valid DNS name",
		    domain, selector);
	}
	return kc;
}

void
keycheck_free(struct keycheck *kc)
{
	free(kc);
}

/* The NXDOMAIN and NODATA findings, with or without an alias chain. */
static void
answer_missing(struct keycheck *kc, const struct dns_result *r)
{
	char fix[KEYCHECK_TEXT];
	const char *last = kc->nchain > 0 ? kc->chain[kc->nchain - 1] : NULL;

	if (last != NULL) {
		keycheck_add(kc, KEYCHECK_FAIL, "cname-dangling",
		    "Compare the CNAME target with your mail provider's instructions "
		    "character for character; if it is right, the provider has not "
		    "published the key yet (finish the domain setup on their side).",
		    "%s is an alias (CNAME) for %s, which %s: receivers find no key, so "
		    "signatures with this selector fail", kc->name, last,
		    r->status == DNS_NXDOMAIN ? "does not exist" : "has no TXT record");
		return;
	}
	text(fix, sizeof(fix), "Publish the TXT record at %s. In a DNS web form the "
	    "host is usually just '%s._domainkey' (the form adds %s); check that the "
	    "selector is the s= your signatures carry.", kc->name, kc->selector,
	    kc->domain);
	if (r->status == DNS_NXDOMAIN)
		keycheck_add(kc, KEYCHECK_FAIL, "record-nxdomain", fix,
		    "%s does not exist (NXDOMAIN): receivers find no key, so signatures "
		    "with this selector fail", kc->name);
	else
		keycheck_add(kc, KEYCHECK_FAIL, "record-nodata", fix,
		    "%s exists but has no TXT record: receivers find no key (a key "
		    "published as another record type, or at a name below this one?)",
		    kc->name);
}

static void
answer_dnssec(struct keycheck *kc, int validating)
{
	if (kc->dnssec != NULL && strcmp(kc->dnssec, "secure") == 0)
		keycheck_add(kc, KEYCHECK_OK, "dnssec-secure", NULL,
		    "DNSSEC: the answer is signed and validated (secure)");
	else if (validating)
		keycheck_add(kc, KEYCHECK_OK, "dnssec-insecure", NULL,
		    "DNSSEC: the zone is not signed (insecure); this is usual and "
		    "receivers accept it, signing the zone protects the key from "
		    "spoofing");
	else
		keycheck_add(kc, KEYCHECK_OK, "dnssec-unchecked", NULL,
		    "DNSSEC not checked (no trust anchor given)");
}

void
keycheck_answer(struct keycheck *kc, const struct dns_result *r,
    const struct crypto_key *priv, int validating)
{
	size_t i;

	if (kc->name[0] == '\0')
		return;
	kc->status = r->status;
	kc->dnssec = r->dnssec;
	kc->ttl = r->ttl;
	if (kc->nchain == 0 && r->canon[0] != '\0' && !names_equal(r->canon, kc->name)) {
		name_copy(kc->chain[0], r->canon, sizeof(kc->chain[0]));
		kc->nchain = 1;
	}
	if (r->status == DNS_OK)
		keycheck_add(kc, KEYCHECK_OK, "record-found", NULL,
		    "%s: %zu TXT record%s (TTL %d s)", kc->name, r->n,
		    r->n == 1 ? "" : "s", r->ttl);
	if (kc->nchain > 0) {
		struct buf b;

		buf_init(&b, KEYCHECK_TEXT - 1);
		if (buf_puts(&b, kc->name) < 0)
			buf_truncate(&b, 0);
		for (i = 0; i < kc->nchain; i++)
			if (buf_puts(&b, " -> ") < 0 || buf_puts(&b, kc->chain[i]) < 0)
				break;
		keycheck_add(kc, KEYCHECK_OK, "cname-chain", NULL, "alias chain: %s%s",
		    buf_str(&b), i < kc->nchain ? " ..." : "");
		buf_release(&b);
	}
	switch (r->status) {
	case DNS_OK:
		answer_dnssec(kc, validating);
		keycheck_record(kc, (const char *const *)r->txt, r->txtlen, r->n, priv);
		return;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		answer_missing(kc, r);
		answer_dnssec(kc, validating);
		break;
	case DNS_BOGUS:
		keycheck_add(kc, KEYCHECK_FAIL, "dnssec-bogus",
		    "Fix the zone's DNSSEC: re-sign it (expired signatures are the usual "
		    "cause) or correct the DS record at the registrar; "
		    "'dig +dnssec TXT NAME' shows the signatures.",
		    "DNSSEC validation of %s failed (%s): validating receivers cannot get "
		    "the key and defer or fail the signature", kc->name, r->why);
		break;
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
	case DNS_ERROR:
		keycheck_add(kc, KEYCHECK_FAIL,
		    r->status == DNS_SERVFAIL ? "dns-servfail" :
		    r->status == DNS_TIMEOUT ? "dns-timeout" : "dns-error",
		    "Check that every name server of the domain answers for this name "
		    "(dig NS, then dig @SERVER NAME TXT against each).",
		    "looking up %s failed (%s): receivers get a temporary error and the "
		    "signature is not verified", kc->name, r->why);
		if (priv != NULL)
			kc->published = KEYCHECK_PUB_UNKNOWN;
		return;
	}
	if (priv != NULL)
		kc->published = KEYCHECK_PUB_NO;
}

/* A name in uncompressed wire format as text, without the final dot. */
static int
wire_name(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	struct buf b;
	size_t i = 0;
	int rc = 0;

	buf_init(&b, outlen - 1);
	while (i < n && p[i] != 0 && rc == 0) {
		size_t l = p[i++], j;

		if (l > 63 || l > n - i || (b.len > 0 && buf_putc(&b, '.') < 0)) {
			rc = -1;
			break;
		}
		for (j = 0; j < l && rc == 0; j++) {
			unsigned char c = p[i + j];

			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*')
				rc = buf_putc(&b, (char)c);
			else
				rc = buf_printf(&b, "\\%03u", c);
		}
		i += l;
	}
	if (rc == 0 && (i >= n || b.len == 0))
		rc = -1;	/* no terminating root label, or the root itself */
	if (rc == 0)
		str_copy(out, buf_str(&b), outlen);
	buf_release(&b);
	return rc;
}

/* Record one alias target; -1 (after a finding) when the chain must stop. */
static int
chain_add(struct keycheck *kc, const char *next)
{
	size_t i;

	for (i = 0; i < kc->nchain; i++)
		if (names_equal(kc->chain[i], next))
			break;
	if (names_equal(next, kc->name) || i < kc->nchain) {
		keycheck_add(kc, KEYCHECK_FAIL, "cname-loop",
		    "Break the loop: the last alias must point to the name that "
		    "holds the TXT record.",
		    "the aliases loop back to %s: receivers never reach a key", next);
		return -1;
	}
	if (kc->nchain == KEYCHECK_MAX_CHAIN) {
		keycheck_add(kc, KEYCHECK_FAIL, "cname-too-long",
		    "Point the CNAME straight at the name that holds the key.",
		    "more than %d aliases in a row: receivers' resolvers give up on "
		    "chains this long", KEYCHECK_MAX_CHAIN);
		return -1;
	}
	str_copy(kc->chain[kc->nchain++], next, sizeof(kc->chain[0]));
	return 0;
}

/*
 * Follow CNAMEs from kc->name one hop at a time, recording each target:
 * libunbound only tells the final name, and the operator needs to see
 * which link of an ESP's chain is broken.
 */
static void
walk_chain(struct keycheck *kc, struct dns *dns)
{
	char cur[LIMIT_DOMAIN + 1], next[LIMIT_DOMAIN + 1];
	struct dns_result r;
	int rc;

	str_copy(cur, kc->name, sizeof(cur));
	do {
		dns_query_type(dns, cur, RR_CNAME, &r);
		rc = r.status == DNS_OK ? wire_name((const unsigned char *)r.txt[0],
		    r.txtlen[0], next, sizeof(next)) : -1;
		dns_result_clear(&r);
		if (rc == 0 && (rc = chain_add(kc, next)) == 0)
			str_copy(cur, next, sizeof(cur));
	} while (rc == 0);
}

void
keycheck_run(struct keycheck *kc, struct dns *dns, const struct crypto_key *priv,
    int validating)
{
	struct dns_result r;
	struct keycheck_finding *f = NULL;
	size_t i;

	if (kc->name[0] == '\0')
		return;
	walk_chain(kc, dns);
	dns_txt(dns, kc->name, &r);
	keycheck_answer(kc, &r, priv, validating);
	for (i = 0; i < kc->n; i++)
		if (strcmp(kc->findings[i].code, "record-nxdomain") == 0)
			f = &kc->findings[i];
	if (f != NULL && strlen(kc->name) + strlen(kc->domain) < LIMIT_DOMAIN - 1) {
		/* A web form that appends the domain to a full name doubles it. */
		char doubled[2 * LIMIT_DOMAIN + 2];
		struct dns_result d;

		snprintf(doubled, sizeof(doubled), "%s.%s", kc->name, kc->domain);
		dns_txt(dns, doubled, &d);
		if (d.status == DNS_OK)
			text(f->fix, sizeof(f->fix), "A record exists at %s: the domain "
			    "was entered twice. In the DNS form, enter the host as just "
			    "'%s._domainkey'.", doubled, kc->selector);
		dns_result_clear(&d);
	}
	dns_result_clear(&r);
}

enum keycheck_pub
keycheck_published(struct dns *dns, const char *domain, const char *selector,
    const struct crypto_key *priv, char *why, size_t whylen)
{
	struct keycheck *kc = keycheck_create(domain, selector);
	enum keycheck_pub pub;
	size_t i;

	if (kc == NULL) {
		if (why != NULL)
			str_copy(why, "out of memory", whylen);
		return KEYCHECK_PUB_UNKNOWN;
	}
	keycheck_run(kc, dns, priv, 0);
	pub = kc->published;
	if (kc->name[0] == '\0')
		pub = KEYCHECK_PUB_NO;
	if (why != NULL) {
		if (pub == KEYCHECK_PUB_YES)
			snprintf(why, whylen, "%s publishes the key", kc->name);
		else {
			snprintf(why, whylen, "%s: the key is not published", kc->name);
			for (i = 0; i < kc->n; i++)
				if (kc->findings[i].verdict == KEYCHECK_FAIL) {
					str_copy(why, kc->findings[i].msg, whylen);
					break;
				}
		}
	}
	keycheck_free(kc);
	return pub;
}