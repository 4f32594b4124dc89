# SPDX-License-Identifier: MIT
# test-lifecycle-concurrency.sh: nsgate commands run at the same time (the
# lock serialises them) end consistent: 20 concurrent `up`s give 20 gateways,
# all up, with distinct non-overlapping subnets, each reaching inet, and
# exactly 20 interface elements; a concurrent mix of down, publish and up
# leaves `list --json`, the kernel's elements and the state files in
# agreement (nothing duplicated, lost or stale); concurrent `up`s of one name
# make one gateway; `down --all` leaves nothing.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# spawn LOG ARGS... : nsgate ARGS in the background (bounded), pid appended
# to $PIDS and its log to $LOGS.
spawn() {
	local log=$1
	shift
	nsg "$@" >"$log" 2>&1 &
	PIDS+=("$!")
	LOGS+=("$log:$*")
}
# reap WHAT : wait for every spawned command; fail on any non-zero status.
reap() {
	local i rc bad=
	for i in "${!PIDS[@]}"; do
		wait "${PIDS[$i]}"
		rc=$?
		[ "$rc" = 0 ] || bad+="  '${LOGS[$i]#*:}' exited $rc: $(cat "${LOGS[$i]%%:*}")"$'\n'
	done
	PIDS=()
	LOGS=()
	[ -z "$bad" ] || fail "$1: some commands failed:
$bad"
}
PIDS=()
LOGS=()

