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
	struct ip_prefix *subnet;
	struct ip_addr *addr;
};

static unsigned slots_of(const struct gw_spec *spec, struct net_slot out[GW_NETS_MAX])
{
	struct gw_spec *s = (struct gw_spec *)spec;   /* out's pointers: check's to fill */
	unsigned n = 0;

	if (!s->network[0])
		return 0;
	out[n++] = (struct net_slot){ s->network, s->net_bridge, s->host_ifname, s->ns_ifname,
				      &s->subnet, &s->net_addr };
	for (unsigned k = 0; k < s->n_nets_more; k++) {
		struct gw_net_more *m = &s->nets_more[k];

		out[n++] = (struct net_slot){ m->name, m->bridge, m->port, m->ns_ifname,
					      &m->subnet, &m->addr };
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

/* The first /24 of the pool free of the host's routes and addresses (every
 * gateway's /30 and every network's bridge among them) and of the other
 * networks' subnets (a bridge being made may have no route yet); or a
 * given subnet checked against the same. A network is made rarely: the
 * full dump is fine here. */
static int net_subnet_choose(struct session *s, struct net_state *n, const struct ip_prefix *also,
			     size_t n_also, struct nsg_err *e)
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
		grown = realloc(used, (n_used + 1) * sizeof(*used));
		if (!grown)
			return -ENOMEM;
		used = grown;
		used[n_used++] = other.subnet;
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
		return 0;
	}
	hit = ipam_find_overlap(&n->subnet, used, n_used);
	if (hit < 0)
		return 0;
	nsg_fail(e, -EADDRINUSE, NULL, "--subnet \"%s\"", ip_prefix_str(&n->subnet, a));
	nsg_why(e, "overlaps %s, already in use", ip_prefix_str(&used[hit], b));
	return -EADDRINUSE;
}

/* The bridge's settings, before it comes up: forwarding of what members
 * send (decided by the interface it comes in on), route_localnet for the
 * host's 127.0.0.1 to published ports (the guard drops the members' own
 * 127/8), and no IPv6 (IPv4-only networks: nothing of the kernel's making
 * on the link). They go with the link. */
static int bridge_sysctls(const char *bridge, struct nsg_err *e)
{
	static const char *const keys[][2] = {
		{ "net/ipv4/conf/%s/forwarding", "1" },
		{ "net/ipv4/conf/%s/route_localnet", "1" },
		{ "net/ipv6/conf/%s/disable_ipv6", "1" },
	};
	char key[80];

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int r;

		snprintf(key, sizeof(key), keys[i][0], bridge);
		r = sysctl_write(key, keys[i][1]);
		if (r < 0 && !(r == -ENOENT && i == 2))
			return nsg_fail(e, r, NULL, "sysctl %s", key);
	}
	return 0;
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
	r = bridge_sysctls(n->bridge, e);
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
		for (size_t j = 0; j < n.n_members && r == 0; j++)
			r = net_member_add(&all, &n.members[j]);
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
		uint8_t mac[6];

		if (keep(&m, n->name, arg)) {
			i++;
			continue;
		}
		net_member_port(&m, port);
		net_mac_of(&m.addr, mac);
		if (br && r == 0)
			r = ruleset_queue_port_src(s->nft, m.name, port, mac, &m.addr, true);
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
static int member_check_one(struct session *s, const struct net_slot *sl,
			    const struct ip_prefix *also, size_t n_also, struct net_state *n,
			    bool *missing, struct nsg_err *e)
{
	int r = state_net_load(sl->net, n);

	*missing = r == -ENOENT;
	if (r == -ENOENT) {
		*n = (struct net_state){ 0 };
		snprintf(n->name, sizeof(n->name), "%s", sl->net);
		r = net_subnet_choose(s, n, also, n_also, e);
		if (r < 0)
			return r;
	} else if (r < 0)
		return nsg_fail(e, r, NULL, "state of network \"%s\"", sl->net);
	*sl->subnet = n->subnet;
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
	struct ip_prefix chosen[GW_NETS_MAX];
	unsigned n;
	int r = 0;

	if (spec->subnet_given || spec->subnet6_given || spec->ipv6 == GW_IPV6_ON)
		return nsg_fail(e, -EINVAL, "a member's addresses are its network's (IPv4 only)",
				"--network \"%s\" with --subnet, --subnet6 or --ipv6 on", spec->network);
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
	memset(&spec->subnet6, 0, sizeof(spec->subnet6));
	n = slots_of(spec, sl);
	for (unsigned k = 0; k < n && r == 0; k++) {
		r = member_check_one(s, &sl[k], chosen, k, &nu->net[k], &nu->missing[k], e);
		nu->n = k + 1;
		chosen[k] = *sl[k].subnet;
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
					 .uplink = "", .ns_addr = m->addr, .bridge = m->bridge };

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
		uint8_t mac[6];

		/* Idempotent: the skeleton refills its chains, an element that is
		 * there is added again as a no-op. A member's up thus also repairs both. */
		r = ruleset_queue_bridge_skeleton(nft);
		if (r == 0)
			r = ruleset_queue_network(nft, net->name, net->bridge, net->isolated, false);
		net_mac_of(sl[k].addr, mac);
		if (r == 0)
			r = ruleset_queue_port_src(nft, spec->name, sl[k].port, mac, sl[k].addr, false);
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
			uint8_t mac[6];

			net_member_port(m, port);
			net_mac_of(&m->addr, mac);
			r = ruleset_queue_port_src(nft, m->name, port, mac, &m->addr, false);
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
		uint8_t mac[6];

		net_member_port(m, port);
		net_mac_of(&m->addr, mac);
		r = ruleset_port_src_present(nft, port, mac, &m->addr);
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
static int net_ensure(struct session *s, const char *name, const struct ip_prefix *subnet,
		      bool isolated, bool check_only, bool *unchanged, struct nsg_err *e)
{
	_cleanup_net_ struct net_state n = { 0 };
	int r = state_net_load(name, &n);

	*unchanged = false;
	if (r == 0) {
		if (n.isolated != isolated || (subnet && !ip_prefix_eq(subnet, &n.subnet)))
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
	r = net_subnet_choose(s, &n, NULL, 0, e);
	return r < 0 || check_only ? r : net_make(s, &n, e);
}

int network_create(const char *name, const struct ip_prefix *subnet, bool isolated,
		   bool *unchanged, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r = spec_name_check(name, e);

	*unchanged = false;
	if (r == 0)
		r = session_open(&s, SESSION_ALL, e);
	return r < 0 ? r : net_ensure(&s, name, subnet, isolated, false, unchanged, e);
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

			r = net_ensure(s, cn->name, cn->subnet_given ? &cn->subnet : NULL, cn->isolated,
				       pass == 0, &unchanged, e);
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
