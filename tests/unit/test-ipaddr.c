/* SPDX-License-Identifier: MIT */
/* ipaddr: family-tagged addresses and prefixes: parsing, printing, order,
 * overlap and containment, for IPv4 and IPv6 alike. */
#include "unit.h"

#include <arpa/inet.h>

#include "nsgate/ipaddr.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;

	if (ip_prefix_parse(s, AF_UNSPEC, &p) < 0)
		fail_msg("cannot parse \"%s\"", s);
	return p;
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	if (ip_addr_parse(s, AF_UNSPEC, &a) < 0)
		fail_msg("cannot parse \"%s\"", s);
	return a;
}

/* IPv4 comes back in host byte order with its family. */
static void test_parse_v4(void **state)
{
	struct ip_prefix p;
	struct ip_addr a;

	assert_int_equal(ip_prefix_parse("10.9.0.0/30", AF_INET, &p), 0);
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.addr.v4, A(10, 9, 0, 0));
	assert_int_equal(p.plen, 30);
	assert_int_equal(ip_prefix_parse("0.0.0.0/0", AF_INET, &p), 0);
	assert_int_equal(p.plen, 0);
	assert_int_equal(ip_addr_parse("255.255.255.255", AF_INET, &a), 0);
	assert_int_equal(a.v4, 0xffffffffu);
	/* One family asked for: the other is refused. */
	assert_int_equal(ip_addr_parse("::1", AF_INET, &a), -EINVAL);
	assert_int_equal(ip_addr_parse("10.0.0.1", AF_INET6, &a), -EINVAL);
}

static void test_parse_v6(void **state)
{
	struct ip_prefix p;
	struct ip_addr a;

	assert_int_equal(ip_prefix_parse("fd00:1::/64", AF_UNSPEC, &p), 0);
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(p.plen, 64);
	assert_int_equal(p.addr.v6[0], 0xfd);
	assert_int_equal(p.addr.v6[3], 0x01);
	assert_int_equal(ip_addr_parse("::1", AF_INET6, &a), 0);
	assert_int_equal(a.v6[15], 1);
	assert_int_equal(ip_prefix_parse("fd00::1/64", AF_UNSPEC, &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("fd00::/129", AF_UNSPEC, &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("::/0", AF_UNSPEC, &p), 0);
}

/* Anything short of "ADDR/LEN" with clear host bits is refused, and the
 * result is left alone. */
static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "/", "10.0.0.0", "10.0.0.0/", "/24", "10.0.0.1/30", "10.0.0.0/33",
		"10.0.0.0/-1", "10.0.0.0/+1", "10.0.0.0/ 30", "10.0.0.0/30 ", " 10.0.0.0/30",
		"10.0.0.0/3x", "10.0.0.0/8/8", "1.2.3/24", "10.1/16", "256.0.0.0/8",
		"01.0.0.0/8", "a.b.c.d/8", "10.0.0.0/99999999999999999999999",
		"10.0.0.000000000000000000000000/8", "10.0.0.0\\30", "fd00::1/127",
		"fd00:::/64", "[fd00::]/64",
	};
	struct ip_prefix p = ip_prefix_v4(42, 7);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip_prefix_parse(bad[i], AF_UNSPEC, &p) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_int_equal(p.addr.v4, 42);
		assert_int_equal(p.plen, 7);
	}
}

/* Printing, and printing then parsing gives the same prefix back. */
static void test_str(void **state)
{
	static const char *const all[] = { "0.0.0.0/0", "10.9.0.4/30", "255.255.255.255/32",
					   "fd00:1::/64", "::/0", "2001:db8::1/128" };
	char a[IP_ADDR_STRLEN], b[IP_PREFIX_STRLEN];
	struct ip_addr v4 = ip_addr_v4(A(10, 200, 3, 1)), none = { 0 };

	assert_string_equal(ip_addr_str(&v4, a), "10.200.3.1");
	assert_string_equal(ip_addr_str(&none, a), "");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct ip_prefix p = pfx(all[i]);

		assert_string_equal(ip_prefix_str(&p, b), all[i]);
	}
}

/* Overlap is symmetric, true for nesting and equality, false for
 * neighbours and across families. */
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
		{ "0.0.0.0/0", "192.168.1.0/24", true },
		{ "10.0.0.0/8", "11.0.0.0/8", false },
		{ "255.255.255.252/30", "255.255.255.255/32", true },
		{ "fd00::/8", "fd00:1::/64", true },
		{ "fd00:1::/64", "fd00:2::/64", false },
		{ "fd00:1::/63", "fd00:1:0:1::/64", true },
		{ "0.0.0.0/0", "::/0", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_prefix a = pfx(cases[i].a), b = pfx(cases[i].b);

		if (ip_prefix_overlap(&a, &b) != cases[i].overlap ||
		    ip_prefix_overlap(&b, &a) != cases[i].overlap)
			fail_msg("overlap(%s, %s) != %d", cases[i].a, cases[i].b, cases[i].overlap);
	}
}

