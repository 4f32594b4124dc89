# SPDX-License-Identifier: MIT
# test-lifecycle-corrupt.sh: a damaged state file (/run/nsgate/NAME.state:
# truncated, garbage, empty) is reported for that gateway only (show and list:
# status "state-damaged", a sane exit code, other gateways unaffected), and
# neither `down NAME` nor `gc` is stopped by it: the link, the elements, the
# namespace nsgate created (the link's alias records that) and the files go;
# a namespace nsgate did not create stays.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

start_server_in inet "$SERVER_PORT"

# damage NAME HOW : damage /run/nsgate/NAME.state (truncate, garbage, empty, binary).
damage() {
	local f=/run/nsgate/$1.state
	[ -s "$f" ] || fail "no state file $f to damage"
	case $2 in
	truncate) head -c 20 "$f" >"$LAB_TMP/st" && cat "$LAB_TMP/st" >"$f" ;;
	garbage) printf 'version=1\nname=%s\nsubnet=not-a-subnet\nhost_ifname=\n%%%%%%\n' "$1" >"$f" ;;
	binary) head -c 600 /dev/urandom >"$f" ;;
	empty) : >"$f" ;;
	*) fail "damage: unknown way $2" ;;
	esac
}

# expect_damaged NAME HOW : show and list report NAME as state-damaged with a
# sane exit code (0 or 1, no crash), other gateways stay "up" and reachable.
expect_damaged() {
	local name=$1 how=$2 rc json
	LAST_OUT=$(nsg show "$name" 2>&1)
	rc=$?
	case $rc in 0 | 1) ;; *) fail "show $name ($how state file) exited $rc: $LAST_OUT" ;; esac
	grep -q 'state-damaged' <<<"$LAST_OUT" || fail "show $name ($how state file) does not say state-damaged: $LAST_OUT"
	json=$(nsg show "$name" --json 2>/dev/null)
	rc=$?
	case $rc in 0 | 1) ;; *) fail "show $name --json ($how state file) exited $rc" ;; esac
	assert_json "$json" '.status == "state-damaged"' "show $name --json status ($how state file)"
	expect_exit 0 nsg list --json
	assert_json "$LAST_OUT" "(.[] | select(.name == \"$name\") | .status) == \"state-damaged\"" "list --json status of $name ($how)"
	assert_json "$LAST_OUT" '(.[] | select(.name == "keep") | .status) == "up"' "list --json status of keep"
	expect_exit 0 nsg list
	grep -qE "^$name +state-damaged" <<<"$LAST_OUT" || fail "list does not show $name as state-damaged: $LAST_OUT"
	expect_internet run_in_gw keep
	expect_answer tcp "$UPLINK_ADDR" 8080 "keep $INET_ADDR" ip netns exec inet
}

# still_present NAME : the damaged gateway's kernel objects are all there (so
# the cleanup that follows has something to prove).
still_present() {
	ip link show "nsg-$1" >/dev/null 2>&1 || fail "nsg-$1 vanished before the cleanup"
	nft_elements | awk -F '\t' -v n="$1" '$2 == n' | grep -q . || fail "$1's elements vanished before the cleanup"
}

# cleaned NAME : nothing of NAME is left, ports file included; keep is whole.
cleaned() {
	assert_gone "$1"
	[ -e "/run/nsgate/$1.ports" ] && fail "/run/nsgate/$1.ports is left"
	gw_is_up keep || fail "cleaning $1 broke keep ($(gw_status keep))"
	assert_kernel_matches_list
	expect_answer tcp "$UPLINK_ADDR" 8080 "keep $INET_ADDR" ip netns exec inet
}

setup() {
	up_ok keep --publish 8080:80
	start_tagged_server_in keep tcp 80 keep
	KEEP_ELEMENTS=$(nft_elements)
}

# One scenario: up web with a port, damage its state HOW, check the report,
# clean it with CLEANER (down or gc), nothing of web left.
scenario() {
	local how=$1 cleaner=$2
	up_ok web --publish 9090:90 --dns 192.0.2.53
	still_present web
	damage web "$how"
	expect_damaged web "$how"
	still_present web
	case $cleaner in
	down)
		expect_exit 0 nsg down web ;;
	gc)
		expect_exit 0 nsg gc
		grep -qE '^web: removed' <<<"$LAST_OUT" || fail "gc ($how state file) did not print 'web: removed ...': $LAST_OUT" ;;
	esac
	cleaned web
	[ "$(nft_elements)" = "$KEEP_ELEMENTS" ] || fail "after cleaning web the elements are not exactly keep's"
	pass "$how state file: show/list say state-damaged (keep unaffected); $cleaner removes link, elements, namespace, files${LAST_OUT:+ ($LAST_OUT)}"
}

# An attached namespace (ip netns add ext, up --netns ext): the damaged
# gateway's link and elements go, the namespace nsgate did not create stays.
attached() {
	must ip netns add ext
	up_ok x --netns ext
	damage x truncate
	expect_damaged x truncate
	expect_exit 0 nsg down x
	assert_gone x
	[ -e /run/netns/ext ] || fail "down x (damaged state) deleted /run/netns/ext, which nsgate did not create"
	[ "$(ip -n ext -o link show | grep -c '')" = 1 ] || fail "ext should hold only lo: $(ip -n ext -o link show)"
	must ip netns del ext
	pass "damaged state of an attached gateway: down removes link and elements, keeps the namespace it did not create"
}

# A state file naming another gateway (name=keep inside web.state): down web
# must remove web and only web.
lying_name() {
	up_ok web
	sed -i 's/^name=web$/name=keep/; s/^host_ifname=nsg-web$/host_ifname=nsg-keep/' /run/nsgate/web.state
	LAST_OUT=$(nsg show web 2>&1)
	note "show web with name=keep in web.state: $(head -1 <<<"$LAST_OUT")"
	expect_exit 0 nsg down web
	assert_gone web
	gw_is_up keep || fail "down web (its state naming keep) broke keep ($(gw_status keep))"
	[ "$(nft_elements)" = "$KEEP_ELEMENTS" ] || fail "down web (its state naming keep) changed keep's elements"
	expect_answer tcp "$UPLINK_ADDR" 8080 "keep $INET_ADDR" ip netns exec inet
	pass "web.state naming keep: down web removes web only"
}

setup
scenario truncate down
scenario garbage gc
scenario binary down
scenario empty gc
attached
lying_name
expect_exit 0 nsg down keep
assert_no_residue keep web x
pass "damaged state: nothing left at the end"
