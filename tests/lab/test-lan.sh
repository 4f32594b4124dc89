# SPDX-License-Identifier: MIT
# test-lan.sh: LAN mode (--lan IFACE): the namespace directly on the lab
# uplink's segment through a macvlan on up0; inet sees its own address, not
# the host's. Static addresses, DHCP from dnsmasq in inet (dhclient inside,
# as nsgate.8 documents), attached namespaces, bad input, gc, list/show.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools dhclient dnsmasq pgrep

LAN_ADDR=198.51.100.50
LAN_ADDR2=198.51.100.51

# What the host has of its own: addresses, routes of every table, links but
# their counters. LAN mode must leave all of it as it was.
host_snapshot() {
	ip -o addr show
	ip route show table all
	ip -6 route show table all
	ip -o link show | sed 's/ qlen [0-9]*//'
	cat /proc/sys/net/ipv4/conf/up0/forwarding /proc/sys/net/ipv4/ip_forward
}

# eth0 in netns NS is nsgate's macvlan for NAME: bridge mode, labelled.
assert_macvlan() {
	local ns=$1 name=$2 d
	d=$(ip -n "$ns" -d link show eth0) || fail "no eth0 in $ns"
	grep -q 'macvlan mode bridge' <<<"$d" || fail "eth0 in $ns is not a bridge-mode macvlan: $d"
	grep -q "alias nsgate:$name lan" <<<"$d" || fail "eth0 in $ns is not labelled 'nsgate:$name lan': $d"
	grep -q '[<,]UP[,>]' <<<"$d" || fail "eth0 in $ns is not up: $d"
}

# inet sees a connection from ADDR, the namespace's own address.
expect_seen_as() {
	local name=$1 want=$2 seen
	seen=$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw "$name" 2>"$LAB_TMP/peer.err")
	[ "$seen" = "$want" ] || fail "via $name: inet saw '$seen', expected $want (its own address): $(cat "$LAB_TMP/peer.err")"
}

static_address() {
	local before out
	before=$(host_snapshot)
	up_ok lanw --lan up0 --address "$LAN_ADDR/24"
	out=$LAST_OUT
	[ "$out" = "lanw: up on LAN up0 $LAN_ADDR/24 via $INET_ADDR, namespace /run/netns/lanw" ] ||
		fail "up --lan printed '$out'"
	[ -z "$LAST_ERR" ] || fail "up --lan warned: $LAST_ERR"
	assert_macvlan lanw lanw
	[ "$(ip -n lanw -4 -o addr show dev eth0 | awk '{ print $4 }')" = "$LAN_ADDR/24" ] ||
		fail "eth0 in lanw lacks $LAN_ADDR/24: $(ip -n lanw -4 -o addr show)"
	case $(ip -n lanw route show default) in
	"default via $INET_ADDR dev eth0"*) ;;
	*) fail "lanw's default route: $(ip -n lanw route show default)" ;;
	esac
	ip -n lanw -o link show lo | grep -q 'LOOPBACK,UP' || fail "lo in lanw is down"
	expect_seen_as lanw "$LAN_ADDR"
	grep -qx "nameserver $INET_ADDR" /etc/netns/lanw/resolv.conf ||
		fail "/etc/netns/lanw/resolv.conf lacks the host's nameserver: $(cat /etc/netns/lanw/resolv.conf 2>&1)"
	[ "$(host_snapshot)" = "$before" ] ||
		fail "up --lan changed the host: $(diff <(echo "$before") <(host_snapshot))"
	nft list table inet nsgate >/dev/null 2>&1 && fail "up --lan made table inet nsgate: $(nft list ruleset)"
	# The host cannot reach its own macvlan children (a macvlan limitation).
	ping -c1 -W1 -q "$LAN_ADDR" >/dev/null 2>&1 && fail "the host reached $LAN_ADDR through up0's macvlan"
	# Same request: unchanged; another: refused.
	up_ok lanw --lan up0 --address "$LAN_ADDR/24"
	[ "$LAST_OUT" = "lanw: unchanged on LAN up0 $LAN_ADDR/24 via $INET_ADDR, namespace /run/netns/lanw" ] ||
		fail "second up printed '$LAST_OUT'"
	expect_exit 2 nsg up lanw --lan up0 --address "$LAN_ADDR2/24"
	assert_error_line
	expect_exit 2 nsg publish lanw 8080:80
	assert_error_line
	pass "up --lan up0 --address: inet sees $LAN_ADDR; host untouched, no table, DNS written"
}

