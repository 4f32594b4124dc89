/* SPDX-License-Identifier: MIT */
/*
 * doctor: why a gateway may have no connectivity, found by reading only.
 * Each check reads what the operations themselves read (view_one, the
 * ruleset's elements against the state file as restore judges them, the
 * sysctls forward.c writes, the firewall survey) and turns it into
 * findings, each problem with what fixes it. No lock is taken and nothing
 * is written: a change running meanwhile may show half done, which the
 * next look settles. Three looks ask the kernel instead of reading: the
 * features nsgate's table needs (a check-only nftables batch, which the
 * kernel validates and aborts), the reverse-path filter (the FIB's verdict
 * on a packet coming in on an interface, RTM_GETROUTE with RTA_IIF: no
 * packet is sent), and DNS, really queried from inside the namespace.
 */
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "core.h"

/* A DNS server answers within this, or counts as unreachable. */
#define DNS_DEADLINE_MS 2000
/* The conntrack table counts as near full from this share (%) on. */
#define CONNTRACK_NEAR_FULL 90
/* An internet address for the FIB's verdicts only (TEST-NET-1, RFC 5737):
 * no packet is ever sent to it, and a host routes it as it routes the
 * internet, by its default route. */
#define INET_PROBE 0xc0000201u   /* 192.0.2.1 */

#define FIX_LEN sizeof(((struct gw_finding *)0)->fix)

struct doctor {
	struct session *s;
	struct gw_doctor_report *rep;
	size_t cap, cap_gw;
	struct gw_finding spill;     /* where a finding goes when memory ran out */
	bool oom;
	int table;                   /* table inet nsgate: 1 complete, 0 not, -errno */
	char defaults[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE];  /* the default routes' interfaces */
	int n_defaults;              /* their count, or -errno */
	bool fw_read;                /* the survey below is there */
	struct fw_survey fw;
};

/* The uplinks of one gateway: its --uplink, or the default routes' interfaces. */
struct uplinks {
	char name[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE];
	size_t n;
};

static struct gw_finding *finding(struct doctor *d, const char *gw, const char *check,
				  bool problem)
{
	struct gw_doctor_report *r = d->rep;
	struct gw_finding *f = &d->spill;

	if (GROW(r->findings, d->cap, r->n_findings + 1) == 0)
		f = &r->findings[r->n_findings++];
	else
		d->oom = true;
	*f = (struct gw_finding){ .check = check, .problem = problem };
	snprintf(f->gateway, sizeof(f->gateway), "%s", gw ? gw : "");
	return f;
}

/* A problem of gateway gw (NULL: the host's), and what fixes it ("": nothing to run). */
static _printf_(5, 6) void problem(struct doctor *d, const char *gw, const char *check,
				   const char *fix, const char *fmt, ...)
{
	struct gw_finding *f = finding(d, gw, check, true);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
}

static _printf_(4, 5) void passed(struct doctor *d, const char *gw, const char *check,
				  const char *fmt, ...)
{
	struct gw_finding *f = finding(d, gw, check, false);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
}

