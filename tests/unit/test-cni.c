/* SPDX-License-Identifier: MIT */
/* nsgate-cni's reading of the runtime's environment and network
 * configuration (src/cni/conf.c). Pure: runs anywhere. */
#include "unit.h"

#include <netinet/in.h>
#include <stdio.h>

#include "../../src/cni/cni.h"

static const struct cni_env add_env = {
	.command = "ADD", .container_id = "0123abcd", .netns = "/run/netns/c1", .ifname = "eth0",
};

static void env_bad(const struct cni_env *env, int code, const char *want)
{
	struct cni_error ce = { 0 };
	enum cni_cmd cmd;

	assert_int_equal(cni_env_parse(env, &cmd, &ce), -EINVAL);
	assert_int_equal(ce.code, code);
	assert_contains(ce.msg, want);
}

static void test_env(void **state)
{
	struct cni_env env = add_env;
	struct cni_error ce = { 0 };
	enum cni_cmd cmd;

	assert_int_equal(cni_env_parse(&env, &cmd, &ce), 0);
	assert_int_equal(cmd, CNI_ADD);
	env.command = "VERSION";
	env.container_id = env.netns = env.ifname = NULL;
	assert_int_equal(cni_env_parse(&env, &cmd, &ce), 0);
	assert_int_equal(cmd, CNI_VERSION);
	/* DEL without a namespace: it may be gone. */
	env = add_env;
	env.command = "DEL";
	env.netns = "";
	assert_int_equal(cni_env_parse(&env, &cmd, &ce), 0);
	assert_int_equal(cmd, CNI_DEL);

	env = add_env;
	env.command = NULL;
	env_bad(&env, CNI_ERR_ENV, "CNI_COMMAND: missing");
	env.command = "add";
	env_bad(&env, CNI_ERR_ENV, "unknown command");
	env = add_env;
	env.netns = NULL;
	env_bad(&env, CNI_ERR_ENV, "CNI_NETNS: missing");
	env.netns = "c1";
	env_bad(&env, CNI_ERR_ENV, "absolute");
	env = add_env;
	env.container_id = "-abc";
	env_bad(&env, CNI_ERR_ENV, "CNI_CONTAINERID");
	env.container_id = "a/b";
	env_bad(&env, CNI_ERR_ENV, "CNI_CONTAINERID");
	env = add_env;
	env.ifname = "a-name-much-too-long";
	env_bad(&env, CNI_ERR_ENV, "CNI_IFNAME");
	env.ifname = NULL;
	env_bad(&env, CNI_ERR_ENV, "CNI_IFNAME: missing");
}

static void test_args(void **state)
{
	struct cni_env env = add_env;
	struct cni_error ce = { 0 };
	enum cni_cmd cmd;

	env.args = "IgnoreUnknown=1;K8S_POD_NAME=web;K8S_POD_NAMESPACE=x";
	assert_int_equal(cni_env_parse(&env, &cmd, &ce), 0);
	env.args = "K8S_POD_NAME=web;IgnoreUnknown=true";
	assert_int_equal(cni_env_parse(&env, &cmd, &ce), 0);
	env.args = "IgnoreUnknown=1";
	assert_int_equal(cni_env_parse(&env, &cmd, &ce), 0);
	env.args = "K8S_POD_NAME=web";
	env_bad(&env, CNI_ERR_ENV, "unknown key \"K8S_POD_NAME\"");
	env.args = "IgnoreUnknown=0;K8S_POD_NAME=web";
	env_bad(&env, CNI_ERR_ENV, "unknown key");
	env.args = "IgnoreUnknown=maybe";
	env_bad(&env, CNI_ERR_ENV, "not a boolean");
	env.args = "novalue";
	env_bad(&env, CNI_ERR_ENV, "not KEY=VALUE");
	env.args = "=x";
	env_bad(&env, CNI_ERR_ENV, "not KEY=VALUE");
}

static int parse(const char *text, enum cni_cmd cmd, struct cni_conf *c, struct cni_error *ce)
{
	return cni_conf_parse(text, strlen(text), cmd, &add_env, c, ce);
}

static void conf_bad(const char *text, int code, const char *want)
{
	struct cni_conf c;
	struct cni_error ce = { 0 };

	assert_int_not_equal(parse(text, CNI_ADD, &c, &ce), 0);
	cni_conf_clear(&c);
	if (ce.code != code)
		fail_msg("'%s': code %d (%s), expected %d", text, ce.code, ce.msg, code);
	assert_contains(ce.msg, want);
}

#define HDR "\"cniVersion\": \"1.1.0\", \"name\": \"net1\", \"type\": \"nsgate\""

