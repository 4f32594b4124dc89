/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the resolv.conf parser of src/sys/dns.c. The parser
 * has no entry of its own (parse_resolv is static, and dns_render_host and
 * dns_read_servers read files): dns_render is its pure caller, given the
 * host's /etc/resolv.conf and systemd-resolved's upstream file. The input
 * is both: up to its first NUL byte the host's text, after it the upstream
 * text (none without a NUL byte).
 * Properties besides "no crash, no leak, no undefined behaviour": the file
 * written for the namespace is nsgate's header, the host's search, domain
 * and options lines, then one to GW_DNS_MAX distinct nameservers, none on
 * loopback (unreachable from the namespace), every line ended; with no
 * file, a warning says why. Rendering that file again gives the same file
 * (a fixed point): what dns_read_servers reads back is what was written.
 * Each input is rendered twice: for an IPv4-only gateway (IPv4 servers
 * only) and for a dual-stack one (IPv6 servers too, but never link-local,
 * IPv4-mapped, :: or ::1); the dual-stack file's IPv4 servers are the
 * IPv4-only file's, in the same order.
 */
#include <netinet/in.h>
#include <string.h>

#include "fuzz-common.h"
#include "nsgate/dns.h"

#define HEADER "# written by nsgate for gateway fz\n"

static void check_line(const struct gw_spec *spec, const char *line, size_t len,
		       struct ip_addr *seen, unsigned *n_seen, bool *in_servers)
{
	char l[1024], kw[16], val[256];
	struct in6_addr in6;
	struct ip_addr a;

	CHECK(len < sizeof(l));   /* the parser keeps lines of < 512 bytes */
	memcpy(l, line, len);
	l[len] = '\0';
	CHECK(sscanf(l, "%15s %255s", kw, val) >= 1);
	if (strcmp(kw, "nameserver")) {
		CHECK(!*in_servers);   /* the nameservers come last */
		CHECK(!strcmp(kw, "search") || !strcmp(kw, "domain") || !strcmp(kw, "options"));
		return;
	}
	*in_servers = true;
	CHECK(ip_addr_parse(val, spec_has_ipv6(spec) ? AF_UNSPEC : AF_INET, &a) == 0);
	if (ip_addr_is_v4(&a)) {
		CHECK((a.v4 >> 24) != 127);
	} else {
		memcpy(&in6, a.v6, sizeof(in6));
		CHECK(!IN6_IS_ADDR_LOOPBACK(&in6) && !IN6_IS_ADDR_UNSPECIFIED(&in6));
		CHECK(!IN6_IS_ADDR_LINKLOCAL(&in6) && !IN6_IS_ADDR_V4MAPPED(&in6));
	}
	for (unsigned i = 0; i < *n_seen; i++)
		CHECK(!ip_addr_eq(&seen[i], &a));
	CHECK(*n_seen < GW_DNS_MAX);
	seen[(*n_seen)++] = a;
}

/* Checks the file out rendered for spec; its servers go to seen[]. */
static unsigned check_file(const struct gw_spec *spec, const char *out, struct ip_addr *seen)
{
	unsigned n_seen = 0;
	bool in_servers = false;
	const char *warn, *p;
	char *again;

	CHECK(!strncmp(out, HEADER, strlen(HEADER)));
	for (p = out + strlen(HEADER); *p;) {
		const char *nl = strchr(p, '\n');

		CHECK(nl);   /* every line ended */
		check_line(spec, p, nl - p, seen, &n_seen, &in_servers);
		p = nl + 1;
	}
	CHECK(n_seen >= 1);
	CHECK(dns_render(spec, out, NULL, &again, &warn) == 0);
	CHECK(again && !warn);
	CHECK(!strcmp(again, out));
	free(again);
	return n_seen;
}

/* Renders host (and upstream) for spec: the servers written, or 0 for no
 * file (a warning says why), or -1 when memory ran out. */
static int render_one(const struct gw_spec *spec, const char *host, const char *upstream,
		      struct ip_addr *seen)
{
	const char *warn;
	char *out;
	int r = dns_render(spec, host, upstream, &out, &warn);

	CHECK(r == 0 || r == -ENOMEM);
	if (r < 0)
		return -1;
	if (!out) {
		CHECK(warn && warn[0]);
		return 0;
	}
	CHECK(!warn);
	r = (int)check_file(spec, out, seen);
	free(out);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	struct ip_addr seen4[GW_DNS_MAX], seen6[GW_DNS_MAX];
	char *host, *upstream = NULL;
	struct gw_spec spec4, spec6;
	int n4, n6, k = 0;

	/* What dns_render_host reads of each file is 64 KiB at most. */
	if (size > 2 * 65536)
		return 0;
	spec_init(&spec4);
	snprintf(spec4.name, sizeof(spec4.name), "fz");
	spec6 = spec4;
	CHECK(ip_prefix_parse("fd00:1:2:3::/64", AF_INET6, &spec6.subnet6) == 0);
	CHECK(spec_has_ipv6(&spec6) && !spec_has_ipv6(&spec4));
	host = fuzz_text(data, nul ? (size_t)(nul - data) : size);
	if (nul)
		upstream = fuzz_text(nul + 1, size - (nul + 1 - data));
	if (!host || (nul && !upstream))
		goto out;
	n4 = render_one(&spec4, host, upstream, seen4);
	n6 = render_one(&spec6, host, upstream, seen6);
	if (n4 < 0 || n6 < 0)
		goto out;
	/* IPv6 servers only add to the list: dual-stack keeps every IPv4 one
	 * the IPv4-only file has, in order, unless GW_DNS_MAX cut it short. */
	for (int i = 0; i < n6; i++)
		if (ip_addr_is_v4(&seen6[i])) {
			CHECK(k < n4 && ip_addr_eq(&seen6[i], &seen4[k]));
			k++;
		}
	CHECK(k == n4 || n6 == GW_DNS_MAX);
	CHECK(n6 >= n4 || n6 == GW_DNS_MAX);
out:
	free(host);
	free(upstream);
	return 0;
}
