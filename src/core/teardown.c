/* SPDX-License-Identifier: MIT */
#include "core.h"

/* Put ip_forward back if nsgate changed it and no gateway needs it any more. */
static void forward_restore_if_last(void)
{
	char old[16];

	if (other_gateways_exist(""))
		return;
	state_hint_clear();
	if (state_forward_get(old, sizeof(old)) == 0) {
		sysctl_write(SYSCTL_IP_FORWARD, old);
		state_forward_clear();
	}
}

/* A link deletion run in a thread: one link by name, or a whole link group. */
struct link_job {
	struct nl_sock *host;
	const char *ifname;       /* NULL: delete group */
	uint32_t group;
	struct nsg_err e;
	int r;
};

static void *link_job_run(void *arg)
{
	struct link_job *j = arg;

	j->r = j->ifname ? link_delete(j->host, j->ifname, &j->e)
			 : link_delete_group(j->host, j->group, &j->e);
	return NULL;
}

/*
 * down's two slow kernel operations each can wait for an RCU grace period
 * (15-20 ms here): deleting the veth (netdev unregister) and the nftables
 * commit (which waits for commit_mutex while a recently closed nfnetlink
 * socket flushes nf_tables' destroy work); with published ports a third,
 * the conntrack dump, walks every bucket of the table (~10 ms). The link
 * goes in a thread while the rules and then the flows go here, so the
 * three overlap.
 */
int down_locked(struct nl_sock *host, struct nftx *nft, const char *name, bool *found,
		       struct nsg_err *e)
{
	struct gw_state st;
	char ifname[IF_NAMESIZE];
	struct link_info li;
	bool own_netns = false, have_state, link_present, others, threaded = false;
	struct link_job job = { .host = host, .ifname = ifname };
	size_t n_elems = 0, n_pub = 0;
	_cleanup_free_ struct published *pub = NULL;
	pthread_t t;
	int r, forgot = 0;

	*found = false;
	have_state = state_load(name, &st) == 0;
	if (have_state)
		snprintf(ifname, sizeof(ifname), "%s", st.spec.host_ifname);
	else
		spec_host_ifname(name, ifname);
	link_present = link_get(host, ifname, &li) == 0;
	if (link_present) {
		char owner[GW_NAME_MAX + 1];
		if (!alias_name(li.alias, owner, &own_netns) || strcmp(owner, name))
			link_present = false;  /* not ours: never touch it */
	}
	if (have_state)
		own_netns = st.netns_created;
	others = other_gateways_exist(name);

	/* Its published ports, whose connections are forgotten once the
	 * elements are gone. */
	r = ruleset_published(nft, name, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports of \"%s\"", name);
	nftx_batch_begin(nft);
	r = ruleset_queue_owned_delete(nft, name, &n_elems);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading nftables elements of \"%s\"", name);
	if (!others) {
		nftx_batch_begin(nft);
		r = ruleset_table_exists(nft);
		if (r > 0)
			ruleset_queue_table_delete(nft);
	}

	if (link_present)
		threaded = pthread_create(&t, NULL, link_job_run, &job) == 0;
	if (link_present && !threaded)
		link_job_run(&job);
	r = nftx_batch_commit(nft, e);
	/* The mappings are gone, so no new flow can use them: forget the
	 * existing ones while the link's deletion waits in the kernel. */
	if (r == 0 && n_pub) {
		forgot = publish_forget_flows(pub, n_pub, e);
		if (forgot > 0)
			forgot = 0;
	}
	if (threaded)
		pthread_join(t, NULL);
	/* Only now the namespace: unmounting it starts the kernel's cleanup of
	 * the namespace, which takes RTNL for a while and would hold up the
	 * link's deletion had it still been going. */
	if (r == 0 && own_netns) {
		r = netns_delete(name);
		if (r < 0 && r != -ENOENT)
			nsg_fail(e, r, NULL, "netns \"%s\"", name);
		else
			r = 0;
	}
	if (r == 0 && forgot < 0)
		r = forgot;
	if (r < 0)
		return r;
	if (link_present && job.r < 0 && job.r != -ENODEV) {
		*e = job.e;
		return job.r;
	}

	if (dns_exists(name) == 0 && (have_state || link_present || n_elems)) {
		r = dns_remove(name);
		if (r < 0)
			return nsg_fail(e, r, NULL, "/etc/netns/%s/resolv.conf", name);
	}
	state_ports_remove(name);
	state_run_clear(name);
	r = state_remove(name);
	*found = have_state || link_present || n_elems > 0 || r == 0;
	if (r < 0 && r != -ENOENT)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.state", name);
	if (!others)
		forward_restore_if_last();
	return 0;
}

