/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/portmap.h"
#include "nsgate/spec.h"

const char *portmap_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_SCTP: return "sctp";
	default: return "?";
	}
}

/* "P" or "P-E" with 1 <= P <= E <= 65535. */
static int parse_port_range(const char *s, uint16_t *first, uint32_t *count, const char **why)
{
	char buf[16];
	const char *dash = strchr(s, '-');
	unsigned long a, b;
	size_t len = dash ? (size_t)(dash - s) : strlen(s);

	*why = "expected a port (1-65535) or a range such as 8000-8009";
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (spec_parse_uint(buf, ULONG_MAX, &a) < 0)
		return -EINVAL;
	b = a;
	if (dash && spec_parse_uint(dash + 1, ULONG_MAX, &b) < 0)
		return -EINVAL;
	if (a < 1 || a > 65535 || b < 1 || b > 65535) {
		*why = "ports are 1 to 65535";
		return -ERANGE;
	}
	if (b < a) {
		*why = "the range is reversed";
		return -EINVAL;
	}
	*first = a;
	*count = b - a + 1;
	return 0;
}

/* The one refusal of the contract, word for word. */
#define V6_LOOPBACK_WHY                                                                       \
	"IPv6 loopback cannot be forwarded into a namespace (the kernel has no route_localnet " \
	"for IPv6); publish without an address, or on one of the host's addresses"
#define SPEC_FORM "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]"

/* The longest SPEC portmap_str writes: "[" 45 "]:" 11 ":" 11 "/sctp" and
 * the NUL (45: an IPv6 address with a dotted tail; 11: "65535-65535"). */
_Static_assert(PORTMAP_STRLEN >= 1 + (IP_ADDR_STRLEN - 1) + 2 + 11 + 1 + 11 + 5 + 1,
	       "PORTMAP_STRLEN too small for a bracketed IPv6 SPEC");

/* "/tcp", "/udp" or "/sctp" cut off the end of buf, into *proto. */
static int cut_proto(const char *arg, char *buf, uint8_t *proto, struct nsg_err *e)
{
	char *s = strrchr(buf, '/');

	if (!s)
		return 0;
	*s++ = '\0';
	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "sctp"))
		*proto = IPPROTO_SCTP;
	else
		return nsg_fail(e, -EINVAL, "unknown protocol (tcp, udp or sctp)",
				"publish \"%s\": \"%s\"", arg, s);
	return 0;
}

/* More colons than an IPv4 SPEC has: an IPv6 address without its
 * brackets gets told how to write it; anything else the form. */
static int refuse_colons(const char *arg, struct nsg_err *e)
{
	char addr[80];
	const char *last = strrchr(arg, ':');
	struct ip_addr a;
	size_t len;

	/* The address would end at the colon before HOSTPORT: len is one
	 * past it. */
	for (len = last ? (size_t)(last - arg) : 0; len > 0 && arg[len - 1] != ':'; len--)
		;
	if (len > 1 && len - 1 < sizeof(addr)) {
		memcpy(addr, arg, len - 1);
		addr[len - 1] = '\0';
		if (ip_addr_parse(addr, AF_INET6, &a) == 0) {
			nsg_fail(e, -EINVAL, NULL, "publish \"%s\"", arg);
			nsg_why(e, "an IPv6 address goes in brackets: \"[%s]:%s\"", addr, arg + len);
			return -EINVAL;
		}
	}
	return nsg_fail(e, -EINVAL, SPEC_FORM, "publish \"%s\"", arg);
}

/* The IPv6 addresses no published port can be bound to. arg: the SPEC,
 * text: its address, after: what follows "]:" in arg. */
