/* SPDX-License-Identifier: MIT */
/* Subnet allocation: pure, given what the host already uses. */
#ifndef NSGATE_IPAM_H
#define NSGATE_IPAM_H

#include <stddef.h>

#include "nsgate/ip4.h"

/* The first /plen inside pool that overlaps none of used[0..n_used).
 * 0, or -ENOSPC when the pool is exhausted, -EINVAL when plen is shorter than
 * the pool's. Cost O(n_used log n_used), whatever the pool size. */
int ipam_pick(const struct ip4_net *pool, uint8_t plen, const struct ip4_net *used,
	      size_t n_used, struct ip4_net *ret);
/* The same, looking first at and after from (a hint), then from the start. */
int ipam_pick_from(const struct ip4_net *pool, uint8_t plen, const struct ip4_net *used,
		   size_t n_used, uint32_t from, struct ip4_net *ret);
/* Index of the first entry of used[] that overlaps net, or -1. */
long ipam_find_overlap(const struct ip4_net *net, const struct ip4_net *used, size_t n_used);

#endif
