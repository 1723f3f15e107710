#!/usr/bin/env bash
# bench/run.sh [BUILD] - `make bench`: libgoose against wrk and Locust on nginx.
#
# nginx (bench/nginx.conf) listens on 127.0.0.1 pinned to CPU 0; each load
# generator runs pinned to CPU 1 under /usr/bin/time, one after the other:
#
#   wrk -t1 -c50 -d10s                   50 keep-alive connections, 10 s
#   loadtest --threads 1 -u 50 -r 1000   50 users without wait, 10 s
#   locust -u 50 -r 50 -t 10s            bench/locustfile.py, HttpUser then
#                                        FastHttpUser, headless, 1 process
#
# and prints requests/s, generator CPU µs per request ((user+sys) / requests)
# and max RSS, then the idle-user memory ((RSS of 10,000 users waiting 1 s -
# RSS of 1 user) / 9,999), then callgrind's instructions per request, then a
# Gaggle (Manager + 2 Workers) against the standalone run.  Then:
#
#   --threads 1 vs 2    nginx with 2 workers and the generator, both unpinned,
#                       100 users without wait, 10 s each (informative)
#   100,000 users       a Manager + 6 Workers (one fd table of <= 20,000
#                       each), each user on its own keep-alive connection,
#                       10 s wait, hatched at 10,000/s, BENCH_SCALE_TIME s
#                       (300) against an nginx of 6 workers on CPU 0
#   dynamic URLs        every request a new unnamed path, --threads 1 -u 50
#                       without wait, BENCH_NAMES_TIME s (20), against the
#                       first nginx: the --max-request-names bound
#   overloaded Gaggle   bench/overload.sh (runs alone too): nginx, a Manager
#                       and 128 Workers (--threads 1, 1,024 users waiting
#                       0-5 ms, 10 s), nothing pinned, then with the
#                       Manager starved of CPU from START
#   TLS and HTTP/2      its own nginx (bench/nginx-tls.conf, CPU 0) with a
#                       CA and a P-256 certificate made here by openssl,
#                       TLS 1.3, GET / of 2 bytes; 50 connections or users,
#                       BENCH_TLS_TIME s (10) each, on CPU 1: libgoose
#                       against wrk over http and https, keep-alive and a
#                       new connection per request, and against
#                       h2load -c50 -m1 over HTTP/2 (bench/tls_summary.py);
#                       h2c (prior knowledge) too, informative, once
#                       libgoose has --http-version
#   assets              bench/assets.sh (runs alone too, `make
#                       bench-assets`): a page of 20 assets loaded by
#                       goose_load_assets over HTTP/1.1 and HTTP/2, against
#                       wrk and h2load fetching the same 21 URLs
#   test data, Gaggle   bench/data-gaggle.sh (runs alone too, `make
#                       bench-data-gaggle`): a 1,000,000-row CSV only the
#                       Manager reads, 2 Workers: each one's RSS growth
#                       against the file (about half of it)
#
#   reading bodies      bench/read.c on CPU 1: the CPU time of each body
#                       reader (goose_response_title, _form_value, _json,
#                       _extract) per MB, the first call on a fresh
#                       response, its parse included (informative; no
#                       nginx: BENCH_ONLY=read, `make bench-read`, runs it
#                       alone)
#   test data           bench/data.c: a CSV file of 1,000,000 rows and 2
#                       columns read as a run reads it (goose__table_load):
#                       the table's bytes and the RSS growth against the
#                       file's size (no nginx: BENCH_ONLY=data, `make
#                       bench-data`, runs it alone)
#
# Each part replaces its generated section of bench/RESULTS.md; the last
# lines printed are a PASS/FAIL line per part and the verdict.
#
# Exit status 1 when a floor is missed:
#   libgoose CPU per request   <= 2.0 x wrk's in the same run
#   memory per idle user       <= 24 KiB (10,000 users with 1 s wait)
#   nginx's access log counts exactly the requests libgoose's report counts
#   Gaggle (2 Workers) requests/s >= 0.90 x standalone
#   libgoose requests per CPU-second >= 30 x Locust HttpUser's,
#                                    >=  8 x Locust FastHttpUser's
#   100,000 users: 0 failed requests and no errors, ESTABLISHED connections
#     to nginx >= 100,000 while they run, hatch (measured) <= 11 s
#   dynamic URLs: max RSS <= 100 MiB, exit status 0, >= 100,000 distinct
#     paths, the report's total = nginx's access-log count
#   overloaded Gaggle (busy, starved Manager): every Worker done, totals =
#     nginx's access log
#   test data: the table and the RSS growth of a 1,000,000-row file <= 1.10
#     x the file's size, every row checked reads back right
#   TLS and HTTP/2, libgoose CPU per request / the tool's, same run (each
#     with libgoose's count = nginx's log and the protocol expected):
#     http keep-alive and new connection per request <= 1.0 x wrk's,
#     https keep-alive <= 1.0 x wrk's, https new connection per request
#     <= 1.2 x wrk's, HTTP/2 one request at a time per user <= 1.0 x
#     h2load -c50 -m1's
#
# Environment: BENCH_DURATION (s, default 10), BENCH_IDLE_USERS (10000),
# BENCH_CALLGRIND=0 skips the callgrind part (informative, not a floor),
# BENCH_CALLGRIND_WRK=0 skips only wrk under callgrind, BENCH_LOCUST=0,
# BENCH_THREADS=0, BENCH_SCALE=0, BENCH_OVERLOAD=0, BENCH_ASSETS=0 and BENCH_DATAGAGGLE=0 skip those parts, BENCH_SCALE_TIME (s of
# run time after the hatch, 300), BENCH_SCALE_ADDRS (source addresses of the
# Workers, 127.0.0.1-127.0.0.16), BENCH_SCALE_CPUS (CPUs of the Manager and
# Workers, 0,1), BENCH_NAMES=0 skips the dynamic-URL part, BENCH_NAMES_TIME
# (s, 20); BENCH_TLS=0 skips the TLS part, BENCH_TLS_TIME (s per run, 10),
# BENCH_TLS_TRUST how libgoose trusts the bench's CA: ca-file (--ca-file),
# system (no option: the system bundle plus the bench's CA, bind-mounted
# over /etc/ssl/certs/ca-certificates.crt in a mount namespace of the
# generator alone; needs root) or insecure (--accept-invalid-certs); by
# default the first of them that libgoose's --help and the box allow.
# BENCH_TLS_ROWS (some of http-keepalive http-close https-keepalive
# https-close h2 h2c; all by default: a quick look at one row skips the others'
# floors), BENCH_TLS_REPEAT (1): pairs of runs per row, tool then libgoose,
# the row judged on the median ratio (a shared machine's noise).  BENCH_ONLY=names or BENCH_ONLY=tls runs that part alone (`make
# bench-tls`), BENCH_ONLY=read the body readers' part (`make bench-read`);
# BENCH_READ=0 skips it; BENCH_ONLY=data the test data's part (`make
# bench-data`), BENCH_DATA=0 skips it.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}           # the build: BUILD/libgoose.so, BUILD/goose-target
OUT=$ROOT/bench/out
W=$OUT/nginx
DURATION=${BENCH_DURATION:-10}
CONNS=50
IDLE_USERS=${BENCH_IDLE_USERS:-10000}
IDLE_RUN=6                  # s of run time for the idle test
IDLE_SAMPLE=5               # s after start when VmRSS is read
CALLGRIND=${BENCH_CALLGRIND:-1}
CALLGRIND_WRK=${BENCH_CALLGRIND_WRK:-1}
CG_ITER_HI=200              # iterations per user for callgrind (x 50 users)
CG_ITER_LO=20
CG_WRK_HI=4                 # s of wrk under callgrind
CG_WRK_LO=1
ADDR=127.0.0.1              # nginx's address; the 100k part also uses
                            # 127.0.0.x source addresses (BENCH_SCALE_ADDRS)
