/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for a network's file, /run/nsgate/networks/NET.net
 * (net_state_parse), which a crash or anyone able to write there may have
 * damaged. Properties besides "no crash, no leak, no undefined behaviour":
 * a file that parses has a valid name, a bridge of nsgate's prefix, an
 * IPv4 subnet of a network's length and members of distinct names; what it
 * formats to parses back and formats the same (a fixed point); the hosts
 * file renders, and every member can be removed once.
 */
#include <string.h>

#include "fuzz-common.h"
#include "nsgate/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_state n, again;
	char *text, *out = NULL, *out2 = NULL, *hosts = NULL;
	int r;

	if (size > 1 << 16)
		return 0;
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	r = net_state_parse(text, &n);
	free(text);
	if (r < 0) {
		CHECK(r == -EBADMSG || r == -ENOMEM);
		return 0;
	}
	CHECK(spec_name_known(n.name));
	CHECK(!strncmp(n.bridge, GW_IFNAME_PREFIX, 4));
	CHECK(ip_addr_is_v4(&n.subnet.addr));
	CHECK(n.subnet.plen >= NET_SUBNET_PLEN_MIN && n.subnet.plen <= NET_SUBNET_PLEN_MAX);
	CHECK(net_state_format(&n, &out) == 0);
	CHECK(net_state_parse(out, &again) == 0);
	CHECK(net_state_format(&again, &out2) == 0);
	CHECK(!strcmp(out, out2));
	CHECK(net_hosts_render(&n, &hosts) == 0);
	while (n.n_members) {
		char name[GW_NAME_MAX + 1];

		memcpy(name, n.members[0].name, sizeof(name));
		CHECK(net_member_remove(&n, name) == 0);
		CHECK(net_member_find(&n, name) == NULL);
	}
	free(out);
	free(out2);
	free(hosts);
	net_state_clear(&n);
	net_state_clear(&again);
	return 0;
}
