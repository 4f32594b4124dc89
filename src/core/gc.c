/* SPDX-License-Identifier: MIT */
/*
 * gc and restore: remove what is left of dead gateways, and bring nsgate's
 * table back from the state files when someone deleted or flushed it, or
 * deleted some of a gateway's elements.
 */
#include "core.h"

void gw_rules_dns(struct ruleset_gw *gw, const char *resolv_text)
{
	unsigned k = 0;
	int n;

	gw->n_dns = 0;
	if (!gw->no_host)
		return;
	if (!resolv_text) {
		n = dns_read_servers(gw->name, gw->dns, GW_DNS_MAX);
		gw->n_dns = n > 0 ? (unsigned)n : 0;
	}
	/* Text nsgate rendered: one "nameserver ADDR" line a server. */
	for (const char *p = resolv_text; p && *p && gw->n_dns < GW_DNS_MAX; p = strchr(p, '\n'),
	     p = p ? p + 1 : NULL) {
		char a[IP_ADDR_STRLEN];

		if (sscanf(p, "nameserver %45[0-9A-Fa-f.:]", a) == 1 &&
		    ip_addr_parse(a, AF_UNSPEC, &gw->dns[gw->n_dns]) == 0)
			gw->n_dns++;
	}
	/* An IPv4-only gateway has no IPv6 route: its IPv6 servers (none are
	 * written for it) would never be used, nor get an element. */
	for (unsigned i = 0; i < gw->n_dns; i++)
		if (ip_addr_is_v4(&gw->dns[i]) || ip_addr_is_set(&gw->ns_addr6))
			gw->dns[k++] = gw->dns[i];
	gw->n_dns = k;
}

/* One gateway's elements and ports, as its files say. */
static int restore_queue_one(struct nftx *nft, const struct gw_state *st,
			     const struct ruleset_gw *gw, const struct portmap *pubs, size_t n_pubs)
{
	struct gw_target to = gw_target_of(&st->spec);
	int r = ruleset_queue_gateway(nft, gw, false);

	if (r == 0)
		r = network_queue_more_inet(nft, &st->spec);
	if (r == 0)
		r = ruleset_queue_publish(nft, st->spec.name, &to, pubs, n_pubs, false);
	return r;
}

/* pubs[] less what an earlier gateway claimed, and claimed[] grown by the
 * rest: two ports files may claim one port (a publish killed before its
 * commit, then another gateway took the port), and one transaction cannot
 * add a map key twice. The first gateway in name order keeps it; gc's
 * element repair leaves the other's file ahead of the kernel. */
static int restore_claim(struct portmap **pubs, size_t *n_pubs, struct portmap **claimed,
			 size_t *n_claimed)
{
	struct portmap *free_ports = NULL, *all = NULL;
	size_t n_free = 0, n_all = 0;
	int r;

	if (!*n_pubs)
		return 0;
	r = portmap_combine(*pubs, *n_pubs, *claimed, *n_claimed, true, &free_ports, &n_free);
	if (r == 0)
		r = portmap_combine(*claimed, *n_claimed, free_ports, n_free, false, &all, &n_all);
	if (r < 0) {
		free(free_ports);
		return r;
	}
	free(*pubs);
	*pubs = free_ports;
	*n_pubs = n_free;
	free(*claimed);
	*claimed = all;
	*n_claimed = n_all;
	return 0;
}

int restore_queue(struct nftx *nft, const char *except, size_t *n)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct portmap *claimed = NULL;
	size_t n_claimed = 0;
	int count = state_names(&names), r = 0;

	if (count < 0)
		return count;
	for (int i = 0; i < count && r == 0; i++) {
		struct gw_state st;
		struct ruleset_gw gw;
		_cleanup_free_ struct portmap *pubs = NULL;
		size_t n_pubs = 0;

		/* A damaged state, or an up that never finished, is gc's to clear. */
		if ((except && !strcmp(names[i], except)) || state_load(names[i], &st) < 0 ||
		    st.creating || spec_is_lan(&st.spec))
			continue;
		gw = gw_rules_of(&st.spec);
		gw_rules_dns(&gw, NULL);
		if (state_ports_load(names[i], &pubs, &n_pubs) < 0)
			n_pubs = 0;
		r = restore_claim(&pubs, &n_pubs, &claimed, &n_claimed);
		if (r == 0)
			r = restore_queue_one(nft, &st, &gw, pubs, n_pubs);
		if (n)
			(*n)++;
	}
	/* The networks' own elements, and their members' at layer 2. */
	if (r == 0)
		r = network_restore_queue(nft);
	/* The guard on the uplinks nsgate switched forwarding on for. */
	return r < 0 ? r : forward_guard_queue(nft);
}

