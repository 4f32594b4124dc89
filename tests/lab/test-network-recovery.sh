# SPDX-License-Identifier: MIT
# test-network-recovery.sh: published ports of network members (from the
# internet, the host's loopback, another member by hairpin), port conflicts;
# gc puts back what a flush or a hand deleted (table inet nsgate, table
# bridge nsgate, a network's element), and removes a member whose state is
# gone from its network.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

ns_addr() { ip -n "$1" -4 -o addr show dev eth0 | awk '{ split($4, a, "/"); print a[1] }'; }

setup() {
	up_ok web --network app --publish 8080:7100
	up_ok db --network app
	start_server_in web 7100
	start_server_in db 7100
	WEB=$(ns_addr web)
	DB=$(ns_addr db)
	gw_json web
	[ "$(gw_field web ns_addr)" = "$WEB" ] || fail "show web says ns_addr $(gw_field web ns_addr), eth0 has $WEB"
	assert_json "$GW_JSON" '.status == "up" and .networks == [{"name": "app", "address": "'"$WEB"'",
		"address6": null, "bridge": "nsg-+app", "ifname": "eth0", "port": "nsg-web"}]' "show web --json networks"
	pass "web $WEB and db $DB on app, web publishing 8080"
}

# works : what every member should still do.
works() {
	local seen
	seen=$(peer_seen "$UPLINK_ADDR" 8080 ip netns exec inet) || fail "$1: inet cannot reach web's published 8080"
	[ "$seen" = "$INET_ADDR" ] || fail "$1: web saw '$seen' for inet's connection to 8080"
	[ "$(peer_seen "$DB" 7100 run_in_gw web)" = "$WEB" ] || fail "$1: web cannot reach db directly"
	expect_internet run_in_gw db
}

published() {
	works "published"
	peer_seen 127.0.0.1 8080 >/dev/null || fail "the host's 127.0.0.1:8080 does not reach web"
	peer_seen "$UPLINK_ADDR" 8080 run_in_gw db >/dev/null || fail "db cannot reach web's 8080 on the host (hairpin)"
	expect_exit 0 nsg publish db 8081:7100
	[ "$(peer_seen "$UPLINK_ADDR" 8081 ip netns exec inet)" = "$INET_ADDR" ] ||
		fail "inet cannot reach db's published 8081"
	expect_exit 2 nsg publish db 8080:7100
	assert_error_line
	pass "published ports: from inet (no SNAT), the host's loopback, hairpin from db, publish, conflict"
}

flushed() {
	must nft flush ruleset
	expect_exit 0 nsg gc
	works "after flush and gc"
	nft list set bridge nsgate port_src4 | grep -q nsg-db || fail "db's port element is not back after gc"
	must nft delete table bridge nsgate
	expect_exit 0 nsg gc
	nft list set bridge nsgate port_src4 | grep -q nsg-web || fail "table bridge nsgate not back after gc"
	must nft delete element inet nsgate masq_any '{ "nsg-+app" }'
	expect_exit 0 nsg gc
	works "after masq_any's element deleted and gc"
	must ip link del nsg-+app
	expect_exit 0 nsg gc
	ip -4 -o addr show dev nsg-+app | grep -q " 10.201.0.1/24 " || fail "bridge nsg-+app not made again by gc"
	works "after the bridge was deleted and gc"
	expect_exit 0 nsg gc
	[ -z "$LAST_OUT" ] || fail "gc with nothing to do printed '$LAST_OUT'"
	pass "gc restores a flushed ruleset, table bridge nsgate, a network's element, its bridge; then does nothing"
}

# watch repairs as it happens: table bridge nsgate deleted, the bridge deleted.
watched() {
	local wlog=$LAB_TMP/watch.log
	start_nsgate_bg "$wlog" watch
	WATCH=$BG_PID
	wait_for grep -q listening "$wlog" || fail "watch never listened: $(cat "$wlog")"
	must nft delete table bridge nsgate
	wait_for nft list set bridge nsgate port_src4 || fail "watch did not bring table bridge nsgate back: $(cat "$wlog")"
	wait_for eval 'nft list set bridge nsgate port_src4 | grep -q nsg-db' ||
		fail "watch brought table bridge nsgate back without db's element: $(cat "$wlog")"
	must ip link del nsg-+app
	wait_for eval 'ip -4 -o addr show dev nsg-+app | grep -q " 10.201.0.1/24 "' ||
		fail "watch did not make bridge nsg-+app again: $(cat "$wlog")"
	wait_for eval '[ "$(basename "$(readlink /sys/class/net/nsg-db/master)")" = nsg-+app ]' ||
		fail "watch made the bridge again without db's port on it"
	works "after watch's repairs"
	kill "$WATCH"
	wait "$WATCH" 2>/dev/null
	pass "watch brings back table bridge nsgate and a deleted bridge with its ports"
}

lost_state() {
	must rm /run/nsgate/db.state
	expect_exit 0 nsg gc
	[[ "$LAST_OUT" == *db* ]] || fail "gc did not report db: $LAST_OUT"
	expect_exit 0 nsg network list --json
	assert_json "$LAST_OUT" '[.[0].members[].name] == ["web"]' "app's members after db's state was lost"
	grep -q db /etc/netns/web/hosts && fail "db still in web's hosts: $(cat /etc/netns/web/hosts)"
	[ -e /etc/netns/db ] && fail "/etc/netns/db is left"
	ip link show nsg-db >/dev/null 2>&1 && fail "nsg-db is left"
	expect_internet run_in_gw web
	down_ok web
	assert_no_residue web db
	nft list table bridge nsgate >/dev/null 2>&1 && fail "table bridge nsgate is left"
	[ -z "$(ls -A /run/nsgate/networks 2>/dev/null)" ] || fail "network files left"
	pass "gc removes a member whose state is gone from its network; the last down leaves nothing"
}

setup
published
flushed
watched
lost_state
