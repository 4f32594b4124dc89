/* SPDX-License-Identifier: MIT */
/*
 * ruleset (and the nft transport under it) against a fake kernel: the
 * libmnl socket calls of nft.c are linked to the __wrap_ functions below
 * (see CMakeLists.txt), which keep each request, answer it as nf_tables
 * would, and let the tests decode with libnftnl what nsgate sent. No socket
 * is opened, so this needs neither root nor CAP_NET_ADMIN.
 */
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

/* ------------------------------------------------------------ fake kernel */

struct mnl_socket *__wrap_mnl_socket_open2(int bus, int flags);
int __wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid);
int __wrap_mnl_socket_close(struct mnl_socket *nl);
int __wrap_mnl_socket_get_fd(const struct mnl_socket *nl);
unsigned int __wrap_mnl_socket_get_portid(const struct mnl_socket *nl);
int __wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf, socklen_t len);
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz);

#define FAKE_PORTID 4242u
#define MAX_ELEMS 8

struct fake_elem {
	char key[2 * IFNAMSIZ];
	uint32_t key_len;
	const char *comment;
};

struct fake_set {
	const char *name;
	struct fake_elem elems[MAX_ELEMS];
	size_t n;
};

static struct {
	char sock;                 /* its address is the one fake socket */
	int open;
	/* The last request or batch sent, kept for the tests to decode. */
	char *sent;
	size_t sent_len;
	/* The answer to it, handed out by the next recvfrom. */
	char reply[1 << 16];
	size_t reply_len, reply_off;
	/* How to answer. */
	int fail_index;            /* batch message (0 = first after begin) to refuse, or -1 */
	int fail_err;
	const char *fail_text;     /* extended-ack text, or NULL */
	int refuse_batch;          /* refuse the whole batch, as without CAP_NET_ADMIN */
	bool table_exists;
	struct fake_set *sets;     /* what GETSETELEM dumps; NULL name ends */
} fk;

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

/* The elements of a set in one NEWSETELEM message, as the kernel dumps them
 * (every element nest typed NFTA_LIST_ELEM: libnftnl's own builder numbers
 * them 1, 2, ... and its parser then refuses its output), then DONE. */
static void reply_dump(const struct nlmsghdr *req)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct fake_set *fs;
	struct nlmsghdr *nlh;
	struct nlattr *list;

	assert_non_null(s);
	assert_int_equal(nftnl_set_elems_nlmsg_parse(req, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), RULESET_TABLE);
	fs = fake_set(nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_set_free(s);
	if (!fs) {
		reply_ack(req, -ENOENT, NULL);
		return;
	}
	if (fs->n) {
		nlh = nftnl_nlmsg_build_hdr(reply_room(8192), NFT_MSG_NEWSETELEM, NFPROTO_INET,
					    NLM_F_MULTI, req->nlmsg_seq);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, RULESET_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, fs->name);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (size_t i = 0; i < fs->n; i++) {
			struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
			struct nlattr *key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);

			mnl_attr_put(nlh, NFTA_DATA_VALUE, fs->elems[i].key_len, fs->elems[i].key);
			mnl_attr_nest_end(nlh, key);
			if (fs->elems[i].comment) {
				struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);

				assert_non_null(ud);
				nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT,
						     fs->elems[i].comment);
				mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, nftnl_udata_buf_len(ud),
					     nftnl_udata_buf_data(ud));
				nftnl_udata_buf_free(ud);
			}
			mnl_attr_nest_end(nlh, elem);
		}
		mnl_attr_nest_end(nlh, list);
		fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	reply_done(req);
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

/* The messages of the last request, batch framing included. */
struct sent_msg {
	const struct nlmsghdr *nlh;
	uint16_t type;             /* NFT_MSG_*, or the NFNL_MSG_BATCH_* value */
};

static size_t sent_msgs(struct sent_msg *out, size_t max)
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

/* One element message: its set, and its first element's key and comment. */
struct elem_msg {
	char set[32];
	char key[2 * IFNAMSIZ];
	uint32_t key_len;
	char comment[32];
	size_t n_elems;
};

