/*
 * cmd_genkey.c - dkimctl genkey: make a DKIM key pair and the DNS record
 * that publishes it.
 *
 * Writes DIR/DOMAIN.SELECTOR.pem (the private key, PEM PKCS#8, mode 0600)
 * and DIR/DOMAIN.SELECTOR.txt (the record as a BIND zone-file line and as
 * the plain value DNS web forms want), and prints the record. Nothing is ever
 * overwritten: both names are checked before the key is made, and both files
 * are created with O_EXCL. The zone-file line splits the value into quoted
 * strings of at most 255 characters, because a longer one is what DNS forms
 * and zone files silently cut (the truncated keys testkey finds).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "bounds.h"
#include "buf.h"
#include "crypto.h"
#include "keycheck.h"
#include "keyfile.h"

/* One DNS character-string holds at most 255 octets (RFC 1035 3.3). */
#define TXT_STRING_MAX 255
#define RSA_MIN_BITS LIMIT_RSA_MIN_BITS
#define RSA_MAX_BITS 8192
#define GENKEY_PATH_MAX 4096

struct genkey {
	const char *dir;
	char domain[LIMIT_DOMAIN + 1];	/* without a trailing dot */
	char selector[64];
	enum crypto_type type;
	int bits;
	char pem[GENKEY_PATH_MAX], txt[GENKEY_PATH_MAX];
};

static void
genkey_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl genkey -d DOMAIN [-s SELECTOR] [-a rsa|ed25519] [-b BITS]\n"
	    "                      [-D DIR]\n"
	    "Makes a DKIM key pair. Writes DIR/DOMAIN.SELECTOR.pem, the private key\n"
	    "(PEM PKCS#8, mode 0600), and DIR/DOMAIN.SELECTOR.txt, the DNS record to\n"
	    "publish (a BIND zone-file line, and the plain value for DNS web forms),\n"
	    "and prints the record. Existing files are never overwritten.\n"
	    "  -d, --domain DOMAIN      the signing domain (d=)\n"
	    "  -s, --selector SELECTOR  the selector (s=); default sYYYYMM for RSA and\n"
	    "                           eYYYYMM for Ed25519, this month (UTC)\n"
	    "  -a, --algorithm ALG      rsa (default) or ed25519\n"
	    "  -b, --bits BITS          RSA key size, %d to %d (default 2048)\n"
	    "  -D, --directory DIR      where to write the files (default: .)\n"
	    "Exit status: 0 key and record written, 1 nothing written (a file exists\n"
	    "or cannot be written), 3 bad arguments.\n", RSA_MIN_BITS, RSA_MAX_BITS);
}

/* -b: RSA 1024 to 8192 bits; Ed25519 has one size. Exits on a bad value. */
static int
parse_bits(const char *s, enum crypto_type type)
{
	char *end;
	long b = strtol(s, &end, 10);

	if (end == s || *end != '\0')
		die_status(EXIT_KEY_USAGE, "-b needs a number of bits");
	if (type == CRYPTO_ED25519 && b != 256)
		die_status(EXIT_KEY_USAGE, "Ed25519 keys are always 256 bits; leave out -b");
	if (type == CRYPTO_RSA && b < RSA_MIN_BITS)
		die_status(EXIT_KEY_USAGE, "refusing to make a %ld-bit RSA key: receivers "
		    "ignore signatures from keys under %d bits (RFC 8301); use 2048", b,
		    RSA_MIN_BITS);
	if (type == CRYPTO_RSA && b > RSA_MAX_BITS)
		die_status(EXIT_KEY_USAGE, "refusing to make a %ld-bit RSA key: the limit "
		    "is %d, and 2048 is recommended", b, RSA_MAX_BITS);
	return (int)b;
}

