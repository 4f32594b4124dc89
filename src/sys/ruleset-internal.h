/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the ruleset module share: ruleset.c builds the
 * table (its sets, maps, chains and rules), ruleset-elems.c the elements a
 * gateway and its published ports put into the sets and maps, and reads
 * them back. Not for other modules: they use nsgate/ruleset.h.
 */
#ifndef NSGATE_RULESET_INTERNAL_H
#define NSGATE_RULESET_INTERNAL_H

/* glibc's netinet/in.h first: then linux/in.h steps aside. */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FAMILY NFPROTO_INET

#define SET_IFACES "ifaces"
#define SET_MASQ_ANY "masq_any"
#define SET_MASQ_VIA "masq_via"
#define MAP_PORTS4 "ports4"
#define MAP_PORTS4H "ports4h"
#define MAP_PORTS6 "ports6"
#define MAP_PORTS6H "ports6h"
#define SET_NS_ADDRS4 "ns_addrs4"
#define SET_NS_ADDRS6 "ns_addrs6"
#define SET_NO_HOST "no_host"
#define SET_NO_HOST_DNS4 "no_host_dns4"
#define SET_NO_HOST_DNS6 "no_host_dns6"
/* Uplinks whose forwarding nsgate turned on; shared by every gateway. */
#define SET_FWD_GUARD "fwd_guard"
#define SET_FWD_GUARD6 "fwd_guard6"
/* Networks (network.h): bridges whose members may reach each other when
 * br_netfilter hands bridged traffic to the inet hooks. */
#define SET_NET_INTRA "net_intra"
/* table bridge nsgate: member port . its MAC . its address. */
#define SET_PORT_SRC4 "port_src4"
/* ... and its IPv6 addresses (dual-stack networks): port . MAC . address. */
#define SET_PORT_SRC6 "port_src6"
#define BRIDGE_FAMILY NFPROTO_BRIDGE
/* The guard set of a family's forwarding. */
static inline const char *fwd_guard_set(int family)
{
	return family == AF_INET6 ? SET_FWD_GUARD6 : SET_FWD_GUARD;
}
static inline bool is_fwd_guard_set(const char *set)
{
	return !strcmp(set, SET_FWD_GUARD) || !strcmp(set, SET_FWD_GUARD6);
}

struct set_def {
	const char *name;
	uint32_t id;
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;   /* 0: a plain set */
};

/* Every set and map of the table, in the order they are created. */
extern const struct set_def ruleset_sets[];
extern const size_t ruleset_n_sets;

#endif
