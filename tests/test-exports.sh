#!/usr/bin/env bash
# The shared library exports exactly the public functions: every function
# declared GOOSE_API in include/goose.h and include/goose/*.h, nothing else
# (no goose__ internal, though those match goose_*), and has the right
# SONAME.  The version script is written from abi/libgoose.symbols
# (tools/symbols-map.sh); tests/test-symbols.sh checks that file.
set -eu
cd "$(dirname "$0")/.."
build=${GOOSE_BUILD:-build}
so=$(ls "$build"/libgoose.so.*.*.* | sort -V | tail -n 1) # the newest: an older build may linger
[ -f "$so" ] || { echo "no ${GOOSE_BUILD:-build}/libgoose.so.X.Y.Z: make lib"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWiu]$/ {sub(/@.*/, "", $3); print $3}' | sort -u >"$work/exported"
bad=$(grep -v -E '^(goose_|gaggle_)' "$work/exported" || true)
if [ -n "$bad" ]; then echo "exported outside goose_/gaggle_: $bad"; exit 1; fi
internal=$(grep -E '^goose__' "$work/exported" || true)
if [ -n "$internal" ]; then echo "internal goose__ symbols exported:" $internal; exit 1; fi
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
major=$(sed -n 's/^#define GOOSE_VERSION_MAJOR \([0-9]*\)/\1/p' include/goose/version.h)
[ "$soname" = "libgoose.so.$major" ] || { echo "SONAME is $soname"; exit 1; }
# The declarations as the compiler reads them: GOOSE_API is the default
# visibility attribute; each declaration's name is the word before its "(".
${CC:-cc} -E -P -Iinclude include/goose.h | tr '\n' ' ' | tr ';' '\n' |
    grep -F '__attribute__((visibility("default")))' |
    sed 's/__attribute__((visibility("default")))//' |
    sed -n -E 's/^[^(]*[^A-Za-z0-9_(]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\(.*/\1/p' |
    sort -u >"$work/declared"
[ -s "$work/declared" ] || { echo "no GOOSE_API function in include/"; exit 1; }
if ! diff -u "$work/declared" "$work/exported" >"$work/diff"; then
    echo "declared GOOSE_API (-) and exported by $so (+) differ:"
    tail -n +3 "$work/diff" | grep '^[-+]'
    exit 1
fi
echo "exports ok: $(wc -l <"$work/exported") functions, each declared GOOSE_API"
