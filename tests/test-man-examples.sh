#!/usr/bin/env bash
# Every section-3 man page's EXAMPLE compiles.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash "$root/tests/extract-man-examples.sh" "$root/include" "$out"

# Section 7: the C program of an EXAMPLE (its first .nf block, when that
# includes <goose.h>; the blocks after it are shell) compiles too.
for page in "$root"/man/man7/*.7; do
    name=$(basename "$page" .7)
    awk '
        /^\.SH[ \t]/ { ex = ($2 == "EXAMPLE" || $2 == "EXAMPLES"); next }
        ex && /^\.(nf|EX)([ \t]|$)/ && !done { on = 1; next }
        on && /^\.(fi|EE)([ \t]|$)/ { on = 0; done = 1; next }
        on { print }
    ' "$page" | sed -e 's/\\e/\x01/g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" \
                    -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\x01/\\/g' >"$out/$name.7.c"
    grep -q '#include <goose.h>' "$out/$name.7.c" || continue
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$root/include" -c "$out/$name.7.c" \
        -o "$out/$name.7.o" || { echo "FAIL    $name(7): its EXAMPLE does not compile"; exit 1; }
    echo "ok      $name(7)"
done
