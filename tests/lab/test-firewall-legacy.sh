# SPDX-License-Identifier: MIT
# test-firewall-legacy.sh: a host whose iptables-legacy (x_tables) filter
# table drops forwarded traffic (FORWARD policy DROP; Docker's layout on a
# legacy host, with DOCKER-USER; INPUT DROP with a DNS server on the host).
# With --firewall auto (the default) nsgate opens the table with rules of its
# own, labelled `nsgate`, that iptables-legacy reads and deletes as its own;
# traffic flows both ways; the last down leaves iptables-legacy-save as it
# was. With --firewall none nothing is touched and up warns, naming the
# chain and the fix (which works). `watch` puts deleted rules back. In
# Docker's layout two RETURNs (-o docker0, -o br-+) stand above the accepts
# in DOCKER-USER; gc puts missing ones back above them.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces):
# the x_tables tables here are the lab's own.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewall.sh
. "$LAB_DIR/firewall.sh"
need_tools iptables-legacy iptables-legacy-save
# The lab starts without x_tables tables: the first iptables-legacy command
# below makes the filter table.
[ -z "$(cat /proc/net/ip_tables_names 2>/dev/null)" ] ||
	fail "the lab has x_tables tables before the test made any: $(cat /proc/net/ip_tables_names)"

start_server_in inet "$SERVER_PORT"
WLOG=$LAB_TMP/watch.log

# legacy_save : the legacy filter table as iptables-legacy-save prints it,
# without the Generated/Completed comments and with chain counters zeroed.
legacy_save() {
	iptables-legacy-save -t filter | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$/ [0:0]/'
}
# legacy_rules : only its rules labelled nsgate, one a line.
legacy_rules() { legacy_save | grep -e '--comment nsgate' || true; }

# expect_rules LINE... : nsgate's rules in the legacy table are exactly these.
expect_rules() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(legacy_rules)
	[ "$got" = "$want" ] || fail "nsgate's rules in iptables-legacy-save:
$got
  expected:
$want
  whole table:
$(legacy_save)"
}

# expect_unchanged BEFORE WHAT : the legacy table is as BEFORE.
expect_unchanged() {
	local now
	now=$(legacy_save)
	[ "$now" = "$1" ] || fail "$2 changed the iptables-legacy filter table:
$(diff <(echo "$1") <(echo "$now") | sed 's/^/    /')"
}

R_FWD_IN='-A FORWARD -i nsg-+ -m comment --comment nsgate -j ACCEPT'
R_FWD_OUT='-A FORWARD -o nsg-+ -m comment --comment nsgate -j ACCEPT'
R_DU_IN='-A DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT'
R_DU_OUT='-A DOCKER-USER -o nsg-+ -m comment --comment nsgate -j ACCEPT'
R_DU_RET0='-A DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN'
R_DU_RETBR='-A DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN'
R_DNS_UDP='-A INPUT -i nsg-+ -p udp -m udp --dport 53 -m comment --comment nsgate -j ACCEPT'
R_DNS_TCP='-A INPUT -i nsg-+ -p tcp -m tcp --dport 53 -m comment --comment nsgate -j ACCEPT'

# docker_layout : the filter table as dockerd (iptables-legacy) leaves it
# with no container running.
docker_layout() {
	local c
	must iptables-legacy -P FORWARD DROP
	for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do
		must iptables-legacy -N "$c"
	done
	must iptables-legacy -A FORWARD -j DOCKER-USER
	must iptables-legacy -A FORWARD -j DOCKER-ISOLATION-STAGE-1
	must iptables-legacy -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	must iptables-legacy -A FORWARD -o docker0 -j DOCKER
	must iptables-legacy -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
	must iptables-legacy -A FORWARD -i docker0 -o docker0 -j ACCEPT
	must iptables-legacy -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
	must iptables-legacy -A DOCKER-ISOLATION-STAGE-1 -j RETURN
	must iptables-legacy -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
	must iptables-legacy -A DOCKER-ISOLATION-STAGE-2 -j RETURN
	must iptables-legacy -A DOCKER-USER -j RETURN
}

# input_drop : INPUT drops what is not loopback or a reply, as a hardened host does.
input_drop() {
	must iptables-legacy -A INPUT -i lo -j ACCEPT
	must iptables-legacy -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	must iptables-legacy -P INPUT DROP
}

# reset_legacy : an empty filter table with every policy ACCEPT.
reset_legacy() {
	must iptables-legacy -P INPUT ACCEPT
	must iptables-legacy -P FORWARD ACCEPT
	must iptables-legacy -F
	must iptables-legacy -X
}

