# SPDX-License-Identifier: MIT
# test-json-schema.sh: the --json documents have the fields nsgate.8's JSON
# OUTPUT section documents, every one of them, for every kind of gateway
# (NAT, dual-stack with ports, network member, LAN, one without its state
# file), each object with "schema": 1; the same keys whatever the status
# (a field that does not apply is null, never missing).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools jq
MAN=$LAB_DIR/../../docs/nsgate.8

GW_KEYS="schema name status mode host_ifname subnet host_addr ns_addr ipv6 ipv6_mode subnet6
host_addr6 ns_addr6 netns netns_created netns_present uplink dns_mode no_host dns resolv_conf
networks link nftables published published_ports lan firewall"
LINK_KEYS="ifname ifindex up mtu addresses"
NFT_KEYS="interface masquerade source source6 no_host elements"
PUB_KEYS="host_addr host_port host_end port end proto to to6"
NETENTRY_KEYS="name address address6 bridge ifname port"
LAN_KEYS="iface address gateway"
FW_KEYS="mode blocked opened"
NET_KEYS="schema name subnet gateway subnet6 bridge bridge_present isolated explicit members"
MEMBER_KEYS="name address address6"
DOCTOR_KEYS="schema healthy findings"
FINDING_KEYS="gateway check problem what fix"
VERSION_KEYS="schema version commit kernel features"

sorted() { tr ' \n' '\n\n' <<<"$*" | sed '/^$/d' | LC_ALL=C sort | tr '\n' ' '; }

# keys_are WHAT JSON KEYS : the object JSON has exactly KEYS.
keys_are() {
	local got
	got=$(jq -r 'keys_unsorted[]' <<<"$2" | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "$(sorted "$3")" ] || fail "$1: keys '$got', documented '$(sorted "$3")'"
}

# Each key is named in nsgate.8's JSON OUTPUT section (bold: \fBkey\fR, or
# a .B/.BR line).
documented() {
	local section k
	section=$(sed -n '/^\.SH JSON OUTPUT/,/^\.SH /p' "$MAN")
	[ -n "$section" ] || fail "nsgate.8 has no JSON OUTPUT section"
	for k in $GW_KEYS $LINK_KEYS $NFT_KEYS $PUB_KEYS $NETENTRY_KEYS $LAN_KEYS $FW_KEYS $NET_KEYS \
		$MEMBER_KEYS $DOCTOR_KEYS $FINDING_KEYS $VERSION_KEYS; do
		grep -Eq "(\\\\fB${k}\\\\fR|^\\.BR? (.*\" )?${k}( |\$))" <<<"$section" ||
			fail "nsgate.8 JSON OUTPUT does not document '$k'"
	done
	pass "every field below is documented in nsgate.8's JSON OUTPUT"
}

gateways() {
	local doc n
	must ip netns add held
	up_ok web --ipv6 on --publish 8080:80 --publish 127.0.0.1:5432:5432/tcp
	up_ok api --network front
	up_ok lan0 --lan up0 --address 198.51.100.60/24
	up_ok broken --netns held
	rm -f /run/nsgate/broken.state
	expect_exit 0 nsg list --json
	doc=$LAST_OUT
	n=$(jq length <<<"$doc")
	[ "$n" = 4 ] || fail "list --json: $n gateways, expected 4: $doc"
	for name in web api lan0 broken; do
		o=$(jq -c --arg n "$name" '.[] | select(.name == $n)' <<<"$doc")
		[ -n "$o" ] || fail "list --json has no $name"
		keys_are "list --json $name" "$o" "$GW_KEYS"
		[ "$(jq .schema <<<"$o")" = 1 ] || fail "$name: schema $(jq .schema <<<"$o")"
		keys_are "$name.firewall" "$(jq -c .firewall <<<"$o")" "$FW_KEYS"
		keys_are "$name.nftables" "$(jq -c .nftables <<<"$o")" "$NFT_KEYS"
		[ "$(jq -r '.link | type' <<<"$o")" = null ] ||
			keys_are "$name.link" "$(jq -c .link <<<"$o")" "$LINK_KEYS"
	done
	[ "$(jq -r '.[] | select(.name == "broken") | .status' <<<"$doc")" = no-state ] ||
		fail "broken: status is not no-state"
	jq -e '.[] | select(.name == "broken") | .subnet == null and .networks == []' <<<"$doc" >/dev/null ||
		fail "broken (no state): subnet not null or networks not []"
	jq -e '.[] | select(.name == "web") | .published | length == 2' <<<"$doc" >/dev/null || fail "web: published"
	for i in 0 1; do
		keys_are "web.published[$i]" "$(jq -c ".[] | select(.name == \"web\") | .published[$i]" <<<"$doc")" "$PUB_KEYS"
	done
	jq -e '.[] | select(.name == "web") | [.published[] | .to6 != null] == [true, false]
		or [.published[] | .to6 != null] == [false, true]' <<<"$doc" >/dev/null ||
		fail "web: to6 is set only for the unbound port: $(jq -c '.[] | select(.name == "web") | .published' <<<"$doc")"
	keys_are "api.networks[0]" "$(jq -c '.[] | select(.name == "api") | .networks[0]' <<<"$doc")" "$NETENTRY_KEYS"
	keys_are "lan0.lan" "$(jq -c '.[] | select(.name == "lan0") | .lan' <<<"$doc")" "$LAN_KEYS"
	expect_exit 0 nsg show web --json
	[ "$(jq -S -c . <<<"$LAST_OUT")" = "$(jq -S -c '.[] | select(.name == "web")' <<<"$doc")" ] ||
		fail "show web --json differs from web's list entry: $(diff <(jq -S . <<<"$LAST_OUT") <(jq -S '.[] | select(.name == "web")' <<<"$doc"))"
	pass "list/show --json: NAT, dual-stack with ports, member, LAN, no-state: the documented keys, schema 1"

	expect_exit 0 nsg network list --json
	keys_are "network list" "$(jq -c '.[0]' <<<"$LAST_OUT")" "$NET_KEYS"
	keys_are "network list members[0]" "$(jq -c '.[0].members[0]' <<<"$LAST_OUT")" "$MEMBER_KEYS"
	expect_exit 0 nsg version --json
	keys_are "version --json" "$LAST_OUT" "$VERSION_KEYS"
	# Healthy or not (the lab's nameserver may not answer): the document.
	LAST_OUT=$(nsg doctor web --json)
	[ $? -le 1 ] || fail "doctor web --json failed: $LAST_OUT"
	keys_are "doctor --json" "$LAST_OUT" "$DOCTOR_KEYS"
	keys_are "doctor finding" "$(jq -c '.findings[0]' <<<"$LAST_OUT")" "$FINDING_KEYS"
	[ "$(jq .schema <<<"$LAST_OUT")" = 1 ] || fail "doctor: schema"
	pass "network list, version, doctor --json: the documented keys, schema 1"

	expect_exit 0 nsg gc
	down_ok web
	down_ok api
	down_ok lan0
	must ip netns del held
	assert_no_residue web api lan0 broken
}

documented
gateways
