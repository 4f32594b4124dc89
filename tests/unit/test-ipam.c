/* SPDX-License-Identifier: MIT */
/* ipam: picking the first free /plen of a pool around what the host uses. */
#include "unit.h"

#include <stdio.h>

#include "nsgate/common.h"
#include "nsgate/ipam.h"

static struct ip_prefix net(const char *s)
{
	struct ip_prefix n;

	if (ip_prefix_parse(s, AF_UNSPEC, &n) < 0)
		fail_msg("cannot parse \"%s\"", s);
	return n;
}

/* Pick from pool with the used prefixes given as strings (NULL-terminated);
 * return the error, or 0 with the result printed in out. */
static int pick(const char *pool, uint8_t plen, const char *const *used, char out[IP_PREFIX_STRLEN])
{
	struct ip_prefix p = net(pool), list[16], ret = { 0 };
	size_t n = 0;
	int r;

	for (; used && used[n]; n++) {
		assert_true(n < ARRAY_SIZE(list));
		list[n] = net(used[n]);
	}
	r = ipam_pick(&p, plen, list, n, &ret);
	snprintf(out, IP_PREFIX_STRLEN, "-");
	if (r == 0)
		ip_prefix_str(&ret, out);
	return r;
}

#define POOL "10.200.0.0/16"
#define USED(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Nothing used: the first /30 of the pool. */
static void test_empty(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, NULL, got), 0);
	assert_string_equal(got, "10.200.0.0/30");
}

/* A used /30 is stepped over to the next aligned /30. */
static void test_skip_one(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, USED("10.200.0.0/30"), got), 0);
	assert_string_equal(got, "10.200.0.4/30");
	assert_int_equal(pick(POOL, 30, USED("10.200.0.0/30", "10.200.0.4/30"), got), 0);
	assert_string_equal(got, "10.200.0.8/30");
}

/* A used /24 at the start pushes the pick past it. */
static void test_skip_wide(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, USED("10.200.0.0/24"), got), 0);
	assert_string_equal(got, "10.200.1.0/30");
}

/* A prefix covering the whole pool (10.0.0.0/8, or a default route) exhausts it. */
static void test_covering(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, USED("10.0.0.0/8"), got), -ENOSPC);
	assert_int_equal(pick(POOL, 30, USED("0.0.0.0/0"), got), -ENOSPC);
	assert_int_equal(pick(POOL, 30, USED("10.200.0.0/16"), got), -ENOSPC);
}

/* A single host address makes its whole /30 unusable, not just itself. */
static void test_host_route(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, USED("10.200.0.0/30", "10.200.0.5/32"), got), 0);
	assert_string_equal(got, "10.200.0.8/30");
	assert_int_equal(pick(POOL, 30, USED("10.200.0.3/32"), got), 0);
	assert_string_equal(got, "10.200.0.4/30");
}

/* The order of the used list does not matter, nor do overlapping entries. */
static void test_unsorted(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, USED("10.200.0.8/30", "10.200.0.4/30", "10.200.0.0/30"), got), 0);
	assert_string_equal(got, "10.200.0.12/30");
	assert_int_equal(pick(POOL, 30, USED("10.200.0.12/30", "10.200.0.0/30", "10.200.0.4/30"), got), 0);
	assert_string_equal(got, "10.200.0.8/30");
	assert_int_equal(pick(POOL, 30, USED("10.200.0.128/25", "10.200.0.0/30", "10.200.0.0/24",
					     "10.200.0.4/30"), got), 0);
	assert_string_equal(got, "10.200.1.0/30");
	/* A long span followed by a short one inside it. */
	assert_int_equal(pick(POOL, 30, USED("10.200.0.0/23", "10.200.0.100/30"), got), 0);
	assert_string_equal(got, "10.200.2.0/30");
}

/* Prefixes outside the pool are ignored, even adjacent ones; one holding the
 * pool counts. */
static void test_outside_pool(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 30, USED("192.168.1.0/24", "10.199.255.252/30",
					     "10.201.0.0/16", "172.17.0.0/16"), got), 0);
	assert_string_equal(got, "10.200.0.0/30");
	assert_int_equal(pick(POOL, 30, USED("10.192.0.0/12"), got), -ENOSPC);
	assert_int_equal(pick("10.200.0.0/23", 30, USED("10.200.1.0/24", "10.200.0.0/25",
							"10.199.0.0/16"), got), 0);
	assert_string_equal(got, "10.200.0.128/30");
}

