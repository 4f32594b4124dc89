# SPDX-License-Identifier: MIT
# test-firewall-ufw.sh: a host with ufw enabled (Debian's defaults: INPUT and
# FORWARD policy DROP, iptables-nft). nsgate opens ip filter for the gateway
# links (FORWARD, and INPUT for DNS to the host) with rules labelled nsgate;
# traffic flows both ways and DNS to a server on the host works. `ufw
# reload` with `nsgate watch` running: the gateway works again within 1 s,
# with ufw's defaults (MANAGE_BUILTINS=no: ufw flushes its own chains and
# sets the builtin policies to ACCEPT and back, nsgate's rules in INPUT and
# FORWARD stay) and with MANAGE_BUILTINS=yes (ufw flushes INPUT and FORWARD
# and deletes every chain: watch must put the rules back). Each time the
# last down leaves iptables-save as it was before up.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces);
# ufw runs on private copies of its files (firewall.sh), never the machine's.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewall.sh
. "$LAB_DIR/firewall.sh"
need_tools ufw

start_server_in inet "$SERVER_PORT"
WLOG=$LAB_TMP/watch.log
WAIT_1S=100 # wait_for tries of 10 ms: 1 s (plus the checks' own time)

RULES="-A INPUT -i nsg-+ -p udp -m udp --dport 53 -m comment --comment nsgate -j ACCEPT
-A INPUT -i nsg-+ -p tcp -m tcp --dport 53 -m comment --comment nsgate -j ACCEPT
-A FORWARD -i nsg-+ -m comment --comment nsgate -j ACCEPT
-A FORWARD -o nsg-+ -m comment --comment nsgate -j ACCEPT"

# ours : nsgate's rules in iptables-save, one a line, sorted.
ours() { iptables-save -t filter | grep -e '--comment nsgate' | LC_ALL=C sort; }
# rules_in_place : exactly nsgate's four rules, each once.
rules_in_place() { [ "$(ours)" = "$(LC_ALL=C sort <<<"$RULES")" ]; }

# gateway_works : out (masqueraded), in (published 8080) and DNS (udp and
# tcp) to the host's server.
gateway_works() {
	expect_internet run_in_gw web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	host_dns_works web
}

# internet_works : one quick try out of the namespace (for polling).
internet_works() {
	[ "$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw web 2>/dev/null)" = "$UPLINK_ADDR" ]
}

enable_ufw() {
	local out
	ufw_private
	out=$(ufw --force enable 2>&1) || fail "ufw --force enable failed: $out"
	iptables-save -t filter | grep -qx ':FORWARD DROP \[[0-9]*:[0-9]*\]' ||
		fail "ufw enabled, but FORWARD's policy is not DROP: $(iptables-save -t filter)"
	iptables-save -t filter | grep -qx ':INPUT DROP \[[0-9]*:[0-9]*\]' ||
		fail "ufw enabled, but INPUT's policy is not DROP: $(iptables-save -t filter)"
	start_host_dns
	pass "ufw --force enable (private /etc/ufw, /etc/default/ufw, /lib/ufw): INPUT and FORWARD policy DROP"
}

# ufw_settle MANAGE_BUILTINS : ufw reloaded with that setting, until a reload
# changes nothing more (ufw's first reload adds ufw6-user-limit's rules that
# enable left out; MANAGE_BUILTINS=yes makes tables nat and mangle): the
# ruleset nsgate must leave as it finds it, in $BEFORE.
ufw_settle() {
	local out
	ufw_default MANAGE_BUILTINS "$1"
	out=$(ufw reload 2>&1) || fail "ufw reload failed: $out"
	BEFORE=$(ipt_save)
	out=$(ufw reload 2>&1) || fail "ufw reload failed: $out"
	[ "$(ipt_save)" = "$BEFORE" ] || fail "ufw reload (MANAGE_BUILTINS=$1) does not settle:
$(diff <(echo "$BEFORE") <(ipt_save) | sed 's/^/    /')"
}

# our_handles : the nftables handles of nsgate's rules in INPUT and FORWARD
# (a rule deleted and added again gets a new one); nft does not print
# iptables' comment match, but no other rule here names nsg-*.
our_handles() {
	{ nft -a list chain ip filter INPUT; nft -a list chain ip filter FORWARD; } 2>/dev/null |
		awk '/"nsg-\*"/ { print $NF }'
}

