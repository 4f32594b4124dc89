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

/* IPv6: unique local (fc00::/7, RFC 4193) or global unicast (2000::/3);
 * everything else is link-local, multicast, loopback, mapped or reserved. */
static int subnet6_usable(const struct ip_prefix *net, const char **ret_why)
{
	uint8_t top = net->addr.v6[0];

	if (net->plen >= 7 && (top & 0xfe) == 0xfc)
		return 0;
	if (net->plen >= 3 && (top & 0xe0) == 0x20)
		return 0;
	if (ret_why)
		*ret_why = "not in fc00::/7 (unique local) or 2000::/3 (global unicast), "
			   "not usable for a gateway";
	return -EINVAL;
}

int ipam_subnet_usable(const struct ip_prefix *net, const char **ret_why)
{
	if (net->addr.family == AF_INET6)
		return subnet6_usable(net, ret_why);
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
	uint64_t first, last;  /* inclusive; clipped to the pool, which never ends at 2^64 - 1 */
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

/* The arithmetic is on a prefix's first bits: all 32 of an IPv4 address, the
 * upper 64 (the routing prefix and subnet ID) of an IPv6 one, whose /64s are
 * what is handed out. A longer IPv6 prefix counts as its /64. */
static unsigned pick_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 64 : 0;
}

static uint64_t pick_value(const struct ip_addr *a)
{
	uint64_t v = 0;

	if (a->family == AF_INET)
		return a->v4;
	for (int i = 0; i < 8; i++)
		v = v << 8 | a->v6[i];
	return v;
}

static struct span prefix_span(const struct ip_prefix *p, unsigned bits)
{
	unsigned plen = p->plen < bits ? p->plen : bits;
	uint64_t all = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	/* A shift by the full width is undefined: the two ends by hand. */
	uint64_t host = plen == 0 ? all : plen == bits ? 0 : all >> plen;
	uint64_t f = pick_value(&p->addr) & ~host & all;

	return (struct span){ f, f | host };
}

static struct ip_prefix pick_prefix(int family, uint64_t v, uint8_t plen)
{
	struct ip_prefix p = { .addr.family = family, .plen = plen };

	if (family == AF_INET)
		return ip_prefix_v4((uint32_t)v, plen);
	for (int i = 7; i >= 0; i--, v >>= 8)
		p.addr.v6[i] = v & 0xff;
	return p;
}

int ipam_pick_from(const struct ip_prefix *pool, uint8_t plen, const struct ip_prefix *used,
		   size_t n_used, const struct ip_addr *from, struct ip_prefix *ret)
{
	int family = pool->addr.family;
	unsigned bits = pick_bits(family);
	uint64_t size, cand, start = 0;
	struct span whole, *spans;
	size_t n = 0;
	int r;

	if (!bits)
		return -EAFNOSUPPORT;
	/* An IPv6 pool is cut into /64s at most, and (no usable one is
	 * shorter than /3) never reaches the end of the 64-bit arithmetic. */
	if (plen < pool->plen || plen > bits || (family == AF_INET6 && pool->plen < 3))
		return -EINVAL;
	whole = prefix_span(pool, bits);
	size = UINT64_C(1) << (bits - plen);
	if (from && from->family == family)
		start = pick_value(from);
	/* Sort the used ranges once and walk them: with a thousand gateways the
	 * naive "try each block against every prefix" costs a million compares. */
	spans = calloc(n_used ? n_used : 1, sizeof(*spans));
	if (!spans)
		return -ENOMEM;
	for (size_t i = 0; i < n_used; i++) {
		struct span u;

		if (used[i].addr.family != family || used[i].plen > ip_family_bits(family))
			continue;
		u = prefix_span(&used[i], bits);
		if (u.last < whole.first || u.first > whole.last)
			continue;
		/* Clipped to the pool, so that first_free's arithmetic never
		 * runs past its end. */
		spans[n++] = (struct span){ u.first < whole.first ? whole.first : u.first,
					    u.last > whole.last ? whole.last : u.last };
	}
	qsort(spans, n, sizeof(*spans), span_cmp);
	/* From the hint to the end, then from the start: holes are reused
	 * once the pool has been gone through. */
	r = -ENOSPC;
	if (start > whole.first && start <= whole.last)
		r = first_free(spans, n, start, whole.last, size, &cand);
	if (r < 0)
		r = first_free(spans, n, whole.first, whole.last, size, &cand);
	free(spans);
	if (r < 0)
		return r;
	*ret = pick_prefix(family, cand, plen);
	return 0;
}

int ipam_pick(const struct ip_prefix *pool, uint8_t plen, const struct ip_prefix *used,
	      size_t n_used, struct ip_prefix *ret)
{
	return ipam_pick_from(pool, plen, used, n_used, NULL, ret);
}

struct ip_prefix ipam_ula_pool(const uint8_t seed[16])
{
	/* FNV-1a over a fixed label and the seed: the seed (a machine id) is
	 * random already; the hash only spreads it over the 40 bits and keeps
	 * nsgate's ID from being the machine id's first bytes. */
	static const char label[] = "nsgate ULA v1";
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	struct ip_prefix p = { .addr.family = AF_INET6, .plen = 48 };

	for (size_t i = 0; i < sizeof(label) - 1; i++)
		h = (h ^ (uint8_t)label[i]) * UINT64_C(0x100000001b3);
	for (size_t i = 0; i < 16; i++)
		h = (h ^ seed[i]) * UINT64_C(0x100000001b3);
	p.addr.v6[0] = 0xfd;
	for (int i = 5; i >= 1; i--, h >>= 8)
		p.addr.v6[i] = h & 0xff;
	return p;
}
