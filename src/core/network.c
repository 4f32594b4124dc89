/* SPDX-License-Identifier: MIT */
/*
 * Networks: a bridge in the host's namespace with the network's gateway
 * address (.1), members' host-side veths as its ports. The operations
 * (create, rm, list) and what up and teardown ask of a member.
 *
 * The bridge stays in the host's namespace: the members' routed traffic
 * then meets the same inet hooks as a plain gateway's (the bridge is
 * "nsg-+NET", so every prefix rule covers it), published ports, masquerade
 * and hairpin work unchanged, and a member reaches of the host only what a
 * plain gateway reaches through its host address. Layer 2 among members
 * is guarded by table bridge nsgate (ruleset.c): each port may send from
 * its member's MAC and address only.
 */
#include "nsgate/bridge.h"
#include "nsgate/ipam.h"
#include "nsgate/network.h"

#include "core.h"

#define _cleanup_net_ _cleanup_(net_state_clear)

static void net_alias(const char *name, char buf[64])
{
	snprintf(buf, 64, NET_ALIAS_PREFIX "%s", name);
}

/* A member's networks as one list: its first (eth0, the veth nsg-NAME)
 * and its nets_more, in order. */
struct net_slot {
	const char *net, *bridge, *port, *ns_ifname;
	struct ip_prefix *subnet, *subnet6;
	struct ip_addr *addr;
};

static unsigned slots_of(const struct gw_spec *spec, struct net_slot out[GW_NETS_MAX])
{
	struct gw_spec *s = (struct gw_spec *)spec;   /* out's pointers: check's to fill */
	unsigned n = 0;

	if (!s->network[0])
		return 0;
	out[n++] = (struct net_slot){ s->network, s->net_bridge, s->host_ifname, s->ns_ifname,
				      &s->subnet, &s->subnet6, &s->net_addr };
	for (unsigned k = 0; k < s->n_nets_more; k++) {
		struct gw_net_more *m = &s->nets_more[k];

		out[n++] = (struct net_slot){ m->name, m->bridge, m->port, m->ns_ifname,
					      &m->subnet, &m->subnet6, &m->addr };
	}
	return n;
}

static bool spec_in_net(const struct gw_spec *s, const char *net)
{
	if (!strcmp(s->network, net))
		return true;
	for (unsigned k = 0; k < s->n_nets_more; k++)
		if (!strcmp(s->nets_more[k].name, net))
			return true;
	return false;
}

/* Its /64 when dual-stack (ipv6, the gateways' rule; a given one in
 * n->subnet6 when n->subnet6_given), beside its /24 and clear of used[]
 * (the other networks' subnets of both families). */
static int net_subnet6_choose(struct session *s, struct net_state *n, enum gw_ipv6 ipv6,
			      const struct ip_prefix *used, size_t n_used, struct nsg_err *e)
{
	struct ip_prefix given = n->subnet6;
	struct net6_want w = { .ipv6 = ipv6, .given = n->subnet6_given ? &given : NULL,
			       .subnet4 = &n->subnet, .avoid = used, .n_avoid = n_used };

	return subnet6_network(s->host, &w, &n->subnet6, e);
}

/* A member's sources on its port of network n: its IPv4 address, and in
 * a dual-stack network its IPv6 one and its link-local (one MAC, made of
 * the IPv4 address). *k_ret: how many. */
static unsigned port_srcs_of(const struct net_state *n, const struct ip_addr *addr,
			     struct ip_addr out[3], uint8_t mac[6])
{
	out[0] = *addr;
	out[1] = net_addr6_of(&n->subnet, &n->subnet6, addr);
	out[2] = net_ll6_of(&n->subnet, addr);
	net_mac_of(addr, mac);
	return ip_addr_is_set(&out[1]) ? 3 : 1;
}

static int queue_port_srcs(struct nftx *nft, const char *member, const char *port,
			   const struct net_state *n, const struct ip_addr *addr, bool del)
{
	struct ip_addr a[3];
	uint8_t mac[6];
	unsigned k = port_srcs_of(n, addr, a, mac);
	int r = 0;

	for (unsigned i = 0; i < k && r == 0; i++)
		r = ruleset_queue_port_src(nft, member, port, mac, &a[i], del);
	return r;
}

/* 1 when all of them are there, 0 when one is missing, -errno. */
static int port_srcs_present(struct nftx *nft, const char *port, const struct net_state *n,
			     const struct ip_addr *addr)
{
	struct ip_addr a[3];
	uint8_t mac[6];
	unsigned k = port_srcs_of(n, addr, a, mac);
	int r = 1;

	for (unsigned i = 0; i < k && r > 0; i++)
		r = ruleset_port_src_present(nft, port, mac, &a[i]);
	return r;
}

