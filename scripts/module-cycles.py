#!/usr/bin/env python3
"""Finds import circles between the top-level modules of a crate's `src/`.

Usage: scripts/module-cycles.py [core/src]   (exit status 1 if a circle is found)

Submodules fold into their top-level parent (`db/schema.rs` counts as `db`); `#[cfg(test)]` items,
blocks and module files are left out, since tests may use the whole crate.
"""
import re
import sys
from pathlib import Path


def strip_tests(text):
    """The text without `#[cfg(test)]` items: the attribute and the item or block after it."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        j = m.end()
        # The item ends at `;` (a `mod x;` or `use`) or at the brace that closes its block.
        while j < len(text) and text[j] not in "{;":
            j += 1
        if j < len(text) and text[j] == "{":
            depth = 0
            while j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
        else:
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def top_module(src, path):
    rel = path.relative_to(src).with_suffix("")
    return None if rel.parts[0] in ("lib", "main") else rel.parts[0]


def test_files(src):
    """Files that are modules declared `#[cfg(test)] mod name;`."""
    found = set()
    for path in src.rglob("*.rs"):
        here = path.parent if path.name in ("mod.rs", "lib.rs", "main.rs") else path.with_suffix("")
        for name in re.findall(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*;", path.read_text()):
            found.update({here / f"{name}.rs", here / name / "mod.rs"})
    return found


def graph(src):
    edges = {}
    tests = test_files(src)
    for path in sorted(src.rglob("*.rs")):
        if path in tests:
            continue
        module = top_module(src, path)
        text = re.sub(r"//[^\n]*", "", strip_tests(path.read_text()))
        used = set(re.findall(r"crate::([a-z_][a-z0-9_]*)", text))
        # `use crate::{a, b::c}` names several modules at once.
        for group in re.findall(r"crate::\{([^}]*)\}", text):
            used.update(re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group))
        if module is not None:
            edges.setdefault(module, set()).update(used - {module})
    modules = set(edges)
    return {m: {d for d in ds if d in modules} for m, ds in edges.items()}


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "core/src")
    edges = graph(src)
    for m in sorted(edges):
        print(f"{m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")
    found = cycles(edges)
    for c in found:
        print("circle:", " <-> ".join(c))
    print(f"{len(found)} circle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
