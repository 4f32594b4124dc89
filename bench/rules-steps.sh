# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/rules.sh).
#
# Per-packet cost as published ports grow: latency of new TCP connections
# (connlat: sequential, client speaks first, RST close; rate = 1e6 / mean µs)
# and iperf3 throughput through ONE published port (host 198.51.100.1:20000)
# while N ports are published in all, N in $SIZES (1 ... 100,000), layouts:
#   nsgate     nsgate publish svc ...: elements of map ports4 (one dnat rule)
#   ipt-nft    iptables-nft-restore: one -A PREROUTING ... -j DNAT rule per port
#   ipt-legacy iptables-legacy-restore (optional)
#   nft-rules  nft -f: one "tcp dport X dnat to ..." rule per port
#   direct/0   no DNAT: the client dials the service namespace's own address
# The N-1 other ports are TCP 1024..65535 (20000 left out), then UDP from 1024
# (a port number only exists 65,535 times per protocol); the measured port is
# added LAST (the worst case for a linear rule list). nsgate publishes into its
# gateway "svc"; the rule layouts DNAT into a plain veth namespace "plain".
# Table inet nsgate (svc's gateway) exists throughout, so every layout pays its
# (constant) lookups. Only one config is loaded at a time; each config in each
# round: load (timed), conntrack -F, CONNS connections from inet, unload (timed).
# Rounds interleave: layout blocks rotate, sizes ascend in odd rounds and
# descend in even ones. A load slower than LOAD_CAP seconds skips that config.
# After each load the script waits SETTLE seconds before measuring: inserting
# 100,000 elements makes the kernel resize the set's hash table in a worker,
# which would compete for the 2 vCPUs with the first connections.
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft iperf3 conntrack jq ss
SIZES=${SIZES:-1 1000 10000 100000}
LAYOUTS=${LAYOUTS:-nsgate ipt-nft nft-rules}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-2000}
IPERF_ROUNDS=${IPERF_ROUNDS:-3}
IPERF_T=${IPERF_T:-3}
LOAD_CAP=${LOAD_CAP:-60}
SETTLE=${SETTLE:-1}   # seconds after a load: the kernel grows big hash tables in the background
HP=20000 LAT=8080 IPF=5201 PLAIN=198.18.0.2
W=$LAB_TMP/rules
mkdir -p "$W"
for l in $LAYOUTS; do
	case $l in
	nsgate | nft-rules) ;;
	ipt-nft) need_tools iptables-nft-restore ;;
	ipt-legacy) need_tools iptables-legacy-restore iptables-legacy ;;
	*) fail "unknown layout $l" ;;
	esac
done
MINN=$(printf '%s\n' $SIZES | sort -n | head -1)
MAXN=$(printf '%s\n' $SIZES | sort -n | tail -1)
[ "$MAXN" -le 100000 ] || fail "SIZES: at most 100000"

# ------------------------------------------------------------------ setup
# The direct row and the rule layouts route plainly from up0 to vplain, which
# needs the lab host to forward (the peer harness's labs turn it on too);
# nsgate itself no longer turns the global switch on.
sysctl -qw net.ipv4.ip_forward=1 || fail "ip_forward"
"$NSGATE" up svc >/dev/null || fail "nsgate up svc"
ip netns add plain && ip link add vplain type veth peer name eth0 netns plain &&
	ip addr add 198.18.0.1/30 dev vplain && ip link set vplain up &&
	ip -n plain link set lo up && ip -n plain addr add $PLAIN/30 dev eth0 &&
	ip -n plain link set eth0 up && ip -n plain route add default via 198.18.0.1 || fail "plain namespace"
ip -n inet route add 198.18.0.0/30 via "$UPLINK_ADDR" || fail "inet route (direct)"
ip netns exec inet sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
for ns in svc plain; do
	ip netns exec $ns timeout 3600 "$BIN/connlat" -l $LAT -T 3600 >/dev/null 2>&1 &
	ip netns exec $ns timeout 3600 iperf3 -s -p $IPF >/dev/null 2>&1 &
	wait_for listening $ns $LAT && wait_for listening $ns $IPF || fail "servers in $ns"