/* The gateways whose labelled link exists. */
struct live_links {
	char (*names)[GW_NAME_MAX + 1];   /* sorted */
	size_t n;
	struct nl_sock *host;             /* a member's veths beyond its first, looked up */
	/* The run files' names, sorted (one readdir, not an open a gateway). */
	char (*runs)[GW_NAME_MAX + 1];
	size_t n_runs;
};

/* Whether name has a run file (links NULL: names are the run files'). */
static bool run_listed(const struct live_links *links, const char *name)
{
	return !links || (links->n_runs && bsearch(name, links->runs, links->n_runs,
						   sizeof(*links->runs), inventory_name_cmp));
}

/* Why gateway name should go, or NULL. links NULL: only a dead run counts.
 * Costs a few file reads and a stat, whatever the number of gateways: gc of
 * a thousand healthy gateways must not read every set a thousand times. */
static const char *gc_reason(const struct live_links *links, const char *name)
{
	struct gw_state st;
	int r;

	if (run_listed(links, name) && state_run_alive(name) == 0)
		return "its run ended";
	if (!links)
		return NULL;
	r = state_load(name, &st);
	if (r == -EBADMSG)
		return "its state file is damaged";
	if (r < 0)
		return "it has no state file (left behind by a crash)";
	/* gc holds the lock: the up that wrote it is gone. */
	if (st.creating)
		return "its up never finished";
	if (!inventory_netns_alive(&st))
		return "its namespace is gone";
	/* Its macvlan is in the namespace (lan.c); a failed look is no verdict. */
	if (spec_is_lan(&st.spec)) {
		struct link_info li;

		r = lan_link_find(&st, &li);
		return r == -ENODEV || r == -ENOENT ? "its link is gone" : NULL;
	}
	if (!links->n || !bsearch(name, links->names, links->n, sizeof(*links->names),
				  inventory_name_cmp))
		return "its link is gone";
	/* A member of several networks has several labelled links: a down
	 * killed between their deletions leaves one, not a gateway. */
	if (st.spec.n_nets_more && link_index(links->host, st.spec.host_ifname) <= 0)
		return "its link is gone";
	for (unsigned k = 0; k < st.spec.n_nets_more; k++)
		if (link_index(links->host, st.spec.nets_more[k].port) <= 0)
			return "its link is gone";
	return NULL;
}

/* The owners of the labelled links (sorted by name), sorted. */
static int live_links_of(const struct link_info *labelled, size_t n, struct live_links *ret)
{
	ret->names = calloc(n ? n : 1, sizeof(*ret->names));
	ret->n = 0;
	if (!ret->names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (inventory_alias_owner(labelled[i].alias, ret->names[ret->n], NULL))
			ret->n++;
	qsort(ret->names, ret->n, sizeof(*ret->names), inventory_name_cmp);
	return 0;
}

/* Keep in names[] (and items[], unless NULL) the gateways that should go;
 * returns their count. */
static size_t gc_select(const struct live_links *links, char (*names)[GW_NAME_MAX + 1], size_t n,
			struct gw_gc_item *items)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *reason = gc_reason(links, names[i]);

		if (!reason)
			continue;
		if (items) {
			snprintf(items[k].name, sizeof(items[k].name), "%s", names[i]);
			items[k].reason = reason;
		}
		memmove(names[k], names[i], sizeof(names[k]));
		k++;
	}
	return k;
}

