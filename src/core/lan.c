/* SPDX-License-Identifier: MIT */
/*
 * LAN mode (--lan IFACE): the namespace directly on IFACE's segment, through
 * a macvlan in bridge mode made on IFACE and named ns_ifname (eth0) in the
 * namespace. The host's addresses, routes, forwarding and nftables are never
 * touched: the namespace is a machine of the LAN, with its own MAC address.
 * These are the LAN-mode steps of up and down and what gc, view and doctor
 * ask of such a gateway; up.c and teardown.c call them.
 *
 * Ownership: the macvlan lives in the namespace, so it cannot carry the
 * host-side label a veth does. It is labelled there, "nsgate:NAME lan", and
 * found in the namespace the state file names: down deletes only a link so
 * labelled (an attached namespace's own eth0 stays), and gc tells that it
 * vanished. A namespace's root may rename or relabel it: then nsgate leaves
 * it (it is theirs to break) and gc removes the gateway's files.
 */
#include <time.h>
#include <unistd.h>

#include "core.h"

#define LAN_ALIAS_MARK " lan"

void lan_alias(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, GW_ALIAS_PREFIX "%s" LAN_ALIAS_MARK, name);
}

/* Whether li is gateway name's macvlan: labelled so, or, for an up that
 * never finished, still unlabelled in the group that marks it. */
static bool lan_link_is(const struct link_info *li, const char *name, bool creating)
{
	char alias[64];

	lan_alias(name, alias, sizeof(alias));
	if (!strcmp(li->alias, alias))
		return true;
	return creating && !li->alias[0] && li->group == LINK_GROUP_UNLABELLED;
}

/* IFACE can carry the namespace: it exists, is up, is an Ethernet-like
 * device of its own (not lo, not a gateway's, not a port of a bridge or a
 * bond, whose frames go to their master first). */
static int lan_check_iface(struct nl_sock *host, const char *iface, struct link_lower *lo,
			   struct nsg_err *e)
{
	int r = link_lower_get(host, iface, lo);

	if (r == -ENODEV)
		return nsg_fail(e, -ENODEV, "no such interface", "--lan \"%s\"", iface);
	if (r < 0)
		return nsg_fail(e, r, NULL, "--lan \"%s\"", iface);
	if (lo->flags & IFF_LOOPBACK)
		return nsg_fail(e, -EINVAL, "the loopback has no LAN", "--lan \"%s\"", iface);
	if (!strncmp(lo->alias, GW_ALIAS_PREFIX, strlen(GW_ALIAS_PREFIX)))
		return nsg_fail(e, -EINVAL, "is a gateway's own interface", "--lan \"%s\"", iface);
	if (lo->master_index > 0) {
		r = nsg_fail(e, -EINVAL, NULL, "--lan \"%s\"", iface);
		nsg_why(e, "is a port of %s%s%s (its frames go there first): use --lan %s",
			lo->master_kind[0] ? lo->master_kind : "", lo->master_kind[0] ? " " : "",
			lo->master, lo->master);
		return r;
	}
	if (!(lo->flags & IFF_UP))
		return nsg_fail_kind(e, NSG_KIND_INPUT, -ENETDOWN, "is down (bring it up first)",
				     "--lan \"%s\"", iface);
	return 0;
}

/* --address against the host's own addresses on IFACE: one of them is a
 * conflict; on none of their subnets, a warning only (the LAN may route it:
 * several subnets on one segment, a router that knows it). */
static int lan_check_address(struct nl_sock *host, const struct gw_spec *sp,
			     const char **warning, struct nsg_err *e)
{
	const struct gw_lan *l = &sp->lan;
	char a[IP_ADDR_STRLEN];
	struct link_info li;
	bool v4 = false, on = false;
	int r = link_get(host, l->iface, &li);

	if (r < 0)
		return nsg_fail(e, r, NULL, "--lan \"%s\"", l->iface);
	for (size_t i = 0; i < li.n_addrs; i++) {
		if (!ip_addr_is_v4(&li.addr_local[i]))
			continue;
		if (ip_addr_eq(&li.addr_local[i], &l->addr))
			return nsg_fail(e, -EADDRINUSE, "is the host's own address on that interface",
					"--address \"%s/%u\"", ip_addr_str(&l->addr, a), l->plen);
		v4 = true;
		on |= ip_prefix_contains(&li.addrs[i], &l->addr);
	}
	if (v4 && !on)
		*warning = "--address is on no subnet of the host's own addresses on the --lan "
			   "interface: the LAN must route it";
	return 0;
}

