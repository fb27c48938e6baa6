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


def module_name(path: Path) -> str:
    """``salt_lib/report/tables.py`` -> ``report.tables``; a package's ``__init__`` is the package."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_files() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if p.parent != PACKAGE or p.stem not in ("__init__", "__main__")]


def imported_modules(path: Path) -> set[str]:
    """The salt_lib modules a module imports anywhere in it (top level or inside functions),
    named as ``module_name`` names them (``report.tables``, ``chapters.model``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module.startswith("salt_lib"):  # from salt_lib import eda; from salt_lib.chapters import model
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
    modules = {module_name(p) for p in module_files()}
    return {name.removeprefix("salt_lib.") for name in names if name.startswith("salt_lib.") and name.removeprefix("salt_lib.") in modules}


def import_graph() -> dict[str, set[str]]:
    graph = {module_name(p): imported_modules(p) for p in module_files()}
    # A package imports its rooms only on use (report's lookup); a room's own imports stay its own.
    return {name: edges - {name} for name, edges in graph.items()}


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
    assert graph["tile"] == set() and graph["files"] == set() and graph["metrics"] == set()
    assert graph["rle"] == {"tile"} and graph["geometry"] == {"tile"}


def test_the_table_and_sentence_rooms_import_no_figure_or_model_module():
    graph = import_graph()
    for room in ("report.words", "report.tables", "report.sentences"):
        assert graph[room] <= {"report.words", "report.tables", "report.sentences"}, (room, graph[room])
    assert "models" not in graph["report.style"] | graph["report.figures"]


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


def test_importing_the_table_and_sentence_rooms_loads_neither_matplotlib_nor_keras():
    """In a fresh interpreter: writing tables and sentences is cheap, whatever the figures need."""
    import sys

    code = ("import sys\n"
            "import salt_lib.report.tables, salt_lib.report.sentences, salt_lib.report.words\n"
            "from salt_lib import report\n"
            "report.save_table, report.with_interval\n"  # the package's lookup stays in the light rooms
            "print(sorted(name for name in ('matplotlib', 'keras', 'tensorflow', 'jax', 'seaborn') if name in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout
    figures = subprocess.run([sys.executable, "-c", "import sys, salt_lib.report.figures, salt_lib.report.style; "
                              "print('matplotlib' in sys.modules, 'keras' in sys.modules)"],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert figures.stdout.split() == ["True", "False"], figures.stderr[-2000:]
