/* SPDX-License-Identifier: MIT */
/*
 * The "inet nsgate" table. Every packet decision nsgate makes is one of the
 * rules below; gateways and published ports are only elements of the sets
 * and maps they look up, so per-packet cost does not grow with their number.
 *
 *   table inet nsgate {
 *     set ifaces       { type ifname; }                 host sides of every gateway veth
 *     set masq_any     { type ifname; }                 gateways masqueraded toward any interface
 *     set masq_via     { type ifname . ifname; }        gateway veth . the one uplink it may use
 *     map ports4       { type inet_proto . inet_service : ipv4_addr . inet_service; }
 *     map ports4h      { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
 *     map ports6       { type inet_proto . inet_service : ipv6_addr . inet_service; }
 *     map ports6h      { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
 *     set ns_addrs4    { type ifname . ipv4_addr; }     gateway veth . its namespace's address
 *     set ns_addrs6    { type ifname . ipv6_addr; }     ... its IPv6 ones (global, link-local)
 *     set no_host      { type ifname; }                 gateways kept off the host (--no-host)
 *     set no_host_dns4 { type ifname . ipv4_addr; }     ... and the DNS servers they may use
 *     set no_host_dns6 { type ifname . ipv6_addr; }     ... (IPv6 ones, dual-stack gateways)
 *     set fwd_guard    { type ifname; }                 uplinks whose forwarding nsgate turned on
 *     set fwd_guard6   { type ifname; }                 ... whose IPv6 force_forwarding
 *     set net_intra    { type ifname . ifname; }        bridge . itself: members may meet
 *     chain publish/to_gateway/no_host/from_gateway/guard/prerouting/output/
 *           postrouting/forward  (below)
 *   }
 *
 * Whether traffic may go into a namespace, or counts as a gateway's, is
 * decided by the interface name's prefix (GW_IFNAME_PREFIX), not by set
 * membership: a missing element then closes a gateway instead of opening it.
 */
/* glibc's netinet/in.h first: then linux/in.h steps aside. */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter_ipv4.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nsgate/nft.h"
#include "nsgate/ruleset.h"
#include "nsgate/spec.h"
#include "ruleset-internal.h"

#define CHAIN_TO_GATEWAY "to_gateway"
#define CHAIN_FROM_GATEWAY "from_gateway"
#define CHAIN_NO_HOST "no_host"
#define CHAIN_FROM_PORT "from_port"
/* linux/netfilter_bridge.h's, which pulls in linux/if.h (clashing with
 * net/if.h): the bridge family's prerouting hook and filter priority. */
#define BR_HOOK_PRE_ROUTING 0
#define BR_PRI_FILTER -200

/* nftables' datatype ids (nft's src/datatype.h), so that `nft list` prints
 * our sets with their real types; concatenations shift by 6 bits a field. */
enum {
	DT_IPADDR = 7,
	DT_IP6ADDR = 8,
	DT_ETHERADDR = 9,
	DT_INET_PROTOCOL = 12,
	DT_INET_SERVICE = 13,
	DT_IFNAME = 41,
};
#define DT_CONCAT(a, b) (((a) << 6) | (b))

/* Concatenated fields take 4-byte aligned slots (one 32-bit register each;
 * an IPv6 address four). */
const struct set_def ruleset_sets[] = {
	{ SET_IFACES, 1, DT_IFNAME, IFNAMSIZ, 0, 0 },
	{ SET_MASQ_ANY, 2, DT_IFNAME, IFNAMSIZ, 0, 0 },
	{ SET_MASQ_VIA, 3, DT_CONCAT(DT_IFNAME, DT_IFNAME), 2 * IFNAMSIZ, 0, 0 },
	{ MAP_PORTS4, 4, DT_CONCAT(DT_INET_PROTOCOL, DT_INET_SERVICE), 8,
	  DT_CONCAT(DT_IPADDR, DT_INET_SERVICE), 8 },
	{ MAP_PORTS4H, 5, DT_CONCAT(DT_CONCAT(DT_IPADDR, DT_INET_PROTOCOL), DT_INET_SERVICE), 12,
	  DT_CONCAT(DT_IPADDR, DT_INET_SERVICE), 8 },
	{ MAP_PORTS6, 6, DT_CONCAT(DT_INET_PROTOCOL, DT_INET_SERVICE), 8,
	  DT_CONCAT(DT_IP6ADDR, DT_INET_SERVICE), 20 },
	{ MAP_PORTS6H, 7, DT_CONCAT(DT_CONCAT(DT_IP6ADDR, DT_INET_PROTOCOL), DT_INET_SERVICE), 24,
	  DT_CONCAT(DT_IP6ADDR, DT_INET_SERVICE), 20 },
	{ SET_NS_ADDRS4, 8, DT_CONCAT(DT_IFNAME, DT_IPADDR), IFNAMSIZ + 4, 0, 0 },
	{ SET_NS_ADDRS6, 9, DT_CONCAT(DT_IFNAME, DT_IP6ADDR), IFNAMSIZ + 16, 0, 0 },
	{ SET_NO_HOST, 10, DT_IFNAME, IFNAMSIZ, 0, 0 },
	{ SET_NO_HOST_DNS4, 11, DT_CONCAT(DT_IFNAME, DT_IPADDR), IFNAMSIZ + 4, 0, 0 },
	{ SET_NO_HOST_DNS6, 12, DT_CONCAT(DT_IFNAME, DT_IP6ADDR), IFNAMSIZ + 16, 0, 0 },
	{ SET_FWD_GUARD, 13, DT_IFNAME, IFNAMSIZ, 0, 0 },
	{ SET_FWD_GUARD6, 14, DT_IFNAME, IFNAMSIZ, 0, 0 },
	{ SET_NET_INTRA, 15, DT_CONCAT(DT_IFNAME, DT_IFNAME), 2 * IFNAMSIZ, 0, 0 },
};
const size_t ruleset_n_sets = ARRAY_SIZE(ruleset_sets);