list_show() {
	local j
	gw_json lanw
	assert_json "$GW_JSON" '.mode == "lan" and .status == "up"' "show lanw --json: mode, status"
	assert_json "$GW_JSON" ".lan == {iface: \"up0\", address: \"$LAN_ADDR/24\", gateway: \"$INET_ADDR\"}" \
		"show lanw --json: lan"
	assert_json "$GW_JSON" ".ns_addr == \"$LAN_ADDR\" and .subnet == null and .host_addr == null and .host_ifname == null" \
		"show lanw --json: NAT fields"
	assert_json "$GW_JSON" '.link.ifname == "eth0" and .link.up == true and .nftables.elements == 0' \
		"show lanw --json: link"
	assert_json "$GW_JSON" '.published == [] and (.dns | length) == 1' "show lanw --json: published, dns"
	expect_exit 0 nsg show lanw
	grep -q '^  mode       lan, macvlan eth0 on up0$' <<<"$LAST_OUT" || fail "show lanw: $LAST_OUT"
	grep -q "^  address    $LAN_ADDR/24, gateway $INET_ADDR\$" <<<"$LAST_OUT" || fail "show lanw: $LAST_OUT"
	up_ok natw
	expect_exit 0 nsg list --json
	j=$LAST_OUT
	assert_json "$j" '[.[] | {name, mode}] == [{name: "lanw", mode: "lan"}, {name: "natw", mode: "nat"}]' "list --json modes"
	assert_json "$j" '.[1].lan == null and .[1].subnet != null' "list --json: the NAT gateway"
	expect_exit 0 nsg list
	grep -Eq "^lanw +up +$LAN_ADDR/24 +lan:up0 +/run/netns/lanw\$" <<<"$LAST_OUT" || fail "list: $LAST_OUT"
	grep -Eq '^natw +up +10\.200\.' <<<"$LAST_OUT" || fail "list: $LAST_OUT"
	# doctor: no NAT checks for the LAN gateway, its link and route pass.
	# (Its exit status is the host's too: only lanw's findings count here.)
	j=$(nsg doctor lanw --json)
	assert_json "$j" '[.findings[] | select(.gateway == "lanw") | .check] - ["state", "link", "netns", "dns"] == []' \
		"doctor lanw: only LAN checks"
	assert_json "$j" '[.findings[] | select(.gateway == "lanw" and .problem)] == []' "doctor lanw: no problem"
	assert_json "$j" '[.findings[] | select(.gateway == "lanw" and .check == "dns")] | length == 1' "doctor lanw: dns checked"
	# A flushed ruleset: the NAT gateway is restored, the LAN one never flagged.
	must nft flush ruleset
	expect_exit 0 nsg gc
	grep -q lanw <<<"$LAST_OUT$LAST_ERR" && fail "gc after a flush mentions lanw: $LAST_OUT $LAST_ERR"
	nft list table inet nsgate | grep -q lanw && fail "the restored table names lanw"
	expect_internet run_in_gw natw
	# The last NAT gateway's down takes the table and the forwarding with
	# it, though a LAN gateway stays.
	down_ok natw
	assert_gone natw
	nft list table inet nsgate >/dev/null 2>&1 && fail "table inet nsgate left with only lanw up"
	[ "$(cat /proc/sys/net/ipv4/conf/up0/forwarding)" = "$LAB_UP0_FORWARDING" ] || fail "up0 forwarding left on"
	expect_seen_as lanw "$LAN_ADDR"
	down_ok lanw
	assert_no_residue lanw natw
	pass "list, show, --json (mode, lan), doctor, flush recovery; the last NAT gateway's down cleans up beside a LAN one"
}

