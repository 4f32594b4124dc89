/* SPDX-License-Identifier: MIT */
/*
 * What a gateway is asked to be, and the pure checks on user input.
 * Nothing here touches the system, so all of it is unit-tested.
 */
#ifndef NSGATE_SPEC_H
#define NSGATE_SPEC_H

#include <limits.h>
#include <stddef.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/ipaddr.h"

#define GW_NAME_MAX 15          /* like an interface name */
#define GW_IFNAME_PREFIX "nsg-"
#define GW_ALIAS_PREFIX "nsgate:"
/* A host link down left to the kernel (src/core/dying.c): '~' follows the
 * prefix in no other name nsgate gives. */
#define GW_DYING_IFNAME_PREFIX "nsg-~"
#define GW_DYING_ALIAS_PREFIX "nsgate-dying:"
#define GW_NS_IFNAME_DEFAULT "eth0"   /* the veth's end in the namespace */
/* A --netns path's bytes with its NUL. Not PATH_MAX: every gateway's spec
 * holds two, and list holds a spec per gateway (with PATH_MAX, 9 KiB each:
 * 90 MB to zero and fault in at 10,000 gateways). Runtimes' namespace
 * paths are under 100 bytes. */
#define GW_NETNS_PATH_MAX 512
#define GW_DNS_MAX 3            /* what the resolver reads (MAXNS) */
#define GW_POOL_DEFAULT "10.200.0.0/16"
#define GW_SUBNET_PLEN 30
/* Gateways nsgate-cni makes (container attachments) are named with this
 * prefix, which the nsgate command refuses for its own (spec_name_own_check):
 * the two front ends' names never collide. */
#define GW_CNI_PREFIX "cni-"

enum gw_netns_kind {
	GW_NETNS_OWN,     /* nsgate creates /run/netns/NAME and deletes it at down */
	GW_NETNS_NAMED,   /* an existing /run/netns/X */
	GW_NETNS_PID,     /* /proc/PID/ns/net */
	GW_NETNS_PATH,    /* any nsfs path */
};

enum gw_dns_mode { GW_DNS_AUTO, GW_DNS_NONE, GW_DNS_LIST };

/* --ipv6: whether the gateway is dual-stack. auto: when the host has an
 * IPv6 default route (decided at up, stored as the outcome: subnet6). */
enum gw_ipv6 {
	GW_IPV6_AUTO,       /* the default */
	GW_IPV6_ON,
	GW_IPV6_OFF,
};
#define GW_SUBNET6_PLEN 64
/* The veth's link-local addresses, set by nsgate (no DAD, no EUI-64): the
 * same on every gateway, each in its own link's scope. */
#define GW_LL_HOST "fe80::1"
#define GW_LL_NS "fe80::2"

/* --firewall: whether nsgate opens other firewalls (Docker's, ufw's,
 * firewalld...) for the gateway's traffic, or only warns about them. */
enum gw_firewall {
	GW_FIREWALL_AUTO,   /* the default */
	GW_FIREWALL_NONE,
};

/* LAN mode (--lan IFACE): the namespace sits on IFACE's segment through a
 * macvlan (bridge mode) named ns_ifname; no veth, no NAT, no nftables
 * elements. The host's own addresses and routes are never touched. */
struct gw_lan {
	char iface[IF_NAMESIZE];   /* "": not LAN mode */
	struct ip_addr addr;       /* --address; AF_UNSPEC: none (a DHCP client inside) */
	uint8_t plen;
	/* --gateway, or the host's default gateway on iface (found at up);
	 * AF_UNSPEC without an address */
	struct ip_addr gateway;
	bool gateway_given;
};

/* A network beyond a member's first (--network given again): the
 * namespace side ns_ifname ("eth1", "eth2"...), the host side port
 * (spec_net_port_ifname), its address and only its subnet's route. */
