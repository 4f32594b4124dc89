/* SPDX-License-Identifier: MIT */
/*
 * Conntrack entries of published ports, over ctnetlink (libmnl). Removing a
 * DNAT map element only changes what new flows do: an existing entry keeps
 * its NAT binding until it times out, and a busy UDP flow never does. So the
 * entries a mapping created are deleted when the mapping goes away.
 */
#ifndef NSGATE_CONNTRACK_H
#define NSGATE_CONNTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/portmap.h"

/*
 * Delete every conntrack entry of the caller's network namespace (any
 * zone) that was destination-NATed by one of the n mappings (ranges count
 * port by port): its original tuple has proto, a destination port of the
 * host range (and destination address host_addr unless AF_UNSPEC), and its
 * reply tuple comes from to_addr and the matching namespace port.
 * A mapping's family is its to_addr's (IPv4 or IPv6; a set host_addr must
 * be of the same family), and only entries of its family meet it.
 * One dump of the table (of the mappings' family, or of both in one walk
 * when they have both), then deletes by tuple and entry id, pipelined; no
 * dump when the namespace has no conntrack entry at all.
 * An entry that went away meanwhile is not an error. *n_deleted (may be
 * NULL) counts the entries deleted, also when an error is returned.
 * 0 or -errno (-EPERM without CAP_NET_ADMIN; -EAFNOSUPPORT for a mapping
 * whose to_addr is neither, or whose host_addr is of the other family),
 * with detail in e.
 */
int conntrack_delete_dnat(const struct portmap *maps, size_t n, size_t *n_deleted,
			  struct nsg_err *e);

#endif
