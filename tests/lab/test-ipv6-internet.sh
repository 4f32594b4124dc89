# SPDX-License-Identifier: MIT
# test-ipv6-internet.sh: on a dual-stack host a gateway is dual-stack by
# default: a ULA /64 (host side ::1, namespace ::2, link-locals fe80::1 and
# fe80::2), an IPv6 default route in the namespace, NAT66 to the uplink's
# address; IPv6 forwarding per interface (force_forwarding), never the global
# switch. --ipv6 off is IPv4 only, --subnet6 is used as given, two gateways
# get different /64s of one /48, bad --subnet6 values exit 2.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh):
# up0 2001:db8:1::1/64 <-> inet0 2001:db8:1::2/64, default route via inet.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

lab_ipv6
start_server_in inet "$SERVER_PORT"
start_server6_in inet "$SERVER6_PORT"

# expect_forwarding6_up NAME : while NAME is up: the global switch untouched
# (0), the gateway's host side and the uplink forward per interface, and the
# uplink still accepts router advertisements as it did.
expect_forwarding6_up() {
	expect_sysctl6 all forwarding 0 "$1 up"
	expect_sysctl6 default forwarding 0 "$1 up"
	expect_sysctl6 up0 forwarding 0 "$1 up"
	expect_sysctl6 up0 force_forwarding 1 "$1 up (the uplink)"
	expect_sysctl6 "nsg-$1" force_forwarding 1 "$1 up (its host side)"
	expect_sysctl6 up0 accept_ra "$(grep '^conf/up0/accept_ra:' <<<"$LAB6_SYSCTLS" | cut -d: -f2)" "$1 up (the uplink)"
}

# 1. up web: dual-stack by default; NAT66 and IPv4 both work; the host
# reaches the namespace over IPv6; show says so in text and JSON.
dual_by_default() {
	local text
	up_ok web
	assert_gw_dual web
	note "web: subnet6 $GW_SUBNET6"
	expect_internet6 run_in_gw web
	expect_internet run_in_gw web
	expect_forwarding6_up web
	start_tagged_server6_in web tcp 80 web
	expect_answer6 tcp "$GW_NS6" 80 "web $GW_HOST6"
	expect_exit 0 nsg show web
	text=$LAST_OUT
	grep -qxF "  subnet6    $GW_SUBNET6 (host $GW_HOST6, namespace $GW_NS6)" <<<"$text" ||
		fail "show web has no line '  subnet6    $GW_SUBNET6 (host $GW_HOST6, namespace $GW_NS6)': $text"
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" ".[0].ipv6 == true and .[0].subnet6 == \"$GW_SUBNET6\"" "list --json: web's ipv6 and subnet6"
	down_ok web
	assert_no_residue6 web
	pass "up web is dual-stack: $GW_SUBNET6, inet sees $UPLINK6_ADDR over IPv6 and $UPLINK_ADDR over IPv4; all.forwarding stays 0, force_forwarding on nsg-web and up0 while up; down leaves nothing"
}

# 2. --uplink up0 and --ipv6 auto / on: the same dual-stack gateway.
explicit_modes() {
	local args
	for args in "--uplink up0" "--ipv6 auto" "--ipv6 on"; do
		# shellcheck disable=SC2086
		up_ok web $args
		assert_gw_dual web
		expect_internet6 run_in_gw web
		expect_forwarding6_up web
		down_ok web
		assert_no_residue6 web
	done
	pass "up --uplink up0, --ipv6 auto, --ipv6 on: dual-stack, NAT66 works, down leaves nothing"
}

# 3. --ipv6 off: IPv4 only; nothing IPv6 on the host while it is up.
ipv6_off() {
	up_ok web --ipv6 off
	assert_gw_v4only web
	expect_internet run_in_gw web
	expect_no_internet6 run_in_gw web
	assert_ipv6_as_found "an IPv4-only gateway up"
	down_ok web
	assert_no_residue6 web
	pass "--ipv6 off: IPv4 only (disable_ipv6=1 on nsg-web, no IPv6 in the namespace), the host's IPv6 untouched"
}

# 4. --subnet6 PREFIX: used as given.
subnet6_given() {
	up_ok web --subnet6 fd00:1:2:3::/64
	assert_gw_dual web fd00:1:2:3::/64
	[ "$GW_NS6" = fd00:1:2:3::2 ] || fail "--subnet6 fd00:1:2:3::/64: ns_addr6 is $GW_NS6"
	expect_internet6 run_in_gw web
	down_ok web
	assert_no_residue6 web
	pass "--subnet6 fd00:1:2:3::/64: the namespace is fd00:1:2:3::2, NAT66 works"
}

# 5. Two gateways: different /64s of the same /48 (the host's ULA /48, kept:
# a gateway made after every other went down is in it too).
two_gateways() {
	local a b c
	up_ok a
	assert_gw_dual a
	a=$GW_SUBNET6
	up_ok b
	assert_gw_dual b
	b=$GW_SUBNET6
	[ "$a" != "$b" ] || fail "a and b both got $a"
	[ "$(ip6_prefix_of "$a" 48)" = "$(ip6_prefix_of "$b" 48)" ] ||
		fail "a ($a) and b ($b) are not in one /48 (the host's ULA /48)"
	expect_internet6 run_in_gw a
	expect_internet6 run_in_gw b
	down_ok a
	up_ok c
	assert_gw_dual c
	c=$GW_SUBNET6
	[ "$c" != "$b" ] || fail "c got b's $b"
	[ "$(ip6_prefix_of "$c" 48)" = "$(ip6_prefix_of "$b" 48)" ] || fail "c ($c) is not in b's /48 ($b)"
	expect_internet6 run_in_gw c
	expect_exit 0 nsg down --all
	assert_no_residue6 a b c
	up_ok a
	assert_gw_dual a
	[ "$(ip6_prefix_of "$GW_SUBNET6" 48)" = "$(ip6_prefix_of "$a" 48)" ] ||
		fail "a up again got $GW_SUBNET6, not in the /48 of before ($a): the ULA /48 must be kept"
	down_ok a
	assert_no_residue6 a
	pass "a $a, b $b, then c $c: different /64s of one /48, kept after everything went down"
}

# 6. Bad --subnet6 values and --ipv6 values: exit 2, one line, nothing left.
bad_values() {
	local s
	for s in fd00:1:2::/48 fd00:1:2:3::/96 fd00:1:2:3::5/64 fe80::/64 198.51.100.0/24 fd00:: abc ''; do
		expect_exit 2 nsg up web --subnet6 "$s"
		assert_error_line
		assert_no_residue6 web
	done
	expect_exit 2 nsg up web --ipv6 maybe
	assert_error_line
	assert_no_residue6 web
	pass "--subnet6 not a /64, with host bits, link-local, IPv4, no length, junk, empty; --ipv6 maybe: exit 2, one line, nothing left"
}

dual_by_default
explicit_modes
ipv6_off
subnet6_given
two_gateways
bad_values
