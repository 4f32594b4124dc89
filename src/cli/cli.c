/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <pwd.h>
#include <json-c/json.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "nsgate/cli.h"
#include "nsgate/config.h"
#include "nsgate/gateway.h"
#include "nsgate/run.h"
#include "nsgate/watch.h"
#include "nsgate/spec.h"

#define USAGE_UP "nsgate up NAME [--subnet CIDR] [--uplink IFACE] [--netns NAME|PID|PATH]\n" \
		 "                 [--dns auto|none|ADDR[,ADDR]...] [--publish SPEC]... [--force]"
#define USAGE_RUN "nsgate run [--name NAME] [--user USER] [--publish SPEC]... [--force]\n" \
		  "                 [--subnet CIDR] [--uplink IFACE] [--dns MODE] -- CMD [ARG]..."
#define USAGE_GC "nsgate gc"
#define USAGE_APPLY "nsgate apply FILE [--prune]"
#define USAGE_WATCH "nsgate watch"
#define USAGE_PUBLISH "nsgate publish NAME SPEC... [--force]"
#define USAGE_UNPUBLISH "nsgate unpublish NAME SPEC..."
#define SPEC_HELP \
	"SPEC is [HOSTADDR:]HOSTPORT[-HOSTEND]:PORT[-END][/tcp|udp|sctp] (default tcp),\n" \
	"as with docker or podman -p. Without HOSTADDR the port answers on every host\n" \
	"address, 127.0.0.1 included; with it, only there.\n"
#define USAGE_DOWN "nsgate down NAME | --all"
#define USAGE_LIST "nsgate list [--json]"
#define USAGE_SHOW "nsgate show NAME [--json]"
#define USAGE_EXEC "nsgate exec NAME -- CMD [ARG]..."

struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *usage;
	const char *help;
};

static const struct command *commands_find(const char *name);

/* Exit codes (documented in nsgate.8). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_CMD_CANNOT_RUN = 126,
       EXIT_CMD_NOT_FOUND = 127 };

/* The one place an error's kind becomes an exit code, for every command. */
static int exit_code_of(enum nsg_kind kind)
{
	switch (kind) {
	case NSG_KIND_INPUT:
	case NSG_KIND_CONFLICT:
		return EXIT_USAGE;
	case NSG_KIND_CMD_NOT_FOUND:
		return EXIT_CMD_NOT_FOUND;
	case NSG_KIND_CMD_CANNOT_RUN:
		return EXIT_CMD_CANNOT_RUN;
	default:
		return EXIT_FAIL;
	}
}

/* "nsgate: <what>: <why>" on stderr; the only error format nsgate has.
 * An error the core returned without detail is fallback's errno. */
static int report(const struct nsg_err *e, int fallback)
{
	struct nsg_err tmp = *e;

	if (!tmp.code) {
		tmp.code = fallback;
		tmp.kind = nsg_kind_of(fallback);
	}
	if (e->what[0])
		fprintf(stderr, "nsgate: %s: %s\n", e->what, nsg_err_reason(&tmp));
	else
		fprintf(stderr, "nsgate: %s\n", nsg_err_reason(&tmp));
	return exit_code_of(tmp.kind);
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "nsgate: %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'nsgate %s --help')\n", cmd);
	return EXIT_USAGE;
}

static int help_of(const char *cmd)
{
	const struct command *c = commands_find(cmd);

	printf("Usage: %s\n\n%s", c->usage, c->help);
	return EXIT_OK;
}

/* Changing namespaces, links and nftables needs CAP_NET_ADMIN (and
 * CAP_SYS_ADMIN for mounts); say so plainly instead of a later EPERM. */
static int need_privileges(const char *cmd)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0;
	if (data[0].effective & (1u << CAP_NET_ADMIN) && data[0].effective & (1u << CAP_SYS_ADMIN))
		return 0;
	fprintf(stderr, "nsgate: %s: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)\n", cmd);
	return EXIT_FAIL;
}

