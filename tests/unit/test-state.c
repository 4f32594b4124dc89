/* SPDX-License-Identifier: MIT */
/* state: the state file's text, formatted and parsed back strictly. */
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>

#include "nsgate/state.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

#define GOLDEN                                  \
	"version=1\n"                           \
	"name=web\n"                            \
	"host_ifname=nsg-web\n"                 \
	"netns_kind=pid\n"                      \
	"netns_arg=1234\n"                      \
	"netns_path=/proc/1234/ns/net\n"        \
	"netns_created=0\n"                     \
	"netns_ino=4026532281\n"                \
	"subnet=10.200.0.4/30\n"                \
	"subnet_given=1\n"                      \
	"uplink=eth0\n"                         \
	"dns=1.1.1.1,8.8.8.8\n"

/* The state GOLDEN stands for. */
static void golden_state(struct gw_state *st)
{
	struct gw_spec *s = &st->spec;

	memset(st, 0, sizeof(*st));
	snprintf(s->name, sizeof(s->name), "web");
	snprintf(s->host_ifname, sizeof(s->host_ifname), "nsg-web");
	snprintf(s->ns_ifname, sizeof(s->ns_ifname), "%s", GW_NS_IFNAME_DEFAULT);
	s->netns_kind = GW_NETNS_PID;
	snprintf(s->netns_arg, sizeof(s->netns_arg), "1234");
	snprintf(s->netns_path, sizeof(s->netns_path), "/proc/1234/ns/net");
	st->netns_created = false;
	st->netns_ino = 4026532281u;
	s->subnet = ip_prefix_v4(A(10, 200, 0, 4), 30);
	s->subnet_given = true;
	snprintf(s->uplink, sizeof(s->uplink), "eth0");
	s->dns_mode = GW_DNS_LIST;
	s->n_dns = 2;
	s->dns[0] = ip_addr_v4(A(1, 1, 1, 1));
	s->dns[1] = ip_addr_v4(A(8, 8, 8, 8));
}

/* Every field a state file carries, compared one by one. */
static void assert_state_equal(const struct gw_state *a, const struct gw_state *b)
{
	assert_string_equal(a->spec.name, b->spec.name);
	assert_string_equal(a->spec.host_ifname, b->spec.host_ifname);
	assert_string_equal(a->spec.ns_ifname, b->spec.ns_ifname);
	assert_int_equal(a->spec.netns_kind, b->spec.netns_kind);
	assert_string_equal(a->spec.netns_arg, b->spec.netns_arg);
	assert_string_equal(a->spec.netns_path, b->spec.netns_path);
	assert_int_equal(a->netns_created, b->netns_created);
	assert_true(a->netns_ino == b->netns_ino);
	assert_int_equal(a->creating, b->creating);
	assert_int_equal(a->lo_set_up, b->lo_set_up);
	assert_true(ip_prefix_eq(&a->spec.subnet, &b->spec.subnet));
	assert_int_equal(a->spec.subnet_given, b->spec.subnet_given);
	assert_string_equal(a->spec.uplink, b->spec.uplink);
	assert_int_equal(a->spec.dns_mode, b->spec.dns_mode);
	assert_int_equal(a->spec.n_dns, b->spec.n_dns);
	for (unsigned i = 0; i < a->spec.n_dns && i < GW_DNS_MAX; i++)
		assert_true(ip_addr_eq(&a->spec.dns[i], &b->spec.dns[i]));
	assert_int_equal(a->spec.no_host, b->spec.no_host);
	assert_int_equal(a->spec.firewall, b->spec.firewall);
	assert_int_equal(a->spec.ipv6, b->spec.ipv6);
	assert_int_equal(a->spec.subnet6_given, b->spec.subnet6_given);
	assert_int_equal(a->spec.subnet6.addr.family, b->spec.subnet6.addr.family);
	if (a->spec.subnet6.addr.family == AF_INET6)
		assert_true(ip_prefix_eq(&a->spec.subnet6, &b->spec.subnet6));
}

