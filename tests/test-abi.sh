#!/usr/bin/env bash
# `make abi-check` passes on this tree, and the check does catch breaks:
# copies of the library with a removed function, a changed signature or a
# renumbered error code fail it; an added function with a changed private
# struct passes (with a note), and so does a removed function with a SONAME
# bump.  The copies are built from a copy of lib/ and include/ in a
# temporary directory (the tree is never touched).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
make -s --no-print-directory abi-check
so=$(ls build-abi/libgoose.so.*.*.* | sort -V | tail -n 1) # the newest: an older build may linger
version=${so##*/libgoose.so.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deps=$(sh tools/deps.sh --modules)
fail=0

expect() { # pass|fail, label, library, words the report must name...
    local want=$1 label=$2 lib=$3; shift 3
    local rc=0
    bash tools/abi-check.sh "$lib" >"$work/$label.out" 2>&1 || rc=$?
    if { [ "$want" = pass ] && [ $rc -ne 0 ]; } || { [ "$want" = fail ] && [ $rc -ne 1 ]; }; then
        echo "FAIL $label: abi-check exit $rc, expected to $want"; cat "$work/$label.out"; fail=1; return
    fi
    for word in "$@"; do
        grep -q -- "$word" "$work/$label.out" ||
            { echo "FAIL $label: the report does not name $word"; cat "$work/$label.out"; fail=1; return; }
    done
    echo "ok   $label: $(grep "^abi-check:" "$work/$label.out" | tail -n 1)"
}

# The build-abi objects of the library's sources (not those a moved file
# left behind).
objects() {
    find lib \( -name '*.c' -o -name '*.S' \) | sort | sed 's|^\(.*\)\.[cS]$|build-abi/obj/\1.o|'
}

relink() { # dir, soname, version script: the build-abi objects linked again
    mkdir -p "$1"
    cc -shared -Wl,-soname,"$2" -Wl,--version-script="$3" -Wl,--no-undefined \
        -o "$1/libgoose.so.$version" $(objects) \
        $(pkg-config --libs $deps) -lpthread -lm
}

variant() { # name, then sed edits as FILE 'SCRIPT' pairs: a whole tree built
    local dir=$work/$1; shift
    mkdir -p "$dir" && cp -r Makefile abi include lib tools "$dir/"
    while [ $# -gt 0 ]; do
        cp "$dir/$1" "$dir/$1.orig"
        sed -i "$2" "$dir/$1"
        ! cmp -s "$dir/$1" "$dir/$1.orig" || { echo "variant: '$2' changed nothing in $1"; exit 1; }
        rm "$dir/$1.orig"; shift 2
    done
    make -s --no-print-directory -C "$dir" -j2 BUILD=b SAN= OPT="-O2 -g" b/libgoose.so."$version" \
        >"$dir/build.log" 2>&1 ||
        { cat "$dir/build.log"; exit 1; }
    echo "$dir/b/libgoose.so.$version"
}

# A function removed from the exports (a local: entry wins over the glob).
printf 'GOOSE_0 {\n  global: goose_*; gaggle_*;\n  local: goose_response_time_us; *;\n};\n' >"$work/hide.map"
relink "$work/removed" libgoose.so.0 "$work/hide.map"
expect fail removed-function "$work/removed/libgoose.so.$version" goose_response_time_us INCOMPATIBLE
# The same with the SONAME's major bumped: allowed.
relink "$work/bumped" libgoose.so.1 "$work/hide.map"
expect pass removed-with-soname-bump "$work/bumped/libgoose.so.$version" goose_response_time_us libgoose.so.1

# A parameter that changes type.
lib=$(variant signature \
    include/goose.h 's/^GOOSE_API int goose_sleep(goose_user \*user, unsigned ms);/GOOSE_API int goose_sleep(goose_user *user, unsigned long long ms);/' \
    lib/engine/user.c 's/^int goose_sleep(goose_user \*u, unsigned ms)/int goose_sleep(goose_user *u, unsigned long long ms)/')
expect fail changed-signature "$lib" goose_sleep INCOMPATIBLE

# An error code renumbered: no function takes the enum, the check still sees it.
lib=$(variant enum include/goose.h 's/GOOSE_ETHRESHOLD = -12/GOOSE_ETHRESHOLD = -14/') # -13 is taken
expect fail renumbered-enum "$lib" GOOSE_ETHRESHOLD INCOMPATIBLE

# An added function (listed in abi/libgoose.symbols, which the version
# script is written from) and a field added to the struct behind an opaque
# handle.
lib=$(variant compatible \
    include/goose.h 's/^GOOSE_API void goose_free(void \*ptr);/&\nGOOSE_API int goose_abi_probe(void);/' \
    abi/libgoose.symbols 's/^ goose_free@GOOSE_0 .*/&\n goose_abi_probe@GOOSE_0 0.1.0/' \
    lib/attack.c '$a int goose_abi_probe(void) { return 0; }' \
    lib/config/attack.h 's/^struct goose_attack {/&\n    int abi_probe_field;/')
expect pass added-function "$lib" goose_abi_probe "compatible ABI changes"
if grep -q abi_probe_field "$work/added-function.out"; then
    echo "FAIL added-function: a private struct's field is reported"; fail=1
fi

[ $fail -eq 0 ] && echo "abi-check passes here and catches each break"
exit $fail
