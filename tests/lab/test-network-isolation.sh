# SPDX-License-Identifier: MIT
# test-network-isolation.sh: networks are isolated from each other, from
# plain gateways and from the internet; members cannot forge another
# member's (or an outside) address, in IP or ARP, on their bridge; members
# of an --isolated network reach the internet but not each other; each
# member's hosts file names the members.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools python3

start_server_in inet "$SERVER_PORT"

ns_addr() { ip -n "$1" -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }'; }
mac_in() { ip netns exec "$1" cat /sys/class/net/eth0/address; }

# no_connect FROM ADDR PORT WHAT : FROM's connection to ADDR:PORT fails.
no_connect() {
	local seen
	if seen=$(peer_seen "$2" "$3" run_in_gw "$1" 2>/dev/null); then
		fail "$4: $1 connected to $2:$3 (server saw '$seen')"
	fi
}

# arp_send NS SHA SPA ETHER_SRC : three ARP replies (broadcast) on eth0 of NS,
# claiming SPA is at SHA, sent from ETHER_SRC; their target MAC is ARP_MARK,
# which no ARP of the kernel's carries.
ARP_MARK=02:00:00:00:be:ef
arp_send() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" <<-'PY'
		import socket, sys
		sha, spa, src = sys.argv[1:4]
		mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
		eth = b"\xff" * 6 + mac(src) + b"\x08\x06"
		arp = b"\x00\x01\x08\x00\x06\x04\x00\x02" + mac(sha) + socket.inet_aton(spa) + mac("02:00:00:00:be:ef") + socket.inet_aton(spa)
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
		s.bind(("eth0", 0))
		for _ in range(3):
		    s.send(eth + arp)
	PY
}

# arp_log_start NS LOG : record each ARP packet eth0 of NS receives, one
# "SHA SPA THA" line each, until killed.
arp_log_start() {
	: >"$2"
	ip netns exec "$1" python3 -u - >"$2" 2>&1 <<-'PY' &
		import socket
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
		s.bind(("eth0", 0))
		while True:
		    f = s.recv(2048)
		    a = f[14:]
		    m = lambda b: ":".join("%02x" % x for x in b)
		    print(m(a[8:14]), socket.inet_ntoa(a[14:18]), m(a[18:24]), flush=True)
	PY
	ARP_LOG_PID=$!
	sleep 0.3
}

setup() {
	up_ok alpha --network one
	up_ok bravo --network one
	up_ok delta --network one
	up_ok charlie --network two
	up_ok plain1
	A=$(ns_addr alpha)
	B=$(ns_addr bravo)
	C=$(ns_addr charlie)
	D=$(ns_addr delta)
	gw_json plain1
	P=$(gw_field plain1 ns_addr)
	for ns in alpha bravo charlie delta plain1; do start_server_in "$ns" 7100; done
	pass "networks one (alpha $A, bravo $B, delta $D), two (charlie $C), plain gateway plain1 $P"
}

# Nothing crosses between networks, plain gateways and the internet.
between() {
	[ "$(peer_seen "$B" 7100 run_in_gw alpha)" = "$A" ] || fail "alpha cannot reach bravo on its own network"
	no_connect alpha "$C" 7100 "network one -> network two"
	no_connect charlie "$A" 7100 "network two -> network one"
	no_connect alpha "$P" 7100 "member -> plain gateway"
	no_connect plain1 "$A" 7100 "plain gateway -> member"
	must ip -n inet route add "${A%.*}.0/24" via "$UPLINK_ADDR"
	no_connect_inet() {
		if seen=$(peer_seen "$A" 7100 ip netns exec inet 2>/dev/null); then
			fail "inet connected to member alpha $A:7100 (server saw '$seen')"
		fi
	}
	no_connect_inet
	must ip -n inet route del "${A%.*}.0/24" via "$UPLINK_ADDR"
	expect_internet run_in_gw charlie
	pass "no connection between networks, to or from plain gateways, nor from inet"
}

# A member sends from its own address only: to another member directly (at
# layer 2) and routed (to inet), another member's or an outside source is
# dropped; its own passes.
ip_spoof() {
	local log=$LAB_TMP/udp-delta.log log2=$LAB_TMP/udp-inet.log
	start_udp_log_in delta 7200 "$log"
	start_udp_log_in inet 7201 "$log2"
	run_in_gw alpha bash -c "$(declare -f spoof_udp); spoof_udp $B 5000 $D 7200 forged-member"
	run_in_gw alpha bash -c "$(declare -f spoof_udp); spoof_udp 198.51.100.77 5000 $D 7200 forged-outside"
	run_in_gw alpha bash -c "$(declare -f spoof_udp); spoof_udp $B 5000 $INET_ADDR 7201 forged-routed"
	run_in_gw alpha bash -c "$(declare -f spoof_udp); spoof_udp $A 5000 $D 7200 own-source"
	run_in_gw alpha bash -c "$(declare -f spoof_udp); spoof_udp $A 5000 $INET_ADDR 7201 own-routed"
	wait_for grep -q own-source "$log" || fail "delta never got alpha's own datagram: $(cat "$log")"
	wait_for grep -q own-routed "$log2" || fail "inet never got alpha's own datagram: $(cat "$log2")"
	grep -q forged "$log" && fail "delta got a forged datagram: $(cat "$log")"
	grep -q forged "$log2" && fail "inet got a forged datagram: $(cat "$log2")"
	pass "IP sources: another member's and an outside address dropped, on the bridge and routed"
}

