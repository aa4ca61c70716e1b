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
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
