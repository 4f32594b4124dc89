/* SPDX-License-Identifier: MIT */
/* The command line: parsing, messages and exit codes. The only module that prints. */
#ifndef NSGATE_CLI_H
#define NSGATE_CLI_H

int cli_main(int argc, char *argv[]);

#endif
