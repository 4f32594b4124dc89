/* SPDX-License-Identifier: MIT */
/*
 * Other tables' base chains on the forward and input hooks, and nsgate's
 * rules in iptables-nft's table ip filter.
 *
 * A drop verdict in any base chain is final, whatever nsgate's own table
 * accepts, so every such chain is looked at: its policy, and its rules as
 * far as they concern gateway traffic (what they accept from or to "nsg-*"
 * before a verdict that ends the chain, and whether that verdict drops
 * everything). Rules are judged by their expressions only, the ones `nft`
 * and iptables-nft write for those few statements; anything else makes a
 * rule "conditional", which never opens a chain and never closes one.
 *
 * nsgate's rules are written as iptables-nft would write them, except that
 * the comment is the rule's userdata (as `nft ... comment "nsgate"` writes
 * it) rather than an x_tables match: iptables-nft reads both as
 * `-m comment --comment nsgate`, and the userdata needs no xt module.
 *
 * In Docker's layout the accept `-i nsg-+` would come before Docker's own
 * FORWARD rules, which keep forwarded traffic off containers' unpublished
 * addresses: two RETURNs above it (`-i nsg-+ -o docker0`, `-o br-+`) hand
 * what goes to Docker's bridges back to FORWARD, where Docker decides.
 */
/* glibc's netinet/in.h first: then linux/in.h steps aside. */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

#include "nsgate/hostfw.h"
#include "nsgate/nft.h"
#include "nsgate/ruleset.h"
#include "nsgate/spec.h"

#define IPT_TABLE "filter"          /* iptables-nft's, in families ip and ip6 */
#define IPT_FORWARD "FORWARD"
#define IPT_INPUT "INPUT"
#define FIREWALLD_TABLE "firewalld" /* family inet */
/* firewalld 1.x sends forwarded packets to their zone's chain from here, one
 * rule per bound interface: `iifname "nsg-*" goto filter_FWD_trusted` is
 * the binding of FW_IPT_IFNAME to zone trusted. Reading it saves up a D-Bus
 * round trip to firewalld (2.6 ms, firewalld is Python) once the first
 * gateway bound it; where the chain is named otherwise (another firewalld
 * version), the core asks over D-Bus as before. */
#define FIREWALLD_ZONES "filter_FORWARD_ZONES"
#define FIREWALLD_TRUSTED "filter_FWD_trusted"
#define DNS_PORT 53
/* Docker's bridges: the default network's, and those of the networks
 * `docker network create` makes (br-<id>), as iptables spells them. */
#define DOCKER_BRIDGE "docker0"
#define DOCKER_BRIDGES "br-"
/* Base chains on the two hooks in other tables: firewalld has 2, a Docker
 * host 2 (or 4 with ip6), an admin's nftables.conf 1 or 2. */
#define MAX_BASE 32

/* What a rule accepts of gateway traffic. */
enum {
	ACC_IIF = 1 << 0,       /* iifname "nsg-*" accept */
	ACC_OIF = 1 << 1,       /* oifname "nsg-*" accept */
	ACC_DNS_UDP = 1 << 2,   /* iifname "nsg-*" udp dport 53 accept */
	ACC_DNS_TCP = 1 << 3,   /* iifname "nsg-*" tcp dport 53 accept */
	ACC_ALL = 0xf,          /* accept: everything */
};

/* What a rule hands back to FORWARD from DOCKER-USER: gateway traffic to
 * Docker's bridges. */
enum {
	RET_DOCKER0 = 1 << 0,   /* iifname "nsg-*" oifname "docker0" return */
	RET_BRIDGES = 1 << 1,   /* iifname "nsg-*" oifname "br-*" return */
	RET_BOTH = 0x3,
};

/* A rule that ends the chain for every packet that reaches it. */
enum catchall { CA_NONE, CA_ACCEPT, CA_DROP, CA_END };

/* What a register holds, as far as the statements above go. */
enum reg_kind { REG_OTHER, REG_IIFNAME, REG_OIFNAME, REG_L4PROTO, REG_DPORT };
#define N_SLOTS 16              /* 32-bit register slots (NFT_REG32_00..15) */

/* One rule, read. */
struct rule_view {
	uint8_t slot[N_SLOTS];  /* enum reg_kind of each 32-bit slot */
	bool iif, oif;          /* iifname/oifname "nsg-*" (or a shorter prefix) */
	unsigned bridge;        /* RET_*: oifname "docker0" or "br-*" */
	uint8_t l4proto;        /* meta l4proto == this (0: no such match) */
	bool dport53;           /* th dport == 53 */
	bool other;             /* any other match or statement */
	bool rejects;           /* reject, or iptables' -j REJECT */
	bool has_verdict;
	int verdict;
	bool xt_ours;           /* -m comment --comment nsgate, as an xt match */
	bool to_docker_user;    /* jump DOCKER-USER (for every packet, once judged) */
	bool to_trusted;        /* goto or jump to firewalld's zone trusted */
	unsigned acc;           /* ACC_* */
	unsigned ret;           /* RET_*: one of the two returns */
	enum catchall catchall;
};

