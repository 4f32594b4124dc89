/* SPDX-License-Identifier: MIT */
/*
 * nsgate's core: the one header a front end (the nsgate command, the CNI
 * plugin) includes. It brings the model (names and options, addresses,
 * port mappings, config files, errors and their kinds) and declares the
 * operations. Every operation takes the lock and opens the netlink sockets
 * it needs itself, once; none prints or exits. A failure is -errno with
 * detail and kind in struct nsg_err (common.h): the front end prints it as
 * "nsgate: <what>: <why>" and maps the kind to an exit code.
 */
#ifndef NSGATE_NSGATE_H
#define NSGATE_NSGATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nsgate/common.h"
#include "nsgate/config.h"
#include "nsgate/firewall.h"
#include "nsgate/ipaddr.h"
#include "nsgate/network.h"
#include "nsgate/portmap.h"
#include "nsgate/spec.h"

/* ------------------------------------------------------------ gateways */

struct gw_up_result {
	bool unchanged;          /* it was up already with these settings */
	struct gw_state state;   /* what is up now */
	const char *warning;     /* something the user should know, or NULL */
	const char *lan_warning; /* LAN mode's (an --address off the host's subnets), or NULL */
	struct fw_blocks blocked;  /* other firewalls' chains that still drop its traffic */
	struct fw_blocks opened;   /* ... and those nsgate opened for it */
};

struct gw_up_opts {
	const struct portmap *pubs;   /* ports to publish with it */
	size_t n_pubs;
	bool force;                   /* publish even where a host socket listens */
	pid_t run_pid;                /* nonzero: owned by this `nsgate run` process */
};

/* req: a checked spec (name, host_ifname, ns_ifname, netns, optional subnet,
 * uplink, dns, no_host), made with spec_init.
 * Before anything, gateways of dead runs are removed, and a ruleset someone
 * flushed is restored from the state files. */
int gateway_up(const struct gw_spec *req, const struct gw_up_opts *o, struct gw_up_result *res,
	       struct nsg_err *e);
/* Publish more ports of a running gateway, in one transaction. */
int gateway_publish(const char *name, const struct portmap *pubs, size_t n_pubs, bool force,
		    struct nsg_err *e);
/* Stop publishing ports (each must be published by this gateway as given),
 * and forget their connections. */
int gateway_unpublish(const char *name, const struct portmap *pubs, size_t n_pubs,
		      struct nsg_err *e);
/* Remove everything of one gateway; *found is false when there was nothing. */
int gateway_down(const char *name, bool *found, struct nsg_err *e);
/* Remove every gateway; *count says how many there were. */
int gateway_down_all(size_t *count, struct nsg_err *e);

/* One gateway gc removed, and why. */
struct gw_gc_item {
	char name[GW_NAME_MAX + 1];
	const char *reason;
};

/* What a restore put back. */
struct gw_restore_result {
	bool table;                          /* the table or its rules were rebuilt */
	size_t n_gateways;                   /* otherwise: the gateways whose missing */
	char (*gateways)[GW_NAME_MAX + 1];   /* elements came back; malloc'ed */
	/* gc only: other firewalls' chains opened again, or why that failed
	 * (code 0: it did not; gc did the rest either way). */
	struct fw_blocks fw_opened;
	struct nsg_err fw_err;
};
/* Remove gateways whose namespace, link or run is gone, whose state is
 * damaged, or that only left kernel objects behind; restore a flushed
 * ruleset, or the missing elements of a gateway, for the rest (what in
 * *restored, as gateway_restore); open other firewalls again where they
 * dropped nsgate's rules (restored->fw_opened, or fw_err when that failed:
 * not a failure of gc). *ret malloc'ed. */
int gateway_gc(struct gw_gc_item **ret, size_t *n_ret, struct gw_restore_result *restored,
	       struct nsg_err *e);
/* Bring nsgate's table back to what the state files say, if someone deleted
 * or flushed it, or deleted a gateway's elements (an element, a flushed set
 * or map): the table, its rules, every gateway's elements and ports. Writes
 * nothing when nothing is missing. Free ret->gateways. */
