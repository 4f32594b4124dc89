/* SPDX-License-Identifier: MIT */
/*
 * Host sockets in the way of a published port, over sock_diag.
 *
 * Each protocol asked about is dumped once per address family (IPv4
 * sockets only when a query is about IPv4 traffic; IPv6 sockets always, as
 * they may take both) and every socket is checked against all queries
 * (sorted by first port, with a running maximum of last ports, so a lookup
 * is a binary search plus the ranges that really contain the port). An
 * IPv6 socket on [::] is looked up once per family of traffic it takes.
 * Only the socket finally reported gets the expensive part: finding its
 * process by scanning /proc.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "nsgate/common.h"
#include "nsgate/fileio.h"
#include "nsgate/listeners.h"
#include "nsgate/nlx.h"

/* The kernel sizes dump skbs by our largest read, capped at 32 KiB. */
#define RECV_ROOM 65536
/* Descriptors looked at when finding a socket's process: a host with more
 * than this many open files gets "unknown process" rather than a long
 * stall (a readlink costs about a microsecond). */
#define PROC_FD_BUDGET 1000000

/* One query of a protocol, in the order ports are searched. */
struct qref {
	uint16_t lo, hi;
	uint16_t max_hi;        /* the largest hi of this and all earlier refs */
	bool v4, v6;            /* the traffic it is about: IPv4, IPv6 or both */
	struct ip_addr addr;    /* the host address; AF_UNSPEC: every one */
	size_t idx;             /* index in the caller's array */
};

/* Where a socket takes traffic: one family, one address or every one. */
struct reach {
	struct ip_addr addr;
	bool any;               /* bound to 0.0.0.0 or [::] */
};

struct scan {
	const struct qref *refs;
	size_t n_refs;
	uint8_t proto;
	bool found;
	size_t best;            /* query index of hit */
	struct listener hit;
};

static int qref_cmp(const void *a, const void *b)
{
	const struct qref *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Whether traffic for q would reach a socket of reach r. */
static bool query_takes(const struct qref *q, const struct reach *r)
{
	if (!(r->addr.family == AF_INET ? q->v4 : q->v6))
		return false;
	return r->any || !ip_addr_is_set(&q->addr) || ip_addr_eq(&q->addr, &r->addr);
}

/* Lowest query index that (r, port) meets; SIZE_MAX for none. */
static size_t query_for(const struct scan *s, const struct reach *r, uint16_t port)
{
	size_t lo = 0, hi = s->n_refs, best = SIZE_MAX;

	/* k = number of refs with lo <= port */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->refs[mid].lo <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = lo; k > 0 && s->refs[k - 1].max_hi >= port; k--) {
		const struct qref *q = &s->refs[k - 1];

		if (q->hi >= port && q->idx < best && query_takes(q, r))
			best = q->idx;
	}
	return best;
}

static void consider(struct scan *s, const struct inet_diag_msg *m, const struct reach *r)
{
	uint16_t port = ntohs(m->id.idiag_sport);
	size_t idx;

	if (!port)
		return;
	idx = query_for(s, r, port);
	/* The lowest port of the first query that has one: the same answer
	 * whatever order the kernel's hash tables list sockets in. */
	if (idx == SIZE_MAX || (s->found && (idx > s->best || (idx == s->best && port >= s->hit.port))))
		return;
	s->found = true;
	s->best = idx;
	s->hit = (struct listener){ .port = port, .inode = m->idiag_inode };
}

/* A socket bound to address bytes a of family: an IPv4 socket takes IPv4
 * traffic; an IPv6 one on [::] IPv6 and, unless v6only, IPv4 too; on
 * ::ffff:a.b.c.d IPv4 for a.b.c.d alone; on any other address IPv6 for it. */
