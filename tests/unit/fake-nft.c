/* SPDX-License-Identifier: MIT */
/* The fake kernel of the ruleset tests (fake-nft.h): the __wrap_ functions
 * that stand in for libmnl's socket calls, and the decoding of what was sent. */
#include "unit.h"

#include <stdio.h>
#include <sys/socket.h>
/* glibc's netinet/in.h before the kernel headers, which then step aside. */
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nsgate/nft.h"
#include "nsgate/ruleset.h"

#include "fake-nft.h"

/* ------------------------------------------------------------ fake kernel */

struct mnl_socket *__wrap_mnl_socket_open2(int bus, int flags);
int __wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid);
int __wrap_mnl_socket_close(struct mnl_socket *nl);
int __wrap_mnl_socket_get_fd(const struct mnl_socket *nl);
unsigned int __wrap_mnl_socket_get_portid(const struct mnl_socket *nl);
int __wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf, socklen_t len);
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz);




struct fake_kernel fk;


struct mnl_socket *__wrap_mnl_socket_open2(int bus, int flags)
{
	assert_int_equal(bus, NETLINK_NETFILTER);
	fk.open++;
	return (struct mnl_socket *)&fk.sock;
}

int __wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid)
{
	return 0;
}

int __wrap_mnl_socket_close(struct mnl_socket *nl)
{
	assert_ptr_equal(nl, &fk.sock);
	fk.open--;
	return 0;
}

int __wrap_mnl_socket_get_fd(const struct mnl_socket *nl)
{
	return -1;
}

unsigned int __wrap_mnl_socket_get_portid(const struct mnl_socket *nl)
{
	return FAKE_PORTID;
}

int __wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf, socklen_t len)
{
	return 0;
}

static void *reply_room(size_t len)
{
	void *p = fk.reply + fk.reply_len;

	assert_true(fk.reply_len + len <= sizeof(fk.reply));
	memset(p, 0, len);
	return p;
}

/* An ACK (err 0) or error for req, with the request header only (CAP_ACK). */
static void reply_ack(const struct nlmsghdr *req, int err, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(reply_room(MNL_SOCKET_BUFFER_SIZE));
	struct nlmsgerr *me;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0);
	nlh->nlmsg_seq = req->nlmsg_seq;
	me = mnl_nlmsg_put_extra_header(nlh, sizeof(*me));
	me->error = err;
	me->msg = *req;
	if (text)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void reply_done(const struct nlmsghdr *req)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(reply_room(MNL_SOCKET_BUFFER_SIZE));

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = req->nlmsg_seq;
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = 0;
	fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static struct fake_set *fake_set(const char *name)
{
	for (struct fake_set *s = fk.sets; s && s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* One element into a dump's list. */
static void put_elem(struct nlmsghdr *nlh, const struct fake_elem *fe)
{
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	struct nlattr *nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, fe->key_len, fe->key);
	mnl_attr_nest_end(nlh, nest);
	if (fe->data_len) {
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, fe->data_len, fe->data);
		mnl_attr_nest_end(nlh, nest);
	}
	if (fe->comment) {
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);

		assert_non_null(ud);
		nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, fe->comment);
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, nftnl_udata_buf_len(ud),
			     nftnl_udata_buf_data(ud));
		nftnl_udata_buf_free(ud);
	}
	mnl_attr_nest_end(nlh, elem);
}

/* The elements of a set in one NEWSETELEM message, as the kernel dumps them
 * (every element nest typed NFTA_LIST_ELEM: libnftnl's own builder numbers
 * them 1, 2, ... and its parser then refuses its output), then DONE. A GET
 * of one key (the request names an element) answers with that element and
 * an ACK, or ENOENT, as the kernel does. */
static void reply_dump(const struct nlmsghdr *req)
{
	struct fake_elem want;
	char name[32];
	size_t n_want = decode_elem_list(req, name, &want, 1);
	struct fake_set *fs = fake_set(name);
	struct nlmsghdr *nlh;
	struct nlattr *list;
	size_t found = 0;

	if (!fs) {
		reply_ack(req, -ENOENT, NULL);
		return;
	}
	nlh = nftnl_nlmsg_build_hdr(reply_room(8192), NFT_MSG_NEWSETELEM, NFPROTO_INET,
				    n_want ? 0 : NLM_F_MULTI, req->nlmsg_seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, RULESET_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, fs->name);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (size_t i = 0; i < fs->n; i++) {
		if (n_want && (fs->elems[i].key_len != want.key_len ||
			       memcmp(fs->elems[i].key, want.key, want.key_len)))
			continue;
		put_elem(nlh, &fs->elems[i]);
		found++;
	}
	mnl_attr_nest_end(nlh, list);
	if (n_want && !found) {
		reply_ack(req, -ENOENT, NULL);
		return;
	}
	if (found)
		fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
	if (n_want)
		reply_ack(req, 0, NULL);
	else
		reply_done(req);
}