static void decode_elems(const struct nlmsghdr *nlh, struct elem_msg *ret)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *el;

	memset(ret, 0, sizeof(*ret));
	assert_non_null(s);
	assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), RULESET_TABLE);
	assert_int_equal(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family,
			 NFPROTO_INET);
	snprintf(ret->set, sizeof(ret->set), "%s", nftnl_set_get_str(s, NFTNL_SET_NAME));
	it = nftnl_set_elems_iter_create(s);
	assert_non_null(it);
	while ((el = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const void *key = nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
		const void *ud;
		const char *comment = NULL;

		if (ret->n_elems++)
			continue;
		assert_non_null(key);
		assert_true(len <= sizeof(ret->key));
		memcpy(ret->key, key, len);
		ret->key_len = len;
		ud = nftnl_set_elem_get(el, NFTNL_SET_ELEM_USERDATA, &len);
		if (ud && len)
			nftnl_udata_parse(ud, len, comment_cb, &comment);
		if (comment)
			snprintf(ret->comment, sizeof(ret->comment), "%s", comment);
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
}

/* An interface name as a 16-byte set key. */
static void ifkey(char key[IFNAMSIZ], const char *name)
{
	memset(key, 0, IFNAMSIZ);
	memcpy(key, name, strlen(name));
}

/* ------------------------------------------------------------------ tests */

static int setup(void **state)
{
	struct nftx *n = NULL;

	memset(&fk, 0, sizeof(fk));
	fk.fail_index = -1;
	if (nftx_open(&n) < 0)
		return -1;
	assert_int_equal(fk.open, 1);
	*state = n;
	return 0;
}

static int teardown(void **state)
{
	nftx_close(*state);
	assert_int_equal(fk.open, 0);
	free(fk.sent);
	fk.sent = NULL;
	return 0;
}

/* What a chain of the skeleton must hold, in order. */
struct chain_expect {
	const char *name;
	bool base;
	size_t n_rules;
	const char *last_expr;     /* each rule ends with this expression */
};

static const struct chain_expect chains[] = {
	{ "publish", false, 2, "nat" },
	{ "to_gateway", false, 3, "immediate" },
	{ "prerouting", true, 1, "immediate" },
	{ "output", true, 1, "immediate" },
	{ "postrouting", true, 4, "masq" },
	{ "forward", true, 1, "immediate" },
};

static const char *const sets[] = { "ifaces", "masq_any", "masq_via", "ports4", "ports4h" };

struct rule_check {
	char (*sets)[32];          /* declared so far */
	uint32_t *set_ids;
	size_t n_sets;
	char (*chains)[32];
	size_t n_chains;
	const char *last;          /* name of the last expression seen */
	unsigned n_exprs;
	int verdict;               /* of the last immediate */
	bool inv_lookup;           /* a "!= @set" lookup was seen */
};

/* Each expression: lookups name a set of the batch (by name and id), jumps a
 * chain declared before. */
static int check_expr(struct nftnl_expr *e, void *data)
{
	struct rule_check *c = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	c->last = name;
	c->n_exprs++;
	if (!strcmp(name, "lookup")) {
		const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
		size_t i;

		for (i = 0; i < c->n_sets; i++)
			if (!strcmp(c->sets[i], set))
				break;
		if (i == c->n_sets)
			fail_msg("lookup of undeclared set \"%s\"", set);
		assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID), c->set_ids[i]);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
		    (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV))
			c->inv_lookup = true;
	} else if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		c->verdict = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) {
			const char *target = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
			size_t i;

			for (i = 0; i < c->n_chains; i++)
				if (!strcmp(c->chains[i], target))
					break;
			if (i == c->n_chains)
				fail_msg("jump to undeclared chain \"%s\"", target);
		}
	}
	return 0;
}

/* The skeleton batch: table, its five sets, its six chains (hooks on the
 * base ones), then per chain a flush and its rules, every lookup naming a
 * set of the batch and every jump a declared chain, all in one transaction
 * with an ACK asked for each message. */
