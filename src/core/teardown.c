/* SPDX-License-Identifier: MIT */
/*
 * Removing gateways: one (down, gc of one, up clearing what a crash left,
 * apply re-creating) or many together (down --all, gc). Only what nsgate
 * labelled is touched: a link whose ifalias names another owner stays.
 */
#include <pthread.h>

#include "core.h"

/* After gateways went: what they shared goes with the last of them (the
 * subnet hint, the uplinks' forwarding nsgate turned on); otherwise the
 * forwarding is only brought up to date (forward_settle). */
static void shared_settle(struct session *s, bool others)
{
	bool last = !others && !inventory_others_exist("");

	if (last)
		state_hint_clear();
	forward_settle(s, last);
}

int teardown_files(const char *name, bool resolv, struct nsg_err *e)
{
	int r;

	if (resolv) {
		r = dns_remove(name);
		if (r < 0 && r != -ENOENT)
			return nsg_fail(e, r, NULL, "/etc/netns/%s/resolv.conf", name);
	}
	state_ports_remove(name);
	state_run_clear(name);
	/* The state file last: while it is there, the gateway is known. */
	r = state_remove(name);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? nsg_fail(e, r, NULL, STATE_DIR "/%s.state", name) : 1;
}

/* A link deletion run in a thread: one link by name, or a whole link group. */
struct link_job {
	struct nl_sock *host;
	const char *ifname;       /* NULL: delete group */
	uint32_t group;
	struct nsg_err e;
	int r;
	pthread_t thread;
	bool threaded;
};

static void *link_job_run(void *arg)
{
	struct link_job *j = arg;

	j->r = j->ifname ? link_delete(j->host, j->ifname, &j->e)
			 : link_delete_group(j->host, j->group, &j->e);
	return NULL;
}

/* Start the deletion; without a thread, it runs here and now. */
static void link_job_start(struct link_job *j)
{
	j->threaded = pthread_create(&j->thread, NULL, link_job_run, j) == 0;
	if (!j->threaded)
		link_job_run(j);
}

static void link_job_wait(struct link_job *j)
{
	if (j->threaded)
		pthread_join(j->thread, NULL);
	j->threaded = false;
}

/* What is left of a gateway to remove. */
struct leftovers {
	char ifname[IF_NAMESIZE];
	bool have_state;
	bool link_present;     /* its host link, labelled as its own */
	bool own_netns;        /* nsgate made its namespace: delete it too */
};

static void leftovers_find(struct nl_sock *host, const char *name, struct leftovers *l)
{
	struct gw_state st;
	struct link_info li;

	*l = (struct leftovers){ 0 };
	l->have_state = state_load(name, &st) == 0;
	if (l->have_state)
		snprintf(l->ifname, sizeof(l->ifname), "%s", st.spec.host_ifname);
	else
		spec_host_ifname(name, l->ifname);
	/* A link of that name that is not ours is never touched. */
	l->link_present = link_get(host, l->ifname, &li) == 0 &&
			  inventory_link_is(&li, name, &l->own_netns);
	if (!l->link_present)
		l->own_netns = false;
	if (l->have_state)
		l->own_netns = st.netns_created;
}

/* Queue the deletion of the gateway's elements, or of the whole table when
 * no other gateway needs it. *n_elems counts its elements. */
static int queue_rules_delete(struct nftx *nft, const char *name, bool others, size_t *n_elems,
			      struct nsg_err *e)
{
	int r;