int gateway_restore(struct gw_restore_result *ret, struct nsg_err *e);

/* What apply did to one gateway. */
struct gw_apply_item {
	char name[GW_NAME_MAX + 1];
	const char *action;       /* "created", "recreated", "updated", "unchanged", "removed" */
	char detail[192];
};
/* Bring the kernel to exactly the gateways cfg declares: create the missing,
 * change the changed with the fewest operations (ports, uplink and DNS in
 * place; a new subnet or namespace re-creates), leave the same untouched
 * (no netlink writes), and with prune remove gateways cfg does not name.
 * *ret malloc'ed, one item per gateway. */
int gateway_apply(const struct config *cfg, bool prune, struct gw_apply_item **ret, size_t *n_ret,
		  struct nsg_err *e);

/* A gateway's host-side link as the kernel shows it. */
struct gw_link_view {
	char name[IF_NAMESIZE];
	int ifindex;
	bool up;
	unsigned mtu;
	size_t n_addrs;
	struct ip_addr addrs[8];  /* its addresses ... */
	uint8_t plens[8];         /* ... with their prefix lengths */
};

/* What the gateway has in nsgate's nftables table. */
struct gw_rules_view {
	bool in_ifaces;           /* its veth is known as a gateway interface */
	bool masq_any;            /* masqueraded toward every non-gateway interface */
	char masq_via[IF_NAMESIZE];  /* or only toward this uplink ("" if none) */
	bool in_ns_addrs4;        /* its namespace's address may send (the source check) */
	bool in_ns_addrs6;        /* its IPv6 ones may (dual-stack) */
	bool no_host;             /* kept off the host's addresses */
	size_t n_elems;           /* every element carrying its name */
};

/* One gateway as the kernel shows it, with the state file beside it. */
struct gw_view {
	char name[GW_NAME_MAX + 1];
	bool have_state;
	bool state_damaged;
	struct gw_state state;
	bool link_present;
	bool more_links_present; /* a member's further networks' veths (all of them) */
	bool more_rules_present; /* ... and their elements in nsgate's table */
	struct gw_link_view link;
	struct gw_rules_view nft;
	bool netns_present;
	bool dns_present;
	unsigned n_dns;          /* nameservers in its resolv.conf */
	struct ip_addr dns[GW_DNS_MAX];
	const char *status;      /* "up" or what is broken */
	struct portmap *pub;     /* its published ports, one per port */
	size_t n_pub;
};
void gateway_view_clear(struct gw_view *v);

int gateway_view(const char *name, struct gw_view *ret, struct nsg_err *e);
/* Every gateway known from state files or from links nsgate labelled;
 * gateway_view_clear each view, then free the array. With GW_LIST_BRIEF
 * the views leave out what a status needs no read of (published ports:
 * n_pub 0; DNS servers: dns_present false), for front ends that show names
 * and status only: at 10,000 gateways that is a dump of every port and
 * 30,000 file operations less. */
enum { GW_LIST_BRIEF = 1 << 0 };
int gateway_list(struct gw_view **ret, size_t *n, unsigned flags, struct nsg_err *e);
/* The Ethernet addresses of a gateway's veth ends, each with whether it
 * exists (the namespace side: in the namespace the gateway attached). For a
 * front end that reports them (nsgate-cni). NOT_FOUND without a state. */
struct gw_link_macs {
	bool host_present, ns_present;
	uint8_t host[6], ns[6];
};
int gateway_link_macs(const char *name, struct gw_link_macs *ret, struct nsg_err *e);
/* Run argv inside the gateway's namespace; returns only on failure. */
int gateway_exec(const char *name, char *const argv[], struct nsg_err *e);

/* ------------------------------------------------------------ networks */

/* `nsgate network create`: a bridge "nsg-+NAME" with the gateway address
 * (.1) of subnet (NULL: a free /24 of NET_POOL_DEFAULT); isolated: its
 * members reach the gateway and not each other. It stays without members
 * until network_rm. A network `up --network` made is marked explicit.
 * *unchanged: it was there already as asked. */
