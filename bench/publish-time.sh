#!/bin/bash
# SPDX-License-Identifier: MIT
# Wall time of publishing and unpublishing ports with nsgate: 10,000 ports in
# one command (one range SPEC, and 10,000 single-port SPECs), and one port per
# command with 0 and with 10,000 ports already published; next to the time
# iptables-nft-restore, iptables-legacy-restore and nft -f take to load (and
# remove) 10,000 DNAT rules, and to add one more. Runs inside the hermetic lab
# of tests/lab/lab.sh (own network, mount and PID namespaces): nothing touches
# the machine's network. Needs root and the Debian packages iptables,
# conntrack (besides the lab's own).
#   bench/publish-time.sh [BUILD_DIR]   -> a report on stdout
# Settings (environment): ROUNDS=5 (10,000-port commands), SINGLE=200 (one-port
#   commands per case), CMP=50 (one-rule commands of the other tools),
#   OUT=FILE (raw TSV), BENCH_TIMEOUT=600 (seconds for the whole run)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export NSGATE=$build/nsgate ROUNDS=${ROUNDS:-5} SINGLE=${SINGLE:-200} CMP=${CMP:-50}
export OUT=${OUT:-/tmp/nsgate-bench/publish-time-$(date +%Y%m%d-%H%M%S).tsv}
mkdir -p "$(dirname "$OUT")"
exec timeout -k 5 "${BENCH_TIMEOUT:-600}" bash "$top/tests/lab/lab.sh" "$top/bench/publish-time-steps.sh"
