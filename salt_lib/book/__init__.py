"""The thesis as a book: ``python -m salt_lib book --profile thesis [--language zh]`` (``make book``).

From the executed chapters of a profile (``reports/<profile>/NN_*.ipynb``) and the figures and
tables they wrote (the ``figures_dir`` and ``tables_dir`` they ran with), it writes
``book/<profile>/thesis.pdf`` and ``thesis.html`` (``thesis-zh.*`` for Chinese): a title page
from ``book/thesis.yaml``, the abstract, contents, an introduction, the seven chapters without
code, parameters or program output, numbered and cross-referenced figures and tables, the
conclusions, the references of ``book/references.bib`` and an appendix on reproducing the run.

The route is offline and installed by ``make``: Pandoc (``pypandoc-binary``) turns the
document's Markdown into Typst and into one self-contained HTML page (images embedded, citations
by its citeproc), and the ``typst`` package compiles the PDF with its own fonts plus Noto Sans SC
(``justmytype-intl-cjk``) for Chinese; no TeX, no Typst packages from the network.

* ``sources``: executed notebooks -> chapters of prose and floats;
* ``values``: the named values of the book's own prose, read from ``tables/*.csv``;
* ``document``: numbering, references, citations, the Markdown document;
* ``appendix``: "Reproducing this thesis" from the models' records.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from salt_lib.book.appendix import appendix_markdown, repo_relative
from salt_lib.book.document import (TEXTS, bib_keys, document, link_citations, link_references, localized, number_floats, paragraphs,
                                    typst_meta)
from salt_lib.book.sources import BookError, Chapter, Float, cell_parameters, read_chapter
from salt_lib.book.values import read_values
from salt_lib.files import REPO
from salt_lib.workbook import default_out

BOOK_DIR = REPO / "book"
LANGUAGES = ("en", "zh")


@dataclass
class Book:
    """What a build made: the chapters with their numbered floats, the book's own texts, outputs."""
    profile: str
    language: str
    chapters: list[Chapter]
    floats: dict[str, Float]
    references: dict[str, int]  # float label -> times the text refers to it
    values: dict
    abstract: list[str]
    conclusions: list[str]
    cited: set[str]
    markdown: str
    outputs: dict[str, Path] = field(default_factory=dict)


