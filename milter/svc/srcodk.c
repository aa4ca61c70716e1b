/*
 * srcodk.c - OpenDKIM KeyTable and SigningTable files (see srcodk.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bounds.h"
#include "keycheck.h"
#include "srcodk.h"

/* Longest line read; longer ones are problems. */
#define SRCODK_LINE 4096

/* Split line into whitespace-separated fields (in place); returns the count. */
static size_t
fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line, *hash = strchr(line, '#');

	if (hash != NULL)
		*hash = '\0';
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0' || n == max)
			return n;
		f[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* A domain name without wildcards, at most LIMIT_DOMAIN long. */
static int
plain_domain(const char *d)
{
	return strchr(d, '*') == NULL && keycheck_name_ok(d);
}

int
srcodk_pattern(const char *p, int refile, char *out, size_t outlen, const char **why)
{
	const char *at = strchr(p, '@');
	int n;

	*why = NULL;
	if (strcmp(p, "*") == 0 || (refile && strcmp(p, "*@*") == 0)) {
		n = snprintf(out, outlen, "*");
	} else if (refile && at == NULL && strncmp(p, "*.", 2) == 0 && plain_domain(p + 2)) {
		n = snprintf(out, outlen, "%s", p);
	} else if (refile && at == NULL) {
		*why = strchr(p, '*') ? "a wildcard dkimgate cannot index (it takes *, *@DOMAIN, "
		    "*@*.DOMAIN and USER@DOMAIN)" : "a refile pattern without '@' is matched "
		    "against the whole address and matches none; write *@DOMAIN";
		return -1;
	} else if (!refile && at == NULL && p[0] == '.' && plain_domain(p + 1)) {
		n = snprintf(out, outlen, "*%s", p);
	} else if (!refile && at == NULL) {
		if (!plain_domain(p)) {
			*why = "not a domain name";
			return -1;
		}
		n = snprintf(out, outlen, "%s", p);
	} else if (strchr(at + 1, '@') != NULL) {
		*why = "more than one '@'";
		return -1;
	} else if (at - p == 1 && p[0] == '*' && plain_domain(at + 1)) {
		n = snprintf(out, outlen, "%s", at + 1);
	} else if (at - p == 1 && p[0] == '*' && strncmp(at + 1, "*.", 2) == 0 &&
	    plain_domain(at + 3)) {
		n = snprintf(out, outlen, "%s", at + 1);
	} else if (at > p && memchr(p, '*', (size_t)(at - p)) == NULL &&
	    memchr(p, ' ', (size_t)(at - p)) == NULL && plain_domain(at + 1)) {
		n = snprintf(out, outlen, "%s", p);
	} else {
		*why = "a wildcard dkimgate cannot index (it takes *, *@DOMAIN, "
		    "*@*.DOMAIN and USER@DOMAIN)";
		return -1;
	}
	if (n < 0 || (size_t)n >= outlen) {
		*why = "too long";
		return -1;
	}
	return 0;
}

static FILE *
open_table(const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fp;
}

/* One KeyTable line (fields f[0..n)); problems go to pr. */
static void
keytable_line(struct keyset *ks, const char *file, int line, char **f, size_t n,
    struct buf *pr)
{
	char *dom, *sel, *path, *c1, *c2, why[300];
	struct stat st;

	if (n < 2) {
		buf_report(pr, "%s:%d: key '%s' has no DOMAIN:SELECTOR:KEYFILE", file, line,
		    f[0]);
		return;
	}
	if (n > 2)
		buf_report(pr, "%s:%d: text after DOMAIN:SELECTOR:KEYFILE ignored", file, line);
	dom = f[1];
	if ((c1 = strchr(dom, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL) {
		buf_report(pr, "%s:%d: key '%s': '%s' is not DOMAIN:SELECTOR:KEYFILE", file,
		    line, f[0], f[1]);
		return;
	}
	*c1 = '\0';
	*c2 = '\0';
	sel = c1 + 1;
	path = c2 + 1;
	if (strcmp(dom, "%") == 0) {
		buf_report(pr, "%s:%d: key '%s': '%%' (the domain of the From: address) is "
		    "not supported; write the domain", file, line, f[0]);
		return;
	}
	if (!plain_domain(dom) || !keycheck_name_ok(sel)) {
		buf_report(pr, "%s:%d: key '%s': '%s' with selector '%s' is not a DNS name",
		    file, line, f[0], dom, sel);
		return;
	}
	if (path[0] != '/') {
		buf_report(pr, "%s:%d: key '%s': the key must be a file named by its absolute "
		    "path (key data in the table is not supported)", file, line, f[0]);
		return;
	}
	if (keyset_add_key(ks, f[0], dom, sel, path, line, why, sizeof(why)) < 0) {
		buf_report(pr, "%s:%d: %s", file, line, why);
		return;
	}
	/* Kept: the domain's mail then fails as sign.on_error says. */
	if (stat(path, &st) < 0)
		buf_report(pr, "%s:%d: key '%s': key file %s: %s", file, line, f[0], path,
		    strerror(errno));
}

/* One SigningTable line. */
static void
signtable_line(struct keyset *ks, const char *file, int line, char **f, size_t n,
    int refile, struct buf *pr)
{
	char pat[LIMIT_DOMAIN + 130];
	const char *why;
	size_t i;
	long e, k;
	int first;

	if (n < 2) {
		buf_report(pr, "%s:%d: '%s' names no key", file, line, f[0]);
		return;
	}
	if (srcodk_pattern(f[0], refile, pat, sizeof(pat), &why) < 0) {
		buf_report(pr, "%s:%d: '%s': %s; line left out", file, line, f[0], why);
		return;
	}
	/* Keys first: an entry that would sign with nothing is not made. */
	for (i = 1; i < n; i++) {
		if ((k = keyset_key_index(ks, f[i])) < 0) {
			buf_report(pr, "%s:%d: no key '%s' in the KeyTable", file, line, f[i]);
			continue;
		}
		/* A pattern on several lines collects the keys of each. */
		if ((e = keyset_entry_index(ks, pat)) < 0 &&
		    (e = keyset_add_entry(ks, pat, line, &first)) < 0) {
			buf_report(pr, "%s:%d: out of memory", file, line);
			return;
		}
		if (ks->table[e].nkeys >= LIMIT_SIGNERS) {
			buf_report(pr, "%s:%d: more than %d keys for '%s'; '%s' not used", file,
			    line, LIMIT_SIGNERS, f[0], f[i]);
			continue;
		}
		if (keyset_entry_add_key(ks, (size_t)e, (size_t)k) < 0)
			buf_report(pr, "%s:%d: out of memory", file, line);
	}
}

/* Read one table; kind 0: KeyTable, 1: SigningTable. */
static int
read_table(struct keyset *ks, const char *path, int kind, int refile, struct buf *pr,
    char *err, size_t errlen)
{
	char line[SRCODK_LINE], *f[LIMIT_SIGNERS + 2];
	int lineno = 0, longline = 0;
	FILE *fp;

	if ((fp = open_table(path, err, errlen)) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t n, len = strlen(line);

		if (longline) {
			/* The rest of a line already reported. */
			longline = len > 0 && line[len - 1] != '\n';
			continue;
		}
		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(fp)) {
			buf_report(pr, "%s:%d: line longer than %d bytes left out", path, lineno,
			    SRCODK_LINE - 2);
			longline = 1;
			continue;
		}
		if ((n = fields(line, f, sizeof(f) / sizeof(f[0]))) == 0)
			continue;
		if (kind == 0)
			keytable_line(ks, path, lineno, f, n, pr);
		else
			signtable_line(ks, path, lineno, f, n, refile, pr);
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

struct keyset *
srcodk_read(const char *keytable, const char *signtable, int refile, struct buf *problems,
    struct buf *notes, char *err, size_t errlen)
{
	struct keyset *ks = keyset_create(signtable);

	if (ks == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (read_table(ks, keytable, 0, refile, problems, err, errlen) < 0 ||
	    read_table(ks, signtable, 1, refile, problems, err, errlen) < 0) {
		keyset_unref(ks);
		return NULL;
	}
	if (notes != NULL && refile && ks->ntable > 1)
		buf_report(notes, "%s: OpenDKIM uses the first line that matches (all of them "
		    "with MultipleSignatures); dkimgate uses the most specific pattern: an "
		    "address, then a domain, then the longest *.domain, then *", signtable);
	return ks;
}
