# SPDX-License-Identifier: MIT
# test-dns.sh: the gateway's /etc/netns/NAME/resolv.conf, and DNS through it.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces):
# /etc/resolv.conf and /run/systemd are the lab's own tmpfs files here.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools dnsmasq getent
RESOLV=/etc/netns/web/resolv.conf

# nameservers FILE : the nameserver addresses of a resolv.conf, one a line.
nameservers() { awk '$1 == "nameserver" { print $2 }' "$1"; }

# A systemd-resolved host: /etc/resolv.conf holds only the 127.0.0.53 stub,
# which means nothing inside another namespace; nsgate must use the upstream
# servers of /run/systemd/resolve/resolv.conf instead.
stub_resolver_replaced() {
	printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lab.test\n' >/etc/resolv.conf
	mkdir -p /run/systemd/resolve
	printf 'nameserver 198.51.100.2\nsearch lab.test\n' >/run/systemd/resolve/resolv.conf
	up_ok web
	[ -f "$RESOLV" ] || fail "up did not write $RESOLV"
	[ "$(nameservers "$RESOLV")" = 198.51.100.2 ] ||
		fail "$RESOLV should name only 198.51.100.2, has: $(cat "$RESOLV")"
	grep -q 127.0.0.53 "$RESOLV" && fail "$RESOLV still names the loopback stub: $(cat "$RESOLV")"
	gw_json web
	assert_json "$GW_JSON" '.dns == ["198.51.100.2"]' "show: dns"
	pass "loopback stub 127.0.0.53 replaced by systemd-resolved's upstream 198.51.100.2"
}

# End to end: a DNS server in inet answers example.test; the lookup inside
# the gateway reads the bind-mounted resolv.conf and goes out through NAT.
lookup_through_gateway() {
	start_inet_dns
	expect_exit 0 run_in_gw web getent hosts example.test
	[ "$(awk '{ print $1 }' <<<"$LAST_OUT")" = 203.0.113.7 ] ||
		fail "getent hosts example.test in web gave '$LAST_OUT', expected 203.0.113.7"
	down_ok web
	assert_no_residue web
	pass "getent hosts example.test inside the gateway resolves through NAT to 203.0.113.7"
}

# --dns ADDR,ADDR writes exactly those servers, in order.
explicit_servers() {
	up_ok web --dns 192.0.2.53,192.0.2.54
	[ "$(nameservers "$RESOLV" | tr '\n' ' ')" = "192.0.2.53 192.0.2.54 " ] ||
		fail "--dns 192.0.2.53,192.0.2.54 wrote: $(cat "$RESOLV" 2>&1)"
	gw_json web
	assert_json "$GW_JSON" '.dns == ["192.0.2.53", "192.0.2.54"]' "show: dns"
	down_ok web
	assert_no_residue web
	pass "--dns 192.0.2.53,192.0.2.54 writes those two nameservers"
}

# --dns none writes no resolv.conf: the namespace keeps the host's view.
no_dns() {
	up_ok web --dns none
	[ -e "$RESOLV" ] && fail "--dns none wrote $RESOLV: $(cat "$RESOLV")"
	gw_json web
	assert_json "$GW_JSON" '.dns == []' "show: dns with --dns none"
	down_ok web
	assert_no_residue web
	pass "--dns none writes no resolv.conf"
}

stub_resolver_replaced
lookup_through_gateway
explicit_servers
no_dns