static void
parse_args(struct genkey *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "directory", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dom = NULL, *sel = NULL, *bits = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:s:a:b:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dom = optarg; break;
		case 's': sel = optarg; break;
		case 'a':
			if (strcmp(optarg, "rsa") == 0)
				g->type = CRYPTO_RSA;
			else if (strcmp(optarg, "ed25519") == 0)
				g->type = CRYPTO_ED25519;
			else
				die_status(EXIT_KEY_USAGE, "-a must be rsa or ed25519");
			break;
		case 'b': bits = optarg; break;
		case 'D': g->dir = optarg; break;
		case 'h': genkey_usage(stdout); exit(0);
		default: genkey_usage(stderr); exit(EXIT_KEY_USAGE);
		}
	}
	if (optind < argc)
		die_status(EXIT_KEY_USAGE, "unexpected argument '%s'", argv[optind]);
	if (dom == NULL)
		die_status(EXIT_KEY_USAGE, "genkey needs the domain: -d DOMAIN");
	if (!keycheck_name_ok(dom))
		die_status(EXIT_KEY_USAGE, "'%s' is not a domain name", dom);
	str_copy(g->domain, dom, sizeof(g->domain));
	if (g->domain[strlen(g->domain) - 1] == '.')
		g->domain[strlen(g->domain) - 1] = '\0';
	if (sel != NULL && (!keycheck_name_ok(sel) ||
	    strlen(sel) >= sizeof(g->selector) || sel[strlen(sel) - 1] == '.'))
		die_status(EXIT_KEY_USAGE, "'%s' is not a usable selector (letters, "
		    "digits, '-' and '_', at most %zu characters)", sel,
		    sizeof(g->selector) - 1);
	if (bits != NULL)
		g->bits = parse_bits(bits, g->type);
	if (sel != NULL)
		str_copy(g->selector, sel, sizeof(g->selector));
	else {
		/* A date selector says when the key was made and orders rotations. */
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		snprintf(g->selector, sizeof(g->selector), "%c%04d%02d",
		    g->type == CRYPTO_RSA ? 's' : 'e', tm.tm_year + 1900, tm.tm_mon + 1);
	}
}

