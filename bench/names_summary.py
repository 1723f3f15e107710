#!/usr/bin/env python3
"""Dynamic URLs: every request a new path, unnamed, --threads 1 without
wait for NAMES_TIME s against the first section's nginx.  Writes its
section of bench/RESULTS.md; exits 1 when a floor is missed: max RSS
<= 100 MiB, exit status 0, at least 100,000 distinct paths, and the
report's total equal to nginx's access-log count."""
import sys

from benchlib import now, pf, read, replace_section, report, rc, time_file

out, results, duration, users, cmd = sys.argv[1:6]
RSS_MAX_KIB = 100 * 1024
PATHS_MIN = 100000

r = report(f"{out}/names.json")
t = time_file(f"{out}/names.time")
status = rc(f"{out}/names.rc")
nginx = int((read(f"{out}/names.nginx-count", "-1") or "-1").strip())
total = r["totals"]["count"] if r else None
names = (r or {}).get("request_names", {})
rows = len(r["requests"]) if r else 0
other = next((q["count"] for q in (r or {}).get("requests", []) if q["name"] == "(other)"), 0)
distinct = (rows - 1 + names.get("folded", 0)) if r else 0
rss = t[3] if t else None
ok_rss = rss is not None and rss <= RSS_MAX_KIB
ok_rc = status == "0"
ok_count = total is not None and total == nginx
exact = names.get("folded_exact", False)  # past 2^20 folded, a lower bound
ok_paths = distinct >= PATHS_MIN
ok = ok_rss and ok_rc and ok_count and ok_paths
cpu_us = (t[1] + t[2]) * 1e6 / total if t and total else None
lines = [
    f"## Dynamic URLs: a new path per request, --max-request-names at its default ({now()})",
    "",
    "The mistake `--max-request-names` bounds: every request a new, unnamed path "
    f"(`BENCH_UNIQUE_PATHS=1`: /p/1, /p/2, ...), {users} users without wait on one thread "
    f"for {duration} s, pinned to CPU 1, against the first section's nginx (1 worker, CPU 0, "
    "access log on). Before the bound and the chunked histograms, each distinct path cost "
    "~72 KB: the same run was killed by the kernel at 24 GB.",
    "",
    f"- command: `{cmd}`",
    "",
    "| | value | floor |",
    "|---|---:|---|",
    f"| requests (report) | {total if total is not None else 'n/a'} | |",
    f"| nginx access-log lines during the run | {nginx} | = the report's: **{pf(ok_count)}** |",
    f"| distinct paths (named rows + folded) | {'' if exact else 'at least '}{distinct} | "
    f">= {PATHS_MIN:,}: **{pf(ok_paths)}** |",
    f"| request rows | {rows} ({rows - 1} named + (other) with {other} requests) | "
    f"<= {names.get('max', '?')} + 1 |",
    f"| names folded (JSON `request_names.folded`, exact: {str(exact).lower()}) | "
    f"{names.get('folded', 'n/a')} | |",
    f"| max RSS (`/usr/bin/time` %M) | {rss / 1024:.1f} MiB | <= 100 MiB: **{pf(ok_rss)}** |"
    if rss is not None else "| max RSS | n/a | **FAIL** |",
    f"| exit status | {status} | 0: **{pf(ok_rc)}** |",
    f"| CPU per request (user+sys) | {cpu_us:.2f} µs | |" if cpu_us else "| CPU per request | n/a | |",
]
replace_section(results, "names", lines)
print("\n".join(lines))
sys.exit(0 if ok else 1)
