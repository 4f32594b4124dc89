/* SPDX-License-Identifier: MIT */
/*
 * nsgate version: the version, the commit it was built from, and what the
 * running kernel and host offer (gateway_features), on one line in the
 * "+feature -feature" style of `systemctl --version` ("?" where it could
 * not be asked), or as one JSON document. `nsgate --version` is the first
 * part only: it asks nothing of the kernel, so it stays a process start.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nsgate-commit.h"

struct feature_row {
	const char *name;   /* in the line and as the JSON key */
	enum feature_state state;
};

static size_t feature_rows(const struct gw_features *f, struct feature_row rows[6])
{
	size_t n = 0;

	rows[n++] = (struct feature_row){ "nf_tables", f->nf_tables };
	rows[n++] = (struct feature_row){ "nat", f->nat };
	rows[n++] = (struct feature_row){ "ipv6_nat", f->ipv6_nat };
	rows[n++] = (struct feature_row){ "sctp", f->sctp };
	rows[n++] = (struct feature_row){ "forward6_per_interface", f->forward6_per_interface };
	rows[n++] = (struct feature_row){ "firewalld", f->firewalld };
	return n;
}

static json_object *state_json(enum feature_state s)
{
	return s == FEATURE_UNKNOWN ? NULL : json_object_new_boolean(s == FEATURE_YES);
}

int cmd_version_short(void)
{
	printf("nsgate %s (commit %s)\n", NSGATE_VERSION, NSGATE_COMMIT);
	return EXIT_OK;
}

int cmd_version(int argc, char *argv[])
{
	struct feature_row rows[6];
	struct gw_features f;
	bool json = false;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return usage_error("version", "argument \"%s\": unexpected", argv[i]);
		json = true;
	}
	gateway_features(&f);
	n = feature_rows(&f, rows);
	if (json) {
		json_object *o = json_object_new_object(), *feat = json_object_new_object();

		json_object_object_add(o, "schema", json_object_new_int(NSG_JSON_SCHEMA));
		json_object_object_add(o, "version", json_object_new_string(NSGATE_VERSION));
		json_object_object_add(o, "commit", json_object_new_string(NSGATE_COMMIT));
		json_object_object_add(o, "kernel", json_object_new_string(f.kernel));
		for (size_t i = 0; i < n; i++)
			json_object_object_add(feat, rows[i].name, state_json(rows[i].state));
		json_object_object_add(o, "features", feat);
		print_json(o);
		return EXIT_OK;
	}
	printf("nsgate %s (commit %s) kernel %s", NSGATE_VERSION, NSGATE_COMMIT, f.kernel);
	for (size_t i = 0; i < n; i++)
		printf(" %c%s", rows[i].state == FEATURE_YES ? '+' : rows[i].state == FEATURE_NO ? '-' : '?',
		       rows[i].name);
	printf("\n");
	return EXIT_OK;
}
