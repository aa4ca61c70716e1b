/*
 * dkimctl.c - command-line front end to the dkimgate engine: sign and verify
 * message files, manage keys (genkey, testkey, discover), and show a
 * running daemon's state from its metrics (status). Each
 * subcommand lives in its own file.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../milter/canon.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "sign", cmd_sign, "sign a message: dkimctl sign -d DOMAIN -s SELECTOR -k KEYFILE [FILE]" },
	{ "verify", cmd_verify, "verify a message: dkimctl verify [--resolver ADDR[@PORT]] [FILE]" },
	{ "genkey", cmd_genkey, "make a key pair and its DNS record: dkimctl genkey -d DOMAIN [-s SELECTOR]" },
	{ "testkey", cmd_testkey, "check a published key: dkimctl testkey -d DOMAIN -s SELECTOR [-k KEYFILE]" },
	{ "discover", cmd_discover, "find the DKIM keys a domain publishes: dkimctl discover DOMAIN" },
	{ "import-opendkim", cmd_import, "convert OpenDKIM tables: dkimctl import-opendkim KEYTABLE SIGNINGTABLE" },
	{ "status", cmd_status, "summary of a running dkimgate from its metrics: dkimctl status [-c CONFIG]" },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: dkimctl COMMAND [options] [args]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-15s %s\n", cmds[i].name, cmds[i].help);
	fprintf(fp, "\n'dkimctl COMMAND --help' shows the options of a command.\n");
}

void
die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dkimctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

void
die_status(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dkimctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

int
parse_timeout_ms(const char *s)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end != '\0' || !(d > 0 && d <= 300))
		return -1;
	return d * 1000 < 1 ? 1 : (int)(d * 1000);
}

int
parse_canon_pair(const char *s, int *hc, int *bc)
{
	const char *slash = strchr(s, '/');
	enum canon_alg h, b = CANON_SIMPLE;

	if (canon_parse(s, slash ? (size_t)(slash - s) : strlen(s), &h) < 0)
		return -1;
	if (slash && canon_parse(slash + 1, strlen(slash + 1), &b) < 0)
		return -1;
	*hc = (int)h;
	*bc = (int)b;
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("dkimctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dkimctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
