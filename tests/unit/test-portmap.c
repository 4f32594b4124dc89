/* SPDX-License-Identifier: MIT */
/* portmap: the publish SPEC, its text, and the list arithmetic behind
 * publish, unpublish, apply and the ports file. Pure: runs anywhere. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "nsgate/portmap.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static struct portmap parse(const char *spec)
{
	struct portmap p;
	struct nsg_err e = { 0 };

	if (portmap_parse(spec, &p, &e) < 0)
		fail_msg("\"%s\" refused: %s: %s", spec, e.what, e.why);
	return p;
}

/* A port read back from the maps: one port, a target and an owner. */
static struct portmap have1(const char *owner, uint8_t proto, uint32_t host, uint16_t host_port,
			    uint16_t port)
{
	struct portmap p = { .proto = proto, .host_port = host_port, .port = port, .count = 1,
			     .to_addr = ip_addr_v4(A(10, 200, 0, 2)) };

	if (host)
		p.host_addr = ip_addr_v4(host);
	snprintf(p.owner, sizeof(p.owner), "%s", owner);
	return p;
}

static struct ip_addr v6(const char *s)
{
	struct ip_addr a;

	if (ip_addr_parse(s, AF_INET6, &a) < 0)
		fail_msg("\"%s\" is not IPv6", s);
	return a;
}

/* The ports of a dual-stack gateway: IPv6-bound (host NULL: unbound, as a
 * ports6 element without its ports4 twin) to the namespace's IPv6 address. */
static struct portmap have6(const char *owner, uint8_t proto, const char *host,
			    uint16_t host_port, uint16_t port)
{
	struct portmap p = have1(owner, proto, 0, host_port, port);

	p.to_addr = v6("fd00:0:0:1::2");
	if (host)
		p.host_addr = v6(host);
	return p;
}

/* ------------------------------------------------------------------ SPEC */

static void test_parse_ok(void **state)
{
	struct portmap p = parse("8080:80");

	assert_int_equal(p.host_addr.family, AF_UNSPEC);
	assert_int_equal(p.to_addr.family, AF_UNSPEC);
	assert_int_equal(p.host_port, 8080);
	assert_int_equal(p.port, 80);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_string_equal(p.owner, "");

	p = parse("127.0.0.1:5432:5432");
	assert_int_equal(p.host_addr.family, AF_INET);
	assert_int_equal(p.host_addr.v4, A(127, 0, 0, 1));
	assert_int_equal(p.host_port, 5432);

	p = parse("5000-5009:6000-6009/udp");
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.host_port, 5000);
	assert_int_equal(p.port, 6000);
	assert_int_equal(p.count, 10);

	p = parse("1-65535:1-65535/sctp");
	assert_int_equal(p.proto, IPPROTO_SCTP);
	assert_int_equal(p.count, 65535);
}

/* An IPv6 host address in brackets, as docker and podman write it. */
static void test_parse_v6(void **state)
{
	struct portmap p = parse("[2001:db8:1::1]:8080:80");
	struct ip_addr want;

	assert_int_equal(ip_addr_parse("2001:db8:1::1", AF_INET6, &want), 0);
	assert_int_equal(p.host_addr.family, AF_INET6);
	assert_true(ip_addr_eq(&p.host_addr, &want));
	assert_int_equal(p.to_addr.family, AF_UNSPEC);
	assert_int_equal(p.host_port, 8080);
	assert_int_equal(p.port, 80);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.proto, IPPROTO_TCP);

	p = parse("[fd12:3456:789a:1::1]:5000-5009:6000-6009/udp");
	assert_int_equal(p.host_addr.family, AF_INET6);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.host_port, 5000);
	assert_int_equal(p.port, 6000);
	assert_int_equal(p.count, 10);

	/* The longest address text there is, with the longest rest. */
	p = parse("[fdff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:10000-65535:10000-65535/sctp");
	assert_int_equal(p.host_addr.family, AF_INET6);
	assert_int_equal(p.count, 55536);
	/* Not link-local (fe80::/10 ends at febf), not multicast, not mapped. */
	assert_int_equal(parse("[fec0::1]:80:80").host_addr.family, AF_INET6);
	assert_int_equal(parse("[fe00::1]:80:80").host_addr.family, AF_INET6);
	assert_int_equal(parse("[::1.2.3.4]:80:80").host_addr.family, AF_INET6);
	assert_int_equal(parse("[::2]:80:80").host_addr.family, AF_INET6);
}