/* net.ipv4.conf.IFNAME.KEY: its value (>= 0), or -errno. */
static long conf_value(const char *ifname, const char *key)
{
	char path[96], buf[32];
	unsigned long v;
	int r;

	snprintf(path, sizeof(path), "net/ipv4/conf/%.15s/%s", ifname, key);
	r = sysctl_read(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	return spec_parse_uint(buf, 1ul << 30, &v) < 0 ? -EBADMSG : (long)v;
}

/* The sysctl command as an admin types it: a name with a dot (a VLAN,
 * eth0.100) needs the slash form. */
static void sysctl_cmd(char *buf, size_t len, const char *ifname, const char *key,
		       const char *value)
{
	if (strchr(ifname, '.'))
		snprintf(buf, len, "sysctl -w net/ipv4/conf/%s/%s=%s", ifname, key, value);
	else
		snprintf(buf, len, "sysctl -w net.ipv4.conf.%s.%s=%s", ifname, key, value);
}

/* ---------------------------------------------------------------- host */

/* nsgate's table, when gateways need it (want); d->table either way. */
static void check_table(struct doctor *d, bool want)
{
	const char *fix = "nsgate gc (nsgate watch puts it back at once)";
	int r = ruleset_table_exists(d->s->nft), cur = 0, complete = 0;

	if (r > 0)
		cur = ruleset_layout_current(d->s->nft);
	if (cur > 0)
		complete = ruleset_complete(d->s->nft);
	d->table = r < 0 ? r : cur < 0 ? cur : complete;
	if (!want)
		return;
	if (d->table < 0)
		problem(d, NULL, "nftables", "", "cannot read table inet " RULESET_TABLE ": %s",
			strerror(-d->table));
	else if (r == 0)
		problem(d, NULL, "nftables", fix, "table inet " RULESET_TABLE " is missing (deleted "
			"or flushed): no gateway is masqueraded");
	else if (cur == 0)
		problem(d, NULL, "nftables", fix, "table inet " RULESET_TABLE " has an older nsgate's "
			"layout");
	else if (complete == 0)
		problem(d, NULL, "nftables", fix, "table inet " RULESET_TABLE " lacks rules or chains "
			"of nsgate's, or holds others");
	else
		passed(d, NULL, "nftables", "table inet " RULESET_TABLE " is complete");
}

/* What nsgate's table needs of the kernel. When the table is there with
 * all its rules, so is all of it; otherwise each is asked of the kernel in
 * a batch it checks and never applies. */
static void check_kernel(struct doctor *d)
{
	static const struct {
		enum ruleset_probe probe;
		const char *feature, *modules, *config;
	} want[] = {
		{ RULESET_PROBE_TABLE, "nf_tables", "nf_tables", "CONFIG_NF_TABLES_INET" },
		{ RULESET_PROBE_NAT, "nat", "nft_chain_nat nft_masq", "CONFIG_NFT_NAT, CONFIG_NFT_MASQ" },
		{ RULESET_PROBE_FIB, "fib", "nft_fib_inet nft_fib_ipv4", "CONFIG_NFT_FIB_INET" },
		{ RULESET_PROBE_CT, "conntrack", "nft_ct nf_conntrack", "CONFIG_NFT_CT" },
	};
	size_t bad = 0;

	if (d->table > 0) {
		passed(d, NULL, "kernel", "nf_tables, nat, fib and conntrack: table inet "
		       RULESET_TABLE " uses them");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		struct nsg_err e = { 0 };
		char fix[FIX_LEN];
		int r;

		nftx_batch_begin(d->s->nft);
		r = ruleset_queue_probe(d->s->nft, want[i].probe);
		r = r < 0 ? nsg_fail(&e, r, NULL, "nftables batch") : nftx_batch_check(d->s->nft, &e);
		if (r == 0)
			continue;
		bad++;
		snprintf(fix, sizeof(fix), "modprobe %s (or a kernel built with %s)", want[i].modules,
			 want[i].config);
		if (r == -ENOENT || r == -EOPNOTSUPP || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT)
			problem(d, NULL, "kernel", fix, "the kernel lacks %s: %s: %s", want[i].feature,
				e.what, nsg_err_reason(&e));
		else
			problem(d, NULL, "kernel", "", "cannot ask the kernel for %s: %s: %s",
				want[i].feature, e.what, nsg_err_reason(&e));
		/* Without nf_tables there is nothing else to ask. */
		if (want[i].probe == RULESET_PROBE_TABLE)
			return;
	}
	if (!bad)
		passed(d, NULL, "kernel", "nf_tables, nat, fib and conntrack: the kernel accepts "
		       "what table inet " RULESET_TABLE " needs");
}

/* The host's connection tracking table (the limit is the host's, shared
 * by every namespace): once full, new connections are dropped. */
static void check_conntrack(struct doctor *d)
{
	char count[32], max[32], fix[FIX_LEN];
	unsigned long n, m;

	/* Not loaded yet: nothing tracked, nothing full. */
	if (sysctl_read("net/netfilter/nf_conntrack_count", count, sizeof(count)) < 0 ||
	    sysctl_read("net/netfilter/nf_conntrack_max", max, sizeof(max)) < 0)
		return;
	if (spec_parse_uint(count, ULONG_MAX / 200, &n) < 0 ||
	    spec_parse_uint(max, ULONG_MAX / 200, &m) < 0) {
		problem(d, NULL, "conntrack", "", "cannot read nf_conntrack_count (%s) or "
			"nf_conntrack_max (%s)", count, max);
		return;
	}
	if (m == 0 || n * 100 < m * CONNTRACK_NEAR_FULL) {
		passed(d, NULL, "conntrack", "%lu of %lu entries in use", n, m);
		return;
	}
	snprintf(fix, sizeof(fix), "sysctl -w net.netfilter.nf_conntrack_max=%lu", m * 2);
	problem(d, NULL, "conntrack", fix, "%lu of %lu connection tracking entries in use (%lu%%): "
		"new connections are dropped when it is full", n, m, n * 100 / m);
}

static void check_host(struct doctor *d)
{
	struct nsg_err e = { 0 };

	check_table(d, inventory_others_exist(""));
	check_kernel(d);
	check_conntrack(d);
	d->n_defaults = link_default_ifnames(d->s->host, d->defaults, ARRAY_SIZE(d->defaults));
	if (d->n_defaults < 0)
		problem(d, NULL, "uplink", "", "cannot read the host's default routes: %s",
			strerror(-d->n_defaults));
	else if (d->n_defaults == 0)
		passed(d, NULL, "uplink", "the host has no default route: a gateway without "
		       "--uplink reaches the host and other gateways only");
	d->fw_read = firewall_survey(d->s, &d->fw, &e) == 0;
	if (!d->fw_read)
		problem(d, NULL, "firewall", "", "cannot survey the other firewalls: %s: %s", e.what,
			nsg_err_reason(&e));
}

/* ------------------------------------------------------- gateway: host side */

/* Whether the deeper checks apply: the gateway has a state and its link. */
static bool check_state(struct doctor *d, const struct gw_view *v)
{
	const char *n = v->name, *st = v->status;
	char fix[FIX_LEN];

	snprintf(fix, sizeof(fix), "nsgate down %s, then nsgate up %s again", n, n);
	if (!strcmp(st, "state-damaged"))
		problem(d, n, "state", fix, "its state file " STATE_DIR "/%s.state is damaged", n);
	else if (!strcmp(st, "no-state"))
		problem(d, n, "state", "nsgate gc", "it has no state file: a crash left its link or "
			"elements behind");
	else if (!strcmp(st, "incomplete"))
		problem(d, n, "state", "nsgate gc", "its up never finished");
	else if (!strcmp(st, "netns-gone"))
		problem(d, n, "state", "nsgate gc", "its namespace %s is gone",
			v->state.spec.netns_path);
	else if (!strcmp(st, "run-ended"))
		problem(d, n, "state", "nsgate gc", "the nsgate run that owned it has ended");
	else if (!strcmp(st, "link-missing"))
		problem(d, n, "link", "nsgate gc", "its link %s is gone", spec_is_lan(&v->state.spec) ?
			v->state.spec.ns_ifname : v->state.spec.host_ifname);
	else
		return true;
	return false;
}

static void check_link(struct doctor *d, const struct gw_view *v)
{
	const struct gw_spec *s = &v->state.spec;
	struct ip_addr host = spec_host_addr(&s->subnet);
	char a[IP_ADDR_STRLEN], fix[FIX_LEN];
	bool has = false;

	ip_addr_str(&host, a);
	/* A network member's host side is a bridge port: the address is the
	 * bridge's (network list says whether it is there). */
	has = s->network[0];
	for (size_t i = 0; i < v->link.n_addrs; i++)
		has |= ip_addr_eq(&v->link.addrs[i], &host);
	if (!v->link.up) {
		snprintf(fix, sizeof(fix), "ip link set %s up", s->host_ifname);
		problem(d, v->name, "link", fix, "its link %s is down", s->host_ifname);
	}
	if (!has) {
		snprintf(fix, sizeof(fix), "ip addr add %s/%u dev %s", a, s->subnet.plen,
			 s->host_ifname);
		problem(d, v->name, "link", fix, "its link %s lacks its address %s", s->host_ifname, a);
	}
	if (v->link.up && has)
		passed(d, v->name, "link", "%s is up with %s/%u", s->host_ifname, a, s->subnet.plen);
}

/* The names of the sets that lack gateway s's element (restore decides
 * whether that counts: restore_elems_missing). */
static void elems_gone(const struct gw_spec *s, const struct ruleset_gw *gw,
		       const struct ruleset_gw_state *h, char *buf, size_t len)
{
	bool masq = s->uplink[0] ? strcmp(h->masq_via, s->uplink) != 0 : !h->masq_any;

	snprintf(buf, len, "%s%s%s%s%s%s", h->in_ifaces ? "" : " ifaces",
		 h->in_ns_addrs4 ? "" : " ns_addrs4 (its source check)",
		 h->in_ns_addrs6 || !spec_has_ipv6(s) ? "" : " ns_addrs6 (its IPv6 source check)",
		 !masq ? "" : s->uplink[0] ? " masq_via" : " masq_any",
		 s->no_host && !h->no_host ? " no_host" : "",
		 s->no_host && h->n_no_host_dns < gw->n_dns ? " no_host_dns4" : "");
}

/* Its elements against its files, as restore compares them. */
static void check_nftables(struct doctor *d, const struct gw_view *v)
{
	const char *fix = "nsgate gc (nsgate watch puts them back at once)";
	const struct gw_spec *s = &v->state.spec;
	_cleanup_free_ struct portmap *pubs = NULL;
	struct ruleset_gw_state have;
	struct ruleset_gw gw = gw_rules_of(s);
	size_t n_pubs = 0;
	bool bad = false;
	char gone[128];
	int r;

	/* A table that is missing or damaged is the host's finding. */
	if (d->table <= 0)
		return;
	r = ruleset_gateway_state(d->s->nft, v->name, &have);
	if (r < 0) {
		problem(d, v->name, "nftables", "", "cannot read its elements: %s", strerror(-r));
		return;
	}
	gw_rules_dns(&gw, NULL);
	if (restore_elems_missing(s, &gw, &have)) {
		elems_gone(s, &gw, &have, gone, sizeof(gone));
		problem(d, v->name, "nftables", fix, "its elements in table inet " RULESET_TABLE
			" are missing (sets:%s): its traffic is dropped", gone);
		bad = true;
	}
	struct gw_target to = gw_target_of(s);

	if (state_ports_load(v->name, &pubs, &n_pubs) == 0 &&
	    (have.n_ports != ruleset_ports_elems(&to, pubs, n_pubs) ||
	     have.ports_fingerprint != ruleset_ports_fingerprint(&to, pubs, n_pubs))) {
		problem(d, v->name, "nftables", fix, "its published ports in table inet "
			RULESET_TABLE " (%zu) differ from its ports file (%zu)", have.n_ports,
			portmap_count_ports(pubs, n_pubs));
		bad = true;
	}
	if (!bad)
		passed(d, v->name, "nftables", "its %zu elements in table inet " RULESET_TABLE
		       " are all there", have.n_elems);
}

static void uplinks_of(const struct doctor *d, const struct gw_spec *s, struct uplinks *u)
{
	u->n = 0;
	if (s->uplink[0]) {
		snprintf(u->name[u->n++], IF_NAMESIZE, "%s", s->uplink);
		return;
	}
	for (int i = 0; i < d->n_defaults; i++)
		/* A default route through a gateway's veth: no uplink (forward.c). */
		if (strncmp(d->defaults[i], GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX)))
			memcpy(u->name[u->n++], d->defaults[i], IF_NAMESIZE);
}

