/* SPDX-License-Identifier: MIT */
/* The global lock of nsgate's commands (src/sys/lock.c). */
#ifndef NSGATE_LOCK_H
#define NSGATE_LOCK_H

#include <sys/types.h>

#include "nsgate/common.h"

/* Take the lock (waiting at most NSGATE_LOCK_TIMEOUT seconds, 30 when
 * unset; then a BUSY error naming the holder's pid) and write our pid into
 * it. *ret_fd holds it until closed. A /run/nsgate or lock that is a link
 * or of the wrong type is refused. */
int lock_take(int *ret_fd, struct nsg_err *e);
/* Release it for every process sharing fd (a forked child too), and close fd. */
void lock_release(int fd);

/* For any flock (iptables' own lock too): take it exclusively on fd within
 * timeout_s seconds, polling (0 or -errno; -ETIMEDOUT past the deadline),
 * and the pid the kernel names as its holder (/proc/locks; 0: unknown). */
int lock_wait(int fd, unsigned timeout_s);
pid_t lock_holder_kernel(int fd);

#endif