/* The first /24 of the pool free of the host's routes and addresses (every
 * gateway's /30 and every network's bridge among them) and of the other
 * networks' subnets (a bridge being made may have no route yet); or a
 * given subnet checked against the same; then its /64 (net_subnet6_choose).
 * also[]: subnets of both families. A network is made rarely: the full
 * dump is fine here. */
static int net_subnet_choose(struct session *s, struct net_state *n, enum gw_ipv6 ipv6,
			     const struct ip_prefix *also, size_t n_also, struct nsg_err *e)
{
	_cleanup_free_ struct ip_prefix *used = NULL;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];
	struct ip_prefix pool;
	int n_used = link_used_prefixes(s->host, AF_INET, &used);
	int n_nets = state_net_names(&names);
	long hit;

	if (n_used < 0)
		return nsg_fail(e, n_used, NULL, "reading the host's addresses and routes");
	if (n_nets < 0)
		return nsg_fail(e, n_nets, NULL, "listing networks");
	for (int i = 0; i < n_nets; i++) {
		_cleanup_net_ struct net_state other = { 0 };
		struct ip_prefix *grown;

		if (!strcmp(names[i], n->name) || state_net_load(names[i], &other) < 0)
			continue;
		grown = realloc(used, (n_used + 2) * sizeof(*used));
		if (!grown)
			return -ENOMEM;
		used = grown;
		used[n_used++] = other.subnet;
		if (ip_addr_is_set(&other.subnet6.addr))
			used[n_used++] = other.subnet6;
	}
	/* Networks this up makes before n (one gateway's several --network). */
	for (size_t i = 0; i < n_also; i++) {
		struct ip_prefix *grown = realloc(used, (n_used + 1) * sizeof(*used));

		if (!grown)
			return -ENOMEM;
		used = grown;
		used[n_used++] = also[i];
	}
	if (!n->subnet_given) {
		ip_prefix_parse(NET_POOL_DEFAULT, AF_INET, &pool);
		if (ipam_pick(&pool, NET_SUBNET_PLEN, used, n_used, &n->subnet) < 0)
			return nsg_fail(e, -EADDRINUSE, "no free /24 left (use --subnet)",
					"address pool %s", NET_POOL_DEFAULT);
		return net_subnet6_choose(s, n, ipv6, used, n_used, e);
	}
	hit = ipam_find_overlap(&n->subnet, used, n_used);
	if (hit < 0)
		return net_subnet6_choose(s, n, ipv6, used, n_used, e);
	nsg_fail(e, -EADDRINUSE, NULL, "--subnet \"%s\"", ip_prefix_str(&n->subnet, a));
	nsg_why(e, "overlaps %s, already in use", ip_prefix_str(&used[hit], b));
	return -EADDRINUSE;
}

/* The bridge's settings, before it comes up: forwarding of what members
 * send (decided by the interface it comes in on), route_localnet for the
 * host's 127.0.0.1 to published ports (the guard drops the members' own
 * 127/8); no IPv6 for an IPv4-only network (nothing of the kernel's making
 * on the link), or for a dual-stack one a plain gateway's host side's
 * (nothing learned from members, forwarding of what they send). They go
 * with the link. */
static int bridge_sysctls(const char *bridge, bool dual, struct nsg_err *e)
{
	static const struct {
		const char *key, *value;
		int when;   /* 0 always, 1 IPv4 only, 2 dual-stack, 3 dual and per interface */
	} keys[] = {
		{ "net/ipv4/conf/%s/forwarding", "1", 0 },
		{ "net/ipv4/conf/%s/route_localnet", "1", 0 },
		{ "net/ipv6/conf/%s/disable_ipv6", "1", 1 },
		{ "net/ipv6/conf/%s/accept_ra", "0", 2 },
		{ "net/ipv6/conf/%s/accept_redirects", "0", 2 },
		{ "net/ipv6/conf/%s/autoconf", "0", 2 },
		{ "net/ipv6/conf/%s/force_forwarding", "1", 3 },
	};
	bool per_if = dual && forward6_per_interface();
	char key[80];

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int r, w = keys[i].when;

		if ((w == 1 && dual) || (w == 2 && !dual) || (w == 3 && !per_if))
			continue;
		snprintf(key, sizeof(key), keys[i].key, bridge);
		r = sysctl_write(key, keys[i].value);
		if (r < 0 && !(r == -ENOENT && w == 1))
			return nsg_fail(e, r, NULL, "sysctl %s", key);
	}
	return 0;
}

/* A dual-stack bridge's ::1 and fe80::1 only, no DAD (link_addr_add), no
 * address of the kernel's making (before it comes up). The link-local is
 * what the kernel's neighbour solicitations for members go out from. */