# watch beside a LAN gateway: a flush brings the NAT gateway's table back,
# and the LAN gateway is never reported; with the NAT gateway gone, no
# table is made for the LAN one.
watch_lan() {
	local wlog=$LAB_TMP/watch.log watch
	up_ok lanw --lan up0 --address "$LAN_ADDR/24"
	up_ok natw
	start_nsgate_bg "$wlog" watch
	watch=$BG_PID
	wait_for grep -q listening "$wlog" || fail "watch never listened: $(cat "$wlog")"
	must nft flush ruleset
	wait_for grep -qx 'watch: restored table inet nsgate' "$wlog" || fail "watch did not restore the table: $(cat "$wlog")"
	expect_internet run_in_gw natw
	down_ok natw
	sleep 0.3   # watch's settle time for a burst of events, and its round
	nft list table inet nsgate >/dev/null 2>&1 && fail "watch made table inet nsgate for the LAN gateway alone"
	kill -0 "$watch" 2>/dev/null || fail "watch died: $(cat "$wlog")"
	grep -q lanw "$wlog" && fail "watch reported the LAN gateway: $(cat "$wlog")"
	[ "$(gw_status lanw)" = up ] || fail "lanw is $(gw_status lanw) beside watch"
	kill -TERM "$watch"
	wait_exit "$watch" 5 || fail "watch still running 5 s after SIGTERM"
	down_ok lanw
	assert_no_residue lanw natw
	pass "watch: a flush restores the NAT gateway's table, the LAN gateway is never reported or given a table"
}

# dnsmasq in inet: DNS and DHCP on inet0, leases from .100-.150.
start_inet_dhcp() {
	ip netns exec inet dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--address=/example.test/203.0.113.7 --interface=inet0 --bind-interfaces --port 53 \
		--dhcp-range=198.51.100.100,198.51.100.150,255.255.255.0,10m \
		--dhcp-option=option:router,"$INET_ADDR" --dhcp-option=option:dns-server,"$INET_ADDR" \
		--dhcp-leasefile="$LAB_TMP/dnsmasq.leases" --dhcp-authoritative --user=root \
		--pid-file="$LAB_TMP/dnsmasq.pid" --log-facility=- --log-dhcp >"$LAB_TMP/dnsmasq.log" 2>&1 &
	wait_for inet_dns_listening || fail "dnsmasq did not start: $(cat "$LAB_TMP/dnsmasq.log")"
}

