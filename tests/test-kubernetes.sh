#!/usr/bin/env bash
# examples/kubernetes: no cluster here, so the manifests are parsed and the
# fields that wire them together are checked (Service selector and port
# against the Manager's pods, the Workers' GOOSE_MANAGER_HOST against the
# Service's DNS names, GOOSE_EXPECT_WORKERS against the Workers' parallelism,
# the key from the Secret, resources, restart policies, images), also for
# multi-region/ (load balancer, TLS files, one Worker Job per region), and
# for serve/, the Gaggle that stays up (Deployments, --no-autostart and its
# controller on a ClusterIP Service port only, --worker-reconnect, reports
# with {n} on a volume).  Then the Manager's and the Workers' environments,
# as the manifests give them, run a Gaggle of the built umami example on
# 127.0.0.1, and serve/'s run two tests over the controller on the same two
# serving Workers, each report exact against goose-target's counts.  With
# kubectl, `kubectl kustomize` must render both directories with the
# Secret's hashed name in the Jobs and in the Deployments.
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. tests/yaml-python.sh
[ -x "$build/examples/umami" ] && [ -x "$build/goose-target" ] ||
    { echo "skipped: build $build/examples/umami and $build/goose-target first (make)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOOSE_BUILD=$build WORK=$work
$py - examples/kubernetes <<'PY'
import glob, json, os, re, secrets, shutil, socket, subprocess, sys, time

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests")
import serve_session

dir_ = sys.argv[1]
build, work = os.environ["GOOSE_BUILD"], os.environ["WORK"]
failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)
    return ok


def load(*files):
    docs = []
    for f in files:
        docs += [d for d in yaml.safe_load_all(open(f)) if d]
    return docs


def pod(obj):
    return obj["spec"]["template"]["spec"]


def labels(obj):
    return obj["spec"]["template"]["metadata"].get("labels", {})


def container(obj):
    cs = pod(obj)["containers"]
    if len(cs) != 1:
        check(False, f"{obj['metadata']['name']}: one container, not {len(cs)}")
    return cs[0]


def env(c):
    return {e["name"]: e for e in c.get("env", [])}


def val(c, name, default=None):
    e = env(c).get(name)
    return str(e["value"]) if e and "value" in e else default


def selects(selector, lbls):
    return bool(selector) and all(lbls.get(k) == v for k, v in selector.items())


def kinds(docs, kind):
    return [d for d in docs if d["kind"] == kind]


# what these objects may hold: a misspelt field would be ignored by no one
# here, but refused (or worse, dropped) by the API server
KNOWN = {
    "deployment": {"replicas", "selector", "template", "strategy", "minReadySeconds",
                   "revisionHistoryLimit", "progressDeadlineSeconds", "paused"},
    "job": {"parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "template",
            "ttlSecondsAfterFinished", "completionMode", "suspend", "podFailurePolicy", "selector",
            "manualSelector", "backoffLimitPerIndex", "maxFailedIndexes"},
    "pod": {"restartPolicy", "securityContext", "containers", "volumes", "nodeSelector",
            "topologySpreadConstraints", "affinity", "tolerations", "initContainers",
            "serviceAccountName", "terminationGracePeriodSeconds", "priorityClassName",
            "imagePullSecrets", "dnsPolicy", "hostNetwork"},
    "container": {"name", "image", "command", "args", "env", "envFrom", "ports", "resources",
                  "readinessProbe", "livenessProbe", "startupProbe", "securityContext",
                  "volumeMounts", "imagePullPolicy", "workingDir"},
}


def typo_guard(obj):
    n = obj["metadata"]["name"]
    if obj["kind"] in ("Job", "Deployment"):
        extra = set(obj["spec"]) - KNOWN[obj["kind"].lower()]
        check(not extra, f"{n}: {obj['kind']} spec fields are Kubernetes' {sorted(extra) or ''}")
    extra = set(pod(obj)) - KNOWN["pod"]
    check(not extra, f"{n}: pod spec fields are Kubernetes' {sorted(extra) or ''}")
    extra = set(container(obj)) - KNOWN["container"]
    check(not extra, f"{n}: container fields are Kubernetes' {sorted(extra) or ''}")


