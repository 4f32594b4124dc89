/* SPDX-License-Identifier: MIT */
/* spec: checks on names, interfaces, --netns, --dns, --subnet and numbers.
 * Pure parsing: runs anywhere, needs no lab and no privileges. */
#include "unit.h"

#include <stdio.h>

#include "nsgate/spec.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* ------------------------------------------------------------------ names */

/* Each of the n names of ok passes check and leaves the error untouched. */
static void all_pass(int (*check)(const char *, struct nsg_err *), const char *const *ok, size_t n)
{
	struct nsg_err e = { 0 };

	for (size_t i = 0; i < n; i++)
		if (check(ok[i], &e) != 0)
			fail_msg("\"%s\" refused: %s", ok[i], e.why);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.what, "");
}

/* A value a check must refuse, the errno and part of the reason it gives. */
struct refusal {
	const char *arg;
	int err;
	const char *why;  /* part of the reason */
};

/* Each of the n values of bad: check returns its err and fills e with it,
 * a what containing what and a why containing its why. */
static void all_refused(int (*check)(const char *, struct nsg_err *), const struct refusal *bad,
			size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		struct nsg_err e = { 0 };

		if (check(bad[i].arg, &e) != bad[i].err)
			fail_msg("\"%s\" not refused with %d", bad[i].arg, bad[i].err);
		assert_int_equal(e.code, bad[i].err);
		assert_contains(e.what, what);
		assert_contains(e.why, bad[i].why);
	}
}

/* Valid names, up to 15 bytes, pass and leave the error untouched. */
static void test_name_ok(void **state)
{
	static const char *const ok[] = { "web", "a.b-c_1", "A", "123456789012345", "..a", "a..",
					  "x-", "a-b", "_", "_-x", ".-x" };

	all_pass(spec_name_check, ok, ARRAY_SIZE(ok));
}

/* Empty, 16 bytes, "." and "..", a leading '-' and foreign characters are refused with
 * the right code and a filled what and why. */
/* Names an older nsgate accepted are still recognised, never made anew. */
static void test_name_known(void **state)
{
	(void)state;
	assert_true(spec_name_known("web"));
	assert_true(spec_name_known("-x"));
	assert_true(spec_name_known("-"));
	assert_int_equal(spec_name_check("-x", NULL), -EINVAL);
	assert_false(spec_name_known(""));
	assert_false(spec_name_known("a/b"));
	assert_false(spec_name_known(".."));
	assert_false(spec_name_known("-234567890123456"));
}

static void test_name_bad(void **state)
{
	static const struct refusal bad[] = {
		{ "", -EINVAL, "empty" },
		{ "1234567890123456", -ENAMETOOLONG, "15" },
		{ "a-very-long-name-indeed", -ENAMETOOLONG, "15" },
		{ ".", -EINVAL, "name" },
		{ "..", -EINVAL, "name" },
		{ "a/b", -EINVAL, "'/'" },
		{ "a b", -EINVAL, "' '" },
		{ "\xc3\xa9", -EINVAL, "not allowed" },
		{ "web~1", -EINVAL, "'~'" },
		{ "a:b", -EINVAL, "':'" },
		{ "a\nb", -EINVAL, "not allowed" },
		/* exec -x and ip netns exec -x would read them as options. */
		{ "-x", -EINVAL, "must not start with '-'" },
		{ "-", -EINVAL, "must not start with '-'" },
		{ "--", -EINVAL, "must not start with '-'" },
		{ "--help", -EINVAL, "must not start with '-'" },
	};

	all_refused(spec_name_check, bad, ARRAY_SIZE(bad), "name \"");
	/* And without an error to fill. */
	assert_int_equal(spec_name_check("a b", NULL), -EINVAL);
}

/* ------------------------------------------------------------- hostnames */