static void test_conf(void **state)
{
	struct cni_conf c;
	struct cni_error ce = { 0 };
	char want[GW_NAME_MAX + 1];

	assert_int_equal(parse("{" HDR ", \"args\": {\"x\": 1}, \"cni.dev/x\": 2}", CNI_ADD, &c, &ce), 0);
	cni_gateway_name("net1", "0123abcd", "eth0", want);
	assert_string_equal(c.spec.name, want);
	assert_string_equal(c.version, "1.1.0");
	assert_string_equal(c.network, "net1");
	assert_string_equal(c.spec.ns_ifname, "eth0");
	assert_int_equal(c.spec.netns_kind, GW_NETNS_PATH);
	assert_string_equal(c.spec.netns_path, "/run/netns/c1");
	assert_int_equal(c.spec.dns_mode, GW_DNS_NONE);
	assert_int_equal(c.spec.ipv6, GW_IPV6_OFF);
	assert_int_equal(c.spec.pool.addr.family, AF_UNSPEC);
	assert_null(c.prev);
	assert_int_equal(c.n_pubs, 0);
	cni_conf_clear(&c);

	assert_int_equal(parse("{" HDR ", \"subnetPool\": \"10.99.0.0/16\", \"uplink\": \"up0\", "
			       "\"noHost\": true, \"ipMasq\": true, \"firewall\": \"none\", "
			       "\"dns\": {\"nameservers\": [\"10.0.0.53\", \"2001:db8::53\"], "
			       "\"search\": [\"lab\"]}, \"prevResult\": {\"ips\": []}}",
			       CNI_CHECK, &c, &ce), 0);
	assert_int_equal(c.spec.pool.plen, 16);
	assert_string_equal(c.spec.uplink, "up0");
	assert_true(c.spec.no_host);
	assert_int_equal(c.spec.firewall, GW_FIREWALL_NONE);
	assert_int_equal(c.n_dns, 2);
	assert_non_null(c.prev);
	cni_conf_clear(&c);
}

static void test_conf_refused(void **state)
{
	conf_bad("[]", CNI_ERR_DECODE, "not a JSON object");
	conf_bad("{" HDR ",}", CNI_ERR_DECODE, "line 1");
	conf_bad("{\"name\": \"n\"}", CNI_ERR_CONFIG, "cniVersion");
	conf_bad("{\"cniVersion\": \"0.3.1\", \"name\": \"n\"}", CNI_ERR_VERSION, "0.3.1");
	conf_bad("{\"cniVersion\": 1, \"name\": \"n\"}", CNI_ERR_CONFIG, "must be a string");
	conf_bad("{\"cniVersion\": \"1.0.0\"}", CNI_ERR_CONFIG, "\"name\"");
	conf_bad("{\"cniVersion\": \"1.0.0\", \"name\": \"a b\"}", CNI_ERR_CONFIG, "\"name\"");
	conf_bad("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"type\": \"ptp\"}", CNI_ERR_CONFIG, "ptp");
	conf_bad("{" HDR ", \"subnetpool\": \"10.0.0.0/8\"}", CNI_ERR_FIELD, "unknown field");
	conf_bad("{" HDR ", \"ipam\": {\"type\": \"host-local\"}}", CNI_ERR_FIELD, "\"ipam\"");
	conf_bad("{" HDR ", \"ipMasq\": false}", CNI_ERR_FIELD, "ipMasq");
	conf_bad("{" HDR ", \"subnetPool\": \"10.99.0.1/16\"}", CNI_ERR_CONFIG, "subnetPool");
	conf_bad("{" HDR ", \"subnetPool\": \"10.99.0.0/31\"}", CNI_ERR_CONFIG, "subnetPool");
	conf_bad("{" HDR ", \"subnetPool\": \"fd00::/64\"}", CNI_ERR_CONFIG, "subnetPool");
	conf_bad("{" HDR ", \"uplink\": \"a/b\"}", CNI_ERR_CONFIG, "uplink");
	conf_bad("{" HDR ", \"noHost\": \"yes\"}", CNI_ERR_CONFIG, "must be a boolean");
	conf_bad("{" HDR ", \"firewall\": \"off\"}", CNI_ERR_CONFIG, "firewall");
	conf_bad("{" HDR ", \"network\": \"n1\", \"subnetPool\": \"10.9.0.0/16\"}", CNI_ERR_CONFIG,
		 "not with");
	conf_bad("{" HDR ", \"dns\": {\"nameservers\": [\"x\"]}}", CNI_ERR_CONFIG, "nameserver");
	conf_bad("{" HDR ", \"dns\": {\"nameservers\": [\"1.1.1.1\", \"1.1.1.2\", \"1.1.1.3\", "
		 "\"1.1.1.4\"]}}", CNI_ERR_CONFIG, "more than");
	conf_bad("{" HDR ", \"prevResult\": []}", CNI_ERR_CONFIG, "must be an object");
}