def port_of(c, ref):
    for p in c.get("ports", []):
        if ref in (p.get("name"), p["containerPort"]):
            return p["containerPort"]
    return ref if isinstance(ref, int) else None


def check_common(obj, secret_names, restart):
    n, c = obj["metadata"]["name"], container(obj)
    typo_guard(obj)
    r = c.get("resources", {})
    check(all(k in r.get(s, {}) for s in ("requests", "limits") for k in ("cpu", "memory")),
          f"{n}: cpu and memory requests and limits")
    check(pod(obj).get("restartPolicy") == restart, f"{n}: restartPolicy {restart}")
    if obj["kind"] == "Job":
        check("activeDeadlineSeconds" in obj["spec"], f"{n}: activeDeadlineSeconds bounds it")
    k = env(c).get("GOOSE_GAGGLE_KEY", {})
    ref = k.get("valueFrom", {}).get("secretKeyRef", {})
    check(ref.get("name") in secret_names and ref.get("key") == "GOOSE_GAGGLE_KEY"
          and "value" not in k, f"{n}: GOOSE_GAGGLE_KEY from the Secret {ref.get('name')}")
    check(not any(e.startswith("GOOSE_GAGGLE_KEY_FILE") for e in env(c)), f"{n}: no key file")
    sc = pod(obj).get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001,
          f"{n}: runs as the image's user 10001, not root")


def gaggle_wiring(svc, manager, worker_jobs, what):
    mc = container(manager)
    check(selects(svc["spec"]["selector"], labels(manager)),
          f"{what}: Service {svc['metadata']['name']} selects the Manager's pods")
    check(not any(selects(svc["spec"]["selector"], labels(w)) for w in worker_jobs),
          f"{what}: ... and no Worker's")
    (sp,) = svc["spec"]["ports"]
    bind = int(val(mc, "GOOSE_MANAGER_BIND_PORT", "5115"))
    check(sp["port"] == 5115 and port_of(mc, sp.get("targetPort", sp["port"])) == bind == 5115,
          f"{what}: Service port {sp['port']} -> container port {port_of(mc, sp.get('targetPort'))}"
          f" == GOOSE_MANAGER_BIND_PORT {bind}")
    probe = mc.get("readinessProbe", {}).get("tcpSocket", {})
    check(port_of(mc, probe.get("port")) == bind, f"{what}: the Manager is ready once it listens")
    check(val(mc, "GOOSE_MANAGER") == "1", f"{what}: GOOSE_MANAGER=1")
    total = 0
    for w in worker_jobs:
        n, wc = w["metadata"]["name"], container(w)
        total += w["spec"]["parallelism"]
        check(w["spec"].get("completions") == w["spec"]["parallelism"],
              f"{n}: completions == parallelism ({w['spec']['parallelism']}): one per Worker")
        check(val(wc, "GOOSE_WORKER") == "1", f"{n}: GOOSE_WORKER=1")
        check(int(val(wc, "GOOSE_MANAGER_PORT", "5115")) == sp["port"], f"{n}: dials port {sp['port']}")
        check(wc["image"] == mc["image"], f"{n}: the Manager's image {mc['image']}")
        th = env(wc).get("GOOSE_THREADS", {}).get("valueFrom", {}).get("resourceFieldRef", {})
        check(th.get("resource") == "limits.cpu", f"{n}: GOOSE_THREADS = its CPU limit")
        spread = pod(w).get("topologySpreadConstraints", [])
        check(all(selects(s["labelSelector"]["matchLabels"], labels(w)) for s in spread),
              f"{n}: topology spread selects its own pods")
    check(int(val(mc, "GOOSE_EXPECT_WORKERS", "0")) == total,
          f"{what}: GOOSE_EXPECT_WORKERS {val(mc, 'GOOSE_EXPECT_WORKERS')} == the Workers' "
          f"parallelism, summed ({total})")
    check(manager["spec"].get("backoffLimit") == 0, f"{what}: the Manager runs once (backoffLimit 0)")


def mounted_file(obj, path):
    """The volume a path of the container lies in, or None."""
    c = container(obj)
    for m in c.get("volumeMounts", []):
        if path.startswith(m["mountPath"].rstrip("/") + "/"):
            return next((v for v in pod(obj).get("volumes", []) if v["name"] == m["name"]), None)
    return None


