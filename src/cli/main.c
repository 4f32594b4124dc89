/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define USAGE_UP "nsgate up NAME [--subnet CIDR] [--uplink IFACE] [--netns NAME|PID|PATH]\n" \
		 "                 [--dns auto|none|ADDR[,ADDR]...] [--publish SPEC]... [--force]\n" \
		 "                 [--no-host] [--firewall auto|none] [--ipv6 auto|on|off]\n" \
		 "                 [--subnet6 PREFIX] [--network NET]...\n" \
		 "       nsgate up NAME --lan IFACE [--address CIDR [--gateway ADDR]]\n" \
		 "                 [--netns NAME|PID|PATH] [--dns auto|none|ADDR[,ADDR]...]"
#define USAGE_RUN "nsgate run [--name NAME] [--user USER] [--publish SPEC]... [--force]\n" \
		  "                 [--subnet CIDR] [--uplink IFACE] [--dns MODE] [--no-host]\n" \
		  "                 [--firewall auto|none] [--ipv6 auto|on|off] [--subnet6 PREFIX]\n" \
		  "                 [--network NET]... [--lan IFACE [--address CIDR [--gateway ADDR]]]\n" \
		  "                 [--pid] [--hostname NAME] -- CMD [ARG]..."
#define USAGE_GC "nsgate gc"
#define USAGE_APPLY "nsgate apply FILE [--prune]"
#define USAGE_WATCH "nsgate watch"
#define USAGE_PUBLISH "nsgate publish NAME SPEC... [--force]"
#define USAGE_UNPUBLISH "nsgate unpublish NAME SPEC..."
#define SPEC_HELP \
	"SPEC is [HOSTADDR:]HOSTPORT[-HOSTEND]:PORT[-END][/tcp|udp|sctp] (default tcp),\n" \
	"as with docker or podman -p, an IPv6 HOSTADDR in brackets ([2001:db8::1]:80:80).\n" \
	"Without HOSTADDR the port answers on every host address, 127.0.0.1 included\n" \
	"(and the IPv6 ones of a dual-stack gateway, but ::1); with it, only there.\n"
#define USAGE_DOWN "nsgate down NAME | --all"
#define USAGE_LIST "nsgate list [--json]"
#define USAGE_SHOW "nsgate show NAME [--json]"
#define USAGE_EXEC "nsgate exec NAME -- CMD [ARG]..."
#define USAGE_DOCTOR "nsgate doctor [NAME] [--json]"
#define USAGE_NETWORK "nsgate network create NET [--subnet CIDR] [--isolated] [--ipv6 auto|on|off]\n" \
		      "                 [--subnet6 PREFIX] | rm NET | list [--json]"

struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *usage;
	const char *help;
};

static const struct command *commands_find(const char *name);