done

# ------------------------------------------------------------------ rulesets
# dummies N: the N-1 other ports, "proto port" a line (awk: fast)
dummies() {
	awk -v n="$1" -v hp=$HP 'BEGIN {
		d = n - 1; p = 1024
		while (d > 0 && p <= 65535) { if (p != hp) { print "tcp", p; d-- } p++ }
		p = 1024
		while (d > 0) { print "udp", p++; d-- } }'
}
# cfg LAYOUT N DPORT -> file name (made once)
cfg() {
	local l=$1 n=$2 d=$3 f=$W/$1-$2-$3
	[ -e "$f" ] && { echo "$f"; return; }
	case $l in
	ipt-*)
		{ echo '*nat'; echo ':PREROUTING ACCEPT [0:0]'; echo ':INPUT ACCEPT [0:0]'
		  echo ':OUTPUT ACCEPT [0:0]'; echo ':POSTROUTING ACCEPT [0:0]'
		  dummies "$n" | awk -v t=$PLAIN:$LAT '{ printf "-A PREROUTING -p %s -m %s --dport %s -j DNAT --to-destination %s\n", $1, $1, $2, t }'
		  echo "-A PREROUTING -p tcp -m tcp --dport $HP -j DNAT --to-destination $PLAIN:$d"
		  echo COMMIT; } >"$f" ;;
	nft-rules)
		{ echo 'table ip bench {'; echo ' chain pre {'
		  echo '  type nat hook prerouting priority dstnat; policy accept;'
		  dummies "$n" | awk -v t=$PLAIN:$LAT '{ printf "  %s dport %s dnat to %s\n", $1, $2, t }'
		  echo "  tcp dport $HP dnat to $PLAIN:$d"; echo ' }'; echo '}'; } >"$f" ;;
	nsgate) # SPEC arguments: ranges of consecutive dummies, then the port
		{ dummies "$n" | awk '
			function out() { if (c) print (a == b ? a ":" a : a "-" b ":" a "-" b) (pr == "udp" ? "/udp" : "") }
			$1 != pr || $2 != b + 1 { out(); pr = $1; a = $2; c = 1 }
			{ b = $2 } END { out() }'
		  echo "$HP:$d"; } >"$f" ;;
	esac
	echo "$f"
}
load() { # load LAYOUT N DPORT
	local f specs
	[ "$1" = direct ] && return 0
	f=$(cfg "$@")
	case $1 in
	nsgate) mapfile -t specs <"$f"; timeout "$LOAD_CAP" "$NSGATE" publish svc "${specs[@]}" ;;
	ipt-nft) timeout "$LOAD_CAP" iptables-nft-restore <"$f" ;;
	ipt-legacy) timeout "$LOAD_CAP" iptables-legacy-restore <"$f" ;;
	nft-rules) timeout "$LOAD_CAP" nft -f "$f" ;;
	esac
}
unload() {
	local f specs
	[ "$1" = direct ] && return 0
	f=$(cfg "$@")
	case $1 in
	nsgate) mapfile -t specs <"$f"; "$NSGATE" unpublish svc "${specs[@]}" ;;
	ipt-nft) nft delete table ip nat ;;
	ipt-legacy) iptables-legacy -t nat -F ;;
	nft-rules) nft delete table ip bench ;;
	esac
}
target() { if [ "$1" = direct ]; then echo "$PLAIN $2"; else echo "$UPLINK_ADDR $HP"; fi; }
order() { # order ROUND SIZE...: "LAYOUT N" lines of one round
	local r=$1 b s
	shift
	if [ $((r % 2)) = 1 ]; then s=$(printf '%s\n' "$@" | sort -n); else s=$(printf '%s\n' "$@" | sort -rn); fi
	for b in $(rotate "$r" direct $LAYOUTS); do
		if [ "$b" = direct ]; then echo "direct 0"; else for n in $s; do echo "$b $n"; done; fi
	done
}
declare -A SKIP=()

