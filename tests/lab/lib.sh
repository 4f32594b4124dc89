# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Helpers for the nsgate lab tests. Sourced by lab.sh inside the hermetic lab
# (fresh network, mount and PID namespaces: see lab.sh), never on the real host.

if [ "${LAB_READY:-}" != yes ] || [ "${NSGATE_IN_LAB:-}" != 1 ]; then
	echo "FAIL: lib.sh is only for use inside lab.sh's lab" >&2
	exit 1
fi

INET_ADDR=198.51.100.2      # the lab's "internet", in netns inet
UPLINK_ADDR=198.51.100.1    # the lab host's address on its uplink up0
LAB_TMP=/run/lab            # tmpfs, private to this lab
SERVER_PORT=7000            # the peer-address echo server in inet

# ------------------------------------------------------------------ verdicts
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
pass() { echo "PASS: $*"; }
note() { echo "  .. $*"; }

# need_tools TOOL... : fail loudly when a tool the test uses is missing.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || fail "$t is not installed (see README: Debian packages for the lab tests)"
	done
}

# nsg ARGS... : run nsgate, bounded in time (exit 124 when it hangs).
nsg() { timeout -k 2 30 "$NSGATE" "$@"; }

# must CMD... : run CMD, fail with its output unless it succeeds.
must() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || fail "'$*' exited $rc: $out"
	[ -z "$out" ] || printf '%s\n' "$out"
}

# expect_exit CODE CMD... : run CMD, assert its exit status. Its stdout is kept
# in $LAST_OUT, its stderr in $LAST_ERR, its status in $LAST_RC.
expect_exit() {
	local want=$1
	shift
	LAST_OUT=$("$@" 2>"$LAB_TMP/last.err")
	LAST_RC=$?
	LAST_ERR=$(cat "$LAB_TMP/last.err")
	if [ "$LAST_RC" != "$want" ]; then
		fail "'$*' exited $LAST_RC, expected $want
  stdout: $LAST_OUT
  stderr: $LAST_ERR"
	fi
}

# assert_error_line : $LAST_ERR is one line "nsgate: <what>: <why>".
assert_error_line() {
	local lines
	lines=$(printf '%s' "$LAST_ERR" | grep -c '')
	[ "$lines" = 1 ] || fail "expected one line on stderr, got $lines: $LAST_ERR"
	case $LAST_ERR in
	"nsgate: "?*": "?*) ;;
	*) fail "stderr is not 'nsgate: <what>: <why>': $LAST_ERR" ;;
	esac
}

# assert_usage_error : $LAST_ERR starts with a line "nsgate: ..."; a usage
# error may add a hint line ("Try 'nsgate help'.") after it.
assert_usage_error() {
	case $LAST_ERR in
	"nsgate: "?*) ;;
	*) fail "stderr does not start with 'nsgate: ': $LAST_ERR" ;;
	esac
}

# assert_json JSON JQ_EXPR [WHAT] : the jq expression is true on JSON.
assert_json() {
	jq -e "$2" >/dev/null 2>&1 <<<"$1" || fail "${3:-json check} failed: $2 on: $1"
}

# wait_for CMD... : poll CMD until it succeeds (bounded: 300 x 10 ms plus the
# commands' own time). Returns 1 when it never does.
wait_for() {
	local i
	for i in $(seq "${WAIT_TRIES:-300}"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.01
	done
	return 1
}

# ------------------------------------------------------------------ addresses
ip2int() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4))
}
int2ip() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

# subnets_overlap A/LEN B/LEN : true when the two prefixes share an address.
subnets_overlap() {
	local a=${1%/*} al=${1#*/} b=${2%/*} bl=${2#*/} l mask
	l=$((al < bl ? al : bl))
	mask=$(((0xffffffff << (32 - l)) & 0xffffffff))
	[ $(($(ip2int "$a") & mask)) = $(($(ip2int "$b") & mask)) ]
}

# ------------------------------------------------------------------ residue
# wait_dying_gone : the links down left to the kernel (gone with their
# namespaces, asynchronously) are gone; bounded (DYING_TRIES x 10 ms). They
# are: renamed nsg-~* by down; labelled nsgate-dying:NAME (a kill on a
# kernel before 6.2); left as they were by down --all (labelled
# "nsgate:NAME own-netns", with no state file for NAME).
# dying_filter: of `ip -o link show` lines on stdin, those of such links.
dying_filter() {
	local line alias
	while IFS= read -r line; do
		alias=$(sed -n 's/.*alias \(.*\)$/\1/p' <<<"$line")
		case $line in
		*": nsg-~"* | *"alias nsgate-dying:"*) echo "$line" ;;
		*"alias nsgate:"*" own-netns")
			alias=${alias#nsgate:}
			[ -e "/run/nsgate/${alias% own-netns}.state" ] || echo "$line" ;;
		esac
	done
}
dying_links() { ip -o link show | grep ': nsg-' | dying_filter; }
no_dying_links() { [ -z "$(dying_links)" ]; }
wait_dying_gone() {
	WAIT_TRIES=${DYING_TRIES:-1500} wait_for no_dying_links ||
		fail "links left to the kernel never went: $(dying_links)"
}

# assert_gone NAME : nothing of gateway NAME is left (other gateways may be).
assert_gone() {
	local name=$1 links
	wait_dying_gone
	links=$(ip -o link show)
	if grep -q "alias nsgate:$name\$" <<<"$(ip -d -o link show | sed 's/\\ */\n/g')"; then
		fail "a link with ifalias nsgate:$name is left: $links"
	fi
	grep -q ": nsg-${name}[@:]" <<<"$links" && fail "link nsg-$name is left: $links"
	[ -e "/run/netns/$name" ] && fail "/run/netns/$name is left"
	[ -e "/run/nsgate/$name.state" ] && fail "/run/nsgate/$name.state is left"
	[ -e "/etc/netns/$name/resolv.conf" ] && fail "/etc/netns/$name/resolv.conf is left"
	if nft list table inet nsgate >"$LAB_TMP/table" 2>/dev/null; then
		grep -qwF -- "$name" "$LAB_TMP/table" &&
			fail "table inet nsgate still mentions $name: $(cat "$LAB_TMP/table")"
	fi
	return 0
}

# assert_no_residue NAME... : no gateway at all is left, and nothing of NAMEs:
# no nsg-* link, no table inet nsgate, ip_forward and up0's forwarding as the
# lab started (LAB_UP0_FORWARDING may be overridden), no saved forwarding.
# assert_no_net_residue : no table bridge nsgate, no network file (after the
# last network went).
assert_no_net_residue() {
	nft list table bridge nsgate >/dev/null 2>&1 &&
		fail "table bridge nsgate is left: $(nft list table bridge nsgate)"
	[ -z "$(ls -A /run/nsgate/networks 2>/dev/null)" ] ||
		fail "network files are left: $(ls -A /run/nsgate/networks)"
	return 0
}