/* Without --gateway: the host's own IPv4 default gateway, when it is
 * reached through IFACE and lies on --address's subnet. */
static int lan_default_gateway(struct nl_sock *host, int ifindex, struct gw_spec *sp,
			       struct nsg_err *e)
{
	struct gw_lan *l = &sp->lan;
	struct ip_prefix net = ip_prefix_of(&l->addr, l->plen);
	char g[IP_ADDR_STRLEN], n[IP_PREFIX_STRLEN];
	struct ip_addr gw;
	int r = link_default_gateway(host, ifindex, &gw);

	if (r == -ENOENT)
		return nsg_fail(e, -EINVAL, "the host has no IPv4 default gateway on it: give "
				"--gateway ADDR", "--lan \"%s\"", l->iface);
	if (r < 0)
		return nsg_fail(e, r, NULL, "the host's default route");
	if (!ip_prefix_contains(&net, &gw)) {
		r = nsg_fail(e, -EINVAL, NULL, "--lan \"%s\"", l->iface);
		nsg_why(e, "the host's default gateway %s is not on --address's subnet %s: give "
			"--gateway ADDR", ip_addr_str(&gw, g), ip_prefix_str(&net, n));
		return r;
	}
	l->gateway = gw;
	return 0;
}

int lan_check(struct nl_sock *host, struct gw_spec *sp, const char **warning, struct nsg_err *e)
{
	struct link_lower lo;
	int r;

	*warning = NULL;
	r = lan_check_iface(host, sp->lan.iface, &lo, e);
	if (r < 0 || !ip_addr_is_set(&sp->lan.addr))
		return r;
	r = lan_check_address(host, sp, warning, e);
	if (r < 0 || sp->lan.gateway_given)
		return r;
	return lan_default_gateway(host, lo.ifindex, sp, e);
}

/* How long up waits for a namespace the kernel is still destroying to let
 * go of the gateway's MAC address, and how often it asks. */
#define LAN_MAC_WAIT_MS 3000
#define LAN_MAC_POLL_MS 10

static long long lan_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The macvlan up. The kernel refuses to open a macvlan whose MAC another
 * macvlan on the same interface has open (EADDRINUSE). The MAC is derived
 * from the gateway's name, so the other one is, nearly always, this
 * gateway's previous macvlan in a namespace that was just dropped (a gc of
 * a half-made up, an `ip netns del` of an attached one): the kernel closes
 * it only when its cleanup_net work runs, some milliseconds to seconds
 * later. So up asks again, for a bounded time, before it names the clash.
 */
static int lan_link_open(struct nl_sock *ns, const struct gw_spec *s, const uint8_t mac[6],
			 struct nsg_err *e)
{
	long long deadline = lan_now_ms() + LAN_MAC_WAIT_MS;
	struct nsg_err last = { 0 };
	char why[160];
	int r;

	for (;;) {
		last = (struct nsg_err){ 0 };
		r = link_set_up(ns, s->ns_ifname, &last);
		if (r != -EADDRINUSE || !mac || lan_now_ms() >= deadline)
			break;
		usleep(LAN_MAC_POLL_MS * 1000);
	}
	if (r == 0)
		return 0;
	if (r != -EADDRINUSE || !mac) {
		if (e)
			*e = last;
		return r;
	}
	snprintf(why, sizeof(why),
		 "its MAC address %02x:%02x:%02x:%02x:%02x:%02x is held by another macvlan there "
		 "(still after %d s)",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], LAN_MAC_WAIT_MS / 1000);
	return nsg_fail(e, r, why, "macvlan \"%s\" on \"%s\"", s->ns_ifname, s->lan.iface);
}

