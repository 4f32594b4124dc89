# SPDX-License-Identifier: MIT
# test-cni.sh: nsgate-cni driven as a container runtime drives a CNI plugin
# (environment and stdin, like cnitool): ADD, CHECK, DEL, VERSION, GC,
# STATUS, published ports from runtimeConfig, and CNI error JSON.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools jq socat
CNI=${NSGATE_CNI:-$(dirname "$NSGATE")/nsgate-cni}
[ -x "$CNI" ] || fail "nsgate-cni binary $CNI is missing (set NSGATE_CNI)"

start_server_in inet "$SERVER_PORT"

# conf VERSION [EXTRA] : a network configuration, EXTRA (JSON) merged in.
conf() {
	jq -cn --arg v "$1" --argjson x "${2:-"{}"}" '{cniVersion: $v, name: "labnet", type: "nsgate"} + $x'
}
# cni CMD ID NETNS IFNAME CONFIG : one plugin run, as a runtime makes it.
cni() {
	CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=$4 CNI_PATH=/usr/lib/cni \
		timeout -k 2 30 "$CNI" <<<"$5"
}
# cni_fails CODE CMD ID NETNS IFNAME CONFIG : exits non-zero with a CNI error
# of that code on stdout (and a line on stderr).
cni_fails() {
	local code=$1 out rc
	shift
	out=$(cni "$@" 2>"$LAB_TMP/cni.err")
	rc=$?
	[ "$rc" != 0 ] || fail "nsgate-cni $1 should fail (code $code), exited 0: $out"
	jq -e --argjson c "$code" '.code == $c and (.msg | type == "string" and length > 0) and
		(.cniVersion | type == "string")' >/dev/null <<<"$out" ||
		fail "nsgate-cni $1: expected CNI error code $code, got: $out (stderr: $(cat "$LAB_TMP/cni.err"))"
	[ -s "$LAB_TMP/cni.err" ] || fail "nsgate-cni $1: no line on stderr for the error"
	LAST_OUT=$out
}
mac_of() { ip "${@:2}" -j link show "$1" | jq -r '.[0].address'; }
cni_names() { nsg list --json | jq -r '.[].name | select(startswith("cni-"))' | sort; }
netns_gone() { ! ip netns list | grep -qw "$1"; }

PORTS='{"capabilities": {"portMappings": true}, "runtimeConfig": {"portMappings": [
	{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": ""},
	{"hostPort": 9001, "containerPort": 9001, "protocol": "tcp"},
	{"hostPort": 9000, "containerPort": 9000, "protocol": "tcp"},
	{"hostPort": 9002, "containerPort": 9002, "protocol": "tcp"}]}}'

