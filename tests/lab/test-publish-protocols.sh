# SPDX-License-Identifier: MIT
# test-publish-protocols.sh: tcp, udp and sctp ports and every port of a
# range reach their own server in the namespace, and only the published
# protocol is forwarded.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces);
# "the internet" is the lab's inet namespace, 198.51.100.2.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# One up with every kind of spec; show lists them, ranges merged.
setup() {
	up_ok web --publish 8080:80 --publish 5353:5300/udp --publish 5000-5003:6000-6003 \
		--publish 5100-5101:6100-6101/udp --publish 9999:9999/sctp
	gw_json web
	WEB_NS=$(gw_field web ns_addr)
	WEB_HOST=$(gw_field web host_addr)
	expect_published web \
		"$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5353 5353 5300 5300 udp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5000 5003 6000 6003 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5100 5101 6100 6101 udp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 9999 9999 9999 9999 sctp "$WEB_NS")"
	pass "up with tcp, udp, sctp and range specs; show lists each range as one entry"
}

tcp_port() {
	start_tagged_server_in web tcp 80 tcp80
	expect_answer tcp "$UPLINK_ADDR" 8080 "tcp80 $INET_ADDR" ip netns exec inet
	# No udp server answers through a tcp-only mapping.
	start_tagged_server_in web udp 80 udp80
	expect_no_answer udp "$UPLINK_ADDR" 8080 ip netns exec inet
	# The same port number published for udp too: both protocols work.
	expect_exit 0 nsg publish web 8080:80/udp
	expect_answer udp "$UPLINK_ADDR" 8080 "udp80 $INET_ADDR" ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 8080 "tcp80 $INET_ADDR" ip netns exec inet
	pass "tcp 8080 -> 80 from inet; udp 8080 forwarded only once published for udp too"
}

udp_port() {
	start_tagged_server_in web udp 5300 udp5300
	start_tagged_server_in web tcp 5300 tcp5300
	expect_answer udp "$UPLINK_ADDR" 5353 "udp5300 $INET_ADDR" ip netns exec inet
	expect_answer udp "$UPLINK_ADDR" 5353 "udp5300 $UPLINK_ADDR"
	expect_answer udp 127.0.0.1 5353 "udp5300 $WEB_HOST"
	expect_answer udp "$UPLINK_ADDR" 5353 "udp5300 $WEB_HOST" ip netns exec web
	expect_no_answer tcp "$UPLINK_ADDR" 5353 ip netns exec inet
	pass "udp 5353 -> 5300 from inet, the lab host (own address, 127.0.0.1) and hairpin; tcp 5353 is not forwarded"
}

# Every port of a range reaches its own server; the port after the range
# does not.
ranges() {
	local i
	for i in 0 1 2 3; do start_tagged_server_in web tcp $((6000 + i)) "tcp$((6000 + i))"; done
	start_tagged_server_in web tcp 6004 tcp6004
	for i in 0 1; do start_tagged_server_in web udp $((6100 + i)) "udp$((6100 + i))"; done
	start_tagged_server_in web udp 6102 udp6102
	for i in 0 1 2 3; do
		expect_answer tcp "$UPLINK_ADDR" $((5000 + i)) "tcp$((6000 + i)) $INET_ADDR" ip netns exec inet
	done
	expect_no_answer tcp "$UPLINK_ADDR" 5004 ip netns exec inet
	for i in 0 1; do
		expect_answer udp "$UPLINK_ADDR" $((5100 + i)) "udp$((6100 + i)) $INET_ADDR" ip netns exec inet
	done
	expect_no_answer udp "$UPLINK_ADDR" 5102 ip netns exec inet
	# A range added to the running gateway works the same way.
	expect_exit 0 nsg publish web 5200-5203:6000-6003
	for i in 0 1 2 3; do
		expect_answer tcp "$UPLINK_ADDR" $((5200 + i)) "tcp$((6000 + i)) $INET_ADDR" ip netns exec inet
	done
	pass "tcp 5000-5003 -> 6000-6003 and 5200-5203 -> 6000-6003, udp 5100-5101 -> 6100-6101: each port reaches its own server"
}

# sctp: real traffic when the kernel has SCTP sockets, else said loudly. The
# mapping itself (conntrack and nft know sctp) is checked either way.
sctp_port() {
	nft list map inet nsgate ports4 | grep -q 'sctp \. 9999 .*: *'"$WEB_NS"' \. 9999' ||
		fail "map ports4 has no element sctp . 9999 : $WEB_NS . 9999: $(nft list map inet nsgate ports4)"
	if sctp_supported; then
		start_tagged_server_in web sctp 9999 sctp9999
		expect_answer sctp "$UPLINK_ADDR" 9999 "sctp9999 $INET_ADDR" ip netns exec inet
		expect_answer sctp "$UPLINK_ADDR" 9999 "sctp9999 $WEB_HOST" ip netns exec web
		expect_no_answer tcp "$UPLINK_ADDR" 9999 ip netns exec inet
		pass "sctp 9999 -> 9999 from inet and hairpin"
	else
		echo "SCTP NOT TESTED WITH TRAFFIC: this kernel cannot create SCTP sockets ($SCTP_WHY)."
		echo "  only checked: --publish 9999:9999/sctp accepted, shown as sctp, in map ports4."
		pass "sctp 9999 mapping present (no SCTP sockets in this kernel: traffic not tested)"
	fi
}

teardown() {
	expect_exit 0 nsg unpublish web 5000-5003:6000-6003 5200-5203:6000-6003 5100-5101:6100-6101/udp 8080:80/udp
	expect_published web \
		"$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5353 5353 5300 5300 udp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 9999 9999 9999 9999 sctp "$WEB_NS")"
	expect_no_answer tcp "$UPLINK_ADDR" 5001 ip netns exec inet
	expect_no_answer udp "$UPLINK_ADDR" 5100 ip netns exec inet
	expect_no_answer udp "$UPLINK_ADDR" 8080 ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 8080 "tcp80 $INET_ADDR" ip netns exec inet
	expect_answer udp "$UPLINK_ADDR" 5353 "udp5300 $INET_ADDR" ip netns exec inet
	down_ok web
	assert_no_residue web
	pass "unpublish of ranges removes every port of them; down leaves nothing"
}

setup
tcp_port
udp_port
ranges
sctp_port
teardown