/* ---------------------------------------------------------- reading rules */

/* 32-bit slot of register reg (NFT_REG_1..4 are 128 bits: 4 slots each). */
static int slot_of(uint32_t reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)(reg - NFT_REG_1) * 4;
	if (reg >= NFT_REG32_00 && reg < NFT_REG32_00 + N_SLOTS)
		return (int)(reg - NFT_REG32_00);
	return -1;
}

/* A load of len bytes into dreg: the first slot holds kind, the others
 * it covers hold nothing a compare here understands. */
static void load(struct rule_view *v, uint32_t dreg, uint32_t len, enum reg_kind kind)
{
	int s = slot_of(dreg);

	if (s < 0) {
		v->other = true;
		return;
	}
	for (uint32_t i = 0; i < (len + 3) / 4 && s + (int)i < N_SLOTS; i++)
		v->slot[s + i] = REG_OTHER;
	v->slot[s] = kind;
}

static void see_meta(struct rule_view *v, const struct nftnl_expr *e)
{
	uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		v->other = true;        /* meta set */
		return;
	}
	/* Unknown keys count as 16 bytes: an overlap is then never missed. */
	load(v, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), key == NFT_META_L4PROTO ? 1 : 16,
	     key == NFT_META_IIFNAME ? REG_IIFNAME : key == NFT_META_OIFNAME ? REG_OIFNAME
	     : key == NFT_META_L4PROTO ? REG_L4PROTO : REG_OTHER);
}

static void see_payload(struct rule_view *v, const struct nftnl_expr *e)
{
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	bool dport = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_TRANSPORT_HEADER &&
		     nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 && len == 2;

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
		v->other = true;        /* payload set (mangling) */
		return;
	}
	load(v, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), len, dport ? REG_DPORT : REG_OTHER);
}

/* "nsg-*" is a compare of the name's first bytes; any shorter prefix of
 * "nsg-" matches every gateway link as well. */
static bool gateway_prefix(const void *data, uint32_t len)
{
	return len > 0 && len <= strlen(GW_IFNAME_PREFIX) && !memcmp(data, GW_IFNAME_PREFIX, len);
}

/* One of Docker's bridges, as the compare of an output name: "docker0"
 * exactly (the NUL, and any padding, compared too), or the prefix "br-". */
static unsigned docker_bridge(const uint8_t *data, uint32_t len)
{
	const size_t n = strlen(DOCKER_BRIDGE);

	if (len == strlen(DOCKER_BRIDGES) && !memcmp(data, DOCKER_BRIDGES, len))
		return RET_BRIDGES;
	if (len <= n || len > IFNAMSIZ || memcmp(data, DOCKER_BRIDGE, n))
		return 0;
	for (uint32_t i = n; i < len; i++)
		if (data[i])
			return 0;
	return RET_DOCKER0;
}

static void see_cmp(struct rule_view *v, const struct nftnl_expr *e)
{
	static const uint8_t port53[2] = { DNS_PORT >> 8, DNS_PORT & 0xff };
	int s = slot_of(nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
	uint32_t len = 0;
	const uint8_t *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

	if (s < 0 || !data || nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) != NFT_CMP_EQ) {
		v->other = true;
		return;
	}
	switch (v->slot[s]) {
	case REG_IIFNAME:
	case REG_OIFNAME:
		if (gateway_prefix(data, len) && v->slot[s] == REG_IIFNAME)
			v->iif = true;
		else if (gateway_prefix(data, len))
			v->oif = true;
		else if (v->slot[s] == REG_OIFNAME && docker_bridge(data, len))
			v->bridge |= docker_bridge(data, len);
		else
			v->other = true;
		break;
	case REG_L4PROTO:
		if (len == 1 && !v->l4proto)
			v->l4proto = data[0];
		else
			v->other = true;
		break;
	case REG_DPORT:
		if (len == 2 && !memcmp(data, port53, 2))
			v->dport53 = true;
		else
			v->other = true;
		break;
	default:
		v->other = true;
	}
}

/* iptables-nft's x_tables compat: the comment match (a no-op that may be
 * ours) and the REJECT target; any other match is a condition, any other
 * target does not end the chain. */
static void see_xt(struct rule_view *v, const struct nftnl_expr *e, bool match)
{
	const char *name = nftnl_expr_get_str(e, match ? NFTNL_EXPR_MT_NAME : NFTNL_EXPR_TG_NAME);
	uint32_t len = 0;
	const char *info;

	if (!name) {
		v->other = true;
	} else if (match && !strcmp(name, "comment")) {
		/* struct xt_comment_info: the text, NUL-padded */
		info = nftnl_expr_get(e, NFTNL_EXPR_MT_INFO, &len);
		if (info && len > strlen(FW_COMMENT) && !strncmp(info, FW_COMMENT, len))
			v->xt_ours = true;
	} else if (!match && (!strcmp(name, "REJECT") || !strcmp(name, "DROP"))) {
		v->rejects = true;
	} else {
		v->other = true;
	}
}

