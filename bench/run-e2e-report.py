#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/run-e2e-report.py RESULTS_DIR: the Markdown report of bench/run-e2e.sh
from RESULTS_DIR/run-e2e.tsv (EXP ROW METRIC ROUND VALUE): each way of running
`true` with a network, its median wall time and its ratio to the others, from
the same rounds. Only reads files."""
import statistics
import sys

vals = {}
for line in open(f"{sys.argv[1]}/run-e2e.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) == 5 and f[2] == "wall_us":
        vals.setdefault(f[1], {})[int(f[3])] = float(f[4]) / 1000
if "nsgate" not in vals:
    sys.exit("run-e2e-report: no nsgate rows")


def med(row):
    return statistics.median(vals[row].values())


def ratio(a, b):
    """median over rounds of a/b, both measured in the same round"""
    common = sorted(set(vals[a]) & set(vals[b]))
    return statistics.median(vals[a][k] / vals[b][k] for k in common)


def md(head, body):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] +
                     ["| " + " | ".join(str(c) for c in r) + " |" for r in body])


what = {"true": "fork+exec of /bin/true", "unshare": "`unshare -n true` (no network)",
        "nsgate": "`nsgate run -- true`", "pasta": "`pasta --config-net -- true`",
        "slirp4netns": "slirp4netns attached to `unshare -n`, `true` via nsenter"}
body = []
for r in [r for r in ("true", "unshare", "nsgate", "pasta", "slirp4netns") if r in vals]:
    v = sorted(vals[r].values())
    body.append([what[r], len(v), f"{med(r):.2f}", f"{v[len(v) // 10]:.2f}..{v[-1 - len(v) // 10]:.2f}",
                 f"{ratio('nsgate', r):.2f}x" if r != "nsgate" else "1"])
print("\n".join([
    "### `run` end to end", "",
    "ms of wall time from the calling shell until the command has returned, everything it made "
    "removed (nsgate's kernel-side namespace destruction may still run after: see bench/README.md). "
    "nsgate/way: the median over rounds of the two measured in the same round.", "",
    md(["way", "rounds", "median ms", "p10..p90 ms", "nsgate / way"], body), ""]))
