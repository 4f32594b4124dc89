/* SPDX-License-Identifier: MIT */
/*
 * Published ports, where the system is asked: the checks a request must
 * pass before any element is written (host address local, no port claimed
 * by another gateway or by a host process), and forgetting the conntrack
 * entries of mappings that go away. The pure list arithmetic is portmap's.
 */
#ifndef NSGATE_PUBLISH_H
#define NSGATE_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "nsgate/portmap.h"

/* Check req[] for gateway name, whose namespace addresses are to, against
 * every published port in have[] (all gateways, sorted as ruleset_published
 * returns them) and against host sockets (unless force; IPv6 ones too when
 * to->v6 is set). Ports the gateway already publishes to the same place are
 * fine (publishing is idempotent). A bound port's host address must be one
 * of the host's (-EADDRNOTAVAIL), an IPv6 one only for a gateway with an
 * IPv6 target (-EINVAL otherwise). */
int publish_check(const char *name, const struct gw_target *to, const struct portmap *req,
		  size_t n_req,
		  const struct portmap *have, size_t n_have, bool force, struct nsg_err *e);
/* Delete the conntrack entries of these mappings, so that established flows
 * (UDP above all) stop reaching the old destination. to: the namespace
 * addresses of every one of them (requests carry none: an unbound one is
 * forgotten for both families), or NULL when each carries its own (as read
 * back). Returns the count. */
int publish_forget_flows(const struct portmap *pm, size_t n, const struct gw_target *to,
			 struct nsg_err *e);

#endif
