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

#include "nsgate/portmap.h"

struct listener {
	uint16_t port;      /* the port it holds */
	uint32_t inode;     /* its socket's inode, for finding the process */
	pid_t pid;          /* 0 if not found */
	char comm[16];      /* "" if not found */
};

/*
 * Sockets of the caller's network namespace that would receive traffic for
 * the host side of a mapping (proto, host_addr, host ports): TCP and SCTP
 * sockets in LISTEN, UDP sockets bound to a port (any state).
 * IPv4 traffic (host_addr IPv4, or AF_UNSPEC): a socket bound to 0.0.0.0
 * (or [::] without v6only) matches any host_addr; one bound to a specific
 * address (an IPv6 socket's ::ffff:a.b.c.d is a.b.c.d) matches when
 * host_addr is AF_UNSPEC or equal.
 * IPv6 traffic (host_addr IPv6, or AF_UNSPEC with ipv6 true: the gateway
 * is dual-stack): an IPv6 socket bound to [::] matches any, one bound to a
 * specific address when host_addr is AF_UNSPEC or equal; IPv4 sockets never.
 * One dump per protocol and family, whatever n is (none of IPv4 sockets
 * when every query of the protocol is IPv6-bound). Of all matches, ret gets
 * the one of the lowest query index (*which, may be NULL), lowest port
 * first, and only for it is the owning process looked up in /proc. Kernels
 * without sctp_diag count as having no SCTP sockets. Returns 1, 0 when
 * none, -errno (-EINVAL for a bad protocol or range).
 */
int listeners_find_any(const struct portmap *q, size_t n, bool ipv6, struct listener *ret,
		       size_t *which);

#endif
