# SPDX-License-Identifier: MIT
# test-ipv6-recovery.sh: a dual-stack gateway's IPv6 survives damage to its
# rules as its IPv4 does: after `nft flush table inet nsgate`, or with its
# IPv6 source element (ns_addrs6) deleted, `nsgate gc` (or a running
# `nsgate watch`) brings back NAT66 and the published port over IPv6; and
# `nsgate apply` creates a gateway dual-stack from `ipv6 = on` and
# `subnet6 = ...`, and re-creates it when either changes.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

lab_ipv6
start_server_in inet "$SERVER_PORT"
start_server6_in inet "$SERVER6_PORT"
CONF=$LAB_TMP/gw.conf

# works6 : web's NAT66 and its published port over IPv6 (and IPv4) work.
works6() {
	expect_internet6 run_in_gw web
	expect_internet run_in_gw web
	expect_answer6 tcp "$UPLINK6_ADDR" 8080 "web $INET6_ADDR" ip netns exec inet
}

# broken6 : web's NAT66 and its IPv6 published port do not work.
broken6() {
	expect_no_internet6 run_in_gw web
	expect_no_answer6 tcp "$UPLINK6_ADDR" 8080 ip netns exec inet
}

# has_ns_addrs6_elem : set ns_addrs6 has web's element "nsg-web . PREFIX::2"
# (fe80::2's element beside it stays: neighbour discovery goes on).
has_ns_addrs6_elem() {
	[ -n "$(nft_elements | awk -F '\t' -v e="nsg-web . $WEB_NS6" '$1 == "ns_addrs6" && $2 == "web" && $3 == e')" ]
}

# restored WHAT : the table has every element it had before the damage.
restored() {
	local got
	got=$(nft_elements)
	[ "$got" = "$ELEMENTS" ] || fail "after $1 the elements differ from before:
$(diff <(echo "$ELEMENTS") <(echo "$got") | sed 's/^/    /')"
	gw_is_up web || fail "after $1 web is '$(gw_status web)', not up"
	works6
}

setup() {
	up_ok web --publish 8080:80
	assert_gw_dual web
	WEB_NS6=$GW_NS6
	start_tagged_server6_in web tcp 80 web
	works6
	ELEMENTS=$(nft_elements)
	has_ns_addrs6_elem || fail "no ns_addrs6 element \"nsg-web . $WEB_NS6\" for web: $(nft_elements)"
	pass "web up with 8080:80: NAT66 and [$UPLINK6_ADDR]:8080 work"
}

# 1. nft flush table inet nsgate, then gc.
flush_then_gc() {
	must nft flush table inet nsgate
	broken6
	expect_exit 0 nsg gc
	note "gc after the flush printed: $(tr '\n' '|' <<<"$LAST_OUT")"
	restored "nft flush table inet nsgate and gc"
	pass "nft flush table inet nsgate breaks web's IPv6; nsgate gc restores it"
}

# 2. web's ns_addrs6 element deleted: its IPv6 is dropped (fail closed), its
# IPv4 goes on, show says source6 false; gc restores the element, and says so.
element_then_gc() {
	must nft delete element inet nsgate ns_addrs6 "{ \"nsg-web\" . $WEB_NS6 }"
	expect_no_internet6 run_in_gw web
	expect_internet run_in_gw web
	gw_json web
	jq -e '.nftables.source6 == false' >/dev/null <<<"$GW_JSON" ||
		defer_fail "without web's ns_addrs6 element $WEB_NS6, show web --json says $(jq -c '{status, nftables}' <<<"$GW_JSON"): source6 must be false"
	expect_exit 0 nsg gc
	grep -qx 'web: restored, its nftables elements differed from its files' <<<"$LAST_OUT" ||
		fail "gc did not report 'web: restored, ...': '$LAST_OUT' (stderr '$LAST_ERR')"
	restored "the ns_addrs6 element deleted and gc"
	expect_exit 0 nsg gc
	[ -z "$LAST_OUT" ] || fail "a second gc with nothing missing printed: '$LAST_OUT'"
	pass "without its ns_addrs6 element web's IPv6 is dropped, IPv4 goes on; gc says 'web: restored' and IPv6 works again"
}

# 3. The same under a running watch: it restores on its own.
element_then_watch() {
	local log=$LAB_TMP/watch.log
	start_nsgate_bg "$log" watch
	WATCH_PID=$BG_PID
	wait_for grep -q listening "$log" || fail "watch never printed its 'listening' line: $(cat "$log")"
	must nft delete element inet nsgate ns_addrs6 "{ \"nsg-web\" . $WEB_NS6 }"
	WAIT_TRIES=500 wait_for has_ns_addrs6_elem ||
		fail "watch did not restore web's ns_addrs6 element in 5 s: $(cat "$log")"
	wait_for grep -qx 'watch: web: restored, its nftables elements differed from its files' "$log" ||
		fail "watch restored web without saying 'watch: web: restored, ...': $(cat "$log")"
	restored "the ns_addrs6 element deleted under watch"
	kill -TERM "$WATCH_PID"
	wait_exit "$WATCH_PID" 10 || fail "watch did not stop on SIGTERM"
	pass "under nsgate watch, web's deleted ns_addrs6 element comes back and IPv6 works"
}

# 4. apply: ipv6 = on with subnet6; the same file again; ipv6 = off; a new subnet6.
apply_ipv6() {
	expect_exit 0 nsg down --all
	assert_no_residue6 web
	printf '[web]\nipv6 = on\nsubnet6 = fd00:5:5:5::/64\npublish = 8080:80\n' >"$CONF"
	expect_exit 0 nsg apply "$CONF"
	grep -q '^web: created' <<<"$LAST_OUT" || fail "apply did not create web: $LAST_OUT"
	assert_gw_dual web fd00:5:5:5::/64
	start_tagged_server6_in web tcp 80 web
	works6
	expect_exit 0 nsg apply "$CONF"
	grep -q '^web: unchanged' <<<"$LAST_OUT" || fail "the same file again changed web: $LAST_OUT"
	printf '[web]\nipv6 = off\npublish = 8080:80\n' >"$CONF"
	expect_exit 0 nsg apply "$CONF"
	grep -q '^web: recreated' <<<"$LAST_OUT" || fail "apply of ipv6 = off did not re-create web: $LAST_OUT"
	assert_gw_v4only web
	expect_internet run_in_gw web
	printf '[web]\nsubnet6 = fd00:5:5:6::/64\npublish = 8080:80\n' >"$CONF"
	expect_exit 0 nsg apply "$CONF"
	grep -q '^web: recreated' <<<"$LAST_OUT" || fail "apply of subnet6 = fd00:5:5:6::/64 did not re-create web: $LAST_OUT"
	assert_gw_dual web fd00:5:5:6::/64
	start_tagged_server6_in web tcp 80 web
	works6
	printf '[web]\nipv6 = on\nsubnet6 = fd00:5:5:5::/65\n' >"$CONF"
	expect_exit 2 nsg apply "$CONF"
	assert_error_line
	assert_gw_dual web fd00:5:5:6::/64
	expect_exit 0 nsg down --all
	assert_no_residue6 web
	pass "apply: ipv6 = on + subnet6 creates web dual-stack on fd00:5:5:5::/64, unchanged the second time; ipv6 = off and a new subnet6 re-create it; a bad subnet6 exits 2 and changes nothing"
}

setup
flush_then_gc
apply_ipv6
setup
element_then_gc
element_then_watch
expect_exit 0 nsg down --all
assert_no_residue6 web
deferred_verdict
