/*
 * cmd_import.c - dkimctl import-opendkim: convert an OpenDKIM KeyTable and
 * SigningTable into dkimgate.conf's keys and signing_table lists, and lint
 * them.
 *
 * The tables are read exactly as the daemon's opendkim source reads them
 * (srcodk.c), so what the import says it cannot carry over is what the
 * daemon would leave out. The lists go to standard output, ready to paste
 * into dkimgate.conf; every problem (file:line: reason), every difference
 * in behaviour and a summary go to standard error. Each key file is also
 * decoded, as the daemon would when it first signs.
 *
 * Exit status: 0 everything carried over, 1 something was left out or a
 * key is unusable, 3 bad arguments or a table that cannot be read.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "buf.h"
#include "crypto.h"
#include "keyset.h"
#include "srcodk.h"
#include "keyfile.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dkimctl import-opendkim [--no-key-check] KEYTABLE [refile:|file:]SIGNINGTABLE\n"
	    "Converts OpenDKIM's KeyTable and SigningTable into dkimgate.conf's keys and\n"
	    "signing_table lists (on stdout) and reports what cannot be carried over (on\n"
	    "stderr). A SigningTable given as refile:PATH holds patterns matched against\n"
	    "the whole address, as OpenDKIM's SigningTable refile: does.\n"
	    "  --no-key-check  do not decode the key files\n");
}

/* s as a libconfig string literal. */
static void
put_quoted(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

/* Lint the key files: each must decode and be private. Returns the count of bad ones. */
static size_t
check_keys(const struct keyset *ks, const char *keytable)
{
	size_t i, bad = 0;

	for (i = 0; i < ks->nkeys; i++) {
		const struct conf_key *k = &ks->keys[i];
		struct crypto_key *key = NULL;
		struct stat st;
		char err[512];

		if (stat(k->path, &st) < 0)
			continue;	/* reported by the reader already */
		if ((st.st_mode & 077) != 0)
			fprintf(stderr, "%s:%d: key '%s': %s is readable by group or others "
			    "(mode %04o): dkimgate refuses it unless allow_readable_keys = true\n",
			    keytable, k->line, k->id, k->path, (unsigned)(st.st_mode & 07777));
		if (keyfile_load_private(k->path, &key, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s:%d: key '%s': %s\n", keytable, k->line, k->id, err);
			bad++;
		} else if (crypto_key_too_small(key)) {
			fprintf(stderr, "%s:%d: key '%s': RSA %d bits cannot sign (RFC 8301)\n",
			    keytable, k->line, k->id, crypto_key_bits(key));
			bad++;
		}
		crypto_key_unref(key);
	}
	return bad;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-key-check", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *kt, *st;
	struct buf problems, notes;
	struct keyset *ks;
	char err[512], *used;
	size_t i, j, unused = 0, bad = 0;
	int ch, refile = 0, key_check = 1, nprob;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'K': key_check = 0; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_KEY_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EXIT_KEY_USAGE;
	}
	kt = argv[optind];
	st = argv[optind + 1];
	if (strncmp(kt, "file:", 5) == 0)
		kt += 5;
	if (strncmp(st, "refile:", 7) == 0) {
		refile = 1;
		st += 7;
	} else if (strncmp(st, "file:", 5) == 0)
		st += 5;
	buf_init(&problems, 64 * 1024 * 1024);
	buf_init(&notes, 64 * 1024);
	if ((ks = srcodk_read(kt, st, refile, &problems, &notes, err, sizeof(err))) == NULL) {
		buf_release(&problems);
		buf_release(&notes);
		die_status(EXIT_KEY_USAGE, "%s", err);
	}
	nprob = 0;
	for (i = 0; i < problems.len; i++)
		nprob += problems.data[i] == '\n';
	fputs(buf_str(&problems), stderr);
	if ((used = calloc(ks->nkeys + 1, 1)) == NULL)
		die_status(EXIT_KEY_USAGE, "out of memory");
	printf("# From %s and %s%s (dkimctl import-opendkim).\n", kt, refile ? "refile:" : "", st);
	printf("keys = (\n");
	for (i = 0; i < ks->nkeys; i++) {
		const struct conf_key *k = &ks->keys[i];

		printf("  { id = ");
		put_quoted(k->id);
		printf("; domain = ");
		put_quoted(k->domain);
		printf("; selector = ");
		put_quoted(k->selector);
		printf("; file = ");
		put_quoted(k->path);
		printf("; }%s\n", i + 1 < ks->nkeys ? "," : "");
	}
	printf(");\nsigning_table = (\n");
	for (i = 0; i < ks->ntable; i++) {
		const struct conf_sigentry *e = &ks->table[i];

		printf("  { from = ");
		put_quoted(e->pattern);
		printf("; keys = [ ");
		for (j = 0; j < e->nkeys; j++) {
			used[e->keys[j]] = 1;
			put_quoted(ks->keys[e->keys[j]].id);
			printf("%s", j + 1 < e->nkeys ? ", " : " ");
		}
		printf("]; }%s\n", i + 1 < ks->ntable ? "," : "");
	}
	printf(");\n");
	for (i = 0; i < ks->nkeys; i++)
		if (!used[i]) {
			fprintf(stderr, "%s:%d: key '%s' is used by no SigningTable line\n", kt,
			    ks->keys[i].line, ks->keys[i].id);
			unused++;
		}
	if (key_check)
		bad = check_keys(ks, kt);
	fputs(buf_str(&notes), stderr);
	fprintf(stderr, "import-opendkim: %zu keys, %zu signing_table entries carried over; "
	    "%d line(s) not carried over or with problems, %zu unused key(s), %zu unusable "
	    "key file(s)\n", ks->nkeys, ks->ntable, nprob, unused, bad);
	fprintf(stderr, "import-opendkim: for large tables, dkimgate can also read them as "
	    "they are: sources = ( { type = \"opendkim\"; key_table = \"%s\"; "
	    "signing_table = \"%s%s\"; } );\n", kt, refile ? "refile:" : "", st);
	free(used);
	keyset_unref(ks);
	buf_release(&problems);
	buf_release(&notes);
	return nprob > 0 || bad > 0 ? 1 : 0;
}
