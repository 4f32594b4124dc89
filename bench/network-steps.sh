# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/network.sh).
#
# MEMBERS (250) namespaces on one network "big" (nsgate network create, a
# /24), in one lab:
#   up     up m1..mN --network big one after another, each timed: the first
#          10 against the last 10 (target: a member's up flat from the 1st to
#          the Nth, <= 1.2x); m1 and mN reach each other directly (the peer
#          sees the member's own address) and reach inet.
#   flows  two established flows for the whole down phase: iperf3 m1 -> m2
#          (member to member, on the bridge) and m3 -> inet (masqueraded),
#          1 s intervals; target: no interval without traffic and both
#          streams complete while the other members go.
#   down   down mN..m4 one by one, each timed (the first 10 against the last
#          10), while the flows run; then m3..m1 and network rm.
# Rows: $RESULTS/network.tsv (EXP ROW METRIC ROUND VALUE).
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft iperf3 jq
N=${MEMBERS:-250}
[ "$N" -ge 14 ] && [ "$N" -le 250 ] || fail "MEMBERS: 14..250 (one /24, the first and last 10 compared)"
IPF=5201
W=$LAB_TMP/network
mkdir -p "$W"

member_addr() { "$NSGATE" show "$1" --json | jq -r '.networks[0].address // .ns_addr' | cut -d/ -f1; }

"$NSGATE" network create big >/dev/null || fail "network create big"
: >"$W/up"
for i in $(seq "$N"); do
	timed u "$NSGATE" up "m$i" --network big || fail "up m$i --network big"
	echo "$u" >>"$W/up"
	rec network "members/$N" up_us "$i" "$u"
done
echo "  network: $N members up" >&2

# m1 and mN: direct (no NAT: the peer sees the member's own address), and out.
a1=$(member_addr m1) an=$(member_addr "m$N")
[ -n "$a1" ] && [ "$a1" != null ] || fail "show m1 --json: no network address"
ip netns exec "m$N" timeout 10 socat -u TCP-LISTEN:7000,reuseaddr SYSTEM:'echo "$SOCAT_PEERADDR"' >"$W/peer" 2>/dev/null &
wait_for listening "m$N" 7000 || fail "listener in m$N"
ip netns exec m1 timeout 5 socat -u /dev/null TCP:"$an":7000 || fail "m1 cannot reach m$N at $an"
wait_for test -s "$W/peer" || true
rec network "members/$N" direct_peer_seen 1 "$(cat "$W/peer" 2>/dev/null || echo none)"
[ "$(cat "$W/peer" 2>/dev/null)" = "$a1" ] || fail "m$N saw '$(cat "$W/peer" 2>/dev/null)' for m1 ($a1): not direct"
start_inet_echo
for m in m1 "m$N"; do
	ip netns exec "$m" timeout 10 "$BIN/connlat" -n 5 -T 5 "$INET_ADDR" $INET_ECHO_PORT >/dev/null || fail "$m cannot reach inet"
done

# The flows: long enough to outlast the downs (about 30 ms each here).
FLOW_T=${FLOW_T:-$((10 + N / 10))}
ip netns exec m2 timeout $((FLOW_T + 60)) iperf3 -s -p $IPF -1 >/dev/null 2>&1 &
ip netns exec inet timeout $((FLOW_T + 60)) iperf3 -s -p $IPF -1 >/dev/null 2>&1 &
wait_for listening m2 $IPF || fail "iperf3 in m2"
wait_for listening inet $IPF || fail "iperf3 in inet"
a2=$(member_addr m2)
ip netns exec m1 iperf3 -J -t "$FLOW_T" -i 1 -c "$a2" -p $IPF >"$W/flow-direct.json" 2>&1 &
fd=$!
ip netns exec m3 iperf3 -J -t "$FLOW_T" -i 1 -c "$INET_ADDR" -p $IPF >"$W/flow-out.json" 2>&1 &
fo=$!
sleep 2   # both streams past slow start before the first down
: >"$W/down"
t0=$EPOCHREALTIME
for i in $(seq "$N" -1 4); do
	timed d "$NSGATE" down "m$i" || fail "down m$i"
	echo "$d" >>"$W/down"
	rec network "members/$N" down_us "$((N - i + 1))" "$d"
done
us_since "$t0"
rec network "members/$N" down_phase_us 1 "$US"
echo "  network: m$N..m4 down in $((US / 1000)) ms" >&2
wait "$fd" || fail "flow m1 -> m2 failed: $(head -c 300 "$W/flow-direct.json")"
wait "$fo" || fail "flow m3 -> inet failed: $(head -c 300 "$W/flow-out.json")"
for f in direct out; do
	jq -r '.intervals[].sum.bytes' "$W/flow-$f.json" >"$W/int-$f" || fail "flow $f: no intervals"
	rec network "flow/$f" intervals 1 "$(wc -l <"$W/int-$f")"
	rec network "flow/$f" zero_intervals 1 "$(awk '$1 == 0' "$W/int-$f" | wc -l)"
	rec network "flow/$f" min_interval_mbit 1 "$(sort -n "$W/int-$f" | head -1 | awk '{printf "%.0f", $1 * 8 / 1e6}')"
	rec network "flow/$f" gbps 1 "$(jq -r '.end.sum_received.bits_per_second / 1e9' "$W/flow-$f.json")"
done
for i in 3 2 1; do "$NSGATE" down "m$i" || fail "down m$i"; done
"$NSGATE" network rm big || fail "network rm big"
# A member's veth goes with its namespace, after down returns (nsg-~N meanwhile).
wait_dying_gone
ip -o link show | grep -q ': nsg' && fail "links left: $(ip -o link show | grep ': nsg')"
nft list tables | grep -q nsgate && fail "tables left: $(nft list tables)"
ls /run/nsgate/networks 2>/dev/null | grep -q . && fail "network files left: $(ls /run/nsgate/networks)"
pass "network bench: $N members"
