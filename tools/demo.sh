#!/usr/bin/env bash
# make demo: a real load test against the bundled target on 127.0.0.1,
# on every core, for about 15 seconds; prints the report and writes
# demo-report.json.
set -euo pipefail
build=${1:-build}
work=$(mktemp -d)
target_pid=
cleanup() {
    [ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$build/goose-target" --port-file "$work/port" >/dev/null &
target_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
echo "target: http://127.0.0.1:$port (build/goose-target, pid $target_pid)"
echo "load test: examples/umami.c, $(nproc) engine threads, 40 users hatched at 20/s, 13 s after hatching"
echo

"$build/examples/umami" --host "http://127.0.0.1:$port" -u 40 -r 20 -t 13s \
    --running-metrics 5s --report-file demo-report.json --no-reset-metrics

echo
served=$(curl -s "http://127.0.0.1:$port/stats" 2>/dev/null | grep -o '"total": *[0-9]*' | grep -o '[0-9]*$' || true)
counted=$(grep -A1 '"totals"' demo-report.json | grep -o '"count": *[0-9]*' | grep -o '[0-9]*$' || true)
echo "The target served ${served:-?} requests; the report counted ${counted:-?}."
echo "JSON report: demo-report.json"
