#!/usr/bin/env bash
# make test-containers: examples/docker for real, with podman (root, runc,
# cgroupfs, the host's network; tests/containers/containers.conf).
#  1. debian:12 and debian:12-slim, made here with debootstrap from the
#     Debian mirror apt uses (no image registry is reachable) and `podman
#     import`ed under their docker.io names, so the Dockerfile's FROM lines
#     resolve without a pull; kept in podman's storage between runs;
#  2. examples/docker/Dockerfile built with `podman build` (both stages,
#     apt-get lines included, Dockerfile.dockerignore applied);
#     the image's root checked by tests/docker-check.py (libraries, wiring);
#  3. compose.yaml's Gaggle run as containers by tests/containers/compose.py:
#     target, Manager and Workers with the compose file's entrypoint,
#     GOOSE_* environment, healthchecks, start order and restart policy;
#     the Manager's JSON report must count exactly the requests that the
#     target's /stats counted, twice: the Workers come back for the second
#     test by their restart policy;
#  4. compose.serve.yaml's Gaggle that stays up, from the same image: two
#     tests over the Manager's controller on the same Worker containers,
#     each report exact, then shutdown: the Manager's restart policy brings
#     it back and the Workers join it again.
# Needs root and Debian's package mirror; prints how long each step took.
# The steps that wait on the mirror have a time limit (a stalled mirror
# fails the run with a FAIL line instead of hanging it).
set -eu -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${GOOSE_BUILD:-build}
mkdir -p "$build"
[ "$(id -u)" = 0 ] || { echo "make test-containers needs root (podman as root, debootstrap)" >&2; exit 1; }
sh tools/deps.sh containers
. tests/yaml-python.sh  # $py: a python3 that imports yaml (tools/deps.sh's py:yaml)
export CONTAINERS_CONF="$root/tests/containers/containers.conf"
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the tree
compose=examples/docker/compose.yaml
serve=examples/docker/compose.serve.yaml
DEBOOTSTRAP_TIMEOUT=900  # s
IMPORT_TIMEOUT=600       # s: tar | podman import of one root
BUILD_TIMEOUT=1200       # s: podman build, its apt-get lines included
# the base images are imported under these tags, and tagged debian:12 and
# debian:12-slim only when both imports succeeded
tmptag=localhost/goose-ct-debian-$$
export GOOSE_CONTAINERS_RUN="goose-ct-$$"  # the label of this run's containers
t0=$(date +%s)
step() { echo "---- $* ($(( $(date +%s) - t0 )) s)"; }
tmp= work= mnt=
cleanup() {
    if [ -n "$tmp" ]; then  # debootstrap may leave /proc mounted when it fails
        findmnt -rn -o TARGET | grep "^$tmp/" | sort -r | xargs -r -n1 umount -l || true
        rm -rf --one-file-system "$tmp"
    fi
    [ -z "$mnt" ] || podman image unmount "$image" >/dev/null 2>&1
    [ -z "$work" ] || rm -rf "$work"
    # a failed run's base images (by name: only untags one also tagged debian:12)
    podman rmi "$tmptag:12" >/dev/null 2>&1 || true
    podman rmi "$tmptag:12-slim" >/dev/null 2>&1 || true
    ids=$(podman ps -aq --filter "label=io.libgoose.test=$GOOSE_CONTAINERS_RUN" 2>/dev/null) &&
        [ -n "$ids" ] && podman rm -f -t 0 $ids >/dev/null 2>&1
    ids=$(podman volume ls -q --filter "label=io.libgoose.test=$GOOSE_CONTAINERS_RUN" 2>/dev/null) &&
        [ -n "$ids" ] && podman volume rm -f $ids >/dev/null 2>&1
    return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# "timed out" when status $1 is timeout(1)'s: the time limit fired
timed_out() { [ "$1" = 124 ] || [ "$1" = 137 ]; }
# bounded SECONDS LOG WHAT COMMAND...: runs COMMAND within SECONDS, its
# output in LOG; on failure the end of LOG and one FAIL line naming WHAT
bounded() {
    local limit=$1 log=$2 what=$3 rc=0
    shift 3
    timeout -k 30 "$limit" "$@" >"$log" 2>&1 || rc=$?
    [ $rc = 0 ] && return 0
    tail -n 30 "$log"
    if timed_out $rc; then
        echo "FAIL  $what: not done after $limit s (a stalled mirror?) (the whole log: $log)"
    else
        echo "FAIL  $what: status $rc (the whole log: $log)"
    fi
    return 1
}

# ---- 1. base images --------------------------------------------------------
# The mirror of the first "deb" source apt uses (deb822 or one-line format).
mirror() {
    local f u
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        u=$(awk '/^URIs:/ { print $2; exit }' "$f")
        case "$u" in */debian|*/debian/) echo "$u"; return;; esac
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        u=$(awk '$1 == "deb" && $2 !~ /^\[/ && $3 == "bookworm" { print $2; exit }' "$f")
        [ -n "$u" ] && { echo "$u"; return; }
    done
    echo http://deb.debian.org/debian
}

