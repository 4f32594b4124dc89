#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/run-all.sh: the whole benchmark suite in one run, then its report.
#
#   bench/run-all.sh [BUILD_DIR]           full run, ~30 min on 2 vCPUs -> bench/results/full/
#   QUICK=1 bench/run-all.sh [BUILD_DIR]   smoke run, < 5 min             -> bench/results/quick/
#
# Every experiment runs in a hermetic lab (own network, mount and PID
# namespaces; see tests/lab/lab.sh and the peer harness's lib.sh): nothing is
# configured in the machine's network namespace and packets only go to the
# lab's own addresses. Each step is bounded by `timeout`.
#
# Steps (the peer tools run through the shared peer harness, PEERS_HARNESS,
# default /work/shared/peers, which brings its own labs):
#   latency   bench/latency.sh: nsgate up/down vs fork+exec and the kernel's veth floor; memory
#   peers     bench/peers.sh: up until connected, and down, nsgate vs 7 peers, interleaved
#   C         harness c-setup-latency.sh (nsgate as one more row)
#   scale     bench/scale.sh: N = 10, 100, 1,000 gateways; down --all, one by one, gc
#   D         harness d-scale-setup.sh: nft / iptables / CNI / nsgate at N = 10, 100; nsgate at 1,000
#   ptime     bench/publish-time.sh: 10,000 ports in one command, single-port commands
#   ports     bench/ports.sh: 10,000 ports one per command, nsgate vs iptables vs nft
#   rules     bench/rules.sh: connection latency / throughput with 1 ... 100,000 ports
#   A, B      harness a-/b-throughput: iperf3 out and in, nsgate vs plain vs pasta vs slirp4netns
# then bench/report.py (markdown tables), bench/plot.gp (PNG curves) and, for
# the full run, bench/splice-report.py (the report into bench/README.md).
# STEPS="latency peers ..." runs a subset (the report covers what is there).
# Needs root and the Debian packages of bench/README.md.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$BENCH_DIR/.." && pwd)
BUILD=$(readlink -f "${1:-$TOP/build}")
HARNESS=${PEERS_HARNESS:-/work/shared/peers}
QUICK=${QUICK:-0}
MODE=full
[ "$QUICK" = 1 ] && MODE=quick
R=${RESULTS:-$BENCH_DIR/results/$MODE}
WORK=/tmp/nsgate-bench/$MODE
LOG=$WORK/log.txt
[ "$(id -u)" = 0 ] || { echo "run-all: must run as root (labs are namespaces)" >&2; exit 1; }
for t in gnuplot python3 iperf3 conntrack jq /usr/bin/time iptables-nft; do
	command -v "$t" >/dev/null || { echo "run-all: $t missing (see bench/README.md: requirements)" >&2; exit 1; }
done

