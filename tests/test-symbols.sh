#!/usr/bin/env bash
# abi/libgoose.symbols lists exactly the symbols the built library exports,
# each with a version no newer than this one; every symbol is declared in the
# public headers (a program that includes <goose.h> can take its address)
# and has a section-3 man page (a page or a .so alias) whose NAME names it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
symbols=abi/libgoose.symbols
so=$(ls "${GOOSE_BUILD:-build}"/libgoose.so.*.*.* | sort -V | tail -n 1) # the newest: an older build may linger
[ -f "$so" ] || { echo "no ${GOOSE_BUILD:-build}/libgoose.so.X.Y.Z: make lib"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "$*"; fail=1; }

ver=$(sed -n 's/^#define GOOSE_VERSION_STRING "\(.*\)"/\1/p' include/goose/version.h)
major=${ver%%.*}

# The header line: SONAME and package, as dpkg-gensymbols writes them.
head=$(grep -v '^#' "$symbols" | head -n 1)
[ "$head" = "libgoose.so.$major libgoose$major #MINVER#" ] ||
    bad "$symbols: first line is '$head', not 'libgoose.so.$major libgoose$major #MINVER#'"

# " name@NODE version" lines; the version a symbol came in is not newer than us.
grep -E '^ ' "$symbols" | while read -r sym since; do
    case "$sym" in *@*) ;; *) echo "$symbols: '$sym' has no @VERSION-NODE";; esac
    newest=$(printf '%s\n%s\n' "$since" "$ver" | sort -V | tail -n 1)
    [ "$newest" = "$ver" ] || echo "$symbols: $sym came in $since, newer than $ver"
done >"$work/lines"
[ -s "$work/lines" ] && { cat "$work/lines"; fail=1; }

# The file against nm -D (name@NODE, default versions only).
grep -E '^ ' "$symbols" | awk '{print $1}' | sort >"$work/listed"
# A version node shows as an absolute (A) symbol of its own name, which
# dpkg-gensymbols lists as NODE@NODE; an unversioned symbol would be NAME@Base.
nm -D --defined-only "$so" | awk '
    $2 == "A" && $3 !~ /@/ { print $3 "@" $3; next }
    { sub(/@@/, "@", $3); print ($3 ~ /@/ ? $3 : $3 "@Base") }' | sort >"$work/exported"
if ! diff -u "$work/listed" "$work/exported" >"$work/diff"; then
    echo "$symbols and nm -D $so differ (- only in the file, + only exported):"
    cat "$work/diff"; fail=1
fi

# Functions and variables: the names, without version nodes.
grep -E '^ ' "$symbols" | awk '{print $1}' | sed 's/@.*//' |
    grep -E '^(goose|gaggle)_' | sort -u >"$work/names"
[ -s "$work/names" ] || bad "no goose_/gaggle_ symbols in $symbols"

# Declared in the public headers: the compiler says so, not a grep.
{
    echo '#include <goose.h>'
    echo 'const void *const goose_symbol_check[] = {'
    sed 's/.*/    (const void *)\&&,/' "$work/names"
    echo '};'
} >"$work/decl.c"
if ! LC_ALL=C ${CC:-cc} -std=c11 -Wall -Werror -Iinclude -c "$work/decl.c" -o "$work/decl.o" 2>"$work/decl.log"; then
    echo "symbols not declared in include/goose.h:"
    grep -o "'[a-z_]*' undeclared" "$work/decl.log" | sort -u | sed 's/^/    /'
    grep -q undeclared "$work/decl.log" || cat "$work/decl.log"
    fail=1
fi
# ... and every GOOSE_API function of the headers is in the file.
grep -h -A2 '^GOOSE_API' include/goose.h include/goose/*.h |
    grep -o -E '\b(goose|gaggle)_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$work/declared"
missing=$(comm -23 "$work/declared" "$work/names")
[ -z "$missing" ] || bad "declared GOOSE_API but not in $symbols:" $missing

# A man page per symbol: man/man3/NAME.3, a page, or an alias (a symbolic
# link, which man -l opens from anywhere, or a ".so man3/PAGE.3" line) to a
# page that exists, whose NAME section names the symbol.
while read -r name; do
    page=man/man3/$name.3
    if [ ! -f "$page" ]; then bad "no man page man/man3/$name.3 (or a broken link)"; continue; fi
    target=$(sed -n 's/^\.so[ \t]\{1,\}//p' "$page" | head -n 1)
    if [ -n "$target" ]; then
        page=man/$target
        [ -f "$page" ] || { bad "man/man3/$name.3: .so $target, which does not exist"; continue; }
    fi
    awk '/^\.SH/ {s = ($2 == "NAME")} s' "$page" | sed 's/\\-/-/g' |
        grep -q -E "(^|[ ,])$name([ ,]|$)" || bad "$page: NAME does not name $name"
done <"$work/names"

# When dpkg-dev is at hand, dpkg-gensymbols itself agrees with the file.
if command -v dpkg-gensymbols >/dev/null 2>&1; then
    mkdir -p "$work/pkg/debian"
    printf 'Source: libgoose\n\nPackage: libgoose%s\nArchitecture: any\n' "$major" \
        >"$work/pkg/debian/control"
    (cd "$work/pkg" && dpkg-gensymbols -plibgoose"$major" -v"$ver" -e"$root/$so" \
        -I"$root/$symbols" -c4 -O"$work/gen.symbols") >"$work/gen.log" 2>&1 ||
        { echo "dpkg-gensymbols -c4 disagrees with $symbols:"; cat "$work/gen.log"; fail=1; }
fi

[ $fail -eq 0 ] || exit 1
echo "symbols ok: $(wc -l <"$work/names") functions in $symbols, exported, declared, each with a man page"
