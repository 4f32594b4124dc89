/* SPDX-License-Identifier: MIT */
/* exec: the user's command inside a gateway's namespace. */
#include "core.h"

int gateway_exec(const char *name, char *const argv[], struct nsg_err *e)
{
	struct gw_state st;
	char path[PATH_MAX];
	int r = state_load(name, &st);

	if (r == -ENOENT)
		return nsg_fail_kind(e, NSG_KIND_NOT_FOUND, -ENOENT, "no such gateway",
				     "gateway \"%s\"", name);
	if (r < 0)
		return nsg_fail(e, r, NULL, "state of gateway \"%s\"", name);
	snprintf(path, sizeof(path), "%s", st.spec.netns_path);
	return netns_exec(path, name, argv, e);
}