static void test_contains(void **state)
{
	struct ip_prefix n = pfx("10.0.0.0/30"), all = pfx("0.0.0.0/0"), v6 = pfx("fd00::/64");
	struct ip_addr in = addr("10.0.0.3"), out = addr("10.0.0.4"), top = addr("255.255.255.255");
	struct ip_addr in6 = addr("fd00::ffff"), out6 = addr("fd00:0:0:1::");

	assert_true(ip_prefix_contains(&n, &in));
	assert_false(ip_prefix_contains(&n, &out));
	assert_true(ip_prefix_contains(&all, &top));
	assert_true(ip_prefix_contains(&v6, &in6));
	assert_false(ip_prefix_contains(&v6, &out6));
	assert_false(ip_prefix_contains(&v6, &in));
}

/* The host bits go, whatever the family; a length past the family's is cut. */
static void test_prefix_of(void **state)
{
	struct ip_addr a = addr("10.9.7.6"), b = addr("fd00:1:2:3::9"), none = { 0 };
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p;

	p = ip_prefix_of(&a, 30);
	assert_string_equal(ip_prefix_str(&p, buf), "10.9.7.4/30");
	p = ip_prefix_of(&a, 0);
	assert_string_equal(ip_prefix_str(&p, buf), "0.0.0.0/0");
	p = ip_prefix_of(&a, 40);
	assert_string_equal(ip_prefix_str(&p, buf), "10.9.7.6/32");
	p = ip_prefix_of(&b, 33);
	assert_string_equal(ip_prefix_str(&p, buf), "fd00:1::/33");
	p = ip_prefix_of(&b, 128);
	assert_string_equal(ip_prefix_str(&p, buf), "fd00:1:2:3::9/128");
	p = ip_prefix_of(&none, 8);
	assert_int_equal(p.addr.family, AF_UNSPEC);
	assert_int_equal(p.plen, 0);
}

static void test_v4_mask(void **state)
{
	assert_int_equal(ip_v4_mask(0), 0);
	assert_int_equal(ip_v4_mask(1), 0x80000000u);
	assert_int_equal(ip_v4_mask(24), 0xffffff00u);
	assert_int_equal(ip_v4_mask(31), 0xfffffffeu);
	assert_int_equal(ip_v4_mask(32), 0xffffffffu);
	assert_int_equal(ip_v4_mask(33), 0xffffffffu);
}

/* Order by family, then address; bytes in network order round-trip. */
static void test_cmp_bytes(void **state)
{
	struct ip_addr a = addr("10.0.0.1"), b = addr("10.0.0.2"), c = addr("::1"), none = { 0 };
	uint8_t buf[16];
	struct ip_addr back;

	assert_true(ip_addr_cmp(&a, &b) < 0);
	assert_true(ip_addr_cmp(&b, &a) > 0);
	assert_true(ip_addr_cmp(&a, &c) < 0);
	assert_true(ip_addr_cmp(&none, &a) < 0);
	assert_true(ip_addr_eq(&none, &(struct ip_addr){ 0 }));
	assert_int_equal(ip_addr_to_bytes(&a, buf), 4);
	assert_int_equal(buf[0], 10);
	assert_int_equal(buf[3], 1);
	assert_int_equal(ip_addr_from_bytes(AF_INET, buf, &back), 0);
	assert_true(ip_addr_eq(&a, &back));
	assert_int_equal(ip_addr_to_bytes(&c, buf), 16);
	assert_int_equal(ip_addr_from_bytes(AF_INET6, buf, &back), 0);
	assert_true(ip_addr_eq(&c, &back));
	assert_int_equal(ip_addr_to_bytes(&none, buf), 0);
	assert_int_equal(ip_addr_from_bytes(AF_PACKET, buf, &back), -EAFNOSUPPORT);
	assert_int_equal(ip_family_bits(AF_INET), 32);
	assert_int_equal(ip_family_bits(AF_INET6), 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_prefix_of),
		cmocka_unit_test(test_v4_mask),
		cmocka_unit_test(test_cmp_bytes),
	};

	return cmocka_run_group_tests_name("ipaddr", tests, NULL, NULL);
}
