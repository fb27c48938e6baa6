"""Tables of the thesis, written under stable names: ``save_table(table, "06_comparison",
tables_dir, caption=...)`` writes ``.csv`` (full precision, the column names code reads),
``.tex`` (a captioned, labelled booktabs ``table``, ready to ``\\input``) and ``.md`` (headers in
words, three decimals, intervals in one cell, at most 8 columns a part), and returns the table so
that a notebook cell shows it. Names start with the chapter number; the thesis text refers to
them, so they do not change between runs. Imports pandas, never matplotlib or Keras.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.report.sentences import with_interval
from salt_lib.report.words import readable, tr


def check_name(name: str) -> str:
    if not re.fullmatch(r"\d\d_[a-z0-9_]+", name):
        raise ValueError(f"figure/table name {name!r}: use '<chapter>_<what>', e.g. '04_learning_curves' (lowercase, digits, _)")
    return name


# Column names the chapters' tables use (snake_case, as code reads them back from the .csv) ->
# the header a reader sees in the .tex and .md, in English; ``tr`` then gives the chosen language.
# A name not listed is shown with spaces for underscores and a capital first letter.
HEADERS = {
    "model": "Model", "arch": "Architecture", "parameters": "Parameters", "preset": "Preset", "overrides": "Overrides",
    "policy": "Policy", "what it does": "What it does", "epochs": "Epochs", "best_epoch": "Best epoch", "split": "Split",
    "score": "Score", "value": "Value", "ci_low": "CI low", "ci_high": "CI high",
    "tgs_score": "TGS score", "thesis_iou_metric": "Thesis IoU metric", "iou": "IoU", "dice": "Dice",
    "empty_tile_accuracy": "Empty-tile accuracy", "threshold": "Threshold", "min_size": "Min. component (px)",
    "training_minutes": "Training (min)", "train_images_per_s": "Train images/s", "train_seconds": "Training (s)",
    "trained_on": "Trained on", "val_tgs_score": "Val. TGS score", "test_tgs_score": "Test TGS score",
    "coverage": "Coverage", "coverage_class": "Coverage class", "tiles": "Tiles", "members": "Members", "share": "Share",
    "train": "Train", "val": "Validation", "test": "Test", "all": "All",
    "level": "Level", "layers": "Layers", "side": "Side (px)", "channels": "Channels",
    "difference": "Difference", "mean_difference": "Mean difference", "share_resamples_positive": "Resamples > 0 (share)",
    "region": "Region", "pixels": "Pixels", "mean": "Mean", "std": "Std. dev.", "median": "Median",
    "p5": "5th pct.", "p95": "95th pct.", "depths": "Depths", "depth_min": "Min. depth", "depth_max": "Max. depth",
    "empty_share": "Empty tiles (share)", "full_share": "Full tiles (share)", "mean_coverage": "Mean coverage",
    "mean_coverage_of_salt_tiles": "Mean coverage (salt tiles)",
    "empty_masks": "Empty masks", "full_masks": "Full masks", "vertical_strip_masks": "Vertical-strip masks",
    "aspect": "Aspect", "source thesis": "Source thesis", "this workbook": "This workbook",
    "step": "Step", "tta": "Flip TTA", "gain": "Gain over the step before", "total_gain": "Total gain",
    "recorded_as": "Recorded as", "recorded": "Recorded", "recomputed": "Recomputed",
    # neighbours rebuilt from tile edges (chapters 2 and 6)
    "quantity": "Quantity", "count": "Count", "section": "Section", "true_pairs": "True pairs", "pairs_found": "Pairs found",
    "precision": "Precision", "recall": "Recall", "tiles_with_neighbour": "Tiles with a training neighbour",
    "score_with_neighbour": "Score with a neighbour", "tiles_without": "Tiles without", "score_without": "Score without",
    "optimism": "Optimism of the test mean", "seeds_random": "Seeds, random split", "seeds_mosaic": "Seeds, mosaic split",
    "part": "Part", "score_random": "Score, random-split models", "score_mosaic": "Score, mosaic-split models",
    "tiles_random": "Test tiles, random split", "tiles_mosaic": "Test tiles, mosaic split",
    "test_random": "Test score, random split", "test_mosaic": "Test score, mosaic split",
    # seed studies (salt_lib.study)
    "arm": "Arm", "seed": "Seed", "seeds": "Seeds", "comparison": "Comparison", "verdict": "Verdict",
    "steps": "Optimizer steps", "train_minutes": "Training (min)",
    "test_iou": "Test IoU", "test_dice": "Test Dice", "test_empty_tile_accuracy": "Test empty-tile accuracy",
    "test_iou_mean": "Test IoU mean", "test_iou_sd": "Test IoU sd", "test_dice_mean": "Test Dice mean",
    "test_dice_sd": "Test Dice sd", "test_empty_tile_accuracy_mean": "Test empty-tile acc. mean",
    "test_empty_tile_accuracy_sd": "Test empty-tile acc. sd",
    "test_mean": "Test mean", "test_seeds_tiles": "Test, seeds and tiles", "test_sd": "Test sd over seeds", "test_min": "Test min.", "test_max": "Test max.",
    "val_mean": "Val. mean", "val_sd": "Val. sd over seeds", "val_min": "Val. min.", "val_max": "Val. max.",
    "seeds_a": "Seeds (right of -)", "seeds_b": "Seeds (left of -)", "seeds_paired": "Seeds paired",
    "seed_difference_mean": "Mean difference per seed", "seed_difference_min": "Min. difference per seed",
    "seed_difference_max": "Max. difference per seed", "seeds_b_higher": "Seeds left higher", "per_seed": "Per seed",
    "difference_seeds_tiles": "Difference over seeds and tiles", "p_value": "P-value", "p_holm": "P-value (Holm)",
    "resampled": "Resampled",
    # what was tuned for which network (chapter 6)
    "choice": "Choice", "recipe": "Recipe's arm", "closest": "Closest alternative", "outcome": "Outcome",
}


MAX_COLUMNS = 8  # columns a table shows side by side on a 16 cm text block; wider tables are split


ROW_KEYS = ("model", "arm", "policy", "seed", "comparison", "step", "part")  # columns that name a row


def key_column_count(columns) -> int:
    """How many leading ``columns`` name a row (``ROW_KEYS``: e.g. ``arm`` and ``seed``); at least 1.
    A split table repeats them in every part, so each part's rows can be told apart."""
    count = 0
    for column in columns:
        if str(column) not in ROW_KEYS:
            break
        count += 1
    return max(count, 1)