/* Forwarding is decided by the interface a packet comes in on: the veth
 * for what the namespace sends, the uplinks for the replies. Whatever the
 * global switch says, the interface's own value counts. */
static void check_forwarding(struct doctor *d, const struct gw_view *v, const struct uplinks *u)
{
	/* A member's packets come in on its network's bridge. */
	const char *veth = v->state.spec.network[0] ? v->state.spec.net_bridge
						    : v->state.spec.host_ifname;
	char fix[FIX_LEN];
	bool bad = false;
	long on = conf_value(veth, "forwarding");

	sysctl_cmd(fix, sizeof(fix), veth, "forwarding", "1");
	if (on < 0)
		problem(d, v->name, "forwarding", "", "cannot read its link's forwarding: %s",
			strerror((int)-on));
	else if (on == 0)
		problem(d, v->name, "forwarding", fix, "forwarding is off on %s: the host does not "
			"route what its namespace sends", veth);
	bad = on <= 0;
	for (size_t i = 0; i < u->n; i++) {
		on = conf_value(u->name[i], "forwarding");
		if (on == -ENOENT)
			snprintf(fix, sizeof(fix), "nsgate down %s, then nsgate up %s --uplink IFACE",
				 v->name, v->name);
		else
			sysctl_cmd(fix, sizeof(fix), u->name[i], "forwarding", "1");
		if (on == -ENOENT)
			problem(d, v->name, "forwarding", fix, "its uplink %s does not exist",
				u->name[i]);
		else if (on < 0)
			problem(d, v->name, "forwarding", "", "cannot read %s's forwarding: %s",
				u->name[i], strerror((int)-on));
		else if (on == 0)
			problem(d, v->name, "forwarding", fix, "forwarding is off on its uplink %s: the "
				"replies to its traffic that come in there are not routed", u->name[i]);
		bad |= on <= 0;
	}
	if (!bad)
		passed(d, v->name, "forwarding", "on for %s and its %zu uplink%s", veth, u->n,
		       u->n == 1 ? "" : "s");
}

