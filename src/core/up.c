/* SPDX-License-Identifier: MIT */
/*
 * up: a list of steps, each with its undo; a failing step undoes the ones
 * done, in reverse, so a failed up leaves nothing behind. Everything that
 * can be refused is refused in up_check, before the first step.
 */
#include "core.h"

struct up_ctx {
	struct gw_state st;
	int netns_fd;
	struct nl_sock *host;   /* the session's */
	struct nl_sock *ns;     /* in the gateway's namespace: ours */
	struct nftx *nft;       /* the session's */
	struct session *s;
	struct fwd_change fwd;
	struct fwd6_change fwd6;
	bool table_existed;
	bool other_gateways;
	const char *warning;
	const char *lan_warning;
	const struct portmap *pubs;
	size_t n_pubs;
	bool force;
	bool intent_saved;      /* the "creating" state file is written */
	bool netns_pinned;      /* /run/netns/NAME is ours */
	struct fw_survey fw;    /* other firewalls, as up_check found them */
	bool fw_opened;         /* step_firewall changed one */
	pid_t run_pid;
	bool net_joined;        /* a network member: recorded in its network */
	struct net_up nets;     /* its networks, loaded once (network_member_check) */
	struct nsg_err *e;
};

/*
 * The first change is the record of the intent: the state file, marked
 * "creating", written before anything else exists, so that whatever a kill
 * leaves from here on is found (by gc, or an up of the same name) and
 * removed. A namespace nsgate makes is created first, held only by this
 * process (a kill frees it), so that the record can hold its inode; only
 * then is it mounted on /run/netns/NAME.
 */
static int step_netns(struct up_ctx *c)
{
	struct gw_spec *s = &c->st.spec;
	int r;

	if (s->netns_kind == GW_NETNS_OWN) {
		r = netns_new(&c->netns_fd, &c->st.netns_ino, c->e);
		if (r < 0)
			return r;
		c->st.netns_created = true;
	} else {
		/* An attached namespace was opened (and checked) before any change. */
		r = netns_ident(c->netns_fd, &c->st.netns_ino);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "netns \"%s\"", s->netns_path);
	}
	c->st.creating = true;
	r = state_save(&c->st, c->e);
	if (r < 0)
		return r;
	c->intent_saved = true;
	if (s->netns_kind == GW_NETNS_OWN) {
		r = netns_pin(s->name, c->netns_fd, c->e);
		if (r < 0)
			return r;
		c->netns_pinned = true;
	}
	return 0;
}

/* Runs last: the record goes once all it describes is gone. */
static void undo_netns(struct up_ctx *c)
{
	if (c->netns_pinned)
		netns_delete(c->st.spec.name, c->st.netns_ino);
	if (c->intent_saved)
		state_remove(c->st.spec.name);
}

/* A network member: its network made if missing, its address recorded. */
static int step_network(struct up_ctx *c)
{
	bool made;
	int r;

	if (!c->st.spec.network[0])
		return 0;
	r = network_member_join(c->s, &c->st.spec, &c->nets, &made, c->e);
	/* Even when it failed: the networks before the failing one have it
	 * (the undo changes nothing of a network without it). */
	c->net_joined = true;
	return r;
}

static void undo_network(struct up_ctx *c)
{
	if (c->net_joined)
		network_member_undo(c->s, &c->st.spec);
}

/* The uplinks' forwarding; the veth's goes with the link (step_host_link). */
static int step_forwarding(struct up_ctx *c)
{
	return forward_uplinks_on(c->s, c->st.spec.uplink, &c->fwd, c->e);
}

static void undo_forwarding(struct up_ctx *c)
{
	forward_uplinks_undo(c->s, &c->fwd);
}

/* IPv6's, for a dual-stack gateway (forward6.c). */
static int step_forwarding6(struct up_ctx *c)
{
	if (!spec_wants_ipv6(&c->st.spec))
		return 0;
	return forward6_on(c->s, c->st.spec.uplink, &c->fwd6, c->e);
}

static void undo_forwarding6(struct up_ctx *c)
{
	forward6_undo(c->s, &c->fwd6);
}

