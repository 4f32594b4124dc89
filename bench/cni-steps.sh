# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/cni.sh), with lib.sh. Plugins
# run directly (no timeout(1) wrapper, whose own exec would be timed);
# bench/cni.sh bounds the whole lab instead. PHASES: "latency" (ADD and DEL
# latency, below), "conn" (per-connection cost with N containers' ports,
# bench/cni-conn-steps.sh); the report at the end covers the phases run.

need_tools jq iptables
for p in ptp portmap host-local; do
	[ -x "$CNI_DIR/$p" ] || fail "$CNI_DIR/$p is missing (Debian package containernetworking-plugins)"
done
W=$LAB_TMP/cni
mkdir -p "$W/ipam"
: >"$OUT"

NSG_CONF='{"cniVersion": "1.0.0", "name": "bench", "type": "nsgate"}'
# The same network for the chain: a /30-like point-to-point link, masquerade,
# host-local's state in the lab's tmpfs.
PTP_CONF=$(jq -cn --arg d "$W/ipam" '{cniVersion: "1.0.0", name: "bench", type: "ptp", ipMasq: true,
	ipam: {type: "host-local", subnet: "10.201.0.0/16", routes: [{dst: "0.0.0.0/0"}], dataDir: $d}}')
PM_CONF='{"cniVersion": "1.0.0", "name": "bench", "type": "portmap", "capabilities": {"portMappings": true}}'

# with_ports CONF I: CONF with container I's one published port,
# PORT_BASE + I -> 80.
PORT_BASE=20000
with_ports() {
	jq -c --argjson p $((PORT_BASE + $2)) '. + {runtimeConfig: {portMappings: [{hostPort: $p,
		containerPort: 80, protocol: "tcp"}]}}' <<<"$1"
}
# plugin EXE CMD I STDIN: one exec as a runtime makes it; its stdout in
# $W/out, its wall time (µs) added to $T.
plugin() {
	local t0 rc
	t0=$EPOCHREALTIME
	CNI_COMMAND=$2 CNI_CONTAINERID=bench$3 CNI_NETNS=/run/netns/b$3 CNI_IFNAME=eth0 \
		CNI_PATH=$CNI_DIR "$1" <<<"$4" >"$W/out" 2>"$W/err"
	rc=$?
	T=$((T + ${EPOCHREALTIME/./} - ${t0/./}))
	[ "$rc" = 0 ] || fail "$(basename "$1") $2 bench$3 exited $rc: $(cat "$W/out" "$W/err")"
}

# ADD and DEL of container I, by nsgate-cni or by the chain; T is the time.
nsgate_add() { T=0; plugin "$NSGATE_CNI" ADD "$1" "$(with_ports "$NSG_CONF" "$1")"; }
nsgate_del() { T=0; plugin "$NSGATE_CNI" DEL "$1" "$(with_ports "$NSG_CONF" "$1")"; }
chain_add() {
	local pm
	T=0
	plugin "$CNI_DIR/ptp" ADD "$1" "$PTP_CONF"
	cp "$W/out" "$W/prev-$1"
	pm=$(jq -c --slurpfile r "$W/prev-$1" '. + {prevResult: $r[0]}' <<<"$(with_ports "$PM_CONF" "$1")")
	plugin "$CNI_DIR/portmap" ADD "$1" "$pm"
}
chain_del() {
	local pm ptp
	pm=$(jq -c --slurpfile r "$W/prev-$1" '. + {prevResult: $r[0]}' <<<"$(with_ports "$PM_CONF" "$1")")
	ptp=$(jq -c --slurpfile r "$W/prev-$1" '. + {prevResult: $r[0]}' <<<"$PTP_CONF")
	T=0
	plugin "$CNI_DIR/portmap" DEL "$1" "$pm"
	plugin "$CNI_DIR/ptp" DEL "$1" "$ptp"
}

# one IMPL ROUND: COUNT containers added, then deleted, each timed.
one() {
	local impl=$1 round=$2 i
	for i in $(seq "$COUNT"); do ip netns add "b$i"; done
	for i in $(seq "$COUNT"); do
		"${impl}_add" "$i"
		printf '%s\tadd\t%s\t%s\t%s\n' "$impl" "$round" "$i" "$T" >>"$OUT"
	done
	for i in $(seq "$COUNT"); do
		"${impl}_del" "$i"
		printf '%s\tdel\t%s\t%s\t%s\n' "$impl" "$round" "$i" "$T" >>"$OUT"
	done
	for i in $(seq "$COUNT"); do ip netns del "b$i"; done
}

