#!/usr/bin/env bash
# A Gaggle across network namespaces this test creates: the Manager, two
# Workers and the target each in their own namespace, joined by veth pairs
# to a bridge; the report's totals must equal the target's own count.
# Skipped (exit 77) where network namespaces cannot be made.
set -u
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
id=$$
net=10.231.0
names=(m w1 w2 t)
work=$(mktemp -d)
pids=()

ns() { echo "goose-$1-$id"; }
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    for n in hub "${names[@]}"; do ip netns del "$(ns "$n")" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "skipped: network namespaces need root"; exit 77; }
command -v ip >/dev/null || { echo "skipped: no ip command (iproute2)"; exit 77; }
ip netns add "$(ns hub)" 2>/dev/null || { echo "skipped: ip netns add is not permitted here"; exit 77; }
ip -n "$(ns hub)" link add br0 type bridge && ip -n "$(ns hub)" link set br0 up || exit 1
i=1
for n in "${names[@]}"; do
    ip netns add "$(ns "$n")" || exit 1
    ip link add "gv$n$id" type veth peer name "ge$n$id" || exit 1
    ip link set "gv$n$id" netns "$(ns hub)" && ip link set "ge$n$id" netns "$(ns "$n")" || exit 1
    ip -n "$(ns hub)" link set "gv$n$id" master br0 up || exit 1
    ip -n "$(ns "$n")" addr add "$net.$i/24" dev "ge$n$id" || exit 1
    ip -n "$(ns "$n")" link set "ge$n$id" up && ip -n "$(ns "$n")" link set lo up || exit 1
    i=$((i + 1))
done

run_in() { local n=$1 log=$2; shift 2; ip netns exec "$(ns "$n")" "$@" >"$work/$log.log" 2>&1 & pids+=($!); }
run_in t target "$build/goose-target" --test-netns-address "$net.4" --port 8080
run_in m manager "$build/tests/gaggle-loadtest" --manager --expect-workers 2 \
    --manager-bind-host "$net.1" --host "http://$net.4:8080" -u 6 -r 60 -t 2s \
    --no-reset-metrics --report-file "$work/report.json"
manager=${pids[-1]}
run_in w1 worker1 "$build/tests/gaggle-loadtest" --worker --manager-host "$net.1"
run_in w2 worker2 "$build/tests/gaggle-loadtest" --worker --manager-host "$net.1"
w2=${pids[-1]}
w1=${pids[-2]}
timeout 60 tail --pid="$manager" -f /dev/null
wait "$manager"; mrc=$?
wait "$w1"; r1=$?
wait "$w2"; r2=$?
if [ $mrc -ne 0 ] || [ $r1 -ne 0 ] || [ $r2 -ne 0 ]; then
    echo "exit status: manager $mrc, workers $r1 $r2"; tail -n 5 "$work"/*.log; exit 1
fi
ip netns exec "$(ns t)" python3 - "$net.4" "$work/report.json" <<'PY'
import json, sys, urllib.request
stats = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}:8080/stats", timeout=5))
report = json.load(open(sys.argv[2]))
counted = report["totals"]["count"]
assert counted == stats["total"], (counted, stats["total"])
assert counted > 0 and all(w["state"] == "done" for w in report["workers"]), report["workers"]
print(f"across namespaces: report {counted} = target {stats['total']}")
PY