/* Host names the kernel and a resolver take, up to 64 bytes, pass. */
static void test_hostname_ok(void **state)
{
	static const char *const ok[] = {
		"box", "a", "B0x-1", "web.example.org", "1", "0-0",
		/* a label of 63 bytes; 64 bytes in all */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	};

	assert_int_equal(strlen(ok[ARRAY_SIZE(ok) - 2]), 63);
	assert_int_equal(strlen(ok[ARRAY_SIZE(ok) - 1]), 64);
	all_pass(spec_hostname_check, ok, ARRAY_SIZE(ok));
}

/* Empty, past 64 bytes, empty or over-long labels, a '-' at a label's edge
 * and anything but letters, digits, '-' and '.' are refused, with a reason. */
static void test_hostname_bad(void **state)
{
	static const struct refusal bad[] = {
		{ "", -EINVAL, "empty" },
		/* 65 bytes; a label of 64 */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b", -ENAMETOOLONG, "64 bytes" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -EINVAL, "63" },
		{ ".", -EINVAL, "empty label" },
		{ ".box", -EINVAL, "empty label" },
		{ "box.", -EINVAL, "empty label" },
		{ "a..b", -EINVAL, "empty label" },
		{ "-box", -EINVAL, "'-'" },
		{ "box-", -EINVAL, "'-'" },
		{ "a.-b", -EINVAL, "'-'" },
		{ "my_box", -EINVAL, "'_'" },
		{ "a b", -EINVAL, "byte 0x20" },
		{ "a/b", -EINVAL, "'/'" },
		{ "a\nb", -EINVAL, "byte 0x0a" },
		{ "\xc3\xa9", -EINVAL, "byte 0xc3" },
	};

	all_refused(spec_hostname_check, bad, ARRAY_SIZE(bad), "--hostname \"");
	assert_int_equal(spec_hostname_check("a_b", NULL), -EINVAL);
}

/* ------------------------------------------------------- host interfaces */

/* Short names are used as they are, up to exactly 15 bytes. */
static void test_host_ifname_short(void **state)
{
	char ifname[IF_NAMESIZE];

	spec_host_ifname("web", ifname);
	assert_string_equal(ifname, "nsg-web");
	spec_host_ifname("abcdefghijk", ifname);
	assert_string_equal(ifname, "nsg-abcdefghijk");
	assert_int_equal(strlen(ifname), IF_NAMESIZE - 1);
}

/* Longer names are shortened to exactly 15 bytes, stably, differently for
 * names sharing a prefix, and never to something an unshortened name gives. */
static void test_host_ifname_long(void **state)
{
	static const char *const names[] = { "abcdefghijkl", "abcdefghijkm", "abcdefghijklmno",
					     "abcdefghijklmnp", "abcdeXghijkl" };
	char got[ARRAY_SIZE(names)][IF_NAMESIZE], again[IF_NAMESIZE];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		spec_host_ifname(names[i], got[i]);
		assert_int_equal(strlen(got[i]), IF_NAMESIZE - 1);
		assert_memory_equal(got[i], "nsg-abcde", 9);
		assert_contains(got[i], "~");
		/* What follows "nsg-" is no valid name, so no short name maps here. */
		assert_int_not_equal(spec_name_check(got[i] + 4, NULL), 0);
		assert_int_equal(spec_ifname_check(got[i], NULL), 0);
		spec_host_ifname(names[i], again);
		assert_string_equal(again, got[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(got[i], got[j]))
				fail_msg("\"%s\" and \"%s\" both give %s", names[i], names[j], got[i]);
	}
}

/* Every name of every length yields a valid interface name. */
static void test_host_ifname_lengths(void **state)
{
	char name[GW_NAME_MAX + 1], ifname[IF_NAMESIZE];

	for (size_t len = 1; len <= GW_NAME_MAX; len++) {
		memset(name, 'n', len);
		name[len] = '\0';
		spec_host_ifname(name, ifname);
		assert_int_equal(spec_ifname_check(ifname, NULL), 0);
		assert_true(strlen(ifname) <= IF_NAMESIZE - 1);
		assert_int_equal(strncmp(ifname, GW_IFNAME_PREFIX, 4), 0);
		if (len <= 11)
			assert_string_equal(ifname + 4, name);
	}
}

