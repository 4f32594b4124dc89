# SPDX-License-Identifier: MIT
# test-run-pid.sh: `nsgate run --pid` makes the command PID 1 of PID, UTS and
# IPC namespaces of its own, with its own /proc; `--hostname NAME` gives it a
# UTS namespace of that name (alone: no other namespace), never touching the
# lab host's name. The network is the run's as ever (inet reached through
# the gateway, a published port reaching a server that is the command);
# nothing the command started outlives it (the kernel ends the namespace
# with PID 1); a signal PID 1 has no handler for ends it 2 s later by SIGKILL
# (exit 137), one it handles is its own; bad --hostname values exit 2.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools pgrep ps unshare hostname readlink

GRACE_MS=2000   # REAP_GRACE_MS in src/core/run.c, documented in nsgate.8
LAB_HOSTNAME=$(hostname)
LAB_PROC_MOUNTS=$(grep -c ' /proc ' /proc/self/mountinfo)

start_server_in inet "$SERVER_PORT"

# in_own_uts CMD... : CMD in a UTS namespace of its own, so that even a
# broken nsgate could not rename the machine the lab runs on (lab.sh shares
# its UTS namespace); what CMD checks of "the host" is that namespace.
in_own_uts() { unshare --uts -- "$@"; }
# ns_of NS : the lab's own namespace of type NS (pid, uts, ipc...).
ns_of() { readlink "/proc/self/ns/$1"; }
# tagged TAG : pids of the processes whose command line starts with TAG
# (exec -a TAG-role): a script that merely names TAG does not count.
tagged() { pgrep -f -- "^$1"; }
has_tagged() { [ -n "$(tagged "$1")" ]; }
no_tagged() { [ -z "$(tagged "$1")" ]; }
# catches PID SIG : PID has a handler for signal number SIG (SigCgt).
catches() {
	local cgt
	cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) && [ -n "$cgt" ] &&
		[ $(((0x$cgt >> ($2 - 1)) & 1)) = 1 ]
}
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}
# no_leak : the lab's /proc and host name are as the test found them.
no_leak() {
	[ "$(hostname)" = "$LAB_HOSTNAME" ] || fail "the lab host's name is now '$(hostname)', was '$LAB_HOSTNAME'"
	[ "$(grep -c ' /proc ' /proc/self/mountinfo)" = "$LAB_PROC_MOUNTS" ] ||
		fail "the lab's /proc mounts changed: $(grep ' /proc ' /proc/self/mountinfo)"
}

# 1. PID 1, its own /proc: $$ is 1, ps and /proc show only the command's
# processes (not a process of the lab's), and its PID, UTS and IPC
# namespaces are not the lab's; its exit status passes through.
pid_one() {
	(exec -a nsgtest-pid-outside sleep 300) &
	local outside=$!
	# Counted by bash itself (no fork): /proc/[0-9]* is PID 1 alone.
	expect_exit 0 nsg run --pid --name p1 -- bash -c '
		echo $$
		p=$(ps -e -o pid=,comm=); echo $p
		n=0; for d in /proc/[0-9]*; do n=$((n + 1)); done; echo $n
		pgrep -f "^nsgtest-pid-outside" || echo none
		readlink /proc/self/ns/pid /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net | paste -sd" "'
	kill "$outside"
	mapfile -t got <<<"$LAST_OUT"
	[ "${got[0]}" = 1 ] || fail "run --pid: \$\$ is '${got[0]}', expected 1: $LAST_OUT $LAST_ERR"
	case ${got[1]} in
	"1 bash "[0-9]*" ps") ;;
	*) fail "run --pid: ps -e inside shows '${got[1]}', expected only '1 bash' and ps" ;;
	esac
	[ "${got[2]}" = 1 ] || fail "run --pid: /proc inside lists ${got[2]} processes, expected PID 1 alone: $LAST_OUT"
	[ "${got[3]}" = none ] || fail "run --pid: a lab process is visible inside (pgrep: ${got[3]})"
	read -r pidns utsns ipcns netns <<<"${got[4]}"
	[ "$pidns" != "$(ns_of pid)" ] || fail "run --pid: PID namespace is the lab's ($pidns)"
	[ "$utsns" != "$(ns_of uts)" ] || fail "run --pid: UTS namespace is the lab's ($utsns)"
	[ "$ipcns" != "$(ns_of ipc)" ] || fail "run --pid: IPC namespace is the lab's ($ipcns)"
	[ "$netns" != "$(ns_of net)" ] || fail "run --pid: network namespace is the lab's ($netns)"
	assert_no_residue p1
	expect_exit 7 nsg run --pid --name p7 -- sh -c 'exit 7'
	assert_no_residue p7
	expect_exit 127 nsg run --pid --name pnf -- nsgate-no-such-command
	assert_error_line
	assert_no_residue pnf
	no_leak
	pass "run --pid: \$\$ is 1, ps sees '${got[1]}', no lab process visible; own PID, UTS, IPC and network namespaces; exit 7 and 127 pass through; nothing left, the lab's /proc untouched"
}

