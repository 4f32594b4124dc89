# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by bench/cni-steps.sh inside the lab (PHASES containing "conn"):
# the per-connection cost with N containers' ports published, N in
# CONN_SIZES, for nsgate-cni and for the ptp+portmap chain (which goes first
# alternates with N). Per implementation and N:
#   1. ip netns add b1..bN; ADD each (hostPort 30000+i -> 80), every ADD
#      timed (rows "IMPL sadd N I us"): the chain's ADD grows with N too;
#   2. a connlat server on port 80 in b1 and in bN;
#   3. CONN_ROUNDS rounds, each: CONN_N sequential new connections from inet
#      to the lab host's uplink address on b1's port, on bN's port, and to a
#      connlat server on the lab host itself (direct: no DNAT, the drift
#      reference), and inside inet to its own loopback (loop: no host
#      netfilter at all), the four in rotated order; rows "IMPL conn_first|
#      conn_last|conn_direct|conn_loop N ROUND p50_us". The report takes the
#      ratio of each port's p50 to the direct (and the loop) p50 of the same
#      round: the VM drifts 20-40 % between minutes, far less within a round.
#      portmap jumps to its DNAT chain for every local destination, so the
#      chain's direct connections walk that chain too: the loop reference
#      shows what the ratio to direct hides.
#   4. the servers stopped, DEL each (rows "IMPL sdel N I us"), the
#      namespaces deleted, and a check that nothing is left.
# portmap adds a rule per container to its DNAT chain (and ptp one per
# container to POSTROUTING for ipMasq), walked by each new connection's
# first packet; nsgate's ports are elements of one map.

. "$BENCH_DIR/common-steps.sh"   # rotate
need_tools ss
CONN_SIZES=${CONN_SIZES:-10 1000}
CONN_ROUNDS=${CONN_ROUNDS:-5}
CONN_N=${CONN_N:-300}
DIRECT_PORT=19999
for n in $CONN_SIZES; do
	[ "$n" -ge 2 ] && [ "$n" -le 5000 ] || fail "CONN_SIZES: each between 2 and 5000 (a first and a last container)"
done
[ -x "$BIN/connlat" ] || fail "$BIN/connlat is missing (bench/common.sh's bench_prepare copies it)"

"$BIN/connlat" -l $DIRECT_PORT -T 7200 >/dev/null 2>&1 &
host_listening() { ss -Hltn "sport = :$1" | grep -q .; }
wait_for host_listening $DIRECT_PORT || fail "connlat server on the lab host did not start"
ip netns exec inet sysctl -qw net.ipv4.ip_local_port_range="1024 65000"

p50_of() { sed -n 's/.* p50_us=\([0-9]*\).*/\1/p'; }
LOOP_PORT=8081
ip netns exec inet "$BIN/connlat" -l $LOOP_PORT -T 7200 >/dev/null 2>&1 &
wait_for server_listening inet $LOOP_PORT || fail "connlat server in inet did not start"
# dial ADDR PORT: CONN_N connections from inet to ADDR:PORT, the p50 (µs).
dial() {
	local p
	p=$(ip netns exec inet timeout 120 "$BIN/connlat" -n "$CONN_N" -T 100 "$1" "$2" | p50_of)
	[ -n "$p" ] || fail "connlat to $1:$2 failed"
	echo "$p"
}
# rules: the number of rules in the ruleset (nft's view: iptables-nft's too).
rules() { nft -a list ruleset | grep -E '# handle [0-9]+$' | grep -cvE '\{ # handle'; }

