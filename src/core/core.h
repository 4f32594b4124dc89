/* SPDX-License-Identifier: MIT */
/*
 * What the core's operation files share; front ends never include it.
 * Each public operation (nsgate/nsgate.h) opens one session and hands it to
 * the internal functions below, which never open sockets or take the lock.
 */
#ifndef NSGATE_CORE_H
#define NSGATE_CORE_H

#include <stdio.h>
#include <string.h>

#include "nsgate/config.h"
#include "nsgate/dns.h"
#include "nsgate/firewall.h"
#include "nsgate/firewalld.h"
#include "nsgate/hostfw.h"
#include "nsgate/link.h"
#include "nsgate/lock.h"
#include "nsgate/nsgate.h"
#include "nsgate/ruleset.h"
#include "nsgate/state.h"
#include "nsgate/netns.h"
#include "nsgate/nft.h"
#include "nsgate/publish.h"
#include "nsgate/sysctl.h"
#include "nsgate/xtables.h"

/* The environment variable that makes up fail after a named step (tests). */
#define GW_FAIL_STEP_ENV "NSGATE_TEST_FAIL_STEP"
/* Set: IPv6 forwarding as on a kernel without force_forwarding (tests). */
#define GW_NO_FORCE_FORWARDING_ENV "NSGATE_TEST_NO_FORCE_FORWARDING"

/* ------------------------------------------------------------ session.c */

/* The lock and the sockets one operation works with. */
struct session {
	int lock;               /* flock on STATE_DIR/lock, -1 when not taken */
	struct nl_sock *host;   /* rtnetlink in the caller's (the host's) namespace */
	struct nftx *nft;       /* nftables */
};
#define SESSION_INIT { .lock = -1 }

enum {
	SESSION_LOCK = 1 << 0,  /* every operation that changes something */
	SESSION_RTNL = 1 << 1,
	SESSION_NFT = 1 << 2,
	SESSION_ALL = SESSION_LOCK | SESSION_RTNL | SESSION_NFT,
};
/* Open what `what` names; on failure what was opened stays for
 * session_close, which is always called (a _cleanup_ does it). */
int session_open(struct session *s, unsigned what, struct nsg_err *e);
void session_close(struct session *s);
#define _cleanup_session_ _cleanup_(session_close)

/* ---------------------------------------------------------- inventory.c */

/* The ifalias that labels a gateway's host-side link. */
void inventory_alias(const struct gw_state *st, char *buf, size_t len);
/* The gateway an alias names, or false when it is not nsgate's. */
bool inventory_alias_owner(const char *alias, char name[GW_NAME_MAX + 1], bool *own_netns);
/* Whether li is the host link of gateway name (its label says so). */
bool inventory_link_is(const struct link_info *li, const char *name, bool *own_netns);
/* Every gateway known from state files or from links nsgate labelled,
 * sorted and unique (returns the count); the labelled links themselves in
 * *links_ret (sorted by name) unless links_ret is NULL, with their
 * addresses when flags say INVENTORY_WITH_ADDRS (both families, or IPv4
 * with INVENTORY_ADDRS_V4, which with INVENTORY_QUICK leaves a known link's
 * ifindex and mtu 0: list's plain table). Without INVENTORY_QUICK every link's label is
 * read from the kernel (what removes links needs); with it a link named as
 * a gateway with a state file is taken as its (what only reads needs: a
 * dump of every link costs O(N^2) in the kernel, link_list_known). */
enum {
	INVENTORY_QUICK = 1 << 0,
	INVENTORY_WITH_ADDRS = 1 << 1,
	INVENTORY_ADDRS_V4 = 1 << 2,
};
int inventory_list(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1], struct link_info **links_ret,
		   size_t *n_links_ret, unsigned flags);
/* Whether a gateway but name has a state file: shared things (the table,
 * the uplinks' forwarding) stay while one does. */
bool inventory_others_exist(const char *name);
/* Whether the gateway's namespace is still the one it was made for. */
bool inventory_netns_alive(const struct gw_state *st);
/* The state of a gateway that is up, for publish and exec: NOT_FOUND for
 * none and for one whose up never finished, the damage otherwise. */
int inventory_load_running(const char *name, struct gw_state *st, struct nsg_err *e);
int inventory_name_cmp(const void *a, const void *b);
int inventory_link_cmp(const void *a, const void *b);