assert_no_residue() {
	local name links fwd saved
	for name in "$@"; do assert_gone "$name"; done
	wait_dying_gone
	links=$(ip -o link show)
	grep -q ': nsg-' <<<"$links" && fail "an nsg-* link is left: $links"
	if nft list table inet nsgate >"$LAB_TMP/table" 2>&1; then
		fail "table inet nsgate is left: $(cat "$LAB_TMP/table")"
	fi
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	[ "$fwd" = "$LAB_IP_FORWARD" ] || fail "net.ipv4.ip_forward is $fwd, was $LAB_IP_FORWARD before the test"
	fwd=$(cat /proc/sys/net/ipv4/conf/up0/forwarding)
	[ "$fwd" = "$LAB_UP0_FORWARDING" ] ||
		fail "net.ipv4.conf.up0.forwarding is $fwd, was $LAB_UP0_FORWARDING before the test"
	saved=$(find /run/nsgate/forwarding /run/nsgate/ip_forward.saved -type f 2>/dev/null)
	[ -z "$saved" ] || fail "saved forwarding values are left: $saved"
	return 0
}

# ------------------------------------------------------------------ traffic
# start_server_in NS PORT [ADDR] : a TCP server in netns NS that answers each
# connection with the peer address it sees. Returns once it listens.
start_server_in() {
	local ns=$1 port=$2 addr=${3:-0.0.0.0}
	ip netns exec "$ns" socat -T5 "TCP-LISTEN:$port,bind=$addr,reuseaddr,fork" \
		SYSTEM:'echo $SOCAT_PEERADDR' >"$LAB_TMP/server-$ns-$port.log" 2>&1 &
	wait_for server_listening "$ns" "$port" ||
		fail "server in $ns on port $port did not start: $(cat "$LAB_TMP/server-$ns-$port.log")"
}
server_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# peer_seen ADDR PORT PREFIX... : connect to ADDR:PORT through the command
# prefix (e.g. "run_in_gw web", "nsenter -t PID -n", nothing for the lab host)
# and print what the echo server answered: the source address it saw.
peer_seen() {
	local addr=$1 port=$2
	shift 2
	"$@" timeout -k 1 10 socat -T5 -u "TCP:$addr:$port,connect-timeout=3" STDOUT </dev/null
}

# expect_internet PREFIX... : through PREFIX, the inet echo server is reached
# and sees the lab host's uplink address (the connection was masqueraded).
expect_internet() {
	local seen
	seen=$(peer_seen "$INET_ADDR" "$SERVER_PORT" "$@" 2>"$LAB_TMP/peer.err")
	[ "$seen" = "$UPLINK_ADDR" ] ||
		fail "via '$*': inet saw '$seen', expected $UPLINK_ADDR (masquerade): $(cat "$LAB_TMP/peer.err")"
}

# run_in_gw NAME CMD... : run CMD in gateway NAME's namespace through nsgate.
run_in_gw() {
	local name=$1
	shift
	nsg exec "$name" -- "$@"
}

# gw_json NAME : `nsgate show NAME --json` into $GW_JSON (fails the test if not).
gw_json() {
	expect_exit 0 nsg show "$1" --json
	GW_JSON=$LAST_OUT
	jq -e 'type == "object"' >/dev/null 2>&1 <<<"$GW_JSON" ||
		fail "show $1 --json did not print a JSON object: $GW_JSON"
}
# gw_field NAME KEY : print one field of show --json (after gw_json NAME).
gw_field() { jq -r --arg k "$2" '.[$k]' <<<"$GW_JSON"; }

# up_ok NAME ARGS... : `nsgate up NAME ARGS...` must succeed.
up_ok() { expect_exit 0 nsg up "$@"; }
# down_ok NAME : `nsgate down NAME` must succeed.
down_ok() { expect_exit 0 nsg down "$@"; }

# ------------------------------------------------------------------ published ports
# Servers and clients for any protocol of `nsgate publish` (tcp, udp, sctp).
# A tagged server answers each connection (tcp, sctp) or datagram (udp) with
# one line "TAG PEERADDR", so a test knows which server answered and which
# source address it saw.

# in_ns NS CMD... : run CMD in netns NS; NS "host" is the lab host itself.
in_ns() {
	local ns=$1
	shift
	if [ "$ns" = host ]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# listening_in NS PROTO PORT : something in NS listens on PROTO port PORT.
listening_in() {
	local ns=$1 proto=$2 port=$3
	case $proto in
	tcp) in_ns "$ns" ss -Hltn "sport = :$port" | grep -q . ;;
	udp) in_ns "$ns" ss -Hlun "sport = :$port" | grep -q . ;;
	sctp) # ss needs sctp_diag; /proc/net/sctp/eps lists listeners (LPORT, 6th)
		in_ns "$ns" ss -Hln --sctp "sport = :$port" 2>/dev/null | grep -q . ||
			in_ns "$ns" awk -v p="$port" 'NR > 1 && $6 == p { f = 1 } END { exit !f }' /proc/net/sctp/eps 2>/dev/null ;;
	*) return 1 ;;
	esac
}

# start_tagged_server_in NS PROTO PORT TAG [BIND] : a server in NS ("host" for
# the lab host) on PROTO port PORT answering "TAG PEERADDR". Returns once it
# listens. Its pid is in $LAST_SERVER_PID.
start_tagged_server_in() {
	local ns=$1 proto=$2 port=$3 tag=$4 bind=${5:-0.0.0.0} listen log
	case $proto in
	tcp) listen="TCP4-LISTEN:$port,bind=$bind,reuseaddr,fork" ;;
	udp) listen="UDP4-RECVFROM:$port,bind=$bind,fork" ;;
	sctp) listen="SCTP4-LISTEN:$port,bind=$bind,reuseaddr,fork" ;;
	*) fail "start_tagged_server_in: unknown protocol $proto" ;;
	esac
	log="$LAB_TMP/tserver-$ns-$proto-$port.log"
	# udp: read the datagram before answering, else socat may write it into
	# the pipe of an echo that has already exited (EPIPE) and never answer.
	# tcp/sctp clients (ask) send nothing, so those answer at once.
	if [ "$proto" = udp ]; then
		in_ns "$ns" socat -T5 "$listen" SYSTEM:"read -r line; echo $tag \$SOCAT_PEERADDR" >"$log" 2>&1 &
	else
		in_ns "$ns" socat -T5 "$listen" SYSTEM:"echo $tag \$SOCAT_PEERADDR" >"$log" 2>&1 &
	fi
	LAST_SERVER_PID=$!
	wait_for listening_in "$ns" "$proto" "$port" ||
		fail "$proto server in $ns on port $port did not start: $(cat "$log")"
}

# ask PROTO ADDR PORT PREFIX... : connect (tcp, sctp) or send one datagram
# (udp) to ADDR:PORT through the command prefix (as for peer_seen) and print
# the answer. Bounded: at most a few seconds. $ASK_OPTS is appended to the
# client address (e.g. ",sourceport=40000").
ask() {
	local proto=$1 addr=$2 port=$3
	shift 3
	case $proto in
	tcp) "$@" timeout -k 1 8 socat -T3 -u "TCP4:$addr:$port,connect-timeout=2${ASK_OPTS:-}" STDOUT </dev/null ;;
	sctp) "$@" timeout -k 1 8 socat -T3 -u "SCTP4:$addr:$port,connect-timeout=2${ASK_OPTS:-}" STDOUT </dev/null ;;
	udp) echo ping | "$@" timeout -k 1 8 socat -T2 -t1 - "UDP4:$addr:$port${ASK_OPTS:-}" ;;
	*) fail "ask: unknown protocol $proto" ;;
	esac
}

