/* SPDX-License-Identifier: MIT */
/* dns: the namespace's resolv.conf rendered from the host's (pure part),
 * and its files in a stand-in for /etc/netns. */
#include "unit.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsgate/dns.h"

#define A(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define HEADER "# written by nsgate for gateway web\n"

static struct gw_spec spec_auto(void)
{
	struct gw_spec s = { .name = "web", .dns_mode = GW_DNS_AUTO };

	return s;
}

/* A dual-stack gateway's spec: its /64 set. */
static struct gw_spec spec_dual(void)
{
	struct gw_spec s = spec_auto();

	assert_int_equal(ip_prefix_parse("fd00:1:2:3::/64", AF_INET6, &s.subnet6), 0);
	return s;
}

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(text, AF_UNSPEC, &a), 0);
	return a;
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

/* More search/options text than is kept (1 KiB): lines are kept whole or
 * left out, so the nameserver lines after them stay lines of their own
 * (fuzz-resolv found one written onto a cut options line). */
static void test_long_options_kept_whole(void **state)
{
	struct gw_spec s = spec_auto();
	char host[4096] = "";
	char *out;

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(host, "options ndots:1 timeout:2 attempts:3 rotate\n");
	strcat(host, "nameserver 192.0.2.53\n");
	out = render(&s, host, NULL, NULL);
	assert_non_null(out);
	assert_non_null(strstr(out, "\nnameserver 192.0.2.53\n"));
	for (const char *l = out; *l; l = strchr(l, '\n') + 1)
		assert_true(l[0] == '#' || !strncmp(l, "nameserver ", 11) ||
			    !strncmp(l, "options ndots:1 timeout:2 attempts:3 rotate\n", 44));
	free(out);
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

/* IPv4 only: IPv6 nameservers are dropped (the namespace has no IPv6 route). */
static void test_ipv6_dropped(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver 2001:db8::1\nnameserver 9.9.9.9\nnameserver fe80::1%eth0\n",
			   NULL, NULL);

	assert_string_equal(out, HEADER "nameserver 9.9.9.9\n");
	free(out);
}

/* Dual stack: the host's IPv6 servers kept in the file's order with the
 * IPv4 ones; link-local ones (with a zone or without) and IPv4-mapped ones
 * left out. */
static void test_dual_keeps_ipv6(void **state)
{
	struct gw_spec s = spec_dual();
	char *out = render(&s,
			   "search lan\n"
			   "nameserver fe80::1%eth0\n"
			   "nameserver 2001:db8::53\n"
			   "nameserver fe80::53\n"
			   "nameserver ::ffff:192.0.2.9\n"
			   "nameserver 192.0.2.53\n",
			   NULL, NULL);

	assert_string_equal(out, HEADER "search lan\nnameserver 2001:db8::53\nnameserver 192.0.2.53\n");
	free(out);
}

/* Dual stack: ::1 (and ::, which the kernel sends to ::1) is a loopback
 * resolver like 127.0.0.53: replaced by the upstream servers of both
 * families, each once. */
static void test_dual_loopback_replaced(void **state)
{
	struct gw_spec s = spec_dual();
	char *out = render(&s, "nameserver ::1\n",
			   "nameserver 2001:db8::1\nnameserver fe80::1%eth0\nnameserver 192.0.2.1\n", NULL);

	assert_string_equal(out, HEADER "nameserver 2001:db8::1\nnameserver 192.0.2.1\n");
	free(out);
	out = render(&s, "nameserver 127.0.0.53\nnameserver ::1\nnameserver 2001:db8::1\n",
		     "nameserver 2001:db8::1\nnameserver 192.0.2.1\n", NULL);
	assert_string_equal(out, HEADER "nameserver 2001:db8::1\nnameserver 192.0.2.1\n");
	free(out);
	out = render(&s, "nameserver ::\n", "nameserver 2001:db8::2\n", NULL);
	assert_string_equal(out, HEADER "nameserver 2001:db8::2\n");
	free(out);
}

/* IPv4 only: ::1 is no loopback resolver of its own (its upstream servers
 * are not looked up), as before dual stack. */