static int step_veth(struct up_ctx *c)
{
	char alias[64];

	int r;

	inventory_alias(&c->st, alias, sizeof(alias));
	r = link_veth_create(c->host, c->st.spec.host_ifname, alias, c->st.spec.ns_ifname,
			     c->netns_fd, c->e);
	/* The id the host gave the namespace for the veth, by which down
	 * --all asks whether the namespace is still held (teardown.c,
	 * many_settle_marked); without it (an older state file) down --all
	 * retires the link as down does. */
	if (r == 0)
		c->st.netnsid_known = link_netns_id(c->host, c->netns_fd, &c->st.netnsid) == 0;
	/* A member's further networks: a veth each, labelled the same. */
	return r < 0 ? r : network_veths_more(c->s, &c->st.spec, alias, c->netns_fd, c->e);
}

static void undo_veth(struct up_ctx *c)
{
	link_delete(c->host, c->st.spec.host_ifname, NULL);
	network_veths_more_undo(c->s, &c->st.spec);
}

/* An IPv4-only gateway has no IPv6 on the host side. With it, bringing the
 * link up adds link-local, multicast and local routes to the host's IPv6
 * FIB, and each later link's up walks that FIB: the thousandth gateway's up
 * took 1.2-1.5x as long as the first. No kernel IPv6 (ENOENT): fine. */
static int host_link_no6(struct up_ctx *c)
{
	char key[64];
	int r;

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", c->st.spec.host_ifname);
	r = sysctl_write(key, "1");
	return r < 0 && r != -ENOENT ? nsg_fail(c->e, r, NULL, "sysctl %s", key) : 0;
}

/* The host side of a dual-stack gateway, before it comes up: ::1 and
 * fe80::1 only (no address of the kernel's making, no DAD); forwarding of
 * what the namespace sends; and nothing learned from it: a namespace's root
 * may send router advertisements and redirects. These settings go with
 * the link. */
static int host_link6(struct up_ctx *c)
{
	static const struct {
		const char *name, *value;
		bool per_interface_only;
	} sysctls[] = {
		{ "accept_ra", "0", false },
		{ "accept_redirects", "0", false },
		{ "autoconf", "0", false },
		{ "force_forwarding", "1", true },
	};
	const struct gw_spec *s = &c->st.spec;
	struct ip_addr host = spec_host_addr6(&s->subnet6), ll;
	bool per_if = forward6_per_interface();
	char key[80];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(sysctls); i++) {
		if (sysctls[i].per_interface_only && !per_if)
			continue;
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/%s", s->host_ifname, sysctls[i].name);
		r = sysctl_write(key, sysctls[i].value);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "sysctl %s", key);
	}
	ip_addr_parse(GW_LL_HOST, AF_INET6, &ll);
	r = link_set_ipv6_manual(c->host, s->host_ifname, c->e);
	if (r == 0)
		r = link_addr_add(c->host, s->host_ifname, &host, GW_SUBNET6_PLEN, c->e);
	if (r == 0)
		r = link_addr_add(c->host, s->host_ifname, &ll, 64, c->e);
	return r;
}

static int step_host_link(struct up_ctx *c)
{
	const struct gw_spec *s = &c->st.spec;
	struct ip_addr host = spec_host_addr(&s->subnet);
	char key[64];
	int r;

	if (s->network[0])
		return network_port_up(c->s, s, &c->nets, c->e);
	r = link_addr_add(c->host, s->host_ifname, &host, s->subnet.plen, c->e);
	if (r < 0)
		return r;
	/* Lets the host reach published ports at 127.0.0.1: the DNATed packet
	 * leaves through this link with its loopback source (masqueraded in
	 * postrouting). The setting lives and dies with the link. */
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/route_localnet", s->host_ifname);
	r = sysctl_write(key, "1");
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "sysctl %s", key);
	/* The namespace's packets come in here: forwarded only with this on,
	 * whatever the global switch says. */
	snprintf(key, sizeof(key), SYSCTL_IF_FORWARDING, s->host_ifname);
	r = sysctl_write(key, "1");
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "sysctl %s", key);
	r = spec_has_ipv6(s) ? host_link6(c) : host_link_no6(c);
	return r < 0 ? r : link_set_up(c->host, s->host_ifname, c->e);
}

