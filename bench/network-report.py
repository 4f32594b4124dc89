#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/network-report.py RESULTS_DIR: the Markdown report of bench/network.sh
from RESULTS_DIR/network.tsv (EXP ROW METRIC ROUND VALUE), with issue 14's
scale targets and whether they are met. Only reads files."""
import statistics
import sys

rows = {}
for line in open(f"{sys.argv[1]}/network.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) == 5:
        rows.setdefault((f[1], f[2]), {})[int(f[3])] = f[4]


def series(row, metric):
    v = rows.get((row, metric), {})
    return [float(v[k]) / 1000 for k in sorted(v)]


def one(row, metric):
    return next(iter(rows.get((row, metric), {}).values()), None)


def md(head, body):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] +
                     ["| " + " | ".join(str(c) for c in r) + " |" for r in body])


members = [r for (r, m) in rows if r.startswith("members/") and m == "up_us"]
if not members:
    sys.exit("network-report: no rows")
row = members[0]
n = row.split("/")[1]
targets, body = [], []
for metric, what in (("up_us", "`up --network`"), ("down_us", "`down`")):
    v = series(row, metric)
    if len(v) < 20:
        continue
    k = max(10, len(v) // 10)   # the first and last tenth (25 of 250)
    first, last = statistics.median(v[:k]), statistics.median(v[-k:])
    body.append([what, len(v), f"{statistics.median(v):.2f}", f"{first:.2f}", f"{last:.2f}",
                 f"{last / first:.2f}x", f"{min(v):.2f}..{max(v):.2f}"])
    targets.append((f"{what} of a member flat from the first to the last of {n} (<= 1.2x)",
                    f"{last / first:.2f}x (medians of the first and last {k}: {first:.2f} -> {last:.2f} ms)",
                    "**met**" if last / first <= 1.2 else "**missed**"))
for f, what in (("direct", "m1 -> m2 on the bridge"), ("out", "m3 -> inet, masqueraded")):
    z = one(f"flow/{f}", "zero_intervals")
    if z is None:
        continue
    targets.append((f"established flow {what} undisturbed while the other members go down",
                    f"{z} of {one(f'flow/{f}', 'intervals')} 1 s intervals without traffic; slowest "
                    f"{one(f'flow/{f}', 'min_interval_mbit')} Mbit/s; {float(one(f'flow/{f}', 'gbps')):.2f} Gbit/s "
                    "overall", "**met**" if z == "0" else "**missed**"))
print("\n".join([
    "### Targets", "", md(["target", "measured", "verdict"], targets), "",
    f"### {n} members on one network", "",
    "ms of wall time from the calling shell: up in member order, down from the last member to the "
    "fourth while the two flows run.", "",
    md(["operation", "runs", "median ms", "first tenth ms", "last tenth ms", "last/first", "min..max"], body), "",
    f"The whole down phase took {float(one(row, 'down_phase_us') or 0) / 1e6:.2f} s; the direct check: m{n} "
    f"saw m1 as {one(row, 'direct_peer_seen')}.", ""]))
