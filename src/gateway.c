/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgate/config.h"
#include "nsgate/dns.h"
#include "nsgate/gateway.h"
#include "nsgate/ipam.h"
#include "nsgate/netns.h"
#include "nsgate/nft.h"
#include "nsgate/publish.h"
#include "nsgate/sysctl.h"

/* The ifalias that marks a link as a gateway's host side, so list, down and
 * gc find gateways from the kernel even when a state file is gone. */
static void gw_alias(const struct gw_state *st, char *buf, size_t len)
{
	snprintf(buf, len, GW_ALIAS_PREFIX "%s%s", st->spec.name,
		 st->netns_created ? " own-netns" : "");
}

/* The gateway name an alias carries, or false if it is not ours. */
static bool alias_name(const char *alias, char name[GW_NAME_MAX + 1], bool *own_netns)
{
	size_t plen = strlen(GW_ALIAS_PREFIX), n;

	if (strncmp(alias, GW_ALIAS_PREFIX, plen))
		return false;
	alias += plen;
	n = strcspn(alias, " ");
	if (n == 0 || n > GW_NAME_MAX)
		return false;
	memcpy(name, alias, n);
	name[n] = '\0';
	if (own_netns)
		*own_netns = !strcmp(alias + n, " own-netns");
	return spec_name_check(name, NULL) == 0;
}

/* ------------------------------------------------------------------- up */

struct up_ctx {
	struct gw_state st;
	int netns_fd;
	struct nl_sock *host;
	struct nl_sock *ns;
	struct nftx *nft;
	bool forward_changed;
	char forward_old[16];
	bool table_existed;
	bool other_gateways;
	const char *warning;
	const struct publish *pubs;
	size_t n_pubs;
	bool force;
	pid_t run_pid;
	struct nsg_err *e;
};

static int step_netns(struct up_ctx *c)
{
	struct gw_spec *s = &c->st.spec;
	int r;

	if (s->netns_kind == GW_NETNS_OWN) {
		r = netns_create(s->name, c->e);
		if (r < 0)
			return r;
		c->st.netns_created = true;
		r = netns_open(s->netns_path, &c->netns_fd, c->e);
		if (r < 0)
			return r;
	}
	/* An attached namespace was opened (and checked) before any change. */
	return netns_ident(c->netns_fd, &c->st.netns_ino);
}

static void undo_netns(struct up_ctx *c)
{
	if (c->st.netns_created)
		netns_delete(c->st.spec.name);
}

static int step_ip_forward(struct up_ctx *c)
{
	char cur[16];
	int r = sysctl_read(SYSCTL_IP_FORWARD, cur, sizeof(cur));

	if (r < 0)
		return nsg_fail(c->e, r, NULL, "sysctl net.ipv4.ip_forward");
	if (!strcmp(cur, "1"))
		return 0;
	/* Remember the value only the first time: a later gateway finds 1. */
	r = state_forward_set(cur);
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "%s", STATE_DIR "/ip_forward.saved");
	r = sysctl_write(SYSCTL_IP_FORWARD, "1");
	if (r < 0) {
		state_forward_clear();
		return nsg_fail(c->e, r, NULL, "sysctl net.ipv4.ip_forward");
	}
	c->forward_changed = true;
	snprintf(c->forward_old, sizeof(c->forward_old), "%s", cur);
	return 0;
}

static void undo_ip_forward(struct up_ctx *c)
{
	if (!c->forward_changed)
		return;
	sysctl_write(SYSCTL_IP_FORWARD, c->forward_old);
	state_forward_clear();
}

static int step_veth(struct up_ctx *c)
{
	char alias[64];

	gw_alias(&c->st, alias, sizeof(alias));
	return link_veth_create(c->host, c->st.spec.host_ifname, alias, GW_PEER_IFNAME,
				c->netns_fd, c->e);
}

static void undo_veth(struct up_ctx *c)
{
	link_delete(c->host, c->st.spec.host_ifname, NULL);
}

static int step_host_link(struct up_ctx *c)
{
	const struct gw_spec *s = &c->st.spec;
	int r;

	char key[64];

	r = link_addr_add(c->host, s->host_ifname, spec_host_addr(&s->subnet), s->subnet.plen, c->e);
	if (r < 0)
		return r;
	/* Lets the host reach published ports at 127.0.0.1: the DNATed packet
	 * leaves through this link with its loopback source (masqueraded in
	 * postrouting). The setting lives and dies with the link. */
	snprintf(key, sizeof(key), "net/ipv4/conf/%s/route_localnet", s->host_ifname);
	r = sysctl_write(key, "1");
	if (r < 0)
		return nsg_fail(c->e, r, NULL, "sysctl %s", key);
	/* The gateway is IPv4 only. With IPv6 on, bringing the link up adds
	 * link-local, multicast and local routes to the host's IPv6 FIB, and
	 * each later link's up walks that FIB: the thousandth gateway's up
	 * took 1.2-1.5x as long as the first. No kernel IPv6 (ENOENT): fine. */
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", s->host_ifname);
	r = sysctl_write(key, "1");
	if (r < 0 && r != -ENOENT)
		return nsg_fail(c->e, r, NULL, "sysctl %s", key);
	return link_set_up(c->host, s->host_ifname, c->e);
}

