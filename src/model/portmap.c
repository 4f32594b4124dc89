/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/portmap.h"
#include "nsgate/spec.h"

const char *spec_proto_name(uint8_t proto)
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

int spec_publish_parse(const char *arg, struct publish *ret, struct nsg_err *e)
{
	char buf[PUBLISH_STRLEN + 16], *proto, *parts[3], *save = NULL;
	struct publish p = { .proto = IPPROTO_TCP };
	const char *why;
	uint32_t count;
	size_t n = 0;
	int r;

	if (strlen(arg) >= sizeof(buf))
		return nsg_fail(e, -EINVAL, "too long", "publish \"%.40s...\"", arg);
	if (arg[0] == '[')
		return nsg_fail(e, -EINVAL, "IPv6 host addresses are not supported yet",
				"publish \"%s\"", arg);
	snprintf(buf, sizeof(buf), "%s", arg);
	proto = strrchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (!strcmp(proto, "tcp"))
			p.proto = IPPROTO_TCP;
		else if (!strcmp(proto, "udp"))
			p.proto = IPPROTO_UDP;
		else if (!strcmp(proto, "sctp"))
			p.proto = IPPROTO_SCTP;
		else
			return nsg_fail(e, -EINVAL, "unknown protocol (tcp, udp or sctp)",
					"publish \"%s\": \"%s\"", arg, proto);
	}
	for (char *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			return nsg_fail(e, -EINVAL, "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]",
					"publish \"%s\"", arg);
		parts[n++] = t;
	}
	if (n < 2 || strstr(arg, "::") || arg[0] == ':')
		return nsg_fail(e, -EINVAL, "expected [HOSTADDR:]HOSTPORT:PORT[/PROTO]",
				"publish \"%s\"", arg);
	if (n == 3 && ip4_addr_parse(parts[0], &p.host_addr) < 0)
		return nsg_fail(e, -EINVAL, "not an IPv4 address", "publish \"%s\": host address \"%s\"",
				arg, parts[0]);
	if (n == 3 && p.host_addr == 0)
		return nsg_fail(e, -EINVAL, "leave the address out to publish on every host address",
				"publish \"%s\": host address \"%s\"", arg, parts[0]);
	r = parse_port_range(parts[n - 2], &p.host_port, &p.count, &why);
	if (r < 0)
		return nsg_fail(e, r, why, "publish \"%s\": host port \"%s\"", arg, parts[n - 2]);
	r = parse_port_range(parts[n - 1], &p.port, &count, &why);
	if (r < 0)
		return nsg_fail(e, r, why, "publish \"%s\": port \"%s\"", arg, parts[n - 1]);
	if (count != p.count)
		return nsg_fail(e, -EINVAL, "the host and namespace ranges differ in length",
				"publish \"%s\"", arg);
	*ret = p;
	return 0;
}

char *spec_publish_str(const struct publish *p, char buf[PUBLISH_STRLEN])
{
	char a[IP4_STRLEN + 1] = "", hp[16], np[16];

	if (p->host_addr) {
		ip4_addr_str(p->host_addr, a);
		strcat(a, ":");
	}
	if (p->count > 1) {
		snprintf(hp, sizeof(hp), "%u-%u", p->host_port, p->host_port + p->count - 1);
		snprintf(np, sizeof(np), "%u-%u", p->port, p->port + p->count - 1);
	} else {
		snprintf(hp, sizeof(hp), "%u", p->host_port);
		snprintf(np, sizeof(np), "%u", p->port);
	}
	snprintf(buf, PUBLISH_STRLEN, "%s%s:%s/%s", a, hp, np, spec_proto_name(p->proto));
	return buf;
}

bool spec_publish_overlap(const struct publish *a, const struct publish *b)
{
	uint32_t a_end = a->host_port + a->count, b_end = b->host_port + b->count;

	if (a->proto != b->proto)
		return false;
	/* An unbound publish takes the port on every address, a bound one too. */
	if (a->host_addr && b->host_addr && a->host_addr != b->host_addr)
		return false;
	return a->host_port < b_end && b->host_port < a_end;
}
