#!/usr/bin/env python3
"""bench/assets_summary.py DIR RESULTS - goose_load_assets' section of
bench/RESULTS.md (bench/assets.sh): requests/s and CPU per request of
libgoose loading a page and its 20 assets, HTTP/1.1 and HTTP/2, against
wrk and h2load fetching the same 21 URLs.  Exit 1 unless every libgoose run
exited 0 with no failed request or transaction and its total is nginx's."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import fmt, now, pf, rc, read, replace_section, report, time_file  # noqa: E402

d, results = sys.argv[1], sys.argv[2]
env = dict(line.split("=", 1) for line in (read(os.path.join(d, "env"), "") or "").splitlines()
           if "=" in line)


def path(name, ext):
    return os.path.join(d, f"{name}.{ext}")


def cpu_us(name, requests):
    t = time_file(path(name, "time"))
    return (t[1] + t[2]) / requests * 1e6 if t and requests else None


def nginx(name):
    try:
        return int((read(path(name, "nginx"), "") or "").strip())
    except ValueError:
        return None


def tool(name):
    """(requests, requests/s) of wrk's or h2load's output."""
    text = read(path(name, "txt"), "") or ""
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)  # wrk
    if m:
        secs = float(m.group(2)) * (60 if m.group(3) == "m" else 1)
        return int(m.group(1)), int(m.group(1)) / secs
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text)  # h2load
    n = re.search(r"requests: \d+ total, \d+ started, (\d+) done", text)
    if m and n:
        return int(n.group(1)), float(m.group(2))
    return None, None


def goose(name):
    r = report(path(name, "json"))
    if not r:
        return None
    reqs = r.get("requests", [])
    total = sum(q["count"] for q in reqs)
    fail = sum(q["fail"] for q in reqs) + sum(t["fail"] for t in r.get("transactions", []))
    protos = {}
    for q in reqs:
        for p, n in (q.get("protocols") or {}).items():
            protos[p] = protos.get(p, 0) + n
    dur = r.get("duration_s") or 0
    return {"total": total, "fail": fail, "rps": total / dur if dur else None,
            "protocols": ", ".join(sorted(protos)) or "none"}


rows = [("h1", "HTTP/1.1", "wrk", f"wrk -t1 -c{int(env.get('users', 10)) * 6}"),
        ("h2", "HTTP/2 (h2)", "h2load", f"h2load -t1 -c{env.get('users', 10)} -m20")]
ok = True
lines = [
    f"## goose_load_assets: a page and its 20 assets ({now()})",
    "",
    f"`bash bench/assets.sh` (`make bench-assets`; also a part of `make bench`): one nginx "
    f"({env.get('nginx', '?')}, 1 worker pinned to CPU 0, bench/nginx-assets.conf) serves "
    "/page.html, which references 20 assets (4 stylesheets, an icon, 6 scripts, 9 images, one "
    "by a relative `../` path), over http and over https with http2 (TLS 1.3, a CA and a P-256 "
    "certificate made by the script). Each generator runs pinned to CPU 1 under `/usr/bin/time`, "
    f"{env.get('time', '?')} s, one after the other: libgoose's bench/assets.c, "
    f"{env.get('users', '?')} users without wait on `--threads 1`, each a GET of the page and "
    "`goose_load_assets()` (`--no-cache`: all 20 every time), against the tool fetching the "
    "same 21 URLs in turn (wrk with bench/assets.lua on 6 connections per libgoose user; "
    "h2load `-i` with 20 streams per connection). The tools do not parse HTML: their rate is "
    "the ceiling of fetching these URLs, libgoose's includes reading the page "
    "(libxml2), resolving and filtering its references and the batch. CPU per request = "
    "(user + sys) / the generator's count; nginx's access log counts each run.",
    "",
    f"- build: {env.get('build', '?')}; {env.get('wrk', '?')}; {env.get('h2load', '?')}; "
    f"load average before the runs: {env.get('load', '?')} (other processes shared the CPUs: "
    "rates and ratios move from run to run)",
    "",
    "| protocol | tool | tool req/s | tool CPU µs/req | libgoose req/s | libgoose CPU µs/req "
    "| libgoose / tool req/s | libgoose requests / nginx logged | protocol seen | failed | |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|",
]
for key, proto, tname, tcmd in rows:
    treqs, trps = tool(f"{key}-tool")
    g = goose(f"{key}-goose")
    logged = nginx(f"{key}-goose")
    good = (g is not None and rc(path(f"{key}-goose", "rc")) == "0" and g["fail"] == 0 and
            g["total"] == logged and g["total"] > 0)
    ok &= good
    gr = g or {}
    ratio = gr.get("rps") / trps if gr.get("rps") and trps else None
    lines.append(
        f"| {proto} | {tcmd} | {fmt(trps, '.0f')} | {fmt(cpu_us(f'{key}-tool', treqs), '.2f')} "
        f"| {fmt(gr.get('rps'), '.0f')} | {fmt(cpu_us(f'{key}-goose', gr.get('total')), '.2f')} "
        f"| **{fmt(ratio, '.2f')}x** | {gr.get('total', 'n/a')} / {logged} "
        f"| {gr.get('protocols', 'n/a')} | {gr.get('fail', 'n/a')} | **{pf(good)}** |")
    print(f"bench: assets {proto}: libgoose {fmt(gr.get('rps'), '.0f')} req/s, {tname} "
          f"{fmt(trps, '.0f')} req/s ({fmt(ratio, '.2f')}x): {pf(good)}")
lines += ["", "Commands (PORT per server, CERTS the temporary directory):", ""]
for key, proto, _, _ in rows:
    cmds = [(read(path(f"{key}-{w}", "cmd"), "") or "").strip() for w in ("tool", "goose")]
    cmds = [re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", c) for c in cmds]
    lines.append(f"- {proto}: `{cmds[0]}`; `{cmds[1]}`")
replace_section(results, "assets", lines)
sys.exit(0 if ok else 1)
