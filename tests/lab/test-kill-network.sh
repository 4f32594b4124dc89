# SPDX-License-Identifier: MIT
# test-kill-network.sh: SIGKILL `nsgate up --network` and a member's `down`
# at each of their kill points (killpoints.sh), then `nsgate gc`: the member
# is fully up or fully gone, its network lists it exactly then, a network
# made by the killed up is gone with it, the other member keeps working, and
# then up, down and the last down leave nothing (no bridge, no network file,
# no table bridge nsgate).
# Scenarios: net_join (web joins lan, where keeper is), net_first (web makes
# network solo), net_down (web's down, db staying on lan), net_dual (web
# joins lan and makes solo: two veths), net_dual_down (that member's down).
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
# shellcheck source=tests/lab/killpoints.sh
. "$LAB_DIR/killpoints.sh"

# kp_reset knows nothing of networks' own table.
net_reset() { nft delete table bridge nsgate 2>/dev/null; }

# member_up_or_gone NAME NET : NAME fully up as a member of NET (status up,
# state, resolv.conf and hosts, its port on the bridge, listed by NET), or
# fully gone and not listed by NET.
member_up_or_gone() {
	local name=$1 net=$2 listed json
	json=$(nsg network list --json) || fail "network list failed"
	listed=$(jq -r --arg n "$net" --arg m "$name" \
		'[.[] | select(.name == $n) | .members[] | select(.name == $m)] | length' <<<"$json")
	if kp_gw_listed "$name"; then
		[ "$(nsg show "$name" --json | jq -r .status)" = up ] || fail "$name: not up"
		[ "$listed" = 1 ] || fail "$name is up, but network $net lists it $listed times"
		[ -e "/etc/netns/$name/hosts" ] || fail "$name: no hosts file"
		[ "$(basename "$(readlink "/sys/class/net/nsg-$name/master")")" = "nsg-+$net" ] ||
			fail "$name: its port is not on nsg-+$net"
	else
		kp_gw_gone "$name"
		[ "$listed" = 0 ] || fail "$name is gone, but network $net lists it"
	fi
}

# net_gone NET : nothing of network NET is left.
net_gone() {
	[ -e "/sys/class/net/nsg-+$1" ] && fail "bridge nsg-+$1 is left"
	[ -e "/run/nsgate/networks/$1.net" ] && fail "network file of $1 is left"
	return 0
}

member_works() {
	peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw "$1" >/dev/null || fail "$1 cannot reach inet"
}

no_net_residue() {
	nft list table bridge nsgate >/dev/null 2>&1 && fail "table bridge nsgate is left"
	net_gone lan
	net_gone solo
}

net_join_setup() {
	net_reset
	nsg up keeper --network lan >/dev/null || fail "up keeper failed"
}
net_join_check() {
	kp_check web member_up_or_gone web lan
	kp_check keeper member_works keeper
}
net_join_recover() {
	kp_check up-again expect_exit 0 nsg up web --network lan &&
		kp_check up-again member_up_or_gone web lan
	kp_check down-web expect_exit 0 nsg down web
	kp_all_down web keeper
	kp_check net-residue no_net_residue
}

net_first_setup() { net_reset; }
net_first_check() {
	kp_check web member_up_or_gone web solo
	kp_gw_listed web || kp_check solo net_gone solo
}
net_first_recover() {
	kp_check up-again expect_exit 0 nsg up web --network solo
	kp_check down-web expect_exit 0 nsg down web
	kp_check solo net_gone solo
	kp_all_down web
	kp_check net-residue no_net_residue
}

net_down_setup() {
	net_reset
	nsg up web --network lan >/dev/null || fail "up web failed"
	nsg up db --network lan >/dev/null || fail "up db failed"
}
net_down_check() {
	kp_check web member_up_or_gone web lan
	kp_check db member_works db
}
net_down_recover() {
	kp_check down-again expect_exit 0 nsg down web
	kp_all_down web db
	kp_check net-residue no_net_residue
}

# dual_up_or_gone : web up on lan (eth0) and solo (eth1, port nsg-=1web),
# listed by both, with a hosts file of its own; or gone from both (and solo,
# which its up made, gone too).
dual_up_or_gone() {
	member_up_or_gone web lan
	if kp_gw_listed web; then
		[ "$(jq -r --arg m web '[.[] | select(.name == "solo") | .members[] |
			select(.name == $m)] | length' <<<"$(nsg network list --json)")" = 1 ] ||
			fail "web is up, but solo does not list it"
		[ "$(basename "$(readlink /sys/class/net/nsg-=1web/master)")" = nsg-+solo ] ||
			fail "web: nsg-=1web is not on nsg-+solo"
		[ -f /etc/netns/web/hosts ] && [ ! -L /etc/netns/web/hosts ] ||
			fail "web: /etc/netns/web/hosts is not a file of its own"
	else
		[ -e /sys/class/net/nsg-=1web ] && fail "web is gone, but nsg-=1web is left"
		net_gone solo
	fi
	return 0
}

net_dual_setup() {
	net_reset
	nsg up keeper --network lan >/dev/null || fail "up keeper failed"
}
net_dual_check() {
	kp_check web dual_up_or_gone
	kp_check keeper member_works keeper
}
net_dual_recover() {
	kp_check up-again expect_exit 0 nsg up web --network lan --network solo &&
		kp_check up-again dual_up_or_gone
	kp_check down-web expect_exit 0 nsg down web
	kp_all_down web keeper
	kp_check net-residue no_net_residue
}

net_dual_down_setup() {
	net_reset
	nsg up db --network lan >/dev/null || fail "up db failed"
	nsg up web --network lan --network solo >/dev/null || fail "up web failed"
}
net_dual_down_check() {
	kp_check web dual_up_or_gone
	kp_check db member_works db
}
net_dual_down_recover() {
	kp_check down-again expect_exit 0 nsg down web
	kp_all_down web db
	kp_check net-residue no_net_residue
}

start_server_in inet "$SERVER_PORT"
kp_scenario net_join up web --network lan
kp_scenario net_first up web --network solo
kp_scenario net_down down web
kp_scenario net_dual up web --network lan --network solo
kp_scenario net_dual_down down web
kp_verdict
