#!/bin/sh
# The linker's version script for libgoose.so, written from
# abi/libgoose.symbols: exactly the symbols listed there leave the library,
# each in its version node; everything else (goose__ internals included)
# stays local.  The Makefile writes it to $(BUILD)/libgoose.map.
#   tools/symbols-map.sh abi/libgoose.symbols >build/libgoose.map
# A node's own line (GOOSE_0@GOOSE_0) only declares it; nodes come in the
# order of those lines, each one inheriting the one before.
set -eu
symbols=${1:?usage: tools/symbols-map.sh SYMBOLS-FILE}
awk '
/^ / {
    split($1, s, "@")
    if (s[2] == "") { printf "%s: %s has no @VERSION-NODE\n", FILENAME, $1 > "/dev/stderr"; bad = 1; next }
    if (s[1] == s[2]) { if (!(s[2] in seen)) { seen[s[2]] = 1; order[++n] = s[2] }; next }
    names[s[2]] = names[s[2]] "        " s[1] ";\n"
}
END {
    if (bad) exit 1
    for (node in names)
        if (!(node in seen)) { printf "%s: no %s@%s line for the node\n", FILENAME, node, node > "/dev/stderr"; exit 1 }
    if (n == 0) { printf "%s: no symbols\n", FILENAME > "/dev/stderr"; exit 1 }
    print "/* Written by tools/symbols-map.sh from " FILENAME ": edit that file. */"
    for (i = 1; i <= n; i++) {
        printf "%s {\n    global:\n%s", order[i], names[order[i]]
        if (i == 1) printf "    local:\n        *;\n"
        printf "}%s;\n", (i > 1 ? " " order[i - 1] : "")
    }
}' "$symbols"
