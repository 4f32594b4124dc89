#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/splice-report.py REPORT README

Replaces what lies between the BEGIN report.md and END report.md markers of
README with REPORT, unchanged. The text around the markers is kept."""
import os
import sys

report_path, readme_path = sys.argv[1], sys.argv[2]
with open(report_path) as f:
    report = f.read().rstrip("\n") + "\n"
with open(readme_path) as f:
    lines = f.read().split("\n")
begin = next((i for i, l in enumerate(lines) if l.startswith("<!-- BEGIN report.md")), None)
end = next((i for i, l in enumerate(lines) if l.startswith("<!-- END report.md")), None)
if begin is None or end is None or end < begin:
    sys.exit(f"splice-report: no BEGIN/END report.md markers in {readme_path}")
out = lines[:begin + 1] + [report] + lines[end:]
with open(readme_path + ".tmp", "w") as f:
    f.write("\n".join(out))
os.replace(readme_path + ".tmp", readme_path)
