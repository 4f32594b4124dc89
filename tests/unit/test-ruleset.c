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

/* What a chain of the skeleton must hold, in order: per rule, the names of
 * its expressions as the nft line above its builder in ruleset.c makes
 * them, and its verdict (0: none, a NAT or masquerade statement). */
struct rule_expect {
	const char *exprs;
	int verdict;
	unsigned n_prefix;         /* compares of an ifname with "nsg-" (4 bytes) */
};

struct chain_expect {
	const char *name;
	bool base;
	uint32_t hook;
	int32_t prio;
	size_t n_rules;
	struct rule_expect rules[5];
};

#define IS_IPV4 "meta cmp "
#define CT_FLAGS "ct bitwise cmp "

static const struct chain_expect chains[] = {
	{ "publish", false, 0, 0, 2, {
		/* meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @ports4h */
		{ IS_IPV4 "payload meta payload lookup nat", 0, 0 },
		/* meta nfproto ipv4 dnat ip to meta l4proto . th dport map @ports4 */
		{ IS_IPV4 "meta payload lookup nat", 0, 0 } } },
	{ "to_gateway", false, 0, 0, 3, {
		{ CT_FLAGS "immediate", NF_ACCEPT, 0 },   /* ct state established,related accept */
		{ CT_FLAGS "immediate", NF_ACCEPT, 0 },   /* ct status dnat accept */
		{ "immediate", NF_DROP, 0 } } },          /* drop */
	{ "no_host", false, 0, 0, 5, {
		{ CT_FLAGS "immediate", NFT_RETURN, 0 },  /* ct state established,related return */
		{ "fib cmp immediate", NFT_RETURN, 0 },   /* fib daddr type != local return */
		/* meta nfproto ipv4 meta l4proto udp|tcp th dport 53 iifname . ip daddr @no_host_dns4 return */
		{ IS_IPV4 "meta cmp payload cmp meta payload lookup immediate", NFT_RETURN, 0 },
		{ IS_IPV4 "meta cmp payload cmp meta payload lookup immediate", NFT_RETURN, 0 },
		{ "immediate", NF_DROP, 0 } } },          /* drop */
	{ "from_gateway", false, 0, 0, 4, {
		{ IS_IPV4 "payload cmp immediate", NF_DROP, 0 },   /* ip daddr 127.0.0.0/8 drop */
		{ "meta lookup immediate", NFT_JUMP, 0 },          /* iifname @no_host jump no_host */
		/* meta nfproto ipv4 iifname . ip saddr @ns_addrs4 return */
		{ IS_IPV4 "meta payload lookup immediate", NFT_RETURN, 0 },
		{ "immediate", NF_DROP, 0 } } },                   /* drop */
	{ "guard", true, NF_INET_PRE_ROUTING, -150, 1, {
		{ "meta cmp immediate", NFT_JUMP, 1 } } },         /* iifname "nsg-*" jump from_gateway */
	{ "prerouting", true, NF_INET_PRE_ROUTING, -100, 1, {
		{ "fib cmp immediate", NFT_JUMP, 0 } } },          /* fib daddr type local jump publish */
	{ "output", true, NF_INET_LOCAL_OUT, -100, 1, {
		{ "fib cmp immediate", NFT_JUMP, 0 } } },
	{ "postrouting", true, NF_INET_POST_ROUTING, 100, 4, {
		/* iifname @masq_any oifname != "nsg-*" masquerade */
		{ "meta lookup meta cmp masq", 0, 1 },
		/* iifname . oifname @masq_via masquerade */
		{ "meta meta lookup masq", 0, 0 },
		/* ct status dnat ip saddr 127.0.0.0/8 masquerade */
		{ CT_FLAGS IS_IPV4 "payload cmp masq", 0, 0 },
		/* ct status dnat iifname "nsg-*" oifname "nsg-*" masquerade */
		{ CT_FLAGS "meta cmp meta cmp masq", 0, 2 } } },
	{ "forward", true, NF_INET_FORWARD, 0, 2, {
		{ "meta cmp immediate", NFT_JUMP, 1 },             /* oifname "nsg-*" jump to_gateway */
		{ "meta lookup immediate", NFT_JUMP, 0 } } },      /* iifname @fwd_guard jump to_gateway */
};

static const char *const sets[] = { "ifaces", "masq_any", "masq_via", "ports4", "ports4h",
				    "ns_addrs4", "no_host", "no_host_dns4", "fwd_guard" };

