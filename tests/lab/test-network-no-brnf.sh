# SPDX-License-Identifier: MIT
# test-network-no-brnf.sh: test-network-isolation.sh with br_netfilter's
# bridge-nf-call-iptables off in the lab's namespace (per namespace since
# Linux 5.3): members then meet on the bridge without any inet hook, and
# table bridge nsgate alone keeps their sources honest. Without br_netfilter
# loaded the bridge never calls the inet hooks either: the same test.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
	echo 0 >/proc/sys/net/bridge/bridge-nf-call-iptables || fail "cannot turn bridge-nf-call-iptables off in the lab"
	note "bridge-nf-call-iptables off in the lab's namespace"
else
	note "br_netfilter not loaded: bridged traffic meets no inet hook anyway"
fi
# shellcheck source=tests/lab/test-network-isolation.sh
. "$LAB_DIR/test-network-isolation.sh"
