/* SPDX-License-Identifier: MIT */
/* Network namespaces: iproute2-compatible /run/netns entries, opening, exec. */
#ifndef NSGATE_NETNS_H
#define NSGATE_NETNS_H

#include <stdint.h>
#include <sys/types.h>

#include "nsgate/common.h"

#define NETNS_RUN_DIR "/run/netns"
#define NETNS_ETC_DIR "/etc/netns"

/* Creating a namespace in two steps, so that its identity can be recorded
 * before anything of it is on the file system: netns_new makes a new,
 * empty network namespace held only by *ret_fd (its nsfs inode in
 * *ret_ino); netns_pin bind-mounts it on /run/netns/NAME, the way
 * `ip netns add` does (so `ip netns exec NAME` works). -EEXIST if taken. */
int netns_new(int *ret_fd, uint64_t *ret_ino, struct nsg_err *e);
int netns_pin(const char *name, int fd, struct nsg_err *e);
/* Unmount and remove /run/netns/NAME if it is the namespace of nsfs inode
 * ino (0: any namespace), or the empty placeholder a kill between the two
 * steps above leaves. -ENOENT if absent; -ESTALE, touching nothing, when
 * it is something else (another namespace, a symbolic link, a file). */
int netns_delete(const char *name, uint64_t ino);
/* Open a network namespace file; refuses anything that is not a network
 * namespace (-EINVAL) and the caller's own one (-EBUSY). A /proc/PID path
 * whose process is gone gives -ESRCH. */
int netns_open(const char *path, int *ret_fd, struct nsg_err *e);
/* Device and inode that identify a namespace (to notice a reused PID). */
int netns_ident(int fd, uint64_t *ret_ino);
/* Enter the namespace like `ip netns exec` (own mount namespace, /sys
 * remounted, /etc/netns/NAME/ files bound over /etc), without exec. */
int netns_enter(const char *path, const char *etc_name, struct nsg_err *e);
/* Enter the namespace like `ip netns exec`: own mount namespace, /sys
 * remounted, /etc/netns/NAME/ files bind-mounted over /etc; then exec argv.
 * Returns only on failure, of kind NSG_KIND_CMD_NOT_FOUND when execvp finds
 * no such command, NSG_KIND_CMD_CANNOT_RUN when it or entering the namespace
 * fails otherwise; a namespace that is gone (-ENOENT) keeps its own kind. */
int netns_exec(const char *path, const char *etc_name, char *const argv[], struct nsg_err *e);

#endif
