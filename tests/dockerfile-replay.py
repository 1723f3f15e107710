#!/usr/bin/env python3
"""Replays one stage of a Dockerfile without Docker, for tests/test-docker.sh.

  dockerfile-replay.py DOCKERFILE CONTEXT STAGE ROOT [options]

STAGE is a stage's name or index.  ROOT stands for the stage's "/".  FROM,
ARG, ENV, WORKDIR, COPY (also --from=STAGE, with --stage-root NAME=DIR) and
RUN are carried out; USER, EXPOSE, ENTRYPOINT, CMD and the like are only
reported.  The context is filtered by DOCKERFILE.dockerignore (or the
context's .dockerignore) as BuildKit does.  Two ways to run a RUN:
  host mode (default): `sh -ec` in ROOT+WORKDIR; ENV values that are
    absolute paths are moved under ROOT, so the commands write nothing
    outside ROOT.  A RUN holding `apt-get install` is not run: its packages
    must be installed here already (dpkg-query), and are reported.
    --no-run skips every other RUN too (a stage whose RUNs touch "/").
  --chroot: ROOT is a Debian root file system; RUN runs in it as root with
    `chroot`, apt-get included.
Prints a JSON summary on stdout: per stage its base, packages, user,
entrypoint, cmd, exposed ports and what it copied from other stages.
"""
import argparse, glob, json, os, re, shlex, shutil, subprocess, sys

CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"  # sbin may be off PATH


def logical_lines(path):
    """(line number, instruction, arguments) with continuations joined."""
    out, buf, start = [], "", 0
    for n, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.rstrip("\n")
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((start, word.upper(), rest.strip()))
        buf = ""
    return out


def stages_of(path):
    stages = []
    for n, ins, rest in logical_lines(path):
        if ins == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            stages.append({"base": m.group(1), "name": m.group(2), "lines": []})
        elif stages:
            stages[-1]["lines"].append((n, ins, rest))
        elif ins != "ARG":
            sys.exit(f"line {n}: {ins} before FROM")
    return stages


def expand(s, env):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)",
                  lambda m: env.get(m.group(1) or m.group(2), ""), s)


def ignore_patterns(dockerfile, context):
    for f in (dockerfile + ".dockerignore", os.path.join(context, ".dockerignore")):
        if os.path.exists(f):
            lines = [l.strip() for l in open(f) if l.strip() and not l.startswith("#")]
            return [l.rstrip("/") for l in lines]
    return []


def glob_re(pat):
    out, i = "", 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out += "(?:.*/)?"; i += 3
        elif pat.startswith("**", i):
            out += ".*"; i += 2
        elif pat[i] == "*":
            out += "[^/]*"; i += 1
        elif pat[i] == "?":
            out += "[^/]"; i += 1
        else:
            out += re.escape(pat[i]); i += 1
    return re.compile(out + "$")


def ignored(rel, pats):
    """Last matching pattern wins; a match on a parent directory counts."""
    parts = rel.split("/")
    paths = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    result = False
    for p in pats:
        neg = p.startswith("!")
        rx = glob_re(p.lstrip("!").lstrip("/"))
        if any(rx.match(x) for x in paths):
            result = not neg
    return result


def copy_into(src, dest, dest_is_dir):
    """Docker COPY: a directory's contents, a file into a directory or as a file."""
    if os.path.isdir(src) and not os.path.islink(src):
        os.makedirs(dest, exist_ok=True)
        for name in os.listdir(src):
            copy_into(os.path.join(src, name), os.path.join(dest, name), False)
        return
    target = os.path.join(dest, os.path.basename(src)) if dest_is_dir else dest
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        os.remove(target)
    shutil.copy2(src, target, follow_symlinks=False)