# import_root DIR TAG: the root DIR as the image TAG, within IMPORT_TIMEOUT;
# pipefail: a tar that fails (or is stopped) fails it, whatever podman
# import made of the truncated stream (TAG is a temporary one).
import_root() {
    local rc=0
    timeout -k 10 $IMPORT_TIMEOUT tar -C "$1" --one-file-system -c . |
        timeout -k 10 $IMPORT_TIMEOUT podman import -q --change 'CMD ["bash"]' - "$2" >/dev/null || rc=$?
    [ $rc = 0 ] && return 0
    if timed_out $rc; then
        echo "FAIL  tar | podman import $2: not done after $IMPORT_TIMEOUT s"
    else
        echo "FAIL  tar | podman import $2: status $rc"
    fi
    return 1
}

# debian:12 is a minbase root whose apt reads the host's Debian sources
# (bookworm, -updates, -security) as the official image does.  debian:12-slim
# is the same root made slim the way the official slim image is: dpkg told
# to leave out documentation, manuals and translations (but copyrights), and
# those already there removed.
base_images() {
    local rootfs m rc
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/goose-debian12.XXXXXX")
    rootfs=$tmp/root
    m=$(mirror)
    step "debootstrap --variant=minbase bookworm from $m"
    bounded $DEBOOTSTRAP_TIMEOUT "$tmp/debootstrap.log" "debootstrap from $m" \
        debootstrap --variant=minbase bookworm "$rootfs" "$m" || return 1
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
        rm -f "$rootfs/etc/apt/sources.list"
    fi
    # as in the official images (debuerreotype): no translations, lists kept
    # compressed
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    import_root "$rootfs" "$tmptag:12" || return 1
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/info/* \
        "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian/*
    import_root "$rootfs" "$tmptag:12-slim" || return 1
    podman tag "$tmptag:12" docker.io/library/debian:12
    podman tag "$tmptag:12-slim" docker.io/library/debian:12-slim
    podman untag "$tmptag:12" "$tmptag:12"
    podman untag "$tmptag:12-slim" "$tmptag:12-slim"
    rm -rf --one-file-system "$tmp"
    tmp=
}

if podman image exists docker.io/library/debian:12 && podman image exists docker.io/library/debian:12-slim; then
    step "debian:12 and debian:12-slim: made by an earlier run (podman rmi them to make them again)"
else
    base_images
fi

# ---- 2. the image ----------------------------------------------------------
mkdir -p "$build"
step "the image: podman build of $compose's build section"
bounded $BUILD_TIMEOUT "$build/containers-build.log" "podman build" \
    $py tests/containers/compose.py build "$compose" || exit 1
image=$($py -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["services"]["manager"]["image"])' "$compose")
echo "ok    image $image built ($(podman image inspect -f '{{.Size}}' "$image") bytes)"

# The image's own root (podman image mount): every library its programs need
# comes from a package the runtime stage installs, and it installs nothing
# else; the compose file's wiring against the image (tests/docker-check.py,
# as tests/test-docker.sh runs it on a replayed root).
step "the image's root: libraries and the compose file's wiring"
work=$(mktemp -d "${TMPDIR:-/tmp}/goose-containers.XXXXXX")
$py tests/containers/compose.py image-json "$compose" >"$work/rt.json"
mnt=$(podman image mount "$image")
rc=0
$py tests/docker-check.py libs "$mnt" "$work/rt.json" --chroot || rc=1
[ $rc = 0 ] && { $py tests/docker-check.py compose "$compose" "$mnt" "$work/rt.json" "$work" \
    --chroot --wiring-only || rc=1; }
[ $rc = 0 ] && { $py tests/docker-check.py compose "$serve" "$mnt" "$work/rt.json" "$work" \
    --chroot --wiring-only --serve || rc=1; }
podman image unmount "$image" >/dev/null && mnt=
[ $rc = 0 ] || exit 1

# ---- 3. the compose file's Gaggle --------------------------------------------
step "$compose as containers"
$py tests/containers/compose.py up "$compose"
step "$serve as containers"
$py tests/containers/compose.py up-serve "$serve"
step "done"
