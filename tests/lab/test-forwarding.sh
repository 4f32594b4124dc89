# SPDX-License-Identifier: MIT
# test-forwarding.sh: nsgate turns IPv4 forwarding on per interface (the
# gateway's veth, and the uplink while the global switch is off), never the
# global switch; the guard keeps the host from routing anything else that
# arrives on the uplink; down puts back only what nsgate turned on, and
# nothing another tool (docker) turned on meanwhile.
# Runs inside lab.sh's hermetic lab: the lab's sysctls are its own.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
FWD=/proc/sys/net/ipv4
LAN_ADDR=192.0.2.2      # a host on a second interface of the lab host, lan0

start_server_in inet "$SERVER_PORT"

# A second network the lab host is attached to (netns lan behind lan0), with
# a server; inet gets a route to it through the lab host. Nothing of nsgate.
must ip netns add lan
must ip link add lan0 type veth peer name lan1 netns lan
must ip addr add 192.0.2.1/24 dev lan0
must ip link set lan0 up
must ip -n lan link set lo up
must ip -n lan addr add "$LAN_ADDR/24" dev lan1
must ip -n lan link set lan1 up
must ip -n lan route add default via 192.0.2.1
must ip -n inet route add 192.0.2.0/24 via "$UPLINK_ADDR"
start_server_in lan 7200
LAN0_FORWARDING=$(cat "$FWD/conf/lan0/forwarding")

fwd_is() { # fwd_is KEY WANT WHAT: /proc/sys/net/ipv4/KEY holds WANT
	local got
	got=$(cat "$FWD/$1")
	[ "$got" = "$2" ] || fail "$3: net.ipv4.${1//\//.} is $got, expected $2"
}
guard_elems() { nft_elements | awk -F '\t' '$1 == "fwd_guard" { print $3 }' | tr '\n' ' '; }
# inet_reaches_lan: inet opens a connection to the server in lan, routed by
# the lab host from up0 to lan0.
inet_reaches_lan() { [ "$(peer_seen "$LAN_ADDR" 7200 ip netns exec inet 2>/dev/null)" = "$INET_ADDR" ]; }

# Global switch off: up turns on the veth's and up0's forwarding only; the
# gateway reaches inet and inet its published port, but the lab host routes
# nothing else from up0 (lan stays out of inet's reach); down puts up0 back.
global_off() {
	fwd_is ip_forward 0 "before up"
	up_ok web --publish 8080:80
	fwd_is ip_forward 0 "after up"
	fwd_is conf/all/forwarding 0 "after up"
	fwd_is conf/nsg-web/forwarding 1 "after up, the veth"
	fwd_is conf/up0/forwarding 1 "after up, the uplink"
	fwd_is conf/lan0/forwarding "$LAN0_FORWARDING" "after up, the other interface"
	[ "$(cat /run/nsgate/forwarding/up0.saved)" = 0 ] || fail "up0's old value is not saved"
	[ "$(guard_elems)" = "up0 " ] || fail "fwd_guard holds '$(guard_elems)', expected up0"
	expect_internet run_in_gw web
	start_tagged_server_in web tcp 80 web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	# Forwarding on up0 would route this; the guard drops it. lan0 forwards
	# too here (for some other tool), so that nothing but the guard stands
	# in the way: replies from lan would be routed back.
	must sysctl -qw net.ipv4.conf.lan0.forwarding=1
	if inet_reaches_lan; then
		fail "inet reached $LAN_ADDR in lan through the lab host: up0 forwards for anyone"
	fi
	# Untracked packets (a notrack rule, as some firewalls have) have no
	# conntrack state to judge: the guard drops them too.
	must nft add table ip labraw
	must nft add chain ip labraw pre '{ type filter hook prerouting priority -300; }'
	must nft add rule ip labraw pre ip saddr "$INET_ADDR" ip daddr "$LAN_ADDR" notrack
	must nft add rule ip labraw pre ip saddr "$LAN_ADDR" ip daddr "$INET_ADDR" notrack
	if inet_reaches_lan; then
		fail "inet reached $LAN_ADDR in lan with untracked packets: the guard lets them through"
	fi
	must nft delete table ip labraw
	must sysctl -qw "net.ipv4.conf.lan0.forwarding=$LAN0_FORWARDING"
	assert_kernel_matches_list
	down_ok web
	fwd_is conf/up0/forwarding 0 "after down"
	fwd_is conf/lan0/forwarding "$LAN0_FORWARDING" "after down, the other interface"
	assert_no_residue web
	pass "global switch off: up turns on nsg-web and up0 only, lan is not routed to, down restores up0"
}

# Two gateways: the first down keeps up0 on for the second.
two_gateways() {
	up_ok a
	up_ok b --uplink up0
	down_ok a
	fwd_is conf/up0/forwarding 1 "after down a, b still up"
	expect_internet run_in_gw b
	down_ok b
	assert_no_residue a b
	pass "up0 stays on while a gateway needs it, and goes back with the last"
}

# What docker does after nsgate's up: the global switch on. down leaves it,
# and up0's forwarding with it, on; nsgate forgets what it saved.
docker_after_up() {
	up_ok web
	echo 1 >"$FWD/ip_forward" || fail "cannot write ip_forward"
	down_ok web
	fwd_is ip_forward 1 "docker turned it on, then the last down"
	fwd_is conf/up0/forwarding 1 "docker turned it on, then the last down"
	LAB_IP_FORWARD=1 LAB_UP0_FORWARDING=1 assert_no_residue web
	must sysctl -qw net.ipv4.ip_forward=0
	pass "the global switch turned on after up stays on after down, up0's forwarding too"
}

