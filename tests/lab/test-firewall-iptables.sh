# SPDX-License-Identifier: MIT
# test-firewall-iptables.sh: hosts whose iptables-nft filter table drops
# forwarded traffic: Docker's layout (FORWARD policy DROP, jumping first to
# DOCKER-USER), a plain FORWARD policy DROP with INPUT DROP and a DNS server
# on the host, and an admin's own nftables table with policy drop.
# With --firewall auto (the default) nsgate opens ip filter with rules of its
# own, labelled `nsgate`, that iptables-nft reads, lists and deletes as its
# own words; traffic flows both ways; nsgate's table still drops unsolicited
# inbound traffic; the rules stay while any gateway is up and the last down
# leaves iptables-save as it was. With --firewall none nothing is touched
# and up warns, naming the chain and the fix (which works). An admin's nft
# table is never touched: up warns. `watch` puts deleted rules back and
# moves them into DOCKER-USER when Docker arrives after them. In Docker's
# layout two RETURNs (-o docker0, -o br-+) stand above the accepts, so that
# what goes to Docker's bridges meets Docker's own rules; a gateway left
# without them (by the previous nsgate) gets them at the next gc, above the
# accepts, and so does one whose accept someone deleted.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces):
# the nftables tables here are the lab's own.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewall.sh
. "$LAB_DIR/firewall.sh"
need_tools iptables iptables-save iptables-nft
case $(iptables -V) in
*nf_tables*) ;;
*) fail "iptables is not iptables-nft here ($(iptables -V)): this test is about iptables-nft" ;;
esac
[ -z "$(nft list ruleset)" ] || fail "the lab has nftables rules before the test made any: $(nft list ruleset)"

start_server_in inet "$SERVER_PORT"
WLOG=$LAB_TMP/watch.log
WAIT_1S=100 # wait_for tries of 10 ms: 1 s (plus the checks' own time)

R_FWD_IN='-A FORWARD -i nsg-+ -m comment --comment nsgate -j ACCEPT'
R_FWD_OUT='-A FORWARD -o nsg-+ -m comment --comment nsgate -j ACCEPT'
R_DU_IN='-A DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT'
R_DU_OUT='-A DOCKER-USER -o nsg-+ -m comment --comment nsgate -j ACCEPT'
R_DU_RET0='-A DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN'
R_DU_RETBR='-A DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN'
R_DNS_UDP='-A INPUT -i nsg-+ -p udp -m udp --dport 53 -m comment --comment nsgate -j ACCEPT'
R_DNS_TCP='-A INPUT -i nsg-+ -p tcp -m tcp --dport 53 -m comment --comment nsgate -j ACCEPT'

# ours : nsgate's rules as iptables-save prints them, one a line.
ours() { iptables-save -t filter 2>/dev/null | grep -e '--comment nsgate' || true; }

# expect_rules LINE... : nsgate's rules in ip filter are exactly these.
expect_rules() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(ours)
	[ "$got" = "$want" ] || fail "nsgate's rules in iptables-save:
$got
  expected:
$want
  whole table:
$(iptables-save -t filter)"
}
rules_are() { [ "$(ours)" = "$(printf '%s\n' "$@")" ]; }

# expect_unchanged BEFORE WHAT : iptables-save is as BEFORE (counters aside).
expect_unchanged() {
	local now
	now=$(ipt_save)
	[ "$now" = "$1" ] || fail "$2 changed iptables-save:
$(diff <(echo "$1") <(echo "$now") | sed 's/^/    /')"
}

# chain_rules CHAIN : the -A lines of one chain of ip filter.
chain_rules() { iptables-save -t filter | grep -e "^-A $1 " || true; }

