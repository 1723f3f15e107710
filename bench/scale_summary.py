#!/usr/bin/env python3
"""bench/scale_summary.py - the 100,000-user Gaggle of `make bench`.

  scale_summary.py OUT RESULTS

Reads bench/out/scale.env (written by run.sh), scale-manager.{json,txt,time,rc},
scale-worker*.{time,rc,txt}, scale-samples.jsonl (bench/scale_sample.py) and
idle-1.status (the RSS of a 1-user process); writes the scale section of
RESULTS; exits 1 when a floor is missed:

  0 failed requests, an empty errors table, every process exits 0 and every
      Worker ends "done"
  ESTABLISHED connections to nginx's port >= users in every ss sample taken
      while all users run (t = 20 s after the sampler started, then every 10 s
      up to the end of the maintain phase)
  hatch, measured: from the Manager's START to the first sample in which
      nginx holds one open connection per user (stub_status), <= 11 s
"""
import datetime
import json
import os
import re
import sys

from benchlib import fmt, now, pf, rc, read, replace_section, report, time_file

HATCH_FLOOR_S = 11.0
HZ = os.sysconf("SC_CLK_TCK")


def env(path):
    out = {}
    for line in (read(path, "") or "").splitlines():
        k, _, v = line.partition("=")
        if k:
            out[k.strip()] = v.strip()
    return out


def samples(path):
    rows = []
    for line in (read(path, "") or "").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    return rows


