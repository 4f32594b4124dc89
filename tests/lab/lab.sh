#!/bin/bash
# SPDX-License-Identifier: MIT
#
# lab.sh TEST_SCRIPT - run one nsgate integration test inside a hermetic lab.
#
# Safety model: nothing here (and nothing in a test) ever touches the machine's
# real network namespace. lab.sh re-executes itself under
#   unshare --net --mount --pid --fork --mount-proc --kill-child
# so the test gets:
#   - a fresh network namespace: the "lab host", where nsgate runs;
#   - a private mount namespace: tmpfs over /run (so /run/netns, /run/nsgate and
#     /run/systemd are the lab's own) and over /etc/netns, a fresh sysfs, and a
#     lab-only /etc/resolv.conf;
#   - a private PID namespace: when the test ends, every process it started
#     (servers, namespace holders) is killed by the kernel, and with them every
#     namespace the lab made.
# Inside, `ip netns add inet` plays the internet, joined to the lab host by a veth:
#   lab host up0 198.51.100.1/24  <->  inet0 198.51.100.2/24 in netns "inet"
# The lab host's default route points at inet. Tests only ever send packets to
# addresses in namespaces of their own lab (TEST-NET ranges, 10.200.0.0/16).
#
# Environment: NSGATE = path of the nsgate binary (set by CTest).
# Exit status: the test's (0 passed, anything else failed).

set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
unset LAB_READY

lab_die() {
	echo "FAIL: lab: $*" >&2
	exit 1
}