dhcp() {
	local pf=/run/dhclient-land.pid lf=$LAB_TMP/dhclient-land.leases addr lab_resolv
	lab_resolv=$(cat "$LAB_RESOLV")
	up_ok land --lan up0
	grep -q '^land: up on LAN up0, no address (nsgate exec land -- dhclient ' <<<"$LAST_OUT" ||
		fail "up --lan without --address printed '$LAST_OUT'"
	gw_json land
	assert_json "$GW_JSON" '.status == "up" and .lan.address == null and .lan.gateway == null and .ns_addr == null' \
		"show land --json before DHCP"
	# As nsgate.8 says: the client's own pid and lease files.
	# dhclient stays in the background with the lease: its output to a file.
	timeout -k 2 30 "$NSGATE" exec land -- dhclient -1 -v -pf "$pf" -lf "$lf" eth0 \
		</dev/null >"$LAB_TMP/dhclient.log" 2>&1 || fail "dhclient in land failed: $(cat "$LAB_TMP/dhclient.log")"
	addr=$(ip -n land -4 -o addr show dev eth0 | awk '{ print $4 }')
	case $addr in
	198.51.100.1[0-4][0-9]/24 | 198.51.100.150/24) ;;
	*) fail "no DHCP lease on land's eth0 ('$addr'): $(cat "$LAB_TMP/dnsmasq.log")" ;;
	esac
	expect_seen_as land "${addr%/*}"
	grep -qx "nameserver $INET_ADDR" /etc/netns/land/resolv.conf || fail "land's resolv.conf: $(cat /etc/netns/land/resolv.conf)"
	[ "$(cat "$LAB_RESOLV")" = "$lab_resolv" ] || fail "dhclient rewrote the host's resolv.conf: $(cat "$LAB_RESOLV")"
	ip netns exec land getent hosts example.test | grep -q 203.0.113.7 || fail "land cannot resolve example.test"
	gw_json land
	assert_json "$GW_JSON" ".status == \"up\" and (.link.addresses | index(\"$addr\")) != null" "show land --json after DHCP"
	timeout -k 2 30 "$NSGATE" exec land -- dhclient -r -pf "$pf" -lf "$lf" eth0 \
		</dev/null >>"$LAB_TMP/dhclient.log" 2>&1 || fail "dhclient -r in land failed: $(cat "$LAB_TMP/dhclient.log")"
	wait_for sh -c '! pgrep -x dhclient' || fail "dhclient still runs after -r"
	down_ok land
	assert_no_residue land
	pass "up --lan up0 without --address: dhclient inside leases $addr from dnsmasq in inet, inet sees it"
}

attached() {
	local mac
	must ip netns add att
	must ip -n att link add keep0 type veth peer name keep1
	up_ok lana --lan up0 --netns att --address "$LAN_ADDR2/24" --gateway "$INET_ADDR"
	assert_macvlan att lana
	mac=$(ip -n att -o link show eth0 | grep -o 'link/ether [0-9a-f:]*')
	case $mac in
	"link/ether "?[26ae]:*) ;;
	*) fail "lana's MAC '$mac' is not a locally administered unicast one" ;;
	esac
	expect_seen_as lana "$LAN_ADDR2"
	gw_json lana
	assert_json "$GW_JSON" '.lan.gateway == "198.51.100.2" and .netns_created == false' "show lana --json"
	down_ok lana
	ip -n att link show eth0 >/dev/null 2>&1 && fail "down left eth0 in the attached namespace"
	ip -n att link show keep0 >/dev/null 2>&1 || fail "down took the attached namespace's own keep0"
	ip -n att -o link show lo | grep -q 'LOOPBACK,UP' && fail "down left att's lo up"
	assert_no_residue lana
	# An eth0 of the namespace's own is refused, and kept.
	must ip -n att link add eth0 type veth peer name eth1
	expect_exit 2 nsg up lana --lan up0 --netns att
	assert_error_line
	ip -n att link show eth0 >/dev/null 2>&1 || fail "a refused up took att's own eth0"
	must ip -n att link del eth0
	# gc: the macvlan deleted by hand. Its MAC address is the name's, at
	# every up (the LAN's DHCP server and neighbour caches see one machine).
	up_ok lana --lan up0 --netns att
	[ "$(ip -n att -o link show eth0 | grep -o 'link/ether [0-9a-f:]*')" = "$mac" ] ||
		fail "lana's MAC changed from '$mac' at a second up: $(ip -n att -o link show eth0)"
	must ip -n att link del eth0
	[ "$(gw_status lana)" = link-missing ] || fail "lana without its macvlan: status $(gw_status lana)"
	expect_exit 0 nsg gc
	grep -q 'lana' <<<"$LAST_OUT$LAST_ERR" || fail "gc did not report lana: $LAST_OUT $LAST_ERR"
	assert_no_residue lana
	must ip netns del att
	# gc: an own namespace deleted by hand takes its macvlan.
	up_ok lang --lan up0
	must ip netns del lang
	expect_exit 0 nsg gc
	grep -q 'lang' <<<"$LAST_OUT$LAST_ERR" || fail "gc did not report lang: $LAST_OUT $LAST_ERR"
	assert_no_residue lang
	# The namespace's end is the kernel's, later (cleanup_net): until then
	# the old macvlan holds the name's MAC, and an up at once must wait for
	# it, not fail (it did, 4 times in 5, with "Address already in use").
	local i
	for i in 1 2 3 4 5; do
		up_ok lang --lan up0
		must ip netns del lang
		expect_exit 0 nsg gc
		up_ok lang --lan up0
		assert_macvlan lang lang
		down_ok lang
	done
	assert_no_residue lang
	pass "--netns: the macvlan goes at down, the namespace's own links stay; gc removes a LAN gateway whose macvlan or namespace vanished; an up right after waits for the old macvlan's MAC"
}

