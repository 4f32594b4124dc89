/* SPDX-License-Identifier: MIT */
/*
 * IP addresses and prefixes tagged with their family: the one address type
 * of the model, from parsing to netlink. nsgate's gateways are IPv4 today;
 * the type (and everything that passes it along) is ready for IPv6, and
 * code that is IPv4 only says so by checking the family. Pure functions.
 */
#ifndef NSGATE_IPADDR_H
#define NSGATE_IPADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ip_addr {
	sa_family_t family;      /* AF_INET or AF_INET6; AF_UNSPEC: none, or "every address" */
	union {
		uint32_t v4;     /* host byte order, so that prefixes are arithmetic */
		uint8_t v6[16];  /* network byte order */
	};
};

struct ip_prefix {
	struct ip_addr addr;     /* the first address: host bits are zero */
	uint8_t plen;
};

#define IP_ADDR_STRLEN INET6_ADDRSTRLEN           /* with the NUL */
#define IP_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)   /* "/128" */

static inline struct ip_addr ip_addr_v4(uint32_t host_order)
{
	return (struct ip_addr){ .family = AF_INET, .v4 = host_order };
}

static inline struct ip_prefix ip_prefix_v4(uint32_t host_order, uint8_t plen)
{
	return (struct ip_prefix){ .addr = ip_addr_v4(host_order), .plen = plen };
}

static inline bool ip_addr_is_v4(const struct ip_addr *a) { return a->family == AF_INET; }
static inline bool ip_addr_is_set(const struct ip_addr *a) { return a->family != AF_UNSPEC; }

/* Bytes of an address of family (4, 16), 0 for an unknown family. */
unsigned ip_family_len(int family);
/* Bits of an address of family (32, 128), 0 for an unknown family. */
unsigned ip_family_bits(int family);

/* Strict text forms (inet_pton: no "10.1" shorthands). family AF_INET or
 * AF_INET6 accepts only that one, AF_UNSPEC either. 0 or -EINVAL. */
int ip_addr_parse(const char *s, int family, struct ip_addr *ret);
/* "ADDR/LEN" with the host bits zero. 0 or -EINVAL. */
int ip_prefix_parse(const char *s, int family, struct ip_prefix *ret);
/* "" for AF_UNSPEC. */
char *ip_addr_str(const struct ip_addr *a, char buf[IP_ADDR_STRLEN]);
char *ip_prefix_str(const struct ip_prefix *p, char buf[IP_PREFIX_STRLEN]);

/* Equal family and address (AF_UNSPEC equals AF_UNSPEC). */
bool ip_addr_eq(const struct ip_addr *a, const struct ip_addr *b);
/* A total order: by family, then address. */
int ip_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);
bool ip_prefix_eq(const struct ip_prefix *a, const struct ip_prefix *b);
/* Of one family and sharing the shorter prefix. */
bool ip_prefix_overlap(const struct ip_prefix *a, const struct ip_prefix *b);
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* The prefix of length plen that holds a: a with its host bits cleared.
 * plen is cut to the family's bits (AF_UNSPEC gives length 0). */
struct ip_prefix ip_prefix_of(const struct ip_addr *a, unsigned plen);
/* The IPv4 netmask of a prefix length 0..32 (longer counts as 32), host
 * byte order: for the IPv4 arithmetic of ipam and broadcast addresses. */
uint32_t ip_v4_mask(unsigned plen);

/* The address in network byte order, as netlink and nftables carry it;
 * returns its length (ip_family_len), 0 for AF_UNSPEC. */
unsigned ip_addr_to_bytes(const struct ip_addr *a, void *buf);
/* From network byte order. 0, or -EAFNOSUPPORT for another family. */
int ip_addr_from_bytes(int family, const void *buf, struct ip_addr *ret);

#endif