# ADD: the result as the spec has it, the kernel as the result says, the
# container on the internet and its published ports answering from it.
add_check_del() {
	local res name host_if prev
	must ip netns add c1
	expect_exit 0 cni ADD ctr1 /run/netns/c1 eth1 "$(conf 1.1.0 "$PORTS")"
	res=$LAST_OUT
	name=$(cni_names)
	[ "$(wc -w <<<"$name")" = 1 ] || fail "nsgate list: expected one cni- gateway, got '$name'"
	host_if=$(jq -r '.interfaces[0].name' <<<"$res")
	assert_json "$res" '.cniVersion == "1.1.0" and (.interfaces | length) == 2' "result: interfaces"
	assert_json "$res" '.interfaces[1].name == "eth1" and .interfaces[1].sandbox == "/run/netns/c1"' \
		"result: the container side is CNI_IFNAME in CNI_NETNS"
	assert_json "$res" '.interfaces[0].sandbox == null' "result: the host side has no sandbox"
	[ "$(jq -r '.interfaces[1].mac' <<<"$res")" = "$(mac_of eth1 -n c1)" ] ||
		fail "result: container mac is not eth1's in c1: $res"
	[ "$(jq -r '.interfaces[0].mac' <<<"$res")" = "$(mac_of "$host_if")" ] ||
		fail "result: host mac is not $host_if's: $res"
	assert_json "$res" '(.ips | length) == 1 and .ips[0].interface == 1 and .ips[0].version == null and
		(.ips[0].address | endswith("/30")) and (.ips[0].gateway | type == "string")' "result: ips"
	assert_json "$res" '.routes == [{"dst": "0.0.0.0/0", "gw": .ips[0].gateway}]' "result: routes"
	ip -n c1 -o addr show dev eth1 | grep -qF "inet $(jq -r '.ips[0].address' <<<"$res") " ||
		fail "eth1 in c1 lacks the result's address: $(ip -n c1 -o addr show dev eth1)"
	[ "$(ip -n c1 route show default | awk '{print $3 " " $5}')" = "$(jq -r '.ips[0].gateway' <<<"$res") eth1" ] ||
		fail "c1's default route is not via the result's gateway: $(ip -n c1 route show default)"
	expect_internet ip netns exec c1
	start_tagged_server_in c1 tcp 80 ctr1
	expect_answer tcp "$UPLINK_ADDR" 8080 "ctr1 $INET_ADDR" ip netns exec inet
	start_tagged_server_in c1 tcp 9001 r9001
	expect_answer tcp "$UPLINK_ADDR" 9001 "r9001 $INET_ADDR" ip netns exec inet
	# gc keeps a live attachment as any gateway.
	expect_exit 0 nsg gc
	gw_is_up "$name" || fail "nsgate gc removed the live attachment $name"
	# Podman's one entry per port came in as one range.
	nsg show "$name" --json | jq -e '[.published[] | "\(.host_port)-\(.host_end):\(.port)-\(.end)"] | sort == ["8080-8080:80-80", "9000-9002:9000-9002"]' >/dev/null ||
		fail "show $name: published ports are not 8080, 9000-9002: $(nsg show "$name" --json)"
	pass "ADD: result (interfaces with mac and sandbox, ips, routes) matches the kernel; gc keeps it; inet reached masqueraded, 8080 and the collapsed 9000-9002 answer from inet"

	# CHECK against the result just made, then against a broken attachment.
	prev=$(conf 1.1.0 "$(jq -c --argjson p "$res" '. + {prevResult: $p}' <<<"$PORTS")")
	expect_exit 0 cni CHECK ctr1 /run/netns/c1 eth1 "$prev"
	[ -z "$LAST_OUT" ] || fail "CHECK printed something: $LAST_OUT"
	cni_fails 7 CHECK ctr1 /run/netns/c1 eth1 "$(conf 1.1.0 "$PORTS")"
	must ip -n c1 link set eth1 address 02:00:00:00:00:42
	cni_fails 103 CHECK ctr1 /run/netns/c1 eth1 "$prev"
	must ip -n c1 link del eth1
	cni_fails 103 CHECK ctr1 /run/netns/c1 eth1 "$prev"
	pass "CHECK: ok against prevResult; fails without prevResult, with another mac, with the link gone"

	expect_exit 0 cni DEL ctr1 /run/netns/c1 eth1 "$prev"
	assert_gone "$name"
	expect_exit 0 cni DEL ctr1 /run/netns/c1 eth1 "$prev"
	must ip netns del c1
	assert_no_residue "$name"
	pass "DEL: removes everything; a second DEL succeeds"
}

