/*
 * log.c - syslog or stderr logging (see log.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

/* Set once at start-up, before any thread exists. */
static int use_stderr = 1;

void
log_open(const char *ident, int to_stderr)
{
	use_stderr = to_stderr;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_msg(int prio, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error",
	    "warning", "notice", "info", "debug" };
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_clean(line);
	if (use_stderr)
		/* One fprintf per line so threads do not interleave within a line. */
		fprintf(stderr, "dkimgate[%s]: %s\n", names[prio & 7], line);
	else
		syslog(prio, "%s", line);
}
