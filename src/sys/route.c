/* SPDX-License-Identifier: MIT */
/*
 * Addresses and routes over rtnetlink, through libnl-route-3: the other
 * half of the link module (link.c has the sockets and the transaction
 * helper both halves use).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "nsgate/common.h"
#include "nsgate/link.h"
#include "link-internal.h"

DEFINE_CLEANUP(struct nl_addr, nl_addr_put)
DEFINE_CLEANUP(struct rtnl_addr, rtnl_addr_put)
DEFINE_CLEANUP(struct rtnl_route, rtnl_route_put)
DEFINE_CLEANUP(struct rtnl_nexthop, rtnl_route_nh_free)
DEFINE_CLEANUP(struct nl_msg, nlmsg_free)

/* The families the address functions do (see route.h). */
static bool family_done(int family)
{
	return family == AF_INET || family == AF_INET6;
}

static struct nl_addr *nl_addr_of(const struct ip_addr *a, uint8_t plen)
{
	uint8_t bytes[16];
	unsigned len = ip_addr_to_bytes(a, bytes);
	struct nl_addr *na;

	if (!len)
		return NULL;
	na = nl_addr_build(a->family, bytes, len);
	if (na)
		nl_addr_set_prefixlen(na, plen);
	return na;
}

int link_addr_add(struct nl_sock *sk, const char *name, const struct ip_addr *addr, uint8_t plen,
		  struct nsg_err *e)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL, *brd = NULL;
	struct ip_prefix shown = { .addr = *addr, .plen = plen };
	char buf[IP_PREFIX_STRLEN], why[256] = "";
	struct nl_msg *msg = NULL;
	int r, ifindex;

	ip_prefix_str(&shown, buf);
	if (!family_done(addr->family))
		return nsg_fail(e, -EAFNOSUPPORT, NULL, "address %s on \"%s\"", buf, name ? name : "");
	if (plen > ip_family_bits(addr->family))
		return nsg_fail(e, -EINVAL, NULL, "address %s on \"%s\"", buf, name ? name : "");
	/* RTM_NEWADDR only takes an ifindex, never a name. */
	ifindex = link_index(sk, name);
	if (ifindex < 0)
		return nsg_fail(e, ifindex, NULL, "link \"%s\"", name ? name : "");

	ra = rtnl_addr_alloc();
	local = nl_addr_of(addr, plen);
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
	/* Both ends of a veth are nsgate's: duplicate address detection
	 * would only hold the address back (tentative) for a second. */
	if (addr->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	/* What "ip addr add ... brd +" does; /31 and /32 have no broadcast. */
	if (addr->family == AF_INET && plen <= 30) {
		struct ip_addr b = ip_addr_v4(addr->v4 | ~ip_v4_mask(plen));

		brd = nl_addr_of(&b, 32);
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

int link_addr_delete(struct nl_sock *sk, int ifindex, const struct ip_addr *addr, uint8_t plen)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *local = nl_addr_of(addr, plen);
	struct nl_msg *msg = NULL;
	int r;

	if (!ra || !local)
		return -ENOMEM;
	rtnl_addr_set_ifindex(ra, ifindex);
	r = rtnl_addr_set_local(ra, local);
	if (r < 0)
		return link_nle_errno(r);
	rtnl_addr_set_prefixlen(ra, plen);
	r = rtnl_addr_build_delete_request(ra, 0, &msg);
	return link_txn_built(sk, r, msg, NULL, 0);
}

int link_route_default_add(struct nl_sock *sk, const char *name, const struct ip_addr *gw,
			   struct nsg_err *e)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *route = NULL;
	_cleanup_(rtnl_route_nh_freep) struct rtnl_nexthop *nh = NULL;
	_cleanup_(nl_addr_putp) struct nl_addr *dst = NULL, *via = NULL;
	struct ip_addr any = { .family = gw->family };
	char buf[IP_ADDR_STRLEN], why[256] = "";
	struct nl_msg *msg = NULL;
	int r, ifindex;

	ip_addr_str(gw, buf);
	if (!family_done(gw->family))
		return nsg_fail(e, -EAFNOSUPPORT, NULL, "default route via %s", buf);
	ifindex = link_index(sk, name);
	if (ifindex < 0)
		return nsg_fail(e, ifindex, NULL, "link \"%s\"", name ? name : "");

	route = rtnl_route_alloc();
	nh = rtnl_route_nh_alloc();
	dst = nl_addr_of(&any, 0);
	via = nl_addr_of(gw, ip_family_bits(gw->family));
	if (!route || !nh || !dst || !via) {
		r = -ENOMEM;
		goto fail;
	}
	r = rtnl_route_set_family(route, gw->family);
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

/* Prefixes of one family collected from address and route dumps. */
struct prefix_set {
	int family;
	struct ip_prefix *v;
	size_t n, cap;
	int error;
};

static void prefix_set_add(struct prefix_set *set, const struct ip_addr *addr, uint8_t plen)
{
	if (set->error)
		return;
	if (GROW(set->v, set->cap, set->n + 1) < 0) {
		set->error = -ENOMEM;
		return;
	}
	set->v[set->n++] = ip_prefix_of(addr, plen);
}

/* The address an attribute carries, if it is one of family. */
static bool attr_addr(const struct nlattr *a, int family, struct ip_addr *ret)
{
	return a && nla_len(a) == (int)ip_family_len(family) &&
	       ip_addr_from_bytes(family, nla_data(a), ret) == 0;
}

static void on_prefix_addr_raw(struct nlmsghdr *nlh, void *userdata)
{
	const struct ifaddrmsg *ifa = nlmsg_data(nlh);
	struct prefix_set *set = userdata;
	struct nlattr *a;
	struct ip_addr addr;

	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != set->family ||
	    ifa->ifa_prefixlen > ip_family_bits(set->family))
		return;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer on point-to-point. */
	a = nlmsg_find_attr(nlh, sizeof(*ifa), IFA_LOCAL);
	if (!a)
		a = nlmsg_find_attr(nlh, sizeof(*ifa), IFA_ADDRESS);
	if (!attr_addr(a, set->family, &addr))
		return;
	prefix_set_add(set, &addr, ifa->ifa_prefixlen);
}