/* What a spec starts as: an own namespace, DNS auto, the namespace side
 * named eth0, nothing else. */
static void test_init(void **state)
{
	struct gw_spec s;

	memset(&s, 0x5a, sizeof(s));
	spec_init(&s);
	assert_int_equal(s.netns_kind, GW_NETNS_OWN);
	assert_int_equal(s.dns_mode, GW_DNS_AUTO);
	assert_string_equal(s.ns_ifname, GW_NS_IFNAME_DEFAULT);
	assert_string_equal(s.ns_ifname, "eth0");
	assert_int_equal(spec_ifname_check(s.ns_ifname, NULL), 0);
	assert_string_equal(s.name, "");
	assert_string_equal(s.host_ifname, "");
	assert_string_equal(s.uplink, "");
	assert_false(s.subnet_given);
	assert_int_equal(s.n_dns, 0);
}

/* Interface names as the kernel takes them, for --uplink. */
/* Further networks' ports: "nsg-=K" + name, shortened past 15 bytes as
 * spec_host_ifname does, never equal to a gateway's or a bridge's. */
static void test_net_port_ifname(void **state)
{
	struct gw_spec s;
	char port[IF_NAMESIZE];

	(void)state;
	spec_net_port_ifname("both", 0, port);
	assert_string_equal(port, "nsg-=1both");
	spec_net_port_ifname("a-very-long-nam", 2, port);
	assert_int_equal(strlen(port), 15);
	assert_memory_equal(port, "nsg-=3a-v~", 10);
	spec_init(&s);
	snprintf(s.name, sizeof(s.name), "web");
	for (unsigned i = 0; i < GW_NETS_MAX; i++) {
		char net[8];

		snprintf(net, sizeof(net), "n%u", i);
		assert_int_equal(spec_network_add(&s, net, NULL), 0);
	}
	assert_int_equal(spec_network_add(&s, "n9", NULL), -EINVAL);
	assert_int_equal(spec_network_add(&s, "n0", NULL), -EINVAL);
	assert_int_equal(spec_network_add(&s, "-bad", NULL), -EINVAL);
	assert_string_equal(s.network, "n0");
	assert_int_equal(s.n_nets_more, GW_NETS_MAX - 1);
	assert_string_equal(s.nets_more[2].port, "nsg-=3web");
	assert_string_equal(s.nets_more[2].ns_ifname, "eth3");
}

