#!/bin/bash
# SPDX-License-Identifier: MIT
# nsgate with N = 10, 100, 1,000 gateways: up one after another, down --all,
# down one by one, gc of vanished namespaces; first 10 vs last 10. Runs in the
# hermetic lab of tests/lab/lab.sh.
#   bench/scale.sh [BUILD_DIR]   -> $RESULTS/scale.tsv, $RESULTS/scale_curve.tsv
# Settings: SIZES="10 100 1000" HOST_IPV6=1 (0: IPv6 off on the lab host) RESULTS BENCH_TIMEOUT=900
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_lab scale "$@"
