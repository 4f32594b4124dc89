# SPDX-License-Identifier: MIT
# test-ipv6-isolation.sh: a dual-stack gateway's namespace is as isolated over
# IPv6 as over IPv4:
# (1) inet, given a route to the gateway's /64, cannot connect into it;
# (2) a namespace sends from its own PREFIX::2 only: datagrams from another
#     address of its /64, from another gateway's ::2 or from a foreign
#     address (each added on eth0 inside), or forged as inet's reply into
#     another gateway's NAT66 flow, never arrive;
# (3) the host's loopback: inside a namespace ::1 is its own lo, and the
#     kernel drops any packet for ::1 that arrives on a non-loopback device
#     (there is no route_localnet for IPv6), so the meaningful attack is a
#     hand-made frame to [::1] sent to the host veth's MAC: it must not reach
#     the host's input nor a host service on [::1];
# (4) gateway a cannot connect to gateway b's ::2, nor b to a's;
# (5) --no-host: the namespace reaches no host service over IPv6 (the
#     uplink's address, its own gateway's ::1, its link-local fe80::1), but
#     the internet; the host's own connections into it get their replies;
# (6) ... but for its DNS servers on a host IPv6 address (--dns takes them).
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools python3 conntrack
lab_ipv6
start_server6_in inet "$SERVER6_PORT"
up_ok a
assert_gw_dual a
A_NS6=$GW_NS6
A_HOST6=$GW_HOST6
A_SUBNET6=$GW_SUBNET6
up_ok b
assert_gw_dual b
B_NS6=$GW_NS6
start_tagged_server6_in a tcp 7001 a
start_tagged_server6_in b tcp 7001 b

# 1. No unsolicited inbound, even with a route.
inbound() {
	expect_answer6 tcp "$A_NS6" 7001 "a $A_NS6" ip netns exec a
	must ip -n inet -6 route add "$A_SUBNET6" via "$UPLINK6_ADDR"
	expect_no_answer6 tcp "$A_NS6" 7001 ip netns exec inet
	must ip -n inet -6 route del "$A_SUBNET6" via "$UPLINK6_ADDR"
	expect_internet6 run_in_gw a
	pass "inet, routed to $A_SUBNET6 via the lab host, cannot connect to [$A_NS6]:7001"
}

# send6_from NS SRC DST PORT TEXT : one UDP datagram TEXT from SRC (an
# address of NS) to [DST]:PORT.
send6_from() {
	echo "$5" | ip netns exec "$1" timeout 5 socat -u - "UDP6-SENDTO:[$3]:$4,bind=[$2]"
}

# 2. Spoofed sources. The extra addresses go on a's eth0 without DAD.
spoof() {
	local addr log=$LAB_TMP/inet6-9001.log other_in_subnet foreign=2001:db8:ffff::7 flow host_port b_log=$LAB_TMP/b6-40000.log b_pid
	other_in_subnet=$(ip6_net_addr "$A_SUBNET6" 99)
	start_udp_log6_in inet 9001 "$log"
	must ip -n a -6 addr add "$other_in_subnet/128" dev eth0 nodad
	must ip -n a -6 addr add "$B_NS6/128" dev eth0 nodad
	must ip -n a -6 addr add "$foreign/128" dev eth0 nodad
	send6_from a "$other_in_subnet" "$INET6_ADDR" 9001 forged-subnet || fail "a could not send from $other_in_subnet"
	send6_from a "$B_NS6" "$INET6_ADDR" 9001 forged-as-b || fail "a could not send from $B_NS6"
	send6_from a "$foreign" "$INET6_ADDR" 9001 forged-foreign || fail "a could not send from $foreign"
	send6_from a "$A_NS6" "$INET6_ADDR" 9001 own-a || fail "a could not send from $A_NS6"
	wait_for grep -qx own-a "$log" || fail "a's own datagram never reached inet: $(cat "$log")"
	sleep 0.3
	! grep -q forged "$log" || fail "a forged IPv6 datagram reached inet: $(cat "$log")"
	# Into b's NAT66 flow: b talks to inet's 9002 from port 40000; a sends
	# inet's answer, from inet's address (added in a) to the flow's host port.
	in_ns inet socat -T5 UDP6-RECVFROM:9002,ipv6only=1,fork SYSTEM:'read -r l; echo legit' >"$LAB_TMP/inet6-9002.log" 2>&1 &
	wait_for listening6_in inet udp 9002 || fail "udp server in inet on 9002 did not start"
	run_in_gw b python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("::", 40000))
