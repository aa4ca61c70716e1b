/*
 * log.h - where dkimgate's log lines go: syslog (LOG_MAIL) or stderr.
 *
 * Only the code that decides about a message or the process logs; library
 * modules return errors instead. Lines start with the queue id when there is
 * one ("QUEUEID: event key=value ..."). Thread-safe.
 */
#ifndef DKIMGATE_LOG_H
#define DKIMGATE_LOG_H

#include <syslog.h>

void log_open(const char *ident, int to_stderr);
/*
 * One line. Values in it may come from the MTA or the message (user names,
 * addresses): control characters are written as '?' (log_clean), so no
 * value can end the line or forge another one.
 */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Replace every control character of line by '?' (logclean.c). */
void log_clean(char *line);

#endif
