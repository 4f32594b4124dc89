/* SPDX-License-Identifier: MIT */
/* apply: bring the kernel to the gateways a config file declares. */
#include "core.h"

static void detail_add(char *detail, size_t len, const char *what)
{
	snprintf(detail + strlen(detail), len - strlen(detail), "%s%s", detail[0] ? ", " : "", what);
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

/* Uplink, DNS or no_host changed: change them in place. */
static int update_in_place(struct session *s, struct gw_state *have, const struct gw_spec *want,
			   char *detail, size_t len, struct nsg_err *e)
{
	struct nftx *nft = s->nft;
	struct gw_state next = *have;
	bool dns_changed = !spec_dns_same(&have->spec, want);
	int r;

	if (strcmp(have->spec.uplink, want->uplink)) {
		struct ruleset_gw old = gw_rules_of(&have->spec), neu;
		struct fwd_change fwd;

		snprintf(next.spec.uplink, sizeof(next.spec.uplink), "%s", want->uplink);
		neu = gw_rules_of(&next.spec);
		/* The new uplink's replies come in there: forwarding on, as up does. */
		r = forward_uplinks_on(s, want->uplink, &fwd, e);
		if (r < 0)
			return r;
		/* One transaction: the old masquerade element goes and the new
		 * one comes, so no packet sees the gateway half-done. */
		nftx_batch_begin(nft);
		r = ruleset_queue_masq(nft, &old, true);
		if (r == 0)
			r = ruleset_queue_masq(nft, &neu, false);
		if (r == 0)
			r = forward_guard_queue(nft);
		if (r == 0)
			r = nftx_batch_commit(nft, e);
		if (r < 0) {
			forward_uplinks_undo(s, &fwd);
			return r;
		}
		detail_add(detail, len, want->uplink[0] ? "uplink" : "uplink any");
		if (want->uplink[0])
			snprintf(detail + strlen(detail), len - strlen(detail), " %s", want->uplink);
	}
	if (dns_changed) {
		_cleanup_free_ char *content = NULL;
		const char *warning;

		next.spec.dns_mode = want->dns_mode;
		next.spec.n_dns = want->n_dns;
		memcpy(next.spec.dns, want->dns, sizeof(want->dns));
		r = dns_render_host(&next.spec, &content, &warning);
		if (r < 0)
			return nsg_fail(e, r, NULL, "resolv.conf for \"%s\"", want->name);
		r = content ? dns_write(want->name, content, e) : dns_remove(want->name);
		if (r < 0)
			return r;
		detail_add(detail, len, "dns");
	}
	/* The DNS servers a --no-host gateway may use follow its resolv.conf. */
	if (have->spec.no_host != want->no_host || (want->no_host && dns_changed)) {
		next.spec.no_host = want->no_host;
		r = no_host_sync(nft, &next.spec, e);
		if (r < 0)
			return r;
		if (have->spec.no_host != want->no_host)
			detail_add(detail, len, want->no_host ? "no-host" : "host reachable");
	}
	return state_save(&next, e);
}

static bool same_base(const struct gw_spec *want, const struct gw_state *have)
{
	const struct gw_spec *h = &have->spec;

	if (want->netns_kind != h->netns_kind || strcmp(want->netns_path, h->netns_path) ||
	    strcmp(want->ns_ifname, h->ns_ifname))
		return false;
	return !want->subnet_given || ip_prefix_eq(&want->subnet, &h->subnet);
}

/* The ports of a gateway in place: what it publishes and the file does not
 * goes, what the file adds comes. */
static int apply_ports(struct session *s, const struct config_gw *cg, struct gw_apply_item *it,
		       struct nsg_err *e)
{
	_cleanup_free_ struct portmap *del = NULL, *add = NULL, *pub = NULL;
	size_t n_del, n_add, n_pub;
	int r;

	r = ruleset_published(s->nft, cg->spec.name, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports of \"%s\"", cg->spec.name);
	r = portmap_diff(pub, n_pub, cg->pubs, cg->n_pubs, &del, &n_del, &add, &n_add);
	if (r < 0)
		return r;
	if (n_del) {
		r = ports_unpublish(s, cg->spec.name, del, n_del, e);
		if (r < 0)
			return r;
	}
	if (n_add) {
		r = ports_publish(s, cg->spec.name, add, n_add, false, e);
		if (r < 0)
			return r;
	}
	if (n_del || n_add) {
		it->action = "updated";
		snprintf(it->detail + strlen(it->detail), sizeof(it->detail) - strlen(it->detail),
			 "%s%zu port%s unpublished, %zu published", it->detail[0] ? ", " : "", n_del,
			 n_del == 1 ? "" : "s", n_add);
	}
	return 0;
}

static int apply_one(struct session *s, const struct config_gw *cg, struct gw_apply_item *it,
		     struct nsg_err *e)
{
	struct gw_up_opts o = { .pubs = cg->pubs, .n_pubs = cg->n_pubs };
	struct gw_up_result res;
	struct gw_state have;
	struct gw_view v;
	bool found, healthy;
	int r;

	snprintf(it->name, sizeof(it->name), "%s", cg->spec.name);
	r = state_load(cg->spec.name, &have);
	if (r == -ENOENT) {
		it->action = "created";
		return up_run(s, &cg->spec, &o, &res, e);
	}
	healthy = false;
	if (r == 0 && view_one(s, cg->spec.name, &v, NULL) == 0) {
		healthy = !strcmp(v.status, "up");
		gateway_view_clear(&v);
	}
	if (r < 0 || !healthy || !same_base(&cg->spec, &have)) {
		snprintf(it->detail, sizeof(it->detail), "%s", r < 0 ? "its state was damaged" :
			 !healthy ? "it was broken" : "its subnet or namespace changed");
		it->action = "recreated";
		r = teardown_one(s, cg->spec.name, &found, e);
		return r < 0 ? r : up_run(s, &cg->spec, &o, &res, e);
	}

	it->action = "unchanged";
	if (strcmp(have.spec.uplink, cg->spec.uplink) || !spec_dns_same(&have.spec, &cg->spec) ||
	    have.spec.no_host != cg->spec.no_host) {
		it->action = "updated";
		r = update_in_place(s, &have, &cg->spec, it->detail, sizeof(it->detail), e);
		if (r < 0)
			return r;
	}
	return apply_ports(s, cg, it, e);
}

/* Ports the file gives a gateway while a gateway the file does not keep
 * (or does not name) publishes them: refused before anything changes, as
 * a bad file is. Gateways the file names sort their ports out in order. */
static int apply_precheck(struct nftx *nft, const struct config *cfg, struct nsg_err *e)
{
	_cleanup_free_ struct portmap *all = NULL;
	size_t n_all, k = 0;
	int r = ruleset_published(nft, NULL, &all, &n_all);

	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	for (size_t i = 0; i < n_all; i++)
		if (!config_find(cfg, all[i].owner))
			all[k++] = all[i];
	for (size_t i = 0; i < cfg->n; i++) {
		const struct config_gw *cg = &cfg->gw[i];

		/* No target address and no listener check: only other owners count. */
		r = publish_check(cg->spec.name, (struct ip_addr){ .family = AF_UNSPEC }, cg->pubs, cg->n_pubs, all, k, true, e);
		if (r < 0)
			return r;
	}
	return 0;
}

int gateway_apply(const struct config *cfg, bool prune, struct gw_apply_item **ret, size_t *n_ret,
		  struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	struct gw_apply_item *items;
	struct gw_restore_result restored = { 0 };
	size_t k = 0;
	int r, n = 0;

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
	r = apply_precheck(s.nft, cfg, e);
	if (r == 0)
		r = gc_run(&s, true, NULL, NULL, e);
	if (r == 0)
		r = restore_run(&s, &restored, e);
	if (r == 0 && (restored.table || restored.n_gateways)) {
		snprintf(items[k].name, sizeof(items[k].name), "table");
		snprintf(items[k].detail, sizeof(items[k].detail), "inet " RULESET_TABLE "%s",
			 restored.n_gateways ? ": missing elements of" : "");
		for (size_t i = 0; i < restored.n_gateways; i++)
			snprintf(items[k].detail + strlen(items[k].detail),
				 sizeof(items[k].detail) - strlen(items[k].detail), "%s %s", i ? "," : "",
				 restored.gateways[i]);
		items[k++].action = "restored";
	}
	free(restored.gateways);
	/* Only what was done is reported: a failing gateway has no line. */
	for (size_t i = 0; r == 0 && i < cfg->n; i++) {
		r = apply_one(&s, &cfg->gw[i], &items[k], e);
		if (r == 0)
			k++;
	}
	for (int i = 0; r == 0 && prune && i < n; i++) {
		bool found;

		if (config_find(cfg, names[i]))
			continue;
		r = teardown_one(&s, names[i], &found, e);
		if (r < 0)
			break;
		snprintf(items[k].name, sizeof(items[k].name), "%s", names[i]);
		items[k++].action = "removed";
	}
	*ret = items;
	*n_ret = k;
	return r;
}
