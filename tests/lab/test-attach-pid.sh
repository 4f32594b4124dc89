# SPDX-License-Identifier: MIT
# test-attach-pid.sh: --netns attaches a gateway to a namespace nsgate did not
# create (a PID's, an `ip netns` name, a path); down leaves that namespace.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces):
# the holder processes die with the lab.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# start_holder : a process holding an unnamed network namespace, in $HOLDER.
start_holder() {
	unshare -n sleep 60 &
	HOLDER=$!
	wait_for holder_unshared || fail "holder $HOLDER never entered its own netns"
}
holder_unshared() {
	[ "$(readlink "/proc/$HOLDER/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}

# only_lo PREFIX... : the namespace reached through PREFIX has lo and nothing else.
only_lo() {
	local links
	links=$("$@" ip -o link show) || fail "'$* ip -o link show' failed"
	[ "$(grep -c '' <<<"$links")" = 1 ] && grep -q ': lo: ' <<<"$links" ||
		fail "expected only lo via '$*', found: $links"
}

# check_attached NAME PREFIX... : eth0 has the gateway's namespace address, the
# default route points at the host side, and the internet works from there.
check_attached() {
	local name=$1 ns_addr host_addr
	shift
	gw_json "$name"
	ns_addr=$(gw_field "$name" ns_addr)
	host_addr=$(gw_field "$name" host_addr)
	case $ns_addr in 10.200.*) ;; *) fail "$name: ns_addr $ns_addr is not in 10.200.0.0/16" ;; esac
	assert_json "$GW_JSON" '.netns_created == false' "$name: netns_created of an attached namespace"
	"$@" ip -o -4 addr show dev eth0 | grep -q " $ns_addr/" ||
		fail "$name: eth0 via '$*' lacks $ns_addr: $("$@" ip -o -4 addr show 2>&1)"
	"$@" ip route show default | grep -q "^default via $host_addr dev eth0" ||
		fail "$name: no default route via $host_addr: $("$@" ip route show 2>&1)"
	expect_internet "$@"
}

# By PID: the gateway lives in the holder's namespace; down removes the veth
# but the process and its namespace survive, with only lo left.
attach_by_pid() {
	start_holder
	up_ok held --netns "$HOLDER"
	check_attached held nsenter -t "$HOLDER" -n
	down_ok held
	kill -0 "$HOLDER" 2>/dev/null || fail "down killed the holder process $HOLDER"
	only_lo nsenter -t "$HOLDER" -n
	assert_no_residue held
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null
	pass "--netns PID: works through the holder's namespace; down leaves it alive with only lo"
}

# By `ip netns` name and by path: down leaves /run/netns/other in place.
attach_by_name_and_path() {
	must ip netns add other
	up_ok o --netns other
	check_attached o ip netns exec other
	down_ok o
	[ -e /run/netns/other ] || fail "down o deleted /run/netns/other, which nsgate did not create"
	only_lo ip netns exec other
	assert_no_residue o
	pass "--netns other (ip netns name): down leaves /run/netns/other with only lo"

	up_ok p --netns /run/netns/other
	check_attached p ip netns exec other
	down_ok p
	[ -e /run/netns/other ] || fail "down p deleted /run/netns/other"
	only_lo ip netns exec other
	assert_no_residue p
	must ip netns del other
	pass "--netns /run/netns/other (path): down leaves the namespace with only lo"
}

# The holder dies while attached (its namespace, and so eth0 and the veth,
# vanish): show reports the gateway broken, and down still cleans up.
holder_dies() {
	start_holder
	up_ok held --netns "$HOLDER"
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null
	WAIT_TRIES=1000 wait_for link_gone nsg-held || fail "nsg-held did not disappear with the namespace"
	local shown status
	shown=$(nsg show held --json 2>/dev/null)
	status=$(jq -r '.status | strings' 2>/dev/null <<<"$shown")
	[ -n "$status" ] && [ "$status" != up ] ||
		fail "show held --json after its namespace died should say a status other than up: $shown"
	down_ok held
	assert_no_residue held
	pass "holder process died: show says '$status', down cleans the rest"
}
link_gone() { ! ip link show "$1" >/dev/null 2>&1; }

attach_by_pid
attach_by_name_and_path
holder_dies