# expect_answer PROTO ADDR PORT WANT PREFIX... : the answer is exactly WANT.
expect_answer() {
	local proto=$1 addr=$2 port=$3 want=$4 got
	shift 4
	got=$(ask "$proto" "$addr" "$port" "$@" 2>"$LAB_TMP/ask.err")
	[ "$got" = "$want" ] ||
		fail "$proto to $addr:$port via '${*:-lab host}'${ASK_OPTS:+ ($ASK_OPTS)}: answer '$got', expected '$want' $(head -c 300 "$LAB_TMP/ask.err")"
}

# expect_no_answer PROTO ADDR PORT PREFIX... : nothing answers at all.
expect_no_answer() {
	local proto=$1 addr=$2 port=$3 got
	shift 3
	got=$(ask "$proto" "$addr" "$port" "$@" 2>/dev/null)
	[ -z "$got" ] ||
		fail "$proto to $addr:$port via '${*:-lab host}'${ASK_OPTS:+ ($ASK_OPTS)} must not be answered; answer: '$got'"
}

# sctp_supported : the kernel can make an SCTP socket here (the lab host).
# Without SCTP, $SCTP_WHY holds socat's error.
sctp_supported() {
	SCTP_WHY=$(timeout -k 1 5 socat -u OPEN:/dev/null SCTP4-CONNECT:127.0.0.1:9 2>&1)
	case $SCTP_WHY in
	*"socket("*"not supported"*) return 1 ;;
	esac
	return 0
}

# published_json NAME : the "published" array of `show NAME --json`, compact
# and sorted by (host_addr, proto, host_port), into $PUB_JSON.
published_json() {
	gw_json "$1"
	PUB_JSON=$(jq -c '.published | sort_by(.host_addr, .proto, .host_port)' <<<"$GW_JSON") ||
		fail "show $1 --json has no usable \"published\" array: $GW_JSON"
	jq -e 'type == "array"' >/dev/null 2>&1 <<<"$PUB_JSON" ||
		fail "show $1 --json: \"published\" is not an array: $GW_JSON"
}

# pub_entry HOST_ADDR HOST_PORT HOST_END PORT END PROTO TO [TO6] : one
# "published" object as show --json prints it (compact, jq key order of the
# spec); TO6, the IPv6 target of an unbound port of a dual-stack gateway.
pub_entry() {
	jq -cn --arg a "$1" --argjson hp "$2" --argjson he "$3" --argjson p "$4" \
		--argjson e "$5" --arg pr "$6" --arg to "$7" --arg to6 "${8:-}" \
		'{host_addr: $a, host_port: $hp, host_end: $he, port: $p, end: $e, proto: $pr, to: $to}
		 + {to6: (if $to6 == "" then null else $to6 end)}'
}

# expect_published NAME ENTRY... : show NAME --json lists exactly these
# published ports (pub_entry objects, any order; keys compared, not layout).
expect_published() {
	local name=$1 want
	shift
	published_json "$name"
	want=$(printf '%s\n' "$@" | jq -sc 'sort_by(.host_addr, .proto, .host_port)')
	jq -e --argjson w "$want" '. == $w' >/dev/null <<<"$PUB_JSON" ||
		fail "show $name --json: published is $PUB_JSON, expected $want"
}

# nft_rule_count : number of rules in table inet nsgate (lines of
# `nft -a list table` with a handle that are not table, chain, set or map heads).
nft_rule_count() {
	nft -a list table inet nsgate 2>/dev/null |
		grep -E '# handle [0-9]+$' | grep -cvE '^[[:space:]]*(table|chain|set|map|flowtable)[[:space:]]'
}

# nft_map_elems MAP [COMMENT] : number of elements of map MAP in table inet
# nsgate (with that comment when given); 0 when there is no such map.
nft_map_elems() {
	local n
	n=$(nft -j list map inet nsgate "$1" 2>/dev/null |
		jq --arg c "${2:-}" '[.nftables[] | select(.map) | .map.elem // [] | .[]
			| select($c == "" or .[0].elem.comment == $c)] | length' 2>/dev/null)
	echo "${n:-0}"
}

# nft_table_snapshot : the whole table inet nsgate as text (or a marker when
# there is none), to compare before and after a command that must change nothing.
nft_table_snapshot() { nft list table inet nsgate 2>/dev/null || echo "(no table inet nsgate)"; }

# ct_entries ARGS... : conntrack entries (one per line) matching conntrack -L
# filters ARGS (e.g. -p udp --orig-port-src 40000); empty when none.
ct_entries() { conntrack -L "$@" 2>/dev/null; }

# ------------------------------------------------------------------ lifecycle
# Helpers for the run / apply / gc / watch / concurrency / damaged-state tests
# (test-lifecycle-*.sh).

# defer_fail MSG : record a failure but let the test go on (so one finding does
# not hide the next); deferred_verdict fails the test at its end if any was
# recorded. Call both from the test's main shell, not from $(...).
defer_fail() {
	echo "FAIL (deferred): $*" >&2
	DEFERRED_FAILS=$((${DEFERRED_FAILS:-0} + 1))
}
deferred_verdict() {
	[ "${DEFERRED_FAILS:-0}" = 0 ] ||
		fail "${DEFERRED_FAILS} deferred check(s) failed (see 'FAIL (deferred)' above)"
}

# start_nsgate_bg LOG ARGS... : start `nsgate ARGS` in the background, stdout
# and stderr into LOG, with every signal at its default disposition (a
# script's `cmd &` starts cmd with SIGINT and SIGQUIT ignored). Pid in $BG_PID.
start_nsgate_bg() {
	local log=$1
	shift
	env --default-signal "$NSGATE" "$@" >"$log" 2>&1 &
	BG_PID=$!
}

# proc_gone PID : no such process any more (or only its zombie is left).
# One read of its status: bash may reap the zombie between a look at /proc/PID
# and the read of the file, and an unreadable status is a process gone.
proc_gone() {
	local st
	st=$(cat "/proc/$1/status" 2>/dev/null) || return 0
	grep -q '^State:[[:space:]]*Z' <<<"$st"
}

# wait_exit PID SECONDS : wait (bounded) for background job PID of this shell
# to end; its exit status in $BG_RC. When it outlives SECONDS it is killed
# (SIGKILL), $BG_RC is "timeout" and wait_exit returns 1.
wait_exit() {
	local pid=$1 secs=$2
	for _ in $(seq $((secs * 100))); do
		proc_gone "$pid" && break
		sleep 0.01
	done
	if ! proc_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		BG_RC=timeout
		return 1
	fi
	wait "$pid" 2>/dev/null
	BG_RC=$?
	return 0
}

# zombie_children PID : the pids of PID's children that are zombies (none: empty).
zombie_children() { ps -o pid=,stat= --ppid "$1" 2>/dev/null | awk '$2 ~ /^Z/ { print $1 }'; }

# gw_status NAME : the status `show NAME --json` reports (empty when show fails).
gw_status() { nsg show "$1" --json 2>/dev/null | jq -r '.status' 2>/dev/null; }
# gw_is_up NAME : show NAME reports status "up" (for wait_for).
gw_is_up() { [ "$(gw_status "$1")" = up ]; }

