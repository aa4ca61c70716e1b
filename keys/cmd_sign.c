/*
 * cmd_sign.c - dkimctl sign: add DKIM-Signature fields to a message file.
 *
 * The message is read once to hash it, then copied to stdout after the new
 * fields. A pipe is first spooled to a temporary file, so memory stays
 * constant whatever the message size.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "buf.h"
#include "dkim.h"
#include "msgfile.h"
#include "keyfile.h"

struct sign_ctx {
	struct dkim *d;
	int crlf;
};

static int
on_header(void *arg, const char *f, size_t n)
{
	struct sign_ctx *sc = arg;

	if (f == NULL) {
		fprintf(stderr, "dkimctl: a header field is too long to sign\n");
		return 2;
	}
	if (dkim_header(sc->d, f, n) < 0) {
		fprintf(stderr, "dkimctl: %s\n", dkim_error(sc->d));
		return 2;
	}
	return 0;
}

static int
on_eoh(void *arg)
{
	struct sign_ctx *sc = arg;

	if (dkim_eoh(sc->d) < 0) {
		fprintf(stderr, "dkimctl: %s\n", dkim_error(sc->d));
		return 2;
	}
	return 0;
}

static int
on_body(void *arg, const char *p, size_t n)
{
	struct sign_ctx *sc = arg;

	return dkim_body(sc->d, p, n) < 0 ? 2 : 0;
}

/* Print a CRLF-folded field with the message's own line ending. */
static void
put_field(const char *f, int crlf)
{
	for (; *f; f++) {
		if (*f == '\r')
			continue;
		if (*f == '\n')
			fputs(crlf ? "\r\n" : "\n", stdout);
		else
			putchar(*f);
	}
	fputs(crlf ? "\r\n" : "\n", stdout);
}

static void
sign_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl sign -d DOMAIN -s SELECTOR -k KEYFILE [-a rsa-sha256|ed25519-sha256]\n"
	    "                    [-c HEADER/BODY] [-H name:name:...] [-x SECONDS] [-i IDENTITY]\n"
	    "                    [FILE]\n"
	    "Writes the message with its DKIM-Signature prepended to stdout.\n"
	    "  -c  canonicalization, default relaxed/relaxed\n"
	    "  -H  headers to sign (default: the usual set, From and key headers oversigned)\n"
	    "  -x  signature lifetime in seconds (adds x=)\n");
}

int
cmd_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *domain = NULL, *selector = NULL, *keyfile = NULL, *alg = NULL;
	const char *canon = "relaxed/relaxed", *hlist = NULL, *identity = NULL;
	const char *hv[LIMIT_SIGNED_HEADERS];
	const char *const from_only[] = { "from" };
	struct dkim_signer s;
	struct crypto_key *key = NULL;
	struct sign_ctx sc;
	struct msgfile_cb cb = { on_header, on_eoh, on_body };
	char err[512], *hcopy = NULL;
	long long lifetime = 0;
	int hc, bc, c, rc;
	FILE *in = stdin;
	struct stat st;
	size_t i, n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:k:a:c:H:x:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': domain = optarg; break;
		case 's': selector = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'a': alg = optarg; break;
		case 'c': canon = optarg; break;
		case 'H': hlist = optarg; break;
		case 'i': identity = optarg; break;
		case 'x': {
			char *end;

			lifetime = strtoll(optarg, &end, 10);
			if (*end != '\0' || lifetime <= 0)
				die_usage("-x needs a positive number of seconds");
			break;
		}
		case 'h': sign_usage(stdout); return 0;
		default: sign_usage(stderr); return 2;
		}
	}
	if (domain == NULL || selector == NULL || keyfile == NULL) {
		sign_usage(stderr);
		return 2;
	}
	if (parse_canon_pair(canon, &hc, &bc) < 0)
		die_usage("bad canonicalization '%s' (use relaxed/relaxed, simple/simple, ...)",
		    canon);
	if (keyfile_load_private(keyfile, &key, err, sizeof(err)) < 0)
		die_usage("%s", err);
	if (alg != NULL) {
		int want = strcmp(alg, "rsa-sha256") == 0 ? CRYPTO_RSA :
		    strcmp(alg, "ed25519-sha256") == 0 ? CRYPTO_ED25519 : -1;

		if (want < 0)
			die_usage("unknown algorithm '%s' (rsa-sha256 or ed25519-sha256)", alg);
		if (want != (int)crypto_key_type(key))
			die_usage("key %s is not a %s key", keyfile, alg);
	}
	if (crypto_key_too_small(key))
		die_usage("RSA key of %d bits is too weak to sign with (RFC 8301)",
		    crypto_key_bits(key));
	memset(&s, 0, sizeof(s));
	s.key = key;
	s.domain = domain;
	s.selector = selector;
	s.identity = identity;
	s.hcanon = (enum canon_alg)hc;
	s.bcanon = (enum canon_alg)bc;
	s.lifetime = lifetime;
	if (hlist != NULL) {
		char *tok, *save = NULL;

		n = 0;
		hcopy = strdup(hlist);
		for (tok = hcopy; tok != NULL && n < LIMIT_SIGNED_HEADERS; tok = save) {
			save = strchr(tok, ':');
			if (save != NULL)
				*save++ = '\0';
			if (*tok != '\0')
				hv[n++] = tok;
		}
		s.headers = hv;
		s.nheaders = n;
		s.oversign = from_only;
		s.noversign = 1;
	} else {
		s.headers = dkim_default_headers;
		s.nheaders = dkim_default_nheaders;
		s.oversign = dkim_default_oversign;
		s.noversign = dkim_default_noversign;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0 &&
	    (in = fopen(argv[optind], "rb")) == NULL)
		die_usage("cannot open %s", argv[optind]);
	memset(&sc, 0, sizeof(sc));
	if (fstat(fileno(in), &st) < 0 || !S_ISREG(st.st_mode)) {
		/* Spool a pipe so the message can be read twice. */
		FILE *tmp = tmpfile();
		char chunk[65536];

		if (tmp == NULL)
			die_usage("cannot create a temporary file");
		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			if (fwrite(chunk, 1, n, tmp) != n)
				die_usage("cannot spool the message");
		if (ferror(in))
			die_usage("read error");
		rewind(tmp);
		in = tmp;
	}
	if ((sc.d = dkim_create(time(NULL))) == NULL ||
	    dkim_add_signer(sc.d, &s, err, sizeof(err)) < 0)
		die_usage("%s", sc.d ? err : "out of memory");
	rc = msgfile_read(in, &cb, &sc, &sc.crlf, err, sizeof(err));
	if (rc == -1)
		die_usage("%s", err);
	if (rc != 0)
		return rc;
	if (dkim_eom(sc.d) < 0)
		die_usage("signing failed: %s", dkim_error(sc.d));
	for (i = 0; i < dkim_nsignatures(sc.d); i++)
		put_field(dkim_signature(sc.d, i), sc.crlf);
	/* Copy the message unchanged after the new fields. */
	rewind(in);
	{
		char chunk[65536];

		while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
			if (fwrite(chunk, 1, n, stdout) != n)
				die_usage("write error");
	}
	if (fflush(stdout) != 0)
		die_usage("write error");
	dkim_free(sc.d);
	crypto_key_unref(key);
	free(hcopy);
	if (in != stdin)
		fclose(in);
	return 0;
}
