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
#include <linux/netfilter/nf_conntrack_common.h>
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
	{ "forward", true, 2, "immediate" },
};

static const char *const sets[] = { "ifaces", "masq_any", "masq_via", "ports4", "ports4h",
				    "fwd_guard" };

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

/* One expression as the nft line it stands for spells it: its name and,
 * where it matters, its key, operator, data or verdict. */
static int describe_expr(struct nftnl_expr *e, void *data)
{
	char *out = data, one[64] = "";
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t len;

	if (!strcmp(name, "meta"))
		snprintf(one, sizeof(one), "meta:%u", nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY));
	else if (!strcmp(name, "ct"))
		snprintf(one, sizeof(one), "ct:%u", nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY));
	else if (!strcmp(name, "lookup"))
		snprintf(one, sizeof(one), "lookup:%s%s", nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET),
			 nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) ? "!" : "");
	else if (!strcmp(name, "bitwise")) {
		const uint32_t *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
		snprintf(one, sizeof(one), "and:%#x", len == 4 ? *mask : 0);
	} else if (!strcmp(name, "cmp")) {
		const char *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
		static const char zero[4];
		const char *op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ ? "eq" : "neq";

		/* A flag test compares with 0; a wildcard with the prefix's bytes. */
		if (len == sizeof(zero) && !memcmp(d, zero, len))
			snprintf(one, sizeof(one), "%s:0", op);
		else
			snprintf(one, sizeof(one), "%s:%.*s", op, (int)len, d);
	} else if (!strcmp(name, "immediate"))
		snprintf(one, sizeof(one), "verdict:%d", (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
	else
		snprintf(one, sizeof(one), "%s", name);
	snprintf(out + strlen(out), 512 - strlen(out), "%s%s", out[0] ? " " : "", one);
	return 0;
}

/* nft: iifname @fwd_guard oifname != "nsg-*" ct state new ct status != dnat drop */
static void check_fwd_guard_rule(struct nftnl_rule *r)
{
	char got[512] = "", want[512];

	nftnl_expr_foreach(r, describe_expr, got);
	snprintf(want, sizeof(want),
		 "meta:%u lookup:fwd_guard meta:%u neq:nsg- "
		 "ct:%u and:%#x neq:0 ct:%u and:%#x eq:0 verdict:%d",
		 NFT_META_IIFNAME, NFT_META_OIFNAME, NFT_CT_STATE, NF_CT_STATE_BIT(IP_CT_NEW),
		 NFT_CT_STATUS, IPS_DST_NAT, NF_DROP);
	assert_string_equal(got, want);
}

/* The skeleton batch: table, its six sets, its six chains (hooks on the
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
	assert_int_equal(nftx_batch_size(n), 1 + 6 + 6 + 6 + 13);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(e.code, 0);
	count = sent_msgs(m, ARRAY_SIZE(m));
	assert_int_equal(count, 2 + 32);
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
			if (!strcmp(chains[ch].name, "forward") && k == 1)
				check_fwd_guard_rule(r);
			n_rules++;
			nftnl_rule_free(r);
		}
		/* Only packets into a gateway go on: replies and published ports
		 * in, the rest dropped; from a guarded uplink, new connections
		 * elsewhere are dropped; everything else meets the accept policy. */
		if (!strcmp(chains[ch].name, "forward")) {
			assert_int_equal(verdicts[0], NFT_JUMP);
			assert_int_equal(verdicts[1], NF_DROP);
		}
		if (!strcmp(chains[ch].name, "to_gateway")) {
			assert_int_equal(verdicts[0], NF_ACCEPT);
			assert_int_equal(verdicts[1], NF_ACCEPT);
			assert_int_equal(verdicts[2], NF_DROP);
		}
	}
	assert_int_equal(n_rules, 13);
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
	/* Shared: never a gateway's, whatever the comment says. */
	{ "fwd_guard", { { "up0", IFNAMSIZ, "nsgate" }, { "eth1", IFNAMSIZ, "web" } }, 2 },
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

/* The guard's elements: one per uplink, marked as nsgate's; deletion by
 * key. Pruning deletes what is not kept, whatever its comment. */
static void test_fwd_guard(void **state)
{
	struct nftx *n = *state;
	static const char two[2][GW_NAME_MAX + 1] = { "eth1", "up0" };
	struct sent_msg m[8];
	struct elem_msg em;
	char key[IFNAMSIZ];
	size_t found = 99;
	struct nsg_err e = { 0 };

	/* One element a message decoded: libnftnl 1.2.4 parses no more back. */
	ifkey(key, "eth1");
	for (int del = 0; del < 2; del++) {
		nftx_batch_begin(n);
		assert_int_equal(ruleset_queue_fwd_guard(n, two, 1, del), 0);
		assert_int_equal(nftx_batch_size(n), 1);
		assert_int_equal(nftx_batch_commit(n, &e), 0);
		assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 3);
		assert_int_equal(m[1].type, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
		decode_elems(m[1].nlh, &em);
		assert_string_equal(em.set, "fwd_guard");
		assert_int_equal(em.n_elems, 1);
		assert_memory_equal(em.key, key, IFNAMSIZ);
		assert_string_equal(em.comment, del ? "" : "nsgate");
	}
	/* Both uplinks in one message. */
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard(n, two, 2, false), 0);
	assert_int_equal(nftx_batch_size(n), 1);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard(n, two, 0, false), 0);
	assert_int_equal(nftx_batch_size(n), 0);

	fk.sets = owned_sets;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard_prune(n, &two[1], 1, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 3);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "fwd_guard");
	assert_int_equal(em.n_elems, 1);
	assert_memory_equal(em.key, key, IFNAMSIZ);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard_prune(n, NULL, 0, &found), 0);
	assert_int_equal(found, 2);
	fk.sets = NULL;
	assert_int_equal(ruleset_queue_fwd_guard_prune(n, NULL, 0, &found), 0);
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
		T(test_fwd_guard),
		T(test_gateway_state),
		T(test_publish_elems),
		T(test_publish_not_v4),
	};

	return cmocka_run_group_tests_name("ruleset", tests, NULL, NULL);
}
