#!/usr/bin/env bash
# Every section-3 man page's EXAMPLE compiles.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash "$root/tests/extract-man-examples.sh" "$root/include" "$out"