# DEL once the namespace is gone (and without CNI_NETNS, as 1.1 allows).
del_netns_gone() {
	local name
	must ip netns add c2
	expect_exit 0 cni ADD ctr2 /run/netns/c2 eth0 "$(conf 1.0.0)"
	name=$(cni_names)
	must ip netns del c2
	wait_for netns_gone c2 || fail "netns c2 not gone"
	expect_exit 0 cni DEL ctr2 /run/netns/c2 eth0 "$(conf 1.0.0)"
	assert_no_residue "$name"
	# Or gc removes it first (its namespace is gone), and DEL still succeeds.
	must ip netns add c2
	expect_exit 0 cni ADD ctr2 /run/netns/c2 eth0 "$(conf 1.0.0)"
	must ip netns del c2
	wait_for netns_gone c2 || fail "netns c2 not gone"
	expect_exit 0 nsg gc
	[ -z "$(cni_names)" ] || fail "gc left the attachment of a deleted namespace: $(cni_names)"
	expect_exit 0 cni DEL ctr2 /run/netns/c2 eth0 "$(conf 1.0.0)"
	assert_no_residue "$name"
	expect_exit 0 cni DEL ctr2 "" eth0 "$(conf 1.0.0)"
	pass "DEL after the namespace is gone (or gc removed it), and without CNI_NETNS, succeeds and leaves nothing"
}

# 0.4.0: ips carry "version".
version_040() {
	local name
	must ip netns add c3
	expect_exit 0 cni ADD ctr3 /run/netns/c3 eth0 "$(conf 0.4.0 '{"subnetPool": "10.99.7.0/24"}')"
	assert_json "$LAST_OUT" '.cniVersion == "0.4.0" and .ips[0].version == "4"' "0.4.0 result"
	subnets_overlap "$(jq -r '.ips[0].address' <<<"$LAST_OUT")" 10.99.7.0/24 ||
		fail "subnetPool 10.99.7.0/24: got $(jq -r '.ips[0].address' <<<"$LAST_OUT")"
	name=$(cni_names)
	expect_exit 0 cni DEL ctr3 /run/netns/c3 eth0 "$(conf 0.4.0)"
	must ip netns del c3
	assert_no_residue "$name"
	pass "cniVersion 0.4.0: the result's ips carry version 4; the /30 is from subnetPool"
}

version_status() {
	expect_exit 0 cni VERSION "" "" "" '{"cniVersion": "1.1.0"}'
	assert_json "$LAST_OUT" '.supportedVersions == ["0.4.0", "1.0.0", "1.1.0"]' "VERSION"
	expect_exit 0 cni STATUS "" "" "" "$(conf 1.1.0)"
	[ -z "$LAST_OUT" ] || fail "STATUS printed something: $LAST_OUT"
	pass "VERSION lists 0.4.0, 1.0.0, 1.1.0; STATUS succeeds"
}

# GC keeps cni.dev/valid-attachments and removes this network's others;
# another network's attachments and CLI gateways are not its business.
gc() {
	local keep drop other
	must ip netns add ga
	must ip netns add gb
	must ip netns add gc
	expect_exit 0 cni ADD ctrA /run/netns/ga eth0 "$(conf 1.1.0)"
	keep=$(cni_names)
	expect_exit 0 cni ADD ctrB /run/netns/gb eth0 "$(conf 1.1.0)"
	drop=$(comm -13 <(echo "$keep") <(cni_names))
	expect_exit 0 cni ADD ctrC /run/netns/gc eth0 "$(conf 1.1.0 '{"name": "othernet"}')"
	other=$(comm -13 <(printf '%s\n' "$keep" "$drop" | sort) <(cni_names))
	up_ok web
	expect_exit 0 cni GC "" "" "" "$(conf 1.1.0 '{"cni.dev/valid-attachments": [{"containerID": "ctrA", "ifname": "eth0"}]}')"
	[ "$(cni_names)" = "$(printf '%s\n' "$keep" "$other" | sort)" ] ||
		fail "GC: expected $keep and $other left, got $(cni_names)"
	gw_is_up web || fail "GC removed the CLI's gateway web"
	assert_gone "$drop"
	expect_exit 0 cni DEL ctrA /run/netns/ga eth0 "$(conf 1.1.0)"
	expect_exit 0 cni DEL ctrC /run/netns/gc eth0 "$(conf 1.1.0 '{"name": "othernet"}')"
	down_ok web
	must ip netns del ga
	must ip netns del gb
	must ip netns del gc
	assert_no_residue "$keep" "$drop" "$other" web
	pass "GC removes this network's attachments not in cni.dev/valid-attachments, and nothing else"
}

