/* SPDX-License-Identifier: MIT */
/* config: the file of `nsgate apply`, parsed with libinih. */
#include "unit.h"

#include <netinet/in.h>
#include <stdio.h>
#include <sys/stat.h>

#include "nsgate/config.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* Parse text that must be valid. */
static void parse_ok(const char *text, struct config *c)
{
	struct nsg_err e = { 0 };
	int r = config_parse_string(text, "t.conf", c, &e);

	if (r != 0)
		fail_msg("refused (%d): %s: %s\n---\n%s---", r, e.what, e.why, text);
	assert_int_equal(e.code, 0);
}

/* Parse text that must be refused at line, with why containing needle. */
static void parse_bad(const char *text, unsigned line, const char *needle)
{
	struct config c = { .gw = (void *)1, .n = 99 };
	struct nsg_err e = { 0 };
	char what[64];
	int r = config_parse_string(text, "t.conf", &c, &e);

	if (r != -EINVAL)
		fail_msg("not refused with -EINVAL (%d, %zu gateways)\n---\n%s---", r, c.n, text);
	assert_int_equal(e.code, -EINVAL);
	snprintf(what, sizeof(what), "t.conf:%u", line);
	if (strcmp(e.what, what))
		fail_msg("error at \"%s\", expected \"%s\" (%s)\n---\n%s---", e.what, what, e.why, text);
	assert_contains(e.why, needle);
	/* Nothing is handed out on failure. */
	assert_null(c.gw);
	assert_int_equal(c.n, 0);
}

/* ------------------------------------------------------------ valid files */

/* The example of the documentation: every key, in file order, with the same
 * values the command line would give. */
