#!/usr/bin/env python3
"""bench/serve_bench.py DIR LOADTEST TARGET_URL: the Gaggle that stays up
(issue 18), driven for bench/serve.sh.

1. A --no-autostart Manager and 3 serving Workers (--worker-reconnect) run
   BENCH_SERVE_TESTS tests (20) of BENCH_SERVE_RUN_TIME (2s) in a row over
   the controller's telnet side.  Turnaround of the first BENCH_SERVE_TURNS
   (10): from sending `start` (and from its answer) to the Manager's
   "START in" line.  Growth: the Manager's and each Worker's VmRSS and open
   fds after each test (DIR/numbers.json); the section shows test 1, the
   last, and the growth per test in between.
2. `shutdown`, then BENCH_SERVE_TURNS one-shot Managers, one after the other
   on the same port, each launched once the one before exited, with the same
   3 serving Workers redialing: from launching it to its "START in" line.
3. Every test's report (totals and the sum of its rows) must count what
   goose-target counted during it, or the bench fails.

Every process it starts dies with it (PR_SET_PDEATHSIG) and is killed on
the way out; every wait is bounded; every address is 127.0.0.1.  Writes
DIR/section.md and DIR/numbers.json; exit status 1 on any failure.
"""
import ctypes, datetime, json, os, re, signal, socket, statistics, subprocess, sys, time
import urllib.request

D, LOADTEST, TARGET = sys.argv[1], sys.argv[2], sys.argv[3]
TESTS = int(os.environ.get("BENCH_SERVE_TESTS", "20"))
TURNS = int(os.environ.get("BENCH_SERVE_TURNS", "10"))
RUN_TIME = os.environ.get("BENCH_SERVE_RUN_TIME", "2s")
WORKERS = 3
JOIN_TIMEOUT = 30    # s: the serving Workers have joined
TEST_TIMEOUT = 60    # s: a started test is over
DEADLINE = time.time() + 900  # s: the whole bench
COMMON = ["--host", TARGET, "-u", "3", "-r", "100", "-t", RUN_TIME, "--no-reset-metrics"]

libc = ctypes.CDLL(None, use_errno=True)
procs = []
failures = []


def say(msg):
    print(f"bench: {msg}", flush=True)


def fail(msg):
    failures.append(msg)
    print(f"bench: FAIL: {msg}", file=sys.stderr, flush=True)


def die_with_parent():
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no serving Worker outlives the bench


def spawn(argv, log):
    with open(log, "w") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             preexec_fn=die_with_parent)
    procs.append(p)
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def left(timeout):
    return max(0.1, min(timeout, DEADLINE - time.time()))


def target_total():
    with urllib.request.urlopen(TARGET + "/stats", timeout=10) as r:
        return json.load(r)["total"]


def telnet(port, line):
    """One line on the controller's telnet side: its answer and when it came."""
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.settimeout(10)
        s.sendall((line + "\n").encode())
        buf = b""
        while len(buf) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
            for x in buf.decode(errors="replace").splitlines():
                if x.startswith(("ok", "error")):
                    return x, time.time()
    return buf.decode(errors="replace").strip(), time.time()


