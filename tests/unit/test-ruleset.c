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
	struct rule_expect rules[8];
};

#define IS_IPV4 "meta cmp "
#define IS_IPV6 "meta cmp "
#define ICMPV6_TYPE IS_IPV6 "meta cmp payload "
#define CT_FLAGS "ct bitwise cmp "

static const struct chain_expect chains[] = {
	{ "publish", false, 0, 0, 4, {
		/* meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport map @ports4h */
		{ IS_IPV4 "payload meta payload lookup nat", 0, 0 },
		/* meta nfproto ipv4 dnat ip to meta l4proto . th dport map @ports4 */
		{ IS_IPV4 "meta payload lookup nat", 0, 0 },
		/* meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th dport map @ports6h */
		{ IS_IPV6 "payload meta payload lookup nat", 0, 0 },
		/* meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @ports6 */
		{ IS_IPV6 "meta payload lookup nat", 0, 0 } } },
	{ "to_gateway", false, 0, 0, 4, {
		{ CT_FLAGS "immediate", NF_ACCEPT, 0 },   /* ct state established,related accept */
		{ CT_FLAGS "immediate", NF_ACCEPT, 0 },   /* ct status dnat accept */
		{ "meta meta lookup immediate", NF_ACCEPT, 0 },   /* iifname . oifname @net_intra accept */
		{ "immediate", NF_DROP, 0 } } },          /* drop */
	{ "no_host", false, 0, 0, 8, {
		{ CT_FLAGS "immediate", NFT_RETURN, 0 },  /* ct state established,related return */
		{ "fib cmp immediate", NFT_RETURN, 0 },   /* fib daddr type != local return */
		/* icmpv6 type 135-136 return (neighbour solicitations, advertisements) */
		{ ICMPV6_TYPE "cmp cmp immediate", NFT_RETURN, 0 },
		/* meta nfproto ipv4 meta l4proto udp|tcp th dport 53 iifname . ip daddr @no_host_dns4 return */
		{ IS_IPV4 "meta cmp payload cmp meta payload lookup immediate", NFT_RETURN, 0 },
		{ IS_IPV4 "meta cmp payload cmp meta payload lookup immediate", NFT_RETURN, 0 },
		/* the same with ipv6, ip6 daddr, @no_host_dns6 */
		{ IS_IPV6 "meta cmp payload cmp meta payload lookup immediate", NFT_RETURN, 0 },
		{ IS_IPV6 "meta cmp payload cmp meta payload lookup immediate", NFT_RETURN, 0 },
		{ "immediate", NF_DROP, 0 } } },          /* drop */
	{ "from_gateway", false, 0, 0, 8, {
		{ IS_IPV4 "payload cmp immediate", NF_DROP, 0 },   /* ip daddr 127.0.0.0/8 drop */
		{ IS_IPV6 "payload cmp immediate", NF_DROP, 0 },   /* ip6 daddr ::1 drop */
		{ ICMPV6_TYPE "cmp immediate", NF_DROP, 0 },       /* icmpv6 type nd-router-advert drop */
		{ ICMPV6_TYPE "cmp immediate", NF_DROP, 0 },       /* icmpv6 type nd-redirect drop */
		{ "meta lookup immediate", NFT_JUMP, 0 },          /* iifname @no_host jump no_host */
		/* meta nfproto ipv4 iifname . ip saddr @ns_addrs4 return */
		{ IS_IPV4 "meta payload lookup immediate", NFT_RETURN, 0 },
		/* meta nfproto ipv6 iifname . ip6 saddr @ns_addrs6 return */
		{ IS_IPV6 "meta payload lookup immediate", NFT_RETURN, 0 },
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
	{ "forward", true, NF_INET_FORWARD, 0, 3, {
		{ "meta cmp immediate", NFT_JUMP, 1 },             /* oifname "nsg-*" jump to_gateway */
		/* meta nfproto ipv4 iifname @fwd_guard jump to_gateway */
		{ IS_IPV4 "meta lookup immediate", NFT_JUMP, 0 },
		/* meta nfproto ipv6 iifname @fwd_guard6 jump to_gateway */
		{ IS_IPV6 "meta lookup immediate", NFT_JUMP, 0 } } },
};

/* nft's datatypes (ifname, ipv4_addr, ipv6_addr, inet_proto,
 * inet_service), concatenated 6 bits a field: what `nft list` prints. */
#define T_IF 41
#define T_V4 7
#define T_V6 8
#define T_PROTO 12
#define T_PORT 13
#define CAT(a, b) (((a) << 6) | (b))
#define CAT3(a, b, c) CAT(CAT(a, b), c)

/* Every set, with its key and data lengths (4-byte slots, 16 for an IPv6
 * address) and types. */
static const struct {
	const char *name;
	uint32_t key_len, data_len, key_type, data_type;
} sets[] = {
	{ "ifaces", IFNAMSIZ, 0, T_IF, 0 },
	{ "masq_any", IFNAMSIZ, 0, T_IF, 0 },
	{ "masq_via", 2 * IFNAMSIZ, 0, CAT(T_IF, T_IF), 0 },
	{ "ports4", 8, 8, CAT(T_PROTO, T_PORT), CAT(T_V4, T_PORT) },
	{ "ports4h", 12, 8, CAT3(T_V4, T_PROTO, T_PORT), CAT(T_V4, T_PORT) },
	{ "ports6", 8, 20, CAT(T_PROTO, T_PORT), CAT(T_V6, T_PORT) },
	{ "ports6h", 24, 20, CAT3(T_V6, T_PROTO, T_PORT), CAT(T_V6, T_PORT) },
	{ "ns_addrs4", IFNAMSIZ + 4, 0, CAT(T_IF, T_V4), 0 },
	{ "ns_addrs6", IFNAMSIZ + 16, 0, CAT(T_IF, T_V6), 0 },
	{ "no_host", IFNAMSIZ, 0, T_IF, 0 },
	{ "no_host_dns4", IFNAMSIZ + 4, 0, CAT(T_IF, T_V4), 0 },
	{ "no_host_dns6", IFNAMSIZ + 16, 0, CAT(T_IF, T_V6), 0 },
	{ "fwd_guard", IFNAMSIZ, 0, T_IF, 0 },
	{ "fwd_guard6", IFNAMSIZ, 0, T_IF, 0 },
	{ "net_intra", 2 * IFNAMSIZ, 0, CAT(T_IF, T_IF), 0 },
};

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

/* Set k of the skeleton: its name, table, id (distinct from those before,
 * kept in ids[k]), whether a map, key and data lengths and types. */
static void check_set(const struct nlmsghdr *nlh, size_t k, uint32_t *ids)
{
	struct nftnl_set *s = nftnl_set_alloc();
	uint32_t flags;

	assert_int_equal(nftnl_set_nlmsg_parse(nlh, s), 0);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), sets[k].name);
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_TABLE), RULESET_TABLE);
	ids[k] = nftnl_set_get_u32(s, NFTNL_SET_ID);
	for (size_t j = 0; j < k; j++)
		assert_int_not_equal(ids[j], ids[k]);
	flags = nftnl_set_is_set(s, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(s, NFTNL_SET_FLAGS) : 0;
	assert_int_equal(!!(flags & NFT_SET_MAP), sets[k].data_len != 0);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), sets[k].key_len);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), sets[k].key_type);
	if (sets[k].data_len) {
		assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN), sets[k].data_len);
		assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE), sets[k].data_type);
	}
	nftnl_set_free(s);
}

