/*
 * tu_dns.c - start and stop t/dns/testdns for the unit suites (see tu_dns.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "tu_dns.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "t/data"
#endif

/* The testdns script: $top_srcdir/t/dns/testdns, else beside t/data. */
static int
script(struct buf *b)
{
	const char *top = getenv("top_srcdir");

	if (top != NULL && *top != '\0')
		return buf_printf(b, "%s/t/dns/testdns", top);
	return buf_printf(b, "%s/../dns/testdns", TEST_DATA_DIR);
}

static int
have_unbound(void)
{
	return system("PATH=$PATH:/usr/sbin:/sbin command -v unbound >/dev/null 2>&1") == 0;
}

int
tu_dns_start(struct tu_dns *d, const char *records, const char *opts)
{
	const char *tmp = getenv("TMPDIR");
	struct buf path, cmd;
	char line[64];
	FILE *fp;
	int ok;

	memset(d, 0, sizeof(*d));
	if (!have_unbound()) {
		fprintf(stderr, "tu_dns: unbound not installed (Debian package unbound)\n");
		return getenv("CI") != NULL && *getenv("CI") != '\0' ? -1 : 77;
	}
	if (snprintf(d->dir, sizeof(d->dir), "%s/tu_dns.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp") >= (int)sizeof(d->dir) ||
	    mkdtemp(d->dir) == NULL) {
		perror("tu_dns: mkdtemp");
		return -1;
	}
	buf_init(&path, 8192);
	if (buf_printf(&path, "%s/records.tsv", d->dir) != 0 ||
	    (fp = fopen(buf_str(&path), "w")) == NULL) {
		buf_release(&path);
		return -1;
	}
	ok = fputs(records, fp) >= 0;
	ok = fclose(fp) == 0 && ok;
	buf_init(&cmd, 16384);
	if (!ok || script(&cmd) != 0 ||
	    buf_printf(&cmd, " start '%s/state' %s '%s'", d->dir, opts ? opts : "",
	    buf_str(&path)) != 0) {
		buf_release(&path);
		buf_release(&cmd);
		return -1;
	}
	buf_release(&path);
	fp = popen(buf_str(&cmd), "r");
	buf_release(&cmd);
	if (fp == NULL)
		return -1;
	d->started = 1;
	if (fgets(line, sizeof(line), fp) != NULL)
		d->port = (int)strtol(line, NULL, 10);
	if (pclose(fp) != 0 || d->port <= 0 || d->port > 65535) {
		fprintf(stderr, "tu_dns: testdns did not start (see %s/state)\n", d->dir);
		return -1;
	}
	snprintf(d->resolver, sizeof(d->resolver), "127.0.0.1@%d", d->port);
	return 0;
}

void
tu_dns_stop(struct tu_dns *d)
{
	struct buf cmd;

	if (d->dir[0] == '\0')
		return;
	buf_init(&cmd, 16384);
	if (d->started && script(&cmd) == 0 &&
	    buf_printf(&cmd, " stop '%s/state'", d->dir) == 0 && system(buf_str(&cmd)) != 0)
		fprintf(stderr, "tu_dns: testdns stop failed\n");
	buf_reset(&cmd);
	if (buf_printf(&cmd, "rm -rf '%s'", d->dir) == 0 && system(buf_str(&cmd)) != 0)
		fprintf(stderr, "tu_dns: cannot remove %s\n", d->dir);
	buf_release(&cmd);
	d->dir[0] = '\0';
}
