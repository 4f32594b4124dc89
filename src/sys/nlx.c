/* SPDX-License-Identifier: MIT */
/*
 * The netlink plumbing every libmnl user of nsgate shares. It goes through
 * libmnl's mnl_socket_* calls only (never the descriptor), so the unit tests
 * can stand in for the kernel by wrapping those at link time.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "nsgate/nlx.h"

static int open_bound(int bus, int flags, struct mnl_socket **ret)
{
	struct mnl_socket *nl = mnl_socket_open2(bus, flags);
	int err;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		return err;
	}
	*ret = nl;
	return 0;
}

int nlx_open(int bus, struct mnl_socket **ret)
{
	struct mnl_socket *nl;
	int one = 1, r;

	r = open_bound(bus, SOCK_CLOEXEC, &nl);
	if (r < 0)
		return r;
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	*ret = nl;
	return 0;
}

int nlx_open_groups(int bus, const unsigned *groups, size_t n, struct mnl_socket **ret)
{
	struct mnl_socket *nl;
	int r;

	r = open_bound(bus, SOCK_CLOEXEC | SOCK_NONBLOCK, &nl);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		unsigned group = groups[i];

		if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
			r = -errno;
			mnl_socket_close(nl);
			return r;
		}
	}
	*ret = nl;
	return 0;
}

void nlx_close(struct mnl_socket *nl)
{
	if (nl)
		mnl_socket_close(nl);
}

ssize_t nlx_recv(struct mnl_socket *nl, void *buf, size_t size)
{
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(nl, buf, size);

		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -errno;
	}
}

int nlx_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*me))
		return -EBADMSG;
	return me->error <= 0 ? me->error : -me->error;
}

const char *nlx_extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t len, off = sizeof(*me);

	if (nlh->nlmsg_type != NLMSG_ERROR || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*me))
		return NULL;
	len = mnl_nlmsg_get_payload_len(nlh);
	/* Capped (NETLINK_CAP_ACK): only the request's header was echoed;
	 * otherwise all of the request is there before the attributes. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (me->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return NULL;
		off += me->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	off = MNL_ALIGN(off);
	if (off >= len)
		return NULL;
	mnl_attr_for_each_payload((const void *)((const char *)me + off), len - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

void nlx_why(struct nsg_err *e, const struct nlmsghdr *nlh)
{
	const char *msg = nlx_extack_msg(nlh);

	if (e && msg)
		nsg_why(e, "%s (%s)", strerror(-nlx_error(nlh)), msg);
}

/* One nlx_talk: the caller's callback, and the end the control messages say. */
struct talk {
	nlx_cb cb;
	void *data;
	int err;
};

static int talk_data(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* With a control array of our own, libmnl calls nothing else for control
 * messages: the ack or error ends the request here. */
static int talk_error(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	t->err = nlx_error(nlh);
	return t->err ? MNL_CB_ERROR : MNL_CB_STOP;
}

/* NLMSG_DONE of a dump carries the dump's own error, which libmnl ignores. */
static int talk_done(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err = *(const int *)mnl_nlmsg_get_payload(nlh);

		if (err < 0) {
			t->err = err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

int nlx_talk(struct mnl_socket *nl, const struct nlmsghdr *req, void *buf, size_t size,
	     nlx_cb cb, void *data)
{
	/* libmnl takes the array non-const, so it lives on the stack. */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = talk_error, [NLMSG_DONE] = talk_done };
	struct talk t = { .cb = cb, .data = data };
	uint32_t seq = req->nlmsg_seq, portid = mnl_socket_get_portid(nl);

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nlx_recv(nl, buf, size);
		int r;

		if (n < 0)
			return (int)n;
		errno = 0;
		r = mnl_cb_run2(buf, (size_t)n, seq, portid, talk_data, &t, ctl, ARRAY_SIZE(ctl));
		if (r == MNL_CB_ERROR)
			return t.err ? t.err : errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

int nlx_acks(struct mnl_socket *nl, void *buf, size_t size, size_t n, nlx_ack_cb cb,
	     void *data)
{
	uint32_t portid = mnl_socket_get_portid(nl);

	while (n > 0) {
		const struct nlmsghdr *nlh;
		ssize_t r = nlx_recv(nl, buf, size);
		int left;

		if (r < 0)
			return (int)r;
		left = (int)r;
		for (nlh = buf; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			/* One too short to say what it answers is no one's. */
			if (nlh->nlmsg_type != NLMSG_ERROR || !mnl_nlmsg_portid_ok(nlh, portid) ||
			    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr))
				continue;
			switch (cb(nlh, nlx_error(nlh), data)) {
			case NLX_ACK_LAST:
				return 0;
			case NLX_ACK_ONE:
				if (n > 0)
					n--;
				break;
			}
		}
	}
	return 0;
}