# ARP: alpha cannot claim bravo's address (with its own MAC or bravo's), nor
# send from bravo's MAC; its own announcement arrives.
arp_spoof() {
	local log=$LAB_TMP/arp-delta.log ma mb
	ma=$(mac_in alpha)
	mb=$(mac_in bravo)
	arp_log_start delta "$log"
	arp_send alpha "$ma" "$B" "$ma"
	arp_send alpha "$mb" "$B" "$ma"
	arp_send alpha "$mb" "$B" "$mb"
	arp_send alpha "$ma" "$A" "$ma"
	wait_for grep -q "^$ma $A $ARP_MARK\$" "$log" || fail "delta never saw alpha's own ARP: $(cat "$log")"
	kill "$ARP_LOG_PID" 2>/dev/null
	wait "$ARP_LOG_PID" 2>/dev/null
	grep -q " $B $ARP_MARK\$" "$log" && fail "delta saw an ARP claiming bravo's $B from alpha: $(cat "$log")"
	pass "ARP: alpha cannot claim bravo's address or use bravo's MAC"
}

# The hosts files list every member of the network, and only them.
hosts_files() {
	local h=/etc/netns/alpha/hosts
	[ -f "$h" ] || fail "$h missing"
	grep -qE "^$A\s+alpha\$" "$h" && grep -qE "^$B\s+bravo\$" "$h" && grep -qE "^$D\s+delta\$" "$h" ||
		fail "$h lacks a member: $(cat "$h")"
	grep -q charlie "$h" && fail "$h names charlie of another network: $(cat "$h")"
	grep -qE '^127\.0\.0\.1\s+localhost' "$h" || fail "$h has no localhost line: $(cat "$h")"
	[ "$(run_in_gw bravo getent hosts delta | awk '{ print $1 }')" = "$D" ] ||
		fail "bravo does not resolve delta to $D"
	# A process started in bravo before echo joins (ip netns exec bound
	# bravo's hosts over its /etc/hosts then) sees echo come and delta go.
	ip netns exec bravo sleep 300 &
	local old=$!
	wait_for nsenter -t "$old" -m grep -q delta /etc/hosts || fail "bravo's early process has no delta in /etc/hosts"
	up_ok echo --network one
	nsenter -t "$old" -m grep -qE '\secho$' /etc/hosts ||
		fail "a process in bravo from before echo's up does not see echo: $(nsenter -t "$old" -m cat /etc/hosts)"
	down_ok delta
	grep -q delta /etc/netns/bravo/hosts && fail "delta still in bravo's hosts after its down"
	nsenter -t "$old" -m grep -q delta /etc/hosts && fail "bravo's early process still sees delta after its down"
	kill "$old"
	wait "$old" 2>/dev/null
	down_ok echo
	[ -e /etc/netns/delta ] && fail "/etc/netns/delta is left: $(ls -la /etc/netns/delta)"
	pass "hosts files name the members, follow members' up and down (also for a process already running inside), and go with them"
}

# An --isolated network: members reach the internet, not each other.
isolated() {
	expect_exit 0 nsg network create iso --isolated
	up_ok x1 --network iso
	up_ok x2 --network iso
	start_server_in x2 7100
	no_connect x1 "$(ns_addr x2)" 7100 "isolated network member -> member"
	expect_internet run_in_gw x1
	expect_internet run_in_gw x2
	expect_exit 0 nsg network list --json
	assert_json "$LAST_OUT" '.[] | select(.name == "iso") | .isolated' "iso isolated in list --json"
	pass "--isolated: x1 cannot reach x2, both reach inet"
}

teardown() {
	down_ok --all
	expect_exit 0 nsg network rm iso
	assert_no_residue alpha bravo charlie delta plain1 x1 x2
	nft list table bridge nsgate >/dev/null 2>&1 && fail "table bridge nsgate is left"
	[ -z "$(ls -A /run/nsgate/networks 2>/dev/null)" ] || fail "network files left: $(ls /run/nsgate/networks)"
	[ -z "$(ls -A /etc/netns 2>/dev/null)" ] || fail "/etc/netns not empty: $(ls -R /etc/netns)"
	pass "down --all and network rm leave nothing"
}

setup
between
ip_spoof
arp_spoof
hosts_files
isolated
teardown
