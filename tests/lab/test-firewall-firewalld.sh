# SPDX-License-Identifier: MIT
# test-firewall-firewalld.sh: on a host running firewalld (1.x, nftables
# backend), a gateway works: nsgate binds the gateway links (nsg-+) to zone
# trusted at runtime, binds them again after `firewall-cmd --reload` and a
# restart (watch, gc), and leaves firewalld's runtime zones as they were
# after the last down. With --firewall none it changes nothing and warns.
# firewalld and its system bus are the lab's own (firewalld.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewalld.sh
. "$LAB_DIR/firewalld.sh"
need_tools firewall-cmd firewalld dbus-daemon

FIX='firewall-cmd --zone=trusted --add-interface=nsg-+'
WLOG=$LAB_TMP/watch-firewalld.log

# nsgate loads libsystemd only where firewalld runs (dlopen), never at start.
if ldd "$NSGATE" 2>/dev/null | grep -q libsystemd; then
	fail "$NSGATE links libsystemd: every command would load it and its eight dependencies"
fi

fwd_start
start_server_in inet "$SERVER_PORT"
ZONES_BEFORE=$(fwd_runtime_zones) || fail "firewall-cmd --list-all-zones failed"

# bound : firewalld's forward rules send the gateway links to zone trusted
# (nft, not firewall-cmd: cheap enough to poll).
bound() {
	nft list chain inet firewalld filter_FORWARD_ZONES 2>/dev/null |
		grep -q 'iifname "nsg-\*" goto filter_FWD_trusted'
}

# egress NAME : the namespace reaches inet, masqueraded.
egress() { [ "$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw "$1" 2>/dev/null)" = "$UPLINK_ADDR" ]; }

# expect_rejected NAME : firewalld rejects the namespace's egress (what a
# gateway in no zone gets: "No route to host").
expect_rejected() {
	local seen
	seen=$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw "$1" 2>&1) &&
		fail "$1: egress works, firewalld should reject it: $seen"
	case $seen in
	*"No route to host"*) ;;
	*) fail "$1: egress failed, but not with firewalld's reject (No route to host): $seen" ;;
	esac
}

# ms_since T0 : milliseconds since T0 (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# egress_within MS NAME WHAT : egress works again within MS ms (polled).
egress_within() {
	local ms=$1 name=$2 what=$3 t0
	t0=$(date +%s%N)
	while ! egress "$name"; do
		[ "$(ms_since "$t0")" -lt "$ms" ] ||
			fail "$name: no egress ${ms} ms after $what (bound: $(bound && echo yes || echo no)); watch log: $(cat "$WLOG" 2>/dev/null)"
		sleep 0.02
	done
	EGRESS_MS=$(ms_since "$t0")
}

# assert_zones_as_before WHAT : firewalld's runtime zones are what they were
# before the first up.
assert_zones_as_before() {
	local now
	now=$(fwd_runtime_zones) || fail "firewall-cmd --list-all-zones failed"
	[ "$now" = "$ZONES_BEFORE" ] ||
		fail "$1: firewalld's runtime zones changed:
$(diff <(echo "$ZONES_BEFORE") <(echo "$now") | sed 's/^/    /')"
}

# The contract's --firewall none: nothing of firewalld changes, up warns
# once naming firewalld's chain and the fix, show says blocked; the
# published port works regardless (firewalld accepts DNATed traffic).
firewall_none_warns() {
	local line
	up_ok web --firewall none --publish 8080:80
	[ "$(printf '%s\n' "$LAST_ERR" | grep -c '')" = 1 ] ||
		fail "up --firewall none: expected one warning line, got: $LAST_ERR"
	line=$LAST_ERR
	case $line in
	"nsgate: warning: gateway \"web\": inet firewalld filter_FORWARD "*" drops its traffic: fix: $FIX") ;;
	*) fail "up --firewall none: warning is not about firewalld's filter_FORWARD with fix '$FIX': $line" ;;
	esac
	bound && fail "up --firewall none bound the gateway links in firewalld"
	assert_zones_as_before "up --firewall none"
	start_tagged_server_in web tcp 80 web80
	expect_rejected web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web80 $INET_ADDR" ip netns exec inet
	expect_exit 0 nsg show web
	if ! grep -qx '  firewall   none' <<<"$LAST_OUT" ||
		! grep -qxF "             blocked by inet firewalld filter_FORWARD (a rule drops everything): fix: $FIX" <<<"$LAST_OUT"; then
		fail "show web (none): no lines 'firewall   none' and 'blocked by inet firewalld filter_FORWARD ...: fix: $FIX': $LAST_OUT"
	fi
	gw_json web
	assert_json "$GW_JSON" '.firewall.mode == "none" and (.firewall.opened | length) == 0
		and ([.firewall.blocked[] | select(.source == "firewalld" and .table == "firewalld"
			and .fix == "'"$FIX"'")] | length) == 1' "show --json (none): blocked by firewalld"
	down_ok web
	assert_zones_as_before "down of a --firewall none gateway"
	pass "--firewall none: firewalld untouched, egress rejected, warning: $line"
}

