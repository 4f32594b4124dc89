# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/ipv6.sh).
#
# Issue 13's benchmarks, in one run on a dual-stack lab (up0 2001:db8:1::1/64,
# inet0 2001:db8:1::2/64, the lab host's IPv6 default route via inet):
#   updown      `nsgate up` / `down` of one gateway with one published port,
#               dual-stack (--ipv6 auto on this host) against IPv4 only
#               (--ipv6 off); cases, one cycle each per round, order rotating:
#                 cold  no other gateway: up creates the table (and, dual,
#                       turns force_forwarding on up0), down undoes it
#                 warm  gateway "w0" (dual-stack) exists: the table and the
#                       uplink's forwarding are in place
#               100 ms between up and down and after down: each command pays
#               for itself, not for the previous one's deferred kernel work.
#   conn        new-connection latency (connlat: connect, 1 byte each way, RST
#               close) from inet through one published port of gateway "svc",
#               over IPv6 ([2001:db8:1::1]:20000) and IPv4 (198.51.100.1:20000),
#               with 1 and with 100,000 ports published (the other ports in
#               three ranges on the same gateway: TCP 1024-65535 but 20000,
#               then UDP from 1024; each unbound port of a dual-stack gateway
#               is an element in ports4 and one in ports6). Each size in each
#               round: publish (timed), SETTLE s (the kernel grows big hash
#               tables in a worker), conntrack -F, CONNS connections per
#               family, unpublish (timed). Sizes ascend in odd rounds,
#               descend in even ones; the families alternate.
#   tput        iperf3, one TCP stream, namespace -> inet (client in the
#               namespace, server in inet). Two blocks a round, their order
#               alternating, the rows of each rotating:
#               host block: nsgate gateway "t" (dual-stack) is up, as on
#               every host with a NAT, and with it conntrack for the whole
#               host (its nat chains register it): the peers' harness and
#               bench/README's NAT44 figure measure plain routing this way.
#                 plain6  a hand-made veth namespace "plain" (2001:db8:2::2/64),
#                         routed by the lab host without NAT (inet has a route
#                         to 2001:db8:2::/64): what the host forwards with
#                         nsgate's table loaded but no rule of it for this
#                         namespace (the target's baseline)
#                 nat66   gateway t: masquerade to 2001:db8:1::1, its guard
#                         and forward chains, conntrack
#                 plain4, nat44  the same over IPv4 (198.18.0.2/30)
#               t comes up before the block (SETTLE s, the kernel's deferred
#               work) and goes down after it (SETTLE s, the namespace's
#               cleanup).
#               bare block: no table at all, no conntrack:
#                 bare6   the plain namespace routed by a host without any
#                         netfilter: the kernel's limit
#                 ct6     bare6 with a table whose forward chain only makes
#                         the kernel track the flows: conntrack's share
#                 masq6   bare6 with the kernel's masquerade by hand (one
#                         rule): NAT66 without nsgate's other rules
#                 bare4   bare6 over IPv4
#               Forwarding for the plain namespace: force_forwarding=1 on
#               vplain and up0 (what nsgate sets on its own veth and the
#               uplink), IPv4 conf.{vplain,up0}.forwarding=1.
# Rows: $RESULTS/ipv6-{updown,conn,tput}.tsv (EXP ROW METRIC ROUND VALUE).
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft iperf3 conntrack jq ss ping
PHASES=${PHASES:-updown conn tput}
UP_ROUNDS=${UP_ROUNDS:-30}
UP_CASES=${UP_CASES:-dual v4}
CONN_ROUNDS=${CONN_ROUNDS:-30}
CONN_SIZES=${CONN_SIZES:-1 100000}
CONN_FAMILIES=${CONN_FAMILIES:-6 4}
CONNS=${CONNS:-2000}
SETTLE=${SETTLE:-1}
LOAD_CAP=${LOAD_CAP:-60}
TPUT_ROUNDS=${TPUT_ROUNDS:-20}
TPUT_ROWS=${TPUT_ROWS:-plain6 nat66 plain4 nat44 bare6 ct6 masq6 bare4}
IPERF_T=${IPERF_T:-4}
UP6=2001:db8:1::1 INET6=2001:db8:1::2
PLAIN6_HOST=2001:db8:2::1 PLAIN6=2001:db8:2::2 PLAIN4_HOST=198.18.0.1 PLAIN4=198.18.0.2
HP=20000 LAT=8080 IPF=5201

# ------------------------------------------------------------------ the lab
# IPv6 on the lab's uplink, without DAD so it is usable at once.
ip -6 addr add $UP6/64 dev up0 nodad && ip -n inet -6 addr add $INET6/64 dev inet0 nodad &&
	ip -6 route add default via $INET6 dev up0 || fail "dual-stack lab"
