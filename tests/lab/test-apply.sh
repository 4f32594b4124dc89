# SPDX-License-Identifier: MIT
# test-apply.sh: `nsgate apply FILE [--prune]` brings the kernel to the file's
# gateways with the fewest changes; an identical apply writes nothing over
# netlink; a bad file changes nothing.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
start_server_in inet "$SERVER_PORT"
CONF=$LAB_TMP/nsgate.conf

write_conf() { printf '%s\n' "$@" >"$CONF"; }

# Everything the kernel and the state directory show of nsgate.
snapshot() {
	{
		ip -o link show | sed 's/^[0-9]*: //; s/ state [A-Z]*//' | grep nsg- | sort
		nft_table_snapshot
		ls /run/nsgate /etc/netns /run/netns
	} 2>&1
}

# Netlink writes of a command: link/address/route changes and nftables batches.
netlink_writes() {
	strace -f -e trace=sendto,sendmsg -o "$LAB_TMP/strace.out" "$NSGATE" "$@" >/dev/null 2>&1
	grep -cE 'RTM_NEW|RTM_DEL|RTM_SET|BATCH_BEGIN|IPCTNL_MSG_CT_DELETE' "$LAB_TMP/strace.out"
}

create() {
	write_conf '[web]' 'publish = 8080:80' '[db]' 'subnet = 10.200.9.0/30' 'uplink = up0'
	expect_exit 0 nsg apply "$CONF"
	grep -q '^web: created' <<<"$LAST_OUT" || fail "apply did not create web: $LAST_OUT"
	grep -q '^db: created' <<<"$LAST_OUT" || fail "apply did not create db: $LAST_OUT"
	grep -q '^2 changes' <<<"$LAST_OUT" || fail "apply did not count 2 changes: $LAST_OUT"
	start_tagged_server_in web tcp 80 web
	expect_answer tcp "$UPLINK_ADDR" 8080 "web $INET_ADDR" ip netns exec inet
	expect_internet run_in_gw db
	gw_json db
	[ "$(gw_field db subnet)" = 10.200.9.0/30 ] || fail "db's subnet is $(gw_field db subnet)"
	pass "apply creates web (8080:80 answers) and db (10.200.9.0/30, reaches inet)"
}

idempotent() {
	local before writes
	before=$(snapshot)
	expect_exit 0 nsg apply "$CONF"
	grep -q '^0 changes' <<<"$LAST_OUT" || fail "second apply changed something: $LAST_OUT"
	writes=$(netlink_writes apply "$CONF")
	[ "$writes" = 0 ] || fail "an identical apply made $writes netlink writes: $(grep -E 'RTM_NEW|RTM_DEL|RTM_SET|BATCH_BEGIN' "$LAB_TMP/strace.out" | head -3)"
	[ "$(snapshot)" = "$before" ] || fail "an identical apply changed the kernel or files"
	pass "an identical apply: 0 changes, 0 netlink writes (strace), same kernel state"
}

change_port() {
	write_conf '[web]' 'publish = 8081:80' '[db]' 'subnet = 10.200.9.0/30' 'uplink = up0'
	expect_exit 0 nsg apply "$CONF"
	grep -q '^web: updated (1 port unpublished, 1 published)' <<<"$LAST_OUT" || fail "web not updated in place: $LAST_OUT"
	grep -q '^db: unchanged' <<<"$LAST_OUT" || fail "db was touched: $LAST_OUT"
	expect_answer tcp "$UPLINK_ADDR" 8081 "web $INET_ADDR" ip netns exec inet
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	pass "a changed port: web updated in place (8080 gone, 8081 answers), db unchanged"
}

bad_files() {
	local before f line
	before=$(snapshot)
	for f in "1:[web" "2:subnet = 10.0.0.1/30" "2:colour = blue" "3:publish = 70000:80"; do
		line=${f%%:*}
		case $line in
		1) write_conf "${f#*:}" ;;
		2) write_conf '[web]' "${f#*:}" ;;
		3) write_conf '[web]' 'publish = 8081:80' "${f#*:}" ;;
		esac
		expect_exit 2 nsg apply "$CONF"
		assert_error_line
		grep -qF "$CONF:$line:" <<<"$LAST_ERR" || fail "error for '${f#*:}' does not name $CONF:$line: $LAST_ERR"
	done
	[ "$(snapshot)" = "$before" ] || fail "a bad file changed something"
	pass "bad files (syntax, bad subnet, unknown key, bad port) exit 2 naming FILE:LINE, change nothing"
}

prune() {
	write_conf '[web]' 'publish = 8081:80'
	expect_exit 0 nsg apply "$CONF"
	[ -e /run/nsgate/db.state ] || fail "apply without --prune removed db"
	expect_exit 0 nsg apply "$CONF" --prune
	grep -q '^db: removed' <<<"$LAST_OUT" || fail "--prune did not remove db: $LAST_OUT"
	assert_gone db
	gw_json web
	write_conf '# nothing'
	expect_exit 0 nsg apply "$CONF" --prune
	assert_no_residue web db
	pass "apply --prune removes gateways the file no longer names (and only with --prune)"
}

create
idempotent
change_port
bad_files
prune