up_web() {
	expect_exit 0 nsg up web --publish 8080:80 --dns "$UPLINK_ADDR"
	[ -z "$LAST_ERR" ] || fail "up printed on stderr with --firewall auto: $LAST_ERR"
	start_tagged_server_in web tcp 80 web
	gateway_works
	rules_in_place || fail "nsgate's rules in ip filter are not the four expected:
$(ours)
  expected:
$RULES"
	[ "$(iptables-save -t filter | grep -m2 '^-A FORWARD ')" = "-A FORWARD -i nsg-+ -m comment --comment nsgate -j ACCEPT
-A FORWARD -o nsg-+ -m comment --comment nsgate -j ACCEPT" ] ||
		fail "nsgate's rules are not the first of FORWARD: $(iptables-save -t filter)"
	start_nsgate_bg "$WLOG" watch
	WATCH=$BG_PID
	wait_for grep -q listening "$WLOG" || fail "watch never printed its 'listening' line: $(cat "$WLOG")"
	pass "up with ufw: rules at the top of FORWARD and INPUT, in, out and DNS to the host work"
}

# reload WHAT : `ufw reload`, then within 1 s of its end the rules are in
# place and the gateway works.
reload() {
	local out t0 ms
	out=$(ufw reload 2>&1) || fail "ufw reload ($1) failed: $out"
	t0=$(date +%s%N)
	WAIT_TRIES=$WAIT_1S wait_for rules_in_place ||
		fail "nsgate's rules not back within 1 s of ufw reload ($1):
$(ours)
  whole table: $(iptables-save -t filter)
  watch: $(cat "$WLOG")"
	WAIT_TRIES=$WAIT_1S wait_for internet_works ||
		fail "the gateway does not reach inet within 1 s of ufw reload ($1)"
	ms=$((($(date +%s%N) - t0) / 1000000))
	gateway_works
	kill -0 "$WATCH" 2>/dev/null || fail "watch died after ufw reload ($1): $(cat "$WLOG")"
	pass "ufw reload ($1): the gateway works again ${ms} ms after it; in, out and DNS"
}

# ufw's defaults: its own chains flushed and refilled, the builtin policies
# ACCEPT during the reload and DROP after; INPUT and FORWARD keep nsgate's
# rules (the same rules: their handles do not change).
reload_default() {
	local handles
	ufw_settle no
	up_web
	handles=$(our_handles)
	[ "$(grep -c . <<<"$handles")" = 4 ] || fail "nft shows not 4 rules of nsgate's: $handles"
	reload "MANAGE_BUILTINS=no"
	[ "$(our_handles)" = "$handles" ] ||
		fail "ufw reload (MANAGE_BUILTINS=no) replaced nsgate's rules (handles $handles, now $(our_handles))"
	[ "$(ipt_save | grep -v -e '--comment nsgate')" = "$BEFORE" ] ||
		fail "ufw reload changed more than nsgate's rules: $(diff <(echo "$BEFORE") <(ipt_save | grep -v -e '--comment nsgate'))"
	pass "ufw reload (MANAGE_BUILTINS=no) leaves nsgate's rules where they are"
	down_web
}

# MANAGE_BUILTINS=yes: ufw flushes INPUT, FORWARD and OUTPUT and deletes
# every chain, nsgate's rules with them; watch puts them back.
reload_manage_builtins() {
	local n
	ufw_settle yes
	up_web
	n=$(grep -c '^watch: opened ' "$WLOG")
	reload "MANAGE_BUILTINS=yes"
	[ "$(grep -c '^watch: opened ' "$WLOG")" -gt "$n" ] ||
		fail "watch did not say it opened ip filter again: $(cat "$WLOG")"
	note "$(grep '^watch: opened ' "$WLOG" | tail -1)"
	down_web
	ufw_default MANAGE_BUILTINS no
}

down_web() {
	local now
	kill -TERM "$WATCH"
	wait_exit "$WATCH" 5 || fail "watch still running 5 s after SIGTERM"
	down_ok web
	now=$(ipt_save)
	[ "$now" = "$BEFORE" ] || fail "iptables-save after down differs from before up:
$(diff <(echo "$BEFORE") <(echo "$now") | sed 's/^/    /')"
	assert_no_residue web
	pass "down: iptables-save (IPv4 and IPv6, counters aside) as before up"
}

enable_ufw
reload_default
reload_manage_builtins