# gw_names : the names `nsgate list --json` reports, sorted, one a line.
gw_names() { nsg list --json | jq -r '.[].name' | sort; }

# nft_elements : every element of every set and map of table inet nsgate, one
# a line "SET<TAB>COMMENT<TAB>KEY[ : VALUE]" (concatenations as "a . b"),
# sorted; nothing when there is no table.
nft_elements() {
	nft -j list table inet nsgate 2>/dev/null | jq -r '
		def s: if type == "object" and has("concat") then (.concat | map(tostring) | join(" . "))
			elif type == "object" and has("range") then (.range | map(tostring) | join("-"))
			elif type == "object" and has("prefix") then "\(.prefix.addr)/\(.prefix.len)"
			else tostring end;
		.nftables[] | (.set // .map // empty) as $s | ($s.elem // [])[]
		| (if type == "array" then [.[0], (.[1] | s)] else [., null] end) as [$k, $v]
		| (if ($k | type) == "object" and ($k | has("elem"))
			then [$k.elem.val, ($k.elem.comment // "")] else [$k, ""] end) as [$kv, $c]
		| "\($s.name)\t\($c)\t\($kv | s)" + (if $v == null then "" else " : \($v)" end)' |
		LC_ALL=C sort
}

# expected_elements : read `nsgate list --json` (or show --json objects in an
# array) on stdin and print the elements the kernel must hold for those
# gateways, in nft_elements' format: ifaces, masq_any / masq_via and
# ns_addrs4 per gateway (a network member's: ifaces, ns_addrs4 on its bridge,
# and per network with members its masq_any and net_intra; for each further
# network its port in ifaces and its bridge . address; ns_addrs6 of
# dual-stack ones), no_host and one
# no_host_dns4 per DNS server with
# --no-host, one ports4 / ports4h element per published port; and one
# fwd_guard element per uplink whose forwarding nsgate saved.
expected_elements() {
	local f
	{
	for f in /run/nsgate/forwarding/*.saved; do
		[ -e "$f" ] || continue
		printf 'fwd_guard\tnsgate\t%s\n' "$(basename "$f" .saved)"
	done
	# Networks with members: masq_any and (unless isolated) net_intra of their bridge.
	"$NSGATE" network list --json 2>/dev/null | jq -r '.[] | select(.members | length > 0)
		| "masq_any\tnetwork:\(.name)\t\(.bridge)",
		  (if .isolated then empty else "net_intra\tnetwork:\(.name)\t\(.bridge) . \(.bridge)" end)'
	# A network member's source is keyed on its bridge, its masquerade is the network's.
	jq -r '.[] | .name as $n | .host_ifname as $ifn | ((.networks // [])[0].bridge // null) as $br
		| "ifaces\t\($n)\t\($ifn)",
		  (if $br != null then empty elif .uplink == null then "masq_any\t\($n)\t\($ifn)"
		   else "masq_via\t\($n)\t\($ifn) . \(.uplink)" end),
		  "ns_addrs4\t\($n)\t\($br // $ifn) . \(.ns_addr)",
		  ((.networks // [])[1:][] | "ifaces\t\($n)\t\(.port)", "ns_addrs4\t\($n)\t\(.bridge) . \(.address)"),
		  # IPv6 sources: a dual-stack gateway its ::2 and fe80::2, a member on a
		  # dual-stack network its ::I and fe80::I (the address6 after "::").
		  (if $br == null and .ns_addr6 != null
		   then "ns_addrs6\t\($n)\t\($ifn) . \(.ns_addr6)", "ns_addrs6\t\($n)\t\($ifn) . fe80::2" else empty end),
		  ((.networks // [])[] | select(.address6 != null)
			| "ns_addrs6\t\($n)\t\(.bridge) . \(.address6)",
			  "ns_addrs6\t\($n)\t\(.bridge) . fe80::\(.address6 | split("::") | last)"),
		  (if .no_host then "no_host\t\($n)\t\($ifn)", (.dns[] | "no_host_dns4\t\($n)\t\($ifn) . \(.)") else empty end),
		  ((.published // [])[] | . as $p | range(0; $p.host_end - $p.host_port + 1) as $i
			| (if $p.end == $p.port then $p.port else $p.port + $i end) as $tp
			| if $p.host_addr == "0.0.0.0"
			  then "ports4\t\($n)\t\($p.proto) . \($p.host_port + $i) : \($p.to) . \($tp)"
			  else "ports4h\t\($n)\t\($p.host_addr) . \($p.proto) . \($p.host_port + $i) : \($p.to) . \($tp)" end)'
	} | LC_ALL=C sort
}

# assert_kernel_matches_list : the elements of table inet nsgate are exactly
# those `nsgate list --json` implies (nothing duplicated, lost or stale).
assert_kernel_matches_list() {
	local json want got
	json=$(nsg list --json) || fail "nsgate list --json failed"
	want=$(expected_elements <<<"$json")
	got=$(nft_elements)
	[ "$want" = "$got" ] ||
		fail "table inet nsgate does not match nsgate list --json:
$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/    /')
  (< from list --json, > in the kernel)"
}

# strace_nsg LOG ARGS... : run `nsgate ARGS` (bounded) under strace -f,
# recording its netlink sends (sendto, sendmsg) in LOG; nsgate's output and
# exit status pass through.
strace_nsg() {
	local log=$1
	shift
	# LeakSanitizer cannot run under ptrace: off for this one command (sanitizer build).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 60 strace -f -qq -e trace=sendto,sendmsg -o "$log" "$NSGATE" "$@"
}
# nl_writes LOG : how many netlink messages in an strace_nsg LOG change the
# kernel (rtnetlink RTM_NEW*/RTM_DEL*/RTM_SET*, any nftables batch).
nl_writes() { grep -cE 'RTM_NEW|RTM_DEL|RTM_SET|BATCH_BEGIN' "$1"; }

# lab_snapshot : the lab host's gateway-relevant state as text (table inet
# nsgate, links, addresses, routes, named namespaces, nsgate's files and their
# content), to compare before and after a command that must change nothing.
lab_snapshot() {
	echo "# table"; nft_table_snapshot
	echo "# links"; ip -o link show | sed 's/ state [A-Z]* / /'
	echo "# addresses"; ip -4 -o addr show
	echo "# routes"; ip route show
	echo "# namespaces"; ls /run/netns /etc/netns
	echo "# /run/nsgate"
	(cd /run/nsgate && find . -type f ! -name lock -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum)
}

# ------------------------------------------------------------------ isolation
# Attacks from inside a gateway's namespace (test-isolation-*.sh): packets a
# namespace's root can forge, built with python3's standard library only.

# gw_addrs NAME : the gateway's host-side and namespace addresses into
# $GW_HOST and $GW_NS (from show --json).
gw_addrs() {
	gw_json "$1"
	GW_HOST=$(gw_field "$1" host_addr)
	GW_NS=$(gw_field "$1" ns_addr)
}

# raw_syn_l2 IFACE DSTMAC SRC DST DPORT : one TCP SYN from SRC to DST:DPORT,
# framed by hand and sent with AF_PACKET on IFACE to DSTMAC (bypassing the
# sender's routing table: what a namespace's root can always do). Run it in
# the namespace (prefix it with run_in_gw NAME).
raw_syn_l2() {
	python3 - "$@" <<-'PY'
		import socket, struct, sys
		ifname, dmac, src, dst, dport = sys.argv[1:6]
		def csum(b):
		    if len(b) % 2:
		        b += b"\0"
		    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    s = (s >> 16) + (s & 0xffff)
		    s += s >> 16
		    return ~s & 0xffff
		sa, da = socket.inet_aton(src), socket.inet_aton(dst)
		tcp = struct.pack("!HHIIBBHHH", 40001, int(dport), 1, 0, 5 << 4, 0x02, 64240, 0, 0)
		tcp = tcp[:16] + struct.pack("!H", csum(sa + da + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
		ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, sa, da)
		ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
		smac = open("/sys/class/net/%s/address" % ifname).read().strip()
		eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + b"\x08\x00"
		s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
		s.bind((ifname, 0))
		for _ in range(3):
		    s.send(eth + ip + tcp)
	PY
}

# spoof_udp SRC SPORT DST DPORT PAYLOAD : one UDP datagram with a forged
# source, through a raw socket (IP_HDRINCL) routed as usual. Run it in the
# namespace.
spoof_udp() {
	python3 - "$@" <<-'PY'
		import socket, struct, sys
		src, sport, dst, dport, payload = sys.argv[1:6]
		p = payload.encode() + b"\n"
		udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(p), 0) + p   # no checksum
		ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
		                 socket.inet_aton(src), socket.inet_aton(dst))
		s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
		for _ in range(3):
		    s.sendto(ip + udp, (dst, 0))
	PY
}

# start_udp_log_in NS PORT LOG : a UDP receiver in NS on PORT appending each
# datagram to LOG. Returns once it listens.
start_udp_log_in() {
	local ns=$1 port=$2 log=$3
	: >"$log"
	in_ns "$ns" socat -u "UDP4-RECV:$port,reuseaddr" "OPEN:$log,append" 2>>"$log.err" &
	wait_for listening_in "$ns" udp "$port" || fail "udp receiver in $ns on port $port did not start: $(cat "$log.err")"
}

# nft_counter TABLE CHAIN : the packets counted by the first counter of a
# chain of table inet TABLE (the tests' own probe tables, never nsgate's).
nft_counter() {
	nft -j list chain inet "$1" "$2" | jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | first // 0'
}

# ------------------------------------------------------------------ kills
# Crash points, by strace's fault injection (test-publish-kill.sh, the
# killed uplink change of test-lifecycle-apply.sh).

# kill_nsg_at SYSCALL N ARGS... : run `nsgate ARGS` (bounded) under strace,
# killed with SIGKILL on entering its Nth SYSCALL; with $KILL_PATH set, only
# the calls on that path count (strace -P; also on its last name, as the
# *at calls relative to a directory descriptor give it). Fails the test
# unless it was killed there (exit 137).
kill_nsg_at() {
	local sc=$1 n=$2 rc
	shift 2
	# LeakSanitizer cannot run under ptrace: off for this one command.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 60 strace -f -qq -e signal=none -o /dev/null ${KILL_PATH:+-P "$KILL_PATH" -P "${KILL_PATH##*/}"} -e trace="$sc" \
		-e inject="$sc:signal=KILL:when=$n" "$NSGATE" "$@" >"$LAB_TMP/killed.out" 2>&1
	rc=$?
	[ "$rc" = 137 ] || fail "'nsgate $*' was not killed at $sc #$n (exit $rc): $(cat "$LAB_TMP/killed.out")"
}

# batch_send_index ARGS... : run `nsgate ARGS` for real (it must succeed)
# and print which of its sendto calls carried an nftables batch, one number
# a line: the N for kill_nsg_at sendto N, killing the same command (from the
# same state) at that commit.
batch_send_index() {
	local log=$LAB_TMP/batch-index.log n
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 2 60 strace -f -qq -e signal=none -o "$log" -e trace=sendto "$NSGATE" "$@" >/dev/null 2>&1 ||
		fail "'nsgate $*' failed under strace: $(head -c 300 "$log")"
	n=$(grep -n 'NFNL_MSG_BATCH_BEGIN' "$log" | cut -d: -f1)
	[ -n "$n" ] || fail "'nsgate $*' sent no nftables batch: $(head -c 300 "$log")"
	echo "$n"
}

# apply_changes_nothing WHAT FILE ARGS... : `nsgate apply FILE ARGS` exits 2
# with one error line, prints nothing on stdout, makes no netlink write
# (strace) and leaves the lab as it was. Its stderr is in $LAST_ERR.
apply_changes_nothing() {
	local what=$1 before log=$LAB_TMP/strace-apply-refused n
	shift
	before=$(lab_snapshot)
	expect_exit 2 strace_nsg "$log" apply "$@"
	assert_error_line
	[ -z "$LAST_OUT" ] || fail "apply of $what printed on stdout: $LAST_OUT"
	n=$(nl_writes "$log")
	[ "$n" = 0 ] || fail "apply of $what made $n netlink writes"
	[ "$(lab_snapshot)" = "$before" ] ||
		fail "apply of $what changed the lab: $(diff <(echo "$before") <(lab_snapshot))"
}

# start_inet_dns : the lab internet's DNS server (the lab's resolv.conf names
# $INET_ADDR): dnsmasq in inet, answering example.test with 203.0.113.7.
inet_dns_listening() { ip netns exec inet ss -Hlun 'sport = :53' | grep -q .; }
start_inet_dns() {
	need_tools dnsmasq
	ip netns exec inet dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --address=/example.test/203.0.113.7 \
		--listen-address="$INET_ADDR" --bind-interfaces --port 53 \
		--user=root --pid-file="$LAB_TMP/dnsmasq.pid" --log-facility=- \
		>"$LAB_TMP/dnsmasq.log" 2>&1 &
	wait_for inet_dns_listening || fail "dnsmasq did not start: $(cat "$LAB_TMP/dnsmasq.log")"
}

# ------------------------------------------------------------------ IPv6
# A dual-stack lab (test-ipv6-*.sh): lab_ipv6 (static default route) or
# lab_ipv6_ra (the default route learned from radvd in inet) adds IPv6 to
# lab.sh's IPv4 lab. Servers answer with the peer address they see, always
# printed in compressed form (norm6), as show --json prints addresses.

INET6_ADDR=2001:db8:1::2      # the lab's "internet" over IPv6, on inet0
UPLINK6_ADDR=2001:db8:1::1    # the lab host's IPv6 address on up0
SERVER6_PORT=7006             # the peer-address echo server in inet, IPv6
RA_LIFETIME=8                 # radvd's AdvDefaultLifetime (s) in lab_ipv6_ra
RA_MAX_INTERVAL=4             # radvd's MaxRtrAdvInterval (s): radvd's minimum

# norm6 : a filter: every [IPV6] or bare IPv6 address in its input printed
# compressed and without brackets (socat's SOCAT_PEERADDR is "[0000:...:0001]"),
# an IPv4-mapped one (::ffff:a.b.c.d) as the IPv4 address.
norm6() {
	python3 -c '
import ipaddress, re, sys
def conv(m):
    try:
        a = ipaddress.IPv6Address(m.group(1))
    except ValueError:
        return m.group(0)
    return str(a.ipv4_mapped) if a.ipv4_mapped else a.compressed
for line in sys.stdin:
    sys.stdout.write(re.sub(r"\[?([0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)\]?", conv, line))
'
}

# ip6_norm ADDR : ADDR compressed (empty when it is no IPv6 address).
ip6_norm() { norm6 <<<"$1"; }

# ip6_net_addr PREFIX/LEN N : the Nth address of the network (1 = ::1).
ip6_net_addr() {
	python3 -c 'import ipaddress, sys; n = ipaddress.IPv6Network(sys.argv[1]); print(n[int(sys.argv[2])])' "$1" "$2"
}

# ip6_is_ula64 PREFIX/LEN : PREFIX is a /64 network (no host bits) in fd00::/8.
ip6_is_ula64() {
	python3 -c '
import ipaddress, sys
n = ipaddress.IPv6Network(sys.argv[1])
sys.exit(0 if n.prefixlen == 64 and n.subnet_of(ipaddress.IPv6Network("fd00::/8")) else 1)' "$1" 2>/dev/null
}

# ip6_prefix_of PREFIX/LEN BITS : the /BITS network that holds PREFIX.
ip6_prefix_of() {
	python3 -c 'import ipaddress, sys; print(ipaddress.IPv6Network(sys.argv[1]).supernet(new_prefix=int(sys.argv[2])))' "$1" "$2"
}

# ipv6_sysctls : every net.ipv6 sysctl of the lab host that exists whether or
# not a gateway is up (conf/all, conf/default, conf/lo, conf/up0 and the
# global ones; not neigh/, which is per interface), "PATH:VALUE" a line.
ipv6_sysctls() {
	(
		cd /proc/sys/net/ipv6 || exit 1
		grep -r . --exclude-dir=conf --exclude-dir=neigh --exclude-dir=route . 2>/dev/null
		grep -r . conf/all conf/default conf/lo conf/up0 2>/dev/null
	) | LC_ALL=C sort
}

# ipv6_host_state : the lab host's IPv6 addresses and routes (lifetimes left
# out), to compare before and after a gateway's life.
ipv6_host_state() {
	echo "# addresses"
	ip -6 -o addr show | sed -E 's/\\ +valid_lft.*//; s/ +valid_lft.*//'
	echo "# routes"
	ip -6 route show table all | sed -E 's/ expires [0-9]+sec//' | grep -v '^local\|^multicast\|^anycast' | LC_ALL=C sort
}

# lab_ipv6_addrs : the IPv6 addresses of the dual-stack lab (without DAD: usable at once).
lab_ipv6_addrs() {
	must ip -6 addr add "$UPLINK6_ADDR/64" dev up0 nodad
	must ip -n inet -6 addr add "$INET6_ADDR/64" dev inet0 nodad
}

# no_tentative6 : no IPv6 address of the lab host is still in DAD.
no_tentative6() { [ -z "$(ip -6 -o addr show tentative)" ]; }

# lab_ipv6_record : record the IPv6 state the test must find again after
# every down (LAB6_SYSCTLS, LAB6_STATE, LAB_UP0_FORCE_FWD6), once the kernel's
# own link-local addresses are out of DAD (a flag that would differ later).
lab_ipv6_record() {
	WAIT_TRIES=500 wait_for no_tentative6 || fail "lab: addresses still tentative after 5 s: $(ip -6 -o addr show tentative)"
	LAB6_SYSCTLS=$(ipv6_sysctls)
	LAB6_STATE=$(ipv6_host_state)
	LAB_UP0_FORCE_FWD6=$(cat /proc/sys/net/ipv6/conf/up0/force_forwarding)
}

# lab_ipv6_ready : inet answers ping over IPv6; then lab_ipv6_record.
lab_ipv6_ready() {
	WAIT_TRIES=500 wait_for ping -6 -c1 -W1 -q "$INET6_ADDR" ||
		fail "lab: inet does not answer ping -6 $INET6_ADDR: $(ip -6 addr; ip -6 route)"
	lab_ipv6_record
}

# lab_ipv6 : the dual-stack lab: up0 2001:db8:1::1/64, inet0 2001:db8:1::2/64,
# the lab host's IPv6 default route via 2001:db8:1::2.
lab_ipv6() {
	need_tools python3
	lab_ipv6_addrs
	must ip -6 route add default via "$INET6_ADDR" dev up0
	lab_ipv6_ready
	note "lab: dual stack, host $UPLINK6_ADDR <-> inet $INET6_ADDR, default route via $INET6_ADDR"
}

# ra_default_route : the lab host's IPv6 default route learned from a router
# advertisement on up0 (empty when there is none).
ra_default_route() { ip -6 route show default proto ra dev up0 2>/dev/null; }
has_ra_default_route() { [ -n "$(ra_default_route)" ]; }

# start_radvd_in NS NAME CONF_TEXT : radvd in netns NS with that
# configuration, its files /run/lab/radvd-NAME.{conf,pid,log}. Pid in
# $LAST_RADVD_PID.
start_radvd_in() {
	local ns=$1 name=$2 conf=$LAB_TMP/radvd-$2.conf
	need_tools radvd
	printf '%s\n' "$3" >"$conf"
	radvd --configtest -C "$conf" >"$LAB_TMP/radvd-$name.log" 2>&1 ||
		fail "radvd rejects $conf: $(cat "$LAB_TMP/radvd-$name.log")"
	in_ns "$ns" radvd --nodaemon -C "$conf" -p "$LAB_TMP/radvd-$name.pid" -m stderr -d 1 \
		>>"$LAB_TMP/radvd-$name.log" 2>&1 &
	LAST_RADVD_PID=$!
}

# lab_ipv6_ra : the dual-stack lab with the lab host's default route learned
# from radvd in inet (lifetime RA_LIFETIME s, an advertisement every 3 to
# RA_MAX_INTERVAL s), up0 accepting router advertisements (accept_ra=1).
lab_ipv6_ra() {
	need_tools python3 radvd
	must sysctl -qw net.ipv6.conf.up0.accept_ra=1
	lab_ipv6_addrs
	# inet is the router: radvd wants forwarding on where it advertises.
	must ip netns exec inet sysctl -qw net.ipv6.conf.all.forwarding=1
	start_radvd_in inet inet "interface inet0 {
	AdvSendAdvert on;
	MinRtrAdvInterval 3;
	MaxRtrAdvInterval $RA_MAX_INTERVAL;
	AdvDefaultLifetime $RA_LIFETIME;
};"
	LAB_RADVD_PID=$LAST_RADVD_PID
	# The first advertisement waits for inet0's link-local address (DAD, ~1 s).
	WAIT_TRIES=1500 wait_for has_ra_default_route ||
		fail "lab: no proto ra default route on the lab host after 15 s: $(ip -6 route; cat "$LAB_TMP/radvd-inet.log")"
	lab_ipv6_ready
	note "lab: dual stack, host $UPLINK6_ADDR <-> inet $INET6_ADDR, default route from radvd: $(ra_default_route)"
}

# assert_ipv6_as_found WHAT : the lab host's IPv6 addresses, routes and
# sysctls are those lab_ipv6_ready recorded.
assert_ipv6_as_found() {
	local now
	now=$(ipv6_sysctls)
	[ "$now" = "$LAB6_SYSCTLS" ] || fail "$1: net.ipv6 sysctls differ from the lab's start:
$(diff <(printf '%s\n' "$LAB6_SYSCTLS") <(printf '%s\n' "$now") | sed 's/^/    /')"
	now=$(ipv6_host_state)
	[ "$now" = "$LAB6_STATE" ] || fail "$1: IPv6 addresses or routes differ from the lab's start:
$(diff <(printf '%s\n' "$LAB6_STATE") <(printf '%s\n' "$now") | sed 's/^/    /')"
}

# assert_no_residue6 NAME... : assert_no_residue, and the lab host's IPv6
# state as lab_ipv6_ready found it (up0's force_forwarding included).
assert_no_residue6() {
	assert_no_residue "$@"
	assert_ipv6_as_found "after down"
}

# sysctl6 IFACE KEY : /proc/sys/net/ipv6/conf/IFACE/KEY.
sysctl6() { cat "/proc/sys/net/ipv6/conf/$1/$2"; }

# expect_sysctl6 IFACE KEY WANT WHAT : net.ipv6.conf.IFACE.KEY is WANT.
expect_sysctl6() {
	local got
	got=$(sysctl6 "$1" "$2" 2>&1)
	[ "$got" = "$3" ] || fail "$4: net.ipv6.conf.$1.$2 is '$got', expected $3"
}

# listening6_in NS PROTO PORT : something in NS listens on PROTO port PORT over IPv6.
listening6_in() {
	local ns=$1 proto=$2 port=$3
	case $proto in
	tcp) [ -n "$(in_ns "$ns" ss -6 -Hltn "sport = :$port")" ] ;;
	udp) [ -n "$(in_ns "$ns" ss -6 -Hlun "sport = :$port")" ] ;;
	sctp) [ -n "$(in_ns "$ns" ss -6 -Hln --sctp "sport = :$port" 2>/dev/null)" ] ||
		in_ns "$ns" awk -v p="$port" 'NR > 1 && $6 == p { f = 1 } END { exit !f }' /proc/net/sctp/eps 2>/dev/null ;;
	*) return 1 ;;
	esac
}

