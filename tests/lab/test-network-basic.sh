# SPDX-License-Identifier: MIT
# test-network-basic.sh: gateways on one network (a bridge) reach each other
# directly, with their own addresses, and the internet masqueraded; networks
# made by up go with their last member, created ones stay until rm; a failed
# member's up leaves nothing.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools python3

start_server_in inet "$SERVER_PORT"

# net_json : `nsgate network list --json` into $NET_JSON.
net_json() {
	expect_exit 0 nsg network list --json
	NET_JSON=$LAST_OUT
}
# member_addr NET MEMBER : its address, from $NET_JSON.
member_addr() {
	jq -r --arg n "$1" --arg m "$2" \
		'.[] | select(.name == $n) | .members[] | select(.name == $m) | .address' <<<"$NET_JSON"
}
# ns_addr4 NS : the IPv4 address on eth0 of netns NS.
ns_addr4() { ip -n "$1" -4 -o addr show dev eth0 | awk '{ print $4 }'; }

assert_net_gone() {
	ip link show "nsg-+$1" >/dev/null 2>&1 && fail "bridge nsg-+$1 is left: $(ip -d link show "nsg-+$1")"
	[ -e "/run/nsgate/networks/$1.net" ] && fail "/run/nsgate/networks/$1.net is left"
	return 0
}
# Two members of an implicit network: own addresses of its /24, default
# route via .1, direct connections both ways (the peer sees the member's
# own address: no NAT), ping, and the internet masqueraded.
implicit_members() {
	up_ok alpha --network lan
	[[ "$LAST_OUT" == "alpha: up "*" on network lan, namespace /run/netns/alpha via nsg-+lan "* ]] ||
		fail "up alpha --network lan printed '$LAST_OUT'"
	up_ok bravo --network lan
	net_json
	assert_json "$NET_JSON" 'length == 1 and .[0].name == "lan" and .[0].explicit == false and
		.[0].isolated == false and .[0].bridge == "nsg-+lan" and .[0].bridge_present and
		([.[0].members[].name] == ["alpha", "bravo"])' "network list --json"
	SUBNET=$(jq -r '.[0].subnet' <<<"$NET_JSON")
	GW=$(jq -r '.[0].gateway' <<<"$NET_JSON")
	A=$(member_addr lan alpha)
	B=$(member_addr lan bravo)
	[ "$A" != "$B" ] || fail "both members got $A"
	[ "$(ns_addr4 alpha)" = "$A/24" ] || fail "eth0 of a has $(ns_addr4 alpha), expected $A/24"
	[ "$(ns_addr4 bravo)" = "$B/24" ] || fail "eth0 of b has $(ns_addr4 bravo), expected $B/24"
	ip -n alpha route show default | grep -q "via $GW dev eth0" ||
		fail "a has no default route via $GW: $(ip -n alpha route)"
	ip -4 -o addr show dev nsg-+lan | grep -qF " $GW/24 " ||
		fail "bridge nsg-+lan lacks $GW/24: $(ip -4 -o addr show dev nsg-+lan)"
	start_server_in bravo 7100
	start_server_in alpha 7101
	seen=$(peer_seen "$B" 7100 run_in_gw alpha) || fail "a cannot connect to b's $B:7100"
	[ "$seen" = "$A" ] || fail "bravo's server saw '$seen', expected a's own $A (no NAT)"
	seen=$(peer_seen "$A" 7101 run_in_gw bravo) || fail "b cannot connect to a's $A:7101"
	[ "$seen" = "$B" ] || fail "a's server saw '$seen', expected b's own $B (no NAT)"
	must run_in_gw alpha ping -c1 -W2 -q "$B" >/dev/null
	expect_internet run_in_gw alpha
	expect_internet run_in_gw bravo
	pass "members alpha $A and bravo $B of lan $SUBNET: direct both ways without NAT, inet masqueraded"
}

# One member's down leaves the other working; the last one's takes the
# network (made by up) with it, and nothing is left.
implicit_down() {
	down_ok alpha
	assert_gone alpha
	expect_internet run_in_gw bravo
	net_json
	assert_json "$NET_JSON" '[.[0].members[].name] == ["bravo"]' "members after down a"
	down_ok bravo
	assert_net_gone lan
	assert_no_residue alpha bravo
	assert_no_net_residue
	pass "down of alpha keeps bravo working; down of the last member removes lan; no residue"
}