static void test_skeleton(void **state)
{
	struct nftx *n = *state;
	struct sent_msg m[64];
	char set_names[8][32], chain_names[8][32];
	uint32_t set_ids[8];
	size_t count, i = 0, n_sets = 0, n_chains = 0, n_rules = 0;
	struct nsg_err e = { 0 };
	uint32_t last_seq = 0;

	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_skeleton(n), 0);
	assert_int_equal(nftx_batch_size(n), 1 + 5 + 6 + 6 + 12);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(e.code, 0);
	count = sent_msgs(m, ARRAY_SIZE(m));
	assert_int_equal(count, 2 + 30);
	assert_int_equal(m[0].type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(m[count - 1].type, NFNL_MSG_BATCH_END);
	for (size_t k = 1; k + 1 < count; k++) {
		const struct nfgenmsg *g = mnl_nlmsg_get_payload(m[k].nlh);

		assert_true(m[k].nlh->nlmsg_flags & NLM_F_ACK);
		assert_int_equal(g->nfgen_family, NFPROTO_INET);
		assert_true(m[k].nlh->nlmsg_seq > last_seq);
		last_seq = m[k].nlh->nlmsg_seq;
	}

	/* The table. */
	i = 1;
	{
		struct nftnl_table *t = nftnl_table_alloc();

		assert_int_equal(m[i].type, NFT_MSG_NEWTABLE);
		assert_int_equal(nftnl_table_nlmsg_parse(m[i].nlh, t), 0);
		assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME), RULESET_TABLE);
		nftnl_table_free(t);
		i++;
	}
	/* Its sets, with distinct ids; maps are maps. */
	for (; m[i].type == NFT_MSG_NEWSET; i++) {
		struct nftnl_set *s = nftnl_set_alloc();
		uint32_t flags;

		assert_int_equal(nftnl_set_nlmsg_parse(m[i].nlh, s), 0);
		assert_true(n_sets < ARRAY_SIZE(set_names));
		assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), sets[n_sets]);
		assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), RULESET_TABLE);
		snprintf(set_names[n_sets], 32, "%s", sets[n_sets]);
		set_ids[n_sets] = nftnl_set_get_u32(s, NFTNL_SET_ID);
		for (size_t k = 0; k < n_sets; k++)
			assert_int_not_equal(set_ids[k], set_ids[n_sets]);
		flags = nftnl_set_is_set(s, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(s, NFTNL_SET_FLAGS) : 0;
		assert_int_equal(!!(flags & NFT_SET_MAP), !strncmp(sets[n_sets], "ports", 5));
		assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
				 !strcmp(sets[n_sets], "masq_via") ? 2 * IFNAMSIZ
				 : !strcmp(sets[n_sets], "ports4") ? 8
				 : !strcmp(sets[n_sets], "ports4h") ? 12 : IFNAMSIZ);
		n_sets++;
		nftnl_set_free(s);
	}
	assert_int_equal(n_sets, ARRAY_SIZE(sets));
	/* Its chains, base chains hooked, regular ones before the jumps to them. */
	for (; m[i].type == NFT_MSG_NEWCHAIN; i++) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		assert_int_equal(nftnl_chain_nlmsg_parse(m[i].nlh, c), 0);
		assert_true(n_chains < ARRAY_SIZE(chains));
		assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), chains[n_chains].name);
		assert_int_equal(nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM), chains[n_chains].base);
		snprintf(chain_names[n_chains], 32, "%s", chains[n_chains].name);
		n_chains++;
		nftnl_chain_free(c);
	}
	assert_int_equal(n_chains, ARRAY_SIZE(chains));
	/* Per chain: one flush, then its rules. */
	for (size_t ch = 0; ch < ARRAY_SIZE(chains); ch++) {
		struct nftnl_rule *r = nftnl_rule_alloc();
		int verdicts[4];

		assert_int_equal(m[i].type, NFT_MSG_DELRULE);
		assert_int_equal(nftnl_rule_nlmsg_parse(m[i].nlh, r), 0);
		assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chains[ch].name);
		assert_false(nftnl_rule_is_set(r, NFTNL_RULE_HANDLE));   /* all of them */
		nftnl_rule_free(r);
		i++;
		for (size_t k = 0; k < chains[ch].n_rules; k++, i++) {
			struct rule_check c = { .sets = set_names, .set_ids = set_ids, .n_sets = n_sets,
						.chains = chain_names, .n_chains = n_chains };

			r = nftnl_rule_alloc();
			assert_int_equal(m[i].type, NFT_MSG_NEWRULE);
			assert_true(m[i].nlh->nlmsg_flags & NLM_F_APPEND);
			assert_int_equal(nftnl_rule_nlmsg_parse(m[i].nlh, r), 0);
			assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chains[ch].name);
			assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), RULESET_TABLE);
			nftnl_expr_foreach(r, check_expr, &c);
			assert_true(c.n_exprs >= 1);
			assert_string_equal(c.last, chains[ch].last_expr);
			if (!strcmp(chains[ch].name, "forward") || !strcmp(chains[ch].name, "to_gateway"))
				verdicts[k] = c.verdict;
			/* masquerade toward any interface, but never into a gateway */
			if (!strcmp(chains[ch].name, "postrouting") && k == 0)
				assert_true(c.inv_lookup);
			n_rules++;
			nftnl_rule_free(r);
		}
		/* Only packets into a gateway go on: replies and published ports
		 * in, the rest dropped; everything else meets the accept policy. */
		if (!strcmp(chains[ch].name, "forward"))
			assert_int_equal(verdicts[0], NFT_JUMP);
		if (!strcmp(chains[ch].name, "to_gateway")) {
			assert_int_equal(verdicts[0], NF_ACCEPT);
			assert_int_equal(verdicts[1], NF_ACCEPT);
			assert_int_equal(verdicts[2], NF_DROP);
		}
	}
	assert_int_equal(n_rules, 12);
	assert_int_equal(i, count - 1);
}

