# SPDX-License-Identifier: MIT
# test-bad-input.sh: bad input exits 2 with one error line and touches nothing;
# repeated and conflicting ups; no privileges exits 1.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

# rejected ARGS... : `nsgate ARGS...` exits 2 with "nsgate: ...: ..." on one
# line, and no gateway called web or by the bad name was left behind.
rejected() {
	expect_exit 2 nsg "$@"
	assert_error_line
	assert_gone web
}

# Names that are not a plain interface-like word.
bad_names() {
	local name
	for name in 'a/b' '..' '.' '' 'abcdefghijklmnop' '../etc'; do
		rejected up "$name"
		assert_no_residue
	done
	for name in 'a/b' '..' '../etc'; do
		rejected down "$name"
		rejected show "$name"
		rejected exec "$name" -- true
	done
	assert_no_residue
	pass "bad names (/, .., ., empty, 16 bytes) exit 2 for up, down, show and exec"
}

# Malformed subnets and other bad options.
bad_options() {
	local s
	for s in 10.0.0.0/33 10.0.0.1/30 abc 10.0.0.0/31 10.0.0.0 ''; do
		rejected up web --subnet "$s"
	done
	rejected up web --uplink nosuch0
	rejected up web --netns 999999
	rejected up web --dns 300.1.1.1
	assert_no_residue web
	pass "malformed --subnet, missing --uplink, dead --netns PID, bad --dns exit 2"
}

# Command-line syntax errors: exit 2, "nsgate: ..." first (a hint may follow).
usage_errors() {
	local args
	for args in "up web --bogus-option" "up" "up web extra" "show" "frobnicate" "exec web"; do
		# shellcheck disable=SC2086
		expect_exit 2 nsg $args
		assert_usage_error
	done
	expect_exit 2 nsg
	assert_usage_error
	assert_no_residue web
	pass "usage errors (unknown option or command, missing or extra NAME) exit 2"
}

# A --subnet overlapping what the host already uses: an address, a route,
# another gateway's subnet.
overlapping_subnets() {
	rejected up web --subnet 198.51.100.0/30
	must ip route add 192.0.2.0/24 via 198.51.100.2
	rejected up web --subnet 192.0.2.8/30
	must ip route del 192.0.2.0/24 via 198.51.100.2
	# A route inside the subnet that does not hold its first address.
	must ip route add 192.0.2.10/32 via 198.51.100.2
	rejected up web --subnet 192.0.2.8/30
	must ip route del 192.0.2.10/32 via 198.51.100.2
	assert_no_residue web
	up_ok first --subnet 10.99.0.4/30
	rejected up web --subnet 10.99.0.0/29
	rejected up web --subnet 10.99.0.4/30
	rejected up web --subnet 10.99.0.0/28
	rejected up web --subnet 10.99.0.0/16
	up_ok web --subnet 10.99.0.8/30
	down_ok web
	down_ok first
	assert_no_residue web first
	pass "--subnet overlapping a host address, a host route or another gateway exits 2"
}

# down of an unknown gateway: a message, exit 0.
down_unknown() {
	expect_exit 0 nsg down nosuch
	[ -n "$LAST_ERR" ] || fail "down nosuch printed nothing on stderr"
	assert_no_residue nosuch
	pass "down nosuch exits 0 with a message"
}

# A gateway that does not exist is "not found" for every command that needs
# one: the same line and exit 1 from show, exec, publish and unpublish.
unknown_gateway() {
	local args
	up_ok other
	for args in "show nosuch" "show nosuch --json" "exec nosuch -- true" \
		"publish nosuch 8400:80" "unpublish nosuch 8400:80"; do
		# shellcheck disable=SC2086
		expect_exit 1 nsg $args
		assert_error_line
		[ "$LAST_ERR" = 'nsgate: gateway "nosuch": no such gateway' ] ||
			fail "nsgate $args: unexpected error line: $LAST_ERR"
		[ -z "$LAST_OUT" ] || fail "nsgate $args wrote on stdout: $LAST_OUT"
	done
	down_ok other
	assert_no_residue nosuch other
	pass "an unknown gateway: one line 'no such gateway' and exit 1 from show, exec, publish, unpublish"
}

# snapshot : what the kernel and nsgate say about the lab host and web.
# (IPv4 only, link flags and state left out: IPv6 DAD and carrier settle by
# themselves and are no change of nsgate's.)
snapshot() {
	ip -4 -o addr show
	ip -4 route show table all
	ip -o link show | sed -E 's/<[^>]*>//; s/ state [A-Z]+ / /'
	nft list table inet nsgate 2>&1
	ip -n web -4 -o addr show
	ip -n web -4 route show
	nsg show web --json
	cat /etc/netns/web/resolv.conf 2>&1
}

# up twice with the same settings: exit 0, nothing changes; up with another
# --subnet under the same name: exit 2, the gateway stays as it was.
repeated_up() {
	local before after
	up_ok web
	before=$(snapshot)
	up_ok web
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "second identical up changed something:
$(diff <(echo "$before") <(echo "$after"))"
	rejected_keep up web --subnet 10.98.0.0/30
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "rejected up changed something:
$(diff <(echo "$before") <(echo "$after"))"
	down_ok web
	assert_no_residue web
	pass "up twice with the same settings exits 0 and changes nothing; other --subnet exits 2"
}
rejected_keep() {
	expect_exit 2 nsg "$@"
	assert_error_line
}

# Without privileges (uid nobody, no capabilities): exit 1, one line.
unprivileged() {
	cp "$NSGATE" "$LAB_TMP/nsgate-copy" && chmod 755 "$LAB_TMP/nsgate-copy" ||
		fail "cannot copy the binary for the unprivileged run"
	expect_exit 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		timeout 30 "$LAB_TMP/nsgate-copy" up web
	assert_error_line
	assert_no_residue web
	pass "up as an unprivileged user exits 1 with one error line"
}

# help, COMMAND --help and version: stdout, exit 0, nothing on stderr.
help_and_version() {
	local args
	for args in help "help up" "up --help" "down --help" "list --help" "show --help" \
		"exec --help" version; do
		# shellcheck disable=SC2086
		expect_exit 0 nsg $args
		[ -n "$LAST_OUT" ] || fail "nsgate $args printed nothing on stdout"
		[ -z "$LAST_ERR" ] || fail "nsgate $args wrote on stderr: $LAST_ERR"
	done
	assert_no_residue
	pass "help, help up, CMD --help and version print on stdout and exit 0"
}

help_and_version
bad_names
bad_options
usage_errors
overlapping_subnets
down_unknown
unknown_gateway
repeated_up
unprivileged
