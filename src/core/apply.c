/* SPDX-License-Identifier: MIT */
/*
 * apply: bring the kernel to the gateways a config file declares. Every
 * section is checked against the system before the first change (what up
 * would refuse, and the ports): a file that cannot be applied changes
 * nothing. A step that fails anyway, at run time, names its section, and
 * says what was done before it.
 */
#include "core.h"

/* ------------------------------------------------------------- messages */

/* Mark a text snprintf cut (its return value n) with "..." at its end. */
static void mark_cut(char *buf, size_t size, int n)
{
	if (n >= (int)size)
		memcpy(buf + size - 4, "...", 4);
}

/* "FILE:LINE: [NAME]: " before what a check or a step said (line 0: the
 * section's header). A long file name is cut at the front. */
static int fail_in(const struct config *cfg, const struct config_gw *cg, unsigned line, int r,
		   struct nsg_err *e)
{
	char what[sizeof(e->what)];
	size_t len = strlen(cfg->file);
	const char *file = len > 100 ? cfg->file + len - 100 : cfg->file;

	if (!e->code) {   /* a bare -errno from below */
		e->code = r;
		e->kind = nsg_kind_of(r);
	}
	/* An option's name from below ("--subnet") is the file's key. */
	snprintf(what, sizeof(what), "%s", e->what + (strncmp(e->what, "--", 2) ? 0 : 2));
	mark_cut(e->what, sizeof(e->what),
		 snprintf(e->what, sizeof(e->what), "%s%s:%u: [%s]%s%s", len > 100 ? "..." : "",
			  file, line ? line : cg->line, cg->spec.name, what[0] ? ": " : "", what));
	return r;
}

/* After a failed step: what was done before it (the items with an action
 * but "unchanged"), after the reason. stdout has their lines in full. */
static void tell_done(const struct gw_apply_item *items, size_t n_items, struct nsg_err *e)
{
	char done[sizeof(e->why)] = "", why[sizeof(e->why)];
	size_t k = 0, len = 0;
	bool fits = true;
	int n;

	for (size_t i = 0; i < n_items; i++) {
		if (!items[i].action || !strcmp(items[i].action, "unchanged"))
			continue;
		if (fits)
			len += snprintf(done + len, sizeof(done) - len, "%s%s %s", k ? ", " : "",
					items[i].name, items[i].action);
		fits = len < sizeof(done);
		k++;
	}
	snprintf(why, sizeof(why), "%s", nsg_err_reason(e));
	if (fits && k && strlen(why) + len + 32 < sizeof(e->why))
		n = snprintf(e->why, sizeof(e->why), "%s (so far: %s; nothing else was changed)", why, done);
	else if (k)
		n = snprintf(e->why, sizeof(e->why), "%s (%zu changes before it, listed above)", why, k);
	else
		n = snprintf(e->why, sizeof(e->why), "%s (nothing was changed)", why);
	mark_cut(e->why, sizeof(e->why), n);
}

static void detail_add(struct gw_apply_item *it, const char *what)
{
	size_t len = strlen(it->detail);

	snprintf(it->detail + len, sizeof(it->detail) - len, "%s%s", len ? ", " : "", what);
	it->action = "updated";
}

/* ----------------------------------------------------- in-place changes */

/* The masquerade element swapped in one transaction, so that no packet sees
 * the gateway half-done; the delete of the old one cannot fail on its being
 * gone already (ruleset_queue_masq). */
static int change_uplink(struct session *s, const struct gw_state *have, struct gw_state *next,
			 struct nsg_err *e)
{
	struct ruleset_gw old = gw_rules_of(&have->spec), neu = gw_rules_of(&next->spec);
	struct fwd_change fwd;
	int r;

	/* The new uplink's replies come in there: forwarding on, as up does. */
	r = forward_uplinks_on(s, next->spec.uplink, &fwd, e);
	if (r < 0)
		return r;
	nftx_batch_begin(s->nft);
	r = ruleset_queue_masq(s->nft, &old, true);
	if (r == 0)
		r = ruleset_queue_masq(s->nft, &neu, false);
	if (r == 0)
		r = forward_guard_queue(s->nft);
	if (r == 0)
		r = nftx_batch_commit(s->nft, e);
	if (r < 0)
		forward_uplinks_undo(s, &fwd);
	return r;
}