static int see_expr(struct nftnl_expr *e, void *data)
{
	struct rule_view *v = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name)
		v->other = true;
	else if (!strcmp(name, "meta"))
		see_meta(v, e);
	else if (!strcmp(name, "payload"))
		see_payload(v, e);
	else if (!strcmp(name, "cmp"))
		see_cmp(v, e);
	else if (!strcmp(name, "match") || !strcmp(name, "target"))
		see_xt(v, e, name[0] == 'm');
	else if (!strcmp(name, "reject"))
		v->rejects = true;
	else if (!strcmp(name, "immediate") &&
		 nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
		const char *to = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);

		v->has_verdict = true;
		v->verdict = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
		v->to_docker_user = v->verdict == NFT_JUMP && to && !strcmp(to, FW_DOCKER_USER);
		v->to_trusted = (v->verdict == NFT_JUMP || v->verdict == NFT_GOTO) && to &&
				!strcmp(to, FIREWALLD_TRUSTED);
	} else if (strcmp(name, "counter") && strcmp(name, "log")) {
		v->other = true;        /* counter and log change no packet's fate */
	}
	return 0;
}

/* The rule's one condition is iifname "nsg-*". */
static bool iif_only(const struct rule_view *v)
{
	return v->iif && !v->oif && !v->bridge && !v->l4proto && !v->dport53 && !v->other;
}

/* What the rule's matches and verdict add up to. */
static void judge(struct rule_view *v)
{
	bool cond = v->iif || v->oif || v->bridge || v->l4proto || v->dport53 || v->other;
	bool accept = v->has_verdict && v->verdict == NF_ACCEPT && !v->rejects && !v->other;

	if (!cond && (v->rejects || (v->has_verdict && v->verdict == NF_DROP)))
		v->catchall = CA_DROP;
	else if (!cond && accept)
		v->catchall = CA_ACCEPT;
	else if (!cond && v->has_verdict && (v->verdict == NFT_RETURN || v->verdict == NFT_GOTO))
		v->catchall = CA_END;
	v->to_docker_user &= !cond;
	/* iifname "nsg-*" oifname "docker0" (or "br-*") return, nothing else */
	if (v->has_verdict && v->verdict == NFT_RETURN && !v->rejects &&
	    (v->bridge == RET_DOCKER0 || v->bridge == RET_BRIDGES) && v->iif && !v->oif &&
	    !v->l4proto && !v->dport53 && !v->other)
		v->ret = v->bridge;
	/* An accept to Docker's bridges only is none of the shapes below. */
	if (!accept || v->bridge)
		return;
	if (!cond)
		v->acc = ACC_ALL;
	else if (iif_only(v))
		v->acc = ACC_IIF;
	else if (v->oif && !v->iif && !v->l4proto && !v->dport53)
		v->acc = ACC_OIF;
	else if (v->iif && !v->oif && v->dport53 && v->l4proto == IPPROTO_UDP)
		v->acc = ACC_DNS_UDP;
	else if (v->iif && !v->oif && v->dport53 && v->l4proto == IPPROTO_TCP)
		v->acc = ACC_DNS_TCP;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT) {
		const char *s = nftnl_udata_get(attr);
		uint8_t len = nftnl_udata_len(attr);

		if (len == sizeof(FW_COMMENT) && !memcmp(s, FW_COMMENT, len))
			*(bool *)data = true;
	}
	return 0;
}

/* The rule carries nsgate's label: its comment, as userdata or xt match. */
static bool rule_is_ours(const struct nftnl_rule *r, const struct rule_view *v)
{
	uint32_t len = 0;
	const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	bool ours = v->xt_ours;

	if (ud && len)
		nftnl_udata_parse(ud, len, comment_cb, &ours);
	return ours;
}

/* ---------------------------------------------------------------- scanning */

/* One chain's rules as a packet from or to a gateway meets them. */
struct scan {
	unsigned acc;           /* ACC_* of the rules before the first catch-all */
	unsigned ret;           /* RET_* of the rules before those that accept "nsg-*" in */
	enum catchall first;    /* the first rule that ends the chain for all */
	bool to_docker_user;    /* every packet jumps to DOCKER-USER before it */
};

/* Rules past the first catch-all are never reached: a drop there (the
 * usual last rule of a chain with policy accept) closes the chain however
 * many accepts follow it. */
static void scan_rule(struct scan *s, const struct rule_view *v)
{
	if (s->first != CA_NONE)
		return;
	if (!(s->acc & ACC_IIF))
		s->ret |= v->ret;
	s->acc |= v->acc;
	s->to_docker_user |= v->to_docker_user;
	s->first = v->catchall;
}

