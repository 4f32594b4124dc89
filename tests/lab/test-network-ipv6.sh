# SPDX-License-Identifier: MIT
# test-network-ipv6.sh: members of a network on a dual-stack host are
# dual-stack: the network's /64 (a ULA one, never a gateway's or another
# network's), the bridge ::1, each member ::I for its address .I. Members
# reach each other directly over IPv6 (the peer sees the member's own
# address) and by name, the internet over NAT66, a published port answers
# from inet over IPv6 with the client's address kept; a member cannot send
# from an address not its own nor claim one in a neighbour advertisement,
# nor reach another network's member or a plain gateway over IPv6. On an
# IPv4-only host a network is IPv4 only: no IPv6 on its bridge or ports.
# Nothing is left after down.
# Runs inside lab.sh's hermetic lab: IPv4 only first, then made dual-stack
# by lab_ipv6 (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools python3

# net_json : `nsgate network list --json` into $NET_JSON.
net_json() {
	expect_exit 0 nsg network list --json
	NET_JSON=$LAST_OUT
}
# net_field NET KEY : a network's field from $NET_JSON.
net_field() { jq -r --arg n "$1" --arg k "$2" '.[] | select(.name == $n) | .[$k]' <<<"$NET_JSON"; }
# member6 NET MEMBER : its IPv6 address, from $NET_JSON.
member6() {
	jq -r --arg n "$1" --arg m "$2" \
		'.[] | select(.name == $n) | .members[] | select(.name == $m) | .address6' <<<"$NET_JSON"
}
# member4 NET MEMBER : its IPv4 address, from $NET_JSON.
member4() {
	jq -r --arg n "$1" --arg m "$2" \
		'.[] | select(.name == $n) | .members[] | select(.name == $m) | .address' <<<"$NET_JSON"
}
mac_in() { ip netns exec "$1" cat /sys/class/net/eth0/address; }

# assert_net_v4only NET MEMBER : NET's bridge and MEMBER's port have no IPv6,
# the member no global IPv6 address nor IPv6 default route.
assert_net_v4only() {
	net_json
	[ "$(net_field "$1" subnet6)" = null ] || fail "network list --json: $1 has subnet6 $(net_field "$1" subnet6)"
	[ "$(member6 "$1" "$2")" = null ] || fail "network list --json: $2 has address6 $(member6 "$1" "$2")"
	expect_sysctl6 "nsg-+$1" disable_ipv6 1 "the bridge of IPv4-only $1"
	expect_sysctl6 "nsg-$2" disable_ipv6 1 "$2's port"
	[ -z "$(ip -6 -o addr show dev "nsg-+$1")" ] || fail "IPv4-only $1's bridge has IPv6 addresses: $(ip -6 -o addr show dev "nsg-+$1")"
	[ -z "$(ip -6 route show table all dev "nsg-+$1" 2>/dev/null)" ] ||
		fail "IPv6 routes on IPv4-only $1's bridge: $(ip -6 route show table all dev "nsg-+$1")"
	[ -z "$(ip -n "$2" -6 -o addr show scope global)" ] ||
		fail "$2 on IPv4-only $1 has global IPv6 addresses: $(ip -n "$2" -6 -o addr show scope global)"
	[ -z "$(ip -n "$2" -6 route show default)" ] || fail "$2 on IPv4-only $1 has an IPv6 default route"
	gw_json "$2"
	assert_json "$GW_JSON" '.ipv6 == false and .ns_addr6 == null and .networks[0].address6 == null' "show $2 --json: IPv4 only"
}

# 1. IPv4-only host: a network and its member are IPv4 only; --ipv6 on for
# a member of it is refused.
v4only_host() {
	[ -z "$(ip -6 route show default)" ] || fail "lab: the plain lab has an IPv6 default route: $(ip -6 route)"
	up_ok m4 --network plain
	assert_net_v4only plain m4
	expect_exit 2 nsg up m5 --network plain --ipv6 on
	assert_error_line
	[ "$LAST_ERR" = 'nsgate: --ipv6 on with --network "plain": the network is IPv4 only' ] ||
		fail "up m5 --network plain --ipv6 on: stderr '$LAST_ERR'"
	down_ok m4
	assert_no_residue m4 m5
	assert_no_net_residue
	pass "IPv4-only host: network plain and its member m4 have no IPv6 (bridge and port disable_ipv6=1, no address or route); --ipv6 on for a member of it exits 2"
}