/* Strict rp_filter (1: the larger of all's and the interface's value) on
 * ifname drops a packet from src coming in there when the host's route
 * back to src is not through ifname: the FIB's verdict says so, -EXDEV
 * (-EINVAL since Linux 6.13, whose input path returns drop reasons that
 * RTM_GETROUTE folds into it; src and dst here are no martians). */
static bool rp_drops(struct doctor *d, const char *ifname, int ifindex, const struct ip_addr *src,
		     const struct ip_addr *dst, long all)
{
	long own = conf_value(ifname, "rp_filter");

	if (own < 0 || (own > all ? own : all) != 1 || ifindex <= 0)
		return false;
	own = link_route_input(d->s->host, dst, src, ifindex, NULL);
	return own == -EXDEV || own == -EINVAL;
}

static void check_rp_filter(struct doctor *d, const struct gw_view *v, const struct uplinks *u)
{
	const struct gw_spec *s = &v->state.spec;
	struct ip_addr inet = ip_addr_v4(INET_PROBE), ns = spec_gw_ns_addr(s);
	long all = conf_value("all", "rp_filter");
	char a[IP_ADDR_STRLEN], fix[FIX_LEN];
	bool bad = false;

	if (all < 0) {
		problem(d, v->name, "rp_filter", "", "cannot read net.ipv4.conf.all.rp_filter: %s",
			strerror((int)-all));
		return;
	}
	/* Not looked at for a member yet (its packets come in on the bridge). */
	if (s->network[0])
		return;
	if (rp_drops(d, s->host_ifname, v->link.ifindex, &ns, &inet, all)) {
		sysctl_cmd(fix, sizeof(fix), s->host_ifname, "rp_filter", "2");
		problem(d, v->name, "rp_filter", fix, "strict rp_filter on %s drops what its namespace "
			"sends: the host's route back to %s is not through %s", s->host_ifname,
			ip_addr_str(&ns, a), s->host_ifname);
		bad = true;
	}
	for (size_t i = 0; i < u->n; i++) {
		if (!rp_drops(d, u->name[i], link_index(d->s->host, u->name[i]), &inet, &ns, all))
			continue;
		sysctl_cmd(fix, sizeof(fix), u->name[i], "rp_filter", "2");
		problem(d, v->name, "rp_filter", fix, "strict rp_filter on its uplink %s drops the "
			"replies to its traffic: the host's route back to the internet (%s) is not "
			"through %s", u->name[i], ip_addr_str(&inet, a), u->name[i]);
		bad = true;
	}
	if (!bad)
		passed(d, v->name, "rp_filter", "no strict rp_filter drops its traffic");
}

