# SPDX-License-Identifier: MIT
# test-concurrency.sh: 20 concurrent ups, then a concurrent mix of up, down
# and publish, end consistent: distinct subnets, every gateway working, no
# lost or duplicated element.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# The kernel's gateway interfaces (ifaces set comments) and list --json agree.
consistent() {
	local want=$1 listed kernel
	expect_exit 0 nsg list --json
	listed=$(jq -r '.[] | select(.status == "up") | .name' <<<"$LAST_OUT" | sort)
	[ "$(jq length <<<"$LAST_OUT")" = "$want" ] || fail "list has $(jq length <<<"$LAST_OUT") gateways, expected $want"
	[ "$(wc -l <<<"$listed")" = "$want" ] || fail "not all $want gateways are up: $LAST_OUT"
	kernel=$(nft -j list set inet nsgate ifaces | jq -r '.nftables[] | .set? // empty | .elem[]? | .elem.comment' | sort)
	[ "$kernel" = "$listed" ] || fail "ifaces set comments differ from list: kernel='$kernel' list='$listed'"
	jq -r '.[].subnet' <<<"$LAST_OUT" | sort | uniq -d | grep -q . && fail "two gateways share a subnet: $LAST_OUT"
	return 0
}

twenty_ups() {
	local i pids=()
	for i in $(seq 20); do nsg up "g$i" >/dev/null 2>"$LAB_TMP/up$i.err" & pids+=($!); done
	for i in "${!pids[@]}"; do wait "${pids[$i]}" || fail "up g$((i + 1)) failed: $(cat "$LAB_TMP/up$((i + 1)).err")"; done
	consistent 20
	for i in 1 7 13 20; do expect_internet run_in_gw "g$i"; done
	pass "20 concurrent ups: 20 gateways up, distinct subnets, kernel and list agree, traffic works"
}

mixed() {
	local i pids=()
	for i in $(seq 1 5); do nsg down "g$i" & pids+=($!); done
	for i in $(seq 6 10); do nsg publish "g$i" "$((9000 + i)):80" >/dev/null & pids+=($!); done
	for i in $(seq 21 25); do nsg up "g$i" >/dev/null & pids+=($!); done
	for pid in "${pids[@]}"; do wait "$pid" || fail "a command of the concurrent mix failed"; done
	consistent 20
	[ "$(nft_map_elems ports4)" = 5 ] || fail "ports4 holds $(nft_map_elems ports4) elements, expected 5"
	for i in $(seq 1 5); do assert_gone "g$i"; done
	expect_internet run_in_gw g25
	pass "a concurrent mix of 5 downs, 5 publishes and 5 ups ends consistent"
}

twenty_ups
mixed
down_ok --all
assert_no_residue
pass "down --all: nothing left"