# 2. Two members of n1 and what they are given.
members_up() {
	local i gw6
	up_ok a --network n1 --publish 8080:80
	[[ "$LAST_OUT" == "a: up "*"/24 "*"/64 on network n1, "* ]] || fail "up a printed '$LAST_OUT'"
	up_ok b --network n1
	up_ok g
	gw_addrs6 g
	G_NS6=$GW_NS6
	gw6=$GW_SUBNET6
	net_json
	N1_SUBNET6=$(net_field n1 subnet6)
	ip6_is_ula64 "$N1_SUBNET6" || fail "network n1's subnet6 '$N1_SUBNET6' is not a ULA /64: $NET_JSON"
	[ "$N1_SUBNET6" != "$gw6" ] || fail "network n1 and gateway g share $gw6"
	A6=$(member6 n1 a) B6=$(member6 n1 b) A4=$(member4 n1 a)
	for i in a b; do
		local a4 a6 idx
		a4=$(member4 n1 "$i")
		a6=$(member6 n1 "$i")
		idx=${a4##*.}
		[ "$a6" = "$(ip6_net_addr "$N1_SUBNET6" "$idx")" ] ||
			fail "$i: address6 $a6, expected ::$idx of $N1_SUBNET6 (its IPv4 address $a4)"
		ip -n "$i" -6 -o addr show dev eth0 scope global | grep -qF " $a6/64 " ||
			fail "$i's eth0 lacks $a6/64: $(ip -n "$i" -6 -o addr show dev eth0)"
		ip -n "$i" -6 route show default | grep -qF "via $(ip6_net_addr "$N1_SUBNET6" 1) dev eth0" ||
			fail "$i's IPv6 default route is not via ::1 of $N1_SUBNET6: $(ip -n "$i" -6 route)"
		gw_json "$i"
		assert_json "$GW_JSON" '.ipv6 == true and .ns_addr6 == "'"$a6"'" and .subnet6 == "'"$N1_SUBNET6"'"
			and .networks[0].address6 == "'"$a6"'" and .nftables.source6 == true and .status == "up"' "show $i --json"
	done
	ip -6 -o addr show dev nsg-+n1 | grep -qF " $(ip6_net_addr "$N1_SUBNET6" 1)/64 " ||
		fail "nsg-+n1 lacks ::1 of $N1_SUBNET6: $(ip -6 -o addr show dev nsg-+n1)"
	expect_sysctl6 nsg-+n1 accept_ra 0 "the bridge"
	expect_exit 0 nsg network list
	grep -q "^n1 .* $N1_SUBNET6 " <<<"$LAST_OUT" || fail "network list does not show n1's $N1_SUBNET6: $LAST_OUT"
	pass "a $A6 and b $B6 on n1 ($N1_SUBNET6, not gateway g's $gw6): ::I for .I, default route via ::1, shown by up, show and network list"
}

# 3. Directly and by name, the peer seeing the member's own address.
direct_and_by_name() {
	local got
	start_tagged_server6_in b tcp 7001 b
	expect_answer6 tcp "$B6" 7001 "b $A6" run_in_gw a
	in_ns a ping -6 -c1 -W2 -q "$B6" >/dev/null || fail "a cannot ping -6 b at $B6"
	grep -qxF "$B6	b" /run/nsgate/networks/n1.hosts || fail "n1.hosts lacks '$B6 b': $(cat /run/nsgate/networks/n1.hosts)"
	got=$(ip netns exec a getent ahostsv6 b | awk 'NR == 1 { print $1 }')
	[ "$(ip6_norm "$got")" = "$B6" ] || fail "a resolves b over IPv6 to '$got', expected $B6"
	got=$(ip netns exec a timeout 8 socat -T3 -u TCP6:b:7001,connect-timeout=2 STDOUT </dev/null)
	[ "$(norm6 <<<"$got")" = "b $A6" ] || fail "a -> b:7001 by name: answer '$got', expected 'b $A6'"
	pass "a reaches b at [$B6]:7001 directly and by name (hosts lists $B6), b sees a's own $A6"
}

# 4. The internet over NAT66; a published port from inet, the client's
# address kept; hairpin from b.
internet_and_ports() {
	local got
	start_server6_in inet "$SERVER6_PORT"
	expect_internet6 run_in_gw a
	expect_internet6 run_in_gw b
	start_tagged_server6_in a tcp 80 a
	expect_answer6 tcp "$UPLINK6_ADDR" 8080 "a $INET6_ADDR" ip netns exec inet
	got=$(ask6 tcp "$UPLINK6_ADDR" 8080 run_in_gw b 2>/dev/null)
	[[ "$got" == "a "* ]] || fail "b -> [$UPLINK6_ADDR]:8080 (hairpin): answer '$got'"
	expect_published a "$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$A4" "$A6")"
	pass "a and b reach inet over NAT66 (inet sees $UPLINK6_ADDR); [$UPLINK6_ADDR]:8080 reaches a from inet (a sees $INET6_ADDR) and from b (hairpin)"
}

