/* SPDX-License-Identifier: MIT */
/* IPv4 prefixes: parsing, printing, overlap. Pure functions. */
#ifndef NSGATE_IP4_H
#define NSGATE_IP4_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* A prefix in host byte order: addr is the first address, masked. */
struct ip4_net {
	uint32_t addr;
	uint8_t plen;
};

#define IP4_STRLEN 16          /* "255.255.255.255" */
#define IP4_NET_STRLEN 20      /* "255.255.255.255/32" and NUL, with room */

uint32_t ip4_mask(uint8_t plen);
/* Parse "a.b.c.d/len". Host bits must be zero. 0 or -EINVAL. */
int ip4_net_parse(const char *s, struct ip4_net *ret);
/* Parse a dotted quad. 0 or -EINVAL. */
int ip4_addr_parse(const char *s, uint32_t *ret);
bool ip4_net_overlap(const struct ip4_net *a, const struct ip4_net *b);
char *ip4_addr_str(uint32_t addr, char buf[IP4_STRLEN]);
char *ip4_net_str(const struct ip4_net *net, char buf[IP4_NET_STRLEN]);
static inline struct in_addr ip4_in_addr(uint32_t a) { return (struct in_addr){ .s_addr = htonl(a) }; }

#endif