def header(column: str) -> str:
    """The header a reader sees for ``column``: ``HEADERS``' words, or the name with spaces for
    underscores and a capital first letter; in ``use_thesis_style``'s language."""
    words = HEADERS.get(column) or str(column).replace("_", " ")
    return tr(words[:1].upper() + words[1:])


def interval_columns(columns) -> list[tuple[str, str, str]]:
    """(value, low, high) column triples of a table's 95 % intervals, by the names the chapters
    use: ``X`` with ``X_ci_low``/``X_ci_high``; ``<split>_ci_low``/``_ci_high`` with the
    ``<split>_...`` value before them (``val_tgs_score``); a bare ``ci_low``/``ci_high`` (or
    ``low``/``high``) pair with the column just before it; ``X`` with ``X_low``/``X_high``."""
    columns = [str(c) for c in columns]
    triples, used = [], set()
    for position, low in enumerate(columns):
        for low_end, high_end in (("ci_low", "ci_high"), ("low", "high")):
            if low != low_end and not low.endswith("_" + low_end):
                continue
            prefix = low[: -len(low_end)].rstrip("_")
            high = f"{prefix}_{high_end}" if prefix else high_end
            if high not in columns:
                continue
            before = [c for c in columns[:position] if c not in used and c not in (low, high)]
            if prefix and prefix in columns:
                value = prefix
            elif prefix:
                value = next((c for c in reversed(before) if c.startswith(prefix + "_")), None)
            else:
                value = before[-1] if before else None
            if value is not None:
                triples.append((value, low, high))
                used.update((value, low, high))
            break
    return triples


