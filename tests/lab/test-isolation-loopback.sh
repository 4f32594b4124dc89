# SPDX-License-Identifier: MIT
# test-isolation-loopback.sh: a namespace cannot reach the host's loopback
# (CVE-2020-8558's class: route_localnet=1 is on every gateway's host link).
# From gateway a's namespace, as root there: (a) with its local 127/8 routes
# gone and 127.0.0.0/8 routed via its gateway, connecting to 127.0.0.1 reaches
# neither a host service bound to 127.0.0.1 nor gateway b's port published on
# 127.0.0.1 only; (b) a raw TCP SYN to 127.0.0.1 sent with AF_PACKET to the
# host veth's MAC never reaches the host's input (a counter of the test's own
# table says so). The host's own 127.0.0.1:PORT to b's port keeps working.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"
need_tools python3

start_server_in inet "$SERVER_PORT"
LOCAL_PORT=9999   # a host service on 127.0.0.1 only (a database, a metrics port)
up_ok a
up_ok b --publish 127.0.0.1:8181:80
start_tagged_server_in host tcp "$LOCAL_PORT" local 127.0.0.1
start_tagged_server_in b tcp 80 b
gw_addrs b
B_HOST=$GW_HOST
gw_addrs a

# What reaches the host's input from a's link on the service's port, and
# what a's link forwards to b's: counted in a table of the test's own.
must nft -f - <<-EOT
	table inet probe {
		chain input {
			type filter hook input priority 0; policy accept;
			iifname "nsg-a" tcp dport $LOCAL_PORT counter
		}
		chain forward {
			type filter hook forward priority -10; policy accept;
			iifname "nsg-a" oifname "nsg-b" counter
		}
	}
EOT

# The paths that must keep working: the host's own 127.0.0.1 to b's port.
expect_answer tcp 127.0.0.1 8181 "b $B_HOST"
expect_answer tcp 127.0.0.1 "$LOCAL_PORT" "local 127.0.0.1"
expect_internet run_in_gw a
pass "the host reaches b's 127.0.0.1:8181 and its own 127.0.0.1 service; a reaches the internet"

# (a) Route 127.0.0.0/8 out of the namespace, as any container root can.
must ip netns exec a ip addr flush dev lo
must ip netns exec a sysctl -qw net.ipv4.conf.eth0.route_localnet=1
must ip netns exec a ip route add 127.0.0.0/8 via "$GW_HOST" dev eth0
note "in a: $(ip netns exec a ip route get 127.0.0.1 | head -1)"
expect_no_answer tcp 127.0.0.1 "$LOCAL_PORT" ip netns exec a
expect_no_answer tcp 127.0.0.1 8181 ip netns exec a
[ "$(nft_counter probe input)" = 0 ] ||
	fail "a's connection to 127.0.0.1:$LOCAL_PORT reached the host's input ($(nft_counter probe input) packets)"
[ "$(nft_counter probe forward)" = 0 ] ||
	fail "a's connection to 127.0.0.1:8181 was forwarded to b ($(nft_counter probe forward) packets)"
pass "routed via its gateway, a reaches neither the host's 127.0.0.1:$LOCAL_PORT nor b's 127.0.0.1:8181"

# (b) A SYN framed by hand to the host veth's MAC, whatever a's routes.
HOST_MAC=$(cat /sys/class/net/nsg-a/address)
must ip netns exec a ip route del 127.0.0.0/8
must nft flush chain inet probe input   # a fresh counter: only the raw SYNs count
must nft add rule inet probe input iifname "nsg-a" tcp dport "$LOCAL_PORT" counter
ip netns exec a bash -c "$(declare -f raw_syn_l2); raw_syn_l2 eth0 $HOST_MAC $GW_NS 127.0.0.1 $LOCAL_PORT" ||
	fail "could not send the raw SYN from a"
sleep 0.3
[ "$(nft_counter probe input)" = 0 ] ||
	fail "a raw SYN to 127.0.0.1:$LOCAL_PORT from a reached the host's input ($(nft_counter probe input) packets)"
pass "a raw SYN to 127.0.0.1 sent to the host veth's MAC never reaches the host's input"

# After both attacks, the host's own paths still work.
expect_answer tcp 127.0.0.1 8181 "b $B_HOST"
expect_answer tcp 127.0.0.1 "$LOCAL_PORT" "local 127.0.0.1"
pass "the host's own 127.0.0.1 paths still work"

must nft delete table inet probe
expect_exit 0 nsg down --all
assert_no_residue a b
