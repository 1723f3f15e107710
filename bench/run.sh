#!/usr/bin/env bash
# bench/run.sh [BUILD] - `make bench`: libgoose against wrk on one nginx.
#
# nginx (bench/nginx.conf) listens on 127.0.0.1 pinned to CPU 0; each load
# generator runs pinned to CPU 1 under /usr/bin/time, one after the other:
#
#   wrk -t1 -c50 -d10s                   50 keep-alive connections, 10 s
#   loadtest --threads 1 -u 50 -r 1000   50 users without wait, 10 s
#
# and prints requests/s, generator CPU µs per request ((user+sys) / requests)
# and max RSS, then the idle-user memory ((RSS of 1000 users waiting 1 s -
# RSS of 1 user) / 999), then callgrind's instructions per request.  The
# results replace the generated section of bench/RESULTS.md.
#
# Exit status 1 when a floor is missed:
#   libgoose CPU per request   <= 3.0 x wrk's in the same run
#   memory per idle user       <= 48 KiB
#   nginx's access log counts exactly the requests libgoose's report counts
#
# Environment: BENCH_DURATION (s, default 10), BENCH_IDLE_USERS (1000),
# BENCH_CALLGRIND=0 skips the callgrind part (informative, not a floor),
# BENCH_CALLGRIND_WRK=0 skips only wrk under callgrind.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}           # objects only; the library is lib/libgoose.so
OUT=$ROOT/bench/out
W=$OUT/nginx
DURATION=${BENCH_DURATION:-10}
CONNS=50
IDLE_USERS=${BENCH_IDLE_USERS:-1000}
IDLE_RUN=6                  # s of run time for the idle test
IDLE_SAMPLE=5               # s after start when VmRSS is read
CALLGRIND=${BENCH_CALLGRIND:-1}
CALLGRIND_WRK=${BENCH_CALLGRIND_WRK:-1}
CG_ITER_HI=200              # iterations per user for callgrind (x 50 users)
CG_ITER_LO=20
CG_WRK_HI=4                 # s of wrk under callgrind
CG_WRK_LO=1
ADDR=127.0.0.1              # the only address this script ever uses

PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# --- dependencies -----------------------------------------------------------
missing=()
command -v nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/bin/time ] || missing+=(time)
command -v taskset >/dev/null || missing+=(util-linux)
command -v python3 >/dev/null || missing+=(python3)
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
    missing+=(valgrind)
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        # RUNLEVEL=1: do not let the package start a system nginx on :80.
        export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        die "missing ${missing[*]}; as root run: apt-get update && apt-get install -y ${missing[*]}"
    fi
fi

