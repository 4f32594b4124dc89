# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/cni.sh), with lib.sh. Plugins
# run directly (no timeout(1) wrapper, whose own exec would be timed);
# bench/cni.sh bounds the whole lab instead.

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

# with_ports CONF I: CONF with container I's one published port.
with_ports() {
	jq -c --argjson p $((20000 + $2)) '. + {runtimeConfig: {portMappings: [{hostPort: $p,
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

# pct IMPL OP P: the P-th percentile (µs) of IMPL's OP over every round.
pct() {
	awk -F'\t' -v i="$1" -v o="$2" '$1 == i && $2 == o { print $5 }' "$OUT" | sort -n |
		awk -v p="$3" '{ v[NR] = $1 } END { k = int(NR * p / 100 + 0.999); if (k < 1) k = 1; print v[k] }'
}
echo "# nsgate-cni vs ptp+portmap ($CNI_DIR), $COUNT containers x $ROUNDS rounds, one port each"
echo "raw: $OUT"
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