static bool wants_help(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

/* --------------------------------------------------------------------- up */

/* What up and run share: the gateway's options. */
struct up_args {
	struct gw_spec spec;
	struct publish *pubs;     /* malloc'ed */
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
		{ "name", required_argument, NULL, 'N' },
		{ "user", required_argument, NULL, 'U' },
		{ 0 }
	};
	bool run = !strcmp(cmd, "run");
	struct gw_spec *s = &a->spec;
	struct nsg_err e = { 0 };
	size_t n_pubs = 0;
	int c, r;

	*s = (struct gw_spec){ .netns_kind = GW_NETNS_OWN, .dns_mode = GW_DNS_AUTO };
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
		case 'p': r = spec_publish_parse(optarg, &a->pubs[n_pubs++], &e); break;
		case 'f': a->opts.force = true; break;
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

static int cmd_up(int argc, char *argv[])
{
	struct up_args a = { 0 };
	struct gw_up_result res;
	struct nsg_err e = { 0 };
	char net[IP4_NET_STRLEN], addr[IP4_STRLEN];
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
	printf("%s: %s %s, namespace %s via %s %s\n", a.spec.name, res.unchanged ? "unchanged" : "up",
	       ip4_net_str(&res.state.spec.subnet, net), res.state.spec.netns_path,
	       res.state.spec.host_ifname, ip4_addr_str(spec_host_addr(&res.state.spec.subnet), addr));
	code = EXIT_OK;
out:
	free(a.pubs);
	return code;
}

/* -------------------------------------------------------------------- run */

static int cmd_run(int argc, char *argv[])
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

static int cmd_down(int argc, char *argv[])
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

/* ------------------------------------------------------ publish/unpublish */

static int cmd_publish_common(int argc, char *argv[], bool add)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	const char *cmd = add ? "publish" : "unpublish";
	_cleanup_free_ struct publish *pubs = NULL;
	struct nsg_err e = { 0 };
	bool force = false;
	size_t n = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f' || !add)
			return usage_error(cmd, "%s", "bad option");
		force = true;
	}
	if (optind + 2 > argc)
		return usage_error(cmd, "%s", optind >= argc ? "missing NAME" : "missing SPEC");
	r = spec_name_check(argv[optind], &e);
	if (r < 0)
		return report(&e, r);
	pubs = calloc(argc, sizeof(*pubs));
	if (!pubs)
		return report(&e, -ENOMEM);
	for (int i = optind + 1; i < argc; i++) {
		r = spec_publish_parse(argv[i], &pubs[n++], &e);
		if (r < 0)
			return report(&e, r);
	}
	if (need_privileges(cmd))
		return EXIT_FAIL;
	r = add ? gateway_publish(argv[optind], pubs, n, force, &e)
		: gateway_unpublish(argv[optind], pubs, n, &e);
	if (r < 0)
		return report(&e, r);
	return EXIT_OK;
}

static int cmd_publish(int argc, char *argv[])
{
	return cmd_publish_common(argc, argv, true);
}

static int cmd_unpublish(int argc, char *argv[])
{
	return cmd_publish_common(argc, argv, false);
}

/* Consecutive ports mapped to consecutive ports print as one range. */
static size_t published_run(const struct published *p, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && p[j].proto == p[i].proto && p[j].host_addr == p[i].host_addr &&
	       p[j].to_addr == p[i].to_addr && p[j].host_port == p[j - 1].host_port + 1 &&
	       p[j].to_port == p[j - 1].to_port + 1)
		j++;
	return j - i;
}