/* The namespace's ::2 and fe80::2, the only IPv6 sources the guard lets
 * through (ns_addrs6): no address of the kernel's making, no DAD. */
static int ns_link6_addrs(struct up_ctx *c)
{
	const struct gw_spec *s = &c->st.spec;
	struct ip_addr ns = spec_ns_addr6(&s->subnet6), ll;
	int r;

	/* A member's: its own address in its network's /64 and link-local. */
	if (s->network[0])
		return network_ns_addrs6(c->ns, s->ns_ifname, &s->subnet, &s->subnet6, &s->net_addr,
					 c->e);
	r = link_set_ipv6_manual(c->ns, s->ns_ifname, c->e);

	ip_addr_parse(GW_LL_NS, AF_INET6, &ll);
	if (r == 0)
		r = link_addr_add(c->ns, s->ns_ifname, &ns, GW_SUBNET6_PLEN, c->e);
	if (r == 0)
		r = link_addr_add(c->ns, s->ns_ifname, &ll, 64, c->e);
	return r;
}

static int step_ns_link(struct up_ctx *c)
{
	const struct gw_spec *s = &c->st.spec;
	struct ip_addr host = spec_host_addr(&s->subnet), ns = spec_gw_ns_addr(s);
	int r;

	if (!c->ns) {
		r = link_sock_open_in(c->netns_fd, &c->ns);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "netlink socket in netns \"%s\"", s->netns_path);
	}
	/* A namespace nsgate made has lo down; an attached one's is left as it is
	 * found when it is up already. */
	r = c->st.netns_created || c->st.lo_set_up ? link_set_up(c->ns, "lo", c->e) : 0;
	if (r == 0 && s->network[0])
		r = network_ns_mac(c->ns, s, c->e);
	if (r == 0)
		r = network_ns_links_more(c->ns, s, c->e);
	if (r == 0)
		r = link_addr_add(c->ns, s->ns_ifname, &ns, s->subnet.plen, c->e);
	if (r == 0 && spec_has_ipv6(s))
		r = ns_link6_addrs(c);
	if (r == 0)
		r = link_set_up(c->ns, s->ns_ifname, c->e);
	if (r == 0)
		r = link_route_default_add(c->ns, s->ns_ifname, &host, c->e);
	if (r == 0 && spec_has_ipv6(s)) {
		struct ip_addr host6 = spec_host_addr6(&s->subnet6);

		r = link_route_default_add(c->ns, s->ns_ifname, &host6, c->e);
	}
	return r;
}

/* The link's addresses and routes go with the veth; lo goes back down. */
static void undo_ns_link(struct up_ctx *c)
{
	if (c->ns && c->st.lo_set_up)
		link_set_down(c->ns, "lo", NULL);
}

static int step_nft(struct up_ctx *c)
{
	struct ruleset_gw gw = gw_rules_of(&c->st.spec);
	int r;

	/* The dns step writes resolv.conf after this one: the DNS servers a
	 * --no-host gateway may use come from the same rendering. */
	if (gw.no_host) {
		_cleanup_free_ char *content = NULL;
		const char *warning;

		r = dns_render_host(&c->st.spec, &content, &warning);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "resolv.conf for \"%s\"", c->st.spec.name);
		gw_rules_dns(&gw, content ? content : "");
	}
	nftx_batch_begin(c->nft);
	/* The table's rules are written when it is created; later gateways only
	 * add elements, the cheapest transaction there is. */
	r = c->table_existed ? 0 : ruleset_queue_skeleton(c->nft);
	/* No table but other gateways: someone flushed the ruleset. Theirs
	 * come back in the same transaction, and the uplinks' guard with them;
	 * otherwise the guard gets any uplink this up turned on. */
	if (r == 0 && !c->table_existed && c->other_gateways)
		r = restore_queue(c->nft, c->st.spec.name, NULL);
	else if (r == 0)
		r = forward_guard_queue(c->nft);
	if (r == 0)
		r = ruleset_queue_gateway(c->nft, &gw, false);
	if (r == 0 && c->st.spec.network[0])
		r = network_queue_member(c->nft, &c->st.spec, &c->nets);
	if (r == 0) {
		struct gw_target to = gw_target_of(&c->st.spec);

		r = ruleset_queue_publish(c->nft, c->st.spec.name, &to, c->pubs, c->n_pubs, false);
	}
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "nftables batch");
	return nftx_batch_commit(c->nft, c->e);
}

