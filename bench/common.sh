# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by the bench/*.sh wrappers of bench/run-all.sh, outside the lab:
# finds the build, prepares the helper binaries, then bench_lab NAME runs
# bench/NAME-steps.sh inside the hermetic lab of tests/lab/lab.sh.
#   BUILD_DIR (first argument, default build/), NSGATE (default BUILD/nsgate),
#   BIN (helpers, default /tmp/nsgate-bench/bin), RESULTS (raw TSV directory),
#   BENCH_TIMEOUT (seconds, default 900)
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH_DIR/.." && pwd)
export BENCH_DIR TOP

bench_prepare() {
	local build=${1:-$TOP/build}
	build=$(readlink -f "$build")
	export NSGATE=${NSGATE:-$build/nsgate}
	export BIN=${BIN:-/tmp/nsgate-bench/bin}
	export RESULTS=${RESULTS:-/tmp/nsgate-bench/manual}
	[ -x "$NSGATE" ] || { echo "bench: $NSGATE missing: cmake -S $TOP -B $build && make -C $build" >&2; exit 1; }
	mkdir -p "$BIN" "$RESULTS"
	local t
	for t in connlat veth-floor; do
		if [ ! -x "$BIN/$t" ] || [ "$build/bench/$t" -nt "$BIN/$t" ]; then
			[ -x "$build/bench/$t" ] || { echo "bench: $build/bench/$t missing: make -C $build" >&2; exit 1; }
			cp "$build/bench/$t" "$BIN/$t"
		fi
	done
	if [ ! -x "$BIN/reach" ] || [ "$BENCH_DIR/tools/reach.c" -nt "$BIN/reach" ]; then
		cc -O2 -Wall -Wextra -D_GNU_SOURCE -o "$BIN/reach" "$BENCH_DIR/tools/reach.c" ||
			{ echo "bench: cannot build tools/reach.c" >&2; exit 1; }
	fi
}

# bench_lab NAME [BUILD_DIR]: run bench/NAME-steps.sh in a fresh lab.
bench_lab() {
	local name=$1
	shift
	bench_prepare "$@"
	exec timeout -k 5 "${BENCH_TIMEOUT:-900}" bash "$TOP/tests/lab/lab.sh" "$BENCH_DIR/$name-steps.sh"
}

# bench_report NAME [BUILD_DIR] [OUT]: a benchmark with its own report, run
# on its own (bench/NAME.sh): bench/NAME-steps.sh in a fresh lab, its raw
# rows in RESULTS (a new /tmp/nsgate-bench/NAME.XXXXXX unless given: two runs
# at once would append to each other's), then the report of
# bench/NAME-report.py under a header saying what ran where, on stdout and
# in OUT when given. BENCH_TIMEOUT default 1800 s.
bench_report() {
	local name=$1 out=${3:-} load0 t0
	mkdir -p /tmp/nsgate-bench
	RESULTS=${RESULTS:-$(mktemp -d "/tmp/nsgate-bench/$name.XXXXXX")}
	export RESULTS
	echo "bench/$name.sh: raw rows in $RESULTS" >&2
	bench_prepare "${2:-}"
	# The rows of an earlier run would be counted again (the steps append).
	rm -f "$RESULTS/$name"*.tsv "$RESULTS/$name"-*.txt
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$(date -u '+%F %T')
	timeout -k 5 "${BENCH_TIMEOUT:-1800}" bash "$TOP/tests/lab/lab.sh" "$BENCH_DIR/$name-steps.sh" >&2
	{
		echo "# bench/$name.sh, started $t0 UTC, $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')," \
			"$("$NSGATE" --version)"
		echo "# $(nproc) CPUs, kernel $(uname -r); load average at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
		python3 "$BENCH_DIR/$name-report.py" "$RESULTS"
	} | if [ -n "$out" ]; then tee "$out"; else cat; fi
}