int lan_link_up(struct nl_sock *host, struct nl_sock *ns, int netns_fd, const struct gw_state *st,
		struct nsg_err *e)
{
	const struct gw_spec *s = &st->spec;
	uint8_t seed[16], mac[6];
	bool seeded = state_ula_seed(seed) == 0;
	char alias[64];
	int r;

	/* Without a seed (an unreadable /run/nsgate), the kernel's random MAC. */
	if (seeded)
		spec_lan_mac(seed, s->name, mac);
	r = link_macvlan_create(host, s->lan.iface, s->ns_ifname, netns_fd, seeded ? mac : NULL, e);

	if (r < 0)
		return r;
	lan_alias(s->name, alias, sizeof(alias));
	r = link_label(ns, s->ns_ifname, alias, e);
	/* A namespace nsgate made has lo down; an attached one's is left as found. */
	if (r == 0 && (st->netns_created || st->lo_set_up))
		r = link_set_up(ns, "lo", e);
	if (r == 0 && ip_addr_is_set(&s->lan.addr))
		r = link_addr_add(ns, s->ns_ifname, &s->lan.addr, s->lan.plen, e);
	/* IPv6 is left to the namespace's defaults (accept_ra, autoconf): the
	 * LAN's router advertisements give it SLAAC addresses and a route. */
	if (r == 0)
		r = lan_link_open(ns, s, seeded ? mac : NULL, e);
	if (r == 0 && ip_addr_is_set(&s->lan.gateway))
		r = link_route_default_add(ns, s->ns_ifname, &s->lan.gateway, e);
	return r;
}

void lan_link_undo(struct nl_sock *ns, const struct gw_state *st)
{
	struct link_info li;

	if (!ns)
		return;
	/* Only the link this up made: a failed create may have met another. */
	if (link_get(ns, st->spec.ns_ifname, &li) == 0 && lan_link_is(&li, st->spec.name, true))
		link_delete(ns, st->spec.ns_ifname, NULL);
	if (st->lo_set_up)
		link_set_down(ns, "lo", NULL);
}

/* A socket in the namespace netns_path names, when it is still the one
 * made for (ino; 0: not known). -ENOENT when it is gone or another. */
static int lan_ns_sock(const char *netns_path, uint64_t ino, struct nl_sock **ret)
{
	_cleanup_close_ int fd = -1;
	uint64_t have;
	int r = netns_open(netns_path, &fd, NULL);

	if (r < 0)
		return -ENOENT;
	r = netns_ident(fd, &have);
	if (r < 0)
		return r;
	if (ino && have != ino)
		return -ENOENT;
	return link_sock_open_in(fd, ret);
}

int lan_link_find(const struct gw_state *st, struct link_info *ret)
{
	struct nl_sock *ns = NULL;
	int r = lan_ns_sock(st->spec.netns_path, st->netns_ino, &ns);

	if (r < 0)
		return r;
	r = link_get(ns, st->spec.ns_ifname, ret);
	link_sock_close(ns);
	if (r < 0)
		return r;
	return lan_link_is(ret, st->spec.name, st->creating) ? 0 : -ENODEV;
}

/*
 * down of a LAN gateway: its macvlan is deleted in the namespace, whether
 * nsgate made the namespace or not. For one it made, the namespace's end
 * would take the link with it, but only once nothing holds the namespace:
 * a DHCP client left running inside would keep the macvlan, and its address,
 * on the LAN after down.
 */
int lan_link_remove(const char *name, const char *netns_path, uint64_t ino, const char *ifname,
		    bool creating, struct nsg_err *e)
{
	struct nl_sock *ns = NULL;
	struct link_info li;
	int r = lan_ns_sock(netns_path, ino, &ns);

	if (r == -ENOENT)
		return 0;   /* gone with its namespace */
	if (r < 0)
		return nsg_fail(e, r, NULL, "netns \"%s\"", netns_path);
	r = link_get(ns, ifname, &li);
	if (r == 0 && lan_link_is(&li, name, creating))
		r = link_delete(ns, ifname, e);
	else if (r == -ENODEV || r == 0)
		r = 0;
	else
		r = nsg_fail(e, r, NULL, "link \"%s\" in netns \"%s\"", ifname, netns_path);
	link_sock_close(ns);
	return r == -ENODEV ? 0 : r;
}