static void undo_nft(struct up_ctx *c)
{
	size_t found;

	nftx_batch_begin(c->nft);
	if (!c->table_existed && !c->other_gateways)
		ruleset_queue_table_delete(c->nft);
	else
		ruleset_queue_owned_delete(c->nft, c->st.spec.name, &found);
	nftx_batch_commit(c->nft, NULL);
}

/* Other firewalls that would drop the gateway's traffic (Docker's FORWARD
 * policy, ufw's, firewalld's zones): opened through their own means, for
 * every gateway link, unless --firewall none. What cannot be opened is
 * reported (up's result) and left as it is. */
static int step_firewall(struct up_ctx *c)
{
	if (c->st.spec.firewall != GW_FIREWALL_AUTO || !firewall_blocking(&c->fw))
		return 0;
	c->fw_opened = true;
	return firewall_open(c->s, &c->fw, c->e);
}

/* What was opened stays while another gateway is there. */
static void undo_firewall(struct up_ctx *c)
{
	if (c->fw_opened && !inventory_others_exist(c->st.spec.name))
		firewall_close(c->s);
}

static int step_dns(struct up_ctx *c)
{
	_cleanup_free_ char *content = NULL;
	int r = dns_render_host(&c->st.spec, &content, &c->warning);

	if (r < 0)
		return nsg_fail(c->e, r, NULL, "resolv.conf for \"%s\"", c->st.spec.name);
	/* The members' names: the network's hosts lists this one now, and
	 * its /etc/netns/NAME/hosts links there. */
	if (c->st.spec.network[0]) {
		r = network_hosts_sync(&c->st.spec, &c->nets, c->e);
		if (r < 0)
			return r;
	}
	if (!content)
		return 0;
	return dns_write(c->st.spec.name, content, c->e);
}

static void undo_dns(struct up_ctx *c)
{
	dns_remove(c->st.spec.name);
}

static int step_state(struct up_ctx *c)
{
	int r;

	/* The run mark first: a run killed right after it is still found by gc. */
	if (c->run_pid) {
		r = state_run_mark(c->st.spec.name, c->run_pid);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, STATE_DIR "/runs/%s.run", c->st.spec.name);
	}
	r = state_ports_save(c->st.spec.name, c->pubs, c->n_pubs);
	if (r < 0)
		return nsg_fail(c->e, r, NULL, STATE_DIR "/%s.ports", c->st.spec.name);
	/* The last change: from here on the gateway is complete. */
	c->st.creating = false;
	r = state_save(&c->st, c->e);
	if (r < 0) {
		c->st.creating = true;
		state_ports_remove(c->st.spec.name);
	}
	return r;
}

/* The state file itself goes last, with the netns step's undo. */
static void undo_state(struct up_ctx *c)
{
	state_ports_remove(c->st.spec.name);
	state_run_clear(c->st.spec.name);
}

/* LAN mode (lan.c): the macvlan, its address and routes, in the namespace. */
static int step_lan(struct up_ctx *c)
{
	int r;

	if (!c->ns) {
		r = link_sock_open_in(c->netns_fd, &c->ns);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "netlink socket in netns \"%s\"",
					c->st.spec.netns_path);
	}
	return lan_link_up(c->host, c->ns, c->netns_fd, &c->st, c->e);
}

static void undo_lan(struct up_ctx *c)
{
	lan_link_undo(c->ns, &c->st);
}

struct up_step {
	const char *name;
	int (*run)(struct up_ctx *c);
	void (*undo)(struct up_ctx *c);
};

