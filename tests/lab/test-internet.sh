# SPDX-License-Identifier: MIT
# test-internet.sh: a gateway gives its namespace the internet through NAT.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces);
# "the internet" is the lab's inet namespace, 198.51.100.2.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# With --uplink up0: traffic from the namespace leaves masqueraded as the
# lab host's uplink address, and down removes every trace.
with_uplink() {
	up_ok web --uplink up0
	expect_internet run_in_gw web
	gw_json web
	[ "$(gw_field web uplink)" = up0 ] || fail "show: uplink is $(gw_field web uplink), expected up0"
	down_ok web
	assert_no_residue web
	pass "up --uplink up0: inet sees $UPLINK_ADDR; down leaves nothing"
}

# Without --uplink: masquerade toward any interface that is not a gateway's.
without_uplink() {
	up_ok web
	expect_internet run_in_gw web
	gw_json web
	assert_json "$GW_JSON" '.uplink == null' "show: uplink without --uplink"
	# IPv4 only: the host side carries no IPv6 (no routes in the host's
	# IPv6 FIB per gateway), the namespace keeps its own.
	[ "$(cat /proc/sys/net/ipv6/conf/nsg-web/disable_ipv6)" = 1 ] ||
		fail "nsg-web: IPv6 still on"
	[ -z "$(ip -6 -o addr show dev nsg-web)" ] || fail "nsg-web has IPv6 addresses"
	[ "$(cat /proc/sys/net/ipv4/conf/nsg-web/route_localnet)" = 1 ] ||
		fail "nsg-web: route_localnet not set"
	down_ok web
	assert_no_residue web
	pass "up without --uplink: inet sees $UPLINK_ADDR; down leaves nothing"
}

# The forward chain drops connections the namespace did not start: inet,
# given a route to the gateway's subnet, cannot reach a server inside it.
unsolicited_inbound_dropped() {
	local ns_addr subnet
	up_ok web
	gw_json web
	ns_addr=$(gw_field web ns_addr)
	subnet=$(gw_field web subnet)
	start_server_in web 7001
	# Sanity: the server answers inside the namespace itself.
	[ "$(peer_seen "$ns_addr" 7001 run_in_gw web)" = "$ns_addr" ] ||
		fail "server in web does not answer on $ns_addr:7001"
	must ip -n inet route add "$subnet" via "$UPLINK_ADDR"
	if seen=$(peer_seen "$ns_addr" 7001 ip netns exec inet 2>/dev/null); then
		fail "inet connected to $ns_addr:7001 inside the gateway's namespace (saw '$seen'): inbound must be dropped"
	fi
	must ip -n inet route del "$subnet" via "$UPLINK_ADDR"
	# The namespace still reaches out.
	expect_internet run_in_gw web
	down_ok web
	assert_no_residue web
	pass "unsolicited inbound connection from inet to the namespace is dropped"
}

# --uplink restricts masquerade to that interface: with the uplink set to
# side0 (one end of a spare veth pair), traffic toward inet leaves up0 with
# the namespace's own source address (inet, given a route back, sees
# 10.200.x.2, not the lab host's address). nsgate turns forwarding on for
# side0 only, so the replies coming in on up0 need it turned on by hand.
uplink_restricts_masquerade() {
	local ns_addr subnet seen
	must ip link add side0 type veth peer name side1
	must ip link set side0 up
	up_ok web --uplink side0
	[ "$(cat /proc/sys/net/ipv4/conf/side0/forwarding)" = 1 ] || fail "--uplink side0: side0 does not forward"
	[ "$(cat /proc/sys/net/ipv4/conf/up0/forwarding)" = 0 ] || fail "--uplink side0: up0's forwarding turned on"
	must sysctl -qw net.ipv4.conf.up0.forwarding=1
	gw_json web
	ns_addr=$(gw_field web ns_addr)
	subnet=$(gw_field web subnet)
	must ip -n inet route add "$subnet" via "$UPLINK_ADDR"
	seen=$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw web 2>&1)
	[ "$seen" = "$ns_addr" ] ||
		fail "with --uplink side0, inet should see the unmasqueraded $ns_addr, saw '$seen'"
	must ip -n inet route del "$subnet" via "$UPLINK_ADDR"
	must sysctl -qw net.ipv4.conf.up0.forwarding=0
	down_ok web
	[ "$(cat /proc/sys/net/ipv4/conf/side0/forwarding)" = 0 ] || fail "down: side0 still forwards"
	must ip link del side0
	assert_no_residue web
	pass "--uplink side0: traffic leaving through up0 is not masqueraded"
}

with_uplink
without_uplink
unsolicited_inbound_dropped
uplink_restricts_masquerade
