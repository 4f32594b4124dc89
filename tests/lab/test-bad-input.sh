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

# says TEXT : the last command's one error line contains TEXT.
says() {
	case $LAST_ERR in
	*"$1"*) ;;
	*) fail "the error line does not say '$1': $LAST_ERR" ;;
	esac
}

# rejected_why TEXT ARGS... : rejected, and the line says TEXT.
rejected_why() {
	local why=$1
	shift
	rejected "$@"
	says "$why"
}

# printable TEXT : TEXT has no control byte (but newlines between lines) and
# no byte 0xff (never part of UTF-8).
printable() {
	[ "$(LC_ALL=C grep -c '[[:cntrl:]]' <<<"$1")" = 0 ] || fail "control bytes printed: $(cat -v <<<"$1")"
	case $1 in *$'\xff'*) fail "byte 0xff printed: $(cat -v <<<"$1")" ;; esac
	return 0
}

# as_nobody ARGS... : a copy of nsgate as uid nobody without capabilities.
as_nobody() {
	[ -x "$LAB_TMP/nsgate-copy" ] || { cp "$NSGATE" "$LAB_TMP/nsgate-copy" && chmod 755 "$LAB_TMP/nsgate-copy"; } ||
		fail "cannot copy the binary for the unprivileged run"
	setpriv --reuid=65534 --regid=65534 --clear-groups timeout 30 "$LAB_TMP/nsgate-copy" "$@"
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

# Names starting with '-' read as options (exec -x, ip netns exec -x): refused
# wherever a gateway is named; exec takes a '--' before NAME.
leading_dash() {
	local name
	for name in -x - --x -web; do
		rejected_why "must not start with '-'" up -- "$name"
		assert_gone "$name"
	done
	rejected_why "must not start with '-'" run --name -x -- true
	rejected_why "must not start with '-'" exec -- -x -- true
	rejected_why "must not start with '-'" down -- -x
	rejected_why "must not start with '-'" show -- -x
	rejected_why "must not start with '-'" publish -- -x 8080:80
	printf '[-x]\n' >"$LAB_TMP/dash.conf"
	rejected_why "dash.conf:1: section [-x]: must not start with '-'" apply "$LAB_TMP/dash.conf"
	assert_no_residue web -x
	up_ok web
	expect_exit 0 nsg exec -- web -- true
	expect_exit 0 nsg exec -- web true
	down_ok web
	assert_no_residue web -x
	pass "a leading '-' in a name exits 2 for up, run, exec, down, show, publish, apply; exec -- NAME works"
}

# Subnets no gateway can use are refused at parse time, exit 2, naming the
# range: as nobody, the refusal comes before the privilege check, so before
# anything is touched. The config key is checked the same way.
unusable_subnets() {
	local s
	for s in 0.0.0.0/30 0.255.255.252/30 127.0.0.0/30 224.0.0.0/30 239.255.255.252/30 \
		240.0.0.0/30 255.255.255.252/30; do
		rejected_why "not usable for a gateway" up web --subnet "$s"
		printf '[web]\nsubnet = %s\n' "$s" >"$LAB_TMP/subnet.conf"
		rejected_why "subnet.conf:2: subnet \"$s\": in " apply "$LAB_TMP/subnet.conf"
	done
	expect_exit 2 as_nobody up web --subnet 224.0.0.0/30
	assert_error_line
	says "in 224.0.0.0/4 (multicast)"
	expect_exit 2 as_nobody up web --subnet 255.255.255.252/30
	says "broadcast"
	assert_no_residue web
	pass "subnets in 0/8, 127/8, 224/4, 240/4 (and 255.255.255.252/30) exit 2 at parse time, for --subnet and subnet ="
}

# Whatever bytes the user gives (names, paths, a file's text), a message is
# one line without control bytes, the bytes escaped as \xNN.
escaped_messages() {
	rejected_why 'name "a\x0ab"' up $'a\nb'
	rejected_why 'name "\x1b[31mred"' up $'\e[31mred'
	printable "$LAST_ERR"
	rejected up web --netns $'/run/lab/x\ny\e]0;title\a'
	printable "$LAST_ERR"
	rejected run --name $'r\r\x7f' -- true
	printable "$LAST_ERR"
	printf '\x01\x02\x1b[2J\xff\xfe\x7f = 1\n' >"$LAB_TMP/binary.conf"
	rejected apply "$LAB_TMP/binary.conf"
	printable "$LAST_ERR"
	printf '[a\x1b[2J]\n' >"$LAB_TMP/esc.conf"
	rejected_why 'section [a\x1b[2J]' apply "$LAB_TMP/esc.conf"
	expect_exit 1 nsg apply $'/run/lab/no\nsuch\e[2J.conf'
	assert_error_line
	says 'config file "/run/lab/no\x0asuch\x1b[2J.conf"'
	assert_no_residue web
	pass "names, --netns paths, config lines and file names with control bytes: one escaped line"
}

# A --netns path with bytes that are not UTF-8 (0xff) is printed escaped by
# up, show and list; valid UTF-8 (é) as it is.
escaped_output() {
	local p=$'/run/lab/ns\xc3\xa9\xff' shown=$'/run/lab/ns\xc3\xa9\\xff'
	must ip netns add other
	: >"$p" || fail "cannot create $p"
	mount --bind /run/netns/other "$p" || fail "cannot bind-mount a namespace at $p"
	up_ok web --netns "$p"
	case $LAST_OUT in *"namespace $shown via"*) ;; *) fail "up printed: $(cat -v <<<"$LAST_OUT")" ;; esac
	printable "$LAST_OUT"
	expect_exit 0 nsg show web
	grep -qxF "  netns      $shown" <<<"$LAST_OUT" || fail "show printed: $(cat -v <<<"$LAST_OUT")"
	printable "$LAST_OUT"
	expect_exit 0 nsg list
	grep -qF " $shown" <<<"$LAST_OUT" || fail "list printed: $(cat -v <<<"$LAST_OUT")"
	printable "$LAST_OUT"
	down_ok web
	must umount "$p"
	must ip netns del other
	assert_no_residue web
	pass "up, show and list print a --netns path's invalid bytes as \\xNN, UTF-8 as it is"
}

