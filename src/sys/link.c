/* SPDX-License-Identifier: MIT */
/*
 * Links over rtnetlink, through libnl-route-3: sockets, veth pairs, link
 * groups and link dumps; addresses and routes are in route.c, on the same
 * transaction helper.
 *
 * Requests are built with libnl's rtnl_*_build_*_request() and sent by one
 * small transaction helper instead of rtnl_link_add() and friends: libnl folds
 * kernel errors into its own NLE_* codes, losing information (EADDRINUSE and
 * EEXIST both become NLE_EXIST, ENETUNREACH becomes NLE_FAILURE), and drops
 * the kernel's extended ack text. The helper keeps the exact errno and the
 * text, and costs the same single round trip per request. Replies are turned
 * into libnl objects with nl_msg_parse(), so no cache is ever built.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>

#include "nsgate/common.h"
#include "nsgate/fileio.h"
#include "nsgate/ipaddr.h"
#include "nsgate/link.h"
#include "link-internal.h"
#include "nsgate/nlx.h"

DEFINE_CLEANUP(struct nl_msg, nlmsg_free)
DEFINE_CLEANUP(struct nl_cb, nl_cb_put)
DEFINE_CLEANUP(struct rtnl_link, rtnl_link_put)

int link_nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_INTR:
		return -EINTR;
	case NLE_AGAIN:
	case NLE_DUMP_INTR:
		return -EAGAIN;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

/* libnl truncates long names silently, which could aim a request at another
 * link that happens to share the first 15 characters. */
static int check_ifname(const char *name)
{
	if (!name || !name[0])
		return -EINVAL;
	if (strlen(name) >= IF_NAMESIZE)
		return -ENAMETOOLONG;
	return 0;
}

static int txn_on_valid(struct nl_msg *msg, void *arg)
{
	struct link_txn *t = arg;
	int r;

	if (t->on_msg) {
		t->on_msg(nlmsg_hdr(msg), t->userdata);
		if (!t->stop || !t->may_stop)
			return NL_OK;
		t->done = true;
		return NL_STOP;
	}
	if (!t->on_object)
		return NL_SKIP;
	r = nl_msg_parse(msg, t->on_object, t->userdata);
	if (r < 0 && r != -NLE_MSGTYPE_NOSUPPORT && !t->parse_error)
		t->parse_error = r;
	/* Keep going either way: what is left of the reply must be drained, or it
	 * would be read as the answer to the next request. */
	return NL_OK;
}

static int txn_on_end(struct nl_msg *msg, void *arg)
{
	struct link_txn *t = arg;

	(void)msg;
	t->done = true;
	return NL_STOP;
}

static int txn_on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	/* libnl passes nlmsg_data() of the message in its receive buffer, which
	 * holds the whole datagram (it sizes the read by peeking): the header
	 * is just before err, and the extended-ack attributes after it. */
	const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)err - NLMSG_HDRLEN);
	struct link_txn *t = arg;
	const char *msg = nlx_extack_msg(h);

	(void)nla;
	t->done = true;
	t->kernel_error = nlx_error(h);
	if (msg) {
		snprintf(t->why, sizeof(t->why), "%s", msg);
		t->why[strcspn(t->why, "\n")] = '\0';
	}
	return NL_STOP;
}

/*
 * Send msg and read until its ack, error or end of dump. A dump is sent
 * without NLM_F_ACK: it ends with NLMSG_DONE, and an ack would only be noise
 * left behind in the socket.
 */
int link_txn_run(struct nl_sock *sk, struct nl_msg *msg, bool dump, struct link_txn *t)
{
	_cleanup_(nl_cb_putp) struct nl_cb *cb = NULL;
	struct nl_cb *base;
	int r;

	base = nl_socket_get_cb(sk);
	if (!base)
		return -ENOMEM;
	cb = nl_cb_clone(base);
	nl_cb_put(base);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, txn_on_valid, t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, txn_on_end, t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, txn_on_end, t);
	nl_cb_err(cb, NL_CB_CUSTOM, txn_on_error, t);

	nl_complete_msg(sk, msg);
	if (dump)
		nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
	r = nl_send(sk, msg);
	if (r < 0)
		return link_nle_errno(r);

	/* A reply to a plain GET and its ack can arrive in separate reads. */
	while (!t->done) {
		r = nl_recvmsgs(sk, cb);
		if (r < 0)
			break;
	}
	if (t->kernel_error)
		return t->kernel_error;
	if (r < 0)
		return link_nle_errno(r);
	if (t->parse_error)
		return link_nle_errno(t->parse_error);
	return 0;
}

