#!/bin/bash
# SPDX-License-Identifier: MIT
# K (10,000) ports published one port per command, then removed one per
# command: nsgate vs one iptables rule per port vs one nft rule per port; each
# command timed. Runs in the hermetic lab of tests/lab/lab.sh.
#   bench/ports.sh [BUILD_DIR]  -> $RESULTS/ports.tsv, $RESULTS/ports_curve.tsv
# Settings: K=10000 SEQ_CAP=120 (seconds per sequence) LAYOUTS BLOCKS=50 RESULTS BENCH_TIMEOUT=1200
set -euo pipefail
. "$(dirname "$0")/common.sh"
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-1200}
bench_lab ports "$@"