# Every bad --netns target is bad input (exit 2), as a dead PID is: a missing
# path or name, a file that is no namespace (a regular file, a directory, a
# socket), the host's own namespace by path or PID. So is a config file over
# 16 MiB.
bad_netns_targets() {
	local t
	need_tools python3
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$LAB_TMP/sock" ||
		fail "cannot make a socket file"
	for t in /nonexistent/ns nosuchns /etc/passwd/x 999999 /etc/passwd "$LAB_TMP" "$LAB_TMP/sock" \
		/proc/self/ns/net /proc/1/ns/net 1 "$$" /proc/self/ns/mnt; do
		rejected up web --netns "$t"
	done
	rejected_why "is the host's own network namespace" up web --netns /proc/1/ns/net
	rejected_why "not a network namespace" up web --netns "$LAB_TMP/sock"
	truncate -s 17M "$LAB_TMP/big.conf"
	rejected_why 'config file "/run/lab/big.conf": too large' apply "$LAB_TMP/big.conf"
	assert_no_residue web
	pass "--netns: missing path or name, no namespace, a socket, the host's own: exit 2; a 17 MiB config: exit 2"
}

# In a user namespace of its own (unshare -Urn), nsgate has every capability
# but none over the host's mount namespace (where /run/nsgate is) or network
# namespace: list and show would report every gateway's link missing. They
# fail instead, exit 1 with one line, and print nothing on stdout.
user_namespace() {
	local args
	need_tools unshare
	up_ok web
	for args in "list" "list --json" "show web" "show web --json" "down web" "gc"; do
		# shellcheck disable=SC2086
		expect_exit 1 unshare -Urn "$NSGATE" $args
		assert_error_line
		says "user namespace"
		[ -z "$LAST_OUT" ] || fail "unshare -Urn nsgate $args printed: $LAST_OUT"
		# shellcheck disable=SC2086
		expect_exit 1 unshare -Ur "$NSGATE" $args
		says "over this network namespace"
	done
	gw_is_up web || fail "web is not up after the user namespace runs: $(gw_status web)"
	down_ok web
	assert_no_residue web
	pass "list, show, down, gc in a user namespace of their own (unshare -Urn, -Ur): exit 1, one line"
}

# --dns auto on a host without a nameserver: up warns (one line), show says
# that no server was found rather than "none".
dns_auto_without_server() {
	cp /etc/resolv.conf "$LAB_TMP/resolv.saved" || fail "cannot save /etc/resolv.conf"
	printf 'search lab.test\n' >/etc/resolv.conf
	up_ok web
	assert_error_line
	says "warning: dns: no IPv4 nameserver"
	up_ok none --dns none
	cat "$LAB_TMP/resolv.saved" >/etc/resolv.conf
	expect_exit 0 nsg show web
	grep -qx '  dns        auto, no server found (no resolv.conf)' <<<"$LAST_OUT" ||
		fail "show web (dns auto, no server) says: $LAST_OUT"
	expect_exit 0 nsg show none
	grep -qx '  dns        none' <<<"$LAST_OUT" || fail "show none (--dns none) says: $LAST_OUT"
	down_ok web
	down_ok none
	assert_no_residue web none
	pass "--dns auto without a host nameserver: show says 'auto, no server found', --dns none says 'none'"
}

