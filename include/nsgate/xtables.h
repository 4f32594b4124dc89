/* SPDX-License-Identifier: MIT */
/*
 * iptables-legacy: x_tables' filter table, read and changed through libip4tc
 * (src/sys/xtables.c), the library iptables-legacy itself is built on, under
 * iptables' own lock (/run/xtables.lock) as every other x_tables user takes it.
 * Nothing is touched unless the table exists already: reading a table that
 * is not loaded would make the kernel create it.
 */
#ifndef NSGATE_XTABLES_H
#define NSGATE_XTABLES_H

#include <stdbool.h>

#include "nsgate/common.h"
#include "nsgate/firewall.h"

struct xtables_survey {
	bool present;            /* x_tables' filter table exists (/proc/net/ip_tables_names) */
	struct fw_blocks blocks; /* its FORWARD and INPUT, when they drop by default;
				    FORWARD is opened in Docker's layout only with the
				    returns to docker0 and br-+ above DOCKER-USER's accepts */
	bool docker_user;        /* it has chain DOCKER-USER */
	unsigned n_ours;         /* rules with comment FW_COMMENT, in any chain */
};

/* Fill sv. Without the table: present false, and no other system call than
 * the read of /proc/net/ip_tables_names. */
int xtables_survey(struct xtables_survey *sv, struct nsg_err *e);
/* The same rules, in the same places, as hostfw_queue_iptables_open (with a
 * `comment` match, as iptables-legacy writes it; in DOCKER-USER the returns
 * to Docker's bridges above the accepts), in one commit of the table; rules
 * of ours in the wrong chain (or returns below an accept) are moved; nothing
 * is written when all is in place. */
int xtables_open(bool forward, bool input, struct nsg_err *e);
/* Delete every rule with comment FW_COMMENT (one commit; none: no write). */
int xtables_close(struct nsg_err *e);

#endif
