# SPDX-License-Identifier: MIT
# test-apply-errors.sh: a file apply cannot apply changes nothing. Every
# section is checked against the system before the first change (a missing
# or wrong netns target, a missing uplink, a subnet in use, a port another
# gateway or a host socket holds, a port two sections claim): exit 2,
# "FILE:LINE: [NAME]: ..." on stderr, nothing on stdout, no netlink write
# (strace), the lab unchanged. A step that fails at run time anyway names
# its section and says what was done before it (its line on stdout too). A
# port moving from a later section's gateway to an earlier one is let go
# first, so the file applies.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
F=$LAB_TMP/h.conf

# refused LINE NAME WHY TEXT : `apply F` of TEXT changes nothing
# (apply_changes_nothing) and its error names F:LINE: [NAME] and WHY.
refused() {
	local line=$1 name=$2 why=$3
	printf '%b' "$4" >"$F"
	apply_changes_nothing "a file with $why" "$F"
	case $LAST_ERR in
	"nsgate: $F:$line: [$name]: "*"$why"*) ;;
	"nsgate: $F:$line: "*"$why"*) [ -z "$name" ] || fail "apply ($why): stderr lacks [$name]: $LAST_ERR" ;;
	*) fail "apply ($why): stderr is not 'nsgate: $F:$line: [$name]: ...$why...': $LAST_ERR" ;;
	esac
	note "$LAST_ERR"
}

# The repro of D11: [aa] before a section whose netns does not exist.
bad_targets() {
	refused 3 bb 'netns "/nonexistent": No such file or directory' '[aa]\n[bb]\nnetns = /nonexistent\n'
	gw_is_up aa && fail "apply of a bad netns target left gateway aa"
	refused 3 bb "not a network namespace" '[aa]\n[bb]\nnetns = /etc/hostname\n'
	refused 3 bb "is the host's own network namespace" '[aa]\n[bb]\nnetns = /proc/1/ns/net\n'
	refused 4 bb 'uplink "nope0": no such interface' '[aa]\n[bb]\n\nuplink = nope0\n'
	refused 3 bb 'uplink "nsg-keep"' '[aa]\n[bb]\nuplink = nsg-keep\n'
	refused 3 bb 'subnet "198.51.100.0/30": overlaps' '[aa]\n[bb]\nsubnet = 198.51.100.0/30\n'
	refused 3 bb 'overlaps 10.200.7.0/30' '[aa]\n[bb]\nsubnet = 10.200.7.0/29\n'
	ip netns add other
	refused 1 other 'a namespace of that name exists already' '[other]\n[aa]\n'
	ip netns del other
	pass "bad targets (missing netns, not a netns, the host's, missing or a gateway's uplink, subnets in use, a namespace of the name): exit 2 at FILE:LINE, nothing changed"
}

# Ports: two sections claiming one (the parser's check), a gateway outside
# the file holding it, a host socket listening on it, a host address that is
# not the host's.
bad_ports() {
	refused 5 "" 'publish "8080:81/tcp": overlaps "8080:80/tcp" of [aa] (line 2)' \
		'[aa]\npublish = 8080:80\n[bb]\n\npublish = 8080:81\n'
	refused 5 cc 'host port 8085/tcp is published by gateway "keep"' \
		'[aa]\npublish = 8081:80\n[cc]\npublish = 9000:90\npublish = 8085:80\n'
	start_tagged_server_in host tcp 9099 host
	refused 3 cc 'host port 9099/tcp is in use by socat' '[aa]\n[cc]\npublish = 9099:80\n'
	refused 3 keep 'host port 9099/tcp is in use by socat' '[keep]\npublish = 8085:80\npublish = 9099:80\n'
	refused 2 aa '192.0.2.77 is not an address of this host' '[aa]\npublish = 192.0.2.77:8080:80\n'
	pass "ports claimed twice in the file, held by a gateway outside it, taken by a host socket, on a foreign address: exit 2 at the publish's line, nothing changed"
}

# A step failing at run time (an injected failure of up's dns step, for the
# new section bb after keep's in-place change): keep's line on stdout, the
# error names bb's section and says keep was updated; bb is not left.
runtime_failure() {
	printf '[keep]\nsubnet = 10.200.7.0/30\npublish = 8085:80\npublish = 8086:80\n[bb]\n' >"$F"
	expect_exit 1 env NSGATE_TEST_FAIL_STEP=dns "$NSGATE" apply "$F"
	assert_error_line
	[ "$LAST_OUT" = "keep: updated (0 ports unpublished, 1 published)" ] ||
		fail "apply failing at bb: stdout '$LAST_OUT', expected keep's line only"
	case $LAST_ERR in
	"nsgate: $F:5: [bb]: "*"injected failure"*"(so far: keep updated; nothing else was changed)") ;;
	*) fail "apply failing at bb: stderr lacks '$F:5: [bb]: ... (so far: keep updated; ...)': $LAST_ERR" ;;
	esac
	gw_status bb | grep -q . && fail "bb is left after its failed up: $(gw_status bb)"
	expect_answer tcp "$UPLINK_ADDR" 8086 "keep $INET_ADDR" ip netns exec inet
	assert_kernel_matches_list
	note "$LAST_ERR"
	pass "a run-time failure names FILE:LINE: [bb] and what was done before it (keep updated)"
}

# 8086 moves from keep (the later section) to aa (the first): keep lets it go
# before aa is made.
moved_port() {
	printf '[aa]\npublish = 8086:80\n[keep]\nsubnet = 10.200.7.0/30\npublish = 8085:80\n' >"$F"
	expect_exit 0 nsg apply "$F"
	grep -qx 'aa: created' <<<"$LAST_OUT" || fail "moved port: no 'aa: created': $LAST_OUT"
	grep -qx 'keep: updated (1 port unpublished, 0 published)' <<<"$LAST_OUT" ||
		fail "moved port: no 'keep: updated (1 port unpublished, 0 published)': $LAST_OUT"
	start_tagged_server_in aa tcp 80 aa
	expect_answer tcp "$UPLINK_ADDR" 8086 "aa $INET_ADDR" ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 8085 "keep $INET_ADDR" ip netns exec inet
	assert_kernel_matches_list
	pass "a port moving from a later section's gateway to an earlier one: released first, the file applies"
}

start_server_in inet "$SERVER_PORT"
up_ok keep --subnet 10.200.7.0/30 --publish 8085:80
start_tagged_server_in keep tcp 80 keep
bad_targets
bad_ports
runtime_failure
moved_port
nsg down --all >/dev/null || fail "down --all failed"
assert_no_residue aa bb cc keep
pass "apply errors: nothing left after down --all"
