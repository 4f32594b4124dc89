# SPDX-License-Identifier: MIT
# test-doctor.sh: `nsgate doctor` says `web: ok` (exit 0) for a healthy gateway,
# and, breaking one thing at a time the way hosts break, names each (exit 1)
# with its fix, in text and in a valid --json document with healthy false;
# once the thing is put back it is ok again. Where the break cuts the gateway
# off, real packets say so too. doctor itself changes nothing.
# Runs inside lab.sh's hermetic lab: sysctls, routes, rules and iptables are
# the lab's own.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools dnsmasq getent iptables-nft iptables-legacy
RESOLV=/etc/netns/web/resolv.conf

# The lab's internet DNS: dnsmasq in inet.
start_inet_dns
start_server_in inet "$SERVER_PORT"

# reaches_inet : the namespace's connection to inet's echo server gets through.
reaches_inet() { [ "$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw web 2>/dev/null)" = "$UPLINK_ADDR" ]; }
expect_cut_off() { ! reaches_inet || fail "$1: the namespace still reaches inet"; }

# doctor_ok WHAT : doctor exits 0 and prints exactly "web: ok"; --json is
# healthy with no problem among its findings.
doctor_ok() {
	expect_exit 0 nsg doctor
	[ "$LAST_OUT" = "web: ok" ] || fail "$1: doctor printed '$LAST_OUT', expected 'web: ok'"
	[ -z "$LAST_ERR" ] || fail "$1: doctor wrote on stderr: $LAST_ERR"
	expect_exit 0 nsg doctor web --json
	assert_json "$LAST_OUT" '.schema == 1 and .healthy == true and (.findings | length > 0)
		and all(.findings[]; .problem == false)' "$1: doctor --json"
}

# doctor_finds WHAT CHECK PATTERN : doctor exits 1 and names the problem in a
# line "web: CHECK: ...PATTERN...; fix: ..." (PATTERN a grep -E); --json is one
# valid document with healthy false and a problem of web's CHECK whose what or
# fix matches PATTERN. The text lines are in $DOCTOR_TEXT.
doctor_finds() {
	local what=$1 check=$2 pattern=$3 line
	expect_exit 1 nsg doctor
	DOCTOR_TEXT=$LAST_OUT
	line=$(grep -E "^web: $check: .*($pattern)" <<<"$LAST_OUT" | head -1)
	[ -n "$line" ] || fail "$what: doctor does not name '$check: $pattern': $LAST_OUT"
	case $line in
	*"; fix: "?*) ;;
	*) fail "$what: doctor's line has no fix: $line" ;;
	esac
	grep -q '^web: ok$' <<<"$LAST_OUT" && fail "$what: doctor says both ok and a problem: $LAST_OUT"
	expect_exit 1 nsg doctor web --json
	jq -e . >/dev/null 2>&1 <<<"$LAST_OUT" || fail "$what: doctor --json is not JSON: $LAST_OUT"
	assert_json "$LAST_OUT" '.schema == 1 and .healthy == false' "$what: --json"
	jq -e --arg c "$check" --arg p "$pattern" 'any(.findings[]; .gateway == "web" and
		.check == $c and .problem == true and (.fix | type) == "string"
		and ((.what + " " + .fix) | test($p)))' >/dev/null <<<"$LAST_OUT" ||
		fail "$what: doctor --json has no problem '$check' matching '$pattern': $LAST_OUT"
	pass "$what: doctor names it ($line)"
}

up_ok web
gw_addrs web

# Healthy: ok, and doctor left the lab as it was (no table, chain, rule or file).
healthy() {
	local before
	reaches_inet || fail "healthy gateway: the namespace does not reach inet"
	before=$(lab_snapshot; nft list ruleset)
	doctor_ok "healthy gateway"
	[ "$(lab_snapshot; nft list ruleset)" = "$before" ] || fail "doctor changed the lab"
	pass "healthy gateway: 'web: ok', exit 0, --json healthy; nothing changed"
}