/* The skeleton batch: table, its fourteen sets, its nine chains (hooks on the
 * base ones), then per chain a flush and its rules, every rule expression by
 * expression as its nft line, every lookup naming a set of the batch and
 * every jump a declared chain, all in one transaction with an ACK asked for
 * each message. */
static void test_skeleton(void **state)
{
	struct nftx *n = *state;
	struct sent_msg m[80];
	char set_names[15][32], chain_names[10][32];
	uint32_t set_ids[15];
	size_t count, i = 0, n_sets = 0, n_chains = 0, n_rules = 0;
	struct nsg_err e = { 0 };
	uint32_t last_seq = 0;

	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_skeleton(n), 0);
	assert_int_equal(nftx_batch_size(n), 1 + 15 + 9 + 9 + 34);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(e.code, 0);
	count = sent_msgs(m, ARRAY_SIZE(m));
	assert_int_equal(count, 2 + 68);
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
		assert_true(n_sets < ARRAY_SIZE(set_names));
		check_set(m[i].nlh, n_sets, set_ids);
		snprintf(set_names[n_sets], 32, "%s", sets[n_sets].name);
		n_sets++;
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
	assert_int_equal(n_rules, 34);
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

/* A plain set's element: key, its length, comment. */
#define E(key, len, comment) { key, len, comment, { 0 }, 0 }
#define NONE { E({ 0 }, 0, NULL) }

/* Elements of several gateways, one prefix of another's name, and one
 * without a comment; the port maps do not exist (an older table). */
