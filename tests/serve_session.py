"""A controller session with a Manager that stays up (--no-autostart), for
tests/test-kubernetes.sh, tests/docker-check.py and tests/containers/compose.py:
tests one after another started over the controller (HTTP and telnet
sides), each test's report (its {n} file) compared with what goose-target
counted during it.  Every wait is bounded; every address is 127.0.0.1.
"""
import glob, json, socket, time, urllib.error, urllib.request

JOIN_TIMEOUT = 30   # s: the serving Workers have joined the Manager
TEST_TIMEOUT = 60   # s: a started test is over (it runs a few seconds)


def control(port, command, value=None, timeout=10):
    """One command on the controller's HTTP side: its JSON answer."""
    body = b"" if value is None else str(value).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/{command}", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:  # 400: an answer with "ok": false
        return json.load(e)


def telnet(port, lines, timeout=10):
    """Lines on the telnet side, then the write side closed (what `nc -N`
    does): every answer, up to the controller's close."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.settimeout(timeout)
        s.sendall("".join(line + "\n" for line in lines).encode())
        s.shutdown(socket.SHUT_WR)
        out = b""
        while len(out) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def config(port):
    """The controller's config (the next or running test, state, workers,
    tests), or None while it does not answer."""
    try:
        return control(port, "config", timeout=5).get("data")
    except (OSError, ValueError):
        return None


def wait_config(port, pred, what, timeout):
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        last = config(port)
        if last is not None and pred(last):
            return last
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not after {timeout} s (config: {last})")


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as r:
        return json.load(r)


def report_of(pattern, n, read=None):
    """Test n's report: pattern is the --report-file path with its {n} and
    {time} placeholders, as this side sees it; read(path) opens another
    root's file (a container's), default the local one."""
    files = sorted(glob.glob(pattern.replace("{n}", str(n)).replace("{time}", "*")))
    if len(files) != 1:
        raise AssertionError(f"test {n}: {len(files)} report files match {pattern}: {files}")
    return files[0], json.load(read(files[0]) if read else open(files[0]))


def check_report(check, r, n, before, after, workers, users):
    """The report of test n against the target's counts between before and
    after: exact, split over `workers` Workers that all finished."""
    total = after["total"] - before["total"]
    counted = sum(q["count"] for q in r["requests"])
    ws = r.get("workers", [])
    print(f"      test {n}: the target served {total} requests, the report counts {counted} "
          f"(totals {r['totals']['count']}), workers {[x['requests'] for x in ws]}", flush=True)
    check(total > 0, f"test {n}: the target served {total} requests")
    check(counted == total and r["totals"]["count"] == total,
          f"test {n}: the report counts exactly the requests the target served")
    check(len(ws) == workers and all(x["state"] == "done" and x["requests"] > 0 for x in ws)
          and sum(x["requests"] for x in ws) == total,
          f"test {n}: {len(ws)} Workers done, each made requests, together all of them")
    check(r.get("users") == users, f"test {n}: {r.get('users')} users, as set for it")
    check(r.get("gaggle_authenticated") is True, f"test {n}: the Workers proved the key")


def two_tests(check, cport, tport, report, workers, users, alive=lambda: True, read=None):
    """Waits for `workers` Workers to join, then two tests: the first
    started over HTTP with the configured options, the second over telnet
    after `users N` changed its users (users - 1 of them).  alive() says
    whether the same Workers are still up (processes or containers): it
    is checked after each test.  Returns the last config."""
    d = wait_config(cport, lambda d: d.get("workers", 0) >= workers and d.get("state") == "idle",
                    f"{workers} Workers joined, the Manager idle", JOIN_TIMEOUT)
    check(d.get("tests") == 0, f"the Manager is idle with {d.get('workers')} Workers joined, no test run")
    before = stats(tport)
    a = control(cport, "start")
    if not check(a.get("ok") is True and "test 1" in a.get("message", ""),
                 f"POST /start: {a.get('message')}"):
        raise AssertionError("test 1 did not start")
    d = wait_config(cport, lambda d: d.get("tests") == 1 and d.get("state") == "idle",
                    "test 1 over", TEST_TIMEOUT)
    after = stats(tport)
    path, r = report_of(report, 1, read)
    check_report(check, r, 1, before, after, workers, users)
    check(alive(), "after test 1 the same Workers are up, waiting for the next test")

    text = telnet(cport, [f"users {users - 1}", "start"])
    lines = [x for x in text.splitlines() if x.startswith(("ok", "error"))]
    if not check(len(lines) == 2 and all(x.startswith("ok") for x in lines) and "test 2" in lines[1],
                 f"telnet users {users - 1}, start: {lines}"):
        raise AssertionError("test 2 did not start")
    d = wait_config(cport, lambda d: d.get("tests") == 2 and d.get("state") == "idle",
                    "test 2 over", TEST_TIMEOUT)
    path2, r = report_of(report, 2, read)
    check(path2 != path, f"test 2 has a report file of its own ({path2})")
    check_report(check, r, 2, after, stats(tport), workers, users - 1)
    check(alive(), "after test 2 the same Workers are up")
    return d
