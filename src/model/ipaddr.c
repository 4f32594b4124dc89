/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/ipaddr.h"

unsigned ip_family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

unsigned ip_family_bits(int family)
{
	return 8 * ip_family_len(family);
}

unsigned ip_addr_to_bytes(const struct ip_addr *a, void *buf)
{
	uint32_t be;

	switch (a->family) {
	case AF_INET:
		be = htonl(a->v4);
		memcpy(buf, &be, 4);
		return 4;
	case AF_INET6:
		memcpy(buf, a->v6, 16);
		return 16;
	default:
		return 0;
	}
}

int ip_addr_from_bytes(int family, const void *buf, struct ip_addr *ret)
{
	uint32_t be;

	*ret = (struct ip_addr){ .family = family };
	switch (family) {
	case AF_INET:
		memcpy(&be, buf, 4);
		ret->v4 = ntohl(be);
		return 0;
	case AF_INET6:
		memcpy(ret->v6, buf, 16);
		return 0;
	default:
		ret->family = AF_UNSPEC;
		return -EAFNOSUPPORT;
	}
}

int ip_addr_parse(const char *s, int family, struct ip_addr *ret)
{
	uint8_t buf[16];

	if ((family == AF_INET || family == AF_UNSPEC) && inet_pton(AF_INET, s, buf) == 1)
		return ip_addr_from_bytes(AF_INET, buf, ret);
	if ((family == AF_INET6 || family == AF_UNSPEC) && inet_pton(AF_INET6, s, buf) == 1)
		return ip_addr_from_bytes(AF_INET6, buf, ret);
	return -EINVAL;
}

/* Whether the first plen bits of two byte strings agree. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned whole = plen / 8, rest = plen % 8;

	if (memcmp(a, b, whole))
		return false;
	return !rest || ((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Whether every bit from plen on is zero. */
static bool host_bits_zero(const uint8_t *a, unsigned len, unsigned plen)
{
	for (unsigned bit = plen; bit < 8 * len; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int ip_prefix_parse(const char *s, int family, struct ip_prefix *ret)
{
	char buf[IP_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	uint8_t bytes[16];
	unsigned long plen;
	char *end;
	struct ip_addr a;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (ip_addr_parse(buf, family, &a) < 0)
		return -EINVAL;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno || *end || plen > ip_family_bits(a.family))
		return -EINVAL;
	ip_addr_to_bytes(&a, bytes);
	if (!host_bits_zero(bytes, ip_family_len(a.family), plen))
		return -EINVAL;
	ret->addr = a;
	ret->plen = plen;
	return 0;
}

char *ip_addr_str(const struct ip_addr *a, char buf[IP_ADDR_STRLEN])
{
	uint8_t bytes[16];

	buf[0] = '\0';
	if (ip_addr_to_bytes(a, bytes))
		inet_ntop(a->family, bytes, buf, IP_ADDR_STRLEN);
	return buf;
}

char *ip_prefix_str(const struct ip_prefix *p, char buf[IP_PREFIX_STRLEN])
{
	char a[IP_ADDR_STRLEN];

	snprintf(buf, IP_PREFIX_STRLEN, "%s/%u", ip_addr_str(&p->addr, a), p->plen);
	return buf;
}

int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	uint8_t x[16], y[16];
	unsigned len;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	/* Sorting thousands of ports compares addresses: IPv4 without copying. */
	if (a->family == AF_INET)
		return a->v4 < b->v4 ? -1 : a->v4 > b->v4;
	len = ip_addr_to_bytes(a, x);
	ip_addr_to_bytes(b, y);
	return len ? memcmp(x, y, len) : 0;
}

bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return ip_addr_cmp(a, b) == 0;
}

bool ip_prefix_eq(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->plen == b->plen && ip_addr_eq(&a->addr, &b->addr);
}

bool ip_prefix_overlap(const struct ip_prefix *a, const struct ip_prefix *b)
{
	uint8_t x[16], y[16];

	if (a->addr.family != b->addr.family || !ip_addr_to_bytes(&a->addr, x))
		return false;
	ip_addr_to_bytes(&b->addr, y);
	return bits_equal(x, y, a->plen < b->plen ? a->plen : b->plen);
}

struct ip_prefix ip_prefix_of(const struct ip_addr *a, unsigned plen)
{
	unsigned bits = ip_family_bits(a->family);
	struct ip_prefix p = { .addr = *a };
	uint8_t bytes[16];

	p.plen = plen < bits ? plen : bits;
	if (!ip_addr_to_bytes(a, bytes))
		return p;
	for (unsigned bit = p.plen; bit < bits; bit++)
		bytes[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	ip_addr_from_bytes(a->family, bytes, &p.addr);
	return p;
}

uint32_t ip_v4_mask(unsigned plen)
{
	/* A shift by 32 is undefined: /0 is its own case. */
	if (plen == 0)
		return 0;
	return ~UINT32_C(0) << (32 - (plen < 32 ? plen : 32));
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	struct ip_prefix host = { .addr = *a, .plen = (uint8_t)ip_family_bits(a->family) };

	return host.plen >= p->plen && ip_prefix_overlap(p, &host);
}
