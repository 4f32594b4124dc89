# SPDX-License-Identifier: MIT
# test-ipv6-ra-global.sh: IPv6 forwarding as nsgate does it on a kernel
# without per-interface force_forwarding (NSGATE_TEST_NO_FORCE_FORWARDING
# takes that path on this one): accept_ra 1 -> 2 on the interfaces that
# accept router advertisements, then net.ipv6.conf.all.forwarding=1. The
# host keeps its RA-learned default route while the switch is on (with
# accept_ra left at 1 it would lose it), the namespace reaches inet, and the
# last down puts both sysctls back; a switch someone else turned on stays.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6_ra (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

lab_ipv6_ra
start_server6_in inet "$SERVER6_PORT"
export NSGATE_TEST_NO_FORCE_FORWARDING=1

# 1. Up: the switch on, up0 accepting RAs while forwarding; the route is
# refreshed past its lifetime; down restores both.
global_switch() {
	local end
	up_ok web
	gw_json web
	assert_json "$GW_JSON" ".ipv6 == true" "show web --json: ipv6"
	expect_sysctl6 all forwarding 1 "web up (no force_forwarding)"
	expect_sysctl6 up0 accept_ra 2 "web up (no force_forwarding)"
	expect_sysctl6 up0 force_forwarding 0 "web up (no force_forwarding)"
	expect_internet6 run_in_gw web
	end=$((SECONDS + 2 * RA_LIFETIME + 1))
	while [ "$SECONDS" -lt "$end" ]; do
		has_ra_default_route || fail "the lab host lost its proto ra default route with all.forwarding=1 and accept_ra=2: $(ip -6 route)"
		sleep 0.5
	done
	expect_internet6 run_in_gw web
	[ -f /run/nsgate/forwarding/all.saved6 ] || fail "no saved value for the global switch: $(ls /run/nsgate/forwarding)"
	down_ok web
	expect_sysctl6 all forwarding 0 "after down"
	expect_sysctl6 up0 accept_ra 1 "after down"
	assert_no_residue6 web
	pass "without force_forwarding: accept_ra 1 -> 2, then all.forwarding=1; the host keeps its RA default route for $((2 * RA_LIFETIME + 1)) s; down restores both"
}

# 2. Someone else's switch: left on, and nothing saved.
others_switch() {
	must sysctl -qw net.ipv6.conf.all.forwarding=1
	up_ok web
	[ ! -e /run/nsgate/forwarding/all.saved6 ] || fail "nsgate saved a global switch it did not turn on"
	expect_internet6 run_in_gw web
	down_ok web
	expect_sysctl6 all forwarding 1 "after down (switch turned on by someone else)"
	must sysctl -qw net.ipv6.conf.all.forwarding=0
	must sysctl -qw net.ipv6.conf.up0.accept_ra=1
	pass "a global switch someone else turned on stays on after down, nothing saved"
}

global_switch
others_switch
