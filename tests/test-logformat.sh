#!/usr/bin/env bash
# goose_main's log lines with --log-format json are one JSON object per
# line (time, host, level, message), and without a terminal the progress
# comes as a plain line every --running-metrics.
set -u
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
target_pid=
trap '[ -n "$target_pid" ] && kill $target_pid 2>/dev/null; rm -rf "$work"' EXIT
"$build/goose-target" --port-file "$work/port" >/dev/null &
target_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
"$build/examples/quickstart" --host "http://127.0.0.1:$port" -u 4 -r 20 -t 3s \
    --running-metrics 1s --log-format json --no-print-metrics 2> "$work/json.log" || exit 1
"$build/examples/quickstart" --host "http://127.0.0.1:$port" -u 4 -r 20 -t 3s \
    --running-metrics 1s --no-print-metrics 2> "$work/text.log" < /dev/null || exit 1
python3 - "$work/json.log" "$work/text.log" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no log lines"
progress = 0
for line in lines:
    o = json.loads(line)  # every line is one JSON object
    assert set(o) == {"time", "host", "level", "message"}, o
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["time"]), o["time"]
    progress += bool(re.match(r"\d+s (increase|maintain|decrease): \d+ users, \d+ req/s", o["message"]))
assert progress >= 2, f"{progress} progress lines"
text = open(sys.argv[2]).read()
assert "\r" not in text, "a status line for a terminal went to a file"
assert len(re.findall(r" INFO \d+s (increase|maintain|decrease): \d+ users", text)) >= 2, text
print(f"{len(lines)} JSON log lines, {progress} progress lines")
PY