/* -------------------------------------------------------------- dying.c */

/* The ifalias of a gateway's link that down left to the kernel. */
void dying_alias(const char *name, char buf[64]);
/* Whether li is gateway name's link, left to the kernel. */
bool dying_link_is(const struct link_info *li, const char *name);
/* Link li, gateway name's, out of service, its name and addresses free. */
int dying_retire(struct nl_sock *host, const char *name, const struct link_info *li,
		 struct nsg_err *e);
/* A retired link and its peer's namespace (its link_netnsid). */
struct dying_link {
	int ifindex, netnsid;
};
/* After the namespaces' unmount: the links of v[] whose namespace someone
 * else holds deleted (in a child, once the kernel had time to let go). */
void dying_reap(struct nl_sock *host, struct dying_link *v, size_t n);
/* Wait one RCU grace period (membarrier): what a socket closed just
 * before still holds of its namespace is let go by then. */
void dying_grace(void);
/* dying_reap of every dying link: what a kill in down left. */
void dying_sweep(struct nl_sock *host);

/* What a gateway contributes to the table, but for the DNS servers a
 * --no-host gateway may use on the host (gw_rules_dns). */
static inline struct ruleset_gw gw_rules_of(const struct gw_spec *s)
{
	return (struct ruleset_gw){ .name = s->name, .host_ifname = s->host_ifname,
				    .uplink = s->uplink, .ns_addr = spec_gw_ns_addr(s),
				    .ns_addr6 = spec_gw_ns_addr6(s), .no_host = s->no_host,
				    .ns_ll6 = s->network[0] && spec_has_ipv6(s)
					      ? net_ll6_of(&s->subnet, &s->net_addr) : (struct ip_addr){ 0 },
				    .bridge = s->network[0] ? s->net_bridge : NULL };
}
/* Where its published ports lead: its namespace's addresses. */
static inline struct gw_target gw_target_of(const struct gw_spec *s)
{
	return (struct gw_target){ .v4 = spec_gw_ns_addr(s), .v6 = spec_gw_ns_addr6(s) };
}
/* Fill gw's DNS servers (only with no_host) from a resolv.conf's text, or,
 * with text NULL, from the gateway's /etc/netns/NAME/resolv.conf: the
 * servers its namespace really uses. */
void gw_rules_dns(struct ruleset_gw *gw, const char *resolv_text);

/* ------------------------------------------------------------- subnet.c */

/* Check a given subnet (s->subnet_given), or pick a free one into s->subnet,
 * against the host (host) and an attached namespace (ns, may be NULL). */
int subnet_choose(struct nl_sock *host, struct nl_sock *ns, struct gw_spec *s,
		  struct nsg_err *e);
/* The same for IPv6: decide whether the gateway is dual-stack (s->ipv6,
 * the host's IPv6 default route) and check s->subnet6 or pick its /64 from
 * the host's ULA /48; s->subnet6 AF_UNSPEC for an IPv4-only gateway. After
 * subnet_choose. */
int subnet6_choose(struct nl_sock *host, struct nl_sock *ns, struct gw_spec *s,
		   struct nsg_err *e);

/* A network's IPv6: --ipv6 (the gateways' rule), --subnet6 (given, or
 * NULL), its IPv4 subnet (whose /24's index picks the /64, beside the
 * gateways' ones) and the other networks' /64s (avoid). */
struct net6_want {
	enum gw_ipv6 ipv6;
	const struct ip_prefix *given;
	const struct ip_prefix *subnet4;
	const struct ip_prefix *avoid;
	size_t n_avoid;
};
/* Decide whether the network is dual-stack and check or pick its /64 from
 * the host's ULA /48 (never one a gateway or another network has); *ret
 * AF_UNSPEC for an IPv4-only network. */
int subnet6_network(struct nl_sock *host, const struct net6_want *w, struct ip_prefix *ret,
		    struct nsg_err *e);

/* ------------------------------------------------------------ network.c */

/* A member's networks as its up reads them: each network's file loaded
 * once by network_member_check (missing: one the join makes, its subnet
 * chosen), kept as the join saves it, read by the later steps. */
struct net_up {
	unsigned n;
	struct net_state net[GW_NETS_MAX];
	bool missing[GW_NETS_MAX];
};
void net_up_clear(struct net_up *nu);
/* up of a member (spec->network set): refuse what a member cannot have,
 * and take its subnet and the next free address from its network (none
 * yet when the network is made by the join), its networks into nu.
 * Changes nothing. */