# 2. --hostname: the command's name is box; alone it makes a UTS namespace
# and nothing else (PID and IPC namespaces the lab's, $$ not 1); the host's
# name is unchanged, in the namespace nsgate ran in and in the lab.
hostname_only() {
	local out want
	out=$(in_own_uts bash -c '
		"$1" run --name h1 --hostname box -- bash -c "hostname; echo \$\$;
			readlink /proc/self/ns/pid /proc/self/ns/ipc /proc/self/ns/uts | paste -sd\" \""
		echo "rc $?"; hostname' _ "$NSGATE" 2>"$LAB_TMP/uts.err")
	mapfile -t got <<<"$out"
	[ "${got[0]}" = box ] || fail "run --hostname box: hostname inside is '${got[0]}': $out $(cat "$LAB_TMP/uts.err")"
	[ "${got[1]}" != 1 ] || fail "run --hostname box alone made a PID namespace (\$\$ is 1)"
	read -r pidns ipcns utsns <<<"${got[2]}"
	[ "$pidns" = "$(ns_of pid)" ] || fail "run --hostname alone: PID namespace $pidns is not the lab's"
	[ "$ipcns" = "$(ns_of ipc)" ] || fail "run --hostname alone: IPC namespace $ipcns is not the lab's"
	[ "$utsns" != "$(ns_of uts)" ] || fail "run --hostname alone: UTS namespace is the lab's"
	[ "${got[3]}" = "rc 0" ] || fail "run --hostname box: $out"
	[ "${got[4]}" = "$LAB_HOSTNAME" ] ||
		fail "after run --hostname box, the name where nsgate ran is '${got[4]}', was '$LAB_HOSTNAME'"
	assert_no_residue h1
	# With --pid, and --pid alone (a copy of the host's name).
	out=$(in_own_uts bash -c '"$1" run --pid --name h2 --hostname box.example -- sh -c "hostname; echo \$\$"
		"$1" run --pid --name h3 -- hostname; hostname' _ "$NSGATE" 2>"$LAB_TMP/uts.err")
	want=$(printf 'box.example\n1\n%s\n%s' "$LAB_HOSTNAME" "$LAB_HOSTNAME")
	[ "$out" = "$want" ] ||
		fail "run --pid --hostname box.example, then --pid alone, printed '$out', expected '$want': $(cat "$LAB_TMP/uts.err")"
	expect_exit 0 nsg run --name h4 --hostname box -- hostname
	[ "$LAST_OUT" = box ] || fail "run --hostname box (in the lab's UTS namespace): '$LAST_OUT'"
	assert_no_residue h2 h3 h4
	no_leak
	pass "run --hostname box: hostname box inside a UTS namespace of its own (alone: the lab's PID and IPC namespaces); with --pid too; --pid alone keeps a copy of '$LAB_HOSTNAME'; the host's name never changes"
}

# 3. The network works inside: inet reached through the gateway
# (masqueraded), and a published port reaches a server that is PID 1.
network() {
	expect_exit 0 nsg run --pid --hostname box --name pn -- sh -c '
		timeout -k 1 10 socat -T5 -u TCP:'"$INET_ADDR:$SERVER_PORT"',connect-timeout=3 STDOUT </dev/null'
	[ "$LAST_OUT" = "$UPLINK_ADDR" ] ||
		fail "run --pid: inet saw '$LAST_OUT', expected $UPLINK_ADDR (masquerade); stderr: $LAST_ERR"
	assert_no_residue pn
	start_nsgate_bg "$LAB_TMP/run-ps.log" run --pid --name ps --publish 8080:80 -- \
		socat TCP4-LISTEN:80,reuseaddr,fork SYSTEM:'echo srv $SOCAT_PEERADDR'
	local pid=$BG_PID
	wait_for gw_is_up ps || fail "run --pid --name ps: gateway never came up: $(cat "$LAB_TMP/run-ps.log")"
	wait_for listening_in ps tcp 80 || fail "run --pid --name ps: socat never listened on :80"
	expect_answer tcp "$UPLINK_ADDR" 8080 "srv $INET_ADDR" ip netns exec inet
	# socat handles SIGTERM (exits 143): passed on, no SIGKILL needed.
	kill -TERM "$pid"
	wait_exit "$pid" 10 || fail "run --pid --name ps: still running 10 s after SIGTERM"
	[ "$BG_RC" = 143 ] || fail "run --pid --name ps: exited $BG_RC after SIGTERM, expected socat's 143: $(cat "$LAB_TMP/run-ps.log")"
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	assert_no_residue ps
	pass "run --pid: reaches inet as $UPLINK_ADDR; inet reaches PID 1 socat through --publish 8080:80; SIGTERM ends it (143); nothing left"
}

# 4. What the command started is gone when run returns, at once (the kernel
# kills the namespace with PID 1: no grace): a background job and a daemon
# in a session of its own.
background() {
	local t=nsgtest-pid-bg start ms
	start=$EPOCHREALTIME
	expect_exit 3 nsg run --pid --name pb -- bash -c "
		(exec -a $t-job sleep 300) >/dev/null 2>&1 </dev/null &
		(setsid bash -c 'exec -a $t-daemon sleep 300' >/dev/null 2>&1 </dev/null &)
		for i in \$(seq 300); do pgrep -f '^$t-daemon' >/dev/null && break; sleep 0.01; done
		pgrep -f '^$t-' | wc -l
		exit 3"
	ms=$(elapsed_ms "$start")
	[ "$LAST_OUT" = 2 ] || fail "run --pid: the job and the daemon did not both start inside: '$LAST_OUT' $LAST_ERR"
	[ -z "$(tagged "$t")" ] || fail "run --pid returned, but what its command started is left: $(ps -o pid,stat,args -p "$(tagged "$t" | paste -sd,)")"
	[ "$ms" -lt "$GRACE_MS" ] || fail "run --pid took $ms ms: its leftovers should die with PID 1, without a grace"
	assert_no_residue pb
	pass "run --pid: exit 3 passes through; a background job and a setsid daemon die with PID 1 ($ms ms, no grace)"
}

# 5. Signals to nsgate: sleep (no handler) is PID 1, so SIGTERM is dropped by
# the kernel; nsgate sends SIGKILL after the grace: exit 137 in [grace,
# grace + 3 s]. A second signal cuts the grace short. A command that handles
# SIGTERM gets it and exits as it likes, at once.
signals() {
	local pid start ms ms2 t=nsgtest-pid-sig
	start_nsgate_bg "$LAB_TMP/run-pt.log" run --pid --name pt -- sleep 1000
	pid=$BG_PID
	wait_for gw_is_up pt || fail "run --pid --name pt: gateway never came up: $(cat "$LAB_TMP/run-pt.log")"
	wait_for pgrep -P "$pid" -x sleep || fail "run --pid --name pt: sleep never started"
	start=$EPOCHREALTIME
	kill -TERM "$pid"
	wait_exit "$pid" 10 || fail "run --pid -- sleep 1000: still running 10 s after SIGTERM"
	ms=$(elapsed_ms "$start")
	[ "$BG_RC" = 137 ] || fail "run --pid -- sleep: exited $BG_RC after SIGTERM, expected 137 (SIGKILL after the grace): $(cat "$LAB_TMP/run-pt.log")"
	[ "$ms" -ge "$GRACE_MS" ] || fail "run --pid -- sleep: SIGKILLed $ms ms after SIGTERM, before the $GRACE_MS ms grace"
	[ "$ms" -le $((GRACE_MS + 3000)) ] || fail "run --pid -- sleep: ended $ms ms after SIGTERM, more than grace + 3 s"
	assert_no_residue pt
	note "SIGTERM to a PID 1 sleep: exit 137 after $ms ms"

	start_nsgate_bg "$LAB_TMP/run-p2.log" run --pid --name p2 -- sleep 1000
	pid=$BG_PID
	wait_for pgrep -P "$pid" -x sleep || fail "run --pid --name p2: sleep never started: $(cat "$LAB_TMP/run-p2.log")"
	start=$EPOCHREALTIME
	kill -TERM "$pid"
	WAIT_TRIES=20 wait_for proc_gone "$pid" && fail "run --pid: ended at once on SIGTERM, before the grace"
	kill -INT "$pid"
	wait_exit "$pid" 10 || fail "run --pid: still running 10 s after SIGTERM and SIGINT"
	ms2=$(elapsed_ms "$start")
	[ "$BG_RC" = 137 ] || fail "run --pid: exited $BG_RC after SIGTERM then SIGINT, expected 137"
	[ "$ms2" -lt "$GRACE_MS" ] || fail "run --pid: a second signal did not cut the grace short ($ms2 ms)"
	assert_no_residue p2

	start_nsgate_bg "$LAB_TMP/run-ph.log" run --pid --name ph -- \
		bash -c "trap 'exit 5' TERM; (exec -a $t-child sleep 1000) & wait"
	pid=$BG_PID
	wait_for has_tagged "$t-child" || fail "run --pid --name ph: its child never started: $(cat "$LAB_TMP/run-ph.log")"
	start=$EPOCHREALTIME
	kill -TERM "$pid"
	wait_exit "$pid" 10 || fail "run --pid --name ph: still running 10 s after SIGTERM"
	ms=$(elapsed_ms "$start")
	[ "$BG_RC" = 5 ] || fail "run --pid: a PID 1 trapping SIGTERM with 'exit 5' made run exit $BG_RC"
	[ "$ms" -lt "$GRACE_MS" ] || fail "run --pid: a PID 1 handling SIGTERM took $ms ms"
	[ -z "$(tagged "$t-child")" ] || fail "run --pid: PID 1's child outlived it"
	assert_no_residue ph

	# A handled signal that does not end it is left to it (no SIGKILL).
	start_nsgate_bg "$LAB_TMP/run-pu.log" run --pid --name pu -- \
		bash -c "trap 'echo hup' HUP; trap 'exit 6' TERM; while :; do sleep 0.05; done"
	pid=$BG_PID
	wait_for gw_is_up pu || fail "run --pid --name pu: gateway never came up: $(cat "$LAB_TMP/run-pu.log")"
	# A signal before bash set its traps would be dropped: wait for them.
	wait_for pgrep -P "$pid" -x bash || fail "run --pid --name pu: bash never started"
	wait_for catches "$(pgrep -P "$pid" -x bash)" 15 || fail "run --pid --name pu: bash never trapped SIGTERM"
	kill -HUP "$pid"
	WAIT_TRIES=350 wait_for proc_gone "$pid" && fail "run --pid: a PID 1 handling SIGHUP was ended: $(cat "$LAB_TMP/run-pu.log")"
	grep -qx hup "$LAB_TMP/run-pu.log" || fail "run --pid: the SIGHUP never reached PID 1's trap: $(cat "$LAB_TMP/run-pu.log")"
	kill -TERM "$pid"
	wait_exit "$pid" 10 || fail "run --pid --name pu: still running 10 s after SIGTERM"
	[ "$BG_RC" = 6 ] || fail "run --pid --name pu: exited $BG_RC after SIGTERM, expected 6"
	assert_no_residue pu
	pass "run --pid: SIGTERM to a PID 1 without handler ends it by SIGKILL after the grace (137); a second signal at once (137, $ms2 ms); a handled SIGTERM is the command's (exit 5, its child gone); a handled SIGHUP keeps it running"
}

# 6. --user: PID 1 runs as the user; the parent-death signal survives the
# uid change: nsgate SIGKILLed, everything the command started dies with it
# (with and without --pid), and gc removes the gateway.
as_user_and_sigkill() {
	local pid t=nsgtest-pid-kk
	getent passwd nobody >/dev/null || fail "no user nobody on this machine"
	expect_exit 0 nsg run --pid --user nobody --name pus -- sh -c 'id -u; echo $$'
	[ "$LAST_OUT" = "$(printf '65534\n1')" ] || fail "run --pid --user nobody printed '$LAST_OUT', expected 65534 and 1: $LAST_ERR"
	assert_no_residue pus
	for opt in --pid ""; do
		# shellcheck disable=SC2086
		start_nsgate_bg "$LAB_TMP/run-kk.log" run $opt --user nobody --name kk -- \
			bash -c "(exec -a $t-child sleep 300) & exec -a $t-cmd sleep 300"
		pid=$BG_PID
		wait_for has_tagged "$t-cmd" || fail "run $opt --user nobody: its command never started: $(cat "$LAB_TMP/run-kk.log")"
		wait_for has_tagged "$t-child" || fail "run $opt --user nobody: its child never started"
		kill -KILL "$pid"
		wait_exit "$pid" 5 || fail "nsgate survived SIGKILL?"
		wait_for proc_gone "$(tagged "$t-cmd")" ||
			fail "run $opt --user nobody: the command outlived nsgate's SIGKILL (parent-death signal lost with the uid change)"
		if [ "$opt" = --pid ]; then
			wait_for no_tagged "$t-child" ||
				fail "run --pid: the command's child outlived nsgate's SIGKILL: $(pgrep -af "^$t-child")"
		else
			pkill -f "^$t-child"  # without --pid, the command's to end (documented)
		fi
		expect_exit 0 nsg gc
		assert_no_residue kk
	done
	pass "run --pid --user nobody: PID 1 as uid 65534; nsgate SIGKILLed: the command (as nobody) dies, with --pid its child too; gc cleans up"
}

# 7. Bad --hostname, or --pid/--hostname given to up: exit 2, one line,
# nothing made.
bad_input() {
	local long
	long=$(printf 'a%.0s' $(seq 65))
	for h in "" "$long" "box-" ".box" "my_box" "a b"; do
		expect_exit 2 nsg run --name bad --hostname "$h" -- true
		assert_error_line
		case $LAST_ERR in
		"nsgate: --hostname \""*) ;;
		*) fail "run --hostname '$h': unexpected error line: $LAST_ERR" ;;
		esac
		assert_no_residue bad
	done
	expect_exit 2 nsg run --name bad --hostname "$long" -- true
	[ "$LAST_ERR" = "nsgate: --hostname \"$long\": longer than 64 bytes" ] || fail "65 bytes: $LAST_ERR"
	expect_exit 2 nsg run --name bad --hostname "" -- true
	[ "$LAST_ERR" = 'nsgate: --hostname "": must not be empty' ] || fail "empty: $LAST_ERR"
	expect_exit 2 nsg up bad --pid
	assert_error_line
	expect_exit 2 nsg up bad --hostname box
	assert_error_line
	expect_exit 2 nsg run --name bad --pid=yes -- true
	assert_error_line
	assert_no_residue bad
	no_leak
	pass "bad --hostname (empty, 65 bytes, '-' or '.' at an edge, '_', ' ') and --pid/--hostname for up exit 2 with one line; nothing left"
}

pid_one
hostname_only
network
background
signals
as_user_and_sigkill
bad_input