# ---- examples/kubernetes ----
kz = yaml.safe_load(open(f"{dir_}/kustomization.yaml"))
check(all(os.path.isfile(f"{dir_}/{r}") for r in kz["resources"]), f"kustomization: {kz['resources']}")
gens = {g["name"]: g for g in kz.get("secretGenerator", [])}
check(gens.get("gaggle-key", {}).get("envs") == ["gaggle.env"],
      "the Secret gaggle-key is made from gaggle.env")
check("gaggle.env" in open(f"{dir_}/.gitignore").read().split(), "gaggle.env is never committed")
docs = load(*[f"{dir_}/{r}" for r in kz["resources"]])
jobs = {d["metadata"]["name"]: d for d in kinds(docs, "Job")}
svcs = {d["metadata"]["name"]: d for d in kinds(docs, "Service")}
managers = [j for j in jobs.values() if val(container(j), "GOOSE_MANAGER") == "1"]
workers = [j for j in jobs.values() if val(container(j), "GOOSE_WORKER") == "1"]
check(len(managers) == 1 and len(workers) == 1, "one Manager Job, one Worker Job")
manager = managers[0]
# the Service the Workers dial, by its DNS name (this namespace or another)
host = val(container(workers[0]), "GOOSE_MANAGER_HOST", "")
n, _, rest = host.partition(".")
svc = svcs.get(n)
check(svc is not None and re.fullmatch(r"([a-z0-9-]+(\.svc(\.cluster\.local)?)?)?", rest) is not None,
      f"the Workers' GOOSE_MANAGER_HOST {host} is the DNS name of a Service here")
if svc is None:
    sys.exit("no Service for the Workers to dial")
gaggle_wiring(svc, manager, workers, "examples/kubernetes")
check_common(manager, gens, "Never")
for w in workers:
    check_common(w, gens, "OnFailure")

# the target: what GOOSE_HOST names
(tdep,) = kinds(docs, "Deployment")
tc = container(tdep)
typo_guard(tdep)
tsvc = next(s for s in svcs.values() if selects(s["spec"]["selector"], labels(tdep)))
url = val(container(manager), "GOOSE_HOST")
(tp,) = tsvc["spec"]["ports"]
check(url == f"http://{tsvc['metadata']['name']}:{tp['port']}"
      and port_of(tc, tp["targetPort"]) == int(tc["command"][tc["command"].index("--port") + 1])
      and "0.0.0.0" in tc["command"] and tc["image"] == container(manager)["image"],
      f"the Manager's GOOSE_HOST {url} is the target's Service, in front of goose-target on 0.0.0.0")

# ---- multi-region ----
md = f"{dir_}/multi-region"
mdocs = load(f"{md}/manager.yaml")
(mjob,) = kinds(mdocs, "Job")
(msvc,) = kinds(mdocs, "Service")  # the Workers dial its load balancer's name: see below
wjobs = [j for f in sorted(glob.glob(f"{md}/workers-*.yaml")) for j in kinds(load(f), "Job")]
check(len(wjobs) >= 2, f"multi-region: {len(wjobs)} Worker Jobs")
check(msvc["spec"].get("type") in ("LoadBalancer", "NodePort"),
      f"multi-region: the Manager is reachable from outside ({msvc['spec'].get('type')})")
gaggle_wiring(msvc, mjob, wjobs, "multi-region")
check_common(mjob, {"gaggle-key"}, "Never")
mc = container(mjob)
for var, file in (("GOOSE_TLS_CERT", "tls.crt"), ("GOOSE_TLS_KEY", "tls.key")):
    p = val(mc, var, "")
    v = mounted_file(mjob, p) or {}
    check(os.path.basename(p) == file and v.get("secret", {}).get("secretName") == "gaggle-tls",
          f"multi-region: {var}={p} is {file} of the TLS Secret gaggle-tls, mounted")
check(v.get("secret", {}).get("defaultMode") == 0o440 and pod(mjob)["securityContext"].get("fsGroup") == 10001,
      "multi-region: the TLS files are readable by the group of the Manager's user only")
