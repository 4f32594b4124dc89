# shellcheck shell=bash
# Sourced by lab.sh inside the lab (see bench/up-down.sh).
set -e
now_us() { local t; t=$(date +%s%N); echo $((t / 1000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$NSGATE" up warm >/dev/null       # the table exists from now on, as for any later gateway
: >/run/lab/up; : >/run/lab/down; : >/run/lab/true
for _ in $(seq "$RUNS"); do
	t0=$(now_us); "$NSGATE" up g >/dev/null; t1=$(now_us); "$NSGATE" down g; t2=$(now_us)
	/bin/true; t3=$(now_us)
	echo $((t1 - t0)) >>/run/lab/up; echo $((t2 - t1)) >>/run/lab/down; echo $((t3 - t2)) >>/run/lab/true
done
# down again, but 100 ms after its up: by then the kernel has finished the
# up's nftables transaction (its destroy work and RCU grace period), so down
# pays only for itself. Back to back, it waits for that work (commit_mutex).
: >/run/lab/down_gap
for _ in $(seq "$RUNS"); do
	"$NSGATE" up g >/dev/null; sleep 0.1
	t1=$(now_us); "$NSGATE" down g; t2=$(now_us)
	echo $((t2 - t1)) >>/run/lab/down_gap
done
rss=$( { /usr/bin/time -f %M "$NSGATE" up g >/dev/null; } 2>&1 | tail -1)
"$NSGATE" down g
echo "runs                      $RUNS"
echo "up_p50_us                 $(median </run/lab/up)"
echo "down_p50_us               $(median </run/lab/down)"
echo "down_isolated_p50_us      $(median </run/lab/down_gap)"
echo "fork_exec_true_p50_us     $(median </run/lab/true)"
"$VETH_FLOOR" "$RUNS" | sed 's/^create_us_p50/kernel_veth_create_p50_us/; s/^delete_us_p50/kernel_veth_delete_p50_us/'
# The floor that matches a gateway: the veth's peer in another namespace.
ip netns add floor
"$VETH_FLOOR" "$RUNS" /run/netns/floor | sed 's/^create_us_p50/kernel_veth_xns_create_p50_us/; s/^delete_us_p50/kernel_veth_xns_delete_p50_us/'
"$VETH_FLOOR" "$RUNS" /run/netns/floor up | sed -n 's/^delete_us_p50/kernel_veth_xns_up_delete_p50_us/p'
ip netns del floor
echo "up_peak_rss_kib           $rss"
"$NSGATE" down warm