static json_object *published_json(const struct published *p, size_t n)
{
	json_object *arr = json_object_new_array();
	char a[IP4_STRLEN];

	for (size_t i = 0, run; i < n; i += run) {
		json_object *o = json_object_new_object();

		run = published_run(p, n, i);
		json_object_object_add(o, "host_addr", json_object_new_string(ip4_addr_str(p[i].host_addr, a)));
		json_object_object_add(o, "host_port", json_object_new_int(p[i].host_port));
		json_object_object_add(o, "host_end", json_object_new_int(p[i].host_port + run - 1));
		json_object_object_add(o, "port", json_object_new_int(p[i].to_port));
		json_object_object_add(o, "end", json_object_new_int(p[i].to_port + run - 1));
		json_object_object_add(o, "proto", json_object_new_string(spec_proto_name(p[i].proto)));
		json_object_object_add(o, "to", json_object_new_string(ip4_addr_str(p[i].to_addr, a)));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* -------------------------------------------------------------- list/show */

static json_object *view_json(const struct gw_view *v)
{
	json_object *o = json_object_new_object(), *dns = json_object_new_array();
	const struct gw_spec *s = &v->state.spec;
	char net[IP4_NET_STRLEN], a[IP4_STRLEN];

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "status", json_object_new_string(v->status));
	json_object_object_add(o, "host_ifname", json_object_new_string(
		v->have_state ? s->host_ifname : v->link.name));
	if (v->have_state) {
		json_object_object_add(o, "subnet", json_object_new_string(ip4_net_str(&s->subnet, net)));
		json_object_object_add(o, "host_addr",
			json_object_new_string(ip4_addr_str(spec_host_addr(&s->subnet), a)));
		json_object_object_add(o, "ns_addr",
			json_object_new_string(ip4_addr_str(spec_ns_addr(&s->subnet), a)));
		json_object_object_add(o, "netns", json_object_new_string(s->netns_path));
		json_object_object_add(o, "netns_created", json_object_new_boolean(v->state.netns_created));
		json_object_object_add(o, "uplink", s->uplink[0] ? json_object_new_string(s->uplink) : NULL);
		json_object_object_add(o, "dns_mode", json_object_new_string(
			s->dns_mode == GW_DNS_AUTO ? "auto" : s->dns_mode == GW_DNS_NONE ? "none" : "list"));
	}
	for (unsigned i = 0; i < v->n_dns; i++)
		json_object_array_add(dns, json_object_new_string(ip4_addr_str(v->dns[i], a)));
	json_object_object_add(o, "dns", dns);
	json_object_object_add(o, "resolv_conf", json_object_new_boolean(v->dns_present));
	json_object_object_add(o, "netns_present", json_object_new_boolean(v->netns_present));
	if (v->link_present) {
		json_object *l = json_object_new_object(), *addrs = json_object_new_array();

		json_object_object_add(l, "ifname", json_object_new_string(v->link.name));
		json_object_object_add(l, "ifindex", json_object_new_int(v->link.ifindex));
		json_object_object_add(l, "up", json_object_new_boolean(v->link.flags & IFF_UP));
		json_object_object_add(l, "mtu", json_object_new_int(v->link.mtu));
		for (size_t i = 0; i < v->link.n_addrs; i++) {
			char buf[IP4_NET_STRLEN + 4];
			snprintf(buf, sizeof(buf), "%s/%u", ip4_addr_str(v->link.addr_local[i], a),
				 v->link.addrs[i].plen);
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
	json_object_object_add(n, "elements", json_object_new_int64((int64_t)v->nft.n_elems));
	json_object_object_add(o, "nftables", n);
	json_object_object_add(o, "published", published_json(v->pub, v->n_pub));
	json_object_object_add(o, "published_ports", json_object_new_int64((int64_t)v->n_pub));
	return o;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static bool parse_json_flag(int argc, char *argv[], const char *cmd, int *ret_code)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	bool json = false;
	int c;

	*ret_code = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j') {
			*ret_code = usage_error(cmd, "%s", "bad option");
			return false;
		}
		json = true;
	}
	return json;
}

static int cmd_list(int argc, char *argv[])
{
	struct gw_view *views = NULL;
	struct nsg_err e = { 0 };
	size_t n;
	int code, r;
	bool json = parse_json_flag(argc, argv, "list", &code);

	if (code >= 0)
		return code;
	if (optind != argc)
		return usage_error("list", "unexpected argument \"%s\"", argv[optind]);
	if (need_privileges("list"))
		return EXIT_FAIL;
	r = gateway_list(&views, &n, &e);
	if (r < 0)
		return report(&e, r);
	if (json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, view_json(&views[i]));
		print_json(arr);
	} else {
		for (size_t i = 0; i < n; i++) {
			char net[IP4_NET_STRLEN] = "-";
			const struct gw_view *v = &views[i];

			if (v->have_state)
				ip4_net_str(&v->state.spec.subnet, net);
			printf("%-15s %-13s %-18s %-15s %s\n", v->name, v->status, net,
			       v->have_state ? v->state.spec.host_ifname : v->link.name,
			       v->have_state ? v->state.spec.netns_path : "-");
		}
	}
	for (size_t i = 0; i < n; i++)
		gateway_view_clear(&views[i]);
	free(views);
	return EXIT_OK;
}

