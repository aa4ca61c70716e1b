/*
 * cmd_testkey.c - dkimctl testkey: check a published DKIM key the way a
 * receiver sees it, one line per check, and optionally that it is the
 * public half of a private key; or (--all) every key of dkimgate's key
 * table with its key file.
 *
 * The checks themselves are milter/keycheck (shared with the daemon); this
 * file only gathers the inputs, prints the findings, and turns the worst
 * verdict into the exit status (see cmd.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "dns.h"
#include "keycheck.h"
#include "keyfile.h"

#define TESTKEY_TIMEOUT_MS 5000

struct testkey_opts {
	const char *domain, *selector, *keyfile, *config;
	const char *resolver, *anchor;
	int all;
	int timeout_ms;		/* 0: not given */
};

static void
testkey_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl testkey -d DOMAIN -s SELECTOR [-k KEYFILE] [DNS options]\n"
	    "       dkimctl testkey --all -c CONFIG [DNS options]\n"
	    "Looks up SELECTOR._domainkey.DOMAIN as a receiver does (following and\n"
	    "showing CNAMEs) and checks the key record: one line per check, ok, warn or\n"
	    "fail, with what to do about it.\n"
	    "  -d, --domain DOMAIN      the signing domain (d=)\n"
	    "  -s, --selector SELECTOR  the selector (s=)\n"
	    "  -k, --key KEYFILE        also check the record holds this private key's\n"
	    "                           public half\n"
	    "  -a, --all                check every key of the key table in CONFIG,\n"
	    "                           each with its key file\n"
	    "  -c, --config CONFIG      dkimgate's configuration file (with --all)\n"
	    "DNS options:\n"
	    "  --resolver ADDR[@PORT]   ask this server (default: resolv.conf, or\n"
	    "                           dns.resolver with --all)\n"
	    "  --trust-anchor FILE      validate DNSSEC with these DS/DNSKEY records,\n"
	    "                           e.g. /usr/share/dns/root.key; \"\" for none\n"
	    "                           (with --all the default is dns.trust_anchor)\n"
	    "  --timeout SECONDS        per DNS query (default 5, or dns.timeout)\n"
	    "Exit status: 0 every check ok, 1 the worst is a warning, 2 a check failed,\n"
	    "3 bad arguments or an unusable key file or configuration.\n");
}

static void
print_summary(const struct keycheck *kc)
{
	size_t i, count[3] = { 0, 0, 0 };

	for (i = 0; i < kc->n; i++)
		count[kc->findings[i].verdict]++;
	printf("result: %s (%zu fail, %zu warn, %zu ok)\n",
	    keycheck_verdict_name(kc->worst), count[KEYCHECK_FAIL],
	    count[KEYCHECK_WARN], count[KEYCHECK_OK]);
}

static void
parse_args(struct testkey_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "all", no_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "trust-anchor", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:k:ac:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->domain = optarg; break;
		case 's': o->selector = optarg; break;
		case 'k': o->keyfile = optarg; break;
		case 'a': o->all = 1; break;
		case 'c': o->config = optarg; break;
		case 'r': o->resolver = optarg; break;
		case 't': o->anchor = optarg; break;
		case 'T':
			if ((o->timeout_ms = parse_timeout_ms(optarg)) < 0)
				die_status(EXIT_KEY_USAGE,
				    "--timeout needs seconds between 0 and 300");
			break;
		case 'h': testkey_usage(stdout); exit(0);
		default: testkey_usage(stderr); exit(EXIT_KEY_USAGE);
		}
	}
	if (optind < argc)
		die_status(EXIT_KEY_USAGE, "unexpected argument '%s'", argv[optind]);
	if (o->all) {
		if (o->config == NULL)
			die_status(EXIT_KEY_USAGE,
			    "--all needs the configuration: -c CONFIG");
		if (o->domain || o->selector || o->keyfile)
			die_status(EXIT_KEY_USAGE, "--all takes the keys from CONFIG: "
			    "leave out -d, -s and -k");
	} else {
		if (o->domain == NULL || o->selector == NULL)
			die_status(EXIT_KEY_USAGE, "testkey needs -d DOMAIN and "
			    "-s SELECTOR (or --all -c CONFIG)");
		if (o->config != NULL)
			die_status(EXIT_KEY_USAGE, "-c is for --all");
	}
}

