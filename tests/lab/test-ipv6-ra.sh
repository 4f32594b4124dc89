# SPDX-License-Identifier: MIT
# test-ipv6-ra.sh: a host whose IPv6 default route comes from router
# advertisements keeps it while gateways are up (IPv6 forwarding with
# net.ipv6.conf.all.forwarding=1 would make the kernel ignore the RAs, and
# the route expire: docker/for-linux#844), and a namespace can never install
# a route or a prefix on the host: router advertisements (radvd inside the
# gateway's namespace) and redirects (hand-made) sent from it never reach the
# host's input, even with accept_ra=2 set on the host side by hand.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6_ra (lib.sh):
# radvd in inet advertises a default route of RA_LIFETIME seconds.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

lab_ipv6_ra
start_server6_in inet "$SERVER6_PORT"

# nft_counter_in NS TABLE CHAIN : nft_counter in netns NS.
nft_counter_in() {
	ip netns exec "$1" nft -j list chain inet "$2" "$3" |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | first // 0'
}

# 1. A gateway up for twice the route's lifetime: the route is refreshed by
# every advertisement and never goes away; the namespace reaches inet all along.
route_kept() {
	local end
	up_ok web
	assert_gw_dual web
	expect_internet6 run_in_gw web
	expect_sysctl6 all forwarding 0 "web up"
	expect_sysctl6 up0 forwarding 0 "web up"
	expect_sysctl6 up0 accept_ra 1 "web up"
	expect_sysctl6 up0 force_forwarding 1 "web up"
	end=$((SECONDS + 2 * RA_LIFETIME + 1))
	while [ "$SECONDS" -lt "$end" ]; do
		has_ra_default_route || fail "the lab host lost its proto ra default route with web up: $(ip -6 route)"
		sleep 0.5
	done
	note "after $((2 * RA_LIFETIME + 1)) s: $(ra_default_route)"
	expect_internet6 run_in_gw web
	pass "web up for $((2 * RA_LIFETIME + 1)) s (the RA's lifetime is $RA_LIFETIME s): the host keeps its proto ra default route, web reaches inet over IPv6"
}

# 2. radvd in web's namespace on eth0 advertises a default route, a prefix
# and a route; a hand-made redirect follows. Counted leaving the namespace
# (they were sent) and at the host's input (they must never get there).
ra_from_namespace() {
	local sent got body
	must nft -f - <<-'EOT'
		table inet probe6 {
			chain ra {
				type filter hook input priority 0; policy accept;
				iifname "nsg-web" icmpv6 type nd-router-advert counter
			}
			chain redir {
				type filter hook input priority 0; policy accept;
				iifname "nsg-web" icmpv6 type nd-redirect counter
			}
		}
	EOT
	must ip netns exec web nft -f - <<-'EOT'
		table inet probe6 {
			chain ra {
				type filter hook output priority 0; policy accept;
				oifname "eth0" icmpv6 type nd-router-advert counter
			}
			chain redir {
				type filter hook output priority 0; policy accept;
				oifname "eth0" icmpv6 type nd-redirect counter
			}
		}
	EOT
	must ip netns exec web sysctl -qw net.ipv6.conf.all.forwarding=1
	start_radvd_in web web "interface eth0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	AdvDefaultLifetime 1800;
	AdvDefaultPreference high;
	prefix 2001:db8:66::/64 { AdvOnLink on; AdvAutonomous on; };
	route 2001:db8:77::/48 { AdvRoutePreference high; };
};"
	WEB_RADVD=$LAST_RADVD_PID
	WAIT_TRIES=1000 wait_for ra_sent 1 || fail "radvd in web sent no router advertisement in 10 s: $(cat "$LAB_TMP/radvd-web.log")"
	# A redirect to the host: "reach inet through me (fe80::2)": reserved,
	# target fe80::2, destination inet.
	body=00000000$(ip6_hex fe80::2)$(ip6_hex "$INET6_ADDR")
	ip netns exec web bash -c "$(declare -f send_icmp6); send_icmp6 137 0 $body fe80::1 eth0" ||
		fail "could not send the redirect from web"
	sent=$(nft_counter_in web probe6 redir)
	[ "$sent" -ge 1 ] || fail "the redirect did not leave web's eth0"
	expect_nothing_learned "accept_ra=0 on nsg-web"
	# The same with the host side told by hand to accept RAs (and routes in
	# them): only the drop before the host's input stands in the way.
	must sysctl -qw net.ipv6.conf.nsg-web.accept_ra=2 net.ipv6.conf.nsg-web.accept_ra_rt_info_max_plen=64
	sent=$(nft_counter_in web probe6 ra)
	WAIT_TRIES=1000 wait_for ra_sent $((sent + 2)) || fail "radvd in web stopped advertising: $(cat "$LAB_TMP/radvd-web.log")"
	expect_nothing_learned "accept_ra=2 on nsg-web"
	must sysctl -qw net.ipv6.conf.nsg-web.accept_ra=0
	kill "$WEB_RADVD"
	wait "$WEB_RADVD" 2>/dev/null
	got=$(nft_counter_in web probe6 ra)
	must nft delete table inet probe6
	expect_internet6 run_in_gw web
	pass "$got router advertisements and a redirect from web's namespace never reached the host's input; no route, prefix or address learned through nsg-web"
}

# ip6_hex ADDR : the 16 bytes of ADDR in hex.
ip6_hex() { python3 -c 'import ipaddress, sys; print(ipaddress.IPv6Address(sys.argv[1]).packed.hex())' "$1"; }

# ra_sent N : radvd in web has sent at least N advertisements.
ra_sent() { [ "$(nft_counter_in web probe6 ra)" -ge "$1" ]; }

# expect_nothing_learned WHAT : no RA or redirect reached the host's input
# from nsg-web, and the host has no route, prefix or address from them.
expect_nothing_learned() {
	local routes
	[ "$(nft_counter probe6 ra)" = 0 ] ||
		fail "$1: $(nft_counter probe6 ra) router advertisements from web reached the host's input"
	[ "$(nft_counter probe6 redir)" = 0 ] ||
		fail "$1: $(nft_counter probe6 redir) redirects from web reached the host's input"
	routes=$(ip -6 route show table all)
	grep -qE 'proto ra.*dev nsg-web|dev nsg-web.*proto ra|2001:db8:66|2001:db8:77' <<<"$routes" &&
		fail "$1: the host learned a route from web's namespace: $routes"
	[ -z "$(ip -6 route show default dev nsg-web)" ] || fail "$1: a default route via nsg-web: $routes"
	! grep -q 2001:db8:66 <<<"$(ip -6 -o addr show dev nsg-web)" ||
		fail "$1: nsg-web autoconfigured an address: $(ip -6 -o addr show dev nsg-web)"
	has_ra_default_route || fail "$1: the host's own proto ra default route is gone: $routes"
}

# 3. After down: the RA route is still there, every sysctl as found.
after_down() {
	down_ok web
	has_ra_default_route || fail "after down the host has no proto ra default route: $(ip -6 route)"
	WAIT_TRIES=800 wait_for ping -6 -c1 -W1 -q "$INET6_ADDR" || fail "after down the host cannot reach $INET6_ADDR"
	assert_no_residue6 web
	pass "after down the host keeps its RA default route; addresses, routes and sysctls as found"
}

route_kept
ra_from_namespace
after_down
