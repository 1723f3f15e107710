#!/usr/bin/env python3
"""The TLS and HTTP/2 part of `make bench` (bench/run.sh tls_part): libgoose
against wrk (http and https, keep-alive and a new connection per request)
and h2load (HTTP/2, one request at a time per connection), generator CPU
per request, same nginx, same run.

  tls_summary.py OUT RESULTS

Writes the "tls" section of RESULTS, prints it, writes OUT/tls-verdicts.txt
(a "PASS|FAIL what" line per floor) and exits 1 when a floor is missed or
a run cannot be counted.  A row passes when libgoose's CPU per request is
within its floor of the tool's, libgoose ran clean (exit 0, no failed
request), its report counts exactly the requests nginx logged for it, the
tool's own count is within the connections in flight of nginx's, and every
request of both used the protocol of the row (HTTP/1.1 or HTTP/2, TLS 1.3
for https)."""
import re
import sys

from benchlib import fmt, now, pf, read, rc, replace_section, report, time_file

out, results = sys.argv[1:3]

# row -> (floor, what it is, the protocol nginx must log)
ROWS = {
    "http-keepalive": (1.0, "http, keep-alive", "HTTP/1.1"),
    "http-close": (1.0, "http, a new connection per request", "HTTP/1.1"),
    "https-keepalive": (1.0, "https, keep-alive", "HTTP/1.1"),
    "https-close": (1.2, "https, a new TLS connection per request", "HTTP/1.1"),
    "h2": (1.0, "HTTP/2 (h2), one request at a time per user", "HTTP/2.0"),
    # informative (no floor): HTTP/2 without TLS, the framing's own cost
    "h2c": (None, "h2c (prior knowledge), one request at a time per user", "HTTP/2.0"),
}


def env(path):
    d = {}
    for line in (read(path, "") or "").splitlines():
        k, _, v = line.partition("=")
        d[k] = v
    return d


def nginx_counts(path, port):
    """{total, protocols {proto: n}, statuses {status: n}, tls {proto: n},
    resumed, other_ports, connections} from a tls_count file."""
    c = {"total": 0, "protocols": {}, "statuses": {}, "tls": {}, "resumed": 0, "other_ports": 0,
         "connections": None}
    text = read(path)
    if text is None:
        return None
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "connections":
            c["connections"] = int(f[1])
            continue
        if len(f) < 6:
            continue
        n, p, proto, status, tls, reused = int(f[0]), f[1], f[2], f[3], f[4], f[5]
        if p != str(port):
            c["other_ports"] += n
            continue
        c["total"] += n
        c["protocols"][proto] = c["protocols"].get(proto, 0) + n
        c["statuses"][status] = c["statuses"].get(status, 0) + n
        c["tls"][tls] = c["tls"].get(tls, 0) + n
        if reused == "r":
            c["resumed"] += n
    return c


def tool_result(base, tool, scheme):
    """(requests, seconds, problems) from wrk's or h2load's output."""
    text = read(f"{out}/{base}.txt", "") or ""
    problems = []
    if tool == "wrk":
        m = re.search(r"^\s*(\d+) requests in ([\d.]+)(ms|s|m)", text, re.M)
        if not m:
            return None, None, ["wrk printed no request count"]
        n = int(m.group(1))
        secs = float(m.group(2)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
        e = re.search(r"Socket errors: (.*)", text)
        if e:
            problems.append(f"wrk: socket errors: {e.group(1).strip()}")
        e = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        if e:
            problems.append(f"wrk: {e.group(1)} non-2xx responses")
        return n, secs, problems
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text, re.M)
    t = re.search(r"^finished in ([\d.]+)s", text, re.M)
    if not m or not t:
        return None, None, ["h2load printed no request count"]
    if int(m.group(5)) or int(m.group(6)) or int(m.group(7)):
        problems.append(f"h2load: {m.group(5)} failed, {m.group(6)} errored, {m.group(7)} timeout")
    p = re.search(r"^Application protocol: (\S+)", text, re.M)
    want = "h2" if scheme == "https" else "h2c"
    if not p or p.group(1) != want:
        problems.append(f"h2load's application protocol was {p.group(1) if p else 'not said'}, "
                        f"not {want}")
    return int(m.group(4)), float(t.group(1)), problems


def cpu_per_request(base, n):
    t = time_file(f"{out}/{base}.time")
    if not t or not n:
        return None, None
    return t[1] + t[2], (t[1] + t[2]) * 1e6 / n


def protocol_text(c, want):
    if not c or not c["total"]:
        return "n/a"
    parts = [f"{p} {n}" for p, n in sorted(c["protocols"].items())]
    return ", ".join(parts) if len(parts) > 1 or want not in c["protocols"] else want


