/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* --------------------------------------------------------------------- up */

enum { O_SUBNET = OPT_LONG, O_UPLINK, O_NETNS, O_DNS, O_PUBLISH, O_FORCE, O_NO_HOST, O_NAME,
       O_USER, O_FIREWALL, O_IPV6, O_SUBNET6, O_PID, O_HOSTNAME, O_LAN, O_ADDRESS, O_GATEWAY,
       O_NETWORK };

/* What up and run share: the gateway's options. */
struct up_args {
	struct gw_spec spec;
	struct portmap *pubs;     /* malloc'ed */
	struct gw_up_opts opts;
	const char *user;         /* run --user */
	bool named;               /* run --name */
	bool pid;                 /* run --pid */
	const char *hostname;     /* run --hostname */
};

/* One option of up or run (c from getopt_long, optarg its value): -1 to go
 * on, or the exit code to return. */
static int up_option(int c, const char *cmd, char *argv[], struct up_args *a)
{
	bool run = !strcmp(cmd, "run");
	struct gw_spec *s = &a->spec;
	struct nsg_err e = { 0 };
	int r = 0;

	switch (c) {
	case O_SUBNET: r = spec_subnet_parse(optarg, s, &e); break;
	case O_UPLINK:
		r = spec_ifname_check(optarg, &e);
		if (r == 0)
			snprintf(s->uplink, sizeof(s->uplink), "%s", optarg);
		break;
	case O_NETNS:
		if (run)
			return usage_error(cmd, "option \"--netns\": not for run, which makes its own "
					   "namespace");
		r = spec_netns_parse(optarg, s, &e);
		break;
	case O_DNS: r = spec_dns_parse(optarg, s, &e); break;
	case O_PUBLISH: r = portmap_parse(optarg, &a->pubs[a->opts.n_pubs++], &e); break;
	case O_FORCE: a->opts.force = true; break;
	case O_NO_HOST: s->no_host = true; break;
	case O_FIREWALL: r = spec_firewall_parse(optarg, s, &e); break;
	case O_IPV6: r = spec_ipv6_parse(optarg, s, &e); break;
	case O_SUBNET6: r = spec_subnet6_parse(optarg, s, &e); break;
	case O_PID:
	case O_HOSTNAME:
		if (!run)
			return usage_error(cmd, "option \"--%s\": only for run",
					   c == O_PID ? "pid" : "hostname");
		if (c == O_PID) {
			a->pid = true;
			break;
		}
		r = spec_hostname_check(optarg, &e);
		a->hostname = optarg;
		break;
	case O_LAN: r = spec_lan_parse(optarg, s, &e); break;
	case O_ADDRESS: r = spec_lan_address_parse(optarg, s, &e); break;
	case O_GATEWAY: r = spec_lan_gateway_parse(optarg, s, &e); break;
	case O_NETWORK:
		r = spec_network_add(s, optarg, &e);
		break;
	case O_NAME:
	case O_USER:
		if (!run)
			return usage_error(cmd, "option \"--%s\": only for run", c == O_NAME ? "name" : "user");
		if (c == O_USER) {
			if (!getpwnam(optarg))
				return report(&e, nsg_fail(&e, -EINVAL, "no such user", "--user \"%s\"", optarg));
			a->user = optarg;
			break;
		}
		r = spec_name_own_check(optarg, &e);
		if (r == 0)
			snprintf(s->name, sizeof(s->name), "%s", optarg);
		a->named = true;
		break;
	default: return option_error(cmd, c, argv);
	}
	return r < 0 ? report(&e, r) : -1;
}

/* run: options stop at the first non-option (CMD) or "--". Returns -1 to go
 * on, or the exit code to return. */
