# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/latency.sh).
#
# nsgate up / down of one gateway with one published port, against the floors
# measured in the same rounds: fork+exec of /bin/true; `nsgate --version` (the
# binary's own start: exec, dynamic linking of its libraries, exit); and the
# kernel's own veth create and delete, in-process (bench/tools/veth-floor.c):
#   kernel-veth     a veth pair in one namespace, down (one RTM_NEWLINK / RTM_DELLINK)
#   kernel-veth-gw  as a gateway's: peer in another namespace, both ends up and
#                   addressed (closing an up device costs another RCU grace period)
# and `conntrack -L` (a ctnetlink dump of the empty table: it walks all
# nf_conntrack_buckets) against `conntrack -C` (one count request).
# Cases, one cycle each per round, order rotating:
#   cold      no other gateway: up creates table inet nsgate, down deletes it
#   warm      gateway "w0" exists: up and down are set elements
#   warm-gap  as warm, but down starts 100 ms after up returned: back to back,
#             down also waits for the kernel's cleanup of up's nftables
#             transaction (see docs/design.md, "What down costs")
#   warm-nopub    as warm-gap, without a published port (down then has no
#             conntrack entries to look for)
# Then peak RSS (GNU time %M) of single commands, and nsgate watch's resident
# memory idle for WATCH_IDLE seconds and after UPDOWN_CYCLES up/down cycles.
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft conntrack /usr/bin/time
ROUNDS=${ROUNDS:-30}
WATCH_IDLE=${WATCH_IDLE:-60}
CYCLES=${UPDOWN_CYCLES:-50}

cycle() { # cycle ROW NAME PORT ROUND [GAP]
	local u d
	local pub=(--publish "$3:80")
	[ "$3" = - ] && pub=()
	timed u "$NSGATE" up "$2" "${pub[@]}" || fail "nsgate up $2"
	[ -z "${5:-}" ] || sleep "$5"
	timed d "$NSGATE" down "$2" || fail "nsgate down $2"
	rec latency "$1" up_us "$4" "$u"
	rec latency "$1" down_us "$4" "$d"
}
floor() { # floor ROW ROUND [veth-floor args]
	local row=$1 round=$2 out
	shift 2
	out=$("$BIN/veth-floor" 1 "$@") || fail "veth-floor $*"
	rec latency "$row" create_us "$round" "$(awk '/^create_us_p50/ {print $2}' <<<"$out")"
	rec latency "$row" delete_us "$round" "$(awk '/^delete_us_p50/ {print $2}' <<<"$out")"
}
ip netns add floor || fail "netns floor"
"$NSGATE" up c --publish 8080:80 >/dev/null && "$NSGATE" down c   # warm-up
for round in $(seq "$ROUNDS"); do
	for blk in $(rotate $((round % 9)) true start veth veth-gw ct cold warm warm-gap warm-nopub); do
		case $blk in
		ct) # the conntrack table's dump (walks every bucket) against its count
			timed t conntrack -L; rec latency conntrack-dump exec_us "$round" "$t"
			timed t conntrack -C; rec latency conntrack-count exec_us "$round" "$t" ;;
		true) timed t /bin/true; rec latency true exec_us "$round" "$t" ;;
		start) timed t "$NSGATE" --version; rec latency nsgate-version exec_us "$round" "$t" ;;
		veth) floor kernel-veth "$round" ;;
		veth-gw) floor kernel-veth-gw "$round" /run/netns/floor up ;;
		cold) cycle cold c 8080 "$round" ;;
		warm | warm-gap | warm-nopub)
			"$NSGATE" up w0 --publish 9000:80 >/dev/null || fail "up w0"
			sleep 0.1
			case $blk in
			warm) cycle warm w 8081 "$round" ;;
			warm-gap) cycle warm-gap w 8081 "$round" 0.1 ;;
			warm-nopub) cycle warm-nopub w - "$round" 0.1 ;;
			esac
			"$NSGATE" down w0 || fail "down w0"
			sleep 0.1 ;;
		esac
	done
done
ip netns del floor
echo "  latency: $ROUNDS rounds done" >&2

# ---------------------------------------------------------------- memory
maxrss() { # maxrss ROW CMD...: peak RSS (KiB) of one command, by GNU time
	local row=$1
	shift
	/usr/bin/time -f '%M' -o "$LAB_TMP/rss" "$@" >/dev/null 2>&1 || fail "$*"
	rec memory "$row" peak_rss_kib 1 "$(tail -1 "$LAB_TMP/rss")"
}
maxrss "up (cold, 1 port)" "$NSGATE" up c --publish 8080:80
maxrss "up (warm, 1 port)" "$NSGATE" up w --publish 8081:80
maxrss "publish 10,000 ports (1 range)" "$NSGATE" publish w 10000-19999:10000-19999
maxrss "list (2 gateways, 10,002 ports)" "$NSGATE" list
maxrss "unpublish 10,000 ports" "$NSGATE" unpublish w 10000-19999:10000-19999
maxrss "down (warm)" "$NSGATE" down w
maxrss "down (cold)" "$NSGATE" down c
maxrss "/bin/true (floor)" /bin/true

# nsgate watch: resident memory idle, then while gateways come and go.
"$NSGATE" watch >"$LAB_TMP/watch.log" 2>&1 &
wpid=$!
st() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$wpid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$wpid/stat"; }
sleep 1
kill -0 $wpid 2>/dev/null || fail "nsgate watch exited: $(cat "$LAB_TMP/watch.log")"
rec memory "watch, after 1 s" rss_kib 1 "$(st VmRSS)"
c0=$(cpu_ticks)
sleep "$WATCH_IDLE"
rec memory "watch, idle ${WATCH_IDLE} s" rss_kib 1 "$(st VmRSS)"
rec memory "watch, idle ${WATCH_IDLE} s" hwm_kib 1 "$(st VmHWM)"
rec memory "watch, idle ${WATCH_IDLE} s" cpu_ticks 1 "$(($(cpu_ticks) - c0))"
for i in $(seq "$CYCLES"); do
	"$NSGATE" up "m$i" --publish $((10000 + i)):80 >/dev/null || fail "up m$i under watch"
	"$NSGATE" down "m$i" || fail "down m$i under watch"
done
sleep 1
rec memory "watch, after $CYCLES up/down cycles" rss_kib 1 "$(st VmRSS)"
rec memory "watch, after $CYCLES up/down cycles" hwm_kib 1 "$(st VmHWM)"
kill $wpid; wait $wpid 2>/dev/null || true
echo "  latency: memory done" >&2
