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
	char pool_str[IP_PREFIX_STRLEN];
	int n, n_ns = 0, r;

	/* The arithmetic below, the pool and the gateway's routes are IPv4. */
	if (s->subnet_given && !ip_addr_is_v4(&s->subnet.addr))
		return nsg_fail(e, -EAFNOSUPPORT, "only IPv4 subnets", "--subnet");

	/* Given and small, or picked: the FIB checks it. Given and large: the
	 * full list of the host's prefixes. */
	n = s->subnet_given && s->subnet.plen < SUBNET_FIB_PLEN_MIN ? link_used_prefixes(host, AF_INET, &used) : 0;
	if (n < 0)
		return nsg_fail(e, n, NULL, "reading the host's addresses and routes");
	if (ns) {
		n_ns = link_used_prefixes(ns, AF_INET, &used_ns);
		if (n_ns < 0)
			return nsg_fail(e, n_ns, NULL, "reading the namespace's addresses and routes");
		if (append_prefixes(&used, &n, used_ns, n_ns) < 0)
			return -ENOMEM;
	}
	if (s->subnet_given)
		return check_given_subnet(host, &s->subnet, used, n, e);

	if (s->pool.addr.family == AF_INET)
		pool = s->pool;
	else
		ip_prefix_parse(GW_POOL_DEFAULT, AF_INET, &pool);
	state_hint_get(&hint);
	for (int round = 0; round < 64; round++) {
		struct ip_prefix in_way;
		bool clear = true;

		if (ipam_pick_from(&pool, GW_SUBNET_PLEN, used, n, &hint, &s->subnet) < 0)
			return nsg_fail(e, -EADDRINUSE, "no free /30 left (use --subnet)",
					"address pool %s", ip_prefix_str(&pool, pool_str));
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
	n = link_used_prefixes(host, AF_INET, &used);
	if (n < 0)
		return nsg_fail(e, n, NULL, "reading the host's addresses and routes");
	if (append_prefixes(&used, &n, used_ns, ns ? n_ns : 0) < 0)
		return -ENOMEM;
	if (ipam_pick(&pool, GW_SUBNET_PLEN, used, n, &s->subnet) < 0)
		return nsg_fail(e, -EADDRINUSE, "no free /30 left (use --subnet)",
				"address pool %s", ip_prefix_str(&pool, pool_str));
	return 0;
}

/* Whether one of the /64's first addresses (the prefix itself, the host's
 * ::1, the namespace's ::2) already has a route of its own: then someone
 * uses the /64 (or more). */
static int subnet6_in_way(struct nl_sock *host, const struct ip_prefix *net,
			  struct ip_prefix *in_way)
{
	for (uint32_t i = 0; i < 3; i++) {
		struct ip_addr one = spec_nth_addr6(net, i);
		int r = link_route_match(host, &one, in_way);

		if (r != 0)
			return r;
	}
	return 0;
}

/* The /64 beside a picked /30: the /30's index in the IPv4 pool is the
 * /64's subnet ID in the /48, so a gateway's two subnets go together and no
 * other gateway has either. -ERANGE for a subnet outside the pool. */
static int subnet6_beside(const struct ip_prefix *ula, const struct gw_spec *s,
			  struct ip_prefix *ret)
{
	struct ip_prefix pool;
	uint32_t index;

	ip_prefix_parse(GW_POOL_DEFAULT, AF_INET, &pool);
	if (s->subnet.plen != GW_SUBNET_PLEN || !ip_prefix_contains(&pool, &s->subnet.addr))
		return -ERANGE;
	index = (s->subnet.addr.v4 - pool.addr.v4) >> (32 - GW_SUBNET_PLEN);
	if (index > 0xffff)
		return -ERANGE;
	*ret = *ula;
	ret->plen = GW_SUBNET6_PLEN;
	ret->addr.v6[6] = index >> 8;
	ret->addr.v6[7] = index & 0xff;
	return 0;
}