struct rule_check {
	char (*sets)[32];          /* declared so far */
	uint32_t *set_ids;
	size_t n_sets;
	char (*chains)[32];
	size_t n_chains;
	char exprs[256];           /* the names of its expressions, blank separated */
	unsigned n_exprs;
	int verdict;               /* of the last immediate */
	unsigned n_prefix;         /* compares with the gateway prefix */
	bool prefix_neq;           /* one of them is "!=" */
};

/* Each expression: lookups name a set of the batch (by name and id), jumps a
 * chain declared before. */
static int check_expr(struct nftnl_expr *e, void *data)
{
	struct rule_check *c = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	snprintf(c->exprs + strlen(c->exprs), sizeof(c->exprs) - strlen(c->exprs), "%s%s",
		 c->n_exprs ? " " : "", name);
	c->n_exprs++;
	if (!strcmp(name, "cmp")) {
		uint32_t len;
		const void *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

		/* nft's "nsg-*": the name's first 4 bytes, no terminating NUL */
		if (len == 4 && !memcmp(d, "nsg-", 4)) {
			c->n_prefix++;
			if (nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) == NFT_CMP_NEQ)
				c->prefix_neq = true;
		}
	}
	if (!strcmp(name, "lookup")) {
		const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
		size_t i;

		for (i = 0; i < c->n_sets; i++)
			if (!strcmp(c->sets[i], set))
				break;
		if (i == c->n_sets)
			fail_msg("lookup of undeclared set \"%s\"", set);
		assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID), c->set_ids[i]);
		/* fail closed: no rule asks "not in a set" */
		assert_false(nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
			     (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV));
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

/* The skeleton batch: table, its nine sets, its nine chains (hooks on the
 * base ones), then per chain a flush and its rules, every rule expression by
 * expression as its nft line, every lookup naming a set of the batch and
 * every jump a declared chain, all in one transaction with an ACK asked for
 * each message. */
static void test_skeleton(void **state)
{
	struct nftx *n = *state;
	struct sent_msg m[64];
	char set_names[9][32], chain_names[10][32];
	uint32_t set_ids[9];
	size_t count, i = 0, n_sets = 0, n_chains = 0, n_rules = 0;
	struct nsg_err e = { 0 };
	uint32_t last_seq = 0;

	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_skeleton(n), 0);
	assert_int_equal(nftx_batch_size(n), 1 + 9 + 9 + 9 + 23);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(e.code, 0);
	count = sent_msgs(m, ARRAY_SIZE(m));
	assert_int_equal(count, 2 + 51);
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
				 : !strcmp(sets[n_sets], "ports4h") ? 12
				 : !strcmp(sets[n_sets], "ns_addrs4") ||
				   !strcmp(sets[n_sets], "no_host_dns4") ? IFNAMSIZ + 4 : IFNAMSIZ);
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
		if (chains[n_chains].base) {
			assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), chains[n_chains].hook);
			assert_int_equal(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), chains[n_chains].prio);
			assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
		}
		snprintf(chain_names[n_chains], 32, "%s", chains[n_chains].name);
		n_chains++;
		nftnl_chain_free(c);
	}
	assert_int_equal(n_chains, ARRAY_SIZE(chains));
	/* Per chain: one flush, then its rules. */
	for (size_t ch = 0; ch < ARRAY_SIZE(chains); ch++) {
		struct nftnl_rule *r = nftnl_rule_alloc();

		assert_int_equal(m[i].type, NFT_MSG_DELRULE);
		assert_int_equal(nftnl_rule_nlmsg_parse(m[i].nlh, r), 0);
		assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chains[ch].name);
		assert_false(nftnl_rule_is_set(r, NFTNL_RULE_HANDLE));   /* all of them */
		nftnl_rule_free(r);
		i++;
		for (size_t k = 0; k < chains[ch].n_rules; k++, i++) {
			const struct rule_expect *want = &chains[ch].rules[k];
			struct rule_check c = { .sets = set_names, .set_ids = set_ids, .n_sets = n_sets,
						.chains = chain_names, .n_chains = n_chains };

			r = nftnl_rule_alloc();
			assert_int_equal(m[i].type, NFT_MSG_NEWRULE);
			assert_true(m[i].nlh->nlmsg_flags & NLM_F_APPEND);
			assert_int_equal(nftnl_rule_nlmsg_parse(m[i].nlh, r), 0);
			assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chains[ch].name);
			assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), RULESET_TABLE);
			nftnl_expr_foreach(r, check_expr, &c);
			assert_string_equal(c.exprs, want->exprs);
			if (strstr(want->exprs, "immediate"))  /* NF_DROP is 0 */
				assert_int_equal(c.verdict, want->verdict);
			assert_int_equal(c.n_prefix, want->n_prefix);
			/* masquerade toward any interface, but never into a gateway */
			assert_int_equal(c.prefix_neq, !strcmp(chains[ch].name, "postrouting") && k == 0);
			n_rules++;
			nftnl_rule_free(r);
		}
	}
	assert_int_equal(n_rules, 23);
	assert_int_equal(i, count - 1);
}

