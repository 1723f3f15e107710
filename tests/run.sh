#!/usr/bin/env bash
# Runs every test in its own process and ends with "N passed, N failed".
#   tests/run.sh BINDIR [TEST_FILTER]
# C tests: BINDIR/test-* (each lists its tests with --list).
# Shell tests: tests/test-*.sh (exit 0 pass, 77 skip, else fail).
# TEST_PREFIX (e.g. valgrind; with --suppressions=tests/valgrind.supp for
# PCRE2's JIT code) is put before each C test command.
set -u
bindir=${1:?usage: tests/run.sh BINDIR [FILTER]}
filter=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0 failures=()
logdir=${TEST_LOG_DIR:-$bindir/logs}
mkdir -p "$logdir"

run_one() { # label, command...
    local label=$1; shift
    local log="$logdir/${label//[\/ ]/_}.log"
    local t0=$SECONDS
    timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1
    local rc=$? took=$((SECONDS - t0))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        if [ $took -ge 5 ]; then echo "ok      $label (${took} s)"; else echo "ok      $label"; fi
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1)); echo "skip    $label ($(tail -n 1 "$log"))"
    else
        failed=$((failed + 1)); failures+=("$label")
        echo "FAIL    $label (exit $rc, log $log)"
        tail -n 15 "$log" | sed 's/^/        /'
    fi
}

for bin in "$bindir"/test-*; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue
    case "$bin" in *.sh|*.log) continue;; esac
    base=$(basename "$bin")
    for name in $("$bin" --list); do
        label="$base/$name"
        [ -n "$filter" ] && [[ "$label" != *$filter* ]] && continue
        run_one "$label" ${TEST_PREFIX:-} "$bin" "$name"
    done
done

if [ -z "${TEST_NO_SCRIPTS:-}" ]; then
    for script in "$here"/test-*.sh; do
        [ -f "$script" ] || continue
        label=$(basename "$script")
        [ -n "$filter" ] && [[ "$label" != *$filter* ]] && continue
        run_one "$label" bash "$script" "$bindir"
    done
fi

[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
