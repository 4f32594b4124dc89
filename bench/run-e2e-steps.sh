# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/run-e2e.sh).
#
# One command, `true`, run with a network around it and everything removed
# after, each way timed from the calling shell until it has returned:
#   true         fork+exec of /bin/true (the floor of any command)
#   unshare      unshare -n true: a network namespace, no network in it
#   nsgate       nsgate run -- true: namespace, veth, addresses, routes,
#                masquerade, DNS; true inside; all of it down again
#   pasta        pasta --config-net -- true: pasta makes the namespace,
#                copies the host's addresses and routes into it, runs true
#                and exits with it
#   slirp4netns  what a runtime does with slirp4netns (podman rootless,
#                rootlesskit): unshare -n holding a namespace, slirp4netns
#                --configure attached to it (until --ready-fd says so), true
#                run in it with nsenter, then both ended
# Rounds rotate the order. Each way is checked once before timing: a
# connection from inside to inet works (pasta, slirp4netns and nsgate), so
# what is timed is a working network.
. "$BENCH_DIR/common-steps.sh"
need_tools pasta slirp4netns unshare nsenter
ROUNDS=${ROUNDS:-30}
ROWS=${RUN_ROWS:-true unshare nsgate pasta slirp4netns}
start_inet_echo

# pasta as root drops to nobody and then cannot use the namespace it made:
# --runas 0 keeps root, as the peers harness does. --no-map-gw: else a
# connection to the gateway (inet, 198.51.100.2) goes to the host itself.
# -4: the lab host has no IPv6 route. --quiet: no notices.
pasta_run() { pasta --runas 0 --quiet --config-net --no-map-gw -4 -- "$@"; }

slirp_run() {
	local holder ready rc=0 sp ok="" i=0
	ready=$(mktemp -u "$LAB_TMP/slirp-ready.XXXXXX")
	mkfifo "$ready"
	unshare -n sleep 60 &
	holder=$!
	# Until unshare has made its namespace, $holder is still in ours.
	while [ "$(readlink "/proc/$holder/ns/net")" = "$(readlink /proc/self/ns/net)" ]; do
		i=$((i + 1))
		[ "$i" -lt 100000 ] && kill -0 "$holder" 2>/dev/null || return 1
	done
	# --ready-fd: slirp4netns writes "1" once tap0 is up and configured.
	slirp4netns --configure --disable-host-loopback --ready-fd=3 "$holder" tap0 3>"$ready" >/dev/null 2>&1 &
	sp=$!
	# (one byte, no newline: read's status is EOF's, so look at the byte)
	read -r -t 10 -n 1 ok <"$ready"
	if [ "$ok" = 1 ]; then
		nsenter -t "$holder" -n "$@" || rc=$?
	else
		rc=1
	fi
	kill "$sp" "$holder" 2>/dev/null
	wait "$sp" "$holder" 2>/dev/null
	rm -f "$ready"
	return $rc
}

way() {
	case $1 in
	true) /bin/true ;;
	unshare) unshare -n /bin/true ;;
	nsgate) "$NSGATE" run -- /bin/true ;;
	pasta) pasta_run /bin/true ;;
	slirp4netns) slirp_run /bin/true ;;
	*) fail "unknown row $1" ;;
	esac
}

# The internet through each (the echo server in inet answers a byte with a
# byte): the way works.
ECHO_CHECK="exec 3<>/dev/tcp/$INET_ADDR/$INET_ECHO_PORT && printf x >&3 && head -c1 <&3 | grep -q ."
check_way() {
	case $1 in
	nsgate) timeout 20 "$NSGATE" run -- bash -c "$ECHO_CHECK" ;;
	pasta) timeout 20 pasta --runas 0 --quiet --config-net --no-map-gw -4 -- bash -c "$ECHO_CHECK" ;;
	slirp4netns) timeout 20 bash -c "$(declare -f slirp_run); LAB_TMP=$LAB_TMP slirp_run bash -c '$ECHO_CHECK'" ;;
	*) way "$1" ;;
	esac
}

rows=($ROWS)
for r in "${rows[@]}"; do
	check_way "$r" >/dev/null 2>&1 || fail "$r: the check run failed (no network?)"
done
for ((round = 1; round <= ROUNDS; round++)); do
	for r in $(rotate $((round % ${#rows[@]})) "${rows[@]}"); do
		timed t way "$r" || fail "$r: round $round failed"
		rec run-e2e "$r" wall_us "$round" "$t"
	done
done
# Nothing of nsgate's may be left by its runs.
[ -z "$(ls /run/nsgate/*.state 2>/dev/null)" ] || fail "nsgate run left state files"
wait_dying_gone
ip -o link show | grep -q ': nsg-' && fail "nsgate run left links"
note "run-e2e: $ROUNDS rounds of ${rows[*]}"
pass "run-e2e bench: $ROUNDS rounds"
