#!/bin/bash
# Marginal instructions per request over HTTP/2, the h2 twin of
# bench/cg-compare.sh: callgrind counts user-space instructions, so the
# noise of a busy machine does not enter (system calls do not count).
#   bash bench/cg-compare-h2.sh [h2|h2c] TREE [TREE...]
# One nginx (a CA and a P-256 certificate for 127.0.0.1 made here; GET / ->
# "ok"), then for each TREE (a checkout built with `make lib`): loadtest
# --threads 1 -u 50 --http-version 2, 200 and 20 iterations per user;
# (instructions(200) - instructions(20)) / (50 * 180).  CG_H2LOAD=1 adds
# h2load -c50 -m1, -n 10000 against -n 1000, the same way; CG_KEEP=DIR keeps
# the last tree's callgrind files there (cg-20.out, cg-200.out);
# CG_HTTP_VERSION=auto runs libgoose without --http-version 2 (over h2:
# ALPN chooses, the HTTP/1.1 connection hands over to HTTP/2).
set -eu
scheme=h2
case ${1:-} in h2 | h2c) scheme=$1; shift ;; esac
[ $# -gt 0 ] || { echo "usage: bash bench/cg-compare-h2.sh [h2|h2c] TREE..." >&2; exit 2; }
w=$(mktemp -d /tmp/goose-cg-h2.XXXXXX)
nginx_pid=
cleanup() { [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true; rm -rf "$w"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
{
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$w/ca.key" -out "$w/ca.crt" -days 2 -subj "/CN=cg CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$w/server.key" -out "$w/server.csr" -subj "/CN=127.0.0.1"
    printf '%s\n' subjectAltName=IP:127.0.0.1 basicConstraints=CA:FALSE \
        keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth > "$w/server.ext"
    openssl x509 -req -in "$w/server.csr" -CA "$w/ca.crt" -CAkey "$w/ca.key" \
        -CAcreateserial -days 2 -extfile "$w/server.ext" -out "$w/server.crt"
} >"$w/certs.log" 2>&1
p=$(port)
mkdir -p "$w/nginx/tmp"
listen="127.0.0.1:$p http2"
[ "$scheme" = h2 ] && listen="127.0.0.1:$p ssl http2"
cat > "$w/nginx/nginx.conf" <<EOF
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path tmp/cb; proxy_temp_path tmp/p; fastcgi_temp_path tmp/f;
    uwsgi_temp_path tmp/u; scgi_temp_path tmp/s;
    keepalive_requests 1000000;
    ssl_certificate $w/server.crt;
    ssl_certificate_key $w/server.key;
    ssl_protocols TLSv1.3;
    server { listen $listen; location / { return 200 "ok"; } }
}
EOF
nginx -p "$w/nginx/" -e "$w/nginx/error.log" -c "$w/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.05; done
url=http://127.0.0.1:$p
trust=()
[ "$scheme" = h2 ] && url=https://127.0.0.1:$p && trust=(--ca-file "$w/ca.crt")
version=(--http-version 2)
[ "${CG_HTTP_VERSION:-2}" = auto ] && version=()
total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
for tree in "$@"; do
    cc -O2 -I"$tree/include" "$tree/bench/loadtest.c" -L"$tree/build" \
        -Wl,-rpath,"$tree/build" -lgoose -o "$w/loadtest"
    for it in 20 200; do
        valgrind --tool=callgrind --callgrind-out-file="$w/cg-$it.out" "$w/loadtest" \
            --host "$url" --threads 1 -u 50 -r 1000 --iterations "$it" -q \
            --no-print-metrics "${version[@]}" "${trust[@]}" >/dev/null 2>&1
    done
    [ -z "${CG_KEEP:-}" ] || cp "$w/cg-20.out" "$w/cg-200.out" "$CG_KEEP/"
    echo "$tree ($scheme): $((($(total "$w/cg-200.out") - $(total "$w/cg-20.out")) / (50 * 180))) instructions per request"
done
if [ "${CG_H2LOAD:-0}" = 1 ]; then
    for n in 1000 10000; do
        valgrind --tool=callgrind --callgrind-out-file="$w/h2load-$n.out" \
            h2load -t1 -c50 -m1 -n "$n" "$url/" >/dev/null 2>&1
    done
    echo "h2load ($scheme): $((($(total "$w/h2load-10000.out") - $(total "$w/h2load-1000.out")) / 9000)) instructions per request"
fi