# expect_gateways FIRST LAST : list --json names exactly gFIRST..gLAST, all up,
# subnets distinct and pairwise disjoint, kernel elements = list --json.
expect_gateways() {
	local first=$1 last=$2 json want subnets i j n
	json=$(nsg list --json) || fail "list --json failed"
	want=$(for i in $(seq "$first" "$last"); do echo "g$i"; done | sort)
	[ "$(jq -r '.[].name' <<<"$json" | sort)" = "$want" ] ||
		fail "list --json names: $(jq -r '.[].name' <<<"$json" | sort | tr '\n' ' '), expected g$first..g$last"
	assert_json "$json" 'all(.[]; .status == "up")' "every gateway up"
	mapfile -t subnets < <(jq -r '.[].subnet' <<<"$json")
	n=${#subnets[@]}
	[ "$n" = $((last - first + 1)) ] || fail "list --json has $n subnets"
	for ((i = 0; i < n; i++)); do
		subnets_overlap "${subnets[$i]}" 198.51.100.0/24 && fail "subnet ${subnets[$i]} overlaps the uplink"
		for ((j = i + 1; j < n; j++)); do
			subnets_overlap "${subnets[$i]}" "${subnets[$j]}" &&
				fail "subnets ${subnets[$i]} and ${subnets[$j]} overlap"
		done
	done
	[ "$(nft_elements | awk -F '\t' '$1 == "ifaces"' | grep -c '')" = "$n" ] ||
		fail "set ifaces holds $(nft_elements | awk -F '\t' '$1 == "ifaces"' | grep -c '') elements, expected $n"
	[ "$(ip -o link show | grep -c ': nsg-')" = "$n" ] || fail "$(ip -o link show | grep -c ': nsg-') nsg-* links, expected $n"
	local states=(/run/nsgate/*.state)
	[ "${#states[@]}" = "$n" ] || fail "${#states[@]} state files, expected $n: ${states[*]}"
	assert_kernel_matches_list
}

# 1. 20 concurrent ups.
twenty_ups() {
	local i t0
	t0=$(date +%s%N)
	for i in $(seq 1 20); do spawn "$LAB_TMP/up-$i.log" up "g$i"; done
	reap "20 concurrent ups"
	note "20 concurrent ups took $((($(date +%s%N) - t0) / 1000000)) ms"
	expect_gateways 1 20
	for i in $(seq 1 20); do expect_internet run_in_gw "g$i"; done
	pass "20 concurrent ups: 20 gateways up, 20 disjoint subnets, 20 ifaces elements, list = kernel, all 20 reach inet"
}

# 2. Concurrently: down g1..g10, publish 90NN:80 on g11..g20, up g21..g30
# each with 90NN:80.
mix() {
	local i t0 json want got
	t0=$(date +%s%N)
	for i in $(seq 1 10); do
		spawn "$LAB_TMP/down-$i.log" down "g$i"
		spawn "$LAB_TMP/pub-$((i + 10)).log" publish "g$((i + 10))" "$((9000 + i + 10)):80"
		spawn "$LAB_TMP/up-$((i + 20)).log" up "g$((i + 20))" --publish "$((9000 + i + 20)):80"
	done
	reap "the concurrent mix"
	note "30 concurrent down/publish/up took $((($(date +%s%N) - t0) / 1000000)) ms"
	expect_gateways 11 30
	for i in $(seq 1 10); do assert_gone "g$i"; done
	# Exactly one published port per gateway, the one the test asked for.
	json=$(nsg list --json)
	want=$(for i in $(seq 11 30); do echo "g$i tcp $((9000 + i)) 80 $(jq -r --arg n "g$i" '.[] | select(.name == $n) | .ns_addr' <<<"$json")"; done | sort)
	got=$(jq -r '.[] | .name as $n | .published[] | "\($n) \(.proto) \(.host_port) \(.port) \(.to)"' <<<"$json" | sort)
	[ "$got" = "$want" ] || fail "published ports after the mix:
$(diff <(echo "$want") <(echo "$got") | sed 's/^/    /')"
	got=$(nft_elements | awk -F '\t' '$1 == "ports4"' | grep -c '')
	[ "$got" = 20 ] || fail "map ports4 holds $got elements, expected 20"
	for i in $(seq 11 30); do
		[ "$(cat "/run/nsgate/g$i.ports" 2>/dev/null)" = "$((9000 + i)):80/tcp" ] ||
			fail "/run/nsgate/g$i.ports holds '$(cat "/run/nsgate/g$i.ports" 2>&1)', expected $((9000 + i)):80/tcp"
	done
	start_tagged_server_in g15 tcp 80 g15
	start_tagged_server_in g25 tcp 80 g25
	expect_answer tcp "$UPLINK_ADDR" 9015 "g15 $INET_ADDR" ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 9025 "g25 $INET_ADDR" ip netns exec inet
	expect_internet run_in_gw g11
	expect_internet run_in_gw g30
	pass "concurrent mix (10 down, 10 publish, 10 up --publish): 20 gateways, list --json = kernel elements = state/ports files; 9015 and 9025 answer"
}

# 3. Five concurrent ups of one name: one gateway, the others fail or find it up.
same_name() {
	local i ok=0 rc
	for i in $(seq 1 5); do
		nsg up dup >"$LAB_TMP/dup-$i.log" 2>&1 &
		PIDS+=("$!")
	done
	for i in "${!PIDS[@]}"; do
		wait "${PIDS[$i]}"
		rc=$?
		case $rc in
		0) ok=$((ok + 1)) ;;
		1 | 2) ;;
		*) fail "concurrent 'up dup' exited $rc: $(cat "$LAB_TMP/dup-$((i + 1)).log")" ;;
		esac
	done
	PIDS=()
	[ "$ok" -ge 1 ] || fail "none of 5 concurrent 'up dup' succeeded: $(cat "$LAB_TMP"/dup-*.log)"
	gw_is_up dup || fail "dup is not up after 5 concurrent ups"
	[ "$(ip -o link show | grep -c ': nsg-dup[@:]')" = 1 ] || fail "more than one nsg-dup link"
	[ "$(nft_elements | awk -F '\t' '$2 == "dup" && $1 == "ifaces"' | grep -c '')" = 1 ] ||
		fail "ifaces holds $(nft_elements | awk -F '\t' '$2 == "dup" && $1 == "ifaces"' | grep -c '') elements for dup"
	assert_kernel_matches_list
	expect_internet run_in_gw dup
	note "5 concurrent 'up dup': $ok exited 0; outputs: $(cat "$LAB_TMP"/dup-*.log | sort | uniq -c | tr '\n' ';')"
	pass "5 concurrent ups of one name: one gateway dup, one link, one ifaces element"
}

twenty_ups
mix
same_name
expect_exit 0 nsg down --all
mapfile -t ALL < <(for i in $(seq 1 30); do echo "g$i"; done)
assert_no_residue "${ALL[@]}" dup
pass "down --all after the concurrent runs: nothing left"
