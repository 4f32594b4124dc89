# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/publish-time.sh), with lib.sh.
# nsgate runs directly (no timeout(1) wrapper, whose own exec would be timed);
# bench/publish-time.sh bounds the whole lab with timeout instead.

need_tools nft jq conntrack iptables-nft-restore iptables-nft
# bench_elems: number of elements of map ports4 in table inet nsgate.
bench_elems() {
	nft -j list map inet nsgate ports4 2>/dev/null |
		jq '[.nftables[] | select(.map) | .map.elem // [] | .[]] | length' 2>/dev/null || echo 0
}
HAVE_LEGACY=0
command -v iptables-legacy-restore >/dev/null && command -v iptables-legacy >/dev/null && HAVE_LEGACY=1
W=$LAB_TMP/pt
RAW=$W/raw.tsv
mkdir -p "$W"
: >"$RAW"
BIG=10000 LO=10000 HI=19999         # the 10,000 ports of the one-command cases
PRE=30000                           # 10,000 ports already published: 30000-39999
ONE=20000                           # one-port commands use 20000, 20001, ...
TO=198.18.0.2                       # DNAT target of the iptables/nft rulesets (never dialled)

nsg up svc >/dev/null || fail "nsgate up svc"
gw_json svc
SVC=$(gw_field svc ns_addr)

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RAW"; }   # WHAT ROUND MS
# timed WHAT ROUND CMD...: run CMD (stdout and stderr to a log), record its
# wall time in ms; fail the run when it fails.
timed() {
	local what=$1 round=$2 t0 t1 rc
	shift 2
	t0=$EPOCHREALTIME
	"$@" >"$W/cmd.log" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	[ "$rc" = 0 ] || fail "$what: '$*' exited $rc: $(head -c 400 "$W/cmd.log")"
	record "$what" "$round" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')"
}
# timed_stdin WHAT ROUND FILE CMD...: the same, with FILE on stdin.
timed_stdin() {
	local what=$1 round=$2 f=$3 t0 t1 rc
	shift 3
	t0=$EPOCHREALTIME
	"$@" <"$f" >"$W/cmd.log" 2>&1
	rc=$?
	t1=$EPOCHREALTIME
	[ "$rc" = 0 ] || fail "$what: '$*' exited $rc: $(head -c 400 "$W/cmd.log")"
	record "$what" "$round" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) * 1000 }')"
}

# ------------------------------------------------------------------ inputs
mapfile -t SPECS < <(seq $LO $HI | awk '{ print $1 ":" $1 }')
[ "${#SPECS[@]}" = $BIG ] || fail "built ${#SPECS[@]} specs, not $BIG"
{
	echo '*nat'
	echo ':PREROUTING ACCEPT [0:0]'
	echo ':INPUT ACCEPT [0:0]'
	echo ':OUTPUT ACCEPT [0:0]'
	echo ':POSTROUTING ACCEPT [0:0]'
	for ((p = LO; p <= HI; p++)); do
		echo "-A PREROUTING -p tcp -m tcp --dport $p -j DNAT --to-destination $TO:$p"
	done
	echo 'COMMIT'
} >"$W/ipt"
{
	echo 'table ip bench {'
	echo '	chain pre {'
	echo '		type nat hook prerouting priority dstnat; policy accept;'
	for ((p = LO; p <= HI; p++)); do echo "		tcp dport $p dnat to $TO:$p"; done
	echo '	}'
	echo '}'
} >"$W/nft-rules"
{   # nsgate's own layout written by hand: one rule, one map of 10,000 elements
	echo 'table ip bench {'
	echo '	map ports { type inet_proto . inet_service : ipv4_addr . inet_service; }'
	echo '	chain pre {'
	echo '		type nat hook prerouting priority dstnat; policy accept;'
	echo '		dnat ip to meta l4proto . th dport map @ports'
	echo '	}'
	echo '}'
	printf 'add element ip bench ports { '
	for ((p = LO; p < HI; p++)); do printf 'tcp . %d : %s . %d, ' $p $TO $p; done
	echo "tcp . $HI : $TO . $HI }"
} >"$W/nft-map"