/* GOLDEN with the line of key replaced by line (NULL: removed). */
static char *golden_with(const char *key, const char *line)
{
	static char out[4096];
	const char *p = GOLDEN;
	size_t kl = strlen(key);

	out[0] = '\0';
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl - p + 1;

		if (!strncmp(p, key, kl) && p[kl] == '=') {
			if (line)
				snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s\n", line);
		} else {
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%.*s", (int)len, p);
		}
		p += len;
	}
	return out;
}

/* The on-disk format is exactly this; changing it breaks existing files. */
static void test_format_golden(void **state)
{
	struct gw_state st;
	char buf[4096];

	golden_state(&st);
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN));
	assert_string_equal(buf, GOLDEN);
}

/* Parsing GOLDEN gives the state it was written from. */
static void test_parse_golden(void **state)
{
	struct gw_state want, got;

	golden_state(&want);
	memset(&got, 0xa5, sizeof(got));
	assert_int_equal(state_parse(GOLDEN, &got), 0);
	assert_state_equal(&got, &want);
}

/* Format then parse is the identity, for every kind of namespace and DNS
 * mode, with and without uplink, and at the limits of the numbers. */
static void test_round_trip(void **state)
{
	static const struct {
		enum gw_netns_kind kind;
		const char *arg, *path;
	} ns[] = {
		{ GW_NETNS_OWN, "", "/run/netns/web" },
		{ GW_NETNS_NAMED, "other", "/run/netns/other" },
		{ GW_NETNS_PID, "99", "/proc/99/ns/net" },
		{ GW_NETNS_PATH, "/var/run/netns/x y=z", "/var/run/netns/x y=z" },
	};
	static const uint64_t inos[] = { 0, 4026531840u, UINT64_MAX };
	char buf[3 * PATH_MAX + 512];
	int cases = 0;

	for (size_t k = 0; k < ARRAY_SIZE(ns); k++)
		for (int dns = 0; dns < 5; dns++)
			for (size_t i = 0; i < ARRAY_SIZE(inos); i++) {
				struct gw_state st, got;
				struct gw_spec *s = &st.spec;
				int n;

				memset(&st, 0, sizeof(st));
				snprintf(s->name, sizeof(s->name), "%s", i ? "a.b-c_123456789" : "web");
				spec_host_ifname(s->name, s->host_ifname);
				snprintf(s->ns_ifname, sizeof(s->ns_ifname), "%s",
					 k & 1 ? "net1" : GW_NS_IFNAME_DEFAULT);
				s->netns_kind = ns[k].kind;
				snprintf(s->netns_arg, sizeof(s->netns_arg), "%s", ns[k].arg);
				snprintf(s->netns_path, sizeof(s->netns_path), "%s", ns[k].path);
				st.netns_created = ns[k].kind == GW_NETNS_OWN;
				st.netns_ino = inos[i];
				s->subnet = i == 1 ? ip_prefix_v4(A(10, 9, 0, 0), 24)
						   : ip_prefix_v4(A(10, 200, 255, 252), 30);
				s->subnet_given = i == 1;
				snprintf(s->uplink, sizeof(s->uplink), "%s", dns & 1 ? "wlp0s20f3" : "");
				s->dns_mode = dns == 0 ? GW_DNS_AUTO : dns == 1 ? GW_DNS_NONE : GW_DNS_LIST;
				s->n_dns = dns >= 2 ? (unsigned)dns - 1 : 0;
				for (unsigned d = 0; d < s->n_dns; d++)
					s->dns[d] = ip_addr_v4(A(192, 0, 2, 10 + d));

				n = state_format(&st, buf, sizeof(buf));
				assert_true(n > 0);
				assert_int_equal((size_t)n, strlen(buf));
				memset(&got, 0x5a, sizeof(got));
				if (state_parse(buf, &got) != 0)
					fail_msg("cannot parse back:\n%s", buf);
				assert_state_equal(&got, &st);
				cases++;
			}
	assert_int_equal(cases, 4 * 5 * 3);
}