#define GW_NETS_MAX 4
struct gw_net_more {
	char name[GW_NAME_MAX + 1];
	char bridge[IF_NAMESIZE];
	char port[IF_NAMESIZE];
	char ns_ifname[IF_NAMESIZE];
	struct ip_prefix subnet;
	struct ip_addr addr;
	struct ip_prefix subnet6;  /* its network's /64 when dual-stack, else AF_UNSPEC */
};

struct gw_spec {
	char name[GW_NAME_MAX + 1];
	char host_ifname[IF_NAMESIZE];   /* derived from name */
	char ns_ifname[IF_NAMESIZE];     /* the veth's end in the namespace */
	enum gw_netns_kind netns_kind;
	char netns_arg[GW_NETNS_PATH_MAX];   /* as the user gave it (name, pid, path) */
	char netns_path[GW_NETNS_PATH_MAX];  /* what nsgate opens */
	bool subnet_given;
	struct ip_prefix subnet;         /* chosen or given; IPv4 */
	char uplink[IF_NAMESIZE];        /* empty: every non-gateway interface */
	enum gw_dns_mode dns_mode;
	unsigned n_dns;
	struct ip_addr dns[GW_DNS_MAX];  /* IPv4 and IPv6 */
	bool no_host;                    /* --no-host: the namespace may not reach the host */
	enum gw_firewall firewall;       /* --firewall: open other firewalls for it, or not */
	enum gw_ipv6 ipv6;               /* --ipv6 as asked */
	bool subnet6_given;
	/* The gateway's IPv6 /64, chosen or given: ::1 the host side, ::2 the
	 * namespace. AF_UNSPEC: the gateway is IPv4 only. */
	struct ip_prefix subnet6;
	struct gw_lan lan;               /* LAN mode: lan.iface set; a NAT gateway otherwise */
	/* --network: a member of that network (network.h), "" for a plain
	 * gateway. Its subnet is then the network's, its host side a port of
	 * the network's bridge, and net_addr its namespace's address. */
	char network[GW_NAME_MAX + 1];
	char net_bridge[IF_NAMESIZE];    /* derived from network (net_bridge_ifname) */
	struct ip_addr net_addr;
	unsigned n_nets_more;            /* networks after the first, in order */
	struct gw_net_more nets_more[GW_NETS_MAX - 1];
	/* Where a subnet is picked from when none is given: AF_UNSPEC for
	 * GW_POOL_DEFAULT (nsgate-cni's "subnetPool"). Not kept in the state. */
	struct ip_prefix pool;
};

/* What `nsgate up` assumes before its options: every field empty but an
 * own namespace, DNS auto and the namespace side named GW_NS_IFNAME_DEFAULT.
 * Every front end starts its specs here. */
void spec_init(struct gw_spec *s);

/* Names: [A-Za-z0-9_.-]{1,15}, not "." or "..", not starting with '-'.
 * -EINVAL/-ENAMETOOLONG with a reason in e. */
int spec_name_check(const char *name, struct nsg_err *e);
/* spec_name_check, and not GW_CNI_PREFIX (reserved for nsgate-cni): what
 * the nsgate command and its config file accept for a gateway they make. */
int spec_name_own_check(const char *name, struct nsg_err *e);
/* Whether name has the prefix of nsgate-cni's gateways. */
bool spec_name_reserved(const char *name);
/* Whether name can be an existing gateway's: spec_name_check's rules as
 * they were before names could not start with '-' (state files and labels
 * an older nsgate wrote). */
bool spec_name_known(const char *name);
/* The host side of the veth: "nsg-NAME", or when that passes 15 bytes a stable
 * "nsg-<prefix>-<hash>" that cannot collide with an unshortened name. */
void spec_host_ifname(const char *name, char ret[IF_NAMESIZE]);
/* The host side of a member's veth on its network k+1 (k < GW_NETS_MAX - 1):
 * "nsg-=K" + NAME, shortened as spec_host_ifname: '=' is in no gateway's
 * name and no bridge's ('+'), so it collides with neither, and it keeps the
 * "nsg-" prefix every rule matches gateway links by (fail closed). */
