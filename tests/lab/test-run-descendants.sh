# SPDX-License-Identifier: MIT
# test-run-descendants.sh: when `nsgate run` ends, nothing its command started
# survives: not a background job, not the shell's foreground child, not a
# daemon that double-forked into its own session. Everything gets SIGTERM,
# and what ignores it SIGKILL after the grace (2 s), so run still returns in
# bounded time. Proven with real processes, each tagged by its argv[0]
# (nsgtest-<case>-<role>), found with pgrep -f; lab.sh's private PID
# namespace means pgrep sees only this lab's processes.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools pgrep ps setsid

GRACE_MS=2000   # REAP_GRACE_MS in src/core/run.c, documented in nsgate.8

# tagged TAG : the pids of the processes whose command line starts with TAG.
tagged() { pgrep -f -- "^$1"; }
# assert_none_tagged TAG WHAT : no process with TAG anywhere in its command
# line is left, at once (run ends only after it has reaped everything: no
# polling here). nsgate's own processes do not count: the helper that
# releases its netfilter socket may outlive it by a few ms, with nsgate's
# command line.
assert_none_tagged() {
	local pid p left=
	for pid in $(pgrep -f -- "$1"); do
		[ "$(readlink "/proc/$pid/exe")" = "$NSGATE" ] && continue
		p=$(ps -o pid=,stat=,args= -p "$pid") && left+="
    $p"
	done
	[ -z "$left" ] || fail "$2: processes of the command outlived nsgate run: $left"
}
# elapsed_ms START : milliseconds since START (an $EPOCHREALTIME).
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}

# The command of case (a), tree.sh TAG DIR: the shape of `bash -c 'server;
# echo done'`, plus a background job and a daemon (daemon.sh): a double fork
# into its own session (the subshell that started it exits at once), which
# notes the SIGTERM it gets in DIR/TAG-daemon.term. Nothing writes where the
# test waits.
cat >"$LAB_TMP/tree.sh" <<'EOF'
tag=$1 dir=$2
exec >/dev/null 2>&1 </dev/null
(setsid bash "$dir/daemon.sh" "$tag" "$dir" &)
(exec -a "$tag-bg" sleep 300) &
(exec -a "$tag-fg" sleep 300)
echo done
EOF
cat >"$LAB_TMP/daemon.sh" <<'EOF'
trap 'echo term >"$2/$1-daemon.term"; exit 0' TERM
(exec -a "$1-daemon-sleep" sleep 300) &
wait $!
EOF

# (a) SIGTERM to nsgate alone (kill, not the group, as a supervisor does):
# the shell dies of it, and its foreground child, its background job and the
# daemon in another session go too; run exits 143 and leaves no gateway.
sigterm_to_nsgate() {
	local t=nsgtest-a role daemon
	start_nsgate_bg "$LAB_TMP/run-a.log" run --name sbx -- bash "$LAB_TMP/tree.sh" "$t" "$LAB_TMP"
	local pid=$BG_PID
	wait_for gw_is_up sbx || fail "run --name sbx: gateway never came up: $(cat "$LAB_TMP/run-a.log")"
	for role in fg bg daemon-sleep; do
		wait_for tagged "$t-$role" || fail "run --name sbx: $t-$role never started: $(pgrep -af nsgtest)"
	done
	daemon=$(tagged "$t-daemon-sleep")
	[ "$(ps -o sid= -p "$daemon")" != "$(ps -o sid= -p "$pid")" ] ||
		fail "the daemon ($daemon) is in nsgate's session: the test would not prove setsid is handled"
	kill -TERM "$pid"
	wait_exit "$pid" 10 || fail "run --name sbx: still running 10 s after SIGTERM"
	[ "$BG_RC" = 143 ] || fail "run --name sbx: exited $BG_RC after SIGTERM, expected 143: $(cat "$LAB_TMP/run-a.log")"
	assert_none_tagged "$t" "SIGTERM to nsgate"
	[ "$(cat "$LAB_TMP/$t-daemon.term" 2>/dev/null)" = term ] ||
		fail "the daemon was not given SIGTERM first (no $LAB_TMP/$t-daemon.term)"
	assert_no_residue sbx
	pass "run killed by SIGTERM (to nsgate only): exit 143; its shell's foreground and background children and a double-forked setsid daemon (which got SIGTERM) are all gone; no gateway left"
}