/* The resolv.conf the gateway's new DNS settings give. */
static int change_dns(const struct gw_spec *want, struct gw_state *next, struct nsg_err *e)
{
	_cleanup_free_ char *content = NULL;
	struct gw_spec spec = next->spec;
	const char *warning;
	int r;

	spec.dns_mode = want->dns_mode;
	spec.n_dns = want->n_dns;
	memcpy(spec.dns, want->dns, sizeof(want->dns));
	r = dns_render_host(&spec, &content, &warning);
	if (r < 0)
		return nsg_fail(e, r, NULL, "resolv.conf for \"%s\"", want->name);
	r = content ? dns_write(want->name, content, e) : dns_remove(want->name);
	if (r == 0)
		next->spec = spec;
	return r;
}

/* The no_host elements of next: whatever the kernel holds of them goes and
 * what next asks for comes, in one transaction (its DNS servers from the
 * resolv.conf just written). */
static int no_host_sync(struct nftx *nft, const struct gw_spec *next, struct nsg_err *e)
{
	struct ruleset_gw gw = gw_rules_of(next);
	size_t found;
	int r;

	gw_rules_dns(&gw, NULL);
	nftx_batch_begin(nft);
	r = ruleset_queue_no_host_delete(nft, next->name, &found);
	if (r == 0 && next->no_host)
		r = ruleset_queue_no_host(nft, &gw, false);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	return nftx_batch_commit(nft, e);
}

/* Uplink, DNS or no_host changed: change them in place, one after the
 * other. The state file follows what was done, also when a later part
 * fails: the kernel and the state then agree on the parts done. */
static int update_in_place(struct session *s, const struct gw_state *have, const struct gw_spec *want,
			   struct gw_apply_item *it, struct nsg_err *e)
{
	struct gw_state next = *have;
	struct nsg_err ignored = { 0 };
	bool dns_changed = !spec_dns_same(&have->spec, want);
	char what[GW_NAME_MAX + 16];
	int r = 0;

	if (strcmp(have->spec.uplink, want->uplink)) {
		snprintf(next.spec.uplink, sizeof(next.spec.uplink), "%s", want->uplink);
		r = change_uplink(s, have, &next, e);
		if (r < 0)
			return r;
		snprintf(what, sizeof(what), "uplink %s", want->uplink[0] ? want->uplink : "any");
		detail_add(it, what);
	}
	if (dns_changed) {
		r = change_dns(want, &next, e);
		if (r == 0)
			detail_add(it, "dns");
	}
	/* The DNS servers a --no-host gateway may use follow its resolv.conf. */
	if (r == 0 && (have->spec.no_host != want->no_host || (want->no_host && dns_changed))) {
		next.spec.no_host = want->no_host;
		r = no_host_sync(s->nft, &next.spec, e);
		if (r < 0)
			next.spec.no_host = have->spec.no_host;
		else if (have->spec.no_host != want->no_host)
			detail_add(it, want->no_host ? "no-host" : "host reachable");
	}
	/* --firewall: the state says what gc and watch keep open; auto opens
	 * now what drops the gateway's traffic. */
	if (r == 0 && have->spec.firewall != want->firewall) {
		next.spec.firewall = want->firewall;
		if (want->firewall == GW_FIREWALL_AUTO) {
			struct fw_survey sv;

			r = firewall_survey(s, &sv, e);
			if (r == 0 && firewall_blocking(&sv))
				r = firewall_open(s, &sv, e);
		}
		if (r < 0)
			next.spec.firewall = have->spec.firewall;
		else
			detail_add(it, want->firewall == GW_FIREWALL_AUTO ? "firewall auto" : "firewall none");
	}
	if (r < 0) {
		if (it->action)
			state_save(&next, &ignored);   /* best effort: the failure is the news */
		return r;
	}
	return state_save(&next, e);
}

