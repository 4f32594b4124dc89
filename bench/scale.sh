#!/bin/bash
# SPDX-License-Identifier: MIT
# nsgate with N = 10, 100, 1,000 (up to 10,000: SIZES="10 10000") gateways: up
# one after another, down --all, down one by one, gc of vanished namespaces;
# first 10 (and 100) vs last; kernel memory per gateway; new-connection cost
# through one gateway's port against a direct connection. Runs in the
# hermetic lab of tests/lab/lab.sh.
#   bench/scale.sh [BUILD_DIR]   -> $RESULTS/scale.tsv, $RESULTS/scale_curve.tsv
# Settings: SIZES="10 100 1000" HOST_IPV6=1 (0: IPv6 off on the lab host)
#   CONN_ROUNDS=5 CONN_N=300 RESULTS BENCH_TIMEOUT=900 (give 10,000 about 3600)
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_lab scale "$@"