static void on_prefix_route_raw(struct nlmsghdr *nlh, void *userdata)
{
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct prefix_set *set = userdata;
	struct ip_addr dst;

	/* A default route claims no prefix; it is where everything else goes. */
	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != set->family ||
	    rtm->rtm_dst_len == 0 || rtm->rtm_dst_len > ip_family_bits(set->family))
		return;
	if (!attr_addr(nlmsg_find_attr(nlh, sizeof(*rtm), RTA_DST), set->family, &dst))
		return;
	prefix_set_add(set, &dst, rtm->rtm_dst_len);
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct ip_prefix *x = a, *y = b;
	int c = ip_addr_cmp(&x->addr, &y->addr);

	if (c)
		return c;
	return (x->plen > y->plen) - (x->plen < y->plen);
}

int link_used_prefixes(struct nl_sock *sk, int family, struct ip_prefix **ret)
{
	struct prefix_set set = { .family = family };
	size_t n = 0;
	int r = -EAGAIN;

	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		set.n = 0;
		set.error = 0;
		r = dump_run_raw(sk, RTM_GETADDR, family, on_prefix_addr_raw, &set);
		if (r >= 0)
			r = dump_run_raw(sk, RTM_GETROUTE, family, on_prefix_route_raw, &set);
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
		qsort(set.v, set.n, sizeof(*set.v), prefix_cmp);
		for (size_t i = 0; i < set.n; i++)
			if (n == 0 || prefix_cmp(&set.v[n - 1], &set.v[i]) != 0)
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
	struct ip_prefix net;
	bool found;
};

static void on_route_match(struct nlmsghdr *nlh, void *userdata)
{
	struct match_ctx *m = userdata;
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct ip_addr dst = { .family = rtm->rtm_family };

	if (nlh->nlmsg_type != RTM_NEWROUTE || !family_done(rtm->rtm_family) ||
	    rtm->rtm_dst_len == 0 || rtm->rtm_dst_len > ip_family_bits(rtm->rtm_family))
		return;
	/* "unreachable default"-like answers carry no prefix: nothing claims it. */
	attr_addr(nlmsg_find_attr(nlh, sizeof(*rtm), RTA_DST), rtm->rtm_family, &dst);
	m->net = ip_prefix_of(&dst, rtm->rtm_dst_len);
	m->found = true;
}

