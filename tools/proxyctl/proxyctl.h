/* proxyctl's commands, one per file, and the little they share: how to report an OpenSSL
 * failure. Commands take the arguments after their own name and return the exit code. */
#ifndef PROXYCTL_H
#define PROXYCTL_H

#include <stdio.h>

/* Exit codes: 0 done, 1 it failed, 2 the command line was wrong. */
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

/* The whole command line's help; every command's -h prints it. */
void ctl_usage(FILE *out);

int cmd_pki_init(int argc, char **argv);
int cmd_pki_issue(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_ping(int argc, char **argv);
int cmd_metrics(int argc, char **argv);

/* "proxyctl: WHAT" on stderr, then every queued OpenSSL error, emptying the queue so an old
 * error never shows up under a later failure. */
void ctl_ossl_fail(const char *what);

#endif