/* ------------------------------------------------------- one section */

static bool same_base(const struct gw_spec *want, const struct gw_state *have)
{
	const struct gw_spec *h = &have->spec;

	if (want->netns_kind != h->netns_kind || strcmp(want->netns_path, h->netns_path) ||
	    strcmp(want->ns_ifname, h->ns_ifname) || !spec_networks_same(want, h))
		return false;
	/* LAN mode in or out, another interface, address or gateway: again. */
	if (strcmp(want->lan.iface, h->lan.iface) || !ip_addr_eq(&want->lan.addr, &h->lan.addr) ||
	    want->lan.plen != h->lan.plen || want->lan.gateway_given != h->lan.gateway_given ||
	    (want->lan.gateway_given && !ip_addr_eq(&want->lan.gateway, &h->lan.gateway)))
		return false;
	/* IPv6 on or off, or another /64, makes the gateway again. */
	if (want->ipv6 != h->ipv6 || want->subnet6_given != h->subnet6_given ||
	    (want->subnet6_given && !ip_prefix_eq(&want->subnet6, &h->subnet6)))
		return false;
	return !want->subnet_given || ip_prefix_eq(&want->subnet, &h->subnet);
}

static void ports_detail(struct gw_apply_item *it, size_t len, size_t n_del, size_t n_add)
{
	it->detail[len] = '\0';
	snprintf(it->detail + len, sizeof(it->detail) - len, "%s%zu port%s unpublished, %zu published",
		 len ? ", " : "", n_del, n_del == 1 ? "" : "s", n_add);
	it->action = "updated";
}

/* The ports of a gateway in place: what it publishes and the file does not
 * goes, what the file adds comes (released: ports let go before, for other
 * sections). */
static int apply_ports(struct session *s, const struct config_gw *cg, size_t released,
		       struct gw_apply_item *it, struct nsg_err *e)
{
	_cleanup_free_ struct portmap *del = NULL, *add = NULL, *pub = NULL;
	size_t n_del, n_add, n_pub, len = strlen(it->detail);
	int r;

	r = ruleset_published(s->nft, cg->spec.name, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports of \"%s\"", cg->spec.name);
	r = portmap_diff(pub, n_pub, cg->pubs, cg->n_pubs, &del, &n_del, &add, &n_add);
	if (r < 0)
		return r;
	if (n_del || n_add) {
		r = ports_replace(s, cg->spec.name, cg->pubs, cg->n_pubs, del, n_del, add, n_add, e);
		if (r < 0)
			return r;
	}
	if (n_del || n_add || released)
		ports_detail(it, len, n_del + released, n_add);
	return 0;
}

/* A gateway made again: what was there goes, then up. If up fails, the
 * item says the gateway was removed. */
static int remake(struct session *s, const struct config_gw *cg, const struct gw_up_opts *o,
		  const char *why, struct gw_apply_item *it, struct nsg_err *e)
{
	struct gw_up_result res;
	bool found;
	int r;

	snprintf(it->detail, sizeof(it->detail), "%s", why);
	r = teardown_one(s, cg->spec.name, &found, e);
	if (r < 0) {
		it->action = "partly removed";
		return r;
	}
	it->action = "removed";
	r = up_run(s, &cg->spec, o, &res, e);
	if (r < 0)
		snprintf(it->detail, sizeof(it->detail), "%s; making it again failed", why);
	else
		it->action = "recreated";
	return r;
}

/* One section. it->action is set as soon as something was done, so that a
 * failure still reports it. */
static int apply_one(struct session *s, const struct config_gw *cg, size_t released,
		     struct gw_apply_item *it, struct nsg_err *e)
{
	struct gw_up_opts o = { .pubs = cg->pubs, .n_pubs = cg->n_pubs };
	struct gw_up_result res;
	struct gw_state have;
	struct gw_view v;
	bool healthy = false;
	int r;

