"""Result folders: what a run leaves behind when its model is not kept, small enough to commit.

A result folder holds ``record.json`` (the run's record: settings, provenance, scores), an
optional ``history.csv`` (one row per epoch) and ``tiles.csv`` (per-tile scores of the validation
and test tiles, in the split's order). ``write_result`` is the one writer (record last: a
``record.json`` means the folder is complete); ``read_result`` reads one folder and
``read_results`` every folder under a directory. The seed studies (``salt_lib.study``), their
seed ensembles and the runs trained elsewhere (``benchmarks/gpu_score_records.py``) all use them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from salt_lib.files import atomic_write, write_json

RECORD, HISTORY, TILES = "record.json", "history.csv", "tiles.csv"


@dataclass(frozen=True)
class Result:
    """One result folder in memory: ``record`` (dict), ``tiles`` (per-tile scores: ``split``,
    ``position``, ``tgs_score``, and ``id`` where the writer stored it) and ``history`` (one row
    per epoch; empty when the folder has none)."""

    record: dict
    tiles: pd.DataFrame
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


def write_result(folder, record: dict, tiles: pd.DataFrame, history: pd.DataFrame | None = None) -> Result:
    """Write ``folder``'s ``history.csv`` (when ``history`` is given), ``tiles.csv`` and, last,
    ``record.json``, each atomically; return the folder as ``read_result`` reads it back."""
    folder = Path(folder)
    if history is not None:
        with atomic_write(folder / HISTORY) as partial:
            history.to_csv(partial, index=False)
    with atomic_write(folder / TILES) as partial:
        tiles.to_csv(partial, index=False)
    write_json(folder / RECORD, record)  # last: a record.json means the folder is complete
    return read_result(folder)


def is_result(folder) -> bool:
    """Whether ``folder`` holds a complete result (its ``record.json``)."""
    return (Path(folder) / RECORD).is_file()


def read_result(folder, need_history: bool = False) -> Result:
    """The result in ``folder``. A folder with a ``record.json`` but no ``tiles.csv`` (or no
    ``history.csv`` where ``need_history``) is a ValueError naming the fix."""
    folder = Path(folder)
    missing = [name for name in (TILES, HISTORY if need_history else None) if name and not (folder / name).is_file()]
    if missing:
        raise ValueError(f"{folder}: {RECORD} without {', '.join(missing)}. Delete {folder} to redo this run.")
    history = pd.read_csv(folder / HISTORY) if (folder / HISTORY).is_file() else pd.DataFrame()
    return Result(read_record(folder), pd.read_csv(folder / TILES), history)


def read_record(folder) -> dict:
    """The record (``record.json``) of the result folder ``folder``."""
    return json.loads((Path(folder) / RECORD).read_text())


def read_results(results_dir) -> dict[str, Result]:
    """Every result folder directly under ``results_dir``, by folder name: the smallest network
    first (the record's ``parameters``), then in name order. A FileNotFoundError when there is none."""
    results = {folder.name: read_result(folder) for folder in sorted(Path(results_dir).iterdir()) if is_result(folder)}
    if not results:
        raise FileNotFoundError(f"{results_dir}: no run records (folders with {RECORD})")
    return dict(sorted(results.items(), key=lambda item: item[1].record.get("parameters", 0)))