def _cell(value, float_digits: int) -> str:
    """A table cell as text: floats with ``float_digits`` decimals, numbers with thousands
    separators (31,031,685; 3,603.100), a missing value as ''."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:,.{float_digits}f}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _is_number(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def shown_table(table: pd.DataFrame, float_digits: int = 3) -> tuple[pd.DataFrame, list[bool]]:
    """What ``save_table`` shows of ``table``: every cell as text, headers from ``header``, each
    95 % interval merged into its value's column as ``0.767 [0.738, 0.796]`` (signed for a
    difference), and the names of scores in a ``score`` column in words. Returns the text table
    and, per column, whether it holds numbers (right-aligned)."""
    intervals = {value: (low, high) for value, low, high in interval_columns(table.columns)
                 if all(_is_number(table[c].dtype) for c in (value, low, high))}
    bounds = {bound for pair in intervals.values() for bound in pair}
    columns, numeric = {}, []
    for column in table.columns:
        if column in bounds:
            continue
        values = table[column]
        if column in intervals:
            low, high = (table[bound] for bound in intervals[column])
            signed = "difference" in str(column)
            cells = [_cell(v, float_digits) if np.isnan(lo) or np.isnan(hi) or np.isnan(v)
                     else with_interval(v, lo, hi, float_digits, signed) for v, lo, hi in zip(values, low, high)]
            columns[tr("{value} [95 % CI]", value=header(column))] = cells
            numeric.append(True)
            continue
        if column == "score":
            values = values.map(lambda v: header(v) if v in HEADERS else v)
        elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            values = values.map(readable)
        columns[header(column)] = [_cell(v, float_digits) for v in values]
        numeric.append(_is_number(table[column].dtype))
    return pd.DataFrame(columns, index=range(len(table))), numeric


def table_parts(shown: pd.DataFrame, key_columns: int = 1, max_columns: int = MAX_COLUMNS) -> list[list[int]]:
    """Column positions of each part of ``shown`` when it has more than ``max_columns`` columns:
    the first ``key_columns`` (those that name a row, e.g. ``model``) in every part, the others
    shared out evenly in their order. One part when the table fits."""
    count = len(shown.columns)
    if count <= max_columns:
        return [list(range(count))]
    if not 0 <= key_columns < max_columns:
        raise ValueError(f"key_columns={key_columns}: leave room for other columns in a part of {max_columns}")
    others = list(range(key_columns, count))
    parts = -(-len(others) // (max_columns - key_columns))
    size, extra = divmod(len(others), parts)
    chunks, start = [], 0
    for k in range(parts):
        stop = start + size + (1 if k < extra else 0)
        chunks.append(list(range(key_columns)) + others[start:stop])
        start = stop
    return chunks


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                   "<": r"\textless{}", ">": r"\textgreater{}"}  # < and > are other glyphs in OT1 text


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped, for a cell or a caption."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def _latex_cell(text: str, is_number: bool) -> str:
    if not text:
        return "--"
    cell = latex_escape(text)
    if is_number:
        cell = re.sub(r"-(?=\d)", "$-$", cell)  # a minus sign, not a hyphen
    return "{[}" + cell[1:] if cell.startswith("[") else cell  # "\\ [" would read as a row skip


def _latex_table(shown: pd.DataFrame, numeric: list[bool], caption: str, label: str) -> str:
    spec = "".join("r" if is_number else "l" for is_number in numeric)
    lines = ["\\begin{table}[htbp]", "\\centering", "\\small", f"\\caption{{{latex_escape(caption)}}}",
             f"\\label{{{label}}}", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(_latex_cell(h, False) for h in shown.columns) + " \\\\", "\\midrule"]
    lines += [" & ".join(_latex_cell(v, n) for v, n in zip(row, numeric)) + " \\\\" for row in shown.itertuples(index=False)]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def _markdown_lines(headers, rows, numeric) -> list[str]:
    escape = lambda text: str(text).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(escape, headers)) + " |",
             "|" + "|".join("---:" if is_number else "---" for is_number in numeric) + "|"]
    return lines + ["| " + " | ".join(map(escape, row)) + " |" for row in rows]


def default_caption(name: str) -> str:
    """A caption made from a table's name when none is given: ``06_coverage_bins`` -> 'Coverage bins.'"""
    words = name.split("_", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:] + "."


