/* SPDX-License-Identifier: MIT */
/* ip4: prefix parsing, printing, masks, overlap and containment. */
#include "unit.h"

#include <arpa/inet.h>

#include "nsgate/ip4.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static struct ip4_net net(const char *s)
{
	struct ip4_net n;

	if (ip4_net_parse(s, &n) < 0)
		fail_msg("cannot parse \"%s\"", s);
	return n;
}

/* Masks at both ends and in between, including the shift-by-32 case of /0. */
static void test_mask(void **state)
{
	assert_int_equal(ip4_mask(0), 0);
	assert_int_equal(ip4_mask(1), 0x80000000u);
	assert_int_equal(ip4_mask(8), 0xff000000u);
	assert_int_equal(ip4_mask(30), 0xfffffffcu);
	assert_int_equal(ip4_mask(31), 0xfffffffeu);
	assert_int_equal(ip4_mask(32), 0xffffffffu);
}

/* Well-formed prefixes come back in host byte order with their length. */
static void test_net_parse_ok(void **state)
{
	struct ip4_net n = { 0 };

	assert_int_equal(ip4_net_parse("10.9.0.0/30", &n), 0);
	assert_int_equal(n.addr, A(10, 9, 0, 0));
	assert_int_equal(n.plen, 30);
	assert_int_equal(ip4_net_parse("0.0.0.0/0", &n), 0);
	assert_int_equal(n.addr, 0);
	assert_int_equal(n.plen, 0);
	assert_int_equal(ip4_net_parse("255.255.255.255/32", &n), 0);
	assert_int_equal(n.addr, 0xffffffffu);
	assert_int_equal(n.plen, 32);
	assert_int_equal(ip4_net_parse("192.168.0.0/16", &n), 0);
	assert_int_equal(n.addr, A(192, 168, 0, 0));
	assert_int_equal(n.plen, 16);
}

/* Anything short of "a.b.c.d/len" with clear host bits is refused, and the
 * result is left alone. */
static void test_net_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "/", "10.0.0.0", "10.0.0.0/", "/24", "10.0.0.1/30", "10.0.0.0/33",
		"10.0.0.0/-1", "10.0.0.0/+1", "10.0.0.0/ 30", "10.0.0.0/30 ", " 10.0.0.0/30",
		"10.0.0.0/3x", "10.0.0.0/8/8", "1.2.3/24", "10.1/16", "256.0.0.0/8",
		"01.0.0.0/8", "a.b.c.d/8", "10.0.0.0/99999999999999999999999",
		"10.0.0.000000000000000000000000/8", "10.0.0.0\\30", "::1/128",
	};
	struct ip4_net n = { .addr = 42, .plen = 7 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip4_net_parse(bad[i], &n) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(n.addr, 42);
		assert_int_equal(n.plen, 7);
	}
}

/* Addresses: strict dotted quads only. */
static void test_addr_parse(void **state)
{
	static const char *const bad[] = { "", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ",
					   "1.2.3.256", "::1", "0x1.2.3.4", "1.2.3.4/32" };
	uint32_t a = 0;

	assert_int_equal(ip4_addr_parse("1.2.3.4", &a), 0);
	assert_int_equal(a, A(1, 2, 3, 4));
	assert_int_equal(ip4_addr_parse("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffffu);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ip4_addr_parse(bad[i], &a) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
}

/* Printing, and printing then parsing gives the same prefix back. */
static void test_str(void **state)
{
	static const char *const nets[] = { "0.0.0.0/0", "10.9.0.4/30", "172.16.0.0/12",
					    "255.255.255.255/32", "192.168.100.0/24" };
	char a[IP4_STRLEN], b[IP4_NET_STRLEN];
	struct ip4_net n = { A(10, 9, 0, 4), 30 };

	assert_string_equal(ip4_addr_str(0, a), "0.0.0.0");
	assert_string_equal(ip4_addr_str(0xffffffffu, a), "255.255.255.255");
	assert_string_equal(ip4_addr_str(A(10, 200, 3, 1), a), "10.200.3.1");
	assert_string_equal(ip4_net_str(&n, b), "10.9.0.4/30");
	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		struct ip4_net m = net(nets[i]);

		assert_string_equal(ip4_net_str(&m, b), nets[i]);
	}
}

/* Overlap is symmetric, true for nesting and equality, false for neighbours. */
static void test_overlap(void **state)
{
	static const struct {
		const char *a, *b;
		bool overlap;
	} cases[] = {
		{ "10.0.0.0/8", "10.1.0.0/16", true },
		{ "10.0.0.0/30", "10.0.0.0/30", true },
		{ "10.0.0.0/30", "10.0.0.4/30", false },
		{ "10.0.0.4/30", "10.0.0.5/32", true },
		{ "10.0.0.4/30", "10.0.0.8/32", false },
		{ "0.0.0.0/0", "192.168.1.0/24", true },
		{ "10.0.0.0/8", "11.0.0.0/8", false },
		{ "10.200.0.0/16", "10.0.0.0/8", true },
		{ "255.255.255.252/30", "255.255.255.255/32", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip4_net a = net(cases[i].a), b = net(cases[i].b);

		if (ip4_net_overlap(&a, &b) != cases[i].overlap ||
		    ip4_net_overlap(&b, &a) != cases[i].overlap)
			fail_msg("overlap(%s, %s) != %d", cases[i].a, cases[i].b, cases[i].overlap);
	}
}

/* ip4_in_addr gives network byte order. */
static void test_in_addr(void **state)
{
	struct in_addr ia = ip4_in_addr(A(10, 9, 0, 1));
	const uint8_t *p = (const uint8_t *)&ia.s_addr;

	assert_int_equal(p[0], 10);
	assert_int_equal(p[1], 9);
	assert_int_equal(p[2], 0);
	assert_int_equal(p[3], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_net_parse_ok),
		cmocka_unit_test(test_net_parse_bad),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_in_addr),
	};

	return cmocka_run_group_tests_name("ip4", tests, NULL, NULL);
}