/* table bridge nsgate's: the MAC takes two 4-byte slots. */
static const struct set_def bridge_sets[] = {
	{ SET_PORT_SRC4, 101, DT_CONCAT(DT_CONCAT(DT_IFNAME, DT_ETHERADDR), DT_IPADDR),
	  IFNAMSIZ + 8 + 4, 0, 0 },
	{ SET_PORT_SRC6, 102, DT_CONCAT(DT_CONCAT(DT_IFNAME, DT_ETHERADDR), DT_IP6ADDR),
	  IFNAMSIZ + 8 + 16, 0, 0 },
};

static const struct set_def *set_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ruleset_sets); i++)
		if (!strcmp(ruleset_sets[i].name, name))
			return &ruleset_sets[i];
	for (size_t i = 0; i < ARRAY_SIZE(bridge_sets); i++)
		if (!strcmp(bridge_sets[i].name, name))
			return &bridge_sets[i];
	return NULL;
}

/* ------------------------------------------------------------ expressions */

/* A rule under construction; oom is sticky so builders need no checks. */
struct rb {
	struct nftnl_rule *r;
	bool oom;
};

static struct nftnl_expr *add_expr(struct rb *b, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e) {
		b->oom = true;
		return NULL;
	}
	nftnl_rule_add_expr(b->r, e);
	return e;
}