static int up_args_parse(int argc, char *argv[], const char *cmd, struct up_args *a)
{
	static const struct option opts[] = {
		{ "subnet", required_argument, NULL, O_SUBNET },
		{ "uplink", required_argument, NULL, O_UPLINK },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "dns", required_argument, NULL, O_DNS },
		{ "publish", required_argument, NULL, O_PUBLISH },
		{ "force", no_argument, NULL, O_FORCE },
		{ "no-host", no_argument, NULL, O_NO_HOST },
		{ "firewall", required_argument, NULL, O_FIREWALL },
		{ "ipv6", required_argument, NULL, O_IPV6 },
		{ "subnet6", required_argument, NULL, O_SUBNET6 },
		{ "lan", required_argument, NULL, O_LAN },
		{ "address", required_argument, NULL, O_ADDRESS },
		{ "gateway", required_argument, NULL, O_GATEWAY },
		{ "network", required_argument, NULL, O_NETWORK },
		{ "name", required_argument, NULL, O_NAME },
		{ "user", required_argument, NULL, O_USER },
		{ "pid", no_argument, NULL, O_PID },
		{ "hostname", required_argument, NULL, O_HOSTNAME },
		{ 0 }
	};
	bool run = !strcmp(cmd, "run");
	struct gw_spec *s = &a->spec;
	struct nsg_err e = { 0 };
	int c, r, code;

	spec_init(s);
	a->pubs = calloc(argc, sizeof(*a->pubs));
	if (!a->pubs)
		return report(&e, -ENOMEM);
	a->opts.pubs = a->pubs;
	while ((c = getopt_long(argc, argv, run ? "+:" : ":", opts, NULL)) != -1) {
		code = up_option(c, cmd, argv, a);
		if (code >= 0)
			return code;
	}
	/* --lan and the NAT's options: one refusal, before anything. */
	r = spec_lan_check(s, a->opts.n_pubs, &e);
	if (r < 0)
		return report(&e, r);
	if (!run) {
		code = args_count(cmd, argc, argv, 1, "NAME");
		if (code >= 0)
			return code;
		r = spec_name_own_check(argv[optind], &e);
		if (r < 0)
			return report(&e, r);
		snprintf(s->name, sizeof(s->name), "%s", argv[optind]);
	} else {
		if (optind >= argc)
			return usage_error(cmd, "CMD: missing");
		if (!a->named)  /* run-PID: unique while this process lives */
			snprintf(s->name, sizeof(s->name), "run-%d", (int)getpid());
	}
	spec_host_ifname(s->name, s->host_ifname);
	if (s->netns_kind == GW_NETNS_OWN)
		snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", s->name);
	return -1;
}

/* What the user should know of an up that worked: DNS it could not set up,
 * and every other firewall's chain that will still drop the gateway's
 * traffic, with the fix. */
static void up_warnings(const char *name, const struct gw_up_result *res)
{
	if (res->warning)
		print_error("warning", "dns: %s", res->warning);
	if (res->lan_warning)
		print_error("warning", "lan: %s", res->lan_warning);
	warn_firewall_blocks(name, &res->blocked);
}

/* "web: up on LAN eth1 192.168.1.50/24 via 192.168.1.1, namespace /run/netns/web",
 * or without an address, how to get one. */
static void up_print_lan(const struct gw_up_result *res)
{
	const struct gw_spec *s = &res->state.spec;
	char path[NSG_ESCAPED_SIZE(PATH_MAX)], a[IP_ADDR_STRLEN], g[IP_ADDR_STRLEN];
	char ifc[NSG_ESCAPED_SIZE(IF_NAMESIZE)];

	nsg_escape(s->netns_path, path, sizeof(path));
	nsg_escape(s->lan.iface, ifc, sizeof(ifc));
	if (ip_addr_is_set(&s->lan.addr))
		printf("%s: %s on LAN %s %s/%u via %s, namespace %s\n", s->name,
		       res->unchanged ? "unchanged" : "up", ifc, ip_addr_str(&s->lan.addr, a),
		       s->lan.plen, ip_addr_str(&s->lan.gateway, g), path);
	else
		printf("%s: %s on LAN %s, no address (nsgate exec %s -- dhclient -pf "
		       "/run/dhclient-%s.pid -lf /var/lib/dhcp/dhclient-%s.leases %s), namespace %s\n",
		       s->name, res->unchanged ? "unchanged" : "up", ifc, s->name, s->name,
		       s->name, s->ns_ifname, path);
}