/* Each refusal names the part that is wrong, with the texts users see. */
static void test_parse_bad(void **state)
{
	static const struct {
		const char *spec, *what, *why;
		int code;
	} bad[] = {
		{ "80", "publish \"80\"", "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "1:2:3:4", "publish \"1:2:3:4\"", "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ ":80:80", "publish \":80:80\"", "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "0:80", "publish \"0:80\": host port \"0\"", "ports are 1 to 65535", -ERANGE },
		{ "80:65536", "publish \"80:65536\": port \"65536\"", "ports are 1 to 65535", -ERANGE },
		{ "90-80:90-80", "publish \"90-80:90-80\": host port \"90-80\"", "the range is reversed",
		  -EINVAL },
		{ "x:80", "publish \"x:80\": host port \"x\"",
		  "expected a port (1-65535) or a range such as 8000-8009", -EINVAL },
		{ "80-81:80", "publish \"80-81:80\"", "the host and namespace ranges differ in length",
		  -EINVAL },
		{ "80:80/icmp", "publish \"80:80/icmp\": \"icmp\"", "unknown protocol (tcp, udp or sctp)",
		  -EINVAL },
		{ "10.1:80:80", "publish \"10.1:80:80\": host address \"10.1\"", "not an IPv4 address",
		  -EINVAL },
		{ "0.0.0.0:80:80", "publish \"0.0.0.0:80:80\": host address \"0.0.0.0\"",
		  "leave the address out to publish on every host address", -EINVAL },
		{ "80:80:", "publish \"80:80:\"", "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "8080::80", "publish \"8080::80\"", "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]",
		  -EINVAL },
		{ "[::1]:80:80", "publish \"[::1]:80:80\"",
		  "IPv6 loopback cannot be forwarded into a namespace (the kernel has no route_localnet "
		  "for IPv6); publish without an address, or on one of the host's addresses", -EINVAL },
		{ "[0:0::1]:8080:80/udp", "publish \"[0:0::1]:8080:80/udp\"",
		  "IPv6 loopback cannot be forwarded into a namespace (the kernel has no route_localnet "
		  "for IPv6); publish without an address, or on one of the host's addresses", -EINVAL },
		{ "[::]:80:80", "publish \"[::]:80:80\": host address \"::\"",
		  "leave the address out to publish on every host address", -EINVAL },
		{ "[::ffff:192.0.2.1]:8080:80/udp",
		  "publish \"[::ffff:192.0.2.1]:8080:80/udp\": host address \"::ffff:192.0.2.1\"",
		  "an IPv4-mapped address: use the IPv4 form \"192.0.2.1:8080:80/udp\"", -EINVAL },
		{ "[::ffff:c000:201]:80:80",
		  "publish \"[::ffff:c000:201]:80:80\": host address \"::ffff:c000:201\"",
		  "an IPv4-mapped address: use the IPv4 form \"192.0.2.1:80:80\"", -EINVAL },
		{ "[fe80::1]:80:80", "publish \"[fe80::1]:80:80\": host address \"fe80::1\"",
		  "a link-local address is not usable as a published address", -EINVAL },
		{ "[febf:ffff::1]:80:80", "publish \"[febf:ffff::1]:80:80\": host address \"febf:ffff::1\"",
		  "a link-local address is not usable as a published address", -EINVAL },
		{ "[ff02::1]:80:80", "publish \"[ff02::1]:80:80\": host address \"ff02::1\"",
		  "a multicast address is not usable as a published address", -EINVAL },
		{ "[fe80::1%eth0]:80:80", "publish \"[fe80::1%eth0]:80:80\": host address \"fe80::1%eth0\"",
		  "not an IPv6 address", -EINVAL },
		{ "[192.0.2.1]:80:80", "publish \"[192.0.2.1]:80:80\": host address \"192.0.2.1\"",
		  "brackets are for IPv6 addresses: write an IPv4 one without them", -EINVAL },
		{ "[]:80:80", "publish \"[]:80:80\"", "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "[2001:db8::1]80:80", "publish \"[2001:db8::1]80:80\"",
		  "expected [ADDR]:HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "[2001:db8::1:80:80", "publish \"[2001:db8::1:80:80\"",
		  "expected [ADDR]:HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "[2001:db8::1]:80", "publish \"[2001:db8::1]:80\"",
		  "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "[2001:db8::1]:1:2:3", "publish \"[2001:db8::1]:1:2:3\"",
		  "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]", -EINVAL },
		{ "[2001:db8::1]:0:80", "publish \"[2001:db8::1]:0:80\": host port \"0\"",
		  "ports are 1 to 65535", -ERANGE },
		/* Without brackets: told how to write it, the protocol kept. */
		{ "2001:db8::1:8080:80/udp", "publish \"2001:db8::1:8080:80/udp\"",
		  "an IPv6 address goes in brackets: \"[2001:db8::1]:8080:80/udp\"", -EINVAL },
		{ "::1:80:80", "publish \"::1:80:80\"", "an IPv6 address goes in brackets: \"[::1]:80:80\"",
		  -EINVAL },
		{ "::ffff:192.0.2.1:80:80", "publish \"::ffff:192.0.2.1:80:80\"",
		  "an IPv6 address goes in brackets: \"[::ffff:192.0.2.1]:80:80\"", -EINVAL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct portmap p;
		struct nsg_err e = { 0 };

		assert_int_equal(portmap_parse(bad[i].spec, &p, &e), bad[i].code);
		assert_string_equal(e.what, bad[i].what);
		assert_string_equal(e.why, bad[i].why);
	}
}

static void test_parse_too_long(void **state)
{
	char spec[81];
	struct portmap p;
	struct nsg_err e = { 0 };

	memset(spec, '1', 80);
	spec[80] = '\0';
	assert_int_equal(portmap_parse(spec, &p, &e), -EINVAL);
	assert_string_equal(e.why, "too long");
	assert_non_null(strstr(e.what, "...\""));
}

/* The canonical text, and that it parses back to the same mapping. */
static void test_str(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "8080:80", "8080:80/tcp" },
		{ "127.0.0.1:5432:5432", "127.0.0.1:5432:5432/tcp" },
		{ "5000-5009:6000-6009/udp", "5000-5009:6000-6009/udp" },
		{ "53-53:53/udp", "53:53/udp" },
		{ "192.0.2.1:1-65535:1-65535/sctp", "192.0.2.1:1-65535:1-65535/sctp" },
		{ "[2001:db8:1::1]:8080:80", "[2001:db8:1::1]:8080:80/tcp" },
		{ "[2001:DB8:1:0:0:0:0:1]:53:53/udp", "[2001:db8:1::1]:53:53/udp" },
		{ "[fd00::1]:5000-5009:6000-6009/sctp", "[fd00::1]:5000-5009:6000-6009/sctp" },
		{ "[fdff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:10000-65535:10000-65535/sctp",
		  "[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:10000-65535:10000-65535/sctp" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char buf[PORTMAP_STRLEN];
		struct portmap p = parse(t[i].in), q;

		assert_string_equal(portmap_str(&p, buf), t[i].out);
		q = parse(buf);
		assert_true(ip_addr_eq(&p.host_addr, &q.host_addr));
		assert_int_equal(p.host_port, q.host_port);
		assert_int_equal(p.port, q.port);
		assert_int_equal(p.count, q.count);
		assert_int_equal(p.proto, q.proto);
	}
}

/* The target and owner of a read-back port are not part of its SPEC; the
 * longest IPv6 SPEC fits, and reads back. */
static void test_str_readback_and_v6(void **state)
{
	char buf[PORTMAP_STRLEN];
	struct portmap p = have1("web", IPPROTO_TCP, 0, 8080, 80), q;

	assert_string_equal(portmap_str(&p, buf), "8080:80/tcp");
	assert_int_equal(ip_addr_parse("fdff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", AF_INET6,
				       &p.host_addr), 0);
	p.host_port = p.port = 10000;
	p.count = 55536;
	p.proto = IPPROTO_SCTP;
	assert_string_equal(portmap_str(&p, buf),
			    "[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:10000-65535:10000-65535/sctp");
	assert_true(strlen(buf) < PORTMAP_STRLEN);
	q = parse(buf);
	assert_true(ip_addr_eq(&q.host_addr, &p.host_addr));
	assert_int_equal(q.count, p.count);
	p = have6("web", IPPROTO_UDP, "2001:db8::2", 53, 5353);
	assert_string_equal(portmap_str(&p, buf), "[2001:db8::2]:53:5353/udp");
}

static void test_proto_name(void **state)
{
	assert_string_equal(portmap_proto_name(IPPROTO_TCP), "tcp");
	assert_string_equal(portmap_proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(portmap_proto_name(IPPROTO_SCTP), "sctp");
	assert_string_equal(portmap_proto_name(IPPROTO_ICMP), "?");
}

static void test_overlap(void **state)
{
	struct portmap any = parse("8000-8009:80-89"), lo = parse("127.0.0.1:8009:1");
	struct portmap other = parse("127.0.0.2:8009:1"), udp = parse("8000:80/udp");
	struct portmap after = parse("8010:80");

	assert_true(portmap_overlap(&any, &lo));     /* unbound takes every address */
	assert_true(portmap_overlap(&lo, &any));
	assert_false(portmap_overlap(&lo, &other));  /* two bound addresses */
	assert_false(portmap_overlap(&any, &udp));
	assert_false(portmap_overlap(&any, &after));
	assert_true(portmap_overlap(&after, &after));
}

/* An IPv4-bound and an IPv6-bound mapping of one port never meet; an
 * unbound one meets both. */
static void test_overlap_families(void **state)
{
	struct portmap any = parse("8080:80"), four = parse("192.0.2.1:8080:80");
	struct portmap six = parse("[2001:db8:1::1]:8080:80"), six2 = parse("[2001:db8:1::2]:8080:80");
	struct portmap six_udp = parse("[2001:db8:1::1]:8080:80/udp");
	/* The same 32 bits as four, as the start of an IPv6 address: no
	 * comparison of raw bytes across families. */
	struct portmap lookalike = parse("[c000:201::]:8080:80");

	assert_true(portmap_overlap(&any, &six));
	assert_true(portmap_overlap(&six, &any));
	assert_true(portmap_overlap(&six, &six));
	assert_false(portmap_overlap(&four, &six));
	assert_false(portmap_overlap(&six, &four));
	assert_false(portmap_overlap(&six, &six2));
	assert_false(portmap_overlap(&six, &six_udp));
	assert_false(portmap_overlap(&four, &lookalike));
}

/* ------------------------------------------------------------------ checks */

static void test_check_disjoint(void **state)
{
	struct portmap v[] = { parse("9000:90"), parse("8000-8100:8000-8100"), parse("53:53/udp"),
			       parse("127.0.0.1:8100:80") };
	struct nsg_err e = { 0 };

	assert_int_equal(portmap_check_disjoint(v, 3, &e), 0);
	assert_int_equal(portmap_check_disjoint(v, 4, &e), -EINVAL);
	assert_string_equal(e.what, "publish \"127.0.0.1:8100:80/tcp\"");
	assert_string_equal(e.why, "overlaps \"8000-8100:8000-8100/tcp\" in the same command");
	assert_int_equal(portmap_check_disjoint(NULL, 0, &e), 0);
}

static void test_check_disjoint_families(void **state)
{
	struct portmap v[] = { parse("192.0.2.1:8080:80"), parse("[2001:db8:1::1]:8080:81"),
			       parse("[2001:db8:1::2]:8080:82"), parse("8080-8081:90-91") };
	struct nsg_err e = { 0 };

	assert_int_equal(portmap_check_disjoint(v, 3, &e), 0);
	assert_int_equal(portmap_check_disjoint(v + 1, 3, &e), -EINVAL);
	assert_string_equal(e.what, "publish \"8080-8081:90-91/tcp\"");
	assert_string_equal(e.why, "overlaps \"[2001:db8:1::1]:8080:81/tcp\" in the same command");
}

static void test_conflict(void **state)
{
	struct portmap have[] = { have1("web", IPPROTO_TCP, 0, 8080, 80),
				  have1("db", IPPROTO_TCP, A(127, 0, 0, 1), 5432, 5432),
				  have1("web", IPPROTO_UDP, 0, 53, 53) };
	struct gw_target to = { .v4 = ip_addr_v4(A(10, 200, 0, 2)) }, none = { 0 };
	struct nsg_err e = { 0 };
	struct portmap p;

	portmap_sort(have, ARRAY_SIZE(have));
	/* Published by web to the same place: idempotent for web only. */
	p = parse("8080:80");
	assert_int_equal(portmap_conflict(&p, "web", &to, have, 3, &e), 0);
	assert_int_equal(portmap_conflict(&p, "db", &to, have, 3, &e), -EADDRINUSE);
	assert_string_equal(e.what, "publish \"8080:80/tcp\"");
	assert_string_equal(e.why, "host port 8080/tcp is published by gateway \"web\"");
	/* The same gateway, another namespace port. */
	memset(&e, 0, sizeof(e));
	p = parse("8079-8080:79-80");
	p.port = 1000;
	assert_int_equal(portmap_conflict(&p, "web", &to, have, 3, &e), -EADDRINUSE);
	assert_string_equal(e.why, "host port 8080/tcp is already published to port 80 (unpublish it first)");
	/* Another target address is not "the same place" either. */
	p = parse("8080:80");
	assert_int_equal(portmap_conflict(&p, "web", &none, have, 3, NULL), -EADDRINUSE);
	/* An unbound request meets a bound port; another bound address does not. */
	p = parse("5432:1");
	assert_int_equal(portmap_conflict(&p, "web", &to, have, 3, NULL), -EADDRINUSE);
	p = parse("127.0.0.2:5432:1");
	assert_int_equal(portmap_conflict(&p, "web", &to, have, 3, NULL), 0);
	p = parse("53:53/sctp");
	assert_int_equal(portmap_conflict(&p, "db", &to, have, 3, NULL), 0);
}

/* A dual-stack gateway's ports (as ruleset_published reads them back: an
 * unbound port folded into its IPv4 element) against requests of both
 * families. */
static void test_conflict_dual_stack(void **state)
{
	struct portmap have[] = { have1("web", IPPROTO_TCP, 0, 8080, 80),
				  have6("web", IPPROTO_TCP, "2001:db8:1::1", 8443, 443),
				  have1("db", IPPROTO_TCP, A(192, 0, 2, 1), 5432, 5432),
				  have6("db", IPPROTO_TCP, NULL, 6000, 60) };
	struct gw_target web = { .v4 = ip_addr_v4(A(10, 200, 0, 2)), .v6 = v6("fd00:0:0:1::2") };
	struct gw_target web4 = { .v4 = web.v4 }, other6 = { .v4 = web.v4, .v6 = v6("fd00:0:0:2::2") };
	struct gw_target db = web;
	const size_t n = ARRAY_SIZE(have);
	struct nsg_err e = { 0 };
	struct portmap p;

	portmap_sort(have, n);
	/* Mapped to the gateway's IPv6 address already: idempotent, for it alone. */
	p = parse("[2001:db8:1::1]:8443:443");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, &e), 0);
	assert_int_equal(portmap_conflict(&p, "db", &db, have, n, &e), -EADDRINUSE);
	assert_string_equal(e.what, "publish \"[2001:db8:1::1]:8443:443/tcp\"");
	assert_string_equal(e.why, "host port 8443/tcp is published by gateway \"web\"");
	/* Another IPv6 target (or none: an IPv4-only gateway) is another place. */
	assert_int_equal(portmap_conflict(&p, "web", &other6, have, n, NULL), -EADDRINUSE);
	assert_int_equal(portmap_conflict(&p, "web", &web4, have, n, NULL), -EADDRINUSE);
	/* Another namespace port of the same gateway. */
	memset(&e, 0, sizeof(e));
	p = parse("[2001:db8:1::1]:8443:444");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, &e), -EADDRINUSE);
	assert_string_equal(e.why,
			    "host port 8443/tcp is already published to port 443 (unpublish it first)");
	/* The unbound port: idempotent with both families' targets. */
	p = parse("8080:80");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, NULL), 0);
	assert_int_equal(portmap_conflict(&p, "web", &web4, have, n, NULL), 0);
	/* An unbound claim meets a bound one of either family... */
	p = parse("8443:443");
	assert_int_equal(portmap_conflict(&p, "db", &db, have, n, NULL), -EADDRINUSE);
	p = parse("5432:5432");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, NULL), -EADDRINUSE);
	/* ...and a bound one of either family meets an unbound one. */
	p = parse("[2001:db8:1::1]:8080:80");
	assert_int_equal(portmap_conflict(&p, "db", &db, have, n, NULL), -EADDRINUSE);
	p = parse("192.0.2.9:6000:60");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, NULL), -EADDRINUSE);
	/* The same gateway binding an unbound port to one address is a change. */
	p = parse("[2001:db8:1::1]:8080:80");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, NULL), -EADDRINUSE);
	/* A ports6 element without a twin, to the IPv6 target: idempotent. */
	p = parse("6000:60");
	assert_int_equal(portmap_conflict(&p, "db", &db, have, n, NULL), 0);
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, NULL), -EADDRINUSE);
	/* The other family's binding of a port is no clash, either way. */
	p = parse("192.0.2.1:8443:1");
	assert_int_equal(portmap_conflict(&p, "db", &db, have, n, NULL), 0);
	p = parse("[2001:db8:1::1]:5432:1");
	assert_int_equal(portmap_conflict(&p, "web", &web, have, n, NULL), 0);
	p = parse("[2001:db8:1::2]:8443:1");
	assert_int_equal(portmap_conflict(&p, "db", &db, have, n, NULL), 0);
}

