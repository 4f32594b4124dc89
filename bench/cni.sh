#!/bin/bash
# SPDX-License-Identifier: MIT
# ADD and DEL latency of nsgate-cni against Debian's containernetworking-
# plugins chain ptp (host-local IPAM, ipMasq) + portmap, driven identically
# as a runtime drives a conflist (environment, stdin, prevResult; the chain's
# ADD is ptp then portmap, its DEL portmap then ptp), one published port per
# container, in the same run: each round adds COUNT containers (each sees
# the ports of those before it), then deletes them, for nsgate and for the
# chain in turn (which goes first alternates). Then the per-connection cost
# with N containers' ports published, N in CONN_SIZES (see
# bench/cni-conn-steps.sh): new connections from inet through the first and
# the last container's port against a direct connection to the lab host, in
# the same rounds. Runs inside the hermetic lab
# of tests/lab/lab.sh: nothing touches the machine's network. Needs root and
# the Debian packages containernetworking-plugins, iptables.
#   bench/cni.sh [BUILD_DIR]   -> a report on stdout
# Settings (environment): PHASES="latency conn", COUNT=50, ROUNDS=3,
#   CONN_SIZES="10 1000", CONN_ROUNDS=5, CONN_N=300 (connections a round),
#   CNI_DIR=/usr/lib/cni, BENCH_TIMEOUT=3600,
#   OUT=FILE (raw TSV: latency rows "impl add|del round index us"; conn rows
#   "impl conn_first|conn_last|conn_direct N round p50_us" and
#   "impl sadd|sdel N index us")
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export NSGATE=$build/nsgate NSGATE_CNI=$build/nsgate-cni COUNT=${COUNT:-50} ROUNDS=${ROUNDS:-3}
export CNI_DIR=${CNI_DIR:-/usr/lib/cni} PHASES=${PHASES:-latency conn}
export CONN_SIZES=${CONN_SIZES:-10 1000} CONN_ROUNDS=${CONN_ROUNDS:-5} CONN_N=${CONN_N:-300}
export OUT=${OUT:-/tmp/nsgate-bench/cni-$(date +%Y%m%d-%H%M%S).tsv}
[ -x "$NSGATE_CNI" ] || { echo "bench: $NSGATE_CNI missing: cmake --build $build" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
export BIN=${BIN:-/tmp/nsgate-bench/bin-cni}   # its own copy: another run may be executing the shared one
. "$top/bench/common.sh"
bench_prepare "$build"   # connlat into $BIN
echo "# bench/cni.sh, started $(date -u '+%F %T') UTC, $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')," \
	"$("$NSGATE" --version); $(nproc) CPUs, kernel $(uname -r), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# PHASES='$PHASES' COUNT=$COUNT ROUNDS=$ROUNDS CONN_SIZES='$CONN_SIZES' CONN_ROUNDS=$CONN_ROUNDS CONN_N=$CONN_N"
timeout -k 5 "${BENCH_TIMEOUT:-3600}" bash "$top/tests/lab/lab.sh" "$top/bench/cni-steps.sh"
echo "# load average at end $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T') UTC"