int gc_run(struct session *s, bool runs_only, struct gw_gc_item **ret, size_t *n_ret,
	   struct nsg_err *e)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct gw_gc_item *items = NULL;
	struct live_links links = { .host = s->host };
	_cleanup_free_ struct link_info *labelled = NULL;
	size_t k, n_labelled = 0;
	int n, r = 0;

	n = runs_only ? state_run_names(&names)
		      : inventory_list(s->host, &names, &labelled, &n_labelled, TEARDOWN_INVENTORY);
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing gateways");
	if (ret) {
		items = calloc(n ? n : 1, sizeof(*items));
		if (!items)
			return -ENOMEM;
	}
	/* Decide first, remove together: one transaction, one link group. */
	if (!runs_only) {
		r = live_links_of(labelled, n_labelled, &links);
		if (r < 0)
			return r;
		r = state_run_names(&links.runs);
		if (r < 0) {
			free(links.names);
			return nsg_fail(e, r, NULL, "listing runs");
		}
		links.n_runs = (size_t)r;
		r = 0;
	}
	k = gc_select(runs_only ? NULL : &links, names, n, items);
	free(links.names);
	free(links.runs);
	if (k == 1) {
		bool found;
		r = teardown_one(s, names[0], &found, e);
	} else if (k > 1) {
		size_t gone;
		/* The inventory above is what teardown_many would read first. */
		struct teardown_survey known = { labelled, n_labelled, (size_t)n > k };

		r = teardown_many(s, names, k, runs_only ? NULL : &known, &gone, e);
		/* teardown_many sorts names: the items follow the same order. */
		if (items)
			qsort(items, k, sizeof(*items), inventory_name_cmp);
	}
	/* A kill in down can leave a link it retired (dying.c) whose namespace
	 * someone else holds; its state file made it one of the k. */
	if (!runs_only && r == 0 && k > 0)
		dying_sweep(s->host);
	/* A down killed after its state file went leaves its member in the
	 * network's file (and hosts files): settle the networks every time. */
	if (!runs_only && r == 0 && k == 0)
		r = network_sync(s, e);
	if (ret && r == 0) {
		*ret = TAKE_PTR(items);
		*n_ret = k;
	}
	return r;
}

/* Whether the kernel lacks something of what gateway st should have. Only
 * what is missing counts: an extra element opens nothing (the rules match
 * gateways by their name's prefix), and re-adding would report a repair
 * at every look. Ports are the exception (restore_elems_one). */
/* A member's further networks: each adds its port to ifaces, its bridge .
 * address to ns_addrs4, and on a dual-stack network two to ns_addrs6. */
bool restore_more_missing(const struct gw_spec *s, const struct ruleset_gw_state *have)
{
	unsigned want6 = spec_has_ipv6(s) ? 2 : 0;

	for (unsigned k = 0; k < s->n_nets_more; k++)
		if (ip_addr_is_set(&s->nets_more[k].subnet6.addr))
			want6 += 2;
	return have->n_ifaces < 1 + s->n_nets_more || have->n_ns_addrs4 < 1 + s->n_nets_more ||
	       have->n_ns_addrs6 < want6;
}

bool restore_elems_missing(const struct gw_spec *s, const struct ruleset_gw *gw,
			   const struct ruleset_gw_state *have)
{
	if (!have->in_ifaces || !have->in_ns_addrs4 || (spec_has_ipv6(s) && !have->in_ns_addrs6))
		return true;
	if (restore_more_missing(s, have))
		return true;
	/* A network member's masquerade element is its network's. */
	if (!s->network[0] && (s->uplink[0] ? strcmp(have->masq_via, s->uplink) != 0
					     : !have->masq_any))
		return true;
	return s->no_host && (!have->no_host || have->n_no_host_dns < gw->n_dns);
}

/* What restore_elems reads only when some gateway's ports differ: every
 * published port, once (sorted by portmap_sort); and what it deletes. */
struct stale_ports {
	struct portmap *all, *gone;
	size_t n_all, n_gone, cap_gone;
	bool read;
};

