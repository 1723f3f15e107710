#!/usr/bin/env bash
# Every man page's EXAMPLE compiles, links against the library and runs
# against the bundled target on 127.0.0.1, as a reader would try it.
#
# A program is run with GOOSE_HOST (the target), GOOSE_USERS=2,
# GOOSE_HATCH_RATE=100 and GOOSE_RUN_TIME=1s in its environment, for at
# most 60 s, and must exit 0.  roff comments in its EXAMPLE section say
# otherwise, each line one of:
#   .\" run: ARGS       a run with these arguments (one per line; none:
#                       one run without arguments)
#   .\" exit: N         the last run exits N
#   .\" stdout: TEXT    the last run prints TEXT (a fixed string)
#   .\" stderr: TEXT    ... on standard error
#   .\" env: VAR=VALUE  for every run of the page (VAR= unsets a default)
#   .\" no-run: WHY     the example cannot run on its own (WHY is printed)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GOOSE_BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=$(mktemp -d)
target_pid=
trap '[ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null; rm -rf "$out"' EXIT
# Every page opens from the source tree, as a reader tries it before
# installing: groff reads ".so" (and man -l, which behaves alike) from the
# current folder, so an alias is a symbolic link to its family's page.
command -v groff >/dev/null 2>&1 || { echo "groff missing (Debian package groff-base)"; exit 1; }
for page in "$root"/man/man3/*.3 "$root"/man/man7/*.7; do
    rel=${page#"$root"/}
    err=$(cd "$root" && groff -man -Tutf8 "$rel" 2>&1 >"$out/page.txt") || err="$err (exit $?)"
    if [ -n "$err" ] || ! grep -q "libgoose Manual" "$out/page.txt"; then
        echo "FAIL    groff -man $rel from the top folder: ${err:-not a libgoose page}"; exit 1
    fi
done
if command -v man >/dev/null 2>&1; then
    err=$(cd "$root" && man -l man/man3/goose_post.3 2>&1 >"$out/page.txt") || true
    grep -q goose_post "$out/page.txt" ||
        { echo "FAIL    man -l man/man3/goose_post.3: $err"; exit 1; }
fi
echo "ok      every page opens from the tree (groff -man, man -l)"

# A quoted text in the arguments of an alternating font macro stays one
# argument: `.BR \(dqGET /:p95<200ms\(dq ,` prints "GET/:p95<200ms" (the
# space ends an argument) where `.BR "\(dqGET /:p95<200ms\(dq" ,` is meant.
python3 - "$root"/man/man3/*.3 "$root"/man/man7/*.7 <<'PY' || exit 1
import re, sys

def roff_args(text):
    """Macro arguments as roff splits them: spaces, or "..." with "" inside."""
    args, i = [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
        elif text[i] == '"':
            j, arg = i + 1, ""
            while j < len(text) and not (text[j] == '"' and text[j + 1:j + 2] != '"'):
                arg += text[j]
                j += 2 if text[j] == '"' else 1
            args.append(arg)
            i = j + 1
        else:
            j = text.find(" ", i)
            j = len(text) if j < 0 else j
            args.append(text[i:j])
            i = j
    return args

bad = []
for path in sys.argv[1:]:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = re.match(r'^\.(BR|RB|BI|IB|IR|RI)[ \t]+(.*)$', line.rstrip("\n"))
        if m and any(a.count(r"\(dq") % 2 for a in roff_args(m.group(2))):
            bad.append(f"{path.split('/man/')[-1]}:{n}: a \\(dq...\\(dq text spans two "
                       f"arguments (put it in double quotes): {line.strip()}")
print("\n".join(bad) if bad else "ok      quoted texts in font macros stay whole")
sys.exit(1 if bad else 0)
PY
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

# ---- run them ----
[ -x "$build/goose-target" ] || { echo "no $build/goose-target: make target"; exit 1; }
libdir=$(cd "$build" && pwd)
[ -e "$libdir/libgoose.so" ] || { echo "no $build/libgoose.so: make lib"; exit 1; }
"$build/goose-target" --port-file "$out/port" >/dev/null 2>&1 &
target_pid=$!
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.05; done
port=$(cat "$out/port")

markers() { # page -> its marker lines "KEY VALUE", in order
    awk '
        /^\.SH[ \t]/ { head = $0; sub(/^\.SH[ \t]+/, "", head); gsub(/"/, "", head)
                       ex = (head == "EXAMPLE" || head == "EXAMPLES"); next }
        ex && /^\.\\" (run|exit|stdout|stderr|env|no-run):/ {
            line = $0; sub(/^\.\\" /, "", line); sub(/:[ ]?/, " ", line); print line }
    ' "$1"
}

failed=() ran=0 skipped=0
check_run() { # name, args, exit, stdout..., -- stderr... (arrays via globals)
    local name=$1 args=$2 want=$3 log=$out/$name.run
    local envs=(GOOSE_HOST="http://127.0.0.1:$port" GOOSE_USERS=2 GOOSE_HATCH_RATE=100
                GOOSE_RUN_TIME=1s "${page_env[@]}")
    local rc=0
    # shellcheck disable=SC2086
    (cd "$out" && ulimit -v 4194304 && exec env "${envs[@]}" timeout -k 5 60 ./"$name" $args) \
        >"$log.out" 2>"$log.err" </dev/null || rc=$?
    local bad=
    [ "$rc" = "$want" ] || bad="exit $rc, not $want"
    for t in "${want_out[@]}"; do
        grep -q -F -- "$t" "$log.out" || bad="${bad:+$bad; }no \"$t\" on stdout"
    done
    for t in "${want_err[@]}"; do
        grep -q -F -- "$t" "$log.err" || bad="${bad:+$bad; }no \"$t\" on stderr"
    done
    if [ -n "$bad" ]; then
        echo "FAIL    $name ${args:+($args) }runs: $bad"
        tail -n 5 "$log.out" "$log.err" | sed 's/^/        /'
        failed+=("$name")
    else
        echo "ran     $name${args:+ $args} (exit $rc)"
        ran=$((ran + 1))
    fi
}

run_page() { # page, program name (already compiled to $out/NAME.o or .7.o)
    local page=$1 name=$2 obj=$3
    page_env=() want_out=() want_err=()
    local runs=() exits=() outs=() errs=() why=
    local key value
    while read -r key value; do
        case $key in
            no-run) why=$value ;;
            env) page_env+=("$value") ;;
            run) runs+=("$value"); exits+=(0); outs+=(""); errs+=("") ;;
            exit) exits[${#runs[@]}-1]=$value ;;
            stdout) [ ${#runs[@]} -gt 0 ] || { runs+=(""); exits+=(0); outs+=(""); errs+=(""); }
                    outs[${#runs[@]}-1]+="$value"$'\n' ;;
            stderr) [ ${#runs[@]} -gt 0 ] || { runs+=(""); exits+=(0); outs+=(""); errs+=(""); }
                    errs[${#runs[@]}-1]+="$value"$'\n' ;;
        esac
    done < <(markers "$page")
    if [ -n "$why" ]; then
        echo "no-run  $name: $why"
        skipped=$((skipped + 1))
        return
    fi
    if ! ${CC:-cc} "$obj" -o "$out/$name" -L"$libdir" -Wl,-rpath,"$libdir" -lgoose \
            2>"$out/$name.link.log"; then
        echo "FAIL    $name: does not link"; cat "$out/$name.link.log"; failed+=("$name"); return
    fi
    [ ${#runs[@]} -gt 0 ] || { runs=(""); exits=(0); outs=(""); errs=(""); }
    for i in "${!runs[@]}"; do
        mapfile -t want_out < <(printf '%s' "${outs[$i]}")
        mapfile -t want_err < <(printf '%s' "${errs[$i]}")
        check_run "$name" "${runs[$i]}" "${exits[$i]}"
    done
}

for page in "$root"/man/man3/*.3; do
    [ -L "$page" ] && continue
    grep -q '^\.so[ \t]' "$page" && continue
    name=$(basename "$page" .3)
    run_page "$page" "$name" "$out/$name.o"
done
for page in "$root"/man/man7/*.7; do
    name=$(basename "$page" .7)
    [ -f "$out/$name.7.o" ] || continue
    run_page "$page" "$name.7" "$out/$name.7.o"
done
echo "$ran example runs as documented, $skipped examples that cannot run alone"
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