/* A gateway without uplink: its veth in ifaces and masq_any, tagged with
 * its name; deleting sends the same keys without the tag. */
static void test_gateway_any(void **state)
{
	struct nftx *n = *state;
	const struct ruleset_gw gw = { .name = "web", .host_ifname = "nsg-web", .uplink = "" };
	struct sent_msg m[8];
	struct elem_msg em;
	char key[IFNAMSIZ];
	struct nsg_err e = { 0 };

	ifkey(key, "nsg-web");
	for (int del = 0; del < 2; del++) {
		nftx_batch_begin(n);
		assert_int_equal(ruleset_queue_gateway(n, &gw, del), 0);
		assert_int_equal(nftx_batch_size(n), 2);
		assert_int_equal(nftx_batch_commit(n, &e), 0);
		assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
		for (size_t i = 1; i <= 2; i++) {
			assert_int_equal(m[i].type, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
			decode_elems(m[i].nlh, &em);
			assert_string_equal(em.set, i == 1 ? "ifaces" : "masq_any");
			assert_int_equal(em.n_elems, 1);
			assert_int_equal(em.key_len, IFNAMSIZ);
			assert_memory_equal(em.key, key, IFNAMSIZ);
			assert_string_equal(em.comment, del ? "" : "web");
		}
	}
}

/* With --uplink, masquerading is keyed on veth . uplink in masq_via. */
static void test_gateway_uplink(void **state)
{
	struct nftx *n = *state;
	const struct ruleset_gw gw = { .name = "db", .host_ifname = "nsg-db", .uplink = "eth0" };
	struct sent_msg m[8];
	struct elem_msg em;
	char key[2 * IFNAMSIZ];
	struct nsg_err e = { 0 };

	ifkey(key, "nsg-db");
	ifkey(key + IFNAMSIZ, "eth0");
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_gateway(n, &gw, false), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "ifaces");
	assert_memory_equal(em.key, key, IFNAMSIZ);
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "masq_via");
	assert_int_equal(em.key_len, 2 * IFNAMSIZ);
	assert_memory_equal(em.key, key, 2 * IFNAMSIZ);
	assert_string_equal(em.comment, "db");
}

/* A kernel refusal names the message it refused and carries the kernel's
 * text; the batch is then empty. */
