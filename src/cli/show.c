/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* Consecutive ports mapped to consecutive ports print as one range. */
static size_t published_run(const struct portmap *p, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && p[j].proto == p[i].proto && ip_addr_eq(&p[j].host_addr, &p[i].host_addr) &&
	       ip_addr_eq(&p[j].to_addr, &p[i].to_addr) && p[j].host_port == p[j - 1].host_port + 1 &&
	       p[j].port == p[j - 1].port + 1)
		j++;
	return j - i;
}

static json_object *published_json(const struct portmap *p, size_t n)
{
	json_object *arr = json_object_new_array();
	char a[IP_ADDR_STRLEN];

	for (size_t i = 0, run; i < n; i += run) {
		json_object *o = json_object_new_object();

		run = published_run(p, n, i);
		/* Every host address reads "0.0.0.0", as the IPv4 wildcard. */
		json_object_object_add(o, "host_addr", json_object_new_string(
			ip_addr_is_set(&p[i].host_addr) ? ip_addr_str(&p[i].host_addr, a) : "0.0.0.0"));
		json_object_object_add(o, "host_port", json_object_new_int(p[i].host_port));
		json_object_object_add(o, "host_end", json_object_new_int(p[i].host_port + run - 1));
		json_object_object_add(o, "port", json_object_new_int(p[i].port));
		json_object_object_add(o, "end", json_object_new_int(p[i].port + run - 1));
		json_object_object_add(o, "proto", json_object_new_string(portmap_proto_name(p[i].proto)));
		json_object_object_add(o, "to", json_object_new_string(ip_addr_str(&p[i].to_addr, a)));
		/* An unbound port of a dual-stack gateway leads to its IPv6 address too. */
		json_object_object_add(o, "to6", ip_addr_is_set(&p[i].to_addr6) ?
				       json_object_new_string(ip_addr_str(&p[i].to_addr6, a)) : NULL);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* -------------------------------------------------------------- list/show */

/* "ipv6", "subnet6", "host_addr6", "ns_addr6": null but for a dual-stack gateway. */
static void view_json_ipv6(json_object *o, const struct gw_spec *s)
{
	struct ip_addr host = spec_host_addr6(&s->subnet6), ns = spec_gw_ns_addr6(s);
	char net[IP_PREFIX_STRLEN], a[IP_ADDR_STRLEN];
	bool dual = spec_has_ipv6(s);

	json_object_object_add(o, "ipv6", json_object_new_boolean(dual));
	json_object_object_add(o, "ipv6_mode", json_object_new_string(
		s->ipv6 == GW_IPV6_ON ? "on" : s->ipv6 == GW_IPV6_OFF ? "off" : "auto"));
	json_object_object_add(o, "subnet6", dual ? json_object_new_string(
		ip_prefix_str(&s->subnet6, net)) : NULL);
	json_object_object_add(o, "host_addr6", dual ? json_object_new_string(
		ip_addr_str(&host, a)) : NULL);
	json_object_object_add(o, "ns_addr6", dual ? json_object_new_string(
		ip_addr_str(&ns, a)) : NULL);
}

/* "mode": "lan" or "nat", and "lan": {"iface", "address", "gateway"} or
 * null; a LAN gateway's NAT fields (subnet, host_addr, host_ifname) are
 * null and ns_addr is its LAN address (null without one). */
static void view_json_lan(json_object *o, const struct gw_view *v)
{
	const struct gw_lan *l = &v->state.spec.lan;
	char a[IP_ADDR_STRLEN + 8];
	json_object *j;

	if (!v->have_state || !spec_is_lan(&v->state.spec)) {
		json_object_object_add(o, "mode", json_object_new_string("nat"));
		json_object_object_add(o, "lan", NULL);
		return;
	}
	json_object_object_add(o, "mode", json_object_new_string("lan"));
	j = json_object_new_object();
	json_object_object_add(j, "iface", json_object_new_string(l->iface));
	if (ip_addr_is_set(&l->addr)) {
		ip_addr_str(&l->addr, a);
		json_object_object_add(o, "ns_addr", json_object_new_string(a));
		snprintf(a + strlen(a), sizeof(a) - strlen(a), "/%u", l->plen);
	}
	json_object_object_add(j, "address", ip_addr_is_set(&l->addr) ? json_object_new_string(a)
				: NULL);
	json_object_object_add(j, "gateway", ip_addr_is_set(&l->gateway) ?
				json_object_new_string(ip_addr_str(&l->gateway, a)) : NULL);
	json_object_object_add(o, "lan", j);
	json_object_object_add(o, "host_ifname", NULL);
	json_object_object_add(o, "subnet", NULL);
	json_object_object_add(o, "host_addr", NULL);
	if (!ip_addr_is_set(&l->addr))
		json_object_object_add(o, "ns_addr", NULL);
}

/* "address6": a member's IPv6 address on a network, null on an IPv4-only one. */
static void net_json_addr6(json_object *n, const struct ip_prefix *subnet,
			   const struct ip_prefix *subnet6, const struct ip_addr *addr)
{
	struct ip_addr a6 = net_addr6_of(subnet, subnet6, addr);
	char a[IP_ADDR_STRLEN];

	json_object_object_add(n, "address6", ip_addr_is_set(&a6) ?
			       json_object_new_string(ip_addr_str(&a6, a)) : NULL);
}

/* "networks": the networks a member is on ([] for a plain gateway). */
static void view_json_networks(json_object *o, const struct gw_spec *s)
{
	json_object *nets = json_object_new_array();
	char a[IP_ADDR_STRLEN];

	if (s->network[0]) {
		json_object *n = json_object_new_object();

		json_object_object_add(n, "name", json_object_new_string(s->network));
		json_object_object_add(n, "address", json_object_new_string(ip_addr_str(&s->net_addr, a)));
		net_json_addr6(n, &s->subnet, &s->subnet6, &s->net_addr);
		json_object_object_add(n, "bridge", json_object_new_string(s->net_bridge));
		json_object_object_add(n, "ifname", json_object_new_string(s->ns_ifname));
		json_object_object_add(n, "port", json_object_new_string(s->host_ifname));
		json_object_array_add(nets, n);
	}
	for (unsigned k = 0; s->network[0] && k < s->n_nets_more; k++) {
		const struct gw_net_more *m = &s->nets_more[k];
		json_object *n = json_object_new_object();

		json_object_object_add(n, "name", json_object_new_string(m->name));
		json_object_object_add(n, "address", json_object_new_string(ip_addr_str(&m->addr, a)));
		net_json_addr6(n, &m->subnet, &m->subnet6, &m->addr);
		json_object_object_add(n, "bridge", json_object_new_string(m->bridge));
		json_object_object_add(n, "ifname", json_object_new_string(m->ns_ifname));
		json_object_object_add(n, "port", json_object_new_string(m->port));
		json_object_array_add(nets, n);
	}
	json_object_object_add(o, "networks", nets);
}

/* Without a state file nothing but the kernel's view is known: every
 * field the state gives is there, null ("networks" empty), so a script
 * finds the same keys whatever the status. */
static void view_json_stateless(json_object *o)
{
	static const char *const keys[] = { "subnet", "host_addr", "ns_addr", "ipv6", "ipv6_mode",
					    "subnet6", "host_addr6", "ns_addr6", "netns",
					    "netns_created", "uplink", "dns_mode", "no_host" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		json_object_object_add(o, keys[i], NULL);
	json_object_object_add(o, "networks", json_object_new_array());
}

static json_object *view_json(const struct gw_view *v)
{
	json_object *o = json_object_new_object(), *dns = json_object_new_array();
	const struct gw_spec *s = &v->state.spec;
	struct ip_addr host = spec_host_addr(&s->subnet), ns = spec_gw_ns_addr(s);
	char net[IP_PREFIX_STRLEN], a[IP_ADDR_STRLEN];

	/* nsgate.8, JSON OUTPUT: the schema goes up when a field is removed
	 * or changes meaning; new fields come without it. */
	json_object_object_add(o, "schema", json_object_new_int(NSG_JSON_SCHEMA));
	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "status", json_object_new_string(v->status));
	json_object_object_add(o, "host_ifname", json_object_new_string(
		v->have_state ? s->host_ifname : v->link.name));
	if (v->have_state) {
		json_object_object_add(o, "subnet", json_object_new_string(ip_prefix_str(&s->subnet, net)));
		json_object_object_add(o, "host_addr", json_object_new_string(ip_addr_str(&host, a)));
		json_object_object_add(o, "ns_addr", json_object_new_string(ip_addr_str(&ns, a)));
		view_json_ipv6(o, s);
		json_object_object_add(o, "netns", json_object_new_string(s->netns_path));
		json_object_object_add(o, "netns_created", json_object_new_boolean(v->state.netns_created));
		json_object_object_add(o, "uplink", s->uplink[0] ? json_object_new_string(s->uplink) : NULL);
		json_object_object_add(o, "dns_mode", json_object_new_string(
			s->dns_mode == GW_DNS_AUTO ? "auto" : s->dns_mode == GW_DNS_NONE ? "none" : "list"));
		json_object_object_add(o, "no_host", json_object_new_boolean(s->no_host));
		view_json_networks(o, s);
	} else {
		view_json_stateless(o);
	}
	for (unsigned i = 0; i < v->n_dns; i++)
		json_object_array_add(dns, json_object_new_string(ip_addr_str(&v->dns[i], a)));
	json_object_object_add(o, "dns", dns);
	json_object_object_add(o, "resolv_conf", json_object_new_boolean(v->dns_present));
	json_object_object_add(o, "netns_present", json_object_new_boolean(v->netns_present));
	if (v->link_present) {
		json_object *l = json_object_new_object(), *addrs = json_object_new_array();

		json_object_object_add(l, "ifname", json_object_new_string(v->link.name));
		json_object_object_add(l, "ifindex", json_object_new_int(v->link.ifindex));
		json_object_object_add(l, "up", json_object_new_boolean(v->link.up));
		json_object_object_add(l, "mtu", json_object_new_int(v->link.mtu));
		for (size_t i = 0; i < v->link.n_addrs; i++) {
			char buf[IP_PREFIX_STRLEN];
			snprintf(buf, sizeof(buf), "%s/%u", ip_addr_str(&v->link.addrs[i], a),
				 v->link.plens[i]);
			json_object_array_add(addrs, json_object_new_string(buf));
		}
		json_object_object_add(l, "addresses", addrs);
		json_object_object_add(o, "link", l);
	} else {
		json_object_object_add(o, "link", NULL);
	}
	json_object *n = json_object_new_object();
	json_object_object_add(n, "interface", json_object_new_boolean(v->nft.in_ifaces));
	json_object_object_add(n, "masquerade", v->nft.masq_any ? json_object_new_string("any")
				: v->nft.masq_via[0] ? json_object_new_string(v->nft.masq_via) : NULL);
	json_object_object_add(n, "source", json_object_new_boolean(v->nft.in_ns_addrs4));
	json_object_object_add(n, "source6", json_object_new_boolean(v->nft.in_ns_addrs6));
	json_object_object_add(n, "no_host", json_object_new_boolean(v->nft.no_host));
	json_object_object_add(n, "elements", json_object_new_int64((int64_t)v->nft.n_elems));
	json_object_object_add(o, "nftables", n);
	json_object_object_add(o, "published", published_json(v->pub, v->n_pub));
	json_object_object_add(o, "published_ports", json_object_new_int64((int64_t)v->n_pub));
	view_json_lan(o, v);
	return o;
}

static json_object *fw_block_json(const struct fw_block *b)
{
	static const char *const sources[] = { [FW_SRC_NFTABLES] = "nftables",
					       [FW_SRC_IPTABLES_LEGACY] = "iptables-legacy",
					       [FW_SRC_FIREWALLD] = "firewalld" };
	json_object *o = json_object_new_object();
	char fix[512];

	json_object_object_add(o, "source", json_object_new_string(sources[b->source]));
	json_object_object_add(o, "family", json_object_new_string(b->family));
	json_object_object_add(o, "table", json_object_new_string(b->table));
	json_object_object_add(o, "chain", json_object_new_string(b->chain));
	json_object_object_add(o, "hook", json_object_new_string(
		b->hook == FW_HOOK_INPUT ? "input" : "forward"));
	json_object_object_add(o, "policy_drop", json_object_new_boolean(b->policy_drop));
	firewall_fix(b, fix, sizeof(fix));
	json_object_object_add(o, "fix", json_object_new_string(fix));
	return o;
}

/* "firewall": the gateway's --firewall and what other firewalls do to it. */
static json_object *firewall_json(const struct gw_view *v, const struct fw_blocks *fw)
{
	json_object *o = json_object_new_object(), *blocked = json_object_new_array(),
		    *opened = json_object_new_array();

	json_object_object_add(o, "mode", v->have_state ? json_object_new_string(
		v->state.spec.firewall == GW_FIREWALL_NONE ? "none" : "auto") : NULL);
	/* A LAN gateway's frames never meet the host's firewalls. */
	for (size_t i = 0; i < fw->n && !(v->have_state && spec_is_lan(&v->state.spec)); i++)
		json_object_array_add(fw->b[i].opened ? opened : blocked, fw_block_json(&fw->b[i]));
	json_object_object_add(o, "blocked", blocked);
	json_object_object_add(o, "opened", opened);
	return o;
}

void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

bool parse_json_flag(int argc, char *argv[], const char *cmd, int *ret_code)
{
	static const struct option opts[] = { { "json", no_argument, NULL, OPT_LONG }, { 0 } };
	bool json = false;
	int c;

	*ret_code = -1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != OPT_LONG) {
			*ret_code = option_error(cmd, c, argv);
			return false;
		}
		json = true;
	}
	return json;
}

