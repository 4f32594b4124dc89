/* SPDX-License-Identifier: MIT */
/*
 * Host sockets that a published port would take traffic from, found with
 * sock_diag (NETLINK_SOCK_DIAG, libmnl). DNAT in prerouting wins over any
 * local socket, so publishing a port a host process listens on would
 * silently steal its traffic.
 */
#ifndef NSGATE_LISTENERS_H
#define NSGATE_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct listener {
	uint16_t port;      /* the port it holds */
	uint32_t inode;     /* its socket's inode, for finding the process */
	pid_t pid;          /* 0 if not found */
	char comm[16];      /* "" if not found */
};

/* Host address addr (host order, 0 = every host address) and ports [lo, hi]. */
struct listen_query {
	uint8_t proto;
	uint32_t addr;
	uint16_t lo, hi;
};

/*
 * Sockets of the caller's network namespace that would receive IPv4 traffic
 * for a query: TCP and SCTP sockets in LISTEN, UDP sockets bound to a port
 * (any state). A socket bound to 0.0.0.0 (or [::] without v6only) matches
 * any addr; one bound to a specific address matches when addr is 0 or equal.
 * One dump per protocol and family, whatever n is. Of all matches, ret gets
 * the one of the lowest query index (*which, may be NULL), lowest port
 * first, and only for it is the owning process looked up in /proc. Kernels without sctp_diag count
 * as having no SCTP sockets. Returns 1, 0 when none, -errno (-EINVAL for a
 * bad query).
 */
int listeners_find_any(const struct listen_query *q, size_t n, struct listener *ret,
		       size_t *which);

#endif