/* A buffer too small is an error, never a cut file. */
static void test_format_small(void **state)
{
	struct gw_state st;
	char buf[4096];
	size_t n = strlen(GOLDEN);

	golden_state(&st);
	assert_int_equal(state_format(&st, buf, n), -ENOBUFS);
	assert_int_equal(state_format(&st, buf, 10), -ENOBUFS);
	assert_int_equal(state_format(&st, buf, n + 1), n);
}

/* Damaged text is refused with -EBADMSG and the result left untouched. */
static void test_parse_damaged(void **state)
{
	static const struct {
		const char *key, *line;   /* line NULL: the key's line removed */
	} bad[] = {
		/* missing keys */
		{ "version", NULL }, { "name", NULL }, { "host_ifname", NULL }, { "subnet", NULL },
		/* lines without '=' or key */
		{ "uplink", "uplink eth0" }, { "uplink", "" }, { "uplink", "=eth0" },
		/* bad values */
		{ "version", "version=2" }, { "version", "version=0" }, { "version", "version=" },
		{ "version", "version=one" }, { "name", "name=" }, { "name", "name=a/b" },
		{ "name", "name=web\r" }, { "name", "name=1234567890123456" },
		{ "host_ifname", "host_ifname=nsg-1234567890123" },
		{ "netns_kind", "netns_kind=bogus" }, { "netns_kind", "netns_kind=" },
		{ "netns_kind", "netns_kind=PID" }, { "netns_created", "netns_created=2" },
		{ "netns_created", "netns_created=yes" }, { "netns_created", "netns_created=" },
		{ "netns_ino", "netns_ino=abc" }, { "netns_ino", "netns_ino=" },
		{ "netns_ino", "netns_ino=12x" },
		{ "netns_ino", "netns_ino=99999999999999999999999" },
		{ "subnet", "subnet=10.200.0.5/30" }, { "subnet", "subnet=abc" },
		{ "subnet", "subnet=" }, { "subnet", "subnet=fd00::/64" },
		{ "subnet_given", "subnet_given=true" },
		{ "uplink", "uplink=1234567890123456" }, { "dns", "dns=bogus" }, { "dns", "dns=" },
		{ "dns", "dns=1.1.1.1," }, { "dns", "dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4" },
		{ "dns", "dns=fe80::53" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gw_state got;
		const char *text = golden_with(bad[i].key, bad[i].line);

		memset(&got, 0, sizeof(got));
		snprintf(got.spec.name, sizeof(got.spec.name), "untouched");
		if (state_parse(text, &got) != -EBADMSG)
			fail_msg("accepted (%s -> %s):\n%s", bad[i].key,
				 bad[i].line ? bad[i].line : "removed", text);
		assert_string_equal(got.spec.name, "untouched");
	}
}

/* A file cut short (no final newline, or mid-line anywhere) is refused. */
static void test_parse_truncated(void **state)
{
	char buf[sizeof(GOLDEN)];
	struct gw_state got;

	for (size_t len = 1; len < strlen(GOLDEN); len++) {
		if (GOLDEN[len - 1] == '\n')
			continue;  /* cut at a line end: covered by the missing-key cases */
		memcpy(buf, GOLDEN, len);
		buf[len] = '\0';
		if (state_parse(buf, &got) != -EBADMSG)
			fail_msg("accepted a file cut at %zu bytes:\n%s", len, buf);
	}
	assert_int_equal(state_parse("", &got), -EBADMSG);
}

/* Unknown keys (from a newer nsgate) are skipped; known ones still count. */
static void test_parse_unknown_keys(void **state)
{
	struct gw_state want, got;
	char text[4096];

	golden_state(&want);
	snprintf(text, sizeof(text), "future_key=1\n%sports=tcp:80:8080\nx=\n", GOLDEN);
	assert_int_equal(state_parse(text, &got), 0);
	assert_state_equal(&got, &want);
}

/* A member of two networks: net_more round-trips, its names derived; a
 * file with a single network= line (all that existed before) loads with none. */
static void test_net_more(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	(void)state;
	golden_state(&st);
	snprintf(st.spec.network, sizeof(st.spec.network), "g1");
	ip_addr_parse("10.201.0.4", AF_INET, &st.spec.net_addr);
	assert_int_equal(spec_network_add(&st.spec, "g2", NULL), 0);
	assert_int_equal(spec_network_add(&st.spec, "g2", NULL), -EINVAL);
	ip_addr_parse("10.201.1.4", AF_INET, &st.spec.nets_more[0].addr);
	ip_prefix_parse("10.201.1.0/24", AF_INET, &st.spec.nets_more[0].subnet);
	assert_true(state_format(&st, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "network=g1\nnet_addr=10.201.0.4\nnet_more=g2 10.201.1.4 10.201.1.0/24\n"));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_int_equal(got.spec.n_nets_more, 1);
	assert_string_equal(got.spec.nets_more[0].name, "g2");
	assert_string_equal(got.spec.nets_more[0].bridge, "nsg-+g2");
	assert_string_equal(got.spec.nets_more[0].ns_ifname, "eth1");
	assert_true(spec_networks_same(&st.spec, &got.spec));
	got.spec.n_nets_more = 0;
	assert_false(spec_networks_same(&st.spec, &got.spec));
	/* A dual-stack further network: its /64 as a fourth field. */
	ip_prefix_parse("fd00:1:2:4001::/64", AF_INET6, &st.spec.nets_more[0].subnet6);
	assert_true(state_format(&st, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "net_more=g2 10.201.1.4 10.201.1.0/24 fd00:1:2:4001::/64\n"));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_true(ip_prefix_eq(&got.spec.nets_more[0].subnet6, &st.spec.nets_more[0].subnet6));
	assert_true(spec_wants_ipv6(&got.spec));
	snprintf(buf, sizeof(buf), "%snetwork=g1\nnet_addr=10.201.0.4\nnet_more=g2 10.201.1.4\n", GOLDEN);
	assert_int_equal(state_parse(buf, &got), -EBADMSG);
	snprintf(buf, sizeof(buf), "%snetwork=g1\nnet_addr=10.201.0.4\n"
		 "net_more=g2 10.201.1.4 10.201.1.0/24 fd00::/48\n", GOLDEN);
	assert_int_equal(state_parse(buf, &got), -EBADMSG);
	snprintf(buf, sizeof(buf), "%snetwork=g1\nnet_addr=10.201.0.4\n", GOLDEN);
	assert_int_equal(state_parse(buf, &got), 0);
	assert_int_equal(got.spec.n_nets_more, 0);
}

/* Order of the lines does not matter. */
static void test_parse_order(void **state)
{
	struct gw_state want, got;
	char text[4096];

	golden_state(&want);
	snprintf(text, sizeof(text), "%s%s", golden_with("version", NULL), "version=1\n");
	assert_int_equal(state_parse(text, &got), 0);
	assert_state_equal(&got, &want);
}

/* A netns path is any path, so it may hold a newline: the file then gets an
 * extra line (here one that overrides name=) and no longer parses back to
 * the same state. state_format should refuse (or escape) such values. */
static void test_format_newline_in_path(void **state)
{
	struct gw_state st, got;
	char buf[4096];
	int n;
	bool ok;

	golden_state(&st);
	st.spec.netns_kind = GW_NETNS_PATH;
	snprintf(st.spec.netns_arg, sizeof(st.spec.netns_arg), "/tmp/x\nname=evil");
	snprintf(st.spec.netns_path, sizeof(st.spec.netns_path), "/tmp/x\nname=evil");
	n = state_format(&st, buf, sizeof(buf));
	ok = n < 0 || (state_parse(buf, &got) == 0 && !strcmp(got.spec.name, st.spec.name) &&
		       !strcmp(got.spec.netns_path, st.spec.netns_path));
	assert_true(ok);
}

/* The namespace side's name: not written when it is the default, so the
 * file is GOLDEN (an old file) and parses back as the default; another
 * name is one more line and comes back as it was. */
static void test_ns_ifname_round_trip(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	golden_state(&st);
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN));
	assert_null(strstr(buf, "ns_ifname"));
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(GOLDEN, &got), 0);
	assert_string_equal(got.spec.ns_ifname, "eth0");

	snprintf(st.spec.ns_ifname, sizeof(st.spec.ns_ifname), "veth-ns.1");
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN "ns_ifname=veth-ns.1\n"));
	assert_string_equal(buf, GOLDEN "ns_ifname=veth-ns.1\n");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_state_equal(&got, &st);
	/* Given as the default, it is the default too. */
	assert_int_equal(state_parse(GOLDEN "ns_ifname=eth0\n", &got), 0);
	assert_string_equal(got.spec.ns_ifname, "eth0");
}

