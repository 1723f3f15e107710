#!/usr/bin/env bash
# bench/serve.sh [BUILD] - a Gaggle that stays up (issue 18): a part of the
# benchmarks that runs alone (`make bench-serve`).
#
# goose-target on 127.0.0.1, then bench/serve_bench.py with
# tests/gaggle-loadtest: 3 serving Workers (--worker-reconnect) and
# (1) a --no-autostart Manager running BENCH_SERVE_TESTS tests (20) of
# BENCH_SERVE_RUN_TIME (2s) in a row over its controller: the time from
# `start` to the Manager's START line for the first BENCH_SERVE_TURNS (10),
# and the Manager's and each Worker's VmRSS and open fds after test 1 and
# after the last; (2) BENCH_SERVE_TURNS one-shot Managers, a fresh process
# per test on the same port, the same Workers redialing: the time from
# launching it to START.  Every report must count exactly what the target
# served during its test.
#
# Writes its section of bench/RESULTS.md.  Exit status 1 when a run fails
# (an exit status not 0, a count other than the target's, a timeout).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
D=$ROOT/bench/out/serve
say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

BUILD=${1:-build}
[ -x "$BUILD/goose-target" ] || die "$BUILD/goose-target is missing: run make first"
[ -x "$BUILD/tests/gaggle-loadtest" ] || die "$BUILD/tests/gaggle-loadtest is missing: run make tests first"
for v in BENCH_SERVE_TESTS BENCH_SERVE_TURNS; do
    case "${!v:-2}" in [2-9] | [1-9][0-9]) ;; *) die "$v=\"${!v}\": a number of tests, 2 to 99" ;; esac
done
case "${BENCH_SERVE_RUN_TIME:-2s}" in [1-9]s | [1-5][0-9]s) ;; *) die "BENCH_SERVE_RUN_TIME: 1s to 59s" ;; esac
rm -rf "$D"
mkdir -p "$D"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

TPORT_FILE=$D/target.port
"$BUILD/goose-target" --port 0 --port-file "$TPORT_FILE" > "$D/target.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$TPORT_FILE" ] && break; sleep 0.05; done
[ -s "$TPORT_FILE" ] || die "goose-target did not start"

status=0
timeout 1000 python3 bench/serve_bench.py "$D" "$BUILD/tests/gaggle-loadtest" \
    "http://127.0.0.1:$(cat "$TPORT_FILE")" &
PIDS+=($!)
wait "${PIDS[-1]}" || status=1
[ -s "$D/section.md" ] || die "no results (see $D)"
cat "$D/section.md"
python3 - "$D/section.md" bench/RESULTS.md <<'PY'
import re, sys
section = open(sys.argv[1]).read().rstrip("\n")
path = sys.argv[2]
text = open(path).read()
pat = re.compile(r"<!-- bench:serve:begin.*?<!-- bench:serve:end -->", re.S)
text = pat.sub(lambda m: section, text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
[ "$status" = 0 ] || say "FAIL: see above and $D"
exit $status