/* Every /30 of the pool in use: -ENOSPC; free one and exactly it is found. */
static void test_full_pool(void **state)
{
	const size_t n = 1u << 14;  /* /16 divided in /30s */
	struct ip_prefix pool = net(POOL), ret = { 0 };
	struct ip_prefix *used = calloc(n, sizeof(*used));
	const size_t hole = 12345;

	assert_non_null(used);
	/* Backwards, so the order really has to be sorted out. */
	for (size_t i = 0; i < n; i++)
		used[i] = ip_prefix_v4(pool.addr.v4 + 4 * (uint32_t)(n - 1 - i), 30);
	assert_int_equal(ipam_pick(&pool, 30, used, n, &ret), -ENOSPC);
	used[n - 1 - hole] = used[n - 1];   /* a duplicate where the hole was */
	assert_int_equal(ipam_pick(&pool, 30, used, n, &ret), 0);
	assert_int_equal(ret.addr.v4, pool.addr.v4 + 4 * hole);
	assert_int_equal(ret.plen, 30);
	free(used);
}

/* A pool ending at 255.255.255.255: its last /30 can be picked, and when it
 * is taken the search ends there instead of wrapping around to 0.0.0.0. */
static void test_top_of_space(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick("255.255.255.0/24", 30,
			      USED("255.255.255.0/25", "255.255.255.128/26", "255.255.255.192/27",
				   "255.255.255.224/28", "255.255.255.240/29", "255.255.255.248/30"),
			      got), 0);
	assert_string_equal(got, "255.255.255.252/30");
	assert_int_equal(pick("255.255.255.0/24", 30,
			      USED("255.255.255.0/25", "255.255.255.128/26", "255.255.255.192/27",
				   "255.255.255.224/28", "255.255.255.240/29", "255.255.255.248/30",
				   "255.255.255.255/32"),
			      got), -ENOSPC);
	assert_int_equal(pick("255.255.255.252/30", 30, NULL, got), 0);
	assert_string_equal(got, "255.255.255.252/30");
	assert_int_equal(pick("255.255.255.252/30", 30, USED("255.255.255.252/30"), got), -ENOSPC);
	assert_int_equal(pick("0.0.0.0/0", 30, USED("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3"), got), 0);
	assert_string_equal(got, "224.0.0.0/30");
}

/* Other sizes: a /24 out of the pool, and a pick as large as the pool. */
static void test_other_plen(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 24, USED("10.200.0.0/30"), got), 0);
	assert_string_equal(got, "10.200.1.0/24");
	assert_int_equal(pick(POOL, 16, NULL, got), 0);
	assert_string_equal(got, "10.200.0.0/16");
	assert_int_equal(pick(POOL, 16, USED("10.200.77.0/24"), got), -ENOSPC);
	assert_int_equal(pick(POOL, 32, USED("10.200.0.0/31"), got), 0);
	assert_string_equal(got, "10.200.0.2/32");
}

/* A prefix length shorter than the pool's cannot fit: -EINVAL. */
static void test_plen_shorter(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 15, NULL, got), -EINVAL);
	assert_int_equal(pick(POOL, 8, NULL, got), -EINVAL);
}

/* plen > 32 is refused before any shift by 32 - plen (which would be
 * undefined: the sanitizer build would abort). */
static void test_plen_too_long(void **state)
{
	char got[IP_PREFIX_STRLEN];

	assert_int_equal(pick(POOL, 33, NULL, got), -EINVAL);
}

/* find_overlap: index of the first overlapping entry, or -1. */
static void test_find_overlap(void **state)
{
	struct ip_prefix used[] = { net("192.168.0.0/16"), net("10.200.0.4/30"), net("10.0.0.0/8") };
	struct ip_prefix a = net("10.200.0.4/30"), b = net("10.200.0.8/30"), c = net("172.16.0.0/12"),
		         d = net("192.168.7.0/24");

	assert_int_equal(ipam_find_overlap(&a, used, ARRAY_SIZE(used)), 1);
	assert_int_equal(ipam_find_overlap(&b, used, ARRAY_SIZE(used)), 2);
	assert_int_equal(ipam_find_overlap(&c, used, ARRAY_SIZE(used)), -1);
	assert_int_equal(ipam_find_overlap(&d, used, ARRAY_SIZE(used)), 0);
	assert_int_equal(ipam_find_overlap(&a, used, 0), -1);
}

/* The hint: the first free block at or after it, then from the start;
 * outside the pool, or of no family, it counts for nothing. */