#define PM(x) "{" HDR ", \"runtimeConfig\": {\"portMappings\": [" x "]}}"

static void test_ports(void **state)
{
	struct cni_conf c;
	struct cni_error ce = { 0 };

	/* Podman's range 8000-8002 -> 80-82, one entry a port, out of order,
	 * beside a udp port bound to an address. */
	assert_int_equal(parse(PM("{\"hostPort\": 8001, \"containerPort\": 81, \"protocol\": \"tcp\"},"
				  "{\"hostPort\": 8000, \"containerPort\": 80, \"protocol\": \"tcp\"},"
				  "{\"hostPort\": 53, \"containerPort\": 5353, \"protocol\": \"udp\","
				  " \"hostIP\": \"127.0.0.1\"},"
				  "{\"hostPort\": 8002, \"containerPort\": 82, \"hostIP\": \"\"}"),
			       CNI_ADD, &c, &ce), 0);
	assert_int_equal(c.n_pubs, 2);
	assert_int_equal(c.pubs[0].proto, IPPROTO_TCP);
	assert_int_equal(c.pubs[0].host_port, 8000);
	assert_int_equal(c.pubs[0].port, 80);
	assert_int_equal(c.pubs[0].count, 3);
	assert_int_equal(c.pubs[0].host_addr.family, AF_UNSPEC);
	assert_int_equal(c.pubs[1].proto, IPPROTO_UDP);
	assert_int_equal(c.pubs[1].count, 1);
	assert_int_equal(c.pubs[1].host_addr.family, AF_INET);
	cni_conf_clear(&c);

	conf_bad(PM("{\"hostPort\": 80, \"containerPort\": 80}, {\"hostPort\": 80, \"containerPort\": 81}"),
		 CNI_ERR_CONFIG, "portMappings");
	conf_bad(PM("{\"hostPort\": 0, \"containerPort\": 80}"), CNI_ERR_CONFIG, "port 0");
	conf_bad(PM("{\"hostPort\": 65536, \"containerPort\": 80}"), CNI_ERR_CONFIG, "hostPort");
	conf_bad(PM("{\"hostPort\": 80.5, \"containerPort\": 80}"), CNI_ERR_CONFIG, "hostPort");
	conf_bad(PM("{\"containerPort\": 80}"), CNI_ERR_CONFIG, "hostPort");
	conf_bad(PM("{\"hostPort\": 80, \"containerPort\": 80, \"protocol\": \"icmp\"}"), CNI_ERR_CONFIG,
		 "protocol");
	conf_bad(PM("{\"hostPort\": 80, \"containerPort\": 80, \"hostIP\": \"::1\"}"), CNI_ERR_CONFIG,
		 "IPv4");
	conf_bad(PM("80"), CNI_ERR_CONFIG, "not an object");

	/* IPv6 host addresses with "ipv6" on or auto; "::" is every address. */
	assert_int_equal(parse("{" HDR ", \"ipv6\": \"on\", \"runtimeConfig\": {\"portMappings\": ["
			       "{\"hostPort\": 80, \"containerPort\": 80, \"hostIP\": \"2001:db8::1\"},"
			       "{\"hostPort\": 81, \"containerPort\": 81, \"hostIP\": \"::\"}]}}",
			       CNI_ADD, &c, &ce), 0);
	assert_int_equal(c.spec.ipv6, GW_IPV6_ON);
	assert_int_equal(c.n_pubs, 2);
	assert_int_equal(c.pubs[0].host_addr.family, AF_UNSPEC);  /* 81 on "::" sorts first */
	assert_int_equal(c.pubs[1].host_addr.family, AF_INET6);
	cni_conf_clear(&c);
	assert_int_equal(parse("{" HDR ", \"ipv6\": \"auto\"}", CNI_ADD, &c, &ce), 0);
	assert_int_equal(c.spec.ipv6, GW_IPV6_AUTO);
	cni_conf_clear(&c);
	conf_bad("{" HDR ", \"ipv6\": \"yes\"}", CNI_ERR_CONFIG, "ipv6");
	conf_bad(PM("{\"hostPort\": 80, \"containerPort\": 80, \"hostIP\": \"::\"}"), CNI_ERR_CONFIG,
		 "\"ipv6\" is off");
}

