#!/usr/bin/env python3
"""examples/docker/compose.yaml with podman, for tests/containers/test.sh.

  compose.py build COMPOSE_YAML
    podman build of the compose file's image: its context, dockerfile,
    build args and tag (and the dockerfile's DOCKERFILE.dockerignore).
  compose.py image-json COMPOSE_YAML
    What tests/docker-check.py reads of the runtime stage (RUNTIME_JSON),
    from the built image (podman image inspect: user, workdir, entrypoint,
    exposed ports) and its dockerfile's last stage (the apt-get packages).
  compose.py up COMPOSE_YAML
    Its target, Manager and Workers as containers on the host's network,
    started in the compose file's order (depends_on: service_healthy, by
    running its healthchecks), with its entrypoint, GOOSE_* environment,
    env_file, named volume, replicas and restart policies.  Two tests: the
    Manager runs one and exits, the Workers come back by their restart
    policy, `podman start` of the Manager runs the second (the compose
    file's "docker compose start manager").  After each, the Manager's
    JSON report must count exactly the requests the target's /stats counted.
  compose.py up-serve COMPOSE_YAML
    The same for the long-lived form (compose.serve.yaml): the Manager stays
    up (--no-autostart) and two tests run over its controller on the same
    Worker containers (their IDs and start times unchanged, no restart),
    each report exact; then the controller's shutdown: the Manager's restart
    policy brings it back and the Workers join it again; `podman stop` of a
    Worker: it exits 0.

What differs from the compose file, and why: every address is 127.0.0.1
and every port a free one (the host's network: service names are --add-host
entries for 127.0.0.1, and 8080/5115 may be taken; the target and the
Manager start again on two other ports (3 tries in all) when one was taken
before its container bound it); the run is shorter
(GOOSE_RUN_TIME), the report is .json rather than .html in the same volume
(the test reads it) and keeps the hatch phase's requests
(GOOSE_NO_RESET_METRICS: the target counts them too); the gaggle key is a
fresh one in a temporary env file (what the compose file's openssl line
writes); each container is limited to 1 GB and 512 processes.  In
compose.serve.yaml the controller binds 127.0.0.1 and a free port itself
(GOOSE_CONTROLLER): on the host's network a published port means nothing,
and what the publication allows, the host's loopback, is where it is then.
Containers and the volume carry the label io.libgoose.test=$GOOSE_CONTAINERS_RUN and are
removed at the end, whatever happens.
"""
import json, os, re, secrets, signal, socket, subprocess, sys, tempfile, time, urllib.request

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import serve_session

RUN_TIME = "5s"        # the compose file's 1m, shortened
START_TIMEOUT = 60     # s: the Workers come back after a test
TEST_TIMEOUT = 60      # s: a test is over (the Manager exits; it runs 5 s)
BIND_ATTEMPTS = 3      # starts of the target and Manager on fresh ports
LIMITS = ["--memory", "1g", "--pids-limit", "512"]  # per container

failures = []
run_id = os.environ.get("GOOSE_CONTAINERS_RUN") or f"goose-ct-{os.getpid()}"
label = f"io.libgoose.test={run_id}"


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def fatal(what):
    check(False, what)
    raise SystemExit(1)


def podman(*args, timeout=60, check_rc=True):
    r = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check_rc and r.returncode != 0:
        fatal(f"podman {' '.join(args[:3])}...: status {r.returncode}: {r.stderr.strip()[-500:]}")
    return r


def load(path):
    c = yaml.safe_load(open(path))
    s = c.get("services") or {}
    for name in ("target", "manager", "worker"):
        if name not in s:
            fatal(f"{path}: no service {name}")
    return c, s


