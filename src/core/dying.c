/* SPDX-License-Identifier: MIT */
/*
 * A gateway's host link left to the kernel: down hands it over with its
 * namespace instead of deleting it (a deletion waits for two RCU grace
 * periods). Dropping the namespace's last reference makes the kernel's
 * cleanup_net destroy the namespace, its eth0 and with it the veth's host
 * side, after down has returned. Until then the link is "dying": down,
 * relabelled GW_DYING_ALIAS_PREFIX + NAME (not a gateway's label, so list,
 * gc and watch pass it by) and renamed GW_DYING_IFNAME_PREFIX + its
 * ifindex (the gateway's name is free for the next up at once; the name
 * keeps nsgate's prefix, so nsgate's rules still drop whatever it sends).
 */
#include "core.h"

void dying_alias(const char *name, char buf[64])
{
	snprintf(buf, 64, GW_DYING_ALIAS_PREFIX "%s", name);
}

bool dying_link_is(const struct link_info *li, const char *name)
{
	char alias[64];

	dying_alias(name, alias);
	return !strcmp(li->alias, alias);
}


int dying_retire(struct nl_sock *host, const char *name, int ifindex, struct nsg_err *e)
{
	char alias[64], ifname[IF_NAMESIZE];

	dying_alias(name, alias);
	/* The ifindex is unique while the link lives: so is the name. */
	snprintf(ifname, sizeof(ifname), GW_DYING_IFNAME_PREFIX "%x", (unsigned)ifindex);
	return link_retire(host, ifindex, alias, ifname, e);
}

/* The namespace is no longer nsgate's to hold: if someone else still holds
 * it (a process `exec` or `run` started, a bind mount elsewhere), the kernel
 * will not destroy it, nor the link: delete the link now, as down always
 * did, so the namespace keeps nothing of the gateway. */
int dying_reap(struct nl_sock *host, int ifindex, int netnsid, struct nsg_err *e)
{
	int r;

	if (netnsid >= 0 && link_netnsid_alive(host, netnsid) == 0)
		return 0;
	r = link_delete_index(host, ifindex, e);
	/* ENODEV: the kernel was faster. */
	return r == -ENODEV ? 0 : r;
}

void dying_sweep(struct nl_sock *host)
{
	_cleanup_free_ struct link_info *links = NULL;
	int n = link_list_by_alias(host, GW_DYING_ALIAS_PREFIX, &links);

	/* Under the lock no down is between its retire and its unmount: a
	 * dying link whose namespace lives was left by a kill. */
	for (int i = 0; i < n; i++)
		dying_reap(host, links[i].ifindex, links[i].link_netnsid, NULL);
}