static void meta(struct rb *b, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = add_expr(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
}

static void cmp(struct rb *b, uint32_t sreg, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = add_expr(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void payload(struct rb *b, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = add_expr(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
}

/* dreg 0: a plain membership test; inv: "not in". */
static void lookup(struct rb *b, uint32_t sreg, const char *set, uint32_t dreg, bool inv)
{
	struct nftnl_expr *e = add_expr(b, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_by_name(set)->id);
	if (dreg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

static void ct(struct rb *b, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = add_expr(b, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
}

/* Any of the flags, as in "ct state x,y" or "ct status dnat": reg & mask != 0. */
static void flags_any(struct rb *b, uint32_t reg, uint32_t mask)
{
	struct nftnl_expr *e = add_expr(b, "bitwise");
	uint32_t zero = 0;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	cmp(b, reg, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static void verdict(struct rb *b, int code, const char *chain)
{
	struct nftnl_expr *e = add_expr(b, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, code);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

/* "meta nfproto ipv4|ipv6": in an inet table, what every ip or ip6 match
 * needs before it (nft adds it by itself, and omits it when it prints). */
static void is_family(struct rb *b, uint8_t nfproto)
{
	meta(b, NFT_META_NFPROTO, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &nfproto, sizeof(nfproto));
}

static void is_ipv4(struct rb *b)
{
	is_family(b, NFPROTO_IPV4);
}

static void is_ipv6(struct rb *b)
{
	is_family(b, NFPROTO_IPV6);
}

/* "icmpv6 type": the type into register 1 of an ICMPv6 packet (nft's
 * dependencies: IPv6, then the transport protocol, past extension headers). */
static void icmpv6_type(struct rb *b)
{
	uint8_t icmpv6 = IPPROTO_ICMPV6;

	is_ipv6(b);
	meta(b, NFT_META_L4PROTO, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &icmpv6, sizeof(icmpv6));
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
}

/* "iifname/oifname "nsg-*"": nft's wildcard, a compare of the name's first
 * bytes only. Every gateway's host link has the prefix (spec_host_ifname). */
static void ifname_prefix(struct rb *b, uint32_t key, uint32_t op)
{
	meta(b, key, NFT_REG_1);
	cmp(b, NFT_REG_1, op, GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX));
}

/* "fib daddr type local" (op EQ) or "!= local" (NEQ): one of the host's addresses. */
static void daddr_local(struct rb *b, uint32_t op)
{
	struct nftnl_expr *e = add_expr(b, "fib");
	uint32_t local = RTN_LOCAL;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	cmp(b, NFT_REG_1, op, &local, sizeof(local));
}

static void ct_state_replies(struct rb *b)
{
	ct(b, NFT_CT_STATE, NFT_REG_1);
	flags_any(b, NFT_REG_1, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
}

static void masquerade(struct rb *b)
{
	add_expr(b, "masq");
}

/* "dnat ip|ip6 to": the address from addr_reg, the port from port_reg. */
static void dnat(struct rb *b, uint32_t nfproto, uint32_t addr_reg, uint32_t port_reg)
{
	struct nftnl_expr *e = add_expr(b, "nat");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfproto);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, addr_reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, port_reg);
}

/* ------------------------------------------------------------------ rules */

/* nft: fib daddr type local jump publish */
static void rule_local_jump_publish(struct rb *b)
{
	daddr_local(b, NFT_CMP_EQ);
	verdict(b, NFT_JUMP, "publish");
}

/* nft: meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @ports4h */
static void rule_publish_bound(struct rb *b)
{
	is_ipv4(b);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);          /* ip daddr */
	meta(b, NFT_META_L4PROTO, NFT_REG32_01);
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);      /* th dport */
	lookup(b, NFT_REG_1, MAP_PORTS4H, NFT_REG_1, false);
	dnat(b, NFPROTO_IPV4, NFT_REG_1, NFT_REG32_01);
}

/* nft: meta nfproto ipv4 dnat ip to meta l4proto . th dport map @ports4 */
static void rule_publish_any(struct rb *b)
{
	is_ipv4(b);
	meta(b, NFT_META_L4PROTO, NFT_REG_1);
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
	lookup(b, NFT_REG_1, MAP_PORTS4, NFT_REG_1, false);
	dnat(b, NFPROTO_IPV4, NFT_REG_1, NFT_REG32_01);
}

/*
 * The IPv6 twins. A 16-byte address fills a whole 128-bit register, so
 * what is concatenated after it starts at the next one (NFT_REG_2, which
 * is NFT_REG32_04): the key ip6 daddr . l4proto . dport is registers 1, 2
 * (its first 32-bit part) and NFT_REG32_05; the data address . port leaves
 * the address in NFT_REG_1 and the port in NFT_REG_2. As nft lays them out.
 */
/* nft: meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th dport map @ports6h */
static void rule_publish6_bound(struct rb *b)
{
	is_ipv6(b);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_1);         /* ip6 daddr */
	meta(b, NFT_META_L4PROTO, NFT_REG_2);
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_05);      /* th dport */
	lookup(b, NFT_REG_1, MAP_PORTS6H, NFT_REG_1, false);
	dnat(b, NFPROTO_IPV6, NFT_REG_1, NFT_REG_2);
}

/* nft: meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @ports6 */
static void rule_publish6_any(struct rb *b)
{
	is_ipv6(b);
	meta(b, NFT_META_L4PROTO, NFT_REG_1);
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
	lookup(b, NFT_REG_1, MAP_PORTS6, NFT_REG_1, false);
	dnat(b, NFPROTO_IPV6, NFT_REG_1, NFT_REG_2);
}

/* nft: iifname @masq_any oifname != "nsg-*" masquerade   (internet access) */
static void rule_masq_any(struct rb *b)
{
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	lookup(b, NFT_REG_1, SET_MASQ_ANY, 0, false);
	ifname_prefix(b, NFT_META_OIFNAME, NFT_CMP_NEQ);
	masquerade(b);
}

/* nft: iifname . oifname @masq_via masquerade   (internet access via --uplink) */
static void rule_masq_via(struct rb *b)
{
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	meta(b, NFT_META_OIFNAME, NFT_REG_2);
	lookup(b, NFT_REG_1, SET_MASQ_VIA, 0, false);
	masquerade(b);
}

/* nft: ct status dnat ip saddr 127.0.0.0/8 masquerade   (host's 127.0.0.1 -> namespace) */
static void rule_masq_loopback(struct rb *b)
{
	uint8_t net127 = 127;

	ct(b, NFT_CT_STATUS, NFT_REG_1);
	flags_any(b, NFT_REG_1, IPS_DST_NAT);
	is_ipv4(b);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 1, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &net127, sizeof(net127));
	masquerade(b);
}

/* nft: ct status dnat iifname "nsg-*" oifname "nsg-*" masquerade   (hairpin,
 * and one gateway reaching another's published port) */
static void rule_masq_hairpin(struct rb *b)
{
	ct(b, NFT_CT_STATUS, NFT_REG_1);
	flags_any(b, NFT_REG_1, IPS_DST_NAT);
	ifname_prefix(b, NFT_META_IIFNAME, NFT_CMP_EQ);
	ifname_prefix(b, NFT_META_OIFNAME, NFT_CMP_EQ);
	masquerade(b);
}

/*
 * The forward hook sees every forwarded packet of the host, not only
 * gateways'. One compare sends the packets bound for a gateway on; all else
 * (a namespace's own outbound traffic, docker's, anything) leaves at once
 * by the chain's accept policy. By prefix, not by ifaces: a gateway whose
 * element is missing is still guarded.
 */
/* nft: oifname "nsg-*" jump to_gateway */
static void rule_fwd_to_gateway(struct rb *b)
{
	ifname_prefix(b, NFT_META_OIFNAME, NFT_CMP_EQ);
	verdict(b, NFT_JUMP, CHAIN_TO_GATEWAY);
}

/*
 * Forwarding on an uplink (which nsgate turns on when the global switch is
 * off) lets the kernel route whatever arrives there to any interface. Only
 * what the gateways need passes: to_gateway's decision, replies and
 * port-forwarded connections (any tool's DNAT, docker's too), applies to
 * everything from such an uplink; anything else, new, invalid or untracked,
 * is dropped. After the jump for packets into a gateway, which never reach
 * this rule. Per family: an uplink whose IPv4 forwarding nsgate turned on
 * may forward IPv6 for someone else (docker's all.forwarding), and the
 * other way round.
 */
/* nft: meta nfproto ipv4 iifname @fwd_guard jump to_gateway */
static void rule_fwd_guard(struct rb *b)
{
	is_ipv4(b);
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	lookup(b, NFT_REG_1, SET_FWD_GUARD, 0, false);
	verdict(b, NFT_JUMP, CHAIN_TO_GATEWAY);
}

/* nft: meta nfproto ipv6 iifname @fwd_guard6 jump to_gateway */
static void rule_fwd_guard6(struct rb *b)
{
	is_ipv6(b);
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	lookup(b, NFT_REG_1, SET_FWD_GUARD6, 0, false);
	verdict(b, NFT_JUMP, CHAIN_TO_GATEWAY);
}

/* nft: ct state established,related accept   (replies) */
static void rule_to_gw_replies(struct rb *b)
{
	ct_state_replies(b);
	verdict(b, NF_ACCEPT, NULL);
}

/* nft: ct status dnat accept   (published ports) */
static void rule_to_gw_published(struct rb *b)
{
	ct(b, NFT_CT_STATUS, NFT_REG_1);
	flags_any(b, NFT_REG_1, IPS_DST_NAT);
	verdict(b, NF_ACCEPT, NULL);
}

/*
 * Members of one network meet on their bridge without the inet hooks,
 * unless br_netfilter (bridge-nf-call-iptables, on wherever Docker runs)
 * hands bridged IPv4 to them: then the forward hook sees the bridge in and
 * out, and to_gateway would drop every new connection between members. The
 * bridge's element says its members may meet (not for --isolated ones).
 */
/* nft: iifname . oifname @net_intra accept */
static void rule_to_gw_intra(struct rb *b)
{
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	meta(b, NFT_META_OIFNAME, NFT_REG_2);
	lookup(b, NFT_REG_1, SET_NET_INTRA, 0, false);
	verdict(b, NF_ACCEPT, NULL);
}

/*
 * The guard: everything that arrives from a gateway link, before NAT (the
 * chain hooks at -150: after conntrack, before dstnat), so that neither a
 * destination in 127.0.0.0/8 nor a forged source ever reaches routing or
 * DNAT. Other traffic pays one compare of its input interface's name.
 */
/* nft: iifname "nsg-*" jump from_gateway */
static void rule_guard(struct rb *b)
{
	ifname_prefix(b, NFT_META_IIFNAME, NFT_CMP_EQ);
	verdict(b, NFT_JUMP, CHAIN_FROM_GATEWAY);
}

/* nft: iifname "nsg-*" jump from_port   (bridge table: member ports) */
static void rule_guard_port(struct rb *b)
{
	ifname_prefix(b, NFT_META_IIFNAME, NFT_CMP_EQ);
	verdict(b, NFT_JUMP, CHAIN_FROM_PORT);
}

/* route_localnet=1 on the veth (for the host's own 127.0.0.1 to published
 * ports) would let the namespace reach the host's loopback-only services
 * (CVE-2020-8558's class). The replies of the host's own connections carry
 * the veth's address here: de-masquerading happens later, at dstnat. */
/* nft: meta nfproto ipv4 ip daddr 127.0.0.0/8 drop */
static void rule_from_gw_loopback(struct rb *b)
{
	uint8_t net127 = 127;

	is_ipv4(b);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 1, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &net127, sizeof(net127));
	verdict(b, NF_DROP, NULL);
}

/* The kernel itself drops ::1 from any device but lo (there is no
 * route_localnet for IPv6); said here too, so that the guard does not rest
 * on it. */
/* nft: meta nfproto ipv6 ip6 daddr ::1 drop */
static void rule_from_gw_loopback6(struct rb *b)
{
	is_ipv6(b);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &in6addr_loopback, sizeof(in6addr_loopback));
	verdict(b, NF_DROP, NULL);
}

/* The host never learns a route, a prefix or a better next hop from a
 * namespace, whatever accept_ra and accept_redirects say on the veth: the
 * namespace sends them from its link-local address, which the source check
 * below lets through, so they go first. */
static void icmpv6_drop(struct rb *b, uint8_t type)
{
	icmpv6_type(b);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &type, sizeof(type));
	verdict(b, NF_DROP, NULL);
}

