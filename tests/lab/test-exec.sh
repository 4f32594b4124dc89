# SPDX-License-Identifier: MIT
# test-exec.sh: `nsgate exec` runs a command in the gateway's namespace with
# its /etc/netns files, and passes its exit status through.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

up_ok web --dns 192.0.2.53
gw_json web
NS_ADDR=$(gw_field web ns_addr)

# The command's exit status is nsgate's.
status_passthrough() {
	expect_exit 7 run_in_gw web sh -c 'exit 7'
	expect_exit 0 run_in_gw web true
	pass "exec passes the command's exit status through (7, 0)"
}

# Arguments arrive verbatim, options after -- belong to the command.
arguments() {
	expect_exit 0 run_in_gw web sh -c 'printf "[%s]" "$@"' sh 'a b' '--help' ''
	[ "$LAST_OUT" = '[a b][--help][]' ] || fail "arguments arrived as $LAST_OUT"
	pass "exec passes arguments verbatim"
}

# The command sees the namespace's network: eth0 with the gateway's address.
sees_namespace() {
	expect_exit 0 run_in_gw web ip -o -4 addr show dev eth0
	grep -q " $NS_ADDR/" <<<"$LAST_OUT" || fail "eth0 in exec lacks $NS_ADDR: $LAST_OUT"
	expect_exit 0 run_in_gw web ip -o link show
	grep -q ': up0[@:]' <<<"$LAST_OUT" && fail "exec sees the lab host's up0: $LAST_OUT"
	pass "exec runs in the namespace (eth0 $NS_ADDR, no up0)"
}

# /etc/resolv.conf inside is the gateway's file; outside it is unchanged.
resolv_conf() {
	expect_exit 0 run_in_gw web cat /etc/resolv.conf
	[ "$LAST_OUT" = "$(cat /etc/netns/web/resolv.conf)" ] ||
		fail "resolv.conf in exec differs from /etc/netns/web/resolv.conf: $LAST_OUT"
	grep -q '^nameserver 192.0.2.53' <<<"$LAST_OUT" || fail "resolv.conf in exec lacks 192.0.2.53: $LAST_OUT"
	grep -q 192.0.2.53 /etc/resolv.conf && fail "exec leaked its resolv.conf into the lab host"
	pass "exec sees /etc/netns/web/resolv.conf as /etc/resolv.conf"
}

# Unknown gateway: exec fails (exit 1, one error line) without running anything.
unknown_gateway() {
	expect_exit 1 nsg exec nosuch -- sh -c 'echo ran'
	[ "$LAST_OUT" != ran ] || fail "exec nosuch ran the command"
	assert_error_line
	[ "$LAST_ERR" = 'nsgate: gateway "nosuch": no such gateway' ] ||
		fail "exec nosuch: unexpected error line: $LAST_ERR"
	pass "exec of an unknown gateway fails (exit 1, '$LAST_ERR') without running the command"
}

# Without NAME or CMD, exec is a usage error (it once crashed without NAME).
missing_arguments() {
	expect_exit 2 nsg exec
	assert_usage_error
	expect_exit 2 nsg exec web
	assert_usage_error
	expect_exit 2 nsg exec web --
	assert_usage_error
	pass "exec without NAME or CMD is a usage error (exit 2)"
}

# A command that cannot run exits as in a shell: 127 when there is none of
# that name, 126 when it is there but cannot be executed (a file without the
# x bit, a directory); each time one error line, nothing else.
cannot_run() {
	expect_exit 127 run_in_gw web nsgate-no-such-command
	assert_error_line
	[ "$LAST_ERR" = 'nsgate: exec "nsgate-no-such-command": No such file or directory' ] ||
		fail "exec of a missing command: unexpected error line: $LAST_ERR"
	[ -z "$LAST_OUT" ] || fail "exec of a missing command printed on stdout: $LAST_OUT"
	printf 'echo ran\n' >"$LAB_TMP/no-x-bit"
	chmod 644 "$LAB_TMP/no-x-bit"
	expect_exit 126 run_in_gw web "$LAB_TMP/no-x-bit"
	assert_error_line
	[ "$LAST_ERR" = "nsgate: exec \"$LAB_TMP/no-x-bit\": Permission denied" ] ||
		fail "exec of a file without x bit: unexpected error line: $LAST_ERR"
	[ -z "$LAST_OUT" ] || fail "exec of a file without x bit printed on stdout: $LAST_OUT"
	expect_exit 126 run_in_gw web "$LAB_TMP"
	assert_error_line
	[ "$LAST_ERR" = "nsgate: exec \"$LAB_TMP\": Permission denied" ] ||
		fail "exec of a directory: unexpected error line: $LAST_ERR"
	pass "exec: no such command exits 127, a file without x bit or a directory 126, with one error line"
}

status_passthrough
arguments
sees_namespace
resolv_conf
unknown_gateway
missing_arguments
cannot_run
down_ok web
assert_no_residue web