int network_member_check(struct session *s, struct gw_spec *spec, struct net_up *nu,
			 struct nsg_err *e);
/* Make the network if it is missing (*made), and record the member in its
 * file (and nu): the address is taken from then on. */
int network_member_join(struct session *s, struct gw_spec *spec, struct net_up *nu, bool *made,
			struct nsg_err *e);
/* Undo of the join: the member out of the file and its port element; the
 * network too when it was made implicitly and is empty now. */
void network_member_undo(struct session *s, const struct gw_spec *spec);
/* The member's host side as a port of its bridge, up. */
int network_port_up(struct session *s, const struct gw_spec *spec, const struct net_up *nu,
		    struct nsg_err *e);
/* Its namespace side's fixed MAC (net_mac_of), before it comes up. */
int network_ns_mac(struct nl_sock *ns, const struct gw_spec *spec, struct nsg_err *e);
/* Queue a member's network elements and its port element (and table
 * bridge nsgate's skeleton), in the up's transaction. */
int network_queue_member(struct nftx *nft, const struct gw_spec *spec, const struct net_up *nu);
/* apply: the file's [network NET] sections, each made (explicitly) where
 * missing; all checked first (a conflict: FILE:LINE, nothing made). */
int network_apply(struct session *s, const struct config *cfg, struct nsg_err *e);
/* Rewrite the hosts files of spec's networks (their members as now), and
 * link /etc/netns/NAME/hosts to its network's; a member of several
 * networks has its own file instead (rewritten with any of them). */
int network_hosts_sync(const struct gw_spec *spec, const struct net_up *nu, struct nsg_err *e);
/* The veths of a member's further networks (nets_more), labelled alias;
 * deleted again. */
int network_veths_more(struct session *s, const struct gw_spec *spec, const char *alias,
		       int netns_fd, struct nsg_err *e);
void network_veths_more_undo(struct session *s, const struct gw_spec *spec);
/* Their inet elements (ns_addrs4 bridge . address, ifaces port), in up's
 * or a restore's transaction; they go with the gateway's (its comment). */
int network_queue_more_inet(struct nftx *nft, const struct gw_spec *spec);
/* Their namespace sides: fixed MAC, address (its subnet's route), up. */
/* A member's IPv6 on ifname in a dual-stack network: its address and its
 * link-local (net_addr6_of, net_ll6_of), no DAD, none of the kernel's
 * making (before the link comes up). */
int network_ns_addrs6(struct nl_sock *ns, const char *ifname, const struct ip_prefix *subnet,
		      const struct ip_prefix *subnet6, const struct ip_addr *addr, struct nsg_err *e);
int network_ns_links_more(struct nl_sock *ns, const struct gw_spec *spec, struct nsg_err *e);
/* Queue every network's elements and members' port elements (restore). */
int network_restore_queue(struct nftx *nft);
/* Restore what of the networks is missing in either table (table bridge
 * nsgate, a network's or a member's element): all of it again, in one
 * transaction; *repaired (may be NULL) set when something was. After the
 * inet table is whole. */
int network_repair(struct session *s, bool *repaired, struct nsg_err *e);
/* After gateways went: members whose gateway is gone leave their networks,
 * and networks made implicitly go with their last member. */
int network_sync(struct session *s, struct nsg_err *e);
/* Gateways names[] (sorted) leave their networks: what down does. */
int network_leave(struct session *s, const char (*names)[GW_NAME_MAX + 1], size_t n,
		  struct nsg_err *e);

/* ----------------------------------------------------------------- up.c */

int up_run(struct session *s, const struct gw_spec *req, const struct gw_up_opts *o,
	   struct gw_up_result *res, struct nsg_err *e);

/* ---------------------------------------------------------------- lan.c */

/* The ifalias of a LAN gateway's macvlan, in its namespace. */
void lan_alias(const char *name, char *buf, size_t len);
/* up's checks of a LAN gateway (before any change): the interface (exists,
 * up, not lo, not nsgate's, not a port of a bridge or bond), --address
 * against the host's addresses there (*warning when on none of their
 * subnets), and, without --gateway, the host's default gateway on it into
 * sp->lan.gateway. */
