/* SPDX-License-Identifier: MIT */
/* dns: the namespace's resolv.conf rendered from the host's (pure part). */
#include "unit.h"

#include <stdio.h>

#include "nsgate/dns.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define HEADER "# written by nsgate for gateway web\n"

static struct gw_spec spec_auto(void)
{
	struct gw_spec s = { .name = "web", .dns_mode = GW_DNS_AUTO };

	return s;
}

/* Render and return the text (caller frees), checking the contract: 0
 * returned, both outputs set, and no warning along with a text. */
static char poison[] = "poison";

static char *render(const struct gw_spec *s, const char *host, const char *upstream,
		    const char **warn)
{
	char *out = poison;
	const char *w = poison;

	assert_int_equal(dns_render(s, host, upstream, &out, &w), 0);
	assert_ptr_not_equal(out, poison);
	assert_ptr_not_equal(w, poison);
	if (out)
		assert_null(w);   /* a warning only comes with nothing written */
	if (warn)
		*warn = w;
	return out;
}

/* systemd-resolved's stub: 127.0.0.53 is replaced by the upstream servers,
 * and the search and options lines are kept. */
static void test_loopback_replaced(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s,
			   "# This is /run/systemd/resolve/stub-resolv.conf\n"
			   "nameserver 127.0.0.53\n"
			   "options edns0 trust-ad\n"
			   "search lan example.com\n",
			   "nameserver 192.168.1.1\n"
			   "nameserver 1.1.1.1\n"
			   "search lan example.com\n",
			   NULL);

	assert_string_equal(out, HEADER
			    "options edns0 trust-ad\n"
			    "search lan example.com\n"
			    "nameserver 192.168.1.1\n"
			    "nameserver 1.1.1.1\n");
	assert_not_contains(out, "127.");
	free(out);
}

/* Any 127/8 nameserver is a loopback resolver, not only .53. */
static void test_loopback_any(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver 127.0.1.1\n", "nameserver 9.9.9.9\n", NULL);

	assert_string_equal(out, HEADER "nameserver 9.9.9.9\n");
	free(out);
}

/* Without a loopback server the upstream file is not consulted. */
static void test_upstream_unused(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver 9.9.9.9\n", "nameserver 1.1.1.1\n", NULL);

	assert_string_equal(out, HEADER "nameserver 9.9.9.9\n");
	free(out);
}

/* IPv6 nameservers are dropped (the namespace has no IPv6 route). */
static void test_ipv6_dropped(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver 2001:db8::1\nnameserver 9.9.9.9\nnameserver fe80::1%eth0\n",
			   NULL, NULL);

	assert_string_equal(out, HEADER "nameserver 9.9.9.9\n");
	free(out);
}

/* A server listed twice (or both on the host and upstream) appears once. */
static void test_duplicates(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver 1.1.1.1\nnameserver 1.1.1.1\nnameserver 127.0.0.53\n",
			   "nameserver 1.1.1.1\nnameserver 8.8.8.8", NULL);

	assert_string_equal(out, HEADER "nameserver 1.1.1.1\nnameserver 8.8.8.8\n");
	free(out);
}

/* At most three servers, the first three. */
static void test_at_most_three(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver 127.0.0.53\n",
			   "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n"
			   "nameserver 10.0.0.4\nnameserver 10.0.0.5\n",
			   NULL);

	assert_string_equal(out, HEADER "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n");
	free(out);
}

/* Comments, junk, blank and indented lines; domain kept, other keywords not. */
static void test_messy_input(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s,
			   "# nameserver 1.1.1.1\n"
			   "; nameserver 2.2.2.2\n"
			   "\n"
			   "nameserver\n"
			   "nameserver 300.1.1.1\n"
			   "nameserver 4.4.4.4 # trailing comment\n"
			   "\t nameserver   5.5.5.5\n"
			   "domain example.org\n"
			   "sortlist 130.155.160.0/255.255.240.0\n",
			   NULL, NULL);

	assert_string_equal(out, HEADER "domain example.org\nnameserver 4.4.4.4\nnameserver 5.5.5.5\n");
	free(out);
}

/* --dns none: nothing to write, no warning. */
static void test_none(void **state)
{
	struct gw_spec s = spec_auto();
	const char *warn;

	s.dns_mode = GW_DNS_NONE;
	assert_null(render(&s, "nameserver 9.9.9.9\n", NULL, &warn));
	assert_null(warn);
}

/* An explicit list is written as given; the host's files do not matter. */
static void test_explicit(void **state)
{
	struct gw_spec s = spec_auto();
	char *out;

	s.dns_mode = GW_DNS_LIST;
	s.n_dns = 2;
	s.dns[0] = ip_addr_v4(A(8, 8, 4, 4));
	s.dns[1] = ip_addr_v4(A(1, 0, 0, 1));
	out = render(&s, "nameserver 9.9.9.9\nsearch lan\n", "nameserver 1.1.1.1\n", NULL);
	assert_string_equal(out, HEADER "nameserver 8.8.4.4\nnameserver 1.0.0.1\n");
	free(out);
	out = render(&s, NULL, NULL, NULL);
	assert_string_equal(out, HEADER "nameserver 8.8.4.4\nnameserver 1.0.0.1\n");
	free(out);
}

/* Only a loopback server and nothing upstream: no file, and a warning
 * naming the upstream file. */
static void test_no_upstream(void **state)
{
	struct gw_spec s = spec_auto();
	const char *warn;

	assert_null(render(&s, "nameserver 127.0.0.53\n", NULL, &warn));
	assert_non_null(warn);
	assert_contains(warn, DNS_UPSTREAM_RESOLV);
	assert_null(render(&s, "nameserver 127.0.0.53\n", "nameserver ::1\n# empty\n", &warn));
	assert_contains(warn, "loopback");
}

/* No IPv4 server at all (or no host file): no file, and a warning. */
static void test_no_server(void **state)
{
	static const char *const hosts[] = { NULL, "", "search lan\n", "nameserver ::1\n" };
	struct gw_spec s = spec_auto();

	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
		const char *warn;

		assert_null(render(&s, hosts[i], "nameserver 1.1.1.1\n", &warn));
		assert_non_null(warn);
		assert_contains(warn, DNS_HOST_RESOLV);
	}
}

/* The header names the gateway. */
static void test_header(void **state)
{
	struct gw_spec s = spec_auto();
	char *out;

	snprintf(s.name, sizeof(s.name), "a.b-c_123456789");
	out = render(&s, "nameserver 9.9.9.9\n", NULL, NULL);
	assert_string_equal(out, "# written by nsgate for gateway a.b-c_123456789\nnameserver 9.9.9.9\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_replaced),
		cmocka_unit_test(test_loopback_any),
		cmocka_unit_test(test_upstream_unused),
		cmocka_unit_test(test_ipv6_dropped),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_at_most_three),
		cmocka_unit_test(test_messy_input),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_explicit),
		cmocka_unit_test(test_no_upstream),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_header),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
