# SPDX-License-Identifier: MIT
# test-network-groups.sh: a member of several networks (--network twice).
# Four namespaces in two networks (g1: a1 a2, g2: b1 b2) and one, "both", in
# both: a1<->a2 and b1<->b2 connect, a* and b* do not (either way, TCP and
# ping); both reaches a1 and b1, by name too; a1 cannot reach b1 through
# both even with ip_forward=1 and a route via both inside; the internet
# works from a member and from both; down of both leaves g1 and g2 working
# and nothing of it. No residue at the end.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

net_json() {
	expect_exit 0 nsg network list --json
	NET_JSON=$LAST_OUT
}
member_addr() {
	jq -r --arg n "$1" --arg m "$2" \
		'.[] | select(.name == $n) | .members[] | select(.name == $m) | .address' <<<"$NET_JSON"
}
# no_tcp FROM ADDR PORT : a connection from FROM to ADDR:PORT fails.
no_tcp() {
	if peer_seen "$2" "$3" run_in_gw "$1" >/dev/null 2>&1; then
		fail "$1 reached $2:$3"
	fi
}
no_ping() {
	if run_in_gw "$1" ping -c1 -W1 -q "$2" >/dev/null 2>&1; then
		fail "$1 pinged $2"
	fi
}

setup() {
	local n
	for n in a1 a2; do up_ok "$n" --network g1; done
	for n in b1 b2; do up_ok "$n" --network g2; done
	up_ok both --network g1 --network g2
	grep -q "^both: also .* on network g2 (eth1)\$" <<<"$LAST_OUT" ||
		fail "up both printed '$LAST_OUT'"
	net_json
	A1=$(member_addr g1 a1) A2=$(member_addr g1 a2) B1=$(member_addr g2 b1) B2=$(member_addr g2 b2)
	BA=$(member_addr g1 both) BB=$(member_addr g2 both)
	[ -n "$BA" ] && [ -n "$BB" ] || fail "both is not a member of g1 and g2: $NET_JSON"
	gw_json both
	assert_json "$GW_JSON" '[.networks[] | [.name, .ifname, .address]] ==
		[["g1", "eth0", "'"$BA"'"], ["g2", "eth1", "'"$BB"'"]]' "show both --json networks"
	ip -n both -4 -o addr show dev eth1 | grep -qF " $BB/" ||
		fail "eth1 of both lacks $BB: $(ip -n both -4 -o addr)"
	[ "$(ip -n both route show default | wc -l)" = 1 ] &&
		ip -n both route show default | grep -q "dev eth0" ||
		fail "both's default route is not only via eth0: $(ip -n both route)"
	ip -d link show nsg-=1both | grep -q "alias nsgate:both" ||
		fail "nsg-=1both is not labelled nsgate:both: $(ip -d link show nsg-=1both)"
	[ -L /etc/netns/a1/hosts ] || fail "/etc/netns/a1/hosts is not a link"
	[ -f /etc/netns/both/hosts ] && [ ! -L /etc/netns/both/hosts ] ||
		fail "/etc/netns/both/hosts is not a file of its own"
	pass "both on g1 ($BA, eth0, default route) and g2 ($BB, eth1, subnet route only)"
}

