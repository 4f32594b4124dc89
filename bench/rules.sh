#!/bin/bash
# SPDX-License-Identifier: MIT
# New-connection latency / rate and iperf3 throughput through one published
# port with 1 / 1,000 / 10,000 / 100,000 ports published: nsgate's maps vs one
# iptables DNAT rule per port vs one nft rule per port. Runs in the hermetic
# lab of tests/lab/lab.sh.
#   bench/rules.sh [BUILD_DIR]   -> $RESULTS/rules.tsv
# Settings: SIZES="1 1000 10000 100000" LAYOUTS="nsgate ipt-nft nft-rules" ROUNDS=5
#   CONNS=2000 IPERF_ROUNDS=3 IPERF_T=3 LOAD_CAP=60 SETTLE=1 RESULTS BENCH_TIMEOUT=1800
set -euo pipefail
. "$(dirname "$0")/common.sh"
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
bench_lab rules "$@"
