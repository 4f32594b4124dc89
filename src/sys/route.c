/* SPDX-License-Identifier: MIT */
/*
 * Addresses and routes over rtnetlink, through libnl-route-3: the other
 * half of the link module (link.c has the sockets and the transaction
 * helper both halves use).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "nsgate/common.h"
#include "nsgate/ip4.h"
#include "nsgate/link.h"
#include "link-internal.h"

DEFINE_CLEANUP(struct nl_addr, nl_addr_put)
DEFINE_CLEANUP(struct rtnl_addr, rtnl_addr_put)
DEFINE_CLEANUP(struct rtnl_route, rtnl_route_put)
DEFINE_CLEANUP(struct rtnl_nexthop, rtnl_route_nh_free)

static struct nl_addr *ip4_nl_addr(uint32_t addr, uint8_t plen)
{
	struct in_addr a = ip4_in_addr(addr);
	struct nl_addr *na;

	na = nl_addr_build(AF_INET, &a, sizeof(a));
	if (na)
		nl_addr_set_prefixlen(na, plen);
	return na;
}

int link_addr_add(struct nl_sock *sk, const char *name, uint32_t addr, uint8_t plen,
		  struct nsg_err *e)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL, *brd = NULL;
	struct ip4_net net = { .addr = addr, .plen = plen };
	char buf[IP4_NET_STRLEN], why[256] = "";
	struct nl_msg *msg = NULL;
	int r, ifindex;

	ip4_net_str(&net, buf);
	if (plen > 32)
		return nsg_fail(e, -EINVAL, NULL, "address %s on \"%s\"", buf, name ? name : "");
	/* RTM_NEWADDR only takes an ifindex, never a name. */
	ifindex = link_index(sk, name);
	if (ifindex < 0)
		return nsg_fail(e, ifindex, NULL, "link \"%s\"", name ? name : "");

	ra = rtnl_addr_alloc();
	local = ip4_nl_addr(addr, plen);
	if (!ra || !local) {
		r = -ENOMEM;
		goto fail;
	}
	rtnl_addr_set_ifindex(ra, ifindex);
	r = rtnl_addr_set_local(ra, local);
	if (r < 0) {
		r = link_nle_errno(r);
		goto fail;
	}
	rtnl_addr_set_prefixlen(ra, plen);
	/* What "ip addr add ... brd +" does; /31 and /32 have no broadcast. */
	if (plen <= 30) {
		brd = ip4_nl_addr(addr | ~ip4_mask(plen), 32);
		if (!brd) {
			r = -ENOMEM;
			goto fail;
		}
		r = rtnl_addr_set_broadcast(ra, brd);
		if (r < 0) {
			r = link_nle_errno(r);
			goto fail;
		}
	}
	r = rtnl_addr_build_add_request(ra, NLM_F_CREATE | NLM_F_EXCL, &msg);
	r = link_txn_built(sk, r, msg, why, sizeof(why));
	if (r < 0)
		goto fail;
	return 0;

fail:
	return nsg_fail(e, r, link_why_or_null(why), "address %s on \"%s\"", buf, name);
}

int link_route_default_add(struct nl_sock *sk, const char *name, uint32_t gw,
			   struct nsg_err *e)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *route = NULL;
	_cleanup_(rtnl_route_nh_freep) struct rtnl_nexthop *nh = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *dst = NULL, *via = NULL;
	char buf[IP4_STRLEN], why[256] = "";
	struct nl_msg *msg = NULL;
	int r, ifindex;

	ip4_addr_str(gw, buf);
	ifindex = link_index(sk, name);
	if (ifindex < 0)
		return nsg_fail(e, ifindex, NULL, "link \"%s\"", name ? name : "");

	route = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	dst = ip4_nl_addr(0, 0);
	via = ip4_nl_addr(gw, 32);
	if (!route || !nh || !dst || !via) {
		r = -ENOMEM;
		goto fail;
	}
	r = rtnl_route_set_family(route, AF_INET);
	if (r >= 0)
		r = rtnl_route_set_dst(route, dst);
	if (r >= 0)
		r = rtnl_route_set_type(route, RTN_UNICAST);
	if (r < 0) {
		r = link_nle_errno(r);
		goto fail;
	}
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, via);
	/* The route owns the nexthop from here on. */
	rtnl_route_add_nexthop(route, TAKE_PTR(nh));

	r = rtnl_route_build_add_request(route, NLM_F_CREATE | NLM_F_EXCL, &msg);
	r = link_txn_built(sk, r, msg, why, sizeof(why));
	if (r < 0)
		goto fail;
	return 0;

fail:
	return nsg_fail(e, r, link_why_or_null(why), "default route via %s", buf);
}

static int dump_run_raw(struct nl_sock *sk, int type, int family,
			void (*on_msg)(struct nlmsghdr *, void *), void *userdata)
{
	struct link_txn t = { .on_msg = on_msg, .userdata = userdata };

	return link_dump_txn(sk, type, family, 0, &t);
}