def pair(name, scheme, port, tool, k, conns):
    """One run of the tool and one of libgoose on a row (the k-th pair):
    their counts, CPU per request, the ratio and what is wrong with them."""
    floor, what, want = ROWS[name]
    tb, gb = f"tls-{name}-tool-{k}", f"tls-{name}-goose-{k}"
    tn, _, tprob = tool_result(tb, tool, scheme)
    _, tper = cpu_per_request(tb, tn)
    tng = nginx_counts(f"{out}/{tb}.nginx", port)
    g = report(f"{out}/{gb}.json")
    gn = g["totals"]["count"] if g else None
    gfail = g["totals"].get("fail", 0) if g else None
    _, gper = cpu_per_request(gb, gn)
    gng = nginx_counts(f"{out}/{gb}.nginx", port)
    why = []
    for who, b in ((tool, tb), ("libgoose", gb)):
        code = rc(f"{out}/{b}.rc")
        if code != "0":
            why.append(f"{who} exit status {code} (bench/out/{b}.txt)")
    why += tprob
    if gfail:
        errs = "; ".join(f"{x.get('error', '?')} ({x.get('count', '?')})"
                         for x in (g.get("errors") or [])[:3])
        why.append(f"libgoose: {gfail} failed requests: {errs}")
    if gn is None or gng is None or gn != gng["total"]:
        why.append(f"libgoose's report counts {gn} requests, nginx logged "
                   f"{gng['total'] if gng else None}")
    if tn is None or tng is None or abs(tng["total"] - tn) > conns:
        why.append(f"{tool} counted {tn} requests, nginx logged "
                   f"{tng['total'] if tng else None} (more apart than the {conns} in flight)")
    for who, c in ((tool, tng), ("libgoose", gng)):
        if not c:
            continue
        if set(c["protocols"]) - {want}:
            why.append(f"{who}'s requests were {protocol_text(c, want)}, not all {want}")
        if set(c["statuses"]) - {"200"}:
            why.append(f"{who}'s requests had statuses {c['statuses']}")
        if scheme == "https" and set(c["tls"]) - {"TLSv1.3"}:
            why.append(f"{who}'s TLS versions were {c['tls']}")
        if c["other_ports"]:
            why.append(f"nginx logged {c['other_ports']} requests on other ports during {who}'s run")
    return {"tn": tn, "tng": tng, "tper": tper, "gn": gn, "gng": gng, "gper": gper,
            "ratio": gper / tper if gper and tper else None,
            "why": [f"run {k}: {w}" for w in why] if k > 1 else why}