	snprintf(it->name, sizeof(it->name), "%s", cg->spec.name);
	r = state_load(cg->spec.name, &have);
	if (r == -ENOENT) {
		r = up_run(s, &cg->spec, &o, &res, e);   /* undoes itself on failure */
		it->action = r == 0 ? "created" : NULL;
		return r;
	}
	if (r == 0 && view_one(s, cg->spec.name, &v, NULL) == 0) {
		healthy = !strcmp(v.status, "up");
		gateway_view_clear(&v);
	}
	if (r < 0 || !healthy || !same_base(&cg->spec, &have))
		return remake(s, cg, &o, r < 0 ? "its state was damaged" : !healthy ? "it was broken" :
				  "its subnet, IPv6 or namespace changed", it, e);
	if (strcmp(have.spec.uplink, cg->spec.uplink) || !spec_dns_same(&have.spec, &cg->spec) ||
	    have.spec.no_host != cg->spec.no_host || have.spec.firewall != cg->spec.firewall) {
		r = update_in_place(s, &have, &cg->spec, it, e);
		if (r < 0)
			return r;
	}
	r = apply_ports(s, cg, released, it, e);
	if (r == 0 && !it->action)
		it->action = "unchanged";
	return r;
}

/* ------------------------------------------------- checks, before changes */

/* What the checks read once for the whole file. */
struct file_check {
	struct session *s;
	const struct config *cfg;
	struct portmap *all;         /* every published port, sorted by portmap_sort */
	size_t n_all;
	struct portmap *others;      /* those of gateways the file does not name */
	size_t n_others;
};

/* A section's gateway as its files say before anything changes: whether
 * apply makes it (none yet, or its subnet or namespace change) and whether
 * its peer is in the target namespace already (its own, or a crash's that
 * up clears). A broken gateway is made again too; only a run tells. */
struct plan {
	bool have_state, make, peer_ours;
	struct gw_state have;
};

static void plan_of(struct session *s, const struct gw_spec *sp, struct plan *p)
{
	struct link_info li;

	p->have_state = state_load(sp->name, &p->have) == 0;
	p->make = !p->have_state || !same_base(sp, &p->have);
	if (p->have_state)
		p->peer_ours = !strcmp(p->have.spec.netns_path, sp->netns_path) &&
			       !strcmp(p->have.spec.ns_ifname, sp->ns_ifname);
	else
		p->peer_ours = link_get(s->host, sp->host_ifname, &li) == 0 &&
			       inventory_link_is(&li, sp->name, NULL);
}

/* The uplink a change would use: there, and not a gateway's. */
static int check_uplink(struct session *s, const char *uplink, struct nsg_err *e)
{
	char owner[GW_NAME_MAX + 1];
	struct link_info li;

	if (link_get(s->host, uplink, &li) < 0)
		return nsg_fail(e, -ENODEV, "no such interface", "uplink \"%s\"", uplink);
	if (inventory_alias_owner(li.alias, owner, NULL))
		return nsg_fail(e, -EINVAL, "is a gateway's own interface", "uplink \"%s\"", uplink);
	return 0;
}

/* The namespace a gateway apply makes goes into: an attached one exists,
 * is a network namespace and not the host's, and has no interface of the
 * peer's name; an own one does not exist yet. Its socket in *ns (attached),
 * for the subnet check. */
static int check_netns(struct session *s, const struct gw_spec *sp, const struct plan *p,
		       struct nl_sock **ns, struct nsg_err *e)
{
	struct link_info li;
	_cleanup_close_ int fd = -1;
	int r;