/* GETCHAIN: a table with sets has every chain but fk.missing_chain. */
static void reply_chain(const struct nlmsghdr *req)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	bool found;

	assert_non_null(c);
	assert_int_equal(nftnl_chain_nlmsg_parse(req, c), 0);
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), RULESET_TABLE);
	found = fk.sets && !(fk.missing_chain &&
			     !strcmp(fk.missing_chain, nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)));
	if (found) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(reply_room(256), NFT_MSG_NEWCHAIN,
							     NFPROTO_INET, 0, req->nlmsg_seq);

		nftnl_chain_nlmsg_build_payload(nlh, c);
		fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	nftnl_chain_free(c);
	reply_ack(req, found ? 0 : -ENOENT, NULL);
}

/* A GETSET dump of the table: every set the fake kernel has, then DONE
 * (none, and no table: ENOENT). */
static void reply_set_dump(const struct nlmsghdr *req)
{
	if (!fk.sets) {
		reply_ack(req, -ENOENT, NULL);
		return;
	}
	for (struct fake_set *fs = fk.sets; fs->name; fs++) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(reply_room(256), NFT_MSG_NEWSET,
							     NFPROTO_INET, NLM_F_MULTI, req->nlmsg_seq);

		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, RULESET_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, fs->name);
		fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	reply_done(req);
}

/* GETSET: the set exists if the fake kernel has it. */
static void reply_set(const struct nlmsghdr *req)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct fake_set *fs;

	if (req->nlmsg_flags & NLM_F_DUMP) {
		nftnl_set_free(s);
		reply_set_dump(req);
		return;
	}
	assert_non_null(s);
	assert_int_equal(nftnl_set_nlmsg_parse(req, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), RULESET_TABLE);
	fs = fake_set(nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_set_free(s);
	if (fs) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(reply_room(256), NFT_MSG_NEWSET,
							     NFPROTO_INET, 0, req->nlmsg_seq);

		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, RULESET_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, fs->name);
		fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	reply_ack(req, fs ? 0 : -ENOENT, NULL);
}

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	const struct nlmsghdr *nlh;
	int left = (int)siz, index = 0;

	assert_ptr_equal(nl, &fk.sock);
	free(fk.sent);
	fk.sent = malloc(siz);
	assert_non_null(fk.sent);
	memcpy(fk.sent, req, siz);
	fk.sent_len = siz;
	fk.reply_len = fk.reply_off = 0;

	for (nlh = req; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		uint16_t type = nlh->nlmsg_type;

		if (type == NFNL_MSG_BATCH_BEGIN) {
			if (fk.refuse_batch) {
				reply_ack(nlh, fk.refuse_batch, NULL);
				break;
			}
			continue;
		}
		if (type == NFNL_MSG_BATCH_END)
			continue;
		assert_int_equal(type >> 8, NFNL_SUBSYS_NFTABLES);
		switch (type & 0xff) {
		case NFT_MSG_GETSETELEM:
			reply_dump(nlh);
			break;
		case NFT_MSG_GETSET:
			reply_set(nlh);
			break;
		case NFT_MSG_GETCHAIN:
			reply_chain(nlh);
			break;
		case NFT_MSG_GETTABLE:
			if (fk.table_exists) {
				struct nlmsghdr *t = mnl_nlmsg_put_header(reply_room(64));

				t->nlmsg_type = nlh->nlmsg_type & ~0xff;
				t->nlmsg_type |= NFT_MSG_NEWTABLE;
				t->nlmsg_seq = nlh->nlmsg_seq;
				mnl_nlmsg_put_extra_header(t, sizeof(struct nfgenmsg));
				fk.reply_len += NLMSG_ALIGN(t->nlmsg_len);
				reply_ack(nlh, 0, NULL);
			} else {
				reply_ack(nlh, -ENOENT, NULL);
			}
			break;
		default:
			assert_true(nlh->nlmsg_flags & NLM_F_ACK);
			if (index == fk.fail_index)
				reply_ack(nlh, fk.fail_err, fk.fail_text);
			else
				reply_ack(nlh, 0, NULL);
			index++;
		}
	}
	return (ssize_t)siz;
}

