/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* ------------------------------------------------------------------- exec */

int cmd_exec(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	int i = 1, r;

	if (argc < 2 || argv[1][0] == '-')
		return usage_error("exec", "%s", "missing NAME");
	r = spec_name_check(argv[1], &e);
	if (r < 0)
		return report(&e, r);
	i = 2;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return usage_error("exec", "%s", "missing CMD");
	if (need_privileges("exec"))
		return EXIT_FAIL;
	/* Returns only when CMD did not run; the error's kind says why (127:
	 * not found, 126: cannot run, as shells and ip netns exec exit). */
	r = gateway_exec(argv[1], argv + i, &e);
	return report(&e, r);
}
