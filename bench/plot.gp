# SPDX-License-Identifier: MIT
# bench/plot.gp: the scaling curves of one bench/run-all.sh run.
#   gnuplot -e "R='bench/results/full'; OUT='bench/results'" bench/plot.gp
# Reads R/plot-scale.dat, R/plot-dscale.dat, R/ports_curve.tsv, R/plot-rules.dat
# (written by bench/run-all.sh and bench/report.py); writes
#   OUT/setup-scaling.png   per-gateway up/down time vs gateways present; total set-up time vs N
#   OUT/ports-scaling.png   per-command publish/unpublish time vs ports present; connection p50 vs ports
if (!exists("R")) R = 'bench/results/full'
if (!exists("OUT")) OUT = 'bench/results'
if (!exists("LABEL")) LABEL = R
have(f) = system("[ -s '" . f . "' ] && echo 1 || echo 0") + 0

set terminal pngcairo size 1400,560 font "DejaVu Sans,11"
set grid
set key top left box opaque

# ------------------------------------------------------------------ set-up
set output OUT . '/setup-scaling.png'
set multiplot layout 1,2 title "nsgate set-up scaling (" . LABEL . ")"
if (have(R . '/plot-scale.dat')) {
	stats R . '/plot-scale.dat' u 1 nooutput
	NMAX = STATS_max
	set title "nsgate, one gateway after another (each: namespace, /30, 1 published port)"
	set xlabel "gateways present before the command"
	set ylabel "wall time of one command, ms"
	set logscale y
	set yrange [1:*]
	plot R . '/plot-scale.dat' u ($1 - 1):2 w p pt 7 ps 0.25 lc rgb "#a0c0ff" notitle, \
	     '' u ($1 - 1):5 w l lw 2 lc rgb "#0040c0" t "up (series A), running median of 25", \
	     '' u ($1 - 1):6 w l lw 2 lc rgb "#00a0a0" t "up (series B)", \
	     R . '/plot-scale.dat' u (NMAX - $1 + 1):4 w p pt 7 ps 0.25 lc rgb "#ffb0a0" notitle, \
	     '' u (NMAX - $1 + 1):7 w l lw 2 lc rgb "#c03000" t "down one by one (series B)"
	unset logscale y
	set yrange [*:*]
} else {
	set title "no plot-scale.dat"; unset key; plot 0 notitle; set key
}
if (have(R . '/plot-dscale.dat')) {
	names = system("cat '" . R . "/plot-dscale-names.txt'")
	set title "N namespaces set up one after another (shared harness, bash wrapper per command)"
	set xlabel "N"
	set ylabel "total set-up time, s"
	set logscale xy
	set xrange [5:2000]
	plot for [i = 1:words(names)] R . '/plot-dscale.dat' index (i - 1) u 1:2 w lp lw 2 pt 7 t word(names, i)
	unset logscale
	set xrange [*:*]
} else {
	set title "no plot-dscale.dat"; unset key; plot 0 notitle; set key
}
unset multiplot

# ------------------------------------------------------------------ ports
set output OUT . '/ports-scaling.png'
set multiplot layout 1,2 title "published ports (" . LABEL . ")"
C = R . '/ports_curve.tsv'
if (have(C)) {
	sel(l, op) = sprintf("< awk -v l=%s -v op=%s '$1 == l && $2 == op' '%s'", l, op, C)
	set title "one port per command: time of one command vs ports already there"
	set xlabel "ports (rules) present"
	set ylabel "wall time of one command, ms (median of a block)"
	set logscale y
	set yrange [1:200]
	plot sel("nsgate", "add") u 3:($4 / 1000) w lp lw 2 pt 7 lc rgb "#0040c0" t "nsgate publish P:P", \
	     sel("nsgate", "del") u 3:($4 / 1000) w lp lw 2 pt 6 lc rgb "#0040c0" dt 2 t "nsgate unpublish P:P", \
	     sel("ipt-nft", "add") u 3:($4 / 1000) w lp lw 2 pt 7 lc rgb "#c03000" t "iptables -A", \
	     sel("ipt-nft", "del") u 3:($4 / 1000) w lp lw 2 pt 6 lc rgb "#c03000" dt 2 t "iptables -D", \
	     sel("nft-rules", "add") u 3:($4 / 1000) w lp lw 2 pt 7 lc rgb "#008000" t "nft add rule", \
	     sel("nft-rules", "del") u 3:($4 / 1000) w lp lw 2 pt 6 lc rgb "#008000" dt 2 t "nft delete rule (by handle)"
	unset logscale y
	set yrange [*:*]
} else {
	set title "no ports_curve.tsv"; unset key; plot 0 notitle; set key
}
if (have(R . '/plot-rules.dat')) {
	layouts = system("cat '" . R . "/plot-rules-names.txt'")
	set title "new TCP connection through one published port (p50, median and range over rounds)"
	set xlabel "ports published in all"
	set ylabel "µs per connection"
	set logscale xy
	set xrange [0.7:150000]
	nl = words(layouts)
	plot for [i = 1:nl] R . '/plot-rules.dat' index (i - 1) u 1:2:3:4 w yerrorlines lw 2 pt 7 t word(layouts, i), \
	     R . '/plot-rules.dat' index nl u 1:2 w l lw 1 dt 3 lc rgb "black" t "direct (no DNAT)"
	unset logscale
} else {
	set title "no plot-rules.dat"; unset key; plot 0 notitle; set key
}
unset multiplot
