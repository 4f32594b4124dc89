# SPDX-License-Identifier: MIT
# test-isolation-spoof.sh: a gateway sends from its own namespace address
# only, whatever the host's rp_filter (here 2, loose, as Debian's default).
# Gateway a (the attacker), as root in its namespace, sends UDP through a raw
# socket (IP_HDRINCL) with a forged source: (1) with b's address, to a server
# in the internet namespace; (2) with the internet server's address and port,
# to the host's uplink port of b's masqueraded flow, which conntrack would
# hand to b. Neither arrives; a's and b's own traffic still works.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"
need_tools python3

start_server_in inet "$SERVER_PORT"
# Loose reverse-path filtering: the forged sources below all have a route.
must sysctl -qw net.ipv4.conf.all.rp_filter=2
up_ok a
up_ok b
gw_addrs b
B_NS=$GW_NS
gw_addrs a
INET_LOG=$LAB_TMP/inet-9001.log
start_udp_log_in inet 9001 "$INET_LOG"

# (1) To the internet with b's source: masqueraded, it would pass as b's.
echo "own-a" | run_in_gw a timeout 5 socat -u - UDP4-SENDTO:"$INET_ADDR":9001 ||
	fail "a could not send its own datagram"
run_in_gw a bash -c "$(declare -f spoof_udp); spoof_udp $B_NS 5353 $INET_ADDR 9001 forged-as-b" ||
	fail "could not send the forged datagram from a"
run_in_gw a bash -c "$(declare -f spoof_udp); spoof_udp 192.0.2.77 5353 $INET_ADDR 9001 forged-other" ||
	fail "could not send the forged datagram from a"
wait_for grep -qx own-a "$INET_LOG" || fail "a's own datagram never reached inet: $(cat "$INET_LOG")"
sleep 0.3
! grep -q forged "$INET_LOG" || fail "a forged datagram from a reached inet: $(cat "$INET_LOG")"
pass "a's own datagram reaches inet; forged as b's ($B_NS) or another address, none does"

# (2) Into b's masqueraded flow: b talks to inet's 9002 from port 40000, inet
# answers; a forges inet's answer to the host's port of that flow.
B_LOG=$LAB_TMP/b-40000.log
in_ns inet socat -T5 UDP4-RECVFROM:9002,fork SYSTEM:'read -r l; echo legit' >"$LAB_TMP/inet-9002.log" 2>&1 &
wait_for listening_in inet udp 9002 || fail "udp server in inet on 9002 did not start"
run_in_gw b python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40000))
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
' "$B_LOG" "$INET_ADDR" &
B_PID=$!
wait_for grep -qx legit "$B_LOG" || fail "b's own flow to inet:9002 got no answer: $(cat "$B_LOG")"
FLOW=$(ct_entries -p udp --orig-port-src 40000 --orig-port-dst 9002)
note "b's flow: $FLOW"
HOST_PORT=$(grep -o 'dport=[0-9]*' <<<"$FLOW" | sed -n 2p | cut -d= -f2)
[ -n "$HOST_PORT" ] || fail "no conntrack entry for b's flow: $(ct_entries -p udp)"
run_in_gw a bash -c "$(declare -f spoof_udp); spoof_udp $INET_ADDR 9002 $UPLINK_ADDR $HOST_PORT forged-into-b" ||
	fail "could not send the forged datagram from a"
sleep 0.5
! grep -q forged "$B_LOG" || fail "a's datagram forged as inet:9002 was delivered into b's flow: $(cat "$B_LOG")"
pass "a's datagram forged as $INET_ADDR:9002 to $UPLINK_ADDR:$HOST_PORT does not reach b's flow"
wait "$B_PID" 2>/dev/null

expect_internet run_in_gw a
expect_internet run_in_gw b
pass "a's and b's own traffic still works"
expect_exit 0 nsg down --all
assert_no_residue a b
