/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for nsgate's own files in /run/nsgate, which a crash in
 * mid-write or anyone able to write there may have damaged: the state file
 * (state_parse) and the ports file (one SPEC a line through portmap_parse,
 * as state_ports_load reads it; the loop that splits the file reads it from
 * disk, so the lines are split here the same way).
 * Properties besides "no crash, no leak, no undefined behaviour": a state
 * that parses holds a valid name, an IPv4 subnet and a namespace-side
 * interface name; state_save can write it (it formats into state_save's
 * buffer), and what it writes parses back and formats the same (a fixed
 * point). A ports line that parses prints to a SPEC that parses back the same.
 */
#include <limits.h>
#include <string.h>

#include "fuzz-common.h"
#include "nsgate/state.h"

/* state_save's and state_load's buffer. */
#define STATE_BUF (3 * PATH_MAX + 512)

/* state_parse splits at '\n' only; state_format refuses a '\r' too, in
 * the values it writes unchecked (a file nsgate wrote never has one). */
static bool has_cr(const struct gw_state *st)
{
	const struct gw_spec *s = &st->spec;

	return strchr(s->netns_arg, '\r') || strchr(s->netns_path, '\r') ||
	       strchr(s->uplink, '\r') || strchr(s->host_ifname, '\r');
}

static void check_state(const char *text)
{
	static char buf[STATE_BUF], again_buf[STATE_BUF];
	struct gw_state st, again;
	int r = state_parse(text, &st), n;

	if (r < 0) {
		CHECK(r == -EBADMSG);
		return;
	}
	/* Recognised like an older nsgate's names (a leading '-' too). */
	CHECK(spec_name_known(st.spec.name));
	CHECK(ip_addr_is_v4(&st.spec.subnet.addr));
	CHECK(spec_ifname_check(st.spec.ns_ifname, NULL) == 0);
	CHECK(st.spec.n_dns <= GW_DNS_MAX);
	n = state_format(&st, buf, sizeof(buf));
	if (n == -EINVAL) {
		CHECK(has_cr(&st));
		return;
	}
	CHECK(n > 0);
	CHECK(state_parse(buf, &again) == 0);
	CHECK(state_format(&again, again_buf, sizeof(again_buf)) == n);
	CHECK(!strcmp(buf, again_buf));
}

static void check_ports_file(char *text)
{
	for (char *line = text, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			return;   /* state_ports_load refuses a truncated file */
		*nl = '\0';
		fuzz_check_portmap(line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	/* state_load reads no more (a larger file is damaged). */
	if (size >= STATE_BUF)
		return 0;
	text = fuzz_text(data, size);
	if (!text)
		return 0;
	check_state(text);
	check_ports_file(text);
	free(text);
	return 0;
}
