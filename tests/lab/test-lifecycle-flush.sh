# SPDX-License-Identifier: MIT
# test-lifecycle-flush.sh: after `nft flush ruleset` (a firewall reload) the
# gateways lose their NAT and published ports; `nsgate apply FILE` (the same
# file), `nsgate up OTHER` and `nsgate gc` each bring back the table with every
# gateway's elements, published ports included, and traffic works again.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"
CONF=$LAB_TMP/gw.conf

# expect_no_internet PREFIX... : through PREFIX, inet is not reached masqueraded.
expect_no_internet() {
	local seen
	seen=$(peer_seen "$INET_ADDR" "$SERVER_PORT" "$@" 2>/dev/null)
	[ "$seen" != "$UPLINK_ADDR" ] || fail "via '$*': inet still reached masqueraded after the flush"
}

# all_works : a's published port (from inet and from b) and both gateways'
# internet access work.
all_works() {
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
	# gateway to gateway through the published port: seen as a's host address
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $A_HOST" ip netns exec b
	expect_internet run_in_gw a
	expect_internet run_in_gw b
}

# flush_and_prove_broken : flush the whole ruleset; prove the gateways lost
# their NAT (a's port and both namespaces' internet access are dead).
flush_and_prove_broken() {
	must nft flush ruleset
	nft list table inet nsgate >/dev/null 2>&1 && fail "table inet nsgate survived nft flush ruleset"
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	expect_no_internet run_in_gw a
	expect_no_internet run_in_gw b
	[ "$(gw_status a)" = rules-missing ] || fail "after the flush show a says '$(gw_status a)', expected rules-missing"
}

# restored WHAT : the table holds exactly the elements it had before the flush
# (plus those of gateway c when it exists) and everything works again.
restored() {
	local got
	got=$(nft_elements | awk -F '\t' '$2 != "c"')
	[ "$got" = "$ELEMENTS" ] || fail "after $1 the elements differ from before the flush:
$(diff <(echo "$ELEMENTS") <(echo "$got") | sed 's/^/    /')"
	assert_kernel_matches_list
	gw_is_up a || fail "after $1 a is '$(gw_status a)', not up"
	gw_is_up b || fail "after $1 b is '$(gw_status b)', not up"
	all_works
}

setup() {
	cat >"$CONF" <<-'EOF'
		[a]
		publish = 8080:80
		[b]
		uplink = up0
	EOF
	expect_exit 0 nsg apply "$CONF"
	gw_json a
	A_HOST=$(gw_field a host_addr)
	start_tagged_server_in a tcp 80 a
	all_works
	ELEMENTS=$(nft_elements)
	pass "a (8080 -> :80) and b from a file: a's port and both gateways' internet work"
}

via_apply() {
	flush_and_prove_broken
	expect_exit 0 nsg apply "$CONF"
	note "apply after the flush printed: $(tr '\n' '|' <<<"$LAST_OUT")"
	restored "nsgate apply FILE"
	pass "nft flush ruleset breaks a's port and both namespaces' internet; nsgate apply (same file) restores them"
}

via_up() {
	flush_and_prove_broken
	up_ok c
	restored "nsgate up c"
	expect_internet run_in_gw c
	down_ok c
	assert_gone c
	pass "after another flush, nsgate up c restores a's port and a's and b's internet (c works too)"
}

via_gc() {
	flush_and_prove_broken
	expect_exit 0 nsg gc
	restored "nsgate gc"
	pass "after another flush, nsgate gc restores the table (gc printed: '$LAST_OUT')"
}

# Only nsgate's table deleted (not the whole ruleset): up restores it too.
table_deleted() {
	must nft delete table inet nsgate
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	up_ok c
	restored "nft delete table inet nsgate + nsgate up c"
	down_ok c
	pass "nft delete table inet nsgate, then nsgate up c: restored"
}

# A table in an older nsgate's layout (as 0.1 before the guard: no chains
# guard, from_gateway and no_host, no sets ns_addrs4, no_host and
# no_host_dns4, forward and postrouting matching gateways by @ifaces): the
# next up rebuilds the chains in place, every gateway keeps its elements and
# gets those of the new sets.
older_layout() {
	must nft -f - <<-'EOF'
		delete chain inet nsgate guard
		flush chain inet nsgate from_gateway
		delete chain inet nsgate from_gateway
		flush chain inet nsgate no_host
		delete chain inet nsgate no_host
		delete set inet nsgate ns_addrs4
		delete set inet nsgate no_host
		delete set inet nsgate no_host_dns4
		flush chain inet nsgate forward
		add rule inet nsgate forward oifname @ifaces jump to_gateway
		flush chain inet nsgate postrouting
		add rule inet nsgate postrouting iifname @masq_any oifname != @ifaces masquerade
		add rule inet nsgate postrouting iifname . oifname @masq_via masquerade
		add rule inet nsgate postrouting ct status dnat ip saddr 127.0.0.0/8 masquerade
		add rule inet nsgate postrouting ct status dnat iifname @ifaces oifname @ifaces masquerade
	EOF
	up_ok c
	nft list chain inet nsgate guard >/dev/null 2>&1 || fail "up left the older layout: no chain guard"
	[ "$(nft -a list chain inet nsgate forward | grep -v 'chain forward' | grep -c '# handle')" = 3 ] ||
		fail "forward does not hold exactly the jump rule and the uplink guards (IPv4, IPv6):
$(nft list chain inet nsgate forward)"
	nft list chain inet nsgate forward | grep -qF 'oifname "nsg-*" jump to_gateway' ||
		fail "forward does not match gateways by their prefix:
$(nft list chain inet nsgate forward)"
	restored "an older layout + nsgate up c"
	down_ok c
	pass "a table in an older layout is rebuilt in place by the next up; gateways keep working"
}

setup
older_layout
via_apply
via_up
via_gc
table_deleted
expect_exit 0 nsg down --all
assert_no_residue a b c
pass "flush recovery: nothing left after down --all"