# Bad input: CNI error JSON with the spec's code, non-zero exit, nothing made.
bad_input() {
	must ip netns add c4
	cni_fails 6 ADD ctr4 /run/netns/c4 eth0 '{"cniVersion": "1.0.0", "name": "labnet",}'
	cni_fails 1 ADD ctr4 /run/netns/c4 eth0 "$(conf 0.3.1)"
	cni_fails 2 ADD ctr4 /run/netns/c4 eth0 "$(conf 1.0.0 '{"subnetpool": "10.9.0.0/16"}')"
	cni_fails 7 ADD ctr4 /run/netns/c4 eth0 "$(conf 1.0.0 '{"subnetPool": "10.9.0.1/16"}')"
	cni_fails 7 ADD ctr4 /run/netns/c4 eth0 "$(conf 1.0.0 '{"runtimeConfig": {"portMappings": [{"hostPort": 70000, "containerPort": 80}]}}')"
	cni_fails 4 ADD ctr4 "" eth0 "$(conf 1.0.0)"
	cni_fails 4 ADD "bad/id" /run/netns/c4 eth0 "$(conf 1.0.0)"
	cni_fails 4 BOGUS ctr4 /run/netns/c4 eth0 "$(conf 1.0.0)"
	CNI_ARGS="K8S_POD_NAME=x" cni_fails 4 ADD ctr4 /run/netns/c4 eth0 "$(conf 1.0.0)"
	cni_fails 3 ADD ctr4 /run/netns/nonexistent eth0 "$(conf 1.0.0)"
	[ -z "$(cni_names)" ] || fail "a failed ADD left $(cni_names)"
	assert_no_residue
	pass "bad input: CNI error JSON (codes 6, 1, 2, 7, 4, 3) and a non-zero exit, nothing left"

	# IgnoreUnknown lets unknown CNI_ARGS through; a taken port is refused
	# and rolled back.
	must ip netns add c5
	CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=x" expect_exit 0 cni ADD ctr4 /run/netns/c4 eth0 \
		"$(conf 1.0.0 '{"runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80}]}}')"
	local name
	name=$(cni_names)
	cni_fails 100 ADD ctr5 /run/netns/c5 eth0 \
		"$(conf 1.0.0 '{"runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 81}]}}')"
	[ "$(cni_names)" = "$name" ] || fail "the refused ADD left a gateway: $(cni_names)"
	expect_exit 0 cni DEL ctr4 /run/netns/c4 eth0 "$(conf 1.0.0)"
	must ip netns del c4
	must ip netns del c5
	assert_no_residue "$name"
	pass "CNI_ARGS with IgnoreUnknown=1 accepted; a port another attachment publishes is refused (code 100), nothing left"
}

# The CLI refuses the plugin's prefix for its own gateways.
cli_prefix() {
	expect_exit 2 nsg up cni-mine
	assert_error_line
	grep -qF 'reserved for nsgate-cni' <<<"$LAST_ERR" || fail "up cni-mine: unclear error: $LAST_ERR"
	assert_no_residue cni-mine
	pass "nsgate up refuses names with the cni- prefix"
}

