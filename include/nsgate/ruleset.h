/* SPDX-License-Identifier: MIT */
/*
 * nsgate's one nftables table, "inet nsgate": its sets, maps, chains and
 * rules (ruleset.c builds every rule, each with the nft line it stands for),
 * and the set elements that make up one gateway and its published ports
 * (ruleset-elems.c). docs/design.md explains the layout.
 */
#ifndef NSGATE_RULESET_H
#define NSGATE_RULESET_H

#include <stdbool.h>
#include <stddef.h>

#include "nsgate/common.h"
#include "nsgate/portmap.h"
#include "nsgate/spec.h"

struct nftx;

#define RULESET_TABLE "nsgate"

/* What a gateway contributes to the table. uplink empty: masquerade toward
 * every interface that is not a gateway. */
struct ruleset_gw {
	const char *name;
	const char *host_ifname;
	const char *uplink;
	struct ip_addr ns_addr;         /* the one source its namespace may send from (IPv4) */
	/* Dual-stack: its IPv6 source (with GW_LL_NS, the link-local one it
	 * may send from too); AF_UNSPEC for an IPv4-only gateway. */
	struct ip_addr ns_addr6;
	/* Its link-local source; AF_UNSPEC: GW_LL_NS (a member has its own). */
	struct ip_addr ns_ll6;
	bool no_host;                   /* keep it off the host's own addresses ... */
	unsigned n_dns;                 /* ... but for these DNS servers (its resolv.conf) */
	struct ip_addr dns[GW_DNS_MAX]; /* either family (no_host_dns4, no_host_dns6) */
	/* A network member: its network's bridge, where its packets come in
	 * for the inet hooks (ns_addrs4 is keyed on it); host_ifname is its
	 * port. Masquerade is the network's (ruleset_queue_network). NULL
	 * for a plain gateway. */
	const char *bridge;
};

/* Queue the table, its sets and chains, and (after flushing them) the chains'
 * rules. Idempotent: on an existing table this only rewrites nsgate's own
 * rules, which also repairs a table someone edited. Elements are kept. */
int ruleset_queue_skeleton(struct nftx *n);
/* Queue the addition (or deletion) of a gateway's elements: ifaces, its
 * masquerade element, ns_addrs4, on a dual-stack gateway (ns_addr6 set)
 * ns_addrs6 (veth . ns_addr6 and veth . GW_LL_NS; a member's on its
 * bridge, with its own ns_ll6), and with no_host those
 * of ruleset_queue_no_host. -EAFNOSUPPORT unless ns_addr is IPv4 and
 * ns_addr6 IPv6 or unset. A deletion
 * here and in the two below queues each element's add (a no-op if it
 * exists) before its delete: it never fails on an element already gone. */
int ruleset_queue_gateway(struct nftx *n, const struct ruleset_gw *gw, bool del);
/* A network's own elements, commented NET_ELEM_PREFIX + name:
 * masq_any (bridge), and unless isolated net_intra (bridge . bridge). */
int ruleset_queue_network(struct nftx *n, const char *name, const char *bridge, bool isolated,
			  bool del);
/* A member's source on its port, in table bridge nsgate: port_src4 or
 * for an IPv6 address port_src6 (port . mac . addr), commented with the
 * member's name. */
int ruleset_queue_port_src(struct nftx *n, const char *member, const char *port,
			   const uint8_t mac[6], const struct ip_addr *addr, bool del);
/* Table bridge nsgate (networks' layer-2 source check): its skeleton (as
 * ruleset_queue_skeleton), its deletion, and whether it is there (1/0). */
int ruleset_queue_bridge_skeleton(struct nftx *n);
int ruleset_queue_bridge_delete(struct nftx *n);
int ruleset_bridge_exists(struct nftx *n);
/* Whether table bridge nsgate has its set and every rule (1) or not (0). */
int ruleset_bridge_complete(struct nftx *n);
/* Whether a network's elements (masq_any, net_intra unless isolated) are
 * there (1) or not (0); the same for a member's port_src4 element. */