/* A LAN gateway's columns in list: its address ("dhcp" without one) where
 * a NAT gateway's subnet is, and "lan:IFACE" for the host link it has not. */
static void list_lan_columns(const struct gw_spec *s, char net[IP_PREFIX_STRLEN], char *ifn,
			     size_t len)
{
	char a[IP_ADDR_STRLEN], ifc[NSG_ESCAPED_SIZE(IF_NAMESIZE)];

	if (ip_addr_is_set(&s->lan.addr))
		snprintf(net, IP_PREFIX_STRLEN, "%s/%u", ip_addr_str(&s->lan.addr, a), s->lan.plen);
	else
		snprintf(net, IP_PREFIX_STRLEN, "dhcp");
	snprintf(ifn, len, "lan:%s", nsg_escape(s->lan.iface, ifc, sizeof(ifc)));
}

int cmd_list(int argc, char *argv[])
{
	struct gw_view *views = NULL;
	struct nsg_err e = { 0 };
	size_t n;
	int code, r;
	bool json = parse_json_flag(argc, argv, "list", &code);

	if (code >= 0)
		return code;
	code = args_count("list", argc, argv, 0, NULL);
	if (code >= 0)
		return code;
	if (need_privileges("list"))
		return EXIT_FAIL;
	/* The table shows names and status only. */
	r = gateway_list(&views, &n, json ? 0 : GW_LIST_BRIEF, &e);
	if (r < 0)
		return report(&e, r);
	if (json) {
		json_object *arr = json_object_new_array();
		struct fw_blocks fw;

		/* Other firewalls are the host's: one look for all gateways. */
		r = n ? gateway_firewall(&fw, &e) : 0;
		for (size_t i = 0; r == 0 && i < n; i++) {
			json_object *o = view_json(&views[i]);

			json_object_object_add(o, "firewall", firewall_json(&views[i], &fw));
			json_object_array_add(arr, o);
		}
		if (r < 0) {
			json_object_put(arr);
			for (size_t i = 0; i < n; i++)
				gateway_view_clear(&views[i]);
			free(views);
			return report(&e, r);
		}
		print_json(arr);
	} else {
		for (size_t i = 0; i < n; i++) {
			char net[IP_PREFIX_STRLEN] = "-", path[NSG_ESCAPED_SIZE(PATH_MAX)] = "-";
			const struct gw_view *v = &views[i];

			char ifn[NSG_ESCAPED_SIZE(IF_NAMESIZE) + 8];

			snprintf(ifn, sizeof(ifn), "%s", v->have_state ? v->state.spec.host_ifname
				 : v->link.name);
			if (v->have_state) {
				ip_prefix_str(&v->state.spec.subnet, net);
				nsg_escape(v->state.spec.netns_path, path, sizeof(path));
			}
			if (v->have_state && spec_is_lan(&v->state.spec))
				list_lan_columns(&v->state.spec, net, ifn, sizeof(ifn));
			printf("%-15s %-13s %-18s %-15s %s\n", v->name, v->status, net, ifn, path);
		}
	}
	for (size_t i = 0; i < n; i++)
		gateway_view_clear(&views[i]);
	free(views);
	return EXIT_OK;
}

