/* SPDX-License-Identifier: MIT */
/*
 * Port mappings: a published host port range and where it leads, from the
 * SPEC text of the command line and the config file. Pure.
 */
#ifndef NSGATE_PORTMAP_H
#define NSGATE_PORTMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "nsgate/common.h"
#include "nsgate/ip4.h"

/* One published port range: host [addr:]port..port+count-1 -> namespace
 * port..port+count-1. Host byte order. */
struct publish {
	uint32_t host_addr;     /* 0: every host address */
	uint8_t proto;          /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	uint16_t host_port;
	uint16_t port;
	uint32_t count;         /* >= 1 */
};
#define PUBLISH_STRLEN 64

/* [HOSTADDR:]HOSTPORT[-HOSTEND]:PORT[-END][/tcp|udp|sctp], default tcp.
 * The error names the part that is wrong. */
int spec_publish_parse(const char *arg, struct publish *ret, struct nsg_err *e);
/* The canonical text of p ("127.0.0.1:5432:5432/tcp", "5000-5009:6000-6009/udp"). */
char *spec_publish_str(const struct publish *p, char buf[PUBLISH_STRLEN]);
const char *spec_proto_name(uint8_t proto);
/* Whether two publishes claim a common host (address, protocol, port). */
bool spec_publish_overlap(const struct publish *a, const struct publish *b);

#endif
