# SPDX-License-Identifier: MIT
# test-publish-errors.sh: bad specs, non-local host addresses, ports owned by
# another gateway (overlapping ranges too), ports a host process listens on
# (and --force), idempotent re-publish and unpublish of what is not
# published. Every refusal exits 2 with one line and changes nothing.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# refused WHAT CMD... : CMD exits 2 with one error line, and neither the
# table inet nsgate nor the gateways' published ports change.
refused() {
	local what=$1 before after pub_before pub_after
	shift
	before=$(nft_table_snapshot)
	pub_before=$(published_all)
	expect_exit 2 "$@"
	assert_error_line
	after=$(nft_table_snapshot)
	pub_after=$(published_all)
	[ "$before" = "$after" ] || fail "$what: '$*' was refused but changed table inet nsgate:
--- before
$before
--- after
$after"
	[ "$pub_before" = "$pub_after" ] ||
		fail "$what: '$*' was refused but show --json changed: $pub_before -> $pub_after"
}
# published_all : "name: published" of every gateway up, one per line.
published_all() {
	local n
	for n in $(nsg list --json | jq -r '.[].name'); do
		echo "$n: $(nsg show "$n" --json | jq -c '.published | sort_by(.host_addr, .proto, .host_port)')"
	done
}

setup() {
	up_ok web
	gw_json web
	WEB_NS=$(gw_field web ns_addr)
	expect_published web
	pass "web up, nothing published"
}

# Malformed specs, for publish and for up --publish (which then creates nothing).
bad_specs() {
	local spec
	for spec in 0:80 80:0 65536:80 80:65536 99999:80 9000-8000:80 8000:90-80 8000-8001:80-82 \
		8000-8002:80 80:80/icmp 80:80/ 80:80/TCPX 1.2.3:80:80 300.1.1.1:80:80 1.2.3.4.5:80:80 \
		abc:80 80 :80 80: 80:80:80:80; do
		refused "spec '$spec'" nsg publish web "$spec"
		refused "up --publish '$spec'" nsg up web2 --publish "$spec"
		assert_gone web2
	done
	# One bad spec among good ones: nothing at all is published.
	refused "good specs and 0:80" nsg publish web 8300:80 8301:81 0:80
	expect_published web
	pass "malformed specs: exit 2, one line, nothing changed (publish and up --publish)"
}

# A host address must be one of the host's own addresses.
non_local_address() {
	local a
	for a in 192.0.2.7 "$INET_ADDR" 10.99.0.1; do
		refused "non-local host address $a" nsg publish web "$a:8080:80"
	done
	refused "up --publish with non-local host address" nsg up web2 --publish "192.0.2.7:8080:80"
	assert_gone web2
	expect_exit 0 nsg publish web "$UPLINK_ADDR:8085:80"
	expect_exit 0 nsg unpublish web "$UPLINK_ADDR:8085:80"
	expect_published web
	pass "host addresses not local to the lab host are refused; $UPLINK_ADDR is accepted"
}

# Publishing the same mapping again changes nothing and succeeds.
idempotent() {
	local before
	expect_exit 0 nsg publish web 8080:80 5000-5003:6000-6003 5353:53/udp
	before=$(nft_table_snapshot)
	expect_exit 0 nsg publish web 8080:80
	expect_exit 0 nsg publish web 8080:80/tcp
	expect_exit 0 nsg publish web 5000-5003:6000-6003 5353:53/udp
	[ "$before" = "$(nft_table_snapshot)" ] || fail "re-publishing the same mappings changed the table:
$before
--- after
$(nft_table_snapshot)"
	expect_published web \
		"$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5000 5003 6000 6003 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5353 5353 53 53 udp "$WEB_NS")"
	pass "publishing the same mappings again exits 0 and changes nothing"
}

# unpublish of what is not published: exit 2, nothing changes.
unpublish_unknown() {
	refused "unpublish 8081:80" nsg unpublish web 8081:80
	refused "unpublish 8080:81 (other inner port)" nsg unpublish web 8080:81
	refused "unpublish 8080:80/udp (other protocol)" nsg unpublish web 8080:80/udp
	refused "unpublish bound $UPLINK_ADDR:8080:80" nsg unpublish web "$UPLINK_ADDR:8080:80"
	refused "unpublish a known and an unknown spec" nsg unpublish web 8080:80 8081:80
	refused "unpublish malformed" nsg unpublish web 0:80
	expect_published web \
		"$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5000 5003 6000 6003 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5353 5353 53 53 udp "$WEB_NS")"
	pass "unpublish of specs that are not published: exit 2, nothing changed"
}