/* "firewall  auto, opened ip filter FORWARD (policy drop)", and one line
 * per chain that still drops the gateway's traffic, with its fix. */
static void show_firewall_text(const struct gw_view *v, const struct fw_blocks *fw)
{
	size_t n_open = 0;
	char what[200], fix[512];

	if (v->have_state && spec_is_lan(&v->state.spec)) {
		printf("  firewall   none in the way (LAN mode: the host's IP firewalls never see its "
		       "traffic)\n");
		return;
	}

	printf("  firewall   %s", v->have_state && v->state.spec.firewall == GW_FIREWALL_NONE ?
	       "none" : "auto");
	for (size_t i = 0; i < fw->n; i++) {
		if (!fw->b[i].opened)
			continue;
		firewall_describe(&fw->b[i], what, sizeof(what));
		printf("%s %s", n_open++ ? "," : ", opened", what);
	}
	if (fw->n == 0)
		printf(", no other firewall in the way");
	printf("\n");
	for (size_t i = 0; i < fw->n; i++) {
		if (fw->b[i].opened)
			continue;
		firewall_describe(&fw->b[i], what, sizeof(what));
		firewall_fix(&fw->b[i], fix, sizeof(fix));
		printf("  %-10s blocked by %s: fix: %s\n", "", what, fix);
	}
}