/* Run a request whose only answer is an ack. The message is consumed. */
int link_txn_simple(struct nl_sock *sk, struct nl_msg *msg, char *why, size_t why_size)
{
	_cleanup_(nlmsg_freep) struct nl_msg *m = msg;
	struct link_txn t = {};
	int r;

	r = link_txn_run(sk, m, false, &t);
	if (why && why_size)
		snprintf(why, why_size, "%s", t.why);
	return r;
}

int link_txn_built(struct nl_sock *sk, int built, struct nl_msg *msg, char *why, size_t why_size)
{
	if (built < 0)
		return link_nle_errno(built);
	return link_txn_simple(sk, msg, why, why_size);
}

int link_sock_open(struct nl_sock **ret)
{
	struct nl_sock *sk;
	int r, one = 1;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return link_nle_errno(r);
	}
	/* Both are best effort: old kernels just give less detail. The receive
	 * buffer stays at libnl's default, as dumps are paced by the reader and
	 * cannot overflow it however many links there are. */
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Strict checking makes the kernel honour a dump's filters (an address
	 * dump of one interface), so reading one link costs the same with a
	 * thousand gateways as with one. */
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	*ret = sk;
	return 0;
}

int link_sock_open_in(int netns_fd, struct nl_sock **ret)
{
	_cleanup_close_ int self = -1;
	int r;

	/* thread-self, not self: setns() moves only the calling thread, and
	 * that thread's namespace is the one to return to. */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;

	/* The socket is bound to the namespace it was created in, for good. */
	r = link_sock_open(ret);

	/* Carrying on in the wrong namespace would misconfigure whatever comes next. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

void link_sock_close(struct nl_sock *sk)
{
	nl_socket_free(sk);
}

/* RTM_GETLINK for one name, without statistics nobody here reads. */
static int link_get_kernel(struct nl_sock *sk, const char *name,
			   void (*on_object)(struct nl_object *, void *), void *userdata)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_txn t = { .on_object = on_object, .userdata = userdata };
	int r;

	r = check_ifname(name);
	if (r < 0)
		return r;
	msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, name) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		return -EMSGSIZE;
	return link_txn_run(sk, msg, false, &t);
}

static void on_link_index(struct nl_object *obj, void *userdata)
{
	int *ifindex = userdata;

	*ifindex = rtnl_link_get_ifindex((struct rtnl_link *)obj);
}

int link_index(struct nl_sock *sk, const char *name)
{
	int r, ifindex = 0;

	r = link_get_kernel(sk, name, on_link_index, &ifindex);
	if (r < 0)
		return r;
	return ifindex > 0 ? ifindex : -ENODEV;
}

struct link_mac_req {
	bool found;
	uint8_t mac[6];
};

static void on_link_mac(struct nl_object *obj, void *userdata)
{
	struct nl_addr *a = rtnl_link_get_addr((struct rtnl_link *)obj);
	struct link_mac_req *q = userdata;

	if (a && nl_addr_get_len(a) == sizeof(q->mac)) {
		memcpy(q->mac, nl_addr_get_binary_addr(a), sizeof(q->mac));
		q->found = true;
	}
}

int link_mac(struct nl_sock *sk, const char *name, uint8_t mac[6])
{
	struct link_mac_req q = { 0 };
	int r = link_get_kernel(sk, name, on_link_mac, &q);

	if (r < 0)
		return r;
	if (!q.found)
		return -ENODEV;
	memcpy(mac, q.mac, sizeof(q.mac));
	return 0;
}

/* Set the ifalias of an existing link, addressed by name. */
static int link_set_alias(struct nl_sock *sk, const char *name, const char *alias,
			  char *why, size_t why_size)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	struct nl_msg *msg = NULL;
	int r;

	link = rtnl_link_alloc();
	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	rtnl_link_set_ifalias(link, alias);
	/* Out of the group that marked it unlabelled, in the same message. */
	rtnl_link_set_group(link, 0);
	/* NEWLINK without NLM_F_CREATE looks the name up and changes that link. */
	r = rtnl_link_build_add_request(link, 0, &msg);
	return link_txn_built(sk, r, msg, why, why_size);
}

static int link_delete_by_name(struct nl_sock *sk, const char *name, char *why, size_t why_size)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	struct nl_msg *msg = NULL;
	int r;

	link = rtnl_link_alloc();
	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	r = rtnl_link_build_delete_request(link, &msg);
	return link_txn_built(sk, r, msg, why, why_size);
}