# run_leaving_job RC NAME TAG SCRIPT : `nsgate run --name NAME -- bash -c
# SCRIPT` exits RC; SCRIPT leaves a job and writes its pid to $LAB_TMP/TAG.pid.
# When run has returned, the job, every process with TAG in its command line
# and the gateway are gone. How long run took, in ms, in $RUN_MS.
run_leaving_job() {
	local rc=$1 name=$2 t=$3 script=$4 start job
	rm -f "$LAB_TMP/$t.pid"
	start=$EPOCHREALTIME
	expect_exit "$rc" nsg run --name "$name" -- bash -c "$script"
	RUN_MS=$(elapsed_ms "$start")
	job=$(cat "$LAB_TMP/$t.pid" 2>/dev/null)
	[ -n "$job" ] || fail "run --name $name: the command did not record its job's pid"
	proc_gone "$job" ||
		fail "run --name $name returned, but the job it left ($job) is still there: $(ps -o pid,ppid,stat,args -p "$job")"
	assert_none_tagged "$t" "run --name $name"
	assert_no_residue "$name"
}

# (b) The command exits 3 and leaves a background job: run exits 3 without
# waiting the grace (the job obeys SIGTERM) and the job is gone.
normal_exit_leaves_job() {
	local t=nsgtest-b
	run_leaving_job 3 bgx "$t" "
		(exec -a $t-bg sleep 300) >/dev/null 2>&1 </dev/null &
		echo \$! >$LAB_TMP/$t.pid
		exit 3"
	[ "$RUN_MS" -lt "$GRACE_MS" ] ||
		fail "run took $RUN_MS ms for a job that obeys SIGTERM (>= the $GRACE_MS ms grace)"
	pass "run: the command exits 3 leaving a background job; run exits 3 in $RUN_MS ms and the job is gone"
}

# (c) A descendant that ignores SIGTERM gets SIGKILL after the grace: run
# returns no sooner than the grace and no later than grace + 3 s. The
# command exits only once the job has its SIGTERM ignored (the pid file).
ignores_sigterm() {
	local t=nsgtest-c
	run_leaving_job 0 stub "$t" "
		(trap '' TERM; echo \$BASHPID >$LAB_TMP/$t.pid; exec -a $t-stubborn sleep 300) >/dev/null 2>&1 </dev/null &
		for i in \$(seq 500); do [ -s $LAB_TMP/$t.pid ] && break; sleep 0.01; done
		exit 0"
	[ "$RUN_MS" -ge "$GRACE_MS" ] ||
		fail "run returned after $RUN_MS ms: the job ignoring SIGTERM was killed before the $GRACE_MS ms grace"
	[ "$RUN_MS" -le $((GRACE_MS + 3000)) ] || fail "run took $RUN_MS ms, more than the grace + 3 s"
	pass "run: a job ignoring SIGTERM is SIGKILLed after the grace; run returns in $RUN_MS ms (grace $GRACE_MS ms)"
}

# (e) Signals are still passed on, not acted on: a command that ignores
# SIGTERM keeps run waiting; SIGINT then ends it, and the run with it. (The
# rest of run's behaviour is test-lifecycle-run.sh's.)
sigterm_ignored_by_command() {
	local t=nsgtest-e
	start_nsgate_bg "$LAB_TMP/run-e.log" run --name ign -- bash -c "trap '' TERM; exec -a $t-cmd sleep 300"
	local pid=$BG_PID
	wait_for tagged "$t-cmd" || fail "run --name ign: its command never started: $(cat "$LAB_TMP/run-e.log")"
	kill -TERM "$pid"
	WAIT_TRIES=50 wait_for proc_gone "$pid" && fail "run --name ign ended on SIGTERM though its command ignores it"
	kill -INT "$pid"
	wait_exit "$pid" 10 || fail "run --name ign: still running 10 s after SIGINT"
	[ "$BG_RC" = 130 ] || fail "run --name ign: exited $BG_RC after SIGINT, expected 130"
	assert_none_tagged "$t" "SIGINT after an ignored SIGTERM"
	assert_no_residue ign
	pass "run: a command ignoring SIGTERM keeps running (passed on, not forced); SIGINT then ends it (130), nothing left"
}

sigterm_to_nsgate
normal_exit_leaves_job
ignores_sigterm
sigterm_ignored_by_command
