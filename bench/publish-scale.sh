#!/bin/bash
# SPDX-License-Identifier: MIT
# Per-connection latency and throughput of one published TCP port when 1,
# 1,000 or 10,000 ports are published, for three layouts side by side, rounds
# interleaved: nsgate (one dnat rule + map @ports4), one iptables DNAT rule
# per port (iptables-nft-restore), one nft rule per port (nft -f). The
# measured port is the LAST one added. Runs inside the hermetic lab of
# tests/lab/lab.sh (own network, mount and PID namespaces): nothing touches
# the machine's network. Needs root and the Debian packages iperf3,
# conntrack, iptables (besides the lab's own).
#   bench/publish-scale.sh [BUILD_DIR]   -> a report on stdout
# Settings (environment): ROUNDS=9 CONNS=2000 SIZES="1 1000 10000"
#   LAYOUTS="nsgate ipt-nft nft-rules" (ipt-legacy may be added)
#   IPERF_ROUNDS=3 IPERF_T=3 (0 rounds: no throughput), OUT=FILE (raw TSV),
#   CLIENT_CPUS/SERVER_CPUS (taskset lists for connlat; default: unpinned),
#   BENCH_TIMEOUT=900 (seconds for the whole run)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export NSGATE=$build/nsgate CONNLAT=$build/bench/connlat
export ROUNDS=${ROUNDS:-9} CONNS=${CONNS:-2000} SIZES=${SIZES:-1 1000 10000}
export LAYOUTS=${LAYOUTS:-nsgate ipt-nft nft-rules} IPERF_ROUNDS=${IPERF_ROUNDS:-3} IPERF_T=${IPERF_T:-3}
export OUT=${OUT:-/tmp/nsgate-bench/publish-scale-$(date +%Y%m%d-%H%M%S).tsv}
[ -x "$CONNLAT" ] || { echo "publish-scale: $CONNLAT missing: make -C $build" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
exec timeout -k 5 "${BENCH_TIMEOUT:-900}" bash "$top/tests/lab/lab.sh" "$top/bench/publish-scale-steps.sh"
