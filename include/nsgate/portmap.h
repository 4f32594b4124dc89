/* SPDX-License-Identifier: MIT */
/*
 * Port mappings: the one type for a published port range, from the SPEC of
 * the command line and the config file, through the ports file and the
 * nftables maps, to conntrack and sock_diag. A request has no target
 * address yet (the gateway's namespace address is added where elements are
 * built); a mapping read back from the kernel has one port, its target and
 * its owner. The list arithmetic here (merging, differences, matching) is
 * pure, so all of it is unit-tested.
 */
#ifndef NSGATE_PORTMAP_H
#define NSGATE_PORTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/ipaddr.h"
#include "nsgate/spec.h"

/* Host [host_addr:]host_port..+count-1 -> to_addr:port..+count-1. */
struct portmap {
	struct ip_addr host_addr;    /* AF_UNSPEC: every host address */
	struct ip_addr to_addr;      /* the namespace address; AF_UNSPEC in a request */
	/* Read back: the IPv6 target of an unbound port's ports6 element,
	 * folded into this (IPv4) one; AF_UNSPEC when it has none. */
	struct ip_addr to_addr6;
	uint16_t host_port;          /* first host port */
	uint16_t port;               /* first namespace port */
	uint32_t count;              /* ports in the range, >= 1 (1 for each port read back) */
	uint8_t proto;               /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	char owner[GW_NAME_MAX + 1]; /* the gateway it belongs to; "" when not known */
};
/* Where a gateway's published ports lead: its namespace's IPv4 address and,
 * on a dual-stack gateway, its IPv6 one (v6 AF_UNSPEC otherwise). A port
 * bound to a host address goes to the address of that family; an unbound
 * one to both (one element in each family's map). */
struct gw_target {
	struct ip_addr v4;
	struct ip_addr v6;
};
/* The target address for a mapping bound to host_addr (AF_UNSPEC: IPv4's). */
static inline const struct ip_addr *gw_target_for(const struct gw_target *t,
						  const struct ip_addr *host_addr)
{
	return host_addr->family == AF_INET6 ? &t->v6 : &t->v4;
}

/* Room for the longest SPEC portmap_str writes: a bracketed IPv6 address,
 * two ranges and the protocol. */
#define PORTMAP_STRLEN 80

/* [HOSTADDR:]HOSTPORT[-HOSTEND]:PORT[-END][/tcp|udp|sctp], default tcp:
 * a request (no to_addr, no owner). HOSTADDR is an IPv4 address, or an
 * IPv6 one in brackets ("[2001:db8::1]:8080:80", as docker and podman
 * write it). Refused with -EINVAL: an IPv6 address without brackets, the
 * unspecified addresses (leave HOSTADDR out for every address), ::1 (no
 * route_localnet for IPv6), IPv4-mapped (the IPv4 form says it), and
 * link-local and multicast ones. The error names the part that is wrong. */
int portmap_parse(const char *arg, struct portmap *ret, struct nsg_err *e);
/* The canonical SPEC of p ("127.0.0.1:5432:5432/tcp", "5000-5009:6000-6009/udp",
 * "[2001:db8::1]:8080:80/tcp"), which portmap_parse reads back to p;
 * to_addr and owner are not part of it. */
char *portmap_str(const struct portmap *p, char buf[PORTMAP_STRLEN]);
/* "tcp", "udp", "sctp" or "?". */
const char *portmap_proto_name(uint8_t proto);
/* Whether two mappings claim a common host (address, protocol, port). An
 * unbound mapping claims the port on every address of both families; an
 * IPv4-bound and an IPv6-bound one never meet. */
bool portmap_overlap(const struct portmap *a, const struct portmap *b);
/* The ports in v[]: the sum of the counts. */
size_t portmap_count_ports(const struct portmap *v, size_t n);

/* Sort by (proto, host_port, host_addr): how ruleset_published returns
 * mappings, and what portmap_lower_bound searches. host_addr in
 * ip_addr_cmp's total order: unbound, then IPv4, then IPv6. */
void portmap_sort(struct portmap *v, size_t n);
/* By owner, then as portmap_sort: each gateway's ports become one run. */
void portmap_sort_by_owner(struct portmap *v, size_t n);
/* The first of v[] (sorted by portmap_sort) at or after (proto, host_port). */
size_t portmap_lower_bound(const struct portmap *v, size_t n, uint8_t proto, uint16_t host_port);

/* Two of req[] (one command, or one gateway of a file) claiming a common
 * host port: -EINVAL naming both. Sorts a copy of pointers, not req[]. */
int portmap_check_disjoint(const struct portmap *req, size_t n, struct nsg_err *e);
/* Whether request p, for gateway name mapping to to (its targets), clashes with a port of
 * have[] (every gateway's, sorted by portmap_sort): -EADDRINUSE saying whose.
 * A port the gateway already maps to the same place is no clash. */
int portmap_conflict(const struct portmap *p, const char *name, const struct gw_target *to,
		     const struct portmap *have, size_t n_have, struct nsg_err *e);
/* Every port of req[] must be among have[] (one gateway's, one port each
 * as read back, sorted by portmap_sort) with the same namespace port;
 * -EINVAL names the first that is not (the error is for unpublish). */
int portmap_match(const struct portmap *req, size_t n_req, const struct portmap *have,
		  size_t n_have, struct nsg_err *e);

/* a[] plus b[] (b's mapping wins for a host port in both), or a[] less b[]
 * (by host port), merged back into ranges sorted by (proto, host_addr,
 * host_port): the ports file after a publish or unpublish, without reading
 * the maps back. *ret is malloc'ed, its entries requests. */
int portmap_combine(const struct portmap *a, size_t na, const struct portmap *b, size_t nb,
		    bool subtract, struct portmap **ret, size_t *n_ret);
/* What to unpublish (*del) and to publish (*add) to go from have[] (one
 * gateway's, as read back) to want[]; a port mapped elsewhere is in both.
 * Both lists malloc'ed, one request a port. */
int portmap_diff(const struct portmap *have, size_t n_have, const struct portmap *want,
		 size_t n_want, struct portmap **del, size_t *n_del, struct portmap **add,
		 size_t *n_add);

#endif
