/* SPDX-License-Identifier: MIT */
/* show and list: gateways as the kernel and the state files show them. */
#include "core.h"

/*
 * What list reads once for all gateways (one dump each of links, sets and
 * maps) instead of once per gateway: per gateway, every dump would read
 * every gateway's elements, and list would grow with the square of their
 * number (2.2 s for 1,000).
 */
struct view_snapshot {
	const struct link_info *links;          /* nsgate's links, sorted by name */
	size_t n_links;
	const struct ruleset_gw_state *nft;     /* this gateway's elements */
	const struct portmap *pub;              /* its ports */
	size_t n_pub;
	bool brief;                             /* GW_LIST_BRIEF */
	int etc;                                /* /etc/netns, or -errno */
	char (*runs)[GW_NAME_MAX + 1];          /* the run files' names, sorted */
	size_t n_runs;
};

/* Whether the run that owned a gateway ended: with a snapshot, one without
 * a run file is not looked for (list at 10,000 gateways: 10,000 opens). */
static bool view_run_ended(const struct gw_view *v, const struct view_snapshot *snap)
{
	if (snap && !(snap->n_runs && bsearch(v->name, snap->runs, snap->n_runs,
					      sizeof(*snap->runs), inventory_name_cmp)))
		return false;
	return state_run_alive(v->name) == 0;
}

/* A LAN gateway's, from its link on: no rules to miss. Without --address
 * it has none until a DHCP client inside gets one, and is up all the same. */
static const char *view_status_lan(const struct gw_view *v, const struct view_snapshot *snap)
{
	bool has = !ip_addr_is_set(&v->state.spec.lan.addr);

	/* Its link is in its namespace: without the namespace, no link. */
	if (!v->netns_present)
		return "netns-gone";
	if (!v->link_present)
		return "link-missing";
	for (size_t i = 0; i < v->link.n_addrs && !has; i++)
		has = ip_addr_eq(&v->link.addrs[i], &v->state.spec.lan.addr);
	if (!v->link.up || !has)
		return "link-down";
	return view_run_ended(v, snap) ? "run-ended" : "up";
}

/* The first thing broken, or "up". */
static const char *view_status(const struct gw_view *v, const struct view_snapshot *snap)
{
	if (v->state_damaged)
		return "state-damaged";
	if (!v->have_state)
		return "no-state";
	if (v->state.creating)
		return "incomplete";
	if (spec_is_lan(&v->state.spec))
		return view_status_lan(v, snap);
	if (!v->link_present || !v->more_links_present)
		return "link-missing";
	/* A network member's host side is a bridge port, with no address. */
	if (!v->link.up || (v->link.n_addrs == 0 && !v->state.spec.network[0]))
		return "link-down";
	/* Without its source element the guard drops all it sends; without
	 * its no_host element it may reach the host. */
	if (!v->nft.in_ifaces || !v->nft.in_ns_addrs4 || v->state.spec.no_host != v->nft.no_host ||
	    (spec_has_ipv6(&v->state.spec) && !v->nft.in_ns_addrs6) || !v->more_rules_present)
		return "rules-missing";
	if (!v->netns_present)
		return "netns-gone";
	return view_run_ended(v, snap) ? "run-ended" : "up";
}

/* What the kernel says, in the terms of the public view. */
static void link_view_of(const struct link_info *li, struct gw_link_view *ret)
{
	*ret = (struct gw_link_view){ .ifindex = li->ifindex, .up = li->flags & IFF_UP,
				      .mtu = li->mtu };
	snprintf(ret->name, sizeof(ret->name), "%s", li->name);
	for (size_t i = 0; i < li->n_addrs && i < ARRAY_SIZE(ret->addrs); i++) {
		ret->addrs[i] = li->addr_local[i];
		ret->plens[i] = li->addrs[i].plen;
		ret->n_addrs++;
	}
}

