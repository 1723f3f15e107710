#!/usr/bin/env python3
"""bench/threads_summary.py - `--threads 1` vs `--threads 2` (informative).

  threads_summary.py OUT RESULTS DURATION USERS URL NCPU

Reads bench/out/th-N.{json,time,rc,up0,up1,ngx0,ngx1} for N = 1, 2
(up: /proc/uptime before and after the run, whose idle seconds give the
machine's busy cores; ngx: the nginx workers' user+sys jiffies before and
after) and writes the threads section of RESULTS.  No floor: exits 1 only when a run failed.
"""
import os
import sys

from benchlib import fmt, now, pf, rc, read, replace_section, report, time_file

HZ = os.sysconf("SC_CLK_TCK")


def uptime(path):
    """(uptime s, idle s summed over CPUs) from a copy of /proc/uptime."""
    try:
        a, b = (read(path, "") or "").split()[:2]
        return float(a), float(b)
    except ValueError:
        return None


def number(path):
    try:
        return float((read(path, "") or "").strip())
    except ValueError:
        return None


def main():
    out, results, duration, users, url, ncpu = sys.argv[1:7]
    ncpu = int(ncpu)
    problems = []
    rows = []
    for n in (1, 2):
        p = lambda ext: os.path.join(out, f"th-{n}.{ext}")
        r = report(p("json"))
        t = time_file(p("time"))
        code = rc(p("rc"))
        if code != "0" or not r or not t:
            problems.append(f"--threads {n} did not run cleanly (exit {code}); see bench/out/th-{n}.txt")
        if r and r["totals"]["fail"]:
            problems.append(f"--threads {n}: {r['totals']['fail']} failed requests")
        reqs = r["totals"]["count"] if r else None
        dur = r["duration_s"] if r else None
        rps = reqs / dur if (reqs and dur) else None
        cpu = t[1] + t[2] if t else None
        a, b = uptime(p("up0")), uptime(p("up1"))
        machine = (ncpu * (b[0] - a[0]) - (b[1] - a[1])) / (b[0] - a[0]) if (a and b and b[0] > a[0]) else None
        n0, n1 = number(p("ngx0")), number(p("ngx1"))
        ngx = (n1 - n0) / HZ / t[0] if (n0 is not None and n1 is not None and t) else None
        rows.append(dict(n=n, reqs=reqs, rps=rps, cpu=cpu, cores=cpu / t[0] if t else None,
                         per=cpu * 1e6 / reqs if (cpu and reqs) else None, ngx=ngx,
                         machine=machine, rss=t[3] if t else None,
                         p50=r["totals"]["response_time_us"]["p50"] if r else None))
    one, two = rows
    speedup = two["rps"] / one["rps"] if (one["rps"] and two["rps"]) else None
    ok = not problems

    md = []
    md.append(f"## --threads 1 vs --threads 2 ({now()})")
    md.append("")
    md.append(f"Both CPUs for everyone: nginx with 2 workers (`worker_processes 2`, `listen ... "
              f"reuseport` so each worker gets half of the connections, access log off), not "
              f"pinned; the generator not pinned either; {users} users without wait, {duration} s "
              f"each, one after the other:")
    md.append("")
    for r in rows:
        md.append(f"- `/usr/bin/time -f '%e %U %S %M' bench/out/loadtest --host {url} --threads {r['n']} "
                  f"-u {users} -r 1000 -t {duration}s --no-reset-metrics --report-file bench/out/th-{r['n']}.json -q`")
    md.append("")
    md.append(f"| --threads | requests | req/s | vs 1 thread | generator CPU s | generator cores | "
              f"CPU µs/req | nginx cores | machine busy (of {ncpu} cores) | p50 µs |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        vs = r["rps"] / one["rps"] if (r["rps"] and one["rps"]) else None
        md.append(f"| {r['n']} | {fmt(r['reqs'], 'd')} | {fmt(r['rps'], '.0f')} | {fmt(vs, '.2f')}x | "
                  f"{fmt(r['cpu'], '.2f')} | {fmt(r['cores'], '.2f')} | {fmt(r['per'], '.2f')} | "
                  f"{fmt(r['ngx'], '.2f')} | {fmt(r['machine'], '.2f')} | {fmt(r['p50'], 'd')} |")
    md.append("")
    if speedup and one["machine"] and two["machine"]:
        md.append(
            f"Reading: the second engine thread bought {fmt(speedup, '.2f')}x the requests/s, not 2x, "
            f"because the machine ran out of cores, not because the engine stopped scaling: with "
            f"2 threads the machine was {two['machine'] / ncpu * 100:.0f}% busy "
            f"({fmt(two['cores'], '.2f')} cores for libgoose, {fmt(two['ngx'], '.2f')} for nginx, "
            f"the rest kernel softirq time and other processes), so each thread got well under a core. "
            f"What does not change is the cost of a request: {fmt(one['per'], '.2f')} µs of "
            f"generator CPU with 1 thread, {fmt(two['per'], '.2f')} µs with 2 (the threads share "
            f"nothing on the request path: each has its own event base, HTTP connections and "
            f"metrics, handed to the collector under a lock once a second). On a machine with more cores than the generator and the target need "
            f"(or with the target on other machines), requests/s would grow with --threads at "
            f"about 1/(CPU per request) per thread until the target, the network or the cores "
            f"run out - that is an extrapolation from the flat CPU per request, not measured here "
            f"(this machine has {ncpu} cores and runs the target too).")
    if problems:
        md.append("")
        md.append("Problems:")
        for p in problems:
            md.append(f"- {p}")
    replace_section(results, "threads", md)

    print()
    print(f"{'threads':>7} {'requests':>9} {'req/s':>8} {'gen cores':>9} {'CPU µs/req':>10} "
          f"{'nginx cores':>11} {'machine':>7}")
    for r in rows:
        print(f"{r['n']:>7} {fmt(r['reqs'], 'd'):>9} {fmt(r['rps'], '.0f'):>8} {fmt(r['cores'], '.2f'):>9} "
              f"{fmt(r['per'], '.2f'):>10} {fmt(r['ngx'], '.2f'):>11} {fmt(r['machine'], '.2f'):>7}")
    print(f"req/s, 2 threads / 1 thread = {fmt(speedup, '.2f')}x (informative, no floor)  {pf(ok)}")
    for p in problems:
        print(f"problem: {p}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
