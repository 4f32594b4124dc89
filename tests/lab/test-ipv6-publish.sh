# SPDX-License-Identifier: MIT
# test-ipv6-publish.sh: a published port of a dual-stack gateway answers over
# IPv6 on every path into the host (from inet, keeping the client's address;
# from the lab host to its own address; hairpin from the namespace; from
# another gateway's namespace), for tcp, udp and sctp; [ADDR]:HOSTPORT:PORT
# binds to one IPv6 address; [::1]: is refused; host listeners on IPv6 and
# other gateways' ports conflict; unpublish closes the IPv6 paths and deletes
# their conntrack entries.
# Runs inside lab.sh's hermetic lab, made dual-stack by lab_ipv6 (lib.sh).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools conntrack
lab_ipv6
SECOND6=2001:db8:1::3    # a second IPv6 address of the lab host, added below
LOOPBACK_MSG='nsgate: publish "[::1]:8080:80": IPv6 loopback cannot be forwarded into a namespace (the kernel has no route_localnet for IPv6); publish without an address, or on one of the host'"'"'s addresses'

# refused6 WHAT CMD... : CMD exits 2 with one error line and changes neither
# table inet nsgate nor any gateway's published ports.
refused6() {
	local what=$1 before after
	shift
	before="$(nft_table_snapshot)$(nsg list --json | jq -c '[.[] | .published]')"
	expect_exit 2 "$@"
	assert_error_line
	after="$(nft_table_snapshot)$(nsg list --json | jq -c '[.[] | .published]')"
	[ "$before" = "$after" ] || fail "$what: '$*' was refused but changed the table or the published ports"
}

# 1. up web --publish 8080:80: inet reaches the namespace's [::]:80 through
# [2001:db8:1::1]:8080 and the server sees inet's real address; IPv4 too.
from_inet() {
	up_ok web --publish 8080:80
	assert_gw_dual web
	WEB_NS6=$GW_NS6
	WEB_HOST6=$GW_HOST6
	WEB_NS=$(gw_field web ns_addr)
	# One entry, as for IPv4: its IPv6 twin is folded into it (its target: to6).
	expect_published web "$(pub_entry 0.0.0.0 8080 8080 80 80 tcp "$WEB_NS" "$WEB_NS6")"
	start_tagged_server_in web tcp 80 web
	start_tagged_server6_in web tcp 80 web
	expect_answer6 tcp "$UPLINK6_ADDR" 8080 "web $INET6_ADDR" ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	expect_no_answer6 tcp "$UPLINK6_ADDR" 8081 ip netns exec inet
	pass "inet -> [$UPLINK6_ADDR]:8080 reaches web's [::]:80, which sees $INET6_ADDR; IPv4 8080 too; 8081 not forwarded"
}

# 2. The lab host to its own IPv6 address; 3. hairpin from web itself.
from_host_and_hairpin() {
	local got
	got=$(ask6 tcp "$UPLINK6_ADDR" 8080 2>"$LAB_TMP/ask6.err")
	case $got in
	"web $UPLINK6_ADDR" | "web $WEB_HOST6") ;;
	*) fail "lab host -> [$UPLINK6_ADDR]:8080: answer '$got', expected 'web $UPLINK6_ADDR' (or 'web $WEB_HOST6') $(cat "$LAB_TMP/ask6.err")" ;;
	esac
	expect_answer6 tcp "$UPLINK6_ADDR" 8080 "web $WEB_HOST6" ip netns exec web
	pass "lab host -> its own [$UPLINK6_ADDR]:8080 (seen as ${got#web }); hairpin web -> [$UPLINK6_ADDR]:8080 seen as $WEB_HOST6"
}

# 4. From another gateway's namespace, through the published port only.
other_gateway() {
	up_ok other --publish 8090:80
	assert_gw_dual other
	OTHER_NS6=$GW_NS6
	OTHER_HOST6=$GW_HOST6
	start_tagged_server6_in other tcp 80 other
	expect_answer6 tcp "$UPLINK6_ADDR" 8080 "web $WEB_HOST6" ip netns exec other
	expect_answer6 tcp "$UPLINK6_ADDR" 8090 "other $OTHER_HOST6" ip netns exec web
	expect_answer6 tcp "$WEB_NS6" 80 "web $WEB_NS6" ip netns exec web
	expect_no_answer6 tcp "$WEB_NS6" 80 ip netns exec other
	expect_no_answer6 tcp "$OTHER_NS6" 80 ip netns exec web
	pass "other -> [$UPLINK6_ADDR]:8080 reaches web (seen as $WEB_HOST6), web -> :8090 reaches other; direct [::2]:80 between them blocked"
}