static void rules_view_of(const struct ruleset_gw_state *st, struct gw_rules_view *ret)
{
	*ret = (struct gw_rules_view){ .in_ifaces = st->in_ifaces, .masq_any = st->masq_any,
				       .in_ns_addrs4 = st->in_ns_addrs4,
				       .in_ns_addrs6 = st->in_ns_addrs6, .no_host = st->no_host,
				       .n_elems = st->n_elems };
	snprintf(ret->masq_via, sizeof(ret->masq_via), "%s", st->masq_via);
}

/* Whether every further network's veth of a member is there. */
static bool view_more_links(struct session *s, const struct gw_view *v,
			    const struct view_snapshot *snap)
{
	for (unsigned k = 0; v->have_state && k < v->state.spec.n_nets_more; k++) {
		struct link_info key, li;

		snprintf(key.name, sizeof(key.name), "%s", v->state.spec.nets_more[k].port);
		if (snap ? !bsearch(&key, snap->links, snap->n_links, sizeof(key), inventory_link_cmp)
			 : link_get(s->host, key.name, &li) < 0)
			return false;
	}
	return true;
}

int view_one(struct session *s, const char *name, struct gw_view *v,
	     const struct view_snapshot *snap)
{
	struct ruleset_gw_state rules = { 0 };
	struct link_info li;
	char ifname[IF_NAMESIZE];
	bool lan;
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	r = state_load(name, &v->state);
	v->have_state = r == 0;
	v->state_damaged = r == -EBADMSG;
	if (v->have_state)
		snprintf(ifname, sizeof(ifname), "%s", v->state.spec.host_ifname);
	else
		spec_host_ifname(name, ifname);
	lan = v->have_state && spec_is_lan(&v->state.spec);
	if (lan) {
		/* Its link is the macvlan in its namespace (lan.c). */
		v->link_present = lan_link_find(&v->state, &li) == 0;
		if (v->link_present)
			link_view_of(&li, &v->link);
	}
	if (snap) {
		struct link_info key;
		const struct link_info *found;

		snprintf(key.name, sizeof(key.name), "%s", ifname);
		/* No labelled link at all (LAN gateways only): links is NULL. */
		found = snap->n_links ? bsearch(&key, snap->links, snap->n_links, sizeof(key),
						inventory_link_cmp) : NULL;
		if (found && !lan) {
			v->link_present = true;
			link_view_of(found, &v->link);
		}
		rules = *snap->nft;
		if (snap->n_pub) {
			v->pub = malloc(snap->n_pub * sizeof(*v->pub));
			if (!v->pub)
				return -ENOMEM;
			memcpy(v->pub, snap->pub, snap->n_pub * sizeof(*v->pub));
			v->n_pub = snap->n_pub;
		}
	} else if (!lan) {
		v->link_present = link_get(s->host, ifname, &li) == 0;
		if (v->link_present)
			link_view_of(&li, &v->link);
	}
	if (!snap) {
		r = ruleset_gateway_state(s->nft, name, &rules);
		if (r < 0)
			return r;
		r = ruleset_published(s->nft, name, &v->pub, &v->n_pub);
		if (r < 0)
			return r;
	}
	rules_view_of(&rules, &v->nft);
	v->more_links_present = view_more_links(s, v, snap);
	v->more_rules_present = !v->have_state || !restore_more_missing(&v->state.spec, &rules);
	v->netns_present = v->have_state && inventory_netns_alive(&v->state);
	if (!snap)
		r = dns_read_servers(name, v->dns, GW_DNS_MAX);
	else if (snap->brief)
		r = -ENODATA;
	else
		r = snap->etc < 0 ? snap->etc : dns_read_servers_at(snap->etc, name, v->dns, GW_DNS_MAX);
	v->dns_present = r >= 0;
	v->n_dns = r > 0 ? (unsigned)r : 0;

	if (!v->have_state && !v->link_present && !v->nft.n_elems) {
		gateway_view_clear(v);
		return -ENOENT;
	}
	v->status = view_status(v, snap);
	return 0;
}

void gateway_view_clear(struct gw_view *v)
{
	free(v->pub);
	v->pub = NULL;
	v->n_pub = 0;
}