# Without nsgate's table doctor asks the kernel for its features with a
# batch it never commits: nothing of it is left.
kernel_probe() {
	local before
	must nft delete table inet nsgate
	before=$(nft list ruleset)
	expect_exit 1 nsg doctor --json
	assert_json "$LAST_OUT" 'any(.findings[]; .gateway == null and .check == "nftables" and .problem)
		and any(.findings[]; .check == "kernel" and .problem == false)
		and all(.findings[]; .check != "kernel" or .problem == false)' "doctor without the table"
	[ "$(nft list ruleset)" = "$before" ] || fail "doctor's kernel probe left something: $(nft list ruleset)"
	must nsg gc >/dev/null
	doctor_ok "table restored"
	pass "no table: the host's nftables finding; the kernel's features checked without a trace"
}

forwarding_off() {
	must sysctl -qw net.ipv4.conf.nsg-web.forwarding=0
	expect_cut_off "forwarding off on nsg-web"
	doctor_finds "forwarding off on nsg-web" forwarding 'nsg-web'
	grep -q 'sysctl -w net.ipv4.conf.nsg-web.forwarding=1' <<<"$DOCTOR_TEXT" ||
		fail "forwarding: the fix is not the sysctl: $DOCTOR_TEXT"
	must sysctl -qw net.ipv4.conf.nsg-web.forwarding=1
	doctor_ok "forwarding back on"
}

no_default_route() {
	must run_in_gw web ip route del default
	expect_cut_off "no default route"
	doctor_finds "default route deleted in the namespace" netns 'default route'
	must run_in_gw web ip route add default via "$GW_HOST"
	doctor_ok "default route back"
}

element_deleted() {
	must nft delete element inet nsgate ns_addrs4 "{ \"nsg-web\" . $GW_NS }"
	expect_cut_off "ns_addrs4 element deleted"
	doctor_finds "ns_addrs4 element deleted" nftables 'ns_addrs4'
	must nsg gc >/dev/null
	doctor_ok "elements restored by gc"
}

# Strict rp_filter drops a packet when the host's route back to its source
# is another interface. The kernel looks that route up as a packet coming in
# on the interface the packet goes out of, with mark 0: hosts that route by
# firewall mark (wg-quick, multi-uplink setups) are where it bites.
# The namespace's side: replies from inet get a mark; a rule for mark 0
# sends the route back to the namespace elsewhere. With rp_filter 0 that
# changes nothing for the gateway's traffic, with 1 it cuts it off.
rp_filter_veth() {
	must nft add table ip lab_mark
	must nft add chain ip lab_mark pre '{ type filter hook prerouting priority -300; }'
	must nft add rule ip lab_mark pre iifname up0 meta mark set 1
	must ip rule add iif up0 to "$GW_NS/32" fwmark 0/0xffffffff lookup 200 pref 100
	must ip route add "$GW_NS/32" dev up0 table 200
	reaches_inet || fail "rp_filter 0 with the rule: the namespace does not reach inet"
	doctor_ok "rp_filter 0 with another route back"
	must sysctl -qw net.ipv4.conf.nsg-web.rp_filter=1
	expect_cut_off "strict rp_filter on nsg-web"
	doctor_finds "strict rp_filter on nsg-web" rp_filter 'nsg-web'
	must sysctl -qw net.ipv4.conf.nsg-web.rp_filter=0
	must ip rule del pref 100
	must ip route flush table 200
	must nft delete table ip lab_mark
	doctor_ok "rp_filter back to 0"
}

# The uplink's side: a second uplink up1 to inet, where the gateway's
# traffic goes by its mark (--uplink up1 masquerades it there); the route
# back to the internet is up0's, so strict rp_filter on up1 drops the replies.
via_up1() { [ "$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw web 2>/dev/null)" = 203.0.113.1 ]; }
rp_filter_uplink() {
	down_ok web
	must ip link add up1 type veth peer name inet1 netns inet
	must ip addr add 203.0.113.1/24 dev up1
	must ip link set up1 up
	must ip -n inet addr add 203.0.113.2/24 dev inet1
	must ip -n inet link set inet1 up
	up_ok web --uplink up1
	must nft add table ip lab_mark
	must nft add chain ip lab_mark pre '{ type filter hook prerouting priority -300; }'
	must nft add rule ip lab_mark pre iifname nsg-web meta mark set 2
	must ip rule add fwmark 2 lookup 201 pref 101
	must ip route add default via 203.0.113.2 dev up1 table 201
	via_up1 || fail "rp_filter 0: the namespace does not reach inet through up1"
	doctor_ok "a second uplink by mark, rp_filter 0"
	must sysctl -qw net.ipv4.conf.up1.rp_filter=1
	! via_up1 || fail "strict rp_filter on up1: the namespace still reaches inet"
	doctor_finds "strict rp_filter on the uplink up1" rp_filter 'up1'
	must sysctl -qw net.ipv4.conf.up1.rp_filter=0
	must ip rule del pref 101
	must ip route flush table 201
	must nft delete table ip lab_mark
	down_ok web
	must ip link del up1
	up_ok web
	gw_addrs web
	doctor_ok "back to one uplink"
}