/* Undo of the veth also takes the addresses and routes on both of its ends. */
static const struct up_step up_steps[] = {
	{ "netns", step_netns, undo_netns },
	{ "network", step_network, undo_network },
	{ "forwarding", step_forwarding, undo_forwarding },
	{ "forwarding6", step_forwarding6, undo_forwarding6 },
	{ "veth", step_veth, undo_veth },
	{ "host_link", step_host_link, NULL },
	{ "ns_link", step_ns_link, undo_ns_link },
	{ "nftables", step_nft, undo_nft },
	{ "firewall", step_firewall, undo_firewall },
	{ "dns", step_dns, undo_dns },
	{ "state", step_state, undo_state },
};

/* A LAN gateway: no forwarding, veth, nftables or other firewalls. */
static const struct up_step lan_steps[] = {
	{ "netns", step_netns, undo_netns },
	{ "lan", step_lan, undo_lan },
	{ "dns", step_dns, undo_dns },
	{ "state", step_state, undo_state },
};

static bool same_request(const struct gw_spec *req, const struct gw_state *have)
{
	const struct gw_spec *h = &have->spec;

	if (req->netns_kind != h->netns_kind || strcmp(req->netns_path, h->netns_path) ||
	    strcmp(req->ns_ifname, h->ns_ifname))
		return false;
	if (req->subnet_given && !ip_prefix_eq(&req->subnet, &h->subnet))
		return false;
	if (req->subnet6_given && !ip_prefix_eq(&req->subnet6, &h->subnet6))
		return false;
	/* auto is what was decided then: a host that gained an IPv6 route
	 * since keeps the gateway as it is until it is made again. */
	if (req->ipv6 != h->ipv6 && !(req->subnet6_given && h->subnet6_given))
		return false;
	if (strcmp(req->lan.iface, h->lan.iface) || !ip_addr_eq(&req->lan.addr, &h->lan.addr) ||
	    req->lan.plen != h->lan.plen ||
	    (req->lan.gateway_given && !ip_addr_eq(&req->lan.gateway, &h->lan.gateway)))
		return false;
	return !strcmp(req->uplink, h->uplink) && spec_networks_same(req, h) &&
	       spec_dns_same(req, h) &&
	       req->no_host == h->no_host && req->firewall == h->firewall;
}

/* A gateway of that name already: 1 when it is up as asked (nothing to
 * do), 0 when there is none or what was left of it (a crash, a broken
 * gateway) has been cleared, -EEXIST when it is up otherwise. */
static int up_check_existing(struct up_ctx *c, const struct gw_spec *req,
			     struct gw_up_result *res)
{
	struct link_info li;
	struct gw_state have;
	int r;

	r = state_load(req->name, &have);
	if (r == 0 && !have.creating) {
		struct gw_view v;

		if (!same_request(req, &have))
			return nsg_fail(c->e, -EEXIST, "is up with other settings (down it first)",
					"gateway \"%s\"", req->name);
		r = view_one(c->s, req->name, &v, NULL);
		if (r == 0 && !strcmp(v.status, "up")) {
			bool same = portmap_count_ports(c->pubs, c->n_pubs) == v.n_pub &&
				    portmap_match(c->pubs, c->n_pubs, v.pub, v.n_pub, NULL) == 0;
			gateway_view_clear(&v);
			if (!same)
				return nsg_fail(c->e, -EEXIST, "is up with other published ports "
						"(use nsgate publish or unpublish)", "gateway \"%s\"", req->name);
			res->unchanged = true;
			res->state = have;
			return 1;
		}
		if (r == 0)
			gateway_view_clear(&v);
	}
	if (r == 0 || r == -EBADMSG || link_index(c->host, req->host_ifname) > 0) {
		/* Left over from a crash, or broken: clear it and start again. */
		bool found, interrupted = r == 0 && have.creating;

		/* An up killed before it labelled its link left it in the group
		 * that marks it. */
		if (link_get(c->host, req->host_ifname, &li) == 0 &&
		    !inventory_link_is(&li, req->name, NULL) && !dying_link_is(&li, req->name) &&
		    !(interrupted && !li.alias[0] && li.group == LINK_GROUP_UNLABELLED))
			return nsg_fail(c->e, -EEXIST, "exists and is not this gateway's",
					"interface \"%s\"", req->host_ifname);
		return teardown_one(c->s, req->name, &found, c->e);
	}
	return 0;
}

/* An attached namespace: what of it the gateway would clash with, and the
 * state of its lo, to leave it as found. */