static void test_ipv4_only_replaces_v6_loopback(void **state)
{
	struct gw_spec s = spec_auto();
	char *out = render(&s, "nameserver ::1\nnameserver 9.9.9.9\n",
			   "nameserver 1.1.1.1\nnameserver 2001:db8::53\n", NULL);

	/* A resolver on the host's ::1 is the host's own, as on 127.0.0.53:
	 * its upstream IPv4 servers replace it, its IPv6 ones stay out. */
	assert_string_equal(out, HEADER "nameserver 9.9.9.9\nnameserver 1.1.1.1\n");
	free(out);
}

/* Dual stack: still three at most, the first three whatever the family. */
static void test_dual_at_most_three(void **state)
{
	struct gw_spec s = spec_dual();
	char *out = render(&s,
			   "nameserver 2001:db8::1\nnameserver 10.0.0.1\nnameserver 2001:db8::2\n"
			   "nameserver 10.0.0.2\n",
			   NULL, NULL);

	assert_string_equal(out, HEADER "nameserver 2001:db8::1\nnameserver 10.0.0.1\n"
				    "nameserver 2001:db8::2\n");
	free(out);
}

/* Dual stack with only link-local (or loopback and nothing upstream)
 * servers: no file, and the warning says which. */
static void test_dual_no_server(void **state)
{
	struct gw_spec s = spec_dual();
	const char *warn;

	assert_null(render(&s, "nameserver fe80::1%eth0\nnameserver fe80::2\n", NULL, &warn));
	assert_contains(warn, DNS_HOST_RESOLV);
	assert_contains(warn, "link-local");
	assert_null(render(&s, "nameserver ::1\n", "nameserver fe80::1%eth0\n", &warn));
	assert_contains(warn, "loopback");
	assert_contains(warn, DNS_UPSTREAM_RESOLV);
}

/* What a dual-stack file holds renders to itself (the fuzz target's
 * fixed point, for both families). */