static struct dns *
open_dns(const char *resolver, const char *anchor, int timeout_ms)
{
	struct dns *dns;
	char err[512];

	if ((dns = dns_create(resolver, anchor, timeout_ms, err, sizeof(err))) == NULL)
		die_status(EXIT_KEY_USAGE, "%s", err);
	return dns;
}

/* One key: its header line, findings and result; returns the worst verdict. */
static enum keycheck_verdict
test_one(struct dns *dns, int validating, const char *domain, const char *selector,
    const struct crypto_key *priv, const char *keyerr, const char *what, int dmarc)
{
	struct keycheck *kc = keycheck_create(domain, selector);
	enum keycheck_verdict worst;

	if (kc == NULL)
		die_status(EXIT_KEY_USAGE, "out of memory");
	printf("%s%s%s._domainkey.%s\n", what ? what : "", what ? ": " : "", kc->selector,
	    kc->domain);
	if (keyerr != NULL)
		keycheck_add(kc, KEYCHECK_FAIL, "key-file",
		    "Fix the key file (dkimgate -n -c CONFIG shows the same problem), or "
		    "make a new key with dkimctl genkey.",
		    "the private key cannot be used: %s", keyerr);
	keycheck_run(kc, dns, priv, validating);
	print_findings(kc, "", 0);
	/* What a receiver makes of the domain's DMARC; it does not change the result. */
	if (dmarc)
		report_dmarc(dns, domain, "dmarc: ", NULL);
	print_summary(kc);
	worst = kc->worst;
	keycheck_free(kc);
	return worst;
}

/*
 * When the old record of a rotated key may go: the daemon records the
 * switch under state_dir; the old key must stay published for the longest
 * delivery delay after it, or mail signed just before the switch fails.
 */
static void
rotation_advice(const struct conf *c, const struct conf_key *k)
{
	char path[4096], line[64], when[64];
	long long t = -1, until;
	time_t tt;
	struct tm tm;
	FILE *fp;

	if (keycheck_state_path(c->state_dir, k->id, k->succ_selector, path,
	    sizeof(path)) == 0 && (fp = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof(line), fp) != NULL) {
			char *end;

			t = strtoll(line, &end, 10);
			if (end == line)
				t = -1;
		}
		fclose(fp);
	}
	if (t < 0) {
		printf("rotation: key %s has not switched to %s yet (no record in %s): "
		    "keep %s._domainkey.%s published\n", k->id, k->succ_selector,
		    c->state_dir[0] ? c->state_dir : "state_dir", k->selector, k->domain);
		return;
	}
	until = t + c->max_delivery_delay;
	tt = (time_t)until;
	gmtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	if ((long long)time(NULL) >= until)
		printf("rotation: ok - key %s switched to %s; %s._domainkey.%s may be "
		    "withdrawn now (since %s)\n", k->id, k->succ_selector, k->selector,
		    k->domain, when);
	else
		printf("rotation: wait - key %s switched to %s; keep %s._domainkey.%s "
		    "published until %s (max_delivery_delay)\n", k->id, k->succ_selector,
		    k->selector, k->domain, when);
}