def save_table(table: pd.DataFrame, name: str, tables_dir, float_digits: int = 3, caption: str | None = None,
               key_columns: int | None = None, max_columns: int = MAX_COLUMNS) -> pd.DataFrame:
    """Write ``table`` as ``tables_dir/<name>.csv``, ``.tex`` and ``.md``; return it unchanged.

    * ``.csv``: every column as it is, full precision; code reads these back.
    * ``.tex``: a complete ``table`` float (``\\centering``, ``\\caption{caption}``,
      ``\\label{tab:<name>}``, booktabs rules), ready to ``\\input``; ``.md``: the same table after a
      ``Table: caption`` line. Both show ``shown_table``: headers in words (``HEADERS``, in
      ``use_thesis_style``'s language), floats with ``float_digits`` decimals, whole numbers with
      thousands separators, and each 95 % interval in its value's cell, ``0.767 [0.738, 0.796]``.
    * A table shown with more than ``max_columns`` columns is split into parts of at most that
      many, each repeating the first ``key_columns`` columns (default: the leading columns that
      name a row, ``key_column_count``): consecutive floats captioned
      "... (part 1 of 2)", labelled ``tab:<name>``, ``tab:<name>_part2``, ...

    ``caption`` is one sentence; None makes one from ``name`` (``default_caption``).
    """
    folder = Path(tables_dir)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / check_name(name)
    table.to_csv(base.with_suffix(".csv"), index=False)  # column names as the code reads them back
    text, numeric = shown_table(table, float_digits)
    parts = table_parts(text, key_column_count(table.columns) if key_columns is None else key_columns, max_columns)
    caption = tr(caption) if caption else default_caption(name)
    latex, markdown = [f"% {name}: written by salt_lib.report.save_table; do not edit by hand\n"], []
    for k, positions in enumerate(parts, start=1):
        part = text.iloc[:, positions]
        part_numeric = [numeric[p] for p in positions]
        title = caption if len(parts) == 1 else (
            tr("{caption} (part {part} of {parts})", caption=caption.rstrip("."), part=k, parts=len(parts)) + caption[-1:] * caption.endswith("."))
        label = f"tab:{name}" if k == 1 else f"tab:{name}_part{k}"
        latex.append(_latex_table(part, part_numeric, title, label))
        markdown.append("\n".join([f"Table: {title}", ""] + _markdown_lines(part.columns, part.itertuples(index=False), part_numeric)) + "\n")
    base.with_suffix(".tex").write_text("".join(latex[:1]) + "\n".join(latex[1:]))
    base.with_suffix(".md").write_text("\n".join(markdown))
    return table


def markdown_table(table: pd.DataFrame, float_digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table of ``table`` as it is (column names and every column;
    numbers right-aligned), for printed summaries such as ``salt_lib.bench``'s."""
    numeric = [_is_number(dtype) for dtype in table.dtypes]
    rows = ([_cell(v, float_digits) for v in row] for row in table.itertuples(index=False))
    return "\n".join(_markdown_lines(table.columns, rows, numeric)) + "\n"