static int bridge_addrs6(struct session *s, const struct net_state *n, struct nsg_err *e)
{
	struct ip_addr gw6 = spec_host_addr6(&n->subnet6), ll;
	int r = link_set_ipv6_manual(s->host, n->bridge, e);

	ip_addr_parse(GW_LL_HOST, AF_INET6, &ll);
	if (r == 0)
		r = link_addr_add(s->host, n->bridge, &gw6, GW_SUBNET6_PLEN, e);
	if (r == 0)
		r = link_addr_add(s->host, n->bridge, &ll, 64, e);
	return r;
}

/* n's bridge with the gateway address, up; deleted again on failure. */
static int net_bridge_make(struct session *s, const struct net_state *n, struct nsg_err *e)
{
	struct ip_addr gw = net_gateway_addr(&n->subnet);
	uint8_t mac[6];
	char alias[64];
	int r;

	net_alias(n->name, alias);
	net_mac_of(&gw, mac);
	r = bridge_create(s->host, n->bridge, alias, mac, e);
	if (r < 0)
		return r;
	r = bridge_sysctls(n->bridge, ip_addr_is_set(&n->subnet6.addr), e);
	if (r == 0 && ip_addr_is_set(&n->subnet6.addr))
		r = bridge_addrs6(s, n, e);
	if (r == 0)
		r = link_addr_add(s->host, n->bridge, &gw, n->subnet.plen, e);
	if (r == 0)
		r = link_set_up(s->host, n->bridge, e);
	if (r < 0)
		link_delete(s->host, n->bridge, NULL);
	return r;
}

/* Make network n (its subnet chosen: net_subnet_choose): its file first (so that whatever a kill leaves is found:
 * a network without members and not made explicitly is gc's to remove),
 * then the bridge with the gateway address, up. Undone on failure. */
static int net_make(struct session *s, struct net_state *n, struct nsg_err *e)
{
	int r;

	net_bridge_ifname(n->name, n->bridge);
	if (link_index(s->host, n->bridge) > 0)
		return nsg_fail(e, -EEXIST, "exists already", "interface \"%s\"", n->bridge);
	r = state_net_save(n, e);
	if (r < 0)
		return r;
	r = net_bridge_make(s, n, e);
	if (r < 0)
		state_net_remove(n->name);
	return r;
}

/* Remove network n: its elements (when the tables are there), its bridge,
 * its file; table bridge nsgate with the last network. */
static int net_destroy(struct session *s, const struct net_state *n, struct nsg_err *e)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int left = state_net_names(&names), r = 0;
	bool queued = false;

	nftx_batch_begin(s->nft);
	if (ruleset_table_exists(s->nft) > 0) {
		r = ruleset_queue_network(s->nft, n->name, n->bridge, n->isolated, true);
		queued = true;
	}
	if (r == 0 && left <= 1 && ruleset_bridge_exists(s->nft) > 0) {
		r = ruleset_queue_bridge_delete(s->nft);
		queued = true;
	}
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	if (queued) {
		r = nftx_batch_commit(s->nft, e);
		if (r < 0)
			return r;
	}
	r = link_delete(s->host, n->bridge, e);
	if (r < 0 && r != -ENODEV)
		return r;
	r = state_net_remove(n->name);
	return r < 0 ? nsg_fail(e, r, NULL, "state of network \"%s\"", n->name) : 0;
}

/* A member of several networks: its own /etc/netns/NAME/hosts, the
 * members of every network its name is in with a port (all networks'
 * files read: they are few, and only such members pay for it). */
static int multi_hosts_write(const char *member, struct nsg_err *e)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_net_ struct net_state all = { 0 };
	_cleanup_free_ char *text = NULL;
	int k = state_net_names(&names), r = 0;

	if (k < 0)
		return nsg_fail(e, k, NULL, "listing networks");
	snprintf(all.name, sizeof(all.name), "%s", member);
	for (int i = 0; i < k && r == 0; i++) {
		_cleanup_net_ struct net_state n = { 0 };
		const struct net_member *me;

		if (state_net_load(names[i], &n) < 0)
			continue;
		me = net_member_find(&n, member);
		if (!me || !me->port[0])
			continue;
		for (size_t j = 0; j < n.n_members && r == 0; j++) {
			struct net_member one = n.members[j];

			/* all has no subnet of its own: each network's IPv6 address. */
			one.addr6 = net_member_addr6(&n, &one);
			r = net_member_add(&all, &one);
		}
	}
	if (r == 0)
		r = net_hosts_render(&all, &text);
	if (r < 0)
		return nsg_fail(e, r, NULL, "hosts of \"%s\"", member);
	return dns_hosts_write(member, text, e);
}

/* The network's hosts file, as the members are now: one file, which every
 * member of this network alone links to; and the own files of its members
 * of several networks (only theirs: a plain member's up stays one write). */