static void test_ifname_check(void **state)
{
	static const char *const ok[] = { "eth0", "wlp0s20f3", "enp0s31f6.100", "x",
					  "123456789012345", "br-lan_1" };
	static const char *const bad[] = { "", "1234567890123456", ".", "..", "a/b", "a:b",
					   "a b", "a\tb", "a\nb" };
	struct nsg_err e = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (spec_ifname_check(ok[i], NULL) != 0)
			fail_msg("\"%s\" refused", ok[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&e, 0, sizeof(e));
		if (spec_ifname_check(bad[i], &e) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(e.code, -EINVAL);
		assert_contains(e.what, "interface \"");
		assert_true(e.why[0] != '\0');
	}
}

/* ------------------------------------------------------------------ netns */

/* A decimal is a PID, opened through /proc. */
static void test_netns_pid(void **state)
{
	struct gw_spec s = { 0 };

	assert_int_equal(spec_netns_parse("1234", &s, NULL), 0);
	assert_int_equal(s.netns_kind, GW_NETNS_PID);
	assert_string_equal(s.netns_path, "/proc/1234/ns/net");
	assert_string_equal(s.netns_arg, "1234");
	assert_int_equal(spec_netns_parse("2147483647", &s, NULL), 0);
	assert_string_equal(s.netns_path, "/proc/2147483647/ns/net");
}

/* PID 0 is no process. */
static void test_netns_pid_zero(void **state)
{
	struct gw_spec s = { 0 };
	struct nsg_err e = { 0 };

	assert_int_equal(spec_netns_parse("0", &s, &e), -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_contains(e.what, "--netns \"0\"");
	assert_true(e.why[0] != '\0');
}

/* Anything with a '/' is a path, kept as given. */
static void test_netns_path(void **state)
{
	struct gw_spec s = { 0 };

	assert_int_equal(spec_netns_parse("/var/run/netns/x", &s, NULL), 0);
	assert_int_equal(s.netns_kind, GW_NETNS_PATH);
	assert_string_equal(s.netns_path, "/var/run/netns/x");
	assert_string_equal(s.netns_arg, "/var/run/netns/x");
	assert_int_equal(spec_netns_parse("/proc/1/ns/net", &s, NULL), 0);
	assert_int_equal(s.netns_kind, GW_NETNS_PATH);
}

/* Anything else is an `ip netns` name under /run/netns. */
static void test_netns_named(void **state)
{
	struct gw_spec s = { 0 };

	assert_int_equal(spec_netns_parse("other", &s, NULL), 0);
	assert_int_equal(s.netns_kind, GW_NETNS_NAMED);
	assert_string_equal(s.netns_path, "/run/netns/other");
	assert_string_equal(s.netns_arg, "other");
}

/* Empty, spaces and what could leave /run/netns are refused, naming --netns. */
static void test_netns_bad(void **state)
{
	static const char *const bad[] = { "", "a b", ".", "..", "x\ny" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gw_spec s = { 0 };
		struct nsg_err e = { 0 };

		if (spec_netns_parse(bad[i], &s, &e) >= 0)
			fail_msg("\"%s\" accepted as kind %d path %s", bad[i], s.netns_kind,
				 s.netns_path);
		assert_contains(e.what, "--netns");
		assert_true(e.why[0] != '\0');
		assert_string_equal(s.netns_path, "");
	}
}

/* "../x" names no namespace under /run/netns and is relative: it is taken
 * as a PATH kept verbatim, so its meaning depends on the working directory of
 * each later nsgate run (same_request() compares the string, not the file). */
static void test_netns_relative(void **state)
{
	static const char *const rel[] = { "../x", "./ns", "netns/x" };
	bool ok = true;

	for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
		struct gw_spec s = { 0 };

		if (spec_netns_parse(rel[i], &s, NULL) == 0 && s.netns_path[0] != '/')
			ok = false;
	}
	assert_true(ok);
}

/* A path of GW_NETNS_PATH_MAX - 1 bytes is taken whole; one byte more is
 * refused with its reason, not cut. */
static void test_netns_too_long(void **state)
{
	struct gw_spec s = { 0 };
	struct nsg_err e = { 0 };
	char arg[GW_NETNS_PATH_MAX + 1];

	memset(arg, 'a', sizeof(arg));
	arg[0] = '/';
	arg[GW_NETNS_PATH_MAX - 1] = '\0';
	assert_int_equal(spec_netns_parse(arg, &s, NULL), 0);
	assert_int_equal(strlen(s.netns_path), GW_NETNS_PATH_MAX - 1);
	arg[GW_NETNS_PATH_MAX - 1] = 'a';
	arg[GW_NETNS_PATH_MAX] = '\0';
	assert_int_equal(spec_netns_parse(arg, &s, &e), -ENAMETOOLONG);
	assert_non_null(strstr(e.why, "511 bytes"));
}

/* -------------------------------------------------------------------- dns */

/* auto and none, with no servers. */
static void test_dns_modes(void **state)
{
	struct gw_spec s = { .n_dns = 2 };

	assert_int_equal(spec_dns_parse("auto", &s, NULL), 0);
	assert_int_equal(s.dns_mode, GW_DNS_AUTO);
	assert_int_equal(s.n_dns, 0);
	assert_int_equal(spec_dns_parse("none", &s, NULL), 0);
	assert_int_equal(s.dns_mode, GW_DNS_NONE);
	assert_int_equal(s.n_dns, 0);
}

/* A list of up to three IPv4 addresses, in order. */
static void test_dns_list(void **state)
{
	struct gw_spec s = { 0 };

	assert_int_equal(spec_dns_parse("1.1.1.1,8.8.8.8", &s, NULL), 0);
	assert_int_equal(s.dns_mode, GW_DNS_LIST);
	assert_int_equal(s.n_dns, 2);
	assert_int_equal(s.dns[0].family, AF_INET);
	assert_int_equal(s.dns[0].v4, A(1, 1, 1, 1));
	assert_int_equal(s.dns[1].v4, A(8, 8, 8, 8));
	assert_int_equal(spec_dns_parse("9.9.9.9", &s, NULL), 0);
	assert_int_equal(s.n_dns, 1);
	assert_int_equal(s.dns[0].v4, A(9, 9, 9, 9));
	assert_int_equal(spec_dns_parse("1.0.0.1,1.1.1.1,8.8.4.4", &s, NULL), 0);
	assert_int_equal(s.n_dns, 3);
	assert_int_equal(s.dns[2].v4, A(8, 8, 4, 4));
}

/* IPv6 servers, mixed with IPv4 ones in any order; ::1 like 127.0.0.1
 * (a resolver inside the namespace). */
static void test_dns_v6(void **state)
{
	struct gw_spec s = { 0 };
	struct ip_addr want;

	assert_int_equal(spec_dns_parse("1.1.1.1,2001:4860:4860::8888", &s, NULL), 0);
	assert_int_equal(s.dns_mode, GW_DNS_LIST);
	assert_int_equal(s.n_dns, 2);
	assert_int_equal(s.dns[0].family, AF_INET);
	assert_int_equal(ip_addr_parse("2001:4860:4860::8888", AF_INET6, &want), 0);
	assert_true(ip_addr_eq(&s.dns[1], &want));
	assert_int_equal(spec_dns_parse("2001:db8::53,192.0.2.53,::1", &s, NULL), 0);
	assert_int_equal(s.n_dns, 3);
	assert_int_equal(s.dns[0].family, AF_INET6);
	assert_int_equal(s.dns[1].family, AF_INET);
	assert_int_equal(ip_addr_parse("::1", AF_INET6, &want), 0);
	assert_true(ip_addr_eq(&s.dns[2], &want));
	assert_int_equal(spec_dns_parse("127.0.0.1", &s, NULL), 0);
	assert_int_equal(spec_dns_parse("2001:db8::53,2001:db8::54,2001:db8::55,2001:db8::56", &s, NULL),
			 -EINVAL);
}

/* Link-local servers (no route from the namespace) and IPv4-mapped ones
 * are refused, each with its reason. */
static void test_dns_v6_refused_why(void **state)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "fe80::1", "link-local" },
		{ "1.1.1.1,febf::53", "link-local" },
		{ "::ffff:192.0.2.53", "IPv4-mapped" },
		{ "fe80::1%eth0", "expected auto, none or IP addresses" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gw_spec s = { .dns_mode = GW_DNS_AUTO };
		struct nsg_err e = { 0 };

		assert_int_equal(spec_dns_parse(bad[i].arg, &s, &e), -EINVAL);
		assert_int_equal(s.dns_mode, GW_DNS_AUTO);
		assert_contains(e.why, bad[i].why);
		assert_contains(e.what, "--dns");
	}
}