int link_route_match(struct nl_sock *sk, const struct ip_addr *addr, struct ip_prefix *ret)
{
	struct rtmsg rtm = { .rtm_family = addr->family, .rtm_dst_len = ip_family_bits(addr->family),
			     .rtm_flags = RTM_F_FIB_MATCH };
	struct match_ctx m = { 0 };
	struct link_txn t = { .on_msg = on_route_match, .userdata = &m };
	struct nl_msg *msg;
	uint8_t bytes[16];
	unsigned len;
	int r;

	if (!family_done(addr->family))
		return -EAFNOSUPPORT;
	len = ip_addr_to_bytes(addr, bytes);
	msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, len, bytes) < 0) {
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

static void on_route_type(struct nlmsghdr *nlh, void *userdata)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		*(unsigned *)userdata = ((const struct rtmsg *)nlmsg_data(nlh))->rtm_type;
}

int link_route_input(struct nl_sock *sk, const struct ip_addr *dst, const struct ip_addr *src,
		     int iif, unsigned *ret_type)
{
	struct rtmsg rtm = { .rtm_family = dst->family, .rtm_dst_len = ip_family_bits(dst->family),
			     .rtm_src_len = ip_family_bits(dst->family) };
	unsigned type = RTN_UNSPEC;
	struct link_txn t = { .on_msg = on_route_type, .userdata = &type };
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	uint8_t d[16], s[16];
	int r;

	if (!family_done(dst->family) || src->family != dst->family)
		return -EAFNOSUPPORT;
	msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, ip_addr_to_bytes(dst, d), d) < 0 ||
	    nla_put(msg, RTA_SRC, ip_addr_to_bytes(src, s), s) < 0 ||
	    nla_put_u32(msg, RTA_IIF, (uint32_t)iif) < 0)
		return -EMSGSIZE;
	r = link_txn_run(sk, msg, false, &t);
	if (r == 0 && ret_type)
		*ret_type = type;
	return r;
}

/* The interfaces of one family's default routes, as ifindexes. */
struct default_oifs {
	int family;
	int v[LINK_DEFAULT_IFACES_MAX];
	size_t n;
	struct link_txn *txn;  /* its stop is set once past the default routes */
};

/*
 * An IPv4 table dump walks the trie in key order, so every default route
 * (key 0.0.0.0, whatever the metric) comes before any route with another
 * destination: past it, the rest of the dump (one prefix route per
 * gateway, 10,000 of them on a busy host) is not needed. IPv6 dumps walk
 * their tree children first, the default route last: they go to the end.
 */
static bool past_ipv4_defaults(struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct nlattr *dst;

	if (rtm->rtm_family != AF_INET)
		return false;
	dst = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_DST);
	return dst && nla_len(dst) == 4 && nla_get_u32(dst) != 0;
}

/*
 * A socket of its own in sk's namespace, for a dump to be cut short (an
 * unfinished dump makes a socket useless until it is closed). -errno when
 * there is none to be had (no CAP_NET_ADMIN): the caller dumps it all.
 */
static int sock_beside(struct nl_sock *sk, struct nl_sock **ret)
{
	_cleanup_close_ int ns = -1;

	if (link_sock_is_local(sk))
		return link_sock_open(ret);
	ns = ioctl(nl_socket_get_fd(sk), SIOCGSKNS);
	return ns < 0 ? -errno : link_sock_open_in(ns, ret);
}

/* Dump sk's main table of family into t's on_msg, which may cut it short
 * (t->stop) when sk's namespace gives a socket of its own. */
static int main_table_dump(struct nl_sock *sk, int family, struct link_txn *t)
{
	/* Only the main table, where default routes live unless policy routing
	 * says otherwise (then --uplink names the interface). The socket checks
	 * dump requests strictly, so the kernel walks that table alone, not the
	 * local table with its three entries per gateway. */
	struct rtmsg rtm = { .rtm_family = family, .rtm_table = RT_TABLE_MAIN };
	struct nl_sock *own = NULL;
	int r;

	if (family == AF_INET && sock_beside(sk, &own) == 0)
		sk = own;
	t->may_stop = own != NULL;
	_cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
	if (!msg)
		r = -ENOMEM;
	else if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0)
		r = -EMSGSIZE;
	else
		r = link_txn_run(sk, msg, true, t);
	/* Closing it ends a dump cut short. */
	if (own)
		link_sock_close(own);
	return r;
}