/* "ifname . ipv4_addr": the name in 16 bytes, then the address. */
static void ifaddrkey(char key[IFNAMSIZ + 4], const char *name, uint8_t a, uint8_t b, uint8_t c,
		      uint8_t d)
{
	ifkey(key, name);
	key[IFNAMSIZ] = (char)a;
	key[IFNAMSIZ + 1] = (char)b;
	key[IFNAMSIZ + 2] = (char)c;
	key[IFNAMSIZ + 3] = (char)d;
}

/* A gateway without uplink: its veth in ifaces and masq_any, veth . its
 * namespace's address in ns_addrs4, tagged with its name; deleting sends,
 * for each, the same add (without NLM_F_EXCL) and then the delete of the
 * key without the tag. */
static void test_gateway_any(void **state)
{
	struct nftx *n = *state;
	const struct ruleset_gw gw = { .name = "web", .host_ifname = "nsg-web", .uplink = "",
				       .ns_addr = ip_addr_v4(0x0ac80002) };
	static const char *const want[] = { "ifaces", "masq_any", "ns_addrs4" };
	struct sent_msg m[8];
	struct elem_msg em;
	char key[IFNAMSIZ], src[IFNAMSIZ + 4];
	struct nsg_err e = { 0 };

	ifkey(key, "nsg-web");
	ifaddrkey(src, "nsg-web", 10, 200, 0, 2);
	for (int del = 0; del < 2; del++) {
		size_t per = del ? 2 : 1;   /* messages per element */

		nftx_batch_begin(n);
		assert_int_equal(ruleset_queue_gateway(n, &gw, del), 0);
		assert_int_equal(nftx_batch_size(n), 3 * per);
		assert_int_equal(nftx_batch_commit(n, &e), 0);
		assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 2 + 3 * per);
		for (size_t i = 1; i <= 3 * per; i++) {
			bool is_del = del && i % 2 == 0;

			assert_int_equal(m[i].type, is_del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
			assert_false(m[i].nlh->nlmsg_flags & NLM_F_EXCL);
			decode_elems(m[i].nlh, &em);
			assert_string_equal(em.set, want[(i - 1) / per]);
			assert_int_equal(em.n_elems, 1);
			if ((i - 1) / per < 2) {
				assert_int_equal(em.key_len, IFNAMSIZ);
				assert_memory_equal(em.key, key, IFNAMSIZ);
			} else {
				assert_int_equal(em.key_len, IFNAMSIZ + 4);
				assert_memory_equal(em.key, src, IFNAMSIZ + 4);
			}
			assert_string_equal(em.comment, is_del ? "" : "web");
		}
	}
	/* Without an IPv4 address the guard would drop all it sends. */
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_gateway(n, &(struct ruleset_gw){ .name = "x", .host_ifname = "nsg-x" },
					       false), -EAFNOSUPPORT);
	assert_int_equal(nftx_batch_size(n), 0);
}

