/* SPDX-License-Identifier: MIT */
/* LAN mode's input: --lan, --address, --gateway and what they cannot go
 * with; the state file's LAN keys and the config file's. Pure: no root. */
#include "unit.h"

#include <stdio.h>

#include "nsgate/config.h"
#include "nsgate/state.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static void lan_spec(struct gw_spec *s, const char *iface, const char *addr, const char *gw)
{
	spec_init(s);
	snprintf(s->name, sizeof(s->name), "web");
	assert_int_equal(spec_lan_parse(iface, s, NULL), 0);
	if (addr)
		assert_int_equal(spec_lan_address_parse(addr, s, NULL), 0);
	if (gw)
		assert_int_equal(spec_lan_gateway_parse(gw, s, NULL), 0);
}

/* --lan takes an interface name that is not lo or a gateway's, and makes
 * the spec's subnet "none". */
static void test_lan_iface(void **state)
{
	static const char *const bad[] = { "", "lo", "nsg-web", "a/b", "1234567890123456", "a:b" };
	struct nsg_err e = { 0 };
	struct gw_spec s;

	(void)state;
	lan_spec(&s, "eth1", NULL, NULL);
	assert_true(spec_is_lan(&s));
	assert_string_equal(s.lan.iface, "eth1");
	assert_int_equal(s.subnet.addr.family, AF_INET);
	assert_int_equal(s.subnet.plen, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		spec_init(&s);
		e = (struct nsg_err){ 0 };
		if (spec_lan_parse(bad[i], &s, &e) != -EINVAL)
			fail_msg("--lan \"%s\" accepted", bad[i]);
		assert_contains(e.what, "--lan");
		assert_false(spec_is_lan(&s));
	}
	spec_init(&s);
	assert_false(spec_is_lan(&s));
}

/* --address: an IPv4 address with its length; never a network or
 * broadcast address, /31 and /32 have neither. */
static void test_lan_address(void **state)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "192.168.1.50", "prefix length" },     { "192.168.1.50/", "prefix length" },
		{ "192.168.1.50/33", "prefix length" },  { "192.168.1.50/7", "8 to 32" },
		{ "192.168.1.0/24", "network address" }, { "192.168.1.255/24", "broadcast" },
		{ "10.0.0.4/30", "network" },            { "10.0.0.7/30", "broadcast" },
		{ "127.0.0.5/8", "" },                   { "224.0.0.5/24", "" },
		{ "fd00::5/64", "IPv4" },                { "x/24", "IPv4" },
		{ "192.168.1.50/24 ", "prefix length" }, { "0.0.0.5/8", "" },
	};
	struct nsg_err e;
	struct gw_spec s;

	(void)state;
	lan_spec(&s, "eth1", "192.168.1.50/24", NULL);
	assert_true(s.lan.addr.v4 == A(192, 168, 1, 50));
	assert_int_equal(s.lan.plen, 24);
	lan_spec(&s, "eth1", "10.0.0.4/31", NULL);
	lan_spec(&s, "eth1", "10.0.0.5/32", NULL);
	lan_spec(&s, "eth1", "10.0.0.5/30", NULL);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		spec_init(&s);
		e = (struct nsg_err){ 0 };
		if (spec_lan_address_parse(bad[i].arg, &s, &e) != -EINVAL)
			fail_msg("--address \"%s\" accepted", bad[i].arg);
		assert_contains(e.what, "--address");
		assert_contains(e.why, bad[i].why);
		assert_false(ip_addr_is_set(&s.lan.addr));
	}
}

static void test_lan_gateway(void **state)
{
	static const char *const bad[] = { "", "192.168.1", "192.168.1.1/24", "fe80::1",
					   "127.0.0.1", "224.0.0.1", "0.0.0.0" };
	struct nsg_err e = { 0 };
	struct gw_spec s;

	(void)state;
	lan_spec(&s, "eth1", "192.168.1.50/24", "192.168.1.1");
	assert_true(s.lan.gateway_given);
	assert_true(s.lan.gateway.v4 == A(192, 168, 1, 1));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		spec_init(&s);
		if (spec_lan_gateway_parse(bad[i], &s, &e) != -EINVAL)
			fail_msg("--gateway \"%s\" accepted", bad[i]);
		assert_contains(e.what, "--gateway");
	}
}