def apt_packages(cmd):
    pkgs = []
    for m in re.finditer(r"apt-get\s+install((?:\s+[^&;|]+)*)", cmd):
        pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    return pkgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dockerfile"); ap.add_argument("context")
    ap.add_argument("stage"); ap.add_argument("root")
    ap.add_argument("--build-arg", action="append", default=[])
    ap.add_argument("--stage-root", action="append", default=[])
    ap.add_argument("--chroot", action="store_true")
    ap.add_argument("--no-run", action="store_true")
    a = ap.parse_args()

    stages = stages_of(a.dockerfile)
    idx = next((i for i, s in enumerate(stages) if s["name"] == a.stage), None)
    if idx is None:
        idx = int(a.stage)
    stage = stages[idx]
    roots = dict(x.split("=", 1) for x in a.stage_root)
    overrides = dict(x.split("=", 1) for x in a.build_arg)
    root = os.path.abspath(a.root)
    context = os.path.abspath(a.context)
    pats = ignore_patterns(os.path.abspath(a.dockerfile), context)
    host = lambda p: root + p if not a.chroot else os.path.join(root, p.lstrip("/"))
    env, workdir = {}, "/"
    summary = {"stage": stage["name"] or str(idx), "base": stage["base"], "packages": [],
               "user": None, "entrypoint": None, "cmd": None, "expose": [], "copied": [],
               "skipped_runs": []}
    base_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    for n, ins, rest in stage["lines"]:
        if ins == "ARG":
            k, eq, v = rest.partition("=")
            env[k] = overrides.get(k, v if eq else "")
        elif ins == "ENV":
            for item in shlex.split(rest):
                k, _, v = item.partition("=")
                v = expand(v, env)
                env[k] = host(v) if (not a.chroot and v.startswith("/")) else v
        elif ins == "WORKDIR":
            workdir = os.path.join(workdir, expand(rest, env))
            os.makedirs(host(workdir), exist_ok=True)
        elif ins == "COPY":
            words = shlex.split(rest)
            opts = [w for w in words if w.startswith("--")]
            args = [expand(w, env) for w in words if not w.startswith("--")]
            srcs, dest = args[:-1], args[-1]
            frm = next((o.split("=", 1)[1] for o in opts if o.startswith("--from=")), None)
            dest_abs = os.path.join(workdir, dest)
            dest_is_dir = dest.endswith("/") or dest in (".", "./") or len(srcs) > 1
            for s in srcs:
                if frm:
                    if frm not in roots:
                        sys.exit(f"line {n}: COPY --from={frm}: no --stage-root {frm}=DIR")
                    base = os.path.abspath(roots[frm]) + "/" + s.lstrip("/")
                    matches = glob.glob(base) or sys.exit(
                        f"line {n}: COPY --from={frm} {s}: not in that stage")
                    summary["copied"].append({"from": frm, "src": s, "dest": dest_abs})
                    for m in matches:
                        copy_into(m, host(dest_abs), dest_is_dir or os.path.isdir(m))
                    continue
                matches = glob.glob(os.path.join(context, s))
                if not matches:
                    sys.exit(f"line {n}: COPY {s}: not in the build context")
                for m in matches:
                    rel = os.path.relpath(m, context)
                    if os.path.isdir(m):
                        for d, dirs, files in os.walk(m):
                            dirs[:] = [x for x in dirs
                                       if not ignored(os.path.relpath(os.path.join(d, x), context), pats)]
                            for f in files:
                                fr = os.path.relpath(os.path.join(d, f), context)
                                if ignored(fr, pats):
                                    continue
                                copy_into(os.path.join(d, f),
                                          host(os.path.join(dest_abs, os.path.relpath(os.path.join(d, f), m))),
                                          False)
                    elif not ignored(rel, pats):
                        copy_into(m, host(dest_abs), dest_is_dir)
        elif ins == "RUN":
            cmd = rest
            if cmd.startswith("["):
                cmd = " ".join(shlex.quote(w) for w in json.loads(cmd))
            pkgs = apt_packages(cmd)
            summary["packages"] += pkgs
            if a.chroot:
                full = {"PATH": base_path, "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive", **env}
                line = f"cd {shlex.quote(workdir)} && {cmd}"
                print(f"+ [{summary['stage']}] RUN {cmd[:160]}", file=sys.stderr)
                rc = subprocess.call([CHROOT, root, "/bin/sh", "-ec", line],
                                     env=full, stdout=sys.stderr)
            elif pkgs:
                missing = [p for p in pkgs if subprocess.run(
                    ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                    text=True).stdout.find("ok installed") < 0]
                if missing:
                    sys.exit(f"line {n}: not installed here: {' '.join(missing)}")
                summary["skipped_runs"].append(f"line {n}: apt-get (packages installed here)")
                continue
            elif a.no_run:
                summary["skipped_runs"].append(f"line {n}: {cmd[:80]}")
                continue
            else:
                # a container's environment: no MAKEFLAGS, CFLAGS, ... of ours
                full = {"PATH": os.environ.get("PATH", base_path), "HOME": os.environ.get("HOME", "/"),
                        **env}
                print(f"+ [{summary['stage']}] RUN {cmd[:160]}", file=sys.stderr)
                rc = subprocess.call(["sh", "-ec", cmd], cwd=host(workdir), env=full,
                                     stdout=sys.stderr)
            if rc != 0:
                sys.exit(f"line {n}: RUN failed with status {rc}")
        elif ins == "USER":
            summary["user"] = rest
        elif ins in ("ENTRYPOINT", "CMD"):
            summary[ins.lower()] = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
        elif ins == "EXPOSE":
            summary["expose"] += rest.split()
    summary["workdir"] = workdir
    summary["env"] = env
    json.dump(summary, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
