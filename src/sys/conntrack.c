/* SPDX-License-Identifier: MIT */
/*
 * Deleting the conntrack entries of removed port mappings, over ctnetlink.
 *
 * The table is dumped once and every entry is looked up among the mappings
 * (sorted, binary search on proto and port), so 10,000 mappings against a
 * large table cost one pass. The victims are then deleted by exact original
 * tuple and entry id: the id makes the kernel refuse (ENOENT) an entry that
 * was replaced by a new flow with the same tuple since the dump, and the
 * tuple must always be there, because a DELETE without one flushes the
 * whole table.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "nsgate/conntrack.h"
#include "nsgate/nft.h"
#include "nsgate/nlx.h"
#include "nsgate/sysctl.h"

/*
 * Deletes in flight at once. Every ack is its own skb in our receive queue
 * (about 1 KiB of truesize); if the queue overflows the kernel drops acks
 * and we could no longer count them. 64 stays far below the default
 * rmem_default and still turns 10,000 deletes into ~160 round trips.
 */
#define DELETE_WINDOW 64
/* Room for one DELETE: headers, three nests, two IPv6 addresses and five
 * small attributes (about 120 bytes). */
#define DELETE_MSG_ROOM 256
/* The kernel sizes dump skbs by our largest read, capped at 32 KiB. */
#define RECV_ROOM 65536

enum {
	HAVE_SRC = 1 << 0,
	HAVE_DST = 1 << 1,
	HAVE_PROTO = 1 << 2,
	HAVE_SPORT = 1 << 3,
	HAVE_DPORT = 1 << 4,
	HAVE_ALL = (1 << 5) - 1,
};

/* One direction of an entry; ports in network byte order as ctnetlink
 * gives them. */
struct ct_tuple {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	bool has_zone;          /* CTA_TUPLE_ZONE: a zone for this direction only */
	uint16_t zone;
	unsigned have;
};

/* What a DELETE of one entry needs. */
struct ct_victim {
	struct ct_tuple orig;
	bool has_zone;          /* CTA_ZONE: a zone for both directions */
	uint16_t zone;
	bool has_id;
	uint32_t id;
};

/* One port of a mapping, ports in host byte order; host_addr AF_UNSPEC:
 * any (of to_addr's family). */
struct ct_map {
	struct ip_addr host_addr;
	struct ip_addr to_addr;
	uint16_t host_port;
	uint16_t to_port;
	uint8_t proto;
};

struct dump_ctx {
	const struct ct_map *maps;      /* sorted by (proto, host_port) */
	size_t n_maps;
	struct ct_victim *v;
	size_t n_v, cap_v;
	int err;
};

static int map_cmp(const void *a, const void *b)
{
	const struct ct_map *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->host_port != y->host_port)
		return x->host_port < y->host_port ? -1 : 1;
	return 0;
}

/* First mapping at or after (proto, port). */
static size_t lower_bound(const struct ct_map *m, size_t n, uint8_t proto, uint16_t port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m[mid].proto < proto || (m[mid].proto == proto && m[mid].host_port < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* CTA_TUPLE_IP: the addresses of either family, as the attributes' sizes
 * say (4 or 16 bytes). */
static void parse_tuple_ip(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *b;

	mnl_attr_for_each_nested(b, nest) {
		int family;
		bool src;

		switch (mnl_attr_get_type(b)) {
		case CTA_IP_V4_SRC: family = AF_INET, src = true; break;
		case CTA_IP_V4_DST: family = AF_INET, src = false; break;
		case CTA_IP_V6_SRC: family = AF_INET6, src = true; break;
		case CTA_IP_V6_DST: family = AF_INET6, src = false; break;
		default: continue;
		}
		if (mnl_attr_validate2(b, MNL_TYPE_BINARY, ip_family_len(family)) < 0)
			continue;
		ip_addr_from_bytes(family, mnl_attr_get_payload(b), src ? &t->src : &t->dst);
		t->have |= src ? HAVE_SRC : HAVE_DST;
	}
}

static void parse_tuple(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *a, *b;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_IP:
			parse_tuple_ip(a, t);
			break;
		case CTA_TUPLE_PROTO:
			mnl_attr_for_each_nested(b, a) {
				switch (mnl_attr_get_type(b)) {
				case CTA_PROTO_NUM:
					if (mnl_attr_validate(b, MNL_TYPE_U8) == 0) {
						t->proto = mnl_attr_get_u8(b);
						t->have |= HAVE_PROTO;
					}
					break;
				case CTA_PROTO_SRC_PORT:
					if (mnl_attr_validate(b, MNL_TYPE_U16) == 0) {
						t->sport = mnl_attr_get_u16(b);
						t->have |= HAVE_SPORT;
					}
					break;
				case CTA_PROTO_DST_PORT:
					if (mnl_attr_validate(b, MNL_TYPE_U16) == 0) {
						t->dport = mnl_attr_get_u16(b);
						t->have |= HAVE_DPORT;
					}
					break;
				}
			}
			break;
		case CTA_TUPLE_ZONE:
			if (mnl_attr_validate(a, MNL_TYPE_U16) == 0) {
				t->zone = mnl_attr_get_u16(a);
				t->has_zone = true;
			}
			break;
		}
	}
}

