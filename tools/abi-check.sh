#!/usr/bin/env bash
# The ABI check behind `make abi-check` and `make abi-baseline`.
#   tools/abi-check.sh LIBRARY             compare LIBRARY with the newest
#                                          abi/libgoose-X.Y.Z.abi
#   tools/abi-check.sh --baseline LIBRARY  write abi/libgoose-VERSION.abi
# LIBRARY is a libgoose.so built with -g (make abi-check builds build-abi/).
# abidw (libabigail, Debian's abigail-tools) dumps the exported functions
# with their full signatures and every type of the public headers (the enums
# too, though no function takes them); types defined elsewhere (the structs
# behind the opaque handles, curl's, libc's) are private and not compared.
# abidiff then sorts the differences:
#   none                      exit 0
#   only additions (a function, an enumerator)
#                             exit 0 with a note: list the new symbols in
#                             abi/libgoose.symbols with the version they come in
#   anything removed or changed (a function, a signature, a public type,
#   an enumerator's value)    exit 1, unless the SONAME's major changed
#                             (the new major then needs a baseline of its own)
# Writes LIBDIR/libgoose-current.abi and LIBDIR/abi-check.txt (the report).
# ABI_DIR (abi) and ABI_HEADERS (include) point elsewhere for tests.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
abi_dir=${ABI_DIR:-$root/abi}
headers=${ABI_HEADERS:-$root/include}
mode=check
[ "${1:-}" = "--baseline" ] && { mode=baseline; shift; }
lib=${1:?usage: tools/abi-check.sh [--baseline] LIBRARY}
[ -f "$lib" ] || { echo "abi-check: no library $lib" >&2; exit 2; }
for tool in abidw abidiff; do
    command -v $tool >/dev/null 2>&1 ||
        { echo "abi-check: $tool missing (Debian package abigail-tools; tools/deps.sh abigail-tools)" >&2; exit 2; }
done

# No absolute paths (file names only), no build directory, no DT_NEEDED list:
# the same sources give the same dump wherever they are built.
dump() {
    abidw --headers-dir "$headers" --drop-private-types --load-all-types \
        --no-corpus-path --no-comp-dir-path --no-elf-needed --drop-undefined-syms \
        --short-locs --out-file "$2" "$1"
}
soname_of() { sed -n "1s/.* soname='\([^']*\)'.*/\1/p" "$1"; }
arch_of() { sed -n "1s/.* architecture='\([^']*\)'.*/\1/p" "$1"; }

version=$(sed -n 's/^#define GOOSE_VERSION_STRING "\(.*\)"/\1/p' "$headers/goose/version.h")

if [ $mode = baseline ]; then
    out=$abi_dir/libgoose-$version.abi
    if [ -e "$out" ] && [ -z "${ABI_FORCE:-}" ]; then
        echo "abi-check: $out exists; a released baseline is not rewritten (ABI_FORCE=1 to do it anyway)" >&2
        exit 1
    fi
    mkdir -p "$abi_dir" && dump "$lib" "$out" || exit 1
    echo "wrote $out ($(soname_of "$out")): commit it with the release"
    exit 0
fi

baseline=$(ls "$abi_dir"/libgoose-*.abi 2>/dev/null | sort -V | tail -n 1)
[ -n "$baseline" ] || { echo "abi-check: no baseline in $abi_dir (make abi-baseline)" >&2; exit 2; }
work=$(dirname "$lib")
current=$work/libgoose-current.abi
report=$work/abi-check.txt
dump "$lib" "$current" || { echo "abi-check: abidw failed on $lib" >&2; exit 2; }

old_soname=$(soname_of "$baseline") new_soname=$(soname_of "$current")
if [ "$(arch_of "$baseline")" != "$(arch_of "$current")" ]; then
    echo "abi-check: skipped: the baseline is for $(arch_of "$baseline"), this build for $(arch_of "$current") (tests/test-symbols.sh still checks the symbols)"
    exit 0
fi

suppr=()
[ -f "$abi_dir/libgoose.suppr" ] && suppr=(--suppressions "$abi_dir/libgoose.suppr")
abidiff --non-reachable-types --hd1 "$headers" --hd2 "$headers" "${suppr[@]}" \
    "$baseline" "$current" >"$report" 2>&1
rc=$?
name=$(basename "$baseline")
if [ $((rc & 3)) -ne 0 ]; then
    cat "$report"; echo "abi-check: abidiff failed (exit $rc)"; exit 2
fi
if [ $rc -eq 0 ]; then
    echo "abi-check: $new_soname is ABI compatible with $name"
    exit 0
fi
cat "$report"
# abidiff sets its INCOMPATIBLE bit (8) for a removed symbol or a renumbered
# enumerator, but only its CHANGE bit (4) for a parameter whose type changed:
# so anything removed or changed in its summary lines is incompatible too, and
# only additions are not.  A change known to be harmless can be silenced in
# abi/libgoose.suppr (abidiff --suppressions).
changed=$(grep 'summary:' "$report" | grep -o -E '[0-9]+ ([Rr]emoved|[Cc]hanged)' | awk '$1 > 0')
if [ $((rc & 8)) -eq 0 ] && [ -z "$changed" ]; then
    echo "abi-check: compatible ABI changes since $name (list new symbols in abi/libgoose.symbols with the version they come in)"
    exit 0
fi
if [ "$old_soname" != "$new_soname" ]; then
    echo "abi-check: incompatible changes since $name, allowed: the SONAME went from $old_soname to $new_soname (make abi-baseline, and commit the new baseline)"
    exit 0
fi
echo "abi-check: INCOMPATIBLE ABI change since $name without a SONAME bump:"
echo "  keep the old function (add a new one beside it), or bump GOOSE_VERSION_MAJOR in include/goose/version.h"
exit 1