/* With --uplink, masquerading is keyed on veth . uplink in masq_via. */
static void test_gateway_uplink(void **state)
{
	struct nftx *n = *state;
	const struct ruleset_gw gw = { .name = "db", .host_ifname = "nsg-db", .uplink = "eth0",
				       .ns_addr = ip_addr_v4(0x0ac80006) };
	struct sent_msg m[8];
	struct elem_msg em;
	char key[2 * IFNAMSIZ];
	struct nsg_err e = { 0 };

	ifkey(key, "nsg-db");
	ifkey(key + IFNAMSIZ, "eth0");
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_gateway(n, &gw, false), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 5);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "ifaces");
	assert_memory_equal(em.key, key, IFNAMSIZ);
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "masq_via");
	assert_int_equal(em.key_len, 2 * IFNAMSIZ);
	assert_memory_equal(em.key, key, 2 * IFNAMSIZ);
	assert_string_equal(em.comment, "db");
	decode_elems(m[3].nlh, &em);
	assert_string_equal(em.set, "ns_addrs4");

	/* An uplink change swaps only the masquerade element; the old one is
	 * added (a no-op if it exists, no NLM_F_EXCL) right before its delete,
	 * so that the delete finds it even when a killed apply removed it
	 * already (D4). */
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_masq(n, &gw, true), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	assert_int_equal(m[1].type, NFT_MSG_NEWSETELEM);
	assert_true(m[1].nlh->nlmsg_flags & NLM_F_CREATE);
	assert_false(m[1].nlh->nlmsg_flags & NLM_F_EXCL);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "masq_via");
	assert_memory_equal(em.key, key, 2 * IFNAMSIZ);
	assert_int_equal(m[2].type, NFT_MSG_DELSETELEM);
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "masq_via");
	assert_int_equal(em.key_len, 2 * IFNAMSIZ);
	assert_memory_equal(em.key, key, 2 * IFNAMSIZ);
}

/* --no-host: the veth in no_host, and veth . server in no_host_dns4 for each
 * IPv4 DNS server (one message), after the elements of every gateway. */
static void test_gateway_no_host(void **state)
{
	struct nftx *n = *state;
	struct ruleset_gw gw = { .name = "box", .host_ifname = "nsg-box", .uplink = "",
				 .ns_addr = ip_addr_v4(0x0ac8000a), .no_host = true, .n_dns = 2,
				 .dns = { ip_addr_v4(0xc6336401), ip_addr_v4(0xc0000235) } };
	struct sent_msg m[10];
	struct elem_msg em;
	char key[IFNAMSIZ], dns[IFNAMSIZ + 4];
	struct nsg_err e = { 0 };

	ifkey(key, "nsg-box");
	ifaddrkey(dns, "nsg-box", 198, 51, 100, 1);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_gateway(n, &gw, false), 0);
	assert_int_equal(nftx_batch_size(n), 5);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 7);
	decode_elems(m[4].nlh, &em);
	assert_string_equal(em.set, "no_host");
	assert_int_equal(em.key_len, IFNAMSIZ);
	assert_memory_equal(em.key, key, IFNAMSIZ);
	assert_string_equal(em.comment, "box");
	/* libnftnl 1.2.4 cannot parse a message of several elements back:
	 * decode the one-server case. */
	assert_int_equal(m[5].type, NFT_MSG_NEWSETELEM);
	gw.n_dns = 1;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host(n, &gw, false), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "no_host_dns4");
	assert_int_equal(em.n_elems, 1);
	assert_int_equal(em.key_len, IFNAMSIZ + 4);
	assert_memory_equal(em.key, dns, IFNAMSIZ + 4);
	assert_string_equal(em.comment, "box");

	/* No servers: no no_host_dns4 message; the delete's add comes first. */
	gw.n_dns = 0;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host(n, &gw, true), 0);
	assert_int_equal(nftx_batch_size(n), 2);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	assert_int_equal(m[1].type, NFT_MSG_NEWSETELEM);
	assert_int_equal(m[2].type, NFT_MSG_DELSETELEM);
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "no_host");
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
	{ "ns_addrs4", { { "nsg-web\0\0\0\0\0\0\0\0\0\x0a\xc8\x00\x02", IFNAMSIZ + 4, "web" } }, 1 },
	{ "no_host", { { "nsg-db", IFNAMSIZ, "db" } }, 1 },
	{ "no_host_dns4", { { "nsg-db\0\0\0\0\0\0\0\0\0\0\xc6\x33\x64\x01", IFNAMSIZ + 4, "db" } }, 1 },
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
	assert_int_equal(found, 3);
	assert_int_equal(nftx_batch_size(n), 3);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 5);
	ifkey(key, "nsg-web");
	for (size_t i = 1; i <= 3; i++) {
		assert_int_equal(m[i].type, NFT_MSG_DELSETELEM);
		decode_elems(m[i].nlh, &em);
		assert_string_equal(em.set, i == 1 ? "ifaces" : i == 2 ? "masq_any" : "ns_addrs4");
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

/* Turning --no-host off (apply) deletes what the kernel holds of the
 * gateway's no_host elements, and nothing else of it. */
static void test_no_host_delete(void **state)
{
	struct nftx *n = *state;
	struct sent_msg m[8];
	struct elem_msg em;
	size_t found = 99;
	struct nsg_err e = { 0 };

	fk.sets = owned_sets;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host_delete(n, "db", &found), 0);
	assert_int_equal(found, 2);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 4);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "no_host");
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "no_host_dns4");
	assert_int_equal(m[2].type, NFT_MSG_DELSETELEM);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host_delete(n, "web", &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(nftx_batch_size(n), 0);
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
	assert_true(st.in_ns_addrs4);
	assert_false(st.no_host);
	assert_int_equal(st.n_elems, 3);
	assert_int_equal(ruleset_gateway_state(n, "db", &st), 0);
	assert_true(st.in_ifaces);
	assert_false(st.masq_any);
	assert_string_equal(st.masq_via, "eth0");
	assert_false(st.in_ns_addrs4);   /* missing: restore puts it back */
	assert_true(st.no_host);
	assert_int_equal(st.n_no_host_dns, 1);
	assert_int_equal(st.n_ports, 0);
	assert_int_equal(st.n_elems, 4);
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

	struct gw_target to = { .v4 = ip_addr_v4(0x0ac80002) };

	assert_int_equal(portmap_parse("127.0.0.1:8080:80", &pm[0], NULL), 0);
	assert_int_equal(portmap_parse("53:53/udp", &pm[1], NULL), 0);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_publish(n, "web", &to, pm, 2, false), 0);
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
	struct gw_target bad6 = { .v4 = v6 }, none = { 0 }, to4 = { .v4 = ip_addr_v4(0x0ac80002) };

	assert_int_equal(ruleset_queue_publish(n, "web", &bad6, &pm, 1, false), -EAFNOSUPPORT);
	assert_int_equal(ruleset_queue_publish(n, "web", &none, &pm, 1, false), -EAFNOSUPPORT);
	pm.host_addr = v6;
	assert_int_equal(ruleset_queue_publish(n, "web", &to4, &pm, 1, true), -EAFNOSUPPORT);
	assert_int_equal(nftx_batch_size(n), 0);
}