/* What network create asks: subnet, subnet6 NULL for any; ipv6 as up's
 * --ipv6 (auto: dual-stack when the host has an IPv6 default route). */
struct net_opts {
	const struct ip_prefix *subnet;
	const struct ip_prefix *subnet6;
	enum gw_ipv6 ipv6;
	bool isolated;
};
int network_create(const char *name, const struct net_opts *o, bool *unchanged, struct nsg_err *e);
/* Remove a network without members (CONFLICT while it has some). */
int network_rm(const char *name, struct nsg_err *e);
struct net_view {
	struct net_state net;     /* its file: settings and members */
	bool bridge_present;      /* its bridge exists */
};
/* Every network, sorted by name; free with network_list_free. */
int network_list(struct net_view **ret, size_t *n_ret, struct nsg_err *e);
void network_list_free(struct net_view *v, size_t n);

/* ------------------------------------------------------ other firewalls */

/* Every chain of another firewall that drops gateway traffic by default,
 * opened (b.opened: nsgate's rules or an admin's let the gateways through)
 * or not. Read-only. */
int gateway_firewall(struct fw_blocks *ret, struct nsg_err *e);
/* What gc and watch do after another firewall changed (Docker restarted,
 * `ufw reload`, `firewall-cmd --reload`): open again what drops gateway
 * traffic, for the gateways that ask for --firewall auto, or with no
 * gateway left remove what nsgate added. opened: the chains that had to be
 * opened (none: all was in place). */
int gateway_firewall_sync(struct fw_blocks *opened, struct nsg_err *e);
/* One line naming b: "ip filter FORWARD (policy drop)". */
void firewall_describe(const struct fw_block *b, char *buf, size_t len);
/* What an admin runs to open b by hand: one line, commands separated by
 * "; " (iptables, nft or firewall-cmd). */
void firewall_fix(const struct fw_block *b, char *buf, size_t len);

/* -------------------------------------------------------------- doctor */

/* One thing `nsgate doctor` found: a problem with its fix, or a check that
 * passed (problem false). A check that could not read what it needs is a
 * problem too, its what saying so. */
struct gw_finding {
	char gateway[GW_NAME_MAX + 1];   /* "" for the host as a whole */
	const char *check;               /* "state", "link", "nftables", "forwarding",
					    "rp_filter", "netns", "mtu", "dns", "firewall"; the
					    host's: "kernel", "nftables", "conntrack", "uplink",
					    "firewall" */
	bool problem;
	char what[320];
	char fix[512];                   /* what to run or do; "" when none (or passed) */
};

struct gw_doctor_report {
	struct gw_finding *findings;     /* the host's first, then each gateway's */
	size_t n_findings;
	char (*gateways)[GW_NAME_MAX + 1];   /* the gateways looked at, in order */
	size_t n_gateways;
};
/* Why gateway name (NULL: every gateway) may have no connectivity, found
 * by reading only (no lock; nothing is written): other firewalls that drop
 * its traffic, forwarding off, strict rp_filter in its way, nsgate's table
 * or its elements damaged, its namespace's link, address or default route
 * missing, its DNS servers not answering from inside (really asked, 2 s
 * each at most), the conntrack table near full, a veth MTU above the
 * uplink's, kernel features missing. -errno only when doctor cannot run at
 * all (NOT_FOUND for a name nothing is left of). Free with
 * gateway_doctor_clear. */
int gateway_doctor(const char *name, struct gw_doctor_report *ret, struct nsg_err *e);
void gateway_doctor_clear(struct gw_doctor_report *r);

/* ----------------------------------------------------------------- run */

/* The user's command of `nsgate run`: a child inside the gateway's
 * namespace, signals passed on, its exit status returned. */
