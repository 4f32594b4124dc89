/* SPDX-License-Identifier: MIT */
/*
 * Addresses and routes over rtnetlink (libnl-route-3), the half of the link
 * module that src/route.c holds. Same rules as link.h, which includes this.
 */
#ifndef NSGATE_ROUTE_H
#define NSGATE_ROUTE_H

#include <net/if.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/ipaddr.h"

struct nl_sock;

/* The functions that take an address do IPv4 and IPv6 and refuse another
 * family with -EAFNOSUPPORT. */

/* Add addr/plen to name (the prefix route comes with it); an IPv4 one with
 * its broadcast address, an IPv6 one without duplicate address detection
 * (IFA_F_NODAD: usable at once; both ends of a veth are nsgate's). */
int link_addr_add(struct nl_sock *sk, const char *name, const struct ip_addr *addr, uint8_t plen,
		  struct nsg_err *e);
/* Delete addr/plen from the link of index ifindex (its routes go with it). */
int link_addr_delete(struct nl_sock *sk, int ifindex, const struct ip_addr *addr, uint8_t plen);
/* Default route via gw on name, of gw's family. */
int link_route_default_add(struct nl_sock *sk, const char *name, const struct ip_addr *gw,
			   struct nsg_err *e);

/* Ask the FIB which route the namespace would use for addr (RTM_GETROUTE
 * with RTM_F_FIB_MATCH: the route itself, not the next hop). Returns 1 and
 * the route's prefix when one other than a default route matches (a local
 * address matches its /32 local route), 0 when only a default route or
 * none does, -errno. */
int link_route_match(struct nl_sock *sk, const struct ip_addr *addr, struct ip_prefix *ret);

/* What the FIB would do with a packet from src to dst coming in on the
 * interface of index iif: RTM_GETROUTE with RTA_IIF, the kernel's input
 * path with its checks (forwarding on iif, reverse-path filter); nothing is
 * sent. 0 with the route's type (RTN_UNICAST: forwarded, RTN_LOCAL: for the
 * host) in *ret_type (may be NULL), or the kernel's refusal: -EXDEV when
 * rp_filter drops it (-EINVAL since Linux 6.13, as for a martian),
 * -EHOSTUNREACH when iif does not forward, -ENETUNREACH without a route.
 * For `nsgate doctor`. */
int link_route_input(struct nl_sock *sk, const struct ip_addr *dst, const struct ip_addr *src,
		     int iif, unsigned *ret_type);

/* Every prefix of family in use in the socket's namespace: each address's
 * prefix and the destination of every route in every table (default routes
 * excluded). For the subnet allocator. *ret malloc'ed; returns count. */
int link_used_prefixes(struct nl_sock *sk, int family, struct ip_prefix **ret);

/* The interfaces of the main table's IPv4 default routes (each next hop of
 * a multipath one), each once: up to max names into ret. Returns the count
 * (0: no default route), -errno. */
#define LINK_DEFAULT_IFACES_MAX 8
int link_default_ifnames(struct nl_sock *sk, char (*ret)[IF_NAMESIZE], size_t max);
/* The same for family's default routes (AF_INET6: the host's IPv6 uplinks). */
int link_default_ifnames_of(struct nl_sock *sk, int family, char (*ret)[IF_NAMESIZE], size_t max);
/* The next hop of the main table's IPv4 default route through the
 * interface of index ifindex (LAN mode's default --gateway): -ENOENT when
 * none goes through it with a gateway. */
int link_default_gateway(struct nl_sock *sk, int ifindex, struct ip_addr *ret);

#endif
