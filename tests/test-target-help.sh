#!/usr/bin/env bash
# The bundled target's --help lists every route it answers (request_cb and
# route_get in tests/target/target.c), so a first test can be written from
# it alone.
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
help=$("$build/goose-target" --help)
routes=$(grep -o -E '(strcmp\(path, "|has_prefix\(path, ")/[^"]*"' tests/target/target.c |
    sed -E 's/.*"(\/[^"]*)"/\1/' | sort -u)
[ -n "$routes" ] || { echo "no routes found in tests/target/target.c"; exit 1; }
missing=0 n=0
for r in $routes; do
    n=$((n + 1))
    # "/node/" is listed as "/node/N", "/slow" as "/slow?ms=N"
    re=$(printf '%s' "$r" | sed 's/[.[\*^$?+]/\\&/g')
    if ! grep -q -E "(^|[ (])$re([A-Z?]|[ ,]|\$)" <<<"$help"; then
        echo "goose-target --help does not list $r"
        missing=1
    fi
done
[ $missing -eq 0 ] || exit 1
echo "target help ok: $n routes listed"
