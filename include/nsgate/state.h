/* SPDX-License-Identifier: MIT */
/*
 * What the kernel cannot tell us about a gateway, kept in
 * /run/nsgate/NAME.state: the request as given, whether nsgate created the
 * namespace, and which namespace it was. Written atomically (tmp + rename),
 * parsed strictly. The lock that serialises nsgate runs is lock.h's.
 */
#ifndef NSGATE_STATE_H
#define NSGATE_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nsgate/portmap.h"
#include "nsgate/spec.h"

#define STATE_DIR "/run/nsgate"

/* Make /run/nsgate (0755) or check the one there: a link or anything but
 * a directory is refused, with an error saying which. */
int state_dir_ready(struct nsg_err *e);
int state_save(const struct gw_state *st, struct nsg_err *e);
/* -ENOENT when there is none, -EBADMSG when it is damaged. */
int state_load(const char *name, struct gw_state *ret);
int state_remove(const char *name);
/* Names of all state files, sorted; *ret malloc'ed. Returns the count. */
int state_names(char (**ret)[GW_NAME_MAX + 1]);

/* Whether any gateway but name has a state file (stops at the first). */
bool state_other_exists(const char *name);
/* The same, counting NAT gateways only: a LAN gateway (spec_is_lan) uses
 * nothing shared (table, forwarding, other firewalls). A file that does
 * not load counts. */
bool state_other_nat_exists(const char *name);

/* Where the subnet allocator starts looking next (a hint, nothing more):
 * an IPv4 address, as its text on one line. */
int state_hint_get(struct ip_addr *ret);
int state_hint_set(const struct ip_addr *addr);
int state_hint_clear(void);

/* Pure halves, for tests. */
int state_format(const struct gw_state *st, char *buf, size_t len);
int state_parse(const char *text, struct gw_state *ret);

/* The published ports of a gateway, as requested: /run/nsgate/NAME.ports,
 * one SPEC a line, rewritten atomically after each change. Restores the
 * maps when someone flushed the ruleset. Missing file: no ports. */
int state_ports_save(const char *name, const struct portmap *p, size_t n);
/* *ret malloc'ed (NULL when none); -EBADMSG when a line does not parse. */
int state_ports_load(const char *name, struct portmap **ret, size_t *n_ret);
int state_ports_remove(const char *name);

/* Gateways of `nsgate run` carry /run/nsgate/runs/NAME.run: the pid of the nsgate
 * process that owns them and its start time (a pid alone can be reused).
 * When that process is gone, gc removes the gateway. */
int state_run_mark(const char *name, pid_t pid);
/* 1 while the owning process lives, 0 when it is gone, -ENOENT without a mark. */
int state_run_alive(const char *name);
int state_run_clear(const char *name);
/* Names with a run mark; *ret malloc'ed. Returns the count. */
int state_run_names(char (**ret)[GW_NAME_MAX + 1]);

/* The forwarding sysctls nsgate changed, one file per interface and
 * family in /run/nsgate/forwarding, written before the change (a crash
 * leaves it for gc) and kept until the last gateway goes:
 *   AF_INET   IFNAME.saved: the value net.ipv4.conf.IFNAME.forwarding had;
 *   AF_INET6  IFNAME.saved6: the one sysctl changed for IFNAME (the
 *             uplinks' force_forwarding; without it accept_ra, and "all"
 *             for the global switch) as a line "KEY OLD NEW", KEY relative
 *             to /proc/sys, the value before and the one nsgate wrote.
 * -EINVAL for a name no interface can have. */
int state_forward_save(int family, const char *ifname, const char *text);
/* -ENOENT when nsgate did not change ifname's. */
int state_forward_get(int family, const char *ifname, char *buf, size_t len);
int state_forward_forget(int family, const char *ifname);
/* The interfaces with a saved value, sorted; *ret malloc'ed. Returns the count. */
int state_forward_names(int family, char (**ret)[GW_NAME_MAX + 1]);
/* The seed of the host's ULA /48 (ipam_ula_pool): /etc/machine-id, or
 * without one a random seed kept in /run/nsgate/ula-seed. */
int state_ula_seed(uint8_t seed[16]);
/* An older nsgate saved the global ip_forward in /run/nsgate/ip_forward.saved:
 * remove it. 1 if there was one, 0 if not, -errno. */
int state_forward_legacy_drop(void);

/* The interface nsgate bound to a firewalld zone (runtime), in
 * /run/nsgate/firewalld: written before the D-Bus call, so that a crash
 * leaves it for gc, and removed after the binding is undone. Only what this
 * file names is ever unbound: a binding an admin made stays. */
int state_firewalld_save(const char *zone, const char *iface);
/* -ENOENT when nsgate bound nothing. */
int state_firewalld_get(char *zone, size_t zone_len, char *iface, size_t iface_len);
int state_firewalld_forget(void);

/* Remove the "*.nsgate-tmp" files a kill left in /run/nsgate, runs/ and
 * forwarding/ (regular files and links so named; no link followed). Run
 * under the lock. Returns how many, or the first -errno. */
int state_tmp_sweep(void);

/* Networks (network.h): /run/nsgate/networks/NET.net, rewritten
 * atomically under the lock as members come and go. load: -ENOENT, or
 * -EBADMSG when damaged; net_state_clear what it filled. */
struct net_state;
int state_net_save(const struct net_state *n, struct nsg_err *e);
int state_net_load(const char *name, struct net_state *ret);
int state_net_remove(const char *name);
/* Names of all networks, sorted; *ret malloc'ed. Returns the count. */
int state_net_names(char (**ret)[GW_NAME_MAX + 1]);
/* A network's hosts text, /run/nsgate/networks/NET.hosts (its members'
 * /etc/netns/NAME/hosts link there): rewritten in place, so that what
 * namespaces bound of it shows every change. Removed by state_net_remove. */
#define NET_HOSTS_DIR STATE_DIR "/networks"
#define NET_HOSTS_SUFFIX ".hosts"
void state_net_hosts_path(const char *name, char path[PATH_MAX]);
int state_net_hosts_write(const char *name, const char *text, struct nsg_err *e);

#endif
