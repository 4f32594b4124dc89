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

int publish_check(const char *name, uint32_t to_addr, const struct publish *req, size_t n_req,
		  const struct published *have, size_t n_have, bool force, struct nsg_err *e)
{
	char spec[PUBLISH_STRLEN], a[IP4_STRLEN];
	int r;

	for (size_t i = 0; i < n_req; i++) {
		const struct publish *p = &req[i];
		uint32_t end = p->host_port + p->count;

		spec_publish_str(p, spec);
		if (p->host_addr) {
			r = addr_is_local(p->host_addr);
			if (r < 0)
				return nsg_fail(e, r, NULL, "publish \"%s\": listing host addresses", spec);
			if (!r) {
				nsg_fail(e, -EADDRNOTAVAIL, NULL, "publish \"%s\"", spec);
				nsg_why(e, "%s is not an address of this host", ip4_addr_str(p->host_addr, a));
				return -EADDRNOTAVAIL;
			}
		}
		for (size_t j = 0; j < i; j++)
			if (spec_publish_overlap(p, &req[j])) {
				char other[PUBLISH_STRLEN];
				nsg_fail(e, -EINVAL, NULL, "publish \"%s\"", spec);
				nsg_why(e, "overlaps \"%s\" in the same command", spec_publish_str(&req[j], other));
				return -EINVAL;
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
		if (!force) {
			struct listener l;

			r = listeners_find(p->proto, p->host_addr, p->host_port, end - 1, &l);
			if (r < 0)
				return nsg_fail(e, r, NULL, "publish \"%s\": looking for host listeners", spec);
			if (r > 0) {
				nsg_fail(e, -EADDRINUSE, NULL, "publish \"%s\"", spec);
				if (l.pid)
					nsg_why(e, "host port %u/%s is in use by %s (pid %d); --force takes it anyway",
						l.port, spec_proto_name(p->proto), l.comm, (int)l.pid);
				else
					nsg_why(e, "host port %u/%s is in use by a host socket; --force takes it anyway",
						l.port, spec_proto_name(p->proto));
				return -EADDRINUSE;
			}
		}
	}
	return 0;
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
