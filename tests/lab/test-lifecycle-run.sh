# SPDX-License-Identifier: MIT
# test-lifecycle-run.sh: `nsgate run` gives a command its own gateway for as
# long as it runs: the command's exit status (and death by signal) passes
# through, the command reaches the internet masqueraded, a published port
# answers while it runs, --user drops to that user, and the gateway goes away
# with the command (normal exit, SIGINT/SIGTERM/SIGHUP/SIGQUIT to nsgate).
# When nsgate itself is SIGKILLed, the command dies too and `gc` (or a later
# `up`) removes what the run left.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# run_child_sleep NAME PID : wait for gateway NAME of run PID to be up and its
# command (sleep) to be running; the sleep's pid in $CMD_PID.
run_child_sleep() {
	local name=$1 pid=$2
	wait_for gw_is_up "$name" || fail "run --name $name: gateway never came up: $(cat "$LAB_TMP/run-$name.log")"
	wait_for pgrep -P "$pid" -x sleep || fail "run --name $name: its command (sleep) never started"
	CMD_PID=$(pgrep -P "$pid" -x sleep)
}

# 1. The command's exit status passes through, a run without --name gets
# run-PID, and after the command exits nothing is left.
exit_status() {
	expect_exit 7 nsg run -- sh -c 'exit 7'
	expect_exit 0 nsg run --name zero -- true
	expect_exit 1 nsg run --name one -- false
	assert_no_residue zero one
	pass "run: exit status passes through (7, 0, 1); nothing left after the command exits"
}

# 2. Inside, the command reaches inet, masqueraded as the lab host's address,
# with its own namespace (eth0 in 10.200.0.0/16); the gateway is gone after.
internet() {
	expect_exit 0 nsg run --name net -- sh -c '
		ip -4 -o addr show dev eth0 | grep -q " 10\.200\." || { echo "no 10.200 address on eth0"; exit 3; }
		[ -e /run/netns/net ] || { echo "/run/netns/net missing"; exit 4; }
		timeout -k 1 10 socat -T5 -u TCP:'"$INET_ADDR:$SERVER_PORT"',connect-timeout=3 STDOUT </dev/null'
	[ "$LAST_OUT" = "$UPLINK_ADDR" ] ||
		fail "run: inet saw '$LAST_OUT', expected $UPLINK_ADDR (masquerade); stderr: $LAST_ERR"
	assert_no_residue net
	pass "run: the command reaches inet masqueraded as $UPLINK_ADDR; nothing left after it exits"
}

# 3. SIGINT, SIGTERM, SIGHUP and SIGQUIT to nsgate reach the command (sleep
# dies of it): nsgate exits 128+N and takes the gateway down.
signals() {
	local sig num
	for sig in INT TERM HUP QUIT; do
		num=$(kill -l "$sig")
		start_nsgate_bg "$LAB_TMP/run-sig.log" run --name sig -- sleep 30
		run_child_sleep sig "$BG_PID"
		kill -s "$sig" "$BG_PID"
		wait_exit "$BG_PID" 10 || fail "run: nsgate still running 10 s after SIG$sig"
		[ "$BG_RC" = $((128 + num)) ] ||
			fail "run: after SIG$sig nsgate exited $BG_RC, expected $((128 + num)): $(cat "$LAB_TMP/run-sig.log")"
		wait_for proc_gone "$CMD_PID" || fail "run: the command (sleep $CMD_PID) outlived SIG$sig"
		assert_no_residue sig
	done
	pass "run: SIGINT/SIGTERM/SIGHUP/SIGQUIT reach the command; nsgate exits 130/143/129/131 and leaves nothing"
}

# 4. A published port answers while the command runs, and not after.
published_port() {
	start_nsgate_bg "$LAB_TMP/run-srv.log" run --name srv --publish 8080:80 -- \
		socat TCP4-LISTEN:80,reuseaddr,fork SYSTEM:'echo srv $SOCAT_PEERADDR'
	local pid=$BG_PID
	wait_for gw_is_up srv || fail "run --name srv: gateway never came up: $(cat "$LAB_TMP/run-srv.log")"
	wait_for listening_in srv tcp 80 || fail "run --name srv: socat never listened on :80 in srv"
	expect_answer tcp "$UPLINK_ADDR" 8080 "srv $INET_ADDR" ip netns exec inet
	# A live run holds no lock and is no garbage: up, gc and down of another
	# gateway work meanwhile and leave srv alone.
	up_ok side
	expect_exit 0 nsg gc
	grep -q '^srv:' <<<"$LAST_OUT" && fail "gc during a live run touched it: $LAST_OUT"
	down_ok side
	gw_is_up srv || fail "after up/gc/down of another gateway the live run's gateway is '$(gw_status srv)'"
	expect_answer tcp "$UPLINK_ADDR" 8080 "srv $INET_ADDR" ip netns exec inet
	kill -TERM "$pid"
	wait_exit "$pid" 10 || fail "run --name srv: nsgate still running 10 s after SIGTERM"
	[ "$BG_RC" = 143 ] || fail "run --name srv: exited $BG_RC after SIGTERM, expected 143: $(cat "$LAB_TMP/run-srv.log")"
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	assert_no_residue srv side
	pass "run --publish 8080:80: inet reaches the command's :80 while it runs (up/gc/down of another gateway meanwhile leave it alone); nothing answers and nothing is left after"
}