/* A LAN gateway's lines where a NAT gateway has its subnet and uplink. */
static void show_lan_text(const struct gw_view *v)
{
	const struct gw_spec *s = &v->state.spec;
	char a[IP_ADDR_STRLEN], g[IP_ADDR_STRLEN], path[NSG_ESCAPED_SIZE(PATH_MAX)];
	char ifc[NSG_ESCAPED_SIZE(IF_NAMESIZE)];

	printf("  mode       lan, macvlan %s on %s\n", s->ns_ifname,
	       nsg_escape(s->lan.iface, ifc, sizeof(ifc)));
	if (ip_addr_is_set(&s->lan.addr))
		printf("  address    %s/%u, gateway %s\n", ip_addr_str(&s->lan.addr, a), s->lan.plen,
		       ip_addr_str(&s->lan.gateway, g));
	else
		printf("  address    none (a DHCP client inside: nsgate exec %s -- dhclient ...)\n",
		       s->name);
	printf("  netns      %s%s%s\n", nsg_escape(s->netns_path, path, sizeof(path)),
	       v->state.netns_created ? " (created by nsgate)" : "",
	       v->netns_present ? "" : " (gone)");
}

/* show's text: one line per part, the user's own strings (the --netns path,
 * the uplink) escaped. */
static void show_text(const struct gw_view *v, const struct fw_blocks *fw)
{
	const struct gw_spec *s = &v->state.spec;
	struct ip_addr host = spec_host_addr(&s->subnet), ns = spec_gw_ns_addr(s);
	char net[IP_PREFIX_STRLEN], a[IP_ADDR_STRLEN], b[IP_ADDR_STRLEN];
	char path[NSG_ESCAPED_SIZE(PATH_MAX)], up[NSG_ESCAPED_SIZE(IF_NAMESIZE)];

	printf("gateway %s: %s\n", v->name, v->status);
	if (v->have_state && spec_is_lan(s)) {
		show_lan_text(v);
	} else if (v->have_state) {
		printf("  subnet     %s (host %s, namespace %s)\n", ip_prefix_str(&s->subnet, net),
		       ip_addr_str(&host, a), ip_addr_str(&ns, b));
		if (s->network[0])
			printf("  network    %s (bridge %s)\n", s->network, s->net_bridge);
		for (unsigned k = 0; s->network[0] && k < s->n_nets_more; k++)
			printf("  network    %s (bridge %s, %s %s/%u)\n", s->nets_more[k].name,
			       s->nets_more[k].bridge, s->nets_more[k].ns_ifname,
			       ip_addr_str(&s->nets_more[k].addr, a), s->nets_more[k].subnet.plen);
		if (spec_has_ipv6(s)) {
			struct ip_addr host6 = spec_host_addr6(&s->subnet6), ns6 = spec_gw_ns_addr6(s);

			printf("  subnet6    %s (host %s, namespace %s)\n", ip_prefix_str(&s->subnet6, net),
			       ip_addr_str(&host6, a), ip_addr_str(&ns6, b));
		}
		printf("  netns      %s%s%s\n", nsg_escape(s->netns_path, path, sizeof(path)),
		       v->state.netns_created ? " (created by nsgate)" : "",
		       v->netns_present ? "" : " (gone)");
		printf("  uplink     %s\n", s->uplink[0] ? nsg_escape(s->uplink, up, sizeof(up)) : "any");
		printf("  host       %s\n", s->no_host ? "not reachable (--no-host; DNS only)" : "reachable");
	}
	if (v->link_present) {
		printf("  link       %s index %d %s mtu %u", v->link.name, v->link.ifindex,
		       v->link.up ? "up" : "down", v->link.mtu);
		for (size_t i = 0; i < v->link.n_addrs; i++)
			printf(" %s/%u", ip_addr_str(&v->link.addrs[i], a), v->link.plens[i]);
		printf("\n");
	} else {
		printf("  link       missing\n");
	}
	if (v->have_state && spec_is_lan(s))
		printf("  nftables   none (LAN mode: no NAT), %zu element%s\n", v->nft.n_elems,
		       v->nft.n_elems == 1 ? "" : "s");
	else
		printf("  nftables   %s, masquerade %s, %zu element%s\n",
	       v->nft.in_ifaces ? "gateway interface" : "not a gateway interface",
	       v->nft.masq_any ? "to any interface"
	       : v->nft.masq_via[0] ? nsg_escape(v->nft.masq_via, up, sizeof(up))
	       : s->network[0] ? "its network's" : "none",
	       v->nft.n_elems, v->nft.n_elems == 1 ? "" : "s");
	for (size_t i = 0, run; i < v->n_pub; i += run) {
		struct portmap p = v->pub[i];
		char spec[PORTMAP_STRLEN], to[IP_ADDR_STRLEN];

		run = published_run(v->pub, v->n_pub, i);
		p.count = run;
		printf("  %-10s %s -> %s", i ? "" : "published", portmap_str(&p, spec),
		       ip_addr_str(&v->pub[i].to_addr, to));
		if (ip_addr_is_set(&v->pub[i].to_addr6))
			printf(", %s", ip_addr_str(&v->pub[i].to_addr6, to));
		printf("\n");
	}
	if (v->dns_present) {
		printf("  dns        /etc/netns/%s/resolv.conf:", v->name);
		for (unsigned i = 0; i < v->n_dns; i++)
			printf(" %s", ip_addr_str(&v->dns[i], a));
		printf("\n");
	} else if (v->have_state && s->dns_mode == GW_DNS_AUTO) {
		/* up wrote no resolv.conf: the host had no server to give (its
		 * warning said so then), which is not --dns none. */
		printf("  dns        auto, no server found (no resolv.conf)\n");
	} else {
		printf("  dns        none\n");
	}
	show_firewall_text(v, fw);
}

int cmd_show(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	struct fw_blocks fw;
	struct gw_view v;
	int code, r;
	bool json = parse_json_flag(argc, argv, "show", &code);

	if (code >= 0)
		return code;
	code = args_count("show", argc, argv, 1, "NAME");
	if (code >= 0)
		return code;
	r = spec_name_check(argv[optind], &e);
	if (r < 0)
		return report(&e, r);
	if (need_privileges("show"))
		return EXIT_FAIL;
	r = gateway_view(argv[optind], &v, &e);
	if (r < 0)
		return report(&e, r);
	r = gateway_firewall(&fw, &e);
	if (r < 0) {
		gateway_view_clear(&v);
		return report(&e, r);
	}
	if (json) {
		json_object *o = view_json(&v);

		json_object_object_add(o, "firewall", firewall_json(&v, &fw));
		print_json(o);
	} else {
		show_text(&v, &fw);
	}
	gateway_view_clear(&v);
	return EXIT_OK;
}