readme = open(f"{dir_}/README.md").read()
sans = set(re.findall(r"subjectAltName = DNS:([\w.-]+)", readme))
hosts, selectors = set(), []
for w in wjobs:
    n, wc = w["metadata"]["name"], container(w)
    check_common(w, {"gaggle-key"}, "OnFailure")
    hosts.add(val(wc, "GOOSE_MANAGER_HOST"))
    ca = val(wc, "GOOSE_TLS_CA", "")
    vol = mounted_file(w, ca) or {}
    check(ca and ("configMap" in vol or "secret" in vol), f"{n}: GOOSE_TLS_CA={ca} is mounted")
    selectors.append(pod(w).get("nodeSelector"))
    check(bool(pod(w).get("nodeSelector")), f"{n}: nodeSelector {pod(w).get('nodeSelector')}")
check(len(hosts) == 1 and hosts <= sans, f"multi-region: every Worker dials {hosts}, the name "
      f"the README's certificate holds ({sans})")
check(len({json.dumps(s, sort_keys=True) for s in selectors}) == len(selectors),
      "multi-region: one Worker Job per region")
check(not any(k in env(container(w)) for w in workers + wjobs
              for k in ("GOOSE_HOST", "GOOSE_USERS", "GOOSE_RUN_TIME", "GOOSE_EXPECT_WORKERS")),
      "Workers set nothing the Manager owns")
main_readme = open("README.md").read()
check("examples/kubernetes" in main_readme and "examples/docker" in main_readme,
      "the README points at examples/docker and examples/kubernetes")

# ---- serve/: the Gaggle that stays up ----
sd = f"{dir_}/serve"
skz = yaml.safe_load(open(f"{sd}/kustomization.yaml"))
check(all(os.path.isfile(f"{sd}/{r}") for r in skz["resources"]), f"serve: kustomization: {skz['resources']}")
sgens = {g["name"]: g for g in skz.get("secretGenerator", [])}
check(set(sgens) == {"gaggle-key"} and sgens["gaggle-key"] == gens["gaggle-key"],
      "serve: the same Secret gaggle-key, made from its own gaggle.env (kustomize reads none above)")
ignored = open(f"{dir_}/.gitignore").read().split()
check("gaggle.env" in ignored or "serve/gaggle.env" in ignored, "serve: gaggle.env is never committed")
sdocs = load(*[f"{sd}/{r}" for r in skz["resources"]])
check(not kinds(sdocs, "Job") and not kinds(sdocs, "Pod"), "serve: no Job, no bare Pod: Deployments")
sdeps = kinds(sdocs, "Deployment")
smanagers = [d for d in sdeps if val(container(d), "GOOSE_MANAGER") == "1"]
sworkers = [d for d in sdeps if val(container(d), "GOOSE_WORKER") == "1"]
check(len(smanagers) == 1 and len(sworkers) == 1 and len(sdeps) == 2,
      "serve: a Manager Deployment and a Worker Deployment")
sman, (swork,) = smanagers[0], sworkers
smc, swc = container(sman), container(swork)
truthy = lambda v: str(v).lower() in ("1", "true", "yes", "on")
check(truthy(val(smc, "GOOSE_NO_AUTOSTART")), "serve: the Manager stays up (GOOSE_NO_AUTOSTART)")
check(truthy(val(swc, "GOOSE_WORKER_RECONNECT")), "serve: the Workers serve test after test "
      "(GOOSE_WORKER_RECONNECT)")
check(not env(swc).keys() & {"GOOSE_NO_AUTOSTART", "GOOSE_CONTROLLER", "GOOSE_HOST", "GOOSE_USERS",
                             "GOOSE_RUN_TIME", "GOOSE_EXPECT_WORKERS", "GOOSE_REPORT_FILE"}
      and "GOOSE_WORKER_RECONNECT" not in env(smc), "serve: each side sets only its own options")
check(sman["spec"].get("replicas") == 1 and sman["spec"].get("strategy", {}).get("type") == "Recreate",
      "serve: one Manager, never two at once (replicas 1, strategy Recreate)")
for d in sdeps:
    check(selects(d["spec"]["selector"]["matchLabels"], labels(d)),
          f"{d['metadata']['name']}: its selector selects its pods")
