# SPDX-License-Identifier: MIT
# test-lifecycle-watch.sh: `nsgate watch` keeps gateways whole without being
# asked: within 1 s of `nft flush ruleset`, `nft delete table inet nsgate` or
# a deleted nsgate rule the table is back with every element and traffic
# works; when the process holding an attached namespace exits, the gateway is
# removed within 1 s; it leaves no zombie behind and stops on SIGTERM, exit 0;
# a flush while its first round is at work does not end it.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools strace pgrep

start_server_in inet "$SERVER_PORT"
WLOG=$LAB_TMP/watch.log
WAIT_1S=100 # wait_for tries of 10 ms: 1 s (plus the checks' own time)

# table_whole : the table holds every element and every rule it had.
table_whole() {
	[ "$(nft_elements)" = "$ELEMENTS" ] && [ "$(nft_rule_count)" = "$RULES" ]
}

# The lines watch prints, one per event (checked whole in log_lines_known).
LINE_LISTENING='watch: listening for nftables and link events'
LINE_RESTORED='watch: restored table inet nsgate'
# restored_lines : how many times watch said it restored the table.
restored_lines() { grep -cxF "$LINE_RESTORED" "$WLOG"; }
# more_restored N : it said so more than N times.
more_restored() { [ "$(restored_lines)" -gt "$1" ]; }

# ms_since T0 : milliseconds since T0 (date +%s%N).
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# expect_restored WHAT : within 1 s the table is whole again, and traffic works.
expect_restored() {
	local t0=$1 what=$2 ms
	WAIT_TRIES=$WAIT_1S wait_for table_whole ||
		fail "watch did not restore the table within 1 s of $what:
$(diff <(echo "$ELEMENTS") <(nft_elements) | sed 's/^/    /')
  rules: $(nft_rule_count) (had $RULES); watch log: $(cat "$WLOG")"
	ms=$(ms_since "$t0")
	# The line follows the restore: the table may be whole a moment before.
	wait_for more_restored "$RESTORED_SEEN" ||
		fail "watch restored the table after $what without saying '$LINE_RESTORED': $(cat "$WLOG")"
	RESTORED_SEEN=$(restored_lines)
	kill -0 "$WATCH" 2>/dev/null || fail "watch died after $what: $(cat "$WLOG")"
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
	expect_internet run_in_gw a
	expect_internet run_in_gw b
	pass "watch restored the table ($(grep -c '' <<<"$ELEMENTS") elements, $RULES rules) ${ms} ms after $what; port and internet work"
}

setup() {
	up_ok a --publish 8080:80
	up_ok b --uplink up0
	start_tagged_server_in a tcp 80 a
	expect_answer tcp "$UPLINK_ADDR" 8080 "a $INET_ADDR" ip netns exec inet
	ELEMENTS=$(nft_elements)
	RULES=$(nft_rule_count)
	start_nsgate_bg "$WLOG" watch
	WATCH=$BG_PID
	wait_for grep -q listening "$WLOG" || fail "watch never printed its 'listening' line: $(cat "$WLOG")"
	[ "$(head -1 "$WLOG")" = "$LINE_LISTENING" ] ||
		fail "watch's first line is not '$LINE_LISTENING': $(cat "$WLOG")"
	RESTORED_SEEN=$(restored_lines)
	note "watch: $(head -1 "$WLOG")"
}

flushed() {
	local t0
	t0=$(date +%s%N)
	must nft flush ruleset
	expect_restored "$t0" "nft flush ruleset"
}

table_deleted() {
	local t0
	t0=$(date +%s%N)
	must nft delete table inet nsgate
	expect_restored "$t0" "nft delete table inet nsgate"
}

# The masquerade rule for gateways with --uplink (b), deleted by handle.
rule_deleted() {
	local h t0
	h=$(nft -a list chain inet nsgate postrouting | awk '/iifname \. oifname @masq_via masquerade/ { print $NF }')
	[ -n "$h" ] || fail "no masq_via rule in chain postrouting: $(nft -a list chain inet nsgate postrouting)"
	t0=$(date +%s%N)
	must nft delete rule inet nsgate postrouting handle "$h"
	expect_restored "$t0" "nft delete rule inet nsgate postrouting handle $h (b's masquerade)"
}

# A gateway attached to a process's namespace goes when that process exits.
namespace_dies() {
	local holder t0 ms
	unshare -n sleep 60 &
	holder=$!
	# A function, so that each poll reads the link again.
	in_own_netns() { [ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ]; }
	wait_for in_own_netns || fail "holder $holder never entered its own netns"
	up_ok held --netns "$holder"
	expect_internet nsenter -t "$holder" -n
	t0=$(date +%s%N)
	kill "$holder"
	wait "$holder" 2>/dev/null
	WAIT_TRIES=$WAIT_1S wait_for held_gone ||
		fail "watch did not remove gateway held within 1 s of its namespace's death: state $(ls /run/nsgate), links $(ip -o link show | grep -o 'nsg-[^:@]*' | tr '\n' ' '); watch log: $(cat "$WLOG")"
	ms=$(ms_since "$t0")
	wait_for grep -qE '^watch: held: removed, [^ ].*$' "$WLOG" ||
		fail "watch removed gateway held without a line 'watch: held: removed, REASON': $(cat "$WLOG")"
	assert_gone held
	kill -0 "$WATCH" 2>/dev/null || fail "watch died after removing held: $(cat "$WLOG")"
	{ gw_is_up a && gw_is_up b; } || fail "removing held touched a or b: $(nsg list 2>&1)"
	[ "$(nft_elements)" = "$ELEMENTS" ] || fail "removing held changed a's or b's elements"
	pass "watch removed gateway held ${ms} ms after its namespace's holder exited (log: $(grep held "$WLOG" | tr '\n' ' '))"
}
held_gone() {
	[ ! -e /run/nsgate/held.state ] && ! ip link show nsg-held >/dev/null 2>&1 &&
		! nft_elements | awk -F '\t' '$2 == "held"' | grep -q .
}

