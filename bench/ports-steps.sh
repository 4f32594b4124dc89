# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/ports.sh).
#
# Publishing K ports one port per command, then removing them one per
# command, each command timed: the way a script (or an orchestrator reacting
# to events) adds forwards one at a time. Layouts:
#   nsgate      nsgate publish svc P:P     / nsgate unpublish svc P:P
#   ipt-nft     iptables -w -t nat -A PREROUTING -p tcp --dport P -j DNAT ... / -D (same rule)
#   nft-rules   nft --echo --handle add rule ip bench pre tcp dport P dnat to ...
#               / nft delete rule ip bench pre handle H
# Ports P = 30000, 30001, ... Each sequence stops after SEQ_CAP seconds; the
# TSV then says how many commands ran. The curve (median of every block of
# K/BLOCKS commands against the number of ports present) goes to ports_curve.tsv.
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft iptables-nft
K=${K:-10000}
SEQ_CAP=${SEQ_CAP:-120}
LAYOUTS=${LAYOUTS:-nsgate ipt-nft nft-rules}
BLOCKS=${BLOCKS:-50}
TO=198.18.0.2        # DNAT target of the rule layouts (never dialled)
BASE=30000
"$NSGATE" up svc >/dev/null || fail "nsgate up svc"
nft add table ip bench && nft add chain ip bench pre '{ type nat hook prerouting priority dstnat; }' || fail "nft table"
nft delete table ip bench
W=$LAB_TMP/ports
mkdir -p "$W"

one() { # one LAYOUT OP P -> runs one command
	local h
	case $1/$2 in
	nsgate/add) "$NSGATE" publish svc "$3:$3" ;;
	nsgate/del) "$NSGATE" unpublish svc "$3:$3" ;;
	ipt-nft/add) iptables-nft -w -t nat -A PREROUTING -p tcp --dport "$3" -j DNAT --to-destination "$TO:$3" ;;
	ipt-nft/del) iptables-nft -w -t nat -D PREROUTING -p tcp --dport "$3" -j DNAT --to-destination "$TO:$3" ;;
	nft-rules/add)
		h=$(nft --echo --handle add rule ip bench pre tcp dport "$3" dnat to "$TO:$3") || return 1
		h=${h#*# handle }                     # "add rule ... # handle N" (then
		echo "${h%%[!0-9]*}" >>"$W/handles" ;; # "# new generation ...")
	nft-rules/del)
		read -r h <&7 || return 1
		nft delete rule ip bench pre handle "$h" ;;
	esac
}
reset_layout() {
	case $1 in
	nsgate) "$NSGATE" down svc && "$NSGATE" up svc >/dev/null ;;
	ipt-nft) nft delete table ip nat 2>/dev/null || true ;;
	nft-rules) nft delete table ip bench 2>/dev/null || true ;;
	esac
}
# seq_run LAYOUT OP: K commands or SEQ_CAP seconds; per-command µs to W/LAYOUT-OP
seq_run() {
	local l=$1 op=$2 f=$W/$1-$2 i t t0 n=0 start
	: >"$f"
	start=$EPOCHREALTIME
	for ((i = 0; i < K; i++)); do
		timed t one "$l" "$op" $((BASE + i)) || fail "$l $op port $((BASE + i))"
		echo "$t" >>"$f"
		n=$((n + 1))
		us_since "$start"
		[ "$US" -lt $((SEQ_CAP * 1000000)) ] || break
	done
	us_since "$start"
	rec ports "$l" "${op}_n" 1 "$n"
	rec ports "$l" "${op}_total_us" 1 "$(awk '{s += $1} END {print s}' "$f")"
	rec ports "$l" "${op}_wall_us" 1 "$US"
	rec ports "$l" "${op}_first100_median_us" 1 "$(head -100 "$f" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')"
	rec ports "$l" "${op}_last100_median_us" 1 "$(tail -100 "$f" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')"
	echo "  ports: $l $op: $n commands in $((US / 1000)) ms" >&2
	# curve: median per block; x = ports present when the block's commands ran
	awk -v l="$l" -v op="$op" -v b=$(((K + BLOCKS - 1) / BLOCKS)) -v k="$K" -v OFS='\t' '
	function flush(   i, j, t, m) {
		if (!c) return
		for (i = 2; i <= c; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		m = v[int((c + 1) / 2)]
		x = (op == "add") ? NR - c / 2 : k - (NR - c / 2)
		print l, op, int(x), m
		c = 0
	}
	{ v[++c] = $1 } c == b { flush() } END { flush() }' "$f" >>"$RESULTS/ports_curve.tsv"
}
for l in $LAYOUTS; do
	case $l in nft-rules) nft add table ip bench && nft add chain ip bench pre '{ type nat hook prerouting priority dstnat; }' ;; esac
	: >"$W/handles"
	seq_run "$l" add
	if [ "$l" = nft-rules ]; then exec 7<"$W/handles"; fi
	# remove only what was added (the add sequence may have been capped)
	K_SAVE=$K; K=$(wc -l <"$W/$l-add")
	seq_run "$l" del
	K=$K_SAVE
	[ "$l" = nft-rules ] && exec 7<&-
	reset_layout "$l"
done
"$NSGATE" down svc