/* Whether the gateway is dual-stack: --ipv6 on or --subnet6, or auto on a
 * host with an IPv6 default route (and a kernel with IPv6 at all). */
static int ipv6_wanted(struct nl_sock *host, const struct gw_spec *s, struct nsg_err *e)
{
	char ifs[1][IF_NAMESIZE], cur[16];
	int n;

	if (s->ipv6 == GW_IPV6_OFF)
		return s->subnet6_given ? nsg_fail(e, -EINVAL, "not with --ipv6 off", "--subnet6") : 0;
	if (sysctl_read("net/ipv6/conf/all/forwarding", cur, sizeof(cur)) < 0)
		return s->ipv6 == GW_IPV6_ON || s->subnet6_given
			       ? nsg_fail(e, -EAFNOSUPPORT, "the kernel has no IPv6 (ipv6.disable=1?)",
					  "--ipv6 on")
			       : 0;
	if (s->ipv6 == GW_IPV6_ON || s->subnet6_given)
		return 1;
	n = link_default_ifnames_of(host, AF_INET6, ifs, ARRAY_SIZE(ifs));
	if (n < 0)
		return nsg_fail(e, n, NULL, "reading the host's IPv6 default routes");
	return n > 0;
}

/* --subnet6 refused: in_way has (part of) it. */
static int subnet6_taken(const struct ip_prefix *given, const struct ip_prefix *in_way,
			 struct nsg_err *e)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];

	nsg_fail(e, -EADDRINUSE, NULL, "--subnet6 \"%s\"", ip_prefix_str(given, a));
	nsg_why(e, "overlaps %s, already in use", ip_prefix_str(in_way, b));
	return -EADDRINUSE;
}

/* The host's ULA /48 (ipam_ula_pool of its seed). */
static int ula_pool(struct ip_prefix *ret, struct nsg_err *e)
{
	uint8_t seed[16];
	int r = state_ula_seed(seed);

	if (r < 0)
		return nsg_fail(e, r, NULL, "the host's IPv6 ULA prefix (/etc/machine-id)");
	*ret = ipam_ula_pool(seed);
	return 0;
}

/* The first /64 of ula free of the host's IPv6 addresses and routes (the
 * full dump) and of extra[]. */
static int subnet6_first_free(struct nl_sock *host, const struct ip_prefix *ula,
			      const struct ip_prefix *extra, int n_extra, struct ip_prefix *ret,
			      struct nsg_err *e)
{
	_cleanup_free_ struct ip_prefix *used = NULL;
	char a[IP_PREFIX_STRLEN];
	int n = link_used_prefixes(host, AF_INET6, &used);

	if (n < 0)
		return nsg_fail(e, n, NULL, "reading the host's IPv6 addresses and routes");
	if (append_prefixes(&used, &n, extra, n_extra) < 0)
		return -ENOMEM;
	if (ipam_pick(ula, GW_SUBNET6_PLEN, used, n, ret) < 0)
		return nsg_fail(e, -EADDRINUSE, "no free /64 left (use --subnet6)",
				"IPv6 pool %s", ip_prefix_str(ula, a));
	return 0;
}

