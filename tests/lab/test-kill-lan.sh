# SPDX-License-Identifier: MIT
# test-kill-lan.sh: SIGKILL `nsgate up --lan` and `nsgate down` of a LAN
# gateway at each of their kill points (killpoints.sh), then `nsgate gc`: the
# gateway is fully up (its macvlan labelled in its namespace, its address,
# state and resolv.conf) or fully gone (no macvlan left in an attached
# namespace, whose own lo is as found), never a table or forwarding, and an
# `up` of the same name then works and `down` leaves zero residue.
# Scenarios: lan_own (a namespace of nsgate's), lan_attach (an attached
# namespace "other"), lan_down (down of a LAN gateway in "other").
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
# shellcheck source=tests/lab/killpoints.sh
. "$LAB_DIR/killpoints.sh"

LAN_ADDR=198.51.100.50

# A LAN gateway needs no table and no forwarding: consistent is every
# gateway list knows up, and nothing of a NAT gateway's anywhere
# (killpoints.sh's own version wants up0 forwarding while gateways are up).
kp_all_consistent() {
	local json bad
	json=$(nsg list --json) || fail "list --json failed"
	bad=$(jq -r '.[] | select(.status != "up") | "\(.name): \(.status)"' <<<"$json" | tr '\n' ' ')
	[ -z "$bad" ] || fail "gateways not up after gc: $bad"
	kp_no_residue
}

# lan_up NAME NS : NAME is fully up with its macvlan eth0 in netns NS.
lan_up() {
	local json st d
	json=$(nsg show "$1" --json 2>&1) || fail "$1: show failed: $json"
	st=$(jq -r .status <<<"$json")
	[ "$st" = up ] || fail "$1: status '$st', expected up"
	[ -e "/run/nsgate/$1.state" ] || fail "$1: no state file"
	[ -e "/etc/netns/$1/resolv.conf" ] || fail "$1: no /etc/netns/$1/resolv.conf"
	d=$(ip -n "$2" -d -o addr show dev eth0 2>&1) || fail "$1: no eth0 in $2"
	grep -q "inet $LAN_ADDR/24" <<<"$d" || fail "$1: eth0 in $2 lacks $LAN_ADDR/24"
	ip -n "$2" -d link show eth0 | grep -q "alias nsgate:$1 lan" || fail "$1: eth0 in $2 is not labelled"
}

# lan_gone NAME NS : nothing of NAME is left, no eth0 in netns NS.
lan_gone() {
	kp_gw_gone "$1"
	if [ "$2" != "$1" ] && ip -n "$2" link show eth0 >/dev/null 2>&1; then
		fail "$1 is gone, but eth0 is left in $2"
	fi
	return 0
}

lan_up_or_gone() {
	if kp_gw_listed "$1"; then lan_up "$@"; else lan_gone "$@"; fi
}

lan_own_setup() { :; }
lan_own_check() { kp_check web lan_up_or_gone web web; }
lan_own_recover() {
	kp_check up-again expect_exit 0 nsg up web --lan up0 --address "$LAN_ADDR/24" &&
		kp_check up-again lan_up web web
	kp_check down-web expect_exit 0 nsg down web && kp_check down-web lan_gone web web
	kp_all_down web
}

lan_attach_setup() {
	must ip netns add other
	kp_lo_record other
}
lan_attach_check() {
	kp_check web lan_up_or_gone web other
	kp_check other kp_attached_kept other
}
lan_attach_recover() {
	kp_check up-again expect_exit 0 nsg up web --lan up0 --netns other --address "$LAN_ADDR/24" &&
		kp_check up-again lan_up web other
	kp_check down-web expect_exit 0 nsg down web && kp_check down-web lan_gone web other
	kp_all_down web
	kp_check other kp_attached_intact other
}

lan_down_setup() {
	must ip netns add other
	kp_lo_record other
	must nsg up web --lan up0 --netns other --address "$LAN_ADDR/24"
}
lan_down_check() {
	kp_check web lan_up_or_gone web other
	kp_check other kp_attached_kept other
}
lan_down_recover() {
	kp_check down-web expect_exit 0 nsg down web && kp_check down-web lan_gone web other
	kp_all_down web
	kp_check other kp_attached_intact other
}

kp_scenario lan_own up web --lan up0 --address "$LAN_ADDR/24"
kp_scenario lan_attach up web --lan up0 --netns other --address "$LAN_ADDR/24"
kp_scenario lan_down down web
kp_verdict