struct run_request {
	const char *netns_path;  /* the gateway's network namespace */
	const char *etc_name;    /* /etc/netns/NAME files over /etc */
	const char *user;        /* NULL: as we are */
	bool pid;                /* PID 1 of new PID, UTS and IPC namespaces, own /proc */
	const char *hostname;    /* NULL: the host's (a copy of it, with pid) */
	char *const *argv;
};
/* Run argv in the network namespace at netns_path, with /etc/netns/etc_name
 * files over /etc (like ip netns exec), as user (NULL: as we are). SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to nsgate go to the command (a terminal's
 * own signals reach it directly). Returns 0 with *ret_status the command's
 * exit status, or 128 + N when signal N ended it. When the command never
 * ran, -errno with the child's error in *e, of kind NSG_KIND_CMD_NOT_FOUND
 * (execvp found no such command) or NSG_KIND_CMD_CANNOT_RUN (entering the
 * namespace, becoming user or execvp failed otherwise). When the command
 * has ended, whatever it started and left is ended too (nsgate is their
 * subreaper): SIGTERM, then SIGKILL after a grace of 2 s. With pid, argv
 * is PID 1 of a PID namespace of its own (and of UTS and IPC ones, with a
 * /proc of its own); a signal passed on that it neither handles nor
 * ignores is dropped by the kernel, so 2 s later (at once on a second
 * signal) it gets SIGKILL (exit status 137), which ends everything in the
 * namespace, as its own end does. With hostname, a UTS namespace of its
 * own of that name (checked by spec_hostname_check). */
int run_command(const struct run_request *rq, int *ret_status, struct nsg_err *e);

/* ------------------------------------------------------------ features */

/* What the running kernel and host offer nsgate, for `nsgate version`. A
 * feature is FEATURE_UNKNOWN when it cannot be asked (nftables needs
 * CAP_NET_ADMIN). Asked without changing anything: nftables through
 * batches the kernel checks and never applies; nothing is loaded. */
enum feature_state { FEATURE_NO = 0, FEATURE_YES = 1, FEATURE_UNKNOWN = -1 };

struct gw_features {
	char kernel[65];                           /* uname's release */
	enum feature_state nf_tables;              /* table inet nsgate can exist */
	enum feature_state nat;                    /* nat chains and masquerade */
	enum feature_state ipv6_nat;               /* the same for IPv6 (NAT66) */
	enum feature_state sctp;                   /* conntrack tracks SCTP: sctp SPECs NAT */
	enum feature_state forward6_per_interface; /* net.ipv6.conf.*.force_forwarding */
	enum feature_state firewalld;              /* firewalld running on the system bus */
};

/* Fill ret; never fails: what cannot be asked is FEATURE_UNKNOWN. */
void gateway_features(struct gw_features *ret);

/* --------------------------------------------------------------- watch */

/* `nsgate watch`: keep gateways whole while the world changes around them. */
enum watch_event_type {
	WATCH_LISTENING,   /* subscribed to the events: from now on nothing is missed */
	WATCH_REMOVED,     /* a dead gateway was removed: name and reason */
	WATCH_RESTORED,    /* nsgate's table was put back */
	WATCH_REPAIRED,    /* a gateway's missing elements were put back: name, reason */
	WATCH_FIREWALL,    /* another firewall's chain was opened again: name (its description) */
	WATCH_WARNING,     /* something could not be done, watch goes on: name (what), reason */
};

struct watch_event {
	enum watch_event_type type;
	const char *name;     /* WATCH_REMOVED, _REPAIRED: the gateway; WATCH_RESTORED: the table;
				 WATCH_FIREWALL: the chain */
	const char *reason;   /* WATCH_REMOVED: why it counted as dead; _REPAIRED: what was missing */
};

/* Listen for nftables and link events over netlink and, as they come:
 * restore nsgate's table when someone deletes or flushes it (or deletes
 * elements of it), and gc when a
 * gateway's link disappears (its namespace died). No polling. Returns on
 * SIGINT or SIGTERM (0), or on a failure. report(ev, userdata) hears of each
 * step as it happens (the event and its strings are valid during the call
 * only); watch itself never prints. */
int watch_run(void (*report)(const struct watch_event *ev, void *userdata), void *userdata,
	      struct nsg_err *e);

#endif
