/*
 * cmd_discover.c - dkimctl discover: find the DKIM keys a domain publishes
 * by probing the selectors mail providers and common signers use, and say
 * what the domain's DMARC record asks of DKIM (adkim=, p=), found by the
 * RFC 9989 tree walk, with the Organizational Domain it gives.
 *
 * DNS has no way to list selectors, so this can only guess: the lookups run
 * concurrently (at most DISCOVER_INFLIGHT at once, started at no more than
 * --rate per second so a small resolver is not flooded), each bounded by the
 * timeout. Every key found is judged by milter/keycheck.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "dmarcwalk.h"
#include "dns.h"
#include "keycheck.h"
#include "tagval.h"

#define DISCOVER_INFLIGHT 16
#define DISCOVER_RATE 20
#define DISCOVER_MONTHS 24
#define DISCOVER_TIMEOUT_MS 5000

/* Selectors that providers document or commonly use, and who uses them. */
static const struct {
	const char *who, *sel;
} known[] = {
	{ "Google", "google" }, { "Google", "20161025" }, { "Google", "20210112" },
	{ "Google", "20230601" },
	{ "Microsoft 365", "selector1" }, { "Microsoft 365", "selector2" },
	{ "SendGrid", "s1" }, { "SendGrid", "s2" }, { "SendGrid", "smtpapi" },
	{ "Mailchimp/Mandrill", "k1" }, { "Mailchimp/Mandrill", "k2" },
	{ "Mailchimp/Mandrill", "k3" }, { "Mailchimp/Mandrill", "mandrill" },
	{ "Mailchimp/Mandrill", "mte1" },
	{ "Amazon SES", "amazonses" },
	{ "Mailgun", "mg" }, { "Mailgun", "mailo" }, { "Mailgun", "smtp" },
	{ "Mailgun", "krs" }, { "Mailgun", "pic" }, { "Mailgun", "mx" },
	{ "Postmark", "pm" },
	{ "Zoho", "zoho" }, { "Zoho", "zmail" },
	{ "Fastmail", "fm1" }, { "Fastmail", "fm2" }, { "Fastmail", "fm3" },
	{ "Fastmail", "mesmtp" },
	{ "generic", "default" }, { "generic", "dkim" }, { "generic", "mail" },
	{ "generic", "email" }, { "generic", "s1024" }, { "generic", "s2048" },
	{ "generic", "key1" }, { "generic", "key2" }, { "generic", "dk" },
	{ "generic", "selector" }, { "generic", "sel1" }, { "generic", "sig1" },
};

#define DISCOVER_PROBES (sizeof(known) / sizeof(known[0]) + 3 * DISCOVER_MONTHS)

struct probe {
	const char *who;
	char sel[16];
	struct dns_query *q;
};

struct discover {
	const char *domain;
	struct dns *dns;
	int validating, rate;
	struct probe probes[DISCOVER_PROBES];
	size_t nprobes;
	size_t found, unanswered;
	enum keycheck_verdict worst;
};

static void
discover_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl discover DOMAIN [--resolver ADDR[@PORT]]\n"
	    "                        [--trust-anchor FILE] [--timeout SECONDS] [--rate N]\n"
	    "Probes the DKIM selectors common mail providers and signers use (Google,\n"
	    "Microsoft 365, SendGrid, Mailchimp, Amazon SES, Mailgun, Postmark, Zoho,\n"
	    "Fastmail, generic names, and sYYYYMM, YYYYMM and eYYYYMM for the last %d\n"
	    "months), lists the keys found with their type, size and problems, and\n"
	    "reads the DMARC record of DOMAIN (or of its organizational domain) for\n"
	    "adkim= and p=.\n"
	    "Selectors that follow no pattern (e.g. Postmark's 20YYMMDDhhmmsspm) cannot\n"
	    "be guessed: a key not listed may still exist.\n"
	    "  --resolver ADDR[@PORT]   ask this server (default: resolv.conf)\n"
	    "  --trust-anchor FILE      validate DNSSEC with these DS/DNSKEY records\n"
	    "  --timeout SECONDS        per DNS query (default 5)\n"
	    "  --rate N                 start at most N lookups a second (default %d;\n"
	    "                           at most %d run at once)\n"
	    "Exit status: 0 keys found and all ok, 1 nothing found or the worst is a\n"
	    "warning, 2 a key found fails a check, 3 bad arguments.\n",
	    DISCOVER_MONTHS, DISCOVER_RATE, DISCOVER_INFLIGHT);
}

static void
add_probe(struct discover *d, const char *who, const char *sel)
{
	size_t i;

	for (i = 0; i < d->nprobes; i++)
		if (strcmp(d->probes[i].sel, sel) == 0)
			return;
	if (d->nprobes == DISCOVER_PROBES)
		return;
	d->probes[d->nprobes].who = who;
	str_copy(d->probes[d->nprobes].sel, sel, sizeof(d->probes[0].sel));
	d->nprobes++;
}

/*
 * The fixed list, then for this month and the ones before: sYYYYMM and
 * YYYYMM (common), and eYYYYMM (what genkey names Ed25519 keys).
 */
