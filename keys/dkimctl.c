/*
 * dkimctl.c - command-line front end to the dkimgate engine: sign and verify
 * message files, manage keys (genkey, testkey, discover), and show a
 * running daemon's state from its metrics (status). Each
 * subcommand lives in its own file, the helpers they share in cmd_util.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

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
