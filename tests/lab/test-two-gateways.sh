# SPDX-License-Identifier: MIT
# test-two-gateways.sh: two gateways side by side are independent and isolated.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# Both come up with distinct, non-overlapping subnets, both reach inet, and
# list shows both.
two_up() {
	up_ok gw-a
	up_ok gw-b
	gw_json gw-a
	A_SUBNET=$(gw_field gw-a subnet)
	gw_json gw-b
	B_SUBNET=$(gw_field gw-b subnet)
	B_NS=$(gw_field gw-b ns_addr)
	[ "$A_SUBNET" != "$B_SUBNET" ] || fail "both gateways got subnet $A_SUBNET"
	subnets_overlap "$A_SUBNET" "$B_SUBNET" && fail "subnets overlap: $A_SUBNET and $B_SUBNET"
	expect_internet run_in_gw gw-a
	expect_internet run_in_gw gw-b
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" 'type == "array" and length == 2' "list --json"
	assert_json "$LAST_OUT" '[.[].name] | sort == ["gw-a", "gw-b"]' "list --json names"
	pass "gw-a $A_SUBNET and gw-b $B_SUBNET: disjoint, both reach inet, both listed"
}

# gw-a cannot open a connection to a server inside gw-b.
isolated() {
	start_server_in gw-b 7100
	[ "$(peer_seen "$B_NS" 7100 run_in_gw gw-b)" = "$B_NS" ] ||
		fail "server in gw-b does not answer on $B_NS:7100 from inside gw-b"
	if seen=$(peer_seen "$B_NS" 7100 run_in_gw gw-a 2>/dev/null); then
		fail "gw-a connected to gw-b's $B_NS:7100 (server saw '$seen'): gateways must be isolated"
	fi
	pass "gw-a cannot connect to gw-b's namespace address $B_NS"
}

# Down gw-a: gw-b keeps working, the shared table stays without gw-a.
down_first() {
	down_ok gw-a
	assert_gone gw-a
	nft list table inet nsgate >/dev/null 2>&1 || fail "down gw-a removed table inet nsgate while gw-b is up"
	expect_internet run_in_gw gw-b
	[ "$(cat /proc/sys/net/ipv4/conf/up0/forwarding)" = 1 ] ||
		fail "down gw-a turned up0's forwarding off while gw-b is up"
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" '[.[].name] == ["gw-b"]' "list --json after down gw-a"
	down_ok gw-b
	assert_no_residue gw-a gw-b
	pass "down gw-a leaves gw-b working and the table in place; down gw-b leaves nothing"
}

# down --all removes every gateway at once, also those known only by their
# link (state file lost) or only by their state (link gone), and counts them.
down_all() {
	up_ok gw-a
	up_ok gw-b
	up_ok gw-c
	must rm /run/nsgate/gw-b.state
	must ip link del nsg-gw-c
	down_ok --all
	[[ "$LAST_OUT" == *"3 gateways down"* ]] || fail "down --all said '$LAST_OUT', expected 3 gateways down"
	assert_no_residue gw-a gw-b gw-c
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" '. == []' "list --json after down --all"
	down_ok --all
	assert_no_residue gw-a gw-b
	pass "down --all removes both gateways; down --all with none exits 0"
}

two_up
isolated
down_first
down_all