# start_server6_in NS PORT [ADDR] : start_server_in over IPv6 (ADDR :: by
# default, IPv6 only). Returns once it listens.
start_server6_in() {
	local ns=$1 port=$2 addr=${3:-::}
	ip netns exec "$ns" socat -T5 "TCP6-LISTEN:$port,bind=[$addr],ipv6only=1,reuseaddr,fork" \
		SYSTEM:'echo $SOCAT_PEERADDR' >"$LAB_TMP/server6-$ns-$port.log" 2>&1 &
	wait_for listening6_in "$ns" tcp "$port" ||
		fail "IPv6 server in $ns on port $port did not start: $(cat "$LAB_TMP/server6-$ns-$port.log")"
}

# peer_seen6 ADDR PORT PREFIX... : peer_seen to [ADDR]:PORT, the answer normalized.
peer_seen6() {
	local addr=$1 port=$2 out rc
	shift 2
	out=$("$@" timeout -k 1 10 socat -T5 -u "TCP6:[$addr]:$port,connect-timeout=3" STDOUT </dev/null)
	rc=$?
	norm6 <<<"$out"
	return "$rc"
}

# expect_internet6 PREFIX... : through PREFIX, the IPv6 echo server in inet
# is reached and sees the lab host's uplink address (NAT66).
expect_internet6() {
	local seen
	seen=$(peer_seen6 "$INET6_ADDR" "$SERVER6_PORT" "$@" 2>"$LAB_TMP/peer6.err")
	[ "$seen" = "$UPLINK6_ADDR" ] ||
		fail "via '$*': inet saw '$seen' over IPv6, expected $UPLINK6_ADDR (NAT66): $(cat "$LAB_TMP/peer6.err")"
}

