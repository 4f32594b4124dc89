/* SPDX-License-Identifier: MIT */
/* Networks as data: names, subnets, member addresses, the network file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/ipam.h"
#include "nsgate/network.h"

#define NET_STATE_VERSION 1

void net_state_clear(struct net_state *n)
{
	free(n->members);
	n->members = NULL;
	n->n_members = 0;
}

void net_bridge_ifname(const char *name, char ret[IF_NAMESIZE])
{
	static const char prefix[] = { 'n', 's', 'g', '-', NET_BRIDGE_MARK, '\0' };

	spec_prefixed_ifname(prefix, name, ret);
}

int net_subnet_parse(const char *arg, struct ip_prefix *ret, struct nsg_err *e)
{
	struct ip_prefix n;
	const char *why = NULL;

	if (ip_prefix_parse(arg, AF_INET, &n) < 0)
		return nsg_fail(e, -EINVAL, "expected an IPv4 prefix with its host bits zero, "
				"such as 10.201.7.0/24", "--subnet \"%s\"", arg);
	if (n.plen < NET_SUBNET_PLEN_MIN || n.plen > NET_SUBNET_PLEN_MAX)
		return nsg_fail(e, -EINVAL, "a network's prefix length must be 16 to 29",
				"--subnet \"%s\"", arg);
	if (ipam_subnet_usable(&n, &why) < 0)
		return nsg_fail(e, -EINVAL, why, "--subnet \"%s\"", arg);
	*ret = n;
	return 0;
}

int net_addr_pick(const struct ip_prefix *subnet, const struct net_member *m, size_t n,
		  struct ip_addr *ret)
{
	uint32_t size = UINT32_C(1) << (32 - subnet->plen);
	_cleanup_free_ uint8_t *taken = calloc(size / 8 + 1, 1);

	if (!taken)
		return -ENOMEM;
	/* One pass over the members, one over the bitmap: a member's up costs
	 * the same with 250 members as with 2. */
	for (size_t k = 0; k < n; k++) {
		uint32_t i = m[k].addr.v4 - subnet->addr.v4;

		if (ip_addr_is_v4(&m[k].addr) && i < size)
			taken[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	/* .0 the network, .1 the gateway, the last the broadcast address. */
	for (uint32_t i = 2; i + 1 < size; i++)
		if (!(taken[i / 8] & (1u << (i % 8)))) {
			*ret = ip_addr_v4(subnet->addr.v4 + i);
			return 0;
		}
	return -EADDRINUSE;
}

void net_mac_of(const struct ip_addr *a, uint8_t mac[6])
{
	mac[0] = 0x02;   /* locally administered, unicast */
	mac[1] = 0x6e;   /* 'n' */
	mac[2] = a->v4 >> 24;
	mac[3] = a->v4 >> 16;
	mac[4] = a->v4 >> 8;
	mac[5] = a->v4;
}

const struct net_member *net_member_find(const struct net_state *n, const char *name)
{
	for (size_t i = 0; i < n->n_members; i++)
		if (!strcmp(n->members[i].name, name))
			return &n->members[i];
	return NULL;
}

int net_member_add(struct net_state *n, const struct net_member *m)
{
	struct net_member *all = realloc(n->members, (n->n_members + 1) * sizeof(*all));

	if (!all)
		return -ENOMEM;
	n->members = all;
	n->members[n->n_members++] = *m;
	return 0;
}

int net_member_remove(struct net_state *n, const char *name)
{
	const struct net_member *m = net_member_find(n, name);
	size_t i;

	if (!m)
		return -ENOENT;
	i = m - n->members;
	memmove(&n->members[i], &n->members[i + 1], (n->n_members - i - 1) * sizeof(*m));
	n->n_members--;
	return 0;
}

int net_state_format(const struct net_state *n, char **ret)
{
	char net[IP_PREFIX_STRLEN], a[IP_ADDR_STRLEN];
	size_t len = 384 + n->n_members * (GW_NAME_MAX + IP_ADDR_STRLEN + IF_NAMESIZE + 16), off;
	char *buf = malloc(len);
	int w;

	if (!buf)
		return -ENOMEM;
	w = snprintf(buf, len,
		     "version=%d\nname=%s\nbridge=%s\nsubnet=%s\nsubnet_given=%d\nisolated=%d\n"
		     "explicit=%d\n",
		     NET_STATE_VERSION, n->name, n->bridge, ip_prefix_str(&n->subnet, net),
		     n->subnet_given, n->isolated, n->explicit_);
	off = w < 0 ? len : (size_t)w;
	/* Only for a dual-stack network: older files load as IPv4 only. */
	if (n->subnet6.addr.family == AF_INET6 && off < len) {
		w = snprintf(buf + off, len - off, "subnet6=%s\n%s", ip_prefix_str(&n->subnet6, net),
			     n->subnet6_given ? "subnet6_given=1\n" : "");
		off = w < 0 ? len : off + w;
	}
	for (size_t i = 0; i < n->n_members && off < len; i++) {
		const struct net_member *m = &n->members[i];

		w = snprintf(buf + off, len - off, "member=%s %s%s%s\n", m->name,
			     ip_addr_str(&m->addr, a), m->port[0] ? " " : "", m->port);
		off = w < 0 ? len : off + w;
	}
	if (off >= len) {
		free(buf);
		return -ENOBUFS;
	}
	*ret = buf;
	return 0;
}

static int parse_flag(const char *v, bool *ret)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return -EBADMSG;
	*ret = v[0] == '1';
	return 0;
}

void net_member_port(const struct net_member *m, char ret[IF_NAMESIZE])
{
	if (m->port[0])
		snprintf(ret, IF_NAMESIZE, "%s", m->port);
	else
		spec_host_ifname(m->name, ret);
}