# send6_from NS SRC DST PORT TEXT : one UDP datagram TEXT from SRC (an
# address of NS) to [DST]:PORT.
send6_from() {
	echo "$5" | ip netns exec "$1" timeout 5 socat -u - "UDP6-SENDTO:[$3]:$4,bind=[$2]"
}

# na_send NS TARGET : three unsolicited neighbour advertisements (override)
# on eth0 of NS to ff02::1, from its own MAC and link-local address,
# claiming TARGET is at NS's MAC.
na_send() {
	ip netns exec "$1" python3 - "$2" "$(mac_in "$1")" "$3" <<-'PY'
		import socket, struct, sys
		target, mac, src = sys.argv[1:4]
		m = bytes(int(x, 16) for x in mac.split(":"))
		sa, da = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, "ff02::1")
		ta = socket.inet_pton(socket.AF_INET6, target)
		def csum(b):
		    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    s = (s >> 16) + (s & 0xffff)
		    s += s >> 16
		    return ~s & 0xffff
		icmp = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + ta + bytes([2, 1]) + m
		icmp = icmp[:2] + struct.pack("!H", csum(sa + da + struct.pack("!IxxxB", len(icmp), 58) + icmp)) + icmp[4:]
		ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + sa + da
		eth = bytes.fromhex("333300000001") + m + b"\x86\xdd"
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
		s.bind(("eth0", 0))
		for _ in range(3):
		    s.send(eth + ip6 + icmp)
	PY
}

# forge_once WHAT : a sends from another address of the /64 to inet and b,
# from b's address to inet, and from its own to both: only its own arrive.
forge_once() {
	local log=$LAB_TMP/inet6-9001.log blog=$LAB_TMP/b6-9003.log other
	other=$(ip6_net_addr "$N1_SUBNET6" 99)
	: >"$log"
	: >"$blog"
	must ip -n a -6 addr add "$other/128" dev eth0 nodad
	send6_from a "$other" "$INET6_ADDR" 9001 forged-other || fail "a could not send from $other"
	send6_from a "$other" "$B6" 9003 forged-to-b || fail "a could not send from $other to b"
	must ip -n a -6 addr del "$other/128" dev eth0
	# b's own address on a too (to inet only: to b it would stay in a).
	must ip -n a -6 addr add "$B6/128" dev eth0 nodad
	send6_from a "$B6" "$INET6_ADDR" 9001 forged-as-b || fail "a could not send from $B6"
	must ip -n a -6 addr del "$B6/128" dev eth0
	send6_from a "$A6" "$INET6_ADDR" 9001 own-a || fail "a could not send from $A6"
	send6_from a "$A6" "$B6" 9003 own-to-b || fail "a could not send from $A6 to b"
	wait_for grep -qx own-a "$log" || fail "$1: a's own datagram never reached inet: $(cat "$log")"
	wait_for grep -qx own-to-b "$blog" || fail "$1: a's own datagram never reached b: $(cat "$blog")"
	sleep 0.3
	! grep -q forged "$log" || fail "$1: a forged IPv6 datagram reached inet: $(cat "$log")"
	! grep -q forged "$blog" || fail "$1: a forged IPv6 datagram reached b: $(cat "$blog")"
}

