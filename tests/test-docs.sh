#!/usr/bin/env bash
# The reference pages cover what the library offers:
# - every option of the option table (lib/config/options.c, as --help of an example
#   prints it) is an item of OPTIONS in goose(7) or gaggle(7), with its short
#   flag, and "not supported yet" there exactly when --help says so;
# - exit statuses 0, 1 and 2 are items of EXIT STATUS in goose(7) and gaggle(7);
# - every GOOSE_E* code of goose.h is an item of goose_strerror(3) with its
#   value, and every enumerator of a public enum appears in section 3;
# - README.md links goose(7) and gaggle(7).
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
help=$("$build/examples/quickstart" --help)
GOOSE_HELP=$help python3 - <<'PY'
import os, re, sys

problems = []

def unroff(s):
    s = re.sub(r'\\f[BIRP]|\\f\(..|\\&|\\%', '', s)
    s = s.replace('\\-', '-').replace('\\(dq', '"').replace('\\(aq', "'")
    s = s.replace('\\(lq', '"').replace('\\(rq', '"').replace('\\e', '\\')
    return re.sub(r'^\.[A-Z]{1,2}\s*', '', s).replace('"', '')

def sections(path):
    """{section name: [(tag, body)]} for every .TP item of every .SH."""
    out, sec, item = {}, None, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            sec, item = m.group(1).strip(), None
            out.setdefault(sec, [])
            continue
        if sec is None:
            continue
        if line.startswith(".TP"):
            item = "tag"
            continue
        if item == "tag":
            out[sec].append([unroff(line), ""])
            item = "body"
            continue
        if re.match(r'^\.(SS|PP|LP|P)\b', line):
            item = None
            continue
        if item == "body":
            out[sec][-1][1] += " " + unroff(line)
    return out

pages = {p: sections(f"man/man7/{p}.7") for p in ("goose", "gaggle")}

# --- options: --help against the option table, then against the pages ---
helped = {}
for line in os.environ["GOOSE_HELP"].splitlines():
    m = re.match(r'^\s+(?:-(\w), )?--([a-z0-9-]+)\b(.*)$', line)
    if m:
        helped[m.group(2)] = (m.group(1), "(not supported yet)" in m.group(3))
table = {}
for m in re.finditer(r'\{\{"([a-z0-9-]+)", (?:\'(.)\'|0),', open("lib/config/options.c").read()):
    table[m.group(1)] = m.group(2)
if not helped or not table:
    problems.append(f"found {len(helped)} options in --help, {len(table)} in lib/config/options.c")
for name in sorted(set(table) ^ set(helped)):
    problems.append(f"--{name}: in {'lib/config/options.c' if name in table else '--help'} only")
for name, short in table.items():
    if name in helped and helped[name][0] != short:
        problems.append(f"--{name}: short flag -{short} in lib/config/options.c, -{helped[name][0]} in --help")

items = [(p, tag, body) for p, secs in pages.items() for tag, body in secs.get("OPTIONS", [])]
for name, (short, unsupported) in sorted(helped.items()):
    mine = [(p, tag, body) for p, tag, body in items
            if re.search(r'(^|[\s,])--' + re.escape(name) + r'(?![\w-])', tag)]
    if not mine:
        problems.append(f"--{name}: no item in OPTIONS of goose(7) or gaggle(7)")
        continue
    for p, tag, body in mine:
        if short and not re.search(r'(^|[\s,])-' + short + r'\b', tag):
            problems.append(f"--{name}: {p}(7) does not give its short flag -{short}")
        says = "not supported yet" in body.lower()
        if says != unsupported:
            why = (f"--{name}: {p}(7) says " +
                   ("not supported yet, --help does not" if says else
                    "nothing of not supported yet, --help does"))
            problems.append(why)

# --- exit statuses ---
for p, secs in pages.items():
    tags = {tag.strip() for tag, _ in secs.get("EXIT STATUS", [])}
    for status in ("0", "1", "2"):
        if status not in tags:
            problems.append(f"{p}(7): EXIT STATUS has no item for {status}")
    extra = {t for t in tags if t.isdigit()} - {"0", "1", "2"}
    if extra:
        problems.append(f"{p}(7): EXIT STATUS documents {sorted(extra)}, which goose_main never returns")

# --- error codes and public enums ---
header = open("include/goose.h").read()
strerror_tags = [tag for tag, _ in sections("man/man3/goose_strerror.3").get("DESCRIPTION", [])]
codes = dict(re.findall(r'\b(GOOSE_(?:OK|E[A-Z]+))\s*=\s*(-?\d+)', header))
if len(codes) < 2:
    problems.append("no GOOSE_E* codes found in include/goose.h")
for name, value in codes.items():
    if not any(re.search(r'\b' + name + r'\b\s*\(' + value + r'\)', t) for t in strerror_tags):
        problems.append(f"goose_strerror(3): no item '{name} ({value})'")
for t in strerror_tags:
    m = re.search(r'\b(GOOSE_\w+)', t)
    if m and m.group(1) not in codes:
        problems.append(f"goose_strerror(3): documents {m.group(1)}, not in goose.h")

import glob
man3 = "".join(unroff(l) for f in sorted(glob.glob("man/man3/*.3")) for l in open(f, encoding="utf-8"))
for body in re.findall(r'typedef enum \w+ \{(.*?)\}', header, re.S):
    for name in re.findall(r'^\s*(GOOSE_\w+)', body, re.M):
        if not re.search(r'\b' + name + r'\b', man3):
            problems.append(f"{name}: in no section-3 man page")

# --- no control character in a page (a "\\f" written as a form feed) ---
for f in sorted(glob.glob("man/man*/*.[0-9]")) + ["README.md"]:
    for n, l in enumerate(open(f, encoding="utf-8"), 1):
        bad = [c for c in l.rstrip("\n") if ord(c) < 32 and c != "\t"]
        if bad:
            problems.append(f"{f}:{n}: control character {ord(bad[0]):#04x}")

# --- README links the overview pages ---
readme = open("README.md", encoding="utf-8").read()
for p in ("goose", "gaggle"):
    if f"](man/man7/{p}.7)" not in readme:
        problems.append(f"README.md has no link to man/man7/{p}.7")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"docs ok: {len(helped)} options, exit statuses 0-2, {len(codes)} error codes")
PY
