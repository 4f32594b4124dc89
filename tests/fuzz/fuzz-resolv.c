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
 * and options lines, then one to GW_DNS_MAX distinct IPv4 nameservers, none
 * on loopback (unreachable from the namespace), every line ended; with no
 * file, a warning says why. Rendering that file again gives the same file
 * (a fixed point): what dns_read_servers reads back is what was written.
 */
#include <string.h>

#include "fuzz-common.h"
#include "nsgate/dns.h"

#define HEADER "# written by nsgate for gateway fz\n"

static void check_line(const char *line, size_t len, struct ip_addr *seen, unsigned *n_seen,
		       bool *in_servers)
{
	char l[1024], kw[16], val[256];
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
	CHECK(ip_addr_parse(val, AF_INET, &a) == 0);
	CHECK((a.v4 >> 24) != 127);
	for (unsigned i = 0; i < *n_seen; i++)
		CHECK(!ip_addr_eq(&seen[i], &a));
	CHECK(*n_seen < GW_DNS_MAX);
	seen[(*n_seen)++] = a;
}

static void check_file(const struct gw_spec *spec, const char *out)
{
	struct ip_addr seen[GW_DNS_MAX];
	unsigned n_seen = 0;
	bool in_servers = false;
	const char *warn, *p;
	char *again;

	CHECK(!strncmp(out, HEADER, strlen(HEADER)));
	for (p = out + strlen(HEADER); *p;) {
		const char *nl = strchr(p, '\n');

		CHECK(nl);   /* every line ended */
		check_line(p, nl - p, seen, &n_seen, &in_servers);
		p = nl + 1;
	}
	CHECK(n_seen >= 1);
	CHECK(dns_render(spec, out, NULL, &again, &warn) == 0);
	CHECK(again && !warn);
	CHECK(!strcmp(again, out));
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *host, *upstream = NULL, *out;
	const char *warn;
	struct gw_spec spec;
	int r;

	/* What dns_render_host reads of each file is 64 KiB at most. */
	if (size > 2 * 65536)
		return 0;
	spec_init(&spec);
	snprintf(spec.name, sizeof(spec.name), "fz");
	host = fuzz_text(data, nul ? (size_t)(nul - data) : size);
	if (nul)
		upstream = fuzz_text(nul + 1, size - (nul + 1 - data));
	if (!host || (nul && !upstream))
		goto out;
	r = dns_render(&spec, host, upstream, &out, &warn);
	CHECK(r == 0 || r == -ENOMEM);
	if (r == 0 && out) {
		CHECK(!warn);
		check_file(&spec, out);
		free(out);
	} else if (r == 0) {
		CHECK(warn && warn[0]);
	}
out:
	free(host);
	free(upstream);
	return 0;
}
