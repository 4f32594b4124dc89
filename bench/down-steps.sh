# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/down.sh). Rows, each round:
#   true          fork+exec of /bin/true (the floor: a process start)
#   down          down of an own-namespace gateway right after its up
#   down-gap      the same, 100 ms after its up (the kernel done with up's work)
#   down-attach   down of a gateway attached to an existing namespace
#                 (--netns: its veth is deleted, two RCU grace periods)
#   run           nsgate run -- true (up, the command, down)
#   unshare       unshare -n true (a namespace, no network at all)
# then down --all of ALL gateways, the wait for the kernel to finish, a run
# loop of LOOP of one name, and what is left after (nothing, or it fails).
. "$BENCH_DIR/common-steps.sh"
need_tools ip unshare
ROUNDS=${ROUNDS:-30}
ALL=${ALL:-200}
LOOP=${LOOP:-200}
: >"$RESULTS/down.tsv"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -F'\t' -v r="$1" '$2 == r { print $5 }' "$RESULTS/down.tsv"; }

"$NSGATE" up warm >/dev/null    # the table exists, as for any later gateway
ip netns add att
for k in $(seq "$ROUNDS"); do
	timed us /bin/true && rec down true us "$k" "$us"
	"$NSGATE" up g >/dev/null
	timed us "$NSGATE" down g && rec down down us "$k" "$us"
	"$NSGATE" up g >/dev/null
	sleep 0.1
	timed us "$NSGATE" down g && rec down down-gap us "$k" "$us"
	"$NSGATE" up a --netns att >/dev/null
	sleep 0.1
	timed us "$NSGATE" down a && rec down down-attach us "$k" "$us"
	timed us "$NSGATE" run --name r -- true && rec down run us "$k" "$us"
	timed us unshare -n true && rec down unshare us "$k" "$us"
done
"$NSGATE" down warm
for i in $(seq "$ALL"); do "$NSGATE" up "m$i" >/dev/null; done
timed us "$NSGATE" down --all && rec down down-all us 1 "$us"
t0=$EPOCHREALTIME
WAIT_TRIES=3000 wait_for no_dying_links || fail "links left to the kernel never went"
us_since "$t0"
rec down kernel-done us 1 "$US"
# A run loop of one name: every run works, and nothing is left after.
t0=$EPOCHREALTIME
for i in $(seq "$LOOP"); do "$NSGATE" run --name loop -- true || fail "run $i of $LOOP failed"; done
us_since "$t0"
rec down run-loop us 1 "$US"
WAIT_TRIES=3000 wait_for no_dying_links || fail "links left to the kernel never went"
ip netns del att
left="$(ip -o link show | grep -c ': nsg-' || true) links, $(find /run/netns -mindepth 1 ! -name inet | wc -l) namespaces, $(find /run/nsgate -name '*.state' -o -name '*.run' | wc -l) files"

t=$(col true | median)
echo "rounds                 $ROUNDS"
for row in true down down-gap down-attach run unshare; do
	m=$(col "$row" | median)
	printf '%-22s %6d us  %5.2fx true\n' "${row}_p50" "$m" "$(echo "$m / $t" | bc -l)"
done
printf '%-22s %6.2fx\n' "run_vs_unshare" "$(echo "$(col run | median) / $(col unshare | median)" | bc -l)"
echo "down_all_${ALL}_us        $(col down-all)"
echo "kernel_done_after_us   $(col kernel-done)"
echo "run_loop_${LOOP}_us      $(col run-loop)"
echo "left_after             $left"