static void test_match(void **state)
{
	struct portmap have[] = { have1("web", IPPROTO_TCP, 0, 8081, 81),
				  have1("web", IPPROTO_TCP, 0, 8080, 80),
				  have1("web", IPPROTO_TCP, A(127, 0, 0, 1), 8080, 90) };
	struct portmap req[2];
	struct nsg_err e = { 0 };

	portmap_sort(have, ARRAY_SIZE(have));
	req[0] = parse("8080-8081:80-81");
	req[1] = parse("127.0.0.1:8080:90");
	assert_int_equal(portmap_match(req, 2, have, 3, &e), 0);
	req[1] = parse("127.0.0.1:8080:80");
	assert_int_equal(portmap_match(req, 2, have, 3, &e), -EINVAL);
	assert_string_equal(e.what, "unpublish \"127.0.0.1:8080:80/tcp\"");
	assert_string_equal(e.why, "host port 8080/tcp is not published to port 80 by this gateway");
	req[0] = parse("8080-8082:80-82");
	assert_int_equal(portmap_match(req, 1, have, 3, NULL), -EINVAL);
}

static void test_sort_lower_bound(void **state)
{
	struct portmap v[] = { have1("b", IPPROTO_UDP, 0, 53, 53),
			       have1("a", IPPROTO_TCP, A(127, 0, 0, 1), 80, 80),
			       have1("b", IPPROTO_TCP, 0, 80, 80), have1("a", IPPROTO_TCP, 0, 443, 443) };

	portmap_sort(v, ARRAY_SIZE(v));
	/* (proto, host_port, host_addr), every host address first */
	assert_int_equal(v[0].host_port, 80);
	assert_int_equal(v[0].host_addr.family, AF_UNSPEC);
	assert_int_equal(v[1].host_addr.family, AF_INET);
	assert_int_equal(v[2].host_port, 443);
	assert_int_equal(v[3].proto, IPPROTO_UDP);
	assert_int_equal(portmap_lower_bound(v, 4, IPPROTO_TCP, 80), 0);
	assert_int_equal(portmap_lower_bound(v, 4, IPPROTO_TCP, 81), 2);
	assert_int_equal(portmap_lower_bound(v, 4, IPPROTO_UDP, 1), 3);
	assert_int_equal(portmap_lower_bound(v, 4, IPPROTO_SCTP, 1), 4);

	portmap_sort_by_owner(v, ARRAY_SIZE(v));
	assert_string_equal(v[0].owner, "a");
	assert_int_equal(v[0].host_port, 80);
	assert_string_equal(v[1].owner, "a");
	assert_int_equal(v[1].host_port, 443);
	assert_string_equal(v[2].owner, "b");
	assert_int_equal(v[3].proto, IPPROTO_UDP);
	assert_int_equal(portmap_count_ports(v, 4), 4);
}

