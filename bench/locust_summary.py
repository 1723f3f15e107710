#!/usr/bin/env python3
"""bench/locust_summary.py - libgoose vs Locust, requests per CPU-second.

  locust_summary.py OUT RESULTS DURATION USERS URL

Reads bench/out/goose.{json,time} (libgoose, the first part of `make bench`)
and bench/out/locust-{http,fast}.{txt,time,rc,nginx-count} and
locust-*_stats.csv; writes the locust section of RESULTS; exits 1 when a
floor is missed or a run failed:

  libgoose requests per CPU-second >= 30 x Locust HttpUser's
                                   >=  8 x Locust FastHttpUser's
"""
import csv
import os
import re
import subprocess
import sys

from benchlib import fmt, now, pf, rc, read, replace_section, report, time_file

FLOORS = {"http": 30.0, "fast": 8.0}
LABEL = {"http": "Locust HttpUser", "fast": "Locust FastHttpUser"}


def locust_stdout(path):
    """(requests, failures, req/s) from the Aggregated row of the summary
    Locust prints when it shuts down (the first table)."""
    m = re.search(r"^\s+Aggregated\s+(\d+)\s+(\d+)\(.*\|\s*([\d.]+)\s+[\d.]+\s*$",
                  read(path, "") or "", re.M)
    return (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else (None, None, None)


def locust_csv(path):
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get("Name") == "Aggregated":
                    return int(row["Request Count"]), int(row["Failure Count"])
    except (OSError, KeyError, ValueError):
        pass
    return None, None


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip() or "?"
    except Exception:
        return "?"


def main():
    out, results, duration, users, url = sys.argv[1:6]
    problems = []

    g = report(os.path.join(out, "goose.json"))
    gt = time_file(os.path.join(out, "goose.time"))
    g_n = g["totals"]["count"] if g else None
    g_cpu = gt[1] + gt[2] if gt else None
    g_rate = g_n / g_cpu if (g_n and g_cpu) else None
    if not g_rate:
        problems.append("no libgoose run to compare with (bench/out/goose.json, goose.time)")

    rows = []
    ok = True
    for kind in ("http", "fast"):
        name = f"locust-{kind}"
        skip = (read(os.path.join(out, name + ".skip"), "") or "").strip()
        if skip:
            rows.append(dict(kind=kind, skip=skip))
            continue
        n, fails, lrps = locust_stdout(os.path.join(out, name + ".txt"))
        cn, cfails = locust_csv(os.path.join(out, name + "_stats.csv"))
        t = time_file(os.path.join(out, name + ".time"))
        code = rc(os.path.join(out, name + ".rc"))
        ngx = (read(os.path.join(out, name + ".nginx-count"), "") or "").strip()
        ngx = int(ngx) if ngx.lstrip("-").isdigit() else None
        cpu = t[1] + t[2] if t else None
        rate = n / cpu if (n and cpu) else None
        ratio = g_rate / rate if (g_rate and rate) else None
        floor_ok = ratio is not None and ratio >= FLOORS[kind]
        if code != "0" or not n or not t:
            problems.append(f"{LABEL[kind]} did not run cleanly (exit {code}); see bench/out/{name}.txt")
        if fails:
            problems.append(f"{LABEL[kind]} counted {fails} failed requests; see bench/out/{name}.txt")
        ok = ok and floor_ok
        rows.append(dict(kind=kind, n=n, fails=fails, lrps=lrps, cn=cn, t=t, cpu=cpu, rate=rate,
                         ratio=ratio, ok=floor_ok, ngx=ngx,
                         warn="CPU usage above 90%" in (read(os.path.join(out, name + ".txt"), "") or "")))
    idle = time_file(os.path.join(out, "locust-idle.time"))
    ran = [r for r in rows if "skip" not in r]
    if not ran:
        problems.append("no Locust run")
    ok = ok and not problems and bool(ran)

    pyver = "?"
    loc = version(["sh", "-c", "command -v locust"])
    try:
        shebang = (read(loc, "") or "").splitlines()[0]
        if shebang.startswith("#!"):
            pyver = version([shebang[2:].split()[0], "--version"])
    except (IndexError, OSError):
        pass
    lver = version(["dpkg-query", "-W", "-f", "${Version}", "python3-locust"])
    gver = g.get("goose_version", "?") if g else "?"

    md = []
    md.append(f"## libgoose vs Locust: requests per CPU-second ({now()})")
    md.append("")
    md.append(f"Same target as the first section (nginx, 1 worker pinned to CPU 0, access log on), "
              f"same {users} users without wait, {duration} s; every generator is one process pinned "
              f"to CPU 1 under `/usr/bin/time -f '%e %U %S %M'` (Locust: Debian python3-locust "
              f"{lver}, {pyver}, headless, no `--processes`):")
    md.append("")
    md.append(f"- `BENCH_LOCUST_USER=http taskset -c 1 locust -f bench/locustfile.py --headless "
              f"-u {users} -r {users} -t {duration}s --host {url} --csv bench/out/locust-http --only-summary`")
    md.append(f"- `BENCH_LOCUST_USER=fast taskset -c 1 locust -f bench/locustfile.py --headless "
              f"-u {users} -r {users} -t {duration}s --host {url} --csv bench/out/locust-fast --only-summary`")
    md.append(f"- libgoose {gver}: the `--threads 1 -u {users}` run of the first section "
              f"(bench/out/goose.json, goose.time)")
    md.append("")
    md.append("Requests per CPU-second = requests / (user + sys CPU seconds of the process).")
    md.append("")
    md.append("| generator | requests | req/s | CPU s (user+sys) | requests per CPU-second | max RSS KiB | libgoose / this | floor |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---|")
    md.append(f"| libgoose | {fmt(g_n, 'd')} | {fmt(g_n / g['duration_s'] if g else None, '.0f')} | "
              f"{fmt(g_cpu, '.2f')} | {fmt(g_rate, '.0f')} | {fmt(gt[3] if gt else None, '.0f')} | 1.00x | |")
    for r in rows:
        if "skip" in r:
            md.append(f"| {LABEL[r['kind']]} | not run: {r['skip']} | | | | | | |")
            continue
        md.append(f"| {LABEL[r['kind']]} | {fmt(r['n'], 'd')} | {fmt(r['lrps'], '.0f')} | "
                  f"{fmt(r['cpu'], '.2f')} | {fmt(r['rate'], '.0f')} | "
                  f"{fmt(r['t'][3] if r['t'] else None, '.0f')} | **{fmt(r['ratio'], '.1f')}x** | "
                  f">= {FLOORS[r['kind']]:.0f}x: **{pf(r['ok'])}** |")
    md.append("")
    for r in ran:
        md.append(f"- {LABEL[r['kind']]}: requests from Locust's final summary (Aggregated row on "
                  f"stdout, {fmt(r['n'], 'd')}); its _stats.csv Aggregated row says {fmt(r['cn'], 'd')}: "
                  f"Locust 2.12 rewrites the CSV every second and not at shutdown, so the CSV misses "
                  f"the last second; the larger, final count is used (in Locust's favour). "
                  f"nginx's access log counted {fmt(r['ngx'], 'd')} requests during the run "
                  f"(informative: Locust kills users mid-request at the end).")
    if any(r.get("warn") for r in ran):
        md.append("- Locust warned \"CPU usage above 90%\" in: "
                  + ", ".join(LABEL[r["kind"]] for r in ran if r.get("warn"))
                  + " - each Locust run saturates its core, as libgoose's does, so requests per "
                  "CPU-second is each generator's ceiling on one core.")
    if idle:
        md.append(f"- Locust's fixed cost, included above: `locust -f bench/locustfile.py --headless "
                  f"-u 0 -t 1s` (start Python, import Locust, idle 1 s, stop) takes "
                  f"{idle[1] + idle[2]:.2f} s of CPU.")
    if problems:
        md.append("")
        md.append("Problems:")
        for p in problems:
            md.append(f"- {p}")
    replace_section(results, "locust", md)

    print()
    print(f"{'generator':<20} {'requests':>9} {'CPU s':>7} {'req/CPU-s':>10} {'libgoose/this':>14}")
    print(f"{'libgoose':<20} {fmt(g_n, 'd'):>9} {fmt(g_cpu, '.2f'):>7} {fmt(g_rate, '.0f'):>10} {'1.00x':>14}")
    for r in rows:
        if "skip" in r:
            print(f"{LABEL[r['kind']]:<20} not run: {r['skip']}")
            continue
        print(f"{LABEL[r['kind']]:<20} {fmt(r['n'], 'd'):>9} {fmt(r['cpu'], '.2f'):>7} "
              f"{fmt(r['rate'], '.0f'):>10} {fmt(r['ratio'], '.1f') + 'x':>14}  "
              f"(floor >= {FLOORS[r['kind']]:.0f}x) {pf(r['ok'])}")
    for p in problems:
        print(f"problem: {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
