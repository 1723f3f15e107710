#!/usr/bin/env bash
# bench/data-gaggle.sh [BUILD] - test data across a Gaggle (issue 17): a
# part of `make bench` that also runs alone (`make bench-data-gaggle`).
#
# A CSV of BENCH_DATA_ROWS rows (1,000,000; "name,password", about 31 MB)
# that only the Manager can read, a Gaggle of a Manager and 2 Workers
# (bench/data-gaggle.c: GOOSE_DATA_CIRCULAR, so each Worker gets a block of half
# the rows), 2 users, 20 iterations each, against goose-target on
# 127.0.0.1; then the same Gaggle without the data set.  Every process
# runs under /usr/bin/time: a Worker's RSS growth is its max RSS with the
# data less its max RSS without; the Manager's likewise (it holds the
# whole file, and about a frame per Worker in flight).  Also the time from
# the Manager's start to START (every row shipped) with and without.
#
# Writes its section of bench/RESULTS.md.  Exit status 1 when a run fails
# (an exit status not 0, a count other than the target's) or a Worker's
# growth exceeds 0.75 x the file (its half, with room for the frame being
# read).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
D=$OUT/data-gaggle
ROWS=${BENCH_DATA_ROWS:-1000000}
PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

BUILD=${1:-build}
[ -x /usr/bin/time ] || die "needs /usr/bin/time: run make deps"
[ -e "$BUILD/libgoose.so" ] || die "$BUILD/libgoose.so is missing: run make first"
[ -x "$BUILD/goose-target" ] || die "$BUILD/goose-target is missing: run make first"
case "$ROWS" in [1-9]*) ;; *) die "BENCH_DATA_ROWS=\"$ROWS\": a number of rows" ;; esac
LIBDIR=$(cd "$BUILD" && pwd)
rm -rf "$D"
mkdir -p "$D/empty"
cc -O2 -Iinclude bench/data-gaggle.c -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgoose -o "$D/data-load"

CSV=$D/accounts.csv
awk -v n="$ROWS" 'BEGIN { print "name,password"; for (i = 0; i < n; i++) printf "user%07d,secret-%07d\n", i, i }' > "$CSV"
BYTES=$(stat -c %s "$CSV")

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

TPORT_FILE=$D/target.port
"$BUILD/goose-target" --port 0 --port-file "$TPORT_FILE" > "$D/target.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TPORT_FILE" ] && break; sleep 0.05; done
[ -s "$TPORT_FILE" ] || die "goose-target did not start"
TARGET=http://127.0.0.1:$(cat "$TPORT_FILE")

count() { # the target's logins so far
    python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]+"/stats"))["logins"])' "$TARGET"
}

# run NAME FILE: a Manager and 2 Workers (the Workers in a directory
# without the file), each under /usr/bin/time, into $D/NAME
run() {
    local name=$1 file=$2 port m w1 w2 rc=0 before after
    local R=$D/$name
    mkdir -p "$R"
    port=$(free_port)
    before=$(count)
    say "data across a Gaggle ($name): a Manager + 2 Workers, 2 users x 20 iterations ..."
    BENCH_DATA_FILE=$file /usr/bin/time -o "$R/manager.time" -f '%e %U %S %M' \
        timeout 300 "$D/data-load" --manager --expect-workers 2 --manager-bind-host 127.0.0.1 \
        --manager-bind-port "$port" --host "$TARGET" -u 2 -r 100 --iterations 20 \
        --report-file "$R/report.json" > "$R/manager.txt" 2>&1 &
    m=$!
    (cd "$D/empty" && BENCH_DATA_FILE=$file exec /usr/bin/time -o "$R/worker1.time" \
        -f '%e %U %S %M' timeout 300 "$D/data-load" --worker --manager-port "$port" \
        > "$R/worker1.txt" 2>&1) &
    w1=$!
    (cd "$D/empty" && BENCH_DATA_FILE=$file exec /usr/bin/time -o "$R/worker2.time" \
        -f '%e %U %S %M' timeout 300 "$D/data-load" --worker --manager-port "$port" \
        > "$R/worker2.txt" 2>&1) &
    w2=$!
    PIDS+=("$m" "$w1" "$w2")
    wait "$m" || rc=$?
    wait "$w1" || rc=$((rc ? rc : 10))
    wait "$w2" || rc=$((rc ? rc : 10))
    after=$(count)
    echo "$rc" > "$R/rc"
    echo $((after - before)) > "$R/target-count"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["totals"]["count"])' \
        "$R/report.json" > "$R/report-count" 2>/dev/null || echo -1 > "$R/report-count"
}

