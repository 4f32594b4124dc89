/* SPDX-License-Identifier: MIT */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/conntrack.h"
#include "nsgate/listeners.h"
#include "nsgate/publish.h"

/* Whether ifaddr (of any family) is a. */
static bool ifaddr_is(const struct sockaddr *ifaddr, const struct ip_addr *a)
{
	struct ip_addr have;

	if (!ifaddr || ifaddr->sa_family != a->family)
		return false;
	if (a->family == AF_INET)
		ip_addr_from_bytes(AF_INET, &((const struct sockaddr_in *)ifaddr)->sin_addr, &have);
	else
		ip_addr_from_bytes(AF_INET6, &((const struct sockaddr_in6 *)ifaddr)->sin6_addr, &have);
	return ip_addr_eq(&have, a);
}

/* An address the host answers on: one of its interfaces' addresses (IPv4
 * or IPv6), or anything in 127.0.0.0/8 (all of it is local through lo;
 * IPv6 has no such range, and portmap_parse refuses ::1). */
static int addr_is_local(const struct ip_addr *addr)
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (addr->family == AF_INET && (addr->v4 >> 24) == 127)
		return 1;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && !found; i = i->ifa_next)
		found = ifaddr_is(i->ifa_addr, addr);
	freeifaddrs(ifa);
	return found;
}

/* Host sockets that would silently lose their traffic to the DNAT: one
 * sock_diag dump per protocol for all of req[], however many there are. */
static int check_listeners(const struct portmap *req, size_t n_req, bool ipv6, struct nsg_err *e)
{
	char spec[PORTMAP_STRLEN];
	struct listener l;
	size_t which = 0;
	int r;

	r = listeners_find_any(req, n_req, ipv6, &l, &which);
	if (r <= 0)
		return r < 0 ? nsg_fail(e, r, NULL, "looking for host listeners") : 0;
	nsg_fail(e, -EADDRINUSE, NULL, "publish \"%s\"", portmap_str(&req[which], spec));
	if (l.pid)
		nsg_why(e, "host port %u/%s is in use by %s (pid %d); --force takes it anyway", l.port,
			portmap_proto_name(req[which].proto), l.comm, (int)l.pid);
	else
		nsg_why(e, "host port %u/%s is in use by a host socket; --force takes it anyway", l.port,
			portmap_proto_name(req[which].proto));
	return -EADDRINUSE;
}

int publish_check(const char *name, const struct gw_target *to, const struct portmap *req,
		  size_t n_req, const struct portmap *have, size_t n_have, bool force, struct nsg_err *e)
{
	char spec[PORTMAP_STRLEN], a[IP_ADDR_STRLEN];
	int r;

	r = portmap_check_disjoint(req, n_req, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_req; i++) {
		const struct portmap *p = &req[i];

		/* An IPv4-only gateway has no IPv6 address to lead the port to. */
		if (p->host_addr.family == AF_INET6 && !ip_addr_is_set(&to->v6)) {
			nsg_fail(e, -EINVAL, NULL, "publish \"%s\"", portmap_str(p, spec));
			nsg_why(e, "gateway \"%s\" has no IPv6 address (it is IPv4 only)", name);
			return -EINVAL;
		}
		if (ip_addr_is_set(&p->host_addr)) {
			r = addr_is_local(&p->host_addr);
			if (r < 0)
				return nsg_fail(e, r, NULL, "publish \"%s\": listing host addresses",
						portmap_str(p, spec));
			if (!r) {
				nsg_fail(e, -EADDRNOTAVAIL, NULL, "publish \"%s\"", portmap_str(p, spec));
				nsg_why(e, "%s is not an address of this host", ip_addr_str(&p->host_addr, a));
				return -EADDRNOTAVAIL;
			}
		}
		r = portmap_conflict(p, name, to, have, n_have, e);
		if (r < 0)
			return r;
	}
	return force ? 0 : check_listeners(req, n_req, ip_addr_is_set(&to->v6), e);
}

int publish_forget_flows(const struct portmap *pm, size_t n, const struct gw_target *to,
			 struct nsg_err *e)
{
	_cleanup_free_ struct portmap *copy = NULL;
	size_t deleted = 0, k = 0;
	int r;

	if (!n)
		return 0;
	/* One entry a request and family, not a port: conntrack expands
	 * ranges. An unbound port of a dual-stack gateway has a flow of each
	 * family: for a request, both of to; read back, its folded twin's. */
	copy = reallocarray(NULL, n, 2 * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ip_addr *v6 = to ? &to->v6 : &pm[i].to_addr6;

		copy[k] = pm[i];
		if (to)
			copy[k].to_addr = *gw_target_for(to, &pm[i].host_addr);
		k++;
		if (!ip_addr_is_set(&pm[i].host_addr) && ip_addr_is_set(v6)) {
			copy[k] = pm[i];
			copy[k++].to_addr = *v6;
		}
	}
	pm = copy;
	n = k;
	r = conntrack_delete_dnat(pm, n, &deleted, e);
	return r < 0 ? r : (int)deleted;
}