static int check_v6_host(const char *arg, const char *text, const char *after,
			 const struct ip_addr *a, struct nsg_err *e)
{
	char v4[INET_ADDRSTRLEN];
	struct in6_addr in6;

	memcpy(&in6, a->v6, sizeof(in6));
	if (IN6_IS_ADDR_LOOPBACK(&in6))
		return nsg_fail(e, -EINVAL, V6_LOOPBACK_WHY, "publish \"%s\"", arg);
	if (IN6_IS_ADDR_UNSPECIFIED(&in6))
		return nsg_fail(e, -EINVAL, "leave the address out to publish on every host address",
				"publish \"%s\": host address \"%s\"", arg, text);
	if (IN6_IS_ADDR_V4MAPPED(&in6)) {
		inet_ntop(AF_INET, &in6.s6_addr[12], v4, sizeof(v4));
		nsg_fail(e, -EINVAL, NULL, "publish \"%s\": host address \"%s\"", arg, text);
		nsg_why(e, "an IPv4-mapped address: use the IPv4 form \"%s:%s\"", v4, after);
		return -EINVAL;
	}
	/* A link-local address means something only with its interface, and
	 * multicast is never a destination a connection is made to. */
	if (IN6_IS_ADDR_LINKLOCAL(&in6))
		return nsg_fail(e, -EINVAL, "a link-local address is not usable as a published address",
				"publish \"%s\": host address \"%s\"", arg, text);
	if (IN6_IS_ADDR_MULTICAST(&in6))
		return nsg_fail(e, -EINVAL, "a multicast address is not usable as a published address",
				"publish \"%s\": host address \"%s\"", arg, text);
	return 0;
}

/* The host address of a SPEC: IPv6 when it was in brackets. */
static int parse_host(const char *arg, const char *text, bool bracketed, struct ip_addr *ret,
		      struct nsg_err *e)
{
	struct ip_addr any;

	if (!bracketed) {
		if (ip_addr_parse(text, AF_INET, ret) < 0)
			return nsg_fail(e, -EINVAL, "not an IPv4 address",
					"publish \"%s\": host address \"%s\"", arg, text);
		if (ret->v4 == 0)
			return nsg_fail(e, -EINVAL, "leave the address out to publish on every host address",
					"publish \"%s\": host address \"%s\"", arg, text);
		return 0;
	}
	if (ip_addr_parse(text, AF_INET6, ret) < 0)
		return nsg_fail(e, -EINVAL,
				ip_addr_parse(text, AF_INET, &any) == 0 ?
					"brackets are for IPv6 addresses: write an IPv4 one without them" :
					"not an IPv6 address",
				"publish \"%s\": host address \"%s\"", arg, text);
	return check_v6_host(arg, text, strchr(arg, ']') + 2, ret, e);
}

int portmap_parse(const char *arg, struct portmap *ret, struct nsg_err *e)
{
	/* 79 bytes is more than any SPEC needs; longer is refused. */
	char buf[80], *addr = NULL, *rest = buf, *np;
	struct portmap p = { .proto = IPPROTO_TCP };
	bool bracketed;
	const char *why;
	uint32_t count;
	int r;

	if (strlen(arg) >= sizeof(buf))
		return nsg_fail(e, -EINVAL, "too long", "publish \"%.40s...\"", arg);
	snprintf(buf, sizeof(buf), "%s", arg);
	r = cut_proto(arg, buf, &p.proto, e);
	if (r < 0)
		return r;
	bracketed = buf[0] == '[';
	if (bracketed) {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':')
			return nsg_fail(e, -EINVAL, "expected [ADDR]:HOSTPORT:PORT[/PROTO]",
					"publish \"%s\"", arg);
		*close = '\0';
		addr = buf + 1;
		rest = close + 2;
	} else if (strchr(rest, ':') != strrchr(rest, ':')) {
		/* Two colons or more: an address first. */
		addr = rest;
		rest = strchr(rest, ':');
		*rest++ = '\0';
	}
	np = strchr(rest, ':');
	if (np && strchr(np + 1, ':'))
		return bracketed ? nsg_fail(e, -EINVAL, SPEC_FORM, "publish \"%s\"", arg)
				 : refuse_colons(arg, e);
	if (!np || np == rest || !np[1] || (addr && !*addr))
		return nsg_fail(e, -EINVAL, SPEC_FORM, "publish \"%s\"", arg);
	*np++ = '\0';
	if (addr) {
		r = parse_host(arg, addr, bracketed, &p.host_addr, e);
		if (r < 0)
			return r;
	}
	r = parse_port_range(rest, &p.host_port, &p.count, &why);
	if (r < 0)
		return nsg_fail(e, r, why, "publish \"%s\": host port \"%s\"", arg, rest);
	r = parse_port_range(np, &p.port, &count, &why);
	if (r < 0)
		return nsg_fail(e, r, why, "publish \"%s\": port \"%s\"", arg, np);
	if (count != p.count)
		return nsg_fail(e, -EINVAL, "the host and namespace ranges differ in length",
				"publish \"%s\"", arg);
	*ret = p;
	return 0;
}