static struct fake_set owned_sets[] = {
	{ "ifaces",
	  { E("nsg-web", IFNAMSIZ, "web"), E("nsg-webx", IFNAMSIZ, "webx"),
	    E("nsg-db", IFNAMSIZ, "db"), E("nsg-anon", IFNAMSIZ, NULL) },
	  4 },
	{ "masq_any", { E("nsg-web", IFNAMSIZ, "web"), E("nsg-webx", IFNAMSIZ, "webx") }, 2 },
	{ "masq_via", { E("nsg-db\0\0\0\0\0\0\0\0\0\0eth0", 2 * IFNAMSIZ, "db") }, 1 },
	{ "ns_addrs4", { E("nsg-web\0\0\0\0\0\0\0\0\0\x0a\xc8\x00\x02", IFNAMSIZ + 4, "web") }, 1 },
	/* veth . fe80::2 and veth . fd00::2: both, or its IPv6 is not whole */
	{ "ns_addrs6",
	  { E("nsg-web\0\0\0\0\0\0\0\0\0\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x02",
	      IFNAMSIZ + 16, "web"),
	    E("nsg-web\0\0\0\0\0\0\0\0\0\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02",
	      IFNAMSIZ + 16, "web") },
	  2 },
	{ "no_host", { E("nsg-db", IFNAMSIZ, "db") }, 1 },
	{ "no_host_dns4", { E("nsg-db\0\0\0\0\0\0\0\0\0\0\xc6\x33\x64\x01", IFNAMSIZ + 4, "db") }, 1 },
	/* veth . 2001:db8:1::1 */
	{ "no_host_dns6",
	  { E("nsg-db\0\0\0\0\0\0\0\0\0\0\x20\x01\x0d\xb8\0\x01\0\0\0\0\0\0\0\0\0\x01",
	      IFNAMSIZ + 16, "db") },
	  1 },
	/* Shared: never a gateway's, whatever the comment says. */
	{ "fwd_guard", { E("up0", IFNAMSIZ, "nsgate"), E("eth1", IFNAMSIZ, "web") }, 2 },
	{ NULL, NONE, 0 },
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
	assert_int_equal(found, 5);
	assert_int_equal(nftx_batch_size(n), 4);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 6);
	ifkey(key, "nsg-web");
	for (size_t i = 1; i <= 4; i++) {
		static const char *const want[] = { "ifaces", "masq_any", "ns_addrs4", "ns_addrs6" };

		assert_int_equal(m[i].type, NFT_MSG_DELSETELEM);
		decode_elems(m[i].nlh, &em);
		assert_string_equal(em.set, want[i - 1]);
		assert_int_equal(em.n_elems, i == 4 ? 2 : 1);
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
		assert_int_equal(ruleset_queue_fwd_guard(n, AF_INET, two, 1, del), 0);
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
	assert_int_equal(ruleset_queue_fwd_guard(n, AF_INET, two, 2, false), 0);
	assert_int_equal(nftx_batch_size(n), 1);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard(n, AF_INET, two, 0, false), 0);
	assert_int_equal(nftx_batch_size(n), 0);

	fk.sets = owned_sets;
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard_prune(n, AF_INET, &two[1], 1, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 3);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "fwd_guard");
	assert_int_equal(em.n_elems, 1);
	assert_memory_equal(em.key, key, IFNAMSIZ);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_fwd_guard_prune(n, AF_INET, NULL, 0, &found), 0);
	assert_int_equal(found, 2);
	fk.sets = NULL;
	assert_int_equal(ruleset_queue_fwd_guard_prune(n, AF_INET, NULL, 0, &found), 0);
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
	assert_int_equal(found, 3);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 5);
	decode_elems(m[1].nlh, &em);
	assert_string_equal(em.set, "no_host");
	decode_elems(m[2].nlh, &em);
	assert_string_equal(em.set, "no_host_dns4");
	assert_int_equal(m[2].type, NFT_MSG_DELSETELEM);
	decode_elems(m[3].nlh, &em);
	assert_string_equal(em.set, "no_host_dns6");
	assert_int_equal(em.key_len, IFNAMSIZ + 16);
	assert_int_equal(m[3].type, NFT_MSG_DELSETELEM);
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
	assert_true(st.in_ns_addrs6);
	assert_false(st.no_host);
	assert_int_equal(st.n_elems, 5);
	assert_int_equal(ruleset_gateway_state(n, "db", &st), 0);
	assert_true(st.in_ifaces);
	assert_false(st.masq_any);
	assert_string_equal(st.masq_via, "eth0");
	assert_false(st.in_ns_addrs4);   /* missing: restore puts it back */
	assert_false(st.in_ns_addrs6);
	assert_true(st.no_host);
	assert_int_equal(st.n_no_host_dns, 2);   /* either family */
	assert_int_equal(st.n_ports, 0);
	assert_int_equal(st.n_elems, 5);
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

