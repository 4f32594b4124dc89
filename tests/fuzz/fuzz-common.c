/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "fuzz-common.h"
#include "nsgate/portmap.h"

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

void fuzz_check_portmap(const char *text)
{
	struct portmap p, q;
	struct nsg_err e = { 0 };
	char buf[PORTMAP_STRLEN];

	if (portmap_parse(text, &p, &e) < 0) {
		CHECK(e.code < 0 && e.what[0]);
		return;
	}
	CHECK(!ip_addr_is_set(&p.to_addr) && !p.owner[0]);
	portmap_str(&p, buf);
	CHECK(portmap_parse(buf, &q, NULL) == 0);
	CHECK(ip_addr_eq(&p.host_addr, &q.host_addr) && p.proto == q.proto &&
	      p.host_port == q.host_port && p.port == q.port && p.count == q.count);
	CHECK(portmap_overlap(&p, &q));
}