dns_unreachable() {
	local saved
	saved=$(cat "$RESOLV")
	expect_exit 0 run_in_gw web getent hosts example.test
	printf 'nameserver 198.51.100.99\n' >"$RESOLV"
	doctor_finds "resolv.conf names an unreachable server" dns '198\.51\.100\.99'
	printf '%s\n' "$saved" >"$RESOLV"
	doctor_ok "resolv.conf back to inet's DNS"
	expect_exit 0 run_in_gw web getent hosts example.test
	pass "inet's DNS answers through the gateway again (getent hosts example.test)"
}

mtu_above_uplink() {
	must ip link set nsg-web mtu 9000
	doctor_finds "veth MTU 9000 above up0's 1500" mtu 'up0'
	must ip link set nsg-web mtu 1500
	doctor_ok "veth MTU back to 1500"
}

# iptables-legacy (x_tables) with FORWARD policy drop; then INPUT policy
# drop, which matters for a DNS server on the host only.
host_dns_listening() { ss -Hlun "sport = :53" | grep -q "$GW_HOST"; }
firewall_legacy_drop() {
	local saved
	must iptables-legacy -P FORWARD DROP
	expect_cut_off "iptables-legacy FORWARD policy drop"
	doctor_finds "iptables-legacy FORWARD policy drop" firewall 'ip filter FORWARD \(policy drop\)'
	grep -q 'fix: iptables-legacy -I FORWARD -i nsg-+ -j ACCEPT' <<<"$DOCTOR_TEXT" ||
		fail "iptables-legacy: the fix is not iptables-legacy's: $DOCTOR_TEXT"
	must iptables-legacy -P FORWARD ACCEPT
	doctor_ok "legacy FORWARD policy accept"

	dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--address=/example.test/203.0.113.8 --listen-address="$GW_HOST" --bind-interfaces \
		--port 53 --user=root --pid-file="$LAB_TMP/dnsmasq-host.pid" --log-facility=- \
		>"$LAB_TMP/dnsmasq-host.log" 2>&1 &
	wait_for host_dns_listening || fail "dnsmasq on the host did not start: $(cat "$LAB_TMP/dnsmasq-host.log")"
	saved=$(cat "$RESOLV")
	printf 'nameserver %s\n' "$GW_HOST" >"$RESOLV"
	doctor_ok "a DNS server on the host"
	must iptables-legacy -P INPUT DROP
	doctor_finds "iptables-legacy INPUT policy drop, DNS on the host" firewall 'ip filter INPUT \(policy drop\)'
	must iptables-legacy -P INPUT ACCEPT
	printf '%s\n' "$saved" >"$RESOLV"
	kill "$(cat "$LAB_TMP/dnsmasq-host.pid")"
	must iptables-legacy -P INPUT DROP
	doctor_ok "INPUT policy drop, DNS in inet: not the gateway's problem"
	must iptables-legacy -P INPUT ACCEPT
}

# Docker's and ufw's way: iptables-nft's filter FORWARD with policy drop.
firewall_forward_drop() {
	must iptables-nft -P FORWARD DROP
	expect_cut_off "iptables FORWARD policy drop"
	doctor_finds "iptables-nft FORWARD policy drop" firewall 'ip filter FORWARD \(policy drop\)'
	must iptables-nft -P FORWARD ACCEPT
	doctor_ok "FORWARD policy accept"
}

healthy
kernel_probe
forwarding_off
no_default_route
element_deleted
rp_filter_veth
rp_filter_uplink
dns_unreachable
mtu_above_uplink
firewall_legacy_drop
firewall_forward_drop
down_ok web
assert_no_residue web
pass "doctor: every break named with its fix, ok again once it is put back"