	if (!p->have_state && link_get(s->host, sp->host_ifname, &li) == 0 &&
	    !inventory_link_is(&li, sp->name, NULL))
		return nsg_fail(e, -EEXIST, "exists and is not this gateway's", "interface \"%s\"",
				sp->host_ifname);
	if (sp->netns_kind == GW_NETNS_OWN) {
		if (!p->peer_ours && access(sp->netns_path, F_OK) == 0) {
			nsg_fail(e, -EEXIST, NULL, "netns \"%s\"", sp->name);
			nsg_why(e, "a namespace of that name exists already (attach it with \"netns = %s\")",
				sp->name);
			return -EEXIST;
		}
		return 0;
	}
	r = netns_open(sp->netns_path, &fd, e);
	if (r < 0) {
		e->kind = NSG_KIND_INPUT;   /* the file names a bad target */
		return r;
	}
	r = link_sock_open_in(fd, ns);
	if (r < 0)
		return nsg_fail(e, r, NULL, "netlink socket in netns \"%s\"", sp->netns_path);
	if (!p->peer_ours && link_index(*ns, sp->ns_ifname) > 0)
		return nsg_fail(e, -EEXIST, "the namespace has an interface of that name already",
				"interface \"%s\" in netns \"%s\"", sp->ns_ifname, sp->netns_arg);
	return 0;
}

/* A given subnet free on the host and in an attached namespace; the
 * gateway's own old one does not count (it goes first). */
static int check_subnet(struct session *s, const struct gw_spec *sp, const struct plan *p,
			struct nl_sock *ns, struct nsg_err *e)
{
	struct gw_spec copy = *sp;

	if (p->have_state && ip_prefix_overlap(&sp->subnet, &p->have.spec.subnet))
		return 0;
	/* Given: subnet_choose only checks (no pick, no hint written). */
	return subnet_choose(s->host, ns, &copy, e);
}

/* The ports gateway name publishes now (of fc->all). */
static int own_ports(const struct file_check *fc, const char *name, struct portmap **own,
		     size_t *n_own)
{
	*n_own = 0;
	*own = calloc(fc->n_all + 1, sizeof(**own));
	if (!*own)
		return -ENOMEM;
	for (size_t i = 0; i < fc->n_all; i++)
		if (!strcmp(fc->all[i].owner, name))
			(*own)[(*n_own)++] = fc->all[i];
	return 0;
}

/* The ports of publish j that are not published by the gateway already
 * (all of them for a gateway apply makes), merged into ranges. */
static int ports_new(const struct file_check *fc, const struct config_gw *cg, size_t j,
		     bool make, struct portmap **ret, size_t *n_ret)
{
	_cleanup_free_ struct portmap *own = NULL, *del = NULL, *add = NULL;
	size_t n_own = 0, n_del, n_add;
	int r = make ? 0 : own_ports(fc, cg->spec.name, &own, &n_own);

	if (r == 0)
		r = portmap_diff(own, n_own, &cg->pubs[j], 1, &del, &n_del, &add, &n_add);
	return r < 0 ? r : portmap_combine(NULL, 0, add, n_add, false, ret, n_ret);
}

/* Each publish: no gateway the file does not name holds its ports, its
 * host address is local, and no host socket listens on the ports it adds
 * (as up and publish refuse). Ports moving between the file's gateways are
 * released first (release_moved). *line: the publish's. */
static int check_ports(const struct file_check *fc, const struct config_gw *cg,
		       const struct plan *p, unsigned *line, struct nsg_err *e)
{
	/* Where they lead is not known before up: no idempotence here. A
	 * gateway that may be dual-stack is checked for IPv6 listeners too. */
	struct gw_target any = { .v6.family = cg->spec.ipv6 == GW_IPV6_OFF ? AF_UNSPEC : AF_INET6 };
	int r = 0;

	for (size_t j = 0; j < cg->n_pubs && r == 0; j++) {
		_cleanup_free_ struct portmap *add = NULL;
		size_t n_add = 0;

		*line = cg->pub_lines[j];
		r = publish_check(cg->spec.name, &any, &cg->pubs[j], 1, fc->others, fc->n_others, true, e);
		if (r == 0)
			r = ports_new(fc, cg, j, p->make, &add, &n_add);
		if (r == 0 && n_add)
			r = publish_check(cg->spec.name, &any, add, n_add, NULL, 0, false, e);
	}
	/* A file has no --force: the hint up and publish give is not for it. */
	if (r == -EADDRINUSE && strstr(e->why, "; --force"))
		*strstr(e->why, "; --force") = '\0';
	return r;
}