# expect_no_internet6 PREFIX... : through PREFIX, inet's IPv6 echo server is not reached.
expect_no_internet6() {
	local seen
	seen=$(peer_seen6 "$INET6_ADDR" "$SERVER6_PORT" "$@" 2>/dev/null)
	[ -z "$seen" ] || fail "via '$*': inet's IPv6 server was reached (saw '$seen')"
}

# start_tagged_server6_in NS PROTO PORT TAG [BIND] : start_tagged_server_in
# over IPv6 (BIND :: by default, IPv6 only, so an IPv4 server may share the
# port). Pid in $LAST_SERVER_PID.
start_tagged_server6_in() {
	local ns=$1 proto=$2 port=$3 tag=$4 bind=${5:-::} listen log
	case $proto in
	tcp) listen="TCP6-LISTEN:$port,bind=[$bind],ipv6only=1,reuseaddr,fork" ;;
	udp) listen="UDP6-RECVFROM:$port,bind=[$bind],ipv6only=1,fork" ;;
	sctp) listen="SCTP6-LISTEN:$port,bind=[$bind],ipv6only=1,reuseaddr,fork" ;;
	*) fail "start_tagged_server6_in: unknown protocol $proto" ;;
	esac
	log="$LAB_TMP/tserver6-$ns-$proto-$port.log"
	if [ "$proto" = udp ]; then
		in_ns "$ns" socat -T5 "$listen" SYSTEM:"read -r line; echo $tag \$SOCAT_PEERADDR" >"$log" 2>&1 &
	else
		in_ns "$ns" socat -T5 "$listen" SYSTEM:"echo $tag \$SOCAT_PEERADDR" >"$log" 2>&1 &
	fi
	LAST_SERVER_PID=$!
	wait_for listening6_in "$ns" "$proto" "$port" ||
		fail "IPv6 $proto server in $ns on port $port did not start: $(cat "$log")"
}