/*
 * Remove many gateways at once (down --all, gc): one nftables transaction,
 * and their links moved into one link group and deleted with one request,
 * so the kernel unregisters them together and waits for its RCU grace
 * periods once, not once per link (1,000 veths: well under a second instead
 * of ~20 s). names[] is sorted in place.
 */
int down_many_locked(struct nl_sock *host, struct nftx *nft, char (*names)[GW_NAME_MAX + 1],
			    size_t n, size_t *n_found, struct nsg_err *e)
{
	_cleanup_free_ struct link_info *links = NULL;
	_cleanup_free_ struct published *pub = NULL;
	char (*all)[GW_NAME_MAX + 1] = NULL;
	struct link_job job = { .host = host, .group = 0x6e736700u | ((uint32_t)getpid() & 0xff) };
	size_t n_pub = 0, k = 0, n_elems, n_links = 0, nl = 0;
	bool others = false, threaded = false;
	pthread_t t;
	int n_all, r;

	*n_found = 0;
	if (n == 0)
		return 0;
	qsort(names, n, sizeof(*names), name_cmp);
	/* Every gateway (are there others?) and every labelled link, one dump. */
	n_all = known_names_links(host, &all, &links, &nl);
	if (n_all < 0)
		return nsg_fail(e, n_all, NULL, "listing gateways");
	for (int i = 0; i < n_all && !others; i++)
		others = !bsearch(all[i], names, n, sizeof(*names), name_cmp);
	free(all);

	/* Their ports, whose flows are forgotten once the elements are gone. */
	r = ruleset_published(nft, NULL, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	for (size_t i = 0; i < n_pub; i++)
		if (bsearch(pub[i].owner, names, n, sizeof(*names), name_cmp))
			pub[k++] = pub[i];
	n_pub = k;

	nftx_batch_begin(nft);
	if (others) {
		r = ruleset_queue_owned_delete_many(nft, (const char (*)[GW_NAME_MAX + 1])names, n, &n_elems);
		if (r < 0)
			return nsg_fail(e, r, NULL, "reading nftables elements");
	} else if (ruleset_table_exists(nft) > 0) {
		ruleset_queue_table_delete(nft);
	}
	r = nftx_batch_commit(nft, e);
	if (r < 0)
		return r;

	/* Links: only those labelled as one of these gateways. */
	for (size_t i = 0; i < nl && r == 0; i++) {
		char owner[GW_NAME_MAX + 1];

		if (!alias_name(links[i].alias, owner, NULL) ||
		    !bsearch(owner, names, n, sizeof(*names), name_cmp))
			continue;
		r = link_set_group(host, links[i].name, job.group, e);
		n_links++;
	}
	if (r < 0)
		return r;
	if (n_links)
		threaded = pthread_create(&t, NULL, link_job_run, &job) == 0;
	if (n_links && !threaded)
		link_job_run(&job);

	/* Namespaces and files meanwhile. */
	for (size_t i = 0; i < n; i++) {
		struct gw_state st;
		bool have_state = state_load(names[i], &st) == 0, own = have_state && st.netns_created;

		if (!have_state) {
			/* The label says whether nsgate made the namespace. */
			for (size_t j = 0; j < nl; j++) {
				char owner[GW_NAME_MAX + 1];
				bool own_netns;

				if (alias_name(links[j].alias, owner, &own_netns) && !strcmp(owner, names[i]))
					own = own_netns;
			}
		}
		if (own) {
			int rr = netns_delete(names[i]);
			if (rr < 0 && rr != -ENOENT && r == 0)
				r = nsg_fail(e, rr, NULL, "netns \"%s\"", names[i]);
		}
		dns_remove(names[i]);
		state_ports_remove(names[i]);
		state_run_clear(names[i]);
		state_remove(names[i]);
		(*n_found)++;  /* a state file or a labelled link named it */
	}
	/* Their flows too, while the links' deletion waits in the kernel. */
	if (r == 0 && n_pub) {
		int rr = publish_forget_flows(pub, n_pub, e);
		r = rr < 0 ? rr : 0;
	}
	if (threaded)
		pthread_join(t, NULL);
	if (r == 0 && n_links && job.r < 0) {
		*e = job.e;
		r = job.r;
	}
	if (!others)
		forward_restore_if_last();
	return r;
}