/* The dump of one chain's rules. */
struct rules_ctx {
	struct scan *scan;
	struct hostfw_survey *sv;  /* collect nsgate's rules into it (table ip filter) */
	bool trusted;              /* a rule sends "nsg-*" (nothing else) to zone trusted */
	int err;
};

static enum hostfw_kind kind_of(const struct rule_view *v)
{
	if (v->ret)
		return v->ret == RET_DOCKER0 ? HOSTFW_RET_DOCKER0 : HOSTFW_RET_BRIDGES;
	switch (v->acc) {
	case ACC_IIF: return HOSTFW_IIF;
	case ACC_OIF: return HOSTFW_OIF;
	case ACC_DNS_UDP: return HOSTFW_DNS_UDP;
	case ACC_DNS_TCP: return HOSTFW_DNS_TCP;
	default: return HOSTFW_OTHER;
	}
}

static void add_ours(struct hostfw_survey *sv, const struct nftnl_rule *r, const char *chain,
		     const struct rule_view *v)
{
	struct hostfw_rule *o;

	/* Past the array: a close removes these, the next survey the rest. */
	if (sv->n_ours >= HOSTFW_OURS_MAX || strlen(chain) >= sizeof(o->chain))
		return;
	o = &sv->ours[sv->n_ours++];
	snprintf(o->family, sizeof(o->family), "ip");
	snprintf(o->chain, sizeof(o->chain), "%s", chain);
	o->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	o->input = !strcmp(chain, IPT_INPUT);
	o->kind = kind_of(v);
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rules_ctx *ctx = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct rule_view v = { 0 };
	const char *chain;

	if (!r) {
		ctx->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	/* A rule libnftnl cannot read (an expression newer than it) counts
	 * as a condition: it neither opens a chain nor drops everything. */
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 || !nftnl_rule_is_set(r, NFTNL_RULE_CHAIN))
		v.other = true;
	else
		nftnl_expr_foreach(r, see_expr, &v);
	judge(&v);
	scan_rule(ctx->scan, &v);
	ctx->trusted |= v.to_trusted && iif_only(&v);
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	if (chain && ctx->sv && rule_is_ours(r, &v))
		add_ours(ctx->sv, r, chain, &v);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Dump the rules of one chain, in their order (the kernel's filter: not
 * the whole table, which on a Docker host has a rule per published port). */
static int dump_rules(struct nftx *n, uint16_t family, const char *table, const char *chain,
		      struct rules_ctx *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int err;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP | NLM_F_ACK, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	err = nftx_request(n, nlh, rule_cb, ctx);
	return ctx->err ? ctx->err : err;
}

/* ----------------------------------------------------------------- chains */

/* A base chain of another table on the forward or input hook. */
struct base {
	uint16_t family;
	enum fw_hook hook;
	bool policy_drop;
	char table[NFT_TABLE_MAXNAMELEN];
	char chain[NFT_CHAIN_MAXNAMELEN];
};

/* The chains of table ip filter whose rules the survey reads. */
enum { I_FORWARD, I_INPUT, I_DOCKER_USER, N_IPT_CHAINS };
static const char *const ipt_chains[N_IPT_CHAINS] = {
	[I_FORWARD] = IPT_FORWARD, [I_INPUT] = IPT_INPUT, [I_DOCKER_USER] = FW_DOCKER_USER,
};

struct chains_ctx {
	struct base base[MAX_BASE];
	size_t n;
	bool ipt_filter, firewalld;
	unsigned ipt_present;   /* bit I_*: that chain exists */
	int err;
};

static void see_chain(struct chains_ctx *cc, const struct nftnl_chain *c)
{
	uint32_t family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY), hook;
	const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	struct base *b;

	if (!table || !name)
		return;
	if (family == NFPROTO_IPV4 && !strcmp(table, IPT_TABLE)) {
		cc->ipt_filter = true;
		for (size_t i = 0; i < N_IPT_CHAINS; i++)
			if (!strcmp(name, ipt_chains[i]))
				cc->ipt_present |= 1u << i;
	}
	if (family == NFPROTO_INET && !strcmp(table, FIREWALLD_TABLE))
		cc->firewalld = true;
	if (family != NFPROTO_IPV4 && family != NFPROTO_IPV6 && family != NFPROTO_INET)
		return;
	if (family == NFPROTO_INET && !strcmp(table, RULESET_TABLE))
		return;
	if (!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM))
		return;
	hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
	if ((hook != NF_INET_FORWARD && hook != NF_INET_LOCAL_IN) || cc->n >= MAX_BASE)
		return;
	b = &cc->base[cc->n++];
	b->family = (uint16_t)family;
	b->hook = hook == NF_INET_FORWARD ? FW_HOOK_FORWARD : FW_HOOK_INPUT;
	b->policy_drop = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
			 nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP;
	snprintf(b->table, sizeof(b->table), "%s", table);
	snprintf(b->chain, sizeof(b->chain), "%s", name);
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chains_ctx *cc = data;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c) {
		cc->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0)
		see_chain(cc, c);
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int dump_chains(struct nftx *n, struct chains_ctx *cc)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP | NLM_F_ACK, 0);
	err = nftx_request(n, nlh, chain_cb, cc);
	return cc->err ? cc->err : err;
}