# ------------------------------------------------------------------ checks
# The 10,000-port commands do what they say (checked once, untimed).
"$NSGATE" publish svc "$LO-$HI:$LO-$HI" || fail "publish $LO-$HI:$LO-$HI"
n=$(bench_elems)
[ "$n" = $BIG ] || note "publish $LO-$HI:$LO-$HI made $n elements in ports4, not $BIG"
"$NSGATE" unpublish svc "$LO-$HI:$LO-$HI" || fail "unpublish $LO-$HI:$LO-$HI"
n=$(bench_elems)
[ "$n" = 0 ] || fail "unpublish $LO-$HI:$LO-$HI left $n elements"
"$NSGATE" publish svc "${SPECS[@]}" || fail "publish of $BIG single-port specs"
n=$(bench_elems)
[ "$n" = $BIG ] || fail "publish of $BIG single-port specs made $n elements in ports4"
"$NSGATE" unpublish svc "${SPECS[@]}" || fail "unpublish of $BIG single-port specs"
echo "publish-time: checks passed ($BIG elements in ports4 after each kind of 10,000-port publish, 0 after unpublish)" >&2

# ------------------------------------------------------------------ 10,000 at once
# One case = load then remove; the order of the cases rotates per round.
case_run() {
	local c=$1 r=$2
	case $c in
	nsgate-range)
		timed "nsgate publish $LO-$HI:$LO-$HI" "$r" "$NSGATE" publish svc "$LO-$HI:$LO-$HI"
		timed "nsgate unpublish $LO-$HI:$LO-$HI" "$r" "$NSGATE" unpublish svc "$LO-$HI:$LO-$HI" ;;
	nsgate-specs)
		timed "nsgate publish, $BIG SPEC arguments" "$r" "$NSGATE" publish svc "${SPECS[@]}"
		timed "nsgate unpublish, $BIG SPEC arguments" "$r" "$NSGATE" unpublish svc "${SPECS[@]}" ;;
	ipt-nft)
		timed_stdin "iptables-nft-restore, $BIG rules" "$r" "$W/ipt" iptables-nft-restore
		timed "iptables-nft: remove them (nft delete table ip nat)" "$r" nft delete table ip nat ;;
	ipt-legacy)
		timed_stdin "iptables-legacy-restore, $BIG rules" "$r" "$W/ipt" iptables-legacy-restore
		timed "iptables-legacy -t nat -F" "$r" iptables-legacy -t nat -F ;;
	nft-rules)
		timed "nft -f, $BIG rules" "$r" nft -f "$W/nft-rules"
		timed "nft delete table (of $BIG rules)" "$r" nft delete table ip bench ;;
	nft-map)
		timed "nft -f, 1 rule + map of $BIG elements" "$r" nft -f "$W/nft-map"
		timed "nft delete table (map of $BIG)" "$r" nft delete table ip bench ;;
	esac
}
CASES=(nsgate-range nsgate-specs ipt-nft nft-rules nft-map)
[ "$HAVE_LEGACY" = 1 ] && CASES+=(ipt-legacy)
for r in $(seq "$ROUNDS"); do
	for k in $(seq 0 $((${#CASES[@]} - 1))); do
		case_run "${CASES[$(((k + r - 1) % ${#CASES[@]}))]}" "$r"
	done
	echo "  round $r done" >&2
done

# ------------------------------------------------------------------ one port per command
# single_ports LABEL: SINGLE publish commands of one port each (ONE, ONE+1,
# ...), then SINGLE unpublish commands.
single_ports() {
	local label=$1 i
	for ((i = 0; i < SINGLE; i++)); do
		timed "nsgate publish P:P, one per command ($label)" "$i" "$NSGATE" publish svc "$((ONE + i)):$((ONE + i))"
	done
	for ((i = 0; i < SINGLE; i++)); do
		timed "nsgate unpublish P:P, one per command ($label)" "$i" "$NSGATE" unpublish svc "$((ONE + i)):$((ONE + i))"
	done
}
for ((i = 0; i < SINGLE; i++)); do timed "fork+exec /bin/true (floor)" "$i" /bin/true; done
conntrack -F >/dev/null 2>&1
single_ports "0 ports published before"
"$NSGATE" publish svc "$PRE-$((PRE + BIG - 1)):$PRE-$((PRE + BIG - 1))" || fail "publish $BIG ports"
single_ports "$BIG ports published before"
"$NSGATE" unpublish svc "$PRE-$((PRE + BIG - 1)):$PRE-$((PRE + BIG - 1))" || fail "unpublish $BIG ports"
echo "  one-port commands done" >&2

# The other tools: one more forward on top of 10,000 (CMP commands each).
nft -f "$W/nft-map" || fail "nft -f map"
for ((i = 0; i < CMP; i++)); do
	timed "nft add element (map of $BIG)" "$i" nft add element ip bench ports "{ tcp . $((ONE + i)) : $TO . 80 }"
done
nft delete table ip bench
nft -f "$W/nft-rules" || fail "nft -f rules"
for ((i = 0; i < CMP; i++)); do
	timed "nft add rule ($BIG rules)" "$i" nft add rule ip bench pre tcp dport $((ONE + i)) dnat to $TO:80
done
nft delete table ip bench
iptables-nft-restore <"$W/ipt" || fail "iptables-nft-restore"
for ((i = 0; i < CMP; i++)); do
	timed "iptables-nft -A ($BIG rules)" "$i" iptables-nft -w -t nat -A PREROUTING -p tcp --dport $((ONE + i)) -j DNAT --to-destination $TO:80
done
nft delete table ip nat
if [ "$HAVE_LEGACY" = 1 ]; then
	iptables-legacy-restore <"$W/ipt" || fail "iptables-legacy-restore"
	for ((i = 0; i < CMP; i++)); do
		timed "iptables-legacy -A ($BIG rules)" "$i" iptables-legacy -w -t nat -A PREROUTING -p tcp --dport $((ONE + i)) -j DNAT --to-destination $TO:80
	done
	iptables-legacy -t nat -F
fi

# Peak RSS of the biggest command.
rss=-
if [ -x /usr/bin/time ]; then
	rss=$({ /usr/bin/time -f %M "$NSGATE" publish svc "${SPECS[@]}" >/dev/null; } 2>&1 | tail -1)
	"$NSGATE" unpublish svc "${SPECS[@]}" >/dev/null
fi

# ------------------------------------------------------------------ report
cp "$RAW" "$OUT" 2>/dev/null || true
awk -F'\t' -v rss="$rss" '
{ if (!($1 in n)) order[++k] = $1; v[$1, ++n[$1]] = $3 }
END {
	print "| operation | runs | median ms | p90 ms | min..max ms |"
	print "|---|---|---|---|---|"
	for (i = 1; i <= k; i++) {
		w = order[i]; m = n[w]
		for (a = 1; a <= m; a++) s[a] = v[w, a] + 0
		for (a = 2; a <= m; a++) for (b = a; b > 1 && s[b - 1] > s[b]; b--) { t = s[b]; s[b] = s[b - 1]; s[b - 1] = t }
		p90 = s[m * 9 / 10 == int(m * 9 / 10) ? m * 9 / 10 : int(m * 9 / 10) + 1]
		printf "| %s | %d | %.1f | %.1f | %.1f..%.1f |\n", w, m, s[int((m + 1) / 2)], p90, s[1], s[m]
	}
	printf "\nnsgate peak RSS, publish of 10000 SPEC arguments: %s KiB\n", rss
}' "$RAW"
echo
echo "rounds=$ROUNDS single=$SINGLE cmp=$CMP; nsgate svc at $SVC"
echo "raw: $OUT (operation, round or index, ms)"
nsg down svc >/dev/null
