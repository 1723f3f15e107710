#!/usr/bin/env bash
# The HTML report in a real browser: umami against the bundled target writes
# r.html and r.json; the page must fetch nothing, load in headless Chromium
# without a console message, draw every chart with one point per second of
# the JSON time series, and leave a screenshot (and a printed PDF) under
# BUILD/test-html/.  Skipped (exit 77) only where Chromium cannot be had.
set -u
build=${GOOSE_BUILD:-${1:-build}}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# tests/run.sh passes BUILD/tests
[ -x "$build/goose-target" ] || [ ! -x "$build/../goose-target" ] || build=$build/..
for bin in "$build/goose-target" "$build/examples/umami"; do
    [ -x "$bin" ] || { echo "no $bin: build first (make)"; exit 1; }
done

browser=$(command -v chromium || true)
if [ -z "$browser" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing chromium (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 900 apt-get install -y -q chromium >/dev/null 2>&1 ||
            { timeout 300 apt-get update -q >/dev/null 2>&1 &&
              timeout 900 apt-get install -y -q chromium >/dev/null 2>&1; }
        browser=$(command -v chromium || true)
    fi
    [ -n "$browser" ] || { echo "skipped: chromium cannot be installed here"; exit 77; }
fi

out=$(mkdir -p "$build/test-html" && cd "$build/test-html" && pwd)
rm -rf "${out:?}"/*
profile=$(mktemp -d)
target_pid=
cleanup() {
    [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null
    rm -rf "$profile"
}
trap cleanup EXIT

"$build/goose-target" --port-file "$out/port" >/dev/null 2>&1 &
target_pid=$!
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.05; done
[ -s "$out/port" ] || { echo "the target did not start"; exit 1; }
port=$(cat "$out/port")

timeout 60 "$build/examples/umami" --host "http://127.0.0.1:$port" -u 6 -r 30 -t 3s \
    --co-mitigation average \
    --no-reset-metrics --report-file "$out/r.html" --report-file "$out/r.json" -q \
    >"$out/umami.out" 2>&1 || { echo "umami failed:"; tail "$out/umami.out"; exit 1; }
[ -s "$out/r.html" ] && [ -s "$out/r.json" ] || { echo "no report written"; exit 1; }

# Self-contained: nothing that a browser would fetch.
python3 - "$out/r.html" <<'PY' || exit 1
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
bad = re.findall(r'''\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*''', page, re.I)
bad += re.findall(r'<script[^>]*\bsrc\s*=', page, re.I)
bad += re.findall(r'''url\(\s*["']?\s*(?:https?:)?//''', page, re.I)
bad += re.findall(r'@import', page, re.I)
if bad:
    sys.exit("the page would fetch: %s" % bad[:5])
print("no external resource")
PY

chrome() { # chromium in a fresh profile, without any network of its own
    timeout -k 5 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" "$@"
}

chrome --enable-logging=stderr --v=0 --dump-dom "file://$out/r.html" \
    >"$out/dom.html" 2>"$out/chromium.log"
rc=$?
[ $rc -eq 0 ] && [ -s "$out/dom.html" ] || {
    echo "chromium --dump-dom failed (exit $rc):"; tail -n 20 "$out/chromium.log"; exit 1; }
if grep -E 'CONSOLE|Uncaught' "$out/chromium.log"; then
    echo "the page logged to the console (above)"
    exit 1
fi
echo "no console message"

python3 - "$out/dom.html" "$out/r.json" <<'PY' || exit 1
import json, re, sys
from html.parser import HTMLParser

dom = open(sys.argv[1], encoding="utf-8").read()
report = json.load(open(sys.argv[2]))
ts = report["timeseries"]
n = len(ts["rps"])
for k in ("users", "p50_us", "p95_us", "p99_us", "fails"):
    assert len(ts[k]) == n, k

class Charts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts, self.cur, self.depth, self.text = [], None, 0, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "figure" and "chart" in cls:
            self.cur = {"id": a.get("data-chart"), "points": int(a["data-points"]),
                        "series": int(a["data-series"]), "circles": 0, "lines": [],
                        "polylines": [], "phases": 0}
            self.charts.append(self.cur)
            self.depth = 0
        if not self.cur:
            return
        if tag == "figure":
            self.depth += 1
        elif tag == "circle" and "pt" in cls:
            self.cur["circles"] += 1
        elif tag == "g" and "series" in cls:
            self.cur["lines"].append(int(a["data-points"]))
        elif tag == "polyline":
            self.cur["polylines"].append(len(a["points"].split()))
        elif tag == "rect" and "ph" in cls:
            self.cur["phases"] += 1
    def handle_endtag(self, tag):
        if self.cur and tag == "figure":
            self.depth -= 1
            if self.depth == 0:
                self.cur = None
    def handle_data(self, d):
        self.text.append(d)

p = Charts()
p.feed(dom)
ids = [c["id"] for c in p.charts]
assert ids == ["rps", "times", "users", "errors"], ids
assert n > 0, "a 3 s run has a time series"
keys = min(10, len(ts["requests"]))
want_series = {"rps": 1 + keys, "times": 3, "users": 1, "errors": 1}
for c in p.charts:
    where = "chart %s" % c["id"]
    assert c["points"] == n, "%s: data-points %d, the JSON has %d" % (where, c["points"], n)
    assert c["series"] == want_series[c["id"]], (where, c["series"])
    assert c["lines"] == [n] * c["series"], (where, c["lines"])
    assert c["polylines"] == [n] * c["series"], (where, c["polylines"])
    assert c["circles"] == n * c["series"], "%s: %d points drawn, want %d" % (
        where, c["circles"], n * c["series"])
    print("%-6s %d points x %d lines" % (c["id"], c["points"], c["series"]))
# a phase of 0.1 s or more is shaded; a shorter one may be too thin to draw
users = next(c for c in p.charts if c["id"] == "users")
long = sum(1 for ph in report["phases"] if ph["end_s"] - ph["start_s"] >= 0.1)
assert long <= users["phases"] <= len(report["phases"]), ("phase bands", users["phases"])

text = " ".join(p.text)
for sec in ("requests", "status-codes", "transactions", "scenarios", "overview", "options"):
    assert re.search(r'<section id="%s">' % sec, dom), "no section " + sec
for q in report["requests"]:
    assert "%s %s" % (q["method"], q["name"]) in text, q["name"]
for s in report["scenarios"]:
    assert s["name"] in text, s["name"]
assert re.search(r"\b[0-9a-f]{64}\b", text), "no load-test hash"
for opt in ("--host", "--users", "--hatch-rate", "--run-time", "--report-file"):
    assert opt in text, "option %s not shown" % opt
print("every chart has its data points; tables, hash and options are there")
PY

chrome --screenshot="$out/report.png" --window-size=1280,2400 "file://$out/r.html" \
    >/dev/null 2>>"$out/chromium.log"
chrome --print-to-pdf="$out/report.pdf" --no-pdf-header-footer "file://$out/r.html" \
    >/dev/null 2>>"$out/chromium.log"
python3 - "$out/report.png" "$out/report.pdf" <<'PY' || exit 1
import os, sys
png, pdf = sys.argv[1], sys.argv[2]
assert os.path.exists(png), "no screenshot"
head = open(png, "rb").read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
assert (w, h) == (1280, 2400), (w, h)
assert os.path.getsize(png) > 50000, "a blank screenshot (%d bytes)" % os.path.getsize(png)
assert os.path.exists(pdf) and open(pdf, "rb").read(5) == b"%PDF-", "no printed PDF"
print("screenshot %s (%d bytes), printed %s" % (png, os.path.getsize(png), pdf))
PY
echo "ok"
