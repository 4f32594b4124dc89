/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate/nsgate.h"

/* ------------------------------------------------------------------ apply */

int cmd_apply(int argc, char *argv[])
{
	static const struct option opts[] = { { "prune", no_argument, NULL, OPT_LONG }, { 0 } };
	struct gw_apply_item *items = NULL;
	struct config cfg = { 0 };
	struct nsg_err e = { 0 };
	bool prune = false;
	size_t n = 0, changes = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c != OPT_LONG)
			return option_error("apply", c, argv);
		prune = true;
	}
	r = args_count("apply", argc, argv, 1, "FILE");
	if (r >= 0)
		return r;
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
		/* The detail names the file's uplinks, which may hold any byte. */
		char detail[NSG_ESCAPED_SIZE(sizeof(items[i].detail))];

		if (!items[i].action)
			continue;
		if (strcmp(items[i].action, "unchanged"))
			changes++;
		printf("%s: %s%s%s%s\n", items[i].name, items[i].action, items[i].detail[0] ? " (" : "",
		       nsg_escape(items[i].detail, detail, sizeof(detail)), items[i].detail[0] ? ")" : "");
	}
	free(items);
	n = cfg.n;
	config_free(&cfg);
	if (r < 0)
		return report(&e, r);
	printf("%zu change%s\n", changes, changes == 1 ? "" : "s");
	/* As up does: what other firewalls will still drop (--firewall none
	 * sections, or a chain nsgate cannot open), with the fix. */
	if (n) {
		struct fw_blocks fw;

		if (gateway_firewall(&fw, &e) == 0)
			warn_firewall_blocks(NULL, &fw);
	}
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

	r = options_none("gc", argc, argv);
	if (r < 0)
		r = args_count("gc", argc, argv, 0, NULL);
	if (r >= 0)
		return r;
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
	for (size_t i = 0; i < res.fw_opened.n; i++) {
		char what[200];

		firewall_describe(&res.fw_opened.b[i], what, sizeof(what));
		printf("%s: opened again for the gateways\n", what);
	}
	free(items);
	free(res.gateways);
	return res.fw_err.code ? report(&res.fw_err, res.fw_err.code) : EXIT_OK;
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
	case WATCH_FIREWALL:
		fprintf(out, "watch: opened %s again for the gateways\n", ev->name);
		break;
	case WATCH_WARNING:
		fprintf(out, "watch: warning: %s: %s\n", ev->name, ev->reason);
		break;
	}
	fflush(out);
}

int cmd_watch(int argc, char *argv[])
{
	struct nsg_err e = { 0 };
	int r;

	r = options_none("watch", argc, argv);
	if (r < 0)
		r = args_count("watch", argc, argv, 0, NULL);
	if (r >= 0)
		return r;
	if (need_privileges("watch"))
		return EXIT_FAIL;
	r = watch_run(watch_print, stdout, &e);
	return r < 0 ? report(&e, r) : EXIT_OK;
}
