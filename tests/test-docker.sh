#!/usr/bin/env bash
# examples/docker without a Docker engine (none runs on the machines this
# suite runs on, and no image registry is reachable), so no image is built:
#  1. the Dockerfile's build stage, replayed with its own commands in a
#     temporary root (tests/dockerfile-replay.py): the same COPY steps from
#     the tree filtered by Dockerfile.dockerignore, the same make and cc
#     lines; its apt-get line is checked against the installed packages;
#  2. the runtime stage's COPY --from, then every library its programs need
#     (objdump -p, ldd) must come from a package its apt-get line installs
#     (dpkg -S), and it installs nothing else (tests/docker-check.py libs);
#  3. compose.yaml's wiring, then its target, Manager and three Workers run
#     on 127.0.0.1 through the image's ENTRYPOINT with its GOOSE_* variables
#     (tests/docker-check.py compose); then compose.serve.yaml's, the Gaggle
#     that stays up: two tests over its controller on the same three serving
#     Workers, each report exact against the target's counts, shutdown
#     (tests/docker-check.py compose --serve).
# Where podman runs containers (root, and the debian:12-slim image that
# `make test-containers` made), this test skips after the first check:
# make test-containers builds the image and runs compose.yaml for real, and
# this replay is the fallback where podman cannot run (GOOSE_DOCKER_REPLAY=1
# runs it anyway).
# GOOSE_DOCKER_CHROOT=1 does the same in Debian 12 roots made by
# debootstrap, where both stages' apt-get lines run for real and the
# programs run as the image's USER in a root holding only the runtime
# stage (root, Debian's package mirror, a few minutes; not in make check).
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. tests/yaml-python.sh
for tool in objdump ldd dpkg dpkg-query; do
    command -v $tool >/dev/null || { echo "skipped: no $tool here"; exit 77; }
done
df=examples/docker/Dockerfile
work=$(mktemp -d)
mounts=()
cleanup() {
    for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

replay() { $py tests/dockerfile-replay.py "$df" . "$@"; }

# The build stage installs what tools/deps.sh asks a developer for.
deps=$(sh tools/deps.sh --list build)
apt_line=$(sed -n '/^FROM .* AS build/,/^FROM /p' "$df" | grep -c "apt-get install" || true)
[ "$apt_line" = 1 ] || { echo "the build stage should have one apt-get install"; exit 1; }
for p in $deps; do
    sed -n '/^FROM .* AS build/,/^FROM /p' "$df" | grep -qw -- "$p" ||
        { echo "the build stage does not install $p (tools/deps.sh needs it)"; exit 1; }
done
echo "ok    the build stage installs every package of tools/deps.sh"

if [ -z "${GOOSE_DOCKER_CHROOT:-}${GOOSE_DOCKER_REPLAY:-}" ] && [ "$(id -u)" = 0 ] &&
   command -v podman >/dev/null &&
   CONTAINERS_CONF="$root/tests/containers/containers.conf" timeout 60 podman run --rm \
       --pull=never --network host docker.io/library/debian:12-slim true >/dev/null 2>&1; then
    echo "skipped: podman runs containers here, so make test-containers builds and runs examples/docker" \
        "for real; this replay is the fallback where podman cannot (GOOSE_DOCKER_REPLAY=1 runs it)"
    exit 77
fi

if [ -z "${GOOSE_DOCKER_CHROOT:-}" ]; then
    replay build "$work/build" >"$work/build.json"
    replay 1 "$work/rt" --stage-root build="$work/build" --no-run >"$work/rt.json"
    echo "ok    build stage replayed; runtime stage's COPY --from done (its RUN lines not run here)"
    $py tests/docker-check.py libs "$work/rt" "$work/rt.json"
    # a load test that links libevent itself needs nothing more either
    replay build "$work/build2" --build-arg LOADTEST=examples/embedded_worker.c >/dev/null
    replay 1 "$work/rt2" --stage-root build="$work/build2" --no-run >"$work/rt2.json"
    $py tests/docker-check.py libs "$work/rt2" "$work/rt2.json" >"$work/libs2.log" ||
        { grep -v "^ok" "$work/libs2.log"; exit 1; }
    echo "ok    LOADTEST=examples/embedded_worker.c: the same runtime packages suffice"
    mkdir "$work/run"
    $py tests/docker-check.py compose examples/docker/compose.yaml "$work/rt" "$work/rt.json" "$work/run"
    mkdir "$work/serve"
    $py tests/docker-check.py compose examples/docker/compose.serve.yaml "$work/rt" "$work/rt.json" \
        "$work/serve" --serve
    exit 0
fi

# ---- GOOSE_DOCKER_CHROOT=1: both stages in Debian 12 roots ----
[ "$(id -u)" = 0 ] || { echo "skipped: GOOSE_DOCKER_CHROOT needs root (chroot)"; exit 77; }
command -v debootstrap >/dev/null || sh tools/deps.sh debootstrap
base=$build/debian12-minbase.tar  # debian:12 and debian:12-slim are minbase roots
if [ ! -s "$base" ]; then
    mkdir -p "$work/base" "$build"
    debootstrap --variant=minbase bookworm "$work/base" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log"; exit 1; }
    tar -C "$work/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
    rm -rf "$work/base"
fi
for r in build rt; do
    mkdir "$work/$r"
    tar -C "$work/$r" -xf "$base"
    cp /etc/resolv.conf "$work/$r/etc/resolv.conf"
    mount -t proc proc "$work/$r/proc" && mounts+=("$work/$r/proc")
done
replay build "$work/build" --chroot >"$work/build.json"
replay 1 "$work/rt" --chroot --stage-root build="$work/build" >"$work/rt.json"
echo "ok    both stages built in Debian 12 roots, apt-get lines included"
$py tests/docker-check.py libs "$work/rt" "$work/rt.json" --chroot
mkdir "$work/run"
$py tests/docker-check.py compose examples/docker/compose.yaml "$work/rt" "$work/rt.json" "$work/run" --chroot
mkdir "$work/serve"
$py tests/docker-check.py compose examples/docker/compose.serve.yaml "$work/rt" "$work/rt.json" \
    "$work/serve" --chroot --serve
