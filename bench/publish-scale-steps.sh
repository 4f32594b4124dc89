# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/publish-scale.sh), with lib.sh.
#
# Two service namespaces, each running a connlat server (:8080) and an iperf3
# server (:5201):
#   svc    an nsgate gateway (nsgate up svc); layout "nsgate" publishes into it
#   plain  a plain veth 198.18.0.1/30 <-> 198.18.0.2/30 made here with ip(8);
#          layouts "ipt-nft", "ipt-legacy" and "nft-rules" DNAT into it
# A config is LAYOUT/N: N published ports, N-1 dummies (host ports 30000..)
# first and the measured one, host port 20000, LAST. "direct/0" dials
# 198.18.0.2 without any DNAT (the floor). Only one config's rules are
# loaded at a time; table inet nsgate stays (with empty maps) throughout.
# Every round: for each config (in the order of round_order below): load,
# conntrack -F, CONNS sequential connections from inet (connlat), unload.

need_tools iperf3 conntrack nft ip jq timeout ss
# bench_listening NS PORT: something in netns NS listens on TCP port PORT.
bench_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }
for l in $LAYOUTS; do
	case $l in
	nsgate | nft-rules) ;;
	ipt-nft) need_tools iptables-nft-restore ;;
	ipt-legacy) need_tools iptables-legacy-restore iptables-legacy ;;
	*) fail "unknown layout $l (nsgate ipt-nft ipt-legacy nft-rules)" ;;
	esac
done

W=$LAB_TMP/ps
# CPU pinning of the connlat client and servers ("" = none): taskset -c LIST
CLIENT_PIN=${CLIENT_CPUS:+taskset -c $CLIENT_CPUS}
SERVER_PIN=${SERVER_CPUS:+taskset -c $SERVER_CPUS}
RAW=$W/raw.tsv
mkdir -p "$W"
: >"$RAW"
HP=20000 DUMMY=30000 LAT_PORT=8080 IPERF_PORT=5201
PLAIN=198.18.0.2 PLAIN_HOST=198.18.0.1
MAX_N=0
for n in $SIZES; do [ "$n" -gt "$MAX_N" ] && MAX_N=$n; done
MIN_N=$MAX_N
for n in $SIZES; do [ "$n" -lt "$MIN_N" ] && MIN_N=$n; done
[ $((DUMMY + MAX_N)) -le 65535 ] || fail "SIZES: at most $((65535 - DUMMY + 1)) ports"

# ------------------------------------------------------------------ setup
nsg up svc >/dev/null || fail "nsgate up svc"
gw_json svc
SVC=$(gw_field svc ns_addr)
ip netns add plain || fail "ip netns add plain"
ip link add vplain type veth peer name eth0 netns plain || fail "veth vplain"
ip addr add $PLAIN_HOST/30 dev vplain && ip link set vplain up || fail "vplain"
ip -n plain link set lo up && ip -n plain addr add $PLAIN/30 dev eth0 &&
	ip -n plain link set eth0 up && ip -n plain route add default via $PLAIN_HOST || fail "plain addresses"
sysctl -qw net.ipv4.ip_forward=1
ip -n inet route add 198.18.0.0/30 via "$UPLINK_ADDR" || fail "inet route to plain (direct row)"
ip netns exec inet sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
for ns in svc plain; do
	ip netns exec $ns $SERVER_PIN timeout 1800 "$CONNLAT" -l $LAT_PORT -T 1800 >"$W/connlat-$ns.log" 2>&1 &
	ip netns exec $ns timeout 1800 iperf3 -s -p $IPERF_PORT >"$W/iperf3-$ns.log" 2>&1 &
	wait_for bench_listening $ns $LAT_PORT || fail "connlat server in $ns: $(cat "$W/connlat-$ns.log")"
	wait_for bench_listening $ns $IPERF_PORT || fail "iperf3 server in $ns: $(cat "$W/iperf3-$ns.log")"
done

# ------------------------------------------------------------------ rulesets
# cfg_file LAYOUT N DPORT: the file loading N ports whose last (host port HP)
# goes to DPORT in the layout's namespace; made once.
cfg_file() {
	local l=$1 n=$2 d=$3 f=$W/$1-$2-$3 i
	if [ ! -e "$f" ]; then
		case $l in
		ipt-*)
			{
				echo '*nat'
				echo ':PREROUTING ACCEPT [0:0]'
				echo ':INPUT ACCEPT [0:0]'
				echo ':OUTPUT ACCEPT [0:0]'
				echo ':POSTROUTING ACCEPT [0:0]'
				for ((i = 0; i < n - 1; i++)); do
					echo "-A PREROUTING -p tcp -m tcp --dport $((DUMMY + i)) -j DNAT --to-destination $PLAIN:$LAT_PORT"
				done
				echo "-A PREROUTING -p tcp -m tcp --dport $HP -j DNAT --to-destination $PLAIN:$d"
				echo 'COMMIT'
			} >"$f" ;;
		nft-rules)
			{
				echo 'table ip bench {'
				echo '	chain pre {'
				echo '		type nat hook prerouting priority dstnat; policy accept;'
				for ((i = 0; i < n - 1; i++)); do
					echo "		tcp dport $((DUMMY + i)) dnat to $PLAIN:$LAT_PORT"
				done
				echo "		tcp dport $HP dnat to $PLAIN:$d"
				echo '	}'
				echo '}'
			} >"$f" ;;
		nsgate) # the SPEC arguments: one range of dummies, then the port
			{
				[ "$n" -gt 1 ] && echo "$DUMMY-$((DUMMY + n - 2)):$DUMMY-$((DUMMY + n - 2))"
				echo "$HP:$d"
			} >"$f" ;;
		esac
	fi
	echo "$f"
}