/* Prefixes collected from address and route dumps. */
struct prefix_set {
	struct ip4_net *v;
	size_t n, cap;
	int error;
};

static void prefix_set_add(struct prefix_set *set, uint32_t addr, uint8_t plen)
{
	if (set->error)
		return;
	if (GROW(set->v, set->cap, set->n + 1) < 0) {
		set->error = -ENOMEM;
		return;
	}
	set->v[set->n++] = (struct ip4_net){ .addr = addr & ip4_mask(plen), .plen = plen };
}

static void on_prefix_addr_raw(struct nlmsghdr *nlh, void *userdata)
{
	const struct ifaddrmsg *ifa = nlmsg_data(nlh);
	struct nlattr *a;
	uint32_t be;

	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET || ifa->ifa_prefixlen > 32)
		return;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer on point-to-point. */
	a = nlmsg_find_attr(nlh, sizeof(*ifa), IFA_LOCAL);
	if (!a)
		a = nlmsg_find_attr(nlh, sizeof(*ifa), IFA_ADDRESS);
	if (!a || nla_len(a) != sizeof(be))
		return;
	memcpy(&be, nla_data(a), sizeof(be));
	prefix_set_add(userdata, ntohl(be) & ip4_mask(ifa->ifa_prefixlen), ifa->ifa_prefixlen);
}

static void on_prefix_route_raw(struct nlmsghdr *nlh, void *userdata)
{
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct nlattr *a;
	uint32_t be;

	/* A default route claims no prefix; it is where everything else goes. */
	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
	    rtm->rtm_dst_len == 0 || rtm->rtm_dst_len > 32)
		return;
	a = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_DST);
	if (!a || nla_len(a) != sizeof(be))
		return;
	memcpy(&be, nla_data(a), sizeof(be));
	prefix_set_add(userdata, ntohl(be) & ip4_mask(rtm->rtm_dst_len), rtm->rtm_dst_len);
}

static int ip4_net_cmp(const void *a, const void *b)
{
	const struct ip4_net *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->plen > y->plen) - (x->plen < y->plen);
}

int link_used_prefixes(struct nl_sock *sk, struct ip4_net **ret)
{
	struct prefix_set set = {};
	size_t n = 0;
	int r = -EAGAIN;

	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		set.n = 0;
		set.error = 0;
		r = dump_run_raw(sk, RTM_GETADDR, AF_INET, on_prefix_addr_raw, &set);
		if (r >= 0)
			r = dump_run_raw(sk, RTM_GETROUTE, AF_INET, on_prefix_route_raw, &set);
		if (r >= 0)
			r = set.error;
	}
	if (r < 0) {
		free(set.v);
		return r;
	}

	/* Every address's prefix also shows up as its kernel route: sort and
	 * keep each prefix once. */
	if (set.n > 0) {
		qsort(set.v, set.n, sizeof(*set.v), ip4_net_cmp);
		for (size_t i = 0; i < set.n; i++)
			if (n == 0 || ip4_net_cmp(&set.v[n - 1], &set.v[i]) != 0)
				set.v[n++] = set.v[i];
	}
	if (n == 0) {
		free(set.v);
		set.v = NULL;
	}
	*ret = set.v;
	return (int)n;
}

struct match_ctx {
	struct ip4_net net;
	bool found;
};

static void on_route_match(struct nlmsghdr *nlh, void *userdata)
{
	struct match_ctx *m = userdata;
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct nlattr *a;
	uint32_t be = 0;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET || rtm->rtm_dst_len == 0 ||
	    rtm->rtm_dst_len > 32)
		return;
	/* "unreachable default"-like answers carry no prefix: nothing claims it. */
	a = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_DST);
	if (a && nla_len(a) == sizeof(be))
		memcpy(&be, nla_data(a), sizeof(be));
	m->net.plen = rtm->rtm_dst_len;
	m->net.addr = ntohl(be) & ip4_mask(rtm->rtm_dst_len);
	m->found = true;
}

int link_route_match(struct nl_sock *sk, uint32_t addr, struct ip4_net *ret)
{
	struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_dst_len = 32, .rtm_flags = RTM_F_FIB_MATCH };
	struct match_ctx m = { 0 };
	struct link_txn t = { .on_msg = on_route_match, .userdata = &m };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	uint32_t be = htonl(addr);
	int r;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, sizeof(be), &be) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = link_txn_run(sk, msg, false, &t);
	nlmsg_free(msg);
	/* No route at all (not even a default): nothing claims the address. */
	if (r == -ENETUNREACH || r == -EHOSTUNREACH)
		return 0;
	if (r < 0)
		return r;
	if (!m.found)
		return 0;
	*ret = m.net;
	return 1;
}
