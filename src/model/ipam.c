/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/common.h"
#include "nsgate/ipam.h"

/* The IPv4 ranges a gateway's subnet must stay out of: the kernel refuses a
 * route via 0/8 or 224/4, 127/8 is the host's own loopback, and 240/4 is
 * reserved (most stacks drop it; 255.255.255.255 is the broadcast address). */
static const struct {
	uint32_t addr;
	uint8_t plen;
	const char *why;
} unusable[] = {
	{ 0x00000000, 8, "in 0.0.0.0/8 (\"this network\"), not usable for a gateway" },
	{ 0x7f000000, 8, "in 127.0.0.0/8 (loopback), not usable for a gateway" },
	{ 0xe0000000, 4, "in 224.0.0.0/4 (multicast), not usable for a gateway" },
	{ 0xf0000000, 4, "in 240.0.0.0/4 (reserved, with the broadcast address 255.255.255.255), "
			 "not usable for a gateway" },
};

int ipam_subnet_usable(const struct ip_prefix *net, const char **ret_why)
{
	if (!ip_addr_is_v4(&net->addr))
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < ARRAY_SIZE(unusable); i++) {
		struct ip_prefix r = ip_prefix_v4(unusable[i].addr, unusable[i].plen);

		if (ip_prefix_overlap(net, &r)) {
			if (ret_why)
				*ret_why = unusable[i].why;
			return -EINVAL;
		}
	}
	return 0;
}

long ipam_find_overlap(const struct ip_prefix *net, const struct ip_prefix *used, size_t n_used)
{
	for (size_t i = 0; i < n_used; i++)
		if (ip_prefix_overlap(net, &used[i]))
			return (long)i;
	return -1;
}

struct span {
	uint64_t first, last;  /* 64-bit so that last + 1 never wraps */
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* The first aligned block of size at or after from that no span overlaps. */
static int first_free(const struct span *spans, size_t n, uint64_t from, uint64_t last, uint64_t size,
		      uint64_t *ret)
{
	uint64_t cand = (from + size - 1) & ~(size - 1);

	for (size_t i = 0; i < n; i++) {
		if (spans[i].last < cand)
			continue;
		if (spans[i].first >= cand + size)
			break;  /* cand fits before this span */
		/* Overlap: move to the first aligned block after this span. */
		cand = (spans[i].last + size) & ~(size - 1);
	}
	if (cand + size - 1 > last)
		return -ENOSPC;
	*ret = cand;
	return 0;
}

int ipam_pick_from(const struct ip_prefix *pool, uint8_t plen, const struct ip_prefix *used,
		   size_t n_used, const struct ip_addr *from, struct ip_prefix *ret)
{
	uint64_t pool_first, pool_last, size, cand, start = 0;
	struct span *spans;
	size_t n = 0;
	int r;

	if (!ip_addr_is_v4(&pool->addr))
		return -EAFNOSUPPORT;
	if (pool->plen > 32 || plen < pool->plen || plen > 32)
		return -EINVAL;
	pool_first = pool->addr.v4 & ip_v4_mask(pool->plen);
	pool_last = pool_first + (UINT64_C(1) << (32 - pool->plen)) - 1;
	size = UINT64_C(1) << (32 - plen);
	if (from && ip_addr_is_v4(from))
		start = from->v4;
	/* Sort the used ranges once and walk them: with a thousand gateways the
	 * naive "try each /30 against every prefix" costs a million compares. */
	spans = calloc(n_used ? n_used : 1, sizeof(*spans));
	if (!spans)
		return -ENOMEM;
	for (size_t i = 0; i < n_used; i++) {
		uint64_t f, l;

		if (!ip_addr_is_v4(&used[i].addr) || used[i].plen > 32)
			continue;
		f = used[i].addr.v4 & ip_v4_mask(used[i].plen);
		l = f + (UINT64_C(1) << (32 - used[i].plen)) - 1;
		if (l < pool_first || f > pool_last)
			continue;
		spans[n++] = (struct span){ f, l };
	}
	qsort(spans, n, sizeof(*spans), span_cmp);
	/* From the hint to the end, then from the start: holes are reused
	 * once the pool has been gone through. */
	r = -ENOSPC;
	if (start > pool_first && start <= pool_last)
		r = first_free(spans, n, start, pool_last, size, &cand);
	if (r < 0)
		r = first_free(spans, n, pool_first, pool_last, size, &cand);
	free(spans);
	if (r < 0)
		return r;
	*ret = ip_prefix_v4((uint32_t)cand, plen);
	return 0;
}

int ipam_pick(const struct ip_prefix *pool, uint8_t plen, const struct ip_prefix *used,
	      size_t n_used, struct ip_prefix *ret)
{
	return ipam_pick_from(pool, plen, used, n_used, NULL, ret);
}