int link_veth_create(struct nl_sock *sk, const char *host_name, const char *alias,
		     const char *peer_name, int peer_netns_fd, struct nsg_err *e)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *peer = NULL;
	struct nl_msg *msg = NULL;
	char why[256] = "";
	int r;

	r = check_ifname(host_name);
	if (r < 0)
		return nsg_fail(e, r, NULL, "link \"%s\"", host_name ? host_name : "");
	r = check_ifname(peer_name);
	if (r < 0)
		return nsg_fail(e, r, NULL, "link \"%s\"", peer_name ? peer_name : "");

	link = rtnl_link_veth_alloc();
	if (!link)
		return nsg_fail(e, -ENOMEM, NULL, "link \"%s\"", host_name);
	rtnl_link_set_name(link, host_name);
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(peer, peer_name);
	if (peer_netns_fd >= 0)
		rtnl_link_set_ns_fd(peer, peer_netns_fd);
	/* No ifalias here: the kernel ignores IFLA_IFALIAS when it creates a
	 * link (it only applies it to existing ones), so it is set just after.
	 * Until then the link is told apart by its group, which the kernel
	 * does take at creation: a kill in between leaves a link gc knows. */
	if (alias)
		rtnl_link_set_group(link, LINK_GROUP_UNLABELLED);
	r = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);
	r = link_txn_built(sk, r, msg, why, sizeof(why));
	if (r == -EEXIST && link_index(sk, host_name) == -ENODEV)
		/* Only an error path pays for finding out which end clashed. */
		return nsg_fail(e, r, NULL, "link \"%s\" in the target namespace", peer_name);
	if (r < 0)
		return nsg_fail(e, r, link_why_or_null(why), "link \"%s\"", host_name);

	if (alias) {
		r = link_set_alias(sk, host_name, alias, why, sizeof(why));
		if (r < 0) {
			/* Without its alias nsgate could never find the pair again; the
			 * peer goes away with it. */
			(void)link_delete_by_name(sk, host_name, NULL, 0);
			return nsg_fail(e, r, link_why_or_null(why), "alias \"%s\" of link \"%s\"",
					alias, host_name);
		}
	}
	return 0;
}

/*
 * The macvlan is created in its namespace under its final name in one
 * request (IFLA_LINK names the lower device in the socket's namespace,
 * IFLA_NET_NS_FD where the new link goes), rather than made on the host and
 * then moved and renamed: no moment leaves a link of nsgate's on the host,
 * and no name there can clash. Like a veth, it is created in
 * LINK_GROUP_UNLABELLED and labelled (link_label, in its namespace) next.
 */
int link_macvlan_create(struct nl_sock *sk, const char *lower, const char *name, int netns_fd,
			const uint8_t mac[6], struct nsg_err *e)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	struct nl_msg *msg = NULL;
	char why[256] = "";
	int r, lower_index;

	r = check_ifname(name);
	if (r < 0)
		return nsg_fail(e, r, NULL, "link \"%s\"", name ? name : "");
	lower_index = link_index(sk, lower);
	if (lower_index < 0)
		return nsg_fail(e, lower_index, NULL, "interface \"%s\"", lower);
	link = rtnl_link_macvlan_alloc();
	if (!link)
		return nsg_fail(e, -ENOMEM, NULL, "link \"%s\"", name);
	rtnl_link_set_name(link, name);
	rtnl_link_set_link(link, lower_index);
	rtnl_link_set_ns_fd(link, netns_fd);
	rtnl_link_set_group(link, LINK_GROUP_UNLABELLED);
	if (mac) {
		struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

		if (!a)
			return nsg_fail(e, -ENOMEM, NULL, "link \"%s\"", name);
		rtnl_link_set_addr(link, a);
		nl_addr_put(a);
	}
	/* Bridge mode: LAN gateways on one interface reach each other too. */
	r = rtnl_link_macvlan_set_mode(link, MACVLAN_MODE_BRIDGE);
	if (r == 0)
		r = rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg);
	r = link_txn_built(sk, r, msg, why, sizeof(why));
	if (r < 0)
		return nsg_fail(e, r, link_why_or_null(why), "macvlan \"%s\" on \"%s\"", name, lower);
	return 0;
}

int link_label(struct nl_sock *sk, const char *name, const char *alias, struct nsg_err *e)
{
	char why[256] = "";
	int r = check_ifname(name);

	if (r == 0)
		r = link_set_alias(sk, name, alias, why, sizeof(why));
	return r < 0 ? nsg_fail(e, r, link_why_or_null(why), "alias \"%s\" of link \"%s\"", alias,
				name ? name : "") : 0;
}

