#!/usr/bin/env bash
# bench/overload.sh [BUILD] - a Gaggle on an overloaded box (issue 13, part 3),
# a part of `make bench` that also runs alone:
#
#   bash bench/overload.sh            (after make; nginx is installed if missing)
#
# nginx (bench/nginx.conf, 1 worker, access log on) and one Manager with
# BENCH_OVERLOAD_WORKERS (128) Workers, each `--threads 1`, 8 users per
# Worker whose users wait 0-5 ms (BENCH_WAIT_MS=0-5), BENCH_OVERLOAD_TIME s
# (10) of run time, nothing pinned: some 260 busy threads on the box's cores.
# Once such a run lost every Worker within 7 s of START.
#
# Passes when the Manager and every Worker exit 0, the report says every
# Worker is "done", and its total equals nginx's access-log lines.  Writes
# its section of bench/RESULTS.md; exit status 1 when it fails.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
D=$OUT/overload
WORKERS=${BENCH_OVERLOAD_WORKERS:-128}
TIME=${BENCH_OVERLOAD_TIME:-10}
PER_WORKER=8
WAIT=0-5
ADDR=127.0.0.1
PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

if ! command -v nginx >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "needs nginx (apt-get install nginx)"
    export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 # no system nginx on :80
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
[ -e lib/libgoose.so ] || die "lib/libgoose.so is missing: run make first"
mkdir -p "$OUT"
cc -O2 -Iinclude bench/loadtest.c -Llib -Wl,-rpath,"$ROOT/lib" -lgoose -o "$OUT/loadtest"
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
MPORT=$(free_port)
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
CMD_M="BENCH_WAIT_MS=$WAIT bench/out/loadtest --manager --expect-workers $WORKERS --manager-bind-host 127.0.0.1 --manager-bind-port $MPORT --host http://$ADDR:$PORT -u $USERS -r $USERS -t ${TIME}s --no-reset-metrics --report-file bench/out/overload/manager.json"
CMD_W="BENCH_WAIT_MS=$WAIT bench/out/loadtest --worker --manager-port $MPORT --threads 1"
{
    echo "workers=$WORKERS"; echo "users=$USERS"; echo "time=$TIME"; echo "wait=$WAIT"
    echo "cpus=$(nproc)"; echo "cmd_manager=$CMD_M"; echo "cmd_worker=$CMD_W"
} > "$D/env"
say "overload: nginx + a Manager + $WORKERS Workers (--threads 1), $USERS users waiting $WAIT ms, ${TIME}s, nothing pinned ..."
export BENCH_WAIT_MS=$WAIT
/usr/bin/time -o "$D/manager.time" -f '%e %U %S %M' "$OUT/loadtest" --manager \
    --expect-workers "$WORKERS" --manager-bind-host 127.0.0.1 --manager-bind-port "$MPORT" \
    --host "http://$ADDR:$PORT" -u "$USERS" -r "$USERS" -t "${TIME}s" --no-reset-metrics \
    --report-file "$D/manager.json" > "$D/manager.txt" 2>&1 &
M=$!
PIDS+=("$M")
WPIDS=()
for w in $(seq "$WORKERS"); do
    "$OUT/loadtest" --worker --manager-port "$MPORT" --threads 1 > "$D/worker$w.txt" 2>&1 &
    WPIDS+=($!)
    PIDS+=($!)
done
rc=0; wait "$M" || rc=$?
echo "$rc" > "$D/manager.rc"
failed=0
for p in "${WPIDS[@]}"; do wait "$p" || failed=$((failed + 1)); done
echo "$failed" > "$D/workers-failed"
sleep 1.5 # nginx flushes its access log every second
kill -QUIT "$NGINX" 2>/dev/null || true
wait "$NGINX" 2>/dev/null || true
PIDS=()
wc -l < "$D/nginx/access.log" > "$D/nginx-count"
python3 bench/overload_summary.py "$D" bench/RESULTS.md
