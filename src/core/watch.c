/* SPDX-License-Identifier: MIT */
#include <linux/if_link.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "nsgate/fileio.h"
#include "nsgate/firewalld.h"
#include "nsgate/nlx.h"
#include "nsgate/nsgate.h"
#include "nsgate/ruleset.h"

struct events {
	bool restore;   /* something of our table was deleted (elements too) */
	bool gc;        /* a gateway's link went away */
	bool firewall;  /* another table's chains or rules changed (Docker, ufw, firewalld) */
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

	bool del = type == NFT_MSG_DELTABLE || type == NFT_MSG_DELCHAIN ||
		   type == NFT_MSG_DELRULE || type == NFT_MSG_DELSET || type == NFT_MSG_DELSETELEM;
	/* What another firewall's reload or restart does to its own table:
	 * nsgate's rules there, or the chain that held them, may be gone. */
	bool other = type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE ||
		     type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN ||
		     type == NFT_MSG_NEWRULE || type == NFT_MSG_DELRULE;

	if (nlh->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES || (!del && !other))
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) != 1 || mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			continue;
		if (!strcmp(mnl_attr_get_str(attr), RULESET_TABLE))
			ev->restore |= del;
		else
			ev->firewall |= other;
	}
}

/* A gateway's host link disappears when someone deletes it or when its
 * namespace dies (the veth goes with it). */
static void link_event(const struct nlmsghdr *nlh, struct events *ev)
{
	const struct nlattr *attr;
	const char *name = "", *alias = "";

	if (nlh->nlmsg_type != RTM_DELLINK)
		return;
	mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg)) {
		uint16_t t = mnl_attr_get_type(attr);

		if ((t == IFLA_IFNAME || t == IFLA_IFALIAS) &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			*(t == IFLA_IFNAME ? &name : &alias) = mnl_attr_get_str(attr);
	}
	/* A link down left to the kernel (dying.c) is no gateway's now:
	 * renamed by down of one gateway, only relabelled by down --all. */
	if (!strncmp(name, GW_DYING_IFNAME_PREFIX, strlen(GW_DYING_IFNAME_PREFIX)) ||
	    !strncmp(alias, GW_DYING_ALIAS_PREFIX, strlen(GW_DYING_ALIAS_PREFIX)))
		return;
	if (!strncmp(alias, GW_ALIAS_PREFIX, strlen(GW_ALIAS_PREFIX)) ||
	    !strncmp(name, GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX)))
		ev->gc = true;
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

/* Another firewall failing (firewalld restarting, its bus gone) is
 * reported, and tried again at its next event: not the end of watch. */
static void tell_firewall(const struct reporter *rep, const struct fw_blocks *opened,
			  const struct nsg_err *fe)
{
	char what[200];

	if (fe->code)
		tell(rep, WATCH_WARNING, fe->what[0] ? fe->what : "other firewalls",
		     nsg_err_reason(fe));
	for (size_t i = 0; i < opened->n; i++) {
		firewall_describe(&opened->b[i], what, sizeof(what));
		tell(rep, WATCH_FIREWALL, what, NULL);
	}
}