/* What no map can hold is refused before anything is queued: a target
 * that is not IPv4 (or an IPv6 one that is not IPv6), no target, a port
 * bound to an IPv6 address of a gateway without IPv6. */
static void test_publish_refused(void **state)
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
	assert_int_equal(ruleset_queue_publish(n, "web", &to4, &pm, 1, false), -EAFNOSUPPORT);
	assert_true(ruleset_ports_fingerprint(&to4, &pm, 1) == 0);
	assert_int_equal(ruleset_ports_elems(&to4, &pm, 1), 0);
	{
		struct gw_target odd = { .v4 = ip_addr_v4(0x0ac80002), .v6 = ip_addr_v4(0x0ac80003) };

		pm.host_addr = (struct ip_addr){ 0 };
		assert_int_equal(ruleset_queue_publish(n, "web", &odd, &pm, 1, false), -EAFNOSUPPORT);
	}
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

/* ------------------------------------------------------------ dual stack */

static struct ip_addr addr6(const char *s)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(s, AF_INET6, &a), 0);
	return a;
}

/* "ifname . ipv6_addr": the name in 16 bytes, then the 16-byte address. */
static void ifaddr6key(char key[IFNAMSIZ + 16], const char *name, const char *addr)
{
	struct ip_addr a = addr6(addr);

	ifkey(key, name);
	memcpy(key + IFNAMSIZ, a.v6, 16);
}

/* A dual-stack gateway adds veth . its IPv6 address and veth . GW_LL_NS
 * to ns_addrs6, in one message after its IPv4 elements; deleting adds and
 * deletes both, as every other element of a gateway. */
static void test_gateway_dual(void **state)
{
	struct nftx *n = *state;
	struct ruleset_gw gw = { .name = "web", .host_ifname = "nsg-web", .uplink = "",
				 .ns_addr = ip_addr_v4(0x0ac80002), .ns_addr6 = addr6("fd00:1:2:3::2") };
	static const char *const want[] = { "ifaces", "masq_any", "ns_addrs4", "ns_addrs6" };
	struct sent_msg m[12];
	struct fake_elem el[4];
	char set[32], global[IFNAMSIZ + 16], ll[IFNAMSIZ + 16];
	struct nsg_err e = { 0 };

	ifaddr6key(global, "nsg-web", "fd00:1:2:3::2");
	ifaddr6key(ll, "nsg-web", "fe80::2");
	for (int del = 0; del < 2; del++) {
		size_t per = del ? 2 : 1;

		nftx_batch_begin(n);
		assert_int_equal(ruleset_queue_gateway(n, &gw, del), 0);
		assert_int_equal(nftx_batch_size(n), 4 * per);
		assert_int_equal(nftx_batch_commit(n, &e), 0);
		assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 2 + 4 * per);
		for (size_t i = 1; i <= 4 * per; i++) {
			bool is_del = del && i % 2 == 0;
			size_t k = decode_elem_list(m[i].nlh, set, el, ARRAY_SIZE(el));

			assert_string_equal(set, want[(i - 1) / per]);
			assert_int_equal(m[i].type, is_del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
			if ((i - 1) / per < 3) {
				assert_int_equal(k, 1);
				continue;
			}
			assert_int_equal(k, 2);
			for (size_t j = 0; j < 2; j++) {
				assert_int_equal(el[j].key_len, IFNAMSIZ + 16);
				assert_int_equal(el[j].data_len, 0);
				if (is_del)
					assert_null(el[j].comment);
				else
					assert_string_equal(el[j].comment, "web");
			}
			assert_memory_equal(el[0].key, global, IFNAMSIZ + 16);
			assert_memory_equal(el[1].key, ll, IFNAMSIZ + 16);
		}
	}
	/* An IPv6 source that is not IPv6 would be a wrong key. */
	gw.ns_addr6 = ip_addr_v4(0x0ac80003);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_gateway(n, &gw, false), -EAFNOSUPPORT);
	assert_int_equal(nftx_batch_size(n), 0);
}

