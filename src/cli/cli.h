/* SPDX-License-Identifier: MIT */
/* What the command files of the CLI share: messages and exit codes. The CLI
 * is the only part of nsgate that prints; the core returns errors. */
#ifndef NSGATE_CLI_CLI_H
#define NSGATE_CLI_CLI_H

#include <stdbool.h>

#include "nsgate/nsgate.h"

/* Exit codes (documented in nsgate.8). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_CMD_CANNOT_RUN = 126,
       EXIT_CMD_NOT_FOUND = 127 };

/* "nsgate: <what>: <why>" on stderr; returns the exit code of e's kind. */
int report(const struct nsg_err *e, int fallback);
int usage_error(const char *cmd, const char *fmt, const char *arg);
int need_privileges(const char *cmd);

/* The commands: argv[0] is the command's name, getopt is reset. */
int cmd_up(int argc, char *argv[]);
int cmd_run(int argc, char *argv[]);
int cmd_down(int argc, char *argv[]);
int cmd_publish(int argc, char *argv[]);
int cmd_unpublish(int argc, char *argv[]);
int cmd_list(int argc, char *argv[]);
int cmd_show(int argc, char *argv[]);
int cmd_exec(int argc, char *argv[]);
int cmd_apply(int argc, char *argv[]);
int cmd_gc(int argc, char *argv[]);
int cmd_watch(int argc, char *argv[]);

#endif