/* --no-host: a line only when set, so an older file (GOLDEN) loads as off
 * and an unset one is written exactly as before. */
static void test_no_host_round_trip(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	golden_state(&st);
	assert_false(st.spec.no_host);
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN));
	assert_null(strstr(buf, "no_host"));
	assert_int_equal(state_parse(GOLDEN, &got), 0);
	assert_false(got.spec.no_host);

	st.spec.no_host = true;
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN "no_host=1\n"));
	assert_string_equal(buf, GOLDEN "no_host=1\n");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_state_equal(&got, &st);
	assert_int_equal(state_parse(GOLDEN "no_host=0\n", &got), 0);
	assert_false(got.spec.no_host);
	assert_int_equal(state_parse(GOLDEN "no_host=yes\n", &got), -EBADMSG);
	assert_int_equal(state_parse(GOLDEN "no_host=\n", &got), -EBADMSG);
}

/* --firewall none: a line only then, so older files load as auto. */
static void test_firewall_round_trip(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	golden_state(&st);
	assert_int_equal(st.spec.firewall, GW_FIREWALL_AUTO);
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN));
	assert_null(strstr(buf, "firewall"));
	st.spec.firewall = GW_FIREWALL_NONE;
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN "firewall=none\n"));
	assert_string_equal(buf, GOLDEN "firewall=none\n");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_state_equal(&got, &st);
	assert_int_equal(state_parse(GOLDEN "firewall=auto\n", &got), 0);
	assert_int_equal(got.spec.firewall, GW_FIREWALL_AUTO);
	assert_int_equal(state_parse(GOLDEN "firewall=off\n", &got), -EBADMSG);
}

