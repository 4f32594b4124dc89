/* SPDX-License-Identifier: MIT */
/*
 * nftables transport. Batches are built in one growing buffer and sent with a
 * single sendmsg(), because nfnetlink only treats messages as one transaction
 * when they arrive in the same skb. Every message asks for an ACK, and we read
 * exactly one reply per message: reading just the first reply (as the libnftnl
 * examples do) would leave later errors unreported and stale replies queued.
 */
#include <linux/membarrier.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nsgate/nft.h"
#include "nsgate/nlx.h"

/* Largest message libnftnl will build before it splits an element list
 * (a netlink attribute nest is at most 64 KiB), plus headers. */
#define MSG_ROOM (UINT16_MAX + 4096)

struct msg_tag {
	uint32_t seq;
	char what[80];
};

struct nftx {
	struct mnl_socket *nl;
	uint32_t seq;
	char *buf;
	size_t len, cap;
	struct msg_tag *tags;     /* one per message that expects a reply */
	size_t n_tags, cap_tags;
	uint32_t batch_seq;
	bool oom;
	bool committed;           /* a transaction went through on this socket */
};

int nftx_open(struct nftx **ret)
{
	_cleanup_free_ struct nftx *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	r = nlx_open(NETLINK_NETFILTER, &n->nl);
	if (r < 0)
		return r;
	n->seq = (uint32_t)time(NULL);
	*ret = TAKE_PTR(n);
	return 0;
}

/*
 * Releasing any NETLINK_NETFILTER socket (nftables' or ctnetlink's) makes
 * nf_tables flush its transaction-destroy work first (nft_rcv_nl_event on
 * NETLINK_URELEASE), and that work waits for an RCU grace period: 10-20 ms
 * on a small VM, longer than everything else `up` does. The commit itself is complete and visible; only the freeing of
 * the old objects is pending. So after a commit, the last reference goes to
 * a child that owns nothing else and waits for that on its own, and the
 * command returns at once.
 */