static void on_lower(struct nl_object *obj, void *userdata)
{
	struct rtnl_link *link = (struct rtnl_link *)obj;
	struct link_lower *l = userdata;
	const char *s;

	if (nl_object_get_msgtype(obj) != RTM_NEWLINK)
		return;
	l->ifindex = rtnl_link_get_ifindex(link);
	l->flags = rtnl_link_get_flags(link);
	l->master_index = rtnl_link_get_master(link);
	s = rtnl_link_get_type(link);
	snprintf(l->kind, sizeof(l->kind), "%s", s ? s : "");
	s = rtnl_link_get_ifalias(link);
	snprintf(l->alias, sizeof(l->alias), "%s", s ? s : "");
}

int link_lower_get(struct nl_sock *sk, const char *name, struct link_lower *ret)
{
	struct link_lower master = { 0 };
	int r;

	*ret = (struct link_lower){ 0 };
	r = link_get_kernel(sk, name, on_lower, ret);
	if (r < 0)
		return r;
	if (ret->ifindex <= 0)
		return -ENODEV;
	if (ret->master_index <= 0)
		return 0;
	/* The socket is the caller's namespace's: the name comes from there. */
	if (!if_indextoname((unsigned)ret->master_index, ret->master))
		return -errno;
	if (link_get_kernel(sk, ret->master, on_lower, &master) == 0)
		snprintf(ret->master_kind, sizeof(ret->master_kind), "%s", master.kind);
	return 0;
}

int link_delete(struct nl_sock *sk, const char *name, struct nsg_err *e)
{
	char why[256] = "";
	int r;

	r = check_ifname(name);
	if (r >= 0)
		r = link_delete_by_name(sk, name, why, sizeof(why));
	if (r < 0)
		return nsg_fail(e, r, link_why_or_null(why), "link \"%s\"", name ? name : "");
	return 0;
}

/* One NEWLINK by name, with no lookup first, changing only what set puts
 * into the request (IFF_UP, a group). The kernel's text goes to why. */
static int link_change(struct nl_sock *sk, const char *name,
		       void (*set)(struct rtnl_link *, unsigned int), unsigned int value, char *why,
		       size_t why_size)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	set(link, value);
	r = rtnl_link_build_add_request(link, 0, &msg);
	return link_txn_built(sk, r, msg, why, why_size);
}

/* IFF_UP set or cleared by set. */
static int link_set_updown(struct nl_sock *sk, const char *name,
			   void (*set)(struct rtnl_link *, unsigned int), struct nsg_err *e)
{
	char why[256] = "";
	int r = check_ifname(name);

	if (r < 0)
		return nsg_fail(e, r, NULL, "link \"%s\"", name ? name : "");
	r = link_change(sk, name, set, IFF_UP, why, sizeof(why));
	return r < 0 ? nsg_fail(e, r, link_why_or_null(why), "link \"%s\"", name) : 0;
}

int link_set_up(struct nl_sock *sk, const char *name, struct nsg_err *e)
{
	return link_set_updown(sk, name, rtnl_link_set_flags, e);
}

int link_set_down(struct nl_sock *sk, const char *name, struct nsg_err *e)
{
	return link_set_updown(sk, name, rtnl_link_unset_flags, e);
}

int link_set_group(struct nl_sock *sk, const char *name, uint32_t group, struct nsg_err *e)
{
	char why[256] = "";
	int r = check_ifname(name);

	if (r < 0)
		return nsg_fail(e, r, NULL, "link \"%s\"", name ? name : "");
	r = link_change(sk, name, rtnl_link_set_group, group, why, sizeof(why));
	return r < 0 ? nsg_fail(e, r, link_why_or_null(why), "link \"%s\": group %u", name, group)
		     : 0;
}

int link_delete_group(struct nl_sock *sk, uint32_t group, struct nsg_err *e)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
	char why[256] = "";
	int r;

	if (!msg)
		return nsg_fail(e, -ENOMEM, NULL, "link group %u", group);
	/* No index and no name: the kernel deletes by IFLA_GROUP. */
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_GROUP, group) < 0) {
		nlmsg_free(msg);
		return nsg_fail(e, -ENOMEM, NULL, "link group %u", group);
	}
	r = link_txn_simple(sk, msg, why, sizeof(why));
	if (r < 0)
		return nsg_fail(e, r, link_why_or_null(why), "deleting link group %u", group);
	return 0;
}