/* Decide both file names and make sure neither exists yet. */
static int
plan_files(struct genkey *g)
{
	struct stat st;

	if (stat(g->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "dkimctl: %s is not a directory%s%s\n", g->dir,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (snprintf(g->pem, sizeof(g->pem), "%s/%s.%s.pem", g->dir, g->domain,
	    g->selector) >= (int)sizeof(g->pem) ||
	    snprintf(g->txt, sizeof(g->txt), "%s/%s.%s.txt", g->dir, g->domain,
	    g->selector) >= (int)sizeof(g->txt)) {
		fprintf(stderr, "dkimctl: the path under %s is too long\n", g->dir);
		return -1;
	}
	if (lstat(g->pem, &st) == 0 || lstat(g->txt, &st) == 0) {
		fprintf(stderr, "dkimctl: %s already exists: not overwriting it. Choose "
		    "another selector (-s), or move the old files away first.\n",
		    lstat(g->pem, &st) == 0 ? g->pem : g->txt);
		return -1;
	}
	return 0;
}

/* The record value: "v=DKIM1; k=rsa; p=BASE64". */
static int
record_value(const struct crypto_key *k, struct buf *out)
{
	unsigned char *der;
	size_t n;
	char *b64;
	int rc;

	if (crypto_key_public_der(k, &der, &n) < 0)
		return -1;
	if ((b64 = malloc(4 * ((n + 2) / 3) + 1)) == NULL) {
		free(der);
		return -1;
	}
	crypto_b64_encode(der, n, b64);
	rc = buf_printf(out, "v=DKIM1; k=%s; p=%s",
	    crypto_key_type(k) == CRYPTO_RSA ? "rsa" : "ed25519", b64);
	free(der);
	free(b64);
	return rc;
}

/*
 * The .txt contents: the zone-file line, each quoted string at most 255
 * characters (the value has no character that needs escaping), and the
 * plain value.
 */
static int
record_text(const struct genkey *g, const struct crypto_key *k, const char *value,
    struct buf *out)
{
	const char *p = strstr(value, "p=");
	char date[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	rc = buf_printf(out, "; DKIM key for %s, selector %s: %s %d bits, made %s by "
	    "dkimctl genkey.\n; Private key: %s\n;\n; BIND zone file:\n"
	    "%s._domainkey.%s. IN TXT ( \"%.*s\"", g->domain, g->selector,
	    crypto_key_type(k) == CRYPTO_RSA ? "RSA" : "Ed25519",
	    crypto_key_type(k) == CRYPTO_RSA ? crypto_key_bits(k) : 256, date,
	    g->pem, g->selector, g->domain, (int)(p - value), value);
	while (rc == 0 && *p != '\0') {
		size_t n = strlen(p) > TXT_STRING_MAX ? TXT_STRING_MAX : strlen(p);

		rc = buf_printf(out, "\n\t\"%.*s\"", (int)n, p);
		p += n;
	}
	if (rc == 0)
		rc = buf_printf(out, " )\n\n; DNS web form: type TXT, name %s._domainkey "
		    "(the form adds %s; some forms\n; want the full name "
		    "%s._domainkey.%s), and this value:\n%s\n", g->selector, g->domain,
		    g->selector, g->domain, value);
	return rc;
}

static int
write_text(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ssize_t w = -1;

	if (fd >= 0) {
		w = write(fd, text, len);
		if (close(fd) < 0)
			w = -1;
	}
	if (w != (ssize_t)len) {
		fprintf(stderr, "dkimctl: cannot write %s: %s\n", path,
		    errno ? strerror(errno) : "short write");
		if (fd >= 0)
			unlink(path);
		return -1;
	}
	return 0;
}

int
cmd_genkey(int argc, char **argv)
{
	struct genkey g;
	struct crypto_key *k = NULL;
	struct buf value, text;
	char err[512];
	int rc = 1;

	memset(&g, 0, sizeof(g));
	g.type = CRYPTO_RSA;
	g.bits = 2048;
	g.dir = ".";
	parse_args(&g, argc, argv);
	if (g.type == CRYPTO_RSA && g.bits < 2048)
		fprintf(stderr, "dkimctl: warning: a %d-bit RSA key is accepted but weak; "
		    "2048 bits is recommended\n", g.bits);
	if (g.type == CRYPTO_RSA && g.bits > 4096)
		fprintf(stderr, "dkimctl: warning: a %d-bit key makes a TXT record of "
		    "about %d characters; some DNS providers cannot publish it and "
		    "receivers need only handle 4096 bits (RFC 8301)\n",
		    g.bits, g.bits / 6 + 60);
	errno = 0;
	if (plan_files(&g) < 0)
		return 1;
	buf_init(&value, LIMIT_KEY_RECORD);
	buf_init(&text, 4 * LIMIT_KEY_RECORD);
	if (crypto_key_generate(g.type, g.bits, &k, err, sizeof(err)) < 0)
		fprintf(stderr, "dkimctl: %s\n", err);
	else if (record_value(k, &value) < 0 || record_text(&g, k, buf_str(&value),
	    &text) < 0)
		fprintf(stderr, "dkimctl: cannot format the key record\n");
	else if (keyfile_write_private(k, g.pem, err, sizeof(err)) < 0)
		fprintf(stderr, "dkimctl: %s\n", err);
	else if (write_text(g.txt, buf_str(&text), text.len) < 0)
		unlink(g.pem);	/* ours, made a moment ago: keep the pair together */
	else {
		fputs(buf_str(&text), stdout);
		printf("\nWrote %s (private key, mode 0600) and %s.\n"
		    "Publish the record, then check it with\n"
		    "    dkimctl testkey -d %s -s %s -k %s\n"
		    "and add the key to dkimgate's keys list once it says ok.\n",
		    g.pem, g.txt, g.domain, g.selector, g.pem);
		rc = 0;
	}
	crypto_key_unref(k);
	buf_release(&value);
	buf_release(&text);
	return rc;
}
