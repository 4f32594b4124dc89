# SPDX-License-Identifier: MIT
# test-list-show.sh: list/show report what the kernel holds, and down cleans
# up a gateway someone damaged by hand.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# No gateway: list --json is an empty array.
empty_list() {
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" '. == []' "list --json with no gateway"
	expect_exit 0 nsg list
	pass "list --json with no gateway prints []"
}

# Every field of show --json, checked against the kernel.
fields() {
	local subnet base host ns
	up_ok web
	gw_json web
	assert_json "$GW_JSON" '.name == "web" and .host_ifname == "nsg-web"' "show: names"
	assert_json "$GW_JSON" '.netns == "/run/netns/web" and .netns_created == true' "show: netns"
	assert_json "$GW_JSON" '.status == "up" and .uplink == null' "show: status, uplink"
	assert_json "$GW_JSON" '.dns == ["198.51.100.2"]' "show: dns from the lab resolv.conf"
	subnet=$(gw_field web subnet)
	[[ $subnet =~ ^10\.200\.[0-9]+\.[0-9]+/30$ ]] || fail "show: subnet $subnet is not a /30 of 10.200.0.0/16"
	base=$(ip2int "${subnet%/*}")
	host=$(int2ip $((base + 1)))
	ns=$(int2ip $((base + 2)))
	assert_json "$GW_JSON" ".host_addr == \"$host\" and .ns_addr == \"$ns\"" "show: addresses in $subnet"
	ip -o -4 addr show dev nsg-web | grep -q " $host/30 " || fail "nsg-web lacks $host/30: $(ip -o addr show)"
	ip -o link show nsg-web | grep -q 'alias nsgate:web' || fail "nsg-web has no ifalias nsgate:web"
	ip -n web -o -4 addr show dev eth0 | grep -q " $ns/30 " || fail "eth0 in web lacks $ns/30"
	ip -n web route show default | grep -q "^default via $host dev eth0" || fail "web has no default route via $host"
	ip -n web -o link show lo | grep -q 'LOOPBACK,UP' || fail "lo is not up in web"
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" "length == 1 and .[0] == $GW_JSON" "list --json holds the same object as show"
	expect_exit 0 nsg show web
	[ -n "$LAST_OUT" ] || fail "show web (text) printed nothing"
	pass "show web --json: $subnet, host $host, ns $ns, /run/netns/web created, status up"
}

# The veth deleted behind nsgate's back: show reads the kernel and reports
# the gateway broken; down still removes the rest.
damaged() {
	must ip link del nsg-web
	LAST_OUT=$(nsg show web --json 2>"$LAB_TMP/show.err")
	jq -e 'type == "object" and .status != "up" and (.status | type) == "string"' >/dev/null 2>&1 <<<"$LAST_OUT" ||
		fail "show web --json after ip link del nsg-web: status must not be up; got: $LAST_OUT $(cat "$LAB_TMP/show.err")"
	note "status after the veth was deleted: $(jq -r .status <<<"$LAST_OUT")"
	down_ok web
	assert_no_residue web
	pass "veth deleted by hand: show says not up; down cleans the rest"
}

# A 15-byte name: the host side is shortened to a valid, stable name.
long_name() {
	local name=abcdefghijklmno ifname again
	up_ok "$name"
	gw_json "$name"
	ifname=$(gw_field "$name" host_ifname)
	[ "${#ifname}" -le 15 ] && [[ $ifname == nsg-* ]] || fail "host_ifname '$ifname' for $name"
	ip -o link show "$ifname" | grep -q "alias nsgate:$name" || fail "$ifname has no ifalias nsgate:$name"
	down_ok "$name"
	assert_no_residue "$name"
	up_ok "$name"
	gw_json "$name"
	again=$(gw_field "$name" host_ifname)
	[ "$again" = "$ifname" ] || fail "host_ifname not stable: $ifname then $again"
	down_ok "$name"
	assert_no_residue "$name"
	pass "15-byte name gets the stable host interface $ifname"
}

# --subnet CIDR is used as given: host .1, namespace .2, with its length.
given_subnet() {
	up_ok web --subnet 10.99.0.0/24
	gw_json web
	assert_json "$GW_JSON" '.subnet == "10.99.0.0/24" and .host_addr == "10.99.0.1" and .ns_addr == "10.99.0.2"' \
		"show with --subnet 10.99.0.0/24"
	ip -o -4 addr show dev nsg-web | grep -q ' 10.99.0.1/24 ' || fail "nsg-web lacks 10.99.0.1/24"
	ip -n web -o -4 addr show dev eth0 | grep -q ' 10.99.0.2/24 ' || fail "eth0 in web lacks 10.99.0.2/24"
	down_ok web
	assert_no_residue web
	pass "--subnet 10.99.0.0/24: host 10.99.0.1, namespace 10.99.0.2"
}

# The allocator skips prefixes the host already uses (here a route over the
# start of 10.200.0.0/16 and an address just after it).
avoids_used_prefixes() {
	local subnet
	must ip route add 10.200.0.0/29 via 198.51.100.2
	must ip addr add 10.200.0.9/32 dev up0
	up_ok web
	gw_json web
	subnet=$(gw_field web subnet)
	subnets_overlap "$subnet" 10.200.0.0/29 && fail "allocated $subnet overlaps the host route 10.200.0.0/29"
	subnets_overlap "$subnet" 10.200.0.9/32 && fail "allocated $subnet overlaps the host address 10.200.0.9"
	down_ok web
	must ip addr del 10.200.0.9/32 dev up0
	must ip route del 10.200.0.0/29 via 198.51.100.2
	assert_no_residue web
	pass "allocation skips used prefixes: got $subnet"
}

empty_list
given_subnet
avoids_used_prefixes
fields
damaged
long_name