# A failed step leaves nothing, an attached namespace as found.
rollback() {
	local step
	must ip netns add att
	for step in netns lan dns state; do
		expect_exit 1 env NSGATE_TEST_FAIL_STEP=$step timeout -k 2 30 "$NSGATE" up lanr --lan up0 --address "$LAN_ADDR/24"
		assert_no_residue lanr
		expect_exit 1 env NSGATE_TEST_FAIL_STEP=$step timeout -k 2 30 "$NSGATE" up lanr --lan up0 --netns att
		[ -z "$(ip -n att -o link show | grep -v ': lo:')" ] || fail "failed step $step left links in att: $(ip -n att -o link show)"
		assert_no_residue lanr
	done
	must ip netns del att
	# down --all takes LAN gateways too.
	up_ok lan1 --lan up0 --address "$LAN_ADDR/24"
	up_ok lan2 --lan up0
	up_ok natx
	expect_exit 0 nsg down --all
	[ "$LAST_OUT" = "3 gateways down" ] || fail "down --all printed '$LAST_OUT'"
	assert_no_residue lan1 lan2 natx
	pass "a failed LAN up (netns, lan, dns, state) leaves nothing; down --all takes LAN gateways"
}

bad_input() {
	local args
	# (veths: the lab's kernel may lack the dummy and bond drivers)
	must ip link add down0 type veth peer name down1
	must ip link add br0 type bridge
	must ip link add port0 type veth peer name port1
	must ip link set port0 master br0
	must ip link set port0 up
	while IFS='|' read -r args why; do
		# shellcheck disable=SC2086
		expect_exit 2 nsg up lanb $args
		assert_error_line
		grep -qF -- "$why" <<<"$LAST_ERR" || fail "up lanb $args: '$LAST_ERR' lacks '$why'"
		assert_no_residue lanb
	done <<-'EOF'
		--lan nosuch0|no such interface
		--lan lo|loopback
		--lan nsg-x|a gateway's own interface
		--lan down0|is down
		--lan port0|is a port of bridge br0
		--lan up0 --publish 8080:80|--publish: not with --lan
		--lan up0 --no-host|--no-host: not with --lan
		--lan up0 --subnet 10.9.0.0/30|--subnet: not with --lan
		--lan up0 --subnet6 fd00:1:2:3::/64|--subnet6: not with --lan
		--lan up0 --uplink up0|--uplink: not with --lan
		--lan up0 --ipv6 on|--ipv6: not with --lan
		--lan up0 --network n1|--network: not with --lan
		--address 198.51.100.50/24|--address: only with --lan
		--lan up0 --gateway 198.51.100.2|only with --address
		--lan up0 --address 198.51.100.0/24|network address
		--lan up0 --address 198.51.100.255/24|broadcast address
		--lan up0 --address 198.51.100.50|prefix length
		--lan up0 --address 198.51.100.1/24|the host's own address
		--lan up0 --address 203.0.113.5/24|give --gateway ADDR
		--lan up0 --address 198.51.100.50/24 --gateway 203.0.113.1|not on the subnet of --address
	EOF
	# Off the host's subnets but with its gateway: a warning, then up.
	up_ok lanb --lan up0 --address 203.0.113.5/24 --gateway 203.0.113.1
	grep -q '^nsgate: warning: lan: ' <<<"$LAST_ERR" || fail "no warning for an address off up0's subnets: $LAST_ERR"
	down_ok lanb
	must ip link del br0
	must ip link del down0
	must ip link del port0
	assert_no_residue lanb
	pass "bad --lan input: one line, exit 2, nothing left"
}

