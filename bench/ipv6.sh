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
bench_report ipv6 "${1:-}" "${2:-}"
