"""Running the workbook: the notebooks in order, with papermill, under a parameter profile.

``python -m salt_lib workbook --profile quick`` executes ``notebooks/NN_*.ipynb`` in order. Each
notebook's parameters come from ``params/<profile>.yaml``::

    shared:            # given to every notebook that declares the parameter
      data_dir: data/synthetic-quick
      figures_dir: "{out}/figures"
    04_unet:           # only for notebooks/04_unet.ipynb; it must declare every key
      training: {epochs: 3}

Values may say ``{out}`` (the output folder). Values of keys ending in ``_dir``, ``_file``,
``_path`` or ``_paths`` are paths relative to the repository root (a string, or a list or mapping
of strings, or null); the runner rewrites them relative to ``notebooks/``, where the notebooks run
(their own defaults are written relative to that folder too), so executed notebooks carry no
machine's absolute paths (a folder outside the repository's parent stays absolute). The quick
profile sets only paths: its other values are the notebooks' own defaults. ``--data DIR`` replaces
``data_dir`` everywhere and turns off synthetic generation (``synthetic_tiles = 0``), so a
mistyped path fails instead of filling with synthetic tiles.

Executed copies go to the output folder (``reports/<profile>/`` by default). A failing notebook
stops the run with a ``WorkbookError`` whose message names the notebook and the cell and points
at the partly executed copy, which is kept. Trained models, predictions and the split are cached
by the notebooks themselves (``salt_lib.dataset``, ``salt_lib.experiments``, ``salt_lib.evaluate``), so a
rerun redoes only what changed.

Committed notebooks are kept reviewable: ``strip_volatile`` removes what changes on every run
without changing the content (papermill's timestamps and durations, execution timing, the Python
patch version), and the two model chapters, 04 and 05, are rendered from one template
(``render_model_chapters``) so that they cannot drift apart.

papermill, nbformat and jupytext are imported inside the functions that run or render notebooks:
they are heavy, and the command line imports this module for every command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import yaml
from tqdm.auto import tqdm

from salt_lib.files import REPO
from salt_lib.quiet import drop_native_log

NOTEBOOKS_DIR = REPO / "notebooks"
PARAMS_DIR = REPO / "params"
TEMPLATE = NOTEBOOKS_DIR / "templates" / "model_chapter.py"
TEMPLATE_VALUES = NOTEBOOKS_DIR / "templates" / "model_chapters.yaml"
PATH_KEY_SUFFIXES = ("_dir", "_file", "_path", "_paths")
NOTEBOOK_NAME = re.compile(r"\d\d_[a-z0-9_]+\.ipynb")


class WorkbookError(RuntimeError):
    """A notebook or a profile that cannot run; the message says which and what to do."""


# --------------------------------------------------------------------------------------------
# Profiles and parameters
# --------------------------------------------------------------------------------------------


def chapters(notebooks_dir=NOTEBOOKS_DIR) -> list[Path]:
    """The workbook's notebooks, ``NN_name.ipynb``, in order."""
    return sorted(p for p in Path(notebooks_dir).glob("*.ipynb") if NOTEBOOK_NAME.fullmatch(p.name))


def select(notebooks: list[Path], only: str | None) -> list[Path]:
    """The notebooks named by ``only`` ("03,04", or stems such as "04_unet"); all if None."""
    if not only:
        return notebooks
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    chosen = []
    for name in wanted:
        matches = [p for p in notebooks if p.stem == name or p.stem.split("_")[0] == name]
        if not matches:
            raise WorkbookError(f"--only {only}: no notebook {name!r}; the workbook has {', '.join(p.stem for p in notebooks)}.")
        chosen += [p for p in matches if p not in chosen]
    return sorted(chosen)


def load_profile(profile: str, params_dir=PARAMS_DIR) -> dict:
    """``params/<profile>.yaml`` as ``{"shared": {...}, "<notebook stem>": {...}, ...}``."""
    path = Path(params_dir) / f"{profile}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in Path(params_dir).glob("*.yaml"))
        raise WorkbookError(f"{path}: no such profile. Profiles: {', '.join(known) or 'none'} (files in {params_dir}).")
    content = yaml.safe_load(path.read_text()) or {}
    if not isinstance(content, dict) or not all(isinstance(v, dict) for v in content.values()):
        raise WorkbookError(f"{path}: expected a mapping of 'shared' and notebook names to mappings of parameters.")
    return content