static int step_ns_link(struct up_ctx *c)
{
	const struct gw_spec *s = &c->st.spec;
	int r;

	if (!c->ns) {
		r = link_sock_open_in(c->netns_fd, &c->ns);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "netlink socket in netns \"%s\"", s->netns_path);
	}
	r = link_set_up(c->ns, "lo", c->e);
	if (r == 0)
		r = link_addr_add(c->ns, GW_PEER_IFNAME, spec_ns_addr(&s->subnet), s->subnet.plen, c->e);
	if (r == 0)
		r = link_set_up(c->ns, GW_PEER_IFNAME, c->e);
	if (r == 0)
		r = link_route_default_add(c->ns, GW_PEER_IFNAME, spec_host_addr(&s->subnet), c->e);
	return r;
}


static struct ruleset_gw ruleset_gw_of(const struct gw_spec *s)
{
	return (struct ruleset_gw){ .name = s->name, .host_ifname = s->host_ifname, .uplink = s->uplink };
}

/* Queue every gateway's elements and ports from the state files, but for
 * except's. *n counts the gateways. */
static int queue_restore(struct nftx *nft, const char *except, size_t *n)
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

static int step_nft(struct up_ctx *c)
{
	struct ruleset_gw gw = ruleset_gw_of(&c->st.spec);
	int r;

	nftx_batch_begin(c->nft);
	/* The table's rules are written when it is created; later gateways only
	 * add elements, the cheapest transaction there is. */
	r = c->table_existed ? 0 : ruleset_queue_skeleton(c->nft);
	/* No table but other gateways: someone flushed the ruleset. Theirs
	 * come back in the same transaction. */
	if (r == 0 && !c->table_existed && c->other_gateways)
		r = queue_restore(c->nft, c->st.spec.name, NULL);
	if (r == 0)
		r = ruleset_queue_gateway(c->nft, &gw, false);
	if (r == 0)
		r = ruleset_queue_publish(c->nft, c->st.spec.name, spec_ns_addr(&c->st.spec.subnet),
					  c->pubs, c->n_pubs, false);
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

static int step_dns(struct up_ctx *c)
{
	_cleanup_free_ char *content = NULL;
	int r = dns_render_host(&c->st.spec, &content, &c->warning);

	if (r < 0)
		return nsg_fail(c->e, r, NULL, "resolv.conf for \"%s\"", c->st.spec.name);
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
	r = state_save(&c->st, c->e);
	if (r < 0)
		state_ports_remove(c->st.spec.name);
	return r;
}

static void undo_state(struct up_ctx *c)
{
	state_remove(c->st.spec.name);
	state_ports_remove(c->st.spec.name);
	state_run_clear(c->st.spec.name);
}

struct up_step {
	const char *name;
	int (*run)(struct up_ctx *c);
	void (*undo)(struct up_ctx *c);
};

/* Undo of the veth also takes the addresses and routes on both of its ends. */
static const struct up_step up_steps[] = {
	{ "netns", step_netns, undo_netns },
	{ "ip_forward", step_ip_forward, undo_ip_forward },
	{ "veth", step_veth, undo_veth },
	{ "host_link", step_host_link, NULL },
	{ "ns_link", step_ns_link, NULL },
	{ "nftables", step_nft, undo_nft },
	{ "dns", step_dns, undo_dns },
	{ "state", step_state, undo_state },
};

static bool same_request(const struct gw_spec *req, const struct gw_state *have)
{
	const struct gw_spec *h = &have->spec;

	if (req->netns_kind != h->netns_kind || strcmp(req->netns_path, h->netns_path))
		return false;
	if (req->subnet_given &&
	    (req->subnet.addr != h->subnet.addr || req->subnet.plen != h->subnet.plen))
		return false;
	if (strcmp(req->uplink, h->uplink) || req->dns_mode != h->dns_mode)
		return false;
	if (req->dns_mode == GW_DNS_LIST &&
	    (req->n_dns != h->n_dns || memcmp(req->dns, h->dns, req->n_dns * sizeof(req->dns[0]))))
		return false;
	return true;
}

/* A given subnet is checked against every address and route of an attached
 * namespace (if any) and of the host: routes by FIB lookups for a small
 * subnet (see choose_subnet), the full list otherwise. */
#define SUBNET_FIB_PLEN_MIN 28  /* at most 16 lookups */

static int check_given_subnet(struct up_ctx *c, const struct ip4_net *used, int n)
{
	const struct ip4_net *s = &c->st.spec.subnet;
	char a[IP4_NET_STRLEN], b[IP4_NET_STRLEN];
	struct ip4_net in_way;
	long hit = ipam_find_overlap(s, used, n);
	int r;

	if (hit >= 0) {
		in_way = used[hit];
		goto overlap;
	}
	if (s->plen < SUBNET_FIB_PLEN_MIN)
		return 0;  /* the caller's list had the host's prefixes too */
	/* Every prefix that overlaps s either holds s or lies inside it, so it
	 * holds one of s's addresses, and the FIB finds it. */
	for (uint64_t addr = s->addr; addr < (uint64_t)s->addr + (1ULL << (32 - s->plen)); addr++) {
		r = link_route_match(c->host, (uint32_t)addr, &in_way);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "route lookup");
		if (r > 0)
			goto overlap;
	}
	return 0;
overlap:
	nsg_fail(c->e, -EADDRINUSE, NULL, "--subnet \"%s\"", ip4_net_str(s, a));
	nsg_why(c->e, "overlaps %s, already in use", ip4_net_str(&in_way, b));
	return -EADDRINUSE;
}