/* nft: meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type nd-router-advert drop */
static void rule_from_gw_ra(struct rb *b)
{
	icmpv6_drop(b, ND_ROUTER_ADVERT);
}

/* nft: meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type nd-redirect drop */
static void rule_from_gw_redirect(struct rb *b)
{
	icmpv6_drop(b, ND_REDIRECT);
}

/* Before the source check, which ends the chain: no_host only drops or
 * returns, so what passes it still meets the source check. */
/* nft: iifname @no_host jump no_host */
static void rule_from_gw_no_host(struct rb *b)
{
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	lookup(b, NFT_REG_1, SET_NO_HOST, 0, false);
	verdict(b, NFT_JUMP, CHAIN_NO_HOST);
}

/* A gateway sends from its namespace's address only: whatever the host's
 * rp_filter, no namespace can forge another's flows. One hash lookup. */
/* nft: meta nfproto ipv4 iifname . ip saddr @ns_addrs4 return */
static void rule_from_gw_source(struct rb *b)
{
	is_ipv4(b);
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_04);      /* ip saddr */
	lookup(b, NFT_REG_1, SET_NS_ADDRS4, 0, false);
	verdict(b, NFT_RETURN, NULL);
}

/* Its global address and its link-local one (GW_LL_NS: neighbour
 * discovery, and any IPv6 packet it sends on the link); an IPv4-only
 * gateway has no element, and so sends no IPv6 at all. */
/* nft: meta nfproto ipv6 iifname . ip6 saddr @ns_addrs6 return */
static void rule_from_gw_source6(struct rb *b)
{
	is_ipv6(b);
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, NFT_REG_2);         /* ip6 saddr */
	lookup(b, NFT_REG_1, SET_NS_ADDRS6, 0, false);
	verdict(b, NFT_RETURN, NULL);
}

/* nft: drop   (a forged source, neither IPv4 nor IPv6, or a gateway
 * without its element) */
static void rule_drop(struct rb *b)
{
	verdict(b, NF_DROP, NULL);
}

/* nft: ct state established,related return   (replies to the host's connections) */
static void rule_no_host_replies(struct rb *b)
{
	ct_state_replies(b);
	verdict(b, NFT_RETURN, NULL);
}

/* Before DNAT: a published port on a host address is the host's too. */
/* nft: fib daddr type != local return */
static void rule_no_host_not_local(struct rb *b)
{
	daddr_local(b, NFT_CMP_NEQ);
	verdict(b, NFT_RETURN, NULL);
}

