/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* --------------------------------------------------------------------- up */

/* What up and run share: the gateway's options. */
struct up_args {
	struct gw_spec spec;
	struct portmap *pubs;     /* malloc'ed */
	struct gw_up_opts opts;
	const char *user;         /* run --user */
	bool named;               /* run --name */
};

/* run: options stop at the first non-option (CMD) or "--". Returns -1 to go
 * on, or the exit code to return. */
static int up_args_parse(int argc, char *argv[], const char *cmd, struct up_args *a)
{
	static const struct option opts[] = {
		{ "subnet", required_argument, NULL, 's' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "netns", required_argument, NULL, 'n' },
		{ "dns", required_argument, NULL, 'd' },
		{ "publish", required_argument, NULL, 'p' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-host", no_argument, NULL, 'H' },
		{ "name", required_argument, NULL, 'N' },
		{ "user", required_argument, NULL, 'U' },
		{ 0 }
	};
	bool run = !strcmp(cmd, "run");
	struct gw_spec *s = &a->spec;
	struct nsg_err e = { 0 };
	size_t n_pubs = 0;
	int c, r;

	spec_init(s);
	a->pubs = calloc(argc, sizeof(*a->pubs));
	if (!a->pubs)
		return report(&e, -ENOMEM);
	while ((c = getopt_long(argc, argv, run ? "+" : "", opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 's': r = spec_subnet_parse(optarg, s, &e); break;
		case 'u':
			r = spec_ifname_check(optarg, &e);
			if (r == 0)
				snprintf(s->uplink, sizeof(s->uplink), "%s", optarg);
			break;
		case 'n':
			if (run)
				return usage_error(cmd, "%s", "run makes its own namespace (no --netns)");
			r = spec_netns_parse(optarg, s, &e);
			break;
		case 'd': r = spec_dns_parse(optarg, s, &e); break;
		case 'p': r = portmap_parse(optarg, &a->pubs[n_pubs++], &e); break;
		case 'f': a->opts.force = true; break;
		case 'H': s->no_host = true; break;
		case 'N':
		case 'U':
			if (!run)
				return usage_error(cmd, "%s", "bad option");
			if (c == 'U') {
				if (!getpwnam(optarg))
					return report(&e, nsg_fail(&e, -EINVAL, "no such user", "--user \"%s\"",
								   optarg));
				a->user = optarg;
				break;
			}
			r = spec_name_check(optarg, &e);
			if (r == 0)
				snprintf(s->name, sizeof(s->name), "%s", optarg);
			a->named = true;
			break;
		default: return usage_error(cmd, "%s", "bad option");
		}
		if (r < 0)
			return report(&e, r);
	}
	a->opts.pubs = a->pubs;
	a->opts.n_pubs = n_pubs;
	if (!run) {
		if (optind + 1 != argc)
			return usage_error(cmd, "%s", optind >= argc ? "missing NAME" : "expected one NAME");
		r = spec_name_check(argv[optind], &e);
		if (r < 0)
			return report(&e, r);
		snprintf(s->name, sizeof(s->name), "%s", argv[optind]);
	} else {
		if (optind >= argc)
			return usage_error(cmd, "%s", "missing CMD");
		if (!a->named)  /* run-PID: unique while this process lives */
			snprintf(s->name, sizeof(s->name), "run-%d", (int)getpid());
	}
	spec_host_ifname(s->name, s->host_ifname);
	if (s->netns_kind == GW_NETNS_OWN)
		snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", s->name);
	return -1;
}

int cmd_up(int argc, char *argv[])
{
	struct up_args a = { 0 };
	struct gw_up_result res;
	struct nsg_err e = { 0 };
	char net[IP_PREFIX_STRLEN], addr[IP_ADDR_STRLEN];
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
	if (res.warning)
		fprintf(stderr, "nsgate: warning: dns: %s\n", res.warning);
	host = spec_host_addr(&res.state.spec.subnet);
	printf("%s: %s %s, namespace %s via %s %s\n", a.spec.name, res.unchanged ? "unchanged" : "up",
	       ip_prefix_str(&res.state.spec.subnet, net), res.state.spec.netns_path,
	       res.state.spec.host_ifname, ip_addr_str(&host, addr));
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
		fprintf(stderr, "nsgate: run: gateway \"%s\" exists already\n", a.spec.name);
		code = EXIT_USAGE;
		goto out;
	}
	if (res.warning)
		fprintf(stderr, "nsgate: warning: dns: %s\n", res.warning);
	r = run_command(res.state.spec.netns_path, a.spec.name, a.user, argv + optind, &status, &e);
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
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
	struct nsg_err e = { 0 };
	bool all = false, found;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a')
			return usage_error("down", "%s", "bad option");
		all = true;
	}
	if (all ? optind != argc : optind + 1 != argc)
		return usage_error("down", "%s", all ? "--all takes no NAME" : "expected NAME or --all");
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
		fprintf(stderr, "nsgate: gateway \"%s\": not found, nothing to do\n", argv[optind]);
	return EXIT_OK;
}
