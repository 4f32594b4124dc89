# SPDX-License-Identifier: MIT
# test-lifecycle-apply.sh: `nsgate apply FILE` makes the kernel match the file:
# creates the gateways (traffic works), changes one published port in place
# (the other gateway "unchanged", no link touched), does nothing at all on an
# identical second apply (no netlink write, by strace), removes a dropped
# gateway only with --prune, refuses a bad file (FILE:LINE:, exit 2)
# without changing anything, and converges after an uplink change killed
# between its commit and its state file.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace
start_server_in inet "$SERVER_PORT"
CONF=$LAB_TMP/gw.conf

# expect_lines WHAT OUT LINE... : OUT has exactly these lines (any order).
expect_lines() {
	local what=$1 out=$2 want
	shift 2
	want=$(printf '%s\n' "$@" | LC_ALL=C sort)
	[ "$(LC_ALL=C sort <<<"$out")" = "$want" ] || fail "$what printed:
$out
expected (any order):
$want"
}

# elements_of NAME : the kernel's elements for gateway NAME (nft_elements lines).
elements_of() { nft_elements | awk -F '\t' -v n="$1" '$2 == n'; }
# link_id NAME : ifindex of nsg-NAME and the inode of its namespace.
link_id() { echo "$(cat "/sys/class/net/nsg-$1/ifindex" 2>/dev/null) $(stat -L -c %i "/run/netns/$1" 2>/dev/null)"; }

# 1. Two gateways from a file: created, ports published, traffic works.
create() {
	cat >"$CONF" <<-'EOF'
		# two gateways
		[a]
		publish = 8080:80

		[b]
		subnet = 10.200.9.0/30
		uplink = up0
		publish = 8090:80
		publish = 5000-5001:6000-6001/udp
	EOF
	expect_exit 0 nsg apply "$CONF"
	expect_lines "apply (create)" "$LAST_OUT" "a: created" "b: created" "2 changes"
	gw_json b
	[ "$(gw_field b subnet)" = 10.200.9.0/30 ] || fail "b: subnet $(gw_field b subnet), expected 10.200.9.0/30"
	[ "$(gw_field b uplink)" = up0 ] || fail "b: uplink $(gw_field b uplink), expected up0"
	assert_kernel_matches_list
	start_tagged_server_in a tcp 80 a
	start_tagged_server_in b tcp 80 b
	start_tagged_server_in b udp 6001 bu
	expect_internet run_in_gw a
	expect_internet run_in_gw b
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 8090 "b $INET_ADDR" ip netns exec inet
	expect_answer udp "$UPLINK_ADDR" 5001 "bu $INET_ADDR" ip netns exec inet
	pass "apply: a and b created; both reach inet; 8080 -> a:80, 8090 -> b:80, 5001/udp -> b:6001"
}

# 2. a's port 8080 -> 8081: a "updated" in place (same link, same namespace,
# no link written), b "unchanged" (its elements untouched).
change_port() {
	local b_before a_id b_id log=$LAB_TMP/strace-change
	b_before=$(elements_of b)
	a_id=$(link_id a)
	b_id=$(link_id b)
	sed -i 's/^publish = 8080:80$/publish = 8081:80/' "$CONF"
	expect_exit 0 strace_nsg "$log" apply "$CONF"
	grep -qx 'a: updated (.*)' <<<"$LAST_OUT" || fail "apply (port change): no 'a: updated (...)' line: $LAST_OUT"
	grep -qx 'b: unchanged' <<<"$LAST_OUT" || fail "apply (port change): no 'b: unchanged' line: $LAST_OUT"
	grep -qx '1 change' <<<"$LAST_OUT" || fail "apply (port change): no '1 change' line: $LAST_OUT"
	[ "$(grep -c '' <<<"$LAST_OUT")" = 3 ] || fail "apply (port change): expected 3 lines: $LAST_OUT"
	[ "$(link_id a)" = "$a_id" ] || fail "apply (port change) re-created a (ifindex/netns inode $a_id -> $(link_id a))"
	[ "$(link_id b)" = "$b_id" ] || fail "apply (port change) re-created b"
	[ "$(elements_of b)" = "$b_before" ] || fail "apply (port change) touched b's elements:
before: $b_before
after:  $(elements_of b)"
	grep -qE 'RTM_(NEW|DEL|SET)LINK|RTM_(NEW|DEL)ADDR|RTM_(NEW|DEL)ROUTE' "$log" &&
		fail "apply (port change) wrote links/addresses/routes: $(grep -oE 'RTM_(NEW|DEL|SET)[A-Z]+' "$log" | sort | uniq -c | tr '\n' ' ')"
	assert_kernel_matches_list
	expect_answer tcp "$UPLINK_ADDR" 8081 "a $INET_ADDR" ip netns exec inet
	expect_no_answer tcp "$UPLINK_ADDR" 8080 ip netns exec inet
	expect_answer tcp "$UPLINK_ADDR" 8090 "b $INET_ADDR" ip netns exec inet
	pass "apply after 8080 -> 8081 on a: '$(grep '^a:' <<<"$LAST_OUT")', b unchanged; no link/address/route written; 8081 answers, 8080 not"
}