static int net_hosts_write(const struct net_state *n, struct nsg_err *e)
{
	_cleanup_free_ char *text = NULL;
	int r = net_hosts_render(n, &text);

	if (r < 0)
		return nsg_fail(e, r, NULL, "hosts of network \"%s\"", n->name);
	r = state_net_hosts_write(n->name, text, e);
	for (size_t i = 0; i < n->n_members && r == 0; i++)
		if (n->members[i].port[0])
			r = multi_hosts_write(n->members[i].name, e);
	return r;
}

int network_hosts_sync(const struct gw_spec *spec, const struct net_up *nu, struct nsg_err *e)
{
	char path[PATH_MAX];
	int r = 0;

	for (unsigned k = 0; k < nu->n && r == 0; k++)
		r = net_hosts_write(&nu->net[k], e);
	if (r < 0 || nu->n != 1)
		return r;
	state_net_hosts_path(spec->network, path);
	return dns_hosts_link(spec->name, path, e);
}

/* Drop from n the members keep() refuses, with their port elements; then
 * save n, or remove it when it was made implicitly and is empty now. */
static int net_prune(struct session *s, struct net_state *n,
		     bool (*keep)(const struct net_member *m, const char *net, const void *arg),
		     const void *arg, struct nsg_err *e)
{
	bool br = ruleset_bridge_exists(s->nft) > 0, changed = false;
	int r = 0;

	nftx_batch_begin(s->nft);
	for (size_t i = 0; i < n->n_members; ) {
		struct net_member m = n->members[i];
		char port[IF_NAMESIZE];

		if (keep(&m, n->name, arg)) {
			i++;
			continue;
		}
		net_member_port(&m, port);
		if (br && r == 0)
			r = queue_port_srcs(s->nft, m.name, port, n, &m.addr, true);
		net_member_remove(n, m.name);
		dns_hosts_remove(m.name);
		changed = true;
	}
	/* Without members a network has no elements in the inet table (one
	 * made explicitly gets them again with its next member). */
	if (r == 0 && changed && n->explicit_ && n->n_members == 0 &&
	    ruleset_table_exists(s->nft) > 0) {
		r = ruleset_queue_network(s->nft, n->name, n->bridge, n->isolated, true);
		br = true;
	}
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	if (changed && br) {
		r = nftx_batch_commit(s->nft, e);
		if (r < 0)
			return r;
	}
	if (!n->explicit_ && n->n_members == 0)
		return net_destroy(s, n, e);
	r = changed ? state_net_save(n, e) : 0;
	return r < 0 || !changed ? r : net_hosts_write(n, e);
}

/* A member stays while its gateway's state file says it is one. */
static bool member_alive(const struct net_member *m, const char *net, const void *arg)
{
	struct gw_state st;
	int r = state_load(m->name, &st);

	(void)arg;
	/* A damaged file is gc's: it removes the gateway, then this again. */
	return r == -EBADMSG || (r == 0 && spec_in_net(&st.spec, net));
}

static bool member_not(const struct net_member *m, const char *net, const void *arg)
{
	(void)net;
	return strcmp(m->name, arg);
}

/* The names that leave, for network_leave: sorted (inventory_name_cmp). */
struct leaving {
	const char (*names)[GW_NAME_MAX + 1];
	size_t n;
};

static bool member_staying(const struct net_member *m, const char *net, const void *arg)
{
	const struct leaving *l = arg;

	(void)net;
	return !bsearch(m->name, l->names, l->n, sizeof(*l->names), inventory_name_cmp);
}

/* net_prune of every network with keep(). */
static int net_prune_all(struct session *s,
			 bool (*keep)(const struct net_member *m, const char *net, const void *arg),
			 const void *arg, struct nsg_err *e)
{
	_cleanup_free_ char (*nets)[GW_NAME_MAX + 1] = NULL;
	int k = state_net_names(&nets), r = 0;

	if (k < 0)
		return nsg_fail(e, k, NULL, "listing networks");
	for (int i = 0; i < k && r == 0; i++) {
		_cleanup_net_ struct net_state net = { 0 };

		if (state_net_load(nets[i], &net) < 0)
			continue;
		r = net_prune(s, &net, keep, arg, e);
	}
	return r;
}

/* Without a state file of a member to read: down's cost stays that of the
 * network files, whatever the number of members (network_sync, which reads
 * every member's, is gc's). */
int network_leave(struct session *s, const char (*names)[GW_NAME_MAX + 1], size_t n,
		  struct nsg_err *e)
{
	struct leaving l = { names, n };

	return net_prune_all(s, member_staying, &l, e);
}

int network_sync(struct session *s, struct nsg_err *e)
{
	return net_prune_all(s, member_alive, NULL, e);
}

/* ------------------------------------------------------------ members */

/* One network of a member: its subnet and the next free address (made
 * by the join on a subnet chosen here when missing, avoiding the subnets
 * also[] this up chose before). */
