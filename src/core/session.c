/* SPDX-License-Identifier: MIT */
/* The lock and the netlink sockets of one operation, opened in one place. */
#include "core.h"

int session_open(struct session *s, unsigned what, struct nsg_err *e)
{
	int r;

	*s = (struct session)SESSION_INIT;
	/* The lock first: sockets opened before it would see a world that a
	 * concurrent run is still changing. */
	if (what & SESSION_LOCK) {
		r = lock_take(&s->lock, e);
		if (r < 0)
			return r;
	}
	if (what & SESSION_RTNL) {
		r = link_sock_open(&s->host);
		if (r < 0)
			return nsg_fail(e, r, NULL, "rtnetlink socket");
	}
	if (what & SESSION_NFT) {
		r = nftx_open(&s->nft);
		if (r < 0)
			return nsg_fail(e, r, NULL, "nftables netlink socket");
	}
	return 0;
}

void session_close(struct session *s)
{
	link_sock_close(s->host);
	s->host = NULL;
	nftx_close(s->nft);
	s->nft = NULL;
	/* The lock last: nothing of this run may still be in flight. */
	if (s->lock >= 0)
		lock_release(s->lock);
	s->lock = -1;
}