groups() {
	local n
	for n in a1 a2 b1 b2 both; do start_server_in "$n" 7200; done
	[ "$(peer_seen "$A2" 7200 run_in_gw a1)" = "$A1" ] || fail "a1 cannot reach a2"
	[ "$(peer_seen "$A1" 7200 run_in_gw a2)" = "$A2" ] || fail "a2 cannot reach a1"
	[ "$(peer_seen "$B2" 7200 run_in_gw b1)" = "$B1" ] || fail "b1 cannot reach b2"
	[ "$(peer_seen "$B1" 7200 run_in_gw b2)" = "$B2" ] || fail "b2 cannot reach b1"
	must run_in_gw a1 ping -c1 -W2 -q "$A2" >/dev/null
	must run_in_gw b1 ping -c1 -W2 -q "$B2" >/dev/null
	for n in a1 a2; do no_tcp "$n" "$B1" 7200; no_tcp "$n" "$B2" 7200; no_ping "$n" "$B1"; done
	for n in b1 b2; do no_tcp "$n" "$A1" 7200; no_tcp "$n" "$A2" 7200; no_ping "$n" "$A1"; done
	[ "$(peer_seen "$A1" 7200 run_in_gw both)" = "$BA" ] || fail "both cannot reach a1"
	[ "$(peer_seen "$B1" 7200 run_in_gw both)" = "$BB" ] || fail "both cannot reach b1"
	[ "$(peer_seen "$BA" 7200 run_in_gw a1)" = "$A1" ] || fail "a1 cannot reach both"
	[ "$(peer_seen "$BB" 7200 run_in_gw b1)" = "$B1" ] || fail "b1 cannot reach both"
	[ "$(run_in_gw both getent hosts a1 | awk '{ print $1 }')" = "$A1" ] || fail "both cannot resolve a1"
	[ "$(run_in_gw both getent hosts b1 | awk '{ print $1 }')" = "$B1" ] || fail "both cannot resolve b1"
	run_in_gw a1 getent hosts b1 >/dev/null && fail "a1 resolves b1"
	expect_internet run_in_gw a1
	expect_internet run_in_gw both
	pass "g1 and g2 within, not between; both reaches a1 and b1 (by name); internet masqueraded"
}

# both as a router: ip_forward=1 inside it, a1's route to g2 via both's g1
# address, b1's back: the bridges' source check drops what both forwards.
no_transit() {
	local sub2 sub1
	sub2=$(jq -r '.[] | select(.name == "g2") | .subnet' <<<"$NET_JSON")
	sub1=$(jq -r '.[] | select(.name == "g1") | .subnet' <<<"$NET_JSON")
	must ip netns exec both sysctl -qw net.ipv4.ip_forward=1
	must ip -n a1 route add "$sub2" via "$BA"
	must ip -n b1 route add "$sub1" via "$BB"
	no_tcp a1 "$B1" 7200
	no_ping a1 "$B1"
	no_tcp b1 "$A1" 7200
	no_ping b1 "$A1"
	# Without br_netfilter's inet hooks too: table bridge nsgate alone.
	if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
		echo 0 >/proc/sys/net/bridge/bridge-nf-call-iptables || fail "cannot turn bridge-nf-call-iptables off"
		no_tcp a1 "$B1" 7200
		no_ping a1 "$B1"
		no_tcp b1 "$A1" 7200
		[ "$(peer_seen "$B1" 7200 run_in_gw both)" = "$BB" ] || fail "both cannot reach b1 without brnf"
		echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
	fi
	must ip -n a1 route del "$sub2" via "$BA"
	must ip -n b1 route del "$sub1" via "$BB"
	must ip netns exec both sysctl -qw net.ipv4.ip_forward=0
	pass "both with ip_forward=1 and routes through it: a1 and b1 still do not meet (with and without bridge-nf-call-iptables)"
}

# A further network's elements, deleted behind nsgate's back: show says
# rules-missing, doctor flags it, gc puts them back (it once looked at the
# first network only).
more_elements() {
	local br2 set elem
	br2=$(jq -r '.[] | select(.name == "g2") | .bridge' <<<"$NET_JSON")
	for set in ns_addrs4 ifaces; do
		case $set in
		ns_addrs4) elem="\"$br2\" . $BB" ;;
		ifaces) elem='"nsg-=1both"' ;;
		esac
		nft get element inet nsgate $set "{ $elem }" >/dev/null 2>&1 || fail "no $set element { $elem } for both"
		must nft delete element inet nsgate $set "{ $elem }"
		[ "$(gw_status both)" = rules-missing ] || fail "both without its g2 $set element: status $(gw_status both)"
		expect_exit 1 nsg doctor both
		grep -q '^both: nftables: ' <<<"$LAST_OUT" || fail "doctor both does not flag the missing $set element: $LAST_OUT"
		expect_exit 0 nsg gc
		nft get element inet nsgate $set "{ $elem }" >/dev/null 2>&1 || fail "gc did not put back $set { $elem }"
		[ "$(gw_status both)" = up ] || fail "both after gc: status $(gw_status both)"
	done
	[ "$(peer_seen "$B1" 7200 run_in_gw both)" = "$BB" ] || fail "both cannot reach b1 after gc"
	pass "a further network's ns_addrs4 and ifaces elements deleted: rules-missing, doctor flags them, gc restores"
}