static void test_hint(void **state)
{
	struct ip_prefix pool = net(POOL), used[] = { net("10.200.0.0/30"), net("10.200.0.12/30") };
	struct ip_addr at8 = ip_addr_v4(pool.addr.v4 + 8), at12 = ip_addr_v4(pool.addr.v4 + 12),
		       past = ip_addr_v4(pool.addr.v4 + 0xfffc), outside = ip_addr_v4(42), none = { 0 };
	struct ip_prefix used_end[] = { net("10.200.255.252/30") };
	char got[IP_PREFIX_STRLEN];
	struct ip_prefix ret;

	assert_int_equal(ipam_pick_from(&pool, 30, used, 2, &at8, &ret), 0);
	assert_string_equal(ip_prefix_str(&ret, got), "10.200.0.8/30");
	assert_int_equal(ipam_pick_from(&pool, 30, used, 2, &at12, &ret), 0);
	assert_string_equal(ip_prefix_str(&ret, got), "10.200.0.16/30");
	assert_int_equal(ipam_pick_from(&pool, 30, used_end, 1, &past, &ret), 0);
	assert_string_equal(ip_prefix_str(&ret, got), "10.200.0.0/30");
	assert_int_equal(ipam_pick_from(&pool, 30, used, 2, &outside, &ret), 0);
	assert_string_equal(ip_prefix_str(&ret, got), "10.200.0.4/30");
	assert_int_equal(ipam_pick_from(&pool, 30, used, 2, &none, &ret), 0);
	assert_string_equal(ip_prefix_str(&ret, got), "10.200.0.4/30");
}

/* Families never meet: IPv6 prefixes in the used list cannot overlap an
 * IPv4 pool, and an IPv6 /126 is refused (gateways get /64s). */
static void test_families(void **state)
{
	struct ip_prefix v6 = net("fd00::/64"), pool = net(POOL), ret;
	struct ip_prefix used[] = { net("::/0"), net("10.200.0.0/30") };

	assert_int_equal(ipam_pick(&v6, 126, NULL, 0, &ret), -EINVAL);
	assert_int_equal(ipam_pick(&pool, 30, used, ARRAY_SIZE(used), &ret), 0);
	assert_int_equal(ret.addr.family, AF_INET);
	assert_int_equal(ret.addr.v4, pool.addr.v4 + 4);
	assert_int_equal(ipam_find_overlap(&v6, used, ARRAY_SIZE(used)), 0);
	assert_int_equal(ipam_find_overlap(&pool, used, 1), -1);
}

/* /64s out of a /48: the first free one, skipping what the host uses (a
 * /64, a wider route, an address's /128 counting as its /64), and -ENOSPC
 * when the pool is full. */