# 3. The same file again: "0 changes", and not one netlink write.
idempotent() {
	local log=$LAB_TMP/strace-same before n
	before=$(lab_snapshot)
	expect_exit 0 strace_nsg "$log" apply "$CONF"
	expect_lines "apply (identical)" "$LAST_OUT" "a: unchanged" "b: unchanged" "0 changes"
	n=$(nl_writes "$log")
	[ "$n" = 0 ] || fail "identical apply made $n netlink writes: $(grep -oE 'RTM_(NEW|DEL|SET)[A-Z]+|NFT_MSG_(NEW|DEL)[A-Z]+|NFNL_MSG_BATCH_BEGIN' "$log" | sort | uniq -c | tr '\n' ' ')"
	grep -q 'sendto\|sendmsg' "$log" || fail "strace recorded no netlink traffic at all: is the log right? $(head -c 300 "$log")"
	[ "$(lab_snapshot)" = "$before" ] || fail "identical apply changed the lab: $(diff <(echo "$before") <(lab_snapshot))"
	pass "identical apply: a and b unchanged, 0 changes, 0 netlink writes (strace: $(grep -c '' "$log") sends, all reads)"
}

# 4. b dropped from the file: kept without --prune, removed with it.
prune() {
	cat >"$CONF" <<-'EOF'
		[a]
		publish = 8081:80
	EOF
	expect_exit 0 nsg apply "$CONF"
	expect_lines "apply (b dropped, no --prune)" "$LAST_OUT" "a: unchanged" "0 changes"
	gw_is_up b || fail "apply without --prune touched b (status $(gw_status b))"
	expect_exit 0 nsg apply "$CONF" --prune
	expect_lines "apply --prune" "$LAST_OUT" "a: unchanged" "b: removed" "1 change"
	assert_gone b
	assert_kernel_matches_list
	expect_answer tcp "$UPLINK_ADDR" 8081 "a $INET_ADDR" ip netns exec inet
	expect_no_answer tcp "$UPLINK_ADDR" 8090 ip netns exec inet
	pass "b dropped from the file: kept by apply, removed by apply --prune (nothing of b left); a still answers"
}