s.settimeout(0.2)
end = time.time() + 6
out = open(sys.argv[1], "a", buffering=1)
while time.time() < end:
    s.sendto(b"hello\n", (sys.argv[2], 9002))
    try:
        while True:
            out.write(s.recv(100).decode(errors="replace"))
    except socket.timeout:
        pass
' "$b_log" "$INET6_ADDR" &
	b_pid=$!
	wait_for grep -qx legit "$b_log" || fail "b's own IPv6 flow to inet:9002 got no answer: $(cat "$b_log")"
	flow=$(ct_entries -f ipv6 -p udp --orig-port-src 40000 --orig-port-dst 9002)
	host_port=$(grep -o 'dport=[0-9]*' <<<"$flow" | sed -n 2p | cut -d= -f2)
	[ -n "$host_port" ] || fail "no IPv6 conntrack entry for b's flow: $(ct_entries -f ipv6 -p udp)"
	must ip -n a -6 addr add "$INET6_ADDR/128" dev eth0 nodad
	ip netns exec a timeout 5 socat -u - "UDP6-SENDTO:[$UPLINK6_ADDR]:$host_port,bind=[$INET6_ADDR]:9002" <<<forged-into-b ||
		fail "a could not send the datagram forged as inet"
	sleep 0.5
	! grep -q forged "$b_log" || fail "a's datagram forged as [$INET6_ADDR]:9002 reached b's flow: $(cat "$b_log")"
	wait "$b_pid" 2>/dev/null
	for addr in "$other_in_subnet/128" "$B_NS6/128" "$foreign/128" "$INET6_ADDR/128"; do
		must ip -n a -6 addr del "$addr" dev eth0
	done
	expect_internet6 run_in_gw a
	expect_internet6 run_in_gw b
	pass "from a, IPv6 sources $other_in_subnet, $B_NS6 (b's), $foreign and $INET6_ADDR (into b's flow to port $host_port) never arrive; a's and b's own traffic does"
}

# raw_syn6_l2 IFACE DSTMAC SRC DST DPORT : raw_syn_l2 for IPv6 (3 SYNs).
raw_syn6_l2() {
	python3 - "$@" <<-'PY'
		import socket, struct, sys
		ifname, dmac, src, dst, dport = sys.argv[1:6]
		def csum(b):
		    if len(b) % 2:
		        b += b"\0"
		    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    s = (s >> 16) + (s & 0xffff)
		    s += s >> 16
		    return ~s & 0xffff
		sa, da = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
		tcp = struct.pack("!HHIIBBHHH", 40001, int(dport), 1, 0, 5 << 4, 0x02, 64240, 0, 0)
		tcp = tcp[:16] + struct.pack("!H", csum(sa + da + struct.pack("!IxxxB", len(tcp), 6) + tcp)) + tcp[18:]
		ip6 = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + sa + da
		smac = open("/sys/class/net/%s/address" % ifname).read().strip()
		eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x86\xdd"
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
		s.bind((ifname, 0))
		for _ in range(3):
		    s.send(eth + ip6 + tcp)
	PY
}

# 3. The host's ::1: a host service on [::1]:9999 only; frames to [::1]
# sent to the host veth's MAC; a counter of the test's own table at the
# host's input. A SYN to the host's own ::1 address of a (routable, allowed)
# is counted the same way first, to prove the frames do arrive.
loopback() {
	local mac
	start_tagged_server6_in host tcp 9999 local ::1
	expect_answer6 tcp ::1 9999 "local ::1"
	must nft -f - <<-'EOT'
		table inet probe6 {
			chain input {
				type filter hook input priority 0; policy accept;
				iifname "nsg-a" tcp dport 9999 ip6 daddr ::1 counter
			}
			chain sanity {
				type filter hook input priority 0; policy accept;
				iifname "nsg-a" tcp dport 9999 ip6 daddr != ::1 counter
			}
		}
	EOT
	mac=$(cat /sys/class/net/nsg-a/address)
	ip netns exec a bash -c "$(declare -f raw_syn6_l2); raw_syn6_l2 eth0 $mac $A_NS6 $A_HOST6 9999" ||
		fail "could not send the raw SYN to [$A_HOST6]:9999 from a"
	WAIT_TRIES=100 wait_for test "$(nft_counter probe6 sanity)" -ge 1 ||
		fail "sanity: a raw SYN from a to [$A_HOST6]:9999 did not reach the host's input"
	ip netns exec a bash -c "$(declare -f raw_syn6_l2); raw_syn6_l2 eth0 $mac $A_NS6 ::1 9999" ||
		fail "could not send the raw SYN to [::1]:9999 from a"
	ip netns exec a bash -c "$(declare -f raw_syn6_l2); raw_syn6_l2 eth0 $mac fe80::2 ::1 9999" ||
		fail "could not send the raw SYN to [::1]:9999 from a"
	sleep 0.3
	[ "$(nft_counter probe6 input)" = 0 ] ||
		fail "a raw SYN to [::1]:9999 from a reached the host's input ($(nft_counter probe6 input) packets)"
	must nft delete table inet probe6
	expect_answer6 tcp ::1 9999 "local ::1"
	pass "raw SYNs from a to [::1]:9999 at the host veth's MAC never reach the host's input (one to [$A_HOST6]:9999 does); the host's own [::1]:9999 works"
}

