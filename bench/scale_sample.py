#!/usr/bin/env python3
"""bench/scale_sample.py - samples the 100,000-user run of `make bench`.

  scale_sample.py --port P --status-port S --out OUT.jsonl \
                  --manager PID --workers PID,PID,... [--nginx PID] [--end-after S]

Until the Manager (PID) exits, writes one JSON line per sample to OUT.jsonl:

  t, wall    seconds since this sampler started; wall-clock time (epoch s)
  active     nginx's open client connections: "Active connections" of
             stub_status on 127.0.0.1:S, minus the status request's own
             (cheap: every sample)
  est        ESTABLISHED TCP connections whose source port is P, i.e.
             nginx's end of each connection:
             ss -Htn state established "( sport = :P )" | wc -l
             (0.2-0.5 s of CPU with 100,000 connections: only at t = 20 s,
             in the 10 s samples after 30 s and 3 s before --end-after)
  rss_kib    VmRSS of the Worker processes, summed (KiB)
  wcpu_s     user+sys CPU seconds of the Worker processes so far
  ncpu_s     user+sys CPU seconds of nginx's worker processes so far
             (--nginx: its master's PID)
  idle       per CPU idle+iowait jiffies from /proc/stat (cumulative; exact
             on this VM, whereas its busy ticks get lost under load)
  uptime     /proc/uptime: [uptime s, idle s summed over the CPUs]

A Worker PID may be /usr/bin/time's or taskset's: the program it runs is
read instead.  Samples every 0.25 s for the first 30 s (the hatch), then
every 10 s (--every), until the Manager exits.
"""
import argparse
import json
import os
import subprocess
import time
import urllib.request


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def resolve(pid):
    """/usr/bin/time (or taskset) -> the program it runs."""
    for _ in range(3):
        if comm(pid) not in ("time", "taskset"):
            break
        kids = children(pid)
        if not kids:
            break
        pid = kids[0]
    return pid


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def idle_jiffies():
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu"):
                parts = line.split()
                out[parts[0]] = int(parts[4]) + int(parts[5])
    return out


def uptime():
    with open("/proc/uptime") as f:
        return [float(x) for x in f.read().split()[:2]]


def nginx_active(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            text = r.read().decode()
        return int(text.split("Active connections:")[1].split()[0]) - 1
    except Exception:
        return None


def established(port):
    t0 = time.monotonic()
    p = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.stdout.count(b"\n"), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--status-port", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--manager", type=int, required=True)
    ap.add_argument("--workers", required=True)
    ap.add_argument("--nginx", type=int, default=0)
    ap.add_argument("--every", type=float, default=10.0)
    ap.add_argument("--end-after", type=float, default=0,
                    help="s from now to the planned end of the run (hatch + run time)")
    ap.add_argument("--end-before", type=float, default=3.0)
    a = ap.parse_args()
    workers = [int(p) for p in a.workers.split(",") if p]
    # (time, with ss): 0.25 s steps to 30 s (ss at 20 s), then every --every
    # seconds with ss, and one more with ss --end-before s before --end-after
    plan = [(k * 0.25, k == 80) for k in range(1, 121)]
    last = a.end_after + 120 if a.end_after else 86400 * 7
    k = 1
    while 30 + k * a.every <= last:
        plan.append((30 + k * a.every, True))
        k += 1
    if a.end_after and a.end_after - a.end_before > 20:
        plan.append((a.end_after - a.end_before, True))
    plan.sort()
    t0 = time.monotonic()
    with open(a.out, "w") as f:
        for target, with_ss in plan:
            delay = t0 + target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if state(a.manager) in ("", "Z", "X"):
                break
            resolved = [resolve(p) for p in workers]
            t = time.monotonic() - t0
            rec = {"t": round(t, 2), "wall": round(time.time(), 3),
                   "active": nginx_active(a.status_port), "est": None, "ss_s": None}
            if with_ss:
                est, ss_s = established(a.port)
                rec["est"], rec["ss_s"] = est, round(ss_s, 3)
            rec["rss_kib"] = sum(status_kib(p, "VmRSS") for p in resolved)
            rec["wcpu_s"] = round(sum(cpu_s(p) for p in resolved), 2)
            if a.nginx:
                rec["ncpu_s"] = round(sum(cpu_s(p) for p in children(a.nginx)), 2)
            rec["idle"] = idle_jiffies()
            rec["uptime"] = uptime()
            f.write(json.dumps(rec) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