/* Append src[0..n) to *dst (of *n_dst entries). */
static int append_prefixes(struct ip4_net **dst, int *n_dst, const struct ip4_net *src, int n)
{
	struct ip4_net *all;

	if (n <= 0)
		return 0;
	all = realloc(*dst, (*n_dst + n) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all + *n_dst, src, n * sizeof(*all));
	*dst = all;
	*n_dst += n;
	return 0;
}

/*
 * Pick a free /30. Dumping every address and route costs O(gateways) per up
 * (each has an address, a prefix route and local entries), which made the
 * thousandth up 1.5-2x as slow as the first. Instead a hint where the last
 * pick ended gives a candidate, and the FIB says, for each of its four
 * addresses, which route it would use: a match other than the default route
 * (an address's local route, a prefix route, any route the policy uses) is
 * in the way; it joins the used list and the next candidate is tried. Like
 * docker's overlap check, this sees routes, not addresses on links that are
 * down (they have no route, so nothing of theirs is reachable either).
 * Bounded; beyond the bound, the full dump decides.
 */
static int choose_subnet(struct up_ctx *c)
{
	struct gw_spec *s = &c->st.spec;
	_cleanup_free_ struct ip4_net *used = NULL, *used_ns = NULL;
	struct ip4_net pool;
	uint32_t hint = 0;
	int n, n_ns = 0, r;

	/* Given and small, or picked: the FIB checks it. Given and large: the
	 * full list of the host's prefixes. */
	n = s->subnet_given && s->subnet.plen < SUBNET_FIB_PLEN_MIN ? link_used_prefixes(c->host, &used) : 0;
	if (n < 0)
		return nsg_fail(c->e, n, NULL, "reading the host's addresses and routes");
	if (c->ns) {
		n_ns = link_used_prefixes(c->ns, &used_ns);
		if (n_ns < 0)
			return nsg_fail(c->e, n_ns, NULL, "reading the namespace's addresses and routes");
		if (append_prefixes(&used, &n, used_ns, n_ns) < 0)
			return -ENOMEM;
	}
	if (s->subnet_given)
		return check_given_subnet(c, used, n);

	ip4_net_parse(GW_POOL_DEFAULT, &pool);
	state_hint_get(&hint);
	for (int round = 0; round < 64; round++) {
		struct ip4_net in_way;
		bool clear = true;

		if (ipam_pick_from(&pool, GW_SUBNET_PLEN, used, n, hint, &s->subnet) < 0)
			return nsg_fail(c->e, -EADDRINUSE, "no free /30 left (use --subnet)",
					"address pool %s", GW_POOL_DEFAULT);
		for (uint32_t a = s->subnet.addr; clear && a < s->subnet.addr + 4; a++) {
			r = link_route_match(c->host, a, &in_way);
			if (r < 0)
				return nsg_fail(c->e, r, NULL, "route lookup");
			if (r > 0) {
				clear = false;
				if (append_prefixes(&used, &n, &in_way, 1) < 0)
					return -ENOMEM;
			}
		}
		if (clear) {
			state_hint_set(s->subnet.addr + 4);
			return 0;
		}
	}
	/* Many routes in the pool: let the full list decide. */
	free(used);
	used = NULL;
	n = link_used_prefixes(c->host, &used);
	if (n < 0)
		return nsg_fail(c->e, n, NULL, "reading the host's addresses and routes");
	if (append_prefixes(&used, &n, used_ns, c->ns ? n_ns : 0) < 0)
		return -ENOMEM;
	if (ipam_pick(&pool, GW_SUBNET_PLEN, used, n, &s->subnet) < 0)
		return nsg_fail(c->e, -EADDRINUSE, "no free /30 left (use --subnet)",
				"address pool %s", GW_POOL_DEFAULT);
	return 0;
}

