#!/usr/bin/env python3
"""Checks for tests/test-docker.sh, on what tests/dockerfile-replay.py made.

  docker-check.py libs RUNTIME_ROOT RUNTIME_JSON [--chroot]
    Every library the image's programs need (objdump -p NEEDED, then ldd)
    comes from a Debian package that the runtime stage installs (dpkg -S),
    and the stage installs nothing else but ca-certificates.
  docker-check.py compose COMPOSE_YAML RUNTIME_ROOT RUNTIME_JSON WORKDIR [--chroot] [--serve]
    The compose file's wiring, then its target, Manager and Workers run as
    processes on 127.0.0.1 through the image's ENTRYPOINT, with the compose
    file's GOOSE_* variables (addresses, ports and run time replaced).
    --serve: the long-lived form (compose.serve.yaml): a Manager that stays
    up (--no-autostart) with its controller published on 127.0.0.1 only,
    serving Workers; its processes run two tests over the controller on the
    same Workers, each report exact against the target's counts, then the
    controller's shutdown (the Workers stay) and SIGTERM (they exit 0).
With --chroot, RUNTIME_ROOT is a Debian root file system holding only the
runtime stage, and every program runs inside it as the image's USER.
With --wiring-only, compose checks the wiring and runs nothing (make
test-containers runs the services as containers, on the image's root).
"""
import json, os, re, secrets, shutil, signal, socket, subprocess, sys, time, urllib.parse

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_session

CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"  # sbin may be off PATH

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)
    return ok


def done():
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


class Root:
    """Runs commands on the host (stage files under ROOT) or in a chroot."""

    def __init__(self, root, chroot, user=None):
        self.root, self.chroot, self.user = os.path.abspath(root), chroot, user

    def path(self, p):  # a path of the image, as seen from here
        return self.root + p

    def run(self, argv, **kw):
        if self.chroot:
            argv = [CHROOT, self.root] + argv
        return subprocess.run(argv, capture_output=True, text=True, **kw)

    def dpkg_owner(self, path):
        base = os.path.basename(path)
        for q in (path, re.sub(r"^/usr", "", path), "/usr" + path, "*/" + base):
            r = self.run(["dpkg", "-S", q])
            for line in r.stdout.splitlines():
                pkgs, _, found = line.partition(": ")
                if os.path.basename(found) == base and not pkgs.startswith("diversion"):
                    return pkgs.split(",")[0].split(":")[0].strip()
        return None

    def depends_closure(self, pkgs):
        seen, todo = set(), list(pkgs)
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            r = self.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", p])
            for dep in r.stdout.split(","):
                for alt in dep.split("|"):
                    name = re.sub(r"\(.*?\)", "", alt).strip().split(":")[0]
                    if name and self.run(["dpkg-query", "-W", "-f=${Status}", name]).stdout.endswith("ok installed"):
                        todo.append(name)
        return seen


def libs(rt_dir, rt_json, chroot):
    rt = json.load(open(rt_json))
    listed = set(rt["packages"])
    root = Root(rt_dir, chroot)
    elfs = []
    for d in ("/usr/local/bin", "/usr/local/lib"):
        for name in sorted(os.listdir(root.path(d))):
            p = root.path(d + "/" + name)
            if os.path.isfile(p) and not os.path.islink(p) and open(p, "rb").read(4) == b"\x7fELF":
                elfs.append(d + "/" + name)
    check({"/usr/local/bin/loadtest", "/usr/local/bin/goose-target"} <= set(elfs),
          f"the image holds loadtest and goose-target ({', '.join(elfs)})")
    env = dict(os.environ)
    if not chroot:
        env["LD_LIBRARY_PATH"] = root.path("/usr/local/lib")
    direct, used = {}, set()
    closure = root.depends_closure(listed) | {"libc6"}
    for elf in elfs:
        dump = subprocess.run(["objdump", "-p", root.path(elf)], capture_output=True, text=True).stdout
        needed = re.findall(r"NEEDED\s+(\S+)", dump)
        r = root.run(["ldd", elf if chroot else root.path(elf)], env=env)
        resolved = {}
        for line in r.stdout.splitlines():
            m = re.match(r"\s*(\S+) => (not found|\S+)", line)
            if m:
                resolved[m.group(1)] = m.group(2)
        check(r.returncode == 0 and "not found" not in resolved.values(),
              f"{elf}: ldd finds every library" +
              "".join(f"; {k} not found" for k, v in resolved.items() if v == "not found"))
        indirect = []
        for lib, path in resolved.items():
            if path == "not found":
                continue
            inner = path[len(root.root):] if not chroot and path.startswith(root.root) else path
            if inner.startswith("/usr/local/lib/"):
                check(lib.startswith("libgoose.so"), f"{elf}: {lib} is libgoose, copied from the build stage")
                continue
            pkg = root.dpkg_owner(os.path.realpath(path) if not chroot else inner)
            if lib in needed:
                direct[lib] = pkg
                used.add(pkg)
                check(pkg in listed | {"libc6"},
                      f"{elf}: NEEDED {lib} is in {pkg}, installed by the runtime stage")
            elif pkg not in closure:
                indirect.append(f"{lib} ({pkg})")
        check(not indirect, f"{elf}: the libraries that its libraries need come from "
              "dependencies of the runtime packages" + "".join("; not " + x for x in indirect))
    extra = listed - used - {"ca-certificates"}
    check(not extra, "the runtime stage installs no package that nothing needs"
          + (f": {' '.join(sorted(extra))}" if extra else ""))
    check("ca-certificates" in listed, "ca-certificates, for https:// targets")
    done()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env_of(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) for x in e)
    return {k: str(v) for k, v in e.items()}