/* --all: every key of the configuration's key table. */
static int
test_all(const struct testkey_opts *o)
{
	struct buf errors;
	struct conf *c;
	struct dns *dns;
	const char *resolver, *anchor;
	enum keycheck_verdict worst = KEYCHECK_OK, v;
	size_t i, si, ki, nall = 0, nworse[3] = { 0, 0, 0 };
	const struct conf_key **all;

	buf_init(&errors, 64 * 1024);
	if ((c = conf_load(o->config, CONF_KEYS_DECODE, &errors)) == NULL) {
		/* Still check what DNS publishes; each key file is judged below. */
		fprintf(stderr, "dkimctl: %s has problems; checking DNS anyway:\n%s",
		    o->config, buf_str(&errors));
		buf_reset(&errors);
		if ((c = conf_load(o->config, CONF_KEYS_NONE, &errors)) == NULL) {
			fprintf(stderr, "%s", buf_str(&errors));
			buf_release(&errors);
			die_status(EXIT_KEY_USAGE, "cannot use %s", o->config);
		}
	}
	buf_release(&errors);
	if (c->source_problems != NULL)
		fprintf(stderr, "dkimctl: problems in the key sources of %s:\n%s", o->config,
		    c->source_problems);
	resolver = o->resolver ? o->resolver : c->resolver;
	anchor = o->anchor ? o->anchor : c->trust_anchor;
	if (o->anchor == NULL && anchor != NULL && *anchor != '\0' &&
	    access(anchor, R_OK) != 0) {
		fprintf(stderr, "dkimctl: trust anchor %s not readable: DNSSEC not "
		    "checked\n", anchor);
		anchor = NULL;
	}
	dns = open_dns(resolver, anchor, o->timeout_ms ? o->timeout_ms :
	    c->dns_timeout * 1000);
	if (conf_nkeys_all(c) == 0)
		printf("%s has no keys\n", o->config);
	/* dkimgate.conf's own keys, then those of each source. */
	if ((all = calloc(conf_nkeys_all(c) + 1, sizeof(*all))) == NULL)
		die_status(EXIT_KEY_USAGE, "out of memory");
	for (si = 0; si < c->nsets; si++)
		for (ki = 0; ki < c->sets[si]->nkeys; ki++)
			all[nall++] = &c->sets[si]->keys[ki];
	for (i = 0; i < nall; i++) {
		const struct conf_key *k = all[i];
		struct crypto_key *priv = crypto_key_ref(k->key);
		char what[512], err[512];

		if (i > 0)
			putchar('\n');
		if (priv == NULL && keyfile_load_private(k->path, &priv, err,
		    sizeof(err)) < 0)
			priv = NULL;
		snprintf(what, sizeof(what), "key %s (%s)", k->id, k->path);
		v = test_one(dns, anchor != NULL && *anchor != '\0', k->domain,
		    k->selector, priv, priv == NULL ? err : NULL, what, 0);
		nworse[v]++;
		if (v > worst)
			worst = v;
		crypto_key_unref(priv);
		if (k->succ_selector != NULL) {
			priv = crypto_key_ref(k->succ_key);
			if (priv == NULL && keyfile_load_private(k->succ_path, &priv, err,
			    sizeof(err)) < 0)
				priv = NULL;
			snprintf(what, sizeof(what), "\nkey %s successor (%s)", k->id,
			    k->succ_path);
			v = test_one(dns, anchor != NULL && *anchor != '\0', k->domain,
			    k->succ_selector, priv, priv == NULL ? err : NULL, what, 0);
			nworse[v]++;
			if (v > worst)
				worst = v;
			crypto_key_unref(priv);
			rotation_advice(c, k);
		}
	}
	if (conf_nkeys_all(c) > 1)
		printf("\nall %zu keys: %s (%zu fail, %zu warn, %zu ok)\n", conf_nkeys_all(c),
		    keycheck_verdict_name(worst), nworse[KEYCHECK_FAIL],
		    nworse[KEYCHECK_WARN], nworse[KEYCHECK_OK]);
	free(all);
	dns_free(dns);
	conf_unref(c);
	return (int)worst;
}

int
cmd_testkey(int argc, char **argv)
{
	struct testkey_opts o;
	struct crypto_key *priv = NULL;
	struct dns *dns;
	char err[512];
	int rc;

	memset(&o, 0, sizeof(o));
	parse_args(&o, argc, argv);
	if (o.all)
		return test_all(&o);
	if (o.keyfile != NULL &&
	    keyfile_load_private(o.keyfile, &priv, err, sizeof(err)) < 0)
		die_status(EXIT_KEY_USAGE, "%s", err);
	dns = open_dns(o.resolver, o.anchor, o.timeout_ms ? o.timeout_ms :
	    TESTKEY_TIMEOUT_MS);
	rc = (int)test_one(dns, o.anchor != NULL && *o.anchor != '\0', o.domain,
	    o.selector, priv, NULL, NULL, 1);
	dns_free(dns);
	crypto_key_unref(priv);
	return rc;
}
