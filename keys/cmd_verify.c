/*
 * cmd_verify.c - dkimctl verify: check every DKIM-Signature of a message and
 * print one Authentication-Results field.
 *
 * Key lookups start at the end of the header, so DNS runs while the body is
 * read and hashed; they are collected at the end of the message.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "authres.h"
#include "buf.h"
#include "dkim.h"
#include "dns.h"
#include "msgfile.h"

/* Default cap on signatures checked per message (see the daemon's setting). */
#define VERIFY_MAX_DEFAULT 16

struct verify_ctx {
	struct dkim *d;
	struct dns *dns;
	struct dns_query *q[LIMIT_SIGNATURES];
};

static int
on_header(void *arg, const char *f, size_t n)
{
	struct verify_ctx *vc = arg;

	if (f == NULL)
		dkim_header_overflow(vc->d);
	else
		dkim_header(vc->d, f, n);	/* overflow is reported per signature */
	return 0;
}

static int
on_eoh(void *arg)
{
	struct verify_ctx *vc = arg;
	size_t i;

	if (dkim_eoh(vc->d) < 0) {
		fprintf(stderr, "dkimctl: %s\n", dkim_error(vc->d));
		return 2;
	}
	for (i = 0; i < dkim_nverdicts(vc->d); i++) {
		struct dkim_verdict *v = dkim_verdict(vc->d, i);
		char name[2 * LIMIT_DOMAIN + 16];

		if (!v->key_needed)
			continue;
		snprintf(name, sizeof(name), "%s._domainkey.%s", v->sig->s, v->sig->d);
		vc->q[i] = dns_txt_start(vc->dns, name);
	}
	return 0;
}

static int
on_body(void *arg, const char *p, size_t n)
{
	struct verify_ctx *vc = arg;

	return dkim_body(vc->d, p, n) < 0 ? 2 : 0;
}

/* Hand what DNS said about each key to the engine. */
static void
collect_keys(struct verify_ctx *vc)
{
	size_t i;

	for (i = 0; i < dkim_nverdicts(vc->d); i++) {
		const struct dns_result *r;
		enum dkim_keystate ks;

		if (vc->q[i] == NULL)
			continue;
		r = dns_query_wait(vc->q[i]);
		switch (r->status) {
		case DNS_OK: ks = DKIM_KEY_FOUND; break;
		case DNS_NXDOMAIN:
		case DNS_NODATA: ks = DKIM_KEY_MISSING; break;
		default: ks = DKIM_KEY_TEMPFAIL; break;
		}
		dkim_set_key(vc->d, i, ks, (const char *const *)r->txt, r->txtlen, r->n,
		    r->dnssec, r->why);
	}
}

static void
verify_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl verify [--resolver ADDR[@PORT]] [--trust-anchor FILE]\n"
	    "                      [--authserv-id ID] [--timeout SECONDS] [FILE]\n"
	    "Prints an Authentication-Results field with one dkim= result per signature.\n"
	    "Exit status: 0 the message was evaluated, 2 unusable input or arguments.\n");
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "trust-anchor", required_argument, NULL, 't' },
		{ "authserv-id", required_argument, NULL, 'A' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *resolver = NULL, *anchor = NULL;
	char authserv[256], err[512];
	struct verify_ctx vc;
	struct msgfile_cb cb = { on_header, on_eoh, on_body };
	struct buf out;
	FILE *in = stdin;
	int c, rc, crlf, timeout_ms = 5000, ar_ok = 1;
	size_t i;
	const char *p;

	if (gethostname(authserv, sizeof(authserv)) < 0)
		str_copy(authserv, "localhost", sizeof(authserv));
	authserv[sizeof(authserv) - 1] = '\0';
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': resolver = optarg; break;
		case 't': anchor = optarg; break;
		case 'A': str_copy(authserv, optarg, sizeof(authserv)); break;
		case 'T': {
			char *end;
			double s = strtod(optarg, &end);

			if (*end != '\0' || s <= 0 || s > 300)
				die_usage("--timeout needs seconds between 0 and 300");
			timeout_ms = (int)(s * 1000);
			break;
		}
		case 'h': verify_usage(stdout); return 0;
		default: verify_usage(stderr); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0 &&
	    (in = fopen(argv[optind], "rb")) == NULL)
		die_usage("cannot open %s", argv[optind]);
	memset(&vc, 0, sizeof(vc));
	if ((vc.dns = dns_create(resolver, anchor, timeout_ms, err, sizeof(err))) == NULL)
		die_usage("%s", err);
	if ((vc.d = dkim_create(time(NULL))) == NULL)
		die_usage("out of memory");
	dkim_enable_verify(vc.d, VERIFY_MAX_DEFAULT);
	rc = msgfile_read(in, &cb, &vc, &crlf, err, sizeof(err));
	if (rc == -1)
		die_usage("%s", err);
	if (rc == 0) {
		collect_keys(&vc);
		dkim_eom(vc.d);
		buf_init(&out, LIMIT_OUT_HEADER);
		if (authres_begin(&out, authserv) < 0)
			die_usage("authserv-id too long");
		for (i = 0; i < dkim_nverdicts(vc.d); i++)
			ar_ok &= authres_add_dkim(&out, dkim_verdict(vc.d, i), NULL) == 0;
		if (dkim_nverdicts(vc.d) == 0)
			ar_ok &= authres_add_none(&out, "no DKIM signature") == 0;
		if (!ar_ok)
			fprintf(stderr, "dkimctl: the Authentication-Results field would pass "
			    "%d bytes: results left out\n", LIMIT_OUT_HEADER);
		for (p = buf_str(&out); *p; p++)
			if (*p != '\r')
				putchar(*p);
		putchar('\n');
		buf_release(&out);
	}
	for (i = 0; i < LIMIT_SIGNATURES; i++)
		dns_query_free(vc.q[i]);
	dkim_free(vc.d);
	dns_free(vc.dns);
	if (in != stdin)
		fclose(in);
	return rc;
}
