"""Files the workbook writes: atomically (``atomic_write``), and named portably in records
(``portable_path``, ``stored_path``): relative to the repository, never this machine's root.
"""

from __future__ import annotations

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
