# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/scale.sh).
#
# nsgate with N gateways (each: own namespace, default subnet pool, one
# published TCP port), for N in $SIZES. Per N, in one lab:
#   A. up s1..sN one after another (each timed); check s1 and sN work (reach:
#      in through the published port, out to inet); time `gc` and `list` with
#      N healthy gateways; time `down --all` (and its peak RSS).
#   B. up s1..sN again; down them one by one (each timed).
#   C. up s1..sN again; delete their namespaces behind nsgate's back
#      (ip netns del, one batch); time `gc` (and its peak RSS).
# After A, B and C: no nsg- link, no table inet nsgate may be left (once the
# kernel has destroyed the namespaces, which it may do after down returns).
# After A's ups, also: the kernel memory the N gateways take (MemTotal -
# MemAvailable, before and after), and the per-connection cost through s1's
# published port against a direct connection to the lab host, CONN_ROUNDS
# rounds of CONN_N connections each, alternated (the VM's drift cancels in
# the ratio): flat per-packet cost means the same ratio at every N.
# For the largest N the per-gateway times go to scale_curve.tsv (for the plot).
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft /usr/bin/time
SIZES=${SIZES:-10 100 1000}
# HOST_IPV6=0: IPv6 off in the lab host's namespace (to show the kernel's
# per-link IPv6 work: bringing a link up walks the whole IPv6 FIB)
if [ "${HOST_IPV6:-1}" = 0 ]; then
	sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 || fail "disable IPv6"
fi
start_inet_echo
MAXN=0
for n in $SIZES; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
# Host ports 20001..30000; the pool 10.200.0.0/16 holds 16,384 /30s.
[ "$MAXN" -le 10000 ] || fail "SIZES: at most 10000 (host ports 20001..30000)"
CONN_ROUNDS=${CONN_ROUNDS:-5}
CONN_N=${CONN_N:-300}
DIRECT_PORT=19999
timeout 7200 "$BIN/connlat" -l $DIRECT_PORT -T 7200 >/dev/null 2>&1 &
host_listening() { ss -Hltn "sport = :$1" | grep -q .; }
wait_for host_listening $DIRECT_PORT || fail "connlat server on the lab host did not start"

