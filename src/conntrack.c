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

/*
 * Deletes in flight at once. Every ack is its own skb in our receive queue
 * (about 1 KiB of truesize); if the queue overflows the kernel drops acks
 * and we could no longer count them. 64 stays far below the default
 * rmem_default and still turns 10,000 deletes into ~160 round trips.
 */
#define DELETE_WINDOW 64
/* Room for one DELETE: headers, two nests and five small attributes. */
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

/* One direction of an entry, in network byte order as ctnetlink gives it. */
struct ct_tuple {
	uint32_t src, dst;
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

struct dump_ctx {
	const struct ct_dnat *maps;     /* sorted by (proto, host_port) */
	size_t n_maps;
	struct ct_victim *v;
	size_t n_v, cap_v;
	int err;
};

static int map_cmp(const void *a, const void *b)
{
	const struct ct_dnat *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->host_port != y->host_port)
		return x->host_port < y->host_port ? -1 : 1;
	return 0;
}

/* First mapping at or after (proto, port). */
static size_t lower_bound(const struct ct_dnat *m, size_t n, uint8_t proto, uint16_t port)
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

static void parse_tuple(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr *a, *b;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_IP:
			mnl_attr_for_each_nested(b, a) {
				if (mnl_attr_validate(b, MNL_TYPE_U32) < 0)
					continue;  /* CTA_IP_V6_*: not ours */
				if (mnl_attr_get_type(b) == CTA_IP_V4_SRC) {
					t->src = mnl_attr_get_u32(b);
					t->have |= HAVE_SRC;
				} else if (mnl_attr_get_type(b) == CTA_IP_V4_DST) {
					t->dst = mnl_attr_get_u32(b);
					t->have |= HAVE_DST;
				}
			}
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
		const struct ct_dnat *m = &d->maps[i];

		if (m->host_addr && m->host_addr != ntohl(o->dst))
			continue;
		if (m->to_addr == ntohl(r->src) && m->to_port == ntohs(r->sport))
			return true;
	}
	return false;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct ct_tuple orig = { 0 }, reply = { 0 };
	struct ct_victim *v;
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
		return MNL_CB_OK;  /* not IPv4, or a protocol without ports */
	/* A flow that went straight to to_addr:to_port (same port number as
	 * the published one) has the same tuples but was never translated. */
	if (has_status && !(status & IPS_DST_NAT))
		return MNL_CB_OK;
	if (!entry_matches(d, &orig, &reply))
		return MNL_CB_OK;

	if (d->n_v == d->cap_v) {
		size_t cap = d->cap_v ? 2 * d->cap_v : 64;

		v = reallocarray(d->v, cap, sizeof(*v));
		if (!v) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = v;
		d->cap_v = cap;
	}
	d->v[d->n_v++] = (struct ct_victim){ .orig = orig, .has_zone = has_zone, .zone = zone,
					     .has_id = has_id, .id = id };
	return MNL_CB_OK;
}

/* With a control array of our own, libmnl calls nothing else for control
 * messages: an error reply must be handled here too. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*me)) {
		d->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!me->error)
		return MNL_CB_STOP;
	d->err = me->error;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE of a dump carries the dump's own error, which libmnl ignores. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err = *(const int *)mnl_nlmsg_get_payload(nlh);

		if (err < 0) {
			d->err = err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int dump_table(struct mnl_socket *nl, uint32_t portid, uint32_t seq, char *buf,
		      struct dump_ctx *d)
{
	/* libmnl takes the array non-const, so it lives on the stack. */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	ssize_t r;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;  /* the kernel then skips other families */
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		r = mnl_socket_recvfrom(nl, buf, RECV_ROOM);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		errno = 0;
		r = mnl_cb_run2(buf, r, seq, portid, entry_cb, d, ctl, ARRAY_SIZE(ctl));
		if (r == MNL_CB_ERROR)
			return d->err ? d->err : errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *put_delete(char *buf, uint32_t seq, const struct ct_victim *v)
{
	struct nlmsghdr *nlh;
	struct nlattr *tuple, *nest;
	struct nfgenmsg *nfg;

	/* libmnl does not clear the padding after a u8 or u16 attribute. */
	memset(buf, 0, DELETE_MSG_ROOM);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;

	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, v->orig.src);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, v->orig.dst);
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

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		return "?";
	}
}

