# SPDX-License-Identifier: MIT
# test-ipv6-v4only.sh: on an IPv4-only host (lab.sh's plain lab: no IPv6
# default route) `up` is IPv4 only and nothing IPv6 appears on the host: no
# address, no route, every net.ipv6 sysctl as it was. `--ipv6 on` (or
# --subnet6) there still gives a dual-stack gateway: the host reaches the
# namespace over IPv6 and a published port answers on the gateway's host
# address from the host and from the namespace (hairpin); no uplink gets
# force_forwarding, as the host has no IPv6 default route.
# Runs inside lab.sh's hermetic lab, left IPv4 only.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools python3
[ -z "$(ip -6 route show default)" ] || fail "lab: the plain lab has an IPv6 default route: $(ip -6 route)"
lab_ipv6_record
start_server_in inet "$SERVER_PORT"

# 1. up web: IPv4 only; the host's IPv6 state and sysctls stay as they were.
auto_is_off() {
	up_ok web
	assert_gw_v4only web
	expect_internet run_in_gw web
	assert_ipv6_as_found "IPv4-only host, web up"
	down_ok web
	assert_no_residue6 web
	pass "IPv4-only host: up web is IPv4 only (ipv6 false, disable_ipv6=1 on nsg-web), no IPv6 address, route or sysctl change on the host"
}

# 2. --ipv6 on: dual-stack all the same; IPv6 between host and namespace.
forced_on() {
	local got
	up_ok web --ipv6 on --publish 8080:80
	assert_gw_dual web
	expect_internet run_in_gw web
	expect_sysctl6 all forwarding 0 "--ipv6 on without an IPv6 default route"
	expect_sysctl6 up0 force_forwarding "$LAB_UP0_FORCE_FWD6" "--ipv6 on without an IPv6 default route (up0 is no IPv6 uplink)"
	start_tagged_server6_in web tcp 80 web
	expect_answer6 tcp "$GW_NS6" 80 "web $GW_HOST6"
	got=$(ask6 tcp "$GW_HOST6" 8080 2>"$LAB_TMP/ask6.err")
	[ "$got" = "web $GW_HOST6" ] ||
		fail "lab host -> [$GW_HOST6]:8080: answer '$got', expected 'web $GW_HOST6' $(cat "$LAB_TMP/ask6.err")"
	expect_answer6 tcp "$GW_HOST6" 8080 "web $GW_HOST6" ip netns exec web
	down_ok web
	assert_no_residue6 web
	pass "--ipv6 on: dual-stack ($GW_SUBNET6); host -> [$GW_NS6]:80, host and hairpin -> [$GW_HOST6]:8080 work; down leaves nothing"
}

# 3. --subnet6 implies --ipv6 on.
subnet6_implies_on() {
	up_ok web --subnet6 fd00:9::/64
	assert_gw_dual web fd00:9::/64
	start_tagged_server6_in web tcp 80 web
	expect_answer6 tcp fd00:9::2 80 "web fd00:9::1"
	down_ok web
	assert_no_residue6 web
	pass "--subnet6 fd00:9::/64 on an IPv4-only host: dual-stack with that /64"
}

auto_is_off
forced_on
subnet6_implies_on
