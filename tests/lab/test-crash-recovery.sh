# SPDX-License-Identifier: MIT
# test-crash-recovery.sh: what a killed `up` leaves is found and removed by the
# next gc (or an up of the same name); down and gc touch only what nsgate made
# (a namespace that took the name since, a symbolic link planted for
# /run/netns/NAME); an attached namespace is left as found (its lo, its
# default route); no --netns argument can make nsgate block.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"
need_tools strace findmnt
start_server_in inet "$SERVER_PORT"

# killed STRACE_ARGS... -- NSGATE_ARGS... : nsgate dies by the SIGKILL strace
# injects (strace then exits 137, as its tracee did).
killed() {
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 60 strace -f -qq -o /dev/null "${args[@]}" "$NSGATE" "$@"
	local rc=$?
	[ "$rc" = 137 ] || fail "'nsgate $*' under strace ${args[*]} exited $rc, not killed (137)"
}

# recovered NAME : gc removes what the killed up of NAME left, then up NAME works.
recovered() {
	local name=$1
	grep -q '^creating=1$' "/run/nsgate/$name.state" ||
		fail "the killed up left no record of its intent: $(cat "/run/nsgate/$name.state" 2>&1)"
	[ "$(gw_status "$name")" = incomplete ] || fail "show $name says $(gw_status "$name"), not incomplete"
	expect_exit 1 nsg publish "$name" 9000:90
	expect_exit 1 nsg exec "$name" -- true
	case $LAST_ERR in *"never finished"*) ;; *) fail "exec of an incomplete gateway: $LAST_ERR" ;; esac
	expect_exit 0 nsg gc
	grep -q "$name" <<<"$LAST_OUT" || fail "gc did not report $name: $LAST_OUT"
	assert_no_residue "$name"
	up_ok "$name"
	expect_internet run_in_gw "$name"
	down_ok "$name"
	assert_no_residue "$name"
}

# A kill after the namespace exists and before anything names it (D3):
# here at the bind mount on /run/netns/web, so the placeholder is left.
kill_at_mount() {
	killed -P /run/netns/web -e trace=mount -e inject=mount:signal=KILL -- up web
	[ -e /run/netns/web ] || fail "the kill at the mount left no placeholder (the test is off)"
	recovered web
	# An up of the same name clears it too, without a gc first.
	killed -P /run/netns/web -e trace=mount -e inject=mount:signal=KILL -- up web
	up_ok web
	down_ok web
	assert_no_residue web
	pass "a kill at the namespace's mount: gc, or the next up, removes what it left"
}

# The sendmsg that creates the veth, counted in one traced up (strace counts
# each syscall of an inject set apart: sendmsg only, libnl's).
veth_create_index() {
	strace_nsg "$LAB_TMP/up.trace" up web >/dev/null 2>&1 || fail "traced up web failed"
	down_ok web
	grep 'sendmsg(' "$LAB_TMP/up.trace" | grep -n 'RTM_NEWLINK' | grep 'NLM_F_CREATE' | head -1 |
		cut -d: -f1
}

# A kill between the veth's creation and its label (D3): the link is known
# by the group it is created in.
kill_before_alias() {
	local n
	n=$(veth_create_index)
	[ -n "$n" ] || fail "no RTM_NEWLINK with NLM_F_CREATE in a traced up"
	killed -e trace=sendmsg -e "inject=sendmsg:signal=KILL:when=$((n + 1))" -- up web
	ip -d -o link show nsg-web >"$LAB_TMP/link" 2>&1 || fail "the kill left no link nsg-web (the test is off)"
	grep -q 'alias' "$LAB_TMP/link" && fail "the link was labelled before the kill (the test is off): $(cat "$LAB_TMP/link")"
	grep -qE 'group (1853056768|0x6e736700)' "$LAB_TMP/link" ||
		fail "the unlabelled link is not in nsgate's group: $(cat "$LAB_TMP/link")"
	recovered web
	pass "a kill before the veth's label: gc removes the link (known by its group)"
}

lo_state() { ip -n "$1" -o link show lo | grep -q '[<,]UP[,>]' && echo up || echo down; }

# An attached namespace's lo as up found it, after down and after a failed up (D13).
lo_left_as_found() {
	local step
	must ip netns add other
	[ "$(lo_state other)" = down ] || fail "a new namespace's lo is up (the test is off)"
	up_ok web --netns other
	[ "$(lo_state other)" = up ] || fail "up --netns other left lo down"
	down_ok web
	[ "$(lo_state other)" = down ] || fail "down left the attached namespace's lo up"
	for step in ns_link nftables dns state; do
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up web --netns other
		[ "$(lo_state other)" = down ] || fail "up failing at $step left lo up"
	done
	must ip -n other link set lo up
	up_ok web --netns other
	down_ok web
	[ "$(lo_state other)" = up ] || fail "down put down a lo that was up before up"
	must ip netns del other
	assert_no_residue web
	pass "an attached namespace's lo is left as found (down, failed ups, lo up before)"
}

