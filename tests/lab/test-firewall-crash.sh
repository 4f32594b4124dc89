# SPDX-License-Identifier: MIT
# test-firewall-crash.sh: what nsgate adds to another firewall never outlives
# its gateways, even when an up fails or is killed right after adding it.
# On Docker's iptables-nft layout (FORWARD policy DROP, DOCKER-USER) and
# with iptables-legacy's FORWARD DROP:
#   - an up made to fail after its firewall step (and after the next one)
#     rolls back: iptables-save as before;
#   - an up SIGKILLed after the rules are committed (at its resolv.conf
#     write, the step after) leaves them, with an intent record; `gc`
#     removes the gateway and the rules with it: iptables-save as before;
#   - the same with a second gateway up: the rules stay for it, and go with
#     its down.
# Runs inside lab.sh's hermetic lab: the tables are the lab's own.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewall.sh
. "$LAB_DIR/firewall.sh"
need_tools iptables-nft iptables-legacy iptables-legacy-save strace
start_server_in inet "$SERVER_PORT"

both_saves() {
	ipt_save
	echo "## legacy"
	iptables-legacy-save 2>/dev/null | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$/ [0:0]/'
}

assert_as_before() {
	[ "$(both_saves)" = "$BEFORE" ] ||
		fail "$1: iptables-save differs from before: $(diff <(echo "$BEFORE") <(both_saves))"
}

ours_count() {
	{ iptables-save 2>/dev/null; iptables-legacy-save 2>/dev/null; } | grep -c -- '--comment nsgate' || true
}

docker_layout() {
	iptables-nft -N DOCKER-USER
	iptables-nft -A DOCKER-USER -j RETURN
	iptables-nft -I FORWARD -j DOCKER-USER
	iptables-nft -P FORWARD DROP
	iptables-legacy -P FORWARD DROP
}

rollback() {
	local step
	for step in firewall dns; do
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up web --publish 8080:80
		assert_as_before "up failing after step $step"
		assert_no_residue web
	done
	pass "an up failing after its firewall step (or the next) leaves iptables-save (nft and legacy) as before"
}

# Killed after both firewalls got their rules: at the open of resolv.conf's
# temporary file, the dns step after the firewall step.
killed_up() {
	KILL_PATH=/etc/netns/web/resolv.conf.nsgate-tmp kill_nsg_at openat 1 up web --publish 8080:80
	[ "$(ours_count)" -ge 4 ] || fail "the killed up had not added its rules yet ($(ours_count)): the kill point is too early"
	expect_exit 0 nsg show web
	grep -q 'incomplete' <<<"$LAST_OUT" || fail "show after the kill does not say incomplete: $LAST_OUT"
	expect_exit 0 nsg gc
	grep -q '^web: removed' <<<"$LAST_OUT" || fail "gc did not remove the killed up's gateway: $LAST_OUT"
	assert_as_before "gc after an up killed past its firewall step"
	assert_no_residue web
	pass "up SIGKILLed after adding its rules: gc removes the gateway and the rules, iptables-save as before"
}

killed_up_with_another() {
	up_ok keep
	start_tagged_server_in keep tcp 80 keep
	KILL_PATH=/etc/netns/web/resolv.conf.nsgate-tmp kill_nsg_at openat 1 up web --publish 8080:80
	expect_exit 0 nsg gc
	grep -q '^web: removed' <<<"$LAST_OUT" || fail "gc did not remove the killed up's gateway: $LAST_OUT"
	[ "$(ours_count)" -ge 4 ] || fail "gc removed the rules the other gateway still needs"
	expect_internet run_in_gw keep
	down_ok keep
	assert_as_before "the last down after a killed up"
	assert_no_residue keep
	pass "with another gateway up, gc after the kill keeps the rules for it; its down removes them"
}

docker_layout
BEFORE=$(both_saves)
rollback
killed_up
killed_up_with_another
