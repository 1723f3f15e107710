#!/usr/bin/env python3
"""bench/scale_sample.py - samples the 100,000-user run of `make bench`.

  scale_sample.py PORT OUT.jsonl MANAGER_PID WORKER_PID... [--every-after S]

Until MANAGER_PID exits, writes one JSON line per sample to OUT.jsonl:

  t          seconds since this sampler started (run.sh starts it right
             after the Manager and the Workers)
  est        ESTABLISHED TCP connections whose source port is PORT, i.e.
             nginx's side of each connection:
             ss -Htn state established "( sport = :PORT )" | wc -l
             (costs 0.2-0.5 s of CPU with 100,000 connections, so only at
             t = 20 s and every --every-after seconds after 30 s)
  inuse      TCP sockets in use, from /proc/net/sockstat (cheap: every
             sample; each connection counts twice, once per end)
  rss_kib    VmRSS of the Worker processes, summed (KiB)
  wcpu_s     user+sys CPU seconds of the Worker processes so far
  cpu        busy fraction of each CPU since the previous sample (/proc/stat)
  ss_s       how long the ss call took

A WORKER_PID may be /usr/bin/time's: its child (the Worker) is read instead.
Samples every 0.25 s for the first 30 s (the hatch: sockstat only, cheap),
then every --every-after seconds (default 10); ss runs at t = 20 s and in
every sample after 30 s.
"""
import json
import os
import subprocess
import sys
import time


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


def resolve(pid):
    """/usr/bin/time (or taskset) -> the program it runs."""
    for _ in range(3):
        if comm(pid) in ("time", "taskset"):
            kids = children(pid)
            if not kids:
                return pid
            pid = kids[0]
        else:
            break
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


def cpu_times():
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                parts = line.split()
                vals = [int(x) for x in parts[1:]]
                idle = vals[3] + vals[4]
                out[parts[0]] = (sum(vals[:8]), idle)
    return out


def tcp_inuse():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("inuse") + 1])
    return None


def established(port):
    t0 = time.monotonic()
    p = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.stdout.count(b"\n"), time.monotonic() - t0


def main():
    args = sys.argv[1:]
    every_after = 10.0
    if "--every-after" in args:
        i = args.index("--every-after")
        every_after = float(args[i + 1])
        del args[i:i + 2]
    port, out, manager = args[0], args[1], int(args[2])
    workers = [int(p) for p in args[3:]]
    t0 = time.monotonic()
    prev = cpu_times()
    resolved = None
    with open(out, "w") as f:
        n = 0
        while True:
            n += 1
            target = n * 0.25 if n <= 120 else 30 + (n - 120) * every_after
            delay = t0 + target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if not os.path.exists(f"/proc/{manager}") or comm(manager) == "":
                break
            if resolved is None or len(set(resolved)) < len(workers):
                resolved = [resolve(p) for p in workers]
            t = time.monotonic() - t0
            wall = time.time()
            est = ss_s = None
            if n == 80 or n > 120:
                est, ss_s = established(port)
            now = cpu_times()
            busy = {}
            for k, (tot, idle) in now.items():
                pt, pi = prev.get(k, (tot, idle))
                busy[k] = round(1 - (idle - pi) / (tot - pt), 3) if tot > pt else None
            prev = now
            rec = {
                "t": round(t, 2),
                "wall": round(wall, 3),
                "est": est,
                "inuse": tcp_inuse(),
                "rss_kib": sum(status_kib(p, "VmRSS") for p in resolved),
                "wcpu_s": round(sum(cpu_s(p) for p in resolved), 2),
                "cpu": busy,
                "ss_s": None if ss_s is None else round(ss_s, 3),
            }
            f.write(json.dumps(rec) + "\n")
            f.flush()
            # zombie Manager (exited, not yet reaped by run.sh) ends it too
            try:
                with open(f"/proc/{manager}/stat") as s:
                    if s.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except OSError:
                break


if __name__ == "__main__":
    main()
