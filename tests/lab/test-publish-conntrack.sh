# SPDX-License-Identifier: MIT
# test-publish-conntrack.sh: unpublish and down end established flows to the
# old mapping: their conntrack entries are deleted, so a UDP flow from a fixed
# source port stops reaching the namespace, and a TCP port is no longer
# answered.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces);
# "the internet" is the lab's inet namespace, 198.51.100.2.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools conntrack

# udp_rounds N SPORT WANT : N datagrams from inet, each from source port
# SPORT to the published 5353, each answered with exactly WANT ("" = none).
udp_rounds() {
	local n=$1 sport=$2 want=$3
	for _ in $(seq "$n"); do
		if [ -n "$want" ]; then
			ASK_OPTS=",sourceport=$sport,reuseaddr" expect_answer udp "$UPLINK_ADDR" 5353 "$want" ip netns exec inet
		else
			ASK_OPTS=",sourceport=$sport,reuseaddr" expect_no_answer udp "$UPLINK_ADDR" 5353 ip netns exec inet
		fi
	done
}

# ct_dnat_entries SPORT : conntrack entries of the flow from inet:SPORT to
# 5353 that were translated to the namespace.
ct_dnat_entries() {
	ct_entries -p udp --orig-src "$INET_ADDR" --orig-port-src "$1" --orig-port-dst 5353 | grep -F "src=$WEB_NS "
}

setup() {
	up_ok web --publish 5353:5300/udp --publish 8080:80
	gw_json web
	WEB_NS=$(gw_field web ns_addr)
	start_tagged_server_in web udp 5300 web
	start_tagged_server_in web tcp 80 web
	pass "web up with 5353:5300/udp and 8080:80, echo servers inside"
}

# The flow from inet:40000 is answered from the namespace; after unpublish
# its conntrack entry is gone and the same source port gets no answer.
unpublish_ends_flow() {
	udp_rounds 3 40000 "web $INET_ADDR"
	ct_dnat_entries 40000 | grep -q . ||
		fail "no conntrack entry for inet:40000 -> 5353 translated to $WEB_NS: $(ct_entries -p udp)"
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	expect_exit 0 nsg unpublish web 5353:5300/udp 8080:80
	[ -z "$(ct_entries -p udp --orig-port-src 40000 --orig-port-dst 5353)" ] ||
		fail "after unpublish, conntrack still holds the flow inet:40000 -> 5353: $(ct_entries -p udp --orig-port-src 40000)"
	udp_rounds 3 40000 ""
	[ -z "$(ct_dnat_entries 40000)" ] ||
		fail "after unpublish, datagrams from inet:40000 were translated to $WEB_NS again: $(ct_entries -p udp --orig-port-src 40000)"
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	expect_published web
	pass "unpublish: the conntrack entry of inet:40000 -> 5353 is deleted, the flow gets no more answers; tcp 8080 refused"
}

# After publishing again, a new source port works at once. (The source port
# used after unpublish may hold an untranslated entry until it expires: only
# noted.)
republish() {
	local got
	expect_exit 0 nsg publish web 5353:5300/udp
	udp_rounds 2 40001 "web $INET_ADDR"
	got=$(ASK_OPTS=",sourceport=40000,reuseaddr" ask udp "$UPLINK_ADDR" 5353 ip netns exec inet 2>/dev/null)
	note "after re-publish, the source port 40000 last used while unpublished gets: '${got:-no answer}'"
	pass "publish again: a new flow (inet:40001) reaches the namespace"
}

# down ends the flow too: no entry is left, and a gateway brought up again
# (same name, same subnet, a server on the same port, nothing published)
# does not get the old flow's datagrams.
down_ends_flow() {
	local again
	ct_dnat_entries 40001 | grep -q . ||
		fail "no conntrack entry for inet:40001 -> 5353 translated to $WEB_NS: $(ct_entries -p udp)"
	down_ok web
	[ -z "$(ct_entries -p udp --orig-port-src 40001 --orig-port-dst 5353)" ] ||
		fail "after down, conntrack still holds the flow inet:40001 -> 5353: $(ct_entries -p udp --orig-port-src 40001)"
	assert_no_residue web
	up_ok web
	gw_json web
	again=$(gw_field web ns_addr)
	start_tagged_server_in web udp 5300 web-again
	if [ "$again" = "$WEB_NS" ]; then
		udp_rounds 2 40001 ""
		[ -z "$(ct_dnat_entries 40001)" ] ||
			fail "after down and up, datagrams from inet:40001 were translated to $WEB_NS: $(ct_entries -p udp --orig-port-src 40001)"
	else
		note "the new web got $again, not $WEB_NS: the re-up check proves less"
		udp_rounds 2 40001 ""
	fi
	down_ok web
	assert_no_residue web
	pass "down: the conntrack entry of inet:40001 -> 5353 is deleted; a new web at $again does not get the old flow"
}

setup
unpublish_ends_flow
republish
down_ends_flow
