#!/usr/bin/env bash
# The install story, as a user lives it: `make install PREFIX=...` into a
# prefix that already holds other files, a program built from
# examples/quickstart.c with nothing but pkg-config, run against the target
# server with the installed library (not the tree's), the man pages found by
# man(1), then `make uninstall` with the same PREFIX leaves exactly the files
# that were there before.  The same for a DESTDIR staging install.
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
target_pid=
trap '[ -n "$target_pid" ] && kill $target_pid 2>/dev/null; rm -rf "$work"' EXIT
version=$(sed -n 's/^#define GOOSE_VERSION_STRING "\(.*\)"/\1/p' include/goose/version.h)
major=${version%%.*}
fail() { echo "FAIL: $*"; exit 1; }
files() { (cd "$1" && find . ! -type d | sort); }

# A prefix in use: other libraries, headers and pages must survive.
prefix=$work/prefix
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/share/man/man3"
echo other >"$prefix/lib/libother.so.1"
echo other >"$prefix/lib/pkgconfig/other.pc"
echo other >"$prefix/include/other.h"
echo other >"$prefix/share/man/man3/other.3"
files "$prefix" >"$work/before"

make -s --no-print-directory install PREFIX="$prefix" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "make install PREFIX=$prefix"; }
files "$prefix" >"$work/installed"
for f in include/goose.h include/goose/version.h lib/libgoose.so lib/libgoose.so.$major \
        lib/libgoose.so.$version lib/libgoose.a lib/pkgconfig/libgoose.pc \
        share/man/man7/goose.7 share/man/man7/gaggle.7 share/man/man3/goose_get.3; do
    [ -e "$prefix/$f" ] || fail "make install did not install $f"
done
[ "$(readlink "$prefix/lib/libgoose.so.$major")" = "libgoose.so.$version" ] ||
    fail "lib/libgoose.so.$major does not point at libgoose.so.$version"
[ "$(ls man/man3/*.3 | wc -l)" = "$(ls "$prefix"/share/man/man3/goose_*.3 "$prefix"/share/man/man3/gaggle_*.3 | wc -l)" ] ||
    fail "not every section-3 page is installed"
echo "installed $(comm -13 "$work/before" "$work/installed" | wc -l) files into $prefix"

# A user's program: pkg-config alone finds the header and the library.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion libgoose)" = "$version" ] || fail "pkg-config --modversion libgoose"
cc examples/quickstart.c $(pkg-config --cflags --libs libgoose) -o "$work/quickstart" ||
    fail "cc examples/quickstart.c \$(pkg-config --cflags --libs libgoose)"
export LD_LIBRARY_PATH=$prefix/lib
ldd "$work/quickstart" | grep -q "libgoose.so.$major => $prefix/lib/libgoose.so.$major" ||
    { ldd "$work/quickstart"; fail "the program does not load $prefix/lib/libgoose.so.$major"; }

"$root/$build/goose-target" --port-file "$work/port" >/dev/null 2>&1 &
target_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "goose-target did not start"
port=$(cat "$work/port")
rc=0
(cd "$work" && timeout 60 ./quickstart --host "http://127.0.0.1:$port" -u 2 -r 2 -t 1s -q \
    --no-print-metrics --report-file report.json) || rc=$?
[ $rc -eq 0 ] || fail "quickstart exited $rc"
python3 - "$work/report.json" <<'PY' || fail "quickstart: its report"
import json, sys
r = json.load(open(sys.argv[1]))
n = sum(q["count"] for q in r["requests"])
f = sum(q["fail"] for q in r["requests"])
assert n > 0 and f == 0, ("requests", n, "failed", f)
PY
kill $target_pid; wait $target_pid 2>/dev/null || true; target_pid=
unset LD_LIBRARY_PATH
echo "quickstart built with pkg-config ran against the target with the installed library"

if command -v man >/dev/null 2>&1; then
    for page in "7 goose" "7 gaggle" "3 goose_get" "3 goose_version"; do
        man -M "$prefix/share/man" -w $page >/dev/null 2>&1 || fail "man -M $prefix/share/man $page"
    done
fi

make -s --no-print-directory uninstall PREFIX="$prefix" >"$work/uninstall.log" 2>&1 ||
    { cat "$work/uninstall.log"; fail "make uninstall PREFIX=$prefix"; }
files "$prefix" >"$work/after"
diff -u "$work/before" "$work/after" || fail "make uninstall did not leave the prefix as it was (- removed, + left over)"
[ ! -e "$prefix/include/goose" ] || fail "make uninstall left include/goose/"
echo "make uninstall removed every file it installed, and nothing else"

# Staging for a package: DESTDIR, then uninstall from the same DESTDIR.
stage=$work/stage
make -s --no-print-directory install PREFIX=/usr/local DESTDIR="$stage" >"$work/stage.log" 2>&1 ||
    { cat "$work/stage.log"; fail "make install DESTDIR=$stage"; }
grep -q "^libdir=/usr/local/lib$" "$stage/usr/local/lib/pkgconfig/libgoose.pc" ||
    fail "libgoose.pc under DESTDIR does not name the final libdir"
[ "$(files "$stage" | wc -l)" -eq "$(comm -13 "$work/before" "$work/installed" | wc -l)" ] ||
    fail "DESTDIR install differs in its number of files from the PREFIX one"
make -s --no-print-directory uninstall PREFIX=/usr/local DESTDIR="$stage" >>"$work/stage.log" 2>&1 ||
    { cat "$work/stage.log"; fail "make uninstall DESTDIR=$stage"; }
left=$(files "$stage")
[ -z "$left" ] || fail "make uninstall DESTDIR left: $left"
echo "DESTDIR install and uninstall ok"