# load / unload LAYOUT N DPORT
load() {
	local f
	f=$(cfg_file "$@")
	case $1 in
	direct) ;;
	nsgate) mapfile -t specs <"$f" && "$NSGATE" publish svc "${specs[@]}" >/dev/null ;;
	ipt-nft) iptables-nft-restore <"$f" ;;
	ipt-legacy) iptables-legacy-restore <"$f" ;;
	nft-rules) nft -f "$f" ;;
	esac
}
unload() {
	local f
	f=$(cfg_file "$@")
	case $1 in
	direct) ;;
	nsgate) mapfile -t specs <"$f" && "$NSGATE" unpublish svc "${specs[@]}" >/dev/null ;;
	ipt-nft) nft delete table ip nat ;;   # the table iptables-nft made, hooks and all
	ipt-legacy) iptables-legacy -t nat -F ;;
	nft-rules) nft delete table ip bench ;;
	esac
}
# target LAYOUT DPORT: "ADDR PORT" the inet client dials.
target() {
	if [ "$1" = direct ]; then echo "$PLAIN $2"; else echo "$UPLINK_ADDR $HP"; fi
}
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }   # CFG METRIC ROUND VALUE

# Sanity: with nothing loaded, the published port does not answer at all.
ip netns exec inet "$CONNLAT" -n 1 -w 500 "$UPLINK_ADDR" $HP >/dev/null &&
	fail "port $HP answers before any layout is loaded"

# Warm-up (not recorded): the first connections after setup are slow.
ip netns exec inet timeout 60 "$CONNLAT" -n 1000 -T 30 $PLAIN $LAT_PORT >/dev/null
load nsgate 1 $LAT_PORT && conntrack -F >/dev/null 2>&1
ip netns exec inet timeout 60 "$CONNLAT" -n 1000 -T 30 "$UPLINK_ADDR" $HP >/dev/null ||
	fail "warm-up through nsgate's published port $HP failed"
unload nsgate 1 $LAT_PORT