latency_phase() {
	# Warm-up, not recorded: nsgate's table, the chain's iptables chains exist
	# from then on, as for any container after the first.
	COUNT_SAVED=$COUNT COUNT=1
	one nsgate 0
	one chain 0
	COUNT=$COUNT_SAVED
	sed -i '/\t0\t[0-9]*\t[0-9]*$/d' "$OUT"
	for r in $(seq "$ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then one nsgate "$r"; one chain "$r"; else one chain "$r"; one nsgate "$r"; fi
	done
	[ -z "$(nsg list --json | jq -r '.[].name')" ] || fail "gateways left: $(nsg list --json)"
}
case " $PHASES " in *" latency "*) latency_phase ;; esac
case " $PHASES " in *" conn "*) . "$BENCH_DIR/cni-conn-steps.sh" ;; esac

# ------------------------------------------------------------------ report
# pct IMPL OP P: the P-th percentile (µs) of IMPL's OP over every round.
pct() {
	awk -F'\t' -v i="$1" -v o="$2" '$1 == i && $2 == o { print $5 }' "$OUT" | sort -n |
		awk -v p="$3" '{ v[NR] = $1 } END { k = int(NR * p / 100 + 0.999); if (k < 1) k = 1; print v[k] }'
}
# median: the median of the numbers on stdin (one a line).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (v[int((NR + 1) / 2)] + v[int(NR / 2) + 1]) / 2 }'; }
# conn IMPL N WHAT: over the rounds, the median of WHAT: a p50 (first, last,
# direct, loop) or a ratio of two p50s of the same round (first/direct,
# last/loop, ...); WHAT-min / WHAT-max: the range instead.
conn() {
	local agg=median w=$3
	case $w in *-min) agg="sort -g | head -1" w=${w%-min} ;; *-max) agg="sort -g | tail -1" w=${w%-max} ;; esac
	awk -F'\t' -v i="$1" -v n="$2" -v w="$w" '$1 == i && $3 == n && $2 ~ /^conn_/ { v[substr($2, 6), $4] = $5; r[$4] }
		END { k = split(w, q, "/"); for (x in r) {
			if (k == 1) print v[q[1], x]; else if (v[q[2], x] > 0) printf "%.4f\n", v[q[1], x] / v[q[2], x] } }' "$OUT" |
		eval "$agg"
}
# ratio IMPL N A/B: "median (min..max)" of a ratio over the rounds.
ratio() { printf '%.3f (%.3f..%.3f)' "$(conn "$@")" "$(conn "$1" "$2" "$3-min")" "$(conn "$1" "$2" "$3-max")"; }
# seq_p50 IMPL OP N FROM TO: the median µs of IMPL's OP (sadd, sdel) at size N
# for containers FROM..TO.
seq_p50() {
	awk -F'\t' -v i="$1" -v o="$2" -v n="$3" -v a="$4" -v b="$5" \
		'$1 == i && $2 == o && $3 == n && $4 >= a && $4 <= b { print $5 }' "$OUT" | median
}
verdict() { awk -v x="$1" "BEGIN { exit !($2) }" && echo met || echo missed; }
TARGETS=()
if grep -qP '^\w+\tadd\t' "$OUT"; then
	echo "# ADD/DEL latency: nsgate-cni vs ptp+portmap ($CNI_DIR), $COUNT containers x $ROUNDS rounds, one port each"
	printf '%-8s %-4s %10s %10s\n' impl op p50_us p90_us
	for op in add del; do
		for impl in nsgate chain; do
			printf '%-8s %-4s %10s %10s\n' "$impl" "$op" "$(pct "$impl" "$op" 50)" "$(pct "$impl" "$op" 90)"
		done
	done
	for op in add del; do
		awk -v a="$(pct nsgate "$op" 50)" -v b="$(pct chain "$op" 50)" -v o="$op" \
			'BEGIN { printf "%s p50 ratio nsgate/chain: %.2fx\n", o, a / b }'
	done
	x=$(awk -v a="$(pct nsgate add 50)" -v b="$(pct chain add 50)" 'BEGIN { printf "%.3f", a / b }')
	TARGETS+=("ADD p50 <= 0.2x the chain|$(printf '%.2fx' "$x") ($(pct nsgate add 50) vs $(pct chain add 50) µs)|$(verdict "$x" 'x <= 0.2')")
	echo