/* What --lan cannot go with, one refusal each, naming the option. */
static void test_lan_check(void **state)
{
	struct nsg_err e = { 0 };
	struct gw_spec s;

	(void)state;
	lan_spec(&s, "eth1", "192.168.1.50/24", "192.168.1.1");
	assert_int_equal(spec_lan_check(&s, 0, &e), 0);
	lan_spec(&s, "eth1", NULL, NULL);
	assert_int_equal(spec_lan_check(&s, 0, &e), 0);
	assert_int_equal(spec_lan_check(&s, 1, &e), -EINVAL);
	assert_string_equal(e.what, "--publish");
	assert_contains(e.why, "not with --lan");
	s.no_host = true;
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--no-host");
	lan_spec(&s, "eth1", NULL, NULL);
	assert_int_equal(spec_subnet_parse("10.9.0.0/30", &s, NULL), 0);
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--subnet");
	lan_spec(&s, "eth1", NULL, NULL);
	assert_int_equal(spec_subnet6_parse("fd00:1:2:3::/64", &s, NULL), 0);
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--subnet6");
	lan_spec(&s, "eth1", NULL, NULL);
	snprintf(s.uplink, sizeof(s.uplink), "eth0");
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--uplink");
	lan_spec(&s, "eth1", NULL, NULL);
	s.ipv6 = GW_IPV6_ON;
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--ipv6");
	/* --gateway needs --address, on its subnet, not itself. */
	lan_spec(&s, "eth1", NULL, "192.168.1.1");
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_contains(e.why, "only with --address");
	lan_spec(&s, "eth1", "192.168.1.50/24", "192.168.2.1");
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_contains(e.why, "not on the subnet of --address (192.168.1.0/24)");
	lan_spec(&s, "eth1", "192.168.1.50/24", "192.168.1.50");
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	/* --address and --gateway without --lan. */
	spec_init(&s);
	assert_int_equal(spec_lan_check(&s, 3, &e), 0);
	assert_int_equal(spec_lan_address_parse("192.168.1.50/24", &s, NULL), 0);
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--address");
	spec_init(&s);
	assert_int_equal(spec_lan_gateway_parse("192.168.1.1", &s, NULL), 0);
	assert_int_equal(spec_lan_check(&s, 0, &e), -EINVAL);
	assert_string_equal(e.what, "--gateway");
}

static void lan_state(struct gw_state *st)
{
	memset(st, 0, sizeof(*st));
	lan_spec(&st->spec, "up0", "198.51.100.50/24", NULL);
	spec_host_ifname("web", st->spec.host_ifname);
	snprintf(st->spec.netns_path, sizeof(st->spec.netns_path), "/run/netns/web");
	st->netns_created = true;
	st->netns_ino = 77;
	/* The host's default gateway, found at up: not given. */
	st->spec.lan.gateway = ip_addr_v4(A(198, 51, 100, 2));
}

static void assert_lan_equal(const struct gw_state *a, const struct gw_state *b)
{
	assert_string_equal(a->spec.lan.iface, b->spec.lan.iface);
	assert_true(ip_addr_eq(&a->spec.lan.addr, &b->spec.lan.addr));
	assert_int_equal(a->spec.lan.plen, b->spec.lan.plen);
	assert_true(ip_addr_eq(&a->spec.lan.gateway, &b->spec.lan.gateway));
	assert_int_equal(a->spec.lan.gateway_given, b->spec.lan.gateway_given);
	assert_true(ip_prefix_eq(&a->spec.subnet, &b->spec.subnet));
	assert_string_equal(a->spec.name, b->spec.name);
	assert_int_equal(a->netns_created, b->netns_created);
}

