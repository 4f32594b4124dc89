/* SPDX-License-Identifier: MIT */
/* nsgate network create | rm | list: the network command family. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

static int net_create(int argc, char *argv[])
{
	enum { O_SUBNET = OPT_LONG, O_ISOLATED, O_IPV6, O_SUBNET6 };
	static const struct option opts[] = {
		{ "subnet", required_argument, NULL, O_SUBNET },
		{ "isolated", no_argument, NULL, O_ISOLATED },
		{ "ipv6", required_argument, NULL, O_IPV6 },
		{ "subnet6", required_argument, NULL, O_SUBNET6 },
		{ 0 }
	};
	struct nsg_err e = { 0 };
	struct ip_prefix subnet;
	/* --ipv6 and --subnet6 parsed as up's (the gateways' rules). */
	static struct gw_spec v6;
	struct net_opts o = { 0 };
	bool given = false, isolated = false, unchanged;
	int c, r;

	spec_init(&v6);
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == O_ISOLATED) {
			isolated = true;
		} else if (c == O_IPV6 || c == O_SUBNET6) {
			r = c == O_IPV6 ? spec_ipv6_parse(optarg, &v6, &e)
					: spec_subnet6_parse(optarg, &v6, &e);
			if (r < 0)
				return report(&e, r);
		} else if (c == O_SUBNET) {
			r = net_subnet_parse(optarg, &subnet, &e);
			if (r < 0)
				return report(&e, r);
			given = true;
		} else {
			return option_error("network create", c, argv);
		}
	}
	r = args_count("network create", argc, argv, 1, "NET");
	if (r >= 0)
		return r;
	if (need_privileges("network"))
		return EXIT_FAIL;
	o = (struct net_opts){ .subnet = given ? &subnet : NULL, .isolated = isolated,
			       .subnet6 = v6.subnet6_given ? &v6.subnet6 : NULL, .ipv6 = v6.ipv6 };
	r = network_create(argv[optind], &o, &unchanged, &e);
	if (r < 0)
		return report(&e, r);
	printf("network %s: %s\n", argv[optind], unchanged ? "unchanged" : "created");
	return EXIT_OK;
}

static int net_rm(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	int r = options_none("network rm", argc, argv);

	if (r >= 0)
		return r;
	r = args_count("network rm", argc, argv, 1, "NET");
	if (r >= 0)
		return r;
	r = spec_name_check(argv[optind], &e);
	if (r < 0)
		return report(&e, r);
	if (need_privileges("network"))
		return EXIT_FAIL;
	r = network_rm(argv[optind], &e);
	return r < 0 ? report(&e, r) : EXIT_OK;
}

static json_object *net_json(const struct net_view *v)
{
	const struct net_state *n = &v->net;
	struct ip_addr gw = net_gateway_addr(&n->subnet);
	char buf[IP_PREFIX_STRLEN];
	json_object *o = json_object_new_object(), *members = json_object_new_array();

	json_object_object_add(o, "schema", json_object_new_int(NSG_JSON_SCHEMA));
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "subnet", json_object_new_string(ip_prefix_str(&n->subnet, buf)));
	json_object_object_add(o, "gateway", json_object_new_string(ip_addr_str(&gw, buf)));
	json_object_object_add(o, "subnet6", ip_addr_is_set(&n->subnet6.addr) ?
			       json_object_new_string(ip_prefix_str(&n->subnet6, buf)) : NULL);
	json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
	json_object_object_add(o, "bridge_present", json_object_new_boolean(v->bridge_present));
	json_object_object_add(o, "isolated", json_object_new_boolean(n->isolated));
	json_object_object_add(o, "explicit", json_object_new_boolean(n->explicit_));
	for (size_t i = 0; i < n->n_members; i++) {
		json_object *m = json_object_new_object();

		json_object_object_add(m, "name", json_object_new_string(n->members[i].name));
		struct ip_addr a6 = net_member_addr6(n, &n->members[i]);

		json_object_object_add(m, "address",
				       json_object_new_string(ip_addr_str(&n->members[i].addr, buf)));
		json_object_object_add(m, "address6", ip_addr_is_set(&a6) ?
				       json_object_new_string(ip_addr_str(&a6, buf)) : NULL);
		json_object_array_add(members, m);
	}
	json_object_object_add(o, "members", members);
	return o;
}

static int net_list(int argc, char *argv[])
{
	struct net_view *v = NULL;
	struct nsg_err e = { 0 };
	size_t n;
	int code, r;
	bool json = parse_json_flag(argc, argv, "network list", &code);

	if (code >= 0)
		return code;
	code = args_count("network list", argc, argv, 0, NULL);
	if (code >= 0)
		return code;
	r = network_list(&v, &n, &e);
	if (r < 0)
		return report(&e, r);
	if (json) {
		json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, net_json(&v[i]));
		print_json(arr);
	}
	for (size_t i = 0; !json && i < n; i++) {
		char net[IP_PREFIX_STRLEN], net6[IP_PREFIX_STRLEN] = "-";

		if (ip_addr_is_set(&v[i].net.subnet6.addr))
			ip_prefix_str(&v[i].net.subnet6, net6);
		printf("%-15s %-18s %-24s %-15s %-8s %zu member%s%s\n", v[i].net.name,
		       ip_prefix_str(&v[i].net.subnet, net), net6, v[i].net.bridge,
		       v[i].net.isolated ? "isolated" : "-", v[i].net.n_members,
		       v[i].net.n_members == 1 ? "" : "s", v[i].bridge_present ? "" : " (bridge missing)");
	}
	network_list_free(v, n);
	return EXIT_OK;
}

int cmd_network(int argc, char *argv[])
{
	static const struct {
		const char *name;
		int (*run)(int argc, char *argv[]);
	} subs[] = { { "create", net_create }, { "rm", net_rm }, { "list", net_list } };

	if (argc < 2)
		return usage_error("network", "SUBCOMMAND: missing (create, rm or list)");
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name)) {
			optind = 1;
			return subs[i].run(argc - 1, argv + 1);
		}
	return usage_error("network", "subcommand \"%s\": unknown (create, rm or list)", argv[1]);
}
