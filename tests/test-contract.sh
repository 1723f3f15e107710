#!/usr/bin/env bash
# Installs libgoose into a temporary prefix, builds ../shared/contract/*.c and
# the examples with pkg-config exactly as a user would, and runs quickstart.c
# against the target, checking every expectation written in its comment.
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
contract=$root/../shared/contract
cd "$root"
work=$(mktemp -d)
target_pid=
trap '[ -n "$target_pid" ] && kill $target_pid 2>/dev/null; rm -rf "$work"' EXIT

make -s install PREFIX=/usr DESTDIR="$work/root" >/dev/null
export PKG_CONFIG_SYSROOT_DIR="$work/root"
export PKG_CONFIG_PATH="$work/root/usr/lib/pkgconfig"
flags=$(pkg-config --cflags --libs libgoose)
rpath="-Wl,-rpath,$work/root/usr/lib"

for src in examples/*.c; do # embedded_worker.c also has a libevent loop of its own
    extra= # examples/redis.c links hiredis too
    [ "$src" = examples/redis.c ] && extra=$(pkg-config --cflags --libs hiredis)
    cc "$src" $flags $rpath $(pkg-config --libs libevent) $extra -o "$work/$(basename "$src" .c)"
done
echo "examples build against the installed library"

if [ ! -d "$contract" ]; then
    echo "skipped: ../shared/contract is absent (a user's own clone)"; exit 77
fi
for src in "$contract"/*.c; do
    cc "$src" $flags $rpath -o "$work/$(basename "$src" .c)"
done

"$root/$build/goose-target" --port-file "$work/port" >/dev/null &
target_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")

cd "$work"
./quickstart --host "http://127.0.0.1:$port" -u 8 -r 8 -t 3s --report-file out.json -q
python3 - out.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sc = {s["name"]: s for s in r["scenarios"]}
assert sc["Reader"]["users"] == 6, sc
assert sc["Writer"]["users"] == 2, sc
req = {(q["method"], q["name"]): q for q in r["requests"]}
for key in [("GET", "/"), ("POST", "login")]:
    assert req[key]["count"] > 0 and req[key]["fail"] == 0, (key, req.get(key))
m = req[("GET", "/missing")]
assert m["count"] > 0 and m["fail"] == m["count"], m
tx = {(t["scenario"], t["name"]) for t in r["transactions"]}
for want in [("Reader", "front page"), ("Writer", "log in"), ("Writer", "log out")]:
    assert want in tx, (want, tx)
for q in r["requests"]:
    assert q["count"] == q["success"] + q["fail"], q
print("quickstart.c: every expectation holds")
PY