def start_wall(text):
    """Epoch seconds of the Manager's START, from its INFO log line
    '...Z host INFO all N workers ready: START in M ms'."""
    m = re.search(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z .*START in (\d+) ms", text, re.M)
    if not m:
        return None
    ts = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
    return ts.timestamp() + int(m.group(2)) / 1000.0


def busy(a, b, cpu):
    """Busy fraction of cpu between samples a and b: 1 - idle / elapsed
    (idle jiffies are exact here; /proc/stat's busy ticks are not)."""
    try:
        dt = b["uptime"][0] - a["uptime"][0]
        return 1 - (b["idle"][cpu] - a["idle"][cpu]) / HZ / dt if dt > 0 else None
    except (KeyError, TypeError):
        return None


def status_kib(path, key="VmRSS"):
    for line in (read(path, "") or "").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def main():
    out, results = sys.argv[1:3]
    e = env(os.path.join(out, "scale.env"))
    users = int(e.get("users", "100000"))
    nworkers = int(e.get("workers", "6"))
    problems = []

    rep = report(os.path.join(out, "scale-manager.json"))
    mtext = read(os.path.join(out, "scale-manager.txt"), "") or ""
    mtime = time_file(os.path.join(out, "scale-manager.time"))
    mrc = rc(os.path.join(out, "scale-manager.rc"))
    if mrc != "0" or not rep:
        problems.append(f"the Manager did not run cleanly (exit {mrc}); see bench/out/scale-manager.txt")
    wtimes, wrcs = [], []
    for w in range(1, nworkers + 1):
        wtimes.append(time_file(os.path.join(out, f"scale-worker{w}.time")))
        wrcs.append(rc(os.path.join(out, f"scale-worker{w}.rc")))
        if wrcs[-1] != "0":
            problems.append(f"Worker {w} exited {wrcs[-1]}; see bench/out/scale-worker{w}.txt")
    wlogs = [(read(os.path.join(out, f"scale-worker{w}.txt"), "") or "").strip()
             for w in range(1, nworkers + 1)]

    reqs = fails = None
    errors, codes, wstates, phases = [], {}, [], {}
    if rep:
        reqs, fails = rep["totals"]["count"], rep["totals"]["fail"]
        errors = rep.get("errors", [])
        codes = rep["totals"].get("status_codes", {})
        wstates = [(w.get("name"), w.get("users"), w.get("requests"), w.get("state"))
                   for w in rep.get("workers", [])]
        phases = {p["name"]: p for p in rep.get("phases", [])}
        if len(wstates) != nworkers or any(s != "done" for *_, s in wstates):
            problems.append(f"Workers did not all end done: {[s for *_, s in wstates]}")
    clean = bool(rep) and reqs and fails == 0 and not errors and not problems

    # --- samples --------------------------------------------------------
    rows = samples(os.path.join(out, "scale-samples.jsonl"))
    t0 = start_wall(mtext)
    if t0 is None and rows:
        first = next((r for r in rows if (r.get("active") or 0) > 0), None)
        t0 = first["wall"] - 0.25 if first else None
        problems.append("no START line in the Manager's log: hatch measured from the first connection")
    rel = lambda r: r["wall"] - t0 if t0 is not None else None
    hatch = hatch99 = None
    for r in rows:
        a = r.get("active")
        if a is None or t0 is None:
            continue
        if hatch99 is None and a >= 0.99 * users:
            hatch99 = rel(r)
        if a >= users:
            hatch = rel(r)
            break
    def at(sec):  # the sample nearest to sec after START
        c = [r for r in rows if r.get("active") is not None and t0 is not None]
        return min(c, key=lambda r: abs(rel(r) - sec)) if c else None
    sched_end = phases.get("increase", {}).get("end_s")
    maintain_end = phases.get("maintain", {}).get("end_s")
    ss_rows = [r for r in rows if r.get("est") is not None and t0 is not None]
    in_run = [r for r in ss_rows
              if maintain_end is None or rel(r) <= maintain_end - 1.0]
    s20 = next((r for r in in_run), None)
    s_end = in_run[-1] if in_run else None
    est_min = min((r["est"] for r in in_run), default=None)
    est_ok = bool(in_run) and est_min >= users
    hatch_ok = hatch is not None and hatch <= HATCH_FLOOR_S
    ok = bool(clean) and est_ok and hatch_ok

    base = status_kib(os.path.join(out, "idle-1.status"))
    def per_user(r):
        if not r or not r.get("rss_kib"):
            return None, None
        raw = r["rss_kib"] / users
        net = (r["rss_kib"] - nworkers * base) / users if base else None
        return raw, net

    # CPU: per CPU busy during the hatch and during the maintain phase
    hatch_row = next((r for r in rows if t0 is not None and hatch is not None and rel(r) >= hatch), None)
    first_row = next((r for r in rows if t0 is not None and rel(r) >= 0), rows[0] if rows else None)
    cpus = sorted(k for k in (rows[0].get("idle", {}) if rows else {}) if k != "cpu")
    busy_hatch = {c: busy(first_row, hatch_row, c) for c in cpus} if (first_row and hatch_row) else {}
    busy_run = {c: busy(hatch_row, s_end, c) for c in cpus} if (hatch_row and s_end and s_end is not hatch_row) else {}

    def split(a, b):
        """cores used between samples a and b: machine, Workers, nginx, rest"""
        if not a or not b or b["t"] <= a["t"]:
            return None
        dt = b["t"] - a["t"]
        try:
            up = b["uptime"][0] - a["uptime"][0]
            machine = (len(cpus) * up - (b["uptime"][1] - a["uptime"][1])) / up
        except (KeyError, TypeError, ZeroDivisionError):
            return None
        wk = (b["wcpu_s"] - a["wcpu_s"]) / dt
        ng = (b["ncpu_s"] - a["ncpu_s"]) / dt if ("ncpu_s" in a and "ncpu_s" in b) else None
        rest = machine - wk - (ng or 0)
        return machine, wk, ng, rest
    split_hatch = split(first_row, hatch_row)
    split_run = split(hatch_row, s_end)
    wcpu = sum(t[1] + t[2] for t in wtimes if t) if all(wtimes) else None
    mcpu = mtime[1] + mtime[2] if mtime else None
    wmaxrss = sum(t[3] for t in wtimes if t) if all(wtimes) else None

    try:
        lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
        ports = hi - lo + 1
    except (OSError, ValueError):
        lo = hi = ports = None
    naddrs = int(e.get("naddrs", "0") or 0)

    # --- markdown -------------------------------------------------------
    md = []
    md.append(f"## {users:,} users, each on its own keep-alive connection, {e.get('time', '?')} s "
              f"({now()})")
    md.append("")
    md.append(f"The issue's target: {users:,} concurrent users on this 2-core machine, each on its own "
              f"keep-alive connection with a {int(e.get('wait_ms', '10000')) / 1000:g} s wait, "
              f"without errors caused by the generator, hatched at {int(e.get('rate', '10000')):,}/s. "
              f"One process may not open more than 20,000 files here (RLIMIT_NOFILE hard limit, no "
              f"CAP_SYS_RESOURCE), so the users run as a Gaggle on this machine: a Manager and "
              f"{nworkers} Workers of about {users // nworkers:,} users each, every process with "
              f"its own descriptor table.")
    md.append("")
    md.append(f"- target: nginx, `worker_processes {e.get('nginx_workers', '6')}`, "
              f"`worker_rlimit_nofile 20000`, `worker_connections 19500`, access log off, "
              f"`listen 127.0.0.1:{e.get('port', 'PORT')} reuseport backlog=4096` (each worker its own "
              f"accept queue, so the kernel spreads the connections evenly and no worker runs past its "
              f"19,500), stub_status on a second port; pinned to CPU 0 (`taskset -c 0`); config "
              f"bench/out/nginx-scale/nginx.conf, generated from bench/nginx.conf by sed")
    md.append(f"- generators: Manager and Workers under `taskset -c {e.get('cpus', '?')}` "
              f"({'both CPUs: the issue asks for the users on this 2-core machine, and the target shares it' if e.get('cpus') in ('0,1', '0-1') else 'CPU ' + e.get('cpus', '?')})")
    md.append(f"  - `{e.get('cmd_manager', '?')}`")
    md.append(f"  - {nworkers} x `{e.get('cmd_worker', '?')}`")
    if ports:
        md.append(f"- source addresses: one (source, destination) pair has {ports:,} ephemeral ports "
                  f"(ip_local_port_range {lo}-{hi}), so {users:,} connections to one nginx port need "
                  f"more than one source address; `--local-address {e.get('addrs', '?')}` gives "
                  f"{naddrs} sources, about {users // max(naddrs, 1):,} connections each "
                  f"({users / max(naddrs, 1) / ports * 100:.0f}% of a pair's ports)")
    md.append(f"- sampled by bench/scale_sample.py: nginx's open connections (stub_status) every "
              f"0.25 s for 30 s, then every 10 s; `ss -Htn state established \"( sport = :"
              f"{e.get('port', 'PORT')} )\" | wc -l` at 20 s, every 10 s after 30 s and 3 s before the "
              f"planned end; VmRSS and CPU of the Workers and nginx (bench/out/scale-samples.jsonl)")
    md.append("")
    md.append("| | value | floor |")
    md.append("|---|---:|---|")
    md.append(f"| requests | {fmt(reqs, ',d')} | |")
    md.append(f"| failed requests | {fmt(fails, ',d')} | 0: **{pf(fails == 0)}** |")
    md.append(f"| errors table | {len(errors)} rows | empty: **{pf(rep is not None and not errors)}** |")
    md.append(f"| status codes | {', '.join(f'{k}: {v:,}' for k, v in codes.items()) or 'n/a'} | |")
    md.append(f"| Manager + Workers exit status | {mrc}, {', '.join(wrcs)} | 0 |")
    md.append(f"| hatch, measured: START -> nginx holds {users:,} connections | "
              f"{fmt(hatch, '.2f')} s | <= {HATCH_FLOOR_S:.0f} s: **{pf(hatch_ok)}** |")
    md.append(f"| hatch to 99% of the connections | {fmt(hatch99, '.2f')} s | |")
    for sec in (5, 10):
        r = at(sec)
        if r:
            md.append(f"| nginx's open connections {rel(r):.1f} s after START | {r['active']:,} | "
                      f"(schedule: {min(users, int(e.get('rate', '10000')) * sec):,}) |")
    md.append(f"| the report's increase phase (`phases[0].end_s`) | {fmt(sched_end, '.2f')} s | |")
    for label, r in (("~20 s", s20), ("at the end", s_end)):
        if r:
            raw, net = per_user(r)
            md.append(f"| ESTABLISHED to :{e.get('port', 'PORT')}, {label} ({rel(r):.0f} s after START) | "
                      f"{r['est']:,} | >= {users:,}: **{pf(r['est'] >= users)}** |")
    md.append(f"| ESTABLISHED, lowest of the {len(in_run)} ss samples while all users ran | "
              f"{fmt(est_min, ',d')} | >= {users:,}: **{pf(est_ok)}** |")
    for label, r in (("~20 s", s20), ("at the end", s_end)):
        if r:
            raw, net = per_user(r)
            md.append(f"| Workers' RSS, {label} | {r['rss_kib'] / 1024:,.0f} MiB: {fmt(raw, '.1f')} KiB "
                      f"per user ({fmt(net, '.1f')} without {nworkers} x the {fmt(base, ',d')} KiB of a "
                      f"1-user process) | |")
    md.append(f"| Workers' max RSS (sum of /usr/bin/time's %M) | "
              f"{fmt(wmaxrss / 1024 if wmaxrss else None, ',.0f')} MiB | |")
    md.append(f"| Workers' CPU (user+sys), all {nworkers} | {fmt(wcpu, '.1f')} s: "
              f"{fmt(wcpu * 1e6 / reqs if (wcpu and reqs) else None, '.0f')} µs per request, "
              f"connections and hatch included | |")
    md.append(f"| Manager's CPU | {fmt(mcpu, '.2f')} s over {fmt(mtime[0] if mtime else None, '.0f')} s | |")
    for label, bz, sp in (("during the hatch", busy_hatch, split_hatch),
                          ("after the hatch", busy_run, split_run)):
        if not bz:
            continue
        text = ", ".join(f"{c} {fmt(v * 100 if v is not None else None, '.0f')}%" for c, v in bz.items())
        if sp:
            text += (f": {sp[0]:.2f} cores = Workers {sp[1]:.2f} + nginx {fmt(sp[2], '.2f')} + "
                     f"the rest {sp[3]:.2f} (kernel softirq, the sampler, other processes)")
        md.append(f"| machine busy {label} | {text} | |")
    md.append("")
    md.append("Per Worker (from the Manager's report):")
    md.append("")
    md.append("| Worker | users | requests | state |")
    md.append("|---|---:|---:|---|")
    for name, u, n, s in wstates:
        md.append(f"| {name} | {fmt(u, ',d')} | {fmt(n, ',d')} | {s} |")
    md.append("")
    md.append("- The report's increase phase is the Manager's schedule (START + the start offset of "
              "the last user), not a measurement: a Manager only learns of launches through metrics. "
              "The hatch floor is therefore on the measured time, nginx's connection count.")
    if errors:
        md.append("- errors (first 10):")
        for er in errors[:10]:
            md.append(f"  - {er.get('count')} x {er.get('method')} {er.get('name')}: {er.get('error')}")
    for w, text in enumerate(wlogs, 1):
        if text:
            md.append(f"- Worker {w} printed (first line): `{text.splitlines()[0][:200]}`")
    warn = [l for l in mtext.splitlines() if " WARN " in l or " ERROR " in l]
    for l in warn[:5]:
        md.append(f"- Manager: `{l[:220]}`")
    if problems:
        md.append("")
        md.append("Problems:")
        for p in problems:
            md.append(f"- {p}")
    replace_section(results, "scale", md)

    print()
    print(f"{users} users: {fmt(reqs, 'd')} requests, {fmt(fails, 'd')} failed, {len(errors)} error rows  "
          f"{pf(clean)}")
    print(f"hatch measured {fmt(hatch, '.2f')} s (report's schedule {fmt(sched_end, '.2f')} s, floor <= "
          f"{HATCH_FLOOR_S:.0f} s)  {pf(hatch_ok)}")
    print(f"established at ~20 s {fmt(s20['est'] if s20 else None, 'd')}, at the end "
          f"{fmt(s_end['est'] if s_end else None, 'd')}, lowest {fmt(est_min, 'd')} (floor >= {users})  "
          f"{pf(est_ok)}")
    if split_hatch:
        print(f"cores during the hatch: machine {split_hatch[0]:.2f} = Workers {split_hatch[1]:.2f} + "
              f"nginx {fmt(split_hatch[2], '.2f')} + rest {split_hatch[3]:.2f}")
    if s_end:
        raw, net = per_user(s_end)
        print(f"Workers' RSS at the end {s_end['rss_kib'] / 1024:.0f} MiB = {fmt(raw, '.1f')} KiB/user "
              f"({fmt(net, '.1f')} net of {nworkers} 1-user processes)")
    for p in problems:
        print(f"problem: {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
