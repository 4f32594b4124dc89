# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Helpers for the tests of hosts with other firewalls (test-firewall-*.sh),
# sourced after lib.sh: a DNS server on the lab host's own address (a
# gateway's queries to it cross INPUT, not FORWARD), and a real ufw.
#
# ufw keeps its configuration in /etc/ufw and /etc/default/ufw and its lock
# and init scripts in /lib/ufw: the lab gets private copies of all three on
# its tmpfs, bind-mounted over them in the lab's own mount namespace, so
# nothing ufw writes reaches the machine's files. Its rules go into the
# lab's network namespace (iptables-nft, Debian's default iptables).

if [ "${LAB_READY:-}" != yes ] || [ "${NSGATE_IN_LAB:-}" != 1 ]; then
	echo "FAIL: firewall.sh is only for use inside lab.sh's lab" >&2
	exit 1
fi

UFW_COPY=$LAB_TMP/ufw
HOST_DNS_LOG=$LAB_TMP/dnsmasq-host.log

# start_host_dns : dnsmasq on the uplink address $UPLINK_ADDR, answering
# example.test with 203.0.113.7, on udp and tcp port 53.
start_host_dns() {
	need_tools dnsmasq getent
	dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--address=/example.test/203.0.113.7 --listen-address="$UPLINK_ADDR" \
		--bind-interfaces --port 53 --user=root --pid-file="$LAB_TMP/dnsmasq-host.pid" \
		--log-facility=- >"$HOST_DNS_LOG" 2>&1 &
	wait_for host_dns_listening || fail "dnsmasq on $UPLINK_ADDR did not start: $(cat "$HOST_DNS_LOG")"
}
host_dns_listening() { ss -Hlun "sport = :53" | grep -qF "$UPLINK_ADDR"; }

# host_dns_works NAME : from gateway NAME, the server on the host answers
# over udp (getent hosts) and takes a tcp connection on port 53.
host_dns_works() {
	expect_exit 0 run_in_gw "$1" timeout -k 1 8 getent hosts example.test
	[ "$(awk '{ print $1 }' <<<"$LAST_OUT")" = 203.0.113.7 ] ||
		fail "getent hosts example.test in $1 gave '$LAST_OUT', expected 203.0.113.7"
	expect_exit 0 run_in_gw "$1" timeout -k 1 8 socat -u OPEN:/dev/null \
		"TCP4:$UPLINK_ADDR:53,connect-timeout=3"
}

# ufw_private : bind private copies of ufw's files over the originals.
ufw_private() {
	local m
	need_tools ufw iptables iptables-save ip6tables-save mountpoint
	[ -d /etc/ufw ] && [ -f /etc/default/ufw ] && [ -d /lib/ufw ] ||
		fail "ufw's files (/etc/ufw, /etc/default/ufw, /lib/ufw) are missing: Debian package ufw"
	mkdir -p "$UFW_COPY" || fail "mkdir $UFW_COPY"
	cp -a /etc/ufw "$UFW_COPY/etc-ufw" && cp -a /etc/default/ufw "$UFW_COPY/default-ufw" &&
		cp -a /lib/ufw "$UFW_COPY/lib-ufw" || fail "cannot copy ufw's files into $UFW_COPY"
	must mount --bind "$UFW_COPY/etc-ufw" /etc/ufw
	must mount --bind "$UFW_COPY/default-ufw" /etc/default/ufw
	must mount --bind "$UFW_COPY/lib-ufw" /lib/ufw
	for m in /etc/ufw /etc/default/ufw /lib/ufw; do
		mountpoint -q "$m" || fail "$m is not the lab's private copy"
	done
}

# ufw_default KEY VALUE : KEY="VALUE" in the lab's /etc/default/ufw (written
# in place: a rename over a bind-mounted file fails).
ufw_default() {
	local f=/etc/default/ufw new
	new=$(sed -E "s|^$1=.*|$1=\"$2\"|" "$f") || fail "cannot read $f"
	grep -q "^$1=" "$f" || fail "$f has no $1"
	printf '%s\n' "$new" >"$f" || fail "cannot write $f"
}

# ipt_save : iptables-save (iptables-nft: every table, IPv4 and IPv6)
# without the Generated/Completed comments and with chain counters zeroed,
# to compare before and after.
ipt_save() {
	{ iptables-save; ip6tables-save; } | grep -v '^#' | sed -E 's/ \[[0-9]+:[0-9]+\]$/ [0:0]/'
}

# traffic_works NAME PORT : the namespace reaches inet (masqueraded), inet
# reaches the published port 198.51.100.1:PORT (a tagged server in NAME on 80).
traffic_works() {
	expect_internet run_in_gw "$1"
	expect_answer tcp "$UPLINK_ADDR" "$2" "$1 $INET_ADDR" ip netns exec inet
}

# traffic_dead NAME PORT : neither works (what a chain that drops does).
traffic_dead() {
	local seen
	seen=$(peer_seen "$INET_ADDR" "$SERVER_PORT" run_in_gw "$1" 2>/dev/null) &&
		fail "gateway $1 reached inet (saw '$seen') through a chain that drops"
	expect_no_answer tcp "$UPLINK_ADDR" "$2" ip netns exec inet
}

# show_firewall NAME : `show NAME --json`'s "firewall" object into $FW_JSON.
show_firewall() {
	gw_json "$1"
	FW_JSON=$(jq -c '.firewall' <<<"$GW_JSON")
}

# gc_blocked_then_fixed WHAT : gateway web's show counts FORWARD as blocking
# (WHAT of nsgate's rules in DOCKER-USER is missing), gc puts the four back
# in order (expect_docker_user, the test's own) and FORWARD counts as opened.
gc_blocked_then_fixed() {
	show_firewall web
	assert_json "$FW_JSON" '.opened == [] and (.blocked | map(select(.chain == "FORWARD"))
		| length == 1)' "show --json with $1: FORWARD blocking"
	expect_exit 0 nsg gc
	expect_docker_user "gc after $1"
	show_firewall web
	assert_json "$FW_JSON" '.blocked == []' "show --json after gc ($1): nothing blocks"
}

# expect_fw_warning NAME WHAT : up's stderr ($LAST_ERR) is the one warning
# that chain WHAT ("ip filter FORWARD (policy drop)") drops gateway NAME's
# traffic, with a fix; the fix is left in $FW_FIX.
expect_fw_warning() {
	[ "$(grep -c '' <<<"$LAST_ERR")" = 1 ] || fail "up: expected one warning line, got: $LAST_ERR"
	case $LAST_ERR in
	"nsgate: warning: gateway \"$1\": $2 drops its traffic: fix: "?*) ;;
	*) fail "up: expected the warning that $2 drops gateway $1's traffic, got: $LAST_ERR" ;;
	esac
	FW_FIX=${LAST_ERR#*: fix: }
}
