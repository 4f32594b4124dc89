/* SPDX-License-Identifier: MIT */
/*
 * Other firewalls on the host, as nsgate sees them: a chain that would drop
 * a gateway's traffic (struct fw_block), whoever owns it. The three modules
 * that look (hostfw: nftables and iptables-nft; xtables: iptables-legacy;
 * firewalld: D-Bus) report in these terms; src/core/firewall.c decides.
 * docs/design.md, "Other firewalls", says why each is handled the way it is.
 */
#ifndef NSGATE_FIREWALL_H
#define NSGATE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

/* The label on every rule nsgate adds to another firewall's chains (the
 * rule comment: `-m comment --comment nsgate` to iptables), and the only
 * rules nsgate ever deletes there. */
#define FW_COMMENT "nsgate"
/* Every gateway's host link in iptables' spelling (GW_IFNAME_PREFIX + '+'). */
#define FW_IPT_IFNAME "nsg-+"
/* Docker's documented place for other tools' rules (filter table). */
#define FW_DOCKER_USER "DOCKER-USER"

enum fw_source {
	FW_SRC_NFTABLES,         /* a table of nftables: nft's own, or iptables-nft's */
	FW_SRC_IPTABLES_LEGACY,  /* x_tables (iptables-legacy) */
	FW_SRC_FIREWALLD,        /* firewalld's table (inet firewalld), handled over D-Bus */
};

enum fw_hook {
	FW_HOOK_FORWARD,         /* the gateways' traffic to and from the internet */
	FW_HOOK_INPUT,           /* a gateway's DNS queries to a server on the host */
};

/* One base chain that drops what none of its rules accepts. */
struct fw_block {
	enum fw_source source;
	enum fw_hook hook;
	char family[8];          /* nft's name: "ip", "ip6", "inet" */
	char table[64];
	char chain[64];
	bool policy_drop;        /* policy drop; else a rule that ends the chain for every
				    packet drops or rejects it */
	bool iptables;           /* an iptables chain (iptables-nft's tables, x_tables):
				    nsgate can open it with rules of its own */
	bool docker_user;        /* FORWARD of Docker's layout: the fix goes in DOCKER-USER */
	bool opened;             /* accept rules for every gateway link come before the
				    drop: nsgate's (labelled FW_COMMENT), or an admin's */
};

#define FW_BLOCKS_MAX 16
struct fw_blocks {
	struct fw_block b[FW_BLOCKS_MAX];
	size_t n;
};

/* Append b (dropped silently past FW_BLOCKS_MAX: 16 dropping base chains on
 * two hooks is already more than any real host has). */
static inline void fw_blocks_add(struct fw_blocks *bs, const struct fw_block *b)
{
	if (bs->n < FW_BLOCKS_MAX)
		bs->b[bs->n++] = *b;
}

#endif