# inbound_dropped NAME : with the other firewall open, inet (given a route to
# the gateway's subnet) still cannot connect to a server in the namespace:
# nsgate's own table drops what the namespace did not ask for.
inbound_dropped() {
	local ns_addr subnet seen
	gw_json "$1"
	ns_addr=$(gw_field "$1" ns_addr)
	subnet=$(gw_field "$1" subnet)
	start_server_in "$1" 7001
	[ "$(peer_seen "$ns_addr" 7001 run_in_gw "$1")" = "$ns_addr" ] ||
		fail "server in $1 does not answer on $ns_addr:7001 inside the namespace"
	must ip -n inet route add "$subnet" via "$UPLINK_ADDR"
	if seen=$(peer_seen "$ns_addr" 7001 ip netns exec inet 2>/dev/null); then
		fail "inet connected to $ns_addr:7001 inside $1 (saw '$seen') with ip filter opened"
	fi
	must ip -n inet route del "$subnet" via "$UPLINK_ADDR"
}

# docker_layout : table ip filter as dockerd (iptables-nft) leaves it with
# no container running: FORWARD policy DROP, its first rule the jump to
# DOCKER-USER, which returns.
docker_layout() {
	local c
	for c in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do
		must iptables -N "$c"
	done
	must iptables -A DOCKER-USER -j RETURN
	must iptables -A FORWARD -j DOCKER-ISOLATION-STAGE-1
	must iptables -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	must iptables -A FORWARD -o docker0 -j DOCKER
	must iptables -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
	must iptables -A FORWARD -i docker0 -o docker0 -j ACCEPT
	must iptables -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
	must iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN
	must iptables -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
	must iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN
	must iptables -I FORWARD -j DOCKER-USER
	must iptables -P FORWARD DROP
}

# input_drop : INPUT drops what is not loopback or a reply, as a hardened host does.
input_drop() {
	must iptables -A INPUT -i lo -j ACCEPT
	must iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	must iptables -P INPUT DROP
}

# reset_tables : no nftables table at all, as the lab started.
reset_tables() {
	must nft flush ruleset
}

# up_gw NAME PORT ARGS... : `up NAME --publish PORT:80 ARGS...`, silent
# (--firewall auto opens what drops), with a tagged server in NAME on 80.
up_gw() {
	local name=$1 port=$2
	shift 2
	expect_exit 0 nsg up "$name" --publish "$port:80" "$@"
	[ -z "$LAST_ERR" ] || fail "up $name printed on stderr with --firewall auto: $LAST_ERR"
	start_tagged_server_in "$name" tcp 80 "$name"
}