# conn_residue: nothing of the phase is left (the kernel may still be
# destroying the namespaces: polled by the caller).
conn_residue_now() {
	ls /run/netns/b* >/dev/null 2>&1 && { echo "namespaces b* left"; return 1; }
	[ -z "$(ip -o link show type veth | grep -v ': up0@')" ] || { echo "veth links left: $(ip -o link show type veth)"; return 1; }
	[ -z "$(nsg list --json | jq -r '.[].name')" ] || { echo "gateways left: $(nsg list --json)"; return 1; }
	! ls /run/nsgate/*.state >/dev/null 2>&1 || { echo "state files left: $(ls /run/nsgate)"; return 1; }
	! iptables -t nat -S 2>/dev/null | grep -qE 'CNI-DN-|10\.201\.' || { echo "chain rules left: $(iptables -t nat -S)"; return 1; }
	[ -z "$(find "$W/ipam" -type f -name '10.201.*')" ] || { echo "host-local leases left: $(ls -R "$W/ipam")"; return 1; }
	return 0
}
conn_residue() {
	local i
	for ((i = 0; i < 200; i++)); do
		conn_residue_now >"$W/residue" && return 0
		sleep 0.05
	done
	fail "after $1: $(cat "$W/residue")"
}

# conn_one IMPL N
conn_one() {
	local impl=$1 n=$2 i r s1 sn w
	for i in $(seq "$n"); do ip netns add "b$i" || fail "ip netns add b$i"; done
	for i in $(seq "$n"); do
		"${impl}_add" "$i"
		printf '%s\tsadd\t%s\t%s\t%s\n' "$impl" "$n" "$i" "$T" >>"$OUT"
	done
	ip netns exec b1 "$BIN/connlat" -l 80 -T 3600 >/dev/null 2>&1 &
	s1=$!
	ip netns exec "b$n" "$BIN/connlat" -l 80 -T 3600 >/dev/null 2>&1 &
	sn=$!
	wait_for server_listening b1 80 && wait_for server_listening "b$n" 80 || fail "connlat servers in b1, b$n"
	# Warm-up (not recorded): caches, conntrack, the first connections' ARP.
	for w in $((PORT_BASE + 1)) $((PORT_BASE + n)) $DIRECT_PORT; do
		ip netns exec inet timeout 60 "$BIN/connlat" -n 100 -T 30 "$UPLINK_ADDR" "$w" >/dev/null ||
			fail "$impl N=$n: warm-up connections to port $w failed"
	done
	printf '%s	rules	%s	0	%s
' "$impl" "$n" "$(rules)" >>"$OUT"
	for r in $(seq "$CONN_ROUNDS"); do
		for w in $(rotate "$r" first last direct loop); do
			case $w in
			first) p=$(dial "$UPLINK_ADDR" $((PORT_BASE + 1))) ;;
			last) p=$(dial "$UPLINK_ADDR" $((PORT_BASE + n))) ;;
			direct) p=$(dial "$UPLINK_ADDR" $DIRECT_PORT) ;;
			loop) p=$(dial 127.0.0.1 $LOOP_PORT) ;;
			esac
			printf '%s\tconn_%s\t%s\t%s\t%s\n' "$impl" "$w" "$n" "$r" "$p" >>"$OUT"
		done
	done
	kill "$s1" "$sn" 2>/dev/null
	wait "$s1" "$sn" 2>/dev/null
	for i in $(seq "$n"); do
		"${impl}_del" "$i"
		printf '%s\tsdel\t%s\t%s\t%s\n' "$impl" "$n" "$i" "$T" >>"$OUT"
	done
	for i in $(seq "$n"); do ip netns del "b$i"; done
	conn_residue "$impl N=$n"
	echo "  cni conn $impl N=$n, last round's p50 (µs): $(awk -F'\t' -v i="$impl" -v n="$n" -v r="$CONN_ROUNDS" \
		'$1 == i && $3 == n && $4 == r && $2 ~ /^conn_/ { printf "%s=%s ", substr($2, 6), $5 }' "$OUT")" >&2
}

PORT_BASE=30000
k=0
for n in $CONN_SIZES; do
	if [ $((k % 2)) = 0 ]; then conn_one nsgate "$n"; conn_one chain "$n"; else conn_one chain "$n"; conn_one nsgate "$n"; fi
	k=$((k + 1))
done
PORT_BASE=20000