# stat10 FILE FROM: mean and median of lines FROM..FROM+9 of a file of µs
stat10() { sed -n "$2,$(($2 + 9))p" "$1" | sort -n | awk '{v[NR] = $1; s += $1} END {printf "%.0f %.0f", s / NR, (v[5] + v[6]) / 2}'; }
residue_now() {
	ip -o link show | grep -q ': nsg-' && return 1
	nft list table inet nsgate >/dev/null 2>&1 && return 1
	return 0
}
# residue [N]: nothing left, polled for up to 2 + N/100 s while the kernel
# destroys namespaces in the background.
residue() {
	local i
	for ((i = 0; i < (2 + ${1:-0} / 100) * 20; i++)); do
		residue_now && return 0
		sleep 0.05
	done
	return 1
}
mem_used_kib() { awk '/^MemTotal:/ {t = $2} /^MemAvailable:/ {a = $2} END {print t - a}' /proc/meminfo; }
p50_of() { sed -n 's/.* p50_us=\([0-9]*\).*/\1/p'; }
# conn_cost N: CONN_ROUNDS alternated rounds through s1's port and direct.
conn_cost() {
	local r nat dir
	ip netns exec s1 timeout 600 "$BIN/connlat" -l 80 -T 600 >/dev/null 2>&1 &
	wait_for listening s1 80 || fail "connlat server in s1"
	ip netns exec inet "$BIN/connlat" -n 100 "$UPLINK_ADDR" 20001 >/dev/null || fail "warm-up through s1's port"
	for ((r = 1; r <= CONN_ROUNDS; r++)); do
		nat=$(ip netns exec inet "$BIN/connlat" -n "$CONN_N" "$UPLINK_ADDR" 20001 | p50_of)
		dir=$(ip netns exec inet "$BIN/connlat" -n "$CONN_N" "$UPLINK_ADDR" $DIRECT_PORT | p50_of)
		[ -n "$nat" ] && [ -n "$dir" ] || fail "connlat round $r at N=$1"
		rec scale "nsgate/$1" conn_nat_p50_us "$r" "$nat"
		rec scale "nsgate/$1" conn_direct_p50_us "$r" "$dir"
	done
	pkill -f "connlat -l 80 -T 600" 2>/dev/null
	echo "  scale N=$1: connection p50 through s1's port $nat µs, direct $dir µs (last round)" >&2
}
ups() { # ups N FILE: up s1..sN, one µs value a line into FILE
	local i u
	: >"$2"
	for i in $(seq "$1"); do
		timed u "$NSGATE" up "s$i" --publish $((20000 + i)):80 || fail "up s$i of $1"
		echo "$u" >>"$2"
	done
}
settle() { sleep $((1 + $1 / 250)); }   # the kernel frees dead namespaces in the background
summary() { # summary N SERIES FILE
	local a b
	read -r am amed <<<"$(stat10 "$3" 1)"
	read -r bm bmed <<<"$(stat10 "$3" $(($1 - 9)))"
	rec scale "nsgate/$1" "${2}_total_us" 1 "$(awk '{s += $1} END {print s}' "$3")"
	rec scale "nsgate/$1" "${2}_first10_mean_us" 1 "$am"
	rec scale "nsgate/$1" "${2}_last10_mean_us" 1 "$bm"
	rec scale "nsgate/$1" "${2}_first10_median_us" 1 "$amed"
	rec scale "nsgate/$1" "${2}_last10_median_us" 1 "$bmed"
	echo "  scale N=$1 $2: total $(awk '{s += $1} END {printf "%.2f s", s / 1e6}' "$3"), first10 mean ${am} µs, last10 mean ${bm} µs" >&2
}
W=$LAB_TMP/scale
mkdir -p "$W"
for n in $SIZES; do
	# A
	m0=$(mem_used_kib)
	ups "$n" "$W/upA-$n"
	m1=$(mem_used_kib)
	rec scale "nsgate/$n" mem_per_gw_kib 1 $(((m1 - m0) / n))
	summary "$n" up "$W/upA-$n"
	chk=ok
	for i in 1 "$n"; do
		"$BIN/reach" -T 3000 "/run/netns/s$i" 80 "$UPLINK_ADDR" $((20000 + i)) "$INET_ADDR" $INET_ECHO_PORT >/dev/null ||
			chk="FAIL-s$i"
	done
	rec scale "nsgate/$n" check 1 "$chk"
	conn_cost "$n"
	timed t "$NSGATE" gc || fail "gc with $n healthy gateways"
	rec scale "nsgate/$n" gc_healthy_us 1 "$t"
	timed t "$NSGATE" list || fail "list"
	rec scale "nsgate/$n" list_us 1 "$t"
	timed t "$NSGATE" down --all || fail "down --all ($n)"
	rec scale "nsgate/$n" down_all_us 1 "$t"
	residue "$n" && rec scale "nsgate/$n" residue_after_down_all 1 none || rec scale "nsgate/$n" residue_after_down_all 1 LEFT
	settle "$n"
	# B
	ups "$n" "$W/upB-$n"
	summary "$n" up2 "$W/upB-$n"
	: >"$W/down-$n"
	for i in $(seq "$n"); do
		timed t "$NSGATE" down "s$i" || fail "down s$i"
		echo "$t" >>"$W/down-$n"
	done
	summary "$n" down "$W/down-$n"
	residue "$n" && rec scale "nsgate/$n" residue_after_down 1 none || rec scale "nsgate/$n" residue_after_down 1 LEFT
	settle "$n"
	# C
	ups "$n" "$W/upC-$n"
	summary "$n" up3 "$W/upC-$n"
	for i in $(seq "$n"); do echo "netns del s$i"; done | ip -batch - || fail "ip netns del"
	settle "$n"
	/usr/bin/time -f %M -o "$W/rss" "$NSGATE" gc >"$W/gc.out" || fail "gc of $n vanished namespaces"
	rec scale "nsgate/$n" gc_rss_kib 1 "$(tail -1 "$W/rss")"
	rec scale "nsgate/$n" gc_removed 1 "$(grep -c . "$W/gc.out")"
	residue "$n" && rec scale "nsgate/$n" residue_after_gc 1 none || rec scale "nsgate/$n" residue_after_gc 1 LEFT
	settle "$n"
done
# gc timed separately from its RSS run: once more at the largest N
ups "$MAXN" "$W/upD"
for i in $(seq "$MAXN"); do echo "netns del s$i"; done | ip -batch - || fail "ip netns del"
settle "$MAXN"
timed t "$NSGATE" gc || fail "gc"
rec scale "nsgate/$MAXN" gc_vanished_us 1 "$t"
residue "$MAXN" || fail "gc left something"
# Per-gateway curve for the largest N: index, up (A), up (B), down (B)
paste "$W/upA-$MAXN" "$W/upB-$MAXN" "$W/down-$MAXN" | awk -v OFS='\t' '{print NR, $1, $2, $3}' >"$RESULTS/scale_curve.tsv"