# A snapshot of the binaries: a rebuild during the run changes nothing.
rm -rf "$WORK"
mkdir -p "$WORK/build/bench" "$WORK/bin" "$R"
rm -f "$R"/*.tsv "$R"/*.md "$R"/*.txt "$R"/*.dat
rm -rf "$R/shared"
for f in nsgate bench/connlat bench/veth-floor; do
	cp "$BUILD/$f" "$WORK/build/$f" || { echo "run-all: no $BUILD/$f: cmake -S $TOP -B $BUILD && make -C $BUILD" >&2; exit 1; }
done
SRC_BUILD=$BUILD
BUILD=$WORK/build
export NSGATE=$BUILD/nsgate BIN=$WORK/bin RESULTS=$R
. "$BENCH_DIR/common.sh"
bench_prepare "$BUILD"

if [ "$QUICK" = 1 ]; then
	LAT_ENV="ROUNDS=8 WATCH_IDLE=10 UPDOWN_CYCLES=10"
	PEERS_ENV="ROUNDS=3"
	C_ENV="PEERS_C='null nft nsgate' REPS_C=3"
	SCALE_ENV="SIZES='10 100'"
	D_RUNS=("PEERS_D='nft nsgate' D_NS=10")
	PT_ENV="ROUNDS=1 SINGLE=20 CMP=5"
	PORTS_ENV="K=300 SEQ_CAP=15"
	RULES_ENV="SIZES='1 10000 100000' ROUNDS=1 CONNS=300 IPERF_ROUNDS=1 IPERF_T=2"
	AB_ENV="PEERS_A='plain nsgate pasta' PEERS_B='plain nsgate pasta' PEERS_B_LOCAL='nsgate' REPS=1 IPERF_T=2"
else
	LAT_ENV="ROUNDS=30 WATCH_IDLE=60 UPDOWN_CYCLES=50"
	PEERS_ENV="ROUNDS=10"
	C_ENV="PEERS_C='null nft iptables cni netavark pasta slirp4netns nsgate' REPS_C=20"
	SCALE_ENV="SIZES='10 100 1000'"
	D_RUNS=("PEERS_D='nft iptables cni nsgate' D_NS='10 100'" "PEERS_D=nsgate D_NS=1000")
	PT_ENV="ROUNDS=5 SINGLE=200 CMP=50"
	PORTS_ENV="K=10000 SEQ_CAP=120"
	RULES_ENV="SIZES='1 1000 10000 100000' ROUNDS=7 CONNS=2000 IPERF_ROUNDS=3 IPERF_T=3"
	AB_ENV="PEERS_A='plain nft nsgate pasta slirp4netns' PEERS_B='plain nft nsgate pasta slirp4netns' PEERS_B_LOCAL='nsgate pasta' REPS=8 IPERF_T=4"
fi
STEPS=${STEPS:-latency peers C scale D ptime ports rules A B}

{
	echo "mode: $MODE"
	echo "started: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "nsgate: $("$NSGATE" version 2>&1 | head -1), commit $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)$(git -C "$TOP" diff --quiet HEAD -- src include 2>/dev/null || echo ' + uncommitted changes in src/ include/'), $(grep -m1 CMAKE_BUILD_TYPE: "$SRC_BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2)"
	echo "machine: $(nproc) vCPU, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME")"
	echo "kernel: $(uname -r)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "nf_conntrack_buckets: $(cat /proc/sys/net/netfilter/nf_conntrack_buckets 2>/dev/null || echo '(module not loaded yet)')"
	v() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
	echo "versions: iproute2 $(v iproute2), nftables $(v nftables), iptables $(v iptables), passt/pasta $(v passt), slirp4netns $(v slirp4netns), libslirp $(v libslirp0), containernetworking-plugins $(v containernetworking-plugins), netavark $(v netavark), iperf3 $(v iperf3), gnuplot $(v gnuplot-nox), libnftnl $(v libnftnl11), libmnl $(v libmnl0), libnl $(v libnl-route-3-200)"
	echo "settings: latency: $LAT_ENV; peers: $PEERS_ENV; C: $C_ENV; scale: $SCALE_ENV; D: ${D_RUNS[*]}; ptime: $PT_ENV; ports: $PORTS_ENV; rules: $RULES_ENV; A/B: $AB_ENV"
} >"$R/run-info.txt"

# step NAME SECONDS "ENV" CMD...: run one step, bounded, logged, timed.
step() {
	local name=$1 secs=$2 env=$3 t0=$EPOCHREALTIME rc
	shift 3
	case " $STEPS " in *" $name "*) ;; *) return 0 ;; esac
	echo "=== $name ($(date +%T))" | tee -a "$LOG" >&2
	eval "env $env timeout -k 10 $secs $(printf '%q ' "$@")" >>"$LOG" 2>&1
	rc=$?
	echo "step $name: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s, exit $rc" >>"$R/run-info.txt"
	[ "$rc" = 0 ] || echo "run-all: step $name exited $rc (see $LOG)" >&2
}
SH="RESULTS_DIR=$R/shared NSGATE=$NSGATE"
step latency 900 "$LAT_ENV" "$BENCH_DIR/latency.sh" "$BUILD"
step peers 900 "$PEERS_ENV" "$BENCH_DIR/peers.sh" "$BUILD"
step C 900 "$SH $C_ENV" bash "$HARNESS/c-setup-latency.sh"
step scale 1200 "$SCALE_ENV" "$BENCH_DIR/scale.sh" "$BUILD"
for d in "${D_RUNS[@]}"; do step D 1200 "$SH $d" bash "$HARNESS/d-scale-setup.sh"; done
step ptime 900 "$PT_ENV OUT=$R/publish-time.tsv" bash -c "'$BENCH_DIR/publish-time.sh' '$BUILD' >'$R/publish-time.md'"
step ports 1200 "$PORTS_ENV" "$BENCH_DIR/ports.sh" "$BUILD"
step rules 1800 "$RULES_ENV" "$BENCH_DIR/rules.sh" "$BUILD"
step A 900 "$SH $AB_ENV" bash "$HARNESS/a-throughput-out.sh"
step B 900 "$SH $AB_ENV" bash "$HARNESS/b-throughput-in.sh"
echo "finished: $(date -u '+%Y-%m-%d %H:%M:%S UTC')" >>"$R/run-info.txt"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$R/run-info.txt"

python3 "$BENCH_DIR/report.py" "$R" >"$R/report.md" || echo "run-all: report failed" >&2
# Only the full run into bench/results/full publishes: the plots next to it
# and the report pasted into bench/README.md. Other runs keep theirs in $R.
PNG_DIR=$R
if [ "$QUICK" != 1 ] && [ "$R" = "$BENCH_DIR/results/full" ]; then
	PNG_DIR=$BENCH_DIR/results
	python3 "$BENCH_DIR/splice-report.py" "$R/report.md" "$BENCH_DIR/README.md" ||
		echo "run-all: pasting the report into bench/README.md failed" >&2
fi
gnuplot -e "R='$R'; OUT='$PNG_DIR'; LABEL='bench/results/$MODE, $(date -u +%Y-%m-%d)'" "$BENCH_DIR/plot.gp" 2>>"$LOG" || echo "run-all: plot failed (see $LOG)" >&2
echo "run-all: report $R/report.md, plots $PNG_DIR/*.png, log $LOG" >&2