# The man page's SYNOPSIS is the usage text, byte for byte (markup aside).
synopsis_is_usage() {
	local man=$LAB_DIR/../../docs/nsgate.8 usage synopsis
	[ -r "$man" ] || fail "no man page at $man"
	expect_exit 0 nsg help
	# A usage's first line is indented by two, its continuation lines are as they are.
	usage=$(sed -n '/^Commands:$/,/^$/{s/^  nsgate /nsgate /p;/^   /p}' <<<"$LAST_OUT")
	synopsis=$(sed -n '/^\.SH SYNOPSIS/,/^\.fi/{/^\./d;s/\\f[BIR]//g;s/\\-/-/g;p}' "$man")
	[ -n "$usage" ] || fail "no usage lines in nsgate help: $LAST_OUT"
	[ "$(sed '$d' <<<"$synopsis")" = "$(grep -v '^nsgate \(help\|version\)' <<<"$usage")" ] ||
		fail "SYNOPSIS of nsgate.8 differs from the usage text:
$(diff <(sed '$d' <<<"$synopsis") <(grep -v '^nsgate \(help\|version\)' <<<"$usage"))"
	[ "$(tail -n1 <<<"$synopsis")" = "nsgate help [COMMAND] | nsgate COMMAND --help | nsgate version [--json]" ] ||
		fail "last SYNOPSIS line: $(tail -n1 <<<"$synopsis")"
	pass "the SYNOPSIS of nsgate.8 is the usage text of nsgate help"
}

# Command-line syntax errors: exit 2, one line "nsgate: <what>: <why>" (the
# hint to --help on it).
usage_errors() {
	local args
	for args in "up web --bogus-option" "up" "up web extra" "show" "frobnicate" "exec web" \
		"exec" "exec web --" "down" "down --all web" "gc extra" "watch extra" "list extra" \
		"publish web" "apply" "help up extra"; do
		# shellcheck disable=SC2086
		expect_exit 2 nsg $args
		assert_error_line
	done
	expect_exit 2 nsg
	assert_error_line
	assert_no_residue web
	pass "usage errors (unknown option or command, missing or extra argument) exit 2, one line"
}

# The messages of the command line itself have the form of every other.
message_forms() {
	expect_exit 2 nsg
	[ "$LAST_ERR" = "nsgate: command: missing (see 'nsgate help')" ] || fail "nsgate alone: $LAST_ERR"
	expect_exit 2 nsg bogus
	[ "$LAST_ERR" = "nsgate: command \"bogus\": unknown (see 'nsgate help')" ] || fail "nsgate bogus: $LAST_ERR"
	expect_exit 2 nsg help nosuchcmd
	[ "$LAST_ERR" = "nsgate: help: command \"nosuchcmd\": unknown (see 'nsgate help')" ] ||
		fail "nsgate help nosuchcmd: $LAST_ERR"
	[ -z "$LAST_OUT" ] || fail "nsgate help nosuchcmd printed help: $LAST_OUT"
	expect_exit 1 nsg apply ''
	[ "$LAST_ERR" = 'nsgate: config file "": No such file or directory' ] || fail "nsgate apply '': $LAST_ERR"
	assert_no_residue
	pass "no command, an unknown one, help of an unknown one (exit 2), apply '': 'nsgate: <what>: <why>'"
}

# A bad option is named, and getopt's own messages never appear.
options_named() {
	local args
	for args in "up web --bogus" "run --bogus -- true" "down --bogus web" "list --bogus" \
		"show web --bogus" "publish web 80:80 --bogus" "apply f --bogus" "gc --bogus" \
		"watch --bogus"; do
		# shellcheck disable=SC2086
		expect_exit 2 nsg $args
		assert_error_line
		says 'option "--bogus": unknown'
	done
	rejected_why 'up: option "--subnet": needs a value' up web --subnet
	rejected_why 'option "--force": takes no value' up web --force=yes
	rejected_why 'option "-x": unknown' up web -x
	rejected_why 'option "--force": unknown' unpublish web 80:80 --force
	rejected_why 'option "--name": only for run' up web --name x
	rejected_why 'option "--netns": not for run' run --netns other -- true
	rejected_why 'option "-x": unknown' exec -x -- true
	assert_no_residue web
	pass "unknown options, a missing or unwanted value: the option is named, on one line"
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
	expect_exit 1 as_nobody up web
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
synopsis_is_usage
bad_names
bad_options
leading_dash
unusable_subnets
usage_errors
message_forms
options_named
escaped_messages
escaped_output
bad_netns_targets
user_namespace
dns_auto_without_server
overlapping_subnets
down_unknown
unknown_gateway
repeated_up
unprivileged