int subnet6_choose(struct nl_sock *host, struct nl_sock *ns, struct gw_spec *s, struct nsg_err *e)
{
	_cleanup_free_ struct ip_prefix *used_ns = NULL;
	struct ip_prefix ula, in_way;
	int n_ns = 0, r = ipv6_wanted(host, s, e);

	if (r <= 0) {
		memset(&s->subnet6, 0, sizeof(s->subnet6));
		return r;
	}
	if (ns) {
		n_ns = link_used_prefixes(ns, AF_INET6, &used_ns);
		if (n_ns < 0)
			return nsg_fail(e, n_ns, NULL, "reading the namespace's IPv6 addresses and routes");
	}
	if (s->subnet6_given) {
		long hit = ipam_find_overlap(&s->subnet6, used_ns, n_ns);

		if (hit >= 0)
			in_way = used_ns[hit];
		r = hit >= 0 ? 1 : subnet6_in_way(host, &s->subnet6, &in_way);
		if (r < 0)
			return nsg_fail(e, r, NULL, "route lookup");
		return r == 0 ? 0 : subnet6_taken(&s->subnet6, &in_way, e);
	}
	r = ula_pool(&ula, e);
	if (r < 0)
		return r;
	/* The /64 beside the /30 first: free unless someone else routes it. */
	if (subnet6_beside(&ula, s, &s->subnet6) == 0 && ipam_find_overlap(&s->subnet6, used_ns, n_ns) < 0) {
		r = subnet6_in_way(host, &s->subnet6, &in_way);
		if (r < 0)
			return nsg_fail(e, r, NULL, "route lookup");
		if (r == 0)
			return 0;
	}
	/* Otherwise the first free one, from the full list. */
	return subnet6_first_free(host, &ula, used_ns, n_ns, &s->subnet6, e);
}

/* A network's /64 is beside its /24 the same way, after the gateways':
 * subnet IDs from 0x4000 (the gateways' /30s use 0 to 0x3fff). */
#define NET6_ID_BASE 0x4000

static int net6_beside(const struct ip_prefix *ula, const struct ip_prefix *subnet4,
		       struct ip_prefix *ret)
{
	struct ip_prefix pool;
	uint32_t index;

	ip_prefix_parse(NET_POOL_DEFAULT, AF_INET, &pool);
	if (subnet4->plen != NET_SUBNET_PLEN || !ip_prefix_contains(&pool, &subnet4->addr))
		return -ERANGE;
	index = NET6_ID_BASE + ((subnet4->addr.v4 - pool.addr.v4) >> (32 - NET_SUBNET_PLEN));
	*ret = *ula;
	ret->plen = GW_SUBNET6_PLEN;
	ret->addr.v6[6] = index >> 8;
	ret->addr.v6[7] = index & 0xff;
	return 0;
}

/* Whether net is in the way: routed on the host (three FIB lookups) or
 * another network's (avoid, whose bridge may not be up yet). 1 with what
 * is in the way in *in_way. */
static int net6_in_way(struct nl_sock *host, const struct ip_prefix *net,
		       const struct ip_prefix *avoid, size_t n_avoid, struct ip_prefix *in_way)
{
	long hit = ipam_find_overlap(net, avoid, n_avoid);

	if (hit >= 0) {
		*in_way = avoid[hit];
		return 1;
	}
	return subnet6_in_way(host, net, in_way);
}

int subnet6_network(struct nl_sock *host, const struct net6_want *w, struct ip_prefix *ret,
		    struct nsg_err *e)
{
	_cleanup_free_ struct gw_spec *as = calloc(1, sizeof(*as));
	struct ip_prefix ula, in_way;
	int r;

	if (!as)
		return -ENOMEM;
	/* The gateways' rule: on, off, or auto (the host's IPv6 default route). */
	as->ipv6 = w->ipv6;
	as->subnet6_given = w->given != NULL;
	memset(ret, 0, sizeof(*ret));
	r = ipv6_wanted(host, as, e);
	if (r <= 0)
		return r;
	if (w->given) {
		r = net6_in_way(host, w->given, w->avoid, w->n_avoid, &in_way);
		if (r < 0)
			return nsg_fail(e, r, NULL, "route lookup");
		if (r > 0)
			return subnet6_taken(w->given, &in_way, e);
		*ret = *w->given;
		return 0;
	}
	r = ula_pool(&ula, e);
	if (r < 0)
		return r;
	if (net6_beside(&ula, w->subnet4, ret) == 0) {
		r = net6_in_way(host, ret, w->avoid, w->n_avoid, &in_way);
		if (r < 0)
			return nsg_fail(e, r, NULL, "route lookup");
		if (r == 0)
			return 0;
	}
	return subnet6_first_free(host, &ula, w->avoid, (int)w->n_avoid, ret, e);
}
