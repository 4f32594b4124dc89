#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 14's benchmark: N members on one network (bench/network-steps.sh says
# what it does), in the hermetic lab of tests/lab/lab.sh.
#   bench/network.sh [BUILD_DIR] [OUT]  -> the report on stdout (and in OUT),
#                                          raw rows in $RESULTS/network.tsv
# Settings: MEMBERS=250 FLOW_T (s, default: long enough for the downs)
#   RESULTS (default a new /tmp/nsgate-bench/network.XXXXXX) BENCH_TIMEOUT=1800
set -euo pipefail
. "$(dirname "$0")/common.sh"
mkdir -p /tmp/nsgate-bench
RESULTS=${RESULTS:-$(mktemp -d /tmp/nsgate-bench/network.XXXXXX)}
export RESULTS
echo "bench/network.sh: raw rows in $RESULTS" >&2
bench_prepare "${1:-}"
out=${2:-}
rm -f "$RESULTS"/network*.tsv
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date -u '+%F %T')
timeout -k 5 "${BENCH_TIMEOUT:-1800}" bash "$TOP/tests/lab/lab.sh" "$BENCH_DIR/network-steps.sh" >&2
{
	echo "# bench/network.sh, started $t0 UTC, $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')," \
		"$("$NSGATE" version | head -1)"
	echo "# $(nproc) CPUs, kernel $(uname -r); load average at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
	python3 "$BENCH_DIR/network-report.py" "$RESULTS"
} | if [ -n "$out" ]; then tee "$out"; else cat; fi