run with "$CSV"
run without ""

kb() { awk '{ print $4 }' "$1"; }
status=0
lines=()
for name in with without; do
    R=$D/$name
    [ "$(cat "$R/rc")" = 0 ] || { say "$name: a process failed (exit $(cat "$R/rc"), see $R)"; status=1; }
    [ "$(cat "$R/report-count")" = "$(cat "$R/target-count")" ] ||
        { say "$name: report $(cat "$R/report-count") requests, target $(cat "$R/target-count")"; status=1; }
done
# the time from the Manager's first line to its START line
start_ms() {
    python3 - "$1" <<'PY'
import re, sys, datetime
first = start = None
for line in open(sys.argv[1]):
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)', line)
    if not m:
        continue
    t = datetime.datetime.fromisoformat(m.group(1))
    first = first or t
    if 'START in' in line:
        start = t
        break
print(round((start - first).total_seconds() * 1000) if first and start else -1)
PY
}
M_WITH=$(kb "$D/with/manager.time"); M_WITHOUT=$(kb "$D/without/manager.time")
W1=$(( $(kb "$D/with/worker1.time") - $(kb "$D/without/worker1.time") ))
W2=$(( $(kb "$D/with/worker2.time") - $(kb "$D/without/worker2.time") ))
FILE_KB=$((BYTES / 1024))
for g in $W1 $W2; do
    if [ $((g * 4)) -gt $((FILE_KB * 3)) ]; then
        say "a Worker's RSS grew by $g KiB: more than 0.75 x the file's $FILE_KB KiB"
        status=1
    fi
done
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
    echo "<!-- bench:datagaggle:begin (generated by bench/data-gaggle.sh) -->"
    echo "### Test data across a Gaggle (bench/data-gaggle.sh)"
    echo
    echo "A CSV of $(group "$ROWS") rows, $(group "$BYTES") bytes, read by the Manager"
    echo "only; 2 Workers in a directory without it (GOOSE_DATA_CIRCULAR: a block of"
    echo "half the rows each); 2 users x 20 iterations; max RSS with the data set less"
    echo "the same Gaggle without it (\`bash bench/data-gaggle.sh\`, $(date -u +%Y-%m-%d)):"
    echo
    echo "| process | RSS growth | of the file |"
    echo "|---|---|---|"
    echo "| Worker 1 | $(group "$W1") KiB | $(ratio "$W1" "$FILE_KB") |"
    echo "| Worker 2 | $(group "$W2") KiB | $(ratio "$W2" "$FILE_KB") |"
    echo "| Manager | $(group $((M_WITH - M_WITHOUT))) KiB | $(ratio $((M_WITH - M_WITHOUT)) "$FILE_KB") |"
    echo
    echo "From the Manager's start to START (the file read, every row shipped):"
    echo "$(start_ms "$D/with/manager.txt") ms with the data, $(start_ms "$D/without/manager.txt") ms without."
    echo "Requests: the report's $(cat "$D/with/report-count") = the target's $(cat "$D/with/target-count")."
    echo "<!-- bench:datagaggle:end -->"
} > "$D/section.md"
cat "$D/section.md"
python3 - "$D/section.md" bench/RESULTS.md <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip("\n")
path = sys.argv[2]
text = open(path).read()
pat = re.compile(r"<!-- bench:datagaggle:begin.*?<!-- bench:datagaggle:end -->", re.S)
text = pat.sub(lambda m: section, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
exit $status