void spec_net_port_ifname(const char *name, unsigned k, char ret[IF_NAMESIZE]);
/* nets_more[k]'s bridge, port and ns_ifname ("eth" k+1) from its name. */
void spec_net_more_names(struct gw_spec *s, unsigned k);
/* --network NET (again): the first sets network, the next ones nets_more
 * (names derived from s->name, which must be set). -EINVAL for a network
 * given twice or more than GW_NETS_MAX. */
int spec_network_add(struct gw_spec *s, const char *net, struct nsg_err *e);
/* Whether a and b are on the same networks, in the same order. */
bool spec_networks_same(const struct gw_spec *a, const struct gw_spec *b);
/* The same scheme for another prefix (a network's bridge: network.h). */
void spec_prefixed_ifname(const char *prefix, const char *name, char ret[IF_NAMESIZE]);
/* An interface name as the kernel accepts it (--uplink, the namespace side). */
int spec_ifname_check(const char *ifname, struct nsg_err *e);
/* run --hostname NAME: what the kernel takes (1 to HOST_NAME_MAX, 64, bytes)
 * and a resolver does (RFC 1123: dot-separated labels of 1 to 63 letters,
 * digits and '-', no label starting or ending with '-'). -EINVAL, or
 * -ENAMETOOLONG past 64 bytes, with a reason in e. */
#define SPEC_HOSTNAME_MAX 64
#define SPEC_HOSTNAME_LABEL_MAX 63
int spec_hostname_check(const char *name, struct nsg_err *e);
/* --netns ARG: a decimal PID, a path (contains '/'), or an `ip netns` name. */
int spec_netns_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* --dns auto|none|ADDR[,ADDR]... (IPv4 or IPv6 addresses; IPv6 ones are
 * used only by a dual-stack gateway). */
int spec_dns_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* --firewall auto|none, and the config file's firewall key. */
int spec_firewall_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* The config file's no_host = yes|no. */
int spec_no_host_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* Whether two specs ask for the same DNS: mode, and for a list its servers in order. */
bool spec_dns_same(const struct gw_spec *a, const struct gw_spec *b);
/* --subnet CIDR: an IPv4 prefix of length 8..30 (a /30 is the smallest that
 * holds .1 and .2) that ipam_subnet_usable accepts (not in 0/8, 127/8,
 * 224/4, 240/4). The config file's subnet key is parsed here too. */
int spec_subnet_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* Address i of an IPv4 subnet, and its host (.1) and namespace (.2) ones;
 * AF_UNSPEC for another family (spec_subnet_parse takes none). */
static inline struct ip_addr spec_nth_addr(const struct ip_prefix *n, uint32_t i)
{
	return ip_addr_is_v4(&n->addr) ? ip_addr_v4(n->addr.v4 + i) : (struct ip_addr){ 0 };
}
static inline struct ip_addr spec_host_addr(const struct ip_prefix *n)
{
	return spec_nth_addr(n, 1);
}
static inline struct ip_addr spec_ns_addr(const struct ip_prefix *n)
{
	return spec_nth_addr(n, 2);
}

/* The namespace's IPv4 address: .2 of its /30, or a member's own. */
static inline struct ip_addr spec_gw_ns_addr(const struct gw_spec *s)
{
	return s->network[0] ? s->net_addr : spec_ns_addr(&s->subnet);
}

/* --ipv6 auto|on|off, and the config file's ipv6 key. */
int spec_ipv6_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* --subnet6 PREFIX: an IPv6 /64 in fc00::/7 or 2000::/3 (host bits zero);
 * sets subnet6_given and implies --ipv6 on unless --ipv6 off is given. */
int spec_subnet6_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
static inline bool spec_has_ipv6(const struct gw_spec *s)
{
	return s->subnet6.addr.family == AF_INET6;
}
/* Whether it has IPv6 anywhere: dual-stack, or a member of a dual-stack
 * network after its first (the uplinks' IPv6 forwarding is then needed). */
