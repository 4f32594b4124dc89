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

/* getopt_long's val of every long option is at least this: an unknown short
 * option (optopt a character) is then told from a long one given a value. */
enum { OPT_LONG = 0x100 };

/* "nsgate: <what>: <why>" (just "nsgate: <why>" without what) on one line of
 * stderr, both escaped by nsg_escape: the one printer of messages. */
void print_error(const char *what, const char *why_fmt, ...) _printf_(2, 3);
/* One warning per other firewall's chain of bs that is not opened, with its
 * fix: `gateway "NAME": ... drops its traffic`, or with name NULL `...
 * drops the gateways' traffic`. */
void warn_firewall_blocks(const char *name, const struct fw_blocks *bs);
/* report: e as above; returns the exit code of e's kind. */
int report(const struct nsg_err *e, int fallback);
/* "nsgate: CMD: <object>: <why> (see 'nsgate CMD --help')"; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);
/* The "schema" of every JSON document nsgate prints (nsgate.8, JSON
 * OUTPUT): raised when a field is removed or changes meaning, never for a
 * new field. */
#define NSG_JSON_SCHEMA 1

/* nsgate version [--json] (version.c); --version: the version line only. */
int cmd_version(int argc, char *argv[]);
int cmd_version_short(void);
/* The usage error naming the option for what getopt_long returned instead
 * of one ('?' or ':'; optstring starts with ':', opterr is 0). */
int option_error(const char *cmd, int c, char *argv[]);
/* For a command without options: -1, or the usage error of the first. */
int options_none(const char *cmd, int argc, char *argv[]);
/* -1 when exactly n arguments follow the options, else the usage error
 * ("WHAT: missing", or the first unexpected one). */
int args_count(const char *cmd, int argc, char *argv[], int n, const char *what);
int need_privileges(const char *cmd);

/* show.c's, for every command with --json: the option (true when given;
 * *ret_code >= 0 is the usage error to return), and the document printed
 * and put. */
struct json_object;
bool parse_json_flag(int argc, char *argv[], const char *cmd, int *ret_code);
void print_json(struct json_object *o);

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
int cmd_doctor(int argc, char *argv[]);
int cmd_network(int argc, char *argv[]);

#endif
