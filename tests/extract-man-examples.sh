#!/usr/bin/env bash
# Extracts the EXAMPLE of every section-3 man page and compiles it.
#   tests/extract-man-examples.sh INCLUDE_DIR OUTDIR [MAN3_DIR]
# The example is the text between ".SH EXAMPLE" and the next ".SH", inside
# .nf/.fi (or .EX/.EE).  Roff escapes are undone (\e \- \(aq \(dq \&), the
# result is written to OUTDIR/<page>.c and compiled with
#   ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I INCLUDE_DIR -c
# (compile only: no library needed; EXAMPLE_CFLAGS adds flags).  Alias pages
# (a symbolic link to the page of their family, or a ".so" line) are
# skipped.  Exits 1 listing the pages whose example is
# missing or does not compile.
set -u
usage="usage: tests/extract-man-examples.sh INCLUDE_DIR OUTDIR [MAN3_DIR]"
include=${1:?$usage}
outdir=${2:?$usage}
here=$(cd "$(dirname "$0")/.." && pwd)
man3=${3:-$here/man/man3}
cc=${CC:-cc}

[ -f "$include/goose.h" ] || { echo "no goose.h in $include" >&2; exit 2; }
mkdir -p "$outdir" || exit 2

extract() { # page -> C source on stdout; fails when there is no example
    awk '
        /^\.SH[ \t]/ {
            head = $0
            sub(/^\.SH[ \t]+/, "", head)
            gsub(/"/, "", head)
            sub(/[ \t]+$/, "", head)
            in_section = (head == "EXAMPLE" || head == "EXAMPLES")
            in_block = 0
            next
        }
        !in_section { next }
        /^\.(nf|EX)([ \t]|$)/ { in_block = 1; found = 1; next }
        /^\.(fi|EE)([ \t]|$)/ { in_block = 0; next }
        in_block && /^\.\\"/ { next }
        in_block { print }
        END { exit found ? 0 : 1 }
    ' "$1" | sed -e 's/\\e/\x01/g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" \
                 -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\x01/\\/g'
    return "${PIPESTATUS[0]}"
}

pages=0 passed=0 bad=()
for page in "$man3"/*.3; do
    [ -f "$page" ] || continue
    name=$(basename "$page" .3)
    [ -L "$page" ] && continue
    grep -q '^\.so[ \t]' "$page" && continue
    pages=$((pages + 1))
    src="$outdir/$name.c"
    if ! extract "$page" >"$src" || ! [ -s "$src" ]; then
        echo "MISSING $name (no EXAMPLE block between .nf/.fi or .EX/.EE)"
        bad+=("$name")
        continue
    fi
    # shellcheck disable=SC2086
    if "$cc" -std=c11 -Wall -Wextra -Werror ${EXAMPLE_CFLAGS:-} \
            -I"$include" -c "$src" -o "$outdir/$name.o" \
            2>"$outdir/$name.log"; then
        passed=$((passed + 1))
        echo "ok      $name"
    else
        echo "FAIL    $name (see $outdir/$name.log)"
        sed 's/^/        /' "$outdir/$name.log" | head -n 20
        bad+=("$name")
    fi
done

if [ "$pages" -eq 0 ]; then
    echo "no man pages in $man3" >&2
    exit 1
fi
echo "$passed of $pages examples compile"
if [ "${#bad[@]}" -gt 0 ]; then
    echo "failed: ${bad[*]}"
    exit 1
fi
exit 0
