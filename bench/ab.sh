#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/ab.sh OLD_NSGATE NEW_NSGATE [ROUNDS]: two builds of nsgate side by
# side in one hermetic lab (tests/lab/lab.sh: own network, mount and PID
# namespaces), commands interleaved A B B A in every round, so that drift
# and the order of commands hit both alike. Medians of: up and down of one gateway (another one keeps the
# table), publish and unpublish of 10,000 ports in one range, list of 100
# gateways. For a change that must not make nsgate slower (a refactor).
# AB_SETUP (shell, run in the lab first) and AB_OPS ("up down" ...) pass through.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: bench/ab.sh OLD_NSGATE NEW_NSGATE [ROUNDS]" >&2; exit 2; }
export NSGATE_A=$(readlink -f "$1") NSGATE_B=$(readlink -f "$2") ROUNDS=${3:-30}
export NSGATE=$NSGATE_B   # lab.sh wants one
export AB_SETUP=${AB_SETUP:-} AB_OPS=${AB_OPS:-}
exec timeout -k 5 900 bash "$top/tests/lab/lab.sh" "$top/bench/ab-steps.sh"