/* IPv6 neighbour discovery to the host's own addresses (its unicast
 * probes: a namespace checking that its neighbour entry for the host is
 * still good); without it, --no-host would starve the namespace's
 * neighbour cache. Multicast solicitations are not local: already passed. */
/* nft: meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 135-136 return
 *      (nd-neighbor-solicit, nd-neighbor-advert) */
static void rule_no_host_nd(struct rb *b)
{
	uint8_t solicit = ND_NEIGHBOR_SOLICIT, advert = ND_NEIGHBOR_ADVERT;

	icmpv6_type(b);
	cmp(b, NFT_REG_1, NFT_CMP_GTE, &solicit, sizeof(solicit));
	cmp(b, NFT_REG_1, NFT_CMP_LTE, &advert, sizeof(advert));
	verdict(b, NFT_RETURN, NULL);
}

/* The DNS servers of its resolv.conf, when they are the host's: the
 * destination (4 or 16 bytes) after the 16-byte name, in register 2 either
 * way (NFT_REG32_04 is the first quarter of NFT_REG_2). */
static void no_host_dns(struct rb *b, uint8_t nfproto, uint8_t proto)
{
	uint16_t port53 = htons(53);
	bool v6 = nfproto == NFPROTO_IPV6;

	is_family(b, nfproto);
	meta(b, NFT_META_L4PROTO, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &proto, sizeof(proto));
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);         /* th dport */
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &port53, sizeof(port53));
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	if (v6)
		payload(b, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, NFT_REG_2);  /* ip6 daddr */
	else
		payload(b, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_04); /* ip daddr */
	lookup(b, NFT_REG_1, v6 ? SET_NO_HOST_DNS6 : SET_NO_HOST_DNS4, 0, false);
	verdict(b, NFT_RETURN, NULL);
}

/* nft: meta nfproto ipv4 meta l4proto udp th dport 53 iifname . ip daddr @no_host_dns4 return */
static void rule_no_host_dns_udp(struct rb *b)
{
	no_host_dns(b, NFPROTO_IPV4, IPPROTO_UDP);
}

/* nft: meta nfproto ipv4 meta l4proto tcp th dport 53 iifname . ip daddr @no_host_dns4 return */
static void rule_no_host_dns_tcp(struct rb *b)
{
	no_host_dns(b, NFPROTO_IPV4, IPPROTO_TCP);
}

/* nft: meta nfproto ipv6 meta l4proto udp th dport 53 iifname . ip6 daddr @no_host_dns6 return */
static void rule_no_host_dns6_udp(struct rb *b)
{
	no_host_dns(b, NFPROTO_IPV6, IPPROTO_UDP);
}

/* nft: meta nfproto ipv6 meta l4proto tcp th dport 53 iifname . ip6 daddr @no_host_dns6 return */
static void rule_no_host_dns6_tcp(struct rb *b)
{
	no_host_dns(b, NFPROTO_IPV6, IPPROTO_TCP);
}

struct chain_def {
	const char *name;
	const char *type;   /* NULL: a regular chain */
	uint32_t hook;
	int32_t prio;
	void (*rules[8])(struct rb *b);
};

static const struct chain_def chains[] = {
	/* Regular chains first: base chains jump to them, so they must exist
	 * before them. A bound port before an unbound one: its address wins. */
	{ "publish", NULL, 0, 0,
	  { rule_publish_bound, rule_publish_any, rule_publish6_bound, rule_publish6_any } },
	{ CHAIN_TO_GATEWAY, NULL, 0, 0,
	  { rule_to_gw_replies, rule_to_gw_published, rule_to_gw_intra, rule_drop } },
	{ CHAIN_NO_HOST, NULL, 0, 0,
	  { rule_no_host_replies, rule_no_host_not_local, rule_no_host_nd, rule_no_host_dns_udp,
	    rule_no_host_dns_tcp, rule_no_host_dns6_udp, rule_no_host_dns6_tcp, rule_drop } },
	{ CHAIN_FROM_GATEWAY, NULL, 0, 0,
	  { rule_from_gw_loopback, rule_from_gw_loopback6, rule_from_gw_ra, rule_from_gw_redirect,
	    rule_from_gw_no_host, rule_from_gw_source, rule_from_gw_source6, rule_drop } },
	/* After conntrack (-200), before dstnat (-100). */
	{ "guard", "filter", NF_INET_PRE_ROUTING, NF_IP_PRI_MANGLE, { rule_guard } },
	{ "prerouting", "nat", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST, { rule_local_jump_publish } },
	{ "output", "nat", NF_INET_LOCAL_OUT, NF_IP_PRI_NAT_DST, { rule_local_jump_publish } },
	{ "postrouting", "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC,
	  { rule_masq_any, rule_masq_via, rule_masq_loopback, rule_masq_hairpin } },
	{ "forward", "filter", NF_INET_FORWARD, NF_IP_PRI_FILTER,
	  { rule_fwd_to_gateway, rule_fwd_guard, rule_fwd_guard6 } },
};

/* ---------------------------------------------------------------- batches */

static int chains_complete(struct nftx *n, uint16_t family, const struct chain_def *defs,
			   size_t n_defs);

/* Which table a message is for: inet nsgate, or bridge nsgate (networks). */
struct table_id {
	uint32_t family;
	const char *what;   /* "inet nsgate" */
};
static const struct table_id inet_table = { FAMILY, "inet " RULESET_TABLE };
static const struct table_id bridge_table = { NFPROTO_BRIDGE, "bridge " RULESET_TABLE };