/* --no-host of a dual-stack gateway: its IPv6 DNS servers in no_host_dns6
 * (one message for all), the IPv4 ones in no_host_dns4; an IPv4-only
 * gateway leaves its IPv6 servers out (its namespace has no IPv6 route). */
static void test_no_host_dual(void **state)
{
	struct nftx *n = *state;
	struct ruleset_gw gw = { .name = "box", .host_ifname = "nsg-box", .uplink = "",
				 .ns_addr = ip_addr_v4(0x0ac8000a), .ns_addr6 = addr6("fd00::2"),
				 .no_host = true, .n_dns = 3,
				 .dns = { addr6("2001:db8:1::1"), ip_addr_v4(0xc6336401),
					  addr6("fd00:53::1") } };
	struct sent_msg m[10];
	struct fake_elem el[4];
	char set[32], key[IFNAMSIZ + 16];
	struct nsg_err e = { 0 };

	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host(n, &gw, false), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 2 + 3);
	assert_int_equal(decode_elem_list(m[2].nlh, set, el, ARRAY_SIZE(el)), 1);
	assert_string_equal(set, "no_host_dns4");
	assert_int_equal(el[0].key_len, IFNAMSIZ + 4);
	assert_int_equal(decode_elem_list(m[3].nlh, set, el, ARRAY_SIZE(el)), 2);
	assert_string_equal(set, "no_host_dns6");
	ifaddr6key(key, "nsg-box", "2001:db8:1::1");
	assert_int_equal(el[0].key_len, IFNAMSIZ + 16);
	assert_memory_equal(el[0].key, key, IFNAMSIZ + 16);
	assert_string_equal(el[0].comment, "box");
	ifaddr6key(key, "nsg-box", "fd00:53::1");
	assert_memory_equal(el[1].key, key, IFNAMSIZ + 16);

	/* Deleting: each set's add, then its delete. */
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host(n, &gw, true), 0);
	assert_int_equal(nftx_batch_size(n), 6);

	gw.ns_addr6 = (struct ip_addr){ 0 };
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_no_host(n, &gw, false), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 2 + 2);
	decode_elem_list(m[2].nlh, set, el, ARRAY_SIZE(el));
	assert_string_equal(set, "no_host_dns4");
}

/* The layout is current when the chain no_host and the set ns_addrs6 (the
 * newest) exist: a GET of each. An older table, or none, is not. */
static void test_layout(void **state)
{
	struct nftx *n = *state;
	static struct fake_set older[] = {
		{ "ifaces", NONE, 0 }, { "ns_addrs4", NONE, 0 }, { "no_host", NONE, 0 },
		{ "fwd_guard", NONE, 0 }, { NULL, NONE, 0 },
	};
	struct sent_msg m[2];
	struct fake_set all[ARRAY_SIZE(sets) + 1] = { 0 };

	/* Every set of the layout: current, read with one dump of the sets. */
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		all[i] = (struct fake_set){ sets[i].name, NONE, 0 };
	fk.sets = all;
	assert_int_equal(ruleset_layout_current(n), 1);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 1);
	assert_int_equal(m[0].type, NFT_MSG_GETSET);
	assert_true(m[0].nlh->nlmsg_flags & NLM_F_DUMP);
	/* One missing (deleted by hand, or an older layout's): not current. */
	all[ARRAY_SIZE(sets) - 1] = (struct fake_set){ 0 };
	assert_int_equal(ruleset_layout_current(n), 0);
	fk.sets = older;
	assert_int_equal(ruleset_layout_current(n), 0);
	fk.sets = owned_sets;
	fk.missing_chain = "no_host";
	assert_int_equal(ruleset_layout_current(n), 0);
	fk.missing_chain = NULL;
	fk.sets = NULL;
	assert_int_equal(ruleset_layout_current(n), 0);
}

/* The 4-byte slot of a port, as maps hold it. */
static void port_slot(uint8_t *slot, uint16_t port)
{
	memset(slot, 0, 4);
	slot[0] = (uint8_t)(port >> 8);
	slot[1] = (uint8_t)port;
}

/* A dual-stack gateway's ports: an unbound one in ports4 (to its IPv4
 * address) and ports6 (to its IPv6 one), one bound to an IPv4 address in
 * ports4h, one bound to an IPv6 address in ports6h: key ADDR . proto .
 * port (24 bytes), data ADDR6 . port (20). A message per map. */