/* Everything of one section that can be checked before a change. */
static int check_section(const struct file_check *fc, const struct config_gw *cg,
			 struct nsg_err *e)
{
	const struct gw_spec *sp = &cg->spec;
	struct nl_sock *ns = NULL;
	struct plan p;
	unsigned line = 0;
	int r = 0;

	plan_of(fc->s, sp, &p);
	if (sp->uplink[0] && (p.make || strcmp(p.have.spec.uplink, sp->uplink))) {
		line = cg->uplink_line;
		r = check_uplink(fc->s, sp->uplink, e);
	}
	if (r == 0 && p.make) {
		line = cg->netns_line;
		r = check_netns(fc->s, sp, &p, &ns, e);
	}
	if (r == 0 && p.make && sp->subnet_given) {
		line = cg->subnet_line;
		r = check_subnet(fc->s, sp, &p, ns, e);
	}
	/* LAN mode: the interface and the default gateway, as up checks them. */
	if (r == 0 && p.make && spec_is_lan(sp)) {
		struct gw_spec copy = *sp;
		const char *warning;

		line = cg->line;
		r = lan_check(fc->s->host, &copy, &warning, e);
	}
	link_sock_close(ns);
	if (r == 0)
		r = check_ports(fc, cg, &p, &line, e);
	return r < 0 ? fail_in(fc->cfg, cg, line, r, e) : 0;
}

static void file_check_free(struct file_check *fc)
{
	free(fc->all);
	free(fc->others);
}

/* The whole file against the system, before the first change. */
static int check_file(struct session *s, const struct config *cfg, struct file_check *fc,
		      struct nsg_err *e)
{
	int r;

	*fc = (struct file_check){ .s = s, .cfg = cfg };
	r = ruleset_published(s->nft, NULL, &fc->all, &fc->n_all);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	fc->others = calloc(fc->n_all + 1, sizeof(*fc->others));
	if (!fc->others)
		return -ENOMEM;
	for (size_t i = 0; i < fc->n_all; i++)
		if (!config_find(cfg, fc->all[i].owner))
			fc->others[fc->n_others++] = fc->all[i];
	for (size_t i = 0; i < cfg->n && r == 0; i++)
		r = check_section(fc, &cfg->gw[i], e);
	return r;
}

/* ------------------------------------------------------------------ apply */

/* Whether port p is claimed by a section of the file but section k. */
static bool claimed_elsewhere(const struct config *cfg, size_t k, const struct portmap *p)
{
	for (size_t i = 0; i < cfg->n; i++)
		for (size_t j = 0; i != k && j < cfg->gw[i].n_pubs; j++)
			if (portmap_overlap(p, &cfg->gw[i].pubs[j]))
				return true;
	return false;
}

/* Ports that move between the file's gateways: section i takes a port that
 * gateway k publishes now and k's section drops. k lets them go before any
 * section is applied, or i, coming first, would find them taken. The count
 * of each section's is in released[]. */
static int release_moved(struct session *s, const struct file_check *fc, size_t *released,
			 struct nsg_err *e)
{
	for (size_t k = 0; k < fc->cfg->n; k++) {
		const struct config_gw *cg = &fc->cfg->gw[k];
		_cleanup_free_ struct portmap *own = NULL, *del = NULL, *add = NULL;
		size_t n_own, n_del = 0, n_add, n_moved = 0;
		int r = own_ports(fc, cg->spec.name, &own, &n_own);

		if (r == 0 && n_own)
			r = portmap_diff(own, n_own, cg->pubs, cg->n_pubs, &del, &n_del, &add, &n_add);
		if (r < 0)
			return r;
		for (size_t d = 0; d < n_del; d++)
			if (claimed_elsewhere(fc->cfg, k, &del[d]))
				del[n_moved++] = del[d];
		if (!n_moved)
			continue;
		r = ports_unpublish(s, cg->spec.name, del, n_moved, e);
		if (r < 0)
			return fail_in(fc->cfg, cg, 0, r, e);
		released[k] = n_moved;
	}
	return 0;
}

