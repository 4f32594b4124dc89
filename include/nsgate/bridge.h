/* SPDX-License-Identifier: MIT */
/* Bridges and their ports over rtnetlink (src/sys/bridge.c). 0 or -errno. */
#ifndef NSGATE_BRIDGE_H
#define NSGATE_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "nsgate/common.h"

struct nl_sock;

/* A bridge name with MAC mac and ifalias alias, down, STP off; created in
 * link group LINK_GROUP_UNLABELLED, which the alias's message leaves (as
 * link_veth_create does). -EEXIST when the name is taken. */
int bridge_create(struct nl_sock *sk, const char *name, const char *alias, const uint8_t mac[6],
		  struct nsg_err *e);
/* Make link port a port of bridge; isolated: set its isolation flag
 * (IFLA_BRPORT_ISOLATED: isolated ports do not forward to each other). */
int bridge_port_attach(struct nl_sock *sk, const char *port, const char *bridge, bool isolated,
		       struct nsg_err *e);
/* Set a link's MAC address (IFLA_ADDRESS); best while it is down. */
int link_set_mac(struct nl_sock *sk, const char *name, const uint8_t mac[6], struct nsg_err *e);

#endif
