/* SPDX-License-Identifier: MIT */
/*
 * Published ports: the checks a request must pass before any element is
 * written (host address local, no port claimed by another gateway or by a
 * host process), matching an unpublish against what the kernel holds, and
 * forgetting the conntrack entries of mappings that go away.
 */
#ifndef NSGATE_PUBLISH_H
#define NSGATE_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "nsgate/ruleset.h"
#include "nsgate/spec.h"

/* Check req[] for gateway name, whose namespace address is to_addr, against
 * every published port in have[] (all gateways, sorted as ruleset_published
 * returns them) and against host sockets (unless force). Ports the gateway
 * already publishes to the same place are fine (publishing is idempotent). */
int publish_check(const char *name, uint32_t to_addr, const struct publish *req, size_t n_req,
		  const struct published *have, size_t n_have, bool force, struct nsg_err *e);
/* Every port of req[] must be among have[] (one gateway's), with the same
 * target port; -EINVAL names the first that is not. */
int publish_match(const struct publish *req, size_t n_req, const struct published *have,
		  size_t n_have, struct nsg_err *e);
/* Delete the conntrack entries of these mappings, so that established flows
 * (UDP above all) stop reaching the old destination. Returns the count. */
int publish_forget_flows(const struct published *p, size_t n, struct nsg_err *e);
/* The same for req[] as mapped to to_addr. */
int publish_forget_flows_req(const struct publish *req, size_t n_req, uint32_t to_addr,
			     struct nsg_err *e);

/* a[] plus b[] (or a[] less b[]), port by port, merged back into ranges
 * (sorted). For the ports file: no need to read the maps back. */
int publish_list_combine(const struct publish *a, size_t na, const struct publish *b, size_t nb,
			 bool subtract, struct publish **ret, size_t *n_ret);

/* What to unpublish (*del) and to publish (*add) to go from have[] (one
 * gateway's, as the maps hold them) to want[]; a port mapped elsewhere is in
 * both. Both lists malloc'ed, one entry a port. */
int publish_diff(const struct published *have, size_t n_have, const struct publish *want,
		 size_t n_want, struct publish **del, size_t *n_del, struct publish **add,
		 size_t *n_add);

#endif
