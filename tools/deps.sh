#!/bin/sh
# What libgoose needs from the system, in one table: the build, the tests,
# the bench, the fuzzers and the containers test.  `make` only checks (--check); `make deps`,
# and `make demo`, `make check`, `make bench`, `make fuzz` before they run,
# install what is missing.
#   tools/deps.sh --check          the build's libraries, by pkg-config; one
#                                  line naming what is missing, exit 1
#   tools/deps.sh [GROUP|PACKAGE]...  install what is missing (default:
#                                  build): as root with apt-get; otherwise
#                                  print the apt-get line to run, exit 1
#   tools/deps.sh --modules        the build's pkg-config modules
#   tools/deps.sh --list GROUP...  the groups' Debian packages
# Groups: build, demo, test, bench, fuzz, abi, containers.  A PACKAGE that is not in the table
# is looked up with dpkg.
set -u
PATH=$PATH:/usr/sbin:/sbin

# GROUP PACKAGE HOW: how to tell it is there without asking dpkg, so that
# libraries and tools built from source count: pc:MODULE (pkg-config
# finds it), cmd:NAME (a command), py:MODULE (python3 or /usr/bin/python3,
# for which Debian's modules are, imports it), file:PATH, or dpkg (the
# package is installed).  The Makefile takes its pkg-config modules from
# here (--modules), tests/test-docker.sh the build's packages (--list).
table='
build libcurl4-openssl-dev pc:libcurl
build libevent-dev pc:libevent
build libevent-dev pc:libevent_pthreads
build libevent-dev pc:libevent_openssl
build libmsgpack-dev pc:msgpack
build libssl-dev pc:openssl
build libjansson-dev pc:jansson
build libnghttp2-dev pc:libnghttp2
build libxml2-dev pc:libxml-2.0
build libpcre2-dev pc:libpcre2-8
build pkg-config cmd:pkg-config
demo curl cmd:curl
test python3 cmd:python3
test binutils cmd:objdump
test valgrind cmd:valgrind
test openssl cmd:openssl
test nginx cmd:nginx
test iproute2 cmd:ip
test abigail-tools cmd:abidw
test python3-yaml py:yaml
test groff-base cmd:groff
test nghttp2-server cmd:nghttpd
test nghttp2-client cmd:h2load
test python3-h2 py:h2
test libhiredis-dev pc:hiredis
test redis-server cmd:redis-server
abi abigail-tools cmd:abidw
bench nginx cmd:nginx
bench wrk cmd:wrk
bench time file:/usr/bin/time
bench util-linux cmd:taskset
bench python3 cmd:python3
bench valgrind cmd:valgrind
bench iproute2 cmd:ss
bench python3-locust cmd:locust
bench python3-geventhttpclient py:geventhttpclient
bench openssl cmd:openssl
bench nghttp2-client cmd:h2load
fuzz clang cmd:clang
fuzz libclang-rt-14-dev dpkg
containers podman cmd:podman
containers runc cmd:runc
containers debootstrap cmd:debootstrap
containers python3-yaml py:yaml
'
groups="build demo test bench fuzz abi containers"

rows() { # GROUP...: the table's rows of these groups
    echo "$table" | awk -v want=" $* " 'NF == 3 && index(want, " " $1 " ")'
}

have() { # PACKAGE HOW
    case $2 in
    pc:*) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "${2#pc:}" ;;
    cmd:*) command -v "${2#cmd:}" >/dev/null 2>&1 ;;
    py:*) for py in python3 /usr/bin/python3; do # Debian's, when PATH has another
              "$py" -c "import ${2#py:}" 2>/dev/null && return 0
          done; return 1 ;;
    file:*) [ -e "${2#file:}" ] ;;
    *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" ;;
    esac
}

# "PACKAGE WHAT" for each thing missing among the arguments (groups or
# packages); WHAT names it (libcurl (pkg-config), valgrind, ...).
missing() {
    for arg in "$@"; do
        case " $groups " in
        *" $arg "*) rows "$arg" ;;
        *) echo "- $arg dpkg" ;;
        esac
    done | while read -r _ pkg how; do
        have "$pkg" "$how" && continue
        case $how in
        pc:*) echo "$pkg ${how#pc:} (pkg-config)" ;;
        cmd:*) echo "$pkg ${how#cmd:}" ;;
        py:*) echo "$pkg python3 module ${how#py:}" ;;
        file:*) echo "$pkg ${how#file:}" ;;
        *) echo "$pkg $pkg" ;;
        esac
    done
}

packages_of() { awk '{print $1}' | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'; }
whats_of() { cut -d' ' -f2- | awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g'; }

case "${1:-}" in
--modules)
    rows build | sed -n 's/.* pc:\(.*\)/\1/p' | tr '\n' ' ' | sed 's/ $//'; echo
    exit 0 ;;
--list)
    shift
    rows "$@" | awk '{print $2}' | packages_of; echo
    exit 0 ;;
--check)
    need=$(missing build)
    [ -z "$need" ] && exit 0
    echo "error: missing $(echo "$need" | whats_of) for the build (Debian: $(echo "$need" | packages_of)): run make deps" >&2
    exit 1 ;;
-h|--help)
    sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0 ;;
-*)
    echo "tools/deps.sh: unknown option $1 (--check, --modules, --list, --help)" >&2
    exit 2 ;;
esac

[ $# -gt 0 ] || set -- build
need=$(missing "$@")
[ -z "$need" ] && exit 0
pkgs=$(echo "$need" | packages_of)
line="apt-get install -y --no-install-recommends $pkgs"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing $(echo "$need" | whats_of); as root run: apt-get update && $line" >&2
    exit 1
fi
echo "installing $pkgs"
# RUNLEVEL=1: a package's service (nginx) is not started on :80.
export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs; } >/dev/null ||
    { echo "error: '$line' failed" >&2; exit 1; }
still=$(missing "$@")
[ -z "$still" ] ||
    { echo "error: installed $pkgs, still missing $(echo "$still" | whats_of)" >&2; exit 1; }
exit 0
