/* SPDX-License-Identifier: MIT */
/* network: bridge names, subnets, member addresses, the network file. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "nsgate/common.h"
#include "nsgate/network.h"

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	if (ip_addr_parse(s, AF_INET, &a) < 0)
		fail_msg("cannot parse \"%s\"", s);
	return a;
}

static void test_bridge_names(void **state)
{
	char br[IF_NAMESIZE], gw[IF_NAMESIZE], other[IF_NAMESIZE];

	(void)state;
	net_bridge_ifname("lan", br);
	assert_string_equal(br, "nsg-+lan");
	net_bridge_ifname("0123456789", br);
	assert_string_equal(br, "nsg-+0123456789");   /* 15 bytes: as it is */
	net_bridge_ifname("0123456789a", br);
	assert_int_equal(strlen(br), 15);
	assert_memory_equal(br, "nsg-+0123~", 10);
	net_bridge_ifname("0123456789b", other);
	assert_string_not_equal(br, other);
	/* Starts with the gateways' prefix (the rules' match), and never
	 * equals a gateway's link: '+' is in no gateway name. */
	assert_memory_equal(br, GW_IFNAME_PREFIX, 4);
	spec_host_ifname("+lan", gw);   /* not a valid name, but even so */
	net_bridge_ifname("lan", br);
	assert_string_equal(gw, br);
	assert_true(spec_name_check("+lan", NULL) < 0);
	/* Gateways' shortened names keep their old form. */
	spec_host_ifname("0123456789ab", gw);
	assert_int_equal(strlen(gw), 15);
	assert_memory_equal(gw, "nsg-01234~", 10);
}

