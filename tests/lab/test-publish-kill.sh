# SPDX-License-Identifier: MIT
# test-publish-kill.sh: publish, unpublish and apply's port changes killed
# (SIGKILL, by strace) before their ports file is written, at their nftables
# commit, and after it. The ports file says what was meant (it is written
# before the commit), so `nsgate gc` brings the kernel's port elements to it,
# and a flushed ruleset restored from the files keeps them: after gc, flush,
# gc, the elements equal the ports file, and equal what was there before or
# what the command was asked to do (for apply, also the step between its
# unpublish and its publish; the next apply then finishes it). A publish
# never ends with fewer ports than before; ports an unpublish removed never
# come back, and their flows are forgotten.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace conntrack
PORTS=/run/nsgate/web.ports
SUBNET=10.200.5.0/30   # fixed: each reset gives the same targets
CONF=$LAB_TMP/web.conf

# port_elems NAME : the kernel's port elements of gateway NAME (nft_elements lines).
port_elems() { nft_elements | awk -F '\t' -v n="$1" '($1 == "ports4" || $1 == "ports4h") && $2 == n'; }

# file_elems NAME TO : the port elements NAME's ports file implies, mapping to
# TO, in the same format ([ADDR:]HOST[-END]:PORT[-END]/PROTO a line).
file_elems() {
	[ -e "/run/nsgate/$1.ports" ] || return 0
	awk -v n="$1" -v to="$2" -F '/' '{
		proto = $2; k = split($1, f, ":")
		addr = k == 3 ? f[1] : ""; hs = f[k - 1]; ps = f[k]
		split(hs, h, "-"); split(ps, p, "-")
		if (h[2] == "") h[2] = h[1]
		for (i = 0; i <= h[2] - h[1]; i++)
			if (addr == "") printf "ports4\t%s\t%s . %d : %s . %d\n", n, proto, h[1] + i, to, p[1] + i
			else printf "ports4h\t%s\t%s . %s . %d : %s . %d\n", n, addr, proto, h[1] + i, to, p[1] + i
	}' "/run/nsgate/$1.ports" | LC_ALL=C sort
}

# reset PUBLISH... : web up again from nothing, publishing these.
reset() {
	local args=() p
	nsg down web >/dev/null 2>&1
	for p in "$@"; do args+=(--publish "$p"); done
	up_ok web --subnet "$SUBNET" "${args[@]}"
	gw_json web
	WEB_NS=$(gw_field web ns_addr)
}

# udp_flow SPORT PORT : a datagram from inet:SPORT to the published PORT is
# answered from the namespace (a conntrack entry now stands for it).
udp_flow() {
	ASK_OPTS=",sourceport=$1,reuseaddr" expect_answer udp "$UPLINK_ADDR" "$2" "web $INET_ADDR" ip netns exec inet
}
flow_entries() { ct_entries -p udp --orig-port-src "$1" --orig-port-dst "$2" | grep -F "src=$WEB_NS "; }

# settle WHAT : gc, then check kernel == ports file; the same after a flush
# of the whole ruleset and another gc. The elements are left in $SETTLED.
settle() {
	local what=$1 file got
	expect_exit 0 nsg gc
	note "$what: gc: $(tr '\n' '|' <<<"$LAST_OUT")"
	got=$(port_elems web)
	file=$(file_elems web "$WEB_NS")
	[ "$got" = "$file" ] || fail "$what: after gc, the kernel's port elements are not the ports file's:
$(diff <(echo "$file") <(echo "$got") | sed 's/^/    /')
  (< ports file, > kernel)"
	must nft flush ruleset
	expect_exit 0 nsg gc
	[ "$(port_elems web)" = "$got" ] || fail "$what: a flush and gc changed the port elements:
$(diff <(echo "$got") <(port_elems web) | sed 's/^/    /')"
	[ "$(file_elems web "$WEB_NS")" = "$file" ] || fail "$what: a flush and gc changed the ports file"
	SETTLED=$got
}