# Sanity: nothing answers on the published port before a layout is loaded;
# then a warm-up through nsgate (not recorded).
ip netns exec inet "$BIN/connlat" -n 1 -w 300 "$UPLINK_ADDR" $HP >/dev/null 2>&1 && fail "port $HP answers with nothing loaded"
load nsgate 1 $LAT || fail "load nsgate 1"
ip netns exec inet timeout 60 "$BIN/connlat" -n 500 -T 30 "$UPLINK_ADDR" $HP >/dev/null || fail "warm-up through nsgate"
unload nsgate 1 $LAT
ip netns exec inet timeout 60 "$BIN/connlat" -n 500 -T 30 $PLAIN $LAT >/dev/null || fail "warm-up direct"

# ------------------------------------------------------------------ latency
for round in $(seq "$ROUNDS"); do
	while read -r l n; do
		c=$l/$n
		[ -n "${SKIP[$c]:-}" ] && continue
		t0=$EPOCHREALTIME
		if ! load "$l" "$n" $LAT >/dev/null 2>"$W/err"; then
			SKIP[$c]=1; rec rules "$c" skipped "$round" "load failed or took over ${LOAD_CAP}s: $(head -c 150 "$W/err" | tr '\t\n' '  ')"
			unload "$l" "$n" $LAT >/dev/null 2>&1; continue
		fi
		us_since "$t0"; [ "$l" = direct ] || rec rules "$c" load_us "$round" "$US"
		sleep "$SETTLE"
		conntrack -F >/dev/null 2>&1
		# shellcheck disable=SC2046
		out=$(ip netns exec inet timeout 150 "$BIN/connlat" -n "$CONNS" -T 120 $(target "$l" $LAT) </dev/null) ||
			echo "  rules: round $round $c: failures: $out" >&2
		for m in p50_us p90_us p99_us mean_us fail; do
			v=${out##*"$m="}; v=${v%% *}
			[[ $out == *"$m="* ]] || v=FAIL
			rec rules "$c" "$m" "$round" "$v"
		done
		t0=$EPOCHREALTIME
		unload "$l" "$n" $LAT >/dev/null || fail "unload $c"
		us_since "$t0"; [ "$l" = direct ] || rec rules "$c" unload_us "$round" "$US"
		echo "  rules: round $round $c: $out" >&2
	done < <(order "$round" $SIZES)
done

# ------------------------------------------------------------------ throughput
for round in $(seq "$IPERF_ROUNDS"); do
	while read -r l n; do
		c=$l/$n
		[ -n "${SKIP[$c]:-}" ] && continue
		load "$l" "$n" $IPF >/dev/null 2>&1 || { rec rules "$c" gbps "$round" FAIL; unload "$l" "$n" $IPF >/dev/null 2>&1; continue; }
		conntrack -F >/dev/null 2>&1
		# shellcheck disable=SC2046
		g=$(ip netns exec inet timeout $((IPERF_T + 20)) iperf3 -J -t "$IPERF_T" --connect-timeout 3000 \
			-c $(target "$l" $IPF | awk '{print $1 " -p " $2}') </dev/null 2>/dev/null |
			jq -r '.end.sum_received.bits_per_second / 1e9 * 1000 | round / 1000' 2>/dev/null) || g=
		rec rules "$c" gbps "$round" "${g:-FAIL}"
		unload "$l" "$n" $IPF >/dev/null || fail "unload $c (iperf3)"
		echo "  rules: iperf3 round $round $c: ${g:-FAIL} Gbit/s" >&2
	done < <(order "$round" "$MINN" "$MAXN" | awk '!s[$0]++')
done
"$NSGATE" down svc
