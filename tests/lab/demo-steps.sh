# shellcheck shell=bash
# Sourced by lab.sh inside its hermetic lab (see tests/demo.sh; lab.test-demo
# runs it in the suite): the lab host (uplink up0 198.51.100.1) and an
# "internet" namespace inet (198.51.100.2) running a server that greets every
# connection with the address it sees.
#
# Every step shows its command and output, and then checks that the output
# says what the demo claims: a demo that prints nothing where it should show
# the internet fails here, naming the step.
set -e

# step CMD... : show CMD, run it, show its output; it is kept in $OUT for the
# checks after the step. A command that fails ends the demo.
step() {
	STEP="$*"
	printf '\n\033[1m$ %s\033[0m\n' "$STEP"
	OUT=$("$@" 2>&1 </dev/null) || { local rc=$?; printf '%s\n' "$OUT"; demo_fail "exited $rc"; }
	[ -z "$OUT" ] || printf '%s\n' "$OUT"
}
# shows TEXT : the last step's output has a line that is exactly TEXT.
shows() { grep -qxF -- "$1" <<<"$OUT" || demo_fail "expected a line '$1'${OUT:- but it printed nothing}"; }
# shows_re ERE : the last step's output has a line matching ERE.
shows_re() { grep -qE -- "$1" <<<"$OUT" || demo_fail "expected a line matching '$1'"; }
demo_fail() { fail "demo step '$STEP': $*"; }

# greet NS PORT WHO : a server in NS that greets each client, naming the
# address it sees and WHO. No comma in socat's SYSTEM command: socat splits
# its address options at commas, and takes the text after one for an
# (unknown) option.
greet() {
	ip netns exec "$1" socat -T5 "TCP-LISTEN:$2,reuseaddr,fork" \
		SYSTEM:"echo hello \$SOCAT_PEERADDR - this is $3" >"$LAB_TMP/greet-$1.log" 2>&1 &
	GREET_PID=$!
	wait_for server_listening "$1" "$2" || fail "demo: the server in $1 did not start: $(cat "$LAB_TMP/greet-$1.log")"
}
greet inet 80 "the internet"

step "$NSGATE" up web --publish 8080:80
shows_re '^web: up 10\.200\.[0-9]+\.[0-9]+/30, namespace /run/netns/web via nsg-web '
step "$NSGATE" list
shows_re '^web +up +10\.200\.'
step "$NSGATE" show web
shows "gateway web: up"
shows_re '^  published +8080:80/tcp -> 10\.200\.'
shows_re '^  dns +/etc/netns/web/resolv\.conf: 198\.51\.100\.2$'

printf '\n# web reaches the internet, which sees the host'"'"'s address (masquerade):'
step "$NSGATE" exec web -- socat -T5 -u TCP:198.51.100.2:80,connect-timeout=5 -
shows "hello 198.51.100.1 - this is the internet"
step "$NSGATE" exec web -- cat /etc/resolv.conf
shows "nameserver 198.51.100.2"

printf '\n# the internet reaches web'"'"'s port 80 on the host'"'"'s port 8080; web sees the real client:'
greet web 80 web
step ip netns exec inet socat -T5 -u TCP:198.51.100.1:8080,connect-timeout=5 -
shows "hello 198.51.100.2 - this is web"

step nft list table inet nsgate
shows_re '"nsg-web" comment "web"'
shows_re 'tcp \. 8080 comment "web" : 10\.200\.[0-9.]+ \. 80'
kill "$GREET_PID"   # web's server, before down
wait "$GREET_PID" 2>/dev/null || true
step "$NSGATE" down web
STEP="after down"
(assert_no_residue web) || demo_fail "something was left behind"
printf '\nAfter down: no link, no table, no namespace, no files left. Demo done.\n'
