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
bench_report network "${1:-}" "${2:-}"
