/*
 * keycheck.h - checks of a published DKIM key record against what the signer
 * expects, as a receiver would see it.
 *
 * Used by dkimctl (testkey, discover) and by the daemon at start and reload,
 * and to decide when a successor key is published. It never prints or logs:
 * every check becomes a finding (verdict, stable code, plain-language message
 * and fix) in a struct keycheck that the caller reads and frees.
 *
 * Typical use:
 *     kc = keycheck_create(domain, selector);
 *     keycheck_run(kc, dns, private_key_or_NULL, validating);
 *     for (i = 0; i < kc->n; i++) ... kc->findings[i] ...
 *     if (kc->worst == KEYCHECK_FAIL) ...
 *     keycheck_free(kc);
 *
 * A struct keycheck belongs to one thread at a time; separate ones may be
 * used at once (the struct dns they share is thread-safe).
 *
 * Finding codes (stable; callers may test them):
 *   record-found ok, record-nxdomain fail, record-nodata fail,
 *   record-multiple fail, record-quotes fail,
 *   dns-servfail fail, dns-timeout fail, dns-error fail, dns-bad-name fail,
 *   cname-chain ok, cname-dangling fail, cname-loop fail, cname-too-long fail,
 *   dnssec-secure ok, dnssec-insecure ok, dnssec-unchecked ok, dnssec-bogus fail,
 *   syntax-ok ok, syntax-error fail,
 *   version-ok ok, version-missing ok, version-bad fail,
 *   type-rsa ok, type-ed25519 ok, type-unknown fail,
 *   hash-ok ok, hash-no-sha256 fail,
 *   service-ok ok, service-not-email fail,
 *   testing-off ok, testing-on warn,
 *   key-ok ok, key-missing fail, key-revoked fail, key-truncated fail,
 *   key-bad-base64 fail, key-unparsable fail,
 *   size-ok ok, size-weak warn, size-too-small fail, size-large warn,
 *   match-ok ok, match-differs fail, match-type fail.
 * dkimctl testkey --all adds key-file fail (a key file that does not load)
 * through keycheck_add; the daemon may add its own the same way.
 */
#ifndef DKIMGATE_KEYCHECK_H
#define DKIMGATE_KEYCHECK_H

#include <stddef.h>

#include "bounds.h"
#include "crypto.h"
#include "dns.h"

/* Longest message or fix text, NUL included (longer texts are cut). */
#define KEYCHECK_TEXT		480
/* Findings kept per check; more are counted in ->dropped. */
#define KEYCHECK_MAX_FINDINGS	40
/* CNAME hops followed before giving up (receivers' resolvers stop near here). */
#define KEYCHECK_MAX_CHAIN	8
/* Records of one RRset examined one by one (all are counted). */
#define KEYCHECK_MAX_RECORDS	4

enum keycheck_verdict {
	KEYCHECK_OK = 0,
	KEYCHECK_WARN = 1,
	KEYCHECK_FAIL = 2
};

/* Whether DNS publishes the public half of a given private key. */
enum keycheck_pub {
	KEYCHECK_PUB_UNKNOWN = 0,	/* no private key given, or DNS did not answer */
	KEYCHECK_PUB_NO,		/* DNS answered: not published, or not usable */
	KEYCHECK_PUB_YES		/* exactly one usable record, holding that key */
};

struct keycheck_finding {
	enum keycheck_verdict verdict;
	const char *code;		/* static, one of the codes above */
	char msg[KEYCHECK_TEXT];	/* what was found, in plain language */
	char fix[KEYCHECK_TEXT];	/* what to do; "" when nothing */
};

