#!/bin/bash
# Wall time of `nsgate up` and `nsgate down` for one gateway (median of RUNS),
# the kernel's floor for creating and deleting one veth, the cost of starting
# a process at all, and nsgate's peak RSS. Runs inside the hermetic lab of
# tests/lab/lab.sh (own network, mount and PID namespaces); nothing touches
# the machine's network.
#   bench/up-down.sh [BUILD_DIR] [RUNS]   -> a report on stdout
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export NSGATE=$build/nsgate VETH_FLOOR=$build/bench/veth-floor RUNS=${2:-50}
exec bash "$top/tests/lab/lab.sh" "$top/bench/up-down-steps.sh"