def build(path):
    here = os.path.dirname(os.path.abspath(path))
    _, s = load(path)
    svc = s["manager"]
    b = svc.get("build") or {}
    ctx = os.path.normpath(os.path.join(here, b.get("context", ".")))
    df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
    argv = ["podman", "build", "--pull=never", "--network", "host", "--layers", "-f", df,
            "-t", svc["image"]]
    if os.path.exists(df + ".dockerignore"):  # BuildKit's per-Dockerfile ignore file
        argv += ["--ignorefile", df + ".dockerignore"]
    for k, v in (b.get("args") or {}).items():
        argv += ["--build-arg", f"{k}={v}"]
    print(" ".join(argv[1:]), flush=True)
    os.execvp("podman", argv + [ctx])


def image_json(path):
    import importlib.util
    here = os.path.dirname(os.path.abspath(path))
    _, s = load(path)
    svc = s["manager"]
    b = svc.get("build") or {}
    df = os.path.join(os.path.normpath(os.path.join(here, b.get("context", "."))),
                      b.get("dockerfile", "Dockerfile"))
    spec = importlib.util.spec_from_file_location(
        "replay", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dockerfile-replay.py"))
    replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replay)
    pkgs = []
    for _, ins, rest in replay.stages_of(df)[-1]["lines"]:
        if ins == "RUN":
            pkgs += replay.apt_packages(rest)
    cfg = json.loads(podman("image", "inspect", svc["image"]).stdout)[0]["Config"]
    json.dump({"packages": pkgs, "user": cfg.get("User"), "workdir": cfg.get("WorkingDir"),
               "entrypoint": cfg.get("Entrypoint"),
               "expose": [p.split("/")[0] for p in cfg.get("ExposedPorts") or {}]}, sys.stdout, indent=1)
    print()