static inline bool spec_wants_ipv6(const struct gw_spec *s)
{
	for (unsigned k = 0; s->network[0] && k < s->n_nets_more; k++)
		if (s->nets_more[k].subnet6.addr.family == AF_INET6)
			return true;
	return spec_has_ipv6(s);
}
/* Address ::i of an IPv6 /64 (i < 2^32), AF_UNSPEC for another family. */
static inline struct ip_addr spec_nth_addr6(const struct ip_prefix *n, uint32_t i)
{
	struct ip_addr a = n->addr;

	if (a.family != AF_INET6)
		return (struct ip_addr){ 0 };
	a.v6[12] = i >> 24;
	a.v6[13] = i >> 16;
	a.v6[14] = i >> 8;
	a.v6[15] = i;
	return a;
}
static inline struct ip_addr spec_host_addr6(const struct ip_prefix *n)
{
	return spec_nth_addr6(n, 1);
}
static inline struct ip_addr spec_ns_addr6(const struct ip_prefix *n)
{
	return spec_nth_addr6(n, 2);
}
/* The namespace's IPv6 address: ::2 of its /64, or a member's own (the
 * host index of its IPv4 address in its network's /64, net_addr6_of). */
static inline struct ip_addr spec_gw_ns_addr6(const struct gw_spec *s)
{
	return s->network[0] ? spec_nth_addr6(&s->subnet6, s->net_addr.v4 - s->subnet.addr.v4)
			     : spec_ns_addr6(&s->subnet6);
}

/* LAN mode. --lan IFACE: an interface name, not lo, not a gateway's own
 * (nsg-*); the spec's subnet becomes 0.0.0.0/0 (none). */
int spec_lan_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* --address A.B.C.D/LEN: an IPv4 address with its prefix length (8..32),
 * not the network or broadcast address of its prefix (up to /30), in no
 * range ipam_subnet_usable refuses. */
int spec_lan_address_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* --gateway A.B.C.D: a unicast IPv4 address. */
int spec_lan_gateway_parse(const char *arg, struct gw_spec *s, struct nsg_err *e);
/* What --lan cannot go with (NAT options, published ports: n_pubs), and
 * --address/--gateway without --lan or each other. */
int spec_lan_check(const struct gw_spec *s, size_t n_pubs, struct nsg_err *e);
/* A LAN gateway's MAC address: a hash of the host's seed (ipam_ula_pool's,
 * from /etc/machine-id) and its name, unicast and locally administered.
 * The same at every up of the name, so the LAN's DHCP server gives it the
 * same lease and the LAN's neighbour caches stay right; another host's
 * gateway of that name has another. */
void spec_lan_mac(const uint8_t seed[16], const char *name, uint8_t mac[6]);
static inline bool spec_is_lan(const struct gw_spec *s)
{
	return s->lan.iface[0] != '\0';
}

/* Decimal parsing with range check; -EINVAL or -ERANGE. */
int spec_parse_uint(const char *s, unsigned long max, unsigned long *ret);

/* A gateway as it was made: the request, and what only the making could
 * tell (kept in its state file, state.h). */
struct gw_state {
	struct gw_spec spec;
	bool netns_created;     /* nsgate made /run/netns/NAME: delete it at down */
	uint64_t netns_ino;     /* the namespace's nsfs inode, to notice a reused PID */
	/* The namespace's id in the host's (its veth's link_netnsid), from up:
	 * what down --all asks whether someone still holds the namespace by,
	 * without a dump of every link (inventory_list). */
	bool netnsid_known;
	int netnsid;
	/* Saved before up's first change and cleared by its last step: a state
	 * that still says so was left by an up that never finished, and gc (or
	 * an up of the name) removes what it made. */
	bool creating;
	/* The attached namespace's lo was down and up set it up: down puts it
	 * back down (leave it as found). */
	bool lo_set_up;
};

#endif