/* Split the kernel's ports into those of name and everyone else's. */
static int split_owner(const struct stale_ports *sp, const char *name, struct portmap **own,
		       size_t *n_own, struct portmap **others, size_t *n_others)
{
	*own = calloc(sp->n_all + 1, sizeof(**own));
	*others = calloc(sp->n_all + 1, sizeof(**others));
	*n_own = *n_others = 0;
	if (!*own || !*others)
		return -ENOMEM;
	for (size_t i = 0; i < sp->n_all; i++) {
		if (!strcmp(sp->all[i].owner, name))
			(*own)[(*n_own)++] = sp->all[i];
		else
			(*others)[(*n_others)++] = sp->all[i];
	}
	return 0;
}

/* Queue what brings st's port elements to its ports file: the deletion of
 * those it does not list (or maps elsewhere), remembered for their flows,
 * then the addition of those missing, but for a port another gateway holds
 * now (a publish killed before its commit, then another's publish of the
 * same port: the kernel's owner keeps it, and the add cannot fail the
 * batch). Returns how many ports were queued. */
static int queue_ports_fix(struct nftx *nft, const struct gw_state *st,
			   const struct portmap *pubs, size_t n_pubs, struct stale_ports *sp)
{
	_cleanup_free_ struct portmap *del = NULL, *add = NULL, *own = NULL, *others = NULL;
	struct gw_target to = gw_target_of(&st->spec);
	size_t n_own, n_others, n_del, n_add, k = 0;
	int r;

	if (!sp->read) {
		r = ruleset_published(nft, NULL, &sp->all, &sp->n_all);
		if (r < 0)
			return r;
		sp->read = true;
	}
	r = split_owner(sp, st->spec.name, &own, &n_own, &others, &n_others);
	if (r == 0)
		r = portmap_diff(own, n_own, pubs, n_pubs, &del, &n_del, &add, &n_add);
	if (r < 0)
		return r;
	/* Called because the counts differ, yet the folded lists agree: one
	 * twin of an unbound port is gone (ports4's or ports6's). Adding all of
	 * the file's ports again brings it back; an add of an element that is
	 * there as it is changes nothing. */
	if (n_del == 0 && n_add == 0) {
		free(add);
		add = reallocarray(NULL, n_pubs ? n_pubs : 1, sizeof(*add));
		if (!add)
			return -ENOMEM;
		memcpy(add, pubs, n_pubs * sizeof(*add));
		n_add = n_pubs;
	}
	for (size_t i = 0; i < n_add; i++)
		if (portmap_conflict(&add[i], st->spec.name, &to, others, n_others, NULL) == 0)
			add[k++] = add[i];
	r = ruleset_queue_publish(nft, st->spec.name, &to, del, n_del, true);
	if (r == 0)
		r = ruleset_queue_publish(nft, st->spec.name, &to, add, k, false);
	if (r == 0 && GROW(sp->gone, sp->cap_gone, sp->n_gone + 2 * n_del + 1) < 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	/* portmap_diff's ports carry no target: the flows' is the gateway's,
	 * of both families for an unbound port of a dual-stack one. */
	for (size_t i = 0; i < n_del; i++) {
		sp->gone[sp->n_gone] = del[i];
		sp->gone[sp->n_gone++].to_addr = *gw_target_for(&to, &del[i].host_addr);
		if (!ip_addr_is_set(&del[i].host_addr) && ip_addr_is_set(&to.v6)) {
			sp->gone[sp->n_gone] = del[i];
			sp->gone[sp->n_gone++].to_addr = to.v6;
		}
	}
	return (int)(n_del + k);
}

/* One gateway of restore_elems: queue its repair if it needs one (1), or
 * nothing (0). */
/* Queue the deletion of masquerade elements of another uplink than the
 * state's: an in-place uplink change (apply) killed between its commit and
 * its state file leaves both. The state wins, as for every element; the
 * next apply makes the change again. 1 if there were any. */
static int queue_masq_stale(struct nftx *nft, const struct gw_spec *s,
			    const struct ruleset_gw_state *have)
{
	struct gw_spec other = *s;
	struct ruleset_gw gw;
	int found = 0, r;

	if (s->uplink[0] && have->masq_any) {
		other.uplink[0] = '\0';
		gw = gw_rules_of(&other);
		r = ruleset_queue_masq(nft, &gw, true);
		if (r < 0)
			return r;
		found = 1;
	}
	if (have->masq_via[0] && strcmp(have->masq_via, s->uplink)) {
		snprintf(other.uplink, sizeof(other.uplink), "%s", have->masq_via);
		gw = gw_rules_of(&other);
		r = ruleset_queue_masq(nft, &gw, true);
		if (r < 0)
			return r;
		found = 1;
	}
	return found;
}

static int restore_elems_one(struct nftx *nft, const char *name,
			     const struct ruleset_gw_state *have, struct stale_ports *sp)
{
	_cleanup_free_ struct portmap *pubs = NULL;
	struct ruleset_gw gw;
	struct gw_target to;
	struct gw_state st;
	size_t n_pubs = 0;
	bool differ, missing;
	int r, stale;

	/* A LAN gateway has no elements to miss. */
	if (state_load(name, &st) < 0 || st.creating || spec_is_lan(&st.spec))
		return 0;
	/* The ports file says what is meant: it is written before the commit,
	 * so a publish killed there left the kernel with fewer ports, an
	 * unpublish with more, apply's replace others. Counts and fingerprints
	 * (read for all gateways at once) tell; only then are the ports
	 * themselves read. A damaged file says
	 * nothing: the kernel's ports are left as they are. */
	to = gw_target_of(&st.spec);
	differ = state_ports_load(name, &pubs, &n_pubs) == 0 &&
		 (have->n_ports != ruleset_ports_elems(&to, pubs, n_pubs) ||
		  have->ports_fingerprint != ruleset_ports_fingerprint(&to, pubs, n_pubs));
	gw = gw_rules_of(&st.spec);
	gw_rules_dns(&gw, NULL);
	stale = queue_masq_stale(nft, &st.spec, have);
	if (stale < 0)
		return stale;
	missing = restore_elems_missing(&st.spec, &gw, have);
	if (!differ && !missing)
		return stale;
	if (!differ)
		r = restore_queue_one(nft, &st, &gw, pubs, n_pubs);
	else
		r = queue_ports_fix(nft, &st, pubs, n_pubs, sp);
	if (r < 0 || (r == 0 && !missing))
		return r < 0 ? r : stale;   /* 0: only ports another gateway holds now, left to it */
	if (differ && missing)
		r = ruleset_queue_gateway(nft, &gw, false);
	return r < 0 ? r : 1;
}

/* Elements only: what each gateway should have (its state, resolv.conf
 * and ports files) against one read of the sets for all of them; the
 * gateways that lack something get all theirs again (adds of what exists
 * change nothing), and those with ports their file does not list lose
 * them, in one transaction. Their flows are then forgotten, as unpublish
 * does. */
static int restore_elems(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n,
			 struct gw_restore_result *ret, struct nsg_err *e)
{
	_cleanup_free_ struct ruleset_gw_state *have = calloc(n, sizeof(*have));
	_cleanup_free_ char (*fixed)[GW_NAME_MAX + 1] = calloc(n, sizeof(*fixed));
	struct stale_ports sp = { 0 };
	struct nsg_err ignored = { 0 };
	size_t k = 0;
	int r;

	if (!have || !fixed)
		return -ENOMEM;
	r = ruleset_gateway_states(s->nft, (const char (*)[GW_NAME_MAX + 1])names, n, have);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading table inet " RULESET_TABLE);
	nftx_batch_begin(s->nft);
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = restore_elems_one(s->nft, names[i], &have[i], &sp);
		if (r > 0)
			memcpy(fixed[k++], names[i], sizeof(*fixed));
	}
	if (r >= 0 && k)
		r = nftx_batch_commit(s->nft, e);
	else if (r < 0)
		r = nsg_fail(e, r, NULL, "nftables batch");
	/* Best effort, as the elements are gone: a flow left over times out. */
	if (r >= 0)
		publish_forget_flows(sp.gone, sp.n_gone, NULL, &ignored);
	free(sp.all);
	free(sp.gone);
	if (r < 0 || !k)
		return r < 0 ? r : 0;
	if (ret) {
		ret->gateways = TAKE_PTR(fixed);
		ret->n_gateways = k;
	}
	return 0;
}