/* The fingerprint gc compares a ports file with the maps by: the same set
 * of port elements in any grouping or order gives the same value; another
 * target, address or port gives another. */
static void test_ports_fingerprint(void **state)
{
	struct portmap range, p[3], other;
	struct gw_target to = { .v4 = ip_addr_v4(0x0ac80002) }, to2 = { .v4 = ip_addr_v4(0x0ac80006) };
	uint64_t whole;

	(void)state;
	assert_int_equal(portmap_parse("6000-6002:7000-7002/udp", &range, NULL), 0);
	for (int i = 0; i < 3; i++) {
		char spec[32];

		snprintf(spec, sizeof(spec), "%d:%d/udp", 6002 - i, 7002 - i);
		assert_int_equal(portmap_parse(spec, &p[i], NULL), 0);
	}
	whole = ruleset_ports_fingerprint(&to, &range, 1);
	assert_true(whole != 0);
	assert_true(whole == ruleset_ports_fingerprint(&to, p, 3));
	assert_true(whole != ruleset_ports_fingerprint(&to2, &range, 1));
	assert_int_equal(portmap_parse("6000-6002:7001-7003/udp", &other, NULL), 0);
	assert_true(whole != ruleset_ports_fingerprint(&to, &other, 1));
	assert_int_equal(portmap_parse("127.0.0.1:6000-6002:7000-7002/udp", &other, NULL), 0);
	assert_true(whole != ruleset_ports_fingerprint(&to, &other, 1));
	assert_true(ruleset_ports_fingerprint(&to, NULL, 0) == 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_skeleton),
		T(test_gateway_any),
		T(test_gateway_uplink),
		T(test_gateway_no_host),
		T(test_no_host_delete),
		T(test_commit_error),
		T(test_commit_refused),
		T(test_commit_empty),
		T(test_table),
		T(test_owned_delete),
		T(test_fwd_guard),
		T(test_gateway_state),
		T(test_publish_elems),
		T(test_publish_not_v4),
		cmocka_unit_test(test_ports_fingerprint),
	};

	return cmocka_run_group_tests_name("ruleset", tests, NULL, NULL);
}