# FORWARD policy DROP, nothing else: the rules go at the top of FORWARD.
forward_drop() {
	local before
	must iptables-legacy -P FORWARD DROP
	before=$(legacy_save)
	expect_exit 0 nsg up web --publish 8080:80
	[ -z "$LAST_ERR" ] || fail "up printed on stderr with --firewall auto: $LAST_ERR"
	start_tagged_server_in web tcp 80 web
	traffic_works web 8080
	expect_rules "$R_FWD_IN" "$R_FWD_OUT"
	[ "$(legacy_save | grep -m2 '^-A FORWARD')" = "$R_FWD_IN
$R_FWD_OUT" ] || fail "nsgate's rules are not the first of FORWARD: $(legacy_save)"
	show_firewall web
	assert_json "$FW_JSON" '.mode == "auto" and .blocked == [] and
		(.opened | map(select(.source == "iptables-legacy" and .family == "ip" and
			.table == "filter" and .chain == "FORWARD" and .hook == "forward" and
			.policy_drop == true)) | length == 1)' "show --json: firewall opened ip filter FORWARD"
	expect_exit 0 nsg show web
	grep -qE '^ *firewall +auto, opened ip filter FORWARD \(policy drop\)$' <<<"$LAST_OUT" ||
		fail "show web has no line 'firewall  auto, opened ip filter FORWARD (policy drop)': $LAST_OUT"
	down_ok web
	expect_unchanged "$before" "up + down"
	assert_no_residue web
	reset_legacy
	pass "FORWARD policy DROP: rules at the top of FORWARD, in and out work, show says opened; down leaves iptables-legacy-save as it was"
}

# expect_docker_user WHAT : DOCKER-USER is nsgate's two RETURNs, its two
# accepts, then Docker's RETURN.
expect_docker_user() {
	[ "$(legacy_save | grep '^-A DOCKER-USER')" = "$R_DU_RET0
$R_DU_RETBR
$R_DU_IN
$R_DU_OUT
-A DOCKER-USER -j RETURN" ] || fail "DOCKER-USER is not nsgate's two RETURNs, two accepts, then RETURN ($1): $(legacy_save)"
}

# Docker's layout and INPUT DROP with DNS on the host: rules in DOCKER-USER
# (the RETURNs to Docker's bridges, then the accepts, ahead of its RETURN)
# and INPUT; iptables-legacy finds them by its own words; a second gateway
# shares them, the last down removes them.
docker_user_and_input() {
	local before
	docker_layout
	input_drop
	start_host_dns
	before=$(legacy_save)
	expect_exit 0 nsg up web --publish 8080:80 --dns "$UPLINK_ADDR"
	[ -z "$LAST_ERR" ] || fail "up printed on stderr with --firewall auto: $LAST_ERR"
	start_tagged_server_in web tcp 80 web
	traffic_works web 8080
	host_dns_works web
	expect_rules "$R_DNS_UDP" "$R_DNS_TCP" "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT"
	expect_docker_user "up"
	[ "$(legacy_save | grep -m2 '^-A INPUT')" = "$R_DNS_UDP
$R_DNS_TCP" ] || fail "nsgate's DNS rules are not the first of INPUT: $(legacy_save)"
	# iptables-legacy's -C matches a rule exactly as -D does.
	must iptables-legacy -C DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
	must iptables-legacy -C DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
	must iptables-legacy -C DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
	must iptables-legacy -C DOCKER-USER -o nsg-+ -m comment --comment nsgate -j ACCEPT
	must iptables-legacy -C INPUT -i nsg-+ -p udp -m udp --dport 53 -m comment --comment nsgate -j ACCEPT
	must iptables-legacy -C INPUT -i nsg-+ -p tcp -m tcp --dport 53 -m comment --comment nsgate -j ACCEPT
	show_firewall web
	assert_json "$FW_JSON" '.blocked == [] and ([.opened[] | select(.source == "iptables-legacy")
		| .chain] | sort) == ["FORWARD", "INPUT"]' "show --json: opened FORWARD and INPUT"
	up_ok b --publish 8081:80
	start_tagged_server_in b tcp 80 b
	traffic_works b 8081
	expect_rules "$R_DNS_UDP" "$R_DNS_TCP" "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT"
	down_ok web
	expect_rules "$R_DNS_UDP" "$R_DNS_TCP" "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT"
	traffic_works b 8081
	down_ok b
	expect_unchanged "$before" "two ups + two downs"
	assert_no_residue web b
	reset_legacy
	pass "Docker's layout + INPUT DROP: RETURNs then accepts in DOCKER-USER, DNS in INPUT (iptables-legacy -C finds each), in, out and DNS on the host work, shared by two gateways, gone with the last"
}

# The previous nsgate's accepts alone get the RETURNs at gc, above them; an
# accept someone deleted comes back below them. iptables-legacy -D deletes
# all four by the same words; down after that changes nothing more.
delete_by_iptables() {
	local before
	docker_layout
	before=$(legacy_save)
	up_ok web
	must iptables-legacy -D DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
	must iptables-legacy -D DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
	gc_blocked_then_fixed "the accepts without the RETURNs"
	must iptables-legacy -D DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
	gc_blocked_then_fixed "the RETURNs without -i nsg-+ -j ACCEPT"
	must iptables-legacy -D DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
	must iptables-legacy -D DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
	must iptables-legacy -D DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
	must iptables-legacy -D DOCKER-USER -o nsg-+ -m comment --comment nsgate -j ACCEPT
	expect_rules
	expect_unchanged "$before" "up + iptables-legacy -D of nsgate's rules"
	down_ok web
	expect_unchanged "$before" "down after iptables-legacy -D"
	reset_legacy
	pass "gc puts missing RETURNs (and a missing accept) back in order; iptables-legacy -D deletes nsgate's rules by the words iptables-legacy-save prints"
}

# watch: x_tables has no events; watch looks once a second and puts the
# rules back after someone deletes them: within that second, the survey
# and the commit (1.5 s allowed).
watch_restores() {
	local before t0 ms
	docker_layout
	before=$(legacy_save)
	up_ok web --publish 8080:80
	start_tagged_server_in web tcp 80 web
	start_nsgate_bg "$WLOG" watch
	WATCH=$BG_PID
	wait_for grep -q listening "$WLOG" || fail "watch never printed its 'listening' line: $(cat "$WLOG")"
	t0=$(date +%s%N)
	must iptables-legacy -F DOCKER-USER
	WAIT_TRIES=150 wait_for legacy_rules_are "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT" ||
		fail "watch did not put the rules back within 1.5 s of iptables-legacy -F DOCKER-USER: $(legacy_save); watch: $(cat "$WLOG")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	traffic_works web 8080
	kill -0 "$WATCH" 2>/dev/null || fail "watch died: $(cat "$WLOG")"
	kill -TERM "$WATCH"
	wait_exit "$WATCH" 5 || fail "watch still running 5 s after SIGTERM"
	must iptables-legacy -A DOCKER-USER -j RETURN
	down_ok web
	expect_unchanged "$before" "up, flush, watch's repair, down"
	reset_legacy
	pass "watch put nsgate's rules back in DOCKER-USER ${ms} ms after iptables-legacy -F DOCKER-USER (polled once a second)"
}
legacy_rules_are() { [ "$(legacy_rules)" = "$(printf '%s\n' "$@")" ]; }

# --firewall none: nothing touched; one warning line naming the chain and the
# fix; the fix, run as printed, makes the gateway work.
firewall_none() {
	local before fix
	must iptables-legacy -P FORWARD DROP
	before=$(legacy_save)
	expect_exit 0 nsg up web --publish 8080:80 --firewall none
	[ "$(grep -c '' <<<"$LAST_ERR")" = 1 ] || fail "up --firewall none: expected one warning line, got: $LAST_ERR"
	case $LAST_ERR in
	'nsgate: warning: gateway "web": ip filter FORWARD (policy drop) drops its traffic: fix: '?*) ;;
	*) fail "up --firewall none: unexpected warning: $LAST_ERR" ;;
	esac
	fix=${LAST_ERR#*: fix: }
	case $fix in
	*"iptables-legacy -I FORWARD -i nsg-+ -j ACCEPT"*"iptables-legacy -I FORWARD -o nsg-+ -j ACCEPT"*) ;;
	*) fail "the fix does not name iptables-legacy and chain FORWARD: $fix" ;;
	esac
	expect_unchanged "$before" "up --firewall none"
	start_tagged_server_in web tcp 80 web
	traffic_dead web 8080
	show_firewall web
	assert_json "$FW_JSON" '.mode == "none" and .opened == [] and
		(.blocked | map(select(.source == "iptables-legacy" and .chain == "FORWARD"
			and .policy_drop == true and (.fix | contains("iptables-legacy -I FORWARD"))))
		| length == 1)' "show --json: firewall none, blocked by ip filter FORWARD"
	expect_exit 0 nsg show web
	grep -qE '^ *firewall +none$' <<<"$LAST_OUT" && grep -qF 'blocked by ip filter FORWARD (policy drop): fix: ' <<<"$LAST_OUT" ||
		fail "show web does not say none, blocked by ip filter FORWARD: $LAST_OUT"
	# The fix as printed: commands separated by "; ".
	bash -c "$fix" || fail "the printed fix failed: $fix"
	traffic_works web 8080
	must iptables-legacy -D FORWARD -i nsg-+ -j ACCEPT
	must iptables-legacy -D FORWARD -o nsg-+ -j ACCEPT
	down_ok web
	expect_unchanged "$before" "up --firewall none + down"
	assert_no_residue web
	reset_legacy
	pass "--firewall none: table untouched, one warning naming ip filter FORWARD with a fix that works; down changes nothing"
}

forward_drop
docker_user_and_input
delete_by_iptables
watch_restores
firewall_none