static void test_full(void **state)
{
	static const char text[] = "# comment\n"
				   "[web]\n"
				   "publish = 8080:80\n"
				   "publish = 127.0.0.1:5432:5432\n"
				   "[db]\n"
				   "netns = /proc/4242/ns/net\n"
				   "subnet = 10.200.9.0/30\n"
				   "uplink = eth0\n"
				   "dns = 192.0.2.53,192.0.2.54\n"
				   "[box]\n"
				   "netns = 4243\n"
				   "dns = none\n"
				   "publish = 5000-5009:6000-6009/udp\n"
				   "no_host = no\n"
				   "[named]\n"
				   "netns = other\n"
				   "dns = auto\n"
				   "no_host = yes\n"
				   "firewall = none\n";
	struct config c;
	const struct config_gw *g;

	parse_ok(text, &c);
	assert_int_equal(c.n, 4);

	g = &c.gw[0];
	assert_string_equal(g->spec.name, "web");
	assert_string_equal(g->spec.host_ifname, "nsg-web");
	assert_string_equal(g->spec.ns_ifname, "eth0");
	assert_int_equal(g->line, 2);
	assert_int_equal(g->spec.netns_kind, GW_NETNS_OWN);
	assert_string_equal(g->spec.netns_path, "/run/netns/web");
	assert_false(g->spec.subnet_given);
	assert_string_equal(g->spec.uplink, "");
	assert_int_equal(g->spec.dns_mode, GW_DNS_AUTO);
	assert_int_equal(g->n_pubs, 2);
	assert_int_equal(g->pubs[0].host_addr.family, AF_UNSPEC);
	assert_int_equal(g->pubs[0].host_port, 8080);
	assert_int_equal(g->pubs[0].port, 80);
	assert_int_equal(g->pubs[0].count, 1);
	assert_int_equal(g->pubs[0].proto, IPPROTO_TCP);
	assert_int_equal(g->pubs[1].host_addr.family, AF_INET);
	assert_int_equal(g->pubs[1].host_addr.v4, A(127, 0, 0, 1));
	assert_int_equal(g->pubs[1].host_port, 5432);

	g = &c.gw[1];
	assert_string_equal(g->spec.name, "db");
	assert_int_equal(g->line, 5);
	assert_int_equal(g->spec.netns_kind, GW_NETNS_PATH);
	assert_string_equal(g->spec.netns_arg, "/proc/4242/ns/net");
	assert_string_equal(g->spec.netns_path, "/proc/4242/ns/net");
	assert_true(g->spec.subnet_given);
	assert_int_equal(g->spec.subnet.addr.v4, A(10, 200, 9, 0));
	assert_int_equal(g->spec.subnet.plen, 30);
	assert_string_equal(g->spec.uplink, "eth0");
	assert_int_equal(g->spec.dns_mode, GW_DNS_LIST);
	assert_int_equal(g->spec.n_dns, 2);
	assert_int_equal(g->spec.dns[0].v4, A(192, 0, 2, 53));
	assert_int_equal(g->spec.dns[1].v4, A(192, 0, 2, 54));
	assert_int_equal(g->n_pubs, 0);
	assert_null(g->pubs);

	g = &c.gw[2];
	assert_int_equal(g->spec.netns_kind, GW_NETNS_PID);
	assert_string_equal(g->spec.netns_path, "/proc/4243/ns/net");
	assert_int_equal(g->spec.dns_mode, GW_DNS_NONE);
	assert_int_equal(g->n_pubs, 1);
	assert_int_equal(g->pubs[0].proto, IPPROTO_UDP);
	assert_int_equal(g->pubs[0].count, 10);

	g = &c.gw[3];
	assert_int_equal(g->spec.netns_kind, GW_NETNS_NAMED);
	assert_string_equal(g->spec.netns_path, "/run/netns/other");
	assert_int_equal(g->spec.dns_mode, GW_DNS_AUTO);
	assert_true(g->spec.no_host);
	assert_false(c.gw[0].spec.no_host);   /* the default */
	assert_false(c.gw[2].spec.no_host);
	assert_int_equal(g->spec.firewall, GW_FIREWALL_NONE);
	assert_int_equal(c.gw[0].spec.firewall, GW_FIREWALL_AUTO);   /* the default */

	/* Where each key apply checks against the system was, and the file. */
	assert_string_equal(c.file, "t.conf");
	assert_non_null(c.gw[0].pub_lines);
	assert_int_equal(c.gw[0].pub_lines[0], 3);
	assert_int_equal(c.gw[0].pub_lines[1], 4);
	assert_int_equal(c.gw[0].netns_line, 0);
	assert_int_equal(c.gw[0].subnet_line, 0);
	assert_int_equal(c.gw[0].uplink_line, 0);
	assert_int_equal(c.gw[1].netns_line, 6);
	assert_int_equal(c.gw[1].subnet_line, 7);
	assert_int_equal(c.gw[1].uplink_line, 8);
	assert_null(c.gw[1].pub_lines);
	assert_int_equal(c.gw[2].netns_line, 11);
	assert_int_equal(c.gw[2].pub_lines[0], 13);
	assert_int_equal(c.gw[3].netns_line, 16);

	assert_ptr_equal(config_find(&c, "db"), &c.gw[1]);
	assert_null(config_find(&c, "nope"));
	config_free(&c);
	assert_null(c.file);
	assert_null(c.gw);
	assert_int_equal(c.n, 0);
	config_free(&c);    /* twice is harmless */
	config_free(NULL);
}

/* A section without keys is a gateway with every default, as `up NAME`;
 * a long name gets the shortened interface name. */
static void test_defaults(void **state)
{
	struct config c;
	char ifname[IF_NAMESIZE];

	parse_ok("[a]\n[a-rather-long-n]\n", &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.gw[0].spec.name, "a");
	assert_string_equal(c.gw[0].spec.host_ifname, "nsg-a");
	assert_string_equal(c.gw[0].spec.netns_path, "/run/netns/a");
	assert_string_equal(c.gw[0].spec.netns_arg, "");
	assert_int_equal(c.gw[0].spec.dns_mode, GW_DNS_AUTO);
	assert_int_equal(c.gw[0].n_pubs, 0);
	spec_host_ifname("a-rather-long-n", ifname);
	assert_string_equal(c.gw[1].spec.host_ifname, ifname);
	assert_int_equal(strlen(ifname), IF_NAMESIZE - 1);
	config_free(&c);
}

/* Empty files, blank lines and comments only: zero gateways, valid. */
static void test_empty(void **state)
{
	static const char *const texts[] = { "", "\n", "\n\n  \n\t\n", "# only\n; comments\n",
					     "\r\n\r\n", "   # indented comment", "\xef\xbb\xbf" };
	struct config c;

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		parse_ok(texts[i], &c);
		assert_int_equal(c.n, 0);
		assert_null(c.gw);
		config_free(&c);
	}
}

