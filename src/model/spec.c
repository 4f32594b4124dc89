/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/ipam.h"
#include "nsgate/network.h"
#include "nsgate/spec.h"

int spec_parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	/* strtoul would accept " 12", "+12" and "-1" (wrapping); we do not. */
	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

void spec_init(struct gw_spec *s)
{
	*s = (struct gw_spec){ .netns_kind = GW_NETNS_OWN, .dns_mode = GW_DNS_AUTO };
	snprintf(s->ns_ifname, sizeof(s->ns_ifname), "%s", GW_NS_IFNAME_DEFAULT);
}

int spec_firewall_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	if (strcmp(arg, "auto") && strcmp(arg, "none"))
		return nsg_fail(e, -EINVAL, "expected auto or none", "firewall \"%s\"", arg);
	s->firewall = !strcmp(arg, "none") ? GW_FIREWALL_NONE : GW_FIREWALL_AUTO;
	return 0;
}

int spec_ipv6_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	if (!strcmp(arg, "auto"))
		s->ipv6 = GW_IPV6_AUTO;
	else if (!strcmp(arg, "on"))
		s->ipv6 = GW_IPV6_ON;
	else if (!strcmp(arg, "off"))
		s->ipv6 = GW_IPV6_OFF;
	else
		return nsg_fail(e, -EINVAL, "expected auto, on or off", "ipv6 \"%s\"", arg);
	return 0;
}

int spec_subnet6_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	struct ip_prefix n;
	const char *why = NULL;
	char buf[IP_PREFIX_STRLEN];

	if (ip_prefix_parse(arg, AF_INET6, &n) < 0) {
		struct ip_addr a;
		char addr[IP_ADDR_STRLEN];
		const char *slash = strchr(arg, '/');

		/* Host bits are the frequent mistake: say what was meant. */
		if (slash && (size_t)(slash - arg) < sizeof(addr)) {
			memcpy(addr, arg, slash - arg);
			addr[slash - arg] = '\0';
			if (ip_addr_parse(addr, AF_INET6, &a) == 0 && !strcmp(slash, "/64")) {
				n = ip_prefix_of(&a, 64);
				nsg_fail(e, -EINVAL, NULL, "--subnet6 \"%s\"", arg);
				nsg_why(e, "host bits set (did you mean %s?)", ip_prefix_str(&n, buf));
				return -EINVAL;
			}
		}
		return nsg_fail(e, -EINVAL, "expected an IPv6 /64 such as fd00:1:2:3::/64",
				"--subnet6 \"%s\"", arg);
	}
	if (n.plen != GW_SUBNET6_PLEN)
		return nsg_fail(e, -EINVAL, "a gateway's IPv6 subnet is a /64", "--subnet6 \"%s\"", arg);
	if (ipam_subnet_usable(&n, &why) < 0)
		return nsg_fail(e, -EINVAL, why, "--subnet6 \"%s\"", arg);
	s->subnet6 = n;
	s->subnet6_given = true;
	return 0;
}

int spec_no_host_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	if (strcmp(arg, "yes") && strcmp(arg, "no"))
		return nsg_fail(e, -EINVAL, "expected yes or no", "no_host \"%s\"", arg);
	s->no_host = !strcmp(arg, "yes");
	return 0;
}

int spec_name_check(const char *name, struct nsg_err *e)
{
	size_t len = strlen(name);

	if (len == 0)
		return nsg_fail(e, -EINVAL, "must not be empty", "name \"\"");
	if (len > GW_NAME_MAX)
		return nsg_fail(e, -ENAMETOOLONG, "longer than 15 bytes", "name \"%s\"", name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return nsg_fail(e, -EINVAL, "is not a usable name", "name \"%s\"", name);
	/* "nsgate exec -x -- CMD", "ip netns exec -x" would take it for an option. */
	if (name[0] == '-')
		return nsg_fail(e, -EINVAL, "must not start with '-' (it reads as an option)",
				"name \"%s\"", name);
	for (const char *p = name; *p; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || c == '.')
			continue;
		nsg_fail(e, -EINVAL, NULL, "name \"%s\"", name);
		if (c >= ' ' && c < 0x7f)
			nsg_why(e, "character '%c' not allowed (use A-Z a-z 0-9 _ . -)", c);
		else
			nsg_why(e, "byte 0x%02x not allowed (use A-Z a-z 0-9 _ . -)", (unsigned char)c);
		return -EINVAL;
	}
	return 0;
}

