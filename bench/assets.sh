#!/usr/bin/env bash
# bench/assets.sh [BUILD] - goose_load_assets against nginx (issue 16): a
# part of `make bench` that also runs alone (`make bench-assets`).
#
# nginx (bench/nginx-assets.conf, 1 worker pinned to CPU 0) serves a page
# referencing 20 assets over http (HTTP/1.1) and https with http2 (h2, a CA
# and a P-256 certificate made here).  On CPU 1, one after the other,
# BENCH_ASSETS_TIME s (10) each, under /usr/bin/time:
#
#   HTTP/1.1  wrk -t1 -c60 with bench/assets.lua (the page's 21 URLs in
#             turn on each connection), then bench/out/assets-load (bench/assets.c:
#             GET /page.html and goose_load_assets, --no-cache) with 10
#             users, --threads 1: at most 6 connections each, 60 in all
#   HTTP/2    h2load -t1 -c10 -m20 over the same 21 URLs (-i), then the same
#             libgoose run with --http-version 2: one connection per user,
#             the 20 assets multiplexed
#
# and writes the requests/s of each, the ratio, the CPU per request and
# nginx's count of each run into its section of bench/RESULTS.md.  Exit
# status 1 when a libgoose run fails: an exit status not 0, a failed
# request or transaction, or a total other than nginx's log.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
D=$OUT/assets
TIME=${BENCH_ASSETS_TIME:-10}
USERS=10
ADDR=127.0.0.1
PATH=$PATH:/usr/sbin:/sbin
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

BUILD=${1:-build}
for c in nginx wrk h2load openssl taskset python3; do
    command -v "$c" >/dev/null || die "needs $c: run make deps (or make bench-assets)"
done
[ -x /usr/bin/time ] || die "needs /usr/bin/time: run make deps"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (nginx on CPU 0, the generator on CPU 1)"
[ -e "$BUILD/libgoose.so" ] || die "$BUILD/libgoose.so is missing: run make first"
LIBDIR=$(cd "$BUILD" && pwd)
mkdir -p "$OUT"
cc -O2 -Iinclude bench/assets.c -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -lgoose -o "$OUT/assets-load"
rm -rf "$D"
mkdir -p "$D/nginx/tmp"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

CERTS=$(mktemp -d /tmp/goose-bench-assets.XXXXXX)
NGINX=
cleanup() {
    if [ -n "$NGINX" ]; then kill -QUIT "$NGINX" 2>/dev/null || true; wait "$NGINX" 2>/dev/null || true; fi
    rm -rf "$CERTS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$CERTS/ca.key" -out "$CERTS/ca.crt" -days 2 -subj "/CN=libgoose bench CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$CERTS/server.key" -out "$CERTS/server.csr" -subj "/CN=127.0.0.1" &&
    printf '%s\n' subjectAltName=IP:127.0.0.1 basicConstraints=CA:FALSE \
        keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth > "$CERTS/server.ext" &&
    openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" \
        -CAcreateserial -days 2 -extfile "$CERTS/server.ext" -out "$CERTS/server.crt"
} > "$D/certs.txt" 2>&1 || die "openssl could not make the certificates: $(tail -3 "$D/certs.txt")"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
P_HTTP=$(free_port)
P_H2=$(free_port)
while [ "$P_H2" = "$P_HTTP" ]; do P_H2=$(free_port); done
sed -e "s|@PORT_HTTP@|$P_HTTP|" -e "s|@PORT_H2@|$P_H2|" -e "s|@CERTS@|$CERTS|g" \
    bench/nginx-assets.conf > "$D/nginx/nginx.conf"
cp bench/nginx-assets-locations.conf "$D/nginx/assets-locations.conf"
taskset -c 0 nginx -p "$D/nginx/" -e "$D/nginx/error.log" -c "$D/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/$ADDR/$P_H2") 2>/dev/null; then break; fi
    kill -0 "$NGINX" 2>/dev/null || die "nginx did not start: $(cat "$D/nginx/error.log" 2>/dev/null)"
    sleep 0.05
done
say "assets: nginx $(nginx -v 2>&1 | sed 's/.*\///') on CPU 0, http $P_HTTP, h2 $P_H2"

log_lines() { sleep 1.5; wc -l < "$D/nginx/access.log"; }
# run NAME CMD...: pinned to CPU 1 under /usr/bin/time; nginx's lines of it
# into NAME.nginx
run() {
    local name=$1 before after rc=0
    shift
    before=$(log_lines)
    taskset -c 1 /usr/bin/time -o "$D/$name.time" -f '%e %U %S %M' timeout -k 5 $((TIME + 60)) "$@" \
        > "$D/$name.txt" 2>&1 || rc=$?
    echo "$rc" > "$D/$name.rc"
    after=$(log_lines)
    echo $((after - before)) > "$D/$name.nginx"
    printf '%q ' taskset -c 1 "$@" | sed -e "s|$ROOT/||g" -e "s|$CERTS|CERTS|g" > "$D/$name.cmd"
}

LOAD=$(cut -d' ' -f1-3 /proc/loadavg) # other processes share the CPUs
H1=http://$ADDR:$P_HTTP
H2=https://$ADDR:$P_H2
sed "s|^|$H2|" bench/assets-urls.txt > "$D/h2-urls.txt"
say "assets: HTTP/1.1: wrk -c$((USERS * 6)) over the 21 URLs ..."
run h1-tool wrk -t1 -c$((USERS * 6)) -d"${TIME}s" -s bench/assets.lua "$H1/"
say "assets: HTTP/1.1: libgoose -u $USERS, goose_load_assets ..."
run h1-goose "$OUT/assets-load" --host "$H1" --threads 1 -u "$USERS" -r 1000 -t "${TIME}s" \
    --no-reset-metrics --no-cache -q --report-file "$D/h1-goose.json"
say "assets: HTTP/2: h2load -c$USERS -m20 over the 21 URLs ..."
run h2-tool h2load -t1 -c"$USERS" -m20 -D "$TIME" -i "$D/h2-urls.txt"
say "assets: HTTP/2: libgoose -u $USERS --http-version 2, goose_load_assets ..."
run h2-goose "$OUT/assets-load" --host "$H2" --threads 1 -u "$USERS" -r 1000 -t "${TIME}s" \
    --no-reset-metrics --no-cache -q --ca-file "$CERTS/ca.crt" --http-version 2 \
    --report-file "$D/h2-goose.json"
{
    echo "time=$TIME"; echo "users=$USERS"
    echo "build=$BUILD ($(git -C "$LIBDIR/.." rev-parse --short HEAD 2>/dev/null || echo "not a git tree"))"
    echo "nginx=$(nginx -v 2>&1 | sed 's/.*\///')"; echo "wrk=$(wrk -v 2>&1 | head -1)"
    echo "h2load=$(h2load --version 2>&1 | head -1)"
    echo "load=$LOAD"
} > "$D/env"
python3 bench/assets_summary.py "$D" bench/RESULTS.md