/* Comments: whole lines with # or ;, indented too, after a section header,
 * and inline after " ;" (inih's inline comments). */
static void test_comments(void **state)
{
	static const char text[] = "# top\n"
				   "; also a comment\n"
				   "[web] # the web one\n"
				   "  # indented\n"
				   "publish = 8080:80 ; inline\n"
				   "[db]    ; another\n"
				   "dns = 192.0.2.1\t; tab then comment\n";
	struct config c;

	parse_ok(text, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.gw[0].n_pubs, 1);
	assert_int_equal(c.gw[0].pubs[0].port, 80);
	assert_int_equal(c.gw[1].spec.n_dns, 1);
	assert_int_equal(c.gw[1].line, 6);
	config_free(&c);
}

/* CRLF line ends, blanks around keys and values, a byte order mark, a last
 * line without newline, "KEY: VALUE" (inih's configparser form). */
static void test_crlf_and_blanks(void **state)
{
	static const char text[] = "\xef\xbb\xbf# windows\r\n"
				   "[web]\r\n"
				   "\r\n"
				   "   publish   =   8080:80   \r\n"
				   "\tsubnet=10.200.9.0/30\r\n"
				   "uplink: eth0\r\n"
				   "[db]\r\n"
				   "dns = 192.0.2.53";
	struct config c;

	parse_ok(text, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.gw[0].line, 2);
	assert_int_equal(c.gw[0].n_pubs, 1);
	assert_int_equal(c.gw[0].pubs[0].host_port, 8080);
	assert_int_equal(c.gw[0].spec.subnet.addr.v4, A(10, 200, 9, 0));
	assert_string_equal(c.gw[0].spec.uplink, "eth0");
	assert_int_equal(c.gw[1].line, 7);
	assert_int_equal(c.gw[1].spec.dns[0].v4, A(192, 0, 2, 53));
	config_free(&c);
}

/* Indented keys are keys: inih's multi-line values (an indented line
 * continuing the previous value) are not in this format. */
static void test_indented_keys(void **state)
{
	struct config c;

	parse_ok("[a]\n  publish = 80:80\n  publish = 81:81\n    publish = 82:82\n", &c);
	assert_int_equal(c.gw[0].n_pubs, 3);
	assert_int_equal(c.gw[0].pubs[2].port, 82);
	config_free(&c);
	parse_bad("[a]\npublish = 80:80\n  81:81\n", 3, "unknown key \"81\"");
	parse_bad("[a]\nsubnet = 10.200.9.0/30\n  10.200.10.0/30\n", 3, "cannot parse");
}

/* Many publishes, and a thousand gateways with a subnet, a publish and
 * their own namespace each. */
static void test_many(void **state)
{
	size_t cap = 1000 * 100, len = 0;
	_cleanup_free_ char *text = malloc(cap);
	struct config c;

	assert_non_null(text);
	for (unsigned i = 0; i < 1000; i++)
		len += snprintf(text + len, cap - len,
				"[gw%u]\nsubnet = 10.%u.%u.0/30\npublish = %u:80\n\n", i,
				200 + i / 256, i % 256, 10000 + i);
	parse_ok(text, &c);
	assert_int_equal(c.n, 1000);
	for (unsigned i = 0; i < 1000; i++) {
		char name[16];

		snprintf(name, sizeof(name), "gw%u", i);
		assert_string_equal(c.gw[i].spec.name, name);
		assert_int_equal(c.gw[i].line, 4 * i + 1);
		assert_int_equal(c.gw[i].n_pubs, 1);
		assert_int_equal(c.gw[i].pubs[0].host_port, 10000 + i);
		assert_int_equal(c.gw[i].spec.subnet.addr.v4, A(10, 200 + i / 256, i % 256, 0));
	}
	config_free(&c);

	len = snprintf(text, cap, "[many]\n");
	for (unsigned i = 0; i < 2000; i++)
		len += snprintf(text + len, cap - len, "publish = %u:%u/%s\n", 1 + i / 2,
				1 + i / 2, i % 2 ? "udp" : "tcp");
	parse_ok(text, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.gw[0].n_pubs, 2000);
	assert_int_equal(c.gw[0].pubs[1999].proto, IPPROTO_UDP);
	config_free(&c);
}