bool spec_name_reserved(const char *name)
{
	return !strncmp(name, GW_CNI_PREFIX, strlen(GW_CNI_PREFIX));
}

int spec_name_own_check(const char *name, struct nsg_err *e)
{
	int r = spec_name_check(name, e);

	if (r == 0 && spec_name_reserved(name))
		return nsg_fail(e, -EINVAL, "the prefix \"" GW_CNI_PREFIX "\" is reserved for nsgate-cni's "
				"container attachments", "name \"%s\"", name);
	return r;
}

bool spec_name_known(const char *name)
{
	char as_new[GW_NAME_MAX + 1];

	/* An nsgate before the leading '-' rule may have made one: gc, list
	 * and down --all must still find it (and remove it). */
	if (name[0] != '-' || strlen(name) > GW_NAME_MAX)
		return spec_name_check(name, NULL) == 0;
	snprintf(as_new, sizeof(as_new), "x%s", name + 1);
	return spec_name_check(as_new, NULL) == 0;
}

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

void spec_prefixed_ifname(const char *prefix, const char *name, char ret[IF_NAMESIZE])
{
	size_t room = IF_NAMESIZE - 1 - strlen(prefix);
	char buf[64];

	if (strlen(name) <= room) {
		snprintf(ret, IF_NAMESIZE, "%s%s", prefix, name);
		return;
	}
	/* prefix + what fits + "~" + 5 hex = 15 ("nsg-" + 5 chars for a
	 * gateway). '~' is not allowed in names, so a shortened name never
	 * equals an unshortened one. */
	snprintf(buf, sizeof(buf), "%s%.*s~%05x", prefix, (int)(room - 6), name,
		 fnv1a32(name) & 0xfffff);
	memcpy(ret, buf, IF_NAMESIZE - 1);   /* exactly 15 bytes by construction */
	ret[IF_NAMESIZE - 1] = '\0';
}

void spec_host_ifname(const char *name, char ret[IF_NAMESIZE])
{
	spec_prefixed_ifname(GW_IFNAME_PREFIX, name, ret);
}

void spec_net_port_ifname(const char *name, unsigned k, char ret[IF_NAMESIZE])
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), GW_IFNAME_PREFIX "=%u", k + 1);
	spec_prefixed_ifname(prefix, name, ret);
}

void spec_net_more_names(struct gw_spec *s, unsigned k)
{
	struct gw_net_more *m = &s->nets_more[k];

	net_bridge_ifname(m->name, m->bridge);
	spec_net_port_ifname(s->name, k, m->port);
	snprintf(m->ns_ifname, sizeof(m->ns_ifname), "eth%u", k + 1);
}

bool spec_networks_same(const struct gw_spec *a, const struct gw_spec *b)
{
	if (strcmp(a->network, b->network) || a->n_nets_more != b->n_nets_more)
		return false;
	for (unsigned k = 0; k < a->n_nets_more; k++)
		if (strcmp(a->nets_more[k].name, b->nets_more[k].name))
			return false;
	return true;
}