int link_delete_index(struct nl_sock *sk, int ifindex, struct nsg_err *e)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = rtnl_link_alloc();
	struct nl_msg *msg = NULL;
	char why[256] = "";
	int r;

	if (!link)
		return nsg_fail(e, -ENOMEM, NULL, "link %d", ifindex);
	rtnl_link_set_ifindex(link, ifindex);
	r = rtnl_link_build_delete_request(link, &msg);
	r = link_txn_built(sk, r, msg, why, sizeof(why));
	return r < 0 ? nsg_fail(e, r, link_why_or_null(why), "link %d", ifindex) : 0;
}

/* One NEWLINK by index changing what the link's fields say. */
static int link_change_index(struct nl_sock *sk, struct rtnl_link *link, int ifindex, char *why,
			     size_t why_size)
{
	struct nl_msg *msg = NULL;
	int r;

	rtnl_link_set_ifindex(link, ifindex);
	r = rtnl_link_build_add_request(link, 0, &msg);
	return link_txn_built(sk, r, msg, why, why_size);
}

int link_retire(struct nl_sock *sk, int ifindex, const char *alias, const char *new_name,
		struct nsg_err *e)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
	char why[256] = "";
	int r = check_ifname(new_name);

	if (r == 0 && !change)
		r = -ENOMEM;
	/* One message, so that a kill leaves the link as it was or retired:
	 * the kernel renames first, then changes the flags. */
	if (r == 0) {
		rtnl_link_set_ifalias(change, alias);
		rtnl_link_set_name(change, new_name);
		rtnl_link_unset_flags(change, IFF_UP);
		r = link_change_index(sk, change, ifindex, why, sizeof(why));
	}
	/* Kernels before 6.2 rename no link that is up (EBUSY): down and
	 * label first, then the name. */
	if (r == -EBUSY) {
		_cleanup_(rtnl_link_putp) struct rtnl_link *first = rtnl_link_alloc();
		_cleanup_(rtnl_link_putp) struct rtnl_link *rename = rtnl_link_alloc();

		why[0] = '\0';
		r = first && rename ? 0 : -ENOMEM;
		if (r == 0) {
			rtnl_link_set_ifalias(first, alias);
			rtnl_link_unset_flags(first, IFF_UP);
			r = link_change_index(sk, first, ifindex, why, sizeof(why));
		}
		if (r == 0) {
			rtnl_link_set_name(rename, new_name);
			r = link_change_index(sk, rename, ifindex, why, sizeof(why));
		}
	}
	return r < 0 ? nsg_fail(e, r, link_why_or_null(why), "link %d", ifindex) : 0;
}

static void on_netns_id(struct nlmsghdr *nlh, void *userdata)
{
	struct nlattr *tb[NETNSA_MAX + 1];

	if (nlh->nlmsg_type == RTM_NEWNSID &&
	    nlmsg_parse(nlh, sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
	    tb[NETNSA_NSID])
		*(int *)userdata = nla_get_s32(tb[NETNSA_NSID]);
}

int link_netns_id(struct nl_sock *sk, int netns_fd, int *ret)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, 0);
	struct link_txn t = { .on_msg = on_netns_id, .userdata = ret };
	int r;

	*ret = -1;
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, NETNSA_FD, (uint32_t)netns_fd) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	r = link_txn_run(sk, msg, false, &t);
	nlmsg_free(msg);
	if (r == 0 && *ret < 0)
		r = -ENOENT;  /* NETNSA_NSID_NOT_ASSIGNED */
	return r;
}

int link_netnsid_alive(struct nl_sock *sk, int nsid)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 1 };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, 0);
	struct link_txn t = {};
	int r;

	if (!msg)
		return -ENOMEM;
	/* That namespace's lo (index 1 in every namespace), asked for through
	 * the id: the kernel resolves it only while a reference is held. */
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_s32(msg, IFLA_TARGET_NETNSID, nsid) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	r = link_txn_run(sk, msg, false, &t);
	nlmsg_free(msg);
	/* EINVAL: no namespace of that id (any other answer: it is there). */
	return r == -EINVAL ? 0 : 1;
}

