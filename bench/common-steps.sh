# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for the bench/*-steps.sh files of bench/run-all.sh. Sourced inside
# the hermetic lab of tests/lab/lab.sh (after tests/lab/lib.sh), never on the
# real host. Timing uses bash's $EPOCHREALTIME: no process is started to read
# the clock, so a timed command costs only its own fork+exec.
#
# Environment (set by the bench/*.sh wrappers):
#   RESULTS  directory for the raw TSV files (one row: EXP ROW METRIC ROUND VALUE)
#   BIN      directory of the helper binaries (connlat, veth-floor, reach)

[ -n "${RESULTS:-}" ] || fail "RESULTS is not set"
mkdir -p "$RESULTS"

# us_now: microseconds since the epoch, as an integer (no fork).
us_now() { echo "${EPOCHREALTIME/./}"; }
# us_since T0: microseconds since T0 (an EPOCHREALTIME value), into $US.
us_since() { US=$((${EPOCHREALTIME/./} - ${1/./})); }

# rec EXP ROW METRIC ROUND VALUE: one raw result.
rec() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS/$1.tsv"; }

# timed VAR CMD...: run CMD (stdout discarded), its wall time in µs into VAR;
# returns CMD's status.
timed() {
	local __v=$1 __t0 __rc
	shift
	__t0=$EPOCHREALTIME
	"$@" >/dev/null
	__rc=$?
	printf -v "$__v" '%d' $((${EPOCHREALTIME/./} - ${__t0/./}))
	return $__rc
}

# listening NS PORT: something listens on TCP PORT in netns NS.
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# rotate K LIST...: LIST rotated left by K (one word a line).
rotate() {
	local k=$1 n i
	shift
	n=$#
	local a=("$@")
	for ((i = 0; i < n; i++)); do echo "${a[$(((i + k) % n))]}"; done
}

# A connlat server in inet, for outbound checks (read 1 byte, answer 1 byte).
INET_ECHO_PORT=8080
start_inet_echo() {
	ip netns exec inet timeout 3600 "$BIN/connlat" -l $INET_ECHO_PORT -T 3600 >/dev/null 2>&1 &
	wait_for listening inet $INET_ECHO_PORT || fail "connlat server in inet did not start"
}