int spec_network_add(struct gw_spec *s, const char *net, struct nsg_err *e)
{
	int r = spec_name_check(net, e);

	if (r < 0)
		return r;
	if (!strcmp(s->network, net))
		return nsg_fail(e, -EINVAL, "given twice", "network \"%s\"", net);
	for (unsigned i = 0; i < s->n_nets_more; i++)
		if (!strcmp(s->nets_more[i].name, net))
			return nsg_fail(e, -EINVAL, "given twice", "network \"%s\"", net);
	if (!s->network[0]) {
		snprintf(s->network, sizeof(s->network), "%s", net);
		return 0;
	}
	if (s->n_nets_more >= GW_NETS_MAX - 1)
		return nsg_fail(e, -EINVAL, "at most 4 networks a gateway", "network \"%s\"", net);
	snprintf(s->nets_more[s->n_nets_more].name, sizeof(s->nets_more[0].name), "%s", net);
	spec_net_more_names(s, s->n_nets_more++);
	return 0;
}

int spec_ifname_check(const char *ifname, struct nsg_err *e)
{
	size_t len = strlen(ifname);

	if (len == 0 || len >= IF_NAMESIZE)
		return nsg_fail(e, -EINVAL, "interface names have 1 to 15 bytes",
				"interface \"%s\"", ifname);
	if (!strcmp(ifname, ".") || !strcmp(ifname, ".."))
		return nsg_fail(e, -EINVAL, "is not a valid interface name", "interface \"%s\"",
				ifname);
	for (const char *p = ifname; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ')
			return nsg_fail(e, -EINVAL, "is not a valid interface name",
					"interface \"%s\"", ifname);
	return 0;
}

/* One label of a host name (RFC 1123): 1 to 63 letters, digits and '-',
 * neither first nor last a '-'. */
static int hostname_label_check(const char *name, const char *label, size_t len,
				struct nsg_err *e)
{
	if (len == 0)
		return nsg_fail(e, -EINVAL, "empty label (a '.' first, last or twice)",
				"--hostname \"%s\"", name);
	if (len > SPEC_HOSTNAME_LABEL_MAX)
		return nsg_fail(e, -EINVAL, "a label is longer than 63 bytes", "--hostname \"%s\"",
				name);
	if (label[0] == '-' || label[len - 1] == '-')
		return nsg_fail(e, -EINVAL, "a label must not start or end with '-'",
				"--hostname \"%s\"", name);
	for (size_t i = 0; i < len; i++) {
		char c = label[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-')
			continue;
		nsg_fail(e, -EINVAL, NULL, "--hostname \"%s\"", name);
		if (c > ' ' && c < 0x7f)
			nsg_why(e, "character '%c' not allowed (use A-Z a-z 0-9 - .)", c);
		else
			nsg_why(e, "byte 0x%02x not allowed (use A-Z a-z 0-9 - .)", (unsigned char)c);
		return -EINVAL;
	}
	return 0;
}

int spec_hostname_check(const char *name, struct nsg_err *e)
{
	size_t len = strlen(name);
	const char *p = name, *dot;
	int r;

	if (len == 0)
		return nsg_fail(e, -EINVAL, "must not be empty", "--hostname \"\"");
	if (len > SPEC_HOSTNAME_MAX)
		return nsg_fail(e, -ENAMETOOLONG, "longer than 64 bytes", "--hostname \"%s\"", name);
	for (;; p = dot + 1) {
		dot = strchr(p, '.');
		r = hostname_label_check(name, p, dot ? (size_t)(dot - p) : strlen(p), e);
		if (r < 0 || !dot)
			return r;
	}
}

_Static_assert(GW_NETNS_PATH_MAX == 512, "spec_netns_parse's message says 511 bytes");

int spec_netns_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	unsigned long pid;
	int r;

	if (!arg[0])
		return nsg_fail(e, -EINVAL, "must not be empty", "--netns \"\"");
	if (strlen(arg) >= sizeof(s->netns_arg))
		return nsg_fail(e, -ENAMETOOLONG, "longer than 511 bytes", "--netns");
	snprintf(s->netns_arg, sizeof(s->netns_arg), "%s", arg);

	if (arg[0] >= '0' && arg[0] <= '9' && spec_parse_uint(arg, INT32_MAX, &pid) == 0) {
		if (pid == 0)
			return nsg_fail(e, -EINVAL, "is not a process id", "--netns \"%s\"", arg);
		s->netns_kind = GW_NETNS_PID;
		snprintf(s->netns_path, sizeof(s->netns_path), "/proc/%lu/ns/net", pid);
		return 0;
	}
	if (strchr(arg, '/')) {
		/* Stored and compared as text: it must mean the same file from
		 * any directory, and fit on one line of the state file. */
		if (arg[0] != '/')
			return nsg_fail(e, -EINVAL, "a namespace path must be absolute", "--netns \"%s\"", arg);
		for (const char *p = arg; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				return nsg_fail(e, -EINVAL, "control characters are not allowed",
						"--netns \"%s\"", arg);
		s->netns_kind = GW_NETNS_PATH;
		snprintf(s->netns_path, sizeof(s->netns_path), "%s", arg);
		return 0;
	}
	/* iproute2 names follow the same rules as ours, more or less: refuse
	 * what could escape /run/netns. */
	r = spec_name_check(arg, e);
	if (r < 0) {
		nsg_fail(e, r, NULL, "--netns \"%s\"", arg);
		return r;
	}
	s->netns_kind = GW_NETNS_NAMED;
	snprintf(s->netns_path, sizeof(s->netns_path), "/run/netns/%s", arg);
	return 0;
}

int spec_dns_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	static const char expected[] = "expected auto, none or IP addresses separated by commas";
	char buf[256];
	char *save = NULL;

	s->n_dns = 0;
	if (!strcmp(arg, "auto")) {
		s->dns_mode = GW_DNS_AUTO;
		return 0;
	}
	if (!strcmp(arg, "none")) {
		s->dns_mode = GW_DNS_NONE;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf))
		return nsg_fail(e, -EINVAL, "too long", "--dns");
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct in6_addr in6;
		struct ip_addr a;

		/* Loopback ones stay allowed in both families: a resolver run
		 * inside the namespace answers there. */
		if (ip_addr_parse(tok, AF_UNSPEC, &a) < 0)
			return nsg_fail(e, -EINVAL, expected, "--dns \"%s\"", tok);
		if (a.family == AF_INET6) {
			memcpy(&in6, a.v6, sizeof(in6));
			/* A link-local server needs a zone (fe80::1%eth0),
			 * and the host's links are not the namespace's. */
			if (IN6_IS_ADDR_LINKLOCAL(&in6))
				return nsg_fail(e, -EINVAL,
						"a link-local address cannot be reached from the namespace",
						"--dns \"%s\"", tok);
			/* On the wire it is IPv4: the no-host rules must see it so. */
			if (IN6_IS_ADDR_V4MAPPED(&in6))
				return nsg_fail(e, -EINVAL, "an IPv4-mapped address: write it as IPv4",
						"--dns \"%s\"", tok);
		}
		if (s->n_dns == GW_DNS_MAX)
			return nsg_fail(e, -EINVAL, "at most 3 nameservers (the resolver reads no more)",
					"--dns \"%s\"", arg);
		s->dns[s->n_dns++] = a;
	}
	if (s->n_dns == 0 || arg[strlen(arg) - 1] == ',' || arg[0] == ',' || strstr(arg, ",,"))
		return nsg_fail(e, -EINVAL, expected, "--dns \"%s\"", arg);
	s->dns_mode = GW_DNS_LIST;
	return 0;
}