def read_env_file(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def truthy(v):
    return str(v).lower() in ("1", "true", "yes", "on")


def health_port(svc):
    test = " ".join((svc.get("healthcheck") or {}).get("test") or [])
    m = re.search(r"/dev/tcp/127\.0\.0\.1/(\d+)", test)
    return m and m.group(1)


def published(svc):
    """The service's published ports as (host address, host port, container
    port); short ("127.0.0.1:5116:5116", "5116:5116", "5116") and long syntax."""
    out = []
    for p in svc.get("ports") or []:
        if isinstance(p, dict):
            out.append((p.get("host_ip", ""), str(p.get("published", "")), str(p.get("target"))))
            continue
        parts = str(p).split("/")[0].split(":")
        parts = [""] * (3 - len(parts)) + parts
        out.append((":".join(parts[:-2]), parts[-2], parts[-1]))
    return out


def serve_wiring(s, m, w, me, we, here):
    """What the long-lived form adds: the Manager stays up and is run by its
    controller, reached from the host's loopback only; Workers serve test
    after test; each test its own report; the one-shot form's image."""
    check(truthy(me.get("GOOSE_NO_AUTOSTART")) and not we.get("GOOSE_NO_AUTOSTART"),
          "manager: GOOSE_NO_AUTOSTART (it stays up, a test at each start)")
    check(truthy(we.get("GOOSE_WORKER_RECONNECT")) and not me.get("GOOSE_WORKER_RECONNECT"),
          "worker: GOOSE_WORKER_RECONNECT (test after test, Manager after Manager)")
    ctl = me.get("GOOSE_CONTROLLER", "")
    cport = ctl.rpartition(":")[2]
    pub = published(m)
    check(cport.isdigit() and any(c == cport for _, _, c in pub),
          f"manager: the controller {ctl} is published ({pub})")
    check(pub and all(h == "127.0.0.1" for h, _, _ in pub) and
          not any(published(s[n]) for n in s if n != "manager"),
          "every published port is on the host's 127.0.0.1 only (the controller has no authentication)")
    check(not we.get("GOOSE_CONTROLLER"), "worker: no controller")
    check(m.get("restart") in ("always", "unless-stopped"),
          f"the manager comes back after a crash or a shutdown: restart {m.get('restart')}")
    check(w.get("restart") == "unless-stopped", f"workers: restart {w.get('restart')}")
    check("{n}" in me.get("GOOSE_REPORT_FILE", ""),
          f"manager: a report file per test ({me.get('GOOSE_REPORT_FILE')} has {{n}})")
    one_shot = os.path.join(here, "compose.yaml")
    if os.path.isfile(one_shot):
        o = (yaml.safe_load(open(one_shot)).get("services") or {}).get("manager") or {}
        check(o.get("image") == m.get("image") and o.get("build") == m.get("build"),
              f"the image and build of compose.yaml ({m.get('image')}): one build for both forms")
    return ctl


def compose(path, rt_dir, rt_json, work, chroot, wiring_only=False, serve=False):
    rt = json.load(open(rt_json))
    here = os.path.dirname(os.path.abspath(path))
    c = yaml.safe_load(open(path))
    s = c.get("services") or {}
    check({"target", "manager", "worker"} <= set(s), "services target, manager and worker")
    t, m, w = s["target"], s["manager"], s["worker"]
    me, we = env_of(m), env_of(w)

    # one image, built by examples/docker/Dockerfile from the top of the tree
    images = {x.get("image") for x in (t, m, w)}
    check(len(images) == 1 and None not in images, f"one image for every service: {images}")
    b = m.get("build") or {}
    ctx = os.path.normpath(os.path.join(here, b.get("context", ".")))
    check(os.path.isfile(os.path.join(ctx, b.get("dockerfile", "Dockerfile")))
          and os.path.isfile(os.path.join(ctx, "Makefile")),
          f"build: context {b.get('context')} is the tree, dockerfile {b.get('dockerfile')} in it")
    lt = (b.get("args") or {}).get("LOADTEST")
    check(lt is None or os.path.isfile(os.path.join(ctx, lt)), f"build arg LOADTEST={lt} exists")

    # configuration through GOOSE_* variables only, each an option of the load test
    root = Root(rt_dir, chroot)
    env = {"PATH": os.environ["PATH"]} if chroot else \
          {"PATH": os.environ["PATH"], "LD_LIBRARY_PATH": root.path("/usr/local/lib")}
    helped = root.run([("/usr/local/bin/loadtest" if chroot else root.path("/usr/local/bin/loadtest")),
                       "--help"], env=env).stdout
    options = {"GOOSE_" + o.upper().replace("-", "_") for o in re.findall(r"--([a-z0-9-]+)", helped)}
    check(len(options) > 40, f"loadtest --help lists {len(options)} options")
    for name, e in (("manager", me), ("worker", we)):
        unknown = [k for k in e if k not in options]
        check(not unknown, f"{name}: every variable is a GOOSE_* option" +
              (f" (not: {' '.join(unknown)})" if unknown else ""))
        check(not ({"command", "entrypoint"} & set(s[name])),
              f"{name}: the image's ENTRYPOINT, no command line")
        check(e.get("GOOSE_LOG_FORMAT") == "json", f"{name}: JSON log lines")
    check(truthy(me.get("GOOSE_MANAGER")) and not me.get("GOOSE_WORKER"), "manager: GOOSE_MANAGER")
    check(truthy(we.get("GOOSE_WORKER")) and not we.get("GOOSE_MANAGER"), "worker: GOOSE_WORKER")

    # Workers: how many, where the Manager is, restart policy
    replicas = (w.get("deploy") or {}).get("replicas", 1)
    check(str(replicas) == me.get("GOOSE_EXPECT_WORKERS"),
          f"worker replicas {replicas} == manager GOOSE_EXPECT_WORKERS {me.get('GOOSE_EXPECT_WORKERS')}")
    check(we.get("GOOSE_MANAGER_HOST") == "manager", "workers dial the manager service by name")
    port = me.get("GOOSE_MANAGER_BIND_PORT", "5115")
    exposed = [str(p).split(":")[-1] for p in (m.get("expose") or []) + (m.get("ports") or [])]
    check(port == "5115" and port in exposed and we.get("GOOSE_MANAGER_PORT", "5115") == port
          and port in rt["expose"] and health_port(m) == port,
          f"port {port}: manager binds, exposes and health-checks it, the image EXPOSEs it, "
          "workers dial it")
    dep = lambda svc, on: ((svc.get("depends_on") or {}).get(on) or {}).get("condition")
    if serve:
        serve_wiring(s, m, w, me, we, here)
        check(dep(m, "target") == "service_healthy", "the manager waits for a healthy target")
    else:
        check(m.get("restart", "no") == "no", "the manager runs one test: not restarted")
        check(w.get("restart") in ("always", "unless-stopped"),
              f"workers restart after every test (exit 0) and when the manager is not up yet "
              f"(exit 1): restart {w.get('restart')}")
        # start order: target healthy, then manager healthy, then workers
        check(dep(m, "target") == "service_healthy" and dep(w, "manager") == "service_healthy",
              "workers wait for a healthy manager, the manager for a healthy target")

    # the target: listens on every address, on the port GOOSE_HOST names
    ep = t.get("entrypoint") or []
    tport = ep[ep.index("--port") + 1] if "--port" in ep else None
    url = urllib.parse.urlparse(me.get("GOOSE_HOST", ""))
    check(ep[:1] == ["goose-target"] and "0.0.0.0" in ep and url.hostname == "target"
          and str(url.port) == tport and health_port(t) == tport,
          f"target: goose-target on 0.0.0.0:{tport}, which the manager's GOOSE_HOST {url.geturl()} names")

    # the key: from the same env file (never committed) on both sides
    for name in ("manager", "worker"):
        check(not any(k.startswith("GOOSE_GAGGLE_KEY") for k in env_of(s[name])),
              f"{name}: no key written in compose.yaml")
    ef = lambda svc: [x if isinstance(x, str) else x["path"] for x in
                      (svc.get("env_file") if isinstance(svc.get("env_file"), list) else [svc.get("env_file")])
                      if x]
    check(ef(m) and ef(m) == ef(w), f"manager and workers read the key from {ef(m)}")
    ignored = open(os.path.join(here, ".gitignore")).read().split()
    check(all(f in ignored for f in ef(m)), "the key's env file is in .gitignore")

    # reports go to a volume at the image's WORKDIR
    report = me.get("GOOSE_REPORT_FILE", "")
    mounts = [v.split(":")[1] for v in m.get("volumes") or [] if isinstance(v, str)]
    check(os.path.dirname(report) in mounts and os.path.dirname(report) == rt["workdir"],
          f"the report {report} goes to a volume at the image's WORKDIR {rt['workdir']}")
    done()
    if wiring_only:
        return

    health = {n: s[n]["healthcheck"]["test"] for n in ("target", "manager")}
    run_gaggle(rt, rt_dir, work, me, we, replicas, ef(m), chroot, url, health, serve)


def run_gaggle(rt, rt_dir, work, me, we, replicas, env_files, chroot, url, health, serve):
    """The compose file's services as processes on 127.0.0.1; serve: two
    tests over the controller, then its shutdown, then SIGTERM."""
    root = Root(rt_dir, chroot)
    os.makedirs(os.path.join(work, "reports"), exist_ok=True)
    key_file = os.path.join(work, os.path.basename(env_files[0]))
    with open(key_file, "w") as f:  # what the README's openssl line writes
        f.write(f"GOOSE_GAGGLE_KEY={secrets.token_hex(32)}\n")
    key = read_env_file(key_file)
    gport, tport, cport = free_port(), free_port(), free_port()
    reports = rt["workdir"] if chroot else os.path.join(work, "reports")

    def start(argv, env, out, err=None):
        err = err or subprocess.DEVNULL
        base = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/"}
        if chroot:
            user = rt["user"] or "0:0"
            argv = [CHROOT, f"--userspec={user}", root.root, "env", "-i", "-C", reports] + \
                   [f"{k}={v}" for k, v in {**base, **env}.items()] + argv
            return subprocess.Popen(argv, stdout=out, stderr=err, env={})
        base["PATH"] = root.path("/usr/local/bin") + ":" + os.environ["PATH"]
        base["LD_LIBRARY_PATH"] = root.path("/usr/local/lib")
        return subprocess.Popen(argv, stdout=out, stderr=err, env={**base, **env}, cwd=reports)

    def healthy(name, port):  # the compose healthcheck's command, as the image's user
        test = health[name]
        argv = [re.sub(r"/127\.0\.0\.1/\d+$", f"/127.0.0.1/{port}", w) for w in test[1:]]
        if chroot:
            argv = [CHROOT, f"--userspec={rt['user']}", root.root] + argv
        return subprocess.run(argv, capture_output=True, timeout=10).returncode == 0

    procs = []
    try:
        target = start(["goose-target", "--host", "127.0.0.1", "--port", str(tport)], {},
                       subprocess.DEVNULL)
        procs.append(target)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", tport), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        menv = {**me, **key, "GOOSE_MANAGER_BIND_HOST": "127.0.0.1",
                "GOOSE_MANAGER_BIND_PORT": str(gport),
                "GOOSE_HOST": f"{url.scheme}://127.0.0.1:{tport}", "GOOSE_RUN_TIME": "2s",
                "GOOSE_HATCH_RATE": "30", "GOOSE_REPORT_FILE": "report.json"}
        if serve:  # the compose file's report name, as JSON; counts exact
            menv.update({"GOOSE_CONTROLLER": f"127.0.0.1:{cport}", "GOOSE_NO_RESET_METRICS": "1",
                         "GOOSE_REPORT_FILE": re.sub(r"\.html$", ".json",
                                                     os.path.basename(me["GOOSE_REPORT_FILE"]))})
        wenv = {**we, **key, "GOOSE_MANAGER_HOST": "127.0.0.1", "GOOSE_MANAGER_PORT": str(gport)}
        outs, errs = {}, {}
        names = [f"worker{i + 1}" for i in range(int(replicas))] + ["manager"]
        check(healthy("target", tport), "target: its healthcheck passes")
        check(not healthy("manager", gport), "manager: its healthcheck fails before it listens")
        for name in names:  # Workers first: they wait for the Manager
            outs[name] = open(os.path.join(work, name + ".out"), "w+")
            errs[name] = open(os.path.join(work, name + ".err"), "w+")
            if name == "manager":
                time.sleep(0.5)
            procs.append(start(rt["entrypoint"], menv if name == "manager" else wenv,
                               outs[name], errs[name]))
        up = False
        for _ in range(50):
            up = healthy("manager", gport)
            if up:
                break
            time.sleep(0.1)
        check(up, "manager: its healthcheck passes once it listens (and disturbs no one)")
        if serve:
            serve_run(procs, names, menv, cport, tport, replicas, root if chroot else None,
                      reports)
        deadline = time.time() + 60
        codes = {}
        for name, p in zip(names, procs[1:]):
            codes[name] = p.wait(max(1, deadline - time.time()))
            errs[name].seek(0)
            codes[name + " stderr"] = errs[name].read()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for name in outs:
        outs[name].seek(0)
        text = outs[name].read()
        print(f"--- {name} (exit {codes[name]}), stdout:\n{text[-3000:]}")
        check(codes[name] == 0, f"{name} exits 0")
        check(codes[name + " stderr"] == "", f"{name}: nothing on stderr (logs go to stdout)")
        lines = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
        check(lines and all(set(o) == {"time", "host", "level", "message"} for o in lines),
              f"{name}: {len(lines)} JSON log lines on stdout")
        if name.startswith("worker"):
            check(len(lines) == len(text.splitlines()), f"{name}: stdout holds JSON lines only")
            if not serve:
                check(any(o["message"] == "test over: this worker is done" for o in lines),
                      f"{name}: 'test over: this worker is done'")
            else:  # both tests on one connection
                joins = sum(o["message"].startswith("joined the manager at") for o in lines)
                overs = sum(o["message"] == "test over: waiting for the next one" for o in lines)
                check(joins == 1 and overs == 2,
                      f"{name}: joined once, two tests over, waiting for the next one ({joins}, {overs})")
        else:
            check(any(o["message"].startswith(f"manager listening on 127.0.0.1:{gport} for "
                                              f"{replicas} workers") for o in lines),
                  "manager: listening, for the compose file's workers")
            check(not any("without a gaggle key" in o["message"] for o in lines),
                  "manager: no warning about a missing key")
    if serve:
        done()
        return
    r = json.load(open(root.path(rt["workdir"] + "/report.json") if chroot
                       else os.path.join(reports, "report.json")))  # the Manager's WORKDIR
    workers = r.get("workers", [])
    check(len(workers) == int(replicas) and all(x["state"] == "done" for x in workers)
          and r.get("gaggle_authenticated") is True,
          f"the report: {len(workers)} workers done, key proved")
    check(sum(q["count"] for q in r["requests"]) > 0 and
          sum(x["requests"] for x in workers) == sum(q["count"] for q in r["requests"]),
          "the report counts the requests the workers made")
    done()


