#!/bin/bash
# SPDX-License-Identifier: MIT
# ADD and DEL latency of nsgate-cni against Debian's containernetworking-
# plugins chain ptp (host-local IPAM, ipMasq) + portmap, driven identically
# as a runtime drives a conflist (environment, stdin, prevResult; the chain's
# ADD is ptp then portmap, its DEL portmap then ptp), one published port per
# container, in the same run: each round adds COUNT containers (each sees
# the ports of those before it), then deletes them, for nsgate and for the
# chain in turn (which goes first alternates). Runs inside the hermetic lab
# of tests/lab/lab.sh: nothing touches the machine's network. Needs root and
# the Debian packages containernetworking-plugins, iptables.
#   bench/cni.sh [BUILD_DIR]   -> a report on stdout
# Settings (environment): COUNT=50, ROUNDS=3, CNI_DIR=/usr/lib/cni,
#   OUT=FILE (raw TSV: impl op round index us), BENCH_TIMEOUT=900
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export NSGATE=$build/nsgate NSGATE_CNI=$build/nsgate-cni COUNT=${COUNT:-50} ROUNDS=${ROUNDS:-3}
export CNI_DIR=${CNI_DIR:-/usr/lib/cni}
export OUT=${OUT:-/tmp/nsgate-bench/cni-$(date +%Y%m%d-%H%M%S).tsv}
[ -x "$NSGATE_CNI" ] || { echo "bench: $NSGATE_CNI missing: cmake --build $build" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
exec timeout -k 5 "${BENCH_TIMEOUT:-900}" bash "$top/tests/lab/lab.sh" "$top/bench/cni-steps.sh"