# ask6 PROTO ADDR PORT PREFIX... : ask over IPv6 to [ADDR]:PORT; the answer
# normalized (norm6). $ASK_OPTS as for ask.
ask6() {
	local proto=$1 addr=$2 port=$3 out rc
	shift 3
	case $proto in
	tcp) out=$("$@" timeout -k 1 8 socat -T3 -u "TCP6:[$addr]:$port,connect-timeout=2${ASK_OPTS:-}" STDOUT </dev/null) ;;
	sctp) out=$("$@" timeout -k 1 8 socat -T3 -u "SCTP6:[$addr]:$port,connect-timeout=2${ASK_OPTS:-}" STDOUT </dev/null) ;;
	udp) out=$(echo ping | "$@" timeout -k 1 8 socat -T2 -t1 - "UDP6:[$addr]:$port${ASK_OPTS:-}") ;;
	*) fail "ask6: unknown protocol $proto" ;;
	esac
	rc=$?
	[ -z "$out" ] || norm6 <<<"$out"
	return "$rc"
}

# expect_answer6 PROTO ADDR PORT WANT PREFIX... : the IPv6 answer is exactly WANT.
expect_answer6() {
	local proto=$1 addr=$2 port=$3 want=$4 got
	shift 4
	got=$(ask6 "$proto" "$addr" "$port" "$@" 2>"$LAB_TMP/ask6.err")
	[ "$got" = "$want" ] ||
		fail "$proto to [$addr]:$port via '${*:-lab host}'${ASK_OPTS:+ ($ASK_OPTS)}: answer '$got', expected '$want' $(head -c 300 "$LAB_TMP/ask6.err")"
}

