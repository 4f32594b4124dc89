/* SPDX-License-Identifier: MIT */
/* exec: the user's command inside a gateway's namespace. */
#include "core.h"

int gateway_exec(const char *name, char *const argv[], struct nsg_err *e)
{
	struct gw_state st;
	char path[PATH_MAX];
	int r = inventory_load_running(name, &st, e);

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s", st.spec.netns_path);
	return netns_exec(path, name, argv, e);
}