/* ----------------------------------------------------------------- errors */

/* The message is "FILE:LINE" and a reason naming the key and value. */
static void test_error_format(void **state)
{
	static const char text[] = "# nsgate\n\n[web]\npublish = 8080:80\n\n[db]\n"
				   "subnet = 10.0.0.1/30\n";
	struct config c;
	struct nsg_err e = { 0 };

	assert_int_equal(config_parse_string(text, "nsgate.conf", &c, &e), -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_string_equal(e.what, "nsgate.conf:7");
	assert_string_equal(e.why, "subnet \"10.0.0.1/30\": host bits set (did you mean 10.0.0.0/30?)");
	assert_int_equal(e.kind, NSG_KIND_INPUT);

	/* Without an error to fill, and without a name. */
	assert_int_equal(config_parse_string(text, NULL, &c, NULL), -EINVAL);
	assert_int_equal(config_parse_string("[a b]\n", NULL, &c, &e), -EINVAL);
	assert_string_equal(e.what, "config:1");

	/* A long file name is cut at the front, not the line number. */
	char name[400];
	memset(name, 'd', sizeof(name));
	memcpy(name + sizeof(name) - 8, "/x.conf", 8);
	assert_int_equal(config_parse_string("\n\n[a b]\n", name, &c, &e), -EINVAL);
	assert_int_equal(strncmp(e.what, "...ddd", 6), 0);
	assert_contains(e.what, "ddd/x.conf:3");
	assert_true(strlen(e.what) < sizeof(e.what) - 1);
}

static void test_structure_errors(void **state)
{
	parse_bad("subnet = 10.200.9.0/30\n[a]\n", 1, "\"subnet\" outside a section");
	parse_bad("# c\n\npublish = 80:80\n", 3, "outside a section");
	parse_bad("[a]\nfoo = 1\n", 2, "unknown key \"foo\" (expected subnet, uplink, netns, dns, publish, no_host or firewall)");
	parse_bad("[a]\nSubnet = 10.200.9.0/30\n", 2, "unknown key \"Subnet\"");
	parse_bad("[a]\npublish 127.0.0.1:80:80\n", 2, "missing '='?");
	parse_bad("[a]\n= 80:80\n", 2, "missing key before '='");
	parse_bad("[a]\n[b]\n\n[a]\n", 4, "section [a] appears twice (first on line 1)");
	parse_bad("[a]\nsubnet = 10.200.9.0/30\nsubnet = 10.200.9.4/30\n", 3,
		  "\"subnet\" given twice in [a] (first on line 2)");
	parse_bad("[a]\nuplink = eth0\n[b]\nuplink = eth0\nuplink = eth1\n", 5, "\"uplink\" given twice");
	parse_bad("[a]\nnetns = 1\nnetns = 2\n", 3, "\"netns\" given twice");
	parse_bad("[a]\ndns = none\ndns = auto\n", 3, "\"dns\" given twice");
	/* A key twice is refused even when the first value was the same. */
	parse_bad("[a]\ndns = none\ndns = none\n", 3, "given twice");
}

/* Lines inih cannot parse, and section headers it would take too kindly. */
static void test_syntax_errors(void **state)
{
	parse_bad("[web\npublish = 80:80\n", 1, "section header without closing ']'");
	parse_bad("# ok\n[web] publish = 80:80\n", 2, "unexpected text after ']': \"publish = 80:80\"");
	parse_bad("[]\nsubnet = 10.200.9.0/30\n", 1, "section []: must not be empty");
	parse_bad("[a b]\n", 1, "section [a b]: character ' ' not allowed");
	parse_bad("[ web ]\n", 1, "character ' ' not allowed");
	parse_bad("[web~1]\n", 1, "'~'");
	parse_bad("[..]\n", 1, "not a usable name");
	parse_bad("[abcdefghijklmnop]\n", 1, "section [abcdefghijklmnop]: longer than 15 bytes");
	parse_bad("[a]\njust some words\n", 2,
		  "cannot parse \"just some words\" (expected [NAME], KEY = VALUE or a # comment)");
	parse_bad("[a]\npublish\n", 2, "cannot parse \"publish\"");
	parse_bad("[a]\r\nsubnet\r\n", 2, "cannot parse \"subnet\" (");
	parse_bad("[a]\n\n\n\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 5,
		  "cannot parse \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
}

/* The first error in the file is the one reported, whoever found it. */
static void test_first_error(void **state)
{
	/* inih's (line 2) before ours (line 4) */
	parse_bad("[a]\nnonsense\n\nsubnet = bad\n", 2, "cannot parse");
	/* ours (line 2) before inih's (line 3) */
	parse_bad("[a]\nsubnet = bad\nnonsense\n", 2, "subnet \"bad\"");
	/* ours in a section header before inih's */
	parse_bad("[a b]\nnonsense\n", 1, "section [a b]");
	/* a bad value before a conflict across sections */
	parse_bad("[a]\npublish = 80:80\n[b]\npublish = 80:80\nsubnet = 10.0.0.1/30\n", 5,
		  "host bits set");
	/* of the checks across sections, the earliest line */
	parse_bad("[a]\nsubnet = 10.200.9.0/30\npublish = 80:80\n"
		  "[b]\npublish = 80:80\nsubnet = 10.200.9.0/29\n",
		  5, "publish \"80:80/tcp\"");
	parse_bad("[a]\nsubnet = 10.200.9.0/30\npublish = 80:80\n"
		  "[b]\nsubnet = 10.200.9.0/29\npublish = 80:80\n",
		  5, "subnet \"10.200.9.0/29\"");
	parse_bad("[a]\nnetns = /x/y\npublish = 80:80\n"
		  "[b]\nnetns = /x/y\npublish = 80:80\n",
		  5, "netns \"/x/y\"");
}

/* Values are checked by the command line's own spec_* functions, and the
 * error names the key (not "--key") and the value. */
static void test_bad_values(void **state)
{
	parse_bad("[a]\nsubnet = 10.0.0.0\n", 2, "subnet \"10.0.0.0\": expected an IPv4 prefix");
	parse_bad("[a]\nsubnet = 10.0.0.0/31\n", 2, "prefix length must be 8 to 30");
	parse_bad("[a]\nsubnet = fd00::/64\n", 2, "subnet \"fd00::/64\": expected an IPv4 prefix");
	parse_bad("[a]\nuplink = eth0/1\n", 2, "uplink \"eth0/1\": is not a valid interface name");
	parse_bad("[a]\nuplink = a-very-long-ifname\n", 2, "uplink \"a-very-long-ifname\": interface names have 1 to 15 bytes");
	parse_bad("[a]\nnetns = rel/path\n", 2, "netns \"rel/path\": a namespace path must be absolute");
	parse_bad("[a]\nnetns = 0\n", 2, "is not a process id");
	parse_bad("[a]\nnetns = a b\n", 2, "netns \"a b\": character ' ' not allowed");
	parse_bad("[a]\ndns = 1.2.3\n", 2, "dns \"1.2.3\": expected auto, none or IP addresses");
	parse_bad("[a]\ndns = fe80::53\n", 2, "dns \"fe80::53\": a link-local address");
	parse_bad("[a]\ndns = 1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4\n", 2, "at most 3 nameservers");
	parse_bad("[a]\ndns = 1.1.1.1,\n", 2, "dns \"1.1.1.1,\"");
	parse_bad("[a]\npublish = 80\n", 2, "publish \"80\": expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]");
	parse_bad("[a]\npublish = 0:80\n", 2, "host port \"0\": ports are 1 to 65535");
	parse_bad("[a]\npublish = 80:80/icmp\n", 2, "unknown protocol");
	parse_bad("[a]\npublish = 80-81:80\n", 2, "ranges differ in length");
	parse_bad("[a]\npublish = 8080:80 8081:81\n", 2, "publish \"8080:80 8081:81\"");
	parse_bad("[a]\npublish = 8080:80,8081:81\n", 2, "publish \"8080:80,8081:81\"");
	/* '#' only starts a comment at the start of a line: say so. */
	parse_bad("[a]\nsubnet = 10.200.9.0/30 # mine\n", 2,
		  "subnet \"10.200.9.0/30 # mine\": expected an IPv4 prefix such as 10.200.7.0/30 "
		  "('#' starts a comment only at the start of a line)");
	/* Empty values, with or without blanks or a comment. */
	parse_bad("[a]\nsubnet =\n", 2, "subnet: empty value");
	parse_bad("[a]\npublish =   \n", 2, "publish: empty value");
	parse_bad("[a]\ndns = ; nothing\n", 2, "dns: empty value");
	parse_bad("[a]\nnetns=\r\n", 2, "netns: empty value");
	parse_bad("[a]\nuplink =\n", 2, "uplink: empty value");
	parse_bad("[a]\nno_host = 1\n", 2, "no_host \"1\": expected yes or no");
	parse_bad("[a]\nfirewall = off\n", 2, "firewall \"off\": expected auto or none");
	parse_bad("[a]\nfirewall = auto\nfirewall = none\n", 3, "\"firewall\" given twice in [a]");
	parse_bad("[a]\nno_host = YES\n", 2, "no_host \"YES\": expected yes or no");
	parse_bad("[a]\nno_host = yes\nno_host = no\n", 3, "\"no_host\" given twice in [a]");
}

/* Conflicts inside one file: ports, subnets and namespaces. */
static void test_conflicts(void **state)
{
	struct config c;

	/* Ports: across sections, within one, ranges, addresses. */
	parse_bad("[a]\npublish = 8080:80\n[b]\npublish = 8080:81\n", 4,
		  "publish \"8080:81/tcp\": overlaps \"8080:80/tcp\" of [a] (line 2)");
	parse_bad("[a]\npublish = 8000-8100:8000-8100\n[b]\n\npublish = 127.0.0.1:8100:80\n", 5,
		  "overlaps \"8000-8100:8000-8100/tcp\" of [a] (line 2)");
	parse_bad("[a]\npublish = 80:80\npublish = 81:81\npublish = 80:8080\n", 4,
		  "publish \"80:8080/tcp\": overlaps \"80:80/tcp\" on line 2");
	parse_bad("[a]\npublish = 53:53/udp\n[b]\npublish = 53:53/udp\n", 4, "of [a]");
	/* Different protocols or different host addresses do not meet. */
	parse_ok("[a]\npublish = 53:53/udp\npublish = 53:53\n[b]\npublish = 53:53/sctp\n"
		 "publish = 127.0.0.1:80:80\n[c]\npublish = 127.0.0.2:80:80\n",
		 &c);
	assert_int_equal(c.n, 3);
	config_free(&c);

	/* Given subnets; allocated ones are chosen at apply time. */
	parse_bad("[a]\nsubnet = 10.200.0.0/16\n[b]\nsubnet = 10.200.9.0/30\n", 4,
		  "subnet \"10.200.9.0/30\": overlaps 10.200.0.0/16 of [a] (line 2)");
	parse_bad("[a]\nsubnet = 10.200.9.0/30\n[b]\n[c]\nsubnet = 10.200.9.0/30\n", 5, "of [a]");
	parse_ok("[a]\nsubnet = 10.200.9.0/30\n[b]\nsubnet = 10.200.9.4/30\n[c]\n[d]\n", &c);
	config_free(&c);

	/* Namespaces: the same path, through a pid, a path or a name. */
	parse_bad("[a]\nnetns = 4242\n[b]\nnetns = /proc/4242/ns/net\n", 4,
		  "netns \"/proc/4242/ns/net\": /proc/4242/ns/net is also the namespace of [a] (line 2)");
	parse_bad("[a]\nnetns = shared\n[b]\nnetns = shared\n", 4, "/run/netns/shared");
	/* [b]'s own namespace is the one [a] attaches by name. */
	parse_bad("[a]\nnetns = b\n[b]\n", 3,
		  "section [b]: its namespace /run/netns/b is also the one of [a] (line 2)");
	parse_bad("[b]\n[a]\nnetns = b\n", 3, "netns \"b\": /run/netns/b is also the namespace of [b] (line 1)");
	parse_ok("[a]\nnetns = 1\n[b]\nnetns = 2\n[c]\nnetns = /run/netns/x\n[d]\nnetns = y\n", &c);
	assert_int_equal(c.n, 4);
	config_free(&c);
}

/* Lines longer than inih's buffer are refused, not split into two lines. */
static void test_long_line(void **state)
{
	char text[1024], path[512];
	struct config c;
	size_t n;

	/* The longest a line may be (inih's INI_MAX_LINE less the NUL). */
	memset(path, 'p', sizeof(path));
	n = 199 - strlen("netns = /");
	snprintf(text, sizeof(text), "[a]\nnetns = /%.*s\n", (int)n, path);
	parse_ok(text, &c);
	assert_int_equal(strlen(c.gw[0].spec.netns_path), n + 1);
	config_free(&c);
	/* Leading blanks and a CR do not count. */
	snprintf(text, sizeof(text), "[a]\n      netns = /%.*s\r\n", (int)n, path);
	parse_ok(text, &c);
	config_free(&c);

	snprintf(text, sizeof(text), "[a]\nnetns = /%.*s\n", (int)n + 1, path);
	parse_bad(text, 2, "line longer than 199 bytes");
	snprintf(text, sizeof(text), "[a]\n# %.*s\n[b]\n", 400, path);
	parse_bad(text, 2, "line longer than");
	/* The tail of a long line is not taken as a line of its own. */
	snprintf(text, sizeof(text), "[a]\n#%.*spublish = 80:80\n", 200, path);
	parse_bad(text, 2, "line longer than");
}

/* ----------------------------------------------------------------- files */

static char tmpdir[] = "/tmp/nsgate-test-config.XXXXXX";

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_file(void **state)
{
	static const char text[] = "[web]\r\npublish = 8080:80\r\n[db]\r\nsubnet = 10.200.9.0/30\r\n";
	static const char nul[] = "[web]\npublish = 8080:80\n[d\0b]\n";
	char path[sizeof(tmpdir) + 32];
	struct config c;
	struct nsg_err e = { 0 };

	assert_non_null(mkdtemp(tmpdir));

	snprintf(path, sizeof(path), "%s/nsgate.conf", tmpdir);
	write_file(path, text, strlen(text));
	assert_int_equal(config_parse_file(path, &c, &e), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.gw[0].pubs[0].host_port, 8080);
	assert_int_equal(c.gw[1].spec.subnet.plen, 30);
	config_free(&c);

	/* Errors name the path as given. */
	write_file(path, "[web]\nbogus = 1\n", 16);
	assert_int_equal(config_parse_file(path, &c, &e), -EINVAL);
	assert_contains(e.what, "/nsgate.conf:2");
	assert_int_equal(strncmp(e.what, tmpdir, strlen(tmpdir)), 0);
	assert_contains(e.why, "unknown key \"bogus\"");
	assert_null(c.gw);

	/* A NUL byte would silently end the text for inih. */
	write_file(path, nul, sizeof(nul) - 1);
	assert_int_equal(config_parse_file(path, &c, &e), -EINVAL);
	assert_contains(e.what, "nsgate.conf:3");
	assert_contains(e.why, "NUL byte");

	/* Empty file. */
	write_file(path, "", 0);
	assert_int_equal(config_parse_file(path, &c, &e), 0);
	assert_int_equal(c.n, 0);
	config_free(&c);

	/* Not there, a directory: -errno naming the path, strerror as reason. */
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	e = (struct nsg_err){ 0 };
	assert_int_equal(config_parse_file(path, &c, &e), -ENOENT);
	assert_contains(e.what, "config file \"");
	assert_contains(e.what, path);
	assert_string_equal(nsg_err_reason(&e), strerror(ENOENT));
	assert_int_equal(e.kind, NSG_KIND_SYSTEM);
	assert_int_equal(config_parse_file(tmpdir, &c, &e), -EISDIR);
	assert_null(c.gw);

	snprintf(path, sizeof(path), "%s/nsgate.conf", tmpdir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(tmpdir), 0);
}

/* conf/nsgate.conf, the installed example, is valid as shipped (every
 * gateway commented out) and with its examples uncommented ("#[", "#key"). */
static void test_example(void **state)
{
	static const char self[] = "tests/unit/test-config.c";
	char path[4096];
	struct config c;
	struct nsg_err e = { 0 };
	size_t len = strlen(__FILE__);
	_cleanup_free_ char *text = NULL;
	char *out;
	FILE *f;
	long size;

	if (len < sizeof(self) || strcmp(__FILE__ + len - strlen(self), self) || __FILE__[0] != '/')
		skip();
	snprintf(path, sizeof(path), "%.*sconf/nsgate.conf", (int)(len - strlen(self)), __FILE__);
	if (config_parse_file(path, &c, &e) != 0)
		fail_msg("%s: %s", e.what, nsg_err_reason(&e));
	assert_int_equal(c.n, 0);
	config_free(&c);

	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	text = calloc(1, size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, size, f), size);
	fclose(f);
	/* Uncomment in place: drop the '#' of lines "#[..." and "#key...". */
	out = text;
	for (const char *in = text; *in;) {
		const char *nl = strchr(in, '\n'), *from = in;
		size_t n = nl ? (size_t)(nl - in + 1) : strlen(in);

		if (in[0] == '#' && (in[1] == '[' || (in[1] >= 'a' && in[1] <= 'z')))
			from++;
		memmove(out, from, n - (from - in));
		out += n - (from - in);
		in += n;
	}
	*out = '\0';
	if (config_parse_string(text, "example", &c, &e) != 0)
		fail_msg("%s: %s", e.what, nsg_err_reason(&e));
	assert_int_equal(c.n, 5);
	assert_non_null(config_find(&c, "web"));
	assert_true(config_find(&c, "untrusted")->spec.no_host);
	assert_false(config_find(&c, "web")->spec.no_host);
	assert_int_equal(config_find(&c, "web")->n_pubs, 2);
	assert_string_equal(config_find(&c, "builder")->spec.uplink, "eth0");
	assert_int_equal(config_find(&c, "media")->spec.dns_mode, GW_DNS_NONE);
	assert_string_equal(config_find(&c, "sandbox")->spec.netns_path, "/run/netns/sandbox");
	config_free(&c);
}

/* [network NET] sections, and the network key of a gateway. */
static void test_networks(void **state)
{
	struct config c = { 0 };
	char buf[IP_PREFIX_STRLEN];

	(void)state;
	parse_ok("[network lan]\nsubnet = 10.88.0.0/24\nisolated = yes\n[web]\nnetwork = lan\n"
		 "[network other]\n", &c);
	assert_int_equal(c.n_nets, 2);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.nets[0].name, "lan");
	assert_true(c.nets[0].subnet_given && c.nets[0].isolated);
	assert_string_equal(ip_prefix_str(&c.nets[0].subnet, buf), "10.88.0.0/24");
	assert_int_equal(c.nets[0].line, 1);
	assert_string_equal(c.nets[1].name, "other");
	assert_false(c.nets[1].subnet_given || c.nets[1].isolated);
	assert_string_equal(c.gw[0].spec.network, "lan");
	config_free(&c);
	parse_ok("[network six]\nipv6 = off\n[network given]\nsubnet6 = fd00:1:2:3::/64\n", &c);
	assert_int_equal(c.nets[0].ipv6, GW_IPV6_OFF);
	assert_false(c.nets[0].subnet6_given);
	assert_true(c.nets[1].subnet6_given && c.nets[1].ipv6 == GW_IPV6_AUTO);
	assert_string_equal(ip_prefix_str(&c.nets[1].subnet6, buf), "fd00:1:2:3::/64");
	config_free(&c);
	parse_bad("[network lan]\nipv6 = maybe\n", 2, "expected auto, on or off");
	parse_bad("[network lan]\nsubnet6 = fd00:1:2:3::/48\n", 2, "/64");
	parse_bad("[network lan]\nipv6 = on\nipv6 = off\n", 3, "given twice");
	parse_bad("[network lan]\nuplink = eth0\n", 2, "unknown key \"uplink\" in [network lan]");
	parse_bad("[network lan]\nisolated = maybe\n", 2, "expected yes or no");
	parse_bad("[network lan]\nsubnet = 10.88.0.0/30\n", 2, "16 to 29");
	parse_bad("[network lan]\nisolated = no\nisolated = yes\n", 3, "given twice");
	parse_bad("[network lan]\n[network lan]\n", 2, "appears twice");
	parse_bad("[network -x]\n", 1, "must not start with '-'");
	parse_bad("[web]\nnetwork = lan\nsubnet = 10.9.0.0/30\n", 3, "not for a member of network");
	parse_bad("[web]\nnetwork = a b\n", 2, "not allowed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_crlf_and_blanks),
		cmocka_unit_test(test_indented_keys),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_first_error),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