# expect_no_answer6 PROTO ADDR PORT PREFIX... : nothing answers over IPv6.
expect_no_answer6() {
	local proto=$1 addr=$2 port=$3 got
	shift 3
	got=$(ask6 "$proto" "$addr" "$port" "$@" 2>/dev/null)
	[ -z "$got" ] ||
		fail "$proto to [$addr]:$port via '${*:-lab host}'${ASK_OPTS:+ ($ASK_OPTS)} must not be answered; answer: '$got'"
}

# start_udp_log6_in NS PORT LOG : start_udp_log_in over IPv6.
start_udp_log6_in() {
	local ns=$1 port=$2 log=$3
	: >"$log"
	in_ns "$ns" socat -u "UDP6-RECV:$port,ipv6only=1,reuseaddr" "OPEN:$log,append" 2>>"$log.err" &
	wait_for listening6_in "$ns" udp "$port" || fail "IPv6 udp receiver in $ns on port $port did not start: $(cat "$log.err")"
}

# gw_addrs6 NAME : show NAME --json (into $GW_JSON, as gw_json) and its IPv6
# fields into $GW_IPV6 (true|false), $GW_SUBNET6, $GW_HOST6 and $GW_NS6
# ("null" for an IPv4-only gateway).
gw_addrs6() {
	gw_json "$1"
	GW_IPV6=$(gw_field "$1" ipv6)
	GW_SUBNET6=$(gw_field "$1" subnet6)
	GW_HOST6=$(gw_field "$1" host_addr6)
	GW_NS6=$(gw_field "$1" ns_addr6)
}

# addrs6_of PREFIX... IFACE : the IPv6 addresses/len on IFACE through the
# command prefix (e.g. "ip netns exec web"), one a line, sorted.
addrs6_of() {
	local ifc=${*: -1}
	"${@:1:$#-1}" ip -6 -o addr show dev "$ifc" | awk '{ print $4 }' | LC_ALL=C sort
}

# assert_gw_dual NAME [SUBNET6] : gateway NAME is dual-stack as the contract
# says: show --json (ipv6 true, subnet6 a ULA /64 or SUBNET6, host ::1 and
# namespace ::2 of it), the host side (PREFIX::1/64 and fe80::1/64 only,
# accept_ra 0, force_forwarding 1), the namespace side (PREFIX::2/64 and
# fe80::2/64 only, default route via PREFIX::1). Leaves gw_addrs6's variables.
assert_gw_dual() {
	local name=$1 want=${2:-} ifn got exp
	gw_addrs6 "$name"
	ifn=$(gw_field "$name" host_ifname)
	[ "$GW_IPV6" = true ] || fail "show $name --json: ipv6 is '$GW_IPV6', expected true: $GW_JSON"
	if [ -n "$want" ]; then
		[ "$GW_SUBNET6" = "$want" ] || fail "show $name --json: subnet6 is '$GW_SUBNET6', expected $want"
	else
		ip6_is_ula64 "$GW_SUBNET6" || fail "show $name --json: subnet6 '$GW_SUBNET6' is not a /64 in fd00::/8"
	fi
	[ "$GW_HOST6" = "$(ip6_net_addr "$GW_SUBNET6" 1)" ] ||
		fail "show $name --json: host_addr6 is '$GW_HOST6', expected ::1 of $GW_SUBNET6"
	[ "$GW_NS6" = "$(ip6_net_addr "$GW_SUBNET6" 2)" ] ||
		fail "show $name --json: ns_addr6 is '$GW_NS6', expected ::2 of $GW_SUBNET6"
	assert_json "$GW_JSON" '.nftables.source6 == true' "show $name --json: nftables.source6"
	got=$(addrs6_of "$ifn")
	exp=$(printf '%s\n' "$GW_HOST6/64" fe80::1/64 | LC_ALL=C sort)
	[ "$got" = "$exp" ] || fail "host side $ifn has IPv6 addresses '$(echo $got)', expected '$(echo $exp)'"
	expect_sysctl6 "$ifn" accept_ra 0 "$name's host side"
	expect_sysctl6 "$ifn" force_forwarding 1 "$name's host side"
	expect_sysctl6 "$ifn" disable_ipv6 0 "$name's host side"
	got=$(addrs6_of ip netns exec "$name" eth0)
	exp=$(printf '%s\n' "$GW_NS6/64" fe80::2/64 | LC_ALL=C sort)
	[ "$got" = "$exp" ] || fail "$name's eth0 has IPv6 addresses '$(echo $got)', expected '$(echo $exp)'"
	got=$(ip -n "$name" -6 route show default)
	case $got in
	"default via $GW_HOST6 dev eth0"*) ;;
	*) fail "$name's IPv6 default route is '$got', expected 'default via $GW_HOST6 dev eth0'" ;;
	esac
}

# assert_gw_v4only NAME : gateway NAME is IPv4 only: show --json says so, the
# host side has IPv6 disabled (no address, no route), the namespace has no
# global IPv6 address and no IPv6 default route.
assert_gw_v4only() {
	local name=$1 ifn
	gw_addrs6 "$name"
	ifn=$(gw_field "$name" host_ifname)
	assert_json "$GW_JSON" '.ipv6 == false and .subnet6 == null and .host_addr6 == null and .ns_addr6 == null' \
		"show $name --json: IPv4 only"
	expect_sysctl6 "$ifn" disable_ipv6 1 "$name (IPv4 only)'s host side"
	[ -z "$(ip -6 -o addr show dev "$ifn")" ] || fail "$name (IPv4 only): $ifn has IPv6 addresses: $(ip -6 -o addr show dev "$ifn")"
	[ -z "$(ip -6 route show table all dev "$ifn" 2>/dev/null)" ] ||
		fail "$name (IPv4 only): IPv6 routes on $ifn: $(ip -6 route show table all dev "$ifn")"
	[ -z "$(ip -n "$name" -6 -o addr show scope global)" ] ||
		fail "$name (IPv4 only): global IPv6 addresses in the namespace: $(ip -n "$name" -6 -o addr show scope global)"
	[ -z "$(ip -n "$name" -6 route show default)" ] ||
		fail "$name (IPv4 only): IPv6 default route in the namespace: $(ip -n "$name" -6 route show default)"
}

# send_icmp6 TYPE CODE BODY_HEX DST IFACE : one ICMPv6 message (hop limit
# 255, as neighbour discovery requires; the kernel fills in the checksum),
# from the link-local address of IFACE to DST (link-local or multicast, on
# IFACE). Run it in the sender's namespace (e.g. prefixed with ip netns exec).
send_icmp6() {
	python3 - "$@" <<-'PY'
		import socket, struct, sys
		typ, code, body, dst, ifname = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3]), sys.argv[4], sys.argv[5]
		s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
		s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
		s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
		idx = socket.if_nametoindex(ifname)
		s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
		for _ in range(3):
		    s.sendto(struct.pack("!BBH", typ, code, 0) + body, (dst, 0, 0, idx))
	PY
}