# A default route in the attached namespace: refused before any change, saying so.
default_route_conflict() {
	local before after
	must ip netns add o2
	must ip link add o2a type veth peer name o2b netns o2
	must ip -n o2 addr add 192.0.2.2/24 dev o2b
	must ip -n o2 link set o2b up
	must ip -n o2 route add default via 192.0.2.1 dev o2b
	before=$(lab_snapshot)
	expect_exit 2 nsg up web --netns o2
	assert_error_line
	case $LAST_ERR in
	*"default route"*o2b*) ;;
	*) fail "the error does not say which default route conflicts: $LAST_ERR" ;;
	esac
	after=$(lab_snapshot)
	[ "$before" = "$after" ] || fail "the refused up changed something: $(diff <(echo "$before") <(echo "$after"))"
	must ip link del o2a
	must ip netns del o2
	pass "up --netns of a namespace with a default route: exit 2 naming it, nothing changed"
}

# --netns naming a FIFO (or another file that is no namespace) fails at once
# and never holds the lock (D5).
fifo_netns() {
	local t0 t1
	mkfifo "$LAB_TMP/fifo"
	up_ok keep
	t0=$(date +%s%N)
	LAST_OUT=$(timeout -k 1 5 "$NSGATE" up web --netns "$LAB_TMP/fifo" 2>"$LAB_TMP/last.err")
	LAST_RC=$?
	LAST_ERR=$(cat "$LAB_TMP/last.err")
	t1=$(date +%s%N)
	[ "$LAST_RC" = 2 ] || fail "up --netns FIFO exited $LAST_RC (124: it blocked): $LAST_ERR"
	assert_error_line
	[ $(((t1 - t0) / 1000000)) -lt 2000 ] || fail "up --netns FIFO took $(((t1 - t0) / 1000000)) ms"
	case $LAST_ERR in *"not a network namespace"*) ;; *) fail "unexpected error: $LAST_ERR" ;; esac
	expect_exit 0 nsg publish keep 9191:91
	# apply reading a FIFO nobody writes to: a deadline, not an endless
	# wait, and no lock held meanwhile; one with a writer is read.
	"$NSGATE" apply "$LAB_TMP/fifo" >"$LAB_TMP/apply-fifo.out" 2>&1 &
	local pid=$!
	expect_exit 0 nsg unpublish keep 9191:91
	wait_exit "$pid" 15 || fail "apply FIFO did not end within 15 s"
	[ "$BG_RC" = 2 ] || fail "apply FIFO without a writer: not exit 2: $(cat "$LAB_TMP/apply-fifo.out")"
	grep -q "nothing was written" "$LAB_TMP/apply-fifo.out" || fail "apply FIFO: $(cat "$LAB_TMP/apply-fifo.out")"
	expect_exit 0 nsg apply <(printf '[keep]\n')
	down_ok keep
	assert_no_residue web keep
	pass "up --netns FIFO fails at once (exit 2); apply FIFO without a writer fails after its deadline; nothing blocks"
}

# The name's namespace replaced by another while the gateway was up: gc and
# down remove the gateway, never the namespace that took its name.
netns_taken_over() {
	up_ok web
	must umount /run/netns/web
	must rm /run/netns/web
	must ip netns add web
	local ino
	ino=$(stat -L -c %i /run/netns/web)
	expect_exit 0 nsg gc
	[ -e /run/netns/web ] || fail "gc deleted the namespace that took the name web"
	[ "$(stat -L -c %i /run/netns/web)" = "$ino" ] || fail "/run/netns/web changed under gc"
	assert_gone_but_netns web
	must ip netns del web
	assert_no_residue web
	pass "gc leaves a namespace that took a gateway's name since"
}

# assert_gone NAME without the /run/netns/NAME check.
assert_gone_but_netns() {
	[ -e "/run/nsgate/$1.state" ] && fail "/run/nsgate/$1.state is left"
	ip -o link show | grep -q ": nsg-$1[@:]" && fail "link nsg-$1 is left"
	return 0
}

# /run/netns/NAME swapped for a symbolic link to some mount: down unmounts
# nothing of it (D8).
netns_symlink_planted() {
	mkdir -p "$LAB_TMP/mnt"
	must mount -t tmpfs lab-victim "$LAB_TMP/mnt"
	up_ok web
	must umount /run/netns/web
	must rm /run/netns/web
	must ln -s "$LAB_TMP/mnt" /run/netns/web
	down_ok web
	findmnt "$LAB_TMP/mnt" >/dev/null || fail "down unmounted the mount a planted /run/netns/web pointed to"
	[ -L /run/netns/web ] || fail "down removed the planted link"
	must rm /run/netns/web
	must umount "$LAB_TMP/mnt"
	assert_no_residue web
	pass "down follows no symbolic link planted for /run/netns/web"
}

kill_at_mount
kill_before_alias
lo_left_as_found
default_route_conflict
fifo_netns
netns_taken_over
netns_symlink_planted
