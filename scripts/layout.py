#!/usr/bin/env python3
"""Checks the shape of a crate's source tree: no import cycles, small files, small impls.

Usage: scripts/layout.py [SRC_DIR ...]   (default: scorer/src filter/src)

For each SRC_DIR it builds the module dependency graph from `use crate::...` / `use super::...`
statements and inline `crate::a::b` paths in code (comments, string literals and everything
from the first `#[cfg(test)]` on are ignored: tests may reach across), at two levels:

  * top level: a folder or file directly under SRC_DIR (`decide/`, `config.rs`);
  * file level: every module file (`decide/route.rs`; a folder's `mod.rs` is the folder itself).

The crate root (`lib.rs`) is a node too: a module that imports a root re-export (`crate::Config`)
depends on everything the root re-exports, which is how hidden cycles start.

It fails, naming what it found, on
  * an import cycle at either level;
  * a source file with more than MAX_FILE_LINES lines before its first `#[cfg(test)]`;
  * an `impl` block longer than MAX_IMPL_LINES lines (found by counting braces).

`bin/` targets and `tests.rs` files are separate crates or test-only code: their size is
checked, but they are not part of the graph. Standard library only.
"""

import re
import sys
from pathlib import Path

MAX_FILE_LINES = 500
MAX_IMPL_LINES = 250
ROOT = "crate"

CFG_TEST = re.compile(r"^\s*#\[cfg\(test\)\]")
IMPL_START = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(unsafe\s+)?impl\b")
IDENT_PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_STMT = re.compile(r"\buse\s+((?:crate|super|self)\b[^;]*);", re.S)


def strip_code(text):
    """Text with comments, string and char literals blanked (line numbers kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        starts_word = i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        m = re.match(r'b?r(#*)"', text[i : i + 300]) if c in "br" and starts_word else None
        if m:
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'\n])'", text[i:i + 12])
            if m:
                out.append("' '")
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def non_test_part(lines):
    for k, line in enumerate(lines):
        if CFG_TEST.match(line):
            return lines[:k]
    return lines


def module_of(rel):
    """`decide/route.rs` -> ('decide', 'route'); `decide/mod.rs` -> ('decide',); lib.rs -> ()."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return ()
    return tuple(parts)


def expand_use_tree(tree):
    """`crate::a::{b, c::{d, e}}` -> ['crate::a::b', 'crate::a::c::d', 'crate::a::c::e']."""
    # Aliases go before whitespace does: `headers as h` must not read as `headersash`.
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    depth, start = 0, tree.find("{")
    if start < 0:
        return [tree]
    prefix, inner = tree[:start], tree[start + 1:tree.rfind("}")]
    items, cur = [], ""
    for ch in inner:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    paths = []
    for item in filter(None, items):
        for p in expand_use_tree(item):
            paths.append(prefix + p if p != "self" else prefix.rstrip(":"))
    return paths


def resolve(segments, here, modules):
    """The known module a `crate|super|self::...` path lands in (longest matching prefix)."""
    head, rest = segments[0], segments[1:]
    if head == "crate":
        base = ()
    elif head == "self":
        base = here
    else:
        base = here[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    path = base + tuple(rest)
    for k in range(len(path), -1, -1):
        if path[:k] in modules:
            return path[:k]
    return ()


def find_cycle(graph):
    """One cycle (list of nodes) per strongly connected component with more than one node."""
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
                sccs.append(set(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in sccs:
        start = min(comp)
        # Shortest way back to `start` inside the component (breadth first).
        prev, frontier, found = {start: None}, [start], None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph.get(v, ())):
                    if w == start:
                        found = v
                        break
                    if w in comp and w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path, v = [], found
        while v is not None:
            path.append(v)
            v = prev[v]
        cycles.append(list(reversed(path)) + [start])
    return cycles


def name(mod):
    return "::".join(mod) if mod else ROOT


def check(src):
    src = Path(src)
    problems = []
    files = sorted(p for p in src.rglob("*.rs"))
    if not files:
        return [f"{src}: no Rust files"], None
    graph_files = [p for p in files if "bin" not in p.relative_to(src).parts[:-1] and p.name != "tests.rs"]
    modules = {module_of(p.relative_to(src)) for p in graph_files}
    file_graph = {m: set() for m in modules}
    impls = 0
    for p in files:
        rel = p.relative_to(src)
        lines = p.read_text(encoding="utf-8").splitlines()
        code_lines = non_test_part(lines)
        if len(code_lines) > MAX_FILE_LINES:
            problems.append(
                f"{src / rel}: {len(code_lines)} lines of non-test code (limit {MAX_FILE_LINES}); "
                "split it by concern or move its tests to their own file"
            )
        code = strip_code("\n".join(code_lines)).split("\n")
        k = 0
        while k < len(code):
            if IMPL_START.match(code[k]):
                impls += 1
                depth, opened, j = 0, False, k
                while j < len(code):
                    depth += code[j].count("{") - code[j].count("}")
                    opened = opened or "{" in code[j]
                    if opened and depth <= 0 or (not opened and code[j].rstrip().endswith(";")):
                        break
                    j += 1
                length = j - k + 1
                if length > MAX_IMPL_LINES:
                    problems.append(
                        f"{src / rel}:{k + 1}: impl block of {length} lines (limit {MAX_IMPL_LINES}): "
                        f"`{code_lines[k].strip()}`"
                    )
                k = j
            k += 1
        if p not in graph_files:
            continue
        here = module_of(rel)
        text = "\n".join(code)
        paths = [t for m in USE_STMT.finditer(text) for t in expand_use_tree(m.group(1))]
        # A module names its own children without a prefix (`pub use types::Tier;`).
        children = sorted({m[len(here)] for m in modules if len(m) == len(here) + 1 and m[: len(here)] == here})
        if children:
            child_use = re.compile(rf"\buse\s+((?:{'|'.join(map(re.escape, children))})::[^;]*);", re.S)
            paths += ["self::" + t for m in child_use.finditer(text) for t in expand_use_tree(m.group(1))]
        without_uses = USE_STMT.sub(" ", text)
        paths += [m.group(1) + m.group(2) for m in IDENT_PATH.finditer(without_uses)]
        for path in paths:
            target = resolve(tuple(path.split("::")), here, modules)
            if target != here:
                file_graph[here].add(target)
    top_graph = {m[:1]: set() for m in modules}
    for a, targets in file_graph.items():
        for b in targets:
            ta, tb = a[:1], b[:1]
            top_graph.setdefault(ta, set())
            if ta != tb:
                top_graph[ta].add(tb)
    for level, graph in (("top-level", top_graph), ("file-level", file_graph)):
        for cycle in find_cycle(graph):
            problems.append(f"{src}: {level} import cycle: " + " -> ".join(name(m) for m in cycle))
    tops = sorted(m for m in top_graph if m)
    print(f"{src}: {len(files)} files, {len(modules)} modules, {len(tops)} top-level, {impls} impl blocks")
    for m in tops:
        deps = sorted(name(d) for d in top_graph[m] if d)
        print(f"  {name(m)} -> {', '.join(deps) if deps else '(nothing)'}")
    return problems, top_graph


def main(argv):
    dirs = argv[1:] or ["scorer/src", "filter/src"]
    problems = []
    for d in dirs:
        found, _ = check(d)
        problems += found
    print(
        f"checked: import cycles (top-level and file-level), files over {MAX_FILE_LINES} lines "
        f"of non-test code, impl blocks over {MAX_IMPL_LINES} lines"
    )
    if problems:
        print(f"layout check FAILED ({len(problems)} problem(s)):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print("layout check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