static void test_publish_dual(void **state)
{
	struct nftx *n = *state;
	struct gw_target to = { .v4 = ip_addr_v4(0x0ac80002), .v6 = addr6("fd00:1:2:3::2") };
	struct gw_target to4 = { .v4 = to.v4 };
	static const char *const want[] = { "ports4", "ports4h", "ports6", "ports6h" };
	struct ip_addr bound = addr6("2001:db8:1::1");
	struct portmap pm[3];
	struct sent_msg m[12];
	struct fake_elem el[2];
	uint8_t key[24], data[20];
	char set[32];
	struct nsg_err e = { 0 };

	assert_int_equal(portmap_parse("8080:80", &pm[0], NULL), 0);
	assert_int_equal(portmap_parse("127.0.0.1:8081:81", &pm[1], NULL), 0);
	assert_int_equal(portmap_parse("8443:443", &pm[2], NULL), 0);
	pm[2].host_addr = bound;
	assert_int_equal(ruleset_ports_elems(&to, pm, 3), 4);
	assert_int_equal(ruleset_ports_elems(&to4, pm, 2), 2);
	/* The add last: a delete's elements carry no data. */
	for (int del = 1; del >= 0; del--) {
		nftx_batch_begin(n);
		assert_int_equal(ruleset_queue_publish(n, "web", &to, pm, 3, del), 0);
		assert_int_equal(nftx_batch_size(n), 4);
		assert_int_equal(nftx_batch_commit(n, &e), 0);
		assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 2 + 4);
		for (size_t i = 1; i <= 4; i++) {
			assert_int_equal(m[i].type, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
			assert_int_equal(decode_elem_list(m[i].nlh, set, el, 1), 1);
			assert_string_equal(set, want[i - 1]);
		}
	}
	/* ports6: tcp . 8080 -> fd00:1:2:3::2 . 80 */
	decode_elem_list(m[3].nlh, set, el, 1);
	memset(key, 0, sizeof(key));
	key[0] = IPPROTO_TCP;
	port_slot(key + 4, 8080);
	assert_int_equal(el[0].key_len, 8);
	assert_memory_equal(el[0].key, key, 8);
	memcpy(data, to.v6.v6, 16);
	port_slot(data + 16, 80);
	assert_int_equal(el[0].data_len, 20);
	assert_memory_equal(el[0].data, data, 20);
	/* ports6h: 2001:db8:1::1 . tcp . 8443 -> fd00:1:2:3::2 . 443 */
	decode_elem_list(m[4].nlh, set, el, 1);
	memcpy(key, bound.v6, 16);
	memset(key + 16, 0, 4);
	key[16] = IPPROTO_TCP;
	port_slot(key + 20, 8443);
	assert_int_equal(el[0].key_len, 24);
	assert_memory_equal(el[0].key, key, 24);
	port_slot(data + 16, 443);
	assert_int_equal(el[0].data_len, 20);
	assert_memory_equal(el[0].data, data, 20);
	/* An IPv4-only gateway: its unbound port in ports4 only. */
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_publish(n, "web", &to4, pm, 1, false), 0);
	assert_int_equal(nftx_batch_size(n), 1);
}

/* What a publish batch writes, read back (the batch's elements made the
 * fake kernel's maps): the gateway state counts every element of the four
 * maps with the fingerprint its ports file gives, ruleset_published folds
 * each unbound port's twins into one mapping; a twin deleted by hand shows. */