/* Name the entry a delete failed for, with the kernel's text if it gave one. */
static void note_error(const struct nlmsghdr *nlh, const struct ct_victim *v, struct nsg_err *e)
{
	const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	const struct nlattr *attr;
	size_t off;

	if (!e || e->code)
		return;
	inet_ntop(AF_INET, &v->orig.src, src, sizeof(src));
	inet_ntop(AF_INET, &v->orig.dst, dst, sizeof(dst));
	nsg_fail(e, me->error, NULL, "conntrack entry %s %s:%u -> %s:%u", proto_name(v->orig.proto),
		 src, ntohs(v->orig.sport), dst, ntohs(v->orig.dport));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* With NETLINK_CAP_ACK only the request's header is echoed back. */
	off = sizeof(*me);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += me->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (off > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_for_each_payload((const void *)((const char *)me + off),
				  mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			nsg_why(e, "%s (%s)", strerror(-me->error), mnl_attr_get_str(attr));
	}
}

/* Send up to DELETE_WINDOW deletes in one write and read an ack for each. */
static int delete_window(struct mnl_socket *nl, uint32_t portid, uint32_t seq0,
			 const struct ct_victim *v, size_t n, char *sbuf, char *rbuf,
			 size_t *n_deleted, struct nsg_err *e)
{
	size_t len = 0, pending = n;
	int first_err = 0;

	for (size_t i = 0; i < n; i++)
		len += put_delete(sbuf + len, seq0 + (uint32_t)i, &v[i])->nlmsg_len;
	if (mnl_socket_sendto(nl, sbuf, len) < 0)
		return nsg_fail(e, -errno, NULL, "conntrack: sending deletes");

	while (pending > 0) {
		const struct nlmsghdr *nlh;
		ssize_t r = mnl_socket_recvfrom(nl, rbuf, RECV_ROOM);
		int left;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return nsg_fail(e, -errno, NULL, "conntrack: reading delete acks");
		}
		left = (int)r;
		for (nlh = (const struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *me = mnl_nlmsg_get_payload(nlh);
			uint32_t k = nlh->nlmsg_seq - seq0;

			if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != portid ||
			    mnl_nlmsg_get_payload_len(nlh) < sizeof(*me) || k >= n)
				continue;
			pending--;
			if (me->error == 0)
				(*n_deleted)++;
			else if (me->error != -ENOENT) {
				/* Gone meanwhile (timed out, closed, replaced) is
				 * what we wanted; anything else is reported. */
				note_error(nlh, &v[k], e);
				if (!first_err)
					first_err = me->error;
			}
		}
	}
	return first_err;
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
	ssize_t len;
	int fd = open("/proc/sys/net/netfilter/nf_conntrack_count", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	return !strcmp(buf, "0\n") || !strcmp(buf, "0");
}

int conntrack_delete_dnat(const struct ct_dnat *maps, size_t n, size_t *n_deleted,
			  struct nsg_err *e)
{
	struct dump_ctx d = { 0 };
	struct mnl_socket *nl = NULL;
	_cleanup_free_ struct ct_dnat *sorted = NULL;
	_cleanup_free_ char *rbuf = NULL, *sbuf = NULL;
	size_t deleted = 0;
	uint32_t portid, seq;
	int one = 1, r;

	if (n_deleted)
		*n_deleted = 0;
	if (!n || table_is_empty())
		return 0;

	sorted = reallocarray(NULL, n, sizeof(*sorted));
	rbuf = malloc(RECV_ROOM);
	sbuf = malloc(DELETE_WINDOW * DELETE_MSG_ROOM);
	if (!sorted || !rbuf || !sbuf)
		return nsg_fail(e, -ENOMEM, NULL, "conntrack");
	memcpy(sorted, maps, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), map_cmp);
	d.maps = sorted;
	d.n_maps = n;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return nsg_fail(e, -errno, NULL, "conntrack: netlink socket");
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = nsg_fail(e, -errno, NULL, "conntrack: netlink socket");
		goto out;
	}
	/* The kernel's reason for a refusal, and no echo of our message in it. */
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	portid = mnl_socket_get_portid(nl);
	seq = (uint32_t)time(NULL);

	r = dump_table(nl, portid, seq++, rbuf, &d);
	if (r < 0) {
		nsg_fail(e, r, NULL, "conntrack: dumping the IPv4 table");
		goto out;
	}
	for (size_t i = 0; i < d.n_v; i += DELETE_WINDOW) {
		size_t k = d.n_v - i < DELETE_WINDOW ? d.n_v - i : DELETE_WINDOW;

		r = delete_window(nl, portid, seq, d.v + i, k, sbuf, rbuf, &deleted, e);
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
