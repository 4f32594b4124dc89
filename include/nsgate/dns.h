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
 * upstream one (either may be NULL). Loopback nameservers cannot be reached
 * from the namespace, so they are replaced by the upstream servers.
 * *ret is malloc'ed; NULL (and 0 returned) when there is nothing to write:
 * --dns none, or no usable server (then *ret_warn says why). */
int dns_render(const struct gw_spec *spec, const char *host, const char *upstream, char **ret,
	       const char **ret_warn);
/* Read the host's files and render. */
int dns_render_host(const struct gw_spec *spec, char **ret, const char **ret_warn);
int dns_write(const char *name, const char *content, struct nsg_err *e);
/* Remove the file, and the directory when that leaves it empty. */
int dns_remove(const char *name);
/* The IPv4 nameservers the namespace's resolv.conf names (what it really uses).
 * Returns their count, -ENOENT without a file. */
int dns_read_servers(const char *name, struct ip_addr *ret, unsigned max);
/* 0 if the file exists, -ENOENT if not. */
int dns_exists(const char *name);

#endif
