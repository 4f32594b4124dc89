/* SPDX-License-Identifier: MIT */
/* The subnet of a new gateway: a given one checked, or a free one picked. */
#include "nsgate/ipam.h"

#include "core.h"

/* A given subnet is checked against every address and route of an attached
 * namespace (if any) and of the host: routes by FIB lookups for a small
 * subnet (see subnet_choose), the full list otherwise. */
#define SUBNET_FIB_PLEN_MIN 28  /* at most 16 lookups */

static int check_given_subnet(struct nl_sock *host, const struct ip_prefix *s,
			      const struct ip_prefix *used, int n, struct nsg_err *e)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	struct ip_prefix in_way;
	long hit = ipam_find_overlap(s, used, n);
	uint64_t end;
	int r;

	if (hit >= 0) {
		in_way = used[hit];
		goto overlap;
	}
	if (s->plen < SUBNET_FIB_PLEN_MIN)
		return 0;  /* the caller's list had the host's prefixes too */
	/* Every prefix that overlaps s either holds s or lies inside it, so it
	 * holds one of s's addresses, and the FIB finds it. */
	end = (uint64_t)s->addr.v4 + (1ULL << (32 - s->plen));
	for (uint64_t addr = s->addr.v4; addr < end; addr++) {
		struct ip_addr one = ip_addr_v4((uint32_t)addr);

		r = link_route_match(host, &one, &in_way);
		if (r < 0)
			return nsg_fail(e, r, NULL, "route lookup");
		if (r > 0)
			goto overlap;
	}
	return 0;
overlap:
	nsg_fail(e, -EADDRINUSE, NULL, "--subnet \"%s\"", ip_prefix_str(s, a));
	nsg_why(e, "overlaps %s, already in use", ip_prefix_str(&in_way, b));
	return -EADDRINUSE;
}

/* Append src[0..n) to *dst (of *n_dst entries). */
static int append_prefixes(struct ip_prefix **dst, int *n_dst, const struct ip_prefix *src, int n)
{
	struct ip_prefix *all;

	if (n <= 0)
		return 0;
	all = realloc(*dst, (*n_dst + n) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all + *n_dst, src, n * sizeof(*all));
	*dst = all;
	*n_dst += n;
	return 0;
}

/*
 * Pick a free /30. Dumping every address and route costs O(gateways) per up
 * (each has an address, a prefix route and local entries), which made the
 * thousandth up 1.5-2x as slow as the first. Instead a hint where the last
 * pick ended gives a candidate, and the FIB says, for each of its four
 * addresses, which route it would use: a match other than the default route
 * (an address's local route, a prefix route, any route the policy uses) is
 * in the way; it joins the used list and the next candidate is tried. Like
 * docker's overlap check, this sees routes, not addresses on links that are
 * down (they have no route, so nothing of theirs is reachable either).
 * Bounded; beyond the bound, the full dump decides.
 */
int subnet_choose(struct nl_sock *host, struct nl_sock *ns, struct gw_spec *s, struct nsg_err *e)
{
	_cleanup_free_ struct ip_prefix *used = NULL, *used_ns = NULL;
	struct ip_prefix pool;
	struct ip_addr hint = { 0 };
	int n, n_ns = 0, r;

	/* The arithmetic below, the pool and the gateway's routes are IPv4. */
	if (s->subnet_given && !ip_addr_is_v4(&s->subnet.addr))
		return nsg_fail(e, -EAFNOSUPPORT, "only IPv4 subnets", "--subnet");

	/* Given and small, or picked: the FIB checks it. Given and large: the
	 * full list of the host's prefixes. */
	n = s->subnet_given && s->subnet.plen < SUBNET_FIB_PLEN_MIN ? link_used_prefixes(host, &used) : 0;
	if (n < 0)
		return nsg_fail(e, n, NULL, "reading the host's addresses and routes");
	if (ns) {
		n_ns = link_used_prefixes(ns, &used_ns);
		if (n_ns < 0)
			return nsg_fail(e, n_ns, NULL, "reading the namespace's addresses and routes");
		if (append_prefixes(&used, &n, used_ns, n_ns) < 0)
			return -ENOMEM;
	}
	if (s->subnet_given)
		return check_given_subnet(host, &s->subnet, used, n, e);

	ip_prefix_parse(GW_POOL_DEFAULT, AF_INET, &pool);
	state_hint_get(&hint);
	for (int round = 0; round < 64; round++) {
		struct ip_prefix in_way;
		bool clear = true;

		if (ipam_pick_from(&pool, GW_SUBNET_PLEN, used, n, &hint, &s->subnet) < 0)
			return nsg_fail(e, -EADDRINUSE, "no free /30 left (use --subnet)",
					"address pool %s", GW_POOL_DEFAULT);
		for (uint32_t a = s->subnet.addr.v4; clear && a < s->subnet.addr.v4 + 4; a++) {
			struct ip_addr one = ip_addr_v4(a);

			r = link_route_match(host, &one, &in_way);
			if (r < 0)
				return nsg_fail(e, r, NULL, "route lookup");
			if (r > 0) {
				clear = false;
				if (append_prefixes(&used, &n, &in_way, 1) < 0)
					return -ENOMEM;
			}
		}
		if (clear) {
			struct ip_addr next = ip_addr_v4(s->subnet.addr.v4 + 4);

			state_hint_set(&next);
			return 0;
		}
	}
	/* Many routes in the pool: let the full list decide. */
	free(used);
	used = NULL;
	n = link_used_prefixes(host, &used);
	if (n < 0)
		return nsg_fail(e, n, NULL, "reading the host's addresses and routes");
	if (append_prefixes(&used, &n, used_ns, ns ? n_ns : 0) < 0)
		return -ENOMEM;
	if (ipam_pick(&pool, GW_SUBNET_PLEN, used, n, &s->subnet) < 0)
		return nsg_fail(e, -EADDRINUSE, "no free /30 left (use --subnet)",
				"address pool %s", GW_POOL_DEFAULT);
	return 0;
}