	nftx_batch_begin(nft);
	r = ruleset_queue_owned_delete(nft, name, n_elems);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading nftables elements of \"%s\"", name);
	if (!others) {
		nftx_batch_begin(nft);
		if (ruleset_table_exists(nft) > 0)
			ruleset_queue_table_delete(nft);
	}
	return 0;
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
int teardown_one(struct session *s, const char *name, bool *found, struct nsg_err *e)
{
	struct leftovers l;
	struct link_job job = { .host = s->host, .ifname = l.ifname };
	_cleanup_free_ struct portmap *pub = NULL;
	size_t n_elems = 0, n_pub = 0;
	bool others;
	int r, forgot = 0;

	*found = false;
	leftovers_find(s->host, name, &l);
	others = inventory_others_exist(name);

	/* Its published ports, whose connections are forgotten once the
	 * elements are gone. */
	r = ruleset_published(s->nft, name, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports of \"%s\"", name);
	r = queue_rules_delete(s->nft, name, others, &n_elems, e);
	if (r < 0)
		return r;

	if (l.link_present)
		link_job_start(&job);
	r = nftx_batch_commit(s->nft, e);
	/* The mappings are gone, so no new flow can use them: forget the
	 * existing ones while the link's deletion waits in the kernel. */
	if (r == 0 && n_pub) {
		forgot = publish_forget_flows(pub, n_pub, NULL, e);
		if (forgot > 0)
			forgot = 0;
	}
	link_job_wait(&job);
	/* Only now the namespace: unmounting it starts the kernel's cleanup of
	 * the namespace, which takes RTNL for a while and would hold up the
	 * link's deletion had it still been going. */
	if (r == 0 && l.own_netns) {
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
	if (l.link_present && job.r < 0 && job.r != -ENODEV) {
		*e = job.e;
		return job.r;
	}

	/* A resolv.conf only when something was ours: /etc/netns/NAME may
	 * belong to a namespace nsgate never made. */
	r = teardown_files(name, dns_exists(name) == 0 && (l.have_state || l.link_present || n_elems),
			   e);
	*found = l.have_state || l.link_present || n_elems > 0 || r > 0;
	if (r < 0)
		return r;
	shared_settle(s, others);
	return 0;
}

/* Move the labelled links of names[] into the job's link group. */
static int group_links(struct nl_sock *host, const struct link_info *links, size_t nl,
		       char (*names)[GW_NAME_MAX + 1], size_t n, struct link_job *job,
		       size_t *n_links, struct nsg_err *e)
{
	*n_links = 0;
	for (size_t i = 0; i < nl; i++) {
		char owner[GW_NAME_MAX + 1];
		int r;

		if (!inventory_alias_owner(links[i].alias, owner, NULL) ||
		    !bsearch(owner, names, n, sizeof(*names), inventory_name_cmp))
			continue;
		r = link_set_group(host, links[i].name, job->group, e);
		if (r < 0)
			return r;
		(*n_links)++;
	}
	return 0;
}

/* Whether nsgate made name's namespace: its state says so, or, without one,
 * its link's label. */
static bool made_netns(const char *name, const struct link_info *links, size_t nl)
{
	struct gw_state st;
	bool own = false;

	if (state_load(name, &st) == 0)
		return st.netns_created;
	for (size_t j = 0; j < nl; j++)
		if (inventory_link_is(&links[j], name, &own))
			return own;
	return false;
}

/*
 * Remove many gateways at once (down --all, gc): one nftables transaction,
 * and their links moved into one link group and deleted with one request,
 * so the kernel unregisters them together and waits for its RCU grace
 * periods once, not once per link (1,000 veths: well under a second instead
 * of ~20 s). names[] is sorted in place.
 */
int teardown_many(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n, size_t *n_found,
		  struct nsg_err *e)
{
	_cleanup_free_ struct link_info *links = NULL;
	_cleanup_free_ struct portmap *pub = NULL;
	char (*all)[GW_NAME_MAX + 1] = NULL;
	struct link_job job = { .host = s->host,
				.group = 0x6e736700u | ((uint32_t)getpid() & 0xff) };
	size_t n_pub = 0, k = 0, n_elems, n_links = 0, nl = 0;
	bool others = false;
	int n_all, r;

	*n_found = 0;
	if (n == 0)
		return 0;
	qsort(names, n, sizeof(*names), inventory_name_cmp);
	/* Every gateway (are there others?) and every labelled link, one dump. */
	n_all = inventory_list(s->host, &all, &links, &nl);
	if (n_all < 0)
		return nsg_fail(e, n_all, NULL, "listing gateways");
	for (int i = 0; i < n_all && !others; i++)
		others = !bsearch(all[i], names, n, sizeof(*names), inventory_name_cmp);
	free(all);

	/* Their ports, whose flows are forgotten once the elements are gone. */
	r = ruleset_published(s->nft, NULL, &pub, &n_pub);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	for (size_t i = 0; i < n_pub; i++)
		if (bsearch(pub[i].owner, names, n, sizeof(*names), inventory_name_cmp))
			pub[k++] = pub[i];
	n_pub = k;

	nftx_batch_begin(s->nft);
	if (others) {
		r = ruleset_queue_owned_delete_many(s->nft, (const char (*)[GW_NAME_MAX + 1])names, n,
						    &n_elems);
		if (r < 0)
			return nsg_fail(e, r, NULL, "reading nftables elements");
	} else if (ruleset_table_exists(s->nft) > 0) {
		ruleset_queue_table_delete(s->nft);
	}
	r = nftx_batch_commit(s->nft, e);
	if (r == 0)
		r = group_links(s->host, links, nl, names, n, &job, &n_links, e);
	if (r < 0)
		return r;
	if (n_links)
		link_job_start(&job);

	/* Namespaces and files meanwhile. */
	for (size_t i = 0; i < n; i++) {
		if (made_netns(names[i], links, nl)) {
			int rr = netns_delete(names[i]);
			if (rr < 0 && rr != -ENOENT && r == 0)
				r = nsg_fail(e, rr, NULL, "netns \"%s\"", names[i]);
		}
		teardown_files(names[i], true, NULL);
		(*n_found)++;  /* a state file or a labelled link named it */
	}
	/* Their flows too, while the links' deletion waits in the kernel. */
	if (r == 0 && n_pub) {
		int rr = publish_forget_flows(pub, n_pub, NULL, e);
		r = rr < 0 ? rr : 0;
	}
	link_job_wait(&job);
	if (r == 0 && n_links && job.r < 0) {
		*e = job.e;
		r = job.r;
	}
	shared_settle(s, others);
	return r;
}
