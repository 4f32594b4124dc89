/* SPDX-License-Identifier: MIT */
/* down NAME and down --all: the public face of teardown.c. */
#include "core.h"

int gateway_down(const char *name, bool *found, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	int r = session_open(&s, SESSION_ALL, e);

	*found = false;
	return r < 0 ? r : teardown_one(&s, name, found, e);
}

int gateway_down_all(size_t *count, struct nsg_err *e)
{
	_cleanup_session_ struct session s = SESSION_INIT;
	_cleanup_free_ char (*names)[GW_NAME_MAX + 1] = NULL;
	_cleanup_free_ struct link_info *links = NULL;
	struct teardown_survey known = { .others = false };
	int n, r;

	*count = 0;
	r = session_open(&s, SESSION_ALL, e);
	if (r < 0)
		return r;
	/* One inventory for both: what goes, and what teardown reads first. */
	n = inventory_list(s.host, &names, &links, &known.n_links, TEARDOWN_INVENTORY);
	if (n < 0)
		return nsg_fail(e, n, NULL, "listing gateways");
	known.links = links;
	return teardown_many(&s, names, n, &known, count, e);
}