/* host_addr across families: unbound, IPv4, IPv6, each by address; the
 * order does not depend on the input's. */
static void test_sort_families(void **state)
{
	struct portmap v[] = { have6("a", IPPROTO_TCP, "2001:db8::2", 80, 80),
			       have1("a", IPPROTO_TCP, A(192, 0, 2, 2), 80, 80),
			       have6("a", IPPROTO_TCP, "2001:db8::1", 80, 80),
			       have1("a", IPPROTO_TCP, 0, 80, 80),
			       have1("a", IPPROTO_TCP, A(192, 0, 2, 1), 80, 80),
			       have6("a", IPPROTO_TCP, "::2", 80, 80),
			       have6("a", IPPROTO_TCP, "2001:db8::1", 79, 79) };
	static const char *const want[] = { "[2001:db8::1]:79:79/tcp", "80:80/tcp",
					    "192.0.2.1:80:80/tcp", "192.0.2.2:80:80/tcp",
					    "[::2]:80:80/tcp", "[2001:db8::1]:80:80/tcp",
					    "[2001:db8::2]:80:80/tcp" };
	const size_t n = ARRAY_SIZE(v);
	char buf[PORTMAP_STRLEN];

	for (size_t round = 0; round < n; round++) {
		struct portmap w[ARRAY_SIZE(v)];

		/* Every rotation of the input sorts the same. */
		for (size_t i = 0; i < n; i++)
			w[i] = v[(i + round) % n];
		portmap_sort(w, n);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(portmap_str(&w[i], buf), want[i]);
		assert_int_equal(portmap_lower_bound(w, n, IPPROTO_TCP, 80), 1);
		assert_int_equal(portmap_lower_bound(w, n, IPPROTO_TCP, 81), n);
	}
}