# 5. [2001:db8:1::1]:8081:80 answers on that address only: not on IPv4
# 198.51.100.1:8081, not on a second IPv6 address (where the unbound 8080 does).
bound_address() {
	must ip -6 addr add "$SECOND6/64" dev up0 nodad
	expect_exit 0 nsg publish web "[$UPLINK6_ADDR]:8081:80"
	published_json web
	jq -e --arg a "$UPLINK6_ADDR" 'map(select(.host_addr == $a and .host_port == 8081 and .host_end == 8081
		and .port == 80 and .proto == "tcp")) | length == 1' >/dev/null <<<"$PUB_JSON" ||
		fail "show web --json does not list [$UPLINK6_ADDR]:8081:80 with host_addr \"$UPLINK6_ADDR\": $PUB_JSON"
	note "[$UPLINK6_ADDR]:8081:80 in show --json: $(jq -c --arg a "$UPLINK6_ADDR" 'map(select(.host_addr == $a))' <<<"$PUB_JSON")"
	expect_answer6 tcp "$UPLINK6_ADDR" 8081 "web $INET6_ADDR" ip netns exec inet
	expect_no_answer tcp "$UPLINK_ADDR" 8081 ip netns exec inet
	expect_no_answer6 tcp "$SECOND6" 8081 ip netns exec inet
	expect_answer6 tcp "$SECOND6" 8080 "web $INET6_ADDR" ip netns exec inet
	must ip -6 addr del "$SECOND6/64" dev up0
	pass "[$UPLINK6_ADDR]:8081:80 answers there only (not on $UPLINK_ADDR:8081 nor [$SECOND6]:8081); unbound 8080 answers on $SECOND6 too"
}

# 6. udp and sctp over IPv6 (sctp when the kernel has it), given at up.
protocols() {
	up_ok proto --publish 5353:53/udp --publish "[$UPLINK6_ADDR]:5354:53/udp"
	assert_gw_dual proto
	start_tagged_server6_in proto udp 53 proto
	expect_answer6 udp "$UPLINK6_ADDR" 5353 "proto $INET6_ADDR" ip netns exec inet
	expect_answer6 udp "$UPLINK6_ADDR" 5354 "proto $INET6_ADDR" ip netns exec inet
	expect_no_answer udp "$UPLINK_ADDR" 5354 ip netns exec inet
	if sctp_supported; then
		expect_exit 0 nsg publish proto 9300:9300/sctp
		start_tagged_server6_in proto sctp 9300 proto
		expect_answer6 sctp "$UPLINK6_ADDR" 9300 "proto $INET6_ADDR" ip netns exec inet
		SCTP_NOTE="sctp 9300 too"
	else
		SCTP_NOTE="no sctp in this kernel ($SCTP_WHY)"
	fi
	pass "udp 5353:53 and [$UPLINK6_ADDR]:5354:53/udp answer inet over IPv6 with its address; $SCTP_NOTE"
}