static void test_subnet_parse(void **state)
{
	struct ip_prefix n;
	char buf[IP_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(net_subnet_parse("10.77.0.0/24", &n, NULL), 0);
	assert_string_equal(ip_prefix_str(&n, buf), "10.77.0.0/24");
	assert_int_equal(net_subnet_parse("10.77.0.0/16", &n, NULL), 0);
	assert_int_equal(net_subnet_parse("10.77.0.0/29", &n, NULL), 0);
	assert_int_equal(net_subnet_parse("10.77.0.0/30", &n, NULL), -EINVAL);
	assert_int_equal(net_subnet_parse("10.0.0.0/15", &n, NULL), -EINVAL);
	assert_int_equal(net_subnet_parse("10.77.0.1/24", &n, NULL), -EINVAL);
	assert_int_equal(net_subnet_parse("127.0.0.0/24", &n, NULL), -EINVAL);
	assert_int_equal(net_subnet_parse("fd00::/64", &n, NULL), -EINVAL);
	assert_int_equal(net_subnet_parse("garbage", &n, NULL), -EINVAL);
}

static void test_addr_pick(void **state)
{
	struct ip_prefix n;
	struct net_member m[8] = { 0 };
	struct ip_addr a;
	char buf[IP_ADDR_STRLEN];

	(void)state;
	ip_prefix_parse("10.77.0.0/29", AF_INET, &n);
	assert_int_equal(net_addr_pick(&n, m, 0, &a), 0);
	assert_string_equal(ip_addr_str(&a, buf), "10.77.0.2");
	m[0].addr = addr("10.77.0.2");
	m[1].addr = addr("10.77.0.4");
	assert_int_equal(net_addr_pick(&n, m, 2, &a), 0);
	assert_string_equal(ip_addr_str(&a, buf), "10.77.0.3");   /* a hole is reused */
	m[2].addr = addr("10.77.0.3");
	m[3].addr = addr("10.77.0.5");
	m[4].addr = addr("10.77.0.6");
	/* .7 is the broadcast address: full. */
	assert_int_equal(net_addr_pick(&n, m, 5, &a), -EADDRINUSE);
}

static void test_mac(void **state)
{
	struct ip_addr a = addr("10.201.3.4");
	uint8_t mac[6];

	(void)state;
	net_mac_of(&a, mac);
	assert_memory_equal(mac, ((uint8_t[]){ 0x02, 0x6e, 10, 201, 3, 4 }), 6);
}

static void test_file_round_trip(void **state)
{
	struct net_state n = { .subnet_given = true, .isolated = true }, back;
	struct net_member m = { .name = "web" };
	char *text;

	(void)state;
	snprintf(n.name, sizeof(n.name), "lan");
	net_bridge_ifname(n.name, n.bridge);
	ip_prefix_parse("10.77.0.0/24", AF_INET, &n.subnet);
	m.addr = addr("10.77.0.2");
	assert_int_equal(net_member_add(&n, &m), 0);
	snprintf(m.name, sizeof(m.name), "db");
	m.addr = addr("10.77.0.3");
	assert_int_equal(net_member_add(&n, &m), 0);
	snprintf(m.name, sizeof(m.name), "both");
	snprintf(m.port, sizeof(m.port), "nsg-=1both");
	m.addr = addr("10.77.0.4");
	assert_int_equal(net_member_add(&n, &m), 0);
	assert_int_equal(net_state_format(&n, &text), 0);
	assert_contains(text, "member=web 10.77.0.2\n");
	assert_contains(text, "member=both 10.77.0.4 nsg-=1both\n");
	assert_int_equal(net_state_parse(text, &back), 0);
	assert_string_equal(back.name, "lan");
	assert_string_equal(back.bridge, "nsg-+lan");
	assert_true(back.isolated && back.subnet_given && !back.explicit_);
	assert_int_equal(back.n_members, 3);
	assert_non_null(net_member_find(&back, "db"));
	{
		char port[IF_NAMESIZE];

		net_member_port(net_member_find(&back, "both"), port);
		assert_string_equal(port, "nsg-=1both");
		net_member_port(net_member_find(&back, "db"), port);
		assert_string_equal(port, "nsg-db");
	}
	assert_int_equal(net_member_remove(&back, "both"), 0);
	assert_int_equal(net_member_remove(&back, "web"), 0);
	assert_int_equal(net_member_remove(&back, "web"), -ENOENT);
	assert_int_equal(back.n_members, 1);
	assert_string_equal(back.members[0].name, "db");
	net_state_clear(&back);
	free(text);
	net_state_clear(&n);
}

static void test_hosts(void **state)
{
	struct net_state n = { 0 };
	struct net_member m = { .name = "web" };
	char *text;

	(void)state;
	m.addr = addr("10.77.0.2");
	assert_int_equal(net_member_add(&n, &m), 0);
	snprintf(m.name, sizeof(m.name), "db");
	m.addr = addr("10.77.0.3");
	assert_int_equal(net_member_add(&n, &m), 0);
	assert_int_equal(net_hosts_render(&n, &text), 0);
	assert_string_equal(text, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
				  "10.77.0.2\tweb\n10.77.0.3\tdb\n");
	free(text);
	net_state_clear(&n);
}

/* A dual-stack network: subnet6 kept in the file (older files have none),
 * each member's IPv6 address the host index of its IPv4 one, in hosts too. */
static void test_dual_stack(void **state)
{
	struct net_state n = { .subnet6_given = true }, back;
	struct net_member m = { .name = "web" };
	struct ip_addr a6, ll;
	char *text, buf[IP_ADDR_STRLEN];

	(void)state;
	snprintf(n.name, sizeof(n.name), "lan");
	net_bridge_ifname(n.name, n.bridge);
	ip_prefix_parse("10.77.0.0/24", AF_INET, &n.subnet);
	ip_prefix_parse("fd00:1:2:4000::/64", AF_INET6, &n.subnet6);
	m.addr = addr("10.77.0.7");
	assert_int_equal(net_member_add(&n, &m), 0);
	assert_int_equal(net_state_format(&n, &text), 0);
	assert_contains(text, "subnet6=fd00:1:2:4000::/64\nsubnet6_given=1\n");
	assert_int_equal(net_state_parse(text, &back), 0);
	free(text);
	assert_true(ip_prefix_eq(&back.subnet6, &n.subnet6) && back.subnet6_given);
	a6 = net_member_addr6(&back, &back.members[0]);
	assert_string_equal(ip_addr_str(&a6, buf), "fd00:1:2:4000::7");
	ll = net_ll6_of(&back.subnet, &back.members[0].addr);
	assert_string_equal(ip_addr_str(&ll, buf), "fe80::7");
	assert_int_equal(net_hosts_render(&back, &text), 0);
	assert_contains(text, "10.77.0.7\tweb\nfd00:1:2:4000::7\tweb\n");
	free(text);
	/* IPv4 only: no IPv6 address, no subnet6 line. */
	memset(&back.subnet6, 0, sizeof(back.subnet6));
	a6 = net_member_addr6(&back, &back.members[0]);
	assert_false(ip_addr_is_set(&a6));
	assert_int_equal(net_state_format(&back, &text), 0);
	assert_null(strstr(text, "subnet6"));
	free(text);
	net_state_clear(&back);
	net_state_clear(&n);
}

static void test_file_damaged(void **state)
{
	static const char *const bad[] = {
		"",
		"version=1\nname=lan\n",
		"version=2\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\n",
		"version=1\nname=lan\nbridge=eth0\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\n",
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\nmember=a 10.77.0.2\nmember=a 10.77.0.3\n",
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\nmember=a\n",
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\nmember=a 10.77.0.2 eth0\n",
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=2\nexplicit=0\n",
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0",   /* truncated */
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\nsubnet6=fd00:1:2:3::/48\n",
		"version=1\nname=lan\nbridge=nsg-+lan\nsubnet=10.77.0.0/24\nsubnet_given=0\n"
		"isolated=0\nexplicit=0\nsubnet6=10.1.0.0/24\n",
	};
	struct net_state n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (net_state_parse(bad[i], &n) != -EBADMSG)
			fail_msg("accepted damaged file %zu", i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bridge_names),
		cmocka_unit_test(test_subnet_parse),
		cmocka_unit_test(test_addr_pick),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_file_damaged),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_dual_stack),
	};

	return cmocka_run_group_tests_name("network", tests, NULL, NULL);
}