static void test_ports_round_trip(void **state)
{
	struct nftx *n = *state;
	struct gw_target to = { .v4 = ip_addr_v4(0x0ac80002), .v6 = addr6("fd00:1:2:3::2") };
	struct gw_target to4 = { .v4 = to.v4 };
	static struct fake_set kernel[5];
	struct ruleset_gw_state st;
	struct portmap pm[4], *pub = NULL;
	size_t n_pub = 0;
	struct sent_msg m[8];
	struct nsg_err e = { 0 };

	assert_int_equal(portmap_parse("8080-8081:80-81", &pm[0], NULL), 0);
	assert_int_equal(portmap_parse("127.0.0.1:5432:5432", &pm[1], NULL), 0);
	assert_int_equal(portmap_parse("8443:443", &pm[2], NULL), 0);
	pm[2].host_addr = addr6("2001:db8:1::1");
	assert_int_equal(portmap_parse("53:53/udp", &pm[3], NULL), 0);
	nftx_batch_begin(n);
	assert_int_equal(ruleset_queue_publish(n, "web", &to, pm, 4, false), 0);
	assert_int_equal(nftx_batch_commit(n, &e), 0);
	assert_int_equal(sent_msgs(m, ARRAY_SIZE(m)), 2 + 4);
	memset(kernel, 0, sizeof(kernel));
	for (size_t i = 0; i < 4; i++) {
		static char names[4][32];
		struct fake_set *fs = &kernel[i];

		fs->n = decode_elem_list(m[i + 1].nlh, names[i], fs->elems, MAX_ELEMS);
		fs->name = names[i];
		for (size_t j = 0; j < fs->n; j++) {
			assert_string_equal(fs->elems[j].comment, "web");
			fs->elems[j].comment = "web";   /* the batch's buffer goes */
		}
	}
	fk.sets = kernel;
	assert_int_equal(ruleset_gateway_state(n, "web", &st), 0);
	assert_int_equal(st.n_ports, 8);
	assert_int_equal(st.n_ports, ruleset_ports_elems(&to, pm, 4));
	assert_true(st.ports_fingerprint == ruleset_ports_fingerprint(&to, pm, 4));
	assert_true(st.ports_fingerprint != ruleset_ports_fingerprint(&to4, pm, 2));

	assert_int_equal(ruleset_published(n, "web", &pub, &n_pub), 0);
	assert_int_equal(n_pub, 5);
	{
		static const struct { uint8_t proto; uint16_t host_port; int host_family, to_family; }
		want[] = { { IPPROTO_TCP, 5432, AF_INET, AF_INET }, { IPPROTO_TCP, 8080, 0, AF_INET },
			   { IPPROTO_TCP, 8081, 0, AF_INET }, { IPPROTO_TCP, 8443, AF_INET6, AF_INET6 },
			   { IPPROTO_UDP, 53, 0, AF_INET } };

		for (size_t i = 0; i < n_pub; i++) {
			assert_int_equal(pub[i].proto, want[i].proto);
			assert_int_equal(pub[i].host_port, want[i].host_port);
			assert_int_equal(pub[i].host_addr.family, want[i].host_family);
			assert_int_equal(pub[i].to_addr.family, want[i].to_family);
			assert_int_equal(pub[i].count, 1);
			assert_string_equal(pub[i].owner, "web");
		}
		assert_true(ip_addr_eq(&pub[3].host_addr, &pm[2].host_addr));
		assert_true(ip_addr_eq(&pub[3].to_addr, &to.v6));
		assert_int_equal(pub[3].port, 443);
	}
	free(pub);

	/* ports6's 8081 gone: one element fewer, another fingerprint. */
	for (size_t i = 0; i < 4; i++)
		if (!strcmp(kernel[i].name, "ports6"))
			kernel[i].n--;
	assert_int_equal(ruleset_gateway_state(n, "web", &st), 0);
	assert_int_equal(st.n_ports, 7);
	assert_true(st.ports_fingerprint != ruleset_ports_fingerprint(&to, pm, 4));
}

/* A port element as the kernel holds it: [host .] proto . host port ->
 * to . port. */
static void port_elem(struct fake_elem *fe, const char *host, uint8_t proto, uint16_t host_port,
		      const char *to, uint16_t port, const char *owner)
{
	struct ip_addr a;
	unsigned k = 0, d;

	memset(fe, 0, sizeof(*fe));
	if (host) {
		assert_int_equal(ip_addr_parse(host, AF_UNSPEC, &a), 0);
		k = ip_addr_to_bytes(&a, fe->key);
	}
	fe->key[k] = (char)proto;
	port_slot((uint8_t *)fe->key + k + 4, host_port);
	fe->key_len = k + 8;
	assert_int_equal(ip_addr_parse(to, AF_UNSPEC, &a), 0);
	d = ip_addr_to_bytes(&a, fe->data);
	port_slot((uint8_t *)fe->data + d, port);
	fe->data_len = d + 4;
	fe->comment = owner;
}

/* Twins fold (same owner, protocol, host port and port), anything else
 * stays: a ports6 element without a ports4 twin (to_addr IPv6), twins of
 * other ports or owners (the IPv4 one first); ports6h with its IPv6 host
 * address. ports4h is missing (no such map: none). */