int link_set_ipv6_manual(struct nl_sock *sk, const char *name, struct nsg_err *e)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	struct nlattr *spec, *inet6;
	char why[256] = "";
	int r = check_ifname(name);

	if (r < 0)
		return nsg_fail(e, r, NULL, "link \"%s\"", name ? name : "");
	/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE } }, by name: what
	 * "ip link set NAME addrgenmode none" sends. Built by hand: libnl's
	 * link builder sends af data only with its cache's ops. */
	msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (!msg || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, name) < 0 || !(spec = nla_nest_start(msg, IFLA_AF_SPEC)) ||
	    !(inet6 = nla_nest_start(msg, AF_INET6)) ||
	    nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0)
		return nsg_fail(e, -ENOMEM, NULL, "link \"%s\"", name);
	nla_nest_end(msg, inet6);
	nla_nest_end(msg, spec);
	r = link_txn_simple(sk, TAKE_PTR(msg), why, sizeof(why));
	if (r < 0)
		return nsg_fail(e, r, link_why_or_null(why), "IPv6 address generation on \"%s\"", name);
	return 0;
}

/* Dump every object of one type and family. The request carries the full
 * header of its type, as kernels with strict checking reject the one-byte
 * rtgenmsg form that libnl's caches send. */
static int dump_run(struct nl_sock *sk, int type, int family,
		    void (*on_object)(struct nl_object *, void *), void *userdata)
{
	struct link_txn t = { .on_object = on_object, .userdata = userdata };

	return link_dump_txn(sk, type, family, 0, &t);
}

/* ifindex: only that interface's entries (address dumps), 0 for all. */
int link_dump_txn(struct nl_sock *sk, int type, int family, int ifindex, struct link_txn *txn)
{
	_cleanup_(nlmsg_freep) struct nl_msg *msg = NULL;
	int r;

	msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	switch (type) {
	case RTM_GETLINK: {
		struct ifinfomsg ifi = { .ifi_family = family };

		r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
		if (r >= 0)
			r = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		break;
	}
	case RTM_GETADDR: {
		struct ifaddrmsg ifa = { .ifa_family = family, .ifa_index = ifindex };

		r = nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO);
		break;
	}
	case RTM_GETROUTE: {
		struct rtmsg rtm = { .rtm_family = family };

		r = nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO);
		break;
	}
	default:
		return -EINVAL;
	}
	if (r < 0)
		return -EMSGSIZE;
	return link_txn_run(sk, msg, true, txn);
}

/* Address and prefix length of an IPv4 rtnl_addr; false for anything else
 * (list and show read IPv4 addresses only). */
static bool addr_ip(struct rtnl_addr *a, struct ip_addr *addr, uint8_t *plen)
{
	int family = rtnl_addr_get_family(a);
	struct nl_addr *local;

	if (family != AF_INET && family != AF_INET6)
		return false;
	local = rtnl_addr_get_local(a);
	if (!local || nl_addr_get_len(local) != ip_family_len(family))
		return false;
	if (ip_addr_from_bytes(family, nl_addr_get_binary_addr(local), addr) < 0)
		return false;
	*plen = rtnl_addr_get_prefixlen(a);
	return *plen <= ip_family_bits(family);
}

static void link_info_fill(struct link_info *li, struct rtnl_link *link)
{
	int32_t nsid;
	const char *s;

	memset(li, 0, sizeof(*li));
	s = rtnl_link_get_name(link);
	snprintf(li->name, sizeof(li->name), "%s", s ? s : "");
	s = rtnl_link_get_ifalias(link);
	snprintf(li->alias, sizeof(li->alias), "%s", s ? s : "");
	li->ifindex = rtnl_link_get_ifindex(link);
	li->flags = rtnl_link_get_flags(link);
	li->mtu = rtnl_link_get_mtu(link);
	li->group = rtnl_link_get_group(link);
	if (rtnl_link_get_link_netnsid(link, &nsid) < 0)
		nsid = -1;
	li->link_netnsid = nsid;
}

static void link_info_add_addr(struct link_info *li, const struct ip_addr *addr, uint8_t plen)
{
	if (li->n_addrs >= ARRAY_SIZE(li->addrs))
		return;
	li->addrs[li->n_addrs] = ip_prefix_of(addr, plen);
	li->addr_local[li->n_addrs] = *addr;
	li->n_addrs++;
}

/* Links gathered by a dump, then matched with addresses by ifindex. */
struct link_set {
	const char *alias_prefix;
	size_t prefix_len;
	struct link_info *v;
	size_t n, cap;
	int error;
	bool brief;   /* LINK_ADDRS_V4_BRIEF: sorted by name, addresses matched by label */
};

static int link_info_cmp(const void *a, const void *b)
{
	const struct link_info *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static int link_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct link_info *)a)->name, ((const struct link_info *)b)->name);
}

