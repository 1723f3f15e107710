#!/usr/bin/env bash
# The shared library exports only goose_ and gaggle_ symbols, has the right
# SONAME, and every public function in goose.h is exported.
set -eu
cd "$(dirname "$0")/.."
so=$(ls lib/libgoose.so.*.*.* | head -n 1)
bad=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v -E '^(goose_|gaggle_)' || true)
if [ -n "$bad" ]; then echo "exported outside goose_/gaggle_: $bad"; exit 1; fi
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
major=$(sed -n 's/^#define GOOSE_VERSION_MAJOR \([0-9]*\)/\1/p' include/goose/version.h)
[ "$soname" = "libgoose.so.$major" ] || { echo "SONAME is $soname"; exit 1; }
missing=0
for fn in $(grep -o -E '\b(goose|gaggle)_[a-z_]+\(' include/goose.h | tr -d '(' | sort -u); do
    nm -D --defined-only "$so" | grep -q -E " $fn(@@.*)?\$" || { echo "not exported: $fn"; missing=1; }
done
[ $missing -eq 0 ]
echo "exports ok: $(nm -D --defined-only "$so" | grep -c -E ' (goose|gaggle)_')"
