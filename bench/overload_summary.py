#!/usr/bin/env python3
"""bench/overload_summary.py DIR RESULTS - the overloaded Gaggle's section of
bench/RESULTS.md (bench/overload.sh); exit 1 unless every Worker is done,
every process exited 0 and the report's total is nginx's count."""
import glob
import sys

from benchlib import fmt, now, pf, rc, read, replace_section, report, time_file

d, results = sys.argv[1], sys.argv[2]
env = dict(line.split("=", 1) for line in (read(f"{d}/env", "") or "").splitlines() if "=" in line)
r = report(f"{d}/manager.json") or {}
workers = r.get("workers", [])
done = sum(1 for w in workers if w.get("state") == "done")
total = sum(q.get("count", 0) for q in r.get("requests", []))
nginx = int((read(f"{d}/nginx-count", "-1") or "-1").strip())
m_rc = rc(f"{d}/manager.rc")
w_failed = int((read(f"{d}/workers-failed", "-1") or "-1").strip())
t = time_file(f"{d}/manager.time")
logs = [read(p, "") or "" for p in sorted(glob.glob(f"{d}/worker*.txt"))]
mlog = read(f"{d}/manager.txt", "") or ""
lost_manager = sum("lost the manager" in text for text in logs)
lost_workers = mlog.count(") lost: ")
late = sum(" late (stopped, or short of CPU)" in text for text in logs + [mlog])
blocked = sum(text.count("was blocked") for text in logs)
want = int(env.get("workers", "0"))
ok = m_rc == "0" and w_failed == 0 and done == want and total == nginx and total > 0
dur = r.get("duration_s") or 0
lines = [
    f"## A Gaggle on an overloaded box ({now()})",
    "",
    f"`bash bench/overload.sh` (also a part of `make bench`): nginx (1 worker), a Manager and "
    f"{env.get('workers')} Workers (`--threads 1`, {env.get('users')} users waiting "
    f"{env.get('wait')} ms, {env.get('time')} s), all on the box's {env.get('cpus')} CPUs, "
    "nothing pinned. Commands:",
    "",
    f"    {env.get('cmd_manager', '?')}",
    f"    {env.get('cmd_worker', '?')}   # x {env.get('workers')}",
    "",
    "| | |",
    "|---|---:|",
    f"| Workers done / lost (report) | {done} / {len(workers) - done} |",
    f"| exit status: Manager, Workers not 0 | {m_rc}, {w_failed} |",
    f"| requests in the report / nginx access-log lines | {total} / {nginx} |",
    f"| requests/s (report) | {fmt(total / dur if dur else None, '.0f')} |",
    f"| Manager: elapsed, CPU (user+sys) | {fmt(t and t[0], '.1f')} s, {fmt(t and t[1] + t[2], '.2f')} s |",
    f"| \"lost the manager\" (Workers) / \"lost\" (Manager) | {lost_manager} / {lost_workers} |",
    f"| processes whose Gaggle loop ran >= 1 s late (said once each) | {late} |",
    f"| \"thread N was blocked\" warnings (Workers) | {blocked} |",
    "",
    f"- every Worker done, totals exact against nginx: **{pf(ok)}** "
    "(issue 13 measured such a run losing all 128 Workers within 7 s of START)",
]
replace_section(results, "overload", lines)
print(f"bench: overload: {done}/{want} Workers done, report {total} vs nginx {nginx}: {pf(ok)}")
sys.exit(0 if ok else 1)