int lan_check(struct nl_sock *host, struct gw_spec *sp, const char **warning, struct nsg_err *e);
/* up's step: the macvlan made in the namespace (netns_fd, ns: a socket
 * there), labelled, lo up as for a veth, the address, up, the default route. */
int lan_link_up(struct nl_sock *host, struct nl_sock *ns, int netns_fd, const struct gw_state *st,
		struct nsg_err *e);
void lan_link_undo(struct nl_sock *ns, const struct gw_state *st);
/* The gateway's macvlan in its namespace: 0 and *ret, -ENODEV when it is
 * not there (or not labelled as its own), -ENOENT when the namespace is gone. */
int lan_link_find(const struct gw_state *st, struct link_info *ret);
/* down: delete the macvlan (ifname, labelled name's, or unlabelled when
 * creating) in the namespace at netns_path if it is still ino's. 0 when
 * it or the namespace is gone already. */
int lan_link_remove(const char *name, const char *netns_path, uint64_t ino, const char *ifname,
		    bool creating, struct nsg_err *e);

/* ----------------------------------------------------------- teardown.c */

/* Remove everything of one gateway; *found is false when there was nothing. */
int teardown_one(struct session *s, const char *name, bool *found, struct nsg_err *e);
/* What teardown_many reads first, for a caller that has it already (down
 * --all, gc): every labelled link, sorted by name (inventory_list's quick
 * kind: what is changed of a link is read again by name first), and whether
 * a gateway not among those removed stays. */
#define TEARDOWN_INVENTORY INVENTORY_QUICK
struct teardown_survey {
	const struct link_info *links;
	size_t n_links;
	bool others;
};
/* Remove many together (one transaction, one link group); names sorted in
 * place. known may be NULL. */
int teardown_many(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n,
		  const struct teardown_survey *known, size_t *n_found, struct nsg_err *e);
/* A gateway's files: its resolv.conf (when resolv), ports, run mark, and
 * state, the last. 1 if a state file was removed, 0 if there was none, or
 * -errno (detail in e, may be NULL). */
int teardown_files(const char *name, bool resolv, struct nsg_err *e);

/* --------------------------------------------------------------- view.c */

struct view_snapshot;
/* One gateway's view; snap NULL reads it from the kernel, else from what
 * list read once for all. -ENOENT when nothing at all is left of it. */
int view_one(struct session *s, const char *name, struct gw_view *v,
	     const struct view_snapshot *snap);

/* -------------------------------------------------------------- ports.c */

int ports_publish(struct session *s, const char *name, const struct portmap *pubs,
		  size_t n_pubs, bool force, struct nsg_err *e);
int ports_unpublish(struct session *s, const char *name, const struct portmap *pubs,
		    size_t n_pubs, struct nsg_err *e);
/* apply: a gateway's ports become want[], by del[] out and add[] in (from
 * portmap_diff against the kernel), in one transaction, so that a kill
 * leaves the old ports or the new ones (gc finishes), never none. */
int ports_replace(struct session *s, const char *name, const struct portmap *want,
		  size_t n_want, const struct portmap *del, size_t n_del, const struct portmap *add,
		  size_t n_add, struct nsg_err *e);

/* ------------------------------------------------------------ forward.c */

/* The uplinks one up (or apply) turned forwarding on for, for its undo. */
struct fwd_change {
	char turned[LINK_DEFAULT_IFACES_MAX][GW_NAME_MAX + 1];
	size_t n;
};
/* The global switch net.ipv4.ip_forward: 1 on, 0 off, -errno. */
int forward_global(void);
/* With the global switch off, turn forwarding on for a gateway's uplinks:
 * uplink, or ("") the interfaces of the host's default routes, each one
 * that is off, its old value saved first. With it on, write nothing (and
 * forget what was saved). */
int forward_uplinks_on(struct session *s, const char *uplink, struct fwd_change *ch,
		       struct nsg_err *e);
/* Put back what forward_uplinks_on turned on, and the guard with it. */
void forward_uplinks_undo(struct session *s, struct fwd_change *ch);
/* Queue a fwd_guard element for each uplink with a saved value. */
int forward_guard_queue(struct nftx *nft);
/* After a gateway went (last: no other is left) or in gc: with the global
 * switch on, forget the saved values and drop their fwd_guard elements; with
 * it off and last, restore each saved value that is still nsgate's 1. Best
 * effort: nothing of it can fail a down. */
