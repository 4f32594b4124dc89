/* SPDX-License-Identifier: MIT */
/* nsgate doctor: the core's findings as lines, or as one JSON document. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static bool is_of(const struct gw_finding *f, const char *gw)
{
	return !strcmp(f->gateway, gw);
}

/* "NAME: CHECK: WHAT; fix: FIX" ("host: ..." for the host's), on one line
 * whatever the text holds: other tools' chain and interface names are
 * printed as found. */
static void print_finding(const struct gw_finding *f)
{
	char line[1024], esc[NSG_ESCAPED_SIZE(sizeof(line))];

	snprintf(line, sizeof(line), "%s: %s: %s%s%s", f->gateway[0] ? f->gateway : "host",
		 f->check, f->what, f->fix[0] ? "; fix: " : "", f->fix);
	printf("%s\n", nsg_escape(line, esc, sizeof(esc)));
}

/* The problems only: the host's first, then each gateway's, or "NAME: ok". */
static void print_text(const struct gw_doctor_report *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (r->findings[i].problem && is_of(&r->findings[i], ""))
			print_finding(&r->findings[i]);
	for (size_t g = 0; g < r->n_gateways; g++) {
		bool ok = true;

		for (size_t i = 0; i < r->n_findings; i++)
			if (r->findings[i].problem && is_of(&r->findings[i], r->gateways[g])) {
				print_finding(&r->findings[i]);
				ok = false;
			}
		if (ok)
			printf("%s: ok\n", r->gateways[g]);
	}
}

static json_object *report_json(const struct gw_doctor_report *r, bool healthy)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(o, "schema", json_object_new_int(NSG_JSON_SCHEMA));
	json_object_object_add(o, "healthy", json_object_new_boolean(healthy));
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct gw_finding *f = &r->findings[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "gateway", f->gateway[0] ? json_object_new_string(f->gateway)
								   : NULL);
		json_object_object_add(j, "check", json_object_new_string(f->check));
		json_object_object_add(j, "problem", json_object_new_boolean(f->problem));
		json_object_object_add(j, "what", json_object_new_string(f->what));
		json_object_object_add(j, "fix", f->fix[0] ? json_object_new_string(f->fix) : NULL);
		json_object_array_add(arr, j);
	}
	json_object_object_add(o, "findings", arr);
	return o;
}

int cmd_doctor(int argc, char *argv[])
{
	struct gw_doctor_report rep;
	struct nsg_err e = { 0 };
	const char *name = NULL;
	bool healthy = true, json;
	int code, r;

	json = parse_json_flag(argc, argv, "doctor", &code);
	if (code >= 0)
		return code;
	if (argc - optind > 1)
		return usage_error("doctor", "argument \"%s\": unexpected", argv[optind + 1]);
	if (argc - optind == 1) {
		name = argv[optind];
		r = spec_name_check(name, &e);
		if (r < 0)
			return report(&e, r);
	}
	if (need_privileges("doctor"))
		return EXIT_FAIL;
	r = gateway_doctor(name, &rep, &e);
	if (r < 0)
		return report(&e, r);
	for (size_t i = 0; i < rep.n_findings; i++)
		healthy &= !rep.findings[i].problem;
	if (json)
		print_json(report_json(&rep, healthy));
	else
		print_text(&rep);
	gateway_doctor_clear(&rep);
	return healthy ? EXIT_OK : EXIT_FAIL;
}