static void default_oif_add(struct default_oifs *d, int ifindex)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i] == ifindex)
			return;
	if (ifindex > 0 && d->n < ARRAY_SIZE(d->v))
		d->v[d->n++] = ifindex;
}

static void on_default_route(struct nlmsghdr *nlh, void *userdata)
{
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct default_oifs *d = userdata;
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != d->family)
		return;
	if (past_ipv4_defaults(nlh))
		d->txn->stop = true;
	if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return;
	a = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_OIF);
	if (a && nla_len(a) == sizeof(uint32_t))
		default_oif_add(userdata, (int)nla_get_u32(a));
	/* A multipath default: each next hop's interface. */
	a = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_MULTIPATH);
	if (a) {
		const struct rtnexthop *nh = nla_data(a);
		int left = nla_len(a);

		while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) &&
		       nh->rtnh_len <= left) {
			default_oif_add(userdata, nh->rtnh_ifindex);
			left -= NLMSG_ALIGN(nh->rtnh_len);
			nh = (const struct rtnexthop *)((const char *)nh + NLMSG_ALIGN(nh->rtnh_len));
		}
	}
}

static void on_link_name(struct nlmsghdr *nlh, void *userdata)
{
	struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return;
	a = nlmsg_find_attr(nlh, sizeof(struct ifinfomsg), IFLA_IFNAME);
	if (a && nla_len(a) > 1 && nla_len(a) <= IF_NAMESIZE)
		snprintf(userdata, IF_NAMESIZE, "%.*s", nla_len(a), (const char *)nla_data(a));
}

/* RTM_GETLINK by index, for its name only. */
static int link_name_of(struct nl_sock *sk, int ifindex, char name[IF_NAMESIZE])
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct link_txn t = { .on_msg = on_link_name, .userdata = name };
	int r;

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		return -EMSGSIZE;
	name[0] = '\0';
	r = link_txn_run(sk, msg, false, &t);
	if (r < 0)
		return r;
	return name[0] ? 0 : -ENODEV;
}

int link_default_ifnames(struct nl_sock *sk, char (*ret)[IF_NAMESIZE], size_t max)
{
	return link_default_ifnames_of(sk, AF_INET, ret, max);
}

int link_default_ifnames_of(struct nl_sock *sk, int family, char (*ret)[IF_NAMESIZE], size_t max)
{
	struct default_oifs d = { .family = family };
	size_t n = 0;
	int r = -EAGAIN;

	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		struct link_txn t = { .on_msg = on_default_route, .userdata = &d };

		d.n = 0;
		d.txn = &t;
		r = main_table_dump(sk, family, &t);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < d.n && n < max; i++) {
		/* An interface gone since the dump has no traffic to come back. */
		r = link_name_of(sk, d.v[i], ret[n]);
		if (r == -ENODEV)
			continue;
		if (r < 0)
			return r;
		n++;
	}
	return (int)n;
}

/* What link_default_gateway looks for, and what it found. */
struct default_gw {
	int ifindex;
	struct ip_addr gw;
	struct link_txn *txn;
};

static void on_default_gw(struct nlmsghdr *nlh, void *userdata)
{
	const struct rtmsg *rtm = nlmsg_data(nlh);
	struct default_gw *d = userdata;
	struct nlattr *oif, *via;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET)
		return;
	if (past_ipv4_defaults(nlh))
		d->txn->stop = true;
	if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST || ip_addr_is_set(&d->gw))
		return;
	oif = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_OIF);
	via = nlmsg_find_attr(nlh, sizeof(*rtm), RTA_GATEWAY);
	if (oif && nla_len(oif) == sizeof(uint32_t) && (int)nla_get_u32(oif) == d->ifindex &&
	    via && nla_len(via) == 4)
		ip_addr_from_bytes(AF_INET, nla_data(via), &d->gw);
}

int link_default_gateway(struct nl_sock *sk, int ifindex, struct ip_addr *ret)
{
	struct default_gw d = { .ifindex = ifindex };
	int r = -EAGAIN;

	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		struct link_txn t = { .on_msg = on_default_gw, .userdata = &d };

		d.gw = (struct ip_addr){ 0 };
		d.txn = &t;
		r = main_table_dump(sk, AF_INET, &t);
	}
	if (r < 0)
		return r;
	if (!ip_addr_is_set(&d.gw))
		return -ENOENT;
	*ret = d.gw;
	return 0;
}