static bool other_gateways_exist(const char *name);
static int gc_locked(struct nl_sock *host, struct nftx *nft, bool runs_only,
		     struct gw_gc_item **ret, size_t *n_ret, struct nsg_err *e);
static int down_locked(struct nl_sock *host, struct nftx *nft, const char *name, bool *found,
		       struct nsg_err *e);

/* Everything that can be refused is refused here, before the first change. */
static int up_check(struct up_ctx *c, const struct gw_spec *req, struct gw_up_result *res)
{
	struct gw_spec *s = &c->st.spec;
	struct link_info li;
	struct gw_state have;
	int r;

	r = state_load(req->name, &have);
	if (r == 0) {
		struct gw_view v;

		if (!same_request(req, &have))
			return nsg_fail(c->e, -EEXIST, "is up with other settings (down it first)",
					"gateway \"%s\"", req->name);
		r = gateway_view(req->name, &v, NULL);
		if (r == 0 && !strcmp(v.status, "up")) {
			size_t ports = 0;
			bool same;

			for (size_t i = 0; i < c->n_pubs; i++)
				ports += c->pubs[i].count;
			same = ports == v.n_pub && publish_match(c->pubs, c->n_pubs, v.pub, v.n_pub, NULL) == 0;
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
		bool found;
		r = link_get(c->host, req->host_ifname, &li);
		if (r == 0) {
			char owner[GW_NAME_MAX + 1];
			if (!alias_name(li.alias, owner, NULL) || strcmp(owner, req->name))
				return nsg_fail(c->e, -EEXIST, "exists and is not this gateway's",
						"interface \"%s\"", req->host_ifname);
		}
		/* We hold the lock already: flock on a second descriptor would wait forever. */
		r = down_locked(c->host, c->nft, req->name, &found, c->e);
		if (r < 0)
			return r;
	}

	if (req->uplink[0]) {
		r = link_get(c->host, req->uplink, &li);
		if (r < 0)
			return nsg_fail(c->e, -ENODEV, "no such interface", "--uplink \"%s\"", req->uplink);
		char owner[GW_NAME_MAX + 1];
		if (alias_name(li.alias, owner, NULL))
			return nsg_fail(c->e, -EINVAL, "is a gateway's own interface",
					"--uplink \"%s\"", req->uplink);
	}

	if (s->netns_kind == GW_NETNS_OWN) {
		if (access(s->netns_path, F_OK) == 0)
			return nsg_fail(c->e, -EEXIST, "a namespace of that name exists already "
					"(attach it with --netns)", "netns \"%s\"", s->name);
	} else {
		r = netns_open(s->netns_path, &c->netns_fd, c->e);
		if (r < 0)
			return r;
		r = link_sock_open_in(c->netns_fd, &c->ns);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "netlink socket in netns \"%s\"", s->netns_path);
		if (link_index(c->ns, GW_PEER_IFNAME) > 0)
			return nsg_fail(c->e, -EEXIST, "the namespace has an interface of that name already",
					"interface \"%s\" in netns \"%s\"", GW_PEER_IFNAME, s->netns_arg);
	}

	r = choose_subnet(c);
	if (r < 0)
		return r;
	if (c->n_pubs) {
		struct published *all;
		size_t n_all;

		r = ruleset_published_near(c->nft, c->pubs, c->n_pubs, &all, &n_all);
		if (r < 0)
			return nsg_fail(c->e, r, NULL, "reading published ports");
		r = publish_check(s->name, spec_ns_addr(&s->subnet), c->pubs, c->n_pubs, all, n_all,
				  c->force, c->e);
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
	/* Only without a table does it matter (restore, or undo deleting it). */
	c->other_gateways = !c->table_existed && other_gateways_exist(s->name);
	return 0;
}

/* The host and nftables sockets belong to the caller. */
static void up_ctx_free(struct up_ctx *c)
{
	if (c->netns_fd >= 0)
		close(c->netns_fd);
	link_sock_close(c->ns);
}

static int open_sockets(struct nl_sock **host, struct nftx **nft, struct nsg_err *e)
{
	int r = link_sock_open(host);

	if (r < 0)
		return nsg_fail(e, r, NULL, "rtnetlink socket");
	r = nftx_open(nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables netlink socket");
	return 0;
}

static int up_locked(struct nl_sock *host, struct nftx *nft, const struct gw_spec *req,
		     const struct gw_up_opts *o, struct gw_up_result *res, struct nsg_err *e)
{
	struct up_ctx c = { .st.spec = *req, .netns_fd = -1, .e = e, .pubs = o->pubs,
			    .n_pubs = o->n_pubs, .force = o->force, .run_pid = o->run_pid,
			    .host = host, .nft = nft };
	const char *fail_at = getenv(GW_FAIL_STEP_ENV);
	size_t done = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = up_check(&c, req, res);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	for (done = 0; done < ARRAY_SIZE(up_steps); done++) {
		r = up_steps[done].run(&c);
		if (r == 0 && fail_at && !strcmp(fail_at, up_steps[done].name))
			r = nsg_fail(e, -ECANCELED, "injected failure (" GW_FAIL_STEP_ENV ")",
				     "up \"%s\": step %s", req->name, up_steps[done].name);
		if (r < 0) {
			done++;  /* a failed step may have done part of its work */
			break;
		}
	}
	if (r < 0) {
		while (done-- > 0)
			if (up_steps[done].undo)
				up_steps[done].undo(&c);
		goto out;
	}
	res->state = c.st;
	res->warning = c.warning;
out:
	up_ctx_free(&c);
	return r;
}

int gateway_up(const struct gw_spec *req, const struct gw_up_opts *o, struct gw_up_result *res,
	       struct nsg_err *e)
{
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	int r;

	memset(res, 0, sizeof(*res));
	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = open_sockets(&host, &nft, e);
	/* What a killed `nsgate run` left goes first: it may hold our name. */
	if (r == 0)
		r = gc_locked(host, nft, true, NULL, NULL, e);
	if (r == 0)
		r = up_locked(host, nft, req, o, res, e);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}

/* ----------------------------------------------------------------- down */

static int link_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link_info *)a)->name, ((const struct link_info *)b)->name);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Every gateway known from state files or from links nsgate labelled,
 * sorted and unique; the labelled links themselves in *links_ret when
 * wanted (sorted by name).
 */
