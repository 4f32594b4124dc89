/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* ------------------------------------------------------------------- exec */

/* exec NAME [--] CMD..., or exec -- NAME [--] CMD... as other tools take it.
 * exec has no options: CMD's own come after NAME, so getopt stays away. */
int cmd_exec(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	const char *name;
	int i = 1, r;

	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return usage_error("exec", "NAME: missing");
	if (i == 1 && argv[i][0] == '-')
		return usage_error("exec", "option \"%s\": unknown", argv[i]);
	r = spec_name_check(argv[i], &e);
	if (r < 0)
		return report(&e, r);
	name = argv[i++];
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		return usage_error("exec", "CMD: missing");
	if (need_privileges("exec"))
		return EXIT_FAIL;
	/* Returns only when CMD did not run; the error's kind says why (127:
	 * not found, 126: cannot run, as shells and ip netns exec exit). */
	r = gateway_exec(name, argv + i, &e);
	return report(&e, r);
}
