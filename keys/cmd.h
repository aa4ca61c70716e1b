/*
 * cmd.h - dkimctl subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status.
 *
 * sign, verify: 0 done, 2 unusable input or usage.
 * The key commands give the worst verdict of their checks, so scripts and
 * monitoring can act on it, and keep a separate status for being called wrong:
 *   genkey:   0 key and record written, 1 nothing written (a file exists,
 *             or cannot be written), 3 bad arguments.
 *   testkey:  0 every check ok, 1 worst is a warning, 2 a check failed,
 *             3 bad arguments or an unusable key file or configuration.
 *   discover: 0 keys found and all ok, 1 nothing found or worst is a
 *             warning, 2 a found key fails a check, 3 bad arguments.
 *   import-opendkim: 0 everything carried over, 1 something left out or a
 *             key unusable, 3 bad arguments or unreadable tables.
 */
#ifndef DKIMCTL_CMD_H
#define DKIMCTL_CMD_H

int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_genkey(int argc, char **argv);
int cmd_testkey(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_import(int argc, char **argv);
/* status: 0 shown, 1 metrics off, 2 endpoint unreachable, 3 bad arguments. */
int cmd_status(int argc, char **argv);

/* Exit status of the key commands for bad arguments. */
#define EXIT_KEY_USAGE 3

/* Shared helpers (cmd_util.c). */
void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Like die_usage, with the exit status given. */
void die_status(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* "--timeout SECONDS" (0 < s <= 300, fractions allowed) in ms; -1 if invalid. */
int parse_timeout_ms(const char *s);
struct keycheck;
/*
 * Print a key check's findings, one line each: "VERDICT CODE MESSAGE. Fix:
 * FIX", after indent; problems_only leaves out the ok lines.
 */
void print_findings(const struct keycheck *kc, const char *indent, int problems_only);
/* Parse "relaxed/simple" etc. into the two canonicalizations; -1 if invalid. */
int parse_canon_pair(const char *s, int *hc, int *bc);
struct dns;
struct dmarc_result;
/*
 * Print, each line after prefix, the RFC 9989 tree walk from domain (every
 * query and its answer), the policy and adkim it finds, and the
 * Organizational Domain by the walk and by the public suffix list; res,
 * when not NULL, receives the walk's outcome. -1 when domain cannot be
 * walked.
 */
int report_dmarc(struct dns *dns, const char *domain, const char *prefix,
    struct dmarc_result *res);

#endif