static void test_pick6(void **state)
{
	char out[IP_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(pick("fd12:3456:789a::/48", 64, NULL, out), 0);
	assert_string_equal(out, "fd12:3456:789a::/64");
	assert_int_equal(pick("fd12:3456:789a::/48", 64, USED("fd12:3456:789a::/64",
							       "fd12:3456:789a:1::/64"), out), 0);
	assert_string_equal(out, "fd12:3456:789a:2::/64");
	assert_int_equal(pick("fd12:3456:789a::/48", 64, USED("fd12:3456:789a::/63",
							       "fd12:3456:789a:2::1/128"), out), 0);
	assert_string_equal(out, "fd12:3456:789a:3::/64");
	/* Other pools' prefixes, and IPv4 ones, do not count. */
	assert_int_equal(pick("fd12:3456:789a::/48", 64, USED("fd12:3456:789b::/48", "10.0.0.0/8",
							       "2001:db8::/32"), out), 0);
	assert_string_equal(out, "fd12:3456:789a::/64");
	/* A covering route takes the whole pool. */
	assert_int_equal(pick("fd12:3456:789a::/48", 64, USED("fd00::/8"), out), -ENOSPC);
	assert_int_equal(pick("fd12:3456:789a:ffff::/64", 64, USED("fd12:3456:789a:ffff::/64"), out),
			 -ENOSPC);
	/* The last /64 of the /48, after the rest is taken. */
	assert_int_equal(pick("fd12:3456:789a::/48", 64, USED("fd12:3456:789a::/49",
							       "fd12:3456:789a:8000::/50",
							       "fd12:3456:789a:c000::/51",
							       "fd12:3456:789a:e000::/52",
							       "fd12:3456:789a:f000::/53",
							       "fd12:3456:789a:f800::/54",
							       "fd12:3456:789a:fc00::/55",
							       "fd12:3456:789a:fe00::/56",
							       "fd12:3456:789a:ff00::/57",
							       "fd12:3456:789a:ff80::/58",
							       "fd12:3456:789a:ffc0::/59",
							       "fd12:3456:789a:ffe0::/60",
							       "fd12:3456:789a:fff0::/61",
							       "fd12:3456:789a:fff8::/62",
							       "fd12:3456:789a:fffc::/63"), out), 0);
	assert_string_equal(out, "fd12:3456:789a:fffe::/64");
	assert_int_equal(pick("fd12:3456:789a::/48", 65, NULL, out), -EINVAL);
}

/* The ULA /48: fd00::/8, the same for the same seed, another for another. */
static void test_ula(void **state)
{
	uint8_t seed[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct ip_prefix a = ipam_ula_pool(seed), b;
	char buf[IP_PREFIX_STRLEN];

	(void)state;
	assert_int_equal(a.addr.family, AF_INET6);
	assert_int_equal(a.plen, 48);
	assert_int_equal(a.addr.v6[0], 0xfd);
	for (int i = 6; i < 16; i++)
		assert_int_equal(a.addr.v6[i], 0);
	b = ipam_ula_pool(seed);
	assert_true(ip_prefix_eq(&a, &b));
	seed[15] ^= 1;
	b = ipam_ula_pool(seed);
	assert_false(ip_prefix_eq(&a, &b));
	assert_int_equal(ipam_subnet_usable(&a, NULL), 0);
	ip_prefix_str(&a, buf);
	assert_int_equal(strncmp(buf, "fd", 2), 0);
}

/* The ranges a gateway cannot use, at their edges: any overlap refuses,
 * with the range named; their neighbours pass; other families are refused
 * as unsupported. */
static void test_subnet_usable(void **state)
{
	static const struct {
		const char *net, *why;
	} bad[] = {
		{ "0.0.0.0/30", "0.0.0.0/8" },       { "0.255.255.252/30", "this network" },
		{ "127.0.0.0/8", "127.0.0.0/8" },    { "127.255.255.252/30", "loopback" },
		{ "224.0.0.0/30", "224.0.0.0/4" },   { "239.255.255.252/30", "multicast" },
		{ "240.0.0.0/30", "240.0.0.0/4" },   { "255.255.255.252/30", "255.255.255.255" },
		{ "0.0.0.0/0", "0.0.0.0/8" },        { "192.0.0.0/2", "224.0.0.0/4" },
		{ "120.0.0.0/5", "127.0.0.0/8" },
	};
	static const char *const ok[] = { "1.0.0.0/30", "126.255.255.252/30", "128.0.0.0/8",
					  "223.255.255.252/30", "10.200.0.0/16", "100.64.0.0/10",
					  "169.254.0.0/30" };
	static const char *const bad6[] = { "fe80::/64", "ff02::/64", "::1/128", "::/64",
					    "::ffff:0.0.0.0/96", "4000::/64", "fe00::/64" };
	static const char *const ok6[] = { "fd00::/64", "fc00::/64", "2001:db8:1::/64",
					   "3fff:ffff:ffff:ffff::/64", "fd12:3456:789a::/48" };

	for (size_t i = 0; i < ARRAY_SIZE(bad6); i++) {
		struct ip_prefix n = net(bad6[i]);
		const char *why = NULL;

		if (ipam_subnet_usable(&n, &why) != -EINVAL)
			fail_msg("%s accepted", bad6[i]);
		assert_contains(why, "fc00::/7");
	}
	for (size_t i = 0; i < ARRAY_SIZE(ok6); i++) {
		struct ip_prefix n = net(ok6[i]);

		if (ipam_subnet_usable(&n, NULL) != 0)
			fail_msg("%s refused", ok6[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ip_prefix n = net(bad[i].net);
		const char *why = NULL;

		if (ipam_subnet_usable(&n, &why) != -EINVAL)
			fail_msg("%s accepted", bad[i].net);
		assert_non_null(why);
		assert_contains(why, bad[i].why);
		assert_int_equal(ipam_subnet_usable(&n, NULL), -EINVAL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct ip_prefix n = net(ok[i]);
		const char *why = "untouched";

		if (ipam_subnet_usable(&n, &why) != 0)
			fail_msg("%s refused: %s", ok[i], why);
		assert_string_equal(why, "untouched");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_pick6),
		cmocka_unit_test(test_ula),
		cmocka_unit_test(test_skip_one),
		cmocka_unit_test(test_skip_wide),
		cmocka_unit_test(test_covering),
		cmocka_unit_test(test_host_route),
		cmocka_unit_test(test_unsorted),
		cmocka_unit_test(test_outside_pool),
		cmocka_unit_test(test_full_pool),
		cmocka_unit_test(test_top_of_space),
		cmocka_unit_test(test_other_plen),
		cmocka_unit_test(test_plen_shorter),
		cmocka_unit_test(test_plen_too_long),
		cmocka_unit_test(test_find_overlap),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_subnet_usable),
	};

	return cmocka_run_group_tests_name("ipam", tests, NULL, NULL);
}
