#!/usr/bin/env bash
# make check: the whole suite, then the C tests again in an ASan+UBSan
# build; the last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
build=${GOOSE_BUILD:-build}
summary() { tail -n 1 "$1" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p'; }

GOOSE_BUILD=$build bash tests/run.sh "$build/tests" | tee "$build/check.log"
read -r p1 f1 s1 <<<"$(summary "$build/check.log")"

p2=0 f2=0 s2=0
if [ -n "${GOOSE_CHECK_SAN:-}" ]; then
    echo "--- the same C tests built with ASan+UBSan ---"
    mkdir -p build-san
    if make -s --no-print-directory SAN=1 BUILD=build-san tests target examples >build-san/build.log 2>&1; then
        GOOSE_BUILD=build-san TEST_NO_SCRIPTS=1 TEST_LOG_DIR=build-san/logs \
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
            bash tests/run.sh build-san/tests | sed 's/^\(ok\|FAIL\|skip\)\( *\)/\1\2san:/' | tee build-san/check.log
        read -r p2 f2 s2 <<<"$(summary build-san/check.log)"
    else
        cat build-san/build.log; f2=1
    fi
fi
p=$((p1 + ${p2:-0})) f=$((${f1:-1} + ${f2:-0})) s=$((${s1:-0} + ${s2:-0}))
if [ "$s" -gt 0 ]; then echo "$p passed, $f failed, $s skipped"; else echo "$p passed, $f failed"; fi
[ "$f" -eq 0 ]