static void test_commit_error(void **state)
{
	struct nftx *n = *state;
	struct nsg_err e = { 0 };

	fk.fail_index = 3;   /* table, ifaces, masq_any, masq_via */
	fk.fail_err = -EOPNOTSUPP;
	fk.fail_text = "set type not supported";
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_skeleton(n), 0);
	assert_int_equal(nftx_batch_commit(n, &e), -EOPNOTSUPP);
	assert_int_equal(e.code, -EOPNOTSUPP);
	assert_string_equal(e.what, "nftables: set \"masq_via\"");
	assert_contains(e.why, "set type not supported");
	assert_contains(e.why, strerror(EOPNOTSUPP));
	assert_int_equal(nftx_batch_size(n), 0);
}

/* A batch refused as a whole (no CAP_NET_ADMIN) gets one reply: commit
 * returns at once with the error instead of waiting for the others. */
static void test_commit_refused(void **state)
{
	struct nftx *n = *state;
	struct nsg_err e = { 0 };

	fk.refuse_batch = -EPERM;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_skeleton(n), 0);
	assert_int_equal(nftx_batch_commit(n, &e), -EPERM);
	assert_int_equal(e.code, -EPERM);
	assert_contains(e.what, "nftables");
}

/* An empty batch sends nothing. */
static void test_commit_empty(void **state)
{
	struct nftx *n = *state;
	struct nsg_err e = { 0 };

	nftx_batch_begin(n);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_null(fk.sent);
}

/* Deleting the table is one DELTABLE; table_exists asks the kernel. */
static void test_table(void **state)
{
	struct nftx *n = *state;
	struct sent_msg m[4];
	struct nsg_err e = { 0 };

	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_table_delete(n), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 3);
	assert_int_equal(m[1].type, NFT_MSG_DELTABLE);
	fk.table_exists = false;
	assert_int_equal(ruleset_table_exists(n), 0);
	fk.table_exists = true;
	assert_int_equal(ruleset_table_exists(n), 1);
}

/* Elements of several gateways, one prefix of another's name, and one
 * without a comment; ports4h does not exist (an older table). */
static struct fake_set owned_sets[] = {
	{ "ifaces",
	  { { "nsg-web", IFNAMSIZ, "web" }, { "nsg-webx", IFNAMSIZ, "webx" },
	    { "nsg-db", IFNAMSIZ, "db" }, { "nsg-anon", IFNAMSIZ, NULL } },
	  4 },
	{ "masq_any", { { "nsg-web", IFNAMSIZ, "web" }, { "nsg-webx", IFNAMSIZ, "webx" } }, 2 },
	{ "masq_via", { { "nsg-db\0\0\0\0\0\0\0\0\0\0eth0", 2 * IFNAMSIZ, "db" } }, 1 },
	{ "ports4", { { { 0 }, 0, NULL } }, 0 },
	{ NULL, { { { 0 }, 0, NULL } }, 0 },
};

/* Owned elements are found by their exact comment and queued for deletion,
 * set by set; a missing set counts as empty. */
static void test_owned_delete(void **state)
{
	struct nftx *n = *state;
	struct sent_msg m[8];
	struct elem_msg em;
	size_t found = 99;
	char key[IFNAMSIZ];
	struct nsg_err e = { 0 };

	fk.sets = owned_sets;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_owned_delete(n, "web", &found), 0);
	assert_int_equal(found, 2);
	assert_int_equal(nftx_batch_size(n), 2);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	ifkey(key, "nsg-web");
	for (size_t i = 1; i <= 2; i++) {
		assert_int_equal(m[i].type, NFT_MSG_DELSETELEM);
		decode_elems(m[i].nlh, &em);
		assert_string_equal(em.set, i == 1 ? "ifaces" : "masq_any");
		assert_int_equal(em.n_elems, 1);
		assert_memory_equal(em.key, key, IFNAMSIZ);
	}

	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_owned_delete(n, "nobody", &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(nftx_batch_size(n), 0);

	/* No table at all. */
	fk.sets = NULL;
	assert_int_equal(ruleset_queue_owned_delete(n, "web", &found), 0);
	assert_int_equal(found, 0);
}

