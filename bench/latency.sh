#!/bin/bash
# SPDX-License-Identifier: MIT
# nsgate up / down of one gateway (cold: first gateway, warm: another exists)
# against fork+exec and the kernel's veth floor, rounds interleaved; peak RSS
# of single commands; nsgate watch's memory idle and under churn. Runs in the
# hermetic lab of tests/lab/lab.sh.
#   bench/latency.sh [BUILD_DIR]   -> $RESULTS/latency.tsv, $RESULTS/memory.tsv
# Settings: ROUNDS=30 WATCH_IDLE=60 UPDOWN_CYCLES=50 RESULTS BENCH_TIMEOUT=900
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_lab latency "$@"
