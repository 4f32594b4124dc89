/* SPDX-License-Identifier: MIT */
/*
 * The only orchestrator: up, down and the read-back views of gateways.
 * up is a list of steps, each with its undo; a failing step undoes the ones
 * done, in reverse, so a failed up leaves nothing behind.
 */
#ifndef NSGATE_GATEWAY_H
#define NSGATE_GATEWAY_H

#include <stdbool.h>

#include "nsgate/link.h"
#include "nsgate/ruleset.h"
#include "nsgate/state.h"

/* The environment variable that makes up fail after a named step (tests). */
#define GW_FAIL_STEP_ENV "NSGATE_TEST_FAIL_STEP"

struct gw_up_result {
	bool unchanged;          /* it was up already with these settings */
	struct gw_state state;   /* what is up now */
	const char *warning;     /* something the user should know, or NULL */
};

struct gw_up_opts {
	const struct portmap *pubs;   /* ports to publish with it */
	size_t n_pubs;
	bool force;                   /* publish even where a host socket listens */
	pid_t run_pid;                /* nonzero: owned by this `nsgate run` process */
};

/* req: a checked spec (name, host_ifname, ns_ifname, netns, optional subnet,
 * uplink, dns), made with spec_init.
 * Before anything, gateways of dead runs are removed, and a ruleset someone
 * flushed is restored from the state files. */
int gateway_up(const struct gw_spec *req, const struct gw_up_opts *o, struct gw_up_result *res,
	       struct nsg_err *e);
/* Publish more ports of a running gateway, in one transaction. */
int gateway_publish(const char *name, const struct portmap *pubs, size_t n_pubs, bool force,
		    struct nsg_err *e);
/* Stop publishing ports (each must be published by this gateway as given),
 * and forget their connections. */
int gateway_unpublish(const char *name, const struct portmap *pubs, size_t n_pubs,
		      struct nsg_err *e);
/* Remove everything of one gateway; *found is false when there was nothing. */
int gateway_down(const char *name, bool *found, struct nsg_err *e);
/* Remove every gateway; *count says how many there were. */
int gateway_down_all(size_t *count, struct nsg_err *e);

/* One gateway gc removed, and why. */
struct gw_gc_item {
	char name[GW_NAME_MAX + 1];
	const char *reason;
};
/* Remove gateways whose namespace, link or run is gone, whose state is
 * damaged, or that only left kernel objects behind; restore a flushed
 * ruleset for the rest. *ret malloc'ed. */
int gateway_gc(struct gw_gc_item **ret, size_t *n_ret, struct nsg_err *e);
/* Bring nsgate's table back to what the state files say, if someone deleted
 * or flushed it: the table, its rules, every gateway's elements and ports.
 * *restored tells whether anything had to be written. */
int gateway_restore(bool *restored, struct nsg_err *e);

struct config;

/* What apply did to one gateway. */
struct gw_apply_item {
	char name[GW_NAME_MAX + 1];
	const char *action;       /* "created", "recreated", "updated", "unchanged", "removed" */
	char detail[192];
};
/* Bring the kernel to exactly the gateways cfg declares: create the missing,
 * change the changed with the fewest operations (ports, uplink and DNS in
 * place; a new subnet or namespace re-creates), leave the same untouched
 * (no netlink writes), and with prune remove gateways cfg does not name.
 * *ret malloc'ed, one item per gateway. */
int gateway_apply(const struct config *cfg, bool prune, struct gw_apply_item **ret, size_t *n_ret,
		  struct nsg_err *e);

/* One gateway as the kernel shows it, with the state file beside it. */
struct gw_view {
	char name[GW_NAME_MAX + 1];
	bool have_state;
	bool state_damaged;
	struct gw_state state;
	bool link_present;
	struct link_info link;
	struct ruleset_gw_state nft;
	bool netns_present;
	bool dns_present;
	unsigned n_dns;          /* nameservers in its resolv.conf */
	struct ip_addr dns[GW_DNS_MAX];
	const char *status;      /* "up" or what is broken */
	struct portmap *pub;     /* its published ports, one per port */
	size_t n_pub;
};
void gateway_view_clear(struct gw_view *v);

int gateway_view(const char *name, struct gw_view *ret, struct nsg_err *e);
/* Every gateway known from state files or from links nsgate labelled;
 * gateway_view_clear each view, then free the array. */
int gateway_list(struct gw_view **ret, size_t *n, struct nsg_err *e);
/* Run argv inside the gateway's namespace; returns only on failure. */
int gateway_exec(const char *name, char *const argv[], struct nsg_err *e);

#endif
