"""How the repository holds together: imports among salt_lib's modules go one way (no cycle),
and no committed record, notebook or table carries the absolute paths of the machine that made it."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "salt_lib"
# Roots of this or another machine: a path there in a committed file is somebody's machine.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:work|root|home|tmp|Users|mnt|scratch)/")
CHECKED = ("models", "reports", "tables", "notebooks", "results", "README.md")


def imported_modules(path: Path) -> set[str]:
    """The salt_lib modules a module imports anywhere in it (top level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "salt_lib":  # from salt_lib import eda, report
                names |= {f"salt_lib.{alias.name}" for alias in node.names}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    return {name.split(".")[1] for name in names if name.startswith("salt_lib.") and name.split(".")[1] in modules}


def import_graph() -> dict[str, set[str]]:
    return {p.stem: imported_modules(p) - {p.stem} for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_salt_lib_imports_have_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_lowest_modules_import_no_other():
    graph = import_graph()
    assert graph["rle"] == set() and graph["files"] == set() and graph["metrics"] == set()


def test_committed_files_hold_no_absolute_machine_paths():
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files", "--", *CHECKED], capture_output=True, text=True, check=True).stdout.split()
    assert any(name.endswith(".config.json") for name in tracked) and any(name.endswith(".ipynb") for name in tracked)
    offenders = []
    for name in tracked:
        path = REPO / name
        if path.suffix in (".keras", ".png", ".pdf", ".npz", ".npy"):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if ABSOLUTE_PATH.search(line):
                offenders.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not offenders, "absolute paths in committed files:\n" + "\n".join(offenders[:20])
