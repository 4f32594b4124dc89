# SPDX-License-Identifier: MIT
# test-down-async.sh: `down` of a gateway whose namespace nsgate made leaves
# the veth to the kernel (src/core/dying.c): the link is retired (down,
# relabelled nsgate-dying:NAME, renamed nsg-~IFINDEX; down --all leaves it
# as it is and drops the namespaces) and goes with the namespace once its
# last reference is gone. Checked: the name is reusable at once (up/down/up
# of one name, a fixed --subnet too, a run loop of 100, up right after down
# --all); list, gc and watch never take a dying link for a gateway or a leak
# (right after a down --all of 200, and with a dying link that stays); a
# namespace held during down --all has its link down when it returns; a namespace
# someone else still holds (a process inside, a bind mount elsewhere) keeps
# nothing of the gateway (its link is down at once, then deleted); an
# attached namespace's veth is deleted by down itself; the published port and
# the elements are gone when down returns; then, within a bounded wait for
# the kernel, no residue.
# Runs inside lab.sh's hermetic lab (fresh network, mount and PID namespaces).
[ "${LAB_READY:-}" = yes ] || exec bash "$(dirname "$0")/lab.sh" "$0"

need_tools nsenter
WLOG=$LAB_TMP/watch.log
dying_count() { dying_links | grep -c . || true; }
# nsg_links_up : the host's nsg-* links that are up, one a line.
nsg_links_up() { ip -o link show up | awk -F': ' '$2 ~ /^nsg-/ { sub(/@.*/, "", $2); print $2 }'; }
listed() { nsg list --json | jq -r '.[].name' | tr '\n' ' '; }

start_nsgate_bg "$WLOG" watch
WATCH=$BG_PID
wait_for grep -q listening "$WLOG" || fail "watch never started: $(cat "$WLOG")"

# 1. up, down, up of one name back to back: every up succeeds while the old
# link may still be the kernel's; so does a fixed subnet's.
for i in $(seq 20); do
	up_ok a
	[ "$(listed)" = "a " ] || fail "round $i: list shows '$(listed)', not just a"
	down_ok a
done
for i in 1 2 3; do
	up_ok s --subnet 10.201.0.0/30
	down_ok s
done
pass "up right after down of the same name: 20 rounds, and 3 of a fixed --subnet"

# 2. A published port and the elements are gone when down returns.
up_ok p --publish 8080:80
down_ok p
nft list table inet nsgate >"$LAB_TMP/table" 2>/dev/null && grep -qw p "$LAB_TMP/table" &&
	fail "table inet nsgate names p right after its down: $(cat "$LAB_TMP/table")"
[ -z "$(nsg_links_up)" ] || fail "links still up right after down: $(nsg_links_up)"
pass "down: elements gone and no link up when it returns"

# 3. down --all of 200, then list and gc at once: the dying links are no
# gateways and no leaks. One namespace is held by a process meanwhile: its
# link must be down when down --all returns (the others' namespaces are
# gone: nothing can send through their links, which the kernel removes).
for i in $(seq 200); do up_ok "m$i" >/dev/null; done
ip netns exec m7 sleep 60 &
HOLDER=$!
holder_in() { [ "$(stat -L -c %i "/proc/$HOLDER/ns/net" 2>/dev/null)" = "$(stat -L -c %i /run/netns/m7)" ]; }
wait_for holder_in || fail "the holder never entered m7"
down_ok --all
seen=$(dying_count)
[ -z "$(listed)" ] || fail "list right after down --all: $(listed)"
expect_exit 0 nsg gc
[ -z "$LAST_OUT" ] || fail "gc right after down --all removed something: $LAST_OUT"
snap=$(ip -o link show | grep ': nsg-' || true)
undying=$(comm -23 <(sort <<<"$snap") <(dying_filter <<<"$snap" | sort))
[ -z "$undying" ] || fail "right after down --all, nsg- links that are not the kernel's: $undying"
left=$(find /run/netns -name 'm*')
[ -z "$left" ] || fail "namespaces left right after down --all: $(tr '\n' ' ' <<<"$left")"
# The held one's: retired (down), or deleted already by down's reaper.
held=$(ip -o link show | grep -e ': nsg-m7[:@]' -e 'alias nsgate-dying:m7$' || true)
grep -q ',UP' <<<"$held" && fail "the held namespace's link is up after down --all: $held"

# The name at once, while its old link may still be the kernel's.
up_ok m1
[ "$(listed)" = "m1 " ] || fail "up m1 right after down --all: list shows '$(listed)'"
down_ok m1
wait_dying_gone
left=$(nsenter -t "$HOLDER" -n ip -o link show | awk -F': ' '{ print $2 }' | grep -v '^lo$' || true)
[ -z "$left" ] || fail "m7's namespace, held through down --all, kept links of the gateway: $left"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
pass "down --all of 200 (one namespace held): list empty, gc silent ($seen links still the kernel's), namespaces gone, held link down, m1 up at once, all gone within the wait"