bool spec_dns_same(const struct gw_spec *a, const struct gw_spec *b)
{
	if (a->dns_mode != b->dns_mode)
		return false;
	if (a->dns_mode != GW_DNS_LIST)
		return true;
	if (a->n_dns != b->n_dns)
		return false;
	for (unsigned i = 0; i < a->n_dns && i < GW_DNS_MAX; i++)
		if (!ip_addr_eq(&a->dns[i], &b->dns[i]))
			return false;
	return true;
}

int spec_subnet_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	struct ip_prefix n;
	char buf[IP_PREFIX_STRLEN];
	const char *why = NULL;

	if (ip_prefix_parse(arg, AF_INET, &n) < 0) {
		/* Say which rule was broken: a frequent one is host bits. */
		struct ip_addr a;
		const char *slash = strchr(arg, '/');
		if (slash && (size_t)(slash - arg) < 16) {
			char addr[16];
			memcpy(addr, arg, slash - arg);
			addr[slash - arg] = '\0';
			unsigned long plen;
			if (ip_addr_parse(addr, AF_INET, &a) == 0 && spec_parse_uint(slash + 1, 32, &plen) == 0 &&
			    plen >= 8 && plen <= 30) {
				n = ip_prefix_of(&a, plen);
				nsg_fail(e, -EINVAL, NULL, "--subnet \"%s\"", arg);
				nsg_why(e, "host bits set (did you mean %s?)", ip_prefix_str(&n, buf));
				return -EINVAL;
			}
		}
		return nsg_fail(e, -EINVAL, "expected an IPv4 prefix such as 10.200.7.0/30",
				"--subnet \"%s\"", arg);
	}
	if (n.plen < 8 || n.plen > 30)
		return nsg_fail(e, -EINVAL, "prefix length must be 8 to 30", "--subnet \"%s\"", arg);
	if (ipam_subnet_usable(&n, &why) < 0)
		return nsg_fail(e, -EINVAL, why, "--subnet \"%s\"", arg);
	s->subnet = n;
	s->subnet_given = true;
	return 0;
}