/* nftx_msg_begin's header says inet: the bridge table's messages say bridge. */
static struct nlmsghdr *msg_begin(struct nftx *n, const struct table_id *tid, uint16_t type,
				  uint16_t flags, const char *what)
{
	struct nlmsghdr *nlh = nftx_msg_begin(n, type, flags, what);

	if (nlh)
		((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family = tid->family;
	return nlh;
}

static int queue_table_of(struct nftx *n, const struct table_id *tid, uint16_t type,
			  uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	char what[64];

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, RULESET_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, tid->family);
	snprintf(what, sizeof(what), "%stable %s", type == NFT_MSG_DELTABLE ? "deleting " : "",
		 tid->what);
	nlh = msg_begin(n, tid, type, flags, what);
	if (!nlh) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftx_msg_end(n, nlh);
	nftnl_table_free(t);
	return 0;
}

static int queue_table(struct nftx *n, uint16_t type, uint16_t flags)
{
	return queue_table_of(n, &inet_table, type, flags);
}

static int queue_set_of(struct nftx *n, const struct table_id *tid, const struct set_def *d)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;
	char what[64];

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, RULESET_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, tid->family);
	nftnl_set_set_u32(s, NFTNL_SET_ID, d->id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	/* nft reads a plain key's byte order from the set's userdata; without
	 * it, `nft list` would print ifnames as integers. */
	ud = nftnl_udata_buf_alloc(32);
	if (!ud) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, d->key_type == DT_IFNAME ? 1 : 0);
	if (d->data_len)
		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_DATABYTEORDER, 0);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud), nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	if (d->data_len) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	} else {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
	}
	snprintf(what, sizeof(what), "set \"%s\"", d->name);
	nlh = msg_begin(n, tid, NFT_MSG_NEWSET, NLM_F_CREATE, what);
	if (!nlh) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftx_msg_end(n, nlh);
	nftnl_set_free(s);
	return 0;
}

static int queue_set(struct nftx *n, const struct set_def *d)
{
	return queue_set_of(n, &inet_table, d);
}

static int queue_chain_of(struct nftx *n, const struct table_id *tid, const struct chain_def *d)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char what[64];

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, RULESET_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, tid->family);
	if (d->type) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, d->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, d->hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	snprintf(what, sizeof(what), "chain \"%s\"", d->name);
	nlh = msg_begin(n, tid, NFT_MSG_NEWCHAIN, NLM_F_CREATE, what);
	if (!nlh) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftx_msg_end(n, nlh);
	nftnl_chain_free(c);
	return 0;
}

static int queue_chain(struct nftx *n, const struct chain_def *d)
{
	return queue_chain_of(n, &inet_table, d);
}

/* Build one rule (or, with build NULL, a flush of the chain) into the batch. */
static int queue_rule_of(struct nftx *n, const struct table_id *tid, const char *chain,
			 void (*build)(struct rb *b))
{
	struct rb b = { .r = nftnl_rule_alloc() };
	struct nlmsghdr *nlh;
	char what[64];
	int r = 0;

	if (!b.r)
		return -ENOMEM;
	nftnl_rule_set_str(b.r, NFTNL_RULE_TABLE, RULESET_TABLE);
	nftnl_rule_set_str(b.r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(b.r, NFTNL_RULE_FAMILY, tid->family);
	if (build)
		build(&b);
	if (b.oom) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(what, sizeof(what), "%s chain \"%s\"", build ? "rule in" : "flushing", chain);
	nlh = build ? msg_begin(n, tid, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, what)
		    : msg_begin(n, tid, NFT_MSG_DELRULE, 0, what);
	if (!nlh) {
		r = -ENOMEM;
		goto out;
	}
	nftnl_rule_nlmsg_build_payload(nlh, b.r);
	nftx_msg_end(n, nlh);
out:
	nftnl_rule_free(b.r);
	return r;
}

static int queue_rule(struct nftx *n, const char *chain, void (*build)(struct rb *b))
{
	return queue_rule_of(n, &inet_table, chain, build);
}

int ruleset_queue_skeleton(struct nftx *n)
{
	int r = queue_table(n, NFT_MSG_NEWTABLE, NLM_F_CREATE);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ruleset_sets); i++)
		r = queue_set(n, &ruleset_sets[i]);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(chains); i++)
		r = queue_chain(n, &chains[i]);
	/* Flush and refill in the same transaction: no packet ever sees the
	 * chains half-built, and rules someone deleted come back. */
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(chains); i++) {
		r = queue_rule(n, chains[i].name, NULL);
		for (size_t j = 0; r == 0 && j < ARRAY_SIZE(chains[i].rules) && chains[i].rules[j]; j++)
			r = queue_rule(n, chains[i].name, chains[i].rules[j]);
	}
	return r;
}

/*
 * table bridge nsgate {
 *   set port_src4 { type ifname . ether_addr . ipv4_addr; }   member port . MAC . address
 *   set port_src6 { type ifname . ether_addr . ipv6_addr; }   ... its IPv6 ones
 *   chain prerouting { type filter hook prerouting priority -200; policy accept;
 *                      iifname "nsg-*" jump from_port }
 *   chain from_port  { meta protocol ip iifname . ether saddr . ip saddr @port_src4 return
 *                      meta protocol arp iifname . ether saddr . arp saddr ip @port_src4
 *                        iifname . arp saddr ether . arp saddr ip @port_src4 return
 *                      meta protocol ip6 icmpv6 type nd-router-advert drop
 *                      meta protocol ip6 icmpv6 type nd-redirect drop
 *                      meta protocol ip6 icmpv6 type nd-neighbor-advert
 *                        iifname . ether saddr . @th,64,128 != @port_src6 drop
 *                      meta protocol ip6 iifname . ether saddr . ip6 saddr @port_src6 return
 *                      drop }
 * }
 * Members of a network meet on the bridge at layer 2, where the inet guard
 * never sees them (without br_netfilter): each member's frames are checked
 * here, on the port they come in by, before the bridge learns their source
 * MAC or forwards them. A member sends from its own MAC and address only,
 * in IPv4 and in ARP (no poisoning of another member's, or the gateway's,
 * neighbour entry; no taking over another's MAC in the bridge's table).
 * In IPv6 the same, and a neighbour advertisement only for an address of
 * its own (its target is what the receivers' caches learn); routers'
 * advertisements and redirects never. A member of an IPv4-only network
 * has no port_src6 element: its IPv6 is dropped. Anything else (VLAN
 * tags, other protocols, the unspecified source: members' addresses have
 * no DAD) is dropped. Ports are
 * matched by prefix: a port without its element is closed, not open.
 */