/* -------------------------------------------------- gateway: its namespace */

/* Its end of the veth, address and default route; *mtu the link's MTU. */
static void check_ns_link(struct doctor *d, const struct gw_view *v, struct nl_sock *ns,
			  unsigned *mtu)
{
	const struct gw_spec *s = &v->state.spec;
	const char *n = v->name, *eth = s->ns_ifname;
	struct ip_addr host = spec_host_addr(&s->subnet), addr = spec_gw_ns_addr(s);
	char ifs[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE], a[IP_ADDR_STRLEN], h[IP_ADDR_STRLEN];
	char fix[FIX_LEN];
	struct link_info li;
	bool ok = true, has = false;
	int r = link_get(ns, eth, &li), k;

	ip_addr_str(&addr, a);
	snprintf(fix, sizeof(fix), "nsgate down %s, then nsgate up %s again", n, n);
	if (r < 0) {
		if (r == -ENODEV)
			problem(d, n, "netns", fix, "%s is missing in its namespace", eth);
		else
			problem(d, n, "netns", "", "cannot read %s in its namespace: %s", eth,
				strerror(-r));
		return;
	}
	*mtu = li.mtu;
	if (!(li.flags & IFF_UP)) {
		snprintf(fix, sizeof(fix), "nsgate exec %s -- ip link set %s up", n, eth);
		problem(d, n, "netns", fix, "%s is down in its namespace", eth);
		ok = false;
	}
	for (size_t i = 0; i < li.n_addrs; i++)
		has |= ip_addr_eq(&li.addr_local[i], &addr);
	if (!has) {
		snprintf(fix, sizeof(fix), "nsgate exec %s -- ip addr add %s/%u dev %s", n, a,
			 s->subnet.plen, eth);
		problem(d, n, "netns", fix, "%s lacks its address %s in its namespace", eth, a);
		ok = false;
	}
	k = link_default_ifnames(ns, ifs, ARRAY_SIZE(ifs));
	while (k > 0 && strcmp(ifs[k - 1], eth))
		k--;
	if (k <= 0) {
		snprintf(fix, sizeof(fix), "nsgate exec %s -- ip route replace default via %s dev %s",
			 n, ip_addr_str(&host, h), eth);
		problem(d, n, "netns", fix, "its namespace has no default route through %s", eth);
		ok = false;
	}
	if (ok)
		passed(d, n, "netns", "%s is up with %s and the default route in its namespace", eth,
		       a);
}

/* Returns the namespace's descriptor for the DNS check (-1 when it could
 * not be opened: the finding says so). */
static int check_netns(struct doctor *d, const struct gw_view *v, unsigned *mtu)
{
	struct nsg_err e = { 0 };
	struct nl_sock *ns = NULL;
	int fd = -1, r = netns_open(v->state.spec.netns_path, &fd, &e);

	if (r < 0) {
		problem(d, v->name, "netns", "nsgate gc", "cannot open its namespace: %s: %s", e.what,
			nsg_err_reason(&e));
		return -1;
	}
	r = link_sock_open_in(fd, &ns);
	if (r < 0) {
		problem(d, v->name, "netns", "", "cannot read its namespace's links: %s", strerror(-r));
		return fd;
	}
	check_ns_link(d, v, ns, mtu);
	link_sock_close(ns);
	return fd;
}

static void check_mtu(struct doctor *d, const struct gw_view *v, const struct uplinks *u,
		      unsigned ns_mtu)
{
	const struct gw_spec *s = &v->state.spec;
	unsigned worst = v->link.mtu > ns_mtu ? v->link.mtu : ns_mtu;
	char fix[FIX_LEN];
	bool bad = false;

	for (size_t i = 0; i < u->n; i++) {
		struct link_info li;

		if (link_get(d->s->host, u->name[i], &li) < 0 || li.mtu >= worst)
			continue;
		snprintf(fix, sizeof(fix), "ip link set %s mtu %u; nsgate exec %s -- ip link set %s "
			 "mtu %u", s->host_ifname, li.mtu, v->name, s->ns_ifname, li.mtu);
		problem(d, v->name, "mtu", fix, "its veth's MTU (%s %u, %s %u) is larger than its "
			"uplink %s's %u: bigger packets depend on path MTU discovery, which firewalls "
			"often break", s->host_ifname, v->link.mtu, s->ns_ifname, ns_mtu, u->name[i],
			li.mtu);
		bad = true;
	}
	if (!bad)
		passed(d, v->name, "mtu", "its veth's MTU %u is no larger than its uplinks'", worst);
}