static int up_check_attached(struct up_ctx *c)
{
	const struct gw_spec *s = &c->st.spec;
	char dflt[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE];
	struct link_info lo;
	int r;

	r = netns_open(s->netns_path, &c->netns_fd, c->e);
	if (r < 0)
		return r;
	r = link_sock_open_in(c->netns_fd, &c->ns);
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "netlink socket in netns \"%s\"", s->netns_path);
	if (link_index(c->ns, s->ns_ifname) > 0)
		return nsg_fail(c->e, -EEXIST, "the namespace has an interface of that name already",
				"interface \"%s\" in netns \"%s\"", s->ns_ifname, s->netns_arg);
	/* The gateway's default route would clash with it. */
	r = link_default_ifnames(c->ns, dflt, ARRAY_SIZE(dflt));
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "routes of netns \"%s\"", s->netns_arg);
	if (r > 0) {
		r = nsg_fail(c->e, -EEXIST, NULL, "netns \"%s\"", s->netns_arg);
		nsg_why(c->e, "has a default route already (dev %s): delete it first", dflt[0]);
		return r;
	}
	r = link_get(c->ns, "lo", &lo);
	c->st.lo_set_up = r == 0 && !(lo.flags & IFF_UP);
	return 0;
}

/* An attached namespace with an IPv6 default route of its own: its IPv6
 * stays as it is (auto), or, asked for explicitly, the up is refused. */
static int up_check_attached6(struct up_ctx *c)
{
	struct gw_spec *s = &c->st.spec;
	char dflt[1][IF_NAMESIZE];
	int r = link_default_ifnames_of(c->ns, AF_INET6, dflt, ARRAY_SIZE(dflt));

	if (r < 0)
		return nsg_fail(c->e, r, NULL, "IPv6 routes of netns \"%s\"", s->netns_arg);
	if (r == 0)
		return 0;
	/* A member's IPv6 is its network's: no IPv4-only member on a dual-stack one. */
	if (s->ipv6 == GW_IPV6_AUTO && !s->subnet6_given && !s->network[0]) {
		memset(&s->subnet6, 0, sizeof(s->subnet6));
		return 0;
	}
	r = nsg_fail(c->e, -EEXIST, NULL, "netns \"%s\"", s->netns_arg);
	nsg_why(c->e, "has an IPv6 default route already (dev %s): delete it first%s", dflt[0],
		s->network[0] ? "" : ", or --ipv6 off");
	return r;
}

/* Everything that can be refused is refused here, before the first change.
 * 1: up already as asked. */
