/* SPDX-License-Identifier: MIT */
#include "core.h"

/* Queue every gateway's elements and ports from the state files, but for
 * except's. *n counts the gateways. */
int queue_restore(struct nftx *nft, const char *except, size_t *n)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	int count = state_names(&names), r = 0;

	if (count < 0)
		return count;
	for (int i = 0; i < count && r == 0; i++) {
		struct gw_state st;
		struct ruleset_gw gw;
		_cleanup_free_ struct publish *pubs = NULL;
		size_t n_pubs;

		if ((except && !strcmp(names[i], except)) || state_load(names[i], &st) < 0)
			continue;  /* a damaged state is gc's to clear */
		gw = ruleset_gw_of(&st.spec);
		r = ruleset_queue_gateway(nft, &gw, false);
		if (r == 0 && state_ports_load(names[i], &pubs, &n_pubs) == 0)
			r = ruleset_queue_publish(nft, st.spec.name, spec_ns_addr(&st.spec.subnet), pubs,
						  n_pubs, false);
		if (n)
			(*n)++;
	}
	free(names);
	return r;
}

/* Why gateway name should go, or NULL. links NULL: only a dead run counts.
 * Costs a few file reads and a stat, whatever the number of gateways: gc of
 * a thousand healthy gateways must not read every set a thousand times. */
static const char *gc_reason(const struct live_links *links, const char *name)
{
	struct gw_state st;
	int r;

	if (state_run_alive(name) == 0)
		return "its run ended";
	if (!links)
		return NULL;
	r = state_load(name, &st);
	if (r == -EBADMSG)
		return "its state file is damaged";
	if (r < 0)
		return "it has no state file (left behind by a crash)";
	if (!netns_alive(&st))
		return "its namespace is gone";
	if (!bsearch(name, links->names, links->n, sizeof(*links->names), name_cmp))
		return "its link is gone";
	return NULL;
}

int gc_locked(struct nl_sock *host, struct nftx *nft, bool runs_only,
		     struct gw_gc_item **ret, size_t *n_ret, struct nsg_err *e)
{
	struct live_links links = { 0 };
	char (*names)[GW_NAME_MAX + 1] = NULL;
	struct gw_gc_item *items = NULL;
	size_t k = 0;
	int n, r = 0;

	n = runs_only ? state_run_names(&names) : known_names(host, &names);
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing gateways");
	if (ret) {
		items = calloc(n ? n : 1, sizeof(*items));
		if (!items) {
			free(names);
			return -ENOMEM;
		}
	}
	/* Decide first, remove together: one transaction, one link group. */
	if (!runs_only) {
		r = live_links_read(host, &links);
		if (r < 0) {
			free(names);
			free(items);
			return nsg_fail(e, r, NULL, "listing links");
		}
	}
	for (int i = 0; i < n; i++) {
		const char *reason = gc_reason(runs_only ? NULL : &links, names[i]);

		if (!reason)
			continue;
		if (items) {
			snprintf(items[k].name, sizeof(items[k].name), "%s", names[i]);
			items[k].reason = reason;
		}
		memmove(names[k], names[i], sizeof(names[k]));
		k++;
	}
	if (k == 1) {
		bool found;
		r = down_locked(host, nft, names[0], &found, e);
	} else if (k > 1) {
		size_t gone;
		r = down_many_locked(host, nft, names, k, &gone, e);
		/* down_many sorts names: the items follow the same order. */
		if (items)
			qsort(items, k, sizeof(*items), name_cmp);
	}
	free(names);
	free(links.names);
	if (ret && r == 0) {
		*ret = items;
		*n_ret = k;
	} else {
		free(items);
	}
	return r;
}

int restore_locked(struct nftx *nft, bool *restored, struct nsg_err *e)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	size_t n_gw = 0;
	int n, r;

	*restored = false;
	n = state_names(&names);
	free(names);
	if (n <= 0)
		return n < 0 ? nsg_fail(e, n, NULL, "listing gateways") : 0;
	r = ruleset_table_exists(nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables");
	if (r > 0 && ruleset_complete(nft) > 0)
		return 0;
	/* Idempotent: on a table that is there but damaged, the skeleton
	 * rewrites nsgate's rules and element adds keep what exists. */
	nftx_batch_begin(nft);
	r = ruleset_queue_skeleton(nft);
	if (r == 0)
		r = queue_restore(nft, NULL, &n_gw);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	r = nftx_batch_commit(nft, e);
	if (r == 0)
		*restored = n_gw > 0;
	return r;
}

int gateway_gc(struct gw_gc_item **ret, size_t *n_ret, struct nsg_err *e)
{
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	bool restored;
	int r;

	*ret = NULL;
	*n_ret = 0;
	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = open_sockets(&host, &nft, e);
	if (r == 0)
		r = gc_locked(host, nft, false, ret, n_ret, e);
	if (r == 0)
		r = restore_locked(nft, &restored, e);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}

int gateway_restore(bool *restored, struct nsg_err *e)
{
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	int r;

	*restored = false;
	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = nftx_open(&nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables netlink socket");
	r = restore_locked(nft, restored, e);
	nftx_close(nft);
	return r;
}