static void consider_addr(struct scan *s, const struct inet_diag_msg *m, int family,
			  const void *a, bool v6only)
{
	struct reach r = { 0 };
	struct in6_addr in6;

	if (family == AF_INET) {
		ip_addr_from_bytes(AF_INET, a, &r.addr);
		r.any = r.addr.v4 == 0;
		consider(s, m, &r);
		return;
	}
	if (family != AF_INET6)
		return;
	memcpy(&in6, a, sizeof(in6));
	if (IN6_IS_ADDR_V4MAPPED(&in6)) {
		ip_addr_from_bytes(AF_INET, &in6.s6_addr[12], &r.addr);
		r.any = r.addr.v4 == 0;  /* ::ffff:0.0.0.0 is 0.0.0.0 */
		consider(s, m, &r);
		return;
	}
	r.any = IN6_IS_ADDR_UNSPECIFIED(&in6);
	if (r.any && !v6only) {
		r.addr = ip_addr_v4(0);
		consider(s, m, &r);
	}
	ip_addr_from_bytes(AF_INET6, &in6, &r.addr);
	consider(s, m, &r);
}

/* SCTP sockets may be bound to several addresses: an array of
 * sockaddr_storage, one per address. */
static void consider_locals(struct scan *s, const struct inet_diag_msg *m,
			    const struct nlattr *locals, bool v6only)
{
	const char *p = mnl_attr_get_payload(locals);
	size_t len = mnl_attr_get_payload_len(locals);

	for (size_t off = 0; off + sizeof(struct sockaddr_storage) <= len;
	     off += sizeof(struct sockaddr_storage)) {
		struct sockaddr_storage ss;

		memcpy(&ss, p + off, sizeof(ss));
		if (ss.ss_family == AF_INET)
			consider_addr(s, m, AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, v6only);
		else if (ss.ss_family == AF_INET6)
			consider_addr(s, m, AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, v6only);
	}
}

static int sock_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan *s = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *locals = NULL;
	bool v6only = false;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return MNL_CB_OK;
	/* A UDP socket in any state has its port; TCP and SCTP take new
	 * connections only in LISTEN (the dump asks for that state alone,
	 * but an SCTP dump also lists endpoints that are merely bound). */
	if (s->proto != IPPROTO_UDP && m->idiag_state != TCP_LISTEN)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*m)) {
		if (mnl_attr_get_type(a) == INET_DIAG_SKV6ONLY &&
		    mnl_attr_validate(a, MNL_TYPE_U8) == 0)
			v6only = mnl_attr_get_u8(a);
		else if (mnl_attr_get_type(a) == INET_DIAG_LOCALS)
			locals = a;
	}
	if (locals)
		consider_locals(s, m, locals, v6only);
	else
		consider_addr(s, m, m->idiag_family, m->id.idiag_src, v6only);
	return MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, uint32_t seq, uint8_t family, uint16_t only_port,
		char *buf, struct scan *s)
{
	char msg[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg);
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = s->proto;
	req->idiag_states = s->proto == IPPROTO_UDP ? ~0U : 1U << TCP_LISTEN;
	/* The kernel filters on the local port itself when told one. */
	req->id.idiag_sport = htons(only_port);
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return nlx_talk(nl, nlh, buf, RECV_ROOM, sock_cb, s);
}

/* The first process (in /proc order) holding socket inode, within budget. */
static void find_owner(uint32_t inode, struct listener *l)
{
	char want[32], link[64];
	size_t budget = PROC_FD_BUDGET;
	int want_len;
	struct dirent *de;
	DIR *proc;

	want_len = snprintf(want, sizeof(want), "socket:[%u]", inode);
	proc = opendir("/proc");
	if (!proc)
		return;
	while (!l->pid && budget > 0 && (de = readdir(proc))) {
		char path[64], *end;
		struct dirent *fe;
		long pid;
		DIR *fds;
		int fd;

		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (errno || *end || pid <= 0 || pid > INT32_MAX)
			continue;  /* not a process */
		snprintf(path, sizeof(path), "%ld/fd", pid);
		fd = openat(dirfd(proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;  /* gone, or not ours to look at */
		fds = fdopendir(fd);
		if (!fds) {
			close(fd);
			continue;
		}
		while (budget > 0 && (fe = readdir(fds))) {
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			budget--;
			n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link));
			if (n == want_len && !memcmp(link, want, (size_t)n)) {
				l->pid = (pid_t)pid;
				break;
			}
		}
		closedir(fds);
	}
	if (l->pid) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/comm", (int)l->pid);
		int n = file_read_small(path, l->comm, sizeof(l->comm));

		/* A name of 15 characters and its newline fill comm: -EFBIG, cut. */
		if (n >= 0 || n == -EFBIG)
			l->comm[strcspn(l->comm, "\n")] = '\0';
		else
			l->comm[0] = '\0';
	}
	closedir(proc);
}

