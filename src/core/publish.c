/* SPDX-License-Identifier: MIT */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/conntrack.h"
#include "nsgate/listeners.h"
#include "nsgate/publish.h"

/* An address the host answers on: one of its interfaces' addresses, or
 * anything in 127.0.0.0/8 (all of it is local through lo). */
static int addr_is_local(uint32_t addr)
{
	struct ifaddrs *ifa, *i;
	bool found = (addr >> 24) == 127;

	if (found)
		return 1;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && !found; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			found = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == addr;
	freeifaddrs(ifa);
	return found;
}

/* First entry of have[] (sorted by proto, host_port) at or after (proto, port). */
static size_t lower_bound(const struct published *have, size_t n, uint8_t proto, uint16_t port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (have[mid].proto < proto || (have[mid].proto == proto && have[mid].host_port < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool addrs_meet(uint32_t a, uint32_t b)
{
	return !a || !b || a == b;
}

/* Host sockets that would silently lose their traffic to the DNAT: one
 * sock_diag dump per protocol for all of req[], however many there are. */
static int check_listeners(const struct publish *req, size_t n_req, struct nsg_err *e)
{
	_cleanup_free_ struct listen_query *q = calloc(n_req ? n_req : 1, sizeof(*q));
	char spec[PUBLISH_STRLEN];
	struct listener l;
	size_t which = 0;
	int r;

	if (!q)
		return -ENOMEM;
	for (size_t i = 0; i < n_req; i++)
		q[i] = (struct listen_query){ .proto = req[i].proto, .addr = req[i].host_addr,
					      .lo = req[i].host_port,
					      .hi = req[i].host_port + req[i].count - 1 };
	r = listeners_find_any(q, n_req, &l, &which);
	if (r <= 0)
		return r < 0 ? nsg_fail(e, r, NULL, "looking for host listeners") : 0;
	nsg_fail(e, -EADDRINUSE, NULL, "publish \"%s\"", spec_publish_str(&req[which], spec));
	if (l.pid)
		nsg_why(e, "host port %u/%s is in use by %s (pid %d); --force takes it anyway", l.port,
			spec_proto_name(req[which].proto), l.comm, (int)l.pid);
	else
		nsg_why(e, "host port %u/%s is in use by a host socket; --force takes it anyway", l.port,
			spec_proto_name(req[which].proto));
	return -EADDRINUSE;
}

static int by_proto_port(const void *a, const void *b)
{
	const struct publish *x = *(const struct publish *const *)a, *y = *(const struct publish *const *)b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

/* Two SPECs of one command claiming a common host port. Sorted by (proto,
 * port), each range only needs comparing with those starting inside it:
 * 10,000 SPECs cost a sort, not 50 million comparisons. */
static int check_overlaps_within(const struct publish *req, size_t n, struct nsg_err *e)
{
	_cleanup_free_ const struct publish **v = calloc(n ? n : 1, sizeof(*v));
	char a[PUBLISH_STRLEN], b[PUBLISH_STRLEN];

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = &req[i];
	qsort(v, n, sizeof(*v), by_proto_port);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n && v[j]->proto == v[i]->proto &&
				       v[j]->host_port < v[i]->host_port + v[i]->count; j++)
			if (spec_publish_overlap(v[i], v[j])) {
				nsg_fail(e, -EINVAL, NULL, "publish \"%s\"", spec_publish_str(v[j], a));
				nsg_why(e, "overlaps \"%s\" in the same command", spec_publish_str(v[i], b));
				return -EINVAL;
			}
	return 0;
}

int publish_check(const char *name, uint32_t to_addr, const struct publish *req, size_t n_req,
		  const struct published *have, size_t n_have, bool force, struct nsg_err *e)
{
	char spec[PUBLISH_STRLEN], a[IP_ADDR_STRLEN];
	int r;

	r = check_overlaps_within(req, n_req, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_req; i++) {
		const struct publish *p = &req[i];
		uint32_t end = p->host_port + p->count;

		spec_publish_str(p, spec);
		if (p->host_addr) {
			r = addr_is_local(p->host_addr);
			if (r < 0)
				return nsg_fail(e, r, NULL, "publish \"%s\": listing host addresses", spec);
			if (!r) {
				struct ip_addr host = ip_addr_v4(p->host_addr);

				nsg_fail(e, -EADDRNOTAVAIL, NULL, "publish \"%s\"", spec);
				nsg_why(e, "%s is not an address of this host", ip_addr_str(&host, a));
				return -EADDRNOTAVAIL;
			}
		}
		for (size_t k = lower_bound(have, n_have, p->proto, p->host_port);
		     k < n_have && have[k].proto == p->proto && have[k].host_port < end; k++) {
			const struct published *h = &have[k];
			uint16_t want = p->port + (h->host_port - p->host_port);

			if (!addrs_meet(h->host_addr, p->host_addr))
				continue;
			if (!strcmp(h->owner, name) && h->host_addr == p->host_addr &&
			    h->to_addr == to_addr && h->to_port == want)
				continue;  /* already there: idempotent */
			nsg_fail(e, -EADDRINUSE, NULL, "publish \"%s\"", spec);
			if (strcmp(h->owner, name))
				nsg_why(e, "host port %u/%s is published by gateway \"%s\"", h->host_port,
					spec_proto_name(h->proto), h->owner);
			else
				nsg_why(e, "host port %u/%s is already published to port %u (unpublish it first)",
					h->host_port, spec_proto_name(h->proto), h->to_port);
			return -EADDRINUSE;
		}
	}
	return force ? 0 : check_listeners(req, n_req, e);
}

int publish_match(const struct publish *req, size_t n_req, const struct published *have,
		  size_t n_have, struct nsg_err *e)
{
	char spec[PUBLISH_STRLEN];

	for (size_t i = 0; i < n_req; i++) {
		const struct publish *p = &req[i];

		for (uint32_t j = 0; j < p->count; j++) {
			uint16_t port = p->host_port + j;
			size_t k = lower_bound(have, n_have, p->proto, port);
			bool found = false;

			for (; k < n_have && have[k].proto == p->proto && have[k].host_port == port; k++)
				if (have[k].host_addr == p->host_addr && have[k].to_port == p->port + j)
					found = true;
			if (!found) {
				nsg_fail(e, -EINVAL, NULL, "unpublish \"%s\"", spec_publish_str(p, spec));
				nsg_why(e, "host port %u/%s is not published to port %u by this gateway", port,
					spec_proto_name(p->proto), p->port + j);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int publish_forget_flows(const struct published *p, size_t n, struct nsg_err *e)
{
	struct ct_dnat *m;
	size_t deleted = 0;
	int r;

	if (!n)
		return 0;
	m = calloc(n, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		m[i] = (struct ct_dnat){ .proto = p[i].proto, .host_addr = p[i].host_addr,
					 .host_port = p[i].host_port, .to_addr = p[i].to_addr,
					 .to_port = p[i].to_port };
	r = conntrack_delete_dnat(m, n, &deleted, e);
	free(m);
	return r < 0 ? r : (int)deleted;
}

int publish_forget_flows_req(const struct publish *req, size_t n_req, uint32_t to_addr,
			     struct nsg_err *e)
{
	struct published *v;
	size_t n = 0, total = 0;
	int r;

	for (size_t i = 0; i < n_req; i++)
		total += req[i].count;
	if (!total)
		return 0;
	v = calloc(total, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_req; i++)
		for (uint32_t j = 0; j < req[i].count; j++)
			v[n++] = (struct published){ .host_addr = req[i].host_addr, .proto = req[i].proto,
						     .host_port = req[i].host_port + j, .to_addr = to_addr,
						     .to_port = req[i].port + j };
	r = publish_forget_flows(v, n, e);
	free(v);
	return r;
}

struct port1 {
	uint32_t host_addr;
	uint8_t proto;
	uint16_t host_port;
	uint16_t port;
};

static int port1_cmp(const void *a, const void *b)
{
	const struct port1 *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->host_addr != y->host_addr)
		return x->host_addr < y->host_addr ? -1 : 1;
	return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

static size_t expand_into(struct port1 *v, const struct publish *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < p[i].count; j++)
			v[k++] = (struct port1){ p[i].host_addr, p[i].proto, p[i].host_port + j, p[i].port + j };
	return k;
}

static size_t total_ports(const struct publish *p, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += p[i].count;
	return t;
}

int publish_list_combine(const struct publish *a, size_t na, const struct publish *b, size_t nb,
			 bool subtract, struct publish **ret, size_t *n_ret)
{
	size_t ta = total_ports(a, na), tb = total_ports(b, nb), n = 0;
	_cleanup_free_ struct port1 *va = calloc(ta + tb + 1, sizeof(*va));
	_cleanup_free_ struct port1 *vb = calloc(tb + 1, sizeof(*vb));
	struct publish *out;

	if (!va || !vb)
		return -ENOMEM;
	expand_into(va, a, na);
	if (subtract) {
		expand_into(vb, b, nb);
		qsort(vb, tb, sizeof(*vb), port1_cmp);
	} else {
		expand_into(va + ta, b, nb);  /* b wins on equal keys: it comes later */
		ta += tb;
	}
	qsort(va, ta, sizeof(*va), port1_cmp);
	out = calloc(ta + 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < ta; i++) {
		struct publish *last = n ? &out[n - 1] : NULL;

		/* Equal keys: keep the last one (the newer mapping). */
		if (i + 1 < ta && !port1_cmp(&va[i], &va[i + 1]))
			continue;
		if (subtract && bsearch(&va[i], vb, tb, sizeof(*vb), port1_cmp))
			continue;
		if (last && last->proto == va[i].proto && last->host_addr == va[i].host_addr &&
		    last->host_port + last->count == va[i].host_port &&
		    last->port + last->count == va[i].port) {
			last->count++;
			continue;
		}
		out[n++] = (struct publish){ .host_addr = va[i].host_addr, .proto = va[i].proto,
					     .host_port = va[i].host_port, .port = va[i].port, .count = 1 };
	}
	*ret = out;
	*n_ret = n;
	return 0;
}

static void add_port(struct publish *list, size_t *n, const struct port1 *m)
{
	list[(*n)++] = (struct publish){ .host_addr = m->host_addr, .proto = m->proto,
					 .host_port = m->host_port, .port = m->port, .count = 1 };
}

int publish_diff(const struct published *have, size_t n_have, const struct publish *want,
		 size_t n_want, struct publish **del, size_t *n_del, struct publish **add,
		 size_t *n_add)
{
	size_t nw = total_ports(want, n_want), i = 0, j = 0;
	_cleanup_free_ struct port1 *h = calloc(n_have + 1, sizeof(*h));
	_cleanup_free_ struct port1 *w = calloc(nw + 1, sizeof(*w));

	*del = calloc(n_have + 1, sizeof(**del));
	*add = calloc(nw + 1, sizeof(**add));
	*n_del = *n_add = 0;
	if (!h || !w || !*del || !*add) {
		free(*del);
		free(*add);
		*del = *add = NULL;
		return -ENOMEM;
	}
	for (size_t k = 0; k < n_have; k++)
		h[k] = (struct port1){ have[k].host_addr, have[k].proto, have[k].host_port, have[k].to_port };
	expand_into(w, want, n_want);
	qsort(h, n_have, sizeof(*h), port1_cmp);
	qsort(w, nw, sizeof(*w), port1_cmp);
	while (i < n_have || j < nw) {
		int c = i == n_have ? 1 : j == nw ? -1 : port1_cmp(&h[i], &w[j]);

		if (c < 0) {
			add_port(*del, n_del, &h[i++]);
		} else if (c > 0) {
			add_port(*add, n_add, &w[j++]);
		} else {
			if (h[i].port != w[j].port) {
				add_port(*del, n_del, &h[i]);
				add_port(*add, n_add, &w[j]);
			}
			i++, j++;
		}
	}
	return 0;
}