int gateway_view(const char *name, struct gw_view *ret, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r = session_open(&s, SESSION_RTNL | SESSION_NFT, e);

	if (r < 0)
		return r;
	r = view_one(&s, name, ret, NULL);
	if (r == -ENOENT)
		return nsg_fail_kind(e, NSG_KIND_NOT_FOUND, r, "no such gateway", "gateway \"%s\"",
				     name);
	return r < 0 ? nsg_fail(e, r, NULL, "gateway \"%s\"", name) : 0;
}

/* The views of names[] (sorted), from one read of the links, sets and maps
 * for all: *n_views of them (a name with nothing left has none). */
static int view_all(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n,
		    const struct link_info *links, size_t n_links, bool brief, struct gw_view *views,
		    size_t *n_views, struct nsg_err *e)
{
	_cleanup_free_ struct ruleset_gw_state *states = calloc(n ? n : 1, sizeof(*states));
	_cleanup_free_ struct portmap *pub = NULL;
	_cleanup_free_ char (*runs)[GW_NAME_MAX + 1] = NULL;
	_cleanup_close_ int etc = -1;
	size_t n_pub = 0, j = 0;
	int r, n_runs, etc_r;

	*n_views = 0;
	if (!states)
		return -ENOMEM;
	/* Read once, not once per gateway: the run files there are, and
	 * /etc/netns (each gateway's resolv.conf is read relative to it). */
	n_runs = state_run_names(&runs);
	if (n_runs < 0)
		return nsg_fail(e, n_runs, NULL, "listing runs");
	etc_r = brief ? -ENODATA : dns_etc_open(&etc);
	r = ruleset_gateway_states(s->nft, (const char (*)[GW_NAME_MAX + 1])names, n, states);
	if (r == 0 && !brief)
		r = ruleset_published(s->nft, NULL, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading table inet " RULESET_TABLE);
	portmap_sort_by_owner(pub, n_pub);
	for (size_t i = 0; i < n; i++) {
		struct view_snapshot snap = { .links = links, .n_links = n_links, .nft = &states[i],
					      .brief = brief, .etc = etc_r < 0 ? etc_r : etc, .runs = runs,
					      .n_runs = (size_t)n_runs };
		size_t first;

		/* names and owners are both sorted: one merge pass. */
		while (j < n_pub && strcmp(pub[j].owner, names[i]) < 0)
			j++;
		first = j;
		while (j < n_pub && !strcmp(pub[j].owner, names[i]))
			j++;
		snap.pub = j > first ? pub + first : NULL;
		snap.n_pub = j - first;

		r = view_one(s, names[i], &views[*n_views], &snap);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return nsg_fail(e, r, NULL, "gateway \"%s\"", names[i]);
		(*n_views)++;
	}
	return 0;
}

int gateway_list(struct gw_view **ret, size_t *n_ret, unsigned flags, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct link_info *links = NULL;
	struct gw_view *views;
	size_t n_links = 0, k = 0;
	int n, r;

	r = session_open(&s, SESSION_RTNL | SESSION_NFT, e);
	if (r < 0)
		return r;
	/* Brief: the status needs to know whether a link has an address,
	 * which an IPv4 one tells (every NAT gateway's host side has one). */
	n = inventory_list(s.host, &names, &links, &n_links,
			   INVENTORY_QUICK | INVENTORY_WITH_ADDRS |
			   (flags & GW_LIST_BRIEF ? INVENTORY_ADDRS_V4 : 0));
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing gateways");
	views = calloc(n ? n : 1, sizeof(*views));
	if (!views)
		return -ENOMEM;
	r = view_all(&s, names, n, links, n_links, flags & GW_LIST_BRIEF, views, &k, e);
	if (r < 0) {
		for (size_t i = 0; i < k; i++)
			gateway_view_clear(&views[i]);
		free(views);
		return r;
	}
	*ret = views;
	*n_ret = k;
	return 0;
}