static void port_src_lookup(struct rb *b)
{
	lookup(b, NFT_REG_1, SET_PORT_SRC4, 0, false);
}

static void protocol_is(struct rb *b, uint16_t ethertype)
{
	uint16_t proto = htons(ethertype);

	meta(b, NFT_META_PROTOCOL, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &proto, sizeof(proto));
}

/* nft: meta protocol ip iifname . ether saddr . ip saddr @port_src4 return */
static void rule_port_ip(struct rb *b)
{
	protocol_is(b, ETH_P_IP);
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG32_04);       /* ether saddr */
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG32_06); /* ip saddr */
	port_src_lookup(b);
	verdict(b, NFT_RETURN, NULL);
}

/* nft: meta protocol arp iifname . ether saddr . arp saddr ip @port_src4
 *      iifname . arp saddr ether . arp saddr ip @port_src4 return */
static void rule_port_arp(struct rb *b)
{
	protocol_is(b, ETH_P_ARP);
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG32_04);       /* ether saddr */
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 14, 4, NFT_REG32_06); /* arp saddr ip */
	port_src_lookup(b);
	payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 6, NFT_REG32_04);  /* arp saddr ether */
	port_src_lookup(b);
	verdict(b, NFT_RETURN, NULL);
}

/* "meta protocol ip6 icmpv6 type": the bridge family has no nfproto of
 * IPv6, its dependency is the ethertype. */
static void port_icmpv6_type(struct rb *b, uint8_t type)
{
	uint8_t icmpv6 = IPPROTO_ICMPV6;

	protocol_is(b, ETH_P_IPV6);
	meta(b, NFT_META_L4PROTO, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &icmpv6, sizeof(icmpv6));
	payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	cmp(b, NFT_REG_1, NFT_CMP_EQ, &type, sizeof(type));
}

/* nft: meta protocol ip6 icmpv6 type nd-router-advert drop */
static void rule_port_ra(struct rb *b)
{
	port_icmpv6_type(b, ND_ROUTER_ADVERT);
	verdict(b, NF_DROP, NULL);
}

/* nft: meta protocol ip6 icmpv6 type nd-redirect drop */
static void rule_port_redirect(struct rb *b)
{
	port_icmpv6_type(b, ND_REDIRECT);
	verdict(b, NF_DROP, NULL);
}

/* "iifname . ether saddr . ADDR @port_src6" (inv: "!="), the IPv6 address
 * at offset of header base. */
static void port_src6_lookup(struct rb *b, uint32_t base, uint32_t offset, bool inv)
{
	meta(b, NFT_META_IIFNAME, NFT_REG_1);
	payload(b, NFT_PAYLOAD_LL_HEADER, 6, 6, NFT_REG32_04);   /* ether saddr */
	payload(b, base, offset, 16, NFT_REG32_06);
	lookup(b, NFT_REG_1, SET_PORT_SRC6, 0, inv);
}

/* nft: meta protocol ip6 icmpv6 type nd-neighbor-advert
 *      iifname . ether saddr . @th,64,128 != @port_src6 drop   (its target) */
static void rule_port_na(struct rb *b)
{
	port_icmpv6_type(b, ND_NEIGHBOR_ADVERT);
	port_src6_lookup(b, NFT_PAYLOAD_TRANSPORT_HEADER, 8, true);
	verdict(b, NF_DROP, NULL);
}

/* nft: meta protocol ip6 iifname . ether saddr . ip6 saddr @port_src6 return */
static void rule_port_ip6(struct rb *b)
{
	protocol_is(b, ETH_P_IPV6);
	port_src6_lookup(b, NFT_PAYLOAD_NETWORK_HEADER, 8, false);
	verdict(b, NFT_RETURN, NULL);
}

static const struct chain_def bridge_chains[] = {
	{ CHAIN_FROM_PORT, NULL, 0, 0, { rule_port_ip, rule_port_arp, rule_port_ra,
					 rule_port_redirect, rule_port_na, rule_port_ip6,
					 rule_drop } },
	{ "prerouting", "filter", BR_HOOK_PRE_ROUTING, BR_PRI_FILTER, { rule_guard_port } },
};

int ruleset_queue_bridge_skeleton(struct nftx *n)
{
	int r = queue_table_of(n, &bridge_table, NFT_MSG_NEWTABLE, NLM_F_CREATE);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(bridge_sets); i++)
		r = queue_set_of(n, &bridge_table, &bridge_sets[i]);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(bridge_chains); i++)
		r = queue_chain_of(n, &bridge_table, &bridge_chains[i]);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(bridge_chains); i++) {
		const struct chain_def *c = &bridge_chains[i];

		r = queue_rule_of(n, &bridge_table, c->name, NULL);
		for (size_t j = 0; r == 0 && j < ARRAY_SIZE(c->rules) && c->rules[j]; j++)
			r = queue_rule_of(n, &bridge_table, c->name, c->rules[j]);
	}
	return r;
}