static void test_published_fold(void **state)
{
	struct nftx *n = *state;
	static struct fake_set maps[4];
	struct portmap *pub = NULL, req[2];
	size_t n_pub = 0;
	char buf[IP_ADDR_STRLEN];

	memset(maps, 0, sizeof(maps));
	maps[0].name = "ports4";
	port_elem(&maps[0].elems[0], NULL, IPPROTO_TCP, 8080, "10.200.0.2", 80, "web");
	port_elem(&maps[0].elems[1], NULL, IPPROTO_TCP, 9000, "10.200.0.2", 90, "web");
	port_elem(&maps[0].elems[2], NULL, IPPROTO_UDP, 53, "10.200.0.6", 53, "db");
	maps[0].n = 3;
	maps[1].name = "ports6";
	port_elem(&maps[1].elems[0], NULL, IPPROTO_UDP, 53, "fd00::6", 53, "dbx");
	port_elem(&maps[1].elems[1], NULL, IPPROTO_TCP, 9000, "fd00::2", 91, "web");
	port_elem(&maps[1].elems[2], NULL, IPPROTO_TCP, 8080, "fd00::2", 80, "web");
	port_elem(&maps[1].elems[3], NULL, IPPROTO_TCP, 7000, "fd00::7", 70, "other");
	maps[1].n = 4;
	maps[2].name = "ports6h";
	port_elem(&maps[2].elems[0], "2001:db8:1::1", IPPROTO_TCP, 8443, "fd00::2", 443, "web");
	maps[2].n = 1;
	fk.sets = maps;

	assert_int_equal(ruleset_published(n, NULL, &pub, &n_pub), 0);
	assert_int_equal(n_pub, 7);
	/* tcp 7000: the orphan, to its IPv6 address */
	assert_int_equal(pub[0].host_port, 7000);
	assert_string_equal(ip_addr_str(&pub[0].to_addr, buf), "fd00::7");
	assert_string_equal(pub[0].owner, "other");
	/* tcp 8080: the twins, one mapping to the IPv4 address */
	assert_int_equal(pub[1].host_port, 8080);
	assert_string_equal(ip_addr_str(&pub[1].to_addr, buf), "10.200.0.2");
	assert_false(ip_addr_is_set(&pub[1].host_addr));
	/* tcp 8443 bound to an IPv6 address */
	assert_int_equal(pub[2].host_port, 8443);
	assert_string_equal(ip_addr_str(&pub[2].host_addr, buf), "2001:db8:1::1");
	assert_string_equal(ip_addr_str(&pub[2].to_addr, buf), "fd00::2");
	assert_int_equal(pub[2].port, 443);
	/* tcp 9000: other namespace ports, both, IPv4 first */
	assert_int_equal(pub[3].host_port, 9000);
	assert_int_equal(pub[3].to_addr.family, AF_INET);
	assert_int_equal(pub[3].port, 90);
	assert_int_equal(pub[4].host_port, 9000);
	assert_int_equal(pub[4].to_addr.family, AF_INET6);
	assert_int_equal(pub[4].port, 91);
	/* udp 53: other owners, both, IPv4 first */
	assert_int_equal(pub[5].proto, IPPROTO_UDP);
	assert_string_equal(pub[5].owner, "db");
	assert_string_equal(pub[6].owner, "dbx");
	assert_int_equal(pub[6].to_addr.family, AF_INET6);
	free(pub);

	assert_int_equal(ruleset_published(n, "web", &pub, &n_pub), 0);
	assert_int_equal(n_pub, 4);   /* 8080, 8443, 9000 twice */
	free(pub);

	/* Near 8080 and 7000: every bound port, and those keys in both maps. */
	assert_int_equal(portmap_parse("8080:1", &req[0], NULL), 0);
	assert_int_equal(portmap_parse("7000:1", &req[1], NULL), 0);
	assert_int_equal(ruleset_published_near(n, req, 2, &pub, &n_pub), 0);
	assert_int_equal(n_pub, 3);
	assert_int_equal(pub[0].host_port, 7000);
	assert_int_equal(pub[1].host_port, 8080);
	assert_int_equal(pub[1].to_addr.family, AF_INET);
	assert_int_equal(pub[2].host_port, 8443);
	free(pub);
	fk.sets = NULL;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_skeleton),
		T(test_gateway_any),
		T(test_gateway_uplink),
		T(test_gateway_no_host),
		T(test_gateway_dual),
		T(test_no_host_dual),
		T(test_layout),
		T(test_no_host_delete),
		T(test_commit_error),
		T(test_commit_refused),
		T(test_commit_empty),
		T(test_table),
		T(test_owned_delete),
		T(test_fwd_guard),
		T(test_gateway_state),
		T(test_publish_elems),
		T(test_publish_refused),
		T(test_publish_dual),
		T(test_ports_round_trip),
		T(test_published_fold),
		cmocka_unit_test(test_ports_fingerprint),
	};

	return cmocka_run_group_tests_name("ruleset", tests, NULL, NULL);
}
