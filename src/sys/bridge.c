/* SPDX-License-Identifier: MIT */
/*
 * Bridges over rtnetlink: a network's bridge, its ports, their isolation
 * flag, and fixed MAC addresses. Raw requests on link.c's transaction
 * helper (the kernel's errno and extended-ack text kept): libnl has no
 * setter for IFLA_BRPORT_ISOLATED, and each of these is one small message.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "nsgate/bridge.h"
#include "nsgate/link.h"
#include "link-internal.h"

/* A NEWLINK of family for the link name (or index ifindex when > 0). */
static struct nl_msg *newlink(int type, int flags, int family, int ifindex, const char *name)
{
	struct ifinfomsg ifi = { .ifi_family = family, .ifi_index = ifindex };
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);

	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Send msg (consumed; NULL: out of memory) and name the failure. */
static int send_msg(struct nl_sock *sk, struct nl_msg *msg, bool put_failed, struct nsg_err *e,
		    const char *what, const char *name)
{
	char why[256] = "";
	int r;

	if (!msg || put_failed) {
		nlmsg_free(msg);
		return nsg_fail(e, -ENOMEM, NULL, "%s \"%s\"", what, name);
	}
	r = link_txn_simple(sk, msg, why, sizeof(why));
	return r < 0 ? nsg_fail(e, r, link_why_or_null(why), "%s \"%s\"", what, name) : 0;
}

int bridge_create(struct nl_sock *sk, const char *name, const char *alias, const uint8_t mac[6],
		  struct nsg_err *e)
{
	struct nl_msg *msg = newlink(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC, 0, name);
	struct nlattr *info = NULL, *data = NULL;
	bool bad = !msg;
	int r;

	/* Marked by its group from its first moment, like a gateway's veth: the
	 * kernel takes no ifalias at creation. A fixed MAC: the bridge's would
	 * otherwise follow its ports' and change under the members' ARP caches
	 * as they come and go. */
	if (!bad)
		bad = nla_put_u32(msg, IFLA_GROUP, LINK_GROUP_UNLABELLED) < 0 ||
		      nla_put(msg, IFLA_ADDRESS, 6, mac) < 0 ||
		      !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
		      nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
		      !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
		      /* No STP: a port forwards as soon as it is up. */
		      nla_put_u32(msg, IFLA_BR_STP_STATE, 0) < 0 ||
		      nla_nest_end(msg, data) < 0 || nla_nest_end(msg, info) < 0;
	r = send_msg(sk, msg, bad, e, "bridge", name);
	if (r < 0)
		return r;
	msg = newlink(RTM_NEWLINK, 0, AF_UNSPEC, 0, name);
	bad = !msg || nla_put_string(msg, IFLA_IFALIAS, alias) < 0 ||
	      nla_put_u32(msg, IFLA_GROUP, 0) < 0;
	r = send_msg(sk, msg, bad, e, "alias of bridge", name);
	if (r < 0)
		(void)link_delete(sk, name, NULL);
	return r;
}

int bridge_port_attach(struct nl_sock *sk, const char *port, const char *bridge, bool isolated,
		       struct nsg_err *e)
{
	int br = link_index(sk, bridge), idx;
	struct nl_msg *msg;
	struct nlattr *pi = NULL;
	bool bad;
	int r;

	if (br < 0)
		return nsg_fail(e, br, NULL, "bridge \"%s\"", bridge);
	msg = newlink(RTM_NEWLINK, 0, AF_UNSPEC, 0, port);
	bad = !msg || nla_put_u32(msg, IFLA_MASTER, br) < 0;
	r = send_msg(sk, msg, bad, e, "bridge port", port);
	if (r < 0 || !isolated)
		return r;
	/* Port flags are bridge-family attributes of the port (IFLA_PROTINFO):
	 * an isolated port forwards only to ports that are not isolated, and
	 * every member's is, so members reach the gateway and not each other. */
	idx = link_index(sk, port);
	if (idx < 0)
		return nsg_fail(e, idx, NULL, "bridge port \"%s\"", port);
	msg = newlink(RTM_SETLINK, 0, AF_BRIDGE, idx, NULL);
	bad = !msg || !(pi = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED)) ||
	      nla_put_u8(msg, IFLA_BRPORT_ISOLATED, 1) < 0 || nla_nest_end(msg, pi) < 0;
	return send_msg(sk, msg, bad, e, "isolation of bridge port", port);
}

int link_set_mac(struct nl_sock *sk, const char *name, const uint8_t mac[6], struct nsg_err *e)
{
	struct nl_msg *msg = newlink(RTM_NEWLINK, 0, AF_UNSPEC, 0, name);
	bool bad = !msg || nla_put(msg, IFLA_ADDRESS, 6, mac) < 0;

	return send_msg(sk, msg, bad, e, "MAC address of link", name);
}