int spec_lan_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	int r = spec_ifname_check(arg, e);

	if (r < 0) {
		nsg_fail(e, r, NULL, "--lan \"%s\"", arg);
		return r;
	}
	if (!strcmp(arg, "lo"))
		return nsg_fail(e, -EINVAL, "the loopback has no LAN", "--lan \"%s\"", arg);
	if (!strncmp(arg, GW_IFNAME_PREFIX, strlen(GW_IFNAME_PREFIX)))
		return nsg_fail(e, -EINVAL, "is a gateway's own interface", "--lan \"%s\"", arg);
	snprintf(s->lan.iface, sizeof(s->lan.iface), "%s", arg);
	/* No subnet of the pool: the namespace's address is the LAN's. */
	s->subnet = ip_prefix_v4(0, 0);
	return 0;
}

int spec_lan_address_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	static const char expected[] = "expected an IPv4 address and prefix length such as "
				       "192.168.1.50/24";
	const char *slash = strchr(arg, '/'), *why = NULL;
	char addr[IP_ADDR_STRLEN];
	unsigned long plen;
	struct ip_addr a;
	struct ip_prefix net;
	uint32_t host;

	if (!slash || (size_t)(slash - arg) >= sizeof(addr))
		return nsg_fail(e, -EINVAL, expected, "--address \"%s\"", arg);
	memcpy(addr, arg, slash - arg);
	addr[slash - arg] = '\0';
	if (ip_addr_parse(addr, AF_INET, &a) < 0 || spec_parse_uint(slash + 1, 32, &plen) < 0)
		return nsg_fail(e, -EINVAL, expected, "--address \"%s\"", arg);
	if (plen < 8)
		return nsg_fail(e, -EINVAL, "prefix length must be 8 to 32", "--address \"%s\"", arg);
	net = ip_prefix_of(&a, plen);
	if (ipam_subnet_usable(&net, &why) < 0)
		return nsg_fail(e, -EINVAL, why, "--address \"%s\"", arg);
	/* A /31 (RFC 3021) and a /32 have no network or broadcast address. */
	host = a.v4 & ~ip_v4_mask(plen);
	if (plen <= 30 && host == 0)
		return nsg_fail(e, -EINVAL, "is the network address of its prefix",
				"--address \"%s\"", arg);
	if (plen <= 30 && host == ~ip_v4_mask(plen))
		return nsg_fail(e, -EINVAL, "is the broadcast address of its prefix",
				"--address \"%s\"", arg);
	s->lan.addr = a;
	s->lan.plen = plen;
	return 0;
}

