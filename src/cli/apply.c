/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* ------------------------------------------------------------------ apply */

int cmd_apply(int argc, char *argv[])
{
	static const struct option opts[] = { { "prune", no_argument, NULL, 'p' }, { 0 } };
	struct gw_apply_item *items = NULL;
	struct config cfg = { 0 };
	struct nsg_err e = { 0 };
	bool prune = false;
	size_t n = 0, changes = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'p')
			return usage_error("apply", "%s", "bad option");
		prune = true;
	}
	if (optind + 1 != argc)
		return usage_error("apply", "%s", optind >= argc ? "missing FILE" : "expected one FILE");
	/* The whole file is checked before anything is touched. */
	r = config_parse_file(argv[optind], &cfg, &e);
	if (r < 0)
		return report(&e, r);
	if (need_privileges("apply")) {
		config_free(&cfg);
		return EXIT_FAIL;
	}
	r = gateway_apply(&cfg, prune, &items, &n, &e);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].action)
			continue;
		if (strcmp(items[i].action, "unchanged"))
			changes++;
		printf("%s: %s%s%s%s\n", items[i].name, items[i].action, items[i].detail[0] ? " (" : "",
		       items[i].detail, items[i].detail[0] ? ")" : "");
	}
	free(items);
	config_free(&cfg);
	if (r < 0)
		return report(&e, r);
	printf("%zu change%s\n", changes, changes == 1 ? "" : "s");
	return EXIT_OK;
}

/* --------------------------------------------------------------------- gc */

int cmd_gc(int argc, char *argv[])
{
	struct gw_gc_item *items = NULL;
	struct gw_restore_result res;
	struct nsg_err e = { 0 };
	size_t n;
	int r;

	if (argc > 1)
		return usage_error("gc", "unexpected argument \"%s\"", argv[1]);
	if (need_privileges("gc"))
		return EXIT_FAIL;
	r = gateway_gc(&items, &n, &res, &e);
	if (r < 0)
		return report(&e, r);
	for (size_t i = 0; i < n; i++)
		printf("%s: removed, %s\n", items[i].name, items[i].reason);
	if (res.table)
		printf("table inet nsgate: restored\n");
	for (size_t i = 0; i < res.n_gateways; i++)
		printf("%s: restored, its nftables elements differed from its files\n", res.gateways[i]);
	free(items);
	free(res.gateways);
	return EXIT_OK;
}

/* One line per event, flushed at once: whoever reads watch's output (a
 * service manager's journal, a pipe) sees each action as it happens. */
static void watch_print(const struct watch_event *ev, void *userdata)
{
	FILE *out = userdata;

	switch (ev->type) {
	case WATCH_LISTENING:
		fprintf(out, "watch: listening for nftables and link events\n");
		break;
	case WATCH_REMOVED:
		fprintf(out, "watch: %s: removed, %s\n", ev->name, ev->reason);
		break;
	case WATCH_RESTORED:
		fprintf(out, "watch: restored table %s\n", ev->name);
		break;
	case WATCH_REPAIRED:
		fprintf(out, "watch: %s: restored, %s\n", ev->name, ev->reason);
		break;
	}
	fflush(out);
}

int cmd_watch(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	int r;

	if (argc > 1)
		return usage_error("watch", "unexpected argument \"%s\"", argv[1]);
	if (need_privileges("watch"))
		return EXIT_FAIL;
	r = watch_run(watch_print, stdout, &e);
	return r < 0 ? report(&e, r) : EXIT_OK;
}