static int member_check_one(struct session *s, const struct net_slot *sl, enum gw_ipv6 ipv6,
			    const struct ip_prefix *also, size_t n_also, struct net_state *n,
			    bool *missing, struct nsg_err *e)
{
	int r = state_net_load(sl->net, n);
	bool dual;

	*missing = r == -ENOENT;
	if (r == -ENOENT) {
		*n = (struct net_state){ 0 };
		snprintf(n->name, sizeof(n->name), "%s", sl->net);
		r = net_subnet_choose(s, n, ipv6, also, n_also, e);
		if (r < 0)
			return r;
	} else if (r < 0)
		return nsg_fail(e, r, NULL, "state of network \"%s\"", sl->net);
	/* A member's IPv6 is its network's: --ipv6 only decides a new one's. */
	dual = ip_addr_is_set(&n->subnet6.addr);
	if ((ipv6 == GW_IPV6_ON && !dual) || (ipv6 == GW_IPV6_OFF && dual))
		return nsg_fail(e, -EINVAL, dual ? "the network is dual-stack" : "the network is IPv4 only",
				"--ipv6 %s with --network \"%s\"", dual ? "off" : "on", sl->net);
	*sl->subnet = n->subnet;
	*sl->subnet6 = n->subnet6;
	r = net_addr_pick(&n->subnet, n->members, n->n_members, sl->addr);
	return r < 0 ? nsg_fail(e, r, "no free address left", "network \"%s\"", sl->net) : 0;
}

void net_up_clear(struct net_up *nu)
{
	for (unsigned k = 0; k < nu->n; k++)
		net_state_clear(&nu->net[k]);
	nu->n = 0;
}

int network_member_check(struct session *s, struct gw_spec *spec, struct net_up *nu,
			 struct nsg_err *e)
{
	struct net_slot sl[GW_NETS_MAX];
	struct ip_prefix chosen[2 * GW_NETS_MAX];   /* both families */
	size_t n_chosen = 0;
	unsigned n;
	int r = 0;

	if (spec->subnet_given || spec->subnet6_given)
		return nsg_fail(e, -EINVAL, "a member's addresses are its network's",
				"--network \"%s\" with --subnet or --subnet6", spec->network);
	if (spec->uplink[0] || spec->no_host)
		return nsg_fail(e, -EINVAL, "not for network members yet",
				"--network \"%s\" with --uplink or --no-host", spec->network);
	net_bridge_ifname(spec->network, spec->net_bridge);
	for (unsigned k = 0; k < spec->n_nets_more; k++) {
		spec_net_more_names(spec, k);
		if (!strcmp(spec->ns_ifname, spec->nets_more[k].ns_ifname))
			return nsg_fail(e, -EINVAL, "the interfaces of its further networks",
					"--ns-ifname \"%s\" with %u networks", spec->ns_ifname,
					spec->n_nets_more + 1);
	}
	n = slots_of(spec, sl);
	for (unsigned k = 0; k < n && r == 0; k++) {
		r = member_check_one(s, &sl[k], spec->ipv6, chosen, n_chosen, &nu->net[k],
				     &nu->missing[k], e);
		nu->n = k + 1;
		chosen[n_chosen++] = *sl[k].subnet;
		if (r == 0 && ip_addr_is_set(&sl[k].subnet6->addr))
			chosen[n_chosen++] = *sl[k].subnet6;
	}
	return r;
}

/* Record the member in one network's file (the network made if missing). */
static int member_join_one(struct session *s, const struct gw_spec *spec, const struct net_slot *sl,
			   struct net_state *n, bool missing, bool multi, bool *made,
			   struct nsg_err *e)
{
	struct net_member m = { 0 };
	int r;

	/* network_member_check loaded n, or chose the subnet of a missing one. */
	if (missing) {
		r = net_make(s, n, e);
		if (r < 0)
			return r;
		*made = true;
	}
	snprintf(m.name, sizeof(m.name), "%s", spec->name);
	m.addr = *sl->addr;
	/* The port names a member of several networks (its file then says
	 * which of them gets hosts of its own). */
	if (multi)
		snprintf(m.port, sizeof(m.port), "%s", sl->port);
	/* A line a crash left for this name is replaced, not doubled. */
	net_member_remove(n, spec->name);
	r = net_member_add(n, &m);
	if (r < 0)
		return nsg_fail(e, r, NULL, "network \"%s\"", sl->net);
	return state_net_save(n, e);
}

int network_member_join(struct session *s, struct gw_spec *spec, struct net_up *nu, bool *made,
			struct nsg_err *e)
{
	struct net_slot sl[GW_NETS_MAX];
	unsigned n = slots_of(spec, sl);
	int r = 0;

