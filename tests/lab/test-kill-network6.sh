# SPDX-License-Identifier: MIT
# test-kill-network6.sh: test-kill-network.sh on a dual-stack lab (lab_ipv6):
# its networks are then dual-stack, so every kill point of `up --network`
# and a member's `down` also leaves the IPv6 addresses, routes and elements
# (bridge ::1, the members' port_src6 and ns_addrs6 elements) whole or gone.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

lab_ipv6
# shellcheck source=tests/lab/test-kill-network.sh
. "$LAB_DIR/test-kill-network.sh"