def _resolve(key: str, value, out: Path, root: Path, notebook_dir: Path):
    """Fill ``{out}`` into strings; write the values of path keys (relative to ``root``) as the
    notebook, run in ``notebook_dir``, reaches them (``notebook_path``)."""
    if isinstance(value, dict):
        return {k: _resolve(key, v, out, root, notebook_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(key, v, out, root, notebook_dir) for v in value]
    if not isinstance(value, str):
        return value
    value = value.replace("{out}", str(out))
    return notebook_path(root / value, notebook_dir, root) if key.endswith(PATH_KEY_SUFFIXES) else value


def notebook_path(path: Path, notebook_dir: Path, root: Path = REPO) -> str:
    """``path`` relative to ``notebook_dir`` when it lies in the repository ``root`` or beside it
    (``../figures``, ``../../shared/tgs-salt``), else absolute: what an executed notebook shows."""
    absolute = Path(path).resolve()
    if absolute.is_relative_to(Path(root).resolve().parent):
        return os.path.relpath(absolute, Path(notebook_dir).resolve())
    return str(absolute)


def declared_parameters(notebook: Path) -> dict:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection)."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def parameters_for(notebook: Path, profile: dict, out: Path, data=None, root: Path = REPO, profile_name: str = "",
                   language: str | None = None) -> dict:
    """The parameters to inject into ``notebook``: the profile's shared keys it declares, then
    its own section (every key of which it must declare), then ``data`` (``--data``) and
    ``language`` (``--language``: "en" or "zh", figure labels and table headers)."""
    declared = declared_parameters(notebook)
    own = profile.get(notebook.stem, {})
    unknown = sorted(set(own) - set(declared))
    if unknown:
        raise WorkbookError(f"params/{profile_name}.yaml: {notebook.stem} sets {', '.join(unknown)}, which {notebook.name} "
                            f"does not declare. Its parameters are: {', '.join(declared)}.")
    values = {k: v for k, v in profile.get("shared", {}).items() if k in declared} | own
    values = {k: _resolve(k, v, out, root, notebook.parent) for k, v in values.items()}
    if data is not None and "data_dir" in declared:
        values["data_dir"] = notebook_path(data, notebook.parent, root)
        if "synthetic_tiles" in declared:
            values["synthetic_tiles"] = 0
    if language is not None and "language" in declared:
        values["language"] = language
    if language not in (None, "en"):
        for key in OUTPUT_FOLDER_KEYS & set(values):
            values[key] = language_folder(values[key], out, notebook.parent, language)
    return values


# The folders a chapter writes its figures and tables into: another language's run writes its own.
OUTPUT_FOLDER_KEYS = {"figures_dir", "tables_dir"}


def language_folder(folder: str, out: Path, notebook_dir: Path, language: str) -> str:
    """Where a ``language`` run (not English) writes what ``folder`` holds in English: the folder
    itself when it lies in the run's own ``out`` (``reports/quick-zh/figures``), else its
    ``<language>`` subfolder (``figures/zh``), so that the English figures and tables, which
    the thesis commits, are never overwritten by labels in another language."""
    absolute = (Path(notebook_dir) / folder).resolve()
    if absolute.is_relative_to(Path(out).resolve()):
        return folder
    return str(Path(folder) / language)


def default_out(profile: str, language: str | None = None, in_place: bool = False, root: Path = REPO) -> Path:
    """``reports/<profile>``, or ``reports/<profile>-<language>`` for a run in another language
    than English: its executed chapters never replace the English ones."""
    if in_place:
        return root / "reports" / "in-place"
    return root / "reports" / (profile if language in (None, "en") else f"{profile}-{language}")


def check_shared_keys(profile: dict, notebooks: list[Path], profile_name: str = "") -> None:
    """Every shared key must be a parameter of some notebook: catches typos in the profile."""
    declared = set().union(*(declared_parameters(nb) for nb in notebooks)) if notebooks else set()
    unused = sorted(set(profile.get("shared", {})) - declared)
    if unused:
        raise WorkbookError(f"params/{profile_name}.yaml: shared key(s) {', '.join(unused)} are parameters of no notebook.")
    stems = {nb.stem for nb in notebooks}
    strangers = sorted(set(profile) - stems - {"shared"})
    if strangers:
        raise WorkbookError(f"params/{profile_name}.yaml: section(s) {', '.join(strangers)} name no notebook; notebooks: {', '.join(sorted(stems))}.")


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def run_workbook(profile: str = "quick", data=None, only: str | None = None, out=None, in_place: bool = False,
                 notebooks_dir=NOTEBOOKS_DIR, params_dir=PARAMS_DIR, root: Path = REPO, progress: bool = True,
                 language: str | None = None) -> dict[str, float]:
    """Execute the workbook's notebooks in order; return seconds per notebook.

    ``in_place``: run each notebook on its own defaults (no profile, no injected cell) and, once
    it succeeded, write it back over the source with volatile metadata stripped: the commit-ready
    outputs. Executed copies (and partly executed ones after a failure) go to ``out``.
    ``language`` ("en" or "zh") is passed to every notebook that declares it (not with ``in_place``).
    """
    if language is not None and in_place:
        raise WorkbookError("--language with --in-place: the committed notebooks keep their English defaults; "
                            "run a profile instead, e.g. --profile quick --language zh.")
    all_notebooks = chapters(notebooks_dir)
    if not all_notebooks:
        raise WorkbookError(f"{notebooks_dir}: no notebooks named NN_name.ipynb.")
    notebooks = select(all_notebooks, only)
    settings = {} if in_place else load_profile(profile, params_dir)
    if not in_place:
        check_shared_keys(settings, all_notebooks, profile)
    out = Path(out) if out else default_out(profile, language, in_place, root)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    # Parameters first, for every notebook: a bad profile fails before an hour of training.
    plans = [(nb, {} if in_place else parameters_for(nb, settings, out, data, root, profile, language)) for nb in notebooks]
    seconds = {}
    for position, (notebook, parameters) in enumerate(tqdm(plans, desc="workbook", unit="notebook", disable=not progress, file=sys.stdout)):
        target = out / notebook.name
        start = time.perf_counter()
        remaining = [nb for nb, _ in plans[position:]]
        execute(notebook, target, parameters, progress=progress, rerun=_rerun_command(profile, remaining, data, out, in_place, language))
        seconds[notebook.stem] = round(time.perf_counter() - start, 1)
        strip_volatile(target)
        if in_place:
            shutil.copyfile(target, notebook)  # the source keeps every section, shown or not
        else:
            drop_empty_sections(target)
        if progress:
            tqdm.write(f"{notebook.name}: done in {seconds[notebook.stem]:.0f} s -> {target}")
    return seconds


