#!/usr/bin/env bash
# Build hygiene: a build writes only into its build directories (the source
# tree holds sources, nothing built); `make` never installs packages, and
# stops with one line naming what pkg-config cannot find; tools/deps.sh
# asks pkg-config, not dpkg, for libraries, installs only what is missing
# as root and otherwise prints the apt-get line and fails.  The last part
# runs tools/deps.sh with a recording apt-get, an id and a dpkg-query of
# its own on PATH and .pc files of its own (PKG_CONFIG_LIBDIR).
set -u
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# ---- 1. nothing built outside the build directories ----
# Run after a build (make check builds first): every file git does not
# track is under a build directory, or a run's output (make demo's report,
# make bench's bench/out).  An ignored file elsewhere, or an untracked
# object, archive, library or dependency file, is a build output in the tree.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    [ -e "$build/libgoose.so" ] || bad "no $build/libgoose.so: build first (make)"
    rel=${build#"$root"/}
    git status --porcelain --ignored --untracked-files=all >"$work/status"
    while IFS= read -r line; do
        kind=${line:0:2} path=${line:3}
        case "$path" in
        build/*|build-san/*|build-abi/*|"$rel"/*|demo-report.json|bench/out/*) continue ;;
        esac
        if [ "$kind" = '!!' ]; then
            bad "$path: ignored, outside the build directories (a build output in the tree?)"
            continue
        fi
        case "$path" in
        *.o|*.a|*.so|*.so.*|*.d|*.map|*.pc)
            bad "$path: a build output in the source tree (from an older build? make clean)" ;;
        *)
            [ -f "$path" ] && [ "$(head -c 4 "$path" | od -An -c | tr -d ' ')" = '177ELF' ] &&
                bad "$path: an ELF file in the source tree" ;;
        esac
    done < <(grep -E '^(!!|\?\?) ' "$work/status")
    [ $fail -eq 0 ] && echo "ok    the tree holds sources only; the build is under $rel/"
else
    echo "skip  not a git work tree: the tree's files cannot be told from built ones"
fi

# ---- 2. make never installs ----
fail1=$fail fail=0
# A dry run of a fresh build directory: every command make would run.
make -n --no-print-directory BUILD="$work/dry" all tests install DESTDIR="$work/dest" \
    >"$work/dry.txt" 2>&1 || { cat "$work/dry.txt"; bad "make -n all tests install failed"; }
grep -q 'tools/deps.sh --check' "$work/dry.txt" || bad "make all does not check the dependencies (tools/deps.sh --check)"
grep -E 'apt-get|apt |dpkg -i|tools/deps.sh( +[^- ]|$)' "$work/dry.txt" >"$work/installs"
[ -s "$work/installs" ] && { bad "make all tests install would install packages:"; cat "$work/installs"; }
grep -q -- "-o $work/dry/libgoose.so\.[0-9.]* " "$work/dry.txt" ||
    bad "make -n all does not link BUILD/libgoose.so.X.Y.Z"
grep -q -- "ar rcs $work/dry/libgoose.a " "$work/dry.txt" || bad "make -n all does not write BUILD/libgoose.a"
[ $fail -eq 0 ] && echo "ok    make -n all tests install: no package manager, the library in BUILD"

fail2=$fail fail=0
# ---- 3. tools/deps.sh's logic ----
mkdir -p "$work/bin" "$work/pc"
cat >"$work/bin/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$work/apt.log"
# installing libmsgpack-dev brings its .pc file
case " \$* " in *" install "*" libmsgpack-dev"*) cp "$work/msgpack.pc.saved" "$work/pc/msgpack.pc" ;; esac
EOF
printf '#!/bin/sh\necho "${FAKE_UID:-0}"\n' >"$work/bin/id"
printf '#!/bin/sh\nexit 1\n' >"$work/bin/dpkg-query"   # dpkg knows no package
chmod +x "$work/bin/"*
for m in $(sh tools/deps.sh --modules); do
    printf 'Name: %s\nDescription: fake\nVersion: 1.0\nLibs:\nCflags:\n' "$m" >"$work/pc/$m.pc"
done
cp "$work/pc/msgpack.pc" "$work/msgpack.pc.saved"
deps() { # FAKE_UID, args...: tools/deps.sh in the fake world; output in out, exit in rc
    local uid=$1; shift
    rm -f "$work/apt.log"
    FAKE_UID=$uid PATH="$work/bin:$PATH" PKG_CONFIG_LIBDIR="$work/pc" PKG_CONFIG_PATH= \
        sh tools/deps.sh "$@" >"$work/out" 2>&1
    rc=$?
}
apt_calls() { [ -f "$work/apt.log" ] && cat "$work/apt.log"; }

# Every module found by pkg-config, no package installed as dpkg sees it
# (libraries built from source): nothing is missing, apt-get is not run.
for uid in 0 1000; do
    for args in --check build; do
        deps $uid $args
        [ $rc -eq 0 ] && [ ! -s "$work/out" ] || { bad "all modules there, uid $uid, deps.sh $args: exit $rc"; cat "$work/out"; }
        [ -z "$(apt_calls)" ] || bad "all modules there, uid $uid, deps.sh $args ran: $(apt_calls)"
    done
done
echo "ok    every pkg-config module found: nothing missing, no apt-get (dpkg not asked)"

# msgpack missing, not root: one line with the apt-get line to run, exit 1.
rm "$work/pc/msgpack.pc"
deps 1000 build
lines=$(wc -l <"$work/out")
[ $rc -eq 1 ] || bad "msgpack missing, not root: exit $rc, not 1"
[ "$lines" = 1 ] || { bad "msgpack missing, not root: $lines lines, not one"; cat "$work/out"; }
grep -q 'msgpack' "$work/out" && grep -q 'apt-get install -y --no-install-recommends libmsgpack-dev$' "$work/out" ||
    { bad "msgpack missing, not root: the line does not name msgpack and apt-get install ... libmsgpack-dev"; cat "$work/out"; }
[ -z "$(apt_calls)" ] || bad "not root, but apt-get ran: $(apt_calls)"
echo "ok    not root: $(cat "$work/out")"
# The build's check: one line naming the module and make deps, even as root.
deps 0 --check
[ $rc -eq 1 ] && [ "$(wc -l <"$work/out")" = 1 ] && grep -q 'msgpack.*make deps' "$work/out" ||
    { bad "deps.sh --check, msgpack missing: exit $rc"; cat "$work/out"; }
[ -z "$(apt_calls)" ] || bad "deps.sh --check ran apt-get: $(apt_calls)"
# make itself, as root: stops on that line, before compiling, installing nothing.
rm -f "$work/apt.log"
FAKE_UID=0 PATH="$work/bin:$PATH" PKG_CONFIG_LIBDIR="$work/pc" PKG_CONFIG_PATH= \
    make --no-print-directory BUILD="$work/b" all >"$work/make.out" 2>&1
rc=$?
[ $rc -ne 0 ] || bad "make with msgpack missing succeeded"
grep -q '^error: .*msgpack.*run make deps$' "$work/make.out" ||
    { bad "make with msgpack missing does not say so in one line:"; tail -n 5 "$work/make.out"; }
[ ! -d "$work/b/obj" ] || bad "make compiled with msgpack missing"
[ -z "$(apt_calls)" ] || bad "make ran apt-get: $(apt_calls)"
echo "ok    make, msgpack missing: $(grep '^error' "$work/make.out")"

# msgpack missing, root: apt-get installs that package alone, then it is found.
deps 0 build
[ $rc -eq 0 ] || { bad "msgpack missing, root: exit $rc"; cat "$work/out"; }
apt_calls >"$work/calls"
grep -q '^apt-get update' "$work/calls" &&
    grep -q '^apt-get install -y -qq --no-install-recommends libmsgpack-dev$' "$work/calls" ||
    { bad "msgpack missing, root: apt-get was not run to install libmsgpack-dev alone:"; cat "$work/calls"; }
[ -f "$work/pc/msgpack.pc" ] || bad "msgpack missing, root: not installed"
echo "ok    root: $(paste -sd';' "$work/calls")"

[ $((fail1 + fail2 + fail)) -eq 0 ]