int cmd_up(int argc, char *argv[])
{
	struct up_args a = { 0 };
	struct gw_up_result res;
	struct nsg_err e = { 0 };
	char net[IP_PREFIX_STRLEN], net6[IP_PREFIX_STRLEN], addr[IP_ADDR_STRLEN];
	char path[NSG_ESCAPED_SIZE(PATH_MAX)];
	struct ip_addr host;
	int r, code = up_args_parse(argc, argv, "up", &a);

	if (code >= 0)
		goto out;
	code = EXIT_FAIL;
	if (need_privileges("up"))
		goto out;
	r = gateway_up(&a.spec, &a.opts, &res, &e);
	if (r < 0) {
		code = report(&e, r);
		goto out;
	}
	up_warnings(a.spec.name, &res);
	if (spec_is_lan(&res.state.spec)) {
		up_print_lan(&res);
		code = EXIT_OK;
		goto out;
	}
	host = spec_host_addr(&res.state.spec.subnet);
	if (res.state.spec.network[0]) {
		char ns[IP_ADDR_STRLEN], ns6[IP_ADDR_STRLEN + 8] = "";
		struct ip_addr a6 = spec_gw_ns_addr6(&res.state.spec);

		/* A dual-stack network's member: its IPv6 address too. */
		if (ip_addr_is_set(&a6))
			snprintf(ns6, sizeof(ns6), " %s/%u", ip_addr_str(&a6, net6), GW_SUBNET6_PLEN);
		printf("%s: %s %s/%u%s on network %s, namespace %s via %s %s\n", a.spec.name,
		       res.unchanged ? "unchanged" : "up", ip_addr_str(&res.state.spec.net_addr, ns),
		       res.state.spec.subnet.plen, ns6, res.state.spec.network,
		       nsg_escape(res.state.spec.netns_path, path, sizeof(path)),
		       res.state.spec.net_bridge, ip_addr_str(&host, addr));
		for (unsigned k = 0; k < res.state.spec.n_nets_more; k++) {
			const struct gw_net_more *m = &res.state.spec.nets_more[k];

			printf("%s: also %s/%u on network %s (%s)\n", a.spec.name,
			       ip_addr_str(&m->addr, ns), m->subnet.plen, m->name, m->ns_ifname);
		}
		code = EXIT_OK;
		goto out;
	}
	/* The path is the user's --netns, which may hold any byte but a control. */
	printf("%s: %s %s%s%s, namespace %s via %s %s\n", a.spec.name,
	       res.unchanged ? "unchanged" : "up", ip_prefix_str(&res.state.spec.subnet, net),
	       spec_has_ipv6(&res.state.spec) ? " " : "",
	       spec_has_ipv6(&res.state.spec) ? ip_prefix_str(&res.state.spec.subnet6, net6) : "",
	       nsg_escape(res.state.spec.netns_path, path, sizeof(path)), res.state.spec.host_ifname,
	       ip_addr_str(&host, addr));
	code = EXIT_OK;
out:
	free(a.pubs);
	return code;
}

/* -------------------------------------------------------------------- run */

int cmd_run(int argc, char *argv[])
{
	struct up_args a = { 0 };
	struct gw_up_result res;
	struct run_request rq;
	struct nsg_err e = { 0 };
	bool found;
	int r, status, code = up_args_parse(argc, argv, "run", &a);

	if (code >= 0)
		goto out;
	code = EXIT_FAIL;
	if (need_privileges("run"))
		goto out;
	a.opts.run_pid = getpid();
	r = gateway_up(&a.spec, &a.opts, &res, &e);
	if (r < 0) {
		code = report(&e, r);
		goto out;
	}
	if (res.unchanged) {
		/* Someone else's gateway: running in it would tear it down after. */
		code = report(&e, nsg_fail(&e, -EEXIST, "exists already (run makes a gateway of its own)",
					   "gateway \"%s\"", a.spec.name));
		goto out;
	}
	up_warnings(a.spec.name, &res);
	rq = (struct run_request){ .netns_path = res.state.spec.netns_path, .etc_name = a.spec.name,
				   .user = a.user, .pid = a.pid, .hostname = a.hostname,
				   .argv = argv + optind };
	r = run_command(&rq, &status, &e);
	code = r < 0 ? report(&e, r) : status;
	memset(&e, 0, sizeof(e));
	r = gateway_down(a.spec.name, &found, &e);
	if (r < 0) {
		report(&e, r);
		if (code == 0)
			code = EXIT_FAIL;
	}
out:
	free(a.pubs);
	return code;
}

/* ------------------------------------------------------------------- down */

int cmd_down(int argc, char *argv[])
{
	static const struct option opts[] = { { "all", no_argument, NULL, OPT_LONG }, { 0 } };
	struct nsg_err e = { 0 };
	bool all = false, found;
	int c, r;

	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != OPT_LONG)
			return option_error("down", c, argv);
		all = true;
	}
	r = args_count("down", argc, argv, all ? 0 : 1, "NAME (or --all)");
	if (r >= 0)
		return r;
	if (need_privileges("down"))
		return EXIT_FAIL;
	if (all) {
		size_t n;

		r = gateway_down_all(&n, &e);
		if (r < 0)
			return report(&e, r);
		printf("%zu gateway%s down\n", n, n == 1 ? "" : "s");
		return EXIT_OK;
	}
	r = spec_name_check(argv[optind], &e);
	if (r < 0)
		return report(&e, r);
	r = gateway_down(argv[optind], &found, &e);
	if (r < 0)
		return report(&e, r);
	if (!found)
		print_error(NULL, "gateway \"%s\": not found, nothing to do", argv[optind]);
	return EXIT_OK;
}