static int known_names_links(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1],
			     struct link_info **links_ret, size_t *n_links_ret)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct link_info *links = NULL;
	int n, nl, k = 0;

	n = state_names(&names);
	if (n < 0)
		return n;
	nl = link_list_by_alias(host, GW_ALIAS_PREFIX, &links);
	if (nl < 0) {
		free(names);
		return nl;
	}
	if (nl > 0) {
		void *p = realloc(names, (n + nl) * sizeof(*names));

		if (!p) {
			free(names);
			return -ENOMEM;
		}
		names = p;
	}
	for (int i = 0; i < nl; i++)
		if (alias_name(links[i].alias, names[n], NULL))
			n++;
	if (n > 0) {
		qsort(names, n, sizeof(*names), name_cmp);
		for (int i = 0; i < n; i++)
			if (k == 0 || strcmp(names[k - 1], names[i]))
				memmove(names[k++], names[i], sizeof(*names));
	}
	if (links_ret) {
		if (nl > 0)
			qsort(links, nl, sizeof(*links), link_name_cmp);
		*links_ret = TAKE_PTR(links);
		*n_links_ret = nl > 0 ? (size_t)nl : 0;
	}
	*ret = names;
	return k;
}

static int known_names(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1])
{
	return known_names_links(host, ret, NULL, NULL);
}

/* Shared things (the table, ip_forward) stay while another gateway has state;
 * one that left only kernel objects is gc's. */
