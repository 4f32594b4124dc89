/* SPDX-License-Identifier: MIT */
#include "core.h"

int open_sockets(struct nl_sock **host, struct nftx **nft, struct nsg_err *e)
{
	int r = link_sock_open(host);

	if (r < 0)
		return nsg_fail(e, r, NULL, "rtnetlink socket");
	r = nftx_open(nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables netlink socket");
	return 0;
}