/* ------------------------------------------------- where nsgate's rules go */

/* The kinds of each side, in the order open inserts them: each at the
 * top, so the last ends first. In Docker's layout the forward side has
 * the two returns too, above the accepts. */
static const enum hostfw_kind forward_kinds[] = {
	HOSTFW_OIF, HOSTFW_IIF, HOSTFW_RET_BRIDGES, HOSTFW_RET_DOCKER0,
};
static const enum hostfw_kind input_kinds[] = { HOSTFW_DNS_TCP, HOSTFW_DNS_UDP };
#define SIDE_KINDS_MAX 4

static size_t side_kinds(const struct hostfw_survey *sv, bool input,
			 const enum hostfw_kind **ret)
{
	*ret = input ? input_kinds : forward_kinds;
	return input ? 2 : sv->docker_user ? 4 : 2;
}

/* Where k stands in want (n: none). */
static size_t kind_index(const enum hostfw_kind *want, size_t n, enum hostfw_kind k)
{
	size_t i = 0;

	while (i < n && want[i] != k)
		i++;
	return i;
}

static bool is_return(enum hostfw_kind k)
{
	return k == HOSTFW_RET_DOCKER0 || k == HOSTFW_RET_BRIDGES;
}

/* Where a side's rules go: Docker documents DOCKER-USER for them. */
static const char *side_chain(const struct hostfw_survey *sv, bool input)
{
	return input ? IPT_INPUT : sv->docker_user ? FW_DOCKER_USER : IPT_FORWARD;
}

/* ours[i] is of a kind of its side, in that side's chain, and the first
 * of its kind there. */
static bool ours_placed(const struct hostfw_survey *sv, size_t i)
{
	const struct hostfw_rule *o = &sv->ours[i];
	const enum hostfw_kind *want;
	size_t n = side_kinds(sv, o->input, &want);
	const char *chain = side_chain(sv, o->input);

	if (kind_index(want, n, o->kind) == n || strcmp(o->chain, chain))
		return false;
	for (size_t j = 0; j < i; j++)
		if (sv->ours[j].kind == o->kind && !strcmp(sv->ours[j].chain, chain))
			return false;
	return true;
}

static bool kind_placed(const struct hostfw_survey *sv, enum hostfw_kind k)
{
	for (size_t i = 0; i < sv->n_ours; i++)
		if (sv->ours[i].kind == k && ours_placed(sv, i))
			return true;
	return false;
}

/* ours[i] is one open keeps: placed, and a return only while the returns
 * come before every accept of gateway traffic and open inserts no accept
 * (at the top: above them). Otherwise the returns go to the top anew. */
static bool ours_kept(const struct hostfw_survey *sv, size_t i)
{
	if (!ours_placed(sv, i))
		return false;
	return !is_return(sv->ours[i].kind) ||
	       (sv->docker_returns && kind_placed(sv, HOSTFW_IIF) && kind_placed(sv, HOSTFW_OIF));
}

/* Open would delete no rule of ours on that side. */
static bool side_tidy(const struct hostfw_survey *sv, bool input)
{
	for (size_t i = 0; i < sv->n_ours; i++)
		if (sv->ours[i].input == input && !ours_kept(sv, i))
			return false;
	return true;
}

/* ----------------------------------------------------------------- survey */

static const char *family_name(uint16_t family)
{
	return family == NFPROTO_IPV4 ? "ip" : family == NFPROTO_IPV6 ? "ip6" : "inet";
}

static bool is_ipt(const struct base *b)
{
	return (b->family == NFPROTO_IPV4 || b->family == NFPROTO_IPV6) &&
	       !strcmp(b->table, IPT_TABLE);
}

static bool is_firewalld(const struct base *b)
{
	return b->family == NFPROTO_INET && !strcmp(b->table, FIREWALLD_TABLE);
}

/* The gateways' traffic passes: to and from them on forward, DNS on input. */
static bool acc_opens(enum fw_hook hook, unsigned acc)
{
	if (hook == FW_HOOK_FORWARD)
		return (acc & (ACC_IIF | ACC_OIF)) == (ACC_IIF | ACC_OIF);
	return (acc & ACC_IIF) || (acc & (ACC_DNS_UDP | ACC_DNS_TCP)) == (ACC_DNS_UDP | ACC_DNS_TCP);
}

/* Add b to sv when it drops what its rules do not accept; opens: its
 * rules (and those it jumps to) let every gateway's traffic through. */