/* ------------------------------------------------------------------ arithmetic */

static void expect_list(const struct portmap *v, size_t n, const char *const *want, size_t n_want)
{
	char buf[PORTMAP_STRLEN];

	assert_int_equal(n, n_want);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(portmap_str(&v[i], buf), want[i]);
		assert_int_equal(v[i].to_addr.family, AF_UNSPEC);
		assert_string_equal(v[i].owner, "");
	}
}

static void test_combine(void **state)
{
	struct portmap a[] = { parse("8000-8004:8000-8004"), parse("127.0.0.1:53:53/udp") };
	struct portmap b[] = { parse("8005-8009:8005-8009"), parse("7999:7999") };
	struct portmap c[] = { parse("8002:9002") };
	_cleanup_free_ struct portmap *v = NULL;
	size_t n;

	/* Added ports join the ranges they continue. */
	assert_int_equal(portmap_combine(a, 2, b, 2, false, &v, &n), 0);
	expect_list(v, n, (const char *[]){ "7999-8009:7999-8009/tcp", "127.0.0.1:53:53/udp" }, 2);
	free(v);
	/* A port mapped anew replaces the old mapping. */
	assert_int_equal(portmap_combine(a, 1, c, 1, false, &v, &n), 0);
	expect_list(v, n, (const char *[]){ "8000-8001:8000-8001/tcp", "8002:9002/tcp",
					    "8003-8004:8003-8004/tcp" }, 3);
	free(v);
	/* Subtracting is by host port, whatever the namespace port. */
	assert_int_equal(portmap_combine(a, 2, c, 1, true, &v, &n), 0);
	expect_list(v, n, (const char *[]){ "8000-8001:8000-8001/tcp", "8003-8004:8003-8004/tcp",
					    "127.0.0.1:53:53/udp" }, 3);
	free(v);
	assert_int_equal(portmap_combine(a, 2, a, 2, true, &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(portmap_combine(NULL, 0, NULL, 0, false, &v, &n), 0);
	assert_int_equal(n, 0);
}

/* The same ports on an IPv4 address, an IPv6 one and every address are
 * three mappings; ranges never join across families. */
static void test_combine_families(void **state)
{
	struct portmap a[] = { parse("8000-8001:8000-8001"), parse("192.0.2.1:8000:8000"),
			       parse("[2001:db8::1]:8000:8000") };
	struct portmap b[] = { parse("[2001:db8::1]:8001:8001"), parse("8002:8002") };
	struct portmap c[] = { parse("[2001:db8::1]:8000:9000") };
	_cleanup_free_ struct portmap *v = NULL;
	size_t n;

	assert_int_equal(portmap_combine(a, 3, b, 2, false, &v, &n), 0);
	expect_list(v, n, (const char *[]){ "8000-8002:8000-8002/tcp", "192.0.2.1:8000:8000/tcp",
					    "[2001:db8::1]:8000-8001:8000-8001/tcp" }, 3);
	free(v);
	/* Replacing or subtracting the IPv6 port leaves the others. */
	assert_int_equal(portmap_combine(a, 3, c, 1, false, &v, &n), 0);
	expect_list(v, n, (const char *[]){ "8000-8001:8000-8001/tcp", "192.0.2.1:8000:8000/tcp",
					    "[2001:db8::1]:8000:9000/tcp" }, 3);
	free(v);
	assert_int_equal(portmap_combine(a, 3, c, 1, true, &v, &n), 0);
	expect_list(v, n, (const char *[]){ "8000-8001:8000-8001/tcp", "192.0.2.1:8000:8000/tcp" },
		    2);
}

static void test_diff(void **state)
{
	struct portmap have[] = { have1("web", IPPROTO_TCP, 0, 8080, 80),
				  have1("web", IPPROTO_TCP, 0, 8081, 81),
				  have1("web", IPPROTO_UDP, 0, 53, 53) };
	struct portmap want[] = { parse("8080-8081:80-81"), parse("53:5353/udp"), parse("9000:90") };
	_cleanup_free_ struct portmap *del = NULL, *add = NULL;
	size_t n_del, n_add;

	assert_int_equal(portmap_diff(have, 3, want, 3, &del, &n_del, &add, &n_add), 0);
	expect_list(del, n_del, (const char *[]){ "53:53/udp" }, 1);
	expect_list(add, n_add, (const char *[]){ "9000:90/tcp", "53:5353/udp" }, 2);
	free(del);
	free(add);
	assert_int_equal(portmap_diff(have, 3, NULL, 0, &del, &n_del, &add, &n_add), 0);
	assert_int_equal(n_del, 3);
	assert_int_equal(n_add, 0);
}

static void test_diff_families(void **state)
{
	struct portmap have[] = { have6("web", IPPROTO_TCP, "2001:db8::1", 8080, 80),
				  have1("web", IPPROTO_TCP, A(192, 0, 2, 1), 8080, 80),
				  have1("web", IPPROTO_TCP, 0, 9000, 90),
				  have6("web", IPPROTO_TCP, "2001:db8::1", 9000, 90) };
	struct portmap want[] = { parse("192.0.2.1:8080:80"), parse("[2001:db8::1]:8080:81"),
				  parse("9000:90"), parse("[2001:db8::2]:9000:90") };
	_cleanup_free_ struct portmap *del = NULL, *add = NULL;
	size_t n_del, n_add;

	assert_int_equal(portmap_diff(have, 4, want, 4, &del, &n_del, &add, &n_add), 0);
	expect_list(del, n_del, (const char *[]){ "[2001:db8::1]:8080:80/tcp",
						  "[2001:db8::1]:9000:90/tcp" }, 2);
	expect_list(add, n_add, (const char *[]){ "[2001:db8::1]:8080:81/tcp",
						  "[2001:db8::2]:9000:90/tcp" }, 2);
}

/* 10,000 ports in one range against 10,000 one-port mappings: one array
 * each, and quick. */
static void test_many_ports(void **state)
{
	struct portmap range = parse("10000-19999:10000-19999");
	_cleanup_free_ struct portmap *have = calloc(10000, sizeof(*have));
	_cleanup_free_ struct portmap *del = NULL, *add = NULL, *v = NULL;
	size_t n_del, n_add, n;

	assert_non_null(have);
	for (unsigned i = 0; i < 10000; i++)
		have[i] = have1("web", IPPROTO_TCP, 0, 10000 + i, 10000 + i + (i == 5000));
	portmap_sort(have, 10000);
	assert_int_equal(portmap_match(&range, 1, have, 10000, NULL), -EINVAL);
	assert_int_equal(portmap_diff(have, 10000, &range, 1, &del, &n_del, &add, &n_add), 0);
	assert_int_equal(n_del, 1);
	assert_int_equal(n_add, 1);
	assert_int_equal(add[0].host_port, 15000);
	assert_int_equal(portmap_combine(have, 10000, add, 1, false, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].count, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_too_long),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_str_readback_and_v6),
		cmocka_unit_test(test_proto_name),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_overlap_families),
		cmocka_unit_test(test_check_disjoint),
		cmocka_unit_test(test_check_disjoint_families),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_conflict_dual_stack),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_sort_lower_bound),
		cmocka_unit_test(test_sort_families),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_combine_families),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_families),
		cmocka_unit_test(test_many_ports),
	};

	return cmocka_run_group_tests_name("portmap", tests, NULL, NULL);
}