static int cmd_show(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	struct gw_view v;
	int code, r;
	bool json = parse_json_flag(argc, argv, "show", &code);

	if (code >= 0)
		return code;
	if (optind + 1 != argc)
		return usage_error("show", "%s", "expected one NAME");
	r = spec_name_check(argv[optind], &e);
	if (r < 0)
		return report(&e, r);
	if (need_privileges("show"))
		return EXIT_FAIL;
	r = gateway_view(argv[optind], &v, &e);
	if (r == -ENOENT)
		return report(&e, r), EXIT_FAIL;
	if (r < 0)
		return report(&e, r);
	if (json) {
		print_json(view_json(&v));
		gateway_view_clear(&v);
		return EXIT_OK;
	}
	const struct gw_spec *s = &v.state.spec;
	char net[IP4_NET_STRLEN], a[IP4_STRLEN], b[IP4_STRLEN];
	printf("gateway %s: %s\n", v.name, v.status);
	if (v.have_state) {
		printf("  subnet     %s (host %s, namespace %s)\n", ip4_net_str(&s->subnet, net),
		       ip4_addr_str(spec_host_addr(&s->subnet), a), ip4_addr_str(spec_ns_addr(&s->subnet), b));
		printf("  netns      %s%s%s\n", s->netns_path, v.state.netns_created ? " (created by nsgate)" : "",
		       v.netns_present ? "" : " (gone)");
		printf("  uplink     %s\n", s->uplink[0] ? s->uplink : "any");
	}
	if (v.link_present) {
		printf("  link       %s index %d %s mtu %u", v.link.name, v.link.ifindex,
		       v.link.flags & IFF_UP ? "up" : "down", v.link.mtu);
		for (size_t i = 0; i < v.link.n_addrs; i++)
			printf(" %s/%u", ip4_addr_str(v.link.addr_local[i], a), v.link.addrs[i].plen);
		printf("\n");
	} else {
		printf("  link       missing\n");
	}
	printf("  nftables   %s, masquerade %s, %zu element%s\n",
	       v.nft.in_ifaces ? "gateway interface" : "not a gateway interface",
	       v.nft.masq_any ? "to any interface" : v.nft.masq_via[0] ? v.nft.masq_via : "none",
	       v.nft.n_elems, v.nft.n_elems == 1 ? "" : "s");
	for (size_t i = 0, run; i < v.n_pub; i += run) {
		struct publish p = { .host_addr = v.pub[i].host_addr, .proto = v.pub[i].proto,
				     .host_port = v.pub[i].host_port, .port = v.pub[i].to_port };
		char spec[PUBLISH_STRLEN];

		run = published_run(v.pub, v.n_pub, i);
		p.count = run;
		printf("  %-10s %s -> %s\n", i ? "" : "published", spec_publish_str(&p, spec),
		       ip4_addr_str(v.pub[i].to_addr, a));
	}
	if (v.dns_present) {
		printf("  dns        /etc/netns/%s/resolv.conf:", v.name);
		for (unsigned i = 0; i < v.n_dns; i++)
			printf(" %s", ip4_addr_str(v.dns[i], a));
		printf("\n");
	}
	else
		printf("  dns        none\n");
	gateway_view_clear(&v);
	return EXIT_OK;
}

/* ------------------------------------------------------------------- exec */

static int cmd_exec(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	int i = 1, r;

	if (argc < 2 || argv[1][0] == '-')
		return usage_error("exec", "%s", "missing NAME");
	r = spec_name_check(argv[1], &e);
	if (r < 0)
		return report(&e, r);
	i = 2;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return usage_error("exec", "%s", "missing CMD");
	if (need_privileges("exec"))
		return EXIT_FAIL;
	r = gateway_exec(argv[1], argv + i, &e);
	report(&e, r);
	/* What shells and ip netns exec return when the command cannot run. */
	return r == -ENOENT && !strncmp(e.what, "exec", 4) ? 127 : r == -ENOENT ? EXIT_FAIL : 126;
}