def serve_run(procs, names, menv, cport, tport, replicas, root, reports):
    """Two tests over the controller on the same Worker processes, then
    `shutdown`: the Manager exits 0 and the Workers stay (they wait for the
    next Manager) until SIGTERM, on which they exit 0."""
    by = dict(zip(names, procs[1:]))
    workers = [by[n] for n in names if n.startswith("worker")]
    pattern = os.path.join(reports, menv["GOOSE_REPORT_FILE"])
    if root is not None:  # the chroot's file, seen from here
        pattern = root.path(pattern)
    try:
        serve_session.two_tests(check, cport, tport, pattern, int(replicas), int(menv["GOOSE_USERS"]),
                                alive=lambda: all(p.poll() is None for p in workers))
    except (TimeoutError, AssertionError, OSError) as e:
        check(False, f"two tests over the controller: {e}")
        for p in procs[1:]:
            p.send_signal(signal.SIGTERM)
        return
    answer = serve_session.telnet(cport, ["shutdown"])
    check(answer.startswith("ok"), f"telnet shutdown: {answer.strip()}")
    try:
        code = by["manager"].wait(15)
    except subprocess.TimeoutExpired:
        code = None
    check(code == 0, f"the Manager exits 0 on the controller's shutdown ({code})")
    time.sleep(1)
    check(all(p.poll() is None for p in workers),
          "the serving Workers stay up without a Manager, waiting for the next one")
    for p in workers:  # docker compose stop
        p.send_signal(signal.SIGTERM)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a not in ("--chroot", "--wiring-only", "--serve")]
    chroot = "--chroot" in sys.argv
    if args[:1] == ["libs"] and len(args) == 3:
        libs(args[1], args[2], chroot)
    elif args[:1] == ["compose"] and len(args) == 5:
        compose(args[1], args[2], args[3], args[4], chroot, "--wiring-only" in sys.argv,
                "--serve" in sys.argv)
    else:
        sys.exit(__doc__)
