/* SPDX-License-Identifier: MIT */
/*
 * nftables over netlink (libmnl + libnftnl): one socket, batches that are
 * committed atomically with every reply read back, and set-element dumps.
 * This module knows nothing of nsgate's table layout: see ruleset.h.
 */
#ifndef NSGATE_NFT_H
#define NSGATE_NFT_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/common.h"

struct nftx;
struct nlmsghdr;

int nftx_open(struct nftx **ret);
void nftx_close(struct nftx *n);
struct mnl_socket;
/* Close a NETLINK_NETFILTER socket. After a change (changed), the kernel
 * would make the closer wait for nf_tables' pending work: the last
 * reference is handed to a short-lived child instead. */
void nftx_netfilter_close(struct mnl_socket *nl, bool changed);

/* Start a new batch (drops anything queued and not committed). */
void nftx_batch_begin(struct nftx *n);
/* Room for one more message of the batch: its header is built with the next
 * sequence number; what names the object for error messages. Finish it with
 * nftx_msg_end after filling the payload. NULL on allocation failure. */
struct nlmsghdr *nftx_msg_begin(struct nftx *n, uint16_t type, uint16_t flags,
				const char *what);
void nftx_msg_end(struct nftx *n, struct nlmsghdr *nlh);
/* Number of messages queued in the current batch. */
unsigned nftx_batch_size(const struct nftx *n);
/* Send the batch as one transaction and read a reply for every message.
 * The first failure is reported in e (its object and the kernel's
 * extended-ack text) and the kernel has then applied nothing. */
int nftx_batch_commit(struct nftx *n, struct nsg_err *e);

/* The same without committing: the kernel checks every message of the
 * batch as it would for a commit, replies to each, and applies nothing (a
 * batch without its end message, as `nft -c` sends). For `nsgate doctor`'s
 * look at what the kernel supports. */
int nftx_batch_check(struct nftx *n, struct nsg_err *e);

/* 1 if the table exists, 0 if not, -errno. */
int nftx_table_exists(struct nftx *n, uint16_t family, const char *table);
/* 1 if the chain exists in the table, 0 if either is missing, or -errno. */
int nftx_chain_exists(struct nftx *n, uint16_t family, const char *table, const char *chain);

/* One request the caller built (a GET, or a dump: NLM_F_DUMP), outside any
 * batch: its sequence number is set here, and cb (may be NULL) sees each
 * data message of the reply, as libmnl's mnl_cb_t. 0, or -errno (-ENOENT:
 * no such table or chain). */
int nftx_request(struct nftx *n, struct nlmsghdr *req,
		 int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);

/* One element of a set or map, as read back or to be written. */
struct nftx_elem {
	const void *key;
	uint32_t key_len;
	const void *data;       /* NULL for plain sets */
	uint32_t data_len;
	const char *comment;    /* the owning gateway's name; NULL for none */
};

/* Queue NEWSETELEM (del=false) or DELSETELEM messages for elems into the batch,
 * as many elements per message as fit. */
int nftx_elems_queue(struct nftx *n, uint16_t family, const char *table, const char *set,
		     const struct nftx_elem *elems, size_t n_elems, bool del);

/* Call cb for every element of a set (keys and data point into a buffer that
 * lives only during the call). cb returns 0 to go on, < 0 to stop with that
 * error. -ENOENT when the set (or table) does not exist. */
typedef int (*nftx_elem_cb)(const struct nftx_elem *elem, void *userdata);
int nftx_elems_dump(struct nftx *n, uint16_t family, const char *table, const char *set,
		    nftx_elem_cb cb, void *userdata);

/* Look one element up by its key: 1 (cb called with it), 0 when absent, -errno. */
int nftx_elem_get(struct nftx *n, uint16_t family, const char *table, const char *set,
		  const void *key, uint32_t key_len, nftx_elem_cb cb, void *userdata);

/* Call cb with the chain name of every rule of a table. -ENOENT without one. */
typedef void (*nftx_rule_cb)(const char *chain, void *userdata);
int nftx_rules_dump(struct nftx *n, uint16_t family, const char *table, nftx_rule_cb cb,
		    void *userdata);

#endif