# the Service the Workers dial: the gaggle port, and the controller's for
# kubectl port-forward, ClusterIP only
host = val(swc, "GOOSE_MANAGER_HOST", "")
ssvc = {d["metadata"]["name"]: d for d in kinds(sdocs, "Service")}.get(host.partition(".")[0])
check(ssvc is not None, f"serve: the Workers' GOOSE_MANAGER_HOST {host} is a Service here")
if ssvc is None:
    sys.exit("no Service for the serving Workers to dial")
check(selects(ssvc["spec"]["selector"], labels(sman)) and not selects(ssvc["spec"]["selector"], labels(swork)),
      f"serve: Service {ssvc['metadata']['name']} selects the Manager's pods, no Worker's")
ctl = val(smc, "GOOSE_CONTROLLER", "")
chost, _, cport = ctl.rpartition(":")
check(re.fullmatch(r"\d+", cport or "") is not None and chost in ("", "127.0.0.1"),
      f"serve: GOOSE_CONTROLLER {ctl}: the pod's loopback only (kubectl port-forward arrives there)")
sports = {p["name"]: p for p in ssvc["spec"]["ports"]}
gp, cp = sports.get("gaggle", {}), sports.get("controller", {})
bind = int(val(smc, "GOOSE_MANAGER_BIND_PORT", "5115"))
check(gp.get("port") == 5115 and port_of(smc, gp.get("targetPort")) == bind == 5115
      and int(val(swc, "GOOSE_MANAGER_PORT", "5115")) == 5115,
      f"serve: Service port 5115 -> the Manager's GOOSE_MANAGER_BIND_PORT {bind}, which the Workers dial")
check(cp.get("port") == int(cport or 0) and port_of(smc, cp.get("targetPort")) == int(cport or 0),
      f"serve: Service port {cp.get('port')} -> container port {port_of(smc, cp.get('targetPort'))} "
      f"== the controller's {cport} (kubectl port-forward svc/{ssvc['metadata']['name']} {cport}:{cport})")
every_svc = kinds(sdocs + docs + mdocs, "Service")
check(ssvc["spec"].get("type", "ClusterIP") == "ClusterIP"
      and not any(s["spec"].get("type") in ("LoadBalancer", "NodePort")
                  and any(port_of(smc, p.get("targetPort", p["port"])) == int(cport or 0)
                          or p["port"] == int(cport or 0) for p in s["spec"]["ports"])
                  for s in every_svc)
      and not kinds(sdocs, "Ingress"),
      "serve: the controller port is in no LoadBalancer, NodePort or Ingress")
probe = smc.get("readinessProbe", {}).get("tcpSocket", {})
check(port_of(smc, probe.get("port")) == bind, "serve: the Manager is ready once it listens for Workers")
check(int(val(smc, "GOOSE_EXPECT_WORKERS", "0")) == swork["spec"]["replicas"],
      f"serve: GOOSE_EXPECT_WORKERS {val(smc, 'GOOSE_EXPECT_WORKERS')} == the Workers' replicas "
      f"{swork['spec']['replicas']}")
check(swc["image"] == smc["image"] == container(manager)["image"], "serve: the one-shot form's image")
th = env(swc).get("GOOSE_THREADS", {}).get("valueFrom", {}).get("resourceFieldRef", {})
check(th.get("resource") == "limits.cpu", "serve: the Workers' GOOSE_THREADS = their CPU limit")
check(all(selects(c["labelSelector"]["matchLabels"], labels(swork))
          for c in pod(swork).get("topologySpreadConstraints", [])),
      "serve: the Workers' topology spread selects their own pods")
for d in sdeps:
    check_common(d, sgens, "Always")
# the reports: one file per test ({n}), on a volume claimed here, writable
# by the image's user
rpath = val(smc, "GOOSE_REPORT_FILE", "")
rvol = mounted_file(sman, rpath) or {}
claims = {d["metadata"]["name"] for d in kinds(sdocs, "PersistentVolumeClaim")}
check("{n}" in rpath, f"serve: GOOSE_REPORT_FILE {rpath}: a file per test ({{n}})")
check(rvol.get("persistentVolumeClaim", {}).get("claimName") in claims,
      f"serve: {os.path.dirname(rpath)} is a PersistentVolumeClaim of serve/ ({sorted(claims)})")
check(pod(sman)["securityContext"].get("fsGroup") == 10001, "serve: the volume is writable by user 10001")

