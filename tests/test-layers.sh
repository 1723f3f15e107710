#!/usr/bin/env bash
# The layers of lib/ (lib/LAYERS) hold: no file includes a header of a
# later layer, no object file takes a symbol from a later layer's objects,
# the folder graph has no circle, and every folder of lib/ is listed.
set -eu
build=${GOOSE_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v nm >/dev/null || { echo "skip: nm (binutils) is not installed"; exit 77; }
GOOSE_OBJ=$build/obj/lib python3 - <<'PY'
import os, re, subprocess, sys

def layers(path="lib/LAYERS"):
    order = []
    for line in open(path):
        word = line.split("#", 1)[0].split()
        if word:
            order.append(word[0])
    return {name: rank for rank, name in enumerate(order)}

def folder(path):  # "lib/run/collect.c" -> "run", "lib/cli.c" -> "."
    parts = path.split("/")[1:]
    return parts[0] if len(parts) > 1 else "."

rank = layers()
problems = []
edges = {}  # folder -> {folder: "why"}

sources = []
for dirpath, dirs, files in os.walk("lib"):
    dirs.sort()
    for f in sorted(files):
        if f.endswith((".c", ".h", ".S")):
            sources.append(os.path.join(dirpath, f))
for d in sorted({folder(s) for s in sources}):
    if d not in rank:
        problems.append(f"lib/{d}/ is not in lib/LAYERS")

for src in sources:
    here = folder(src)
    for n, line in enumerate(open(src, encoding="utf-8"), 1):
        if not re.match(r'\s*#\s*include', line):
            continue
        m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
        if not m:
            problems.append(f"{src}:{n}: an include that is not a literal path")
            continue
        quoted, inc = m.group(1) == '"', m.group(2)
        lib_header = os.path.exists(os.path.join("lib", inc))
        if not quoted and not lib_header:
            continue  # a system header
        if ".." in inc or not lib_header:
            problems.append(f"{src}:{n}: \"{inc}\" is not a path under lib/")
            continue
        there = folder("lib/" + inc)
        if there != here:
            edges.setdefault(here, {}).setdefault(there, f"{src}:{n} includes {inc}")

# Symbols: who defines each, and who takes it.
obj_root = os.environ["GOOSE_OBJ"]
defined, wanted = {}, []
for dirpath, dirs, files in os.walk(obj_root):
    for f in files:
        if not f.endswith(".o"):
            continue
        obj = os.path.join(dirpath, f)
        stem = "lib/" + os.path.relpath(obj, obj_root)[:-2]
        src = next((stem + ext for ext in (".c", ".S") if stem + ext in sources), None)
        if not src:
            continue  # left by a file that moved or went: not in the library
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for l in out.splitlines():
            parts = l.split()
            if len(parts) == 3 and parts[1] in "TDBRV":
                if parts[2] in defined:
                    problems.append(f"{parts[2]} is defined in {defined[parts[2]]} and {src}")
                defined[parts[2]] = src
            elif len(parts) == 2 and parts[0] == "U":
                wanted.append((src, parts[1]))
if not defined:
    problems.append(f"no object files under {obj_root}: build the library first")
for src, sym in wanted:
    if sym in defined:
        a, b = folder(src), folder(defined[sym])
        if a != b:
            edges.setdefault(a, {}).setdefault(b, f"{src} calls {sym} ({defined[sym]})")

for a, outs in sorted(edges.items()):
    for b, why in sorted(outs.items()):
        if a in rank and b in rank and rank[b] > rank[a]:
            problems.append(f"{why}: {a}/ may not use the later layer {b}/")

# A circle in the folder graph (also one the list's order would allow).
state = {}
def visit(node, path):
    state[node] = 1
    for nxt in sorted(edges.get(node, {})):
        if state.get(nxt) == 1:
            cycle = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
            problems.append("folder circle: " + " -> ".join(cycle))
        elif not state.get(nxt):
            visit(nxt, path + [nxt])
    state[node] = 2
for node in sorted(edges):
    if not state.get(node):
        visit(node, [node])

for p in problems:
    print("FAIL layers:", p)
if problems:
    sys.exit(1)
print(f"ok      layers: {len(sources)} files in {len(rank)} layers, {sum(len(v) for v in edges.values())} folder edges, no circle")
PY