def config(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/config", data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.load(r).get("data")
    except (OSError, ValueError):
        return None


def wait_config(port, pred, what, timeout):
    end, last = time.time() + left(timeout), None
    while time.time() < end:
        last = config(port)
        if last is not None and pred(last):
            return last
        time.sleep(0.05)
    raise TimeoutError(f"{what}: not after {timeout} s (config: {last})")


STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z ")


def start_lines(log, what="START in"):
    """When the Manager logged each line holding `what` (s since the epoch)."""
    out = []
    for line in open(log, errors="replace"):
        m = STAMP.match(line)
        if m and what in line:
            t = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
            out.append(t.timestamp())
    return out


def check_count(name, report, before, after):
    try:
        r = json.load(open(report))
        total, rows = r["totals"]["count"], sum(q["count"] for q in r["requests"])
    except (OSError, ValueError, KeyError) as e:
        fail(f"{name}: no report {report}: {e}")
        return None
    served = after - before
    if not (total == rows == served and served > 0):
        fail(f"{name}: the report counts {total} requests ({rows} in its rows), "
             f"goose-target served {served}")
    return total, served


def sample(p):
    """VmRSS (kB) and open fds of a running process."""
    rss = None
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{p.pid}/fd"))


def stays_up(mport, cport, workers):
    S = os.path.join(D, "stay")
    os.makedirs(S)
    log = os.path.join(S, "manager.log")
    m = spawn([LOADTEST, "--manager", "--no-autostart", "--controller", f"127.0.0.1:{cport}",
               "--expect-workers", str(WORKERS), "--manager-bind-host", "127.0.0.1",
               "--manager-bind-port", str(mport), *COMMON,
               "--report-file", os.path.join(S, "report-{n}.json")], log)
    wait_config(cport, lambda d: d.get("workers", 0) >= WORKERS and d.get("state") == "idle",
                f"{WORKERS} Workers joined", JOIN_TIMEOUT)
    sent, answered, counts, samples = [], [], [], {}
    say(f"a Gaggle that stays up: {TESTS} tests of {RUN_TIME} over the controller ...")
    for n in range(1, TESTS + 1):
        if time.time() > DEADLINE:
            fail(f"out of time before test {n}")
            break
        before = target_total()
        t = time.time()
        answer, t_answer = telnet(cport, "start")
        if f"test {n} starts on {WORKERS} workers" not in answer:
            fail(f"test {n}: start answered {answer!r}")
            break
        sent.append(t)
        answered.append(t_answer)
        wait_config(cport, lambda d: d.get("tests") == n and d.get("state") == "idle",
                    f"test {n} over", TEST_TIMEOUT)
        c = check_count(f"stays up, test {n}", os.path.join(S, f"report-{n}.json"),
                        before, target_total())
        counts.append(c)
        samples[n] = {"manager": sample(m), **{f"worker {i + 1}": sample(w)
                                               for i, w in enumerate(workers)}}
    starts = start_lines(log)
    if len(starts) != len(sent):
        fail(f"{len(sent)} tests started, {len(starts)} START lines in {log}")
    answer, _ = telnet(cport, "shutdown")
    try:
        rc = m.wait(timeout=left(30))
    except subprocess.TimeoutExpired:
        rc = None
    if rc != 0:
        fail(f"the staying Manager ended with {rc} after shutdown ({answer!r})")
    k = min(len(starts), len(sent), TURNS)
    from_send = [(starts[i] - sent[i]) * 1000 for i in range(k)]
    from_answer = [(starts[i] - answered[i]) * 1000 for i in range(k)]
    return from_send, from_answer, counts, samples


def one_shot(mport, workers):
    O = os.path.join(D, "oneshot")
    os.makedirs(O)
    turns, listening, counts = [], [], []
    say(f"one-shot: {TURNS} fresh Managers, the same {WORKERS} serving Workers redialing ...")
    for k in range(1, TURNS + 1):
        if time.time() > DEADLINE:
            fail(f"out of time before one-shot test {k}")
            break
        log, report = os.path.join(O, f"manager-{k}.log"), os.path.join(O, f"report-{k}.json")
        before = target_total()
        t = time.time()
        m = spawn([LOADTEST, "--manager", "--expect-workers", str(WORKERS),
                   "--manager-bind-host", "127.0.0.1", "--manager-bind-port", str(mport),
                   *COMMON, "--report-file", report], log)
        try:
            rc = m.wait(timeout=left(TEST_TIMEOUT))
        except subprocess.TimeoutExpired:
            m.kill()
            rc = None
        if rc != 0:
            fail(f"one-shot Manager {k} ended with {rc} (see {log})")
        counts.append(check_count(f"one-shot {k}", report, before, target_total()))
        s = start_lines(log)
        if len(s) != 1:
            fail(f"one-shot Manager {k}: {len(s)} START lines")
            continue
        turns.append((s[0] - t) * 1000)
        up = start_lines(log, "manager listening on")
        listening.append((up[0] - t) * 1000 if up else float("nan"))
    gone = [i + 1 for i, w in enumerate(workers) if w.poll() is not None]
    if gone:
        fail(f"Workers {gone} ended during the one-shot tests")
    return turns, listening, counts


def main():
    os.makedirs(D, exist_ok=True)
    mport, cport = free_port(), free_port()
    workers = [spawn([LOADTEST, "--worker", "--worker-reconnect", "--manager-host", "127.0.0.1",
                      "--manager-port", str(mport)], os.path.join(D, f"worker{i + 1}.log"))
               for i in range(WORKERS)]
    send, answer, stay_counts, samples = stays_up(mport, cport, workers)
    oneshot, listening, shot_counts = one_shot(mport, workers)
    for w in workers:  # a serving Worker ends with 0 on SIGTERM
        w.send_signal(signal.SIGTERM)
    for i, w in enumerate(workers):
        try:
            rc = w.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = None
        if rc != 0:
            fail(f"Worker {i + 1} ended with {rc} on SIGTERM")
    numbers = {"stay_from_send_ms": send, "stay_from_answer_ms": answer,
               "oneshot_from_launch_ms": oneshot, "oneshot_listening_ms": listening,
               "samples": samples,
               "stay_counts": stay_counts, "oneshot_counts": shot_counts,
               "tests": TESTS, "turns": TURNS, "run_time": RUN_TIME,
               "loadavg": os.getloadavg(), "failures": failures}
    json.dump(numbers, open(os.path.join(D, "numbers.json"), "w"), indent=1)
    write_section(numbers)


def write_section(n):
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    mx = lambda xs: max(xs) if xs else float("nan")
    send, answer, shot = n["stay_from_send_ms"], n["stay_from_answer_ms"], n["oneshot_from_launch_ms"]
    lines = [
        "<!-- bench:serve:begin (generated by bench/serve.sh) -->",
        "### A Gaggle that stays up: turnaround and growth (bench/serve.sh)",
        "",
        f"3 serving Workers (`--worker-reconnect`) of tests/gaggle-loadtest, 3 users, "
        f"`-t {n['run_time']}`, against goose-target on 127.0.0.1 (`make bench-serve`, "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; one run on 2 "
        f"shared cores, load average {n['loadavg'][0]:.1f}: read the ratios, not the "
        "milliseconds):",
        "",
        "| to the Manager's \"START in\" line | tests | median | max |",
        "|---|---|---|---|",
        f"| stays up (`--no-autostart`): from sending `start` | {len(send)} | "
        f"{med(send):.1f} ms | {mx(send):.1f} ms |",
        f"| stays up: from the controller's answer | {len(answer)} | "
        f"{med(answer):.1f} ms | {mx(answer):.1f} ms |",
        f"| one-shot: from launching a fresh Manager (Workers redial) | {len(shot)} | "
        f"{med(shot):.1f} ms | {mx(shot):.1f} ms |",
        f"| one-shot: of which launching to listening | {len(n['oneshot_listening_ms'])} | "
        f"{med(n['oneshot_listening_ms']):.1f} ms | {mx(n['oneshot_listening_ms']):.1f} ms |",
        "",
        f"One-shot / stays up (medians, from the user's action): "
        f"**{med(shot) / med(send):.0f}x**." if send and shot and med(send) > 0 else
        "One-shot / stays up: not measured.",
        "",
    ]
    s = n["samples"]
    t, h = n["tests"], n["tests"] // 2
    first, half, last = s.get(1), s.get(h), s.get(t)
    if first and half and last and h > 1:
        lines += [f"RSS and open fds of the staying Gaggle after test 1 and after test {t}, and the "
                  f"growth per test from test 1 and from test {h} (warm-up shows as the difference):",
                  "",
                  f"| process | RSS, test 1 | RSS, test {t} | per test | per test from {h} "
                  f"| fds, test 1 | fds, test {t} | per test |",
                  "|---|---|---|---|---|---|---|---|"]
        for name in first:
            (r1, f1), (rh, _), (r2, f2) = first[name], half[name], last[name]
            lines.append(f"| {name} | {r1} kB | {r2} kB | {(r2 - r1) / (t - 1):+.1f} kB "
                         f"| {(r2 - rh) / (t - h):+.1f} kB | {f1} | {f2} | {(f2 - f1) / (t - 1):+.2f} |")
        lines.append("")
    counted = [c for c in n["stay_counts"] + n["oneshot_counts"] if c]
    exact = sum(1 for total, served in counted if total == served)
    lines.append(f"Requests: {exact} of {len(n['stay_counts']) + len(n['oneshot_counts'])} reports "
                 "count exactly what goose-target served during their test.")
    for f in n["failures"]:
        lines.append(f"FAIL: {f}")
    lines.append("<!-- bench:serve:end -->")
    open(os.path.join(D, "section.md"), "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a timeout or a process that did not answer: loud, status 1
        fail(f"{type(e).__name__}: {e}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    sys.exit(1 if failures else 0)