static int up_check(struct up_ctx *c, const struct gw_spec *req, struct gw_up_result *res)
{
	struct gw_spec *s = &c->st.spec;
	struct link_info li;
	int r;

	/* A front end's own choice of name is checked like --uplink. */
	r = spec_ifname_check(req->ns_ifname, c->e);
	if (r < 0)
		return r;
	r = up_check_existing(c, req, res);
	if (r != 0)
		return r;

	if (spec_is_lan(req)) {
		r = lan_check(c->host, s, &c->lan_warning, c->e);
		if (r < 0)
			return r;
	}
	if (req->uplink[0]) {
		r = link_get(c->host, req->uplink, &li);
		if (r < 0)
			return nsg_fail(c->e, -ENODEV, "no such interface", "--uplink \"%s\"", req->uplink);
		char owner[GW_NAME_MAX + 1];

		if (inventory_alias_owner(li.alias, owner, NULL))
			return nsg_fail(c->e, -EINVAL, "is a gateway's own interface",
					"--uplink \"%s\"", req->uplink);
	}

	if (s->netns_kind == GW_NETNS_OWN) {
		if (access(s->netns_path, F_OK) == 0)
			return nsg_fail(c->e, -EEXIST, "a namespace of that name exists already "
					"(attach it with --netns)", "netns \"%s\"", s->name);
	} else {
		r = up_check_attached(c);
		if (r < 0)
			return r;
	}

	/* The rest is the NAT's: subnets, ports, the table, other firewalls. */
	if (spec_is_lan(s))
		return 0;
	if (s->network[0])
		r = network_member_check(c->s, s, &c->nets, c->e);
	else
		r = subnet_choose(c->host, c->ns, s, c->e);
	if (r == 0 && !s->network[0])
		r = subnet6_choose(c->host, c->ns, s, c->e);
	if (r == 0 && c->ns && spec_has_ipv6(s))
		r = up_check_attached6(c);
	if (r < 0)
		return r;
	if (c->n_pubs) {
		struct portmap *all;
		size_t n_all;

		r = ruleset_published_near(c->nft, c->pubs, c->n_pubs, &all, &n_all);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "reading published ports");
		struct gw_target to = gw_target_of(s);

		r = publish_check(s->name, &to, c->pubs, c->n_pubs, all, n_all, c->force, c->e);
		free(all);
		if (r < 0)
			return r;
	}
	/* A table of an older nsgate's layout counts as missing: the skeleton
	 * then rebuilds its chains in place (flush and refill). */
	r = ruleset_layout_current(c->nft);
	if (r < 0)
		return nsg_fail(c->e, r, r == -EPROTONOSUPPORT || r == -EOPNOTSUPP ?
				"the kernel has no nf_tables support" : NULL, "nftables");
	c->table_existed = r > 0;
	/* Read-only. With --firewall none a failure only costs the warnings. */
	r = firewall_survey(c->s, &c->fw, c->e);
	if (r < 0 && s->firewall == GW_FIREWALL_AUTO)
		return r;
	if (r < 0)
		memset(&c->fw, 0, sizeof(c->fw));
	/* Only without a table does it matter (restore, or undo deleting it). */
	c->other_gateways = !c->table_existed && inventory_others_exist(s->name);
	return 0;
}

/* The host and nftables sockets are the session's. */
static void up_ctx_free(struct up_ctx *c)
{
	if (c->netns_fd >= 0)
		close(c->netns_fd);
	link_sock_close(c->ns);
	net_up_clear(&c->nets);
}

int up_run(struct session *s, const struct gw_spec *req, const struct gw_up_opts *o,
	   struct gw_up_result *res, struct nsg_err *e)
{
	struct up_ctx c = { .st.spec = *req, .netns_fd = -1, .e = e, .pubs = o->pubs,
			    .n_pubs = o->n_pubs, .force = o->force, .run_pid = o->run_pid,
			    .host = s->host, .nft = s->nft, .s = s };
	const char *fail_at = getenv(GW_FAIL_STEP_ENV);
	const struct up_step *steps = spec_is_lan(req) ? lan_steps : up_steps;
	size_t done = 0, n_steps = spec_is_lan(req) ? ARRAY_SIZE(lan_steps) : ARRAY_SIZE(up_steps);
	int r;

	memset(res, 0, sizeof(*res));
	r = up_check(&c, req, res);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	for (done = 0; done < n_steps; done++) {
		r = steps[done].run(&c);
		if (r == 0 && fail_at && !strcmp(fail_at, steps[done].name))
			r = nsg_fail(e, -ECANCELED, "injected failure (" GW_FAIL_STEP_ENV ")",
				     "up \"%s\": step %s", req->name, steps[done].name);
		if (r < 0) {
			done++;  /* a failed step may have done part of its work */
			break;
		}
	}
	if (r < 0) {
		while (done-- > 0)
			if (steps[done].undo)
				steps[done].undo(&c);
		goto out;
	}
	res->state = c.st;
	res->warning = c.warning;
	res->lan_warning = c.lan_warning;
	for (size_t i = 0; i < c.fw.blocks.n; i++)
		fw_blocks_add(c.fw.blocks.b[i].opened ? &res->opened : &res->blocked, &c.fw.blocks.b[i]);
out:
	up_ctx_free(&c);
	return r;
}

int gateway_up(const struct gw_spec *req, const struct gw_up_opts *o, struct gw_up_result *res,
	       struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r;

	memset(res, 0, sizeof(*res));
	r = session_open(&s, SESSION_ALL, e);
	/* What a killed `nsgate run` left goes first: it may hold our name. */
	if (r == 0)
		r = gc_run(&s, true, NULL, NULL, e);
	return r < 0 ? r : up_run(&s, req, o, res, e);
}