char *portmap_str(const struct portmap *p, char buf[PORTMAP_STRLEN])
{
	char a[IP_ADDR_STRLEN + 3] = "", s[IP_ADDR_STRLEN], hp[16], np[16];

	if (p->host_addr.family == AF_INET6)
		snprintf(a, sizeof(a), "[%s]:", ip_addr_str(&p->host_addr, s));
	else if (ip_addr_is_set(&p->host_addr))
		snprintf(a, sizeof(a), "%s:", ip_addr_str(&p->host_addr, s));
	if (p->count > 1) {
		snprintf(hp, sizeof(hp), "%u-%u", p->host_port, p->host_port + p->count - 1);
		snprintf(np, sizeof(np), "%u-%u", p->port, p->port + p->count - 1);
	} else {
		snprintf(hp, sizeof(hp), "%u", p->host_port);
		snprintf(np, sizeof(np), "%u", p->port);
	}
	/* Never longer than PORTMAP_STRLEN (ports are 16-bit); the check is
	 * for compilers that cannot see that (gcc at -O0). */
	if (snprintf(buf, PORTMAP_STRLEN, "%s%s:%s/%s", a, hp, np,
		     portmap_proto_name(p->proto)) >= PORTMAP_STRLEN)
		buf[PORTMAP_STRLEN - 1] = '\0';
	return buf;
}

/* An unbound mapping takes the port on every address. */
static bool addrs_meet(const struct ip_addr *a, const struct ip_addr *b)
{
	return !ip_addr_is_set(a) || !ip_addr_is_set(b) || ip_addr_eq(a, b);
}

bool portmap_overlap(const struct portmap *a, const struct portmap *b)
{
	uint32_t a_end = a->host_port + a->count, b_end = b->host_port + b->count;

	if (a->proto != b->proto)
		return false;
	if (!addrs_meet(&a->host_addr, &b->host_addr))
		return false;
	return a->host_port < b_end && b->host_port < a_end;
}

size_t portmap_count_ports(const struct portmap *v, size_t n)
{
	size_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += v[i].count;
	return t;
}

/* ------------------------------------------------------------ sorting */

/* (proto, host_port, host_addr): the kernel's lookups are by proto and
 * port, so clashes are neighbours in this order. */
static int rule_order_cmp(const void *a, const void *b)
{
	const struct portmap *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->host_port != y->host_port)
		return x->host_port < y->host_port ? -1 : 1;
	return ip_addr_cmp(&x->host_addr, &y->host_addr);
}

static int owner_order_cmp(const void *a, const void *b)
{
	const struct portmap *x = a, *y = b;
	int c = strcmp(x->owner, y->owner);

	return c ? c : rule_order_cmp(a, b);
}

void portmap_sort(struct portmap *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), rule_order_cmp);
}

void portmap_sort_by_owner(struct portmap *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), owner_order_cmp);
}

size_t portmap_lower_bound(const struct portmap *v, size_t n, uint8_t proto, uint16_t host_port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].proto < proto || (v[mid].proto == proto && v[mid].host_port < host_port))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ------------------------------------------------------------ checks */

static int by_proto_port(const void *a, const void *b)
{
	const struct portmap *x = *(const struct portmap *const *)a;
	const struct portmap *y = *(const struct portmap *const *)b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

/* Sorted by (proto, port), each range only needs comparing with those
 * starting inside it: 10,000 SPECs cost a sort, not 50 million comparisons. */
int portmap_check_disjoint(const struct portmap *req, size_t n, struct nsg_err *e)
{
	_cleanup_free_ const struct portmap **v = calloc(n ? n : 1, sizeof(*v));
	char a[PORTMAP_STRLEN], b[PORTMAP_STRLEN];

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = &req[i];
	qsort(v, n, sizeof(*v), by_proto_port);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n && v[j]->proto == v[i]->proto &&
				       v[j]->host_port < v[i]->host_port + v[i]->count; j++)
			if (portmap_overlap(v[i], v[j])) {
				nsg_fail(e, -EINVAL, NULL, "publish \"%s\"", portmap_str(v[j], a));
				nsg_why(e, "overlaps \"%s\" in the same command", portmap_str(v[i], b));
				return -EINVAL;
			}
	return 0;
}