# 4. A dying link that stays (its namespace held by a bind mount): list, gc
# and watch pass it by; a gc that removes something deletes it.
must ip netns add syn
must ip link add nsg-~fff0 type veth peer name eth0 netns syn
must ip link set nsg-~fff0 alias "nsgate-dying:x"
[ -z "$(listed)" ] || fail "list shows a dying link: $(listed)"
expect_exit 0 nsg gc
[ -z "$LAST_OUT" ] || fail "gc took a dying link for a leak: $LAST_OUT"
[ -e /sys/class/net/nsg-~fff0 ] || fail "gc (removing nothing) deleted the dying link"
up_ok z
must umount /run/netns/z
# watch may be first to remove it (the kernel's removal of nsg-z is an event:
# its gc can unlink /run/netns/z before this rm does).
rm -f /run/netns/z
expect_exit 0 nsg gc
[ -e /run/nsgate/z.state ] && fail "gc did not remove z (namespace gone): $LAST_OUT"
wait_for test ! -e /sys/class/net/nsg-~fff0 ||
	fail "gc removed z but left the dying link whose namespace is held"
must ip netns del syn
pass "a dying link whose namespace lives: not listed, not a leak, deleted by a gc that removes something"

# 4b. A link relabelled dying but still named nsg-q (a kill between the two
# messages of a retire on a kernel before 6.2; its namespace here one that
# lives): up q takes the name, and the old link, whose namespace is held, is
# deleted.
must ip netns add syn2
must ip link add nsg-q type veth peer name eth0 netns syn2
must ip link set nsg-q alias "nsgate-dying:q"
must ip link set nsg-q up
up_ok q
[ "$(listed)" = "q " ] || fail "up q over a dying nsg-q: list shows '$(listed)'"
ip -o link show nsg-q | grep -q 'alias nsgate:q' || fail "nsg-q is not q's new link: $(ip -o link show nsg-q)"
wait_for no_dying_links || fail "the relabelled link whose namespace is held was never deleted: $(dying_links)"
down_ok q
must ip netns del syn2
pass "up over a link relabelled dying under its old name: name taken, old link gone"

# 5. A namespace someone else holds: a process inside, a bind mount.
up_ok h
sub=$(nsg show h --json | jq -r '.subnet')
ip netns exec h sleep 60 &
HOLDER=$!
holder_in() { [ "$(stat -L -c %i "/proc/$HOLDER/ns/net" 2>/dev/null)" = "$(stat -L -c %i /run/netns/h)" ]; }
wait_for holder_in || fail "the holder never entered h"
up_ok h2
must touch "$LAB_TMP/h2-hold"
must mount --bind /run/netns/h2 "$LAB_TMP/h2-hold"
down_ok h
down_ok h2
[ -z "$(nsg_links_up)" ] || fail "a held namespace's link is up after down: $(nsg_links_up)"
ip route show | grep -qF "$sub" && fail "the host still routes $sub after down h: $(ip route)"
wait_for no_dying_links || fail "a held namespace's link was never deleted: $(ip -o link show | grep nsg-)"
left=$(nsenter -t "$HOLDER" -n ip -o link show | awk -F': ' '{ print $2 }' | grep -v '^lo$' || true)
[ -z "$left" ] || fail "the held namespace kept links of the gateway: $left"
left=$(nsenter --net="$LAB_TMP/h2-hold" ip -o link show | awk -F': ' '{ print $2 }' | grep -v '^lo$' || true)
[ -z "$left" ] || fail "the bind-mounted namespace kept links of the gateway: $left"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
must umount "$LAB_TMP/h2-hold"
pass "held namespaces (a process inside, a bind mount): link down and unrouted at once, then deleted"

# 6. An attached namespace: down deletes its veth itself.
must ip netns add other
up_ok att --netns other
down_ok att
ip -o link show | grep -q ': nsg-' && fail "an attached gateway's link is left right after down: $(ip -o link show | grep nsg-)"
left=$(ip -n other -o link show | awk -F': ' '{ print $2 }' | grep -v '^lo$' || true)
[ -z "$left" ] || fail "the attached namespace kept: $left"
must ip netns del other
pass "attached namespace: its veth deleted by down"

# 7. run loop of 100 of one name.
for i in $(seq 100); do
	expect_exit 0 nsg run --name r -- true
done
pass "run --name r -- true: 100 in a row"

# watch never took any of it for a leak.
kill -0 "$WATCH" 2>/dev/null || fail "watch died: $(cat "$WLOG")"
grep ': removed' "$WLOG" | grep -v '^watch: z: ' && fail "watch removed a gateway: $(cat "$WLOG")"
kill "$WATCH"
wait "$WATCH" 2>/dev/null
pass "watch reported no removal but z's"

assert_no_residue a s p m1 m200 z q h h2 att r
pass "no residue once the kernel is done"