# ------------------------------------------------------------- outside the lab
# Only checks and the re-exec happen here: nothing is configured.
if [ "${NSGATE_IN_LAB:-}" != 1 ]; then
	[ $# -eq 1 ] || lab_die "usage: lab.sh TEST_SCRIPT"
	script=$(readlink -f -- "$1") || lab_die "no such test script: $1"
	[ -r "$script" ] || lab_die "no such test script: $1"
	[ "$(id -u)" = 0 ] || lab_die "the lab tests must run as root (they create namespaces); not skipping"
	[ -n "${NSGATE:-}" ] || lab_die "NSGATE is not set (path of the nsgate binary)"
	NSGATE=$(readlink -f -- "$NSGATE") || lab_die "nsgate binary $NSGATE is missing"
	[ -x "$NSGATE" ] || lab_die "nsgate binary $NSGATE is missing or not executable"
	command -v unshare >/dev/null || lab_die "unshare not found (Debian package util-linux)"
	outer_netns=$(stat -L -c %i /proc/self/ns/net) || lab_die "cannot read /proc/self/ns/net"
	export NSGATE NSGATE_LAB_OUTER_NETNS=$outer_netns NSGATE_IN_LAB=1
	exec unshare --net --mount --pid --fork --mount-proc --kill-child \
		bash "$LAB_DIR/lab.sh" "$script"
	lab_die "cannot exec unshare"
fi

# ------------------------------------------------------------- inside the lab
script=$1
test_name=$(basename "$script" .sh)

# Belt and braces: this must be a namespace of our own, empty but for lo,
# before anything at all is configured.
[ "$(stat -L -c %i /proc/self/ns/net)" != "${NSGATE_LAB_OUTER_NETNS:-}" ] ||
	lab_die "still in the outer network namespace; refusing to run"
if ip -o link show | grep -qv ': lo: '; then
	ip -o link show >&2
	lab_die "lab network namespace has links other than lo; refusing to run"
fi

for tool in ip nft socat jq ping ss nsenter setpriv timeout getent mount sysctl; do
	command -v "$tool" >/dev/null ||
		lab_die "$tool not found (needs Debian packages: iproute2 nftables socat jq iputils-ping util-linux coreutils libc-bin procps)"
done

# --- mounts: private to this lab
mount --make-rprivate / || lab_die "mount --make-rprivate /"
mount -t tmpfs -o mode=755 lab-run /run || lab_die "tmpfs on /run"
mkdir -p /run/netns /run/nsgate /run/lock /run/lab
mount -t sysfs lab-sys /sys || lab_die "sysfs on /sys"
# /etc/netns may not exist on the machine; an empty directory is all we leave
# there, and the lab's files live on a tmpfs mounted over it.
[ -d /etc/netns ] || mkdir -p /etc/netns || lab_die "mkdir /etc/netns"
mount -t tmpfs -o mode=755 lab-etcnetns /etc/netns || lab_die "tmpfs on /etc/netns"
# The lab's own resolver configuration: the "internet" only. Tests rewrite
# /etc/resolv.conf freely: it is this tmpfs file.
LAB_RESOLV=/run/lab/resolv.conf
echo "nameserver 198.51.100.2" >"$LAB_RESOLV"
resolv_target=$(readlink -f /etc/resolv.conf)
case $resolv_target in
/run/*) # a symlink into /run (systemd-resolved): it now points into our tmpfs
	mkdir -p "$(dirname "$resolv_target")"
	cp "$LAB_RESOLV" "$resolv_target"
	LAB_RESOLV=$resolv_target ;;
*)
	[ -e /etc/resolv.conf ] || lab_die "/etc/resolv.conf is missing, cannot bind-mount the lab's over it"
	mount --bind "$LAB_RESOLV" /etc/resolv.conf || lab_die "bind-mount /etc/resolv.conf" ;;
esac
export LAB_RESOLV

# --- network: lab host <-> inet
ip link set lo up || lab_die "lo up"
sysctl -qw net.ipv4.ip_forward=0 || lab_die "cannot set ip_forward in the lab"
ip netns add inet || lab_die "ip netns add inet"
ip link add up0 type veth peer name inet0 netns inet || lab_die "veth up0/inet0"
ip addr add 198.51.100.1/24 dev up0 || lab_die "address on up0"
ip link set up0 up || lab_die "up0 up"
ip -n inet link set lo up || lab_die "lo up in inet"
ip -n inet addr add 198.51.100.2/24 dev inet0 || lab_die "address on inet0"
ip -n inet link set inet0 up || lab_die "inet0 up"
ip route add default via 198.51.100.2 dev up0 || lab_die "default route"
inet_ok=0
for _ in $(seq 300); do
	if ping -c1 -W1 -q 198.51.100.2 >/dev/null 2>&1; then
		inet_ok=1
		break
	fi
	sleep 0.01
done
[ "$inet_ok" = 1 ] || lab_die "the lab's inet namespace does not answer ping"

LAB_IP_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward)
LAB_UP0_FORWARDING=$(cat /proc/sys/net/ipv4/conf/up0/forwarding)
export LAB_IP_FORWARD LAB_UP0_FORWARDING LAB_DIR
LAB_READY=yes

lab_dump() {
	echo "---- lab state after failure ($test_name) ----"
	echo "# ip -o link"; ip -o link show
	echo "# ip -4 -o addr"; ip -4 -o addr show
	echo "# ip route"; ip route show
	echo "# ip_forward = $(cat /proc/sys/net/ipv4/ip_forward) (lab started with $LAB_IP_FORWARD)"
	echo "# up0 forwarding = $(cat /proc/sys/net/ipv4/conf/up0/forwarding) (lab started with $LAB_UP0_FORWARDING)"
	echo "# nft list ruleset"; nft list ruleset 2>&1
	echo "# /run/netns /run/nsgate /etc/netns"
	ls -la /run/netns /run/nsgate /etc/netns 2>&1
	echo "---- end of lab state ----"
} >&2

echo "lab: $test_name: lab is up (host up0 198.51.100.1 <-> inet 198.51.100.2), nsgate=$NSGATE"
(
	# shellcheck source=tests/lab/lib.sh
	. "$LAB_DIR/lib.sh"
	. "$script"
)
rc=$?
if [ "$rc" = 0 ]; then
	echo "lab: $test_name: PASSED"
else
	lab_dump
	echo "lab: $test_name: FAILED (exit $rc)"
fi
exit "$rc"