# ---- kubectl kustomize, when kubectl is here ----
if shutil.which("kubectl"):
    shutil.copytree(dir_, f"{work}/k")
    keyline = f"GOOSE_GAGGLE_KEY={secrets.token_hex(32)}\n"
    open(f"{work}/k/gaggle.env", "w").write(keyline)
    open(f"{work}/k/serve/gaggle.env", "w").write(keyline)  # cp ../gaggle.env serve/
    names = []
    for d, kind in ((f"{work}/k", "Job"), (f"{work}/k/serve", "Deployment")):
        try:
            r = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True,
                               timeout=60)
            out = list(yaml.safe_load_all(r.stdout)) if r.returncode == 0 else []
        except subprocess.TimeoutExpired:
            out = []
        secret = [d["metadata"]["name"] for d in out if d and d["kind"] == "Secret"]
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for d in out if d and d["kind"] == kind
                for e in container(d)["env"] if "secretKeyRef" in e.get("valueFrom", {})}
        check(len(secret) == 1 and refs == set(secret),
              f"kubectl kustomize {os.path.relpath(d, work)}: the {kind}s use the generated "
              f"Secret {secret} ({refs})")
        names += secret
    check(len(names) == 2 and names[0] == names[1],
          f"kubectl kustomize: with the same gaggle.env both forms make the same Secret {names}")
else:
    print("note: no kubectl here, kustomize rendering not checked")

# ---- the manifests' environments run a Gaggle on 127.0.0.1 ----
exe = f"{build}/examples/umami"
helped = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
options = {"GOOSE_" + o.upper().replace("-", "_") for o in re.findall(r"--([a-z0-9-]+)", helped)}
for obj in [manager] + workers + [mjob] + wjobs + sdeps:
    unknown = set(env(container(obj))) - options
    check(not unknown, f"{obj['metadata']['name']}: every variable is a GOOSE_* option {sorted(unknown) or ''}")
if failures:
    sys.exit(f"{len(failures)} check(s) failed")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def plain(c, **override):
    """A container's env as a process gets it: the Secret and CPU limit resolved."""
    out = {}
    for name, e in env(c).items():
        src = e.get("valueFrom", {})
        if "secretKeyRef" in src:
            out[name] = key
        elif "resourceFieldRef" in src:
            out[name] = str(c["resources"]["limits"]["cpu"])
        else:
            out[name] = str(e["value"])
    return {**out, **override}


key = secrets.token_hex(32)
gport, tport = free_port(), free_port()
target = subprocess.Popen([f"{build}/goose-target", "--port", str(tport)], stdout=subprocess.DEVNULL)
procs = []
try:
    time.sleep(0.3)
    n = int(workers[0]["spec"]["parallelism"])
    wenv = plain(container(workers[0]), GOOSE_MANAGER_HOST="127.0.0.1", GOOSE_MANAGER_PORT=str(gport))
    menv = plain(container(manager), GOOSE_MANAGER_BIND_HOST="127.0.0.1",
                 GOOSE_MANAGER_BIND_PORT=str(gport), GOOSE_HOST=f"http://127.0.0.1:{tport}",
                 GOOSE_RUN_TIME="2s", GOOSE_HATCH_RATE="30", GOOSE_REPORT_FILE=f"{work}/report.json")
    base = {"PATH": os.environ["PATH"]}
    for i in range(n):
        procs.append(subprocess.Popen([exe], env={**base, **wenv}, stdout=subprocess.DEVNULL,
                                      stderr=open(f"{work}/worker{i}.log", "w")))
    procs.append(subprocess.Popen([exe], env={**base, **menv}, stdout=subprocess.DEVNULL,
                                  stderr=open(f"{work}/manager.log", "w")))
    codes = [p.wait(60) for p in procs]
finally:
    for p in procs + [target]:
        if p.poll() is None:
            p.kill()
for f in sorted(glob.glob(f"{work}/*.log")):
    print(f"--- {os.path.basename(f)}\n" + open(f).read()[-1500:])
r = json.load(open(f"{work}/report.json"))
check(codes == [0] * (n + 1), f"the Manager and {n} Workers, with the manifests' env, exit 0: {codes}")
check(len(r["workers"]) == n and all(w["state"] == "done" for w in r["workers"])
      and r["gaggle_authenticated"] is True and sum(q["count"] for q in r["requests"]) > 0,
      f"the report: {n} Workers done, key proved, requests counted")