	*made = false;
	for (unsigned k = 0; k < n && k < nu->n && r == 0; k++) {
		r = member_join_one(s, spec, &sl[k], &nu->net[k], nu->missing[k], n > 1, made, e);
		if (r == 0)
			nu->missing[k] = false;
	}
	return r;
}

void network_member_undo(struct session *s, const struct gw_spec *spec)
{
	struct net_slot sl[GW_NETS_MAX];
	unsigned n = slots_of(spec, sl);

	for (unsigned k = 0; k < n; k++) {
		_cleanup_net_ struct net_state net = { 0 };

		if (state_net_load(sl[k].net, &net) == 0)
			net_prune(s, &net, member_not, spec->name, NULL);
	}
}

int network_veths_more(struct session *s, const struct gw_spec *spec, const char *alias,
		       int netns_fd, struct nsg_err *e)
{
	int r = 0;

	for (unsigned k = 0; k < spec->n_nets_more && r == 0; k++)
		r = link_veth_create(s->host, spec->nets_more[k].port, alias,
				     spec->nets_more[k].ns_ifname, netns_fd, e);
	return r;
}

void network_veths_more_undo(struct session *s, const struct gw_spec *spec)
{
	for (unsigned k = 0; k < spec->n_nets_more; k++)
		link_delete(s->host, spec->nets_more[k].port, NULL);
}

int network_port_up(struct session *s, const struct gw_spec *spec, const struct net_up *nu,
		    struct nsg_err *e)
{
	struct net_slot sl[GW_NETS_MAX];
	unsigned n = slots_of(spec, sl);
	int r = 0;

	for (unsigned k = 0; k < n && k < nu->n && r == 0; k++) {
		const struct net_state *net = &nu->net[k];
		char key[80];

		/* A port is a wire of the bridge: no address, no IPv6 of its own. */
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", sl[k].port);
		r = sysctl_write(key, "1");
		if (r < 0 && r != -ENOENT)
			return nsg_fail(e, r, NULL, "sysctl %s", key);
		r = bridge_port_attach(s->host, sl[k].port, net->bridge, net->isolated, e);
		if (r == 0)
			r = link_set_up(s->host, sl[k].port, e);
	}
	return r;
}

int network_ns_mac(struct nl_sock *ns, const struct gw_spec *spec, struct nsg_err *e)
{
	uint8_t mac[6];

	net_mac_of(&spec->net_addr, mac);
	return link_set_mac(ns, spec->ns_ifname, mac, e);
}

int network_ns_addrs6(struct nl_sock *ns, const char *ifname, const struct ip_prefix *subnet,
		      const struct ip_prefix *subnet6, const struct ip_addr *addr, struct nsg_err *e)
{
	struct ip_addr a6 = net_addr6_of(subnet, subnet6, addr), ll = net_ll6_of(subnet, addr);
	int r = link_set_ipv6_manual(ns, ifname, e);

	if (r == 0)
		r = link_addr_add(ns, ifname, &a6, GW_SUBNET6_PLEN, e);
	if (r == 0)
		r = link_addr_add(ns, ifname, &ll, 64, e);
	return r;
}

/* Only the subnet's route (the kernel's, with the address): the default
 * route is the first network's. */
int network_ns_links_more(struct nl_sock *ns, const struct gw_spec *spec, struct nsg_err *e)
{
	int r = 0;

	for (unsigned k = 0; k < spec->n_nets_more && r == 0; k++) {
		const struct gw_net_more *m = &spec->nets_more[k];
		uint8_t mac[6];

		net_mac_of(&m->addr, mac);
		r = link_set_mac(ns, m->ns_ifname, mac, e);
		if (r == 0)
			r = link_addr_add(ns, m->ns_ifname, &m->addr, m->subnet.plen, e);
		if (r == 0 && ip_addr_is_set(&m->subnet6.addr))
			r = network_ns_addrs6(ns, m->ns_ifname, &m->subnet, &m->subnet6, &m->addr, e);
		if (r == 0)
			r = link_set_up(ns, m->ns_ifname, e);
	}
	return r;
}

int network_queue_more_inet(struct nftx *nft, const struct gw_spec *spec)
{
	int r = 0;

	/* With br_netfilter, bridged packets meet the inet guard too, coming in
	 * on the bridge: each further network's bridge . address is a source of
	 * the member's (as its first one's; its port in ifaces). */
	for (unsigned k = 0; k < spec->n_nets_more && r == 0; k++) {
		const struct gw_net_more *m = &spec->nets_more[k];
		struct ruleset_gw gw = { .name = spec->name, .host_ifname = m->port,
					 .uplink = "", .ns_addr = m->addr, .bridge = m->bridge,
					 .ns_addr6 = net_addr6_of(&m->subnet, &m->subnet6, &m->addr) };

		if (ip_addr_is_set(&gw.ns_addr6))
			gw.ns_ll6 = net_ll6_of(&m->subnet, &m->addr);

		r = ruleset_queue_gateway(nft, &gw, false);
	}
	return r;
}