def main():
    e = env(f"{out}/tls.env")
    conns = int(e.get("conns", "50"))
    repeat = int(e.get("repeat", "1"))
    rows_file = read(f"{out}/tls.rows", "") or ""
    rows = [line.split() for line in rows_file.splitlines() if len(line.split()) == 4]
    table, verdicts, problems, cmds = [], [], [], []
    for name, scheme, port, tool in rows:
        floor, what, want = ROWS[name]
        pairs = [pair(name, scheme, port, tool, k, conns) for k in range(1, repeat + 1)]
        why = [w for p in pairs for w in p["why"]]
        # The row's figures are the pair with the median ratio; a run that
        # could not be measured fails the row.
        measured = sorted((p for p in pairs if p["ratio"] is not None), key=lambda p: p["ratio"])
        if len(measured) < len(pairs):
            why.append(f"{len(pairs) - len(measured)} of {len(pairs)} pairs gave no ratio")
        m = measured[(len(measured) - 1) // 2] if measured else pairs[0]
        ratio = m["ratio"]
        # An informative row (no floor) passes on clean, exact runs alone.
        ok = ratio is not None and (floor is None or ratio <= floor) and not why
        ratios = ", ".join(fmt(p["ratio"], ".2f") for p in pairs)
        table.append(dict(m, name=name, what=what, tool=tool, floor=floor, ok=ok, scheme=scheme,
                          ratios=ratios))
        verdicts.append(f"{pf(ok)} {what}: libgoose/{tool} CPU per request {fmt(ratio, '.2f')}x "
                        + (f"(median of {ratios}) " if repeat > 1 else "")
                        + (f"(floor <= {floor:.1f}x)" if floor is not None else "(informative)")
                        + (f"; {why[0]}" if why else ""))
        problems += [f"{what}: {w}" for w in why]
        cmds.append((what, read(f"{out}/tls-{name}-tool.cmd", "?").strip(),
                     read(f"{out}/tls-{name}-goose.cmd", "?").strip()))

    def seen(c, scheme):
        """What nginx logged: requests, connections, resumed sessions."""
        if not c:
            return "n/a"
        t = f"{c['total']} in {fmt(c['connections'], 'd')} conns"
        if scheme == "https" and c["total"]:
            t += f", {c['resumed'] * 100.0 / c['total']:.0f}% resumed"
        return t

    trust = e.get("trust", "?")
    trust_text = {
        "ca-file": "libgoose verifies the certificate and host name against the bench's CA "
                   "(`--ca-file CERTS/ca.crt`)",
        "system": "libgoose has no trust option in this build, so it verifies the certificate "
                  "and host name against the system store (Debian's ca-certificates.crt) with "
                  "the bench's CA appended, bind-mounted over /etc/ssl/certs/ca-certificates.crt "
                  "in a mount namespace of the generator alone (`unshare -m`): what a site with "
                  "a public certificate costs",
        "insecure": "libgoose runs with `--accept-invalid-certs` (no verification, as wrk and "
                    "h2load)",
    }.get(trust, f"libgoose's trust: {trust}")
    lines = [
        f"## TLS and HTTP/2: libgoose against wrk and h2load ({now()})",
        "",
        f"One nginx ({e.get('nginx', '?')}, 1 worker pinned to CPU 0, bench/nginx-tls.conf) with "
        "six servers: http, http with `keepalive_requests 1`, https (TLS 1.3 only, HTTP/1.1), "
        "https with `keepalive_requests 1`, `listen ... ssl http2` and `listen ... http2` "
        "(h2c); a CA and a P-256 "
        "(prime256v1) server certificate for IP 127.0.0.1 made by bench/run.sh with the openssl "
        f"CLI in a temporary directory (CERTS below; {e.get('openssl', '?')}); every request "
        f"`GET /` -> 200 \"ok\" (2 bytes). Each generator is one process pinned to CPU 1 under "
        f"`/usr/bin/time`, {e.get('time', '?')} s, {conns} connections (libgoose: {conns} users "
        "without wait, `--threads 1`), one after the other. CPU per request = (user + sys) / the "
        "generator's own count of requests"
        + (f"; each row ran {repeat} pairs (tool, libgoose, tool, libgoose, ...) and shows the "
           "pair with the median ratio, every pair's ratio in brackets" if repeat > 1 else "")
        + "; nginx's access log (port, protocol, status, `$ssl_session_reused`, connection) "
        "counts each run too: libgoose's report must equal it, the tool's count must be within "
        f"the {conns} requests in flight of it.",
        "",
        f"- libgoose: the build in {e.get('build', '?')}; versions: {e.get('wrk', '?')}; "
        f"{e.get('h2load', '?')}",
        f"- {trust_text}",
        "- wrk and h2load verify no certificate. nginx's `$ssl_session_reused` says who resumed "
        "a TLS session (the `resumed` share of a run's requests): a libgoose user resumes its "
        "own session when it reconnects, as one browser does",
        "",
        "| row | tool | tool requests | nginx logged | tool CPU µs/req | libgoose requests | "
        "nginx logged | libgoose protocol | libgoose CPU µs/req | libgoose / tool | floor | |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['what']} | {r['tool']} | {fmt(r['tn'], 'd')} | {seen(r['tng'], r['scheme'])} | "
            f"{fmt(r['tper'], '.2f')} | {fmt(r['gn'], 'd')} | {seen(r['gng'], r['scheme'])} | "
            f"{protocol_text(r['gng'], ROWS[r['name']][2])} | {fmt(r['gper'], '.2f')} | "
            f"**{fmt(r['ratio'], '.2f')}x**"
            + (f" ({r['ratios']})" if repeat > 1 else "")
            + (f" | <= {r['floor']:.1f}x" if r['floor'] is not None else " | informative")
            + f" | **{pf(r['ok'])}** |")
    lines += ["", "Commands (PORT per server, CERTS the temporary directory):", ""]
    for what, tcmd, gcmd in cmds:
        lines.append(f"- {what}: `{tcmd}`; `{gcmd}`")
    if problems:
        lines += ["", "Problems:", ""] + [f"- {p}" for p in problems]
    replace_section(results, "tls", lines)
    print("\n".join(lines))
    with open(f"{out}/tls-verdicts.txt", "w") as f:
        for v in verdicts:
            f.write(v + "\n")
    if not rows:
        print("tls_summary: no rows ran (bench/out/tls.rows is empty)")
        return 1
    return 0 if all(r["ok"] for r in table) else 1


if __name__ == "__main__":
    sys.exit(main())
