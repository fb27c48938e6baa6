"""The thesis's 6:2:2 train / validation / test split, stratified by salt coverage.

Tiles fall into eleven coverage classes: class 0 holds the empty tiles, classes 1..10 the tiles
whose coverage lies in (0, 0.1], (0.1, 0.2], ..., (0.9, 1]. Each class is shuffled with the seed
and cut 6:2:2, so every split sees the same mix of empty, small, large and full salt bodies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.files import atomic_write

SPLITS = ("train", "val", "test")
RATIOS = (0.6, 0.2, 0.2)
COVERAGE_CLASS_LABELS = ["empty"] + [f"({10 * k - 10}, {10 * k}] %" for k in range(1, 11)]  # by class number


def coverage_class(coverage) -> np.ndarray:
    """Coverage class per tile (N,): 0 for empty, else ceil(coverage * 10) in 1..10."""
    coverage = np.asarray(coverage, dtype=float)
    if np.any(np.isnan(coverage)) or np.any((coverage < 0) | (coverage > 1)):
        raise ValueError("coverage must be a salt share in [0, 1] for every tile (unlabelled tiles cannot be split)")
    return np.where(coverage == 0, 0, np.clip(np.ceil(coverage * 10), 1, 10)).astype(int)


def deal_groups(groups, classes, shares, seed: int = 0) -> np.ndarray:
    """The part (0..len(shares)-1) of each tile, dealing whole groups (``groups``: one label per
    tile, e.g. a mosaic) so that each part approaches its share of the tiles (``shares``, summing
    to 1) and of each coverage class (``classes``): what ``mosaic.grouped_split`` and
    ``crossval.assign_folds`` share.

    Groups of several tiles go first, largest first (ties in an order shuffled with ``seed``), each
    whole to the part furthest below its share; then the single tiles, class by class, each class
    shuffled with ``seed`` and each tile to the part furthest below its share of that class (ties:
    the one furthest below its share overall)."""
    groups, classes = np.asarray(groups), np.asarray(classes)
    if len(groups) != len(classes):
        raise ValueError("groups and classes must have one entry per tile")
    shares = np.asarray(shares, float)
    rng = np.random.default_rng(seed)
    targets = shares * len(groups)
    filled = np.zeros(len(shares))
    part = np.full(len(groups), -1)
    sizes = pd.Series(groups).value_counts()
    several = sizes[sizes > 1]
    for group in sorted(several.index, key=lambda g: (-several[g], rng.random())):
        members = groups == group
        chosen = int(np.argmax((targets - filled) / targets))
        part[members] = chosen
        filled[chosen] += members.sum()
    singles = np.isin(groups, sizes[sizes == 1].index)
    for label in np.unique(classes):
        members = np.flatnonzero(singles & (classes == label))
        members = members[rng.permutation(len(members))]
        class_targets = shares * np.sum(classes == label)
        class_filled = np.array([np.sum((classes == label) & (part == k)) for k in range(len(shares))], float)
        for member in members:
            chosen = int(np.argmax((class_targets - class_filled) + 1e-3 * (targets - filled)))
            part[member] = chosen
            class_filled[chosen] += 1
            filled[chosen] += 1
    return part


def split_622(ids, coverage, seed: int = 0) -> pd.DataFrame:
    """Assign each tile to train, val or test, 6:2:2 within each coverage class.

    Returns a DataFrame with columns ``id`` and ``split``, in the order of ``ids``. The same ids,
    coverage and seed always give the same split.
    """
    ids = np.asarray(ids).astype(str)
    classes = coverage_class(coverage)
    if len(ids) != len(classes):
        raise ValueError(f"{len(ids)} ids but {len(classes)} coverage values")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    rng = np.random.default_rng(seed)
    split = np.empty(len(ids), dtype=object)
    cut_points = np.cumsum(RATIOS)[:-1]  # 0.6, 0.8
    for label in range(11):
        members = np.flatnonzero(classes == label)
        members = members[rng.permutation(len(members))]
        train_end, val_end = np.round(cut_points * len(members)).astype(int)
        split[members[:train_end]] = "train"
        split[members[train_end:val_end]] = "val"
        split[members[val_end:]] = "test"
    return pd.DataFrame({"id": ids, "split": split.astype(str)})


def save_split(table: pd.DataFrame, path) -> Path:
    """Write a split table to CSV (columns id, split), atomically, and return the path."""
    with atomic_write(path) as partial:
        table[["id", "split"]].to_csv(partial, index=False)
    return Path(path)


def load_split(path) -> pd.DataFrame:
    """Read a split CSV written by :func:`save_split`, checking that it is well formed."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(table.columns) != ["id", "split"]:
        raise ValueError(f"{path}: columns are {list(table.columns)}, expected id,split")
    unknown = set(table["split"]) - set(SPLITS)
    if unknown:
        raise ValueError(f"{path}: unknown split names {sorted(unknown)}; expected {SPLITS}")
    if table["id"].duplicated().any():
        raise ValueError(f"{path}: id {table['id'][table['id'].duplicated()].iloc[0]!r} is listed twice")
    return table


def split_hash(table: pd.DataFrame) -> str:
    """A short hash of a split's content (which id is in which split), independent of row order:
    models record it, so a model is only reused on the split it was validated on."""
    rows = sorted(f"{tile_id},{split}" for tile_id, split in zip(table["id"], table["split"]))
    return hashlib.sha1("\n".join(rows).encode()).hexdigest()[:12]


def ids_of(table: pd.DataFrame, split: str) -> np.ndarray:
    """The tile ids assigned to ``split`` ('train', 'val' or 'test')."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    return table.loc[table["split"] == split, "id"].to_numpy()