/* IPv6: lines only for a dual-stack gateway or a mode other than auto, so
 * an IPv4-only gateway's file is the same as before, and older files load
 * as IPv4-only gateways asked with auto. */
static void test_ipv6_round_trip(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	(void)state;
	golden_state(&st);
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN));
	assert_null(strstr(buf, "ipv6"));
	assert_null(strstr(buf, "subnet6"));
	assert_int_equal(ip_prefix_parse("fd12:3456:789a:5::/64", AF_INET6, &st.spec.subnet6), 0);
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN "subnet6=fd12:3456:789a:5::/64\n"));
	assert_string_equal(buf, GOLDEN "subnet6=fd12:3456:789a:5::/64\n");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_state_equal(&got, &st);
	st.spec.ipv6 = GW_IPV6_ON;
	st.spec.subnet6_given = true;
	assert_int_equal(state_format(&st, buf, sizeof(buf)) > 0, 1);
	assert_non_null(strstr(buf, "ipv6=on\nsubnet6=fd12:3456:789a:5::/64\nsubnet6_given=1\n"));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_state_equal(&got, &st);
	st.spec.ipv6 = GW_IPV6_OFF;
	st.spec.subnet6 = (struct ip_prefix){ 0 };
	st.spec.subnet6_given = false;
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN "ipv6=off\n"));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_state_equal(&got, &st);
	/* Damaged values: not a /64, not IPv6, an unknown mode. */
	assert_int_equal(state_parse(GOLDEN "subnet6=fd12:3456:789a:5::/48\n", &got), -EBADMSG);
	assert_int_equal(state_parse(GOLDEN "subnet6=10.0.0.0/30\n", &got), -EBADMSG);
	assert_int_equal(state_parse(GOLDEN "ipv6=maybe\n", &got), -EBADMSG);
}

