# SPDX-License-Identifier: MIT
# test-isolation-failclosed.sh: a damaged table closes a gateway, never opens
# it. With gateway a's element deleted from ifaces (and from ns_addrs4), the
# internet (routing a's subnet via the lab host) still cannot open a
# connection to a port a does not publish; `nsgate gc` puts the elements back
# and says so; `nsgate watch` does it within about 1 s of a deleted element,
# a flushed set and a flushed ports map, and published ports work again.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"
up_ok a --publish 8080:80
up_ok b --uplink up0
start_tagged_server_in a tcp 80 a
start_tagged_server_in a tcp 2222 secret
gw_addrs a
# The internet knows the way to the gateways' subnets: only the rules stand
# between it and a's unpublished port.
must ip netns exec inet ip route add 10.200.0.0/16 via "$UPLINK_ADDR"
ELEMENTS=$(nft_elements)

expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
expect_no_answer tcp "$GW_NS" 2222 ip netns exec inet
pass "inet reaches a's published port, not its unpublished 2222"

# delete_elements : a's ifaces element, and its ns_addrs4 one when the set exists.
delete_elements() {
	must nft delete element inet nsgate ifaces '{ "nsg-a" }'
	if nft list set inet nsgate ns_addrs4 >/dev/null 2>&1; then
		must nft delete element inet nsgate ns_addrs4 "{ \"nsg-a\" . $GW_NS }"
	fi
}

delete_elements
expect_no_answer tcp "$GW_NS" 2222 ip netns exec inet
expect_no_answer tcp "$GW_NS" 80 ip netns exec inet
[ "$(gw_status a)" = rules-missing ] || fail "without its elements show a says '$(gw_status a)', expected rules-missing"
pass "with a's elements deleted, inet still cannot connect to a's ports directly; show says rules-missing"

expect_exit 0 nsg gc
grep -qx 'a: restored, its nftables elements differed from its files' <<<"$LAST_OUT" ||
	fail "gc did not report 'a: restored, ...': '$LAST_OUT'"
[ "$(nft_elements)" = "$ELEMENTS" ] || fail "gc did not restore a's elements:
$(diff <(echo "$ELEMENTS") <(nft_elements) | sed 's/^/    /')"
GC_SAID=$LAST_OUT
gw_is_up a || fail "after gc a is '$(gw_status a)'"
expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
expect_internet run_in_gw a
expect_exit 0 nsg gc
[ -z "$LAST_OUT" ] || fail "a second gc with nothing missing printed: '$LAST_OUT'"
pass "gc put a's elements back and said so ('$GC_SAID'); a second gc does nothing"

# watch, within about 1 s of each damage.
WLOG=$LAB_TMP/watch.log
start_nsgate_bg "$WLOG" watch
WATCH=$BG_PID
wait_for grep -q listening "$WLOG" || fail "watch never started: $(cat "$WLOG")"
table_whole() { [ "$(nft_elements)" = "$ELEMENTS" ]; }
# repaired_by_watch WHAT : within about 1 s the elements are whole again.
repaired_by_watch() {
	local t0=$1
	WAIT_TRIES=100 wait_for table_whole ||
		fail "watch did not restore the elements within 1 s of $2:
$(diff <(echo "$ELEMENTS") <(nft_elements) | sed 's/^/    /')
  watch log: $(cat "$WLOG")"
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
	expect_internet run_in_gw a
	expect_internet run_in_gw b
	pass "watch restored the elements $((($(date +%s%N) - t0) / 1000000)) ms after $2"
}
T0=$(date +%s%N)
delete_elements
repaired_by_watch "$T0" "deleting a's elements"
wait_for grep -qx 'watch: a: restored, its nftables elements differed from its files' "$WLOG" ||
	fail "watch did not say 'watch: a: restored, ...': $(cat "$WLOG")"
T0=$(date +%s%N)
must nft flush set inet nsgate ifaces
repaired_by_watch "$T0" "nft flush set inet nsgate ifaces"
T0=$(date +%s%N)
must nft flush map inet nsgate ports4
repaired_by_watch "$T0" "nft flush map inet nsgate ports4"
grep -vxE 'watch: (listening for nftables and link events|[^: ]+: restored, its nftables elements differed from its files)' "$WLOG" &&
	fail "watch printed other lines: $(cat "$WLOG")"
kill -TERM "$WATCH"
wait_exit "$WATCH" 5 || fail "watch did not stop on SIGTERM"

expect_exit 0 nsg down --all
assert_no_residue a b