down_both() {
	down_ok both
	assert_gone both
	ip link show nsg-=1both >/dev/null 2>&1 && fail "nsg-=1both is left"
	[ -e /etc/netns/both ] && fail "/etc/netns/both is left: $(ls -la /etc/netns/both)"
	grep -rq both /run/nsgate/networks && fail "both is still in the network files"
	[ "$(peer_seen "$A2" 7200 run_in_gw a1)" = "$A1" ] || fail "a1 cannot reach a2 after down both"
	[ "$(peer_seen "$B2" 7200 run_in_gw b1)" = "$B1" ] || fail "b1 cannot reach b2 after down both"
	[ "$(run_in_gw a1 getent hosts a2 | awk '{ print $1 }')" = "$A2" ] || fail "a1 cannot resolve a2"
	for n in a1 a2 b1 b2; do down_ok "$n"; done
	assert_no_residue a1 a2 b1 b2 both
	[ -z "$(ls -A /run/nsgate/networks 2>/dev/null)" ] ||
		fail "network files are left: $(ls -A /run/nsgate/networks)"
	nft list table bridge nsgate >/dev/null 2>&1 && fail "table bridge nsgate is left"
	[ -z "$(ls -A /etc/netns 2>/dev/null)" ] || fail "/etc/netns has $(ls -A /etc/netns)"
	pass "down of both leaves g1 and g2 working and nothing of it; no residue at the end"
}

# Refused: a network twice; a failed up of a dual member leaves nothing.
refusals_rollback() {
	local step
	expect_exit 2 nsg up dup --network g1 --network g1
	assert_error_line
	up_ok keep --network g1
	for step in network veth host_link ns_link nftables dns state; do
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up dual --network g1 --network tmp2
		assert_gone dual
		ip link show nsg-=1dual >/dev/null 2>&1 && fail "nsg-=1dual left after failing at $step"
		[ -e /run/nsgate/networks/tmp2.net ] && fail "network tmp2 left after failing at $step"
	done
	up_ok dual --network g1 --network tmp2
	[ "$(gw_status dual)" = up ] || fail "dual is $(gw_status dual), expected up"
	up_ok dual --network g1 --network tmp2
	[[ "$LAST_OUT" == "dual: unchanged "* ]] || fail "second up of dual printed '$LAST_OUT'"
	expect_exit 2 nsg up dual --network tmp2 --network g1
	must ip link del nsg-=1dual
	[ "$(gw_status dual)" = link-missing ] || fail "dual without nsg-=1dual is $(gw_status dual)"
	down_ok dual
	# The config file: network = repeats, in order.
	printf '[cfgdual]\nnetwork = g1\nnetwork = g3\n' >"$LAB_TMP/dual.conf"
	expect_exit 0 nsg apply "$LAB_TMP/dual.conf"
	grep -qx 'cfgdual: created' <<<"$LAST_OUT" || fail "apply did not create cfgdual: $LAST_OUT"
	gw_json cfgdual
	assert_json "$GW_JSON" '[.networks[] | [.name, .ifname]] == [["g1", "eth0"], ["g3", "eth1"]]' \
		"cfgdual's networks"
	expect_exit 0 nsg apply "$LAB_TMP/dual.conf"
	grep -qx 'cfgdual: unchanged' <<<"$LAST_OUT" || fail "second apply changed cfgdual: $LAST_OUT"
	down_ok cfgdual
	expect_internet run_in_gw keep
	down_ok keep
	assert_no_residue keep dual cfgdual
	pass "a network given twice is refused; a dual member's failed up (every step) leaves nothing; a deleted further veth shows as link-missing"
}

setup
groups
no_transit
more_elements
down_both
refusals_rollback
