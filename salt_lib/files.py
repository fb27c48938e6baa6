"""Files the workbook writes: atomically (``atomic_write``), and named portably in records
(``portable_path``, ``stored_path``): relative to the repository, never this machine's root.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def atomic_write(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix) to write to; once the block ends
    without an error it is renamed over ``path``, so a killed process never leaves half a file.
    The parent folder is created if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.part{os.getpid()}{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_json(path, payload: dict) -> Path:
    """``payload`` as sorted, indented JSON at ``path``, written atomically."""
    with atomic_write(path) as partial:
        partial.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    return Path(path)


def portable_path(path) -> str:
    """``path`` as a record stores it: relative to the repository when it lies in the repository
    or beside it (``runs/x``, ``../shared/tgs-salt``), else just its name (records name the data
    by its fingerprint too, so a folder elsewhere is still identified)."""
    absolute = Path(path).resolve()
    if absolute.is_relative_to(REPO.parent):
        return os.path.relpath(absolute, REPO)
    return absolute.name


def stored_path(value) -> Path | None:
    """The path a record's ``portable_path`` string names on this machine (None for None).
    Records written before paths were portable hold absolute paths; those are kept as they are."""
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else REPO / path


def unwritable(path) -> str | None:
    """Why a file could not be written at ``path`` (a few words), or None when it can; checked
    without creating anything, so a command that fails later leaves no empty file behind."""
    path = Path(path)
    if path.is_dir():
        return "it is a folder"
    folder = path.parent
    while not folder.exists():  # the folders still to make are made by the write itself
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None