/* ------------------------------------------------------------------ apply */

static int cmd_apply(int argc, char *argv[])
{
	static const struct option opts[] = { { "prune", no_argument, NULL, 'p' }, { 0 } };
	struct gw_apply_item *items = NULL;
	struct config cfg = { 0 };
	struct nsg_err e = { 0 };
	bool prune = false;
	size_t n = 0, changes = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p')
			return usage_error("apply", "%s", "bad option");
		prune = true;
	}
	if (optind + 1 != argc)
		return usage_error("apply", "%s", optind >= argc ? "missing FILE" : "expected one FILE");
	/* The whole file is checked before anything is touched. */
	r = config_parse_file(argv[optind], &cfg, &e);
	if (r < 0)
		return report(&e, r);
	if (need_privileges("apply")) {
		config_free(&cfg);
		return EXIT_FAIL;
	}
	r = gateway_apply(&cfg, prune, &items, &n, &e);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].action)
			continue;
		if (strcmp(items[i].action, "unchanged"))
			changes++;
		printf("%s: %s%s%s%s\n", items[i].name, items[i].action, items[i].detail[0] ? " (" : "",
		       items[i].detail, items[i].detail[0] ? ")" : "");
	}
	free(items);
	config_free(&cfg);
	if (r < 0)
		return report(&e, r);
	printf("%zu change%s\n", changes, changes == 1 ? "" : "s");
	return EXIT_OK;
}

/* --------------------------------------------------------------------- gc */

static int cmd_gc(int argc, char *argv[])
{
	struct gw_gc_item *items = NULL;
	struct nsg_err e = { 0 };
	size_t n;
	int r;

	if (argc > 1)
		return usage_error("gc", "unexpected argument \"%s\"", argv[1]);
	if (need_privileges("gc"))
		return EXIT_FAIL;
	r = gateway_gc(&items, &n, &e);
	if (r < 0)
		return report(&e, r);
	for (size_t i = 0; i < n; i++)
		printf("%s: removed, %s\n", items[i].name, items[i].reason);
	free(items);
	return EXIT_OK;
}

static int cmd_watch(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	int r;

	if (argc > 1)
		return usage_error("watch", "unexpected argument \"%s\"", argv[1]);
	if (need_privileges("watch"))
		return EXIT_FAIL;
	r = watch_run(stdout, &e);
	return r < 0 ? report(&e, r) : EXIT_OK;
}

/* ---------------------------------------------------------- help, version */

static const struct command commands[];