if failures:
    sys.exit(f"{len(failures)} check(s) failed")

# ---- serve/'s environments: a Manager that stays up, 2 serving Workers ----
# Workers first (they dial until the Manager answers), two tests started
# over the controller on the same Worker processes, each report (its {n}
# file) exact against goose-target's counts; shutdown ends the Manager and
# the Workers stay, waiting for the next one, until SIGTERM (exit 0).
n = 2
gport, tport, cport = free_port(), free_port(), free_port()
os.mkdir(f"{work}/serve")
report = os.path.join(f"{work}/serve", os.path.basename(val(smc, "GOOSE_REPORT_FILE")))
report = re.sub(r"\.html$", ".json", report)  # the manifest's name: its {time} and {n}
target = subprocess.Popen([f"{build}/goose-target", "--port", str(tport)], stdout=subprocess.DEVNULL)
procs, wprocs, mcode = [], [], None
try:
    time.sleep(0.3)
    wenv = plain(swc, GOOSE_MANAGER_HOST="127.0.0.1", GOOSE_MANAGER_PORT=str(gport))
    menv = plain(smc, GOOSE_MANAGER_BIND_HOST="127.0.0.1", GOOSE_MANAGER_BIND_PORT=str(gport),
                 GOOSE_CONTROLLER=f"{chost or '127.0.0.1'}:{cport}", GOOSE_EXPECT_WORKERS=str(n),
                 GOOSE_HOST=f"http://127.0.0.1:{tport}", GOOSE_RUN_TIME="2s", GOOSE_HATCH_RATE="30",
                 GOOSE_REPORT_FILE=report, GOOSE_NO_RESET_METRICS="1")
    base = {"PATH": os.environ["PATH"]}
    for i in range(n):
        wprocs.append(subprocess.Popen([exe], env={**base, **wenv}, stdout=subprocess.DEVNULL,
                                       stderr=open(f"{work}/serve/worker{i}.log", "w")))
    time.sleep(0.5)
    manager_p = subprocess.Popen([exe], env={**base, **menv}, stdout=subprocess.DEVNULL,
                                 stderr=open(f"{work}/serve/manager.log", "w"))
    procs = wprocs + [manager_p]
    try:
        serve_session.two_tests(check, cport, tport, report, n, int(menv["GOOSE_USERS"]),
                                alive=lambda: all(p.poll() is None for p in wprocs))
        answer = serve_session.telnet(cport, ["shutdown"])
        check(answer.startswith("ok"), f"telnet shutdown: {answer.strip()}")
        mcode = manager_p.wait(15)
    except (TimeoutError, AssertionError, OSError, subprocess.TimeoutExpired) as e:
        check(False, f"serve/: two tests over the controller, then shutdown: {e}")
    check(mcode == 0, f"serve/: the Manager exits 0 on the controller's shutdown ({mcode})")
    time.sleep(1)
    check(all(p.poll() is None for p in wprocs),
          "serve/: the Workers stay without a Manager, waiting for the next one")
    for p in wprocs:
        p.terminate()
    wcodes = []
    for p in wprocs:
        try:
            wcodes.append(p.wait(15))
        except subprocess.TimeoutExpired:
            wcodes.append(None)
    check(wcodes == [0] * n, f"serve/: the Workers exit 0 on SIGTERM: {wcodes}")
    for i in range(n):  # both tests on the connection each Worker opened once
        msgs = [json.loads(x)["message"] for x in open(f"{work}/serve/worker{i}.log")
                if x.startswith("{")]
        joins = sum(m.startswith("joined the manager at") for m in msgs)
        overs = msgs.count("test over: waiting for the next one")
        check(joins == 1 and overs == 2,
              f"serve/: worker {i} joined once, two tests over on that connection ({joins}, {overs})")
finally:
    for p in procs + wprocs + [target]:
        if p.poll() is None:
            p.kill()
if failures:
    for f in sorted(glob.glob(f"{work}/serve/*.log")):
        print(f"--- serve/{os.path.basename(f)}\n" + open(f).read()[-3000:])
    sys.exit(f"{len(failures)} check(s) failed")
print(f"all checks passed")
PY