def _rerun_command(profile, notebooks: list[Path], data, out: Path, in_place: bool, language=None) -> str:
    """The command that runs ``notebooks`` (the failed one and those after it) again."""
    parts = ["python -m salt_lib workbook", "--in-place" if in_place else f"--profile {profile}"]
    if data is not None:
        parts.append(f"--data {data}")
    if language is not None:
        parts.append(f"--language {language}")
    parts += [f"--only {','.join(nb.stem.split('_')[0] for nb in notebooks)}", f"--out {out}"]
    return " ".join(parts)


def execute(notebook: Path, target: Path, parameters: dict, progress: bool = True, rerun: str = "") -> None:
    """Run one notebook with papermill (cwd: the notebook's folder) into ``target``; on failure
    raise ``WorkbookError`` with ``failure_message``, keeping the partly executed ``target``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(str(notebook), str(target), parameters=parameters, cwd=str(notebook.parent),
                                   progress_bar=progress, log_output=False)
    except PapermillExecutionError as error:
        raise WorkbookError(failure_message(notebook, target, error.exec_count, error.source, f"{error.ename}: {error.evalue}", rerun)) from None
    except Exception as error:  # the kernel died, could not start, timed out, ...
        raise WorkbookError(failure_message(notebook, target, None, "", f"{type(error).__name__}: {error}", rerun)) from None


def failure_message(notebook: Path, target: Path, exec_count, source: str, error: str, rerun: str = "") -> str:
    """One paragraph: which notebook and cell failed, with what, where the partial copy is and
    how to rerun just that notebook."""
    first_line = next((line for line in (source or "").splitlines() if line.strip() and not line.startswith("#")), "")
    cell = f"in cell In [{exec_count}] (the one starting `{first_line.strip()[:80]}`)" if exec_count is not None else "before or between cells"
    kept = f"The partly executed notebook is kept at {target}" if Path(target).is_file() else f"No executed copy was written ({target})"
    error = " ".join(str(error).split())[:400].rstrip(".")
    return (f"workbook: {notebook.name} failed {cell} with {error}. {kept}; open it to see the traceback under that cell. "
            "Finished work is cached (split, trained models, predictions), so after fixing the cause rerun only this "
            f"notebook and what follows it{': ' + rerun if rerun else ''}.")


# --------------------------------------------------------------------------------------------
# Reviewable notebooks
# --------------------------------------------------------------------------------------------

# Kept language_info keys: the rest (the Python patch version) changes with the machine.
_LANGUAGE_INFO_KEYS = ("name", "file_extension", "mimetype", "codemirror_mode", "nbconvert_exporter", "pygments_lexer")


def strip_volatile(path) -> None:
    """Remove run-to-run noise from a notebook file, in place: papermill's metadata (times,
    durations, input/output paths), per-cell execution timing, empty tag lists, jupytext's
    header, the Python patch version, the random id papermill gives its injected cell, and
    TensorFlow's native start-up log lines in stderr (``quiet.NATIVE_LOG_LINE``). Cell sources, other outputs, tags and execution counts stay."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for key in ("papermill", "jupytext", "widgets"):
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {k: v for k, v in nb.metadata["language_info"].items() if k in _LANGUAGE_INFO_KEYS}
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
        if tags and "injected-parameters" in tags:
            cell["id"] = "injected-parameters"  # papermill draws a random id per run
        if cell.cell_type == "code":
            cell.outputs = [output for output in map(_without_native_log, cell.outputs) if output is not None]
    nbformat.write(nb, path)