static void test_collapse(void **state)
{
	struct portmap v[] = {
		{ .proto = IPPROTO_TCP, .host_port = 10, .port = 10, .count = 1 },
		{ .proto = IPPROTO_TCP, .host_port = 12, .port = 12, .count = 1 },  /* a gap */
		{ .proto = IPPROTO_TCP, .host_port = 11, .port = 20, .count = 1 },  /* another target */
		{ .proto = IPPROTO_UDP, .host_port = 13, .port = 13, .count = 1 },
		{ .proto = IPPROTO_TCP, .host_port = 13, .port = 13, .count = 1 },
	};
	size_t n = cni_ports_collapse(v, ARRAY_SIZE(v));

	assert_int_equal(n, 4);
	assert_int_equal(v[0].host_port, 10);
	assert_int_equal(v[0].count, 1);
	assert_int_equal(v[1].host_port, 11);
	assert_int_equal(v[2].host_port, 12);
	assert_int_equal(v[2].count, 2);
	assert_int_equal(v[3].proto, IPPROTO_UDP);
	assert_int_equal(cni_ports_collapse(v, 0), 0);
}

static void test_gc(void **state)
{
	struct cni_conf c;
	struct cni_error ce = { 0 };
	char a[GW_NAME_MAX + 1];

	assert_int_equal(parse("{" HDR ", \"cni.dev/valid-attachments\": [{\"containerID\": \"c1\", "
			       "\"ifname\": \"eth0\"}, {\"containerID\": \"c2\", \"ifname\": \"net1\"}]}",
			       CNI_GC, &c, &ce), 0);
	assert_int_equal(c.n_valid, 2);
	cni_gateway_name("net1", "c2", "net1", a);
	assert_string_equal(c.valid[1].name, a);
	assert_int_equal(strlen(c.gc_prefix), strlen(GW_CNI_PREFIX) + 3);
	assert_int_equal(strncmp(a, c.gc_prefix, strlen(c.gc_prefix)), 0);
	cni_conf_clear(&c);
	assert_int_not_equal(parse("{" HDR ", \"cni.dev/valid-attachments\": [{\"ifname\": \"x\"}]}",
				   CNI_GC, &c, &ce), 0);
	assert_contains(ce.msg, "containerID");
	cni_conf_clear(&c);
}

static void test_names(void **state)
{
	char a[GW_NAME_MAX + 1], b[GW_NAME_MAX + 1];
	struct nsg_err e = { 0 };

	cni_gateway_name("net", "ab", "c", a);
	cni_gateway_name("net", "a", "bc", b);
	assert_string_not_equal(a, b);
	assert_int_equal(strlen(a), GW_NAME_MAX);
	assert_int_equal(strncmp(a, GW_CNI_PREFIX, strlen(GW_CNI_PREFIX)), 0);
	assert_int_equal(spec_name_check(a, NULL), 0);
	assert_true(spec_name_known(a));
	assert_int_equal(spec_name_own_check(a, &e), -EINVAL);
	assert_contains(e.why, "reserved for nsgate-cni");
	cni_gateway_name("net", "ab", "c", b);
	assert_string_equal(a, b);
	cni_gateway_name("net", "ab", "d", b);
	assert_string_not_equal(a, b);
	cni_gateway_name("other", "ab", "c", b);
	assert_string_not_equal(a, b);
	assert_memory_not_equal(a, b, strlen(GW_CNI_PREFIX) + 3);  /* the network's digits */
	assert_int_equal(spec_name_own_check("web", NULL), 0);
}

static void test_errors(void **state)
{
	struct cni_error ce = { 0 };
	struct nsg_err e = { 0 };
	char *s;

	nsg_fail_kind(&e, NSG_KIND_CONFLICT, -EADDRINUSE, "published by \"x\"", "port 80/tcp");
	cni_error_from(&ce, &e, -EADDRINUSE);
	assert_int_equal(ce.code, CNI_ERR_CONFLICT);
	assert_string_equal(ce.msg, "port 80/tcp: published by \"x\"");
	cni_error_from(&ce, NULL, -EPERM);
	assert_int_equal(ce.code, CNI_ERR_PERM);
	s = cni_error_json(NULL, &ce);
	assert_contains(s, "\"cniVersion\":\"1.1.0\"");
	assert_contains(s, "\"code\":101");
	assert_not_contains(s, "details");
	free(s);
	assert_true(cni_version_supported("0.4.0") && cni_version_supported("1.0.0"));
	assert_false(cni_version_supported("0.3.1") || cni_version_supported("1.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_conf_refused),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_gc),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("cni", tests, NULL, NULL);
}
