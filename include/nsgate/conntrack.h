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

/* One published port; all fields in host byte order. */
struct ct_dnat {
	uint8_t proto;          /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	uint32_t host_addr;     /* 0: any host address */
	uint16_t host_port;     /* original destination port */
	uint32_t to_addr;       /* namespace address it was DNATed to */
	uint16_t to_port;
};

/*
 * Delete every IPv4 conntrack entry of the caller's network namespace (any
 * zone) that was destination-NATed by one of the n mappings: its original
 * tuple has proto, destination port host_port (and destination address
 * host_addr unless 0), and its reply tuple comes from to_addr:to_port.
 * One dump of the table, then deletes by tuple and entry id, pipelined;
 * no dump when the namespace has no conntrack entry at all.
 * An entry that went away meanwhile is not an error. *n_deleted (may be
 * NULL) counts the entries deleted, also when an error is returned.
 * 0 or -errno (-EPERM without CAP_NET_ADMIN), with detail in e.
 */
int conntrack_delete_dnat(const struct ct_dnat *maps, size_t n, size_t *n_deleted,
			  struct nsg_err *e);

#endif