# IPv6 (nothing configured by nsgate): the namespace takes a SLAAC address
# and a default route from the router advertisements of radvd in inet.
lan6_slaac() { ip -n lan6 -6 -o addr show dev eth0 scope global | grep 'inet6 2001:db8:1:' | grep -qv tentative; }
lan6_route() { ip -n lan6 -6 route show default | grep -q 'via fe80::.* dev eth0'; }
ipv6_slaac() {
	need_tools radvd
	must ip -n inet addr add 2001:db8:1::2/64 dev inet0 nodad
	must ip netns exec inet sysctl -qw net.ipv6.conf.all.forwarding=1
	start_radvd_in inet lan "interface inet0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval 4;
	prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
};"
	up_ok lan6 --lan up0 --address "$LAN_ADDR/24"
	WAIT_TRIES=1500 wait_for lan6_slaac || fail "no SLAAC address on lan6's eth0: $(ip -n lan6 -6 addr; cat "$LAB_TMP/radvd-lan.log")"
	WAIT_TRIES=500 wait_for lan6_route || fail "no RA default route in lan6: $(ip -n lan6 -6 route)"
	WAIT_TRIES=5 wait_for ip netns exec lan6 ping -6 -c1 -W1 -q 2001:db8:1::2 ||
		fail "lan6 does not reach inet over IPv6: $(ip -n lan6 -6 addr; ip -n lan6 -6 route; ip -n inet -6 addr)"
	expect_seen_as lan6 "$LAN_ADDR"
	down_ok lan6
	assert_no_residue lan6
	pass "IPv6 on the LAN: SLAAC address and default route from inet's router advertisements"
}

# apply: the config keys lan, address, gateway; a changed address makes the
# gateway again, an identical file changes nothing, --prune removes it.
apply_lan() {
	local conf=$LAB_TMP/lan.conf
	printf '[lanc]\nlan = up0\naddress = %s/24\ngateway = %s\n' "$LAN_ADDR2" "$INET_ADDR" >"$conf"
	expect_exit 0 nsg apply "$conf"
	grep -qx 'lanc: created' <<<"$LAST_OUT" || fail "apply: $LAST_OUT"
	assert_macvlan lanc lanc
	expect_seen_as lanc "$LAN_ADDR2"
	expect_exit 0 nsg apply "$conf"
	grep -qx 'lanc: unchanged' <<<"$LAST_OUT" || fail "identical apply: $LAST_OUT"
	printf '[lanc]\nlan = up0\naddress = %s/24\n' "$LAN_ADDR" >"$conf"
	expect_exit 0 nsg apply "$conf"
	grep -q '^lanc: recreated' <<<"$LAST_OUT" || fail "apply of a new address: $LAST_OUT"
	expect_seen_as lanc "$LAN_ADDR"
	printf '[lanc]\nlan = up0\npublish = 8080:80\n' >"$conf"
	expect_exit 2 nsg apply "$conf"
	grep -q 'publish: not with --lan' <<<"$LAST_ERR" || fail "apply with publish and lan: $LAST_ERR"
	expect_seen_as lanc "$LAN_ADDR"
	: >"$conf"
	expect_exit 0 nsg apply --prune "$conf"
	grep -qx 'lanc: removed' <<<"$LAST_OUT" || fail "apply --prune: $LAST_OUT"
	assert_no_residue lanc
	pass "apply: lan, address and gateway keys; an address change re-creates, --prune removes"
}

start_server_in inet "$SERVER_PORT"
start_inet_dhcp
static_address
list_show
watch_lan
dhcp
attached
rollback
bad_input
apply_lan
ipv6_slaac
