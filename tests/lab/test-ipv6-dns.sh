# SPDX-License-Identifier: MIT
# test-ipv6-dns.sh: a dual-stack gateway's /etc/netns/NAME/resolv.conf lists
# the host's IPv6 nameservers too (a loopback ::1 replaced by the upstream
# servers, as 127.0.0.53 is), an IPv4-only gateway's only the IPv4 ones;
# --dns takes IPv6 addresses; a lookup inside the namespace goes to an IPv6
# nameserver in inet through NAT66, and doctor queries IPv6 nameservers.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh);
# /etc/resolv.conf and /run/systemd are the lab's own tmpfs files here.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools dnsmasq getent
lab_ipv6

# nameservers NAME : the nameservers of gateway NAME's resolv.conf, space-separated.
nameservers() { awk '$1 == "nameserver" { printf "%s ", $2 }' "/etc/netns/$1/resolv.conf"; }

# 1. The host's resolv.conf names an IPv4 and an IPv6 server.
both_families() {
	printf 'nameserver 198.51.100.2\nnameserver 2001:db8:1::2\nsearch lab.test\n' >/etc/resolv.conf
	up_ok dual
	assert_gw_dual dual
	[ "$(nameservers dual)" = "198.51.100.2 2001:db8:1::2 " ] ||
		fail "dual-stack gateway's resolv.conf: $(cat /etc/netns/dual/resolv.conf)"
	assert_json "$GW_JSON" '.dns == ["198.51.100.2", "2001:db8:1::2"]' "show dual --json: dns"
	up_ok four --ipv6 off
	[ "$(nameservers four)" = "198.51.100.2 " ] ||
		fail "IPv4-only gateway's resolv.conf: $(cat /etc/netns/four/resolv.conf)"
	gw_json four
	assert_json "$GW_JSON" '.dns == ["198.51.100.2"]' "show four --json: dns"
	expect_exit 0 nsg down --all
	assert_no_residue6 dual four
	pass "host nameservers 198.51.100.2 and 2001:db8:1::2: the dual-stack gateway lists both, the IPv4-only one 198.51.100.2 only"
}

# 2. A loopback ::1 (a local resolver) is replaced by the upstream servers.
loopback_replaced() {
	printf 'nameserver ::1\n' >/etc/resolv.conf
	mkdir -p /run/systemd/resolve
	printf 'nameserver 198.51.100.2\nnameserver 2001:db8:1::2\n' >/run/systemd/resolve/resolv.conf
	up_ok dual
	[ "$(nameservers dual)" = "198.51.100.2 2001:db8:1::2 " ] ||
		fail "host ::1 with upstreams 198.51.100.2 and 2001:db8:1::2: dual's resolv.conf is: $(cat /etc/netns/dual/resolv.conf)"
	up_ok four --ipv6 off
	[ "$(nameservers four)" = "198.51.100.2 " ] ||
		fail "host ::1 with upstreams: four's resolv.conf is: $(cat /etc/netns/four/resolv.conf)"
	expect_exit 0 nsg down --all
	rm -r /run/systemd/resolve
	assert_no_residue6 dual four
	pass "a host resolver on ::1 is replaced by its upstreams (both for dual-stack, the IPv4 one for IPv4 only)"
}

# 3. --dns with IPv6 addresses: exactly those, in order.
explicit_servers() {
	up_ok dual --dns 2001:db8:1::53,192.0.2.53
	[ "$(nameservers dual)" = "2001:db8:1::53 192.0.2.53 " ] ||
		fail "--dns 2001:db8:1::53,192.0.2.53 wrote: $(cat /etc/netns/dual/resolv.conf)"
	gw_json dual
	assert_json "$GW_JSON" '.dns == ["2001:db8:1::53", "192.0.2.53"]' "show dual --json: dns"
	down_ok dual
	expect_exit 2 nsg up dual --dns 2001:db8:1::zz
	assert_error_line
	assert_no_residue6 dual
	pass "--dns 2001:db8:1::53,192.0.2.53 writes those two; a malformed IPv6 --dns exits 2"
}

# 4. A lookup over IPv6: dnsmasq in inet on [2001:db8:1::2]:53 only, the
# host's resolv.conf naming only it; the query reaches it NAT66'd.
inet_dns6_listening() { [ -n "$(ip netns exec inet ss -6 -Hlun 'sport = :53')" ]; }
lookup_over_ipv6() {
	local log=$LAB_TMP/dnsmasq6.log
	ip netns exec inet dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --address=/example.test/203.0.113.7 --address=/example.test/2001:db8:99::7 \
		--listen-address="$INET6_ADDR" --bind-interfaces --port 53 --log-queries \
		--user=root --pid-file="$LAB_TMP/dnsmasq6.pid" --log-facility=- >"$log" 2>&1 &
	wait_for inet_dns6_listening || fail "dnsmasq on [$INET6_ADDR]:53 did not start: $(cat "$log")"
	printf 'nameserver %s\n' "$INET6_ADDR" >/etc/resolv.conf
	up_ok dual
	[ "$(nameservers dual)" = "$INET6_ADDR " ] || fail "dual's resolv.conf: $(cat /etc/netns/dual/resolv.conf)"
	expect_exit 0 run_in_gw dual getent ahosts example.test
	grep -q '^203\.0\.113\.7 ' <<<"$LAST_OUT" || fail "getent ahosts example.test in dual: no 203.0.113.7: $LAST_OUT"
	grep -q '^2001:db8:99::7 ' <<<"$LAST_OUT" || fail "getent ahosts example.test in dual: no 2001:db8:99::7: $LAST_OUT"
	grep -q "example.test from $UPLINK6_ADDR" "$log" ||
		fail "dnsmasq did not log a query from $UPLINK6_ADDR (NAT66): $(cat "$log")"
	# doctor asks the same server from inside the namespace, over IPv6.
	expect_exit 0 nsg doctor dual
	[ "$LAST_OUT" = "dual: ok" ] || fail "doctor dual with [$INET6_ADDR]:53 answering: $LAST_OUT"
	expect_exit 0 nsg doctor dual --json
	assert_json "$LAST_OUT" '.healthy == true and any(.findings[]; .check == "dns" and .problem == false)' \
		"doctor dual --json: the dns check passed"
	# A second IPv6 server that nothing answers on: named, the first not.
	printf 'nameserver %s\nnameserver 2001:db8:1::99\n' "$INET6_ADDR" >/etc/netns/dual/resolv.conf
	expect_exit 1 nsg doctor dual
	grep -Eq '^dual: dns: nameserver 2001:db8:1::99 does not answer.*; fix: ' <<<"$LAST_OUT" ||
		fail "doctor dual with 2001:db8:1::99 silent does not name it: $LAST_OUT"
	grep -Fq "nameserver $INET6_ADDR " <<<"$LAST_OUT" && fail "doctor dual blames $INET6_ADDR, which answers: $LAST_OUT"
	down_ok dual
	assert_no_residue6 dual
	pass "getent ahosts example.test in dual asks [$INET6_ADDR]:53 (seen from $UPLINK6_ADDR) and gets 203.0.113.7 and 2001:db8:99::7"
}

both_families
loopback_replaced
explicit_servers
lookup_over_ipv6