int spec_lan_gateway_parse(const char *arg, struct gw_spec *s, struct nsg_err *e)
{
	struct ip_addr a;
	struct ip_prefix one;
	const char *why = NULL;

	if (ip_addr_parse(arg, AF_INET, &a) < 0)
		return nsg_fail(e, -EINVAL, "expected an IPv4 address such as 192.168.1.1",
				"--gateway \"%s\"", arg);
	one = ip_prefix_of(&a, 32);
	if (ipam_subnet_usable(&one, &why) < 0)
		return nsg_fail(e, -EINVAL, why, "--gateway \"%s\"", arg);
	s->lan.gateway = a;
	s->lan.gateway_given = true;
	return 0;
}

void spec_lan_mac(const uint8_t seed[16], const char *name, uint8_t mac[6])
{
	uint64_t h = 14695981039346656037ull;   /* FNV-1a 64 */
	const char label[] = "nsgate lan mac";

	for (size_t i = 0; i < sizeof(label); i++)
		h = (h ^ (uint8_t)label[i]) * 1099511628211ull;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ seed[i]) * 1099511628211ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* Locally administered (bit 1), unicast (bit 0 clear). */
	mac[0] = (mac[0] & 0xfc) | 0x02;
}

/* A NAT option given with --lan: exit 2, naming it. */
static int lan_refuse(struct nsg_err *e, const char *opt)
{
	return nsg_fail(e, -EINVAL, "not with --lan (a LAN gateway has no NAT, no veth and no "
			"nftables rules)", "%s", opt);
}

int spec_lan_check(const struct gw_spec *s, size_t n_pubs, struct nsg_err *e)
{
	const struct gw_lan *l = &s->lan;
	char a[IP_ADDR_STRLEN], n[IP_PREFIX_STRLEN];
	struct ip_prefix net;

	if (!spec_is_lan(s)) {
		if (ip_addr_is_set(&l->addr))
			return nsg_fail(e, -EINVAL, "only with --lan IFACE", "--address");
		return l->gateway_given ? nsg_fail(e, -EINVAL, "only with --lan IFACE", "--gateway") : 0;
	}
	if (n_pubs)
		return lan_refuse(e, "--publish");
	if (s->no_host)
		return lan_refuse(e, "--no-host");
	if (s->subnet_given)
		return lan_refuse(e, "--subnet");
	if (s->subnet6_given)
		return lan_refuse(e, "--subnet6");
	if (s->uplink[0])
		return lan_refuse(e, "--uplink");
	if (s->network[0])
		return nsg_fail(e, -EINVAL, "not with --lan (a LAN gateway is on IFACE's segment, "
				"not on a network's bridge)", "--network");
	if (s->ipv6 != GW_IPV6_AUTO)
		return nsg_fail(e, -EINVAL, "not with --lan (IPv6 comes from the LAN's router "
				"advertisements)", "--ipv6");
	if (!l->gateway_given)
		return 0;
	if (!ip_addr_is_set(&l->addr))
		return nsg_fail(e, -EINVAL, "only with --address (a DHCP client inside sets its own)",
				"--gateway \"%s\"", ip_addr_str(&l->gateway, a));
	if (ip_addr_eq(&l->gateway, &l->addr))
		return nsg_fail(e, -EINVAL, "is --address itself", "--gateway \"%s\"",
				ip_addr_str(&l->gateway, a));
	net = ip_prefix_of(&l->addr, l->plen);
	/* The default route via it would need "onlink": a LAN's router is on it. */
	if (!ip_prefix_contains(&net, &l->gateway)) {
		nsg_fail(e, -EINVAL, NULL, "--gateway \"%s\"", ip_addr_str(&l->gateway, a));
		nsg_why(e, "is not on the subnet of --address (%s)", ip_prefix_str(&net, n));
		return -EINVAL;
	}
	return 0;
}