static bool other_gateways_exist(const char *name)
{
	return state_other_exists(name);
}

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
static int down_locked(struct nl_sock *host, struct nftx *nft, const char *name, bool *found,
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

int gateway_down(const char *name, bool *found, struct nsg_err *e)
{
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	int r;

	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = open_sockets(&host, &nft, e);
	if (r == 0)
		r = down_locked(host, nft, name, found, e);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}

/*
 * Remove many gateways at once (down --all, gc): one nftables transaction,
 * and their links moved into one link group and deleted with one request,
 * so the kernel unregisters them together and waits for its RCU grace
 * periods once, not once per link (1,000 veths: well under a second instead
 * of ~20 s). names[] is sorted in place.
 */
static int down_many_locked(struct nl_sock *host, struct nftx *nft, char (*names)[GW_NAME_MAX + 1],
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

int gateway_down_all(size_t *count, struct nsg_err *e)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	int n, r;

	*count = 0;
	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = open_sockets(&host, &nft, e);
	if (r < 0)
		goto out;
	n = known_names(host, &names);
	if (n < 0) {
		r = nsg_fail(e, n, NULL, "listing gateways");
		goto out;
	}
	r = down_many_locked(host, nft, names, n, count, e);
out:
	free(names);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}

/* ----------------------------------------------------------------- views */

static bool netns_alive(const struct gw_state *st)
{
	struct stat sb;

	if (stat(st->spec.netns_path, &sb) < 0)
		return false;
	/* A PID can be reused by a process in another namespace. */
	return !st->netns_ino || (uint64_t)sb.st_ino == st->netns_ino;
}

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

static int view_with(struct nl_sock *host, struct nftx *nft, const char *name, struct gw_view *v,
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

int gateway_exec(const char *name, char *const argv[], struct nsg_err *e)
{
	struct gw_state st;
	char path[PATH_MAX];
	int r = state_load(name, &st);

	if (r == 0)
		snprintf(path, sizeof(path), "%s", st.spec.netns_path);
	else if (r == -ENOENT)
		return nsg_fail(e, -ENOENT, "no such gateway", "gateway \"%s\"", name);
	else
		return nsg_fail(e, r, NULL, "state of gateway \"%s\"", name);
	return netns_exec(path, name, argv, e);
}

/* --------------------------------------------------------- publish/unpublish */

/* The ports file after a publish (or unpublish) of pubs[]: its old list with
 * these ports added (or taken out), merged into ranges. The maps are not
 * read back: with 10,000 ports that would cost more than the change. */
static int update_ports_file(const char *name, const struct publish *pubs, size_t n_pubs,
			     bool remove, struct nsg_err *e)
{
	_cleanup_free_ struct publish *old = NULL, *next = NULL;
	size_t n_old = 0, n_next;
	int r = state_ports_load(name, &old, &n_old);

	if (r < 0 && r != -EBADMSG)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name);
	r = publish_list_combine(old, n_old, pubs, n_pubs, remove, &next, &n_next);
	if (r < 0)
		return nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name);
	r = state_ports_save(name, next, n_next);
	return r < 0 ? nsg_fail(e, r, NULL, STATE_DIR "/%s.ports", name) : 0;
}

/* The gateway's state, for commands that change a running gateway. */
static int load_running(const char *name, struct gw_state *st, struct nsg_err *e)
{
	int r = state_load(name, st);

	if (r == -ENOENT)
		return nsg_fail(e, -ENODEV, "no such gateway", "gateway \"%s\"", name);
	if (r < 0)
		return nsg_fail(e, r, "its state file is damaged (down it and up again)",
				"gateway \"%s\"", name);
	return 0;
}

/* A running gateway's namespace address: where its ports lead. */
static int running_addr(const char *name, uint32_t *to, struct nsg_err *e)
{
	struct gw_state st;
	int r = load_running(name, &st, e);

	if (r < 0)
		return r;
	*to = spec_ns_addr(&st.spec.subnet);
	return 0;
}

static int publish_locked(struct nftx *nft, const char *name, const struct publish *pubs,
			  size_t n_pubs, bool force, struct nsg_err *e)
{
	_cleanup_free_ struct published *have = NULL;
	size_t n_have;
	uint32_t to;
	int r;

	/* Other gateways' ports where these would go: a claim is a conflict. */
	r = running_addr(name, &to, e);
	if (r < 0)
		return r;
	r = ruleset_published_near(nft, pubs, n_pubs, &have, &n_have);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	r = publish_check(name, to, pubs, n_pubs, have, n_have, force, e);
	if (r < 0)
		return r;
	nftx_batch_begin(nft);
	r = ruleset_queue_publish(nft, name, to, pubs, n_pubs, false);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	r = nftx_batch_commit(nft, e);
	if (r == 0)
		r = update_ports_file(name, pubs, n_pubs, false, e);
	return r;
}

static int unpublish_locked(struct nftx *nft, const char *name, const struct publish *pubs,
			    size_t n_pubs, struct nsg_err *e)
{
	_cleanup_free_ struct published *have = NULL;
	size_t n_have;
	uint32_t to;
	int r;

	size_t n_own = 0;

	r = running_addr(name, &to, e);
	if (r < 0)
		return r;
	/* Only the requested keys are looked up (unless there are many), so
	 * unpublishing a port does not read every gateway's ports. */
	r = ruleset_published_near(nft, pubs, n_pubs, &have, &n_have);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	for (size_t i = 0; i < n_have; i++)
		if (!strcmp(have[i].owner, name))
			have[n_own++] = have[i];
	r = publish_match(pubs, n_pubs, have, n_own, e);
	if (r < 0)
		return r;
	nftx_batch_begin(nft);
	r = ruleset_queue_publish(nft, name, to, pubs, n_pubs, true);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables batch");
	r = nftx_batch_commit(nft, e);
	if (r == 0)
		r = update_ports_file(name, pubs, n_pubs, true, e);
	if (r == 0)
		r = publish_forget_flows_req(pubs, n_pubs, to, e);
	return r < 0 ? r : 0;
}

