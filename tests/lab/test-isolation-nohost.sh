# SPDX-License-Identifier: MIT
# test-isolation-nohost.sh: `--no-host` keeps a namespace off the host's own
# addresses. A host service on every address (the uplink's, the gateway's own
# host side, 127.0.0.1) is unreachable from gateway n (--no-host) and
# reachable from gateway m (default), and so is another gateway's port
# published on the host's address; the DNS server n was given, on a host
# address, answers over UDP and TCP; the host's own connections into n get
# their replies; n reaches the internet. `show`/`list --json` say no_host;
# `apply` turns it off and on again in place (same link, no re-create).
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"
up_ok m --publish 8080:80
up_ok n --no-host --dns "$UPLINK_ADDR"
start_tagged_server_in host tcp 9100 host          # every host address
start_tagged_server_in host udp 9101 host
start_tagged_server_in host udp 53 dns "$UPLINK_ADDR"
start_tagged_server_in host tcp 53 dns "$UPLINK_ADDR"
start_tagged_server_in m tcp 80 m
start_tagged_server_in n tcp 80 n
gw_addrs m
M_HOST=$GW_HOST
M_NS_ADDR=$GW_NS
gw_addrs n
N_HOST=$GW_HOST
N_NS=$GW_NS
[ "$(gw_field n no_host)" = true ] || fail "show n --json: no_host is '$(gw_field n no_host)', expected true"
gw_json m
[ "$(gw_field m no_host)" = false ] || fail "show m --json: no_host is '$(gw_field m no_host)', expected false"
[ "$(nsg list --json | jq -c '[.[] | {name, no_host}]')" = '[{"name":"m","no_host":false},{"name":"n","no_host":true}]' ] ||
	fail "list --json does not say no_host: $(nsg list --json)"

# expect_host_open : m reaches the host's services on its addresses.
expect_host_open() {
	expect_answer tcp "$UPLINK_ADDR" 9100 "host $M_NS_ADDR" run_in_gw m
	expect_answer tcp "$M_HOST" 9100 "host $M_NS_ADDR" run_in_gw m
	# udp to the gateway's own host side: a server on 0.0.0.0 answers from there
	expect_answer udp "$M_HOST" 9101 "host $M_NS_ADDR" run_in_gw m
}
expect_host_open
pass "m (default) reaches the host's services on $UPLINK_ADDR and $M_HOST"

# expect_host_closed : n reaches nothing of the host but its DNS server.
expect_host_closed() {
	expect_no_answer tcp "$UPLINK_ADDR" 9100 run_in_gw n
	expect_no_answer tcp "$N_HOST" 9100 run_in_gw n
	expect_no_answer udp "$N_HOST" 9101 run_in_gw n
	expect_no_answer tcp 127.0.0.1 9100 run_in_gw n
	# another gateway's port published on the host's address is the host's too
	expect_no_answer tcp "$UPLINK_ADDR" 8080 run_in_gw n
	expect_answer udp "$UPLINK_ADDR" 53 "dns $N_NS" run_in_gw n
	expect_answer tcp "$UPLINK_ADDR" 53 "dns $N_NS" run_in_gw n
	# the host's own connection into n gets its reply
	expect_answer tcp "$N_NS" 80 "n $N_HOST"
	expect_internet run_in_gw n
}
expect_host_closed
expect_answer tcp "$UPLINK_ADDR" 8080 "m $INET_ADDR" ip netns exec inet
pass "n (--no-host) reaches neither the host's services nor m's published port; its DNS server answers (udp, tcp), the host's connection into n works, n reaches the internet"

# apply: no_host off and on again, in place.
IFINDEX=$(cat /sys/class/net/nsg-n/ifindex)
CONF=$LAB_TMP/gw.conf
printf '[m]\npublish = 8080:80\n[n]\ndns = %s\nno_host = no\n' "$UPLINK_ADDR" >"$CONF"
expect_exit 0 nsg apply "$CONF"
grep -q '^n: updated' <<<"$LAST_OUT" || fail "apply did not update n in place: $LAST_OUT"
[ "$(cat /sys/class/net/nsg-n/ifindex)" = "$IFINDEX" ] || fail "apply re-created n to change no_host"
expect_answer tcp "$UPLINK_ADDR" 9100 "host $N_NS" run_in_gw n
gw_json n
[ "$(gw_field n no_host)" = false ] || fail "after apply no_host = no, show n says no_host '$(gw_field n no_host)'"
printf '[m]\npublish = 8080:80\n[n]\ndns = %s\nno_host = yes\n' "$UPLINK_ADDR" >"$CONF"
expect_exit 0 nsg apply "$CONF"
grep -q '^n: updated' <<<"$LAST_OUT" || fail "apply did not update n in place: $LAST_OUT"
expect_host_closed
assert_kernel_matches_list
expect_exit 0 nsg apply "$CONF"
grep -q '^n: unchanged' <<<"$LAST_OUT" || fail "a second apply changed n: $LAST_OUT"
pass "apply turns no_host off and on in place (ifindex $IFINDEX kept); the same file again changes nothing"

expect_exit 0 nsg down --all
assert_no_residue m n