# round_order ROUND SIZE...: the configs of one round, one "LAYOUT N" a line.
# A layout's sizes run back to back (so that its ratios compare measurements
# a second apart: this VM's latency level drifts by 20-40 % over seconds),
# ascending in odd rounds and descending in even ones; the order of the
# blocks (direct, then each layout) rotates from round to round.
round_order() {
	local round=$1 blocks b k nb n sizes
	shift
	read -ra blocks <<<"direct $LAYOUTS"
	nb=${#blocks[@]}
	if [ $((round % 2)) = 1 ]; then sizes=("$@"); else mapfile -t sizes < <(printf '%s\n' "$@" | sort -rn); fi
	for k in $(seq 0 $((nb - 1))); do
		b=${blocks[$(((k + round - 1) % nb))]}
		if [ "$b" = direct ]; then
			echo "direct 0"
		else
			for n in "${sizes[@]}"; do echo "$b $n"; done
		fi
	done
}

# ------------------------------------------------------------------ latency
# shellcheck disable=SC2086
echo "publish-scale: $(round_order 1 $SIZES | wc -l) configs x $ROUNDS rounds x $CONNS connections; nsgate svc at $SVC, plain at $PLAIN" >&2
for round in $(seq "$ROUNDS"); do
	# shellcheck disable=SC2086
	while read -r l n; do
		t0=$EPOCHREALTIME
		load "$l" "$n" $LAT_PORT || fail "load $l/$n"
		[ "$l" = direct ] || record "$l/$n" load_ms "$round" "$(ms_since "$t0")"
		conntrack -F >/dev/null 2>&1 || fail "conntrack -F"
		# shellcheck disable=SC2046
		out=$(ip netns exec inet $CLIENT_PIN timeout 120 "$CONNLAT" -n "$CONNS" -T 90 $(target "$l" $LAT_PORT) </dev/null) ||
			echo "publish-scale: round $round $l/$n: failures: $out" >&2
		for m in p50_us p90_us mean_us; do
			v=$(sed -n "s/.*$m=\([0-9.]*\).*/\1/p" <<<"$out")
			record "$l/$n" "$m" "$round" "${v:-FAIL}"
		done
		record "$l/$n" fail "$round" "$(sed -n 's/.*fail=\([0-9]*\).*/\1/p' <<<"$out")"
		t0=$EPOCHREALTIME
		unload "$l" "$n" $LAT_PORT || fail "unload $l/$n"
		[ "$l" = direct ] || record "$l/$n" unload_ms "$round" "$(ms_since "$t0")"
		echo "  round $round $l/$n: $out" >&2
	done < <(round_order "$round" $SIZES)
done

# ------------------------------------------------------------------ throughput
# iperf3 through the published port (the last of N, for the smallest and the
# largest N), same order scheme.
for round in $(seq "$IPERF_ROUNDS"); do
	# shellcheck disable=SC2046
	while read -r l n; do
		[ "$l" = direct ] && continue
		load "$l" "$n" $IPERF_PORT || fail "load $l/$n (iperf3)"
		conntrack -F >/dev/null 2>&1
		g=$(ip netns exec inet timeout $((IPERF_T + 20)) iperf3 -c "$UPLINK_ADDR" -p $HP -t "$IPERF_T" \
			--connect-timeout 3000 -J </dev/null 2>/dev/null |
			jq -r '.end.sum_received.bits_per_second / 1e9 | . * 1000 | round / 1000' 2>/dev/null)
		record "$l/$n" gbps "$round" "${g:-FAIL}"
		unload "$l" "$n" $IPERF_PORT || fail "unload $l/$n (iperf3)"
		echo "  iperf3 round $round $l/$n: ${g:-FAIL} Gbit/s" >&2
	done < <(round_order "$round" $(printf '%s\n' "$MIN_N" "$MAX_N" | sort -un))
done

# ------------------------------------------------------------------ report
cp "$RAW" "$OUT" 2>/dev/null || true
order=$(echo "direct/0"; for l in $LAYOUTS; do for n in $SIZES; do echo "$l/$n"; done; done)
awk -F'\t' -v order="$order" -v min_n="$MIN_N" -v max_n="$MAX_N" '
function sortv(s, a,   n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n
}
function med(s,   a, n) { n = sortv(s, a); return n ? a[int((n + 1) / 2)] : "" }
function stat(c, m,   a, n) {   # "median (min..max)"
	if (!((c, m) in vals)) return "-"
	n = sortv(vals[c, m], a)
	return n == 1 ? a[1] : sprintf("%s (%s..%s)", a[int((n + 1) / 2)], a[1], a[n])
}
function get(c, m) { return ((c, m) in vals) ? med(vals[c, m]) : "-" }
# median over rounds of the per-round ratio of metric m of c to that of b
function ratio(c, b, m,   r, s, n) {
	s = ""
	for (r = 1; r <= maxr; r++)
		if ((c, m, r) in one && (b, m, r) in one && one[b, m, r] > 0)
			s = s " " one[c, m, r] / one[b, m, r]
	if (s == "") return "-"
	return sprintf("%.2fx", med(s))
}
$2 == "fail" { fails[$1] += $4; next }
$4 == "FAIL" { if ($2 == "p50_us" || $2 == "gbps") bad[$1]++; next }
{ vals[$1, $2] = vals[$1, $2] " " $4; one[$1, $2, $3] = $4; if ($3 > maxr) maxr = $3
  if ($2 == "p50_us") rounds[$1]++ }
END {
	nc = split(order, cfgs, "\n")
	print "| config | rounds | p50 µs: median (min..max) | p90 µs | mean µs | p50 vs same layout at " min_n " | p50 vs direct | load ms | unload ms | iperf3 Gbit/s: median (min..max) |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nc; i++) {
		c = cfgs[i]; split(c, p, "/"); base = p[1] "/" min_n
		n = rounds[c] + 0
		if (bad[c] || fails[c]) n = n " (" (bad[c] + 0) " rounds and " (fails[c] + 0) " connections failed)"
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c, n, stat(c, "p50_us"),
			get(c, "p90_us"), get(c, "mean_us"), (p[1] == "direct" ? "-" : ratio(c, base, "p50_us")),
			ratio(c, "direct/0", "p50_us"), get(c, "load_ms"), get(c, "unload_ms"), stat(c, "gbps")
	}
	print ""
	print "Ratios are medians of per-round ratios (both configs measured in the same round)."
	a = get("nsgate/" min_n, "p50_us"); b = get("nsgate/" max_n, "p50_us")
	if (a != "-" && b != "-" && min_n != max_n) {
		r = ratio("nsgate/" max_n, "nsgate/" min_n, "p50_us"); sub(/x$/, "", r)
		printf "nsgate p50 at %s ports vs %s: %+.1f %% (medians %s vs %s µs); per-round ratio %sx: %s\n",
			max_n, min_n, (b / a - 1) * 100, b, a, r,
			(r <= 1.10 && r >= 0.90) ? "flat, within 10 %" : "NOT within 10 %"
	}
}' "$RAW"
echo
echo "rounds=$ROUNDS conns=$CONNS iperf_rounds=$IPERF_ROUNDS iperf_t=${IPERF_T}s layouts=\"$LAYOUTS\" sizes=\"$SIZES\" client_cpus=${CLIENT_CPUS:-any} server_cpus=${SERVER_CPUS:-any}"
echo "raw: $OUT (config, metric, round, value)"
nsg down svc >/dev/null
