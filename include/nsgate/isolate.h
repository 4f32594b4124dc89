/* SPDX-License-Identifier: MIT */
/* The namespaces of `run --pid` and `--hostname` beyond the network one: a
 * PID namespace whose PID 1 is the command, with its own /proc, and UTS and
 * IPC namespaces of its own. */
#ifndef NSGATE_ISOLATE_H
#define NSGATE_ISOLATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "nsgate/common.h"

/* fork(), or with new_pid a fork whose child is PID 1 of a new PID
 * namespace (the caller's own children after it are not). As fork: the
 * child's pid, 0 in the child, or -errno. */
pid_t isolate_fork(bool new_pid);
/* In the child, after netns_enter (whose mount namespace it is): with
 * new_pid, new UTS and IPC namespaces and a /proc of the PID namespace;
 * with a hostname, a new UTS namespace (never the host's) named so. Nothing
 * to do without either. 0 or -errno, e filled. */
int isolate_enter(bool new_pid, const char *hostname, struct nsg_err *e);

#endif
