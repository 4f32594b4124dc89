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
static void shared_settle(struct session *s, const char (*gone)[GW_NAME_MAX + 1], size_t n_gone,
			  bool others)
{
	bool last = !others && !inventory_others_exist("");

	/* Members gone leave their networks; a network made by up goes with
	 * its last member. Best effort: gc does it again (network_sync). */
	network_leave(s, gone, n_gone, NULL);
	if (last) {
		state_hint_clear();
		firewall_close(s);
	}
	forward_settle(s, last);
	forward6_settle(s, last);
}

int teardown_files(const char *name, bool resolv, struct nsg_err *e)
{
	int r;

	if (resolv) {
		r = dns_remove(name);
		/* ENOTDIR: /etc/netns/NAME is a link or a file now, not ours to touch. */
		if (r < 0 && r != -ENOENT && r != -ENOTDIR)
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

/* What is left of a gateway to remove, as its state file (if any) says. */
struct leftovers {
	char ifname[IF_NAMESIZE];
	bool have_state;
	bool creating;         /* its up never finished: its link may be unlabelled */
	bool link_present;     /* its host link, known to be its own */
	bool retired;          /* ... left to the kernel (dying.c) */
	bool marked;           /* ... untouched: its namespace dropped, the kernel's (down --all) */
	int ifindex, netnsid;  /* ... its index and its peer's namespace id (-1: none) */
	struct link_info li;   /* ... all of it (one, not the further ports) */
	bool own_netns;        /* nsgate made its namespace: delete it too */
	uint64_t netns_ino;    /* that namespace's inode (0: not known) */
	char *lo_netns;        /* attached namespace whose lo goes back down; malloc'ed */
	char *lan_netns;       /* a LAN gateway's namespace, where its macvlan is; malloc'ed */
	char ns_ifname[IF_NAMESIZE];   /* ... and that macvlan's name */
	unsigned n_more;               /* a member's further networks' veths */
	char more_ports[GW_NETS_MAX - 1][IF_NAMESIZE];
};

static void leftovers_read(const char *name, struct leftovers *l)
{
	struct gw_state st;

	*l = (struct leftovers){ .netnsid = -1 };
	l->have_state = state_load(name, &st) == 0;
	if (!l->have_state) {
		spec_host_ifname(name, l->ifname);
		return;
	}
	snprintf(l->ifname, sizeof(l->ifname), "%s", st.spec.host_ifname);
	l->creating = st.creating;
	for (unsigned k = 0; k < st.spec.n_nets_more; k++)
		snprintf(l->more_ports[l->n_more++], IF_NAMESIZE, "%s", st.spec.nets_more[k].port);
	l->own_netns = st.netns_created;
	l->netns_ino = st.netns_ino;
	if (st.netnsid_known)
		l->netnsid = st.netnsid;
	if (st.lo_set_up && !st.netns_created)
		l->lo_netns = strdup(st.spec.netns_path);
	if (spec_is_lan(&st.spec)) {
		l->lan_netns = strdup(st.spec.netns_path);
		snprintf(l->ns_ifname, sizeof(l->ns_ifname), "%s", st.spec.ns_ifname);
	}
}

/* A LAN gateway's macvlan, in its namespace (lan.c), before the namespace
 * goes: 0 when there is none. */
static int leftovers_lan_remove(const struct leftovers *l, const char *name, struct nsg_err *e)
{
	if (!l->lan_netns)
		return 0;
	return lan_link_remove(name, l->lan_netns, l->netns_ino, l->ns_ifname, l->creating, e);
}

/* A member's further veths, each only when labelled as name's. */
static int leftovers_more_remove(struct nl_sock *host, const struct leftovers *l, const char *name,
				 struct nsg_err *e)
{
	for (unsigned k = 0; k < l->n_more; k++) {
		char owner[GW_NAME_MAX + 1];
		struct link_info li;
		int r;

		if (link_get(host, l->more_ports[k], &li) < 0 ||
		    !inventory_alias_owner(li.alias, owner, NULL) || strcmp(owner, name))
			continue;
		r = link_delete(host, l->more_ports[k], e);
		if (r < 0 && r != -ENODEV)
			return r;
	}
	return 0;
}

static void leftovers_free(struct leftovers *l)
{
	free(l->lo_netns);
	free(l->lan_netns);
	l->lo_netns = l->lan_netns = NULL;
}

/* Whether li is the gateway's own link: labelled as its own, or, for an up
 * that never finished, still in the group that marks a link not yet
 * labelled (a link of that name that is not ours is never touched). */
static bool leftovers_link_is(const struct leftovers *l, const char *name,
			      const struct link_info *li, bool *own_netns)
{
	if (inventory_link_is(li, name, own_netns))
		return true;
	/* A down killed between its retire's two messages: still its name. */
	if (dying_link_is(li, name))
		return true;
	return l->creating && !li->alias[0] && li->group == LINK_GROUP_UNLABELLED &&
	       !strcmp(li->name, l->ifname);
}

/* Whether the kernel can take the link with the namespace: one nsgate made,
 * whose only veth it is (a LAN gateway's macvlan and a member's further
 * ports keep the synchronous path). */
static bool leftovers_to_kernel(const struct leftovers *l)
{
	return l->link_present && l->own_netns && !l->n_more && !l->lan_netns && l->ifindex > 0 &&
	       l->netnsid >= 0;
}

static void leftovers_find(struct nl_sock *host, const char *name, struct leftovers *l)
{
	struct link_info li;
	bool own = false;

	leftovers_read(name, l);
	l->link_present = link_get(host, l->ifname, &li) == 0 &&
			  leftovers_link_is(l, name, &li, &own);
	l->ifindex = l->link_present ? li.ifindex : 0;
	l->netnsid = l->link_present ? li.link_netnsid : -1;
	if (l->link_present)
		l->li = li;
	/* Without a state file, the link's label says whether the namespace
	 * was ours; a dying label is only ever given to such a link (down
	 * --all leaves it so, and up of the name retires it: dying.c). */
	if (!l->have_state)
		l->own_netns = l->link_present && (own || dying_link_is(&li, name));
}

/* Put the attached namespace's lo back down, as up found it; only in the
 * namespace up recorded (a PID reused by another namespace is left alone). */
static void leftovers_lo_restore(const struct leftovers *l)
{
	_cleanup_close_ int fd = -1;
	struct nl_sock *ns = NULL;
	uint64_t ino;

	if (!l->lo_netns || netns_open(l->lo_netns, &fd, NULL) < 0 ||
	    netns_ident(fd, &ino) < 0 || (l->netns_ino && ino != l->netns_ino))
		return;
	if (link_sock_open_in(fd, &ns) == 0)
		link_set_down(ns, "lo", NULL);
	link_sock_close(ns);
}

/* The namespace nsgate made, if it is still the one it made. */
static int leftovers_netns_delete(const struct leftovers *l, const char *name, struct nsg_err *e)
{
	int r;

	if (!l->own_netns)
		return 0;
	r = netns_delete(name, l->netns_ino);
	/* Gone already, or another namespace took the name since: not ours. */
	if (r == -ENOENT || r == -ESTALE)
		return 0;
	return r < 0 ? nsg_fail(e, r, NULL, "netns \"%s\"", name) : 0;
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

/* After the elements and the flows: the link left to the kernel (when
 * to_kernel; or deleted meanwhile by the caller), the further ports, the
 * namespace, what else there is. */
static int leftovers_remove(struct nl_sock *host, struct leftovers *l, const char *name,
			    bool to_kernel, struct nsg_err *e)
{
	int r = 0;

	l->retired = to_kernel && dying_retire(host, name, &l->li, NULL) == 0;
	/* Not retired (a link of the dying name in the way): deleted, as before. */
	if (to_kernel && !l->retired) {
		r = link_delete_index(host, l->ifindex, e);
		r = r == -ENODEV ? 0 : r;
	}
	if (r == 0)
		r = leftovers_more_remove(host, l, name, e);
	/* Only now the namespace: unmounting it starts the kernel's cleanup of
	 * the namespace, which takes RTNL for a while and would hold up the
	 * link's deletion had it still been going. */
	if (r == 0)
		r = leftovers_lan_remove(l, name, e);
	if (r == 0)
		r = leftovers_netns_delete(l, name, e);
	if (r == 0 && l->retired)
		dying_reap(host, &(struct dying_link){ l->ifindex, l->netnsid }, 1);
	/* The namespace was ours and its link is not there: a down killed
	 * after its retire, whose link a holder of the namespace may keep. */
	if (r == 0 && l->have_state && l->own_netns && !l->link_present)
		dying_sweep(host);
	if (r == 0)
		leftovers_lo_restore(l);
	return r;
}

/*
 * down's slow kernel operations each can wait for an RCU grace period
 * (15-20 ms here): deleting a veth (netdev unregister, two of them) and the
 * nftables commit (which waits for commit_mutex while a recently closed
 * nfnetlink socket flushes nf_tables' destroy work); with published ports
 * the conntrack dump walks every bucket of the table (~10 ms). A veth whose
 * namespace nsgate made is not deleted: it goes with the namespace, in the
 * kernel's time (dying.c). Any other goes in a thread while the rules and
 * then the flows go here, so the three overlap.
 */
int teardown_one(struct session *s, const char *name, bool *found, struct nsg_err *e)
{
	struct leftovers l;
	struct link_job job = { .host = s->host, .ifname = l.ifname };
	_cleanup_free_ struct portmap *pub = NULL;
	char gone[1][GW_NAME_MAX + 1];
	size_t n_elems = 0, n_pub = 0;
	bool others, to_kernel;
	int r, forgot = 0;

	*found = false;
	leftovers_find(s->host, name, &l);
	to_kernel = leftovers_to_kernel(&l);
	others = inventory_others_exist(name);

	/* Its published ports, whose connections are forgotten once the
	 * elements are gone. */
	r = ruleset_published(s->nft, name, &pub, &n_pub);
	if (r < 0)
		r = nsg_fail(e, r, NULL, "reading published ports of \"%s\"", name);
	if (r == 0)
		r = queue_rules_delete(s->nft, name, others, &n_elems, e);
	if (r < 0) {
		leftovers_free(&l);
		return r;
	}

	if (l.link_present && !to_kernel)
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
	if (r == 0)
		r = leftovers_remove(s->host, &l, name, to_kernel, e);
	leftovers_free(&l);
	if (r == 0 && forgot < 0)
		r = forgot;
	if (r < 0)
		return r;
	if (l.link_present && !to_kernel && job.r < 0 && job.r != -ENODEV) {
		*e = job.e;
		return job.r;
	}

	/* A resolv.conf only when something was ours: /etc/netns/NAME may
	 * belong to a namespace nsgate never made. */
	r = teardown_files(name, l.have_state || l.link_present || n_elems, e);
	*found = l.have_state || l.link_present || n_elems > 0 || r > 0;
	if (r < 0)
		return r;
	snprintf(gone[0], sizeof(gone[0]), "%s", name);
	shared_settle(s, (const char (*)[GW_NAME_MAX + 1])gone, 1, others);
	return 0;
}

/* Leave li, a link of left[k], to the kernel if it can take it with the
 * namespace (leftovers_to_kernel): true when it did. */
static bool retire_link(struct nl_sock *host, const struct link_info *li, const char *name,
			struct leftovers *l)
{
	l->ifindex = li->ifindex;
	l->netnsid = li->link_netnsid;
	l->link_present = true;
	if (!leftovers_to_kernel(l))
		return false;
	l->retired = dying_retire(host, name, li, NULL) == 0;
	return l->retired;
}

/* Move the links of names[] into the job's link group: the labelled ones
 * (from the one dump), but those left to the kernel (retire_link), and
 * those of ups that never finished (looked up by name: a link without its
 * label is not in that dump). */
static int group_links(struct nl_sock *host, const struct link_info *links, size_t nl,
		       char (*names)[GW_NAME_MAX + 1], struct leftovers *left, size_t n,
		       struct link_job *job, size_t *n_links, struct nsg_err *e)
{
	struct link_info li;
	int r;

	*n_links = 0;
	for (size_t i = 0; i < nl; i++) {
		char owner[GW_NAME_MAX + 1];
		char (*at)[GW_NAME_MAX + 1];

		if (!inventory_alias_owner(links[i].alias, owner, NULL) ||
		    !(at = bsearch(owner, names, n, sizeof(*names), inventory_name_cmp)) ||
		    left[at - names].marked)
			continue;
		/* Known by name only so far (many_survey): its label decides. */
		if (link_get(host, links[i].name, &li) < 0 || !inventory_link_is(&li, *at, NULL))
			continue;
		if (retire_link(host, &li, *at, &left[at - names]))
			continue;
		r = link_set_group(host, li.name, job->group, e);
		if (r < 0)
			return r;
		(*n_links)++;
	}
	for (size_t i = 0; i < n; i++) {
		if (!left[i].creating || link_get(host, left[i].ifname, &li) < 0 ||
		    li.alias[0] || !leftovers_link_is(&left[i], names[i], &li, NULL))
			continue;
		r = link_set_group(host, li.name, job->group, e);
		if (r < 0)
			return r;
		(*n_links)++;
	}
	return 0;
}

/* Without a state file, whether nsgate made name's namespace is its link's label. */
static void leftovers_read_all(char (*names)[GW_NAME_MAX + 1], size_t n,
			       const struct link_info *links, size_t nl, struct leftovers *left)
{
	for (size_t i = 0; i < n; i++) {
		leftovers_read(names[i], &left[i]);
		for (size_t j = 0; j < nl && !left[i].have_state; j++)
			if (inventory_link_is(&links[j], names[i], &left[i].own_netns))
				break;
	}
}

/* The ports of names[], whose flows are forgotten once the elements are gone. */
static int many_ports(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n,
		      struct portmap **pub, size_t *n_pub, struct nsg_err *e)
{
	size_t k = 0;
	int r = ruleset_published(s->nft, NULL, pub, n_pub);

	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	for (size_t i = 0; i < *n_pub; i++)
		if (bsearch((*pub)[i].owner, names, n, sizeof(*names), inventory_name_cmp))
			(*pub)[k++] = (*pub)[i];
	*n_pub = k;
	return 0;
}

/* What removing names[] (sorted) together needs to know: every labelled
 * link and whether other gateways stay (one dump), and the ports of
 * names[], whose flows are forgotten once the elements are gone. */
static int many_survey(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n,
		       struct link_info **links, size_t *nl, bool *others, struct portmap **pub,
		       size_t *n_pub, struct nsg_err *e)
{
	char (*all)[GW_NAME_MAX + 1] = NULL;
	/* Quick: a dump of every link costs O(N^2) in the kernel; what
	 * removes a link reads its label by name first (group_links,
	 * many_settle_marked), and down --all leaves most links untouched. */
	int n_all = inventory_list(s->host, &all, links, nl, TEARDOWN_INVENTORY);

	if (n_all < 0)
		return nsg_fail(e, n_all, NULL, "listing gateways");
	for (int i = 0; i < n_all && !*others; i++)
		*others = !bsearch(all[i], names, n, sizeof(*names), inventory_name_cmp);
	free(all);
	return many_ports(s, names, n, pub, n_pub, e);
}

/*
 * The links of names[] the kernel can take with their namespace
 * (leftovers_to_kernel) are not touched at all: any change to a veth (a
 * retire's down, rename and address removal) makes the kernel walk the
 * host's whole FIB, its sysctl tree, and every namespace id it has given
 * (each notification names the peer's), O(gateways) a link: 10,000
 * gateways' down --all took 39 s. Their namespaces are dropped first;
 * once a namespace has no reference left, its link is the kernel's, which
 * destroys both (and until then list, gc and up tell it by its dead peer:
 * inventory_list, teardown_one). A namespace still held is settled next
 * (many_settle_marked), all before the rules go.
 */
static void many_mark(const struct link_info *links, size_t nl, char (*names)[GW_NAME_MAX + 1],
		      struct leftovers *left, size_t n)
{
	for (size_t i = 0; i < nl; i++) {
		char owner[GW_NAME_MAX + 1];
		char (*at)[GW_NAME_MAX + 1];
		struct leftovers *l;

		if (!inventory_alias_owner(links[i].alias, owner, NULL) ||
		    !(at = bsearch(owner, names, n, sizeof(*names), inventory_name_cmp)))
			continue;
		l = &left[at - names];
		l->ifindex = links[i].ifindex;
		/* A link known by its name (inventory_list's quick kind) comes
		 * without its peer's id: the state file has it. */
		if (links[i].link_netnsid >= 0)
			l->netnsid = links[i].link_netnsid;
		l->link_present = true;
		l->li = links[i];
		l->marked = leftovers_to_kernel(l);
	}
}

/*
 * After the marked links' namespaces were dropped, and before the rules
 * go: one whose namespace is still held (someone else's reference, or a
 * socket closed within a grace period) would stay up and addressed, with
 * forwarding and route_localnet on, for its holder: it is retired (and
 * reaped later) as down of one gateway does, or deleted when that fails.
 * The others belong to the kernel: no process is left to send through them.
 */
static void many_settle_marked(struct nl_sock *host, char (*names)[GW_NAME_MAX + 1],
			       struct leftovers *left, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = left[i].marked;
	if (!any)
		return;
	dying_grace();
	for (size_t i = 0; i < n; i++) {
		struct leftovers *l = &left[i];
		struct link_info li;

		if (!l->marked || !link_netnsid_alive(host, l->netnsid))
			continue;
		/* Known by name only so far: its label decides, as ever. */
		if (link_get(host, l->li.name, &li) < 0 || li.ifindex != l->ifindex ||
		    !leftovers_link_is(l, names[i], &li, NULL))
			continue;
		l->retired = dying_retire(host, names[i], &li, NULL) == 0;
		if (!l->retired)
			link_delete_index(host, l->ifindex, NULL);
	}
}

/* The namespaces of names[] marked (many_mark) or not as marked says;
 * the first error in *r. */
static void many_netns_remove(char (*names)[GW_NAME_MAX + 1], struct leftovers *left, size_t n,
			      bool marked, struct nsg_err *e, int *r)
{
	for (size_t i = 0; i < n; i++) {
		int rr;

		if (left[i].marked != marked)
			continue;
		rr = leftovers_lan_remove(&left[i], names[i], *r == 0 ? e : NULL);
		if (rr == 0)
			rr = leftovers_netns_delete(&left[i], names[i], *r == 0 ? e : NULL);
		if (rr < 0 && *r == 0)
			*r = rr;
	}
}

/* After the namespaces: the links left to the kernel whose namespace
 * someone else holds (dying_reap), and what a kill left (dying_sweep). */
static void many_reap(struct nl_sock *host, const struct leftovers *left, size_t n)
{
	_cleanup_free_ struct dying_link *retired = calloc(n, sizeof(*retired));
	size_t k = 0;
	bool sweep = false;

	for (size_t i = 0; i < n; i++) {
		struct dying_link one = { left[i].ifindex, left[i].netnsid };

		if (left[i].retired && retired)
			retired[k++] = one;
		else if (left[i].retired)
			dying_reap(host, &one, 1);
		/* As in leftovers_remove: a down killed after its retire. */
		sweep |= left[i].have_state && left[i].own_netns && !left[i].link_present;
	}
	if (k)
		dying_reap(host, retired, k);
	if (sweep)
		dying_sweep(host);
}

/*
 * Remove many gateways at once (down --all, gc): one nftables transaction,
 * and their links moved into one link group and deleted with one request,
 * so the kernel unregisters them together and waits for its RCU grace
 * periods once, not once per link (1,000 veths: well under a second instead
 * of ~20 s); or, for a namespace nsgate made, left to the kernel with it
 * (dying.c). names[] is sorted in place.
 */
int teardown_many(struct session *s, char (*names)[GW_NAME_MAX + 1], size_t n,
		  const struct teardown_survey *known, size_t *n_found, struct nsg_err *e)
{
	_cleanup_free_ struct link_info *own_links = NULL;
	const struct link_info *links;
	_cleanup_free_ struct portmap *pub = NULL;
	struct link_job job = { .host = s->host,
				.group = 0x6e736800u | ((uint32_t)getpid() & 0xff) };
	size_t n_pub = 0, n_elems, n_links = 0, nl = 0;
	struct leftovers *left;
	bool others = false;
	int r, r_marked = 0;
	struct nsg_err e_marked = { 0 };

	*n_found = 0;
	if (n == 0)
		return 0;
	qsort(names, n, sizeof(*names), inventory_name_cmp);
	if (known) {
		links = known->links;
		nl = known->n_links;
		others = known->others;
		r = many_ports(s, names, n, &pub, &n_pub, e);
	} else {
		r = many_survey(s, names, n, &own_links, &nl, &others, &pub, &n_pub, e);
		links = own_links;
	}
	if (r < 0)
		return r;

	left = calloc(n, sizeof(*left));
	if (!left)
		return -ENOMEM;
	leftovers_read_all(names, n, links, nl, left);

	/* The links the kernel can take: labelled, their namespaces dropped,
	 * the held ones retired, all before the rules go, so that no link a
	 * process can still send through is up without them. */
	many_mark(links, nl, names, left, n);
	many_netns_remove(names, left, n, true, &e_marked, &r_marked);
	many_settle_marked(s->host, names, left, n);

	nftx_batch_begin(s->nft);
	if (others) {
		r = ruleset_queue_owned_delete_many(s->nft, (const char (*)[GW_NAME_MAX + 1])names, n,
						    &n_elems);
		if (r < 0) {
			r = nsg_fail(e, r, NULL, "reading nftables elements");
			goto out;
		}
	} else if (ruleset_table_exists(s->nft) > 0) {
		ruleset_queue_table_delete(s->nft);
	}
	r = nftx_batch_commit(s->nft, e);
	if (r == 0)
		r = group_links(s->host, links, nl, names, left, n, &job, &n_links, e);
	if (r < 0)
		goto out;
	if (n_links)
		link_job_start(&job);

	/* Namespaces and files meanwhile: the files last, for a kill to leave
	 * gc something to find. */
	many_netns_remove(names, left, n, false, r == 0 ? e : NULL, &r);
	for (size_t i = 0; i < n; i++) {
		leftovers_lo_restore(&left[i]);
		teardown_files(names[i], true, NULL);
		(*n_found)++;  /* a state file or a labelled link named it */
	}
	/* Their flows too, while the links' deletion waits in the kernel. */
	if (r == 0 && n_pub) {
		int rr = publish_forget_flows(pub, n_pub, NULL, e);
		r = rr < 0 ? rr : 0;
	}
	link_job_wait(&job);
	/* After the thread: dying_reap may fork. */
	many_reap(s->host, left, n);
	/* ENODEV: the kernel destroyed them all with their namespaces first. */
	if (r == 0 && n_links && job.r < 0 && job.r != -ENODEV) {
		*e = job.e;
		r = job.r;
	}
	shared_settle(s, (const char (*)[GW_NAME_MAX + 1])names, n, others);
	if (r == 0 && r_marked < 0) {
		*e = e_marked;
		r = r_marked;
	}
out:
	for (size_t i = 0; i < n; i++)
		leftovers_free(&left[i]);
	free(left);
	return r;
}