/* The LAN keys follow the others, only for a LAN gateway, and load back. */
static void test_lan_state(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	(void)state;
	lan_state(&st);
	assert_true(state_format(&st, buf, sizeof(buf)) > 0);
	assert_contains(buf, "subnet=0.0.0.0/0\n");
	assert_contains(buf, "lan=up0\nlan_address=198.51.100.50/24\nlan_gateway=198.51.100.2\n");
	assert_not_contains(buf, "lan_gateway_given");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_lan_equal(&got, &st);
	assert_true(spec_is_lan(&got.spec));
	st.spec.lan.gateway_given = true;
	assert_true(state_format(&st, buf, sizeof(buf)) > 0);
	assert_contains(buf, "lan_gateway_given=1\n");
	assert_int_equal(state_parse(buf, &got), 0);
	assert_lan_equal(&got, &st);
	/* Without an address: only lan=. */
	lan_state(&st);
	st.spec.lan.addr = st.spec.lan.gateway = (struct ip_addr){ 0 };
	st.spec.lan.plen = 0;
	assert_true(state_format(&st, buf, sizeof(buf)) > 0);
	assert_contains(buf, "lan=up0\n");
	assert_not_contains(buf, "lan_address");
	assert_int_equal(state_parse(buf, &got), 0);
	assert_lan_equal(&got, &st);
	/* A NAT gateway's file has no lan key; damaged values are refused. */
	spec_init(&st.spec);
	snprintf(st.spec.name, sizeof(st.spec.name), "web");
	spec_host_ifname("web", st.spec.host_ifname);
	st.spec.subnet = ip_prefix_v4(A(10, 200, 0, 4), 30);
	assert_true(state_format(&st, buf, sizeof(buf)) > 0);
	assert_not_contains(buf, "lan");
	assert_int_equal(state_parse(buf, &got), 0);
	assert_false(spec_is_lan(&got.spec));
	strcat(buf, "lan=lo\n");
	assert_int_equal(state_parse(buf, &got), -EBADMSG);
}

/* Config keys lan, address, gateway, and the NAT's keys refused with lan
 * at the lan key's line. */
static void test_lan_config(void **state)
{
	struct config c;
	struct nsg_err e = { 0 };

	(void)state;
	assert_int_equal(config_parse_string("[web]\nlan = up0\naddress = 198.51.100.50/24\n"
					     "gateway = 198.51.100.2\n[dhcp]\nlan = up0\n",
					     "t.conf", &c, &e), 0);
	assert_int_equal(c.n, 2);
	assert_true(spec_is_lan(&c.gw[0].spec));
	assert_true(c.gw[0].spec.lan.gateway_given);
	assert_int_equal(c.gw[0].spec.lan.plen, 24);
	assert_false(ip_addr_is_set(&c.gw[1].spec.lan.addr));
	config_free(&c);
	assert_int_equal(config_parse_string("[web]\nlan = up0\npublish = 80:80\n", "t.conf", &c, &e),
			 -EINVAL);
	assert_contains(e.what, "t.conf:2");
	assert_contains(e.why, "publish: not with --lan");
	assert_int_equal(config_parse_string("[web]\naddress = 10.1.1.5/24\n", "t.conf", &c, &e),
			 -EINVAL);
	assert_contains(e.what, "t.conf:2");
	assert_contains(e.why, "address: only with --lan");
	assert_int_equal(config_parse_string("[web]\nlan = up0\naddress = 10.1.1.0/24\n", "t.conf",
					     &c, &e), -EINVAL);
	assert_contains(e.what, "t.conf:3");
	assert_contains(e.why, "network address");
}

/* The MAC of a name is stable, unicast and locally administered, and
 * another name or another host's seed gives another. */
static void test_lan_mac(void **state)
{
	uint8_t seed[16] = { 1, 2, 3 }, other[16] = { 1, 2, 4 }, a[6], b[6];

	(void)state;
	spec_lan_mac(seed, "web", a);
	spec_lan_mac(seed, "web", b);
	assert_memory_equal(a, b, 6);
	assert_int_equal(a[0] & 0x03, 0x02);
	spec_lan_mac(seed, "web2", b);
	assert_memory_not_equal(a, b, 6);
	assert_int_equal(b[0] & 0x03, 0x02);
	spec_lan_mac(other, "web", b);
	assert_memory_not_equal(a, b, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lan_iface),
		cmocka_unit_test(test_lan_address),
		cmocka_unit_test(test_lan_gateway),
		cmocka_unit_test(test_lan_check),
		cmocka_unit_test(test_lan_state),
		cmocka_unit_test(test_lan_config),
		cmocka_unit_test(test_lan_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