# 5. a cannot send from b's address nor another of the /64, nor tell the
# host that b's address is at its MAC; with br_netfilter's IPv6 hook and
# without it (then table bridge nsgate alone sees what a sends to b).
spoof() {
	local brnf=/proc/sys/net/bridge/bridge-nf-call-ip6tables b_mac lladdr a_ll
	start_udp_log6_in inet 9001 "$LAB_TMP/inet6-9001.log"
	start_udp_log6_in b 9003 "$LAB_TMP/b6-9003.log"
	forge_once "bridge-nf-call-ip6tables $(cat "$brnf" 2>/dev/null || echo absent)"
	if [ -e "$brnf" ]; then
		echo 0 >"$brnf" || fail "cannot turn bridge-nf-call-ip6tables off in the lab"
		forge_once "bridge-nf-call-ip6tables 0"
		echo 1 >"$brnf"
	fi
	# Neighbour advertisement poisoning: the host's entry for b stays b's.
	b_mac=$(mac_in b)
	ping -6 -c1 -W2 -q "$B6" >/dev/null || fail "the lab host cannot ping -6 b at $B6"
	a_ll=$(ip -n a -6 -o addr show dev eth0 scope link | awk '{ split($4, x, "/"); print x[1] }')
	na_send a "$B6" "$a_ll"
	sleep 0.3
	lladdr=$(ip -6 neigh show "$B6" dev nsg-+n1 | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)
	[ "$lladdr" = "$b_mac" ] || fail "after a's advertisement for $B6 the host has it at '$lladdr', b's MAC is $b_mac"
	expect_internet6 run_in_gw a
	pass "from a, IPv6 sources $B6 (b's) and ::99 never reach inet or b (with and without br_netfilter's IPv6 hook), a's advertisement of $B6 is dropped (the host keeps $b_mac); a's own traffic goes through"
}

# 6. Another network's member, a plain gateway and inet (routed) cannot
# reach members over IPv6, nor the reverse.
isolation() {
	local c6
	up_ok c --network n2
	net_json
	c6=$(member6 n2 c)
	[ -n "$c6" ] && [ "$c6" != null ] || fail "c on n2 has no IPv6 address: $NET_JSON"
	[ "$(net_field n2 subnet6)" != "$N1_SUBNET6" ] || fail "n1 and n2 share $N1_SUBNET6"
	start_tagged_server6_in c tcp 7002 c
	start_tagged_server6_in g tcp 7003 g
	expect_answer6 tcp "$c6" 7002 "c $(ip6_net_addr "$(net_field n2 subnet6)" 1)"
	expect_no_answer6 tcp "$c6" 7002 run_in_gw a
	expect_no_answer6 tcp "$A6" 80 run_in_gw c
	expect_no_answer6 tcp "$G_NS6" 7003 run_in_gw a
	expect_no_answer6 tcp "$A6" 80 run_in_gw g
	must ip -n inet -6 route add "$N1_SUBNET6" via "$UPLINK6_ADDR"
	expect_no_answer6 tcp "$A6" 80 ip netns exec inet
	must ip -n inet -6 route del "$N1_SUBNET6" via "$UPLINK6_ADDR"
	expect_answer6 tcp "$B6" 7001 "b $A6" run_in_gw a
	pass "n1's a and n2's c ($c6), a and plain gateway g ($G_NS6), inet routed to $N1_SUBNET6 and a: no IPv6 connection either way; a and b still meet"
}

# 7. --ipv6 off for a member of a dual-stack network is refused; a network
# made with --ipv6 off is IPv4 only, one with --subnet6 uses it.
choices() {
	expect_exit 2 nsg up e --network n1 --ipv6 off
	assert_error_line
	[ "$LAST_ERR" = 'nsgate: --ipv6 off with --network "n1": the network is dual-stack' ] ||
		fail "up e --network n1 --ipv6 off: stderr '$LAST_ERR'"
	expect_exit 0 nsg network create n4 --ipv6 off
	up_ok m4 --network n4
	assert_net_v4only n4 m4
	down_ok m4
	expect_exit 0 nsg network rm n4
	expect_exit 0 nsg network create n5 --subnet6 fd00:5:6:7::/64
	expect_exit 0 nsg network create n5 --subnet6 fd00:5:6:7::/64
	[ "$LAST_OUT" = "network n5: unchanged" ] || fail "network create n5 again printed '$LAST_OUT'"
	expect_exit 2 nsg network create n5 --ipv6 off
	up_ok d --network n5
	net_json
	[ "$(member6 n5 d)" = "$(ip6_net_addr fd00:5:6:7::/64 "$(member4 n5 d | cut -d. -f4)")" ] ||
		fail "d on n5 (--subnet6 fd00:5:6:7::/64) has address6 $(member6 n5 d)"
	down_ok d
	expect_exit 0 nsg network rm n5
	# The config file's [network NET] keys ipv6 and subnet6.
	printf '[network n6]\nsubnet6 = fd00:8:9:a::/64\n[m6]\nnetwork = n6\n' >"$LAB_TMP/n6.conf"
	expect_exit 0 nsg apply "$LAB_TMP/n6.conf"
	net_json
	[ "$(net_field n6 subnet6)" = fd00:8:9:a::/64 ] || fail "apply: n6 has subnet6 $(net_field n6 subnet6)"
	[ "$(member6 n6 m6)" = "fd00:8:9:a::2" ] || fail "apply: m6 on n6 has address6 $(member6 n6 m6)"
	down_ok m6
	expect_exit 0 nsg network rm n6
	pass "--ipv6 off on dual-stack n1 exits 2; network create --ipv6 off is IPv4 only, --subnet6 fd00:5:6:7::/64 (and apply's subnet6 = fd00:8:9:a::/64) is used as given"
}