/* The intent record and lo: lines only when set, like no_host, so a
 * complete gateway's file is the same as before they existed. */
static void test_creating_lo_round_trip(void **state)
{
	struct gw_state st, got;
	char buf[4096];

	golden_state(&st);
	assert_int_equal(state_parse(GOLDEN, &got), 0);
	assert_false(got.creating);
	assert_false(got.lo_set_up);
	st.creating = true;
	st.lo_set_up = true;
	assert_int_equal(state_format(&st, buf, sizeof(buf)),
			 strlen(GOLDEN "lo_set_up=1\ncreating=1\n"));
	assert_string_equal(buf, GOLDEN "lo_set_up=1\ncreating=1\n");
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(state_parse(buf, &got), 0);
	assert_true(got.creating);
	assert_true(got.lo_set_up);
	st.creating = false;
	assert_int_equal(state_format(&st, buf, sizeof(buf)), strlen(GOLDEN "lo_set_up=1\n"));
	assert_int_equal(state_parse(GOLDEN "creating=2\n", &got), -EBADMSG);
	assert_int_equal(state_parse(GOLDEN "lo_set_up=\n", &got), -EBADMSG);
}

/* A name the kernel would not take is refused both ways. */
static void test_ns_ifname_bad(void **state)
{
	static const char *const bad[] = { "", "a/b", "a:b", "eth 0", ".", "..",
					   "1234567890123456" };
	struct gw_state st, got;
	char text[4096], buf[4096];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "%sns_ifname=%s\n", GOLDEN, bad[i]);
		if (state_parse(text, &got) != -EBADMSG)
			fail_msg("accepted ns_ifname=\"%s\"", bad[i]);
	}
	golden_state(&st);
	st.spec.ns_ifname[0] = '\0';
	assert_int_equal(state_format(&st, buf, sizeof(buf)), -EINVAL);
	snprintf(st.spec.ns_ifname, sizeof(st.spec.ns_ifname), "x\nname=evil");
	assert_int_equal(state_format(&st, buf, sizeof(buf)), -EINVAL);
}

/* netns_ino is read with strtoull, which takes "-1" (as UINT64_MAX), " 5"
 * and "+5": the only number field not parsed strictly. */
static void test_parse_ino_strict(void **state)
{
	static const char *const lines[] = { "netns_ino=-1", "netns_ino= 5", "netns_ino=+5" };
	bool ok = true;

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct gw_state got;

		if (state_parse(golden_with("netns_ino", lines[i]), &got) != -EBADMSG)
			ok = false;
	}
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_golden),
		cmocka_unit_test(test_ns_ifname_round_trip),
		cmocka_unit_test(test_no_host_round_trip),
		cmocka_unit_test(test_firewall_round_trip),
		cmocka_unit_test(test_ipv6_round_trip),
		cmocka_unit_test(test_ns_ifname_bad),
		cmocka_unit_test(test_parse_golden),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_small),
		cmocka_unit_test(test_parse_damaged),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_unknown_keys),
		cmocka_unit_test(test_net_more),
		cmocka_unit_test(test_parse_order),
		cmocka_unit_test(test_format_newline_in_path),
		cmocka_unit_test(test_parse_ino_strict),
		cmocka_unit_test(test_creating_lo_round_trip),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
