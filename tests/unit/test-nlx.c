/* SPDX-License-Identifier: MIT */
/*
 * nlx: the error and extended-ack parsing on NLMSG_ERROR messages built by
 * hand, capped and uncapped, with and without the kernel's text; then one
 * request, a dump and a window of acks against the caller's own rtnetlink
 * (reads only: no privilege needed).
 */
#include "unit.h"

#include <stdio.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "nsgate/nlx.h"

/* The request an error answers: a header and len bytes of payload. */
#define REQ_TYPE 0x1234
#define REQ_SEQ 77u

static union {
	char b[4096];
	struct nlmsghdr align;
} buf;

/*
 * An NLMSG_ERROR as the kernel builds it (netlink_ack): the error, the
 * request's header (capped) or all of it, then the TLVs: the text when
 * given, and an NLMSGERR_ATTR_OFFS as a kernel that points at the bad
 * attribute adds.
 */
static struct nlmsghdr *put_error(int err, bool capped, size_t req_payload, const char *text)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *me;
	size_t echo = capped ? 0 : req_payload;

	memset(&buf, 0xa5, sizeof(buf));  /* stray bytes must never be read as text */
	nlh = mnl_nlmsg_put_header(buf.b);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = REQ_SEQ;
	nlh->nlmsg_flags = (capped ? NLM_F_CAPPED : 0) | (text ? NLM_F_ACK_TLVS : 0);
	me = mnl_nlmsg_put_extra_header(nlh, sizeof(*me) + echo);
	me->error = err;
	me->msg.nlmsg_len = (uint32_t)(sizeof(struct nlmsghdr) + req_payload);
	me->msg.nlmsg_type = REQ_TYPE;
	me->msg.nlmsg_seq = REQ_SEQ;
	memset((char *)(me + 1), 'x', echo);  /* the request's payload, echoed */
	if (text) {
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	}
	return nlh;
}

static void test_ack(void **state)
{
	struct nlmsghdr *nlh = put_error(0, true, 24, NULL);

	assert_int_equal(nlx_error(nlh), 0);
	assert_null(nlx_extack_msg(nlh));
}

static void test_capped_text(void **state)
{
	struct nlmsghdr *nlh = put_error(-EINVAL, true, 24, "Unknown device type");

	assert_int_equal(nlx_error(nlh), -EINVAL);
	assert_string_equal(nlx_extack_msg(nlh), "Unknown device type");
}

static void test_capped_no_text(void **state)
{
	struct nlmsghdr *nlh = put_error(-EEXIST, true, 24, NULL);

	assert_int_equal(nlx_error(nlh), -EEXIST);
	assert_null(nlx_extack_msg(nlh));
}

/* Uncapped, the whole request sits before the TLVs; a payload that is not a
 * multiple of four puts them after padding. */
static void test_uncapped_text(void **state)
{
	const size_t payloads[] = { 0, 16, 21, 200 };

	for (size_t i = 0; i < ARRAY_SIZE(payloads); i++) {
		struct nlmsghdr *nlh = put_error(-EOPNOTSUPP, false, payloads[i], "no such set type");

		assert_int_equal(nlx_error(nlh), -EOPNOTSUPP);
		assert_string_equal(nlx_extack_msg(nlh), "no such set type");
	}
}

static void test_uncapped_no_text(void **state)
{
	struct nlmsghdr *nlh = put_error(-EPERM, false, 40, NULL);

	assert_int_equal(nlx_error(nlh), -EPERM);
	assert_null(nlx_extack_msg(nlh));
}

/* NLM_F_ACK_TLVS with other TLVs only. */
static void test_tlvs_without_msg(void **state)
{
	struct nlmsghdr *nlh = put_error(-EINVAL, true, 24, NULL);

	nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	assert_null(nlx_extack_msg(nlh));
}

/* Without the flag, attributes there are not looked at. */
static void test_text_without_flag(void **state)
{
	struct nlmsghdr *nlh = put_error(-EINVAL, true, 24, "ignored");

	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK_TLVS;
	assert_null(nlx_extack_msg(nlh));
}

/* A text without its NUL is not taken. */
static void test_text_unterminated(void **state)
{
	struct nlmsghdr *nlh = put_error(-EINVAL, true, 24, NULL);

	nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	mnl_attr_put(nlh, NLMSGERR_ATTR_MSG, 4, "abcd");
	assert_null(nlx_extack_msg(nlh));
}

/* An echoed length that points past the message, and a message too short
 * for its nlmsgerr, are refused without reading beyond nlmsg_len. */
static void test_malformed(void **state)
{
	struct nlmsghdr *nlh = put_error(-EINVAL, false, 16, "text");
	struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

	me->msg.nlmsg_len = 4000;
	assert_null(nlx_extack_msg(nlh));
	me->msg.nlmsg_len = 3;   /* shorter than a header */
	assert_null(nlx_extack_msg(nlh));

	nlh = put_error(-EINVAL, true, 0, "text");
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	assert_int_equal(nlx_error(nlh), -EBADMSG);
	assert_null(nlx_extack_msg(nlh));
}

/* Only NLMSG_ERROR carries an nlmsgerr. */
static void test_not_error(void **state)
{
	struct nlmsghdr *nlh = put_error(-EINVAL, true, 24, "text");

	nlh->nlmsg_type = NLMSG_DONE;
	assert_null(nlx_extack_msg(nlh));
}

