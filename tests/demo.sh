#!/bin/bash
# The README's demo: nsgate's main job, shown inside a throwaway hermetic lab
# (tests/lab/lab.sh: its own network, mount and PID namespaces), so it works on
# any machine and never touches the machine's real network.
#   tests/demo.sh [path/to/nsgate]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export NSGATE=${1:-$top/build/nsgate}
exec bash "$top/tests/lab/lab.sh" "$top/tests/lab/demo-steps.sh"
