# SPDX-License-Identifier: MIT
# test-rollback.sh: `up` failing at any step undoes everything it did.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces);
# NSGATE_TEST_FAIL_STEP makes up fail right after the named step.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

STEPS="netns forwarding veth host_link ns_link nftables dns state"
start_server_in inet "$SERVER_PORT"

# fail_at STEP ARGS... : up web fails at STEP with exit 1 and one error line.
fail_at() {
	local step=$1
	shift
	NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up web "$@"
	assert_error_line
}

# Alone: each failing step leaves the lab exactly as before.
alone() {
	local step
	for step in $STEPS; do
		fail_at "$step"
		assert_no_residue web
	done
	pass "up failing at each of: $STEPS leaves no residue"
}

# Beside a working gateway: the table stays, holding only keep's elements,
# the uplink's forwarding keep needs stays on (and the global switch off), and
# keep still reaches inet.
beside_other() {
	local step
	up_ok keep
	for step in $STEPS; do
		fail_at "$step"
		assert_gone web
		nft list table inet nsgate >/dev/null 2>&1 || fail "failed up web at $step removed keep's table"
		[ "$(cat /proc/sys/net/ipv4/conf/up0/forwarding)" = 1 ] ||
			fail "failed up web at $step turned up0's forwarding off"
		[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$LAB_IP_FORWARD" ] ||
			fail "failed up web at $step changed net.ipv4.ip_forward"
	done
	expect_internet run_in_gw keep
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" '[.[].name] == ["keep"]' "list --json after failed ups"
	down_ok keep
	assert_no_residue keep web
	pass "up failing at each step beside gateway keep touches nothing of keep"
}

# Attached to an existing namespace: rollback leaves it, empty but for lo.
attached() {
	local step links
	must ip netns add other
	for step in $STEPS; do
		fail_at "$step" --netns other
		assert_no_residue web
		[ -e /run/netns/other ] || fail "rollback at $step deleted /run/netns/other"
		links=$(ip -n other -o link show)
		[ "$(grep -c '' <<<"$links")" = 1 ] || fail "rollback at $step left links in other: $links"
	done
	must ip netns del other
	pass "up --netns other failing at each step leaves the namespace alone"
}

# After all that, a plain up works (no leftover blocks it).
clean_up_after() {
	up_ok web
	expect_internet run_in_gw web
	down_ok web
	assert_no_residue web
	pass "up web works after the failed attempts"
}

alone
beside_other
attached
clean_up_after