/* What show/list report: membership, masquerade mode and uplink, count. */
static void test_gateway_state(void **state)
{
	struct nftx *n = *state;
	struct ruleset_gw_state st;

	fk.sets = owned_sets;
	assert_int_equal(ruleset_gateway_state(n, "web", &st), 0);
	assert_true(st.in_ifaces);
	assert_true(st.masq_any);
	assert_string_equal(st.masq_via, "");
	assert_int_equal(st.n_elems, 2);
	assert_int_equal(ruleset_gateway_state(n, "db", &st), 0);
	assert_true(st.in_ifaces);
	assert_false(st.masq_any);
	assert_string_equal(st.masq_via, "eth0");
	assert_int_equal(st.n_elems, 2);
	assert_int_equal(ruleset_gateway_state(n, "nobody", &st), 0);
	assert_false(st.in_ifaces);
	assert_int_equal(st.n_elems, 0);
	fk.sets = NULL;
	assert_int_equal(ruleset_gateway_state(n, "web", &st), 0);
	assert_int_equal(st.n_elems, 0);
}

/* Published ports: one element a port, unbound ones in ports4 keyed
 * proto . port, bound ones in ports4h keyed addr . proto . port, each a
 * 4-byte register slot in network byte order. One port each: libnftnl
 * 1.2.4 cannot parse a message of several elements with data back. */
static void test_publish_elems(void **state)
{
	struct nftx *n = *state;
	struct portmap pm[2];
	struct sent_msg m[8];
	struct elem_msg em;
	struct nsg_err e = { 0 };
	static const uint8_t key_any[8] = { IPPROTO_UDP, 0, 0, 0, 0, 53, 0, 0 };
	static const uint8_t key_bound[12] = { 127, 0, 0, 1, IPPROTO_TCP, 0, 0, 0, 0x1f, 0x90, 0, 0 };

	assert_int_equal(portmap_parse("127.0.0.1:8080:80", &pm[0], NULL), 0);
	assert_int_equal(portmap_parse("53:53/udp", &pm[1], NULL), 0);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_publish(n, "web", ip_addr_v4(0x0ac80002), pm, 2, false), 0);
	assert_int_equal(nftx_batch_size(n), 2);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "ports4");
	assert_int_equal(em.n_elems, 1);
	assert_int_equal(em.key_len, sizeof(key_any));
	assert_memory_equal(em.key, key_any, sizeof(key_any));
	assert_string_equal(em.comment, "web");
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "ports4h");
	assert_int_equal(em.n_elems, 1);
	assert_int_equal(em.key_len, sizeof(key_bound));
	assert_memory_equal(em.key, key_bound, sizeof(key_bound));
}

/* The maps are IPv4: any other target or host address is refused before
 * anything is queued. */
static void test_publish_not_v4(void **state)
{
	struct nftx *n = *state;
	struct portmap pm;
	struct ip_addr v6;

	assert_int_equal(portmap_parse("8080:80", &pm, NULL), 0);
	assert_int_equal(ip_addr_parse("fd00::2", AF_INET6, &v6), 0);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_publish(n, "web", v6, &pm, 1, false), -EAFNOSUPPORT);
	assert_int_equal(ruleset_queue_publish(n, "web", (struct ip_addr){ .family = AF_UNSPEC }, &pm,
					       1, false), -EAFNOSUPPORT);
	pm.host_addr = v6;
	assert_int_equal(ruleset_queue_publish(n, "web", ip_addr_v4(0x0ac80002), &pm, 1, true),
			 -EAFNOSUPPORT);
	assert_int_equal(nftx_batch_size(n), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_skeleton),
		T(test_gateway_any),
		T(test_gateway_uplink),
		T(test_commit_error),
		T(test_commit_refused),
		T(test_commit_empty),
		T(test_table),
		T(test_owned_delete),
		T(test_gateway_state),
		T(test_publish_elems),
		T(test_publish_not_v4),
	};

	return cmocka_run_group_tests_name("ruleset", tests, NULL, NULL);
}