# 5. --user nobody: the command runs as uid 65534, still with the gateway.
as_user() {
	getent passwd nobody >/dev/null || fail "no user nobody on this machine"
	expect_exit 0 nsg run --name usr --user nobody -- sh -c '
		id -u; id -g
		timeout -k 1 10 socat -T5 -u TCP:'"$INET_ADDR:$SERVER_PORT"',connect-timeout=3 STDOUT </dev/null'
	local want
	want=$(printf '65534\n%s\n%s' "$(id -g nobody)" "$UPLINK_ADDR")
	[ "$LAST_OUT" = "$want" ] ||
		fail "run --user nobody: printed '$LAST_OUT', expected uid 65534, gid $(id -g nobody), inet seeing $UPLINK_ADDR; stderr: $LAST_ERR"
	assert_no_residue usr
	pass "run --user nobody: the command runs as uid 65534 (gid $(id -g nobody)) and reaches inet"
}

# 6. nsgate SIGKILLed: the command gets SIGTERM (PDEATHSIG), the gateway stays
# listed until `nsgate gc` removes it ("removed"), and nothing is left; a
# later `up` also removes a killed run's leftovers.
sigkill() {
	start_nsgate_bg "$LAB_TMP/run-kk.log" run --name kk -- sleep 30
	run_child_sleep kk "$BG_PID"
	kill -KILL "$BG_PID"
	wait_exit "$BG_PID" 5 || fail "run: nsgate survived SIGKILL?"
	wait_for proc_gone "$CMD_PID" || fail "run: the command (sleep $CMD_PID) outlived nsgate's SIGKILL (no PDEATHSIG)"
	gw_names | grep -qx kk || fail "after SIGKILL, nsgate list no longer shows kk: $(nsg list 2>&1)"
	expect_exit 0 nsg gc
	grep -qE '^kk: removed' <<<"$LAST_OUT" || fail "gc did not report 'kk: removed': $LAST_OUT"
	assert_no_residue kk
	pass "run killed by SIGKILL: the command dies too; list shows kk until gc removes it ($LAST_OUT)"

	start_nsgate_bg "$LAB_TMP/run-kk2.log" run --name kk2 -- sleep 30
	run_child_sleep kk2 "$BG_PID"
	kill -KILL "$BG_PID"
	wait_exit "$BG_PID" 5 || fail "run: nsgate survived SIGKILL?"
	up_ok later
	assert_gone kk2
	down_ok later
	assert_no_residue kk2 later
	pass "run killed by SIGKILL: a later 'nsgate up' removes what it left"
}

# 7. nsgate run started the way a script starts a job (`cmd &`: SIGINT and
# SIGQUIT inherited as ignored) must still pass SIGINT on, as documented.
sigint_when_started_ignored() {
	"$NSGATE" run --name ign -- sleep 30 >"$LAB_TMP/run-ign.log" 2>&1 &
	local pid=$!
	run_child_sleep ign "$pid"
	kill -s INT "$pid"
	if ! wait_exit "$pid" 3; then
		defer_fail "'nsgate run --name ign -- sleep 30 &' (SIGINT inherited ignored, as for any job a script starts): kill -INT on nsgate did nothing in 3 s (expected exit 130, gateway removed)"
		nsg down ign >/dev/null 2>&1
		return
	fi
	[ "$BG_RC" = 130 ] || defer_fail "run started with SIGINT ignored: exit $BG_RC after SIGINT, expected 130"
	assert_no_residue ign
	pass "run started with SIGINT ignored still passes SIGINT on (exit 130)"
}

# 8. A command that cannot run exits as in a shell: 127 when there is none
# of that name, 126 when it cannot be executed (a file without the x bit, a
# directory), with one error line; the gateway goes away all the same.
cannot_run() {
	expect_exit 127 nsg run --name nocmd -- nsgate-no-such-command
	assert_error_line
	[ "$LAST_ERR" = 'nsgate: exec "nsgate-no-such-command": No such file or directory' ] ||
		fail "run of a missing command: unexpected error line: $LAST_ERR"
	assert_no_residue nocmd
	printf 'echo ran\n' >"$LAB_TMP/no-x-bit"
	chmod 644 "$LAB_TMP/no-x-bit"
	expect_exit 126 nsg run --name nox -- "$LAB_TMP/no-x-bit"
	assert_error_line
	[ "$LAST_ERR" = "nsgate: exec \"$LAB_TMP/no-x-bit\": Permission denied" ] ||
		fail "run of a file without x bit: unexpected error line: $LAST_ERR"
	[ -z "$LAST_OUT" ] || fail "run of a file without x bit printed on stdout: $LAST_OUT"
	assert_no_residue nox
	expect_exit 126 nsg run --name dir -- "$LAB_TMP"
	assert_error_line
	[ "$LAST_ERR" = "nsgate: exec \"$LAB_TMP\": Permission denied" ] ||
		fail "run of a directory: unexpected error line: $LAST_ERR"
	assert_no_residue dir
	pass "run: no such command exits 127, a file without x bit or a directory 126, one error line each; nothing left"
}

exit_status
cannot_run
internet
signals
published_port
as_user
sigkill
sigint_when_started_ignored
deferred_verdict
