# SPDX-License-Identifier: MIT
# test-ipv6-attach.sh: an attached namespace that has IPv6 of its own (an
# IPv6 default route through another link) keeps it: --ipv6 auto gives it an
# IPv4-only gateway, --ipv6 on is refused (exit 2, one line, nothing left);
# without such a route it gets a dual-stack gateway like any other.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

lab_ipv6
must ip netns add box
must ip netns add other
must ip -n box link add d0 type veth peer name d1 netns other
must ip -n box link set dev d0 up
must ip -n other link set dev d1 up
must ip -n box addr add 2001:db8:9::5/64 dev d0 nodad

own_route() {
	must ip -n box -6 route add default via 2001:db8:9::1 dev d0
	up_ok b --netns box
	gw_json b
	assert_json "$GW_JSON" '.ipv6 == false and .subnet6 == null' "show b --json: IPv4 only beside the namespace's own IPv6"
	[ "$(ip -n box -6 route show default)" = "default via 2001:db8:9::1 dev d0 metric 1024 pref medium" ] ||
		fail "box's own IPv6 default route changed: $(ip -n box -6 route show default)"
	down_ok b
	expect_exit 2 nsg up b --netns box --ipv6 on
	assert_error_line
	case $LAST_ERR in *"has an IPv6 default route already"*) ;; *) fail "unexpected error: $LAST_ERR" ;; esac
	assert_no_residue b
	pass "an attached namespace with its own IPv6 default route: auto leaves its IPv6 alone (IPv4-only gateway), --ipv6 on is refused"
}

no_own_route() {
	must ip -n box -6 route del default via 2001:db8:9::1 dev d0
	up_ok b --netns box
	gw_json b
	assert_json "$GW_JSON" '.ipv6 == true' "show b --json: dual-stack"
	ip -n box -6 route show default | grep -q "dev eth0" || fail "box has no IPv6 default route via eth0: $(ip -n box -6 route)"
	down_ok b
	assert_no_residue b
	pass "an attached namespace without IPv6 of its own gets a dual-stack gateway"
}

own_route
no_own_route
