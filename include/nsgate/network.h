/* SPDX-License-Identifier: MIT */
/*
 * Networks: several gateways ("members") on one Linux bridge with one
 * subnet, reaching each other directly. What a network is, its names and
 * its file, pure (unit-tested, no system access). The operations are
 * declared in nsgate.h.
 */
#ifndef NSGATE_NETWORK_H
#define NSGATE_NETWORK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/ipaddr.h"
#include "nsgate/spec.h"

/* Networks' /24s come from their own pool, beside the gateways' /30s. */
#define NET_POOL_DEFAULT "10.201.0.0/16"
#define NET_SUBNET_PLEN 24
/* A network's subnet: at least the gateway address and a few members, at
 * most what a bridge's neighbour tables sensibly hold. */
#define NET_SUBNET_PLEN_MIN 16
#define NET_SUBNET_PLEN_MAX 29
/* "nsg-" + '+' + NAME: '+' is in no gateway name, so a bridge never takes
 * a gateway's "nsg-NAME", and it still starts with "nsg-", so every rule
 * that matches gateway links by prefix covers it (fail closed). */
#define NET_BRIDGE_MARK '+'
/* The bridge's ifalias: not "nsgate:", which names gateways' links. */
#define NET_ALIAS_PREFIX "nsgate-network:"
/* The comment of the elements a network (not a member) owns. */
#define NET_ELEM_PREFIX "network:"

/* port: its bridge port, set only for a member of several networks
 * ("member=NAME ADDR PORT" in the file); "" is spec_host_ifname(name), a
 * member of this network alone. */
struct net_member {
	char name[GW_NAME_MAX + 1];
	struct ip_addr addr;
	char port[IF_NAMESIZE];
	/* Not in the file (net_member_addr6 derives it): set only where
	 * members of several networks are listed together (hosts). */
	struct ip_addr addr6;
};

/* The member's bridge port. */
void net_member_port(const struct net_member *m, char ret[IF_NAMESIZE]);

/* A network as its file /run/nsgate/networks/NET.net keeps it. */
struct net_state {
	char name[GW_NAME_MAX + 1];
	char bridge[IF_NAMESIZE];
	struct ip_prefix subnet;     /* IPv4; .1 is the gateway (the bridge's address) */
	bool subnet_given;
	/* Dual-stack: its /64 (::1 the bridge's, each member ::I for its
	 * IPv4 address .I); AF_UNSPEC: IPv4 only. */
	struct ip_prefix subnet6;
	bool subnet6_given;
	bool isolated;               /* members do not reach each other (port isolation) */
	bool explicit_;              /* made by `network create`: stays without members */
	size_t n_members;
	struct net_member *members;  /* malloc'ed, in the order they came */
};

void net_state_clear(struct net_state *n);

/* The bridge of network name: "nsg-+NAME", or past 15 bytes "nsg-+" + 4
 * bytes of the name + '~' + 5 hex digits of its hash (spec_host_ifname's
 * scheme: '~' is in no name, so a shortened name equals no other). */
void net_bridge_ifname(const char *name, char ret[IF_NAMESIZE]);
/* A network's --subnet: an IPv4 prefix of length 16..29 (host bits zero)
 * that ipam_subnet_usable accepts. */
int net_subnet_parse(const char *arg, struct ip_prefix *ret, struct nsg_err *e);
/* The network's gateway address (.1 of its subnet). */
static inline struct ip_addr net_gateway_addr(const struct ip_prefix *subnet)
{
	return ip_addr_v4(subnet->addr.v4 + 1);
}
/* A member's IPv6 address in a dual-stack network: the host index of
 * its IPv4 address (.I) in the network's /64 (::I); AF_UNSPEC when the
 * network is IPv4 only. */
static inline struct ip_addr net_addr6_of(const struct ip_prefix *subnet,
					  const struct ip_prefix *subnet6, const struct ip_addr *addr)
{
	return spec_nth_addr6(subnet6, addr->v4 - subnet->addr.v4);
}
/* Its link-local one, fe80::I (the bridge's is fe80::1): fixed, so the
 * source check knows it, and its own, so no member can take another's. */
static inline struct ip_addr net_ll6_of(const struct ip_prefix *subnet, const struct ip_addr *addr)
{
	struct ip_prefix ll = { .addr = { .family = AF_INET6, .v6 = { 0xfe, 0x80 } }, .plen = 64 };

	return spec_nth_addr6(&ll, addr->v4 - subnet->addr.v4);
}
static inline struct ip_addr net_member_addr6(const struct net_state *n,
					      const struct net_member *m)
{
	return ip_addr_is_set(&m->addr6) ? m->addr6 : net_addr6_of(&n->subnet, &n->subnet6, &m->addr);
}
/* The first address of subnet after the gateway's that no member has and
 * that is not the broadcast address; -EADDRINUSE when none is left. */
int net_addr_pick(const struct ip_prefix *subnet, const struct net_member *m, size_t n,
		  struct ip_addr *ret);
/* A locally administered MAC made of an IPv4 address, 02:6e:A:B:C:D: the
 * member's eth0 and the bridge get fixed ones, so the source check can key
 * on the MAC (no other port can take over a member's in the bridge's
 * forwarding table) and the bridge's never changes as ports come and go. */
void net_mac_of(const struct ip_addr *a, uint8_t mac[6]);
/* The member called name, or NULL. */
const struct net_member *net_member_find(const struct net_state *n, const char *name);
/* Add (a copy of) m / remove name; 0 or -ENOMEM / -ENOENT. */
int net_member_add(struct net_state *n, const struct net_member *m);
int net_member_remove(struct net_state *n, const char *name);

/* The file's text, and back (strict: -EBADMSG for anything unexpected).
 * format: *ret malloc'ed. */
int net_state_format(const struct net_state *n, char **ret);
int net_state_parse(const char *text, struct net_state *ret);
/* The hosts file of n's members: localhost, then every member (itself too)
 * by its name, with its IPv6 address too in a dual-stack network; *ret
 * malloc'ed. */
int net_hosts_render(const struct net_state *n, char **ret);

#endif