static int release_deferred(int fd)
{
	int wake[2];
	pid_t pid;

	if (pipe2(wake, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid != 0) {
		close(wake[0]);
		if (pid < 0) {
			close(wake[1]);
			return -1;  /* the close below then just waits */
		}
		return wake[1];
	}
	/* Hold nothing the caller may wait on: no stdout pipe, no lock. */
	{
		int lo = fd < wake[0] ? fd : wake[0], hi = fd < wake[0] ? wake[0] : fd;

		close_range(0, lo - 1, 0);
		close_range(lo + 1, hi - 1, 0);
		close_range(hi + 1, ~0U, 0);
	}
	/* Ours must be the last reference, or the caller's close would pay the
	 * wait after all: hold on until it has closed (EOF on the pipe). */
	while (read(wake[0], &pid, 1) < 0 && errno == EINTR)
		;
	/* The release flushes the destroy work under commit_mutex only if
	 * some is pending; the next command's commit would wait on that mutex.
	 * Wait one grace period of our own first (membarrier's global command
	 * is a synchronize_rcu), so our commit's work has run by the close. */
	syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	close(fd);
	_exit(0);
}

void nftx_netfilter_close(struct mnl_socket *nl, bool changed)
{
	int wake = changed ? release_deferred(mnl_socket_get_fd(nl)) : -1;

	mnl_socket_close(nl);
	if (wake >= 0)
		close(wake);
}

void nftx_close(struct nftx *n)
{
	if (!n)
		return;
	nftx_netfilter_close(n->nl, n->committed);
	free(n->buf);
	free(n->tags);
	free(n);
}

static bool reserve(struct nftx *n, size_t room)
{
	if (GROW(n->buf, n->cap, n->len + room) < 0) {
		n->oom = true;
		return false;
	}
	return true;
}

void nftx_batch_begin(struct nftx *n)
{
	n->len = 0;
	n->n_tags = 0;
	n->oom = false;
	if (!reserve(n, MNL_NLMSG_HDRLEN + 64))
		return;
	n->batch_seq = n->seq++;
	nftnl_batch_begin(n->buf, n->batch_seq);
	n->len += ((struct nlmsghdr *)n->buf)->nlmsg_len;
}

struct nlmsghdr *nftx_msg_begin(struct nftx *n, uint16_t type, uint16_t flags, const char *what)
{
	struct msg_tag *t;

	if (n->oom || !reserve(n, MSG_ROOM))
		return NULL;
	if (GROW(n->tags, n->cap_tags, n->n_tags + 1) < 0) {
		n->oom = true;
		return NULL;
	}
	t = &n->tags[n->n_tags++];
	t->seq = n->seq;
	snprintf(t->what, sizeof(t->what), "%s", what ? what : "nftables");
	/* The family is patched in by the builders (nftnl_*_nlmsg_build_hdr
	 * takes it); AF_UNSPEC here is overwritten by the caller's payload. */
	return nftnl_nlmsg_build_hdr(n->buf + n->len, type, NFPROTO_INET, flags | NLM_F_ACK,
				     n->seq++);
}

void nftx_msg_end(struct nftx *n, struct nlmsghdr *nlh)
{
	n->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

unsigned nftx_batch_size(const struct nftx *n)
{
	return n->n_tags;
}

static const char *tag_of(const struct nftx *n, uint32_t seq)
{
	for (size_t i = 0; i < n->n_tags; i++)
		if (n->tags[i].seq == seq)
			return n->tags[i].what;
	return "nftables";
}

/* Record the first error of the batch with the kernel's text when it gave one. */
static void note_error(struct nftx *n, const struct nlmsghdr *nlh, int err, struct nsg_err *e)
{
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

	if (!e || e->code)
		return;
	nsg_fail(e, err, NULL, "nftables: %s", tag_of(n, me->msg.nlmsg_seq));
	nlx_why(e, nlh);
}

struct commit_ctx {
	struct nftx *n;
	struct nsg_err *e;
	int first_err;
};

static int commit_ack(const struct nlmsghdr *nlh, int err, void *data)
{
	struct commit_ctx *c = data;
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

	if (err) {
		note_error(c->n, nlh, err, c->e);
		if (!c->first_err)
			c->first_err = err;
	}
	/* A batch refused as a whole gets one reply only. */
	if (me->msg.nlmsg_type == NFNL_MSG_BATCH_BEGIN || me->msg.nlmsg_seq == c->n->batch_seq)
		return NLX_ACK_LAST;
	return NLX_ACK_ONE;
}

/* Send the batch and read a reply for every message. commit: end it with
 * NFNL_MSG_BATCH_END, the kernel's signal to apply it; without that the
 * kernel checks every message (and the whole, as `nft -c` has it do) and
 * aborts the transaction. */
static int batch_send(struct nftx *n, bool commit, struct nsg_err *e)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
	struct commit_ctx c = { .n = n, .e = e };
	int sndbuf, r;

	if (n->oom)
		return nsg_fail(e, -ENOMEM, NULL, "nftables batch");
	if (!n->n_tags)
		return 0;
	if (commit) {
		if (!reserve(n, MNL_NLMSG_HDRLEN + 64))
			return nsg_fail(e, -ENOMEM, NULL, "nftables batch");
		nftnl_batch_end(n->buf + n->len, n->seq++);
		n->len += ((struct nlmsghdr *)(n->buf + n->len))->nlmsg_len;
	}

	/* A large batch must fit the socket's send buffer in one piece. */
	sndbuf = n->len > INT32_MAX / 2 ? INT32_MAX : (int)n->len * 2;
	if (n->len > 200000)
		setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
			   sizeof(sndbuf));
	if (mnl_socket_sendto(n->nl, n->buf, n->len) < 0)
		return nsg_fail(e, -errno, NULL, "nftables: sending the batch");

	r = nlx_acks(n->nl, rbuf, sizeof(rbuf), n->n_tags, commit_ack, &c);
	if (r < 0)
		/* ENOBUFS: replies were dropped; the outcome is unknown to us. */
		return nsg_fail(e, r, NULL, "nftables: reading the batch's replies");
	n->len = 0;
	n->n_tags = 0;
	n->committed |= commit;
	return c.first_err;
}

int nftx_batch_commit(struct nftx *n, struct nsg_err *e)
{
	return batch_send(n, true, e);
}

int nftx_batch_check(struct nftx *n, struct nsg_err *e)
{
	return batch_send(n, false, e);
}

static int found_cb(const struct nlmsghdr *nlh, void *data)
{
	*(bool *)data = true;
	return MNL_CB_OK;
}

/* One request and its reply or replies, outside any batch. */
static int talk(struct nftx *n, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];

	return nlx_talk(n->nl, nlh, rbuf, sizeof(rbuf), cb, data);
}

int nftx_request(struct nftx *n, struct nlmsghdr *req,
		 int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	req->nlmsg_seq = n->seq++;
	return talk(n, req, cb, data);
}

/* Send a GET for one object: 1 if the kernel has it, 0 if not (ENOENT:
 * the object or its table is missing), or -errno. */
static int ask_exists(struct nftx *n, struct nlmsghdr *nlh)
{
	bool found = false;
	int r = talk(n, nlh, found_cb, &found);

	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : found;
}