int ruleset_queue_bridge_delete(struct nftx *n)
{
	return queue_table_of(n, &bridge_table, NFT_MSG_DELTABLE, 0);
}

int ruleset_bridge_complete(struct nftx *n)
{
	return chains_complete(n, BRIDGE_FAMILY, bridge_chains, ARRAY_SIZE(bridge_chains));
}

int ruleset_bridge_exists(struct nftx *n)
{
	return nftx_chain_exists(n, BRIDGE_FAMILY, RULESET_TABLE, CHAIN_FROM_PORT);
}

int ruleset_queue_table_delete(struct nftx *n)
{
	return queue_table(n, NFT_MSG_DELTABLE, 0);
}

/* nft: masquerade (the nat chain type, and the masq expression) */
static void rule_probe_nat(struct rb *b)
{
	masquerade(b);
}

/* nft: fib daddr type local */
static void rule_probe_fib(struct rb *b)
{
	daddr_local(b, NFT_CMP_EQ);
}

/* nft: ct state established,related */
static void rule_probe_ct(struct rb *b)
{
	ct_state_replies(b);
}

/* One chain and rule of each kind of expression the table uses, in chains
 * of names the layout has not: a check-only batch (nftx_batch_check) in
 * table inet nsgate itself, so that nothing could clash with an existing
 * table's chains (the table's own are left as they are). */
static const struct chain_def probes[] = {
	[RULESET_PROBE_NAT] = { "doctor_nat", "nat", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC,
				{ rule_probe_nat } },
	[RULESET_PROBE_FIB] = { "doctor_fib", "filter", NF_INET_PRE_ROUTING, NF_IP_PRI_MANGLE,
				{ rule_probe_fib } },
	[RULESET_PROBE_CT] = { "doctor_ct", "filter", NF_INET_FORWARD, NF_IP_PRI_FILTER,
			       { rule_probe_ct } },
};

int ruleset_queue_probe(struct nftx *n, enum ruleset_probe p)
{
	int r = queue_table(n, NFT_MSG_NEWTABLE, NLM_F_CREATE);

	if (r < 0 || p == RULESET_PROBE_TABLE || (size_t)p >= ARRAY_SIZE(probes))
		return r;
	r = queue_chain(n, &probes[p]);
	return r < 0 ? r : queue_rule(n, probes[p].name, probes[p].rules[0]);
}

int ruleset_table_exists(struct nftx *n)
{
	return nftx_table_exists(n, FAMILY, RULESET_TABLE);
}

/* Each of ruleset_sets[] that a GETSET dump of the table shows, as a bit. */
static int set_seen_cb(const struct nlmsghdr *nlh, void *data)
{
	uint32_t *seen = data;
	struct nftnl_set *s = nftnl_set_alloc();
	const char *name;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    (name = nftnl_set_get_str(s, NFTNL_SET_NAME)) != NULL &&
	    nftnl_set_get_str(s, NFTNL_SET_TABLE) &&
	    !strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), RULESET_TABLE))
		for (size_t i = 0; i < ARRAY_SIZE(ruleset_sets); i++)
			if (!strcmp(ruleset_sets[i].name, name))
				*seen |= UINT32_C(1) << i;
	nftnl_set_free(s);
	return MNL_CB_OK;
}

int ruleset_layout_current(struct nftx *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint32_t seen = 0, all = (UINT32_C(1) << ARRAY_SIZE(ruleset_sets)) - 1;
	/* The newest chain, and every set: an older nsgate's table lacks some
	 * (fwd_guard, the IPv6 ones), and a set deleted by hand would fail
	 * every later element of it. One dump of the table's sets, without
	 * their elements. */
	int r = nftx_chain_exists(n, FAMILY, RULESET_TABLE, CHAIN_NO_HOST);

	if (r <= 0)
		return r;
	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, RULESET_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, FAMILY, NLM_F_DUMP, 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	r = nftx_request(n, nlh, set_seen_cb, &seen);
	return r == -ENOENT ? 0 : r < 0 ? r : seen == all;
}

/* What a rule dump of one table counts, per chain of defs. */
struct rule_counts {
	const struct chain_def *defs;
	size_t n_defs;
	unsigned counts[16];
};

static void count_rule(const char *chain, void *userdata)
{
	struct rule_counts *c = userdata;

	for (size_t i = 0; i < c->n_defs; i++)
		if (!strcmp(c->defs[i].name, chain))
			c->counts[i]++;
}

/* 1 when family's table nsgate has every rule of defs' chains, 0 when not
 * (or no table). A deleted chain takes its rules with it, and a deleted set
 * the rules that use it: counting rules per chain sees all three. */
static int chains_complete(struct nftx *n, uint16_t family, const struct chain_def *defs,
			   size_t n_defs)
{
	struct rule_counts c = { .defs = defs, .n_defs = n_defs };
	int r = nftx_rules_dump(n, family, RULESET_TABLE, count_rule, &c);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_defs; i++) {
		unsigned want = 0;

		while (want < ARRAY_SIZE(defs[i].rules) && defs[i].rules[want])
			want++;
		if (c.counts[i] != want)
			return 0;
	}
	return 1;
}

_Static_assert(ARRAY_SIZE(chains) <= 16, "rule_counts holds 16 chains");

int ruleset_complete(struct nftx *n)
{
	return chains_complete(n, FAMILY, chains, ARRAY_SIZE(chains));
}