/* -------------------------------------------------------------- DNS */

/* A query for the root's NS records: the smallest question, which every
 * server answers somehow (REFUSED and NXDOMAIN prove it reachable too). */
static size_t dns_query(uint16_t id, uint8_t q[17])
{
	static const uint8_t rest[] = { 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1 };

	q[0] = id >> 8;
	q[1] = id & 0xff;
	memcpy(q + 2, rest, sizeof(rest));
	return 2 + sizeof(rest);
}

/* A connected UDP socket to server port 53 with the query sent: the
 * kernel then reports an ICMP error (nothing listens, no route) on it. */
static int dns_send(const struct ip_addr *server, uint16_t id)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} to = { 0 };
	socklen_t to_len;
	uint8_t q[17];
	int fd, err;

	if (ip_addr_is_v4(server)) {
		to.v4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(53),
					      .sin_addr.s_addr = htonl(server->v4) };
		to_len = sizeof(to.v4);
	} else {
		to.v6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(53) };
		memcpy(&to.v6.sin6_addr, server->v6, sizeof(server->v6));
		to_len = sizeof(to.v6);
	}
	fd = socket(to.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, &to.sa, to_len) == 0 && send(fd, q, dns_query(id, q), 0) >= 0)
		return fd;
	err = -errno;
	close(fd);
	return err;
}

/* A well-formed reply to query id: 0; a stray datagram leaves *res alone. */
static void dns_read(int fd, uint16_t id, int *res)
{
	uint8_t buf[512];
	ssize_t len = recv(fd, buf, sizeof(buf), 0);

	if (len < 0 && errno != EAGAIN && errno != EINTR)
		*res = -errno;
	else if (len >= 12 && buf[0] == id >> 8 && buf[1] == (id & 0xff) && (buf[2] & 0x80))
		*res = 0;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* In the namespace: ask every server at once, wait for all until the
 * deadline, and write one result (0, or -errno: -ETIMEDOUT for silence)
 * per server to out. Never returns. */
static _Noreturn void dns_child(int nsfd, const struct ip_addr *srv, unsigned n,
				const uint16_t *ids, int out)
{
	int res[GW_DNS_MAX], fds[GW_DNS_MAX];
	struct timespec t0;

	int err = setns(nsfd, CLONE_NEWNET) < 0 ? -errno : 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 0; i < n; i++) {
		fds[i] = err ? err : dns_send(&srv[i], ids[i]);
		res[i] = fds[i] < 0 ? fds[i] : -ETIMEDOUT;
	}
	for (long left; (left = DNS_DEADLINE_MS - ms_since(&t0)) > 0;) {
		struct pollfd p[GW_DNS_MAX];
		unsigned k = 0, at[GW_DNS_MAX];

		for (unsigned i = 0; i < n; i++)
			if (res[i] == -ETIMEDOUT) {
				p[k] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
				at[k++] = i;
			}
		if (!k || (poll(p, k, (int)left) < 0 && errno != EINTR))
			break;
		for (unsigned j = 0; j < k; j++)
			if (p[j].revents)
				dns_read(p[j].fd, ids[at[j]], &res[at[j]]);
	}
	_exit(write(out, res, n * sizeof(*res)) == (ssize_t)(n * sizeof(*res)) ? 0 : 1);
}

/* Query each of srv[] from inside the namespace nsfd, in a child (setns
 * there, never in this process): res[i] 0 when server i answered. */