struct keycheck {
	char domain[LIMIT_DOMAIN + 1];
	char selector[LIMIT_DOMAIN + 1];
	char name[LIMIT_DOMAIN + 1];	/* SELECTOR._domainkey.DOMAIN; "" if invalid */
	/* CNAME targets in the order followed (name itself not included). */
	char chain[KEYCHECK_MAX_CHAIN][LIMIT_DOMAIN + 1];
	size_t nchain;
	enum dns_status status;		/* of the TXT lookup */
	const char *dnssec;		/* "secure", "insecure", "bogus" or NULL */
	int ttl;
	size_t nrecords;		/* TXT records at the name */
	/* The first record that holds a key (valid when has_key). */
	int has_key;
	enum crypto_type type;
	int bits;
	int revoked, testing;
	enum keycheck_pub published;
	struct keycheck_finding findings[KEYCHECK_MAX_FINDINGS];
	size_t n, dropped;
	enum keycheck_verdict worst;
};

/*
 * A new check of SELECTOR._domainkey.DOMAIN. An invalid name (see
 * keycheck_name_ok) is not an error here: it becomes a dns-bad-name finding
 * and the later steps skip DNS. NULL only when out of memory. The caller
 * owns the result; keycheck_free accepts NULL.
 */
struct keycheck *keycheck_create(const char *domain, const char *selector);
void keycheck_free(struct keycheck *kc);

/*
 * Everything a receiver would see: follow the CNAME chain hop by hop (to
 * report it), fetch the TXT record set, then keycheck_answer. Blocks for at
 * most about (KEYCHECK_MAX_CHAIN + 3) DNS timeouts, usually one round trip
 * per hop (after an NXDOMAIN, one more lookup looks for the record at the
 * name a web form makes when the domain is typed twice). dns must not be
 * NULL unless the name was invalid. priv may be NULL; validating says
 * whether dns has a trust anchor (it only changes how an unsigned answer is
 * described).
 */
void keycheck_run(struct keycheck *kc, struct dns *dns, const struct crypto_key *priv,
    int validating);

/*
 * Judge a TXT answer obtained elsewhere (e.g. by dns_txt_start): its status,
 * DNSSEC state and CNAME target (r->canon), then each record as in
 * keycheck_record. No I/O.
 */
void keycheck_answer(struct keycheck *kc, const struct dns_result *r,
    const struct crypto_key *priv, int validating);

/*
 * Judge a TXT record set (strings of each record already joined): count,
 * syntax, tags, key, size and, with priv, whether it holds priv's public
 * half (sets ->published). No I/O; the daemon may call it on a record it
 * fetched itself.
 */
void keycheck_record(struct keycheck *kc, const char *const *txt, const size_t *len,
    size_t n, const struct crypto_key *priv);

/*
 * Key rotation: does DNS publish the public half of priv at
 * SELECTOR._domainkey.DOMAIN, in exactly one usable record (not revoked,
 * sha256 and e-mail allowed)? A successor key should be used only on YES;
 * UNKNOWN means DNS did not answer (try again later). Blocks like
 * keycheck_run. If why is not NULL it receives a one-line reason.
 */
enum keycheck_pub keycheck_published(struct dns *dns, const char *domain,
    const char *selector, const struct crypto_key *priv, char *why, size_t whylen);

/*
 * Append a finding (msg from fmt; fix may be NULL) and raise ->worst. The
 * daemon and dkimctl use it for their own findings about a key (e.g. a key
 * file that does not load). code must be a static string.
 */
void keycheck_add(struct keycheck *kc, enum keycheck_verdict v, const char *code,
    const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Path of the file recording when key id switched to selector succ
 * (state_dir/rotated-ID-SELECTOR) into out: the daemon writes it, dkimctl
 * testkey reads it. -1 when state_dir is NULL or "", or the path does not
 * fit.
 */
int keycheck_state_path(const char *state_dir, const char *id, const char *succ,
    char *out, size_t outlen);

/* "ok", "warn" or "fail". */
const char *keycheck_verdict_name(enum keycheck_verdict v);

/*
 * 1 when s is a usable domain name or selector: labels of letters, digits,
 * '-' and '_' (1 to 63 characters, dot-separated, no empty label), at most
 * 253 characters, one trailing dot allowed. Also safe as part of a file name.
 */
int keycheck_name_ok(const char *s);

#endif