void forward_settle(struct session *s, bool last);

/* ----------------------------------------------------------- forward6.c */

/* The IPv6 sysctls one up turned, for its undo: names as state.h keeps them. */
struct fwd6_change {
	char turned[32][GW_NAME_MAX + 1];
	size_t n;
};
/* Whether the kernel forwards IPv6 per interface (force_forwarding). */
bool forward6_per_interface(void);
/* For a dual-stack gateway: force_forwarding on its uplinks (uplink, or
 * "" for the interfaces of the host's IPv6 default routes), or on older
 * kernels the global switch with accept_ra 1 -> 2 first; nothing when the
 * global switch is someone else's and on. Old values saved first. */
int forward6_on(struct session *s, const char *uplink, struct fwd6_change *ch,
		struct nsg_err *e);
void forward6_undo(struct session *s, struct fwd6_change *ch);
/* Queue a fwd_guard6 element for each uplink with a saved value (forwarding
 * there lets the kernel route any IPv6 that arrives: only the gateways'
 * traffic may pass). forward_guard_queue calls it. */
int forward6_guard_queue(struct nftx *nft);
/* With the last gateway gone (or gc with none left): every saved value
 * back where nsgate's is still there. Best effort. */
void forward6_settle(struct session *s, bool last);

/* ----------------------------------------------------------- firewall.c */

/* Every other firewall on the host that would drop a gateway's traffic
 * (nftables and iptables-nft, iptables-legacy, firewalld), as found now. */
struct fw_survey {
	struct fw_blocks blocks;        /* all of them, in the terms of firewall.h */
	struct hostfw_survey nft;       /* what hostfw found */
	struct xtables_survey legacy;   /* what xtables found */
	bool firewalld;                 /* firewalld runs (asked on D-Bus: only when its table exists) */
	char firewalld_zone[64];        /* the zone the gateway links are in ("" none) */
};
/* Look: one nftables dump, /proc/net/ip_tables_names, and D-Bus only when
 * firewalld's table exists. Within the 0.5 ms `up` may spend on it. */
int firewall_survey(struct session *s, struct fw_survey *sv, struct nsg_err *e);
/* How many blocks still drop gateway traffic (not opened). */
size_t firewall_blocking(const struct fw_survey *sv);
/* Open every block of sv that nsgate can open (iptables-nft and legacy
 * rules, firewalld's zone), marking them opened; the rest stays blocked. */
int firewall_open(struct session *s, struct fw_survey *sv, struct nsg_err *e);
/* Remove everything nsgate added to other firewalls (the last gateway went,
 * or gc found none): rules by their label, firewalld's binding by its
 * intent file. Best effort. */
void firewall_close(struct session *s);
/* What gc and watch do: survey; with no gateway left close; else, when a
 * gateway asks for --firewall auto, open what blocks. newly (may be NULL):
 * the blocks this opened. */
int firewall_sync(struct session *s, struct fw_survey *sv, struct fw_blocks *newly,
		  struct nsg_err *e);

/* ----------------------------------------------------------------- gc.c */

/* Queue every gateway's elements and ports from the state files, but for
 * except's; *n (may be NULL) counts the gateways. */
int restore_queue(struct nftx *nft, const char *except, size_t *n);
/* Whether the kernel lacks elements gateway s (its rules gw, DNS servers
 * filled) should have, as restore and doctor judge it: ports aside. */
/* Whether a member's further networks lack an element (restore_elems_missing
 * asks it too; view uses it for the status). */
bool restore_more_missing(const struct gw_spec *s, const struct ruleset_gw_state *have);
bool restore_elems_missing(const struct gw_spec *s, const struct ruleset_gw *gw,
			   const struct ruleset_gw_state *have);
/* runs_only: only gateways of dead `nsgate run`s (what up checks first). */
int gc_run(struct session *s, bool runs_only, struct gw_gc_item **ret, size_t *n_ret,
	   struct nsg_err *e);
/* Bring the table back to what the state files say: rebuilt when it is
 * gone or its rules are not nsgate's, else only the missing elements of the
 * gateways that lack some (one read of the sets for all, one transaction).
 * Writes nothing when nothing is missing. ret may be NULL. */
int restore_run(struct session *s, struct gw_restore_result *ret, struct nsg_err *e);

#endif