# A created network: its subnet, settings checked on a second create, it
# stays without members, rm refuses while members are there.
explicit_network() {
	expect_exit 0 nsg network create web --subnet 10.77.0.0/24
	[ "$LAST_OUT" = "network web: created" ] || fail "create printed '$LAST_OUT'"
	expect_exit 0 nsg network create web --subnet 10.77.0.0/24
	[ "$LAST_OUT" = "network web: unchanged" ] || fail "second create printed '$LAST_OUT'"
	expect_exit 2 nsg network create web --isolated
	assert_error_line
	expect_exit 2 nsg network create other --subnet 10.77.0.0/25
	assert_error_line
	ip -4 -o addr show dev nsg-+web | grep -qF " 10.77.0.1/24 " ||
		fail "nsg-+web lacks 10.77.0.1/24: $(ip -4 -o addr show dev nsg-+web)"
	up_ok charlie --network web
	up_ok delta --network web
	[ "$(ns_addr4 charlie)" = 10.77.0.2/24 ] || fail "c has $(ns_addr4 charlie), expected 10.77.0.2/24"
	[ "$(ns_addr4 delta)" = 10.77.0.3/24 ] || fail "d has $(ns_addr4 delta), expected 10.77.0.3/24"
	must run_in_gw charlie ping -c1 -W2 -q 10.77.0.3 >/dev/null
	expect_internet run_in_gw delta
	up_ok charlie --network web
	[[ "$LAST_OUT" == "charlie: unchanged "* ]] || fail "second up of charlie printed '$LAST_OUT'"
	expect_exit 2 nsg up charlie --network lan
	expect_exit 2 nsg network rm web
	assert_error_line
	down_ok charlie
	down_ok delta
	net_json
	assert_json "$NET_JSON" '.[0].name == "web" and .[0].explicit and (.[0].members | length) == 0' \
		"web after its members' down"
	ip link show nsg-+web >/dev/null || fail "down of the last member removed created network web"
	expect_exit 0 nsg network rm web
	assert_net_gone web
	expect_exit 1 nsg network rm web
	assert_error_line
	assert_no_residue charlie delta
	assert_no_net_residue
	pass "created network: subnet as given, conflicts refused, kept without members, rm"
}

# A member's up failing at any step leaves neither the member nor the
# network it made; an existing member keeps working.
rollback() {
	local step
	up_ok keeper --network lan
	for step in netns network veth host_link ns_link nftables dns state; do
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up fail1 --network lan
		assert_gone fail1
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up fail2 --network tmp
		assert_gone fail2
		assert_net_gone tmp
	done
	net_json
	assert_json "$NET_JSON" 'length == 1 and [.[0].members[].name] == ["keeper"]' "after rollbacks"
	expect_internet run_in_gw keeper
	down_ok keeper
	assert_no_residue keeper fail1 fail2
	assert_no_net_residue
	pass "a member's failed up (every step) leaves nothing, also of a network it made"
}

# The config file's network key and [network NET] sections: apply makes the
# network (explicitly) and its members, leaves them alone the second time,
# refuses a conflict or a member's uplink changing nothing, and --prune
# removes the members (the created network stays until network rm).
apply_network() {
	local conf=$LAB_TMP/net.conf
	printf '[network cfgnet]\nsubnet = 10.88.0.0/24\n\n[front]\nnetwork = cfgnet\n\n[back]\nnetwork = cfgnet\n' >"$conf"
	expect_exit 0 nsg apply "$conf"
	grep -qx 'front: created' <<<"$LAST_OUT" && grep -qx 'back: created' <<<"$LAST_OUT" ||
		fail "apply did not create both: $LAST_OUT"
	net_json
	assert_json "$NET_JSON" '.[0].name == "cfgnet" and .[0].subnet == "10.88.0.0/24" and .[0].explicit and
		([.[0].members[].name] | sort) == ["back", "front"]' "cfgnet after apply"
	must run_in_gw front ping -c1 -W2 -q "$(member_addr cfgnet back)" >/dev/null
	expect_exit 0 nsg apply "$conf"
	grep -qx 'front: unchanged' <<<"$LAST_OUT" || fail "second apply changed front: $LAST_OUT"
	printf '[network cfgnet]\nisolated = yes\n[extra]\nnetwork = cfgnet\n' >"$LAB_TMP/conflict.conf"
	expect_exit 2 nsg apply "$LAB_TMP/conflict.conf"
	assert_error_line
	[[ "$LAST_ERR" == *"conflict.conf:1: network \"cfgnet\": exists with other settings"* ]] ||
		fail "apply of a conflicting network said '$LAST_ERR'"
	[ -e /run/nsgate/extra.state ] && fail "a conflicting file made gateway extra"
	printf '[bad]\nnetwork = cfgnet\nuplink = up0\n' >"$LAB_TMP/bad.conf"
	expect_exit 2 nsg apply "$LAB_TMP/bad.conf"
	assert_error_line
	[[ "$LAST_ERR" == *"bad.conf:3: uplink: not for a member of network"* ]] ||
		fail "apply of a member with uplink said '$LAST_ERR'"
	[ -e /run/nsgate/bad.state ] && fail "a refused file made gateway bad"
	printf '[network cfgnet]\nsubnet = 10.88.0.0/24\n' >"$conf"
	expect_exit 0 nsg apply "$conf" --prune
	assert_gone front
	assert_gone back
	ip link show nsg-+cfgnet >/dev/null || fail "apply --prune removed the created network cfgnet"
	expect_exit 0 nsg network rm cfgnet
	assert_net_gone cfgnet
	assert_no_residue front back
	assert_no_net_residue
	pass "apply: [network NET] and network = NET make them, leave them alone, refuse conflicts, --prune"
}

implicit_members
implicit_down
explicit_network
rollback
apply_network