def profile_sources(profile: str, chapters_dir=None, root: Path = REPO, language: str = "en") -> tuple[Path, Path, Path]:
    """(executed chapters, figures, tables) of a profile: ``reports/<profile>`` (or
    ``chapters_dir``), and the ``figures_dir`` and ``tables_dir`` those chapters ran with (their
    parameters, relative to ``notebooks/`` where they ran): ``figures/`` and ``tables/`` for the
    thesis run, ``reports/quick/...`` for the quick run and for the committed ``notebooks/``.
    For a book in another language, the chapters that ran in it (``reports/<profile>-zh``, with
    ``figures/zh`` and ``tables/zh``) when there are any, else the English ones."""
    out = Path(chapters_dir) if chapters_dir else default_out(profile, language, root=root)
    if not chapters_dir and language != "en" and not any(out.glob("[0-9][0-9]_*.ipynb")):
        out = default_out(profile, root=root)
    notebooks = sorted(out.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        hint = "make workbook" if profile == "quick" else f"python -m salt_lib workbook --profile {profile}"
        raise BookError(f"{repo_relative(out)}: no executed chapters (NN_name.ipynb). Run `{hint}` first.")
    parameters = [cell_parameters(json.loads(nb.read_text(encoding="utf-8"))) for nb in notebooks]
    folders = []
    for key in ("figures_dir", "tables_dir"):
        given = Counter(p[key] for p in parameters if isinstance(p.get(key), str))
        if not given:
            raise BookError(f"{repo_relative(out)}: no chapter declares {key}, so the book cannot find its {key.split('_')[0]}.")
        folders.append((root / "notebooks" / given.most_common(1)[0][0]).resolve())
    return out, folders[0], folders[1]


def tool_versions() -> dict[str, str]:
    import pypandoc
    import typst

    return {"Pandoc": pypandoc.get_pandoc_version(), "Typst (Python package)": typst.__version__ if hasattr(typst, "__version__") else "0.15"}


def read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise BookError(f"{path}: missing. It belongs to the repository (book/); restore it with git.")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def assemble(profile: str = "thesis", language: str = "en", chapters_dir=None, book_dir: Path = BOOK_DIR,
             root: Path = REPO, say=print) -> Book:
    """Read the sources and make the document (no Pandoc, no Typst): what the tests inspect."""
    if language not in LANGUAGES:
        raise BookError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}.")
    notebooks_dir, figures_dir, tables_dir = profile_sources(profile, chapters_dir, root, language)
    notebooks = sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    for folder in (figures_dir, tables_dir):
        if not folder.is_dir():
            raise BookError(f"{repo_relative(folder)}: missing; the chapters of {repo_relative(notebooks_dir)} write it. Rerun them.")
    meta = read_yaml(book_dir / "thesis.yaml")
    captions = read_yaml(book_dir / "captions.yaml")
    chapters = [read_chapter(nb, figures_dir, tables_dir, captions, language) for nb in notebooks]
    say(f"book: read {len(chapters)} chapters from {repo_relative(notebooks_dir)} "
        f"({sum(len(c.floats) for c in chapters)} figures and tables from {repo_relative(figures_dir)} and {repo_relative(tables_dir)})")
    ran_in = sorted({c.language for c in chapters})
    if ran_in != [language]:
        say(f"book: the chapters ran with language {', '.join(ran_in)}: their figure labels and table headers are in that "
            f"language. For {language}, run them with LANGUAGE={language} (see docs/book.md).")
    floats = number_floats(chapters)
    references = link_references(chapters, floats, language)
    keys = bib_keys((book_dir / "references.bib").read_text(encoding="utf-8"))
    cited = link_citations(chapters, keys, meta.get("cite_first"))
    values = read_values(read_yaml(book_dir / "values.yaml"), tables_dir, language)
    say(f"book: {len(values)} named values from {repo_relative(tables_dir)}/*.csv for the abstract and conclusions")
    appendix = appendix_markdown(chapters, profile, language, tool_versions())
    abstract = paragraphs(localized(meta.get("abstract"), language), values, "abstract")
    conclusions = paragraphs(localized(meta.get("conclusions"), language), values, "conclusions")
    markdown = document(meta, chapters, values, appendix, language)
    cited |= {key for key in keys.values() if f"@{key}" in markdown}
    return Book(profile, language, chapters, floats, references, values, abstract, conclusions, cited, markdown)


