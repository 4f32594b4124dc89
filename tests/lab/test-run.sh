# SPDX-License-Identifier: MIT
# test-run.sh: `nsgate run`, the one-command sandbox: status passthrough,
# internet and a published port while it runs, teardown on exit and on each
# signal, --user, and a SIGKILLed run cleaned by gc.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# The command's exit status is nsgate's, and nothing is left after.
status_passthrough() {
	expect_exit 7 nsg run --name st -- sh -c 'exit 7'
	assert_no_residue st
	expect_exit 0 nsg run --name st -- true
	assert_no_residue st
	pass "run: exit status 7 and 0 passed through, nothing left"
}

# Inside, the command reaches the internet, masqueraded.
internet_inside() {
	local seen
	seen=$(nsg run --name net -- socat -T5 -u "TCP:$INET_ADDR:$SERVER_PORT,connect-timeout=3" STDOUT </dev/null)
	[ "$seen" = "$UPLINK_ADDR" ] || fail "run: inet saw '$seen', expected $UPLINK_ADDR"
	assert_no_residue net
	pass "run: the command reaches inet as $UPLINK_ADDR"
}

# A published port answers while the command runs; SIGTERM to nsgate ends the
# command with it, nsgate exits 143, and everything goes.
published_while_running() {
	# nsgate itself (not through nsg's timeout): the signal must reach it.
	"$NSGATE" run --name srv --publish 8080:80 -- \
		socat -T5 TCP4-LISTEN:80,reuseaddr,fork SYSTEM:'echo srv $SOCAT_PEERADDR' &
	local pid=$!
	wait_for ip netns exec srv ss -Hltn 'sport = :80' ||
		fail "run --publish: the server in srv did not start"
	expect_answer tcp "$UPLINK_ADDR" 8080 "srv $INET_ADDR" ip netns exec inet
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	[ "$rc" = 143 ] || fail "run after SIGTERM exited $rc, expected 143"
	assert_no_residue srv
	pass "run --publish 8080:80: answered from inet while running; SIGTERM -> 143, nothing left"
}

# Each forwarded signal ends the command (sleep dies of it: 128+N).
signals() {
	local sig num pid rc
	for sig in INT TERM HUP; do
		num=$(kill -l "$sig")
		"$NSGATE" run --name sig -- sleep 30 &
		pid=$!
		wait_for test -e /run/nsgate/sig.state || fail "run --name sig did not come up"
		wait_for pgrep -x sleep || fail "the run's sleep did not start"
		kill -s "$sig" "$pid"
		wait "$pid"
		rc=$?
		[ "$rc" = $((128 + num)) ] || fail "run after SIG$sig exited $rc, expected $((128 + num))"
		pgrep -x sleep >/dev/null && fail "sleep still runs after SIG$sig"
		assert_no_residue sig
	done
	pass "run: SIGINT, SIGTERM and SIGHUP reach the command; 128+N; nothing left"
}

# --user drops root for the command.
as_user() {
	expect_exit 0 nsg run --name usr --user nobody -- id -u
	[ "$LAST_OUT" = 65534 ] || fail "run --user nobody: id -u printed '$LAST_OUT'"
	assert_no_residue usr
	expect_exit 2 nsg run --user no-such-user-x -- true
	assert_no_residue
	pass "run --user nobody runs as uid 65534; an unknown user is refused (2)"
}

# nsgate SIGKILLed: its command dies with it (PDEATHSIG), the gateway stays
# until gc, which names the reason; nothing is left after.
killed_run() {
	"$NSGATE" run --name k -- sleep 30 &
	local pid=$!
	wait_for test -e /run/nsgate/k.state || fail "run --name k did not come up"
	wait_for pgrep -x sleep || fail "the run's sleep did not start"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	wait_for sh -c '! pgrep -x sleep' || fail "the run's command outlived nsgate"
	[ -e /run/nsgate/k.state ] || fail "the killed run's state vanished by itself"
	expect_exit 0 nsg gc
	grep -q '^k: removed, its run ended' <<<"$LAST_OUT" || fail "gc did not report k: $LAST_OUT"
	assert_no_residue k
	pass "a SIGKILLed run: its command ends, gc removes its gateway"
}

# And a later up also clears what a killed run left.
killed_run_then_up() {
	"$NSGATE" run --name k2 -- sleep 30 &
	local pid=$!
	wait_for test -e /run/nsgate/k2.state || fail "run --name k2 did not come up"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	up_ok other
	[ -e /run/nsgate/k2.state ] && fail "up did not clear the killed run k2"
	down_ok other
	assert_no_residue k2 other
	pass "a later up removes what a killed run left"
}

status_passthrough
internet_inside
published_while_running
signals
as_user
killed_run
killed_run_then_up