# "network": containers on one shared network (a bridge), each reaching inet;
# nothing is left once both are deleted (and the network removed).
shared_network() {
	local net='{"network": "cninet"}' a b names
	must ip netns add n1
	must ip netns add n2
	expect_exit 0 cni ADD nA /run/netns/n1 eth0 "$(conf 1.1.0 "$net")"
	a=$(jq -r '.ips[0].address' <<<"$LAST_OUT")
	expect_exit 0 cni ADD nB /run/netns/n2 eth0 "$(conf 1.1.0 "$net")"
	b=$(jq -r '.ips[0].address' <<<"$LAST_OUT")
	[ "${a#*/}" = "${b#*/}" ] && subnets_overlap "$a" "$b" && [ "$a" != "$b" ] ||
		fail "network members got $a and $b, not two addresses of one subnet"
	[ "$(ip -n n1 -o addr show dev eth0 | awk '/inet /{print $4}')" = "$a" ] ||
		fail "n1's eth0 lacks $a: $(ip -n n1 -o addr show dev eth0)"
	assert_json "$LAST_OUT" '.interfaces[0].mac != null and .interfaces[1].sandbox == "/run/netns/n2"' \
		"member result interfaces"
	expect_internet ip netns exec n1
	expect_internet ip netns exec n2
	names=$(cni_names)
	expect_exit 0 cni DEL nA /run/netns/n1 eth0 "$(conf 1.1.0 "$net")"
	expect_exit 0 cni DEL nB /run/netns/n2 eth0 "$(conf 1.1.0 "$net")"
	must ip netns del n1
	must ip netns del n2
	[ -z "$(nsg network list --json | jq -r '.[].name')" ] || must nsg network rm cninet
	# shellcheck disable=SC2086
	assert_no_residue $names
	pass "\"network\": two containers on one shared network, both reach inet; nothing left"
}