int ruleset_network_present(struct nftx *n, const char *bridge, bool isolated);
int ruleset_port_src_present(struct nftx *n, const char *port, const uint8_t mac[6],
			     const struct ip_addr *addr);
/* Only its masquerade element (masq_any, or masq_via with its uplink). */
int ruleset_queue_masq(struct nftx *n, const struct ruleset_gw *gw, bool del);
/* Only its no_host element and one no_host_dns4 element per IPv4 DNS
 * server, and on a dual-stack gateway one no_host_dns6 element per IPv6
 * one (an IPv4-only gateway's IPv6 servers are left out). */
int ruleset_queue_no_host(struct nftx *n, const struct ruleset_gw *gw, bool del);
/* Queue the deletion of the no_host, no_host_dns4 and no_host_dns6 elements
 * whose comment names the gateway (read back: whatever the kernel holds). */
int ruleset_queue_no_host_delete(struct nftx *n, const char *name, size_t *n_found);
/* Queue the deletion of every element whose comment names the gateway,
 * found by reading the sets back. *n_found counts them. */
int ruleset_queue_owned_delete(struct nftx *n, const char *name, size_t *n_found);
/* The same for the elements of any of names[] (sorted with strcmp), read
 * back once for all of them. */
int ruleset_queue_owned_delete_many(struct nftx *n, const char (*names)[GW_NAME_MAX + 1],
				    size_t n_names, size_t *n_found);
/* Queue the addition (or deletion) of uplinks to fwd_guard: the interfaces
 * whose forwarding nsgate turned on, where only the gateways' traffic may be
 * routed (new connections to other interfaces are dropped). Their elements
 * belong to no gateway: the owned-delete functions leave them. */
/* family: AF_INET (fwd_guard) or AF_INET6 (fwd_guard6, the uplinks whose
 * IPv6 force_forwarding nsgate turned on): each guards its family only. */
int ruleset_queue_fwd_guard(struct nftx *n, int family, const char (*ifnames)[GW_NAME_MAX + 1],
			    size_t n_if, bool del);
/* Queue the deletion of every fwd_guard element but those of keep[] (sorted
 * with strcmp), read back; *n_found counts them (0 also without a table). */
int ruleset_queue_fwd_guard_prune(struct nftx *n, int family, const char (*keep)[GW_NAME_MAX + 1],
				  size_t n_keep, size_t *n_found);
/* Queue the deletion of the whole table. */
int ruleset_queue_table_delete(struct nftx *n);
/* What the kernel must have for the table, each probed on its own: the
 * table (nf_tables), a nat chain with masquerade, a fib expression, a ct
 * expression. ruleset_queue_probe queues what needs it, to be sent with
 * nftx_batch_check (never committed): the kernel refuses a message of a
 * feature it lacks (-ENOENT, -EOPNOTSUPP). */
enum ruleset_probe {
	RULESET_PROBE_TABLE,
	RULESET_PROBE_NAT,
	RULESET_PROBE_FIB,
	RULESET_PROBE_CT,
};
int ruleset_queue_probe(struct nftx *n, enum ruleset_probe p);
/* 1 if the table exists. */
int ruleset_table_exists(struct nftx *n);
/* 1 if the table exists with this nsgate's layout (an older one lacks the
 * chain no_host or the set ns_addrs6, the newest), 0 if not (or no table),
 * or -errno. */
int ruleset_layout_current(struct nftx *n);
/* 1 if the table has every chain with exactly nsgate's rules (by count), 0 if
 * something was deleted or added, -errno. */
int ruleset_complete(struct nftx *n);

