/* SPDX-License-Identifier: MIT */
#include "core.h"

int gateway_down(const char *name, bool *found, struct nsg_err *e)
{
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	int r;

	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = open_sockets(&host, &nft, e);
	if (r == 0)
		r = down_locked(host, nft, name, found, e);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}

int gateway_down_all(size_t *count, struct nsg_err *e)
{
	char (*names)[GW_NAME_MAX + 1] = NULL;
	struct nl_sock *host = NULL;
	struct nftx *nft = NULL;
	_cleanup_close_ int lock = -1;
	int n, r;

	*count = 0;
	r = state_lock(&lock, e);
	if (r < 0)
		return r;
	r = open_sockets(&host, &nft, e);
	if (r < 0)
		goto out;
	n = known_names(host, &names);
	if (n < 0) {
		r = nsg_fail(e, n, NULL, "listing gateways");
		goto out;
	}
	r = down_many_locked(host, nft, names, n, count, e);
out:
	free(names);
	link_sock_close(host);
	nftx_close(nft);
	return r;
}
