#!/usr/bin/env python3
"""layers.py - check the layers of dkimgate's sources (t/style/run-layers.sh).

Two checks, each failing with one line per problem:

1. Include direction. Every `#include "X"` of a file in a layer must name a
   header of that layer or of a layer below it:
       core    milter/core                      (the DKIM engine and its base)
       svc     milter/core milter/svc           (services)
       daemon  milter/core milter/svc milter/daemon
       dkimctl milter/core milter/svc keys
   (config.h, made by configure, is allowed everywhere.) The build enforces
   the same with per-target include paths; this check names the file and
   line, and also covers headers, which are only compiled when included.

2. Calls between files. From the symbols each object file defines and uses
   (nm), a graph of which file calls which; it must have no cycle (two
   files calling each other, directly or round a loop), and no call may go
   from a lower layer to a higher one.

Usage: layers.py SRCDIR LAYER=OBJ... [LAYER=OBJ...]
  LAYER=OBJ names an object file (or a .a archive, each member counted) and
  the layer it belongs to. Exit 0 when clean, 1 with the problems listed.
"""
import os
import re
import subprocess
import sys

ORDER = {"core": 0, "svc": 1, "daemon": 2, "dkimctl": 2}
ALLOWED = {
    "core": ["milter/core"],
    "svc": ["milter/core", "milter/svc"],
    "daemon": ["milter/core", "milter/svc", "milter/daemon"],
    "dkimctl": ["milter/core", "milter/svc", "keys"],
}
DIRS = {"milter/core": "core", "milter/svc": "svc", "milter/daemon": "daemon",
        "keys": "dkimctl"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check_includes(src, problems):
    headers = {}
    for d in DIRS:
        for name in os.listdir(os.path.join(src, d)):
            if name.endswith(".h"):
                headers.setdefault(name, []).append(d)
    for d, layer in DIRS.items():
        for name in sorted(os.listdir(os.path.join(src, d))):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            with open(os.path.join(src, path), encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or m.group(1) == "config.h":
                        continue
                    inc = m.group(1)
                    if "/" in inc:
                        problems.append("%s:%d: includes \"%s\" by a path: name the "
                                        "header, the include path says where" %
                                        (path, n, inc))
                        continue
                    where = headers.get(inc)
                    if where is None:
                        problems.append("%s:%d: includes \"%s\", which no layer has" %
                                        (path, n, inc))
                    elif not any(w in ALLOWED[layer] for w in where):
                        problems.append("%s:%d: %s includes \"%s\" from %s: a call "
                                        "upward (allowed: %s)" %
                                        (path, n, layer, inc, where[0],
                                         " ".join(ALLOWED[layer])))


def symbols(obj):
    """{member: (defined, undefined)} for an object file or an archive."""
    out = subprocess.run(["nm", "-A", obj], capture_output=True, text=True,
                         check=True).stdout
    res = {}
    for line in out.splitlines():
        # "lib.a:member.o:ADDR T name", "lib.a:member.o: U name", "file.o:ADDR T name"
        parts = line.split()
        if len(parts) != 3:
            continue
        where, kind, name = parts
        member = where.split(":")[1] if obj.endswith(".a") else obj
        d, u = res.setdefault(member, (set(), set()))
        if kind == "U":
            u.add(name)
        elif kind in "TDBRVWG":
            d.add(name)
    return res


def node_name(member):
    """The source file an object was built from: libsvc_a-conf.o -> conf."""
    base = os.path.basename(member)
    base = re.sub(r"\.o$", "", base)
    return base.split("-", 1)[1] if "-" in base else base


def check_calls(specs, problems):
    files = {}
    for spec in specs:
        layer, _, obj = spec.partition("=")
        for member, (d, u) in symbols(obj).items():
            files[node_name(member)] = (layer, d, u)
    owner = {}
    for name, (layer, d, u) in files.items():
        for s in d:
            owner.setdefault(s, name)
    graph = {}
    for name, (layer, d, u) in files.items():
        edges = graph.setdefault(name, {})
        for s in u:
            o = owner.get(s)
            if o is not None and o != name:
                edges.setdefault(o, s)
    for a, edges in sorted(graph.items()):
        for b, sym in sorted(edges.items()):
            la, lb = files[a][0], files[b][0]
            if ORDER[lb] > ORDER[la] or (la != lb and ORDER[la] == ORDER[lb]):
                problems.append("call upward: %s (%s) calls %s in %s (%s)" %
                                (a, la, sym, b, lb))
    # Tarjan's strongly connected components: any of two or more is a cycle.
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    for comp in out:
        calls = ["%s->%s (%s)" % (a, b, graph[a][b]) for a in comp
                 for b in sorted(graph[a]) if b in comp]
        problems.append("call cycle between files %s: %s" %
                        (" ".join(comp), ", ".join(calls)))
    return len(files), sum(len(e) for e in graph.values())


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    src = sys.argv[1]
    problems = []
    check_includes(src, problems)
    nfiles, nedges = check_calls(sys.argv[2:], problems)
    for p in problems:
        print("FAIL: " + p)
    print("# %d object files, %d calls between files, %d problems" %
          (nfiles, nedges, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