LOCUST=${BENCH_LOCUST:-1}
THREADS=${BENCH_THREADS:-1}
TH_USERS=100
SCALE=${BENCH_SCALE:-1}
SCALE_TIME=${BENCH_SCALE_TIME:-300}
SCALE_USERS=100000
SCALE_RATE=10000
SCALE_WORKERS=6
SCALE_WAIT_MS=10000
SCALE_NGINX_WORKERS=6
SCALE_ADDRS=${BENCH_SCALE_ADDRS:-127.0.0.1-127.0.0.16}
SCALE_CPUS=${BENCH_SCALE_CPUS:-0,1}
NAMES=${BENCH_NAMES:-1}
NAMES_TIME=${BENCH_NAMES_TIME:-20}
TLS=${BENCH_TLS:-1}
READ=${BENCH_READ:-1}
DATA=${BENCH_DATA:-1}
TLS_TIME=${BENCH_TLS_TIME:-10}
TLS_TRUST=${BENCH_TLS_TRUST:-}
TLS_REPEAT=${BENCH_TLS_REPEAT:-1}
case "$TLS_REPEAT" in
    [1-9]|[1-9][0-9]) ;;
    *) printf 'bench: BENCH_TLS_REPEAT="%s": a number of runs from 1 to 99\n' "$TLS_REPEAT" >&2; exit 2 ;;
esac
TLS_ALL_ROWS="http-keepalive http-close https-keepalive https-close h2 h2c"
TLS_ROWS=${BENCH_TLS_ROWS:-$TLS_ALL_ROWS}
for r in $TLS_ROWS; do
    case " $TLS_ALL_ROWS " in
    *" $r "*) ;;
    *) printf 'bench: BENCH_TLS_ROWS: "%s" is not one of %s\n' "$r" "$TLS_ALL_ROWS" >&2; exit 2 ;;
    esac
done
ONLY=${BENCH_ONLY:-}
case "$ONLY" in
    "") ;;
    names) NAMES=1 TLS=0 READ=0 DATA=0 CALLGRIND=0 LOCUST=0 THREADS=0 SCALE=0 BENCH_OVERLOAD=0 ;;
    tls) TLS=1 NAMES=0 READ=0 DATA=0 CALLGRIND=0 LOCUST=0 THREADS=0 SCALE=0 BENCH_OVERLOAD=0 ;;
    read) READ=1 TLS=0 NAMES=0 DATA=0 CALLGRIND=0 LOCUST=0 THREADS=0 SCALE=0 BENCH_OVERLOAD=0 ;;
    data) DATA=1 READ=0 TLS=0 NAMES=0 CALLGRIND=0 LOCUST=0 THREADS=0 SCALE=0 BENCH_OVERLOAD=0 ;;
    *) printf 'bench: BENCH_ONLY="%s": the parts that run alone are names, tls, read and data\n' "$ONLY" >&2; exit 2 ;;
esac
case "$TLS_TRUST" in
    ""|ca-file|system|insecure) ;;
    *) printf 'bench: BENCH_TLS_TRUST="%s": ca-file, system or insecure\n' "$TLS_TRUST" >&2; exit 2 ;;
esac
OVERLOAD=${BENCH_OVERLOAD:-1}
ASSETS=${BENCH_ASSETS:-1}    # goose_load_assets (bench/assets.sh); not with BENCH_ONLY
[ -z "$ONLY" ] || ASSETS=0
DATAGAGGLE=${BENCH_DATAGAGGLE:-1} # bench/data-gaggle.sh; not with BENCH_ONLY
[ -z "$ONLY" ] || DATAGAGGLE=0

PATH=$PATH:/usr/sbin:/sbin
export PYTHONDONTWRITEBYTECODE=1     # no bench/__pycache__ from the summaries
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
if [ "$LOCUST" = 1 ] && ! command -v locust >/dev/null; then
    missing+=(python3-locust)
fi
if [ "$SCALE" = 1 ] && ! command -v ss >/dev/null; then
    missing+=(iproute2)
fi
if [ "$TLS" = 1 ]; then
    command -v openssl >/dev/null || missing+=(openssl)
    command -v h2load >/dev/null || missing+=(nghttp2-client)
