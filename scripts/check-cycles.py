#!/usr/bin/env python3
"""Finds import cycles between the crate's files (src-tauri/), and fails when there is one.

A file depends on another when its code (tests left out) names a path into it: `crate::a::b`,
`super::x`, or a child module declared in it (`mod model;` ... `model::Thing`). A path resolves
to the deepest file module it names, so `crate::questions::panels::Range` is a dependency on
`questions/panels/mod.rs`, which re-exports it. A module naming its own ancestors (`super::*`,
a parent's re-export) is how Rust nests modules and is not counted: a cycle is a set of files
that depend on one another sideways, such as two siblings each using the other.

Usage: scripts/check-cycles.py [src-tauri]   (prints every cycle; exit 1 if any)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src-tauri")
PATH = re.compile(r"\b(crate|super|self|[a-z_][a-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
INLINE_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*\{")


def module_of(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def code_lines(text):
    """The file's lines with comments and string contents blanked, tests cut off."""
    text = text.split("#[cfg(test)]\nmod tests")[0]
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return [line.split("//")[0] for line in text.splitlines()]


def main():
    files = {}
    for path in sorted(ROOT.rglob("*.rs")):
        if path.name in ("main.rs", "build.rs"):
            continue
        files[module_of(path)] = path
    edges = {m: set() for m in files}
    for module, path in files.items():
        lines = code_lines(path.read_text())
        children = set(MOD_DECL.findall("\n".join(lines)))
        inline = []  # (name, depth at which it closes)
        depth = 0
        for line in lines:
            here = module + tuple(name for name, _ in inline)
            for head, rest in PATH.findall(line):
                names = rest.split("::")[1:]
                if head == "crate":
                    target = ()
                elif head == "super":
                    target = here[:-1]
                    while names and names[0] == "super":
                        target, names = target[:-1], names[1:]
                elif head == "self":
                    target = here
                elif head in children:
                    target, names = module + (head,), names
                else:
                    continue
                full = target + tuple(names)
                resolved = max(
                    (full[:i] for i in range(len(full) + 1) if full[:i] in files),
                    key=len,
                )
                if resolved != module and module[: len(resolved)] != resolved:
                    edges[module].add(resolved)
            opened = INLINE_MOD.match(line)
            if opened:
                inline.append((opened.group(1), depth))
            depth += line.count("{") - line.count("}")
            while inline and depth <= inline[-1][1]:
                inline.pop()
    cycles = strongly_connected(edges)
    for cycle in cycles:
        names = sorted("/".join(m) or "lib" for m in cycle)
        print(f"import cycle of {len(names)} files: " + ", ".join(names))
    if cycles:
        return 1
    print(f"no import cycle among {len(files)} files")
    return 0


def strongly_connected(edges):
    """Tarjan's algorithm: the components of more than one file."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    sys.setrecursionlimit(10_000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