# Every restore leaves no process behind: no zombie children of watch.
no_zombies() {
	local z
	z=$(zombie_children "$WATCH")
	if [ -n "$z" ]; then
		defer_fail "watch (pid $WATCH) has $(grep -c '' <<<"$z") zombie child(ren) after 3 restores and 1 removal: $(ps -o pid=,stat=,comm= --ppid "$WATCH" | tr '\n' ';') (one per restore: never reaped)"
	else
		pass "watch has no zombie children after its restores"
	fi
}

# Every line watch printed is one of its three: listening (first, once),
# NAME: removed, REASON, and restored; nothing else (no error, no warning).
log_lines_known() {
	local odd
	odd=$(tail -n +2 "$WLOG" | grep -vxF "$LINE_RESTORED" | grep -vxE 'watch: [^: ]+: removed, [^ ].*')
	[ "$(head -1 "$WLOG")" = "$LINE_LISTENING" ] && [ -z "$odd" ] ||
		fail "watch printed lines other than its three kinds: ${odd:-$(cat "$WLOG")}"
	pass "watch's output: '$LINE_LISTENING', then $(restored_lines) x '$LINE_RESTORED' and $(grep -c ': removed, ' "$WLOG") 'NAME: removed, REASON' lines, nothing else"
}

stop() {
	kill -TERM "$WATCH"
	wait_exit "$WATCH" 5 || fail "watch still running 5 s after SIGTERM"
	[ "$BG_RC" = 0 ] || fail "watch exited $BG_RC after SIGTERM, expected 0: $(cat "$WLOG")"
	{ gw_is_up a && gw_is_up b; } || fail "stopping watch changed the gateways: $(nsg list 2>&1)"
	pass "watch stops on SIGTERM with exit 0, gateways left as they are"
}

# Started as a script's background job (SIGINT inherited ignored), watch
# still stops on SIGINT, as documented.
stop_sigint_inherited_ignored() {
	"$NSGATE" watch >"$WLOG" 2>&1 &
	WATCH=$!
	wait_for grep -q listening "$WLOG" || fail "watch never printed its 'listening' line: $(cat "$WLOG")"
	kill -INT "$WATCH"
	if wait_exit "$WATCH" 5; then
		[ "$BG_RC" = 0 ] || defer_fail "watch (SIGINT inherited ignored) exited $BG_RC after SIGINT, expected 0"
		pass "watch started as a background job stops on SIGINT (exit $BG_RC)"
	else
		defer_fail "watch started as a background job (SIGINT inherited ignored) ignored SIGINT for 5 s"
	fi
}

# A flush while watch's first round is at work must not end watch: between
# the read that finds the table whole and the commit of what it lacks, the
# sets may go (a CI run once caught it: "adding elements of "ifaces": No
# such file or directory", and watch exited). strace holds each netlink
# send of the first round in turn for 300 ms while the table is flushed;
# whatever the order, the table comes back and watch stays.
strace_watch() {   # STRACE_LOG WATCH_LOG [STRACE_ARGS...]
	local slog=$1 wlog=$2
	shift 2
	strace -f -qq -o "$slog" -e trace=sendto,sendmsg,poll "$@" "$NSGATE" watch >"$wlog" 2>&1 &
	STRACE_PID=$!
	wait_for grep -q listening "$wlog" || fail "watch under strace never listened: $(cat "$wlog")"
}
stop_traced_watch() {
	local w
	w=$(pgrep -P "$STRACE_PID" -x nsgate)
	[ -n "$w" ] && kill -TERM "$w"
	wait_exit "$STRACE_PID" 5 || fail "watch under strace still running 5 s after SIGTERM"
}
flush_in_first_round() {
	local slog=$LAB_TMP/first-round.strace wlog=$LAB_TMP/watch-race.log sends n
	# The first round ends where watch first waits in poll.
	strace_watch "$slog" "$wlog"
	wait_for grep -q 'poll(' "$slog" || fail "watch under strace never reached poll"
	sends=$(sed '/poll(/,$d' "$slog" | grep -c 'send')
	stop_traced_watch
	[ "$sends" -gt 2 ] || fail "watch's first round made $sends netlink sends: too few to be real"
	for n in $(seq "$sends"); do
		strace_watch "$slog" "$wlog" -e inject=sendto,sendmsg:delay_enter=300000:when="$n"
		must nft flush ruleset
		WAIT_TRIES=$WAIT_1S wait_for table_whole ||
			fail "a flush during watch's first round (send $n of $sends held) left the table $(nft_rule_count) rules, watch log: $(cat "$wlog")"
		pgrep -P "$STRACE_PID" -x nsgate >/dev/null ||
			fail "watch ended after a flush during its first round (send $n of $sends held): $(cat "$wlog")"
		grep -q '^nsgate:' "$wlog" && fail "watch reported an error for a flush during its first round (send $n of $sends held): $(cat "$wlog")"
		stop_traced_watch
	done
	pass "a flush at each of the $sends netlink sends of watch's first round: the table comes back, watch stays, no error"
}

setup
flushed
table_deleted
rule_deleted
namespace_dies
no_zombies
stop
log_lines_known
stop_sigint_inherited_ignored
flush_in_first_round
expect_exit 0 nsg down --all
assert_no_residue a b held
deferred_verdict