int portmap_conflict(const struct portmap *p, const char *name, const struct gw_target *to,
		     const struct portmap *have, size_t n_have, struct nsg_err *e)
{
	uint32_t end = p->host_port + p->count;
	char spec[PORTMAP_STRLEN];

	for (size_t k = portmap_lower_bound(have, n_have, p->proto, p->host_port);
	     k < n_have && have[k].proto == p->proto && have[k].host_port < end; k++) {
		const struct portmap *h = &have[k];
		uint16_t want = p->port + (h->host_port - p->host_port);

		if (!addrs_meet(&h->host_addr, &p->host_addr))
			continue;
		if (!strcmp(h->owner, name) && ip_addr_eq(&h->host_addr, &p->host_addr) &&
		    ip_addr_eq(&h->to_addr, h->to_addr.family == AF_INET6 ? &to->v6 : &to->v4) &&
		    h->port == want)
			continue;  /* already there: idempotent */
		nsg_fail(e, -EADDRINUSE, NULL, "publish \"%s\"", portmap_str(p, spec));
		if (strcmp(h->owner, name))
			nsg_why(e, "host port %u/%s is published by gateway \"%s\"", h->host_port,
				portmap_proto_name(h->proto), h->owner);
		else
			nsg_why(e, "host port %u/%s is already published to port %u (unpublish it first)",
				h->host_port, portmap_proto_name(h->proto), h->port);
		return -EADDRINUSE;
	}
	return 0;
}

int portmap_match(const struct portmap *req, size_t n_req, const struct portmap *have,
		  size_t n_have, struct nsg_err *e)
{
	char spec[PORTMAP_STRLEN];

	for (size_t i = 0; i < n_req; i++) {
		const struct portmap *p = &req[i];

		for (uint32_t j = 0; j < p->count; j++) {
			uint16_t port = p->host_port + j;
			size_t k = portmap_lower_bound(have, n_have, p->proto, port);
			bool found = false;

			for (; k < n_have && have[k].proto == p->proto && have[k].host_port == port; k++)
				if (ip_addr_eq(&have[k].host_addr, &p->host_addr) &&
				    have[k].port == p->port + j)
					found = true;
			if (!found) {
				nsg_fail(e, -EINVAL, NULL, "unpublish \"%s\"", portmap_str(p, spec));
				nsg_why(e, "host port %u/%s is not published to port %u by this gateway", port,
					portmap_proto_name(p->proto), p->port + j);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ list arithmetic */

/* (proto, host_addr, host_port): the order of the ports file. */
static int key_cmp(const void *a, const void *b)
{
	const struct portmap *x = a, *y = b;
	int c;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	c = ip_addr_cmp(&x->host_addr, &y->host_addr);
	if (c)
		return c;
	return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

/* Port j of p as a one-port request: the arithmetic is on host ports and
 * namespace ports only. */
static struct portmap one_port(const struct portmap *p, uint32_t j)
{
	return (struct portmap){ .host_addr = p->host_addr, .proto = p->proto,
				 .host_port = p->host_port + j, .port = p->port + j, .count = 1 };
}

static size_t expand_into(struct portmap *v, const struct portmap *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < p[i].count; j++)
			v[k++] = one_port(&p[i], j);
	return k;
}

/*
 * One port in portmap_combine, 12 bytes: with 10,000 ports, sorting these
 * moves a fifth of what sorting portmaps would (a publish of a 10,000-port
 * range spent ~2 ms in that sort). The host address is an index into a
 * sorted table of the distinct addresses, so the order is key_cmp's.
 */
struct port_key {
	uint32_t addr;
	uint16_t host_port;
	uint16_t port;
	uint8_t proto;
};

static int port_key_cmp(const void *a, const void *b)
{
	const struct port_key *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->host_port < y->host_port ? -1 : x->host_port > y->host_port;
}

static int addr_cmp(const void *a, const void *b)
{
	return ip_addr_cmp(a, b);
}

/* The distinct host addresses of a[] and b[], sorted; returns the count. */
static size_t addr_table(const struct portmap *a, size_t na, const struct portmap *b, size_t nb,
			 struct ip_addr *t)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < na; i++)
		t[n++] = a[i].host_addr;
	for (size_t i = 0; i < nb; i++)
		t[n++] = b[i].host_addr;
	qsort(t, n, sizeof(*t), addr_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || !ip_addr_eq(&t[k - 1], &t[i]))
			t[k++] = t[i];
	return k;
}

static size_t keys_of(const struct portmap *p, size_t n, const struct ip_addr *t, size_t nt,
		      struct port_key *v)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ip_addr *at = bsearch(&p[i].host_addr, t, nt, sizeof(*t), addr_cmp);

		for (uint32_t j = 0; j < p[i].count; j++)
			v[k++] = (struct port_key){ .addr = (uint32_t)(at - t), .proto = p[i].proto,
						    .host_port = p[i].host_port + j,
						    .port = p[i].port + j };
	}
	return k;
}

