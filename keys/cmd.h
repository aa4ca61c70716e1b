/*
 * cmd.h - dkimctl subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status:
 * 0 done, 1 a check found problems (testkey), 2 unusable input or usage.
 */
#ifndef DKIMCTL_CMD_H
#define DKIMCTL_CMD_H

int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Shared helpers. */
void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Parse "relaxed/simple" etc. into the two canonicalizations; -1 if invalid. */
int parse_canon_pair(const char *s, int *hc, int *bc);

#endif
