#!/bin/sh
# Checks the build dependencies with pkg-config.  As root with apt-get it
# installs what is missing; otherwise it stops with the line to run.
#   tools/deps.sh [extra-debian-package...]
set -u
modules="libcurl libevent libevent_pthreads libevent_openssl msgpack openssl jansson"
packages="libcurl4-openssl-dev libevent-dev libmsgpack-dev libssl-dev libjansson-dev pkg-config"
extra="$*"

missing_modules() {
    command -v pkg-config >/dev/null 2>&1 || { echo pkg-config; return; }
    for m in $modules; do
        pkg-config --exists "$m" || echo "$m"
    done
}

missing_packages() {
    for p in $packages $extra; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
    done
}

need=$(missing_modules)
[ -z "$need" ] && [ -z "$extra" ] && exit 0
pkgs=$(missing_packages | tr '\n' ' ')
[ -z "$need" ] && [ -z "$pkgs" ] && exit 0
pkgs=${pkgs:-$packages}
line="apt-get install -y $pkgs"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing build dependencies: $pkgs"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq $pkgs; } >/dev/null ||
        { echo "error: '$line' failed" >&2; exit 1; }
    exit 0
fi
echo "error: missing build dependencies (${need:-$pkgs}); run: sudo $line" >&2
exit 1