/* One message per call, as a busy socket may deliver them: the callers must
 * keep reading until every reply they expect has come. */
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz)
{
	const struct nlmsghdr *nlh = (const void *)(fk.reply + fk.reply_off);
	size_t len;

	if (fk.reply_off >= fk.reply_len) {
		errno = EAGAIN;   /* nothing more would come: never block a test */
		return -1;
	}
	len = NLMSG_ALIGN(nlh->nlmsg_len);
	assert_true(len <= siz && fk.reply_off + len <= fk.reply_len);
	memcpy(buf, nlh, len);
	fk.reply_off += len;
	return (ssize_t)len;
}

/* ------------------------------------------------------ decoding requests */


size_t sent_msgs(struct sent_msg *out, size_t max)
{
	const struct nlmsghdr *nlh;
	int left = (int)fk.sent_len;
	size_t n = 0;

	for (nlh = (const void *)fk.sent; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		assert_true(n < max);
		out[n].nlh = nlh;
		out[n].type = nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
					      nlh->nlmsg_type == NFNL_MSG_BATCH_END
				      ? nlh->nlmsg_type
				      : nlh->nlmsg_type & 0xff;
		n++;
	}
	assert_int_equal(left, 0);
	return n;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT)
		*(const char **)data = nftnl_udata_get(attr);
	return 0;
}

/* The NFTA_DATA_VALUE of a key or data nest into buf; its length. */
static uint32_t nested_value(const struct nlattr *nest, char *buf, size_t size)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_type(a) != NFTA_DATA_VALUE)
			continue;
		assert_true(mnl_attr_get_payload_len(a) <= size);
		memcpy(buf, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
		return mnl_attr_get_payload_len(a);
	}
	return 0;
}

static void decode_one(const struct nlattr *elem, struct fake_elem *fe)
{
	const struct nlattr *a;

	memset(fe, 0, sizeof(*fe));
	mnl_attr_for_each_nested(a, elem) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			fe->key_len = nested_value(a, fe->key, sizeof(fe->key));
			break;
		case NFTA_SET_ELEM_DATA:
			fe->data_len = nested_value(a, fe->data, sizeof(fe->data));
			break;
		case NFTA_SET_ELEM_USERDATA:
			nftnl_udata_parse(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a),
					  comment_cb, &fe->comment);
			break;
		}
	}
}

size_t decode_elem_list(const struct nlmsghdr *nlh, char set[32], struct fake_elem *out,
			size_t max)
{
	const struct nlattr *a, *e;
	size_t n = 0;

	assert_int_equal(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family,
			 NFPROTO_INET);
	set[0] = '\0';
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_LIST_TABLE:
			assert_string_equal(mnl_attr_get_str(a), RULESET_TABLE);
			break;
		case NFTA_SET_ELEM_LIST_SET:
			snprintf(set, 32, "%s", mnl_attr_get_str(a));
			break;
		case NFTA_SET_ELEM_LIST_ELEMENTS:
			mnl_attr_for_each_nested(e, a) {
				if (n < max)
					decode_one(e, &out[n]);
				n++;
			}
			break;
		}
	}
	return n;
}

void decode_elems(const struct nlmsghdr *nlh, struct elem_msg *ret)
{
	struct fake_elem first;

	memset(ret, 0, sizeof(*ret));
	ret->n_elems = decode_elem_list(nlh, ret->set, &first, 1);
	assert_true(ret->set[0] != '\0');
	if (!ret->n_elems)
		return;
	memcpy(ret->key, first.key, first.key_len);
	ret->key_len = first.key_len;
	memcpy(ret->data, first.data, first.data_len);
	ret->data_len = first.data_len;
	if (first.comment)
		snprintf(ret->comment, sizeof(ret->comment), "%s", first.comment);
}

/* An interface name as a 16-byte set key. */
void ifkey(char key[IFNAMSIZ], const char *name)
{
	memset(key, 0, IFNAMSIZ);
	memcpy(key, name, strlen(name));
}