# expect_settled WHAT NAME_OF_STATE... : $SETTLED is one of the named states
# (variables holding element lists); notes which one.
expect_settled() {
	local what=$1 v
	shift
	for v in "$@"; do
		if [ "$SETTLED" = "${!v}" ]; then
			note "$what: settled at $v ($(grep -c . <<<"$SETTLED") port elements)"
			SETTLED_AT=$v
			return 0
		fi
	done
	fail "$what: settled at none of $*: $(tr '\n' '|' <<<"$SETTLED")"
}

# A publish of ten ports next to 8080: killed before its file, nothing
# changed; killed at its commit, gc finishes it (the file was written first).
publish_killed() {
	local before asked n before_file
	reset 8080:80
	before=$(port_elems web)
	n=$(batch_send_index publish web 6000-6009:6000-6009)
	asked=$(port_elems web)
	[ "$(grep -c . <<<"$asked")" = 11 ] || fail "publish of 10 ports: $(grep -c . <<<"$asked") elements, expected 11"

	reset 8080:80
	KILL_PATH=$PORTS.nsgate-tmp kill_nsg_at openat 1 publish web 6000-6009:6000-6009
	settle "publish killed at its ports file"
	expect_settled "publish killed at its ports file" before

	reset 8080:80
	kill_nsg_at sendto "$n" publish web 6000-6009:6000-6009
	settle "publish killed at its commit (sendto #$n)"
	expect_settled "publish killed at its commit" asked

	# A commit that fails (its send refused, by strace) puts the old file back.
	reset 8080:80
	before_file=$(cat "$PORTS")
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" expect_exit 1 \
		strace -f -qq -o /dev/null -e trace=sendto -e inject=sendto:error=ENOBUFS:when="$n" \
		"$NSGATE" publish web 6000-6009:6000-6009
	[ "$(cat "$PORTS")" = "$before_file" ] || fail "a publish whose commit failed left the ports file: $(cat "$PORTS")"
	[ "$(port_elems web)" = "$before" ] || fail "a publish whose commit failed changed the elements"
	note "publish with its commit refused: $LAST_ERR"
	pass "publish killed before its ports file: nothing changed; at its commit: gc adds the 10 ports; both survive a flush; a failed commit puts the old file back"
}

# An unpublish of ten UDP ports with a live flow on one: killed before its
# file, nothing changed; at its commit or after it, the ports are gone for
# good and the flow with them (gc forgets it when it removes the ports).
unpublish_killed() {
	local before asked n before_file point
	reset 8080:80 6000-6009:6000-6009/udp
	before=$(port_elems web)
	n=$(batch_send_index unpublish web 6000-6009:6000-6009/udp)
	asked=$(port_elems web)
	[ "$asked" = "$(grep -F ' 8080 ' <<<"$before")" ] || fail "unpublish left: $asked"

	reset 8080:80 6000-6009:6000-6009/udp
	KILL_PATH=$PORTS.nsgate-tmp kill_nsg_at openat 1 unpublish web 6000-6009:6000-6009/udp
	settle "unpublish killed at its ports file"
	expect_settled "unpublish killed at its ports file" before

	for point in "$n" $((n + 1)); do
		reset 8080:80 6000-6009:6000-6009/udp
		start_tagged_server_in web udp 6000 web
		udp_flow 40000 6000
		flow_entries 40000 6000 | grep -q . || fail "no conntrack entry for the flow inet:40000 -> 6000"
		kill_nsg_at sendto "$point" unpublish web 6000-6009:6000-6009/udp
		settle "unpublish killed at sendto #$point (commit #$n)"
		expect_settled "unpublish killed at sendto #$point" asked
		if [ "$point" = "$n" ]; then
			[ -z "$(flow_entries 40000 6000)" ] ||
				fail "unpublish killed at its commit, then gc: the flow inet:40000 -> 6000 is still translated: $(flow_entries 40000 6000)"
		else
			note "unpublish killed after its commit (at its conntrack dump): flow entries left: $(flow_entries 40000 6000 | grep -c .)"
		fi
	done
	pass "unpublish killed before its ports file: nothing changed; at its commit: gc removes the 10 ports and forgets their flow; after it: they stay gone; all through flush and gc"
}

