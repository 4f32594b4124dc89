# SPDX-License-Identifier: MIT
# test-firewall-apply.sh: `apply` opens other firewalls as `up` does, and its
# `firewall` key changes a gateway in place. On iptables-nft's plain
# FORWARD policy DROP:
#   - [web] firewall = none: created, nothing added to ip filter, apply
#     warns naming ip filter FORWARD with the fix, the namespace is cut off;
#   - the same file with firewall = auto: web is updated in place (not
#     re-created: same namespace), the rules appear, traffic flows;
#   - applied again: unchanged, no netlink write; prune: iptables-save as
#     before.
# Runs inside lab.sh's hermetic lab.
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# shellcheck source=tests/lab/firewall.sh
. "$LAB_DIR/firewall.sh"
need_tools iptables-nft
start_server_in inet "$SERVER_PORT"
iptables-nft -P FORWARD DROP
BEFORE=$(ipt_save)
CONF=$LAB_TMP/gw.conf
ours() { iptables-save | grep -c -- '--comment nsgate' || true; }

printf '[web]\npublish = 8080:80\nfirewall = none\n' >"$CONF"
expect_exit 0 nsg apply "$CONF"
grep -qx 'web: created' <<<"$LAST_OUT" || fail "apply did not create web: $LAST_OUT"
grep -qF 'nsgate: warning: ip filter FORWARD (policy drop) drops the gateways'"'"' traffic: fix: iptables -I FORWARD -i nsg-+ -j ACCEPT; iptables -I FORWARD -o nsg-+ -j ACCEPT' <<<"$LAST_ERR" ||
	fail "apply with firewall = none did not warn about ip filter FORWARD: '$LAST_ERR'"
[ "$(ours)" = 0 ] || fail "firewall = none added rules: $(iptables-save | grep nsgate)"
start_tagged_server_in web tcp 80 web
traffic_dead web 8080
ino=$(stat -L -c %i /run/netns/web)
pass "apply with firewall = none: created, nothing added, warned with the fix, traffic dropped"

printf '[web]\npublish = 8080:80\nfirewall = auto\n' >"$CONF"
expect_exit 0 nsg apply "$CONF"
grep -qx 'web: updated (firewall auto)' <<<"$LAST_OUT" || fail "apply did not update web in place: $LAST_OUT"
[ -z "$LAST_ERR" ] || fail "apply warned with everything opened: $LAST_ERR"
[ "$(stat -L -c %i /run/netns/web)" = "$ino" ] || fail "apply re-created web's namespace for a firewall change"
[ "$(ours)" = 2 ] || fail "firewall = auto: expected nsgate's two FORWARD rules: $(iptables-save | grep nsgate)"
traffic_works web 8080
pass "firewall = auto: web updated in place, ip filter opened, traffic flows"

expect_exit 0 strace_nsg "$LAB_TMP/apply.strace" apply "$CONF"
grep -qx 'web: unchanged' <<<"$LAST_OUT" || fail "a second apply changed web: $LAST_OUT"
[ "$(nl_writes "$LAB_TMP/apply.strace")" = 0 ] || fail "a second apply made netlink writes"
printf '' >"$CONF"
expect_exit 0 nsg apply --prune "$CONF"
[ "$(ipt_save)" = "$BEFORE" ] || fail "after prune: $(diff <(echo "$BEFORE") <(ipt_save))"
assert_no_residue web
pass "apply again: unchanged, no netlink write; prune of the last gateway: iptables-save as before"
