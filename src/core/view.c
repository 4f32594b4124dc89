/* SPDX-License-Identifier: MIT */
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
	const struct published *pub;            /* its ports */
	size_t n_pub;
};

int view_with(struct nl_sock *host, struct nftx *nft, const char *name, struct gw_view *v,
		     const struct view_snapshot *snap)
{
	char ifname[IF_NAMESIZE];
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
	if (snap) {
		struct link_info key;
		const struct link_info *li;

		snprintf(key.name, sizeof(key.name), "%s", ifname);
		li = bsearch(&key, snap->links, snap->n_links, sizeof(key), link_name_cmp);
		v->link_present = li != NULL;
		if (li)
			v->link = *li;
		v->nft = *snap->nft;
		if (snap->n_pub) {
			v->pub = malloc(snap->n_pub * sizeof(*v->pub));
			if (!v->pub)
				return -ENOMEM;
			memcpy(v->pub, snap->pub, snap->n_pub * sizeof(*v->pub));
			v->n_pub = snap->n_pub;
		}
	} else {
		v->link_present = link_get(host, ifname, &v->link) == 0;
		r = ruleset_gateway_state(nft, name, &v->nft);
		if (r < 0)
			return r;
		r = ruleset_published(nft, name, &v->pub, &v->n_pub);
		if (r < 0)
			return r;
	}
	v->netns_present = v->have_state && netns_alive(&v->state);
	r = dns_read_servers(name, v->dns, GW_DNS_MAX);
	v->dns_present = r >= 0;
	v->n_dns = r > 0 ? (unsigned)r : 0;

	if (!v->have_state && !v->link_present && !v->nft.n_elems) {
		gateway_view_clear(v);
		return -ENOENT;
	}
	if (v->state_damaged)
		v->status = "state-damaged";
	else if (!v->have_state)
		v->status = "no-state";
	else if (!v->link_present)
		v->status = "link-missing";
	else if (!(v->link.flags & IFF_UP) || v->link.n_addrs == 0)
		v->status = "link-down";
	else if (!v->nft.in_ifaces)
		v->status = "rules-missing";
	else if (!v->netns_present)
		v->status = "netns-gone";
	else if (state_run_alive(name) == 0)
		v->status = "run-ended";
	else
		v->status = "up";
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
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	int r = open_sockets(&host, &nft, e);

	if (r == 0) {
		r = view_with(host, nft, name, ret, NULL);
		if (r < 0)
			nsg_fail(e, r, r == -ENOENT ? "no such gateway" : NULL, "gateway \"%s\"", name);
	}
	link_sock_close(host);
	nftx_close(nft);
	return r;
}

int gateway_list(struct gw_view **ret, size_t *n_ret, struct nsg_err *e)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	struct gw_view *views = NULL;
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_free_ struct link_info *links = NULL;
	_cleanup_free_ struct ruleset_gw_state *states = NULL;
	_cleanup_free_ struct published *pub = NULL;
	size_t k = 0, n_links = 0, n_pub = 0, j = 0;
	int n, r;

	r = open_sockets(&host, &nft, e);
	if (r < 0)
		goto out;
	n = known_names_links(host, &names, &links, &n_links);
	if (n < 0) {
		r = nsg_fail(e, n, NULL, "listing gateways");
		goto out;
	}
	views = calloc(n ? n : 1, sizeof(*views));
	states = calloc(n ? n : 1, sizeof(*states));
	if (!views || !states) {
		r = -ENOMEM;
		goto out;
	}
	r = ruleset_gateway_states(nft, (const char (*)[GW_NAME_MAX + 1])names, n, states);
	if (r == 0)
		r = ruleset_published(nft, NULL, &pub, &n_pub);
	if (r < 0) {
		nsg_fail(e, r, NULL, "reading table inet nsgate");
		goto out;
	}
	ruleset_published_sort_by_owner(pub, n_pub);
	for (int i = 0; i < n; i++) {
		struct view_snapshot snap = { .links = links, .n_links = n_links, .nft = &states[i] };
		size_t first;

		/* names and owners are both sorted: one merge pass. */
		while (j < n_pub && strcmp(pub[j].owner, names[i]) < 0)
			j++;
		first = j;
		while (j < n_pub && !strcmp(pub[j].owner, names[i]))
			j++;
		snap.pub = j > first ? pub + first : NULL;
		snap.n_pub = j - first;

		r = view_with(host, nft, names[i], &views[k], &snap);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0) {
			nsg_fail(e, r, NULL, "gateway \"%s\"", names[i]);
			goto out;
		}
		k++;
	}
	*ret = TAKE_PTR(views);
	*n_ret = k;
out:
	if (views)
		for (size_t i = 0; i < k; i++)
			gateway_view_clear(&views[i]);
	free(views);
	free(names);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}