# The same with a gateway left: gc forgets the saved value and drops the
# guard, so what docker routes from up0 is no longer limited.
docker_refresh() {
	up_ok web
	echo 1 >"$FWD/ip_forward" || fail "cannot write ip_forward"
	expect_exit 0 nsg gc
	[ -z "$(guard_elems)" ] || fail "gc left fwd_guard with '$(guard_elems)' after the global switch went on"
	[ ! -e /run/nsgate/forwarding/up0.saved ] || fail "gc kept up0's saved value"
	inet_reaches_lan || fail "global switch on: inet does not reach lan (the guard is still there)"
	expect_internet run_in_gw web
	down_ok web
	fwd_is ip_forward 1 "after down"
	LAB_IP_FORWARD=1 LAB_UP0_FORWARDING=1 assert_no_residue web
	must sysctl -qw net.ipv4.ip_forward=0
	pass "global switch turned on with a gateway up: gc forgets the saved value and drops the guard"
}

# Global switch on from the start: nsgate writes no uplink's forwarding, and
# down leaves everything on.
global_on() {
	must sysctl -qw net.ipv4.ip_forward=1
	must sysctl -qw net.ipv4.conf.lan0.forwarding=1
	up_ok web
	[ -z "$(find /run/nsgate/forwarding -type f 2>/dev/null)" ] || fail "global switch on: nsgate saved a value"
	[ -z "$(guard_elems)" ] || fail "global switch on: fwd_guard holds '$(guard_elems)'"
	expect_internet run_in_gw web
	down_ok web
	fwd_is ip_forward 1 "on from the start, after down"
	fwd_is conf/lan0/forwarding 1 "on from the start, after down"
	LAB_IP_FORWARD=1 LAB_UP0_FORWARDING=1 assert_no_residue web
	must sysctl -qw net.ipv4.ip_forward=0
	must sysctl -qw "net.ipv4.conf.lan0.forwarding=$LAN0_FORWARDING"
	pass "global switch on from the start: nothing written, down leaves it all on"
}

# A crash during up, after up0 was turned on (killed when it opens the veth's
# forwarding key), and one after up (a killed nsgate run): gc puts up0 back.
crash() {
	local key=$FWD/conf/nsg-crash/forwarding
	(timeout -k 2 30 strace -f -qq -o /dev/null -P "$key" -e trace=openat \
		-e inject=openat:signal=KILL "$NSGATE" up crash) >/dev/null 2>&1
	fwd_is conf/up0/forwarding 1 "up killed in its host_link step"
	[ -e /run/nsgate/forwarding/up0.saved ] || fail "up killed in its host_link step: no saved value"
	expect_exit 0 nsg gc
	fwd_is conf/up0/forwarding 0 "gc after a killed up"
	assert_no_residue crash

	start_nsgate_bg "$LAB_TMP/run-crash.log" run --name crashrun -- sleep 30
	WAIT_TRIES=1000 wait_for gw_is_up crashrun || fail "run did not bring crashrun up: $(cat "$LAB_TMP/run-crash.log")"
	fwd_is conf/up0/forwarding 1 "run up"
	kill -KILL "$BG_PID"
	wait_exit "$BG_PID" 10
	expect_exit 0 nsg gc
	fwd_is conf/up0/forwarding 0 "gc after a killed run"
	assert_no_residue crashrun
	pass "killed during up or after it: gc restores up0's forwarding"
}

# up0 turned off by hand while a gateway is up: down does not turn it on or
# off again, and forgets it.
changed_by_hand() {
	up_ok web
	must sysctl -qw net.ipv4.conf.up0.forwarding=0
	down_ok web
	fwd_is conf/up0/forwarding 0 "turned off by hand, after down"
	assert_no_residue web
	pass "a value changed by hand is left as it is"
}

# A table of the layout before the guard (no fwd_guard, one forward rule):
# the next up rebuilds it and puts up0 in the guard.
older_layout() {
	up_ok a
	must nft -f - <<-'EOF'
		flush chain inet nsgate forward
		add rule inet nsgate forward oifname @ifaces jump to_gateway
		delete set inet nsgate fwd_guard
	EOF
	up_ok b
	[ "$(guard_elems)" = "up0 " ] || fail "older layout: fwd_guard holds '$(guard_elems)' after up b"
	inet_reaches_lan && fail "older layout rebuilt: inet reaches lan"
	down_ok a
	down_ok b
	assert_no_residue a b
	pass "a table without the guard is rebuilt by the next up"
}

# An older nsgate turned the global switch on and saved 0: the next nsgate
# leaves the switch as it is (someone may rely on it now) and drops the file.
older_saved() {
	must sysctl -qw net.ipv4.ip_forward=1
	echo 0 >/run/nsgate/ip_forward.saved
	up_ok web
	down_ok web
	fwd_is ip_forward 1 "an older nsgate's saved 0"
	LAB_IP_FORWARD=1 LAB_UP0_FORWARDING=1 assert_no_residue web
	must sysctl -qw net.ipv4.ip_forward=0
	pass "an older nsgate's ip_forward.saved is dropped, the global switch left on"
}

global_off
two_gateways
docker_after_up
docker_refresh
global_on
crash
changed_by_hand
older_layout
older_saved