# 8. A member of n1 and n2: eth1 gets its ::I of n2 (subnet route only), it
# reaches c over IPv6 there and b on n1; n1 and n2 stay apart.
two_networks() {
	local both1 both2 c6 got
	up_ok both --network n1 --network n2
	net_json
	both1=$(member6 n1 both) both2=$(member6 n2 both) c6=$(member6 n2 c)
	ip -n both -6 -o addr show dev eth1 scope global | grep -qF " $both2/64 " ||
		fail "both's eth1 lacks $both2/64: $(ip -n both -6 -o addr show dev eth1)"
	[ "$(ip -n both -6 route show default | grep -c .)" = 1 ] && ip -n both -6 route show default | grep -q 'dev eth0' ||
		fail "both's IPv6 default route is not eth0's alone: $(ip -n both -6 route)"
	expect_answer6 tcp "$c6" 7002 "c $both2" run_in_gw both
	expect_answer6 tcp "$B6" 7001 "b $both1" run_in_gw both
	got=$(ip netns exec both getent ahostsv6 c | awk 'NR == 1 { print $1 }')
	[ "$(ip6_norm "$got")" = "$c6" ] || fail "both resolves c over IPv6 to '$got', expected $c6"
	expect_no_answer6 tcp "$c6" 7002 run_in_gw a
	down_ok both
	pass "both on n1 ($both1) and n2 ($both2, eth1): reaches b and c over IPv6 and by name; a still cannot reach c"
}

# 9. A member's up failing at any step leaves nothing of it, nor of the
# dual-stack network it made; the other members keep working.
rollback() {
	local step
	for step in netns network forwarding6 veth host_link ns_link nftables dns state; do
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up fail1 --network n1
		assert_gone fail1
		NSGATE_TEST_FAIL_STEP=$step expect_exit 1 nsg up fail2 --network tmp
		assert_gone fail2
		ip link show nsg-+tmp >/dev/null 2>&1 && fail "step $step: bridge nsg-+tmp is left"
		[ -e /run/nsgate/networks/tmp.net ] && fail "step $step: tmp.net is left"
		nft list set bridge nsgate port_src6 | grep -q '"fail[12]"' &&
			fail "step $step: port_src6 elements of fail1/fail2 are left: $(nft list set bridge nsgate port_src6)"
	done
	net_json
	assert_json "$NET_JSON" '[.[] | select(.name == "n1") | .members[].name] == ["a", "b"]' "n1 after rollbacks"
	expect_answer6 tcp "$B6" 7001 "b $A6" run_in_gw a
	pass "a member's failed up (every step) leaves nothing of it or of the dual-stack network tmp it made; a and b still meet over IPv6"
}

# 10. Recovery: a flushed ruleset comes back with the IPv6 elements.
recovery() {
	must nft flush ruleset
	expect_exit 0 nsg gc
	nft list set bridge nsgate port_src6 | grep -qF "$A6" || fail "gc did not restore a's port_src6 element: $(nft list table bridge nsgate)"
	nft list set inet nsgate ns_addrs6 | grep -qF "$A6" || fail "gc did not restore a's ns_addrs6 element"
	expect_answer6 tcp "$B6" 7001 "b $A6" run_in_gw a
	expect_internet6 run_in_gw a
	pass "after nft flush ruleset, gc restores port_src6 and ns_addrs6: a reaches b and inet over IPv6 again"
}

v4only_host
lab_ipv6
members_up
direct_and_by_name
internet_and_ports
spoof
isolation
choices
two_networks
rollback
recovery
down_ok a
down_ok b
down_ok c
down_ok g
assert_no_residue6 a b c d g both fail1 fail2 m6
assert_no_net_residue
pass "down a, b, c, g: no link, file, table or IPv6 state left"