# expect_docker_user : DOCKER-USER is nsgate's two RETURNs, its two
# accepts, then Docker's RETURN.
expect_docker_user() {
	[ "$(chain_rules DOCKER-USER)" = "$R_DU_RET0
$R_DU_RETBR
$R_DU_IN
$R_DU_OUT
-A DOCKER-USER -j RETURN" ] || fail "DOCKER-USER is not nsgate's two RETURNs, two accepts, then RETURN ($1): $(iptables-save -t filter)"
}

# (a) Docker's layout: the rules go into DOCKER-USER, ahead of its RETURN,
# the RETURNs to Docker's bridges first, in iptables-nft's own words (-C
# finds them, -L lists them, nft shows the comment); in and out work,
# inbound that is not asked for is still dropped; show says opened; the
# previous nsgate's two accepts alone get the RETURNs at gc, above them;
# down leaves iptables-save as it was.
docker_user() {
	local before
	docker_layout
	before=$(ipt_save)
	up_gw web 8080
	traffic_works web 8080
	expect_rules "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT"
	expect_docker_user "up"
	must iptables -C DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
	must iptables -C DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
	must iptables -C DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
	must iptables -C DOCKER-USER -o nsg-+ -m comment --comment nsgate -j ACCEPT
	[ "$(iptables-nft -L DOCKER-USER -v -n | grep -c 'ACCEPT .*nsg-+ .*/\* nsgate \*/')" = 2 ] ||
		fail "iptables-nft -L DOCKER-USER does not list nsgate's two accepts: $(iptables-nft -L DOCKER-USER -v -n)"
	[ "$(iptables-nft -L DOCKER-USER -v -n | grep -cE 'RETURN .*nsg-\+ +(docker0|br-\+) .*/\* nsgate \*/')" = 2 ] ||
		fail "iptables-nft -L DOCKER-USER does not list nsgate's two RETURNs: $(iptables-nft -L DOCKER-USER -v -n)"
	[ "$(nft list chain ip filter DOCKER-USER | grep -cE '^\s*[io]ifname "nsg-\*" counter packets [0-9]+ bytes [0-9]+ accept comment "nsgate"$')" = 2 ] ||
		fail "nft does not show nsgate's two accepts with their comment: $(nft list chain ip filter DOCKER-USER)"
	[ "$(nft list chain ip filter DOCKER-USER | grep -cE '^\s*iifname "nsg-\*" oifname "(docker0|br-\*)" counter packets [0-9]+ bytes [0-9]+ return comment "nsgate"$')" = 2 ] ||
		fail "nft does not show nsgate's two RETURNs with their comment: $(nft list chain ip filter DOCKER-USER)"
	show_firewall web
	assert_json "$FW_JSON" '.mode == "auto" and .blocked == [] and
		(.opened | map(select(.source == "nftables" and .family == "ip" and .table == "filter"
			and .chain == "FORWARD" and .hook == "forward" and .policy_drop == true))
		| length == 1)' "show --json: firewall opened ip filter FORWARD"
	expect_exit 0 nsg show web
	grep -qE '^ *firewall +auto, opened ip filter FORWARD \(policy drop\)$' <<<"$LAST_OUT" ||
		fail "show web has no line 'firewall  auto, opened ip filter FORWARD (policy drop)': $LAST_OUT"
	inbound_dropped web
	# What the previous nsgate left: the accepts without the RETURNs.
	must iptables -D DOCKER-USER -i nsg-+ -o docker0 -m comment --comment nsgate -j RETURN
	must iptables -D DOCKER-USER -i nsg-+ -o br-+ -m comment --comment nsgate -j RETURN
	gc_blocked_then_fixed "the accepts without the RETURNs"
	# An accept gone: put back below the RETURNs, not above them.
	must iptables -D DOCKER-USER -i nsg-+ -m comment --comment nsgate -j ACCEPT
	gc_blocked_then_fixed "the RETURNs without -i nsg-+ -j ACCEPT"
	traffic_works web 8080
	down_ok web
	expect_unchanged "$before" "up + down"
	assert_no_residue web
	reset_tables
	pass "Docker's layout: RETURNs to docker0 and br-+ above the accepts in DOCKER-USER (iptables -C, iptables-nft -L and nft read them), in and out work, unsolicited inbound still dropped; gc adds missing RETURNs above the accepts; down leaves iptables-save as it was"
}

# (b) FORWARD and INPUT policy DROP, no DOCKER-USER, DNS on the host: the
# rules at the top of FORWARD and of INPUT; in, out and DNS work; then
# iptables -D deletes them by the words iptables-save prints.
forward_and_input() {
	local before
	must iptables -P FORWARD DROP
	input_drop
	start_host_dns
	before=$(ipt_save)
	up_gw web 8080 --dns "$UPLINK_ADDR"
	traffic_works web 8080
	host_dns_works web
	expect_rules "$R_DNS_UDP" "$R_DNS_TCP" "$R_FWD_IN" "$R_FWD_OUT"
	[ "$(chain_rules FORWARD)" = "$R_FWD_IN
$R_FWD_OUT" ] || fail "FORWARD is not nsgate's two rules: $(iptables-save -t filter)"
	[ "$(chain_rules INPUT | head -2)" = "$R_DNS_UDP
$R_DNS_TCP" ] || fail "nsgate's DNS rules are not the first of INPUT: $(iptables-save -t filter)"
	show_firewall web
	assert_json "$FW_JSON" '.blocked == [] and ([.opened[] | select(.source == "nftables")
		| .chain] | sort) == ["FORWARD", "INPUT"]' "show --json: opened FORWARD and INPUT"
	inbound_dropped web
	must iptables -D FORWARD -i nsg-+ -m comment --comment nsgate -j ACCEPT
	must iptables -D FORWARD -o nsg-+ -m comment --comment nsgate -j ACCEPT
	must iptables -D INPUT -i nsg-+ -p udp --dport 53 -m comment --comment nsgate -j ACCEPT
	must iptables -D INPUT -i nsg-+ -p tcp --dport 53 -m comment --comment nsgate -j ACCEPT
	expect_rules
	expect_unchanged "$before" "up + iptables -D of nsgate's four rules"
	down_ok web
	expect_unchanged "$before" "down after iptables -D"
	up_gw web 8080 --dns "$UPLINK_ADDR"
	expect_rules "$R_DNS_UDP" "$R_DNS_TCP" "$R_FWD_IN" "$R_FWD_OUT"
	down_ok web
	expect_unchanged "$before" "up + down"
	assert_no_residue web
	reset_tables
	pass "FORWARD and INPUT policy DROP: rules at the top of both, in, out and DNS to the host work; iptables -D deletes them; down leaves iptables-save as it was"
}

# (c) --firewall none, Docker's layout: nothing touched; one warning line
# naming ip filter FORWARD and the fix, which goes in DOCKER-USER (accepts,
# and above them the RETURNs that leave Docker's bridges to Docker's rules);
# traffic times out; the fix, run as printed, makes the gateway work and
# show no longer reports the chain as blocking.
firewall_none() {
	local before fix
	docker_layout
	before=$(ipt_save)
	expect_exit 0 nsg up web --publish 8080:80 --firewall none
	expect_fw_warning web "ip filter FORWARD (policy drop)"
	fix=$FW_FIX
	[ "$fix" = "iptables -I DOCKER-USER -o nsg-+ -j ACCEPT; iptables -I DOCKER-USER -i nsg-+ -j ACCEPT; iptables -I DOCKER-USER -i nsg-+ -o br-+ -j RETURN; iptables -I DOCKER-USER -i nsg-+ -o docker0 -j RETURN" ] ||
		fail "the fix is not Docker's DOCKER-USER form: $fix"
	expect_unchanged "$before" "up --firewall none"
	start_tagged_server_in web tcp 80 web
	traffic_dead web 8080
	show_firewall web
	assert_json "$FW_JSON" '.mode == "none" and .opened == [] and
		(.blocked | map(select(.source == "nftables" and .chain == "FORWARD"
			and .policy_drop == true and (.fix | contains("iptables -I DOCKER-USER"))))
		| length == 1)' "show --json: firewall none, blocked by ip filter FORWARD"
	bash -c "$fix" || fail "the printed fix failed: $fix"
	traffic_works web 8080
	show_firewall web
	assert_json "$FW_JSON" '.blocked == []' "show --json after the printed fix: nothing blocks"
	must iptables -D DOCKER-USER -i nsg-+ -o docker0 -j RETURN
	must iptables -D DOCKER-USER -i nsg-+ -o br-+ -j RETURN
	must iptables -D DOCKER-USER -i nsg-+ -j ACCEPT
	must iptables -D DOCKER-USER -o nsg-+ -j ACCEPT
	down_ok web
	expect_unchanged "$before" "up --firewall none + down"
	assert_no_residue web
	reset_tables
	pass "--firewall none: ip filter untouched, one warning naming ip filter FORWARD with a fix that works (and then counts as open); down changes nothing"
}

# (d) Two gateways share the rules; they stay until the last one is down.
two_gateways() {
	local before
	docker_layout
	before=$(ipt_save)
	up_gw web 8080
	up_gw b 8081
	traffic_works web 8080
	traffic_works b 8081
	expect_rules "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT"
	down_ok web
	expect_rules "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT"
	traffic_works b 8081
	down_ok b
	expect_unchanged "$before" "two ups + two downs"
	assert_no_residue web b
	reset_tables
	pass "two gateways: one set of rules in DOCKER-USER for both, kept by the first down, gone with the last"
}

# (e) An admin's own nftables table with policy drop: no iptables rules can
# open it and nsgate does not touch it; up warns (in auto mode too), naming
# inet filter forward and the fix, which works.
admin_nft_table() {
	local table fix
	must nft -f - <<-'EOF'
	table inet filter {
		chain forward {
			type filter hook forward priority 0; policy drop;
		}
	}
	EOF
	table=$(nft -a list table inet filter)
	expect_exit 0 nsg up web --publish 8080:80
	expect_fw_warning web "inet filter forward (policy drop)"
	fix=$FW_FIX
	[ "$(nft -a list table inet filter)" = "$table" ] || fail "up changed the admin's table: $(nft -a list table inet filter)"
	nft list tables | grep -qx 'table ip filter' && fail "up made table ip filter: $(nft list tables)"
	start_tagged_server_in web tcp 80 web
	traffic_dead web 8080
	show_firewall web
	assert_json "$FW_JSON" '.mode == "auto" and (.blocked | map(select(.source == "nftables"
		and .family == "inet" and .table == "filter" and .chain == "forward")) | length == 1)' \
		"show --json: blocked by inet filter forward"
	bash -c "$fix" || fail "the printed fix failed: $fix"
	traffic_works web 8080
	show_firewall web
	assert_json "$FW_JSON" '.blocked == [] and (.opened | length == 1)' \
		"show --json after the admin's fix: inet filter forward counts as open"
	down_ok web
	assert_no_residue web
	reset_tables
	pass "an admin's table inet filter (policy drop): untouched, up warns naming inet filter forward; its fix works and then counts as open"
}

