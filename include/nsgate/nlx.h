/* SPDX-License-Identifier: MIT */
/*
 * Netlink over libmnl, shared by nftables (nft.c), ctnetlink (conntrack.c)
 * and sock_diag (listeners.c): a socket, one request and its replies, the
 * acks of requests sent at once, and the kernel's extended-ack text.
 * Functions return 0 (or a count) or -errno and never print.
 */
#ifndef NSGATE_NLX_H
#define NSGATE_NLX_H

#include <stddef.h>
#include <sys/types.h>

#include "nsgate/common.h"

struct mnl_socket;
struct nlmsghdr;

/* A socket of bus (NETLINK_NETFILTER, NETLINK_SOCK_DIAG, ...), close-on-exec,
 * bound to a port id the kernel picks (mnl_socket_get_portid() has it), with
 * extended acks (the kernel's reason for a refusal) and capped acks (no echo
 * of the request in them) asked for; old kernels just give less detail. */
int nlx_open(int bus, struct mnl_socket **ret);
/* A non-blocking, close-on-exec socket subscribed to the n multicast groups
 * (NFNLGRP_NFTABLES, RTNLGRP_LINK, ...), for an event loop. */
int nlx_open_groups(int bus, const unsigned *groups, size_t n, struct mnl_socket **ret);
/* Close a socket of nlx_open*; NULL is fine. */
void nlx_close(struct mnl_socket *nl);
DEFINE_CLEANUP(struct mnl_socket, nlx_close)

/* One read into buf; EINTR is retried. The bytes read, or -errno. */
ssize_t nlx_recv(struct mnl_socket *nl, void *buf, size_t size);

/* Called for each data message of a reply, as libmnl's mnl_cb_t: MNL_CB_OK
 * to go on, MNL_CB_STOP to end there, MNL_CB_ERROR to fail. */
typedef int (*nlx_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * Send req and read its replies into buf (size bytes) until the end: the
 * NLMSG_DONE of a dump (whose own error counts), the ack of a request sent
 * with NLM_F_ACK, the kernel's error, or cb's MNL_CB_STOP. req must be a
 * dump or ask for an ack, or the wait never ends. cb (may be NULL) sees the
 * data messages of this request (sequence number and port id checked).
 * 0, or -errno: the kernel's error, a failed send or read, or when cb
 * returned MNL_CB_ERROR, the errno it left (-EIO if none).
 */
int nlx_talk(struct mnl_socket *nl, const struct nlmsghdr *req, void *buf, size_t size,
	     nlx_cb cb, void *data);

/* What an ack callback makes of one NLMSG_ERROR to our port. */
enum {
	NLX_ACK_OTHER = 0,  /* not one of the requests waited for: not counted */
	NLX_ACK_ONE = 1,    /* the answer to one of them */
	NLX_ACK_LAST = 2,   /* the last that will come (a batch refused whole) */
};
/* error: that of nlx_error(nlh). Returns NLX_ACK_*. */
typedef int (*nlx_ack_cb)(const struct nlmsghdr *nlh, int error, void *data);

/*
 * After n requests that each asked for an ack went out in one write (an
 * nftables batch, a window of conntrack deletes), read until n acks have
 * come, handing each NLMSG_ERROR to cb; any other message is skipped.
 * The kernel's errors are cb's to keep. 0, or -errno of a failed read
 * (-ENOBUFS: acks were dropped, what became of the requests is unknown).
 */
int nlx_acks(struct mnl_socket *nl, void *buf, size_t size, size_t n, nlx_ack_cb cb,
	     void *data);

/* The error an NLMSG_ERROR message carries: 0 for an ack, -errno for a
 * refusal, -EBADMSG when it is too short to say. */
int nlx_error(const struct nlmsghdr *nlh);
/* The kernel's extended-ack text (NLMSGERR_ATTR_MSG) in an NLMSG_ERROR
 * message, capped or not; NULL when it gave none. Points into nlh. */
const char *nlx_extack_msg(const struct nlmsghdr *nlh);
/* Set e's reason from an NLMSG_ERROR: "<strerror> (<kernel's text>)", or
 * nothing (the reason is then strerror) when there is no text. e may be NULL. */
void nlx_why(struct nsg_err *e, const struct nlmsghdr *nlh);

#endif
