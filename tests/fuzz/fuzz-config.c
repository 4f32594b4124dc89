/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config parser and the publish SPEC parser (portmap).
 * Besides "no crash, no leak, no undefined behaviour" it checks properties:
 * an accepted config holds valid gateways (IPv4 addresses, tagged so); an
 * error names "FILE:LINE" with a reason; an accepted SPEC prints to text
 * that parses back to the same.
 */
#include <string.h>

#include "fuzz-common.h"
#include "nsgate/config.h"

static void check_config(const char *text)
{
	struct config c;
	struct nsg_err e = { 0 };
	int r = config_parse_string(text, "f", &c, &e);

	if (r < 0) {
		CHECK(r == -EINVAL || r == -ENOMEM);
		CHECK(c.n == 0 && !c.gw);
		if (r == -EINVAL) {
			CHECK(!strncmp(e.what, "f:", 2) && e.what[2] >= '1' && e.what[2] <= '9');
			CHECK(e.why[0]);
		}
		return;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct config_gw *g = &c.gw[i];

		CHECK(spec_name_check(g->spec.name, NULL) == 0);
		CHECK(g->line >= 1);
		CHECK(config_find(&c, g->spec.name) == g);
		CHECK(g->spec.netns_path[0] == '/');
		CHECK(!strcmp(g->spec.ns_ifname, GW_NS_IFNAME_DEFAULT));
		/* Addresses come out tagged, and IPv4 only. */
		CHECK(!g->spec.subnet_given || (ip_addr_is_v4(&g->spec.subnet.addr) &&
						g->spec.subnet.plen >= 8 && g->spec.subnet.plen <= 30));
		CHECK(g->spec.n_dns <= GW_DNS_MAX);
		for (unsigned j = 0; j < g->spec.n_dns; j++)
			CHECK(ip_addr_is_set(&g->spec.dns[j]));
		for (size_t j = 0; j < g->n_pubs; j++)
			CHECK(g->pubs[j].count >= 1 &&
			       g->pubs[j].host_port + g->pubs[j].count - 1 <= 65535);
	}
	config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);

	if (!text)
		return 0;
	check_config(text);
	if (size <= 128)
		fuzz_check_portmap(text);
	free(text);
	return 0;
}