static void on_link_object(struct nl_object *obj, void *userdata)
{
	struct link_set *set = userdata;
	struct rtnl_link *link = (struct rtnl_link *)obj;
	const char *alias;

	if (set->error || nl_object_get_msgtype(obj) != RTM_NEWLINK)
		return;
	alias = rtnl_link_get_ifalias(link);
	if (strncmp(alias ? alias : "", set->alias_prefix, set->prefix_len) != 0)
		return;
	if (GROW(set->v, set->cap, set->n + 1) < 0) {
		set->error = -ENOMEM;
		return;
	}
	link_info_fill(&set->v[set->n++], link);
}

static void on_link_addr(struct nl_object *obj, void *userdata)
{
	struct link_set *set = userdata;
	struct link_info key, *li;
	struct ip_addr addr;
	uint8_t plen;

	if (nl_object_get_msgtype(obj) != RTM_NEWADDR ||
	    !addr_ip((struct rtnl_addr *)obj, &addr, &plen))
		return;
	if (set->brief) {
		const char *label = rtnl_addr_get_label((struct rtnl_addr *)obj);

		if (!label || strlen(label) >= sizeof(key.name))
			return;
		snprintf(key.name, sizeof(key.name), "%s", label);
		li = set->n ? bsearch(&key, set->v, set->n, sizeof(*set->v), link_name_cmp) : NULL;
	} else {
		key.ifindex = rtnl_addr_get_ifindex((struct rtnl_addr *)obj);
		li = set->n ? bsearch(&key, set->v, set->n, sizeof(*set->v), link_info_cmp) : NULL;
	}
	if (li)
		link_info_add_addr(li, &addr, plen);
}

/* Fill set->v[] with their addresses of family (AF_UNSPEC: both), from one
 * dump for all links. */
static int link_set_add_addrs(struct nl_sock *sk, struct link_set *set, int family)
{
	struct link_txn t = { .on_object = on_link_addr, .userdata = set };

	if (set->n == 0 || family == LINK_ADDRS_NONE)
		return 0;
	/* An IPv4 address's label is its link's name (renames carry it along). */
	set->brief = family == LINK_ADDRS_V4_BRIEF;
	qsort(set->v, set->n, sizeof(*set->v), set->brief ? link_name_cmp : link_info_cmp);
	if (set->brief)
		return link_dump_txn(sk, RTM_GETADDR, AF_INET, 0, &t);
	/* One link: ask for its addresses only (the filter needs strict
	 * checking; without it the kernel sends all and bsearch sorts them out). */
	return link_dump_txn(sk, RTM_GETADDR, family, set->n == 1 ? set->v[0].ifindex : 0, &t);
}

int link_list_by_alias(struct nl_sock *sk, const char *alias_prefix, int family,
		       struct link_info **ret)
{
	struct link_set set = {
		.alias_prefix = alias_prefix ? alias_prefix : "",
		.prefix_len = alias_prefix ? strlen(alias_prefix) : 0,
	};
	int r = -EAGAIN;

	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		set.n = 0;
		set.error = 0;
		r = dump_run(sk, RTM_GETLINK, AF_UNSPEC, on_link_object, &set);
		if (r >= 0)
			r = set.error;
		if (r >= 0)
			r = link_set_add_addrs(sk, &set, family);
	}
	if (r < 0) {
		free(set.v);
		return r;
	}
	if (set.n == 0) {
		free(set.v);
		set.v = NULL;
	}
	*ret = set.v;
	return (int)set.n;
}

bool link_sock_is_local(struct nl_sock *sk)
{
	_cleanup_close_ int ns = ioctl(nl_socket_get_fd(sk), SIOCGSKNS);
	struct stat a, b;

	return ns >= 0 && fstat(ns, &a) == 0 && stat("/proc/thread-self/ns/net", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* What link_peek reads of a known link, by what the caller asked for:
 * the brief view only its flags, teardown (no addresses) no MTU. */
enum peek {
	PEEK_FLAGS,
	PEEK_INDEX,
	PEEK_ALL,
};

static enum peek peek_of(int family)
{
	return family == LINK_ADDRS_V4_BRIEF ? PEEK_FLAGS
	       : family == LINK_ADDRS_NONE   ? PEEK_INDEX
					     : PEEK_ALL;
}

/* A known link's facts by name, from the kernel's ioctls: -ENODEV when it
 * is gone; what is not read is 0. Each ioctl looks the name up in the
 * host's device hash, whose chains grow with the links. */
static int link_peek(int fd, const struct link_info *known, enum peek what,
		     struct link_info *ret)
{
	struct ifreq ifr = { 0 };

	*ret = *known;
	ret->n_addrs = 0;
	ret->link_netnsid = -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", known->name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ret->flags = (unsigned short)ifr.ifr_flags;
	if (what == PEEK_FLAGS)
		return 0;
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	ret->ifindex = ifr.ifr_ifindex;
	if (what == PEEK_INDEX)
		return 0;
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		return -errno;
	ret->mtu = ifr.ifr_mtu;
	return 0;
}

static int known_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct link_info *)elem)->name);
}

