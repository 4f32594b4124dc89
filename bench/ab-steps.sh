# shellcheck shell=bash
# Sourced by lab.sh inside the lab (see bench/ab.sh).
set -e
us() { echo "${EPOCHREALTIME/./}"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# time_cmd FILE CMD...: append CMD's wall time in microseconds to FILE.
time_cmd() {
	local f=$1 t0 t1
	shift
	t0=$(us); "$@" >/dev/null; t1=$(us)
	echo $((t1 - t0)) >>"$f"
}
d=/run/lab/ab
mkdir -p "$d"
# AB_SETUP: shell commands that make the lab host look like a real one first
# (Docker's iptables layout, say); AB_OPS: the operations to time.
eval "${AB_SETUP:-}"
ops=${AB_OPS:-up down publish unpublish list}
has_op() { case " $ops " in *" $1 "*) return 0 ;; esac; return 1; }
"$NSGATE_A" up warm >/dev/null
"$NSGATE_A" up svc >/dev/null
# A B B A in every round: each build runs once in either position, so what
# the position costs (the previous command's deferred kernel work) falls on
# both alike.
for i in $(seq "$ROUNDS"); do
	for x in A B B A; do
		bin=NSGATE_$x
		time_cmd "$d/up.$x" "${!bin}" up g
		time_cmd "$d/down.$x" "${!bin}" down g
		has_op publish || continue
		time_cmd "$d/publish.$x" "${!bin}" publish svc 10000-19999:10000-19999
		time_cmd "$d/unpublish.$x" "${!bin}" unpublish svc 10000-19999:10000-19999
	done
done
has_op list && for n in $(seq 100); do "$NSGATE_A" up "l$n" >/dev/null; done
has_op list && for i in $(seq "$ROUNDS"); do
	for x in A B B A; do
		bin=NSGATE_$x
		time_cmd "$d/list.$x" "${!bin}" list
	done
done
"$NSGATE_A" down --all >/dev/null
printf '%-36s %10s %10s %8s\n' "operation ($ROUNDS rounds ABBA, median)" "A ms" "B ms" "B/A"
for op in $ops; do
	a=$(median <"$d/$op.A"); b=$(median <"$d/$op.B")
	case $op in
	up) what="up (another gateway exists)" ;;
	down) what="down (right after its up)" ;;
	publish) what="publish 10,000 ports (one range)" ;;
	unpublish) what="unpublish 10,000 ports" ;;
	list) what="list of 100 gateways" ;;
	esac
	awk -v w="$what" -v a="$a" -v b="$b" 'BEGIN { printf "%-36s %10.2f %10.2f %8.2f\n", w, a / 1000, b / 1000, b / a }'
done