static int restore_round(struct session *s, struct gw_restore_result *ret, struct nsg_err *e)
{
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	size_t n_gw = 0;
	int n, r;

	n = state_names(&names);
	if (n <= 0)
		return n < 0 ? nsg_fail(e, n, NULL, "listing gateways") : 0;
	r = ruleset_table_exists(s->nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables");
	if (r > 0 && ruleset_complete(s->nft) > 0) {
		r = restore_elems(s, names, n, ret, e);
		/* The networks' elements, and table bridge nsgate. */
		return r < 0 ? r : network_repair(s, ret ? &ret->table : NULL, e);
	}
	/* LAN gateways alone need no table: none is made for them. */
	if (!inventory_others_exist(""))
		return 0;
	/* Idempotent: on a table that is there but damaged, the skeleton
	 * rewrites nsgate's rules and element adds keep what exists. */
	nftx_batch_begin(s->nft);
	r = ruleset_queue_skeleton(s->nft);
	if (r == 0)
		r = restore_queue(s->nft, NULL, &n_gw);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	r = nftx_batch_commit(s->nft, e);
	if (r == 0 && ret)
		ret->table = n_gw > 0;
	return r;
}

/* Another tool may flush the table between the read that found it whole
 * and the commit of the missing elements (watch's first round races the
 * very flush it is there for): the batch then fails on a set that is gone
 * and, being atomic, changed nothing. The round starts again, which now
 * finds the table gone and rebuilds it; bounded, as each try costs a
 * flush by someone else. */
#define RESTORE_TRIES 3

int restore_run(struct session *s, struct gw_restore_result *ret, struct nsg_err *e)
{
	int r;

	if (ret)
		*ret = (struct gw_restore_result){ 0 };
	for (int i = 0;; i++) {
		r = restore_round(s, ret, e);
		if (r != -ENOENT || i + 1 == RESTORE_TRIES)
			return r;
		if (e)
			*e = (struct nsg_err){ 0 };
		if (ret) {   /* the elements may have gone in before the networks failed */
			free(ret->gateways);
			*ret = (struct gw_restore_result){ 0 };
		}
	}
}

int gateway_gc(struct gw_gc_item **ret, size_t *n_ret, struct gw_restore_result *restored,
	       struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r;

	*ret = NULL;
	*n_ret = 0;
	*restored = (struct gw_restore_result){ 0 };
	r = session_open(&s, SESSION_ALL, e);
	if (r == 0)
		r = gc_run(&s, false, ret, n_ret, e);
	if (r == 0)
		r = restore_run(&s, restored, e);
	/* Forwarding a crashed up turned on, with no gateway left; or the global
	 * switch turned on since: what nsgate saved is moot. */
	if (r == 0) {
		bool last = !inventory_others_exist("");

		/* A down killed after its last gateway went left the hint. */
		if (last)
			state_hint_clear();
		forward_settle(&s, last);
		forward6_settle(&s, last);
	}
	/* Other firewalls: opened again where a reload dropped nsgate's rules,
	 * or, with no gateway left, cleared of what a crash left there. */
	if (r == 0) {
		struct fw_survey sv;

		firewall_sync(&s, &sv, &restored->fw_opened, &restored->fw_err);
	}
	/* Temporary files a kill left mid-write (state, ports, resolv.conf):
	 * under the lock, nobody is writing one. */
	if (r == 0) {
		state_tmp_sweep();
		dns_tmp_sweep_all();
	}
	return r;
}

int gateway_restore(struct gw_restore_result *ret, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r;

	*ret = (struct gw_restore_result){ 0 };
	r = session_open(&s, SESSION_LOCK | SESSION_NFT, e);
	return r < 0 ? r : restore_run(&s, ret, e);
}