[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (nginx on CPU 0, the generator on CPU 1); nproc = $(nproc)"
[ -e lib/libgoose.so ] || die "lib/libgoose.so is missing: run make first"

# --- build ------------------------------------------------------------------
mkdir -p "$OUT"
cc -O2 -Iinclude bench/loadtest.c -Llib -Wl,-rpath,"$ROOT/lib" -lgoose -o "$OUT/loadtest"
say "built bench/out/loadtest"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- nginx ------------------------------------------------------------------
NGINX_PID=
bg_pid=
cleanup() {
    if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; fi
    if [ -n "$NGINX_PID" ]; then
        kill -QUIT "$NGINX_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rm -rf "$W"
mkdir -p "$W/tmp"
PORT=$(free_port)
sed "s/@PORT@/$PORT/" bench/nginx.conf > "$W/nginx.conf"
taskset -c 0 nginx -p "$W/" -e "$W/error.log" -c "$W/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
URL=http://$ADDR:$PORT
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/$ADDR/$PORT") 2>/dev/null; then break; fi
    kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$W/error.log" 2>/dev/null)"
    sleep 0.05
done
body=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")' "$URL/")
[ "$body" = hello ] || die "nginx at $URL answers \"$body\", not hello"
say "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $URL, CPU 0"

# Lines in the access log once its 1 s buffer flush has happened.
log_lines() { sleep 1.5; wc -l < "$W/access.log"; }

# run NAME CMD... : pinned to CPU 1 under /usr/bin/time; stdout+stderr to NAME.txt
run() {
    local name=$1; shift
    local rc=0
    taskset -c 1 /usr/bin/time -o "$OUT/$name.time" -f '%e %U %S %M' "$@" \
        > "$OUT/$name.txt" 2>&1 || rc=$?
    echo "$rc" > "$OUT/$name.rc"
    return 0
}

# --- throughput and CPU -----------------------------------------------------
say "wrk -t1 -c$CONNS -d${DURATION}s ..."
run wrk wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$URL/"

say "libgoose --threads 1 -u $CONNS ..."
rm -f "$OUT/goose.json"
before=$(log_lines)
run goose "$OUT/loadtest" --host "$URL" --threads 1 -u "$CONNS" -r 1000 -t "${DURATION}s" \
    --no-reset-metrics --report-file "$OUT/goose.json" -q
after=$(log_lines)
echo $((after - before)) > "$OUT/goose.nginx-count"

# --- memory per idle user ---------------------------------------------------
# idle N: N users waiting 1 s between requests; VmRSS read IDLE_SAMPLE s in.
idle() {
    local n=$1 rc=0 pid
    rm -f "$OUT/idle-$n.json"
    BENCH_WAIT_MS=1000 taskset -c 1 "$OUT/loadtest" --host "$URL" --threads 1 -u "$n" -r 1000 \
        -t "${IDLE_RUN}s" --report-file "$OUT/idle-$n.json" -q > "$OUT/idle-$n.txt" 2>&1 &
    pid=$!
    bg_pid=$pid
    sleep "$IDLE_SAMPLE"
    grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status" > "$OUT/idle-$n.status" 2>/dev/null || true
    wait "$pid" || rc=$?
    bg_pid=
    echo "$rc" > "$OUT/idle-$n.rc"
}
say "idle memory: 1 user, then $IDLE_USERS users, 1 s wait ..."
idle 1
idle "$IDLE_USERS"

# --- callgrind (informative) ------------------------------------------------
cg_total() { # total instructions of a callgrind output file
    awk '/^(summary|totals):/ { print $2; exit }' "$1"
}
: > "$OUT/callgrind.env"
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    for it in "$CG_ITER_LO" "$CG_ITER_HI"; do
        say "callgrind: libgoose -u $CONNS --iterations $it ..."
        rm -f "$OUT/cg-goose-$it.json" "$OUT/callgrind.goose-$it.out"
        taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.goose-$it.out" \
            "$OUT/loadtest" --host "$URL" --threads 1 -u "$CONNS" -r 1000 --iterations "$it" \
            --report-file "$OUT/cg-goose-$it.json" -q > "$OUT/cg-goose-$it.txt" 2>&1 || true
        echo "cg_goose_${it}_ir=$(cg_total "$OUT/callgrind.goose-$it.out" 2>/dev/null || true)" >> "$OUT/callgrind.env"
    done
    callgrind_annotate --inclusive=yes --threshold=100 "$OUT/callgrind.goose-$CG_ITER_HI.out" \
        > "$OUT/callgrind-goose-inclusive.txt" 2>/dev/null || true
    callgrind_annotate --threshold=100 "$OUT/callgrind.goose-$CG_ITER_HI.out" \
        > "$OUT/callgrind-goose-self.txt" 2>/dev/null || true
    if [ "$CALLGRIND_WRK" = 1 ]; then
        for d in "$CG_WRK_LO" "$CG_WRK_HI"; do
            say "callgrind: wrk -t1 -c$CONNS -d${d}s ..."
            rm -f "$OUT/callgrind.wrk-$d.out"
            taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.wrk-$d.out" \
                wrk -t1 -c"$CONNS" -d"${d}s" "$URL/" > "$OUT/cg-wrk-$d.txt" 2>&1 || true
            echo "cg_wrk_${d}_ir=$(cg_total "$OUT/callgrind.wrk-$d.out" 2>/dev/null || true)" >> "$OUT/callgrind.env"
        done
    fi
fi

# --- Gaggle: standalone vs 1 Manager + 2 Workers, same users -----------------
gaggle_run() { # standalone and gaggle, each with $CONNS users, no wait
    local mport
    say "gaggle: standalone --threads 1 -u $CONNS vs manager + 2 workers (--threads 1 each) ..."
    run g-standalone "$OUT/loadtest" --host "$URL" --threads 1 -u "$CONNS" -r 1000 \
        -t "${DURATION}s" --no-reset-metrics --report-file "$OUT/g-standalone.json" -q
    mport=$(free_port)
    rm -f "$OUT/g-manager.json"
    taskset -c 1 /usr/bin/time -o "$OUT/g-manager.time" -f '%e %U %S %M' "$OUT/loadtest" --manager \
        --expect-workers 2 --manager-bind-host 127.0.0.1 --manager-bind-port "$mport" \
        --host "$URL" -u "$CONNS" -r 1000 -t "${DURATION}s" --no-reset-metrics \
        --report-file "$OUT/g-manager.json" -q > "$OUT/g-manager.txt" 2>&1 &
    local pids=$!
    for w in 1 2; do
        taskset -c 1 "$OUT/loadtest" --worker --manager-port "$mport" --threads 1 -q \
            > "$OUT/g-worker$w.txt" 2>&1 &
        pids="$pids $!"
    done
    wait $pids || true
    cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ilib bench/msgsize.c lib/libgoose.a \
        $(pkg-config --libs libcurl libevent libevent_pthreads msgpack openssl jansson) -lpthread -lm \
        -o "$OUT/msgsize" && "$OUT/msgsize" > "$OUT/g-msgsize.txt"
}
gaggle_run

# --- report -----------------------------------------------------------------
status=0
python3 bench/summarize.py --out "$OUT" --results bench/RESULTS.md --duration "$DURATION" \
    --conns "$CONNS" --idle-users "$IDLE_USERS" --idle-run "$IDLE_RUN" --idle-sample "$IDLE_SAMPLE" \
    --cg-iter "$CG_ITER_LO,$CG_ITER_HI" --cg-wrk "$CG_WRK_LO,$CG_WRK_HI" --url "$URL" || status=$?
if [ -s "$OUT/callgrind-goose-inclusive.txt" ]; then
    say "callgrind, libgoose, inclusive, top 30 without recursion copies (bench/out/callgrind-goose-inclusive.txt):"
    python3 bench/summarize.py --top "$OUT/callgrind-goose-inclusive.txt" 30
fi
python3 bench/gaggle_summary.py "$OUT" bench/RESULTS.md "$DURATION" "$CONNS" || status=1
exit "$status"
