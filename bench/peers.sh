#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end set-up latency (up until a connection through the published port
# and one to the internet succeed) and tear-down latency of one namespace, for
# nsgate and the peer tools (nft and iptables scripts, CNI ptp+portmap,
# netavark, pasta, slirp4netns), rounds interleaved in one hermetic lab
# (tests/lab/lab.sh). The peers run through the shared peer harness's peer
# scripts (PEERS_DIR, default /work/shared/peers/peers).
#   bench/peers.sh [BUILD_DIR]   -> raw rows in $RESULTS/peers_e2e.tsv
# Settings: ROUNDS=10, PEER_ROWS="nsgate-bin nsgate nft iptables cni netavark pasta slirp4netns",
#   RESULTS (default /tmp/nsgate-bench/manual), BENCH_TIMEOUT=900
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_lab peers "$@"
