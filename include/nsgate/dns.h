/* SPDX-License-Identifier: MIT */
/* The namespace's /etc/netns/NAME/resolv.conf (what `ip netns exec` binds). */
#ifndef NSGATE_DNS_H
#define NSGATE_DNS_H

#include <stdbool.h>

#include "nsgate/spec.h"

#define DNS_HOST_RESOLV "/etc/resolv.conf"
/* systemd-resolved's list of the upstream servers behind 127.0.0.53. */
#define DNS_UPSTREAM_RESOLV "/run/systemd/resolve/resolv.conf"

/* Pure: the file for spec from the host's resolv.conf text and the
 * upstream one (either may be NULL). Loopback nameservers (127/8, ::1)
 * cannot be reached from the namespace, so they are replaced by the
 * upstream servers; link-local ones (fe80::/10) are left out. IPv6 servers
 * (the host's, or given with --dns) only for a dual-stack spec
 * (spec_has_ipv6); an IPv4-only one gets IPv4 servers only.
 * *ret is malloc'ed; NULL (and 0 returned) when there is nothing to write:
 * --dns none, or no usable server (then *ret_warn says why). */
int dns_render(const struct gw_spec *spec, const char *host, const char *upstream, char **ret,
	       const char **ret_warn);
/* Read the host's files and render. */
int dns_render_host(const struct gw_spec *spec, char **ret, const char **ret_warn);
/*
 * /etc/netns/NAME is used only when it is a real directory: a link there
 * (or anything else) is refused with -ENOTDIR and left alone, so nothing
 * is written or removed where it points; so is a link at /etc/netns. A
 * directory dns_write makes gets 0755, resolv.conf 0644 (whatever the
 * umask: non-root programs in the namespace read it).
 */
int dns_write(const char *name, const char *content, struct nsg_err *e);
/* Remove the file (and a leftover tmp of it), and the directory when that
 * leaves it empty. 0 when there was none. */
int dns_remove(const char *name);
/* The nameservers the namespace's resolv.conf names (what it really uses),
 * of both families, in the file's order; loopback and link-local ones
 * left out (they never leave the namespace). Returns their count, -ENOENT
 * without a file. */
int dns_read_servers(const char *name, struct ip_addr *ret, unsigned max);
/* 0 if the file exists, -ENOENT if not, -ENOTDIR when /etc/netns/NAME is
 * not a real directory. */
int dns_exists(const char *name);
/* Remove what a kill left in /etc/netns/NAME (resolv.conf.nsgate-tmp), and
 * the directory when that leaves it empty. Run under the lock. Returns how
 * many files were removed, or -errno. */
int dns_tmp_sweep(const char *name);
/* dns_tmp_sweep of every directory in /etc/netns: how many held a leftover. */
int dns_tmp_sweep_all(void);

/* The same relative to an open /etc/netns (etc): what the above call, and
 * what unit tests call with a directory of their own; dns_etc_open opens
 * it for reading (no directory is made), for callers that read many. */
int dns_etc_open(int *ret_fd);
int dns_write_at(int etc, const char *name, const char *content, struct nsg_err *e);
int dns_remove_at(int etc, const char *name);
int dns_read_servers_at(int etc, const char *name, struct ip_addr *ret, unsigned max);
int dns_exists_at(int etc, const char *name);
int dns_tmp_sweep_at(int etc, const char *name);

/* A network member's /etc/netns/NAME/hosts: a link to its network's hosts
 * file (state_net_hosts_path), which ip netns exec and nsgate exec bind
 * over /etc/hosts; removed with its member, and the directory then too
 * when nothing else is left in it. */
#define HOSTS_NAME "hosts"
int dns_hosts_link(const char *name, const char *target, struct nsg_err *e);
int dns_hosts_remove(const char *name);
/* A member of several networks: /etc/netns/NAME/hosts a file of its own,
 * rewritten in place (file_rewrite_at: a running process sees changes). */
int dns_hosts_write(const char *name, const char *text, struct nsg_err *e);

#endif
