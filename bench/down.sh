#!/bin/bash
# SPDX-License-Identifier: MIT
# `nsgate down` of a gateway whose namespace nsgate made (its veth left to
# the kernel with the namespace: src/core/dying.c) against fork+exec of
# /bin/true in the same rounds; an attached namespace's down (veth deleted);
# `nsgate run -- true` against `unshare -n true`; down --all of ALL, a run
# loop of LOOP. Runs in the
# hermetic lab of tests/lab/lab.sh; prints medians and ratios.
#   bench/down.sh [BUILD_DIR]   -> a report on stdout, $RESULTS/down.tsv
# Settings: ROUNDS=30 ALL=200 LOOP=200 RESULTS BENCH_TIMEOUT=900
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_lab down "$@"