/* Queue the addition (or deletion) of published ports: one element per port
 * of pm[] in ports4 (host_addr AF_UNSPEC: any host address) or ports4h (one
 * IPv4 host address) mapping to to->v4, and for an unbound one with to->v6
 * set, or one bound to an IPv6 address, in ports6 or ports6h mapping to
 * to->v6; each commented with the gateway's name. -EAFNOSUPPORT for a port
 * bound to an IPv6 address without to->v6, to->v4 not IPv4 or to->v6 set
 * and not IPv6. A deletion deletes every element the addition would have
 * made, by key, with no add first: one that is gone (a ports6 twin deleted
 * by hand) fails the commit with -ENOENT. */
int ruleset_queue_publish(struct nftx *n, const char *name, const struct gw_target *to,
			  const struct portmap *pm, size_t n_pm, bool del);

/* Every published port of gateway name (NULL: of all gateways), read back
 * from the four maps: one mapping a port (count 1), with its target and
 * owner, sorted by portmap_sort. An unbound port's ports6 element is folded
 * into its ports4 twin (same owner, protocol, host port and port): one
 * mapping, to_addr the IPv4 one; a ports6 element without a twin stays,
 * to_addr IPv6 (after an IPv4 one of the same host port). A ports6h element
 * comes back with its IPv6 host_addr. A lone ports4 element looks like a
 * folded pair: compare ruleset_gw_state.n_ports to tell. *ret malloc'ed. */
int ruleset_published(struct nftx *n, const char *name, struct portmap **ret, size_t *n_ret);

/* The published ports that could clash with req[]: every port bound to an
 * address, and the unbound ones with req's protocols and ports, looked up
 * by key; for many ports, simply all. Sorted as ruleset_published. Keeps a
 * one-port publish from reading every gateway's ports. */
int ruleset_published_near(struct nftx *n, const struct portmap *req, size_t n_req,
			   struct portmap **ret, size_t *n_ret);

/* What the kernel holds for one gateway, for show/list and restore. */
struct ruleset_gw_state {
	bool in_ifaces;          /* its veth is known as a gateway interface */
	bool masq_any;           /* masquerades toward every non-gateway interface */
	char masq_via[16];       /* or only toward this uplink ("" if none) */
	bool in_ns_addrs4;       /* its namespace's address may send */
	bool in_ns_addrs6;       /* its IPv6 one and GW_LL_NS may (both elements there) */
	unsigned n_ns_addrs6;    /* of those two (and a member's further networks' pairs) */
	unsigned n_ifaces;       /* its ifaces elements: a member's further ports add one each */
	unsigned n_ns_addrs4;    /* its ns_addrs4 elements: the same */
	bool no_host;            /* kept off the host */
	size_t n_no_host_dns;    /* host DNS servers it may still use (both families) */
	size_t n_ports;          /* elements of ports4, ports4h, ports6 and ports6h */
	uint64_t ports_fingerprint;  /* of those elements: ruleset_ports_fingerprint */
	size_t n_elems;          /* every element carrying its name */
};
/* How many port elements pm[] makes for a gateway of targets to (an unbound
 * port of a dual-stack gateway makes two; one that no map can hold, none):
 * what n_ports should be. */
size_t ruleset_ports_elems(const struct gw_target *to, const struct portmap *pm, size_t n_pm);
/* An order-independent digest of the port elements pm[] mapping to to
 * would be (all four maps): equal to a gateway state's ports_fingerprint
 * when the kernel holds exactly those (a ports file and the maps compared
 * without reading every port back). 0 if ruleset_queue_publish would
 * refuse pm[]. */
uint64_t ruleset_ports_fingerprint(const struct gw_target *to, const struct portmap *pm,
				   size_t n_pm);
/* Read the gateway's elements back. A missing table gives a zeroed state. */
int ruleset_gateway_state(struct nftx *n, const char *name, struct ruleset_gw_state *ret);
/* The same for many gateways, each set read once: states[i] for names[i];
 * names sorted by strcmp. */
int ruleset_gateway_states(struct nftx *n, const char (*names)[GW_NAME_MAX + 1], size_t n_names,
			   struct ruleset_gw_state *states);

#endif