WAIT_TRIES=500 wait_for ping -6 -c1 -W1 -q $INET6 || fail "inet does not answer ping -6 $INET6"
[ -e /proc/sys/net/ipv6/conf/up0/force_forwarding ] || fail "this kernel has no force_forwarding"

# gw_v6 NAME: "true" when gateway NAME is dual-stack, "false" if not.
gw_v6() { "$NSGATE" show "$1" --json | jq -r '.ipv6'; }
# expect_family NAME dual|v4: the gateway is what the row says it is.
expect_family() {
	local want=true got
	[ "$2" = v4 ] && want=false
	got=$(gw_v6 "$1")
	[ "$got" = "$want" ] || fail "gateway $1 ($2): show --json .ipv6 is '$got', expected $want"
}
ipv6_arg() { [ "$1" = v4 ] && echo "--ipv6=off" || echo "--ipv6=auto"; }

# ------------------------------------------------------------------ updown
updown_cycle() { # updown_cycle CASE(dual|v4) WHEN(cold|warm) ROUND
	local u d name=g
	timed u "$NSGATE" up $name "$(ipv6_arg "$1")" --publish 8081:80 || fail "nsgate up $name ($1)"
	expect_family $name "$1"
	sleep 0.1
	timed d "$NSGATE" down $name || fail "nsgate down $name ($1)"
	sleep 0.1
	[ "$3" = 0 ] && return   # the warm-up
	rec ipv6-updown "$1/$2" up_us "$3" "$u"
	rec ipv6-updown "$1/$2" down_us "$3" "$d"
}
phase_updown() {
	local round blk c w0=auto
	case " $UP_CASES " in *" dual "*) ;; *) w0=off ;; esac
	for c in $UP_CASES; do updown_cycle "$c" cold 0; done
	for round in $(seq "$UP_ROUNDS"); do
		local blocks=()
		for c in $UP_CASES; do blocks+=("$c/cold" "$c/warm"); done
		for blk in $(rotate $((round % ${#blocks[@]})) "${blocks[@]}"); do
			case $blk in
			*/cold) updown_cycle "${blk%/*}" cold "$round" ;;
			*/warm)
				"$NSGATE" up w0 --ipv6=$w0 --publish 9000:80 >/dev/null || fail "up w0"
				sleep 0.1
				updown_cycle "${blk%/*}" warm "$round"
				"$NSGATE" down w0 || fail "down w0"
				sleep 0.1 ;;
			esac
		done
	done
	echo "  ipv6: updown: $UP_ROUNDS rounds done" >&2
}

# ------------------------------------------------------------------ conn
# rest_specs N: SPEC arguments for the N-1 ports besides HP, in ranges: TCP
# 1024-65535 without HP, then UDP from 1024 (65,535 numbers per protocol).
rest_specs() {
	local d=$(($1 - 1)) hi
	[ $d -gt 0 ] || return 0
	hi=$((1024 + d - 1 < HP - 1 ? 1024 + d - 1 : HP - 1))
	echo "1024-$hi:1024-$hi"
	d=$((d - (hi - 1023)))
	[ $d -gt 0 ] || return 0
	hi=$((HP + d < 65535 ? HP + d : 65535))
	echo "$((HP + 1))-$hi:$((HP + 1))-$hi"
	d=$((d - (hi - HP)))
	[ $d -gt 0 ] || return 0
	[ $d -le 64512 ] || fail "rest_specs: more than two protocols' ports"
	echo "1024-$((1024 + d - 1)):1024-$((1024 + d - 1))/udp"
}
conn_target() { if [ "$1" = 6 ]; then echo $UP6 $HP; else echo "$UPLINK_ADDR" $HP; fi; }
# map_elems MAP: how many elements map MAP of table inet nsgate holds.
map_elems() { nft -j list map inet nsgate "$1" 2>/dev/null | jq '[.nftables[].map.elem // empty | .[]] | length'; }
# expect_elems N: N ports published, in ports4 and (svc dual-stack) in ports6.
expect_elems() {
	local m got
	for m in ports4 $([ "$(gw_v6 svc)" = true ] && echo ports6); do
		got=$(map_elems "$m")
		[ "$got" = "$1" ] || fail "$1 ports published, but map $m holds ${got:-none}"
	done
}
phase_conn() {
	local round n sizes specs out f m v t0
	"$NSGATE" up svc --ipv6=auto >/dev/null || fail "nsgate up svc"
	case " $CONN_FAMILIES " in *" 6 "*) expect_family svc dual ;; esac
	ip netns exec svc timeout 3600 "$BIN/connlat" -6 -l $LAT -T 3600 >/dev/null 2>&1 &
	wait_for listening svc $LAT || fail "connlat server in svc"
	ip netns exec inet sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	# Nothing answers before the port is published; then a warm-up per family.
	for f in $CONN_FAMILIES; do
		# shellcheck disable=SC2046
		ip netns exec inet "$BIN/connlat" -n 1 -w 300 $(conn_target "$f") >/dev/null 2>&1 &&
			fail "port $HP answers over IPv$f before it is published"
	done
	"$NSGATE" publish svc $HP:$LAT || fail "publish $HP"
	for f in $CONN_FAMILIES; do
		# shellcheck disable=SC2046
		ip netns exec inet timeout 60 "$BIN/connlat" -n 500 -T 30 $(conn_target "$f") >/dev/null ||
			fail "warm-up over IPv$f through [$UP6]/$UPLINK_ADDR:$HP"
	done
	"$NSGATE" unpublish svc $HP:$LAT || fail "unpublish $HP"
	for round in $(seq "$CONN_ROUNDS"); do
		if [ $((round % 2)) = 1 ]; then sizes=$(printf '%s\n' $CONN_SIZES | sort -n)
		else sizes=$(printf '%s\n' $CONN_SIZES | sort -rn); fi
		for n in $sizes; do
			mapfile -t specs < <(rest_specs "$n"; echo "$HP:$LAT")
			t0=$EPOCHREALTIME
			timeout "$LOAD_CAP" "$NSGATE" publish svc "${specs[@]}" || fail "publish $n ports"
			us_since "$t0"; rec ipv6-conn "ports/$n" load_us "$round" "$US"
			[ "$round" = 1 ] && expect_elems "$n"   # once: listing 200,000 elements takes a while
			sleep "$SETTLE"
			for f in $(rotate $((round % 2)) $CONN_FAMILIES); do
				conntrack -F >/dev/null 2>&1
				# shellcheck disable=SC2046
				out=$(ip netns exec inet timeout 150 "$BIN/connlat" -n "$CONNS" -T 120 $(conn_target "$f") </dev/null) ||
					echo "  ipv6: conn round $round v$f/$n: failures: $out" >&2
				for m in p50_us p90_us p99_us mean_us fail; do
					v=${out##*"$m="}; v=${v%% *}
					[[ $out == *"$m="* ]] || v=FAIL
					rec ipv6-conn "v$f/$n" "$m" "$round" "$v"
				done
				echo "  ipv6: conn round $round v$f/$n: $out" >&2
			done
			t0=$EPOCHREALTIME
			"$NSGATE" unpublish svc "${specs[@]}" || fail "unpublish $n ports"
			us_since "$t0"; rec ipv6-conn "ports/$n" unload_us "$round" "$US"
		done
	done
	"$NSGATE" down svc || fail "down svc"
}

# ------------------------------------------------------------------ tput
plain_setup() {
	ip netns add plain && ip link add vplain type veth peer name eth0 netns plain &&
		ip addr add $PLAIN4_HOST/30 dev vplain && ip -6 addr add $PLAIN6_HOST/64 dev vplain nodad &&
		ip link set vplain up && ip -n plain link set lo up &&
		ip -n plain addr add $PLAIN4/30 dev eth0 && ip -n plain -6 addr add $PLAIN6/64 dev eth0 nodad &&
		ip -n plain link set eth0 up && ip -n plain route add default via $PLAIN4_HOST &&
		ip -n plain -6 route add default via $PLAIN6_HOST &&
		ip -n inet route add 198.18.0.0/30 via "$UPLINK_ADDR" &&
		ip -n inet -6 route add 2001:db8:2::/64 via $UP6 || fail "plain namespace"
	sysctl -qw net.ipv6.conf.vplain.force_forwarding=1 net.ipv6.conf.up0.force_forwarding=1 \
		net.ipv4.conf.vplain.forwarding=1 net.ipv4.conf.up0.forwarding=1 || fail "plain forwarding"
	WAIT_TRIES=500 wait_for ip netns exec plain ping -6 -c1 -W1 -q $INET6 || fail "plain: no route to $INET6"
	wait_for ip netns exec plain ping -c1 -W1 -q "$INET_ADDR" || fail "plain: no route to $INET_ADDR"
}
iperf_from() { # iperf_from NS ADDR -> Gbit/s received, or nothing
	ip netns exec "$1" timeout $((IPERF_T + 20)) iperf3 -J -t "$IPERF_T" --connect-timeout 3000 \
		-c "$2" -p $IPF </dev/null 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9 * 1000 | round / 1000' 2>/dev/null
}
# masq_check: the warm-up's iperf3 flows from t were masqueraded (the reply
# goes to the uplink's address), IPv6 and IPv4 alike.
# The plain rows' flows of the same block were tracked but not translated
# (the reply goes to the plain namespace's own address): the host block's
# baseline pays conntrack, as every host with a NAT does.
masq_check() {
	local r a
	for r in "${host[@]}"; do
		case $r in
		nat66) a=$UP6 ;;
		nat44) a=$UPLINK_ADDR ;;
		plain6) a=$PLAIN6 ;;
		plain4) a=$PLAIN4 ;;
		esac
		conntrack -L -f "ipv${r: -1}" -p tcp --orig-port-dst $IPF 2>/dev/null | grep -F -- "dst=$a sport=$IPF" >/dev/null ||
			fail "$r: no flow to port $IPF whose reply goes to $a in conntrack: $(conntrack -L -p tcp 2>&1 | head -5)"
	done
}
# bench_table ct|masq|off: for the ct rows a table that only makes the kernel
# track the plain namespace's flows (no NAT); for the masq rows the kernel's
# masquerade by hand, one rule (what nsgate's NAT costs without its other rules).
bench_table() {
	case $1 in
	ct) nft -f - <<-'EOT' || fail "table inet bench_ct"
		table inet bench_ct {
			chain forward {
				type filter hook forward priority filter; policy accept;
				ct state established,related accept
			}
		}
		EOT
		;;
	masq) nft -f - <<-'EOT' || fail "table inet bench_ct"
		table inet bench_ct {
			chain postrouting {
				type nat hook postrouting priority srcnat; policy accept;
				iifname "vplain" masquerade
			}
		}
		EOT
		;;
	off) nft delete table inet bench_ct || fail "delete table inet bench_ct" ;;
	esac
}
tput_row() { # tput_row ROW ROUND
	local ns=plain dst=$INET6 g
	case $1 in *4) dst=$INET_ADDR ;; esac
	case $1 in nat*) ns=t ;; esac
	case $1 in ct* | masq*) bench_table "${1%?}" ;; esac
	g=$(iperf_from $ns "$dst") || g=
	case $1 in ct* | masq*) bench_table off ;; esac
	[ "$2" = 0 ] && return   # the warm-up
	rec ipv6-tput "$1" gbps "$2" "${g:-FAIL}"
	echo "  ipv6: tput round $2 $1: ${g:-FAIL} Gbit/s" >&2
}
# tput_host ROUND: the host block, rows host[] with gateway t up.
tput_host() {
	local r
	"$NSGATE" up t --ipv6=auto >/dev/null || fail "nsgate up t"
	case " ${host[*]} " in *" nat66 "*) expect_family t dual ;; esac
	WAIT_TRIES=500 wait_for ip netns exec t ping -c1 -W1 -q "$INET_ADDR" || fail "t: no route to $INET_ADDR"
	case " ${host[*]} " in *" nat66 "*)
		WAIT_TRIES=500 wait_for ip netns exec t ping -6 -c1 -W1 -q $INET6 || fail "t: no route to $INET6" ;;
	esac
	# The kernel's deferred work of up (and below, of down: the
	# namespace's cleanup) must not run during a row.
	sleep "$SETTLE"
	for r in $(rotate $(($1 % ${#host[@]})) "${host[@]}"); do tput_row "$r" "$1"; done
	[ "$1" = 0 ] && masq_check
	"$NSGATE" down t || fail "nsgate down t"
	sleep "$SETTLE"
}
phase_tput() {
	local round blk host=() bare=() nat=() r
	for r in $TPUT_ROWS; do
		case $r in
		nat*) host+=("$r") nat+=("$r") ;;
		plain*) host+=("$r") ;;
		bare* | ct* | masq*) bare+=("$r") ;;
		*) fail "row $r" ;;
		esac
	done
	plain_setup
	ip netns exec inet timeout 3600 iperf3 -s -p $IPF >/dev/null 2>&1 &
	wait_for listening inet $IPF || fail "iperf3 server in inet"
	nft list tables | grep -q . && fail "a table exists before the throughput rows: $(nft list tables)"
	for round in $(seq 0 "$TPUT_ROUNDS"); do   # round 0: a warm-up, not recorded
		for blk in $(rotate $((round % 2)) host bare); do
			if [ "$blk" = host ]; then
				[ ${#host[@]} -gt 0 ] && tput_host "$round"
				continue
			fi
			[ ${#bare[@]} -gt 0 ] || continue
			nft list tables | grep -q . && fail "a table exists in the bare block: $(nft list tables)"
			for r in $(rotate $((round % ${#bare[@]})) "${bare[@]}"); do tput_row "$r" "$round"; done
		done
	done
}

# ------------------------------------------------------------------ run
for p in $PHASES; do
	case $p in
	updown | conn | tput) : >"$RESULTS/ipv6-$p.tsv"; "phase_$p" ;;
	*) fail "unknown phase $p" ;;
	esac
done
