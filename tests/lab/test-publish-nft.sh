# SPDX-License-Identifier: MIT
# test-publish-nft.sh: published ports are map elements of table inet nsgate
# carrying the gateway's name as comment, never rules: publishing 100 ports
# adds no rule. show reads the ports back from the kernel; down removes
# exactly its gateway's elements and, with the last gateway, everything.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

elements() { echo "ports4: $(nft_map_elems ports4 "$1"), ports4h: $(nft_map_elems ports4h "$1")"; }

setup() {
	up_ok web
	gw_json web
	WEB_NS=$(gw_field web ns_addr)
	RULES=$(nft_rule_count)
	[ "$RULES" -gt 0 ] || fail "table inet nsgate has no rules after up: $(nft -a list table inet nsgate)"
	{ [ "$(nft_map_elems ports4)" = 0 ] && [ "$(nft_map_elems ports4h)" = 0 ]; } ||
		fail "maps hold elements before any publish: $(nft list table inet nsgate)"
	pass "web up: $RULES rules, empty port maps"
}

# Map elements with comment "web"; the rule count does not move.
elements_not_rules() {
	expect_exit 0 nsg publish web 8080:80 "$UPLINK_ADDR:8082:80" 5353:53/udp
	nft list map inet nsgate ports4 | grep -q "tcp \. 8080 comment \"web\" : $WEB_NS \. 80" ||
		fail "map ports4 lacks 'tcp . 8080 comment \"web\" : $WEB_NS . 80': $(nft list map inet nsgate ports4)"
	nft list map inet nsgate ports4 | grep -q "udp \. 5353 comment \"web\" : $WEB_NS \. 53" ||
		fail "map ports4 lacks 'udp . 5353 comment \"web\" : $WEB_NS . 53': $(nft list map inet nsgate ports4)"
	nft list map inet nsgate ports4h | grep -q "$UPLINK_ADDR \. tcp \. 8082 comment \"web\" : $WEB_NS \. 80" ||
		fail "map ports4h lacks '$UPLINK_ADDR . tcp . 8082 comment \"web\" : $WEB_NS . 80': $(nft list map inet nsgate ports4h)"
	[ "$(nft_rule_count)" = "$RULES" ] ||
		fail "publishing 3 ports changed the rule count from $RULES to $(nft_rule_count): $(nft -a list table inet nsgate)"
	pass "publish: elements with comment \"web\" in ports4/ports4h, still $RULES rules"
}

# 100 ports: still no new rule; show merges them into one range.
hundred_ports() {
	local n
	expect_exit 0 nsg publish web 20000-20099:30000-30099
	[ "$(nft_rule_count)" = "$RULES" ] ||
		fail "publishing 100 ports changed the rule count from $RULES to $(nft_rule_count)"
	n=$(nft_map_elems ports4 web)
	[ "$n" -ge 3 ] || fail "map ports4 holds only $n elements of web after publishing 100 more ports"
	note "elements of web after 103 ports: $(elements web)"
	nft list map inet nsgate ports4 | grep -q "tcp \. 20099 comment \"web\" : $WEB_NS \. 30099" ||
		note "no single element for tcp . 20099 (the range may be stored as an interval)"
	expect_published web \
		"$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS")" \
		"$(pub_entry "$UPLINK_ADDR" 8082 8082 80 80 tcp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 5353 5353 53 53 udp "$WEB_NS")" \
		"$(pub_entry 0.0.0.0 20000 20099 30000 30099 tcp "$WEB_NS")"
	pass "100 more ports: still $RULES rules; show merges them into 20000-20099 -> 30000-30099"
}

# show reads the kernel: an element deleted behind nsgate's back is no
# longer shown; consecutive single publishes are shown merged.
show_reads_kernel() {
	must nft delete element inet nsgate ports4 "{ tcp . 8080 }"
	published_json web
	jq -e 'map(select(.host_port <= 8080 and .host_end >= 8080 and .proto == "tcp" and .host_addr == "0.0.0.0")) == []' \
		>/dev/null <<<"$PUB_JSON" || fail "show still lists 8080/tcp after its element was deleted with nft: $PUB_JSON"
	# Publishing it again restores it (not specified: only reported).
	expect_exit 0 nsg publish web 8080:80
	published_json web
	if jq -e 'map(select(.host_port == 8080 and .proto == "tcp" and .host_addr == "0.0.0.0")) != []' >/dev/null <<<"$PUB_JSON"; then
		note "publish 8080:80 after its element was deleted with nft: restored"
	else
		note "publish 8080:80 after its element was deleted with nft: exit 0 but NOT restored: $PUB_JSON"
	fi
	expect_exit 0 nsg publish web 8084:84
	expect_exit 0 nsg publish web 8085:85
	expect_exit 0 nsg publish web 8086:86
	published_json web
	jq -e --arg ns "$WEB_NS" 'index([{host_addr: "0.0.0.0", host_port: 8084, host_end: 8086, port: 84, end: 86, proto: "tcp", to: $ns, to6: null}]) != null' \
		>/dev/null <<<"$PUB_JSON" || fail "8084:84, 8085:85, 8086:86 published one by one are not shown as 8084-8086 -> 84-86: $PUB_JSON"
	jq -e 'map(select(.host_addr == "0.0.0.0" and .host_port == 8085)) == []' >/dev/null <<<"$PUB_JSON" ||
		fail "8085 is shown apart from the merged 8084-8086 range: $PUB_JSON"
	pass "show reads the kernel (an element deleted with nft disappears) and merges consecutive ports"
}

# A second gateway: its own elements; down of one removes exactly its own.
two_gateways() {
	local web_before
	web_before=$(elements web)
	up_ok other --publish 8090:80 --publish 8091-8092:81-82/udp
	gw_json other
	nft list map inet nsgate ports4 | grep -q "tcp \. 8090 comment \"other\"" ||
		fail "map ports4 lacks other's element: $(nft list map inet nsgate ports4)"
	[ "$(nft_rule_count)" = "$RULES" ] || fail "a second gateway with ports changed the rule count from $RULES to $(nft_rule_count)"
	expect_exit 0 nsg unpublish web 20000-20099:30000-30099
	[ "$(nft_rule_count)" = "$RULES" ] || fail "unpublish changed the rule count from $RULES to $(nft_rule_count)"
	nft list map inet nsgate ports4 | grep -q ' 200[0-9][0-9] ' && fail "unpublish left ports of 20000-20099: $(nft list map inet nsgate ports4)"
	down_ok web
	assert_gone web
	{ [ "$(nft_map_elems ports4 web)" = 0 ] && [ "$(nft_map_elems ports4h web)" = 0 ]; } ||
		fail "down web left elements of web: $(nft list table inet nsgate)"
	[ "$(nft_map_elems ports4 other)" -ge 2 ] ||
		fail "down web changed other's elements ($(elements other)): $(nft list map inet nsgate ports4)"
	expect_published other \
		"$(pub_entry 0.0.0.0 8090 8090 80 80 tcp "$(gw_field other ns_addr)")" \
		"$(pub_entry 0.0.0.0 8091 8092 81 82 udp "$(gw_field other ns_addr)")"
	down_ok other
	assert_no_residue web other
	pass "other's elements carry \"other\"; down web removes only web's (had $web_before); down other leaves nothing"
}

setup
elements_not_rules
hundred_ports
show_reads_kernel
two_gateways