static int help_of(const char *cmd)
{
	const struct command *c = commands_find(cmd);

	printf("Usage: %s\n\n%s", c->usage, c->help);
	return EXIT_OK;
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

/* ---------------------------------------------------------- help, version */

static const struct command commands[];

static int cmd_help(int argc, char *argv[])
{
	if (argc > 2)
		return usage_error("help", "argument \"%s\": unexpected", argv[2]);
	if (argc == 2 && !commands_find(argv[1])) {
		print_error("help", "command \"%s\": unknown (see 'nsgate help')", argv[1]);
		return EXIT_USAGE;
	}
	if (argc == 2)
		return help_of(argv[1]);
	printf("Usage: nsgate COMMAND [ARGS]\n\n"
	       "Give Linux network namespaces a NAT gateway: a veth pair, addresses,\n"
	       "masquerade and DNS, all through netlink.\n\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		printf("  %s\n", c->usage);
	printf("\n'nsgate COMMAND --help' describes one command. Exit status: 0 success,\n"
	       "1 failure, 2 bad usage, input or a conflict; run and exec: CMD's own, or\n"
	       "126 when it cannot run, 127 when it is not found.\n");
	return EXIT_OK;
}

static const struct command commands[] = {
	{ "up", cmd_up, USAGE_UP,
	  "Bring gateway NAME up: a network namespace (/run/netns/NAME, or the one given\n"
	  "by --netns), a veth pair (nsg-NAME on the host, eth0 inside), a /30 from\n"
	  "10.200.0.0/16, a default route, masquerade, resolv.conf, and IPv4 forwarding\n"
	  "on nsg-NAME and, while net.ipv4.ip_forward is off, on the uplink (--uplink, or\n"
	  "the default routes' interfaces); net.ipv4.ip_forward itself is never written.\n\n"
	  "  --subnet CIDR     use this prefix (8..30) instead of allocating a /30\n"
	  "  --ipv6 MODE       auto (default: dual-stack when the host has an IPv6 default\n"
	  "                    route), on, or off\n"
	  "  --subnet6 PREFIX  use this IPv6 /64 instead of one from the host's ULA /48\n"
	  "  --network NET     join network NET (made with defaults when missing): eth0\n"
	  "                    on its bridge with the next free address, reaching the\n"
	  "                    other members directly (see 'nsgate network --help');\n"
	  "                    repeatable (up to 4): eth1, eth2... on the next ones\n"
	  "  --uplink IFACE    masquerade only toward IFACE (default: any non-gateway interface)\n"
	  "  --netns NAME|PID|PATH  attach an existing namespace: an ip-netns name, a\n"
	  "                    process id (its /proc/PID/ns/net) or an nsfs path\n"
	  "  --dns MODE        auto (the host's servers; loopback ones replaced by their\n"
	  "                    upstream), none, or a comma-separated list of addresses\n"
	  "  --publish SPEC    publish a port of the namespace on the host (repeatable)\n"
	  "  --force           publish even where a host process listens on the port\n"
	  "  --no-host         the namespace cannot reach the host's own addresses\n"
	  "                    (127.0.0.1 never): only replies and its DNS servers\n"
	  "  --firewall MODE   auto (default): where another firewall (Docker, ufw,\n"
	  "                    iptables, firewalld) would drop the gateways' traffic, let\n"
	  "                    it through by that firewall's own means (rules labelled\n"
	  "                    nsgate, removed with the last gateway); none: touch no\n"
	  "                    other firewall, warn with the fix\n"
	  "  --lan IFACE       LAN mode: the namespace directly on IFACE's segment (a\n"
	  "                    macvlan, eth0 inside); no NAT, no veth, no rules; the host\n"
	  "                    cannot reach it (macvlan), nor it the host through it\n"
	  "  --address CIDR    LAN mode: the namespace's address (else none: run a DHCP\n"
	  "                    client inside, see nsgate(8) LAN MODE)\n"
	  "  --gateway ADDR    LAN mode: its default route (default: the host's IPv4\n"
	  "                    default gateway on IFACE)\n\n"
	  SPEC_HELP },
	{ "run", cmd_run, USAGE_RUN,
	  "Run CMD in a new namespace with its own gateway (the options of up), and take\n"
	  "everything down when CMD exits; exit with CMD's status (128+N for signal N).\n"
	  "SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to CMD. If nsgate itself is\n"
	  "killed, the next 'nsgate gc', 'up' or 'run' removes what it left.\n\n"
	  "  --name NAME       the gateway's name (default run-PID)\n"
	  "  --user USER       run CMD as USER (groups, uid, HOME), after the namespace\n"
	  "                    is set up as root\n"
	  "  --pid             CMD is PID 1 of new PID, UTS and IPC namespaces, with its\n"
	  "                    own /proc; everything in them ends with it. A signal\n"
	  "                    passed on that CMD neither handles nor ignores is dropped\n"
	  "                    (PID 1): 2 s later, CMD gets SIGKILL (exit 137)\n"
	  "  --hostname NAME   CMD's host name, in a UTS namespace of its own (the host's\n"
	  "                    never changes): 1 to 64 bytes of A-Z a-z 0-9 - and .\n" },
	{ "apply", cmd_apply, USAGE_APPLY,
	  "Bring the kernel to exactly the gateways FILE declares (see nsgate.conf in\n"
	  "conf/): create the missing, change what changed with the fewest operations\n"
	  "(published ports, uplink, DNS and no_host in place; a new subnet or namespace\n"
	  "re-creates the gateway), leave the rest untouched. The whole file is checked\n"
	  "first (errors as FILE:LINE: ...); a bad file changes nothing.\n\n"
	  "  --prune           also remove gateways the file does not name\n" },
	{ "gc", cmd_gc, USAGE_GC,
	  "Remove gateways whose namespace, link or run is gone, whose state file is\n"
	  "damaged, or that only left kernel objects behind; restore nsgate's table if\n"
	  "someone flushed the ruleset, and a gateway's elements if someone deleted\n"
	  "some. One line per gateway removed or restored. With no gateway left, put\n"
	  "back the uplinks' forwarding a crashed up turned on; with\n"
	  "net.ipv4.ip_forward turned on since, forget it and lift the uplink guard.\n"
	  "Open other firewalls again where a reload dropped nsgate's rules; with no\n"
	  "gateway left, remove what nsgate added to them.\n" },
	{ "watch", cmd_watch, USAGE_WATCH,
	  "Stay in the foreground and keep gateways whole: when someone deletes or\n"
	  "flushes nsgate's table (a firewall reload) or deletes a gateway's elements,\n"
	  "restore them at once; when a\n"
	  "gateway's namespace dies, remove what is left of it; when another firewall\n"
	  "drops the rules nsgate gave it (Docker restarting, ufw or firewalld\n"
	  "reloading), put them back. Event-driven (netlink and D-Bus notifications;\n"
	  "iptables-legacy, which has none, is looked at once a second). Stops on\n"
	  "SIGINT or SIGTERM.\n" },
	{ "doctor", cmd_doctor, USAGE_DOCTOR,
	  "Diagnose why gateway NAME (or each gateway) may have no connectivity, reading\n"
	  "only: other firewalls dropping its traffic, forwarding off, strict rp_filter,\n"
	  "nsgate's table or its elements damaged, its namespace's link, address or\n"
	  "default route missing, its DNS servers not answering from inside (asked for\n"
	  "real, 2 s at most), the conntrack table near full, a veth MTU above the\n"
	  "uplink's, kernel features missing. One line per problem with its fix\n"
	  "('host: ...' for the host's), or 'NAME: ok'. Exit 0 when all is well, 1 when\n"
	  "something is wrong.\n\n"
	  "  --json            one document: {\"schema\": 1, \"healthy\": BOOL, \"findings\":\n"
	  "                    [{\"gateway\", \"check\", \"problem\", \"what\", \"fix\"}...]},\n"
	  "                    the checks that passed too (problem false)\n" },
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
	  "namespace if nsgate created it; with the last gateway, each uplink's forwarding\n"
	  "nsgate turned on goes back off (not if net.ipv4.ip_forward was turned on since).\n" },
	{ "list", cmd_list, USAGE_LIST, "One line per gateway, read back from the kernel.\n" },
	{ "show", cmd_show, USAGE_SHOW, "Everything about one gateway, read back from the kernel.\n" },
	{ "exec", cmd_exec, USAGE_EXEC,
	  "Run CMD inside the gateway's namespace with /etc/netns/NAME files bound over\n"
	  "/etc, like 'ip netns exec'; exits with CMD's status.\n" },
	{ "network", cmd_network, USAGE_NETWORK,
	  "Networks: gateways on one bridge (nsg-+NET, address .1 of the subnet) that\n"
	  "reach each other directly, and the internet masqueraded. 'up NAME --network\n"
	  "NET' joins one (made with defaults when missing, and removed with its last\n"
	  "member unless it was created explicitly).\n\n"
	  "  create NET        make a network (it stays without members until rm)\n"
	  "    --subnet CIDR   its IPv4 prefix, 16..29 (default: a free /24 of 10.201.0.0/16)\n"
	  "    --isolated      members reach the internet and published ports, not each other\n"
	  "    --ipv6 auto|on|off  dual-stack as a gateway is (auto: when the host has an\n"
	  "                    IPv6 default route): a ULA /64, members ::I for their .I\n"
	  "    --subnet6 PREFIX  its IPv6 /64 (implies --ipv6 on)\n"
	  "  rm NET            remove a network without members\n"
	  "  list [--json]     one line per network; --json: [{\"name\", \"subnet\",\n"
	  "                    \"gateway\", \"subnet6\", \"bridge\", \"bridge_present\",\n"
	  "                    \"isolated\", \"explicit\", \"members\": [{\"name\", \"address\",\n"
	  "                    \"address6\"}...]}...]\n" },
	{ "help", cmd_help, "nsgate help [COMMAND]", "Describe nsgate or one command.\n" },
	{ "version", cmd_version, "nsgate version [--json]",
	  "Print the version, the commit it was built from, the kernel's release and\n"
	  "what nsgate found there: +FEATURE present, -FEATURE absent, ?FEATURE not\n"
	  "known (nftables is asked only with CAP_NET_ADMIN): nf_tables, nat, ipv6_nat,\n"
	  "sctp, forward6_per_interface (net.ipv6.conf.*.force_forwarding), firewalld\n"
	  "(running on the system bus). Nothing is changed or loaded to find out.\n"
	  "'nsgate --version' prints the version and commit only.\n\n"
	  "  --json            {\"schema\": 1, \"version\", \"commit\", \"kernel\",\n"
	  "                    \"features\": {NAME: true|false|null}}\n" },
	{ 0 }
};

static const struct command *commands_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int main(int argc, char *argv[])
{
	const struct command *c;

	if (argc < 2) {
		print_error("command", "missing (see 'nsgate help')");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	if (!strcmp(argv[1], "--version"))
		return cmd_version_short();
	c = commands_find(argv[1]);
	if (!c) {
		print_error(NULL, "command \"%s\": unknown (see 'nsgate help')", argv[1]);
		return EXIT_USAGE;
	}
	/* exec's own arguments may carry --help for CMD: only look at NAME
	 * (there may be none). */
	if (strcmp(c->name, "help") &&
	    wants_help(strcmp(c->name, "exec") || argc < 3 ? argc - 1 : 2, argv + 1))
		return help_of(c->name);
	optind = 1;
	opterr = 0;
	return c->run(argc - 1, argv + 1);
}