def build_book(profile: str = "thesis", language: str = "en", chapters_dir=None, out_dir=None, book_dir: Path = BOOK_DIR,
               root: Path = REPO, html: bool = True, say=print) -> Book:
    """Build ``thesis.pdf`` and ``thesis.html`` (``thesis-zh.*``) into ``out_dir``
    (default ``book/<profile>``); intermediate files go to ``build/book/<profile>-<language>``."""
    import pypandoc
    import typst

    start = time.perf_counter()
    book = assemble(profile, language, chapters_dir, book_dir, root, say)
    out = Path(out_dir) if out_dir else book_dir / profile
    work = root / "build" / "book" / f"{profile}-{language}"
    if work.exists():
        shutil.rmtree(work)
    (work / "media").mkdir(parents=True)
    for block in book.floats.values():
        if block.kind == "figure":
            shutil.copyfile(block.path, work / "media" / block.path.name)
    shutil.copyfile(book_dir / "references.bib", work / "references.bib")
    shutil.copyfile(book_dir / "template.typ", work / "template.typ")
    (work / "thesis.md").write_text(book.markdown, encoding="utf-8")
    stem = "thesis" if language == "en" else f"thesis-{language}"
    out.mkdir(parents=True, exist_ok=True)
    pandoc = pypandoc.get_pandoc_path()

    body = _run([pandoc, "thesis.md", "-f", "markdown", "-t", "typst", "-o", "body.typ"], work)
    # An included file has its own scope: the body imports the template's functions itself.
    typst_body = work / "body.typ"
    typst_body.write_text('#import "template.typ": contents-page, references-page\n' + typst_body.read_text(encoding="utf-8"), encoding="utf-8")
    meta = read_yaml(book_dir / "thesis.yaml")
    (work / "thesis.typ").write_text(f'#import "template.typ": thesis, contents-page, references-page\n'
                                     f"#show: thesis.with({typst_meta(meta, language)})\n"
                                     f'#include "body.typ"\n', encoding="utf-8")
    say(f"book: typst source {repo_relative(work / 'thesis.typ')} {body}")
    fonts = [str(_cjk_font_dir())]  # Chinese text, and any CJK character in an English build
    pdf = out / f"{stem}.pdf"
    try:
        _, warnings = typst.compile_with_warnings(str(work / "thesis.typ"), output=str(pdf), font_paths=fonts, ignore_system_fonts=True, root=str(work))
    except typst.TypstError as error:
        raise BookError(f"typst could not compile {repo_relative(work / 'thesis.typ')}: {error.message}; hints: {error.hints}") from None
    problems = [w.message for w in warnings or []]
    if problems:
        say("book: typst warned: " + "; ".join(problems))
    book.outputs["pdf"] = pdf
    say(f"book: wrote {repo_relative(pdf)} ({pdf.stat().st_size / 1e6:.1f} MB)")
    if html:
        page = out / f"{stem}.html"
        title = localized(meta.get("title"), language) or "Thesis"
        log = _run([pandoc, "thesis.md", "-f", "markdown", "-t", "html5", "--standalone", "--embed-resources", "--citeproc",
                    "--bibliography", "references.bib", "--toc", "--toc-depth", "2", "--metadata", f"title={title}",
                    "--metadata", f"lang={'zh-CN' if language == 'zh' else 'en'}", "--metadata", f"toc-title={TEXTS[language]['contents']}",
                    "--metadata", f"author={localized(meta.get('author'), language) or ''}",
                    "--metadata", f"date={localized(meta.get('date'), language) or ''}",
                    "--css", str(book_dir / "book.css"), "--resource-path", str(work), "-o", str(page.resolve())], work)
        missing = re.findall(r"citation (\S+) not found", log)
        if missing:
            raise BookError(f"pandoc: citation(s) {', '.join(missing)} not in book/references.bib: add them there.")
        book.outputs["html"] = page
        say(f"book: wrote {repo_relative(page)} ({page.stat().st_size / 1e6:.1f} MB, images embedded)")
    say(f"book: done in {time.perf_counter() - start:.1f} s")
    return book


def _run(command: list[str], cwd: Path) -> str:
    """Run Pandoc; return its messages (warnings), raise ``BookError`` when it fails."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BookError(f"{Path(command[0]).name} failed in {repo_relative(cwd)}: {done.stderr.strip()}")
    return done.stderr.strip()


def _cjk_font_dir() -> Path:
    """The folder of the Noto Sans SC font that the Chinese figures use (``justmytype-intl-cjk``)."""
    from importlib.resources import files

    try:
        folder = Path(str(files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc"))
    except ModuleNotFoundError:
        folder = None
    if folder is None or not folder.is_dir():
        raise BookError("the Chinese book needs the Noto Sans SC font of the justmytype-intl-cjk package: run `make` "
                        "(or `pip install -r requirements.lock`).")
    return folder


def main(profile: str = "thesis", language: str = "en", chapters_dir=None, out_dir=None) -> int:
    build_book(profile, language, chapters_dir, out_dir, say=lambda line: print(line, flush=True))
    return 0


__all__ = ["Book", "BookError", "assemble", "build_book", "main", "profile_sources"]
