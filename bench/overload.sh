#!/usr/bin/env bash
# bench/overload.sh [BUILD] - a Gaggle on an overloaded box (issue 13, part 3),
# a part of `make bench` that also runs alone:
#
#   bash bench/overload.sh            (after make deps and make)
#
# nginx (bench/nginx.conf, 1 worker, access log on) and one Manager with
# BENCH_OVERLOAD_WORKERS (128) Workers, each `--threads 1`, 8 users per
# Worker whose users wait 0-5 ms (BENCH_WAIT_MS=0-5), BENCH_OVERLOAD_TIME s
# (10) of run time, nothing pinned: some 260 busy threads on the box's cores.
# Issue 13 measured such a run losing every Worker within 7 s of START.
# Then the same with the Manager starved of CPU from START on (nice 19, on
# the last CPU beside 4 busy loops; BENCH_OVERLOAD_STARVE=0 skips it),
# which lost every Worker before issue 13 on this 2-core box.
#
# Each run passes when the Manager and every Worker exit 0, the report says
# every Worker is "done", and its total equals the lines nginx logged
# meanwhile.  Writes its section of bench/RESULTS.md; exit status 1 when a
# run fails.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
D=$OUT/overload
WORKERS=${BENCH_OVERLOAD_WORKERS:-128}
TIME=${BENCH_OVERLOAD_TIME:-10}
PER_WORKER=8
WAIT=0-5
STARVE=${BENCH_OVERLOAD_STARVE:-1}
HOGS=4
ADDR=127.0.0.1
PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

BUILD=${1:-build}
command -v nginx >/dev/null || die "needs nginx: run make deps (or make bench-overload)"
[ -e "$BUILD/libgoose.so" ] || die "$BUILD/libgoose.so is missing: run make first"
LIBDIR=$(cd "$BUILD" && pwd)
mkdir -p "$OUT"
cc -O2 -Iinclude bench/loadtest.c -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgoose -o "$OUT/loadtest"
rm -rf "$D"
mkdir -p "$D/nginx/tmp"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(free_port)
sed "s/@PORT@/$PORT/" bench/nginx.conf > "$D/nginx/nginx.conf"
nginx -p "$D/nginx/" -e "$D/nginx/error.log" -c "$D/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
PIDS+=("$NGINX")
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/$ADDR/$PORT") 2>/dev/null; then break; fi
    kill -0 "$NGINX" 2>/dev/null || die "nginx did not start: $(cat "$D/nginx/error.log")"
    sleep 0.05
done
(exec 3<>"/dev/tcp/$ADDR/$PORT") 2>/dev/null || die "nginx does not answer on $ADDR:$PORT"

USERS=$((WORKERS * PER_WORKER))
LAST_CPU=$(($(nproc) - 1))
CMD_M="BENCH_WAIT_MS=$WAIT bench/out/loadtest --manager --expect-workers $WORKERS --manager-bind-host 127.0.0.1 --manager-bind-port PORT --host http://$ADDR:$PORT -u $USERS -r $USERS -t ${TIME}s --no-reset-metrics --report-file bench/out/overload/RUN/manager.json"
CMD_W="BENCH_WAIT_MS=$WAIT bench/out/loadtest --worker --manager-port PORT --threads 1"
{
    echo "workers=$WORKERS"; echo "users=$USERS"; echo "time=$TIME"; echo "wait=$WAIT"
    echo "cpus=$(nproc)"; echo "hogs=$HOGS"; echo "last_cpu=$LAST_CPU"
    echo "cmd_manager=$CMD_M"; echo "cmd_worker=$CMD_W"
} > "$D/env"
export BENCH_WAIT_MS=$WAIT

# Lines in nginx's access log once its 1 s buffer flush has happened.
log_lines() { sleep 1.5; wc -l < "$D/nginx/access.log"; }

# starve TIME_PID: from START on, the Manager (the child of /usr/bin/time)
# at nice 19 on the last CPU, beside $HOGS busy loops there, for the run
# time and a few seconds more.
starve() {
    local t=$1 m i
    while ! grep -q "users started" "$R/manager.txt" 2>/dev/null; do
        kill -0 "$t" 2>/dev/null || return 0
        sleep 0.1
    done
    m=$(tr -d ' ' < "/proc/$t/task/$t/children")
    renice -n 19 -p "$m" > /dev/null
    taskset -a -p -c "$LAST_CPU" "$m" > /dev/null
    echo "nice $(ps -o ni= -p "$m" | tr -d ' '), CPU $(taskset -cp "$m" | sed 's/.*: //')" > "$R/starved"
    for i in $(seq "$HOGS"); do
        taskset -c "$LAST_CPU" timeout $((TIME + 5)) sh -c 'while :; do :; done' &
    done
    wait
}

# run NAME STARVED: one Gaggle run into $D/NAME
run() {
    local name=$1 starved=$2 mport m w rc failed=0 before after sp=
    R=$D/$name
    mkdir -p "$R"
    mport=$(free_port)
    before=$(log_lines)
    say "overload ($name): a Manager + $WORKERS Workers (--threads 1), $USERS users waiting $WAIT ms, ${TIME}s, nothing pinned$([ "$starved" = 1 ] && echo ", the Manager starved from START") ..."
    /usr/bin/time -o "$R/manager.time" -f '%e %U %S %M' "$OUT/loadtest" --manager \
        --expect-workers "$WORKERS" --manager-bind-host 127.0.0.1 --manager-bind-port "$mport" \
        --host "http://$ADDR:$PORT" -u "$USERS" -r "$USERS" -t "${TIME}s" --no-reset-metrics \
        --report-file "$R/manager.json" > "$R/manager.txt" 2>&1 &
    m=$!
    PIDS+=("$m")
    local wpids=()
    for w in $(seq "$WORKERS"); do
        "$OUT/loadtest" --worker --manager-port "$mport" --threads 1 > "$R/worker$w.txt" 2>&1 &
        wpids+=($!)
        PIDS+=($!)
    done
    if [ "$starved" = 1 ]; then
        starve "$m" &
        sp=$!
        PIDS+=("$sp")
    fi
    rc=0; wait "$m" || rc=$?
    echo "$rc" > "$R/manager.rc"
    for w in "${wpids[@]}"; do wait "$w" || failed=$((failed + 1)); done
    echo "$failed" > "$R/workers-failed"
    [ -z "$sp" ] || wait "$sp" || true
    after=$(log_lines)
    echo $((after - before)) > "$R/nginx-count"
}

status=0
run busy 0
if [ "$STARVE" = 1 ]; then run starved 1; fi
kill -QUIT "$NGINX" 2>/dev/null || true
wait "$NGINX" 2>/dev/null || true
PIDS=()
python3 bench/overload_summary.py "$D" bench/RESULTS.md
