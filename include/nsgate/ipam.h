/* SPDX-License-Identifier: MIT */
/* Subnet allocation: pure, given what the host already uses. */
#ifndef NSGATE_IPAM_H
#define NSGATE_IPAM_H

#include <stddef.h>

#include "nsgate/ipaddr.h"

/* The first /plen inside pool that overlaps none of used[0..n_used) (entries
 * of another family than the pool's never do). IPv4, or IPv6 with plen at
 * most 64 (a gateway's /64s; a longer used prefix counts as its /64). 0, or
 * -ENOSPC when the pool is exhausted, -EINVAL when plen is shorter than the
 * pool's (or longer than 64 for IPv6), -EAFNOSUPPORT for another family.
 * Cost O(n_used log n_used), whatever the pool size. */
int ipam_pick(const struct ip_prefix *pool, uint8_t plen, const struct ip_prefix *used,
	      size_t n_used, struct ip_prefix *ret);
/* The same, looking first at and after from (a hint; NULL or AF_UNSPEC for
 * none), then from the start. */
int ipam_pick_from(const struct ip_prefix *pool, uint8_t plen, const struct ip_prefix *used,
		   size_t n_used, const struct ip_addr *from, struct ip_prefix *ret);
/* Whether net may be a gateway's subnet (or the pool it is picked from):
 * 0, or -EINVAL with *ret_why (static text; ret_why may be NULL) when it
 * overlaps 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4, or for
 * IPv6 when it is not inside fc00::/7 or 2000::/3; -EAFNOSUPPORT for
 * another family. */
int ipam_subnet_usable(const struct ip_prefix *net, const char **ret_why);
/* The host's unique local /48 (RFC 4193: fd00::/8 and a 40-bit global ID),
 * derived from seed (the machine id): the same on every run of one host,
 * different between hosts. Pure. */
struct ip_prefix ipam_ula_pool(const uint8_t seed[16]);
/* Index of the first entry of used[] that overlaps net, or -1. */
long ipam_find_overlap(const struct ip_prefix *net, const struct ip_prefix *used, size_t n_used);

#endif