fi
if grep -qP '^\w+\tconn_' "$OUT"; then
	read -r N0 N1 <<<"$(awk -F'\t' '$2 ~ /^conn_/ { print $3 }' "$OUT" | sort -n | sed -n '1p;$p' | tr '\n' ' ')"
	echo "# Per-connection cost: new connections from inet (connlat, $CONN_N a round, $CONN_ROUNDS rounds, p50 µs)"
	echo "# to $UPLINK_ADDR through the first / the last container's published port, direct to a server"
	echo "# on the lab host, and loop (inet to its own loopback: no host netfilter); ratios are of the"
	echo "# p50s of one round, median (min..max) over the rounds; rules: the nft ruleset's rule count"
	f='%-7s %5s %6s %6s %6s %6s %6s %21s %21s %21s %21s %9s %9s\n'
	# shellcheck disable=SC2059
	printf "$f" impl N rules first last direct loop first/direct last/direct last/loop direct/loop add_l10 del_l10
	for n in $(awk -F'\t' '$2 ~ /^conn_/ { print $3 }' "$OUT" | sort -nu); do
		for impl in nsgate chain; do
			[ -n "$(conn "$impl" "$n" direct)" ] || continue
			# shellcheck disable=SC2059
			printf "$f" "$impl" "$n" "$(awk -F'\t' -v i="$impl" -v n="$n" '$1 == i && $2 == "rules" && $3 == n { print $5 }' "$OUT")" \
				"$(conn "$impl" "$n" first)" "$(conn "$impl" "$n" last)" "$(conn "$impl" "$n" direct)" \
				"$(conn "$impl" "$n" loop)" "$(ratio "$impl" "$n" first/direct)" "$(ratio "$impl" "$n" last/direct)" \
				"$(ratio "$impl" "$n" last/loop)" "$(ratio "$impl" "$n" direct/loop)" \
				"$(seq_p50 "$impl" sadd "$n" $((n - 9)) "$n")" "$(seq_p50 "$impl" sdel "$n" $((n - 9)) "$n")"
		done
	done
	echo "(add_l10, del_l10: median µs of the ADD / DEL of the last 10 containers at that N)"
	# growth IMPL WHAT: WHAT's median at the largest N / at the smallest, - 1, in %.
	growth() { awk -v a="$(conn "$1" "$N0" "$2")" -v b="$(conn "$1" "$N1" "$2")" 'BEGIN { printf "%+.1f", (b / a - 1) * 100 }'; }
	# worst IMPL WHAT...: the largest growth among WHATs, "+x.y (WHAT)".
	worst() {
		local i=$1 w
		shift
		for w in "$@"; do echo "$(growth "$i" "$w") $w"; done | sort -g | tail -1
	}
	for impl in nsgate chain; do
		echo "$impl from N=$N0 to N=$N1: first/direct $(growth "$impl" first/direct) %, last/direct $(growth "$impl" last/direct) %," \
			"first/loop $(growth "$impl" first/loop) %, last/loop $(growth "$impl" last/loop) %, direct/loop $(growth "$impl" direct/loop) %," \
			"last p50 $(growth "$impl" last) %"
	done
	read -r g w <<<"$(worst nsgate first/direct last/direct)"
	TARGETS+=("nsgate: per-connection cost flat from $N0 to $N1 containers (<= 5 %)|$g % ($w, the worse port; first/loop $(growth nsgate first/loop) %, last/loop $(growth nsgate last/loop) %)|$(verdict "$g" 'x <= 5')")
	read -r g w <<<"$(worst chain first/direct last/direct first/loop last/loop)"
	TARGETS+=("ptp+portmap: per-connection cost grows from $N0 to $N1 containers (shown when > 5 %)|$g % ($w; last/direct $(growth chain last/direct) %, direct/loop $(growth chain direct/loop) %)|$(verdict "$g" 'x > 5')")
	echo
fi
if [ ${#TARGETS[@]} -gt 0 ]; then
	echo "# Targets (issue 15)"
	printf '| %s | %s | %s |\n' target measured verdict
	printf '|---|---|---|\n'
	for t in "${TARGETS[@]}"; do IFS='|' read -r a b c <<<"$t"; printf '| %s | %s | %s |\n' "$a" "$b" "$c"; done
fi
echo "raw: $OUT"