int nftx_table_exists(struct nftx *n, uint16_t family, const char *table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, n->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return ask_exists(n, nlh);
}

int nftx_chain_exists(struct nftx *n, uint16_t family, const char *table, const char *chain)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_ACK, n->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return ask_exists(n, nlh);
}

int nftx_elems_queue(struct nftx *n, uint16_t family, const char *table, const char *set,
		     const struct nftx_elem *elems, size_t n_elems, bool del)
{
	struct nftnl_set *s;
	struct nftnl_set_elems_iter *it;
	char what[80];
	int r = 0;

	if (!n_elems)
		return 0;
	s = nftnl_set_alloc();
	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	for (size_t i = 0; i < n_elems; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();

		if (!el) {
			r = -ENOMEM;
			goto out;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, elems[i].key, elems[i].key_len);
		if (elems[i].data && !del)
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_DATA, elems[i].data, elems[i].data_len);
		if (elems[i].comment && !del) {
			/* The comment is what `nft list` shows after the element;
			 * it is also how nsgate finds a gateway's elements. */
			struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);

			if (!ud) {
				nftnl_set_elem_free(el);
				r = -ENOMEM;
				goto out;
			}
			nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, elems[i].comment);
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
					   nftnl_udata_buf_len(ud));
			nftnl_udata_buf_free(ud);
		}
		nftnl_set_elem_add(s, el);
	}
	snprintf(what, sizeof(what), "%s elements of \"%s\"", del ? "deleting" : "adding", set);
	it = nftnl_set_elems_iter_create(s);
	if (!it) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *nlh = nftx_msg_begin(n, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
						      del ? 0 : NLM_F_CREATE, what);
		int more;

		if (!nlh) {
			r = -ENOMEM;
			break;
		}
		nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) |
				  (del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
		((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family = family;
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		nftx_msg_end(n, nlh);
		if (more <= 0)
			break;
	}
	nftnl_set_elems_iter_destroy(it);
out:
	nftnl_set_free(s);
	return r;
}

struct dump_ctx {
	nftx_elem_cb cb;
	void *userdata;
	int err;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT) {
		const char *s = nftnl_udata_get(attr);
		uint8_t len = nftnl_udata_len(attr);

		if (len > 0 && s[len - 1] == '\0')
			*(const char **)data = s;
	}
	return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	it = nftnl_set_elems_iter_create(s);
	/* iter_next returns the current element, then advances. */
	while (it && !ctx->err && (el = nftnl_set_elems_iter_next(it))) {
		struct nftx_elem e = { 0 };
		uint32_t len = 0;
		const void *ud;

		e.key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &e.key_len);
		if (nftnl_set_elem_is_set(el, NFTNL_SET_ELEM_DATA))
			e.data = nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &e.data_len);
		ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &len);
		if (ud && len)
			nftnl_udata_parse(ud, len, comment_cb, &e.comment);
		if (e.key)
			ctx->err = ctx->cb(&e, ctx->userdata);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return ctx->err ? MNL_CB_STOP : MNL_CB_OK;
}

int nftx_elems_dump(struct nftx *n, uint16_t family, const char *table, const char *set,
		    nftx_elem_cb cb, void *userdata)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct dump_ctx ctx = { cb, userdata, 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP | NLM_F_ACK,
				    n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	r = talk(n, nlh, elems_cb, &ctx);
	if (ctx.err)
		return ctx.err;
	return r;
}

struct rules_ctx {
	nftx_rule_cb cb;
	void *userdata;
};

static int rules_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rules_ctx *ctx = data;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 && nftnl_rule_is_set(r, NFTNL_RULE_CHAIN))
		ctx->cb(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), ctx->userdata);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int nftx_rules_dump(struct nftx *n, uint16_t family, const char *table, nftx_rule_cb cb,
		    void *userdata)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct rules_ctx ctx = { cb, userdata };
	struct nlmsghdr *nlh;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP | NLM_F_ACK, n->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return talk(n, nlh, rules_cb, &ctx);
}

int nftx_elem_get(struct nftx *n, uint16_t family, const char *table, const char *set,
		  const void *key, uint32_t key_len, nftx_elem_cb cb, void *userdata)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	struct dump_ctx ctx = { cb, userdata, 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!s || !el) {
		nftnl_set_free(s);
		nftnl_set_elem_free(el);
		return -ENOMEM;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, key_len);
	nftnl_set_elem_add(s, el);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_ACK, n->seq++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	r = talk(n, nlh, elems_cb, &ctx);
	if (ctx.err)
		return ctx.err;
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}
