#!/bin/bash
# Marginal instructions per request of a tree's build, for comparing two
# commits on one box: callgrind counts instructions, so the noise of a busy
# machine does not enter.  Each TREE is a checkout built with `make lib target`.
#   bash bench/cg-compare.sh TREE [TREE...]
# loadtest --threads 1 -u 50 against TREE's goose-target, 200 and 20
# iterations per user; (instructions(200) - instructions(20)) / (50 * 180).
set -eu
for tree in "$@"; do
    out=$(mktemp -d)
    libdir=$tree/build
    [ -e "$libdir/libgoose.so" ] || libdir=$tree/lib   # a tree from before issue 14
    cc -O2 -I"$tree/include" "$tree/bench/loadtest.c" -L"$libdir" \
        -Wl,-rpath,"$libdir" -lgoose -o "$out/loadtest"
    "$tree/build/goose-target" --port-file "$out/port" >/dev/null 2>&1 &
    target=$!
    for _ in $(seq 50); do [ -s "$out/port" ] && break; sleep 0.1; done
    for it in 20 200; do
        valgrind --tool=callgrind --callgrind-out-file="$out/cg-$it.out" "$out/loadtest" \
            --host "http://127.0.0.1:$(cat "$out/port")" --threads 1 -u 50 -r 1000 \
            --iterations "$it" -q --no-print-metrics >/dev/null 2>&1
    done
    kill "$target"
    lo=$(awk '/^(summary|totals):/ { print $2; exit }' "$out/cg-20.out")
    hi=$(awk '/^(summary|totals):/ { print $2; exit }' "$out/cg-200.out")
    echo "$tree: $(((hi - lo) / (50 * 180))) instructions per request"
    rm -rf "$out"
done