static void add_block(struct hostfw_survey *sv, const struct base *b, const struct scan *s,
		      bool opens)
{
	struct fw_block blk = { .source = FW_SRC_NFTABLES, .hook = b->hook,
				.policy_drop = b->policy_drop };

	if (!b->policy_drop && s->first != CA_DROP)
		return;
	snprintf(blk.family, sizeof(blk.family), "%s", family_name(b->family));
	snprintf(blk.table, sizeof(blk.table), "%.*s", (int)sizeof(blk.table) - 1, b->table);
	snprintf(blk.chain, sizeof(blk.chain), "%.*s", (int)sizeof(blk.chain) - 1, b->chain);
	blk.iptables = is_ipt(b);
	/* firewalld is asked over D-Bus whether its zones let gateways through. */
	if (is_firewalld(b))
		blk.source = FW_SRC_FIREWALLD;
	else
		blk.opened = opens;
	fw_blocks_add(&sv->blocks, &blk);
}

/* iptables-nft's table ip filter: the rules of FORWARD, INPUT and
 * DOCKER-USER (where nsgate's go, and what decides `opened`), a dump of
 * each that exists: the whole table would cost as much as Docker has
 * rules. */
static int survey_ipt_filter(struct nftx *n, struct hostfw_survey *sv, unsigned present,
			     struct scan scans[N_IPT_CHAINS])
{
	for (size_t i = 0; i < N_IPT_CHAINS; i++) {
		struct rules_ctx ctx = { &scans[i], sv, false, 0 };
		int r;

		scans[i] = (struct scan){ 0 };
		if (!(present & (1u << i)))
			continue;
		r = dump_rules(n, NFPROTO_IPV4, IPT_TABLE, ipt_chains[i], &ctx);
		/* Gone since the chain dump: nothing in it. */
		if (r < 0 && r != -ENOENT)
			return r;
	}
	/* Docker's layout: rules in DOCKER-USER count only with the jump. */
	sv->docker_user = (present & (1u << I_DOCKER_USER)) && scans[I_FORWARD].to_docker_user;
	sv->docker_returns = sv->docker_user && scans[I_DOCKER_USER].ret == RET_BOTH;
	return 0;
}

/* Whether firewalld's rules already bind the gateway links to zone trusted. */
static int survey_firewalld_zones(struct nftx *n, struct hostfw_survey *sv)
{
	struct scan s = { 0 };
	struct rules_ctx ctx = { &s, NULL, false, 0 };
	int r = dump_rules(n, NFPROTO_INET, FIREWALLD_TABLE, FIREWALLD_ZONES, &ctx);

	if (r < 0 && r != -ENOENT)
		return r;
	sv->firewalld_trusted = ctx.trusted;
	return 0;
}

/* One other base chain: its rules, and a block when it drops. */
static int survey_base(struct nftx *n, struct hostfw_survey *sv, const struct base *b,
		       const struct scan ipt[N_IPT_CHAINS])
{
	struct scan s = { 0 };
	struct rules_ctx ctx = { &s, NULL, false, 0 };
	unsigned acc;
	int r;

	/* One block for firewalld, its forward chain: the zone that lets the
	 * gateway links forward takes their input (DNS) as well. */
	if (is_firewalld(b) && b->hook != FW_HOOK_FORWARD)
		return 0;
	if (b->family == NFPROTO_IPV4 && !strcmp(b->table, IPT_TABLE)) {
		bool fwd = !strcmp(b->chain, IPT_FORWARD);

		/* Read already. Not opened while open would still move or
		 * delete rules of ours (their chain is Docker's now). Opened
		 * through DOCKER-USER only once the returns there hand what
		 * goes to Docker's bridges back to Docker's rules; an admin's
		 * accepts in FORWARD itself are the admin's choice. */
		if (fwd || !strcmp(b->chain, IPT_INPUT)) {
			bool docker = fwd && sv->docker_user;

			s = ipt[fwd ? I_FORWARD : I_INPUT];
			acc = s.acc | (docker ? ipt[I_DOCKER_USER].acc : 0);
			add_block(sv, b, &s, side_tidy(sv, !fwd) &&
					     (acc_opens(b->hook, s.acc) ||
					      (acc_opens(b->hook, acc) && (!docker || sv->docker_returns))));
			return 0;
		}
	}
	r = dump_rules(n, b->family, b->table, b->chain, &ctx);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	add_block(sv, b, &s, acc_opens(b->hook, s.acc));
	return is_firewalld(b) ? survey_firewalld_zones(n, sv) : 0;
}

