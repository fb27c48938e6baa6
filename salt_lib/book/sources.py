"""What the book is made of: the executed chapters of a profile, read into prose and floats.

``read_chapter(notebook, figures_dir, tables_dir, captions)`` walks one executed notebook and
keeps what a reader of the thesis sees:

* Markdown cells, as they are (the chapter's heading becomes the chapter title);
* Markdown outputs (``display(Markdown(...))``, ``text/markdown`` results), as prose;
* every figure and table a code cell saved (``save_figure(..., "06_coverage_bins", ...)``,
  ``save_table(...)``, an f-string name ``f"{chapter}_levels"`` taking the notebook's number),
  read back from ``figures_dir/<name>.png`` and ``tables_dir/<name>.md`` (which ``save_table``
  writes beside the ``.csv``, with its caption and headers in the chapter's language);
* printed lines of the cell under a ``Findings`` heading, as a list (the chapters' findings are
  printed lines in their older form and Markdown outputs in the newer one; both read the same).

Everything else is left out: code and parameters cells, streams (progress, "reused" lines,
warnings), HTML renderings of data frames (the tables come from the files) and images no cell
saved under a name.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CHAPTER_TITLE = re.compile(r"^#\s+(?:\d+\s*[·.:\-–]\s*)?(.+?)\s*$")
SAVE_CALL = re.compile(r"save_(figure|table)\(")
NAME_LITERAL = re.compile(r"""f?["']((?:\{\w+\}|\d\d)_[a-z0-9_]+)["']""")
FINDINGS_HEADING = re.compile(r"^#{2,}\s+(Findings|结论|主要发现)\s*$", re.MULTILINE)
PART_SUFFIX = re.compile(r"\s*(\(part \d+ of \d+\)|（第 \d+ 部分，共 \d+ 部分）)")


class BookError(RuntimeError):
    """Sources that cannot make a book; the message names the file and what to do."""


@dataclass
class Prose:
    """Markdown text of the chapter. ``refs`` are references the builder adds to its end,
    ``lead_refs`` to the end of its first paragraph. ``spent``: the code cell this text
    introduces showed nothing the book keeps (a consistency check), so it introduces no float."""
    text: str
    refs: list[str] = field(default_factory=list)
    lead_refs: list[str] = field(default_factory=list)
    spent: bool = False


@dataclass
class Float:
    """A numbered figure or table: ``kind`` "figure" or "table", ``name`` its stable name."""
    kind: str
    name: str
    caption: str
    path: Path | None = None  # figure: the PNG
    tables: list[tuple[list[str], list[list[str]], list[bool]]] = field(default_factory=list)  # table: (headers, rows, numeric) per part
    number: str = ""

    @property
    def label(self) -> str:
        return f"{'fig' if self.kind == 'figure' else 'tab'}-{self.name}"


@dataclass
class Chapter:
    number: int
    stem: str
    title: str
    language: str
    parameters: dict
    blocks: list = field(default_factory=list)
    left_out: dict = field(default_factory=dict)  # what was dropped, counted: for the progress line

    @property
    def floats(self) -> list[Float]:
        return [block for block in self.blocks if isinstance(block, Float)]


def saved_names(source: str, chapter: str) -> list[tuple[str, str]]:
    """(kind, name) of every figure and table a code cell saves, in the order of the calls;
    ``{chapter}`` (or any ``{field}``) in an f-string name is the notebook's number."""
    found = []
    for call in SAVE_CALL.finditer(source):
        literal = NAME_LITERAL.search(source, call.end())
        if literal:
            found.append((call.group(1), re.sub(r"\{\w+\}", chapter, literal.group(1))))
    return found


def cell_parameters(notebook: dict) -> dict:
    """The literal values of the parameters cell, overridden by papermill's injected cell."""
    values = {}
    for tag in ("parameters", "injected-parameters"):
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code" and tag in cell.get("metadata", {}).get("tags", []):
                try:
                    tree = ast.parse(_text(cell["source"]))
                except SyntaxError:
                    continue
                for node in tree.body:
                    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                        try:
                            values[node.targets[0].id] = ast.literal_eval(node.value)
                        except ValueError:
                            pass
    return values


def read_markdown_table(path: Path) -> tuple[str, list[tuple[list[str], list[list[str]], list[bool]]]]:
    """A table file of ``save_table``: its caption (without "part k of n") and each part's
    headers, rows and which columns are numeric (right-aligned)."""
    caption, parts, current = "", [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Table: "):
            caption = caption or PART_SUFFIX.sub("", line[len("Table: "):]).strip()
            current = None
        elif line.startswith("|"):
            cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if current is None:
                current = (cells, [], [])
                parts.append(current)
            elif all(re.fullmatch(r":?-+:?", cell) for cell in cells):
                current[2].extend(cell.endswith(":") for cell in cells)
            else:
                current[1].append(cells)
    if not parts:
        raise BookError(f"{path}: no table in it. Rerun the chapter that writes it (salt_lib.report.save_table).")
    return caption, parts


def read_chapter(notebook: Path, figures_dir: Path, tables_dir: Path, captions: dict, language: str) -> Chapter:
    """One executed notebook as a ``Chapter`` of prose and floats (see the module's docstring).
    ``captions`` maps a figure's name to its caption in ``language`` (book/captions.yaml; a table's caption is the one given there for ``language``,
    else the one its chapter wrote)."""
    content = json.loads(Path(notebook).read_text(encoding="utf-8"))
    number = notebook.name[:2]
    parameters = cell_parameters(content)
    chapter = Chapter(int(number), notebook.stem, notebook.stem, parameters.get("language", "en"), parameters)
    left_out = {"code cells": 0, "printed outputs": 0, "data frame views": 0, "unnamed images": 0}
    in_findings = False
    for cell in content["cells"]:
        source = _text(cell["source"])
        if cell["cell_type"] == "markdown":
            match = CHAPTER_TITLE.match(source.splitlines()[0]) if source.startswith("# ") else None
            if match:
                chapter.title = match.group(1)
                source = "\n".join(source.splitlines()[1:]).strip()
            if FINDINGS_HEADING.search(source):
                in_findings = True
            elif re.search(r"^#{1,2}\s", source, re.MULTILINE):
                in_findings = False
            if source.strip():
                chapter.blocks.append(Prose(source.strip()))
            continue
        if cell["cell_type"] != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        left_out["code cells"] += 1
        if "parameters" in tags or "injected-parameters" in tags:
            continue
        for kind, name in saved_names(source, number):
            block = _float(kind, name, figures_dir, tables_dir, captions, language)
            if block is not None and all(b.label != block.label for b in chapter.floats):
                chapter.blocks.append(block)
        shown_before = len(chapter.blocks)
        printed = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output["output_type"] == "stream":
                if in_findings and output.get("name") == "stdout":
                    printed.append(_text(output["text"]))
                else:
                    left_out["printed outputs"] += 1
            elif "text/markdown" in data:
                chapter.blocks.append(Prose(_text(data["text/markdown"]).strip()))
            elif "image/png" in data:
                left_out["unnamed images"] += 0 if saved_names(source, number) else 1
            elif "text/html" in data:
                left_out["data frame views"] += 1
        lines = [line.strip() for line in "".join(printed).splitlines() if line.strip()]
        if lines:
            chapter.blocks.append(Prose("\n".join(f"- {line}" for line in lines)))
        if cell.get("outputs") and len(chapter.blocks) == shown_before and chapter.blocks and isinstance(chapter.blocks[-1], Prose):
            spent = chapter.blocks[-1]
            spent.spent = True
            if spent.text.endswith(":"):  # it announced an output the book leaves out
                spent.text = spent.text[:-1] + "."
    chapter.left_out = {k: v for k, v in left_out.items() if v}
    return chapter


def _float(kind: str, name: str, figures_dir: Path, tables_dir: Path, captions: dict, language: str) -> Float | None:
    """The saved figure or table ``name``, or None where the run did not write it (a section
    that the profile skips, e.g. the seed studies of the quick profile)."""
    if kind == "figure":
        path = Path(figures_dir) / f"{name}.png"
        if not path.is_file():
            return None
        caption = (captions.get("figures") or {}).get(name, {})
        caption = caption.get(language) or caption.get("en") if isinstance(caption, dict) else caption
        if not caption:
            raise BookError(f"figure {name}: no caption in book/captions.yaml. Add `{name}: {{en: ..., zh: ...}}` under figures: there: "
                            "one sentence saying what the figure shows.")
        return Float("figure", name, caption, path=path)
    path = Path(tables_dir) / f"{name}.md"
    if not path.is_file():
        return None
    caption, parts = read_markdown_table(path)
    entry = (captions.get("tables") or {}).get(name)
    given = entry.get(language) if isinstance(entry, dict) else None
    return Float("table", name, given or caption, tables=parts)


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else source