static bool entry_matches(const struct dump_ctx *d, const struct ct_tuple *o,
			  const struct ct_tuple *r)
{
	uint16_t port = ntohs(o->dport);

	for (size_t i = lower_bound(d->maps, d->n_maps, o->proto, port);
	     i < d->n_maps && d->maps[i].proto == o->proto && d->maps[i].host_port == port; i++) {
		const struct ct_map *m = &d->maps[i];

		if (ip_addr_is_set(&m->host_addr) && !ip_addr_eq(&m->host_addr, &o->dst))
			continue;
		if (ip_addr_eq(&m->to_addr, &r->src) && m->to_port == ntohs(r->sport))
			return true;
	}
	return false;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct ct_tuple orig = { 0 }, reply = { 0 };
	const struct nlattr *a;
	bool has_status = false, has_zone = false, has_id = false;
	uint32_t status = 0, id = 0;
	uint16_t zone = 0;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != IPCTNL_MSG_CT_NEW)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_ORIG:
			parse_tuple(a, &orig);
			break;
		case CTA_TUPLE_REPLY:
			parse_tuple(a, &reply);
			break;
		case CTA_STATUS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				status = ntohl(mnl_attr_get_u32(a));
				has_status = true;
			}
			break;
		case CTA_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				id = mnl_attr_get_u32(a);
				has_id = true;
			}
			break;
		case CTA_ZONE:
			if (mnl_attr_validate(a, MNL_TYPE_U16) == 0) {
				zone = mnl_attr_get_u16(a);
				has_zone = true;
			}
			break;
		}
	}
	if (orig.have != HAVE_ALL || reply.have != HAVE_ALL)
		return MNL_CB_OK;  /* a protocol without ports */
	/* Never DNAT across families: a mapping's to_addr is of its family. */
	if (orig.src.family != orig.dst.family || reply.src.family != orig.dst.family)
		return MNL_CB_OK;
	/* A flow that went straight to to_addr:to_port (same port number as
	 * the published one) has the same tuples but was never translated. */
	if (has_status && !(status & IPS_DST_NAT))
		return MNL_CB_OK;
	if (!entry_matches(d, &orig, &reply))
		return MNL_CB_OK;

	if (GROW(d->v, d->cap_v, d->n_v + 1) < 0) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	d->v[d->n_v++] = (struct ct_victim){ .orig = orig, .has_zone = has_zone, .zone = zone,
					     .has_id = has_id, .id = id };
	return MNL_CB_OK;
}

/* family AF_UNSPEC: every family in one walk of the table. */
static int dump_table(struct mnl_socket *nl, uint32_t seq, uint8_t family, char *buf,
		      struct dump_ctx *d)
{
	char req[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct nfgenmsg *nfg;
	int r;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;  /* the kernel skips entries of other families */
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	r = nlx_talk(nl, nlh, buf, RECV_ROOM, entry_cb, d);
	return d->err ? d->err : r;
}

static struct nlmsghdr *put_delete(char *buf, uint32_t seq, const struct ct_victim *v)
{
	struct nlmsghdr *nlh;
	struct nlattr *tuple, *nest;
	struct nfgenmsg *nfg;
	uint8_t a[16];
	unsigned len;