static void test_dual_fixed_point(void **state)
{
	struct gw_spec s = spec_dual();
	char *out = render(&s, "options edns0\nnameserver 2001:db8::53\nnameserver 192.0.2.53\n",
			   NULL, NULL);
	char *again = render(&s, out, NULL, NULL);

	assert_string_equal(again, out);
	free(out);
	free(again);
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

/* --dns with IPv6 servers: all of them for a dual-stack gateway, the IPv4
 * ones only for an IPv4-only one, and nothing (with a warning) when only
 * IPv6 ones were given to an IPv4-only one. */
static void test_explicit_v6(void **state)
{
	struct gw_spec dual = spec_dual(), v4 = spec_auto();
	const char *warn;
	char *out;

	dual.dns_mode = v4.dns_mode = GW_DNS_LIST;
	dual.n_dns = v4.n_dns = 3;
	dual.dns[0] = v4.dns[0] = addr("2001:db8::53");
	dual.dns[1] = v4.dns[1] = addr("192.0.2.53");
	dual.dns[2] = v4.dns[2] = addr("::1");
	out = render(&dual, "nameserver 9.9.9.9\n", NULL, NULL);
	assert_string_equal(out, HEADER "nameserver 2001:db8::53\nnameserver 192.0.2.53\nnameserver ::1\n");
	free(out);
	out = render(&v4, "nameserver 9.9.9.9\n", NULL, NULL);
	assert_string_equal(out, HEADER "nameserver 192.0.2.53\n");
	free(out);
	v4.n_dns = 1;
	assert_null(render(&v4, "nameserver 9.9.9.9\n", NULL, &warn));
	assert_contains(warn, "IPv4 only");
	assert_contains(warn, "--dns");
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

/* IPv4 only: no IPv4 server at all (or no host file): no file, and a warning. */
static void test_no_server(void **state)
{
	static const char *const hosts[] = { NULL, "", "search lan\n", "nameserver 2001:db8::1\n" };
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

/* ------------------------------------------------------------ the files
 * The dns_*_at functions against a throwaway directory standing in for
 * /etc/netns: what a planted link or a kill's leftover must not change. */

struct etc {
	char path[64];
	int fd;
};

static int etc_setup(void **state)
{
	struct etc *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/nsgate-dns-XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = t;
	return t->fd < 0 ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int etc_teardown(void **state)
{
	struct etc *t = *state;

	close(t->fd);
	nftw(t->path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* PATH of the stand-in's entry rel (a static buffer: one at a time). */
static const char *at(void **state, const char *rel)
{
	static char path[PATH_MAX];
	struct etc *t = *state;

	snprintf(path, sizeof(path), "%s/%s", t->path, rel);
	return path;
}

static void put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *text_of(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void plant(void **state, const char *target, const char *name)
{
	char t[PATH_MAX];

	snprintf(t, sizeof(t), "%s", at(state, target));
	assert_int_equal(symlink(t, at(state, name)), 0);
}

/* Under umask 077 the directory is 0755 and the file 0644: non-root
 * programs in the namespace read it. What is written reads back. */
static void test_write_modes(void **state)
{
	struct etc *t = *state;
	struct ip_addr got[3];
	struct nsg_err e = { 0 };
	mode_t old = umask(077);
	struct stat st;

	assert_int_equal(dns_exists_at(t->fd, "web"), -ENOENT);
	assert_int_equal(dns_write_at(t->fd, "web", "nameserver 192.0.2.53\n", &e), 0);
	umask(old);
	assert_int_equal(stat(at(state, "web"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(at(state, "web/resolv.conf"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(dns_exists_at(t->fd, "web"), 0);
	assert_int_equal(dns_read_servers_at(t->fd, "web", got, 3), 1);
	assert_int_equal(got[0].v4, A(192, 0, 2, 53));
}

/* The servers read back are of both families, in the file's order,
 * without the loopback and link-local ones (they never leave the
 * namespace: no rule is needed for them). */
static void test_read_servers_both(void **state)
{
	struct etc *t = *state;
	struct nsg_err e = { 0 };
	struct ip_addr got[3], want6 = addr("2001:db8::53");

	assert_int_equal(dns_write_at(t->fd, "web",
				      "nameserver ::1\nnameserver 2001:db8::53\nnameserver fe80::1%eth0\n"
				      "nameserver 192.0.2.53\n",
				      &e),
			 0);
	assert_int_equal(dns_read_servers_at(t->fd, "web", got, 3), 2);
	assert_true(ip_addr_eq(&got[0], &want6));
	assert_int_equal(got[1].family, AF_INET);
	assert_int_equal(got[1].v4, A(192, 0, 2, 53));
	assert_int_equal(dns_read_servers_at(t->fd, "web", got, 1), 1);
	assert_true(ip_addr_eq(&got[0], &want6));
}

/* NAME a link to another directory (the brief's "-> /etc"): refused by
 * every function, and the directory it points to keeps its resolv.conf. */
static void test_dir_link_refused(void **state)
{
	struct etc *t = *state;
	struct nsg_err e = { 0 };
	struct ip_addr got[3];

	assert_int_equal(mkdir(at(state, "victim"), 0755), 0);
	put_text(at(state, "victim/resolv.conf"), "sentinel\n");
	plant(state, "victim", "web");
	assert_int_equal(dns_write_at(t->fd, "web", "nameserver 192.0.2.53\n", &e), -ENOTDIR);
	assert_string_equal(e.what, "/etc/netns/web");
	assert_contains(e.why, "symbolic link");
	assert_int_equal(dns_exists_at(t->fd, "web"), -ENOTDIR);
	assert_int_equal(dns_read_servers_at(t->fd, "web", got, 3), -ENOTDIR);
	assert_int_equal(dns_remove_at(t->fd, "web"), -ENOTDIR);
	assert_int_equal(dns_tmp_sweep_at(t->fd, "web"), -ENOTDIR);
	assert_string_equal(text_of(at(state, "victim/resolv.conf")), "sentinel\n");
	/* A file there: refused as well, and said so. */
	put_text(at(state, "file"), "x");
	assert_int_equal(dns_write_at(t->fd, "file", "nameserver 192.0.2.53\n", &e), -ENOTDIR);
	assert_string_equal(e.why, "is not a directory");
	/* Names that would leave the directory. */
	assert_int_equal(dns_write_at(t->fd, "..", "x", &e), -EINVAL);
	assert_int_equal(dns_exists_at(t->fd, "a/b"), -EINVAL);
}

/* A planted resolv.conf.nsgate-tmp link: replaced, the victim untouched;
 * a resolv.conf that is a link is read as none (not followed). */
static void test_tmp_link(void **state)
{
	struct etc *t = *state;
	struct nsg_err e = { 0 };
	struct ip_addr got[3];

	put_text(at(state, "victim"), "sentinel\n");
	assert_int_equal(mkdir(at(state, "web"), 0755), 0);
	plant(state, "victim", "web/resolv.conf.nsgate-tmp");
	assert_int_equal(dns_write_at(t->fd, "web", "nameserver 192.0.2.53\n", &e), 0);
	assert_string_equal(text_of(at(state, "victim")), "sentinel\n");
	assert_string_equal(text_of(at(state, "web/resolv.conf")), "nameserver 192.0.2.53\n");
	assert_int_equal(unlink(at(state, "web/resolv.conf")), 0);
	put_text(at(state, "victim"), "nameserver 192.0.2.99\n");
	plant(state, "victim", "web/resolv.conf");
	assert_int_equal(dns_read_servers_at(t->fd, "web", got, 3), -ENOENT);
}

/* remove: the file and a leftover tmp go, then the directory when empty;
 * a user's file keeps it. sweep: the tmp only, then the same rule. */
static void test_remove_and_sweep(void **state)
{
	struct etc *t = *state;
	struct nsg_err e = { 0 };
	struct stat st;

	assert_int_equal(dns_remove_at(t->fd, "web"), 0);   /* none: nothing to do */
	assert_int_equal(dns_write_at(t->fd, "web", "nameserver 192.0.2.53\n", &e), 0);
	put_text(at(state, "web/resolv.conf.nsgate-tmp"), "half");
	assert_int_equal(dns_remove_at(t->fd, "web"), 0);
	assert_int_equal(lstat(at(state, "web"), &st), -1);
	assert_int_equal(dns_write_at(t->fd, "web", "nameserver 192.0.2.53\n", &e), 0);
	put_text(at(state, "web/hosts"), "127.0.0.1 web\n");
	assert_int_equal(dns_remove_at(t->fd, "web"), 0);
	assert_int_equal(lstat(at(state, "web/resolv.conf"), &st), -1);
	assert_int_equal(lstat(at(state, "web/hosts"), &st), 0);
	put_text(at(state, "web/resolv.conf.nsgate-tmp"), "half");
	assert_int_equal(dns_tmp_sweep_at(t->fd, "web"), 1);
	assert_int_equal(lstat(at(state, "web/hosts"), &st), 0);
	assert_int_equal(unlink(at(state, "web/hosts")), 0);
	put_text(at(state, "web/resolv.conf.nsgate-tmp"), "half");
	assert_int_equal(dns_tmp_sweep_at(t->fd, "web"), 1);
	assert_int_equal(lstat(at(state, "web"), &st), -1);
	assert_int_equal(dns_tmp_sweep_at(t->fd, "web"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_replaced),
		cmocka_unit_test(test_loopback_any),
		cmocka_unit_test(test_upstream_unused),
		cmocka_unit_test(test_ipv6_dropped),
		cmocka_unit_test(test_dual_keeps_ipv6),
		cmocka_unit_test(test_dual_loopback_replaced),
		cmocka_unit_test(test_ipv4_only_replaces_v6_loopback),
		cmocka_unit_test(test_dual_at_most_three),
		cmocka_unit_test(test_dual_no_server),
		cmocka_unit_test(test_dual_fixed_point),
		cmocka_unit_test(test_explicit_v6),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_at_most_three),
		cmocka_unit_test(test_messy_input),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_explicit),
		cmocka_unit_test(test_no_upstream),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_header),
		cmocka_unit_test_setup_teardown(test_write_modes, etc_setup, etc_teardown),
		cmocka_unit_test(test_long_options_kept_whole),
		cmocka_unit_test_setup_teardown(test_read_servers_both, etc_setup, etc_teardown),
		cmocka_unit_test_setup_teardown(test_dir_link_refused, etc_setup, etc_teardown),
		cmocka_unit_test_setup_teardown(test_tmp_link, etc_setup, etc_teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_sweep, etc_setup, etc_teardown),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