def free_ports(n):
    """n distinct ports free now: all n sockets stay bound until the last
    one has its port.  Another process may still take one before its
    container binds it: up() then starts again on other ports."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def in_use(name):
    """The service could not bind its port (goose-target and the Manager
    print strerror(EADDRINUSE))."""
    return "Address already in use" in logs(name)


def remove(*names):
    podman("rm", "-f", "-t", "0", *(f"{run_id}-{n}" for n in names), check_rc=False, timeout=120)


def env_of(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) for x in e)
    return {k: str(v) for k, v in e.items()}


def restart_of(svc):
    r = str(svc.get("restart", "no"))
    return "no" if r in ("no", "False", "false") else r


def health_argv(svc, port):
    """The compose healthcheck's CMD, on this run's port."""
    test = (svc.get("healthcheck") or {}).get("test") or []
    if test[:1] != ["CMD"]:
        fatal(f"healthcheck {test}: expected [\"CMD\", ...]")
    return [re.sub(r"/127\.0\.0\.1/\d+$", f"/127.0.0.1/{port}", w) for w in test[1:]]


def wait_healthy(name, svc):
    """depends_on: service_healthy: the healthcheck run at its interval, at
    most retries times (podman's own timers need systemd)."""
    hc = svc["healthcheck"]
    secs = lambda v: float(str(v).rstrip("s"))
    for _ in range(int(hc.get("retries", 3))):
        r = podman("healthcheck", "run", f"{run_id}-{name}", check_rc=False,
                   timeout=secs(hc.get("timeout", "30s")) + 10)
        if r.returncode == 0:
            return True
        if podman("inspect", "-f", "{{.State.Running}}", f"{run_id}-{name}").stdout.strip() != "true":
            break
        time.sleep(secs(hc.get("interval", "30s")))
    return False


def start(name, svc, image, env, args=None, entrypoint=None, extra=()):
    argv = ["run", "-d", "--name", f"{run_id}-{name}", "--label", label, "--network", "host",
            "--restart", restart_of(svc), *LIMITS, *extra]
    if svc.get("healthcheck"):
        argv += ["--health-cmd", json.dumps(svc["_health"]), "--health-interval", "disable"]
    for k, v in env.items():
        argv += ["-e", f"{k}={v}"]
    if entrypoint:
        argv += ["--entrypoint", entrypoint]
    podman(*argv, image, *(args or []))


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as r:
        return json.load(r)


def logs(name):
    r = podman("logs", f"{run_id}-{name}", check_rc=False)
    return r.stdout + r.stderr


def state(name):
    r = podman("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}",
               f"{run_id}-{name}", check_rc=False)
    status, code, restarts = (r.stdout.split() + ["?", "-1", "-1"])[:3]
    return status, int(code), int(restarts)


def one_test(n, tport, gport, replicas, work, before):
    """Waits for the Manager's test to end, then compares its report with
    what the target counted since `before`."""
    deadline = time.time() + TEST_TIMEOUT
    while state("manager")[0] == "running" and time.time() < deadline:
        time.sleep(0.5)
    status, code, _ = state("manager")  # "stopped" after a podman start
    mlog = logs("manager")
    if not check(status in ("exited", "stopped") and code == 0,
                 f"test {n}: the Manager exits 0 ({status}, {code})"):
        print(mlog[-3000:])
    lines = [json.loads(l) for l in mlog.splitlines() if l.startswith("{")]
    check(lines and all(set(o) == {"time", "host", "level", "message"} for o in lines),
          f"test {n}: the Manager logs {len(lines)} JSON lines")
    check(any(o["message"].startswith(f"manager listening on 127.0.0.1:{gport} for {replicas} workers")
              for o in lines), f"test {n}: the Manager listened for the compose file's {replicas} Workers")
    dest = os.path.join(work, f"report{n}")
    os.makedirs(dest)
    podman("cp", f"{run_id}-manager:/reports/report.json", dest)  # from the named volume
    r = json.load(open(os.path.join(dest, "report.json")))
    after = stats(tport)
    total = after["total"] - before["total"]
    counted = sum(q["count"] for q in r["requests"])
    print(f"      test {n}: the target served {total} requests, the report counts {counted} "
          f"(totals {r['totals']['count']}), workers {[x['requests'] for x in r.get('workers', [])]}")
    check(total > 100, f"test {n}: the target served {total} requests (> 100)")
    check(counted == total and r["totals"]["count"] == total,
          f"test {n}: the report counts exactly the requests the target served")
    ws = r.get("workers", [])
    check(len(ws) == replicas and all(x["state"] == "done" and x["requests"] > 0 for x in ws)
          and sum(x["requests"] for x in ws) == total,
          f"test {n}: {len(ws)} Workers done, each made requests, together all of them")
    check(r.get("gaggle_authenticated") is True, f"test {n}: the Workers proved the key")
    # every request named by its path (not "/node/[id]" or "edit node"):
    # its count is the target's for that path
    paths = {}
    for q in r["requests"]:
        if q["name"].startswith("/") and "[" not in q["name"]:
            paths[q["name"]] = paths.get(q["name"], 0) + q["count"]
    served = lambda p: after["paths"].get(p, 0) - before["paths"].get(p, 0)
    wrong = [f"{p}: {c} != {served(p)}" for p, c in paths.items() if c != served(p)]
    check(paths and not wrong, f"test {n}: per page, {len(paths)} pages as the target counted them"
          + "".join("; " + w for w in wrong))
    return after


def up(path, serve=False):
    c, s = load(path)
    here = os.path.dirname(os.path.abspath(path))
    t, m, w = s["target"], s["manager"], s["worker"]
    image = m["image"]
    me, we = env_of(m), env_of(w)
    replicas = int((w.get("deploy") or {}).get("replicas", 1))
    check(restart_of(w) in ("always", "unless-stopped") and
          restart_of(m) in (("always", "unless-stopped") if serve else ("no",)),
          f"restart policies: Workers {restart_of(w)}, Manager {restart_of(m)}")
    tmp = tempfile.TemporaryDirectory(prefix="goose-containers.")
    work = tmp.name
    key_file = os.path.join(work, "gaggle.env")
    with open(key_file, "w") as f:
        f.write(f"GOOSE_GAGGLE_KEY={secrets.token_hex(32)}\n")
    env_files = [x if isinstance(x, str) else x["path"] for x in
                 (m.get("env_file") if isinstance(m.get("env_file"), list) else [m.get("env_file")]) if x]
    check(env_files and all(os.path.basename(f) == "gaggle.env" for f in env_files),
          f"the key comes from {env_files}")

    hosts = ["--add-host", "target:127.0.0.1", "--add-host", "manager:127.0.0.1"]

    # volumes: the compose file's named ones, as this run's
    vols = []
    for v in m.get("volumes") or []:
        src, dst = v.split(":")[:2]
        if src in (c.get("volumes") or {}):
            podman("volume", "create", "--label", label, f"{run_id}-{src}")
            src = f"{run_id}-{src}"
        vols += ["-v", f"{src}:{dst}"]

    # the target and the Manager on two free ports; again on two others
    # when one was taken before its container bound it
    for attempt in range(1, BIND_ATTEMPTS + 1):
        tport, gport, cport = free_ports(3)
        # the target: the compose entrypoint on 127.0.0.1:tport
        ep = list(t["entrypoint"])
        ep[ep.index("--host") + 1] = "127.0.0.1"
        ep[ep.index("--port") + 1] = str(tport)
        t["_health"] = health_argv(t, tport)
        m["_health"] = health_argv(m, gport)
        url = me["GOOSE_HOST"]
        menv = {**me, "GOOSE_MANAGER_BIND_HOST": "127.0.0.1", "GOOSE_MANAGER_BIND_PORT": str(gport),
                "GOOSE_HOST": re.sub(r":\d+(/|$)", f":{tport}\\1", url), "GOOSE_RUN_TIME": RUN_TIME,
                "GOOSE_REPORT_FILE": re.sub(r"\.html$", ".json", me["GOOSE_REPORT_FILE"]),
                "GOOSE_NO_RESET_METRICS": "1"}
        if serve:  # its controller on the host's loopback (published there)
            menv["GOOSE_CONTROLLER"] = f"127.0.0.1:{cport}"
        wenv = {**we, "GOOSE_MANAGER_PORT": str(gport)}
        print(f"      target 127.0.0.1:{tport}, Manager 127.0.0.1:{gport}, {replicas} Workers, "
              f"GOOSE_HOST={menv['GOOSE_HOST']}", flush=True)
        last = attempt == BIND_ATTEMPTS
        start("target", t, image, {}, ep[1:], entrypoint=ep[0])
        ok = wait_healthy("target", t)
        if not ok and not last and in_use("target"):
            print(f"      port {tport} was taken before the target bound it: again", flush=True)
            remove("target")
            continue
        if not check(ok, "target: healthy (the compose healthcheck, in the container)"):
            fatal("the target is not up: " + logs("target")[-1000:])
        before = stats(tport)
        start("manager", m, image, menv, extra=hosts + vols + sum((["--env-file", key_file] for _ in env_files), []))
        ok = wait_healthy("manager", m)
        if not ok and not last and in_use("manager"):
            print(f"      port {gport} was taken before the Manager bound it: again", flush=True)
            remove("target", "manager")
            continue
        if not check(ok, "manager: healthy (listening)"):
            fatal("the Manager is not up: " + logs("manager")[-2000:])
        break
    for i in range(replicas):
        start(f"worker-{i + 1}", w, image, wenv, extra=hosts + ["--env-file", key_file])
    if serve:
        serve_tests(cport, tport, replicas, int(menv["GOOSE_USERS"]), menv["GOOSE_REPORT_FILE"])
        tmp.cleanup()
        return
    after = one_test(1, tport, gport, replicas, work, before)

    # the Workers come back by their restart policy; the Manager's next test
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline and not all(
            state(f"worker-{i + 1}")[2] >= 1 for i in range(replicas)):
        time.sleep(0.5)
    counts = [state(f"worker-{i + 1}")[2] for i in range(replicas)]
    if not check(all(x >= 1 for x in counts), f"the Workers were restarted after the test ({counts} restarts)"):
        fatal("no second test without the Workers")
    podman("start", f"{run_id}-manager")
    if not check(wait_healthy("manager", m), "manager: healthy again (podman start)"):
        fatal("the Manager is not up again: " + logs("manager")[-2000:])
    one_test(2, tport, gport, replicas, work, after)
    tmp.cleanup()


def inspect(name, fmt):
    return podman("inspect", "-f", fmt, f"{run_id}-{name}", check_rc=False).stdout.strip()


def serve_tests(cport, tport, replicas, users, report):
    """Two tests over the controller on the same Worker containers, then
    shutdown (the Manager comes back by its restart policy, the Workers join
    it again) and podman stop of a Worker (exit 0)."""
    names = [f"worker-{i + 1}" for i in range(replicas)]
    ids = {n: inspect(n, "{{.Id}} {{.State.StartedAt}}") for n in names}
    same = lambda: all(inspect(n, "{{.Id}} {{.State.StartedAt}}") == ids[n]
                       and state(n)[0] == "running" and state(n)[2] == 0 for n in names)
    # the reports: in the named volume, read where podman keeps it
    vol = next(x["Source"] for x in json.loads(inspect("manager", "{{json .Mounts}}"))
               if x["Destination"] == os.path.dirname(report))
    try:
        serve_session.two_tests(check, cport, tport, os.path.join(vol, os.path.basename(report)),
                                replicas, users, alive=same)
    except (TimeoutError, AssertionError, OSError) as e:
        fatal(f"two tests over the controller: {e}")
    for n in names:  # both tests on the connection each Worker opened once
        msgs = [json.loads(x)["message"] for x in logs(n).splitlines() if x.startswith("{")]
        joins = sum(m.startswith("joined the manager at") for m in msgs)
        overs = msgs.count("test over: waiting for the next one")
        check(joins == 1 and overs == 2,
              f"{n}: joined once, two tests over on that connection ({joins}, {overs})")
    answer = serve_session.telnet(cport, ["shutdown"])
    check(answer.startswith("ok"), f"telnet shutdown: {answer.strip()}")
    try:
        d = serve_session.wait_config(cport, lambda d: d.get("workers") == replicas and d.get("tests") == 0,
                                      "a fresh Manager, joined by the Workers", START_TIMEOUT)
    except TimeoutError as e:
        fatal(str(e))
    check(state("manager")[2] >= 1 and d.get("state") == "idle",
          f"after shutdown the Manager's restart policy started a fresh one ({state('manager')[2]} "
          f"restarts), which the {d.get('workers')} Workers joined")
    check(same(), "... the same Worker containers, never restarted")
    podman("stop", "-t", "20", f"{run_id}-{names[0]}", timeout=60)
    st = state(names[0])
    check(st[0] == "exited" and st[1] == 0, f"podman stop {names[0]}: SIGTERM, exit 0 ({st[:2]})")


def dump_logs():
    """The end of every container's log, for a failed run."""
    names = podman("ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}",
                   check_rc=False).stdout.split()
    for name in sorted(names):
        name = name[len(run_id) + 1:]
        status, code, restarts = state(name)
        print(f"--- {name} ({status}, exit {code}, {restarts} restarts), its log's end:\n"
              + logs(name)[-1500:])


def cleanup():
    ids = podman("ps", "-aq", "--filter", f"label={label}", check_rc=False).stdout.split()
    if ids:
        podman("rm", "-f", "-t", "0", *ids, check_rc=False, timeout=120)
    vols = podman("volume", "ls", "-q", "--filter", f"label={label}", check_rc=False).stdout.split()
    if vols:
        podman("volume", "rm", "-f", *vols, check_rc=False)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("build", "image-json", "up", "up-serve"):
        sys.exit(__doc__)
    if sys.argv[1] == "build":
        build(sys.argv[2])
    if sys.argv[1] == "image-json":
        return image_json(sys.argv[2])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        up(sys.argv[2], serve=sys.argv[1] == "up-serve")
    finally:
        if failures:
            dump_logs()
        cleanup()
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
