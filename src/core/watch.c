/* SPDX-License-Identifier: MIT */
#include <linux/if_link.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

#include <libmnl/libmnl.h>

#include "nsgate/nlx.h"
#include "nsgate/nsgate.h"
#include "nsgate/ruleset.h"

struct events {
	bool restore;   /* something of our table was deleted (elements too) */
	bool gc;        /* a gateway's link went away */
};

/* nf_tables DEL* messages carry their table's name as attribute 1 (TABLE_NAME,
 * CHAIN_TABLE, RULE_TABLE, SET_TABLE, SET_ELEM_LIST_TABLE alike). A deleted
 * element, and each element of a flushed set or map, is a DELSETELEM: a
 * gateway without its elements is closed, not open, but it does not work.
 * nsgate's own deletions (down, unpublish) come here too; restore then
 * finds their state files gone and writes nothing. */
static void nft_event(const struct nlmsghdr *nlh, struct events *ev)
{
	uint16_t type = nlh->nlmsg_type & 0xff;
	const struct nlattr *attr;

	if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES)
		return;
	if (type != NFT_MSG_DELTABLE && type != NFT_MSG_DELCHAIN && type != NFT_MSG_DELRULE &&
	    type != NFT_MSG_DELSET && type != NFT_MSG_DELSETELEM)
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == 1 && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
		    !strcmp(mnl_attr_get_str(attr), RULESET_TABLE))
			ev->restore = true;
	}
}

/* A gateway's host link disappears when someone deletes it or when its
 * namespace dies (the veth goes with it). */
static void link_event(const struct nlmsghdr *nlh, struct events *ev)
{
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_DELLINK)
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
		uint16_t t = mnl_attr_get_type(attr);

		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			continue;
		if ((t == IFLA_IFALIAS && !strncmp(mnl_attr_get_str(attr), GW_ALIAS_PREFIX,
						   strlen(GW_ALIAS_PREFIX))) ||
		    (t == IFLA_IFNAME && !strncmp(mnl_attr_get_str(attr), GW_IFNAME_PREFIX,
						  strlen(GW_IFNAME_PREFIX))))
			ev->gc = true;
	}
}

/* Read everything queued; an overrun means events were lost: check all. */
static int drain(struct mnl_socket *nl, void (*handle)(const struct nlmsghdr *, struct events *),
		 struct events *ev, bool *lost)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh;
		int left;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				*lost = true;
				continue;
			}
			return -errno;
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			handle(nlh, ev);
	}
}

/* The caller's report function and its data, for act() to tell it. */
struct reporter {
	void (*fn)(const struct watch_event *ev, void *userdata);
	void *userdata;
};

static void tell(const struct reporter *rep, enum watch_event_type type, const char *name,
		 const char *reason)
{
	struct watch_event ev = { .type = type, .name = name, .reason = reason };

	rep->fn(&ev, rep->userdata);
}

static void tell_restored(const struct reporter *rep, struct gw_restore_result *res)
{
	if (res->table)
		tell(rep, WATCH_RESTORED, "inet " RULESET_TABLE, NULL);
	for (size_t i = 0; i < res->n_gateways; i++)
		tell(rep, WATCH_REPAIRED, res->gateways[i], "its nftables elements differed from its files");
	free(res->gateways);
	*res = (struct gw_restore_result){ 0 };
}

static int act(const struct reporter *rep, bool gc, struct nsg_err *e)
{
	struct gw_restore_result res = { 0 };
	struct gw_gc_item *items = NULL;
	size_t n = 0;
	int r;

	if (gc) {
		/* gc restores the table too, after removing the dead. */
		r = gateway_gc(&items, &n, &res, e);
		for (size_t i = 0; r == 0 && i < n; i++)
			tell(rep, WATCH_REMOVED, items[i].name, items[i].reason);
		free(items);
		if (r == 0)
			tell_restored(rep, &res);
		free(res.gateways);
		if (r < 0)
			return r;
	}
	r = gateway_restore(&res, e);
	if (r == 0)
		tell_restored(rep, &res);
	free(res.gateways);
	return r;
}

int watch_run(void (*report)(const struct watch_event *ev, void *userdata), void *userdata,
	      struct nsg_err *e)
{
	const struct reporter rep = { report, userdata };
	struct mnl_socket *nft = NULL, *rt = NULL;
	_cleanup_close_ int sfd = -1;
	sigset_t set;
	int r;

	/* Each change hands a netfilter socket to a short-lived child (nft.c);
	 * a long-running watch must not collect them as zombies. */
	signal(SIGCHLD, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return nsg_fail(e, -errno, NULL, "signalfd");
	r = nlx_open_groups(NETLINK_NETFILTER, &(unsigned){ NFNLGRP_NFTABLES }, 1, &nft);
	if (r < 0)
		return nsg_fail(e, r, NULL, "nftables event socket");
	r = nlx_open_groups(NETLINK_ROUTE, &(unsigned){ RTNLGRP_LINK }, 1, &rt);
	if (r < 0) {
		nlx_close(nft);
		return nsg_fail(e, r, NULL, "link event socket");
	}
	/* Subscribed first, then checked: nothing can slip between the two. */
	tell(&rep, WATCH_LISTENING, NULL, NULL);
	r = act(&rep, true, e);

	while (r == 0) {
		struct pollfd fds[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = mnl_socket_get_fd(nft), .events = POLLIN },
			{ .fd = mnl_socket_get_fd(rt), .events = POLLIN },
		};
		struct events ev = { 0 };
		bool lost = false;

		if (poll(fds, ARRAY_SIZE(fds), -1) < 0) {
			if (errno == EINTR)
				continue;
			r = nsg_fail(e, -errno, NULL, "poll");
			break;
		}
		if (fds[0].revents)
			break;
		r = drain(nft, nft_event, &ev, &lost);
		if (r == 0)
			r = drain(rt, link_event, &ev, &lost);
		if (r < 0) {
			nsg_fail(e, r, NULL, "reading netlink events");
			break;
		}
		if (ev.gc || ev.restore || lost)
			r = act(&rep, ev.gc || lost, e);
	}
	nlx_close(nft);
	nlx_close(rt);
	return r;
}
