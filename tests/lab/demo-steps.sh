# shellcheck shell=bash
# Sourced by lab.sh inside its hermetic lab (see tests/demo.sh): the lab host
# (uplink up0 198.51.100.1) and an "internet" namespace inet (198.51.100.2)
# running a server that answers every connection with the address it sees.
set -e
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
ip netns exec inet socat -T5 TCP-LISTEN:80,reuseaddr,fork SYSTEM:'echo hello $SOCAT_PEERADDR, this is the internet' \
	>/dev/null 2>&1 &
for _ in $(seq 200); do ip netns exec inet ss -Hltn 'sport = :80' | grep -q . && break; sleep 0.01; done

step "$NSGATE" up web
step "$NSGATE" list
step "$NSGATE" show web
step "$NSGATE" exec web -- socat -T5 - TCP:198.51.100.2:80
step "$NSGATE" exec web -- cat /etc/resolv.conf
step nft list table inet nsgate
step "$NSGATE" down web
printf '\nAfter down: '
left=$(ip -o link | grep -c nsg- || true)
if [ "$left" = 0 ] && ! nft list table inet nsgate >/dev/null 2>&1 && [ ! -e /run/netns/web ] &&
	[ ! -e /run/nsgate/web.state ] && [ ! -e /etc/netns/web/resolv.conf ]; then
	echo "no link, no table, no namespace, no files left. Demo done."
else
	echo "something was left behind!" >&2
	exit 1
fi
