/* SPDX-License-Identifier: MIT */
/* What the core's operation files share; not for front ends. */
#ifndef NSGATE_CORE_H
#define NSGATE_CORE_H

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgate/config.h"
#include "nsgate/dns.h"
#include "nsgate/gateway.h"
#include "nsgate/ipam.h"
#include "nsgate/netns.h"
#include "nsgate/nft.h"
#include "nsgate/publish.h"
#include "nsgate/sysctl.h"

/* inventory.c */
void gw_alias(const struct gw_state *st, char *buf, size_t len);
bool alias_name(const char *alias, char name[GW_NAME_MAX + 1], bool *own_netns);
struct ruleset_gw ruleset_gw_of(const struct gw_spec *s);
int link_name_cmp(const void *a, const void *b);
int name_cmp(const void *a, const void *b);
int known_names_links(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1],
		      struct link_info **links_ret, size_t *n_links_ret);
int known_names(struct nl_sock *host, char (**ret)[GW_NAME_MAX + 1]);
bool other_gateways_exist(const char *name);
bool netns_alive(const struct gw_state *st);
struct live_links {
	char (*names)[GW_NAME_MAX + 1];   /* sorted */
	size_t n;
};
int live_links_read(struct nl_sock *host, struct live_links *ret);

/* session.c */
int open_sockets(struct nl_sock **host, struct nftx **nft, struct nsg_err *e);

/* up.c */
int up_locked(struct nl_sock *host, struct nftx *nft, const struct gw_spec *req,
	      const struct gw_up_opts *o, struct gw_up_result *res, struct nsg_err *e);

/* teardown.c */
int down_locked(struct nl_sock *host, struct nftx *nft, const char *name, bool *found,
		struct nsg_err *e);
int down_many_locked(struct nl_sock *host, struct nftx *nft, char (*names)[GW_NAME_MAX + 1],
		     size_t n, size_t *n_found, struct nsg_err *e);

/* view.c */
struct view_snapshot;
int view_with(struct nl_sock *host, struct nftx *nft, const char *name, struct gw_view *v,
	      const struct view_snapshot *snap);

/* ports.c */
int publish_locked(struct nftx *nft, const char *name, const struct publish *pubs,
		   size_t n_pubs, bool force, struct nsg_err *e);
int unpublish_locked(struct nftx *nft, const char *name, const struct publish *pubs,
		     size_t n_pubs, struct nsg_err *e);

/* gc.c */
int queue_restore(struct nftx *nft, const char *except, size_t *n);
int gc_locked(struct nl_sock *host, struct nftx *nft, bool runs_only,
	      struct gw_gc_item **ret, size_t *n_ret, struct nsg_err *e);
int restore_locked(struct nftx *nft, bool *restored, struct nsg_err *e);

#endif
