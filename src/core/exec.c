/* SPDX-License-Identifier: MIT */
#include "core.h"

int gateway_exec(const char *name, char *const argv[], struct nsg_err *e)
{
	struct gw_state st;
	char path[PATH_MAX];
	int r = state_load(name, &st);

	if (r == 0)
		snprintf(path, sizeof(path), "%s", st.spec.netns_path);
	else if (r == -ENOENT)
		return nsg_fail(e, -ENOENT, "no such gateway", "gateway \"%s\"", name);
	else
		return nsg_fail(e, r, NULL, "state of gateway \"%s\"", name);
	return netns_exec(path, name, argv, e);
}