int hostfw_survey(struct nftx *n, struct hostfw_survey *sv)
{
	struct chains_ctx cc;
	struct scan ipt[N_IPT_CHAINS];
	int r;

	memset(sv, 0, sizeof(*sv));
	/* Not all of cc: its names are 16 KiB only filled as far as used. */
	cc.n = 0;
	cc.ipt_filter = cc.firewalld = false;
	cc.ipt_present = 0;
	cc.err = 0;
	r = dump_chains(n, &cc);
	/* nfnetlink without nf_tables refuses the subsystem: nothing to find. */
	if (r == -EINVAL || r == -EOPNOTSUPP || r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT)
		return 0;
	if (r < 0)
		return r;
	sv->iptables_filter = cc.ipt_filter;
	sv->firewalld_table = cc.firewalld;
	r = survey_ipt_filter(n, sv, cc.ipt_present, ipt);
	if (r < 0)
		return r;
	for (size_t i = 0; i < cc.n; i++) {
		r = survey_base(n, sv, &cc.base[i], ipt);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --------------------------------------------------------- nsgate's rules */

/* A rule under construction; oom is sticky so builders need no checks. */
struct rb {
	struct nftnl_rule *r;
	bool oom;
};

static struct nftnl_expr *add_expr(struct rb *b, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		b->oom = true;
	else
		nftnl_rule_add_expr(b->r, e);
	return e;
}

/* A load into NFT_REG_1 (meta key, or payload at base:offset) and an
 * equality compare of its first len bytes with data. */
static void match(struct rb *b, const char *load, uint32_t key_or_base, uint32_t offset,
		  const void *data, uint32_t len)
{
	struct nftnl_expr *l = add_expr(b, load), *c = add_expr(b, "cmp");

	if (!l || !c)
		return;
	if (!strcmp(load, "meta")) {
		nftnl_expr_set_u32(l, NFTNL_EXPR_META_KEY, key_or_base);
		nftnl_expr_set_u32(l, NFTNL_EXPR_META_DREG, NFT_REG_1);
	} else {
		nftnl_expr_set_u32(l, NFTNL_EXPR_PAYLOAD_BASE, key_or_base);
		nftnl_expr_set_u32(l, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(l, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(l, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, data, len);
}

/* counter accept (or return) comment "nsgate"
 *   (-m comment --comment nsgate -j ACCEPT, or -j RETURN) */
static void counter_verdict_ours(struct rb *b, int verdict)
{
	struct nftnl_expr *imm;
	struct nftnl_udata_buf *ud;

	add_expr(b, "counter");
	imm = add_expr(b, "immediate");
	if (imm) {
		nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	}
	ud = nftnl_udata_buf_alloc(32);
	if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, FW_COMMENT) ||
	    nftnl_rule_set_data(b->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				nftnl_udata_buf_len(ud)) < 0)
		b->oom = true;
	nftnl_udata_buf_free(ud);
}

/* The rule of kind k, as iptables-nft 1.8.9 writes (and reads back):
 *   HOSTFW_IIF      -i nsg-+ -j ACCEPT        iifname "nsg-*" counter accept
 *   HOSTFW_OIF      -o nsg-+ -j ACCEPT        oifname "nsg-*" counter accept
 *   HOSTFW_DNS_UDP  -i nsg-+ -p udp -m udp --dport 53 -j ACCEPT
 *                                             iifname "nsg-*" udp dport 53 counter accept
 *   HOSTFW_DNS_TCP  the same with tcp
 *   HOSTFW_RET_DOCKER0  -i nsg-+ -o docker0 -j RETURN
 *                                             iifname "nsg-*" oifname "docker0" counter return
 *   HOSTFW_RET_BRIDGES  -i nsg-+ -o br-+ -j RETURN
 *                                             iifname "nsg-*" oifname "br-*" counter return
 * each with -m comment --comment nsgate (comment "nsgate"). An exact name
 * is compared with its NUL ("docker0\0", 8 bytes), a `+` name on the
 * bytes before the `+`. */
static void build_kind(struct rb *b, enum hostfw_kind k)
{
	static const uint8_t port53[2] = { DNS_PORT >> 8, DNS_PORT & 0xff };
	uint8_t proto = k == HOSTFW_DNS_TCP ? IPPROTO_TCP : IPPROTO_UDP;

	match(b, "meta", k == HOSTFW_OIF ? NFT_META_OIFNAME : NFT_META_IIFNAME, 0,
	      GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX));
	if (k == HOSTFW_DNS_UDP || k == HOSTFW_DNS_TCP) {
		match(b, "meta", NFT_META_L4PROTO, 0, &proto, sizeof(proto));
		match(b, "payload", NFT_PAYLOAD_TRANSPORT_HEADER, 2, port53, sizeof(port53));
	}
	if (k == HOSTFW_RET_DOCKER0)
		match(b, "meta", NFT_META_OIFNAME, 0, DOCKER_BRIDGE, sizeof(DOCKER_BRIDGE));
	else if (k == HOSTFW_RET_BRIDGES)
		match(b, "meta", NFT_META_OIFNAME, 0, DOCKER_BRIDGES, strlen(DOCKER_BRIDGES));
	counter_verdict_ours(b, is_return(k) ? NFT_RETURN : NF_ACCEPT);
}

static const char *kind_text(enum hostfw_kind k)
{
	switch (k) {
	case HOSTFW_IIF: return "-i " FW_IPT_IFNAME " -j ACCEPT";
	case HOSTFW_OIF: return "-o " FW_IPT_IFNAME " -j ACCEPT";
	case HOSTFW_DNS_UDP: return "-i " FW_IPT_IFNAME " -p udp --dport 53 -j ACCEPT";
	case HOSTFW_DNS_TCP: return "-i " FW_IPT_IFNAME " -p tcp --dport 53 -j ACCEPT";
	case HOSTFW_RET_DOCKER0: return "-i " FW_IPT_IFNAME " -o " DOCKER_BRIDGE " -j RETURN";
	case HOSTFW_RET_BRIDGES: return "-i " FW_IPT_IFNAME " -o " DOCKER_BRIDGES "+ -j RETURN";
	default: return "rule";
	}
}

/* Queue the insertion of kind k at the top of table ip filter's chain
 * (k HOSTFW_OTHER: the deletion of rule handle there). */
static int queue_rule(struct nftx *n, const char *chain, enum hostfw_kind k, uint64_t handle)
{
	struct rb b = { .r = nftnl_rule_alloc() };
	struct nlmsghdr *nlh;
	char what[160];
	int r = 0;

	if (!b.r)
		return -ENOMEM;
	nftnl_rule_set_str(b.r, NFTNL_RULE_TABLE, IPT_TABLE);
	nftnl_rule_set_str(b.r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(b.r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	if (k == HOSTFW_OTHER) {
		nftnl_rule_set_u64(b.r, NFTNL_RULE_HANDLE, handle);
		snprintf(what, sizeof(what), "deleting rule %llu (comment \"%s\") of ip filter %s",
			 (unsigned long long)handle, FW_COMMENT, chain);
	} else {
		build_kind(&b, k);
		snprintf(what, sizeof(what), "rule %s in ip filter %s", kind_text(k), chain);
	}
	/* At the top of the chain: no NLM_F_APPEND, no position. */
	nlh = b.oom ? NULL : nftx_msg_begin(n, k == HOSTFW_OTHER ? NFT_MSG_DELRULE : NFT_MSG_NEWRULE,
					    k == HOSTFW_OTHER ? 0 : NLM_F_CREATE, what);
	if (!nlh) {
		r = -ENOMEM;
		goto out;
	}
	/* nftx_msg_begin's header says inet: this table is ip's. */
	((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->nfgen_family = NFPROTO_IPV4;
	nftnl_rule_nlmsg_build_payload(nlh, b.r);
	nftx_msg_end(n, nlh);
out:
	nftnl_rule_free(b.r);
	return r;
}

/* One side of open: its rules in its chain; rules of ours elsewhere on
 * that side (input: INPUT; forward: any other chain), duplicates, and
 * returns that would end up below an accept are deleted. */
static int open_side(struct nftx *n, const struct hostfw_survey *sv, bool input)
{
	const enum hostfw_kind *want;
	const size_t n_want = side_kinds(sv, input, &want);
	const char *chain = side_chain(sv, input);
	bool have[SIDE_KINDS_MAX] = { false }, all = true;
	int queued = 0, r;

	for (size_t i = 0; i < sv->n_ours; i++) {
		const struct hostfw_rule *o = &sv->ours[i];

		if (o->input != input)
			continue;
		if (ours_kept(sv, i)) {
			have[kind_index(want, n_want, o->kind)] = true;
			continue;
		}
		r = queue_rule(n, o->chain, HOSTFW_OTHER, o->handle);
		if (r < 0)
			return r;
		queued++;
	}
	for (size_t k = 0; k < n_want; k++)
		all &= have[k];
	/* Never a chain of iptables' own making: gone since the survey, or
	 * never made (iptables-nft makes INPUT only when first used). */
	r = !all ? nftx_chain_exists(n, NFPROTO_IPV4, IPT_TABLE, chain) : 0;
	if (r <= 0)
		return r < 0 ? r : queued;
	for (size_t k = 0; k < n_want; k++) {
		if (have[k])
			continue;
		r = queue_rule(n, chain, want[k], 0);
		if (r < 0)
			return r;
		queued++;
	}
	return queued;
}

int hostfw_queue_iptables_open(struct nftx *n, const struct hostfw_survey *sv, bool forward,
			       bool input)
{
	int queued = 0, r;

	if (!sv->iptables_filter)
		return 0;
	if (forward) {
		r = open_side(n, sv, false);
		if (r < 0)
			return r;
		queued += r;
	}
	if (input) {
		r = open_side(n, sv, true);
		if (r < 0)
			return r;
		queued += r;
	}
	return queued;
}

int hostfw_queue_iptables_close(struct nftx *n, const struct hostfw_survey *sv)
{
	for (size_t i = 0; i < sv->n_ours; i++) {
		int r = queue_rule(n, sv->ours[i].chain, HOSTFW_OTHER, sv->ours[i].handle);

		if (r < 0)
			return r;
	}
	return (int)sv->n_ours;
}