SECTION_TAG = "section-if-shown"  # a Markdown cell opening a section that may have nothing to show


def section_spans(cells) -> list[tuple[int, int]]:
    """(start, stop) cell ranges of the sections that ``SECTION_TAG`` opens: from the tagged
    Markdown cell up to the next Markdown cell that starts with a heading (or is tagged itself)."""
    spans = []
    for start, cell in enumerate(cells):
        if cell.cell_type != "markdown" or SECTION_TAG not in cell.metadata.get("tags", []):
            continue
        stop = start + 1
        while stop < len(cells) and not (cells[stop].cell_type == "markdown" and (
                cells[stop].source.lstrip().startswith("#") or SECTION_TAG in cells[stop].metadata.get("tags", []))):
            stop += 1
        spans.append((start, stop))
    return spans


def drop_empty_sections(path) -> int:
    """Remove from an executed notebook, in place, every section opened by a ``SECTION_TAG``
    Markdown cell whose code cells showed nothing (no output at all): a thesis chapter renders no
    heading over an empty section. Returns the number of cells removed."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    empty = [span for span in section_spans(nb.cells)
             if not any(cell.cell_type == "code" and cell.outputs for cell in nb.cells[span[0]:span[1]])]
    dropped = {index for start, stop in empty for index in range(start, stop)}
    if dropped:
        nb.cells = [cell for index, cell in enumerate(nb.cells) if index not in dropped]
        nbformat.write(nb, path)
    return len(dropped)


def _without_native_log(output):
    """The output without native log lines; None for a stderr stream that held nothing else."""
    if output.get("output_type") != "stream" or output.get("name") != "stderr":
        return output
    kept = drop_native_log(output["text"])
    if not kept.strip():
        return None
    output["text"] = kept
    return output


def render_model_chapters(template=TEMPLATE, values_file=TEMPLATE_VALUES, notebooks_dir=NOTEBOOKS_DIR) -> list[Path]:
    """Write the model chapters (04_unet, 05_resunet) from one jupytext template.

    ``values_file`` maps each notebook stem to the values of the template's ``{{name}}``
    placeholders; a value is written as a Python literal (``repr``) inside code cells and as
    text in Markdown. Outputs are not kept: execute the notebooks afterwards.
    """
    import jupytext
    import nbformat

    text = Path(template).read_text()
    written = []
    for stem, values in yaml.safe_load(Path(values_file).read_text()).items():
        nb = jupytext.reads(_fill(text, values), fmt="py:percent")
        nb.metadata = nbformat.NotebookNode({"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                                             "language_info": {"name": "python"}})
        for index, cell in enumerate(nb.cells):
            tags = cell.metadata.get("tags")
            cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
            cell.id = f"cell-{index:02d}"  # stable ids: rendering twice gives the same file
        path = Path(notebooks_dir) / f"{stem}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    return written


def _fill(text: str, values: dict) -> str:
    """Replace ``{{name}}`` (Markdown: the text) and ``{{name!r}}`` (code: a Python literal)."""
    def replace(match):
        name, as_literal = match.group(1), match.group(2)
        if name not in values:
            raise WorkbookError(f"template placeholder {{{{{name}}}}} has no value in {TEMPLATE_VALUES.name}")
        value = values[name]
        # Markdown in a percent-format script is commented: every line of the text needs "# ".
        return _literal(value) if as_literal else str(value).strip().replace("\n", "\n# ")

    return re.sub(r"\{\{(\w+)(!r)?\}\}", replace, text)


def _literal(value) -> str:
    """A Python literal for a YAML value, strings in double quotes like the other notebooks'."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_literal, value)) + "]"
    return repr(value)


def model_chapter_sources(path) -> list[tuple[str, str]]:
    """(cell type, source) of each cell of a notebook: what ``render_model_chapters`` decides."""
    import nbformat

    return [(cell.cell_type, cell.source) for cell in nbformat.read(Path(path), as_version=4).cells]


def main(profile: str, data=None, only=None, out=None, in_place: bool = False, render: bool = False,
         language: str | None = None) -> int:
    """The ``workbook`` subcommand: render the model chapters, or run notebooks; print timings."""
    if render:
        for path in render_model_chapters():
            print(f"rendered {path.relative_to(REPO)} from {TEMPLATE.relative_to(REPO)}")
        return 0
    start = time.perf_counter()
    seconds = run_workbook(profile, data=data, only=only, out=out, in_place=in_place, language=language)
    print(json.dumps({"seconds_per_notebook": seconds, "total_seconds": round(time.perf_counter() - start, 1)}, indent=2))
    return 0