fi
# make bench installs them first (tools/deps.sh build bench); the readers'
# part alone needs none of them.
[ ${#missing[@]} -eq 0 ] || [ "$ONLY" = read ] || [ "$ONLY" = data ] || die "missing ${missing[*]}: run make deps (or make bench)"

[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (nginx on CPU 0, the generator on CPU 1); nproc = $(nproc)"
[ -e "$BUILD/libgoose.so" ] || die "$BUILD/libgoose.so is missing: run make first"
LIBDIR=$(cd "$BUILD" && pwd)

# --- build ------------------------------------------------------------------
mkdir -p "$OUT"
cc -O2 -Iinclude bench/loadtest.c -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgoose -o "$OUT/loadtest"
say "built bench/out/loadtest"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- reading bodies: no server, CPU 1 -----------------------------------------
READ_CMD="taskset -c 1 bench/out/read"
read_part() {
    say "reading bodies: the CPU cost of each reader per MB ($READ_CMD) ..."
    cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ilib bench/read.c "$BUILD/libgoose.a" \
        $(pkg-config --libs $(sh tools/deps.sh --modules)) -lpthread -lm -o "$OUT/read"
    taskset -c 1 "$OUT/read" > "$OUT/read.md"
    cat "$OUT/read.md"
    python3 - "$OUT/read.md" "$READ_CMD" <<'PY'
import sys
sys.path.insert(0, "bench")
from benchlib import now, replace_section
table = open(sys.argv[1]).read().rstrip("\n").split("\n")
replace_section("bench/RESULTS.md", "read", [
    f"## Reading bodies: CPU per MB, first call on a fresh response ({now()})", "",
    f"`{sys.argv[2]}` (bench/read.c, built -O2 against the static library; one run, each "
    "reader 9 times on a body of about 1 MB built by the program). The times include the parse and "
    "freeing the document; a second question about the same response costs no parse. "
    "Informative, no floor.", ""] + table)
PY
}
if [ "$ONLY" = read ]; then
    rc=0
    read_part || rc=$?
    [ "$rc" = 0 ] && say "PASS  reading bodies (informative)" || say "FAIL  reading bodies: bench/read exit $rc"
    exit "$rc"
fi

# --- test data: no server -----------------------------------------------------
DATA_CMD="bench/out/data bench/out/data.csv"
data_part() {
    say "test data: a 1,000,000-row CSV file in memory ($DATA_CMD) ..."
    cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ilib bench/data.c "$BUILD/libgoose.a" \
        $(pkg-config --libs $(sh tools/deps.sh --modules)) -lpthread -lm -o "$OUT/data"
    local rc=0
    "$OUT/data" "$OUT/data.csv" > "$OUT/data.md" || rc=$?
    rm -f "$OUT/data.csv"
    cat "$OUT/data.md"
    python3 - "$OUT/data.md" "$DATA_CMD" <<'PY'
import sys
sys.path.insert(0, "bench")
from benchlib import now, replace_section
table = open(sys.argv[1]).read().rstrip("\n").split("\n")
replace_section("bench/RESULTS.md", "data", [
    f"## Test data: a 1,000,000-row CSV file in memory ({now()})", "",
    f"`{sys.argv[2]}` (bench/data.c, built -O2 against the static library): the file "
    "(2 columns, a third of the passwords quoted around a comma) written, then read by "
    "goose__table_load as a run reads it (one buffer unquoted in place, a mark every 16 "
    "rows). Table: the bytes the table holds; RSS growth: VmRSS after the load minus "
    "before. Floor: both <= 1.10 x the file's size.", ""] + table)
PY
    return "$rc"
}
if [ "$ONLY" = data ]; then
    rc=0
    data_part || rc=$?
    [ "$rc" = 0 ] && say "PASS  test data: table and RSS <= 1.10 x the file" || say "FAIL  test data: bench/data exit $rc"
    exit "$rc"
fi

# --- nginx ------------------------------------------------------------------
NGINX_PIDS=()               # every nginx this script started (masters)
BG_PIDS=()                  # background generators, for an early exit
TLS_CERTS=                  # the TLS part's temporary directory of certificates
cleanup() {
    local p
    for p in "${BG_PIDS[@]}"; do kill_tree "$p"; done
    for p in "${NGINX_PIDS[@]}"; do stop_nginx "$p"; done
    if [ -n "$TLS_CERTS" ]; then rm -rf "$TLS_CERTS"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# kill_tree PID: PID and, when it is /usr/bin/time or taskset, what it runs
kill_tree() {
    local kids
    kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
    kill "$1" $kids 2>/dev/null || true
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx PREFIX PORT CPUS [BODY]: nginx -p PREFIX/ with PREFIX/nginx.conf,
# under taskset -c CPUS when CPUS is not empty, answering GET / on PORT with
# BODY (hello); NGINX_PID is its master.
start_nginx() {
    local prefix=$1 port=$2 cpus=$3 want=${4:-hello} pin=()
    [ -n "$cpus" ] && pin=(taskset -c "$cpus")
    "${pin[@]}" nginx -p "$prefix/" -e "$prefix/error.log" -c "$prefix/nginx.conf" -g 'daemon off;' &
    NGINX_PID=$!
    NGINX_PIDS+=("$NGINX_PID")
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/$ADDR/$port") 2>/dev/null; then break; fi
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$prefix/error.log" 2>/dev/null)"
        sleep 0.05
    done
    local body
    body=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")' "http://$ADDR:$port/")
    [ "$body" = "$want" ] || die "nginx at http://$ADDR:$port answers \"$body\", not $want"
}

stop_nginx() {
    local pid=$1 p keep=()
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${NGINX_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    NGINX_PIDS=("${keep[@]}")
}

# nginx_cpu MASTER: user+sys jiffies of its workers, summed
nginx_cpu() {
    local kids
    kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
    (cd /proc && for k in $kids; do cat "$k/stat" 2>/dev/null; done) | awk '{ s += $14 + $15 } END { print s + 0 }'
}

rm -rf "$W"
mkdir -p "$W/tmp"
PORT=$(free_port)
sed "s/@PORT@/$PORT/" bench/nginx.conf > "$W/nginx.conf"
start_nginx "$W" "$PORT" 0
URL=http://$ADDR:$PORT
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
main_part() {
say "wrk -t1 -c$CONNS -d${DURATION}s ..."
run wrk wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$URL/"

say "libgoose --threads 1 -u $CONNS ..."
rm -f "$OUT/goose.json"
before=$(log_lines)
run goose "$OUT/loadtest" --host "$URL" --threads 1 -u "$CONNS" -r 1000 -t "${DURATION}s" \
    --no-reset-metrics --report-file "$OUT/goose.json" -q
after=$(log_lines)
echo $((after - before)) > "$OUT/goose.nginx-count"

# The same run writing a JSON line per request (informative: its cost).
say "libgoose --threads 1 -u $CONNS --request-log (json) ..."
rm -f "$OUT/goose-reqlog.json" "$OUT/requests.log"
run goose-reqlog "$OUT/loadtest" --host "$URL" --threads 1 -u "$CONNS" -r 1000 -t "${DURATION}s" \
    --no-reset-metrics --report-file "$OUT/goose-reqlog.json" --request-log "$OUT/requests.log" -q
wc -l < "$OUT/requests.log" > "$OUT/goose-reqlog.lines"
}
if [ -z "$ONLY" ]; then main_part; fi

# --- Locust: same target, same users, HttpUser then FastHttpUser --------------
# One process each (no --processes), pinned to CPU 1 like libgoose, headless;
# BENCH_LOCUST_USER picks the class in bench/locustfile.py.
locust_part() {
    local kind py
    rm -f "$OUT"/locust-*
    # The Python that runs locust (its #! line), for FastHttpUser's import.
    py=$(head -1 "$(command -v locust)" | sed -n 's/^#! *\([^ ]*\).*/\1/p')
    py=${py:-python3}
    if ! "$py" -c 'import geventhttpclient, locust.contrib.fasthttp' > "$OUT/locust-fast.import" 2>&1; then
        echo "FastHttpUser needs geventhttpclient, which $py cannot import ($(tail -1 "$OUT/locust-fast.import")); make deps installs python3-geventhttpclient" \
            > "$OUT/locust-fast.skip"
    fi
    for kind in http fast; do
        if [ -e "$OUT/locust-$kind.skip" ]; then
            say "locust $kind: skipped: $(cat "$OUT/locust-$kind.skip")"
            continue
        fi
        say "locust ${kind}: -u $CONNS -r $CONNS -t ${DURATION}s ..."
        before=$(log_lines)
        run "locust-$kind" env BENCH_LOCUST_USER="$kind" locust -f "$ROOT/bench/locustfile.py" \
            --headless -u "$CONNS" -r "$CONNS" -t "${DURATION}s" --host "$URL" \
            --csv "$OUT/locust-$kind" --only-summary
        after=$(log_lines)
        echo $((after - before)) > "$OUT/locust-$kind.nginx-count"
    done
    # Locust's fixed cost (start Python, import, stop), informative.
    run locust-idle env BENCH_LOCUST_USER=http locust -f "$ROOT/bench/locustfile.py" \
        --headless -u 0 -r 1 -t 1s --host "$URL" --only-summary
}
if [ "$LOCUST" = 1 ]; then locust_part; fi

# --- memory per idle user ---------------------------------------------------
# idle N: N users waiting 1 s between requests; VmRSS read IDLE_SAMPLE s in.
idle() {
    local n=$1 rc=0 pid
    rm -f "$OUT/idle-$n.json"
    BENCH_WAIT_MS=1000 taskset -c 1 "$OUT/loadtest" --host "$URL" --threads 1 -u "$n" -r 10000 \
        -t "${IDLE_RUN}s" --report-file "$OUT/idle-$n.json" -q > "$OUT/idle-$n.txt" 2>&1 &
    pid=$!
    BG_PIDS=("$pid")
    sleep "$IDLE_SAMPLE"
    grep -E '^(VmRSS|VmHWM)' "/proc/$pid/status" > "$OUT/idle-$n.status" 2>/dev/null || true
    wait "$pid" || rc=$?
    BG_PIDS=()
    echo "$rc" > "$OUT/idle-$n.rc"
}
if [ -z "$ONLY" ]; then
    say "idle memory: 1 user, then $IDLE_USERS users, 1 s wait ..."
    idle 1
    idle "$IDLE_USERS"
fi

# --- callgrind (informative) ------------------------------------------------
cg_total() { # total instructions of a callgrind output file
    awk '/^(summary|totals):/ { print $2; exit }' "$1"
}
: > "$OUT/callgrind.env"
rm -f "$OUT"/callgrind-goose-*.txt   # no stale top-30 when this part is skipped
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
    cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ilib bench/msgsize.c "$BUILD/libgoose.a" \
        $(pkg-config --libs $(sh tools/deps.sh --modules)) -lpthread -lm \
        -o "$OUT/msgsize" && "$OUT/msgsize" > "$OUT/g-msgsize.txt"
}
if [ -z "$ONLY" ]; then gaggle_run; fi

# --- --threads 1 vs 2: both CPUs for nginx and the generator -----------------
# nginx with 2 workers (reuseport: one accept queue each), access log off, and
# the generator, neither pinned; 100 users without wait, 10 s per run.
# /proc/uptime (its idle seconds are exact; /proc/stat's busy ticks get lost
# on this VM under load) and nginx's worker CPU before and after each run
# show where the machine's two cores went.
threads_part() {
    local tw=$OUT/nginx-threads tport n rc
    rm -rf "$tw" "$OUT"/th-*
    mkdir -p "$tw/tmp"
    tport=$(free_port)
    sed -e 's/^worker_processes .*/worker_processes 2;/' \
        -e 's/^\( *\)access_log .*/\1access_log off;/' \
        -e "s/listen 127.0.0.1:@PORT@;/listen 127.0.0.1:$tport reuseport;/" \
        bench/nginx.conf > "$tw/nginx.conf"
    start_nginx "$tw" "$tport" ""
    local tpid=$NGINX_PID
    TH_URL=http://$ADDR:$tport
    for n in 1 2; do
        say "threads: --threads $n -u $TH_USERS, nginx 2 workers, nothing pinned ..."
        rc=0
        cat /proc/uptime > "$OUT/th-$n.up0"
        nginx_cpu "$tpid" > "$OUT/th-$n.ngx0"
        /usr/bin/time -o "$OUT/th-$n.time" -f '%e %U %S %M' "$OUT/loadtest" --host "$TH_URL" \
            --threads "$n" -u "$TH_USERS" -r 1000 -t "${DURATION}s" --no-reset-metrics \
            --report-file "$OUT/th-$n.json" -q > "$OUT/th-$n.txt" 2>&1 || rc=$?
        cat /proc/uptime > "$OUT/th-$n.up1"
        nginx_cpu "$tpid" > "$OUT/th-$n.ngx1"
        echo "$rc" > "$OUT/th-$n.rc"
    done
    stop_nginx "$tpid"
}
TH_URL=
if [ "$THREADS" = 1 ]; then threads_part; fi

# --- 100,000 users: Manager + 6 Workers, each user on its own connection -----
# RLIMIT_NOFILE's hard limit (20,000 here) bounds one process, so the users
# are spread over Workers, each with its own fd table; they take source
# addresses in turn (--local-address) because one (source, destination) pair
# has only ip_local_port_range's ~28,000 ports.  nginx: 6 workers pinned to
# CPU 0, reuseport, plus stub_status on a second port for the sampler.
scale_part() {
    local sw=$OUT/nginx-scale sport stport mport w mpid spid rc naddrs
    local wpids=()
    rm -rf "$sw" "$OUT"/scale-* "$OUT/scale.env"
    mkdir -p "$sw/tmp"
    sport=$(free_port); stport=$(free_port); mport=$(free_port)
    sed -e "s/^worker_processes .*/worker_processes $SCALE_NGINX_WORKERS;/" \
        -e 's/^worker_rlimit_nofile .*/worker_rlimit_nofile 20000;/' \
        -e 's/^\( *\)worker_connections .*/\1worker_connections 19500;/' \
        -e 's/^\( *\)access_log .*/\1access_log off;/' \
        -e "s/listen 127.0.0.1:@PORT@;/listen 127.0.0.1:$sport reuseport backlog=4096;/" \
        -e "/^ *server_tokens off;/a\\    server { listen 127.0.0.1:$stport; location / { stub_status; } }" \
        bench/nginx.conf > "$sw/nginx.conf"
    start_nginx "$sw" "$sport" 0
    local npid=$NGINX_PID
    local surl=http://$ADDR:$sport
    naddrs=$(python3 -c '
import ipaddress, sys
n = 0
for item in sys.argv[1].split(","):
    lo, _, hi = item.partition("-")
    n += int(ipaddress.IPv4Address(hi or lo)) - int(ipaddress.IPv4Address(lo)) + 1
print(n)' "$SCALE_ADDRS")
    local cmd_m="BENCH_WAIT_MS=$SCALE_WAIT_MS taskset -c $SCALE_CPUS bench/out/loadtest --manager --expect-workers $SCALE_WORKERS --manager-bind-host 127.0.0.1 --manager-bind-port $mport --host $surl -u $SCALE_USERS -r $SCALE_RATE -t ${SCALE_TIME}s --no-reset-metrics --report-file bench/out/scale-manager.json"
    local cmd_w="BENCH_WAIT_MS=$SCALE_WAIT_MS taskset -c $SCALE_CPUS bench/out/loadtest --worker --manager-port $mport --threads 1 --local-address $SCALE_ADDRS -q"
    {
        echo "users=$SCALE_USERS"; echo "rate=$SCALE_RATE"; echo "workers=$SCALE_WORKERS"
        echo "time=$SCALE_TIME"; echo "wait_ms=$SCALE_WAIT_MS"; echo "addrs=$SCALE_ADDRS"
        echo "naddrs=$naddrs"; echo "cpus=$SCALE_CPUS"; echo "port=$sport"
        echo "status_port=$stport"; echo "nginx_workers=$SCALE_NGINX_WORKERS"
        echo "cmd_manager=$cmd_m"; echo "cmd_worker=$cmd_w"
    } > "$OUT/scale.env"
    say "100k: $SCALE_USERS users, manager + $SCALE_WORKERS workers on CPUs $SCALE_CPUS," \
        "--local-address $SCALE_ADDRS, ${SCALE_WAIT_MS} ms wait, -r $SCALE_RATE, -t ${SCALE_TIME}s ..."
    # The Manager logs at INFO (no -q): its START line times the hatch.
    BENCH_WAIT_MS=$SCALE_WAIT_MS taskset -c "$SCALE_CPUS" /usr/bin/time -o "$OUT/scale-manager.time" \
        -f '%e %U %S %M' "$OUT/loadtest" --manager --expect-workers "$SCALE_WORKERS" \
        --manager-bind-host 127.0.0.1 --manager-bind-port "$mport" --host "$surl" \
        -u "$SCALE_USERS" -r "$SCALE_RATE" -t "${SCALE_TIME}s" --no-reset-metrics \
        --report-file "$OUT/scale-manager.json" > "$OUT/scale-manager.txt" 2>&1 &
    mpid=$!
    BG_PIDS=("$mpid")
    for w in $(seq "$SCALE_WORKERS"); do
        BENCH_WAIT_MS=$SCALE_WAIT_MS taskset -c "$SCALE_CPUS" /usr/bin/time \
            -o "$OUT/scale-worker$w.time" -f '%e %U %S %M' "$OUT/loadtest" --worker \
            --manager-port "$mport" --threads 1 --local-address "$SCALE_ADDRS" -q \
            > "$OUT/scale-worker$w.txt" 2>&1 &
        wpids+=($!)
        BG_PIDS+=($!)
    done
    taskset -c 0 python3 bench/scale_sample.py --port "$sport" --status-port "$stport" \
        --out "$OUT/scale-samples.jsonl" --manager "$mpid" --nginx "$npid" \
        --workers "$(IFS=,; echo "${wpids[*]}")" \
        --end-after $((SCALE_USERS / SCALE_RATE + SCALE_TIME)) > "$OUT/scale-sampler.txt" 2>&1 &
    spid=$!
    BG_PIDS+=("$spid")
    rc=0; wait "$mpid" || rc=$?
    echo "$rc" > "$OUT/scale-manager.rc"
    for w in $(seq "$SCALE_WORKERS"); do
        rc=0; wait "${wpids[$((w - 1))]}" || rc=$?
        echo "$rc" > "$OUT/scale-worker$w.rc"
    done
    wait "$spid" || true
    BG_PIDS=()
    stop_nginx "$npid"
}
if [ "$SCALE" = 1 ]; then scale_part; fi

# --- TLS and HTTP/2: libgoose against wrk and h2load --------------------------
# Its own nginx (bench/nginx-tls.conf: 1 worker on CPU 0, five servers on
# five ports, TLS 1.3, a P-256 certificate for 127.0.0.1 made here with the
# openssl CLI in a temporary directory), the generators one after the other
# on CPU 1, TLS_TIME s each, CONNS connections or users.  Each run's slice of
# the access log is counted by port, protocol, status and resumption.
# make_certs DIR: a CA, and a server certificate for IP 127.0.0.1 it signed,
# both on P-256 (prime256v1), valid for 2 days.
make_certs() {
    local d=$1
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=libgoose bench CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" &&
        printf '%s\n' subjectAltName=IP:127.0.0.1 basicConstraints=CA:FALSE \
            keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth > "$d/server.ext" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.crt" &&
        openssl verify -CAfile "$d/ca.crt" "$d/server.crt"
    } > "$OUT/tls-certs.txt" 2>&1 || die "openssl could not make the certificates: $(tail -3 "$OUT/tls-certs.txt")"
}

# tls_check URL CA ALPN: GET URL verifying it against CA (host name too);
# prints the body and the protocol ALPN chose when ALPN is offered.
tls_check() {
    python3 - "$@" <<'PY'
import socket, ssl, sys, urllib.parse
url, ca, alpn = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(cafile=ca)
if alpn:
    ctx.set_alpn_protocols(alpn.split(","))
with socket.create_connection((u.hostname, u.port), timeout=5) as raw:
    with ctx.wrap_socket(raw, server_hostname=u.hostname) as s:
        chosen = s.selected_alpn_protocol()
        if chosen == "h2":
            print("h2")
            sys.exit(0)
        s.sendall(b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % u.netloc.encode())
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        print(data.split(b"\r\n\r\n", 1)[1].decode(), chosen or "")
PY
}

# tls_count NAME BEFORE: the access log's lines after line BEFORE, counted
# by "port protocol status ssl_protocol resumed" into NAME.nginx, and a last
# line "connections N" (distinct connection serial numbers).
tls_count() {
    local after
    after=$(log_lines_of "$TLS_W/access.log")
    sed -n "$(($2 + 1)),${after}p" "$TLS_W/access.log" |
        awk '{ c[$1 " " $2 " " $3 " " $4 " " $5]++; if (!($6 in seen)) { seen[$6] = 1; n++ } }
             END { for (k in c) print c[k], k; print "connections", n + 0 }' > "$OUT/$1.nginx"
}
log_lines_of() { sleep 1.5; wc -l < "$1"; }

tls_part() {
    local certs p ports=() help trust before name url kind
    TLS_W=$OUT/nginx-tls
    rm -rf "$TLS_W" "$OUT"/tls-*
    mkdir -p "$TLS_W/tmp"
    certs=$(mktemp -d /tmp/goose-bench-certs.XXXXXX)
    TLS_CERTS=$certs
    make_certs "$certs"
    while [ ${#ports[@]} -lt 6 ]; do # six distinct free ports
        p=$(free_port)
        case " ${ports[*]} " in *" $p "*) ;; *) ports+=("$p") ;; esac
    done
    local p_http=${ports[0]} p_http_close=${ports[1]} p_tls=${ports[2]}
    local p_tls_close=${ports[3]} p_h2=${ports[4]} p_h2c=${ports[5]}
    sed -e "s|@PORT_HTTP@|$p_http|" -e "s|@PORT_HTTP_CLOSE@|$p_http_close|" \
        -e "s|@PORT_TLS@|$p_tls|" -e "s|@PORT_TLS_CLOSE@|$p_tls_close|" \
        -e "s|@PORT_H2@|$p_h2|" -e "s|@PORT_H2C@|$p_h2c|" -e "s|@CERTS@|$certs|g" bench/nginx-tls.conf > "$TLS_W/nginx.conf"
    start_nginx "$TLS_W" "$p_http" 0 ok
    local tpid=$NGINX_PID
    [ "$(tls_check "https://$ADDR:$p_tls/" "$certs/ca.crt" http/1.1)" = "ok http/1.1" ] ||
        die "nginx at https://$ADDR:$p_tls/ did not answer ok over a verified TLS connection"
    [ "$(tls_check "https://$ADDR:$p_h2/" "$certs/ca.crt" h2,http/1.1)" = h2 ] ||
        die "nginx at https://$ADDR:$p_h2/ did not choose h2 by ALPN"
    say "TLS: nginx $(nginx -v 2>&1 | sed 's/.*\///') on CPU 0, ports http $p_http," \
        "http close $p_http_close, https $p_tls, https close $p_tls_close, h2 $p_h2, h2c $p_h2c"

    # How libgoose trusts the bench's CA: the first option its --help lists,
    # else the system store with the CA added in a private mount namespace.
    help=$("$OUT/loadtest" --help 2>&1 || true)
    has_opt() { grep -qE -- "(^|[ ,])$1([ =,]|$)" <<< "$help"; }
    trust=$TLS_TRUST
    if [ -z "$trust" ]; then
        if has_opt --ca-file; then trust=ca-file
        elif [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then trust=system
        elif has_opt --accept-invalid-certs; then trust=insecure
        else die "libgoose has neither --ca-file nor --accept-invalid-certs, and the system store needs root"
        fi
    fi
    local tls_opts=() wrap=()
    case $trust in
    ca-file) has_opt --ca-file || die "BENCH_TLS_TRUST=ca-file: libgoose has no --ca-file"
             tls_opts=(--ca-file "$certs/ca.crt") ;;
    insecure) has_opt --accept-invalid-certs || die "BENCH_TLS_TRUST=insecure: libgoose has no --accept-invalid-certs"
              tls_opts=(--accept-invalid-certs) ;;
    system) [ -r /etc/ssl/certs/ca-certificates.crt ] || die "BENCH_TLS_TRUST=system: no /etc/ssl/certs/ca-certificates.crt"
            cat /etc/ssl/certs/ca-certificates.crt "$certs/ca.crt" > "$certs/system+bench.crt"
            # shellcheck disable=SC2016
            wrap=(unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"'
                  "$certs/system+bench.crt") ;;
    esac
    local h2_opts=()
    if has_opt --http-version; then h2_opts=(--http-version 2); fi
    {
        echo "time=$TLS_TIME"; echo "conns=$CONNS"; echo "trust=$trust"; echo "repeat=$TLS_REPEAT"
        echo "build=$BUILD ($(git -C "$LIBDIR/.." rev-parse --short HEAD 2>/dev/null || echo "not a git tree"))"
        echo "http_version_opt=${h2_opts[*]}"
        echo "ports=http:$p_http http-close:$p_http_close https:$p_tls https-close:$p_tls_close h2:$p_h2 h2c:$p_h2c"
        echo "openssl=$(openssl version)"; echo "h2load=$(h2load --version 2>&1 | head -1)"
        echo "wrk=$(wrk -v 2>&1 | head -1)"; echo "nginx=$(nginx -v 2>&1 | sed 's/.*\///')"
    } > "$OUT/tls.env"

    # tls_cmd CMD...: the command as RESULTS.md shows it (shell-quoted,
    # relative to the tree, the temporary directory called CERTS)
    tls_cmd() {
        local q
        q=$(printf '%q ' taskset -c 1 "$@")
        q=${q//"$ROOT/"/}
        printf '%s\n' "${q//"$certs"/CERTS}"
    }
    # tls_row NAME SCHEME PORT TOOL: the tool, then libgoose, on one server.
    tls_row() {
        local name=$1 scheme=$2 port=$3 tool=$4 url opts=() pre=() cmd
        url=$scheme://$ADDR:$port
        if [ "$scheme" = https ]; then opts=("${tls_opts[@]}"); pre=("${wrap[@]}"); fi
        if [ "$tool" = h2load ]; then
            opts+=("${h2_opts[@]}")
            cmd=(h2load -t1 -c"$CONNS" -m1 -D "$TLS_TIME" "$url/")
        else
            cmd=(wrk -t1 -c"$CONNS" -d"${TLS_TIME}s" "$url/")
        fi
        local gcmd=("$OUT/loadtest" --host "$url" --threads 1 -u "$CONNS" -r 1000 -t "${TLS_TIME}s"
                    --no-reset-metrics -q "${opts[@]}") k
        tls_cmd "${cmd[@]}" > "$OUT/tls-$name-tool.cmd"
        tls_cmd "${pre[@]}" "${gcmd[@]}" --report-file "bench/out/tls-$name-goose-K.json" \
            > "$OUT/tls-$name-goose.cmd"
        for k in $(seq "$TLS_REPEAT"); do
            say "TLS: $name ($k/$TLS_REPEAT): ${cmd[*]} ..."
            before=$(log_lines_of "$TLS_W/access.log")
            run "tls-$name-tool-$k" timeout -k 5 $((TLS_TIME + 60)) "${cmd[@]}"
            tls_count "tls-$name-tool-$k" "$before"
            say "TLS: $name ($k/$TLS_REPEAT): libgoose --host $url ${opts[*]} ..."
            before=$(log_lines_of "$TLS_W/access.log")
            run "tls-$name-goose-$k" timeout -k 5 $((TLS_TIME + 60)) "${pre[@]}" "${gcmd[@]}" \
                --report-file "$OUT/tls-$name-goose-$k.json"
            tls_count "tls-$name-goose-$k" "$before"
        done
        echo "$name $scheme $port $tool" >> "$OUT/tls.rows"
    }
    : > "$OUT/tls.rows"
    local row
    for row in $TLS_ROWS; do
        case $row in
        http-keepalive) tls_row "$row" http "$p_http" wrk ;;
        http-close) tls_row "$row" http "$p_http_close" wrk ;;
        https-keepalive) tls_row "$row" https "$p_tls" wrk ;;
        https-close) tls_row "$row" https "$p_tls_close" wrk ;;
        h2) tls_row "$row" https "$p_h2" h2load ;;
        h2c) # informative; libgoose speaks h2c only when told (--http-version 2)
            if [ ${#h2_opts[@]} -gt 0 ]; then tls_row "$row" http "$p_h2c" h2load
            else say "TLS: h2c: skipped (libgoose has no --http-version)"
            fi ;;
        esac
    done
    stop_nginx "$tpid"
    rm -rf "$certs"
    TLS_CERTS=
}
if [ "$TLS" = 1 ]; then tls_part; fi

# --- dynamic URLs: a new path per request -------------------------------------
# The first nginx (1 worker, CPU 0, access log on); every request of 50 users
# without wait on one thread is a new unnamed path, for NAMES_TIME s, at the
# default --max-request-names.  Its access log counts what the report must.
NAMES_CMD="BENCH_UNIQUE_PATHS=1 taskset -c 1 bench/out/loadtest --host $URL --threads 1 -u $CONNS -r 1000 -t ${NAMES_TIME}s --no-reset-metrics --report-file bench/out/names.json -q"
names_part() {
    rm -f "$OUT"/names.*
    say "dynamic URLs: a new path per request, --threads 1 -u $CONNS, ${NAMES_TIME}s ..."
    before=$(log_lines)
    run names env BENCH_UNIQUE_PATHS=1 "$OUT/loadtest" --host "$URL" --threads 1 -u "$CONNS" \
        -r 1000 -t "${NAMES_TIME}s" --no-reset-metrics --report-file "$OUT/names.json" -q
    after=$(log_lines)
    echo $((after - before)) > "$OUT/names.nginx-count"
}
if [ "$NAMES" = 1 ]; then names_part; fi
# --- a Gaggle on an overloaded box: its own nginx, its own section ------------
OVERLOAD_RC=0
if [ "$OVERLOAD" = 1 ]; then bash bench/overload.sh "$BUILD" || OVERLOAD_RC=$?; fi
# --- goose_load_assets: a page and its 20 assets, its own nginx and section ---
ASSETS_RC=0
if [ "$ASSETS" = 1 ]; then bash bench/assets.sh "$BUILD" || ASSETS_RC=$?; fi
# --- test data across a Gaggle: its own target and section --------------------
DATAGAGGLE_RC=0
if [ "$DATAGAGGLE" = 1 ]; then bash bench/data-gaggle.sh "$BUILD" || DATAGAGGLE_RC=$?; fi

# --- report -----------------------------------------------------------------
status=0
verdicts=()
verdict() { # NAME RC
    if [ "$2" = 0 ]; then verdicts+=("PASS  $1"); else verdicts+=("FAIL  $1"); status=1; fi
}
main_summaries() {
rc=0
python3 bench/summarize.py --out "$OUT" --results bench/RESULTS.md --duration "$DURATION" \
    --conns "$CONNS" --idle-users "$IDLE_USERS" --idle-run "$IDLE_RUN" --idle-sample "$IDLE_SAMPLE" \
    --cg-iter "$CG_ITER_LO,$CG_ITER_HI" --cg-wrk "$CG_WRK_LO,$CG_WRK_HI" --url "$URL" || rc=$?
verdict "libgoose vs wrk: CPU/request <= 2.0x, idle user <= 24 KiB, exact nginx count" "$rc"
if [ -s "$OUT/callgrind-goose-inclusive.txt" ]; then
    say "callgrind, libgoose, inclusive, top 30 without recursion copies (bench/out/callgrind-goose-inclusive.txt):"
    python3 bench/summarize.py --top "$OUT/callgrind-goose-inclusive.txt" 30
fi
rc=0
python3 bench/reqlog_summary.py "$OUT" bench/RESULTS.md "$DURATION" "$CONNS" || rc=$?
verdict "--request-log json: one line per counted request (its cost is informative)" "$rc"
rc=0
python3 bench/gaggle_summary.py "$OUT" bench/RESULTS.md "$DURATION" "$CONNS" || rc=$?
verdict "Gaggle, Manager + 2 Workers: requests/s >= 0.90x standalone" "$rc"
}
if [ -z "$ONLY" ]; then main_summaries; fi
if [ "$LOCUST" = 1 ]; then
    rc=0
    python3 bench/locust_summary.py "$OUT" bench/RESULTS.md "$DURATION" "$CONNS" "$URL" || rc=$?
    verdict "Locust: requests per CPU-second >= 30x HttpUser, >= 8x FastHttpUser" "$rc"
fi
if [ "$THREADS" = 1 ]; then
    rc=0
    python3 bench/threads_summary.py "$OUT" bench/RESULTS.md "$DURATION" "$TH_USERS" "$TH_URL" \
        "$(nproc)" || rc=$?
    verdict "--threads 1 vs 2: both runs clean (the curve itself is informative)" "$rc"
fi
if [ "$SCALE" = 1 ]; then
    rc=0
    python3 bench/scale_summary.py "$OUT" bench/RESULTS.md || rc=$?
    verdict "$SCALE_USERS users: 0 failures, >= $SCALE_USERS ESTABLISHED, hatch <= 11 s" "$rc"
fi
if [ "$NAMES" = 1 ]; then
    rc=0
    python3 bench/names_summary.py "$OUT" bench/RESULTS.md "$NAMES_TIME" "$CONNS" "$NAMES_CMD" || rc=$?
    verdict "dynamic URLs: max RSS <= 100 MiB, exit 0, >= 100,000 paths, exact nginx count" "$rc"
fi
if [ "$TLS" = 1 ]; then
    rc=0
    python3 bench/tls_summary.py "$OUT" bench/RESULTS.md || rc=$?
    # One verdict per floor, so the summary names the one that failed.
    while read -r v line; do
        verdict "TLS and HTTP/2: $line" "$([ "$v" = PASS ] && echo 0 || echo 1)"
    done < <(cat "$OUT/tls-verdicts.txt" 2>/dev/null || echo "FAIL no verdicts (bench/tls_summary.py exit $rc)")
fi
if [ "$READ" = 1 ]; then
    rc=0
    read_part || rc=$?
    verdict "reading bodies: every reader's answer right (its cost is informative)" "$rc"
fi
if [ "$DATA" = 1 ]; then
    rc=0
    data_part || rc=$?
    verdict "test data: a 1,000,000-row file's table and RSS growth <= 1.10 x its size" "$rc"
fi
if [ "$OVERLOAD" = 1 ]; then
    verdict "overloaded Gaggle (128 Workers): every Worker done, totals = nginx's log" "$OVERLOAD_RC"
fi
if [ "$ASSETS" = 1 ]; then
    verdict "goose_load_assets, HTTP/1.1 and HTTP/2: no failure, totals = nginx's log" "$ASSETS_RC"
fi
if [ "$DATAGAGGLE" = 1 ]; then
    verdict "test data over 2 Workers: each one's RSS growth <= 0.75 x the file" "$DATAGAGGLE_RC"
fi
say "results written to bench/RESULTS.md"
echo
say "summary:"
for v in "${verdicts[@]}"; do say "  $v"; done
if [ "$status" = 0 ]; then say "PASS"; else say "FAIL (a floor was missed: exit 1)"; fi
exit "$status"