static bool proto_ok(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* Dump proto against its queries: IPv6 sockets always (dual-stack ones
 * take IPv4 too), IPv4 ones when a query is about IPv4 traffic. The best
 * hit so far (lowest query index) is in s. */
static int scan_proto(struct mnl_socket *nl, uint32_t *seq, const struct portmap *q,
		      size_t n, bool ipv6, struct qref *refs, char *buf, struct scan *s)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	uint16_t only_port = 0;
	bool want_v4 = false;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		bool bound = ip_addr_is_set(&q[i].host_addr);

		if (q[i].proto != s->proto)
			continue;
		refs[k] = (struct qref){ .lo = q[i].host_port,
					 .hi = (uint16_t)(q[i].host_port + q[i].count - 1),
					 .v4 = !bound || ip_addr_is_v4(&q[i].host_addr),
					 .v6 = bound ? q[i].host_addr.family == AF_INET6 : ipv6,
					 .addr = q[i].host_addr, .idx = i };
		want_v4 |= refs[k++].v4;
	}
	if (!k)
		return 0;
	qsort(refs, k, sizeof(*refs), qref_cmp);
	for (size_t i = 0; i < k; i++)
		refs[i].max_hi = i && refs[i - 1].max_hi > refs[i].hi ? refs[i - 1].max_hi : refs[i].hi;
	if (k == 1 && refs[0].lo == refs[0].hi)
		only_port = refs[0].lo;
	s->refs = refs;
	s->n_refs = k;

	for (size_t f = want_v4 ? 0 : 1; f < ARRAY_SIZE(families); f++) {
		int r = dump(nl, (*seq)++, families[f], only_port, buf, s);

		/* No sctp_diag (or no SCTP at all): no SCTP sockets to find. */
		if (s->proto == IPPROTO_SCTP && (r == -ENOENT || r == -EOPNOTSUPP || r == -EINVAL))
			return 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* A query the scan can answer: a known protocol, ports within 1..65535, and
 * a host address that is IPv4, IPv6 or none. */
static int query_check(const struct portmap *q)
{
	if (!proto_ok(q->proto) || q->count < 1 || q->host_port + q->count - 1 > 65535)
		return -EINVAL;
	if (ip_addr_is_set(&q->host_addr) && q->host_addr.family != AF_INET &&
	    q->host_addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	return 0;
}

int listeners_find_any(const struct portmap *q, size_t n, bool ipv6, struct listener *ret,
		       size_t *which)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	_cleanup_free_ struct qref *refs = NULL;
	_cleanup_free_ char *buf = NULL;
	struct listener best = { 0 };
	size_t best_idx = SIZE_MAX;
	_cleanup_(nlx_closep) struct mnl_socket *nl = NULL;
	uint32_t seq;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		r = query_check(&q[i]);
		if (r < 0)
			return r;
	}
	if (!n)
		return 0;
	refs = reallocarray(NULL, n, sizeof(*refs));
	buf = malloc(RECV_ROOM);
	if (!refs || !buf)
		return -ENOMEM;

	r = nlx_open(NETLINK_SOCK_DIAG, &nl);
	if (r < 0)
		return r;
	seq = (uint32_t)time(NULL);

	for (size_t p = 0; p < ARRAY_SIZE(protos); p++) {
		struct scan s = { .proto = protos[p] };

		r = scan_proto(nl, &seq, q, n, ipv6, refs, buf, &s);
		if (r < 0)
			break;
		if (s.found && s.best < best_idx) {
			best_idx = s.best;
			best = s.hit;
		}
	}
	nlx_close(TAKE_PTR(nl));
	if (r < 0)
		return r;
	if (best_idx == SIZE_MAX)
		return 0;
	find_owner(best.inode, &best);
	if (ret)
		*ret = best;
	if (which)
		*which = best_idx;
	return 1;
}