/* "NAME ADDR" or "NAME ADDR PORT" (a member of several networks). */
static int parse_member(struct net_state *n, const char *v)
{
	const char *sp = strchr(v, ' '), *sp2;
	char addr[IP_ADDR_STRLEN] = "";
	struct net_member m = { 0 };

	if (!sp || (size_t)(sp - v) > GW_NAME_MAX)
		return -EBADMSG;
	memcpy(m.name, v, sp - v);
	sp2 = strchr(sp + 1, ' ');
	if (sp2) {
		if ((size_t)(sp2 - sp - 1) >= sizeof(addr) || strlen(sp2 + 1) >= IF_NAMESIZE ||
		    strncmp(sp2 + 1, GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX)))
			return -EBADMSG;
		memcpy(addr, sp + 1, sp2 - sp - 1);
		snprintf(m.port, sizeof(m.port), "%s", sp2 + 1);
	} else {
		snprintf(addr, sizeof(addr), "%s", sp + 1);
	}
	/* A name twice is checked once all are read (net_state_parse). */
	if (!spec_name_known(m.name) || ip_addr_parse(addr, AF_INET, &m.addr) < 0)
		return -EBADMSG;
	return net_member_add(n, &m);
}

static int member_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a member is listed twice: sorted names, neighbours compared
 * (O(n log n): every up and down parses the network's file). */
static int members_unique(const struct net_state *n)
{
	_cleanup_free_ const char **names = NULL;

	if (n->n_members < 2)
		return 0;
	names = malloc(n->n_members * sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_members; i++)
		names[i] = n->members[i].name;
	qsort(names, n->n_members, sizeof(*names), member_name_cmp);
	for (size_t i = 1; i < n->n_members; i++)
		if (!strcmp(names[i - 1], names[i]))
			return -EBADMSG;
	return 0;
}

/* One key; seen gets a bit per key that must be there. */
static int parse_kv(struct net_state *n, const char *k, const char *v, unsigned *seen)
{
	if (!strcmp(k, "version")) {
		*seen |= 1;
		return strcmp(v, "1") ? -EBADMSG : 0;
	}
	if (!strcmp(k, "name")) {
		*seen |= 2;
		if (!spec_name_known(v))
			return -EBADMSG;
		snprintf(n->name, sizeof(n->name), "%s", v);
		return 0;
	}
	if (!strcmp(k, "bridge")) {
		*seen |= 4;
		if (strlen(v) >= sizeof(n->bridge) || strncmp(v, GW_IFNAME_PREFIX, 4))
			return -EBADMSG;
		snprintf(n->bridge, sizeof(n->bridge), "%s", v);
		return 0;
	}
	if (!strcmp(k, "subnet")) {
		*seen |= 8;
		return ip_prefix_parse(v, AF_INET, &n->subnet) < 0 ||
		       n->subnet.plen < NET_SUBNET_PLEN_MIN || n->subnet.plen > NET_SUBNET_PLEN_MAX
		       ? -EBADMSG : 0;
	}
	if (!strcmp(k, "subnet_given")) {
		*seen |= 16;
		return parse_flag(v, &n->subnet_given);
	}
	if (!strcmp(k, "isolated")) {
		*seen |= 32;
		return parse_flag(v, &n->isolated);
	}
	if (!strcmp(k, "explicit")) {
		*seen |= 64;
		return parse_flag(v, &n->explicit_);
	}
	if (!strcmp(k, "subnet6"))
		return ip_prefix_parse(v, AF_INET6, &n->subnet6) < 0 ||
		       n->subnet6.plen != GW_SUBNET6_PLEN ? -EBADMSG : 0;
	if (!strcmp(k, "subnet6_given"))
		return parse_flag(v, &n->subnet6_given);
	if (!strcmp(k, "member"))
		return parse_member(n, v);
	return -EBADMSG;
}

int net_state_parse(const char *text, struct net_state *ret)
{
	struct net_state n = { 0 };
	unsigned seen = 0;
	int r = 0;

	for (const char *p = text; *p && r == 0; ) {
		const char *nl = strchr(p, '\n'), *eq;
		char k[16], v[128];

		eq = nl ? memchr(p, '=', nl - p) : NULL;
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof(k) ||
		    (size_t)(nl - eq - 1) >= sizeof(v)) {
			r = -EBADMSG;
			break;
		}
		memcpy(k, p, eq - p);
		k[eq - p] = '\0';
		memcpy(v, eq + 1, nl - eq - 1);
		v[nl - eq - 1] = '\0';
		r = parse_kv(&n, k, v, &seen);
		p = nl + 1;
	}
	if (r == 0 && seen != 127)
		r = -EBADMSG;
	if (r == 0)
		r = members_unique(&n);
	if (r < 0) {
		net_state_clear(&n);
		return r;
	}
	*ret = n;
	return 0;
}

int net_hosts_render(const struct net_state *n, char **ret)
{
	static const char head[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
	size_t len = sizeof(head) + n->n_members * 2 * (IP_ADDR_STRLEN + GW_NAME_MAX + 2), off;
	char *buf = malloc(len), a[IP_ADDR_STRLEN];

	if (!buf)
		return -ENOMEM;
	off = snprintf(buf, len, "%s", head);
	for (size_t i = 0; i < n->n_members; i++) {
		struct ip_addr a6 = net_member_addr6(n, &n->members[i]);

		off += snprintf(buf + off, len - off, "%s\t%s\n", ip_addr_str(&n->members[i].addr, a),
				n->members[i].name);
		if (ip_addr_is_set(&a6))
			off += snprintf(buf + off, len - off, "%s\t%s\n", ip_addr_str(&a6, a),
					n->members[i].name);
	}
	*ret = buf;
	return 0;
}
