/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* ------------------------------------------------------ publish/unpublish */

static int cmd_publish_common(int argc, char *argv[], bool add)
{
	static const struct option opts[] = { { "force", no_argument, NULL, OPT_LONG }, { 0 } };
	const char *cmd = add ? "publish" : "unpublish";
	_cleanup_free_ struct portmap *pubs = NULL;
	struct nsg_err e = { 0 };
	bool force = false;
	size_t n = 0;
	int c, r;

	/* unpublish has no --force: getopt sees the table without it. */
	while ((c = getopt_long(argc, argv, ":", add ? opts : opts + 1, NULL)) != -1) {
		if (c != OPT_LONG)
			return option_error(cmd, c, argv);
		force = true;
	}
	if (optind + 2 > argc)
		return usage_error(cmd, "%s: missing", optind >= argc ? "NAME" : "SPEC");
	r = spec_name_check(argv[optind], &e);
	if (r < 0)
		return report(&e, r);
	pubs = calloc(argc, sizeof(*pubs));
	if (!pubs)
		return report(&e, -ENOMEM);
	for (int i = optind + 1; i < argc; i++) {
		r = portmap_parse(argv[i], &pubs[n++], &e);
		if (r < 0)
			return report(&e, r);
	}
	if (need_privileges(cmd))
		return EXIT_FAIL;
	r = add ? gateway_publish(argv[optind], pubs, n, force, &e)
		: gateway_unpublish(argv[optind], pubs, n, &e);
	if (r < 0)
		return report(&e, r);
	return EXIT_OK;
}

int cmd_publish(int argc, char *argv[])
{
	return cmd_publish_common(argc, argv, true);
}

int cmd_unpublish(int argc, char *argv[])
{
	return cmd_publish_common(argc, argv, false);
}
