/* SPDX-License-Identifier: MIT */
/*
 * Other firewalls as nftables shows them (src/sys/hostfw.c): every base chain
 * of another table on the forward or input hook that drops by default
 * (iptables-nft's table ip filter, as Docker and ufw leave it, firewalld's
 * table, an admin's nftables.conf), and the rules nsgate adds to
 * iptables-nft's filter table to let gateway traffic through: written with
 * the expressions iptables-nft itself uses, so that `iptables-nft -L`,
 * `iptables-save` and `iptables -D` read them as
 *   -A DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
 * (in Docker's layout below two RETURNs that leave traffic to Docker's
 * bridges to Docker's own rules). This module knows nothing of gateways:
 * the core says when.
 */
#ifndef NSGATE_HOSTFW_H
#define NSGATE_HOSTFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsgate/firewall.h"

struct nftx;

#define HOSTFW_OURS_MAX 16

/* What one of nsgate's rules accepts, as its expressions say. */
enum hostfw_kind {
	HOSTFW_OTHER,            /* none of the below (an older nsgate's, a hand-made one) */
	HOSTFW_IIF,              /* -i nsg-+ -j ACCEPT */
	HOSTFW_OIF,              /* -o nsg-+ -j ACCEPT */
	HOSTFW_DNS_UDP,          /* -i nsg-+ -p udp --dport 53 -j ACCEPT */
	HOSTFW_DNS_TCP,          /* -i nsg-+ -p tcp --dport 53 -j ACCEPT */
	HOSTFW_RET_DOCKER0,      /* -i nsg-+ -o docker0 -j RETURN */
	HOSTFW_RET_BRIDGES,      /* -i nsg-+ -o br-+ -j RETURN */
};

/* One rule nsgate added (its comment is FW_COMMENT), where it is. */
struct hostfw_rule {
	char family[8];          /* "ip" (IPv4 today; "ip6" with IPv6) */
	char chain[64];
	uint64_t handle;
	bool input;              /* one of the INPUT DNS rules */
	enum hostfw_kind kind;
};

struct hostfw_survey {
	struct fw_blocks blocks;  /* every dropping base chain but nsgate's table's */
	bool iptables_filter;     /* table ip filter exists (iptables-nft) */
	bool docker_user;         /* ... and chain DOCKER-USER, which FORWARD jumps to
				     for every packet (Docker's layout) */
	bool docker_returns;      /* ... whose rules return gateway traffic to docker0
				     and br-+ before any accepts it (anyone's rules) */
	bool firewalld_table;     /* table inet firewalld exists */
	bool firewalld_trusted;   /* ... and its rules send the gateway links to zone
				     trusted: what the binding nsgate asks for makes */
	struct hostfw_rule ours[HOSTFW_OURS_MAX];
	size_t n_ours;
};

/* Fill sv: one dump of every chain, and a dump of the rules of each other
 * base chain on the two hooks and of table ip filter's FORWARD,
 * DOCKER-USER and INPUT (for nsgate's rules, found there only, and for
 * `opened`). A block is opened when rules before its drop accept every
 * gateway's traffic (nsgate's or an admin's; FORWARD's through DOCKER-USER
 * too) and, in table ip filter, open would move or delete none of ours.
 * Accepts in DOCKER-USER count only once the returns (docker_returns) come
 * before them: a namespace must not get past Docker's isolation of its
 * containers (their unpublished addresses).
 * Cheap: the whole budget of this check in `up` is 0.5 ms. No nf_tables:
 * an empty survey. */
int hostfw_survey(struct nftx *n, struct hostfw_survey *sv);

/* Queue, into the caller's batch, what makes table ip filter let every
 * gateway's traffic through, given what sv found there:
 *  forward: `-i nsg-+ -j ACCEPT` and `-o nsg-+ -j ACCEPT` at the top of
 *           DOCKER-USER (sv->docker_user), else at the top of FORWARD; in
 *           DOCKER-USER above them `-i nsg-+ -o docker0 -j RETURN` and
 *           `-i nsg-+ -o br-+ -j RETURN`, which hand what goes to Docker's
 *           bridges back to FORWARD, to Docker's rules (its published
 *           ports pass, the containers' other addresses are dropped);
 *  input:   `-i nsg-+ -p udp --dport 53 -j ACCEPT` and the same for tcp at
 *           the top of INPUT;
 * each with a counter and the comment FW_COMMENT. Rules of ours already in
 * the right chain stay; ours in another chain (FORWARD's, once Docker made
 * DOCKER-USER) are deleted, and so are returns that an accept (inserted
 * now, or anyone's) would precede: they go to the top anew. Returns the
 * number of messages queued (0: all is in place), or -errno. */
int hostfw_queue_iptables_open(struct nftx *n, const struct hostfw_survey *sv, bool forward,
			       bool input);
/* Queue the deletion of every rule sv found with our comment. Returns the
 * number queued. */
int hostfw_queue_iptables_close(struct nftx *n, const struct hostfw_survey *sv);

#endif