static int cmd_help(int argc, char *argv[])
{
	if (argc > 1 && commands_find(argv[1]))
		return help_of(argv[1]);
	printf("Usage: nsgate COMMAND [ARGS]\n\n"
	       "Give Linux network namespaces a NAT gateway: a veth pair, addresses,\n"
	       "masquerade and DNS, all through netlink.\n\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		printf("  %s\n", c->usage);
	printf("\n'nsgate COMMAND --help' describes one command. Exit status: 0 success,\n"
	       "1 failure, 2 bad usage or input.\n");
	return EXIT_OK;
}

static int cmd_version(int argc, char *argv[])
{
	printf("nsgate %s\n", NSGATE_VERSION);
	return EXIT_OK;
}

static const struct command commands[] = {
	{ "up", cmd_up, USAGE_UP,
	  "Bring gateway NAME up: a network namespace (/run/netns/NAME, or the one given\n"
	  "by --netns), a veth pair (nsg-NAME on the host, eth0 inside), a /30 from\n"
	  "10.200.0.0/16, a default route, ip_forward, masquerade and resolv.conf.\n\n"
	  "  --subnet CIDR     use this prefix (8..30) instead of allocating a /30\n"
	  "  --uplink IFACE    masquerade only toward IFACE (default: any non-gateway interface)\n"
	  "  --netns NAME|PID|PATH  attach an existing namespace: an ip-netns name, a\n"
	  "                    process id (its /proc/PID/ns/net) or an nsfs path\n"
	  "  --dns MODE        auto (the host's servers; loopback ones replaced by their\n"
	  "                    upstream), none, or a comma-separated list of addresses\n"
	  "  --publish SPEC    publish a port of the namespace on the host (repeatable)\n"
	  "  --force           publish even where a host process listens on the port\n\n"
	  SPEC_HELP },
	{ "run", cmd_run, USAGE_RUN,
	  "Run CMD in a new namespace with its own gateway (the options of up), and take\n"
	  "everything down when CMD exits; exit with CMD's status (128+N for signal N).\n"
	  "SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to CMD. If nsgate itself is\n"
	  "killed, the next 'nsgate gc', 'up' or 'run' removes what it left.\n\n"
	  "  --name NAME       the gateway's name (default run-PID)\n"
	  "  --user USER       run CMD as USER (groups, uid, HOME), after the namespace\n"
	  "                    is set up as root\n" },
	{ "apply", cmd_apply, USAGE_APPLY,
	  "Bring the kernel to exactly the gateways FILE declares (see nsgate.conf in\n"
	  "conf/): create the missing, change what changed with the fewest operations\n"
	  "(published ports, uplink and DNS in place; a new subnet or namespace\n"
	  "re-creates the gateway), leave the rest untouched. The whole file is checked\n"
	  "first (errors as FILE:LINE: ...); a bad file changes nothing.\n\n"
	  "  --prune           also remove gateways the file does not name\n" },
	{ "gc", cmd_gc, USAGE_GC,
	  "Remove gateways whose namespace, link or run is gone, whose state file is\n"
	  "damaged, or that only left kernel objects behind; restore nsgate's table if\n"
	  "someone flushed the ruleset. One line per gateway removed.\n" },
	{ "watch", cmd_watch, USAGE_WATCH,
	  "Stay in the foreground and keep gateways whole: when someone deletes or\n"
	  "flushes nsgate's table (a firewall reload), restore it at once; when a\n"
	  "gateway's namespace dies, remove what is left of it. Event-driven (netlink\n"
	  "notifications), no polling. Stops on SIGINT or SIGTERM.\n" },
	{ "publish", cmd_publish, USAGE_PUBLISH,
	  "Publish ports of a running gateway, in one transaction: nothing changes if one\n"
	  "SPEC cannot be published (claimed by another gateway, or a host process\n"
	  "listens there: --force takes it anyway). Publishing what is there is a no-op.\n\n"
	  SPEC_HELP },
	{ "unpublish", cmd_unpublish, USAGE_UNPUBLISH,
	  "Stop publishing ports, in one transaction, and delete their connection\n"
	  "tracking entries so established flows stop too.\n\n" SPEC_HELP },
	{ "down", cmd_down, USAGE_DOWN,
	  "Remove gateway NAME (or all): rules, veth, addresses, resolv.conf, state, the\n"
	  "namespace if nsgate created it, and ip_forward as it was before the first up.\n" },
	{ "list", cmd_list, USAGE_LIST, "One line per gateway, read back from the kernel.\n" },
	{ "show", cmd_show, USAGE_SHOW, "Everything about one gateway, read back from the kernel.\n" },
	{ "exec", cmd_exec, USAGE_EXEC,
	  "Run CMD inside the gateway's namespace with /etc/netns/NAME files bound over\n"
	  "/etc, like 'ip netns exec'; exits with CMD's status.\n" },
	{ "help", cmd_help, "nsgate help [COMMAND]", "Describe nsgate or one command.\n" },
	{ "version", cmd_version, "nsgate version", "Print the version.\n" },
	{ 0 }
};

static const struct command *commands_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cli_main(int argc, char *argv[])
{
	const struct command *c;

	if (argc < 2) {
		fprintf(stderr, "nsgate: missing command (see 'nsgate help')\n");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	c = commands_find(argv[1]);
	if (!c) {
		fprintf(stderr, "nsgate: unknown command \"%s\" (see 'nsgate help')\n", argv[1]);
		return EXIT_USAGE;
	}
	/* exec's own arguments may carry --help for CMD: only look before "--". */
	if (strcmp(c->name, "help") && wants_help(strcmp(c->name, "exec") ? argc - 1 : 2, argv + 1))
		return help_of(c->name);
	optind = 1;
	opterr = 0;
	return c->run(argc - 1, argv + 1);
}
