/* SPDX-License-Identifier: MIT */
/* The user's command of `nsgate run`: a child inside the gateway's namespace,
 * signals passed on, its exit status returned. */
#ifndef NSGATE_RUN_H
#define NSGATE_RUN_H

#include "nsgate/common.h"

/* Run argv in the network namespace at netns_path, with /etc/netns/etc_name
 * files over /etc (like ip netns exec), as user (NULL: as we are). SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to nsgate go to the command (a terminal's
 * own signals reach it directly). Returns 0 with *ret_status the command's
 * exit status, or 128 + N when signal N ended it. When the command never
 * ran, -errno with the child's error in *e, of kind NSG_KIND_CMD_NOT_FOUND
 * (execvp found no such command) or NSG_KIND_CMD_CANNOT_RUN (entering the
 * namespace, becoming user or execvp failed otherwise). */
int run_command(const char *netns_path, const char *etc_name, const char *user,
		char *const argv[], int *ret_status, struct nsg_err *e);

#endif
