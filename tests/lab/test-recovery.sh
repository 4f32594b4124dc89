# SPDX-License-Identifier: MIT
# test-recovery.sh: surviving what the world does: a flushed ruleset (up,
# apply and gc restore it), `nsgate watch` restoring within a second and
# removing a gateway whose namespace died, and damaged state files.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

two_gateways() {
	up_ok a --publish 8080:80
	up_ok b
	start_tagged_server_in a tcp 80 a
}

works() {
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
	expect_internet run_in_gw a
	expect_internet run_in_gw b
}

# `nft flush ruleset` (a firewall reload) breaks the gateways; the next up
# (of another gateway) puts everything back, published port included.
flush_then_up() {
	two_gateways
	works
	must nft flush ruleset
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	up_ok c
	works
	expect_internet run_in_gw c
	[ "$(nft_map_elems ports4)" = 1 ] || fail "after restore, ports4 holds $(nft_map_elems ports4) elements"
	down_ok --all
	assert_no_residue a b c
	pass "after nft flush ruleset, the next up restores every gateway and a's published port"
}

# gc restores as well (and so does apply, through the same code).
flush_then_gc() {
	two_gateways
	must nft delete table inet nsgate
	expect_exit 0 nsg gc
	works
	down_ok --all
	assert_no_residue a b
	pass "after nft delete table inet nsgate, gc restores it"
}

# watch restores within a second, event-driven, and removes a gateway whose
# attached namespace died.
watcher() {
	local wpid hpid
	two_gateways
	"$NSGATE" watch >"$LAB_TMP/watch.log" 2>&1 &
	wpid=$!
	wait_for grep -q listening "$LAB_TMP/watch.log" || fail "watch did not start: $(cat "$LAB_TMP/watch.log")"
	must nft flush ruleset
	WAIT_TRIES=100 wait_for nft list table inet nsgate || fail "watch did not restore the table within 1 s after a flush"
	works
	must nft delete table inet nsgate
	WAIT_TRIES=100 wait_for nft list table inet nsgate || fail "watch did not restore a deleted table within 1 s"
	works
	unshare -n sleep 60 &
	hpid=$!
	up_ok held --netns "$hpid"
	kill "$hpid"
	wait "$hpid" 2>/dev/null
	WAIT_TRIES=100 wait_for sh -c '! test -e /run/nsgate/held.state' ||
		fail "watch did not remove held within 1 s of its namespace dying: $(cat "$LAB_TMP/watch.log")"
	assert_gone held
	kill -TERM "$wpid"
	wait "$wpid"
	[ $? = 0 ] || fail "watch did not exit 0 on SIGTERM"
	grep -q 'held: removed, its' "$LAB_TMP/watch.log" || fail "watch did not log held's removal: $(cat "$LAB_TMP/watch.log")"
	down_ok --all
	assert_no_residue a b held
	pass "watch: table back within 1 s after a flush and a delete; a dead namespace's gateway removed"
}

# A damaged state file: show says so, down and gc still clean the kernel.
damaged_state() {
	up_ok web
	head -c 20 /run/nsgate/web.state >"$LAB_TMP/trunc" && cat "$LAB_TMP/trunc" >/run/nsgate/web.state
	gw_json web
	[ "$(gw_field web status)" = state-damaged ] || fail "show: status $(gw_field web status), expected state-damaged"
	down_ok web
	assert_no_residue web
	up_ok web
	echo 'garbage' >/run/nsgate/web.state
	expect_exit 0 nsg gc
	grep -q '^web: removed, its state file is damaged' <<<"$LAST_OUT" || fail "gc: $LAST_OUT"
	assert_no_residue web
	pass "a truncated or garbage state file: show reports it, down and gc still remove everything"
}

flush_then_up
flush_then_gc
watcher
damaged_state