	/* libmnl does not clear the padding after a u8 or u16 attribute. */
	memset(buf, 0, DELETE_MSG_ROOM);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = v->orig.dst.family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;

	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	len = ip_addr_to_bytes(&v->orig.src, a);
	mnl_attr_put(nlh, len == 16 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, len, a);
	len = ip_addr_to_bytes(&v->orig.dst, a);
	mnl_attr_put(nlh, len == 16 ? CTA_IP_V6_DST : CTA_IP_V4_DST, len, a);
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, v->orig.proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, v->orig.sport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, v->orig.dport);
	mnl_attr_nest_end(nlh, nest);
	if (v->orig.has_zone)
		mnl_attr_put_u16(nlh, CTA_TUPLE_ZONE, v->orig.zone);
	mnl_attr_nest_end(nlh, tuple);
	if (v->has_zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, v->zone);
	if (v->has_id)
		mnl_attr_put_u32(nlh, CTA_ID, v->id);
	return nlh;
}

/* Name the entry a delete failed for, with the kernel's text if it gave one. */
static void note_error(const struct nlmsghdr *nlh, const struct ct_victim *v, struct nsg_err *e)
{
	char src[IP_ADDR_STRLEN], dst[IP_ADDR_STRLEN];
	bool v6 = v->orig.dst.family == AF_INET6;

	if (!e || e->code)
		return;
	ip_addr_str(&v->orig.src, src);
	ip_addr_str(&v->orig.dst, dst);
	nsg_fail(e, nlx_error(nlh), NULL, "conntrack entry %s %s%s%s:%u -> %s%s%s:%u",
		 portmap_proto_name(v->orig.proto), v6 ? "[" : "", src, v6 ? "]" : "",
		 ntohs(v->orig.sport), v6 ? "[" : "", dst, v6 ? "]" : "", ntohs(v->orig.dport));
	nlx_why(e, nlh);
}

/* The acks of one window of deletes, numbered from seq0. */
struct window {
	uint32_t seq0;
	const struct ct_victim *v;
	size_t n;
	size_t *n_deleted;
	struct nsg_err *e;
	int first_err;
};

static int delete_ack(const struct nlmsghdr *nlh, int err, void *data)
{
	struct window *w = data;
	uint32_t k = nlh->nlmsg_seq - w->seq0;

	if (k >= w->n)
		return NLX_ACK_OTHER;
	if (err == 0)
		(*w->n_deleted)++;
	else if (err != -ENOENT) {
		/* Gone meanwhile (timed out, closed, replaced) is what we
		 * wanted; anything else is reported. */
		note_error(nlh, &w->v[k], w->e);
		if (!w->first_err)
			w->first_err = err;
	}
	return NLX_ACK_ONE;
}

/* Send up to DELETE_WINDOW deletes in one write and read an ack for each. */
static int delete_window(struct mnl_socket *nl, uint32_t seq0, const struct ct_victim *v,
			 size_t n, char *sbuf, char *rbuf, size_t *n_deleted, struct nsg_err *e)
{
	struct window w = { .seq0 = seq0, .v = v, .n = n, .n_deleted = n_deleted, .e = e };
	size_t len = 0;
	int r;

	for (size_t i = 0; i < n; i++)
		len += put_delete(sbuf + len, seq0 + (uint32_t)i, &v[i])->nlmsg_len;
	if (mnl_socket_sendto(nl, sbuf, len) < 0)
		return nsg_fail(e, -errno, NULL, "conntrack: sending deletes");

	r = nlx_acks(nl, rbuf, RECV_ROOM, n, delete_ack, &w);
	if (r < 0)
		return nsg_fail(e, r, NULL, "conntrack: reading delete acks");
	return w.first_err;
}