int network_queue_member(struct nftx *nft, const struct gw_spec *spec, const struct net_up *nu)
{
	struct net_slot sl[GW_NETS_MAX];
	unsigned n = slots_of(spec, sl);
	int r = 0;

	for (unsigned k = 0; k < n && k < nu->n && r == 0; k++) {
		const struct net_state *net = &nu->net[k];

		/* Idempotent: the skeleton refills its chains, an element that is
		 * there is added again as a no-op. A member's up thus also repairs both. */
		r = ruleset_queue_bridge_skeleton(nft);
		if (r == 0)
			r = ruleset_queue_network(nft, net->name, net->bridge, net->isolated, false);
		if (r == 0)
			r = queue_port_srcs(nft, spec->name, sl[k].port, net, sl[k].addr, false);
	}
	return r < 0 ? r : network_queue_more_inet(nft, spec);
}

/* After a flush: every network's elements, and its members' port
 * elements (their inet ones come back with the gateways). */
int network_restore_queue(struct nftx *nft)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int n = state_net_names(&names), r = 0;

	for (int i = 0; i < n && r == 0; i++) {
		_cleanup_net_ struct net_state net = { 0 };

		if (state_net_load(names[i], &net) < 0 || !net.n_members)
			continue;
		r = ruleset_queue_bridge_skeleton(nft);
		if (r == 0)
			r = ruleset_queue_network(nft, net.name, net.bridge, net.isolated, false);
		for (size_t k = 0; k < net.n_members && r == 0; k++) {
			const struct net_member *m = &net.members[k];
			char port[IF_NAMESIZE];

			net_member_port(m, port);
			r = queue_port_srcs(nft, m->name, port, &net, &m->addr, false);
		}
	}
	return n < 0 ? n : r;
}

/* Whether network n (with members) has all it should have in both tables:
 * 1 yes, 0 no, -errno. One lookup per element: gc's and watch's cost,
 * never up's. */
static int net_intact(struct nftx *nft, const struct net_state *n)
{
	int r = ruleset_network_present(nft, n->bridge, n->isolated);

	for (size_t i = 0; r > 0 && i < n->n_members; i++) {
		const struct net_member *m = &n->members[i];
		char port[IF_NAMESIZE];

		net_member_port(m, port);
		r = port_srcs_present(nft, port, n, &m->addr);
	}
	return r;
}

/* A bridge someone deleted (its members' ports fell off it): made again,
 * and the ports that are still there put back on it. 1 when it was. */
static int net_bridge_repair(struct session *s, const struct net_state *n, struct nsg_err *e)
{
	int r;

	/* A restore without rtnetlink (watch's, after an nftables event): a
	 * deleted bridge is a link event, whose gc (with rtnetlink) repairs it. */
	if (!s->host || link_index(s->host, n->bridge) > 0)
		return 0;
	r = net_bridge_make(s, n, e);
	for (size_t i = 0; r == 0 && i < n->n_members; i++) {
		char port[IF_NAMESIZE];

		net_member_port(&n->members[i], port);
		if (link_index(s->host, port) > 0)
			r = bridge_port_attach(s->host, port, n->bridge, n->isolated, e);
	}
	return r < 0 ? r : 1;
}