/* Run fn with the lock held and an nftables socket. */
static int with_nft(int (*fn)(struct nftx *, const char *, const struct publish *, size_t, bool,
			      struct nsg_err *),
		    const char *name, const struct publish *pubs, size_t n_pubs, bool force,
		    struct nsg_err *e)
{
	_cleanup_close_ int lock = -1;
	struct nftx *nft = NULL;
	int r;

	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = nftx_open(&nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables netlink socket");
	r = fn(nft, name, pubs, n_pubs, force, e);
	nftx_close(nft);
	return r;
}

static int unpublish_fn(struct nftx *nft, const char *name, const struct publish *pubs,
			size_t n_pubs, bool force, struct nsg_err *e)
{
	return unpublish_locked(nft, name, pubs, n_pubs, e);
}

int gateway_publish(const char *name, const struct publish *pubs, size_t n_pubs, bool force,
		    struct nsg_err *e)
{
	return with_nft(publish_locked, name, pubs, n_pubs, force, e);
}

int gateway_unpublish(const char *name, const struct publish *pubs, size_t n_pubs,
		      struct nsg_err *e)
{
	return with_nft(unpublish_fn, name, pubs, n_pubs, false, e);
}

/* -------------------------------------------------------------- gc, restore */

struct view_snapshot;
static int view_with(struct nl_sock *host, struct nftx *nft, const char *name, struct gw_view *v,
		     const struct view_snapshot *snap);

/* The gateways whose labelled host link exists, from one link dump. */
struct live_links {
	char (*names)[GW_NAME_MAX + 1];   /* sorted */
	size_t n;
};

static int live_links_read(struct nl_sock *host, struct live_links *ret)
{
	_cleanup_free_ struct link_info *links = NULL;
	int n = link_list_by_alias(host, GW_ALIAS_PREFIX, &links);

	ret->n = 0;
	ret->names = NULL;
	if (n < 0)
		return n;
	ret->names = calloc(n ? n : 1, sizeof(*ret->names));
	if (!ret->names)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		if (alias_name(links[i].alias, ret->names[ret->n], NULL))
			ret->n++;
	qsort(ret->names, ret->n, sizeof(*ret->names), name_cmp);
	return 0;
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

static int gc_locked(struct nl_sock *host, struct nftx *nft, bool runs_only,
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

static int restore_locked(struct nftx *nft, bool *restored, struct nsg_err *e)
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

/* ------------------------------------------------------------------ apply */

/* Uplink or DNS changed: change them in place. */
static int update_in_place(struct nftx *nft, struct gw_state *have, const struct gw_spec *want,
			   char *detail, size_t len, struct nsg_err *e)
{
	struct gw_state next = *have;
	int r;

	if (strcmp(have->spec.uplink, want->uplink)) {
		struct ruleset_gw old = ruleset_gw_of(&have->spec), neu;

		snprintf(next.spec.uplink, sizeof(next.spec.uplink), "%s", want->uplink);
		neu = ruleset_gw_of(&next.spec);
		/* One transaction: the veth's elements go and come back with the
		 * new masquerade element, so no packet sees the gateway half-done. */
		nftx_batch_begin(nft);
		r = ruleset_queue_gateway(nft, &old, true);
		if (r == 0)
			r = ruleset_queue_gateway(nft, &neu, false);
		if (r == 0)
			r = nftx_batch_commit(nft, e);
		if (r < 0)
			return r;
		snprintf(detail + strlen(detail), len - strlen(detail), "%suplink %s",
			 detail[0] ? ", " : "", want->uplink[0] ? want->uplink : "any");
	}
	if (have->spec.dns_mode != want->dns_mode || have->spec.n_dns != want->n_dns ||
	    memcmp(have->spec.dns, want->dns, sizeof(want->dns))) {
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
		snprintf(detail + strlen(detail), len - strlen(detail), "%sdns", detail[0] ? ", " : "");
	}
	return state_save(&next, e);
}

static bool same_base(const struct gw_spec *want, const struct gw_state *have)
{
	const struct gw_spec *h = &have->spec;

	if (want->netns_kind != h->netns_kind || strcmp(want->netns_path, h->netns_path))
		return false;
	return !want->subnet_given ||
	       (want->subnet.addr == h->subnet.addr && want->subnet.plen == h->subnet.plen);
}

static int apply_one(struct nl_sock *host, struct nftx *nft, const struct config_gw *cg,
		     struct gw_apply_item *it, struct nsg_err *e)
{
	struct gw_up_opts o = { .pubs = cg->pubs, .n_pubs = cg->n_pubs };
	struct gw_up_result res;
	struct gw_state have;
	struct gw_view v;
	_cleanup_free_ struct publish *del = NULL, *add = NULL;
	size_t n_del, n_add;
	bool found, healthy;
	int r;

	snprintf(it->name, sizeof(it->name), "%s", cg->spec.name);
	r = state_load(cg->spec.name, &have);
	if (r == -ENOENT) {
		it->action = "created";
		return up_locked(host, nft, &cg->spec, &o, &res, e);
	}
	healthy = false;
	if (r == 0 && view_with(host, nft, cg->spec.name, &v, NULL) == 0) {
		healthy = !strcmp(v.status, "up");
		gateway_view_clear(&v);
	}
	if (r < 0 || !healthy || !same_base(&cg->spec, &have)) {
		snprintf(it->detail, sizeof(it->detail), "%s", r < 0 ? "its state was damaged" :
			 !healthy ? "it was broken" : "its subnet or namespace changed");
		it->action = "recreated";
		r = down_locked(host, nft, cg->spec.name, &found, e);
		return r < 0 ? r : up_locked(host, nft, &cg->spec, &o, &res, e);
	}

	it->action = "unchanged";
	if (strcmp(have.spec.uplink, cg->spec.uplink) || have.spec.dns_mode != cg->spec.dns_mode ||
	    have.spec.n_dns != cg->spec.n_dns || memcmp(have.spec.dns, cg->spec.dns, sizeof(have.spec.dns))) {
		it->action = "updated";
		r = update_in_place(nft, &have, &cg->spec, it->detail, sizeof(it->detail), e);
		if (r < 0)
			return r;
	}
	{
		_cleanup_free_ struct published *pub = NULL;
		size_t n_pub;

		r = ruleset_published(nft, cg->spec.name, &pub, &n_pub);
		if (r < 0)
			return nsg_fail(e, r, NULL, "reading published ports of \"%s\"", cg->spec.name);
		r = publish_diff(pub, n_pub, cg->pubs, cg->n_pubs, &del, &n_del, &add, &n_add);
		if (r < 0)
			return r;
	}
	if (n_del) {
		r = unpublish_locked(nft, cg->spec.name, del, n_del, e);
		if (r < 0)
			return r;
	}
	if (n_add) {
		r = publish_locked(nft, cg->spec.name, add, n_add, false, e);
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

/* Ports the file gives a gateway while a gateway the file does not keep
 * (or does not name) publishes them: refused before anything changes, as
 * a bad file is. Gateways the file names sort their ports out in order. */
static int apply_precheck(struct nftx *nft, const struct config *cfg, struct nsg_err *e)
{
	_cleanup_free_ struct published *all = NULL;
	size_t n_all, k = 0;
	int r = ruleset_published(nft, NULL, &all, &n_all);

	if (r < 0)
		return nsg_fail(e, r, NULL, "reading published ports");
	for (size_t i = 0; i < n_all; i++)
		if (!config_find(cfg, all[i].owner))
			all[k++] = all[i];
	for (size_t i = 0; i < cfg->n; i++) {
		const struct config_gw *cg = &cfg->gw[i];

		/* Target address 0 and no listener check: only other owners count. */
		r = publish_check(cg->spec.name, 0, cg->pubs, cg->n_pubs, all, k, true, e);
		if (r < 0)
			return r;
	}
	return 0;
}

int gateway_apply(const struct config *cfg, bool prune, struct gw_apply_item **ret, size_t *n_ret,
		  struct nsg_err *e)
{
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	char (*names)[GW_NAME_MAX + 1] = NULL;
	struct gw_apply_item *items;
	size_t k = 0;
	bool restored = false;
	int r, n = 0;

	*ret = NULL;
	*n_ret = 0;
	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	n = state_names(&names);
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing gateways");
	items = calloc(cfg->n + n + 2, sizeof(*items));
	if (!items) {
		free(names);
		return -ENOMEM;
	}
	r = open_sockets(&host, &nft, e);
	if (r == 0)
		r = apply_precheck(nft, cfg, e);
	if (r == 0)
		r = gc_locked(host, nft, true, NULL, NULL, e);
	if (r == 0)
		r = restore_locked(nft, &restored, e);
	if (r == 0 && restored) {
		snprintf(items[k].name, sizeof(items[k].name), "table");
		snprintf(items[k].detail, sizeof(items[k].detail), "inet " RULESET_TABLE);
		items[k++].action = "restored";
	}
	/* Only what was done is reported: a failing gateway has no line. */
	for (size_t i = 0; r == 0 && i < cfg->n; i++) {
		r = apply_one(host, nft, &cfg->gw[i], &items[k], e);
		if (r == 0)
			k++;
	}
	for (int i = 0; r == 0 && prune && i < n; i++) {
		bool found;

		if (config_find(cfg, names[i]))
			continue;
		r = down_locked(host, nft, names[i], &found, e);
		if (r < 0)
			break;
		snprintf(items[k].name, sizeof(items[k].name), "%s", names[i]);
		items[k++].action = "removed";
	}
	free(names);
	link_sock_close(host);
	nftx_close(nft);
	*ret = items;
	*n_ret = k;
	return r;
}