/* Name the section of a failed step, and what was done before it. */
static int failed_at(const struct config *cfg, const struct config_gw *cg, const char *pruned,
		     int r, const struct gw_apply_item *items, size_t n, struct nsg_err *e)
{
	if (cg) {
		fail_in(cfg, cg, 0, r, e);
	} else if (pruned) {
		struct config_gw none = { .line = 0 };

		snprintf(none.spec.name, sizeof(none.spec.name), "%s", pruned);
		fail_in(cfg, &none, 0, r, e);
	}
	tell_done(items, n, e);
	return r;
}

/* The table restored before the sections: an item of its own. */
static void restored_item(const struct gw_restore_result *restored, struct gw_apply_item *it)
{
	snprintf(it->name, sizeof(it->name), "table");
	snprintf(it->detail, sizeof(it->detail), "inet " RULESET_TABLE "%s",
		 restored->n_gateways ? ": missing elements of" : "");
	for (size_t i = 0; i < restored->n_gateways; i++)
		snprintf(it->detail + strlen(it->detail), sizeof(it->detail) - strlen(it->detail),
			 "%s %s", i ? "," : "", restored->gateways[i]);
	it->action = "restored";
}

/* gc of dead runs, restore, the moved ports, then each section in file
 * order, and the gateways the file does not name with prune. *k counts the
 * items done (a failing one too when it did something). */
static int apply_all(struct session *s, const struct file_check *fc, bool prune,
		     char (*names)[GW_NAME_MAX + 1], int n, struct gw_apply_item *items, size_t *k,
		     struct nsg_err *e)
{
	const struct config *cfg = fc->cfg;
	struct gw_restore_result restored = { 0 };
	_cleanup_free_ size_t *released = calloc(cfg->n + 1, sizeof(*released));
	int r = released ? gc_run(s, true, NULL, NULL, e) : -ENOMEM;

	if (r == 0)
		r = restore_run(s, &restored, e);
	if (r == 0 && (restored.table || restored.n_gateways))
		restored_item(&restored, &items[(*k)++]);
	free(restored.gateways);
	if (r == 0)
		r = release_moved(s, fc, released, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cfg->n; i++) {
		r = apply_one(s, &cfg->gw[i], released[i], &items[*k], e);
		if (items[*k].action)
			(*k)++;
		if (r < 0)
			return failed_at(cfg, &cfg->gw[i], NULL, r, items, *k, e);
	}
	for (int i = 0; prune && i < n; i++) {
		bool found;

		/* nsgate-cni's attachments belong to their container runtime. */
		if (config_find(cfg, names[i]) || spec_name_reserved(names[i]))
			continue;
		r = teardown_one(s, names[i], &found, e);
		if (r < 0)
			return failed_at(cfg, NULL, names[i], r, items, *k, e);
		snprintf(items[*k].name, sizeof(items[*k].name), "%s", names[i]);
		items[(*k)++].action = "removed";
	}
	return 0;
}

int gateway_apply(const struct config *cfg, bool prune, struct gw_apply_item **ret, size_t *n_ret,
		  struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	struct file_check fc = { 0 };
	struct gw_apply_item *items;
	size_t k = 0;
	int r, n;

	*ret = NULL;
	*n_ret = 0;
	r = session_open(&s, SESSION_ALL, e);
	if (r < 0)
		return r;
	n = state_names(&names);
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing gateways");
	items = calloc(cfg->n + n + 2, sizeof(*items));
	if (!items)
		return -ENOMEM;
	/* A file that cannot be applied changes nothing. */
	r = check_file(&s, cfg, &fc, e);
	if (r == 0)
		r = network_apply(&s, cfg, e);   /* before the members that name them */
	if (r == 0)
		r = apply_all(&s, &fc, prune, names, n, items, &k, e);
	file_check_free(&fc);
	*ret = items;
	*n_ret = k;
	return r;
}