static void test_why(void **state)
{
	struct nsg_err e = { 0 };
	char want[128];

	nsg_fail(&e, -EINVAL, NULL, "thing");
	nlx_why(&e, put_error(-EINVAL, true, 24, NULL));
	assert_string_equal(e.why, "");
	nlx_why(&e, put_error(-EINVAL, true, 24, "bad thing"));
	snprintf(want, sizeof(want), "%s (bad thing)", strerror(EINVAL));
	assert_string_equal(e.why, want);
	nlx_why(NULL, put_error(-EINVAL, true, 24, "bad thing"));
}

/* ------------------------------------------------ against rtnetlink */

static int open_route(void **state)
{
	struct mnl_socket *nl = NULL;
	int r = nlx_open(NETLINK_ROUTE, &nl);

	/* A sandbox without netlink: nothing to talk to. */
	if (r == -EAFNOSUPPORT || r == -EPERM || r == -EACCES)
		skip();
	assert_int_equal(r, 0);
	assert_int_not_equal(mnl_socket_get_portid(nl), 0);
	*state = nl;
	return 0;
}

static int close_route(void **state)
{
	nlx_close(*state);
	return 0;
}

static struct nlmsghdr *put_getlink(char *b, uint16_t flags, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nlh;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		(*(unsigned *)data)++;
	return MNL_CB_OK;
}

static int stop_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(unsigned *)data)++;
	return MNL_CB_STOP;
}

/* Every namespace has lo: a dump ends at NLMSG_DONE with at least it. */
static void test_talk_dump(void **state)
{
	char req[256], rbuf[32768];
	unsigned n = 0;

	assert_int_equal(nlx_talk(*state, put_getlink(req, NLM_F_DUMP, 1, 0), rbuf, sizeof(rbuf),
				  count_cb, &n), 0);
	assert_true(n >= 1);
}

/* A GET with an ack: the reply, then the ack ends it; a refusal is -errno. */
static void test_talk_get(void **state)
{
	char req[256], rbuf[32768];
	unsigned n = 0;

	assert_int_equal(nlx_talk(*state, put_getlink(req, NLM_F_ACK, 2, 1), rbuf, sizeof(rbuf),
				  count_cb, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(nlx_talk(*state, put_getlink(req, NLM_F_ACK, 3, 0x7ffffff0), rbuf,
				  sizeof(rbuf), count_cb, &n), -ENODEV);
	/* A callback that stops ends the talk at the reply (the ack is left
	 * unread; the socket is closed next). */
	n = 0;
	assert_int_equal(nlx_talk(*state, put_getlink(req, NLM_F_ACK, 4, 1), rbuf, sizeof(rbuf),
				  stop_cb, &n), 0);
	assert_int_equal(n, 1);
}

struct acks {
	uint32_t seq0;
	unsigned got, refused;
};

static int ack_cb(const struct nlmsghdr *nlh, int error, void *data)
{
	struct acks *a = data;

	if (nlh->nlmsg_seq - a->seq0 >= 3)
		return NLX_ACK_OTHER;
	a->got++;
	if (error == -ENODEV)
		a->refused++;
	return NLX_ACK_ONE;
}

/* Three requests in one write, three acks read. */
static void test_acks(void **state)
{
	char req[1024], rbuf[32768];
	struct acks a = { .seq0 = 100 };
	size_t len = 0;

	for (uint32_t i = 0; i < 3; i++)
		len += put_getlink(req + len, NLM_F_ACK, a.seq0 + i, 0x7ffffff0 - (int)i)->nlmsg_len;
	assert_int_equal(mnl_socket_sendto(*state, req, len), (ssize_t)len);
	assert_int_equal(nlx_acks(*state, rbuf, sizeof(rbuf), 3, ack_cb, &a), 0);
	assert_int_equal(a.got, 3);
	assert_int_equal(a.refused, 3);
}

static void test_open_groups(void **state)
{
	const unsigned groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR };
	struct mnl_socket *nl = NULL;
	char rbuf[8192];

	assert_int_equal(nlx_open_groups(NETLINK_ROUTE, groups, ARRAY_SIZE(groups), &nl), 0);
	/* Non-blocking: no event pending is -EAGAIN at once (or one that came). */
	{
		ssize_t r = nlx_recv(nl, rbuf, sizeof(rbuf));

		assert_true(r == -EAGAIN || r > 0);
	}
	nlx_close(nl);
	nlx_close(NULL);
}

#define NET(f) cmocka_unit_test_setup_teardown(f, open_route, close_route)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_capped_text),
		cmocka_unit_test(test_capped_no_text),
		cmocka_unit_test(test_uncapped_text),
		cmocka_unit_test(test_uncapped_no_text),
		cmocka_unit_test(test_tlvs_without_msg),
		cmocka_unit_test(test_text_without_flag),
		cmocka_unit_test(test_text_unterminated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_not_error),
		cmocka_unit_test(test_why),
		NET(test_talk_dump),
		NET(test_talk_get),
		NET(test_acks),
		NET(test_open_groups),
	};

	return cmocka_run_group_tests_name("nlx", tests, NULL, NULL);
}
