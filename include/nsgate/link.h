/* SPDX-License-Identifier: MIT */
/*
 * Links, addresses and routes over rtnetlink, through libnl-route-3.
 * Every function returns 0 (or a count) or -errno; libnl's NLE_* codes are
 * converted here and never leave this module.
 */
#ifndef NSGATE_LINK_H
#define NSGATE_LINK_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/ipaddr.h"
#include "nsgate/route.h"

struct nl_sock;

/* A NETLINK_ROUTE socket bound to the network namespace the caller is in. */
int link_sock_open(struct nl_sock **ret);
/* The same, bound to the namespace netns_fd refers to; the caller's own
 * namespace is left unchanged (setns there and back). */
int link_sock_open_in(int netns_fd, struct nl_sock **ret);
void link_sock_close(struct nl_sock *sk);

/* Create a veth pair: host_name in the socket's namespace, with ifalias
 * alias (may be NULL), and peer_name created directly in peer_netns_fd.
 * Both stay down. -EEXIST if either name is taken. With an alias, the link
 * is created in link group LINK_GROUP_UNLABELLED and leaves it with the
 * alias's message: the one moment it has no alias, it is marked. */
#define LINK_GROUP_UNLABELLED 0x6e736700u   /* "nsg\0" */
int link_veth_create(struct nl_sock *sk, const char *host_name, const char *alias,
		     const char *peer_name, int peer_netns_fd, struct nsg_err *e);
/* LAN mode: a macvlan (bridge mode) on lower (a link of sk's namespace),
 * created directly in netns_fd's namespace as name, down, in link group
 * LINK_GROUP_UNLABELLED, with MAC address mac (NULL: the kernel's random
 * one): link_label it there next. -EEXIST if name is taken
 * there, -EBUSY when lower cannot carry one (a bridge port, say). */
int link_macvlan_create(struct nl_sock *sk, const char *lower, const char *name, int netns_fd,
			const uint8_t mac[6], struct nsg_err *e);
/* Give a link its ifalias and put it back in link group 0 (one message). */
int link_label(struct nl_sock *sk, const char *name, const char *alias, struct nsg_err *e);
/* What LAN mode checks of the interface it goes on (sk: the caller's own
 * namespace's socket). */
struct link_lower {
	int ifindex;
	unsigned flags;               /* IFF_* */
	char kind[16];                /* "bridge", "bond", "macvlan", "" for a plain device */
	char alias[64];
	int master_index;             /* 0: not a port of anything */
	char master[IF_NAMESIZE];     /* the bridge, bond... it is a port of */
	char master_kind[16];
};
/* -ENODEV when there is no such link. */
int link_lower_get(struct nl_sock *sk, const char *name, struct link_lower *ret);
/* Delete one link by name; -ENODEV when there is none. */
int link_delete(struct nl_sock *sk, const char *name, struct nsg_err *e);
int link_set_up(struct nl_sock *sk, const char *name, struct nsg_err *e);
int link_set_down(struct nl_sock *sk, const char *name, struct nsg_err *e);
/* IPv6 addresses of the link only as nsgate adds them: no link-local
 * address of its own (addr_gen_mode none, IFLA_INET6_ADDR_GEN_MODE), so
 * none is generated, and none waits on duplicate address detection, when
 * it comes up. Before link_set_up. */
int link_set_ipv6_manual(struct nl_sock *sk, const char *name, struct nsg_err *e);
/* Move a link into link group group (IFLA_GROUP). */
int link_set_group(struct nl_sock *sk, const char *name, uint32_t group, struct nsg_err *e);
/* Delete every link of group in one request: the kernel unregisters them as
 * one batch, paying its RCU grace periods once instead of once a link. */
int link_delete_group(struct nl_sock *sk, uint32_t group, struct nsg_err *e);
int link_delete_index(struct nl_sock *sk, int ifindex, struct nsg_err *e);
/* Take link ifindex out of service without deleting it: down (no traffic,
 * no routes), ifalias set to alias, renamed new_name (its old name is
 * free), in one message where the kernel renames links that are up (6.2).
 * None of it waits for an RCU grace period, unlike a deletion. */
int link_retire(struct nl_sock *sk, int ifindex, const char *alias, const char *new_name,
		struct nsg_err *e);
/* The id sk's namespace gives the namespace of netns_fd (what its veths'
 * link_netnsid says): -ENOENT when it has given none. */
int link_netns_id(struct nl_sock *sk, int netns_fd, int *ret);
/* Whether the namespace of nsid (as sk's namespace numbers it: a link's
 * link_netnsid) is alive: 1, or 0 once its last reference is gone (the
 * kernel no longer resolves the id, and is destroying it). */
int link_netnsid_alive(struct nl_sock *sk, int nsid);
/* ifindex (> 0) of name, or -ENODEV. */
int link_index(struct nl_sock *sk, const char *name);
/* A link's Ethernet address; -ENODEV when absent (or it has none). */
int link_mac(struct nl_sock *sk, const char *name, uint8_t mac[6]);

/* What the kernel knows about one link, for list/show. */
struct link_info {
	char name[IF_NAMESIZE];
	char alias[64];
	int ifindex;
	unsigned flags;           /* IFF_* */
	unsigned mtu;
	uint32_t group;           /* IFLA_GROUP */
	int link_netnsid;         /* IFLA_LINK_NETNSID of a veth's peer namespace, -1: none */
	size_t n_addrs;
	struct ip_prefix addrs[8];    /* masked prefix + ... */
	struct ip_addr addr_local[8]; /* the address itself */
};

/* Links whose ifalias starts with alias_prefix, with their addresses of
 * family (AF_INET, or AF_UNSPEC for both: one more dump's worth of IPv6
 * link-locals; LINK_ADDRS_NONE: none); *ret is malloc'ed. Returns count. */
#define LINK_ADDRS_NONE (-1)
/* For link_list_known: IPv4 addresses, matched to their links by label;
 * a known link has only its flags read (ifindex and mtu 0): one ioctl, not
 * three (list's plain table needs no more). With LINK_ADDRS_NONE a known
 * link's mtu is not read either (0). */
#define LINK_ADDRS_V4_BRIEF (-2)
int link_list_by_alias(struct nl_sock *sk, const char *alias_prefix, int family,
		       struct link_info **ret);
/*
 * The same, without a dump of every link, for a host where the caller knows
 * most labelled links by name: a link named as one of known[0..n_known)
 * (sorted by name) is taken as labelled as that entry's alias says and read
 * with ioctls while it is up; any other link's alias (and a known one's
 * that is down) is read by name, except for names
 * starting with skip_prefix (NULL: none). A dump fills in each veth its
 * peer namespace's id, found by a walk of every id the host has given
 * (__peernet2id): O(N) per veth, O(N^2) a dump, 1 s at 10,000 gateways.
 * A socket in another namespace than the thread's gets link_list_by_alias.
 */
int link_list_known(struct nl_sock *sk, const struct link_info *known, size_t n_known,
		    const char *alias_prefix, const char *skip_prefix, int family,
		    struct link_info **ret);
/* One link by name (with its IPv4 and IPv6 addresses); -ENODEV when absent. */
int link_get(struct nl_sock *sk, const char *name, struct link_info *ret);

#endif
