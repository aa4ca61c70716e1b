/*
 * cmd_util.c - what several dkimctl subcommands share (see cmd.h): dying
 * with a usage message, parsing a timeout or a canonicalization pair, and
 * printing the findings of a key check. Calls go from the subcommands to
 * here, never back.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "canon.h"
#include "keycheck.h"

/* "dkimctl: MESSAGE" on stderr, then exit with status. */
static void
vdie(int status, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0), noreturn));

static void
vdie(int status, const char *fmt, va_list ap)
{
	fprintf(stderr, "dkimctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	exit(status);
}

void
die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, fmt, ap);
}

void
die_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(status, fmt, ap);
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
	enum canon_alg h, b;

	if (canon_parse_pair(s, &h, &b) < 0)
		return -1;
	*hc = (int)h;
	*bc = (int)b;
	return 0;
}

void
print_findings(const struct keycheck *kc, const char *indent, int problems_only)
{
	size_t i;

	for (i = 0; i < kc->n; i++) {
		const struct keycheck_finding *f = &kc->findings[i];

		if (problems_only && f->verdict == KEYCHECK_OK)
			continue;
		printf("%s%-4s %-17s %s%s%s%s\n", indent,
		    keycheck_verdict_name(f->verdict), f->code, f->msg,
		    f->fix[0] ? ". Fix: " : "", f->fix,
		    f->fix[0] && f->fix[strlen(f->fix) - 1] != '.' ? "." : "");
	}
	if (kc->dropped > 0)
		printf("%s(%zu more findings not shown)\n", indent, kc->dropped);
}

