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
 * down --all leaves such links untouched unless their namespace is still
 * held (teardown.c, many_mark): each change to a veth costs the kernel
 * O(gateways).
 */
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"
#include "nsgate/route.h"

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

int dying_retire(struct nl_sock *host, const char *name, const struct link_info *li,
		 struct nsg_err *e)
{
	char alias[64], ifname[IF_NAMESIZE];
	int r;

	dying_alias(name, alias);
	/* The ifindex is unique while the link lives: so is the name. */
	snprintf(ifname, sizeof(ifname), GW_DYING_IFNAME_PREFIX "%x", (unsigned)li->ifindex);
	r = link_retire(host, li->ifindex, alias, ifname, e);
	/* A down link keeps its IPv4 addresses' local routes (its IPv6
	 * addresses went with the down): the next up may want the subnet. */
	for (size_t i = 0; r == 0 && i < li->n_addrs; i++)
		if (ip_addr_is_v4(&li->addr_local[i]))
			link_addr_delete(host, li->ifindex, &li->addr_local[i], li->addrs[i].plen);
	return r;
}

void dying_grace(void)
{
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
}

/* How long the child of dying_reap waits for a namespace to lose its last
 * reference: this many RCU grace periods (~10 ms each here). A socket closed
 * shortly before (up's in the namespace, a run's command's) still holds it
 * until an RCU callback after its grace period. */
#define REAP_GRACE_ROUNDS 8

/* Keep in v[] the links whose namespace is still referenced; their count. */
static size_t still_held(struct nl_sock *host, struct dying_link *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].netnsid < 0 || link_netnsid_alive(host, v[i].netnsid))
			v[k++] = v[i];
	return k;
}

/* Give the kernel REAP_GRACE_ROUNDS grace periods, then delete what is
 * still held. An id freed meanwhile may be a new namespace's by then: its
 * link is gone, and the delete by index finds nothing (ifindexes are not
 * reused soon). */
static void reap_wait(struct nl_sock *host, struct dying_link *v, size_t n)
{
	for (int round = 0; n && round < REAP_GRACE_ROUNDS; round++) {
		dying_grace();
		n = still_held(host, v, n);
	}
	for (size_t i = 0; i < n; i++)
		link_delete_index(host, v[i].ifindex, NULL);
}

/*
 * The namespaces are no longer nsgate's to hold: if someone else still
 * holds one (a process `exec` or `run` started, a bind mount elsewhere), the
 * kernel will not destroy it, nor its link: that link is deleted, as down
 * always did, so the namespace keeps nothing of the gateway. Whether it is
 * held shows only once recently closed sockets have let go of it, after a
 * grace period or more: a child waits for that, so down does not.
 */
void dying_reap(struct nl_sock *host, struct dying_link *v, size_t n)
{
	struct nl_sock *own = NULL;
	pid_t pid;

	n = still_held(host, v, n);
	if (!n)
		return;
	pid = fork();
	/* No child: the same wait, here. */
	if (pid < 0)
		reap_wait(host, v, n);
	if (pid != 0)
		return;
	/* Hold nothing the caller may wait on (a stdout pipe, the lock). */
	close_range(0, ~0U, 0);
	if (link_sock_open(&own) == 0)
		reap_wait(own, v, n);
	_exit(0);
}

void dying_sweep(struct nl_sock *host)
{
	_cleanup_free_ struct link_info *links = NULL;
	_cleanup_free_ struct dying_link *v = NULL;
	int n = link_list_by_alias(host, GW_DYING_ALIAS_PREFIX, AF_INET, &links);

	/* Under the lock no down is between its retire and its unmount: a
	 * dying link whose namespace lives was left by a kill. */
	if (n <= 0 || !(v = calloc(n, sizeof(*v))))
		return;
	for (int i = 0; i < n; i++)
		v[i] = (struct dying_link){ links[i].ifindex, links[i].link_netnsid };
	dying_reap(host, v, n);
}
