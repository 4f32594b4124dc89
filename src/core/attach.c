/* SPDX-License-Identifier: MIT */
/*
 * What a front end that hands a gateway's links to someone else (nsgate-cni
 * reports them to a container runtime) needs beyond gateway_view: the
 * Ethernet addresses of both ends. Read-only, so no lock.
 */
#include "core.h"

DEFINE_CLEANUP(struct nl_sock, link_sock_close)

int gateway_link_macs(const char *name, struct gw_link_macs *ret, struct nsg_err *e)
{
	_cleanup_(link_sock_closep) struct nl_sock *host = NULL, *ns = NULL;
	_cleanup_close_ int fd = -1;
	struct gw_state st;
	uint64_t ino = 0;
	int r;

	*ret = (struct gw_link_macs){ 0 };
	r = state_load(name, &st);
	if (r < 0)
		return nsg_fail_kind(e, r == -ENOENT ? NSG_KIND_NOT_FOUND : NSG_KIND_SYSTEM, r, NULL,
				     "gateway \"%s\"", name);
	r = link_sock_open(&host);
	if (r < 0)
		return nsg_fail(e, r, NULL, "rtnetlink socket");
	ret->host_present = link_mac(host, st.spec.host_ifname, ret->host) == 0;
	/* A namespace file now naming another namespace (a reused PID, a path
	 * mounted again) is not the gateway's: its link is gone. */
	if (netns_open(st.spec.netns_path, &fd, NULL) < 0 || netns_ident(fd, &ino) < 0 ||
	    (st.netns_ino && ino != st.netns_ino))
		return 0;
	r = link_sock_open_in(fd, &ns);
	if (r < 0)
		return nsg_fail(e, r, NULL, "rtnetlink socket in \"%s\"", st.spec.netns_path);
	ret->ns_present = link_mac(ns, st.spec.ns_ifname, ret->ns) == 0;
	return 0;
}