static void
plan_probes(struct discover *d)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int y, m;
	char sel[16];

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		add_probe(d, known[i].who, known[i].sel);
	gmtime_r(&now, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	for (i = 0; i < DISCOVER_MONTHS; i++) {
		snprintf(sel, sizeof(sel), "s%04d%02d", y, m);
		add_probe(d, "date-based", sel);
		snprintf(sel, sizeof(sel), "%04d%02d", y, m);
		add_probe(d, "date-based", sel);
		snprintf(sel, sizeof(sel), "e%04d%02d", y, m);
		add_probe(d, "date-based", sel);
		if (--m == 0) {
			m = 12;
			y--;
		}
	}
}

/* Sleep until the moment lookup number i may start at d->rate a second. */
static void
pace(const struct discover *d, const struct timespec *t0, size_t i)
{
	struct timespec now, want;
	long long ns = (long long)i * 1000000000LL / d->rate;

	want.tv_sec = t0->tv_sec + (time_t)(ns / 1000000000LL);
	want.tv_nsec = t0->tv_nsec + (long)(ns % 1000000000LL);
	if (want.tv_nsec >= 1000000000L) {
		want.tv_sec++;
		want.tv_nsec -= 1000000000L;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < want.tv_sec ||
	    (now.tv_sec == want.tv_sec && now.tv_nsec < want.tv_nsec))
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &want, NULL);
}

/* Report one probe's answer: a key, a dangling alias, or nothing. */
static void
judge(struct discover *d, const struct probe *p, const struct dns_result *r)
{
	struct keycheck *kc;

	if (r->status == DNS_SERVFAIL || r->status == DNS_TIMEOUT ||
	    r->status == DNS_ERROR || r->status == DNS_BOGUS) {
		d->unanswered++;
		printf("?      %-11s %s: %s\n", p->sel, dns_status_name(r->status),
		    r->why);
		return;
	}
	if ((kc = keycheck_create(d->domain, p->sel)) == NULL)
		return;
	keycheck_answer(kc, r, NULL, d->validating);
	if (r->status == DNS_OK || kc->nchain > 0) {
		char what[64];

		d->found++;
		if (kc->worst > d->worst)
			d->worst = kc->worst;
		if (kc->has_key)
			snprintf(what, sizeof(what), "%s %d bits%s",
			    kc->type == CRYPTO_RSA ? "RSA" : "Ed25519", kc->bits,
			    kc->testing ? " t=y" : "");
		else
			str_copy(what, kc->revoked ? "revoked" : "no usable key",
			    sizeof(what));
		printf("found  %-11s %-18s %-18s %s", p->sel, p->who, what,
		    keycheck_verdict_name(kc->worst));
		if (kc->nchain > 0)
			printf("%*s via CNAME %s", 4 -
			    (int)strlen(keycheck_verdict_name(kc->worst)), "",
			    kc->chain[kc->nchain - 1]);
		putchar('\n');
		print_findings(kc, "         ", 1);
	}
	keycheck_free(kc);
}

/* Start the lookups paced and bounded; judge them in order as they finish. */
static void
probe_all(struct discover *d)
{
	struct timespec t0;
	size_t next = 0, done = 0;
	char name[LIMIT_DOMAIN + 32];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < d->nprobes) {
		if (next < d->nprobes && next - done < DISCOVER_INFLIGHT) {
			pace(d, &t0, next);
			snprintf(name, sizeof(name), "%s._domainkey.%s",
			    d->probes[next].sel, d->domain);
			d->probes[next].q = dns_txt_start(d->dns, name);
			next++;
			continue;
		}
		if (d->probes[done].q == NULL)
			d->unanswered++;	/* out of memory: not started */
		else
			judge(d, &d->probes[done], dns_query_wait(d->probes[done].q));
		dns_query_free(d->probes[done].q);
		d->probes[done].q = NULL;
		done++;
	}
}

/* A name under _domainkey that no one would use: if it answers, so does anything. */
static int
wildcard(struct discover *d)
{
	char name[LIMIT_DOMAIN + 64];
	struct dns_result r;
	int yes;

	snprintf(name, sizeof(name), "dkimctl-probe-%ld-%ld._domainkey.%s",
	    (long)getpid(), (long)time(NULL), d->domain);
	dns_txt(d->dns, name, &r);
	yes = r.status == DNS_OK;
	dns_result_clear(&r);
	return yes;
}

/* A tag's value from a DMARC record, or def. */
static void
dmarc_tag(const char *rec, const char *tag, char *out, size_t outlen, const char *def)
{
	struct tagval tv;
	const struct tagval_pair *p;
	const char *err;

	str_copy(out, def, outlen);
	if (tagval_parse(&tv, rec, strlen(rec), &err) == 0 &&
	    (p = tagval_get(&tv, tag)) != NULL && tagval_compact(p, out, outlen) < 0)
		str_copy(out, "?", outlen);
}

/*
 * The RFC 9989 tree walk and the Organizational Domain, then the record
 * that applies to the domain (section 4.10.1: its own, else its
 * Organizational Domain's, else its Public Suffix Domain's) and what it
 * asks.
 */
