/* SPDX-License-Identifier: MIT */
#ifndef NSGATE_LINK_INTERNAL_H
#define NSGATE_LINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct nl_sock;

/*
 * Inside the link module only: link.c and route.c share one rtnetlink
 * transaction helper, which keeps the kernel's exact errno and its
 * extended-ack text where libnl's own calls would fold them into NLE_*.
 */
struct nl_msg;
struct nl_object;
struct nlmsghdr;

/* A dump that raced with a change is redone; this bounds the retries. */
#define LINK_DUMP_ATTEMPTS 4

/* State of one request/reply exchange. */
struct link_txn {
	/* Called for each object in the reply; may be NULL. */
	void (*on_object)(struct nl_object *obj, void *userdata);
	/* Or for each raw message: for dumps of thousands of entries, where
	 * building a libnl object per entry costs more than the kernel does. */
	void (*on_msg)(struct nlmsghdr *nlh, void *userdata);
	void *userdata;
	/* Set by on_msg when the rest of a dump is not wanted; honoured only
	 * with may_stop (the socket is then left with an unfinished dump: a
	 * private one, closed after). */
	bool stop, may_stop;
	bool done;
	int kernel_error;    /* the kernel's errno, negative; 0 when it acked */
	int parse_error;     /* first NLE_* from parsing a reply */
	char why[256];       /* the kernel's extended ack message, if any */
};

/* NLE_* to -errno. */
int link_nle_errno(int nle);
/* Send msg and read until its ack, error or end of dump (dump: no ack asked). */
int link_txn_run(struct nl_sock *sk, struct nl_msg *msg, bool dump, struct link_txn *t);
/* Run a request whose only answer is an ack; the message is consumed, and
 * the kernel's text goes to why. */
int link_txn_simple(struct nl_sock *sk, struct nl_msg *msg, char *why, size_t why_size);
/* The same for a request from a libnl builder, which returned built (an
 * NLE_* code on failure, when there is no message to send). */
int link_txn_built(struct nl_sock *sk, int built, struct nl_msg *msg, char *why, size_t why_size);
/* Dump every object of one type and family; ifindex: only that interface's
 * entries (address dumps), 0 for all. */
int link_dump_txn(struct nl_sock *sk, int type, int family, int ifindex, struct link_txn *txn);

/* Whether sk is in this thread's network namespace. */
bool link_sock_is_local(struct nl_sock *sk);

static inline const char *link_why_or_null(const char *why)
{
	return why && why[0] ? why : NULL;
}

#endif