/* v[] (sorted) merged into ranges in *out (malloc'ed, as long as it needs
 * to be: a range is one entry whatever its length): one entry per key (the
 * last of equals), consecutive host and namespace ports joined. */
static int keys_merge(const struct port_key *v, size_t n, const struct ip_addr *t,
		      struct portmap **out, size_t *n_out)
{
	struct portmap *o = NULL;
	size_t k = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		struct portmap *last = k ? &o[k - 1] : NULL;

		if (i + 1 < n && !port_key_cmp(&v[i], &v[i + 1]))
			continue;
		if (last && last->proto == v[i].proto && ip_addr_eq(&last->host_addr, &t[v[i].addr]) &&
		    last->host_port + last->count == v[i].host_port &&
		    last->port + last->count == v[i].port) {
			last->count++;
			continue;
		}
		if (GROW(o, cap, k + 1) < 0) {
			free(o);
			return -ENOMEM;
		}
		o[k++] = (struct portmap){ .host_addr = t[v[i].addr], .proto = v[i].proto,
					   .host_port = v[i].host_port, .port = v[i].port,
					   .count = 1 };
	}
	*out = o;
	*n_out = k;
	return 0;
}

int portmap_combine(const struct portmap *a, size_t na, const struct portmap *b, size_t nb,
		    bool subtract, struct portmap **ret, size_t *n_ret)
{
	size_t ta = portmap_count_ports(a, na), tb = portmap_count_ports(b, nb), nt, k = 0;
	_cleanup_free_ struct ip_addr *t = calloc(na + nb + 1, sizeof(*t));
	_cleanup_free_ struct port_key *v = calloc(ta + tb + 1, sizeof(*v));
	_cleanup_free_ struct port_key *vb = calloc(tb + 1, sizeof(*vb));

	if (!t || !v || !vb)
		return -ENOMEM;
	nt = addr_table(a, na, b, nb, t);
	keys_of(b, nb, t, nt, vb);
	qsort(vb, tb, sizeof(*vb), port_key_cmp);
	/* a's ports that b does not name, then (adding) all of b's: b's
	 * mapping of a port replaces a's, whatever order qsort leaves equals in. */
	keys_of(a, na, t, nt, v);
	for (size_t i = 0; i < ta; i++)
		if (!bsearch(&v[i], vb, tb, sizeof(*vb), port_key_cmp))
			v[k++] = v[i];
	if (!subtract) {
		memcpy(v + k, vb, tb * sizeof(*vb));
		k += tb;
	}
	qsort(v, k, sizeof(*v), port_key_cmp);
	return keys_merge(v, k, t, ret, n_ret);
}

int portmap_diff(const struct portmap *have, size_t n_have, const struct portmap *want,
		 size_t n_want, struct portmap **del, size_t *n_del, struct portmap **add,
		 size_t *n_add)
{
	size_t nh = portmap_count_ports(have, n_have), nw = portmap_count_ports(want, n_want);
	_cleanup_free_ struct portmap *h = calloc(nh + 1, sizeof(*h));
	_cleanup_free_ struct portmap *w = calloc(nw + 1, sizeof(*w));
	size_t i = 0, j = 0;

	*del = calloc(nh + 1, sizeof(**del));
	*add = calloc(nw + 1, sizeof(**add));
	*n_del = *n_add = 0;
	if (!h || !w || !*del || !*add) {
		free(*del);
		free(*add);
		*del = *add = NULL;
		return -ENOMEM;
	}
	expand_into(h, have, n_have);
	expand_into(w, want, n_want);
	qsort(h, nh, sizeof(*h), key_cmp);
	qsort(w, nw, sizeof(*w), key_cmp);
	while (i < nh || j < nw) {
		int c = i == nh ? 1 : j == nw ? -1 : key_cmp(&h[i], &w[j]);

		if (c < 0) {
			(*del)[(*n_del)++] = h[i++];
		} else if (c > 0) {
			(*add)[(*n_add)++] = w[j++];
		} else {
			if (h[i].port != w[j].port) {
				(*del)[(*n_del)++] = h[i];
				(*add)[(*n_add)++] = w[j];
			}
			i++, j++;
		}
	}
	return 0;
}