watch_start() {
	start_nsgate_bg "$WLOG" watch
	WATCH=$BG_PID
	wait_for grep -q listening "$WLOG" || fail "watch never printed its 'listening' line: $(cat "$WLOG")"
}
watch_stop() {
	kill -0 "$WATCH" 2>/dev/null || fail "watch died: $(cat "$WLOG")"
	kill -TERM "$WATCH"
	wait_exit "$WATCH" 5 || fail "watch still running 5 s after SIGTERM"
}

# (f) watch: rules someone flushes are back within 1 s; a gateway that came
# up before Docker has its rules moved into DOCKER-USER once Docker made it.
watch_repairs() {
	local before t0 ms
	must iptables -P FORWARD DROP
	up_gw web 8080
	expect_rules "$R_FWD_IN" "$R_FWD_OUT"
	watch_start
	# dockerd starting: its chains, and FORWARD's first rule the jump.
	docker_layout_after_up
	WAIT_TRIES=$WAIT_1S wait_for rules_are "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT" ||
		fail "watch did not move the rules into DOCKER-USER within 1 s of Docker's layout: $(iptables-save -t filter); watch: $(cat "$WLOG")"
	traffic_works web 8080
	before=$(ipt_save | grep -v -e '--comment nsgate')
	t0=$(date +%s%N)
	must iptables -F DOCKER-USER
	must iptables -A DOCKER-USER -j RETURN
	WAIT_TRIES=$WAIT_1S wait_for rules_are "$R_DU_RET0" "$R_DU_RETBR" "$R_DU_IN" "$R_DU_OUT" ||
		fail "watch did not put the rules back within 1 s of iptables -F DOCKER-USER: $(iptables-save -t filter); watch: $(cat "$WLOG")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	traffic_works web 8080
	watch_stop
	down_ok web
	expect_unchanged "$before" "up, Docker's arrival, flush, watch's repairs, down"
	assert_no_residue web
	reset_tables
	pass "watch: rules moved into DOCKER-USER when Docker's layout appeared, back ${ms} ms after iptables -F DOCKER-USER"
}
# Docker's chains made while FORWARD already has policy DROP (and nsgate's rules).
docker_layout_after_up() {
	must iptables -N DOCKER-USER
	must iptables -A DOCKER-USER -j RETURN
	must iptables -I FORWARD -j DOCKER-USER
}

docker_user
forward_and_input
firewall_none
two_gateways
admin_nft_table
watch_repairs
