#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 16's `run` end to end: `nsgate run -- true` (a namespace with a NAT
# gateway made, true run inside, everything taken down) against the same
# command with no network at all (`unshare -n true`), under pasta and under
# slirp4netns, and fork+exec of /bin/true, rounds interleaved in one run in
# the hermetic lab of tests/lab/lab.sh (bench/run-e2e-steps.sh says how each
# is driven).
#   bench/run-e2e.sh [BUILD_DIR] [OUT]   -> the report on stdout (and in OUT),
#                                           raw rows in $RESULTS/run-e2e.tsv
# Settings: ROUNDS=30 RUN_ROWS="true unshare nsgate pasta slirp4netns"
#   RESULTS (default a new /tmp/nsgate-bench/run-e2e.XXXXXX) BENCH_TIMEOUT=1800
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_report run-e2e "${1:-}" "${2:-}"