# The default: up binds nsg-+ to zone trusted (runtime), egress and the
# published port work, a second gateway shares the binding, the last down
# removes it.
auto_binds_and_unbinds() {
	local out
	up_ok web --publish 8080:80
	[ -z "$LAST_ERR" ] || fail "up (auto) under firewalld printed on stderr: $LAST_ERR"
	bound || fail "up: nsg-+ is not bound to zone trusted in firewalld's rules: $(nft list chain inet firewalld filter_FORWARD_ZONES 2>&1)"
	start_tagged_server_in web tcp 80 web80
	expect_internet run_in_gw web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web80 $INET_ADDR" ip netns exec inet
	out=$(fwd firewall-cmd --zone=trusted --list-interfaces)
	[ "$out" = "nsg-+" ] || fail "firewall-cmd --zone=trusted --list-interfaces: '$out', expected 'nsg-+'"
	out=$(fwd firewall-cmd --get-active-zones)
	[ "$(grep -x -A1 trusted <<<"$out" | tail -n 1)" = "  interfaces: nsg-+" ] ||
		fail "firewall-cmd --get-active-zones does not list trusted with nsg-+: $out"
	out=$(fwd firewall-cmd --permanent --zone=trusted --list-interfaces)
	[ -z "$out" ] || fail "the binding went into firewalld's permanent configuration: '$out'"
	expect_exit 0 nsg show web
	grep -q '^  firewall   auto, opened inet firewalld filter_FORWARD' <<<"$LAST_OUT" ||
		fail "show web has no line 'firewall   auto, opened inet firewalld filter_FORWARD': $LAST_OUT"
	gw_json web
	assert_json "$GW_JSON" '.firewall.mode == "auto" and (.firewall.blocked | length) == 0
		and ([.firewall.opened[] | select(.source == "firewalld")] | length) == 1' \
		"show --json (auto): opened firewalld"
	up_ok api
	expect_internet run_in_gw api
	down_ok api
	bound || fail "down of one of two gateways unbound nsg-+"
	expect_internet run_in_gw web
	down_ok web
	bound && fail "the last down left nsg-+ bound to zone trusted"
	assert_zones_as_before "the last down"
	assert_no_residue web
	pass "up binds nsg-+ to trusted (runtime only): egress and :8080 work; the last down restores firewalld's runtime zones"
}

# watch: after `firewall-cmd --reload` (Reloaded) and a firewalld restart
# (its bus name changes owner) egress works again within 1 s.
watch_rebinds() {
	local reload_ms restart_ms
	up_ok web
	expect_internet run_in_gw web
	start_nsgate_bg "$WLOG" watch
	WATCH=$BG_PID
	wait_for grep -q listening "$WLOG" || fail "watch never printed its 'listening' line: $(cat "$WLOG")"
	must fwd firewall-cmd --reload >/dev/null
	egress_within 1000 web "firewall-cmd --reload"
	reload_ms=$EGRESS_MS
	bound || fail "egress works after the reload but nsg-+ is not bound"
	fwd_restart
	egress_within 1000 web "firewalld's restart"
	restart_ms=$EGRESS_MS
	kill -0 "$WATCH" 2>/dev/null || fail "watch died: $(cat "$WLOG")"
	kill -TERM "$WATCH"
	wait_exit "$WATCH" 5 || fail "watch still running 5 s after SIGTERM"
	[ "$BG_RC" = 0 ] || fail "watch exited $BG_RC after SIGTERM: $(cat "$WLOG")"
	down_ok web
	assert_zones_as_before "down after watch's re-binds"
	pass "watch: egress back ${reload_ms} ms after firewall-cmd --reload, ${restart_ms} ms after a restart (log: $(tr '\n' ';' <"$WLOG"))"
}

# Without watch, gc binds the links again after a reload.
gc_rebinds() {
	up_ok web
	must fwd firewall-cmd --reload >/dev/null
	bound && fail "firewall-cmd --reload kept the runtime binding (the test assumes it drops it)"
	expect_rejected web
	expect_exit 0 nsg gc
	bound || fail "gc did not bind nsg-+ again after the reload: $LAST_OUT $LAST_ERR"
	expect_internet run_in_gw web
	down_ok web
	assert_zones_as_before "down after gc's re-bind"
	pass "gc binds nsg-+ again after firewall-cmd --reload"
}

# An admin's own binding of nsg-+ is not nsgate's: up uses it, down keeps it.
admin_binding_kept() {
	must fwd firewall-cmd --zone=trusted --add-interface=nsg-+ >/dev/null
	local with_admin
	with_admin=$(fwd_runtime_zones)
	up_ok web
	expect_internet run_in_gw web
	down_ok web
	[ "$(fwd_runtime_zones)" = "$with_admin" ] ||
		fail "down changed the admin's binding: $(diff <(echo "$with_admin") <(fwd_runtime_zones))"
	must fwd firewall-cmd --zone=trusted --remove-interface=nsg-+ >/dev/null
	assert_zones_as_before "removing the admin's binding"
	pass "an admin's binding of nsg-+ to trusted: used by up, kept by down"
}

firewall_none_warns
auto_binds_and_unbinds
watch_rebinds
gc_rebinds
admin_binding_kept
expect_exit 0 nsg version
grep -q ' +firewalld$' <<<"$LAST_OUT" || fail "nsgate version with firewalld running: $LAST_OUT"
fwd_stop
nft list table inet firewalld >/dev/null 2>&1 && fail "firewalld left its table behind on SIGTERM"
expect_exit 0 nsg version
grep -q ' -firewalld$' <<<"$LAST_OUT" || fail "nsgate version with firewalld stopped: $LAST_OUT"
pass "firewalld and its bus stopped; nsgate version saw +firewalld, then -firewalld"