static int dns_probe(int nsfd, const struct ip_addr *srv, unsigned n, int *res)
{
	uint16_t ids[GW_DNS_MAX];
	struct pollfd p;
	int pipefd[2], r = -EIO;
	pid_t pid;

	if (getrandom(ids, sizeof(ids), GRND_NONBLOCK) != (ssize_t)sizeof(ids))
		for (unsigned i = 0; i < GW_DNS_MAX; i++)
			ids[i] = (uint16_t)(getpid() * 7919u + i * 104729u + (unsigned)time(NULL));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		dns_child(nsfd, srv, n, ids, pipefd[1]);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -errno;
	}
	/* One write of a few bytes: all of it, or nothing when the child died. */
	p = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	if (poll(&p, 1, DNS_DEADLINE_MS + 1000) > 0 &&
	    read(pipefd[0], res, n * sizeof(*res)) == (ssize_t)(n * sizeof(*res)))
		r = 0;
	close(pipefd[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}

static const char *dns_why(int res, char *buf, size_t len)
{
	if (res == -ETIMEDOUT)
		snprintf(buf, len, "no reply in %d s", DNS_DEADLINE_MS / 1000);
	else if (res == -ECONNREFUSED)
		snprintf(buf, len, "refused: nothing listens on port 53 there");
	else
		snprintf(buf, len, "%s", strerror(-res));
	return buf;
}

static void check_dns(struct doctor *d, const struct gw_view *v, int nsfd)
{
	const char *n = v->name;
	struct ip_addr srv[GW_DNS_MAX];
	char fix[FIX_LEN], a[IP_ADDR_STRLEN], why[64];
	int res[GW_DNS_MAX], k, r, bad = 0;

	if (v->state.spec.dns_mode == GW_DNS_NONE) {
		passed(d, n, "dns", "--dns none: its namespace has the host's resolv.conf");
		return;
	}
	snprintf(fix, sizeof(fix), "nsgate down %s, then nsgate up %s --dns ADDR", n, n);
	k = dns_read_servers(n, srv, GW_DNS_MAX);
	if (k == -ENOENT)
		problem(d, n, "dns", fix, "it has no " NETNS_ETC_DIR "/%s/resolv.conf: the host had "
			"no nameserver nsgate could give it", n);
	else if (k < 0)
		problem(d, n, "dns", "", "cannot read " NETNS_ETC_DIR "/%s/resolv.conf: %s", n,
			strerror(-k));
	else if (k == 0)
		problem(d, n, "dns", fix, "no nameserver in " NETNS_ETC_DIR "/%s/resolv.conf", n);
	/* Without its namespace, the namespace's finding says why. */
	if (k <= 0 || nsfd < 0)
		return;
	r = dns_probe(nsfd, srv, (unsigned)k, res);
	if (r < 0) {
		problem(d, n, "dns", "", "cannot query its nameservers: %s", strerror(-r));
		return;
	}
	for (int i = 0; i < k; i++) {
		if (res[i] == 0)
			continue;
		snprintf(fix, sizeof(fix), "make %s reachable, or give it one that is: nsgate down "
			 "%s, then nsgate up %s --dns ADDR", ip_addr_str(&srv[i], a), n, n);
		problem(d, n, "dns", fix, "nameserver %s does not answer from inside its namespace "
			"(%s)", a, dns_why(res[i], why, sizeof(why)));
		bad++;
	}
	if (!bad)
		passed(d, n, "dns", "its %d nameserver%s answer%s from inside its namespace", k,
		       k == 1 ? "" : "s", k == 1 ? "s" : "");
}

/* ---------------------------------------------------------- firewall */

/* Whether one of its nameservers is the host's: then a dropping input
 * chain drops its DNS (the FIB's verdict for the query: delivered locally). */
static bool dns_on_host(struct doctor *d, const struct gw_view *v)
{
	const struct gw_spec *spec = &v->state.spec;
	struct ip_addr srv[GW_DNS_MAX], ns4 = spec_gw_ns_addr(spec);
	struct ip_addr ns6 = spec_gw_ns_addr6(spec);
	int k = dns_read_servers(v->name, srv, GW_DNS_MAX);

	for (int i = 0; i < k; i++) {
		const struct ip_addr *from = ip_addr_is_v4(&srv[i]) ? &ns4 : &ns6;
		unsigned type = RTN_UNSPEC;

		/* An IPv6 server of an IPv4-only gateway is never asked. */
		if (!ip_addr_is_set(from))
			continue;
		if (link_route_input(d->s->host, &srv[i], from, v->link.ifindex, &type) == 0 &&
		    type == RTN_LOCAL)
			return true;
	}
	return false;
}

static void check_firewall(struct doctor *d, const struct gw_view *v)
{
	char desc[160], fix[FIX_LEN];
	bool bad = false;

	if (!d->fw_read)
		return;   /* the host's finding says why */
	for (size_t i = 0; i < d->fw.blocks.n; i++) {
		const struct fw_block *b = &d->fw.blocks.b[i];
		bool input = b->hook == FW_HOOK_INPUT;

		if (b->opened || (input && !dns_on_host(d, v)))
			continue;
		firewall_describe(b, desc, sizeof(desc));
		firewall_fix(b, fix, sizeof(fix));
		problem(d, v->name, "firewall", fix, "%s drops its %s", desc,
			input ? "DNS queries to the host" : "traffic");
		bad = true;
	}
	if (!bad)
		passed(d, v->name, "firewall", "no other firewall drops its traffic");
}

/* ------------------------------------------------------------ LAN mode */

/* A LAN gateway has no host side, NAT or rules to check: its interface on
 * the host, its macvlan and default route in its namespace, and DNS. */
static void check_lan(struct doctor *d, const struct gw_view *v)
{
	const struct gw_spec *s = &v->state.spec;
	char ifs[LINK_DEFAULT_IFACES_MAX][IF_NAMESIZE], fix[FIX_LEN];
	struct link_lower lo;
	struct nl_sock *ns = NULL;
	int k, nsfd = -1;

	if (link_lower_get(d->s->host, s->lan.iface, &lo) < 0)
		problem(d, v->name, "link", "", "its LAN interface %s is gone", s->lan.iface);
	else if (!(lo.flags & IFF_UP))
		problem(d, v->name, "link", "", "its LAN interface %s is down", s->lan.iface);
	else if (!strcmp(v->status, "link-down"))
		problem(d, v->name, "link", "", "%s is down or lacks its address in its namespace",
			s->ns_ifname);
	else
		passed(d, v->name, "link", "%s is a macvlan on %s, up", s->ns_ifname, s->lan.iface);
	if (netns_open(s->netns_path, &nsfd, NULL) < 0) {
		problem(d, v->name, "netns", "nsgate gc", "cannot open its namespace");
		return;
	}
	if (ip_addr_is_set(&s->lan.gateway) && link_sock_open_in(nsfd, &ns) == 0) {
		k = link_default_ifnames(ns, ifs, ARRAY_SIZE(ifs));
		while (k > 0 && strcmp(ifs[k - 1], s->ns_ifname))
			k--;
		snprintf(fix, sizeof(fix), "nsgate down %s, then nsgate up %s again", v->name, v->name);
		if (k <= 0)
			problem(d, v->name, "netns", fix, "its namespace has no default route through %s",
				s->ns_ifname);
		else
			passed(d, v->name, "netns", "its default route goes through %s", s->ns_ifname);
	}
	link_sock_close(ns);
	check_dns(d, v, nsfd);
	close(nsfd);
}

/* --------------------------------------------------------------- all */

static int check_gateway(struct doctor *d, const char *name)
{
	struct gw_doctor_report *rep = d->rep;
	struct uplinks ups;
	struct gw_view v;
	unsigned ns_mtu = 0;
	int r = view_one(d->s, name, &v, NULL), nsfd;
	bool ok;

	if (r == -ENOENT)
		return r;
	if (GROW(rep->gateways, d->cap_gw, rep->n_gateways + 1) < 0)
		return -ENOMEM;
	snprintf(rep->gateways[rep->n_gateways++], sizeof(*rep->gateways), "%s", name);
	if (r < 0) {
		problem(d, name, "state", "", "cannot read it: %s", strerror(-r));
		return 0;
	}
	ok = check_state(d, &v);
	if (ok && spec_is_lan(&v.state.spec))
		check_lan(d, &v);
	if (ok && !spec_is_lan(&v.state.spec)) {
		uplinks_of(d, &v.state.spec, &ups);
		check_link(d, &v);
		check_nftables(d, &v);
		check_forwarding(d, &v, &ups);
		check_rp_filter(d, &v, &ups);
		nsfd = check_netns(d, &v, &ns_mtu);
		check_mtu(d, &v, &ups, ns_mtu);
		check_dns(d, &v, nsfd);
		check_firewall(d, &v);
		if (nsfd >= 0)
			close(nsfd);
	}
	gateway_view_clear(&v);
	return 0;
}

/* A name nothing is left of is the caller's mistake, told before any look. */
static int doctor_names(struct session *s, const char *name, char (**names)[GW_NAME_MAX + 1],
			struct nsg_err *e)
{
	struct gw_view v;
	int r;

	if (!name) {
		r = inventory_list(s->host, names, NULL, NULL, 0);
		return r < 0 ? nsg_fail(e, r, NULL, "listing gateways") : r;
	}
	r = view_one(s, name, &v, NULL);
	if (r == -ENOENT)
		return nsg_fail_kind(e, NSG_KIND_NOT_FOUND, r, "no such gateway", "gateway \"%s\"",
				     name);
	if (r == 0)
		gateway_view_clear(&v);
	*names = calloc(1, sizeof(**names));
	if (!*names)
		return -ENOMEM;
	snprintf((*names)[0], sizeof(**names), "%s", name);
	return 1;
}

int gateway_doctor(const char *name, struct gw_doctor_report *ret, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct doctor *d = calloc(1, sizeof(*d));
	int n, r = 0;

	*ret = (struct gw_doctor_report){ 0 };
	if (!d)
		return -ENOMEM;
	/* Read only: no lock (SESSION_LOCK), as show and list. */
	r = session_open(&s, SESSION_RTNL | SESSION_NFT, e);
	if (r < 0)
		return r;
	n = doctor_names(&s, name, &names, e);
	if (n < 0)
		return n;
	d->s = &s;
	d->rep = ret;
	check_host(d);
	for (int i = 0; i < n && r == 0; i++) {
		r = check_gateway(d, names[i]);
		/* Gone since the list: nothing to diagnose. */
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0 && d->oom)
		r = -ENOMEM;
	if (r < 0) {
		gateway_doctor_clear(ret);
		return nsg_fail(e, r, NULL, "doctor");
	}
	return 0;
}

void gateway_doctor_clear(struct gw_doctor_report *r)
{
	free(r->findings);
	free(r->gateways);
	*r = (struct gw_doctor_report){ 0 };
}