/* Same DNS: mode, and for a list the servers in order. */
static void test_dns_same(void **state)
{
	struct gw_spec a = { 0 }, b = { 0 };

	assert_int_equal(spec_dns_parse("1.1.1.1,8.8.8.8", &a, NULL), 0);
	assert_int_equal(spec_dns_parse("1.1.1.1,8.8.8.8", &b, NULL), 0);
	assert_true(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("8.8.8.8,1.1.1.1", &b, NULL), 0);
	assert_false(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("1.1.1.1", &b, NULL), 0);
	assert_false(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("auto", &b, NULL), 0);
	assert_false(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("auto", &a, NULL), 0);
	assert_true(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("none", &a, NULL), 0);
	assert_false(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("2001:db8::53,1.1.1.1", &a, NULL), 0);
	assert_int_equal(spec_dns_parse("2001:db8::53,1.1.1.1", &b, NULL), 0);
	assert_true(spec_dns_same(&a, &b));
	assert_int_equal(spec_dns_parse("2001:db8::54,1.1.1.1", &b, NULL), 0);
	assert_false(spec_dns_same(&a, &b));
}

/* Four servers, empty items, bracketed or prefixed IPv6, link-local,
 * host names and junk are refused. */
static void test_dns_bad(void **state)
{
	static const char *const bad[] = { "1.1.1.1,8.8.8.8,9.9.9.9,1.0.0.1", "1.1.1.1,",
					   ",1.1.1.1", "1.1.1.1,,8.8.8.8", "[2001:db8::53]", "dns.example",
					   "", ",", "AUTO", "1.1.1.1 ", "1.1.1.1;8.8.8.8", "2001:db8::53,",
					   "2001:db8::5g", "2001:db8::53/64", "fe80::1" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gw_spec s = { .dns_mode = GW_DNS_AUTO };
		struct nsg_err e = { 0 };

		if (spec_dns_parse(bad[i], &s, &e) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(s.dns_mode, GW_DNS_AUTO);
		assert_contains(e.what, "--dns");
		assert_true(e.why[0] != '\0');
	}
}

/* The why of a fourth server says how many are allowed. */
static void test_dns_too_many_why(void **state)
{
	struct gw_spec s = { 0 };
	struct nsg_err e = { 0 };

	assert_int_equal(spec_dns_parse("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", &s, &e), -EINVAL);
	assert_contains(e.why, "3");
}

/* ----------------------------------------------------------------- subnet */

/* /8 to /30 prefixes are taken and marked as given. */
static void test_subnet_ok(void **state)
{
	struct gw_spec s = { 0 };

	assert_int_equal(spec_subnet_parse("10.9.0.0/30", &s, NULL), 0);
	assert_true(s.subnet_given);
	assert_int_equal(s.subnet.addr.family, AF_INET);
	assert_int_equal(s.subnet.addr.v4, A(10, 9, 0, 0));
	assert_int_equal(s.subnet.plen, 30);
	assert_int_equal(spec_host_addr(&s.subnet).family, AF_INET);
	assert_int_equal(spec_host_addr(&s.subnet).v4, A(10, 9, 0, 1));
	assert_int_equal(spec_ns_addr(&s.subnet).v4, A(10, 9, 0, 2));
	assert_int_equal(spec_subnet_parse("10.9.0.0/24", &s, NULL), 0);
	assert_int_equal(s.subnet.plen, 24);
	assert_int_equal(spec_subnet_parse("10.0.0.0/8", &s, NULL), 0);
	assert_int_equal(s.subnet.plen, 8);
}

/* Malformed prefixes and lengths outside 8..30 are refused, leaving s alone. */
static void test_subnet_bad(void **state)
{
	static const char *const bad[] = { "10.0.0.0/33", "abc", "10.0.0.0/", "10.0.0.0/-1",
					   "10.0.0.0/ 30", "1.2.3/24", "10.0.0.0/7", "0.0.0.0/0",
					   "10.0.0.0/31", "10.0.0.0/32", "10.0.0.0", "", "/30",
					   "10.0.0.0/30x" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gw_spec s = { 0 };
		struct nsg_err e = { 0 };

		if (spec_subnet_parse(bad[i], &s, &e) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_false(s.subnet_given);
		assert_int_equal(s.subnet.plen, 0);
		assert_contains(e.what, "--subnet");
		assert_true(e.why[0] != '\0');
	}
}

/* An IPv6 prefix gets the reason that asks for IPv4; the addresses of a
 * subnet of another family are none. */
static void test_subnet_v6(void **state)
{
	static const char *const v6[] = { "fd00::/64", "fd00::/30", "fd00::1/30", "::/0" };
	struct ip_prefix p = { .addr = { .family = AF_INET6 }, .plen = 64 };

	for (size_t i = 0; i < ARRAY_SIZE(v6); i++) {
		struct gw_spec s = { 0 };
		struct nsg_err e = { 0 };

		assert_int_equal(spec_subnet_parse(v6[i], &s, &e), -EINVAL);
		assert_false(s.subnet_given);
		assert_string_equal(e.why, "expected an IPv4 prefix such as 10.200.7.0/30");
	}
	assert_int_equal(spec_host_addr(&p).family, AF_UNSPEC);
	assert_int_equal(spec_ns_addr(&p).family, AF_UNSPEC);
}

/* Host bits set: the reason suggests the prefix that was probably meant. */
static void test_subnet_host_bits(void **state)
{
	struct gw_spec s = { 0 };
	struct nsg_err e = { 0 };

	assert_int_equal(spec_subnet_parse("10.0.0.1/30", &s, &e), -EINVAL);
	assert_contains(e.why, "host bits");
	assert_contains(e.why, "10.0.0.0/30");
	assert_contains(e.what, "10.0.0.1/30");
	memset(&e, 0, sizeof(e));
	assert_int_equal(spec_subnet_parse("192.168.1.77/24", &s, &e), -EINVAL);
	assert_contains(e.why, "192.168.1.0/24");
}

/* A length out of range says the allowed range. */
static void test_subnet_range_why(void **state)
{
	struct gw_spec s = { 0 };
	struct nsg_err e = { 0 };

	assert_int_equal(spec_subnet_parse("10.0.0.0/31", &s, &e), -EINVAL);
	assert_contains(e.why, "8 to 30");
	memset(&e, 0, sizeof(e));
	assert_int_equal(spec_subnet_parse("8.0.0.0/7", &s, &e), -EINVAL);
	assert_contains(e.why, "8 to 30");
}

/* Prefixes no gateway can use (ipam_subnet_usable, tested with the ranges'
 * edges in test-ipam.c) are refused at parse time as bad input, the range
 * named; s is left alone. */
static void test_subnet_unusable(void **state)
{
	static const char *const bad[][2] = {
		{ "0.0.0.0/30", "0.0.0.0/8" }, { "127.0.0.0/8", "loopback" },
		{ "224.0.0.0/30", "multicast" }, { "255.255.255.252/30", "broadcast" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gw_spec s = { 0 };
		struct nsg_err e = { 0 };

		assert_int_equal(spec_subnet_parse(bad[i][0], &s, &e), -EINVAL);
		assert_false(s.subnet_given);
		assert_int_equal(e.kind, NSG_KIND_INPUT);
		assert_contains(e.what, bad[i][0]);
		assert_contains(e.why, bad[i][1]);
	}
}

/* --------------------------------------------------------------- numbers */

/* Plain decimals only; too large is -ERANGE; the result is left alone on error. */
static void test_parse_uint(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x10", "x" };
	unsigned long v = 77;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (spec_parse_uint(bad[i], 1000, &v) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(spec_parse_uint(NULL, 1000, &v), -EINVAL);
	assert_int_equal(v, 77);
	assert_int_equal(spec_parse_uint("11", 10, &v), -ERANGE);
	assert_int_equal(spec_parse_uint("4294967296", UINT32_MAX, &v), -ERANGE);
	assert_int_equal(spec_parse_uint("99999999999999999999999", ULONG_MAX, &v), -ERANGE);
	assert_int_equal(v, 77);
	assert_int_equal(spec_parse_uint("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(spec_parse_uint("10", 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(spec_parse_uint("007", 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(spec_parse_uint("18446744073709551615", ULONG_MAX, &v), 0);
	assert_true(v == ULONG_MAX);
}

/* --ipv6 and --subnet6: the modes, and a /64 in fc00::/7 or 2000::/3 with
 * the wrong ones named. */
static void test_ipv6_options(void **state)
{
	struct gw_spec s;
	struct nsg_err e = { 0 };
	char buf[IP_ADDR_STRLEN];

	(void)state;
	spec_init(&s);
	assert_int_equal(s.ipv6, GW_IPV6_AUTO);
	assert_false(spec_has_ipv6(&s));
	assert_int_equal(spec_ipv6_parse("on", &s, &e), 0);
	assert_int_equal(s.ipv6, GW_IPV6_ON);
	assert_int_equal(spec_ipv6_parse("off", &s, &e), 0);
	assert_int_equal(s.ipv6, GW_IPV6_OFF);
	assert_int_equal(spec_ipv6_parse("yes", &s, &e), -EINVAL);
	assert_string_equal(e.why, "expected auto, on or off");
	assert_int_equal(spec_subnet6_parse("fd00:1:2:3::/64", &s, &e), 0);
	assert_true(s.subnet6_given);
	assert_true(spec_has_ipv6(&s));
	struct ip_addr h = spec_host_addr6(&s.subnet6), n = spec_ns_addr6(&s.subnet6);
	assert_string_equal(ip_addr_str(&h, buf), "fd00:1:2:3::1");
	assert_string_equal(ip_addr_str(&n, buf), "fd00:1:2:3::2");
	assert_int_equal(spec_subnet6_parse("2001:db8:5::/64", &s, &e), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(spec_subnet6_parse("fd00:1:2:3::1/64", &s, &e), -EINVAL);
	assert_string_equal(e.why, "host bits set (did you mean fd00:1:2:3::/64?)");
	assert_int_equal(spec_subnet6_parse("fd00:1:2::/48", &s, &e), -EINVAL);
	assert_string_equal(e.why, "a gateway's IPv6 subnet is a /64");
	assert_int_equal(spec_subnet6_parse("fe80::/64", &s, &e), -EINVAL);
	assert_contains(e.why, "fc00::/7");
	assert_int_equal(spec_subnet6_parse("10.0.0.0/30", &s, &e), -EINVAL);
	assert_contains(e.why, "expected an IPv6 /64");
	assert_int_equal(spec_subnet6_parse("fd00::", &s, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_name_bad),
		cmocka_unit_test(test_name_known),
		cmocka_unit_test(test_hostname_ok),
		cmocka_unit_test(test_hostname_bad),
		cmocka_unit_test(test_host_ifname_short),
		cmocka_unit_test(test_host_ifname_long),
		cmocka_unit_test(test_host_ifname_lengths),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_ifname_check),
		cmocka_unit_test(test_netns_pid),
		cmocka_unit_test(test_netns_pid_zero),
		cmocka_unit_test(test_netns_path),
		cmocka_unit_test(test_netns_named),
		cmocka_unit_test(test_netns_bad),
		cmocka_unit_test(test_netns_relative),
		cmocka_unit_test(test_netns_too_long),
		cmocka_unit_test(test_dns_modes),
		cmocka_unit_test(test_dns_list),
		cmocka_unit_test(test_dns_bad),
		cmocka_unit_test(test_dns_too_many_why),
		cmocka_unit_test(test_dns_v6),
		cmocka_unit_test(test_dns_v6_refused_why),
		cmocka_unit_test(test_dns_same),
		cmocka_unit_test(test_subnet_ok),
		cmocka_unit_test(test_subnet_bad),
		cmocka_unit_test(test_subnet_v6),
		cmocka_unit_test(test_subnet_host_bits),
		cmocka_unit_test(test_subnet_range_why),
		cmocka_unit_test(test_subnet_unusable),
		cmocka_unit_test(test_ipv6_options),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_net_port_ifname),
	};

	return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}
