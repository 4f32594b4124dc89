#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 13's benchmarks in one run, in the hermetic lab of tests/lab/lab.sh
# with IPv6 on its uplink (bench/ipv6-steps.sh says what each phase does):
#   updown  `nsgate up` / `down`, dual-stack against --ipv6 off (target: dual
#           up <= 1.25x IPv4-only up)
#   conn    IPv6 new-connection latency through a published port with 1 and
#           with 100,000 ports published (target: within 5 %), IPv4 alongside
#   tput    NAT66 throughput namespace -> inet against plain IPv6 routing on
#           the same host (target: >= 0.97x), IPv4 alongside, and against a
#           host without netfilter (conntrack's share, for reference)
#   bench/ipv6.sh [BUILD_DIR] [OUT]   -> the report on stdout (and in OUT),
#                                        raw rows in $RESULTS/ipv6-*.tsv
# Settings: PHASES="updown conn tput" UP_ROUNDS=30 CONN_ROUNDS=30 CONNS=2000
#   CONN_SIZES="1 100000" TPUT_ROUNDS=20 IPERF_T=4 SETTLE=1 LOAD_CAP=60
#   UP_CASES="dual v4" CONN_FAMILIES="6 4" TPUT_ROWS="plain6 nat66 plain4 nat44 bare6 ct6 masq6 bare4"
#   RESULTS (default a new /tmp/nsgate-bench/ipv6.XXXXXX) BENCH_TIMEOUT=1800
set -euo pipefail
. "$(dirname "$0")/common.sh"
# A directory of its own per run unless given: two runs at once (other
# worktrees) would otherwise append to each other's rows.
mkdir -p /tmp/nsgate-bench
RESULTS=${RESULTS:-$(mktemp -d /tmp/nsgate-bench/ipv6.XXXXXX)}
export RESULTS
echo "bench/ipv6.sh: raw rows in $RESULTS" >&2
bench_prepare "${1:-}"
out=${2:-}
# The rows of an earlier run would be counted again (rec appends).
rm -f "$RESULTS"/ipv6-*.tsv "$RESULTS"/ipv6-*.txt
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date -u '+%F %T')
timeout -k 5 "${BENCH_TIMEOUT:-1800}" bash "$TOP/tests/lab/lab.sh" "$BENCH_DIR/ipv6-steps.sh" >&2
{
	echo "# bench/ipv6.sh, started $t0 UTC, $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')," \
		"$("$NSGATE" version | head -1)"
	echo "# $(nproc) CPUs, kernel $(uname -r); load average at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
	python3 "$BENCH_DIR/ipv6-report.py" "$RESULTS"
} | if [ -n "$out" ]; then tee "$out"; else cat; fi