/*
 * The dump walks every bucket of the hash table even when it holds nothing
 * (262,144 on a 24 GiB machine: ~10 ms). The namespace's entry count is one
 * read away, and with no entry at all there is nothing to forget. A flow
 * that starts after the read cannot be one of ours: the callers removed the
 * mappings before calling. Unreadable (no conntrack module): not empty, so
 * the dump decides.
 */
static bool table_is_empty(void)
{
	char buf[32];

	return sysctl_read("net/netfilter/nf_conntrack_count", buf, sizeof(buf)) == 0 &&
	       !strcmp(buf, "0");
}

/* The mappings port by port, sorted for lookup; *family: the one family
 * they all have, or AF_UNSPEC when they have both. */
static int expand_maps(const struct portmap *maps, size_t n, struct ct_map **ret, size_t *n_ret,
		       uint8_t *family)
{
	size_t total = portmap_count_ports(maps, n), k = 0;
	struct ct_map *v;

	*family = n ? maps[0].to_addr.family : AF_UNSPEC;
	for (size_t i = 0; i < n; i++) {
		sa_family_t f = maps[i].to_addr.family;

		if ((f != AF_INET && f != AF_INET6) ||
		    (ip_addr_is_set(&maps[i].host_addr) && maps[i].host_addr.family != f))
			return -EAFNOSUPPORT;
		if (f != *family)
			*family = AF_UNSPEC;
	}
	v = reallocarray(NULL, total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct portmap *m = &maps[i];

		for (uint32_t j = 0; j < m->count; j++)
			v[k++] = (struct ct_map){ .host_addr = m->host_addr, .to_addr = m->to_addr,
						  .host_port = m->host_port + j, .to_port = m->port + j,
						  .proto = m->proto };
	}
	qsort(v, k, sizeof(*v), map_cmp);
	*ret = v;
	*n_ret = k;
	return 0;
}

int conntrack_delete_dnat(const struct portmap *maps, size_t n, size_t *n_deleted,
			  struct nsg_err *e)
{
	struct dump_ctx d = { 0 };
	struct mnl_socket *nl = NULL;
	_cleanup_free_ struct ct_map *sorted = NULL;
	_cleanup_free_ char *rbuf = NULL, *sbuf = NULL;
	size_t deleted = 0;
	uint8_t family;
	uint32_t seq;
	int r;

	if (n_deleted)
		*n_deleted = 0;
	r = expand_maps(maps, n, &sorted, &d.n_maps, &family);
	if (r == -EAFNOSUPPORT)
		return nsg_fail(e, r,
				"a mapping's target must be IPv4 or IPv6, its host address of the same family",
				"conntrack");
	if (r < 0)
		return nsg_fail(e, r, NULL, "conntrack");
	if (!d.n_maps || table_is_empty())
		return 0;

	rbuf = malloc(RECV_ROOM);
	sbuf = malloc(DELETE_WINDOW * DELETE_MSG_ROOM);
	if (!rbuf || !sbuf)
		return nsg_fail(e, -ENOMEM, NULL, "conntrack");
	d.maps = sorted;

	r = nlx_open(NETLINK_NETFILTER, &nl);
	if (r < 0)
		return nsg_fail(e, r, NULL, "conntrack: netlink socket");
	seq = (uint32_t)time(NULL);

	r = dump_table(nl, seq++, family, rbuf, &d);
	if (r < 0) {
		nsg_fail(e, r, NULL, "conntrack: dumping the %s table",
			 family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "IPv4 and IPv6");
		goto out;
	}
	for (size_t i = 0; i < d.n_v; i += DELETE_WINDOW) {
		size_t k = d.n_v - i < DELETE_WINDOW ? d.n_v - i : DELETE_WINDOW;

		r = delete_window(nl, seq, d.v + i, k, sbuf, rbuf, &deleted, e);
		seq += (uint32_t)k;
		if (r < 0)
			break;
	}
out:
	if (n_deleted)
		*n_deleted = deleted;
	free(d.v);
	/* It is a netfilter socket too: its release would wait for the
	 * nftables work of the commit just before (see nft.c). */
	nftx_netfilter_close(nl, true);
	return r;
}