int network_repair(struct session *s, bool *repaired, struct nsg_err *e)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	int n = state_net_names(&names), r = 0;
	bool whole = true, any = false;

	if (n < 0)
		return nsg_fail(e, n, NULL, "listing networks");
	for (int i = 0; i < n && r >= 0; i++) {
		_cleanup_net_ struct net_state net = { 0 };

		if (state_net_load(names[i], &net) < 0 || !net.n_members)
			continue;
		any = true;
		r = net_bridge_repair(s, &net, e);
		if (r < 0)
			return r;
		if (r > 0 && repaired)
			*repaired = true;
		r = whole ? net_intact(s->nft, &net) : 0;
		whole = r > 0;
	}
	if (r >= 0 && any && whole)
		r = ruleset_bridge_complete(s->nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading the networks' nftables elements");
	if (!any || r > 0)
		return 0;
	/* Adds of what is there change nothing: everything of every network. */
	nftx_batch_begin(s->nft);
	r = network_restore_queue(s->nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	r = nftx_batch_commit(s->nft, e);
	if (r == 0 && repaired)
		*repaired = true;
	return r;
}

/* --------------------------------------------------------- operations */

/* Network name as asked (subnet NULL: any), made explicitly: *unchanged
 * when it was so already; check_only: only say whether it can be. */
/* Whether an existing network n is as asked for IPv6 (auto: either). */
static bool net_ipv6_same(const struct net_state *n, const struct net_opts *o)
{
	bool dual = ip_addr_is_set(&n->subnet6.addr);

	if (o->subnet6)
		return dual && ip_prefix_eq(o->subnet6, &n->subnet6);
	return o->ipv6 == GW_IPV6_AUTO || dual == (o->ipv6 == GW_IPV6_ON);
}

static int net_ensure(struct session *s, const char *name, const struct net_opts *o,
		      bool check_only, bool *unchanged, struct nsg_err *e)
{
	_cleanup_net_ struct net_state n = { 0 };
	const struct ip_prefix *subnet = o->subnet;
	bool isolated = o->isolated;
	int r = state_net_load(name, &n);

	*unchanged = false;
	if (r == 0) {
		if (n.isolated != isolated || (subnet && !ip_prefix_eq(subnet, &n.subnet)) ||
		    !net_ipv6_same(&n, o))
			return nsg_fail(e, -EEXIST, "exists with other settings", "network \"%s\"",
					name);
		*unchanged = n.explicit_;
		n.explicit_ = true;
		return *unchanged || check_only ? 0 : state_net_save(&n, e);
	}
	if (r != -ENOENT)
		return nsg_fail(e, r, NULL, "state of network \"%s\"", name);
	n = (struct net_state){ .isolated = isolated, .explicit_ = true };
	snprintf(n.name, sizeof(n.name), "%s", name);
	if (subnet) {
		n.subnet = *subnet;
		n.subnet_given = true;
	}
	if (o->subnet6) {
		n.subnet6 = *o->subnet6;
		n.subnet6_given = true;
	}
	r = net_subnet_choose(s, &n, o->ipv6, NULL, 0, e);
	return r < 0 || check_only ? r : net_make(s, &n, e);
}

int network_create(const char *name, const struct net_opts *o, bool *unchanged, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r = spec_name_check(name, e);

	*unchanged = false;
	if (r == 0)
		r = session_open(&s, SESSION_ALL, e);
	return r < 0 ? r : net_ensure(&s, name, o, false, unchanged, e);
}

int network_apply(struct session *s, const struct config *cfg, struct nsg_err *e)
{
	bool unchanged;
	int r = 0;

	/* Every network checked before any is made: a file that cannot be
	 * applied changes nothing. */
	for (int pass = 0; pass < 2 && r == 0; pass++)
		for (size_t i = 0; i < cfg->n_nets && r == 0; i++) {
			const struct config_net *cn = &cfg->nets[i];
			struct net_opts o = { .subnet = cn->subnet_given ? &cn->subnet : NULL,
					      .isolated = cn->isolated, .ipv6 = cn->ipv6,
					      .subnet6 = cn->subnet6_given ? &cn->subnet6 : NULL };

			r = net_ensure(s, cn->name, &o, pass == 0, &unchanged, e);
			if (r < 0) {
				char why[sizeof(e->why)];

				snprintf(why, sizeof(why), "%s", nsg_err_reason(e));
				nsg_fail(e, r, why, "%s:%u: network \"%s\"", cfg->file, cn->line,
					 cn->name);
			}
		}
	return r;
}

int network_rm(const char *name, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_net_ struct net_state n = { 0 };
	int r = session_open(&s, SESSION_ALL, e);

	if (r < 0)
		return r;
	r = state_net_load(name, &n);
	if (r == -ENOENT)
		return nsg_fail_kind(e, NSG_KIND_NOT_FOUND, r, "no such network", "network \"%s\"",
				     name);
	if (r < 0)
		return nsg_fail(e, r, NULL, "state of network \"%s\"", name);
	/* Members whose gateway went without telling (a crash) do not count;
	 * a network made by up goes with them. */
	r = net_prune(&s, &n, member_alive, NULL, e);
	if (r < 0 || (!n.explicit_ && !n.n_members))
		return r;
	if (n.n_members)
		return nsg_fail_kind(e, NSG_KIND_CONFLICT, -EBUSY, "has members (down them first)",
				     "network \"%s\"", name);
	return net_destroy(&s, &n, e);
}

int network_list(struct net_view **ret, size_t *n_ret, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	struct net_view *v;
	int n, r = session_open(&s, SESSION_RTNL, e);

	if (r < 0)
		return r;
	n = state_net_names(&names);
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing networks");
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*n_ret = 0;
	for (int i = 0; i < n; i++) {
		struct net_view *one = &v[*n_ret];

		if (state_net_load(names[i], &one->net) < 0)
			continue;
		one->bridge_present = link_index(s.host, one->net.bridge) > 0;
		(*n_ret)++;
	}
	*ret = v;
	return 0;
}

void network_list_free(struct net_view *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		net_state_clear(&v[i].net);
	free(v);
}