# apply changing web's ports (8080 out; 8081 and ten ports in): one
# transaction, its ports file (the section's list) written first. Killed
# before the file is in place, gc settles on before; at the commit, on asked
# (no state in between, where the gateway would publish neither); the next
# apply changes nothing or finishes.
apply_killed() {
	local before asked n point
	printf '[web]\nsubnet = %s\npublish = 8081:80\npublish = 6000-6009:6000-6009\n' "$SUBNET" >"$CONF"
	reset 8080:80
	before=$(port_elems web)
	n=$(batch_send_index apply "$CONF" | tr '\n' ' ')
	[ "$(wc -w <<<"$n")" = 1 ] || fail "apply of a port change sent nftables batches at sendto #$n, expected one"
	asked=$(port_elems web)
	[ "$(grep -c . <<<"$asked")" = 11 ] || fail "apply: $(grep -c . <<<"$asked") port elements, expected 11"

	for point in "openat 1 before $PORTS.nsgate-tmp" "renameat,renameat2,rename 1 before $PORTS.nsgate-tmp" \
		"sendto $n asked"; do
		set -- $point
		reset 8080:80
		KILL_PATH=${4:-} kill_nsg_at "$1" "$2" apply "$CONF"
		settle "apply killed at $1 #$2"
		expect_settled "apply killed at $1 #$2" "$3"
		expect_exit 0 nsg apply "$CONF"
		[ "$(port_elems web)" = "$asked" ] || fail "apply after the one killed at $1 #$2 did not finish the change: $(port_elems web | tr '\n' '|')"
		assert_kernel_matches_list
	done
	# The same number of ports, other ones: the fingerprint, not the count, tells gc.
	printf '[web]\nsubnet = %s\npublish = 8081:80\n' "$SUBNET" >"$CONF"
	reset 8080:80
	n=$(batch_send_index apply "$CONF" | tr -d '\n ')
	asked=$(port_elems web)
	reset 8080:80
	kill_nsg_at sendto "$n" apply "$CONF"
	settle "apply 8080 -> 8081 killed at its commit"
	expect_settled "apply 8080 -> 8081 killed at its commit" asked
	pass "apply's port change killed at its ports file and its commit: gc settles on before or asked, never between; apply again finishes it"
}

# Two ports files claiming one port: a publish killed at its commit, then
# another gateway takes the port. A flushed ruleset still comes back whole
# from the files (one transaction cannot add a map key twice): the first
# gateway by name keeps the port, the other loses only that one.
double_claim_restored() {
	local n
	reset 8080:80
	n=$(batch_send_index publish web 7000:70 | tail -1)
	expect_exit 0 nsg unpublish web 7000:70
	kill_nsg_at sendto "$n" publish web 7000:70
	grep -q '^7000:70/tcp$' "$PORTS" || fail "the killed publish did not record its intent: $(cat "$PORTS")"
	up_ok aaa
	expect_exit 0 nsg publish aaa 7000:70
	must nft flush ruleset
	expect_exit 0 nsg gc
	ruleset_complete_or_fail "gc after a flush, with two files claiming 7000"
	[ "$(port_elems aaa | grep -c ' 7000 :')" = 1 ] || fail "aaa lost 7000: $(port_elems aaa | tr '\n' '|')"
	port_elems web | grep -q ' 8080 :' || fail "web lost 8080: $(port_elems web | tr '\n' '|')"
	expect_exit 0 nsg show web --json
	expect_exit 0 nsg down aaa
	pass "a flushed ruleset comes back whole when two ports files claim one port"
}
ruleset_complete_or_fail() {
	nft list chain inet nsgate guard >/dev/null 2>&1 || fail "$1: the table was not restored"
}

publish_killed
unpublish_killed
apply_killed
double_claim_restored
nsg down --all >/dev/null || fail "down --all failed"
assert_no_residue web
pass "killed publish, unpublish and apply: nothing left after down --all"