# Runtimes start containers in parallel: ten ADDs at once all succeed, on
# distinct subnets, each with its port; ten DELs at once leave nothing.
parallel() {
	local i pids=() names subnets
	for i in $(seq 10); do must ip netns add "p$i"; done
	for i in $(seq 10); do
		cni ADD "par$i" "/run/netns/p$i" eth0 "$(conf 1.1.0 "{\"runtimeConfig\": {\"portMappings\":
			[{\"hostPort\": $((8100 + i)), \"containerPort\": 80}]}}")" >"$LAB_TMP/par$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail "parallel ADD $((i + 1)) failed: $(cat "$LAB_TMP/par$((i + 1)).out")"
	done
	names=$(cni_names)
	[ "$(wc -l <<<"$names")" = 10 ] || fail "parallel ADDs: expected 10 gateways, got: $names"
	subnets=$(cat "$LAB_TMP"/par*.out | jq -r '.ips[0].address' | sort -u | wc -l)
	[ "$subnets" = 10 ] || fail "parallel ADDs: $subnets distinct addresses, expected 10"
	start_tagged_server_in p7 tcp 80 par7
	expect_answer tcp "$UPLINK_ADDR" 8107 "par7 $INET_ADDR" ip netns exec inet
	pids=()
	for i in $(seq 10); do
		cni DEL "par$i" "/run/netns/p$i" eth0 "$(conf 1.1.0)" >"$LAB_TMP/par$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail "parallel DEL $((i + 1)) failed: $(cat "$LAB_TMP/par$((i + 1)).out")"
	done
	for i in $(seq 10); do must ip netns del "p$i"; done
	# shellcheck disable=SC2086
	assert_no_residue $names
	pass "ten ADDs at once: ten gateways on distinct subnets, a port answers; ten DELs at once leave nothing"
}

# "ipv6": "on" on a dual-stack lab: a second address (the gateway's /64) and
# an IPv6 default route in the result, NAT66 out, the port published on both
# families. Last: lab_ipv6 makes the whole lab dual-stack.
dual_stack() {
	local res name v6
	lab_ipv6
	start_server6_in inet "$SERVER6_PORT"
	must ip netns add d1
	expect_exit 0 cni ADD ctr6 /run/netns/d1 eth0 "$(conf 1.1.0 '{"ipv6": "on", "runtimeConfig":
		{"portMappings": [{"hostPort": 8443, "containerPort": 80, "hostIP": "::"}]}}')"
	res=$LAST_OUT
	name=$(cni_names)
	assert_json "$res" '(.ips | length) == 2 and (.ips | map(.interface) == [1, 1]) and
		(.ips[1].address | test(":.*/64$")) and (.ips[1].gateway | test(":"))' "dual-stack ips"
	assert_json "$res" '.routes | map(.dst) == ["0.0.0.0/0", "::/0"]' "dual-stack routes"
	v6=$(jq -r '.ips[1].address' <<<"$res")
	ip -n d1 -6 -o addr show dev eth0 | grep -qF "inet6 $v6 " ||
		fail "d1's eth0 lacks $v6: $(ip -n d1 -6 -o addr show dev eth0)"
	expect_internet ip netns exec d1
	expect_internet6 ip netns exec d1
	start_tagged_server_in d1 tcp 80 d1v4
	expect_answer tcp "$UPLINK_ADDR" 8443 "d1v4 $INET_ADDR" ip netns exec inet
	start_tagged_server6_in d1 tcp 80 d1v6
	expect_answer6 tcp "$UPLINK6_ADDR" 8443 "d1v6 $INET6_ADDR" ip netns exec inet
	expect_exit 0 cni CHECK ctr6 /run/netns/d1 eth0 "$(conf 1.1.0 "$(jq -cn --argjson p "$res" '{ipv6: "on", prevResult: $p}')")"
	cni_fails 7 CHECK ctr6 /run/netns/d1 eth0 "$(conf 1.1.0 "$(jq -cn --argjson p "$res" '{ipv6: "on", prevResult: ($p | .ips |= .[:1])}')")"
	expect_exit 0 cni DEL ctr6 /run/netns/d1 eth0 "$(conf 1.1.0 '{"ipv6": "on"}')"
	must ip netns del d1
	assert_no_residue "$name"
	pass "\"ipv6\": \"on\": dual-stack result (ips, ::/0), inet reached over both families, the port answers on both, CHECK wants both addresses"
}

# nsgate watch keeps attachments as any gateway: a flushed table comes back
# (the published port answers again), and an attachment whose namespace died
# is removed; DEL after that still succeeds.
watched() {
	local name wlog=$LAB_TMP/watch.log watch_pid
	must ip netns add w1
	expect_exit 0 cni ADD ctrW /run/netns/w1 eth0 "$(conf 1.1.0 '{"runtimeConfig":
		{"portMappings": [{"hostPort": 8200, "containerPort": 80}]}}')"
	name=$(cni_names)
	start_nsgate_bg "$wlog" watch
	watch_pid=$BG_PID
	wait_for grep -q listening "$wlog" || fail "watch never listened: $(cat "$wlog")"
	start_tagged_server_in w1 tcp 80 w1
	must nft flush table inet nsgate
	wait_for gw_is_up "$name" || fail "watch did not restore $name: $(cat "$wlog")"
	expect_answer tcp "$UPLINK_ADDR" 8200 "w1 $INET_ADDR" ip netns exec inet
	# The server holds the namespace: without it, deleting the name ends it.
	# shellcheck disable=SC2046
	kill $(ip netns pids w1)
	wait_for ns_empty w1 || fail "the server in w1 did not end: $(ip netns pids w1)"
	must ip netns del w1
	# The kernel ends a namespace asynchronously (cleanup_net): a bound wait.
	WAIT_TRIES=1000 wait_for assert_gone_quiet "$name" ||
		fail "watch did not remove $name after its namespace died: $(cat "$wlog")"
	kill -TERM "$watch_pid"
	wait_exit "$watch_pid" 5 || fail "watch did not end on SIGTERM"
	expect_exit 0 cni DEL ctrW /run/netns/w1 eth0 "$(conf 1.1.0)"
	assert_no_residue "$name"
	note "watch: $(tr '\n' ' ' <"$wlog")"
	pass "watch restores a flushed attachment (its port answers) and removes one whose namespace died; DEL after succeeds"
}
ns_empty() { [ -z "$(ip netns pids "$1")" ]; }
assert_gone_quiet() { [ ! -e "/run/nsgate/$1.state" ] && ! ip -o link show | grep -q ': nsg-'; }

add_check_del
watched
parallel
shared_network
del_netns_gone
version_040
version_status
gc
bad_input
cli_prefix
dual_stack