# 5. A bad file (each error after a valid change, so a partial apply would
# show) exits 2 with FILE:LINE: and changes nothing, with no netlink write.
bad_file() {
	local line=$1 why=$2 body=$3 f=$LAB_TMP/bad-$1.conf
	printf '%s\n' "$body" >"$f"
	apply_changes_nothing "a file with $why" "$f" --prune
	case $LAST_ERR in
	*"$f:$line:"*) ;;
	*) fail "apply of a file with $why on line $line: stderr lacks '$f:$line:': $LAST_ERR" ;;
	esac
	note "$why: $LAST_ERR"
}
bad_files() {
	# each: a new gateway c and a new port on a before the error.
	bad_file 6 "a syntax error (unclosed section header)" "[a]
publish = 8081:80
publish = 8082:80
[c]
publish = 8083:80
[d"
	bad_file 5 "a line without '='" "[a]
publish = 8081:80
publish = 8082:80
[c]
this is not a key value line"
	bad_file 5 "a bad subnet" "[a]
publish = 8081:80
publish = 8082:80
[c]
subnet = 10.300.0.0/30"
	bad_file 6 "an unknown key" "[a]
publish = 8081:80
publish = 8082:80
[c]
dns = none
colour = blue"
	bad_file 3 "a bad publish spec" "[a]
publish = 8081:80
publish = 8082:99999"
	bad_file 4 "a duplicated section" "[a]
publish = 8081:80
[c]
[a]"
	gw_is_up a || fail "a is no longer up after the bad files"
	expect_answer tcp "$UPLINK_ADDR" 8081 "a $INET_ADDR" ip netns exec inet
	pass "bad files (syntax, no '=', bad subnet, unknown key, bad spec, duplicate section): exit 2, FILE:LINE: on stderr, no netlink write, nothing changed"
}

# 6. A file that is valid but cannot be applied (its port is published by a
# gateway made by hand): apply fails, and what it prints must be true: no
# "created" for a gateway that does not exist afterwards.
conflict() {
	local name
	up_ok hand --publish 8085:80
	cat >"$CONF" <<-'EOF'
		[a]
		publish = 8081:80
		[c]
		publish = 8085:80
		[e]
	EOF
	LAST_RC=0
	LAST_OUT=$(nsg apply "$CONF" 2>"$LAB_TMP/conflict.err") || LAST_RC=$?
	LAST_ERR=$(cat "$LAB_TMP/conflict.err")
	note "apply with a port taken by 'hand': exit $LAST_RC; stdout: $(tr '\n' '|' <<<"$LAST_OUT") stderr: $LAST_ERR"
	[ "$LAST_RC" != 0 ] || defer_fail "apply of a file whose port 8085 is published by another gateway exited 0"
	for name in a c e; do
		if grep -qE "^$name: (created|updated|recreated)" <<<"$LAST_OUT" && ! gw_is_up "$name"; then
			defer_fail "apply (port conflict) printed '$(grep "^$name:" <<<"$LAST_OUT")' but gateway $name does not exist afterwards (status '$(gw_status "$name")')"
		fi
	done
	gw_is_up hand || fail "apply (port conflict) broke gateway hand"
	gw_is_up a || fail "apply (port conflict) broke gateway a"
	assert_kernel_matches_list
}

# 7. An uplink change killed between its nftables commit and its state file
# (D4): the next apply converges (exit 0), the kernel as list says, the
# uplink as the file says; both ways (any -> up0, up0 -> any).
killed_uplink() {
	local up
	for up in up0 ""; do
		printf '[a]\npublish = 8081:80\n%s' "${up:+uplink = $up
}" >"$CONF"
		KILL_PATH=/run/nsgate/a.state.nsgate-tmp kill_nsg_at openat 1 apply "$CONF"
		expect_exit 0 nsg apply "$CONF"
		note "apply after the killed one (uplink '${up:-any}'): $(tr '\n' '|' <<<"$LAST_OUT")"
		gw_json a
		[ "$(gw_field a uplink)" = "${up:-null}" ] || fail "after the killed apply and another: a's uplink is $(gw_field a uplink), expected ${up:-null}"
		assert_kernel_matches_list
		expect_exit 0 nsg apply "$CONF"
		expect_lines "apply (again, uplink '${up:-any}')" "$LAST_OUT" "a: unchanged" "0 changes"
		expect_answer tcp "$UPLINK_ADDR" 8081 "a $INET_ADDR" ip netns exec inet
		expect_internet run_in_gw a
	done
	pass "an uplink change killed before its state file: the next apply converges (kernel as list, uplink as the file), both ways"
}

create
change_port
idempotent
prune
bad_files
conflict
killed_uplink
nsg down --all >/dev/null || fail "down --all failed"
assert_no_residue a b c d e hand
deferred_verdict
pass "apply: nothing left after down --all"
