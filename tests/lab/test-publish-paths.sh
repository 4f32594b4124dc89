# SPDX-License-Identifier: MIT
# test-publish-paths.sh: a published port answers on every path into the host
# (from inet, from the lab host to its own address and to 127.0.0.1, hairpin
# from the namespace itself, from another gateway's namespace), a spec bound
# to one host address answers only there, and publishing opens nothing else.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces);
# "the internet" is the lab's inet namespace, 198.51.100.2.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

SECOND_ADDR=198.51.100.3    # a second address of the lab host, added below
LOCALNET_BEFORE=$(sysctl -n net.ipv4.conf.all.route_localnet)

# 1. up --publish 8080:80: a client in inet reaches the service in the
# namespace, which sees the client's real address (no masquerade inbound).
from_inet() {
	up_ok web --publish 8080:80
	gw_json web
	WEB_NS=$(gw_field web ns_addr)
	WEB_HOST=$(gw_field web host_addr)
	expect_published web "$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")"
	start_tagged_server_in web tcp 80 web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	# Only the published port: 8081 is not forwarded (the lab host refuses it).
	expect_no_answer tcp "$UPLINK_ADDR" 8081 ip netns exec inet
	pass "up --publish 8080:80: inet -> $UPLINK_ADDR:8080 reaches web's :80, which sees $INET_ADDR"
}

# 2. The lab host to its own uplink address (nat output chain).
from_host_to_own_addr() {
	local got
	got=$(ask tcp "$UPLINK_ADDR" 8080 2>"$LAB_TMP/ask.err")
	case $got in
	"web $UPLINK_ADDR" | "web $WEB_HOST") ;;
	*) fail "lab host -> $UPLINK_ADDR:8080: answer '$got', expected 'web $UPLINK_ADDR' (or 'web $WEB_HOST') $(cat "$LAB_TMP/ask.err")" ;;
	esac
	pass "lab host -> its own $UPLINK_ADDR:8080 reaches web (server saw ${got#web })"
}

# 3. The lab host to 127.0.0.1 (route_localnet, loopback source masqueraded
# to the gateway's host address); a spec bound to the uplink address does not
# answer on 127.0.0.1.
from_host_loopback() {
	expect_answer tcp 127.0.0.1 8080 "web $WEB_HOST"
	expect_exit 0 nsg publish web "$UPLINK_ADDR:8082:80"
	expect_published web "$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry "$UPLINK_ADDR" 8082 8082 80 80 tcp "$WEB_NS")"
	expect_answer tcp "$UPLINK_ADDR" 8082 "web $INET_ADDR" ip netns exec inet
	ask tcp "$UPLINK_ADDR" 8082 | grep -q '^web ' || fail "lab host -> $UPLINK_ADDR:8082 (bound spec) does not reach web"
	expect_no_answer tcp 127.0.0.1 8082
	pass "lab host -> 127.0.0.1:8080 reaches web (seen as $WEB_HOST); bound $UPLINK_ADDR:8082 does not answer on 127.0.0.1"
}

# 4. Hairpin from the namespace itself, and another gateway's namespace
# through the published port; direct connections between the namespaces
# stay blocked, published or not.
hairpin_and_other_gateway() {
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $WEB_HOST" ip netns exec web
	up_ok other --publish 8090:80
	gw_json other
	OTHER_NS=$(gw_field other ns_addr)
	OTHER_HOST=$(gw_field other host_addr)
	start_tagged_server_in other tcp 80 other
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $WEB_HOST" ip netns exec other
	expect_answer tcp "$UPLINK_ADDR" 8090 "other $OTHER_HOST" ip netns exec web
	expect_answer tcp "$UPLINK_ADDR" 8090 "other $OTHER_HOST" ip netns exec other
	# Sanity: each server answers on its namespace address from inside.
	expect_answer tcp "$WEB_NS" 80 "web $WEB_NS" ip netns exec web
	expect_answer tcp "$OTHER_NS" 80 "other $OTHER_NS" ip netns exec other
	expect_no_answer tcp "$WEB_NS" 80 ip netns exec other
	expect_no_answer tcp "$OTHER_NS" 80 ip netns exec web
	# inet, given a route, cannot reach the namespace directly either.
	must ip -n inet route add "${WEB_NS%.*}.0/24" via "$UPLINK_ADDR"
	expect_no_answer tcp "$WEB_NS" 80 ip netns exec inet
	must ip -n inet route del "${WEB_NS%.*}.0/24" via "$UPLINK_ADDR"
	pass "hairpin web -> $UPLINK_ADDR:8080 and other <-> web through published ports (seen as the gateway's host address); direct $WEB_NS:80 <-> $OTHER_NS:80 and inet -> $WEB_NS:80 blocked"
}

# 6. A spec bound to a second host address answers only on that address.
bound_address() {
	must ip addr add "$SECOND_ADDR/24" dev up0
	wait_for ip netns exec inet ping -c1 -W1 -q "$SECOND_ADDR" || fail "inet cannot reach $SECOND_ADDR"
	expect_exit 0 nsg publish web "$SECOND_ADDR:8081:80"
	published_json web
	jq -e --argjson e "$(pub_entry "$SECOND_ADDR" 8081 8081 80 80 tcp "$WEB_NS")" 'index([$e]) != null' \
		>/dev/null <<<"$PUB_JSON" || fail "show web --json does not list $SECOND_ADDR:8081:80: $PUB_JSON"
	expect_answer tcp "$SECOND_ADDR" 8081 "web $INET_ADDR" ip netns exec inet
	expect_no_answer tcp "$UPLINK_ADDR" 8081 ip netns exec inet
	expect_no_answer tcp 127.0.0.1 8081
	ask tcp "$SECOND_ADDR" 8081 | grep -q '^web ' || fail "lab host -> $SECOND_ADDR:8081 does not reach web"
	# The unbound 8080 answers on the second address too (any local address).
	expect_answer tcp "$SECOND_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	pass "$SECOND_ADDR:8081:80 answers on $SECOND_ADDR:8081 only, not on $UPLINK_ADDR:8081 nor 127.0.0.1:8081"
}

# Unpublish closes each path; down leaves nothing (route_localnet included).
cleanup() {
	local lnet
	expect_exit 0 nsg unpublish web 8080:80 "$SECOND_ADDR:8081:80" "$UPLINK_ADDR:8082:80"
	expect_published web
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	expect_no_answer tcp "$SECOND_ADDR" 8081 ip netns exec inet
	expect_no_answer tcp 127.0.0.1 8080
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec other
	expect_answer tcp "$UPLINK_ADDR" 8090 "other $INET_ADDR" ip netns exec inet
	down_ok web
	assert_gone web
	expect_answer tcp "$UPLINK_ADDR" 8090 "other $INET_ADDR" ip netns exec inet
	down_ok other
	assert_no_residue web other
	lnet=$(sysctl -n net.ipv4.conf.all.route_localnet)
	[ "$lnet" = "$LOCALNET_BEFORE" ] ||
		fail "net.ipv4.conf.all.route_localnet is $lnet after down, was $LOCALNET_BEFORE before"
	lnet=$(sysctl -n net.ipv4.conf.up0.route_localnet)
	[ "$lnet" = 0 ] || fail "net.ipv4.conf.up0.route_localnet is $lnet after down (was 0)"
	pass "unpublish closes inet, loopback and gateway-to-gateway paths; down leaves nothing"
}

from_inet
from_host_to_own_addr
from_host_loopback
hairpin_and_other_gateway
bound_address
cleanup