/*
 * /proc/thread-self/net/dev: every link's name in this thread's namespace,
 * from the kernel's device list, with none of the attributes a link dump
 * fills in. "  NAME: counters..." after two header lines; a name holds
 * no ':' or blank.
 */
static int each_link_name(int (*fn)(const char *name, void *userdata), void *userdata)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	char *line, *next;
	int r = file_read_all("/proc/thread-self/net/dev", 64 << 20, &text, &len);

	if (r < 0)
		return r;
	for (line = text; line && *line; line = next) {
		char *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;    /* a header line */
		*colon = '\0';
		line += strspn(line, " ");
		if (*line && strlen(line) < IF_NAMESIZE && (r = fn(line, userdata)) < 0)
			return r;
	}
	return 0;
}

struct known_scan {
	struct nl_sock *sk;
	const struct link_info *known;
	size_t n_known;
	const char *skip_prefix;
	struct link_set *set;
	enum peek peek;
};

static int on_link_name(const char *name, void *userdata)
{
	struct known_scan *k = userdata;
	struct link_set *set = k->set;
	const struct link_info *known;
	int r;

	known = k->n_known ? bsearch(name, k->known, k->n_known, sizeof(*k->known), known_cmp)
			   : NULL;
	if (known) {
		if (GROW(set->v, set->cap, set->n + 1) < 0)
			return -ENOMEM;
		r = link_peek(nl_socket_get_fd(k->sk), known, k->peek, &set->v[set->n]);
		if (r == -ENODEV)
			return 0;
		if (r < 0)
			return r;
		/* Every gateway's link is up: one that is not may be one a
		 * kill left relabelled (dying.c) under its old name, so its
		 * label is read, as any other link's. */
		if (set->v[set->n].flags & IFF_UP) {
			set->n++;
			return 0;
		}
	} else if (k->skip_prefix && !strncmp(name, k->skip_prefix, strlen(k->skip_prefix)))
		return 0;
	/* Unknown to the caller, or down: its alias tells (on_link_object
	 * keeps it when labelled). Gone since: nothing to keep. */
	r = link_get_kernel(k->sk, name, on_link_object, set);
	if (r == -ENODEV)
		return 0;
	return r < 0 ? r : set->error;
}

int link_list_known(struct nl_sock *sk, const struct link_info *known, size_t n_known,
		    const char *alias_prefix, const char *skip_prefix, int family,
		    struct link_info **ret)
{
	struct link_set set = {
		.alias_prefix = alias_prefix ? alias_prefix : "",
		.prefix_len = alias_prefix ? strlen(alias_prefix) : 0,
	};
	struct known_scan k = { sk, known, n_known, skip_prefix, &set, peek_of(family) };
	int r = -EAGAIN;

	/* The device list read is this thread's namespace's. */
	if (!link_sock_is_local(sk))
		return link_list_by_alias(sk, alias_prefix, family, ret);
	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		set.n = 0;
		set.error = 0;
		r = each_link_name(on_link_name, &k);
		if (r >= 0)
			r = link_set_add_addrs(sk, &set, family);
	}
	if (r < 0 || set.n == 0) {
		free(set.v);
		set.v = NULL;
	}
	if (r < 0)
		return r;
	*ret = set.v;
	return (int)set.n;
}

static void on_one_link(struct nl_object *obj, void *userdata)
{
	struct link_set *set = userdata;

	if (nl_object_get_msgtype(obj) != RTM_NEWLINK || set->n >= set->cap)
		return;
	link_info_fill(&set->v[set->n++], (struct rtnl_link *)obj);
}

int link_get(struct nl_sock *sk, const char *name, struct link_info *ret)
{
	struct link_info li;
	struct link_set set = { .v = &li, .cap = 1 };
	int r = -EAGAIN;

	for (int i = 0; i < LINK_DUMP_ATTEMPTS && r == -EAGAIN; i++) {
		set.n = 0;
		r = link_get_kernel(sk, name, on_one_link, &set);
		if (r >= 0 && set.n == 0)
			r = -ENODEV;
		if (r >= 0)
			r = link_set_add_addrs(sk, &set, AF_UNSPEC);
	}
	if (r < 0)
		return r;
	*ret = li;
	return 0;
}
