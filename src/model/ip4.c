/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/ip4.h"

uint32_t ip4_mask(uint8_t plen)
{
	return plen == 0 ? 0 : ~UINT32_C(0) << (32 - plen);
}

int ip4_addr_parse(const char *s, uint32_t *ret)
{
	struct in_addr a;

	/* inet_pton accepts only the strict dotted-quad form, no "10.1" shorthands. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ret = ntohl(a.s_addr);
	return 0;
}

int ip4_net_parse(const char *s, struct ip4_net *ret)
{
	char buf[IP4_NET_STRLEN + 1];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long plen;
	uint32_t addr;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) || slash[1] == '\0')
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (ip4_addr_parse(buf, &addr) < 0)
		return -EINVAL;
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno || *end || plen > 32)
		return -EINVAL;
	if (addr & ~ip4_mask(plen))
		return -EINVAL;
	ret->addr = addr;
	ret->plen = plen;
	return 0;
}

bool ip4_net_overlap(const struct ip4_net *a, const struct ip4_net *b)
{
	uint8_t plen = a->plen < b->plen ? a->plen : b->plen;

	return (a->addr & ip4_mask(plen)) == (b->addr & ip4_mask(plen));
}

char *ip4_addr_str(uint32_t addr, char buf[IP4_STRLEN])
{
	snprintf(buf, IP4_STRLEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
		 (addr >> 8) & 0xff, addr & 0xff);
	return buf;
}

char *ip4_net_str(const struct ip4_net *net, char buf[IP4_NET_STRLEN])
{
	char a[IP4_STRLEN];

	snprintf(buf, IP4_NET_STRLEN, "%s/%u", ip4_addr_str(net->addr, a), net->plen);
	return buf;
}