# 7. Refusals: [::1]: (one line, as the contract words it); an IPv6 host
# listener; another gateway's port; each changes nothing.
refusals() {
	refused6 "publish [::1]:8085:80" nsg publish web "[::1]:8085:80"
	grep -qF 'IPv6 loopback cannot be forwarded' <<<"$LAST_ERR" || fail "[::1]: refusal does not say why: $LAST_ERR"
	expect_exit 2 nsg up lo6 --publish "[::1]:8080:80"
	assert_error_line
	[ "$LAST_ERR" = "$LOOPBACK_MSG" ] || fail "up --publish [::1]:8080:80 said: $LAST_ERR
  expected: $LOOPBACK_MSG"
	assert_gone lo6
	# A host process on [::]:8082 (IPv6 only): refused naming it, unless --force.
	start_tagged_server6_in host tcp 8082 hostproc
	refused6 "publish 8082:80 with a host listener on [::]:8082" nsg publish web 8082:80
	grep -q 8082 <<<"$LAST_ERR" || fail "listener refusal does not mention 8082: $LAST_ERR"
	grep -q socat <<<"$LAST_ERR" || fail "listener refusal does not name the process (socat): $LAST_ERR"
	refused6 "up --publish 8082:80 with a host listener on [::]:8082" nsg up lst --publish 8082:80
	assert_gone lst
	expect_exit 0 nsg publish web 8082:80 --force
	expect_answer6 tcp "$UPLINK6_ADDR" 8082 "web $INET6_ADDR" ip netns exec inet
	expect_exit 0 nsg unpublish web 8082:80
	expect_answer6 tcp "$UPLINK6_ADDR" 8082 "hostproc $INET6_ADDR" ip netns exec inet
	# Another gateway's port, unbound or bound to the same IPv6 address.
	refused6 "other publish 8080:80 (web's)" nsg publish other 8080:80
	grep -qw web <<<"$LAST_ERR" || fail "conflict does not name the owner web: $LAST_ERR"
	refused6 "other publish [$UPLINK6_ADDR]:8081:80 (web's)" nsg publish other "[$UPLINK6_ADDR]:8081:80"
	grep -qw web <<<"$LAST_ERR" || fail "conflict does not name the owner web: $LAST_ERR"
	pass "[::1]:8085:80 refused with the contract's line; a host listener on [::]:8082 blocks 8082 unless --force; web's 8080 and [$UPLINK6_ADDR]:8081 refused to other"
}

# ct6_flow SPORT : IPv6 conntrack entries of the flow from inet:SPORT to 5353.
ct6_flow() { ct_entries -f ipv6 -p udp --orig-src "$INET6_ADDR" --orig-port-src "$1" --orig-port-dst 5353; }

# 8. unpublish: the IPv6 paths close, the IPv6 conntrack entries go.
unpublish() {
	for _ in 1 2 3; do
		ASK_OPTS=",sourceport=40000,reuseaddr" expect_answer6 udp "$UPLINK6_ADDR" 5353 "proto $INET6_ADDR" ip netns exec inet
	done
	[ -n "$(ct6_flow 40000)" ] || fail "no IPv6 conntrack entry for inet:40000 -> 5353: $(ct_entries -f ipv6 -p udp)"
	expect_exit 0 nsg unpublish proto 5353:53/udp
	[ -z "$(ct6_flow 40000)" ] || fail "after unpublish, conntrack still holds inet:40000 -> 5353: $(ct6_flow 40000)"
	ASK_OPTS=",sourceport=40000,reuseaddr" expect_no_answer6 udp "$UPLINK6_ADDR" 5353 ip netns exec inet
	expect_exit 0 nsg unpublish web 8080:80 "[$UPLINK6_ADDR]:8081:80"
	expect_no_answer6 tcp "$UPLINK6_ADDR" 8080 ip netns exec inet
	expect_no_answer6 tcp "$UPLINK6_ADDR" 8081 ip netns exec inet
	expect_no_answer6 tcp "$UPLINK6_ADDR" 8080 ip netns exec web
	expect_no_answer6 tcp "$UPLINK6_ADDR" 8080 ip netns exec other
	expect_answer6 tcp "$UPLINK6_ADDR" 8090 "other $INET6_ADDR" ip netns exec inet
	expect_published web
	# down deletes the IPv6 entries of what is still published (5354/udp).
	ASK_OPTS=",sourceport=40001,reuseaddr" expect_answer6 udp "$UPLINK6_ADDR" 5354 "proto $INET6_ADDR" ip netns exec inet
	down_ok proto
	[ -z "$(ct_entries -f ipv6 -p udp --orig-port-src 40001 --orig-port-dst 5354)" ] ||
		fail "after down, conntrack still holds inet:40001 -> 5354: $(ct_entries -f ipv6 -p udp --orig-port-src 40001)"
	expect_exit 0 nsg down --all
	assert_no_residue6 web other proto
	pass "unpublish closes the IPv6 paths (inet, hairpin, other gateway) and deletes their IPv6 conntrack entries, down too; nothing left"
}

from_inet
from_host_and_hairpin
other_gateway
bound_address
protocols
refusals
unpublish