static void
dmarc(struct discover *d)
{
	struct dmarc_result res;
	char rec[1024] = "", pol[32], sp[32], name[LIMIT_DOMAIN + 8];
	size_t i;
	struct dns_result r;

	if (report_dmarc(d->dns, d->domain, "DMARC  ", &res) < 0)
		return;
	if (res.policy_found) {
		/* The record's text, for p= and sp=, exactly as published. */
		snprintf(name, sizeof(name), "_dmarc.%s", res.policy_domain);
		dns_txt(d->dns, name, &r);
		for (i = 0; r.status == DNS_OK && i < r.n; i++) {
			struct dmarc_rec dr;

			if (dmarc_parse(r.txt[i], r.txtlen[i], &dr, NULL, 0) == DMARC_REC_OK)
				str_copy(rec, r.txt[i], sizeof(rec));
		}
		dns_result_clear(&r);
	}
	if (!res.policy_known)
		printf("DMARC  unknown: a DNS failure stopped the tree walk (%s)\n", res.why);
	else if (!res.policy_found)
		printf("DMARC  no DMARC record at _dmarc.%s or above it: receivers apply "
		    "no DMARC policy, and DKIM alignment does not matter to them\n",
		    d->domain);
	else {
		dmarc_tag(rec, "p", pol, sizeof(pol), "(missing)");
		dmarc_tag(rec, "sp", sp, sizeof(sp), "");
		printf("DMARC  _dmarc.%s: p=%s adkim=%c (%s)\n", res.policy_domain, pol,
		    res.adkim, res.adkim == 's' ? "strict: a signature's d= must be "
		    "exactly the From: domain" : "relaxed: a signature's d= may be the "
		    "From: domain or share its organizational domain");
		if (strcmp(res.policy_domain, d->domain) != 0)
			printf("       %s has no record of its own: the one above applies, "
			    "with policy %s for subdomains\n", d->domain, sp[0] ? sp : pol);
		if (res.policy.removed)
			printf("       the record has pct=, rf= or ri=: RFC 9989 removed "
			    "them and receivers ignore them\n");
	}
}

static void
parse_args(struct discover *d, int argc, char **argv, const char **resolver,
    const char **anchor, int *timeout_ms)
{
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "trust-anchor", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "rate", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': *resolver = optarg; break;
		case 't': *anchor = optarg; break;
		case 'T':
			if ((*timeout_ms = parse_timeout_ms(optarg)) < 0)
				die_status(EXIT_KEY_USAGE,
				    "--timeout needs seconds between 0 and 300");
			break;
		case 'R':
			n = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || n < 1 || n > 1000)
				die_status(EXIT_KEY_USAGE,
				    "--rate needs 1 to 1000 lookups a second");
			d->rate = (int)n;
			break;
		case 'h': discover_usage(stdout); exit(0);
		default: discover_usage(stderr); exit(EXIT_KEY_USAGE);
		}
	}
	if (optind != argc - 1)
		die_status(EXIT_KEY_USAGE, "usage: dkimctl discover DOMAIN [options]");
	d->domain = argv[optind];
	if (!keycheck_name_ok(d->domain))
		die_status(EXIT_KEY_USAGE, "'%s' is not a domain name", d->domain);
}

int
cmd_discover(int argc, char **argv)
{
	struct discover d;
	const char *resolver = NULL, *anchor = NULL;
	int timeout_ms = DISCOVER_TIMEOUT_MS, rc;
	char err[512];

	memset(&d, 0, sizeof(d));
	d.rate = DISCOVER_RATE;
	parse_args(&d, argc, argv, &resolver, &anchor, &timeout_ms);
	d.validating = anchor != NULL && *anchor != '\0';
	if ((d.dns = dns_create(resolver, anchor, timeout_ms, err, sizeof(err))) == NULL)
		die_status(EXIT_KEY_USAGE, "%s", err);
	plan_probes(&d);
	printf("probing %zu selectors of %s (%d a second, %d at once, timeout %g s)\n",
	    d.nprobes, d.domain, d.rate, DISCOVER_INFLIGHT, timeout_ms / 1000.0);
	if (wildcard(&d)) {
		printf("warn   every name under _domainkey.%s answers (a wildcard "
		    "record?): the selectors below prove nothing\n", d.domain);
		d.worst = KEYCHECK_WARN;
	}
	probe_all(&d);
	dmarc(&d);
	if (d.unanswered > 0 && d.worst < KEYCHECK_WARN)
		d.worst = KEYCHECK_WARN;
	printf("result: %s (%zu selector%s found, %zu of %zu lookups unanswered)\n",
	    d.found == 0 ? "nothing found" : keycheck_verdict_name(d.worst), d.found,
	    d.found == 1 ? "" : "s", d.unanswered, d.nprobes);
	rc = d.found == 0 && d.worst < KEYCHECK_WARN ? KEYCHECK_WARN : (int)d.worst;
	dns_free(d.dns);
	return rc;
}
