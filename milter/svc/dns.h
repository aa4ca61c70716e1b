/*
 * dns.h - TXT lookups through libunbound, with DNSSEC status and a timeout.
 *
 * One struct dns serves the whole process: any thread may start queries and
 * wait for them; a private thread drives libunbound and wakes the waiters.
 * libunbound's own cache keeps answers for their TTL (bounded by its cache
 * size), so repeated lookups across messages cost nothing. A wait never
 * outlasts the configured timeout: a query that runs longer is reported as
 * a timeout. libunbound itself asks at most twice (after a SERVFAIL or a
 * timeout), the first wait half the timeout; until it gives up the query
 * counts as outstanding, even when its caller has dropped it. A lookup
 * for a name and type that libunbound is already resolving (for another
 * message, or for one that went away) joins that query: each caller keeps
 * its own timeout and gets its own copy of the answer, and only distinct
 * questions count as outstanding.
 */
#ifndef DKIMGATE_DNS_H
#define DKIMGATE_DNS_H

#include <stddef.h>

enum dns_status {
	DNS_OK = 0,	/* at least one TXT record */
	DNS_NXDOMAIN,	/* name does not exist */
	DNS_NODATA,	/* name exists, no TXT */
	DNS_SERVFAIL,	/* server failure or other error rcode */
	DNS_BOGUS,	/* DNSSEC validation failed */
	DNS_TIMEOUT,	/* no answer in time */
	DNS_ERROR	/* local trouble (out of memory, resolver setup) */
};

struct dns_result {
	enum dns_status status;
	char **txt;		/* each record's strings joined; NUL-terminated */
	size_t *txtlen;
	size_t n;
	const char *dnssec;	/* "secure", "insecure" or "bogus" */
	char canon[256];	/* name the answer came from (after CNAMEs) */
	int ttl;
	char why[160];		/* human text for anything but DNS_OK */
};

struct dns;
struct dns_query;

/*
 * resolver: "ADDR" or "ADDR@PORT" to send every query to that server, NULL
 * for the system's resolv.conf. trust_anchor: a file of DS/DNSKEY records
 * (e.g. /usr/share/dns/root.key), NULL for no DNSSEC validation.
 * timeout_ms bounds every query. NULL with err on failure.
 */
struct dns *dns_create(const char *resolver, const char *trust_anchor, int timeout_ms,
    char *err, size_t errlen);
/*
 * Stops the thread and drops the lookups libunbound still holds; accepts
 * NULL. Every query must have been freed (dns_query_free) before.
 */
void dns_free(struct dns *dns);

/*
 * At most this many distinct lookups (name, type) are held by libunbound
 * at once (default DNS_MAX_OUTSTANDING_DEFAULT; max <= 0 restores it). A
 * lookup that would start a new one past the bound fails at once with
 * DNS_ERROR and a "too many DNS lookups outstanding" text, and is counted
 * by dns_refused; one that joins a lookup in flight is never refused, and
 * is counted by dns_joined. Set it before use.
 */
#define DNS_MAX_OUTSTANDING_DEFAULT 1000
void dns_set_max_outstanding(struct dns *dns, int max);
/*
 * Distinct lookups libunbound holds now; lookups refused so far; lookups
 * that joined one in flight so far. Thread-safe.
 */
int dns_outstanding(const struct dns *dns);
unsigned long dns_refused(const struct dns *dns);
unsigned long dns_joined(const struct dns *dns);

/* Start a TXT lookup for name. Never NULL: failures are reported by the wait. */
struct dns_query *dns_txt_start(struct dns *dns, const char *name);
/*
 * Wait until the answer arrives or the timeout (counted from start) passes;
 * the result is owned by the query. Thread-safe; one waiter per query.
 */
const struct dns_result *dns_query_wait(struct dns_query *q);
/*
 * Drop the caller's query. A lookup still in flight is left to finish in
 * libunbound (ub_cancel would not stop the resolution, only hide its end)
 * and can still be joined; its answer is discarded when it comes if no
 * caller waits for it any more.
 */
void dns_query_free(struct dns_query *q);

/* Synchronous lookup; the result is copied into out (free with dns_result_clear). */
void dns_txt(struct dns *dns, const char *name, struct dns_result *out);
void dns_result_clear(struct dns_result *r);

const char *dns_status_name(enum dns_status st);

/*
 * Synchronous lookup of any record type (rrtype as numbered in RFC 1035:
 * 5 CNAME, 16 TXT, ...), within the same timeout. Unlike dns_txt, each
 * out->txt[i] holds one record's raw rdata, out->txtlen[i] bytes (names in
 * uncompressed wire format), followed by a NUL that is not counted. Asking
 * for CNAME returns the CNAME at name itself, not the chain's end; other
 * types follow CNAMEs as dns_txt does (out->canon is the final name).
 * Free with dns_result_clear. Thread-safe.
 */
void dns_query_type(struct dns *dns, const char *name, int rrtype,
    struct dns_result *out);

#endif
