# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by lab.sh inside the lab (see bench/peers.sh).
#
# End-to-end set-up latency, one namespace with internet access and one
# published TCP port, for nsgate and the tools users would pick instead. The
# other tools run through the peer scripts of the shared peer harness
# ($PEERS_DIR/NAME.sh up|down NS IDX HOSTPORT NSPORT: one bash start each,
# like nsgate's own row there); "nsgate-bin" runs the binary with the same
# arguments and no shell. Per round and row (rows rotate every round):
#   up_us     wall time of the up command
#   e2e_us    from the start of up until `reach` got one connection in through
#             the published port (inet -> 198.51.100.1:HP -> NS:NSPORT) and one
#             out to inet (NS -> 198.51.100.2:8080); reach retries every 1 ms
#   probe_us  reach once more, on the ready namespace: the probe's own cost
#   down_us   wall time of the down command
# plus "true" (fork+exec of /bin/true) and "null" (the peer harness's do-nothing
# script: one bash start). Only one row's namespace exists at a time.
. "$BENCH_DIR/common-steps.sh"
need_tools ip nft ss timeout
PEERS_DIR=${PEERS_DIR:-/work/shared/peers/peers}
ROWS=${PEER_ROWS:-nsgate-bin nsgate nft iptables cni netavark pasta slirp4netns}
ROUNDS=${ROUNDS:-10}
NSP=8081
export PATH=/usr/lib/podman:$PATH   # netavark
mkdir -p /run/bench
start_inet_echo

# row_cmd ROW ACTION IDX: the row's up or down command.
row_cmd() {
	local row=$1 act=$2 idx=$3 ns=e$3 hp=$((23000 + $3)) net
	case $row in
	true) /bin/true ;;
	nsgate-bin)
		if [ "$act" = up ]; then
			net=198.18.$((idx * 4 / 256)).$((idx * 4 % 256))
			"$NSGATE" up "$ns" --subnet "$net/30" --uplink up0 --publish "$hp:$NSP"
		else
			"$NSGATE" down "$ns"
		fi ;;
	*) bash "$PEERS_DIR/$row.sh" "$act" "$ns" "$idx" "$hp" "$NSP" ;;
	esac
}
probe() { # probe IDX -> reach's output line
	"$BIN/reach" -T 5000 "/run/netns/e$1" $NSP "$UPLINK_ADDR" $((23000 + $1)) "$INET_ADDR" $INET_ECHO_PORT
}

declare -A IDX=()
i=0
all_rows="true null $ROWS"
for row in $all_rows; do
	i=$((i + 1)); IDX[$row]=$i
	case $row in
	true | nsgate-bin) ;;
	*) [ -r "$PEERS_DIR/$row.sh" ] || fail "peer script $PEERS_DIR/$row.sh is missing (PEERS_DIR)"
	   bash "$PEERS_DIR/$row.sh" prepare ;;
	esac
done
# Warm-up and functional check: one cycle per row, not timed.
for row in $ROWS; do
	idx=${IDX[$row]}
	if ! row_cmd "$row" up "$idx" >/dev/null 2>"$LAB_TMP/err"; then
		rec peers_e2e "$row" check 0 "FAIL-up:$(head -c 200 "$LAB_TMP/err" | tr '\t\n' '  ')"; continue
	fi
	out=$(probe "$idx") && rec peers_e2e "$row" check 0 ok || rec peers_e2e "$row" check 0 "FAIL:$out"
	row_cmd "$row" down "$idx" >/dev/null 2>&1 || rec peers_e2e "$row" check 0 FAIL-down
	echo "  peers: warm-up $row: $out" >&2
done

for round in $(seq "$ROUNDS"); do
	for row in $(rotate "$round" $all_rows); do
		idx=${IDX[$row]}
		t0=$EPOCHREALTIME
		if ! row_cmd "$row" up "$idx" >/dev/null 2>&1; then
			rec peers_e2e "$row" up_us "$round" FAIL; row_cmd "$row" down "$idx" >/dev/null 2>&1; continue
		fi
		us_since "$t0"; up=$US
		rec peers_e2e "$row" up_us "$round" "$up"
		if [ "$row" != true ] && [ "$row" != null ]; then
			if out=$(probe "$idx"); then
				us_since "$t0"; rec peers_e2e "$row" e2e_us "$round" "$US"
				timed p probe "$idx" && rec peers_e2e "$row" probe_us "$round" "$p"
			else
				rec peers_e2e "$row" e2e_us "$round" FAIL
				echo "  peers: round $round $row: probe failed: $out" >&2
			fi
		fi
		timed d row_cmd "$row" down "$idx" 2>/dev/null && rec peers_e2e "$row" down_us "$round" "$d" ||
			rec peers_e2e "$row" down_us "$round" FAIL
	done
	echo "  peers: round $round/$ROUNDS done" >&2
done
for row in $ROWS; do
	case $row in nsgate-bin) ;; *) bash "$PEERS_DIR/$row.sh" cleanup ;; esac
done