# 4. Gateway to gateway over IPv6.
gateway_to_gateway() {
	expect_answer6 tcp "$B_NS6" 7001 "b $B_NS6" ip netns exec b
	expect_no_answer6 tcp "$B_NS6" 7001 ip netns exec a
	expect_no_answer6 tcp "$A_NS6" 7001 ip netns exec b
	pass "a cannot connect to b's [$B_NS6]:7001, nor b to a's [$A_NS6]:7001"
}

# 5. --no-host over IPv6 (its DNS server an IPv4 one: the exception for
# IPv6 DNS servers is 6).
no_host() {
	up_ok n --no-host --dns "$UPLINK_ADDR"
	assert_gw_dual n
	N_NS6=$GW_NS6
	N_HOST6=$GW_HOST6
	start_tagged_server6_in host tcp 9100 host
	start_tagged_server6_in host udp 9101 host
	start_tagged_server6_in n tcp 80 n
	# a (default) reaches the host's IPv6 services.
	expect_answer6 tcp "$UPLINK6_ADDR" 9100 "host $A_NS6" run_in_gw a
	expect_answer6 tcp "$A_HOST6" 9100 "host $A_NS6" run_in_gw a
	expect_answer6 udp "$A_HOST6" 9101 "host $A_NS6" run_in_gw a
	# n does not, and reaches inet.
	expect_no_answer6 tcp "$UPLINK6_ADDR" 9100 run_in_gw n
	expect_no_answer6 tcp "$N_HOST6" 9100 run_in_gw n
	expect_no_answer6 tcp "fe80::1%eth0" 9100 run_in_gw n
	expect_no_answer6 udp "$N_HOST6" 9101 run_in_gw n
	expect_no_answer6 udp "fe80::1%eth0" 9101 run_in_gw n
	expect_answer6 tcp "$N_NS6" 80 "n $N_HOST6"
	expect_internet6 run_in_gw n
	pass "--no-host: n reaches no host service on [$UPLINK6_ADDR], [$N_HOST6] or [fe80::1] (a does), but inet over IPv6; the host's connection into n works"
}

# 6. --no-host with a DNS server on a host IPv6 address: that one answers
# (udp, tcp), the host's other services stay closed.
no_host_dns6() {
	down_ok n
	up_ok n --no-host --dns "$UPLINK_ADDR,$UPLINK6_ADDR"
	assert_gw_dual n
	N_NS6=$GW_NS6
	start_tagged_server6_in host udp 53 dns "$UPLINK6_ADDR"
	start_tagged_server6_in host tcp 53 dns "$UPLINK6_ADDR"
	expect_answer6 udp "$UPLINK6_ADDR" 53 "dns $N_NS6" run_in_gw n
	expect_answer6 tcp "$UPLINK6_ADDR" 53 "dns $N_NS6" run_in_gw n
	expect_no_answer6 tcp "$UPLINK6_ADDR" 9100 run_in_gw n
	expect_internet6 run_in_gw n
	pass "--no-host --dns $UPLINK_ADDR,$UPLINK6_ADDR: n's DNS server [$UPLINK6_ADDR]:53 answers (udp, tcp), [$UPLINK6_ADDR]:9100 does not"
}

inbound
spoof
loopback
gateway_to_gateway
no_host
no_host_dns6
expect_exit 0 nsg down --all
assert_no_residue6 a b n