/* Another firewall changed: open again what it dropped nsgate's rules from. */
static void act_firewall(const struct reporter *rep)
{
	struct fw_blocks opened = { 0 };
	struct nsg_err fe = { 0 };

	if (gateway_firewall_sync(&opened, &fe) < 0 && !fe.code)
		fe.code = -EIO;
	tell_firewall(rep, &opened, &fe);
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
		if (r == 0) {
			tell_firewall(rep, &res.fw_opened, &res.fw_err);
			tell_restored(rep, &res);
		}
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

/* A reload or a restart changes many rules in a burst (Docker's start: a
 * few hundred): the survey waits until the burst is over, SETTLE_MS
 * without an event, but never longer than SETTLE_MAX_MS after its first. */
#define SETTLE_MS 50
#define SETTLE_MAX_MS 300
/* x_tables sends no events: with iptables-legacy's filter table there,
 * it is looked at this often. */
#define LEGACY_POLL_MS 500

struct watch_fds {
	int sig;
	struct mnl_socket *nft, *rt;
	struct firewalld *fwd;   /* subscribed, or NULL (no bus, or no firewalld then) */
};

static bool legacy_present(void)
{
	char buf[256];

	return file_read_small("/proc/net/ip_tables_names", buf, sizeof(buf)) >= 0 &&
	       strstr(buf, "filter") != NULL;
}

/* firewalld's Reloaded signal and restarts, where there is a bus. */
static void firewalld_watch_open(struct watch_fds *w)
{
	if (w->fwd || firewalld_open(&w->fwd, NULL) < 0)
		return;
	if (firewalld_subscribe(w->fwd, NULL) < 0) {
		firewalld_close(w->fwd);
		w->fwd = NULL;
	}
}

/* One round: wait for events, read them all. 1: SIGINT/SIGTERM. */
static int wait_events(struct watch_fds *w, int timeout, struct events *ev, bool *lost,
		       struct nsg_err *e)
{
	struct pollfd fds[4] = {
		{ .fd = w->sig, .events = POLLIN },
		{ .fd = mnl_socket_get_fd(w->nft), .events = POLLIN },
		{ .fd = mnl_socket_get_fd(w->rt), .events = POLLIN },
		{ .fd = w->fwd ? firewalld_fd(w->fwd) : -1, .events = POLLIN },
	};
	int r, n = poll(fds, ARRAY_SIZE(fds), timeout);

	if (n < 0)
		return errno == EINTR ? 0 : nsg_fail(e, -errno, NULL, "poll");
	if (fds[0].revents)
		return 1;
	r = drain(w->nft, nft_event, ev, lost);
	if (r == 0)
		r = drain(w->rt, link_event, ev, lost);
	if (r < 0)
		return nsg_fail(e, r, NULL, "reading netlink events");
	if (w->fwd && fds[3].revents) {
		bool changed = false;

		if (firewalld_process(w->fwd, &changed, NULL) < 0) {
			firewalld_close(w->fwd);   /* the bus went: nftables events still come */
			w->fwd = NULL;
		}
		ev->firewall |= changed;
	}
	return 0;
}

static int watch_loop(const struct reporter *rep, struct watch_fds *w, struct nsg_err *e)
{
	int r = act(rep, true, e);

	while (r == 0) {
		struct events ev = { 0 };
		bool lost = false, legacy = legacy_present();

		r = wait_events(w, legacy ? LEGACY_POLL_MS : -1, &ev, &lost, e);
		if (r != 0)
			break;
		if (ev.firewall) {
			/* Let the burst end before looking. */
			for (int waited = 0; r == 0 && waited < SETTLE_MAX_MS; waited += SETTLE_MS) {
				struct events more = { 0 };

				r = wait_events(w, SETTLE_MS, &more, &lost, e);
				ev.gc |= more.gc;
				ev.restore |= more.restore;
				if (!more.firewall && !more.gc && !more.restore)
					break;
			}
			if (r != 0)
				break;
			firewalld_watch_open(w);   /* firewalld may have started since */
		}
		if (ev.gc || ev.restore || lost)
			r = act(rep, ev.gc || lost, e);
		if (r == 0 && (ev.firewall || lost || legacy))
			act_firewall(rep);
	}
	return r < 0 ? r : 0;
}

int watch_run(void (*report)(const struct watch_event *ev, void *userdata), void *userdata,
	      struct nsg_err *e)
{
	const struct reporter rep = { report, userdata };
	struct watch_fds w = { .sig = -1 };
	sigset_t set;
	int r;

	/* Each change hands a netfilter socket to a short-lived child (nft.c);
	 * a long-running watch must not collect them as zombies. */
	signal(SIGCHLD, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	w.sig = signalfd(-1, &set, SFD_CLOEXEC);
	if (w.sig < 0)
		return nsg_fail(e, -errno, NULL, "signalfd");
	r = nlx_open_groups(NETLINK_NETFILTER, &(unsigned){ NFNLGRP_NFTABLES }, 1, &w.nft);
	if (r < 0) {
		close(w.sig);
		return nsg_fail(e, r, NULL, "nftables event socket");
	}
	r = nlx_open_groups(NETLINK_ROUTE, &(unsigned){ RTNLGRP_LINK }, 1, &w.rt);
	if (r < 0) {
		r = nsg_fail(e, r, NULL, "link event socket");
		goto out;
	}
	firewalld_watch_open(&w);
	/* Subscribed first, then checked: nothing can slip between the two. */
	tell(&rep, WATCH_LISTENING, NULL, NULL);
	r = watch_loop(&rep, &w, e);
out:
	if (w.fwd)
		firewalld_close(w.fwd);
	nlx_close(w.nft);
	nlx_close(w.rt);
	close(w.sig);
	return r;
}