# A host port published by another gateway: refused, naming the owner;
# overlapping ranges too; publish is one atomic batch.
conflicts() {
	local spec
	refused "up other --publish 8080:81" nsg up other --publish 8080:81
	grep -qw web <<<"$LAST_ERR" || fail "conflict message does not name the owner web: $LAST_ERR"
	assert_gone other
	up_ok other
	for spec in 8080:81 8080:80 7999-8080:7999-8080 5003:80 4990-5000:4990-5000 5002-5010:7002-7010 5353:53/udp; do
		refused "other publish $spec (owned by web)" nsg publish other "$spec"
		grep -qw web <<<"$LAST_ERR" || fail "conflict on '$spec' does not name the owner web: $LAST_ERR"
	done
	# Atomic: good specs with one conflicting spec publish nothing.
	refused "other publish 8200:80 8201:81 8080:80" nsg publish other 8200:80 8201:81 8080:80
	expect_published other
	# The ports just next to web's are free.
	expect_exit 0 nsg publish other 8081:80 4999:80 5004-5005:6004-6005
	gw_json other
	expect_published other \
		"$(pub_entry 0.0.0.0 8081 8081 80 80 tcp "$(gw_field other ns_addr)")" \
		"$(pub_entry 0.0.0.0 4999 4999 80 80 tcp "$(gw_field other ns_addr)")" \
		"$(pub_entry 0.0.0.0 5004 5005 6004 6005 tcp "$(gw_field other ns_addr)")"
	# Not specified, only reported: the same port for another protocol, and a
	# host address on a port another gateway publishes on every address.
	if LAST_ERR=$(nsg publish other 8080:80/udp 2>&1); then
		note "other publish 8080:80/udp while web has 8080/tcp: accepted"
		nsg unpublish other 8080:80/udp >/dev/null 2>&1
	else
		note "other publish 8080:80/udp while web has 8080/tcp: refused ($LAST_ERR)"
	fi
	if LAST_ERR=$(nsg publish other "$UPLINK_ADDR:8080:80" 2>&1); then
		note "other publish $UPLINK_ADDR:8080:80 while web has 0.0.0.0:8080: ACCEPTED (other shadows web's port on $UPLINK_ADDR)"
		nsg unpublish other "$UPLINK_ADDR:8080:80" >/dev/null 2>&1
	else
		note "other publish $UPLINK_ADDR:8080:80 while web has 0.0.0.0:8080: refused ($LAST_ERR)"
	fi
	pass "ports and overlapping ranges owned by web are refused to other (message names web), atomically"
}

# A host process listening on the port: refused naming the port (and the
# process), unless --force; then the gateway gets the traffic.
listener() {
	local got
	start_tagged_server_in host tcp 9090 hostproc
	refused "publish 9090:80 with a host listener" nsg publish web 9090:80
	grep -q 9090 <<<"$LAST_ERR" || fail "listener refusal does not mention port 9090: $LAST_ERR"
	grep -q socat <<<"$LAST_ERR" || fail "listener refusal does not name the process (socat): $LAST_ERR"
	refused "publish 9000-9099:9000-9099 with a host listener on 9090" nsg publish web 9000-9099:9000-9099
	grep -q 9090 <<<"$LAST_ERR" || fail "listener refusal for a range does not mention port 9090: $LAST_ERR"
	refused "up --publish 9090:80 with a host listener" nsg up web2 --publish 9090:80
	assert_gone web2
	# Bound to the uplink address: the same host listener (on 0.0.0.0) conflicts.
	refused "publish $UPLINK_ADDR:9090:80 with a host listener on 0.0.0.0:9090" nsg publish web "$UPLINK_ADDR:9090:80"
	up_ok web2 --publish 9090:80 --force
	gw_json web2
	expect_published web2 "$(pub_entry 0.0.0.0 9090 9090 80 80 tcp "$(gw_field web2 ns_addr)")"
	down_ok web2
	assert_gone web2
	expect_exit 0 nsg publish web 9090:80 --force
	expect_published web \
		"$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5000 5003 6000 6003 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5353 5353 53 53 udp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 9090 9090 80 80 tcp "$WEB_NS")"
	start_tagged_server_in web tcp 80 web
	expect_answer tcp "$UPLINK_ADDR" 9090 "web $INET_ADDR" ip netns exec inet
	# A listener inside the gateway's own namespace is no host listener.
	expect_exit 0 nsg publish web 80:80
	expect_answer tcp "$UPLINK_ADDR" 80 "web $INET_ADDR" ip netns exec inet
	expect_exit 0 nsg unpublish web 80:80
	expect_exit 0 nsg unpublish web 9090:80
	expect_answer tcp "$UPLINK_ADDR" 9090 "hostproc $INET_ADDR" ip netns exec inet
	# A udp socket bound on the host port: only reported.
	start_tagged_server_in host udp 9091 hostudp
	if got=$(nsg publish web 9091:80/udp 2>&1); then
		note "publish 9091:80/udp with a host udp socket on 0.0.0.0:9091: accepted"
		nsg unpublish web 9091:80/udp >/dev/null 2>&1
	else
		note "publish 9091:80/udp with a host udp socket on 0.0.0.0:9091: refused ($got)"
	fi
	pass "host listener on 9090: publish and up --publish refused naming 9090 and socat; --force publishes and inet reaches web; web's own listener on 80 does not block 80:80"
}

# Usage and unknown gateway.
misc() {
	expect_exit 2 nsg publish web
	assert_usage_error
	expect_exit 2 nsg unpublish web
	assert_usage_error
	LAST_ERR=$(nsg publish nosuch 8400:80 2>&1) && fail "publish to a gateway that does not exist succeeded: $LAST_ERR"
	note "publish nosuch 8400:80: $LAST_ERR"
	assert_gone nosuch
	LAST_ERR=$(nsg unpublish nosuch 8400:80 2>&1) && fail "unpublish from a gateway that does not exist succeeded: $LAST_ERR"
	pass "publish/unpublish without spec: usage error; unknown gateway: refused"
}

teardown() {
	down_ok web
	down_ok other
	assert_no_residue web other web2
	pass "down web, down other: nothing left"
}

setup
bad_specs
non_local_address
idempotent
unpublish_unknown
conflicts
listener
misc
teardown
