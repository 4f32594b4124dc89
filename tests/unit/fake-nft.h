/* SPDX-License-Identifier: MIT */
/*
 * A fake kernel for the ruleset tests: libmnl's socket calls made by nft.c
 * are redirected here (-Wl,--wrap), each request or batch is kept for the
 * test to decode, and answered as the kernel would (acks, refusals with an
 * extended-ack text, set-element dumps). No socket is opened.
 */
#ifndef NSGATE_FAKE_NFT_H
#define NSGATE_FAKE_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

struct nlmsghdr;

#define FAKE_PORTID 4242u
#define MAX_ELEMS 8

struct fake_elem {
	char key[2 * IFNAMSIZ];
	uint32_t key_len;
	const char *comment;
	char data[2 * IFNAMSIZ];   /* a map's; data_len 0 for a plain set */
	uint32_t data_len;
};

struct fake_set {
	const char *name;
	struct fake_elem elems[MAX_ELEMS];
	size_t n;
};

struct fake_kernel {
	char sock;                 /* its address is the one fake socket */
	int open;
	/* The last request or batch sent, kept for the tests to decode. */
	char *sent;
	size_t sent_len;
	/* The answer to it, handed out by the next recvfrom. */
	char reply[1 << 16];
	size_t reply_len, reply_off;
	/* How to answer. */
	int fail_index;            /* batch message (0 = first after begin) to refuse, or -1 */
	int fail_err;
	const char *fail_text;     /* extended-ack text, or NULL */
	int refuse_batch;          /* refuse the whole batch, as without CAP_NET_ADMIN */
	bool table_exists;
	/* What GETSETELEM dumps (or, asked for one key, finds) and GETSET
	 * finds; NULL name ends. */
	struct fake_set *sets;
	/* GETCHAIN finds every chain of a table with sets, but this one. */
	const char *missing_chain;
};
extern struct fake_kernel fk;

/* The messages of the last request, batch framing included. */
struct sent_msg {
	const struct nlmsghdr *nlh;
	uint16_t type;             /* NFT_MSG_*, or the NFNL_MSG_BATCH_* value */
};
size_t sent_msgs(struct sent_msg *out, size_t max);

/* One element message: its set, and its first element's key, data and
 * comment. */
struct elem_msg {
	char set[32];
	char key[2 * IFNAMSIZ];
	uint32_t key_len;
	char data[2 * IFNAMSIZ];
	uint32_t data_len;
	char comment[32];
	size_t n_elems;
};
void decode_elems(const struct nlmsghdr *nlh, struct elem_msg *ret);
/* Every element of an element message (up to max; returns how many it
 * holds), read attribute by attribute: libnftnl 1.2.4 parses no message of
 * several elements back (its builder numbers the nests 1, 2, ..., its
 * parser takes only NFTA_LIST_ELEM). Comments point into the message. */
size_t decode_elem_list(const struct nlmsghdr *nlh, char set[32], struct fake_elem *out,
			size_t max);

/* An interface name as a 16-byte set key. */
void ifkey(char key[IFNAMSIZ], const char *name);

#endif
