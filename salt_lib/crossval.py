"""K-fold cross-validation over train + validation, for an ensemble of fold models.

The test split stays as it is and untouched. The train and validation tiles together are dealt
into ``k`` folds (``assign_folds``: coverage-stratified, and with ``groups`` no mosaic of
neighbouring tiles across folds); fold ``i``'s model trains on the other folds and is validated
on fold ``i`` (``fold_dataset``), so every tile has exactly one out-of-fold prediction. The
threshold and minimum component size of the ensemble are chosen on those out-of-fold predictions
(``out_of_fold_choice``); the ensemble (the mean of the fold models' probabilities, as
``predict --model A B ...`` serves it) is scored on test once, after everything is fixed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.dataset import Dataset
from salt_lib.split import coverage_class, deal_groups, split_hash


def assign_folds(ids, coverage, k: int, groups=None, seed: int = 0) -> pd.Series:
    """The fold (0..k-1) of each tile (a Series indexed by id). Mosaics of several tiles (``groups``)
    go first, largest first, each whole to the fold with the fewest tiles; then the other tiles,
    coverage class by class, shuffled with ``seed``, each to the fold with the fewest tiles of its
    class (ties: the fewest overall)."""
    ids = np.asarray(ids).astype(str)
    if k < 2 or k > len(ids):
        raise ValueError(f"k must be between 2 and the number of tiles ({len(ids)}), got {k}")
    classes = coverage_class(coverage)
    groups = np.arange(len(ids)) if groups is None else np.asarray(groups)
    fold = deal_groups(groups, classes, np.full(k, 1 / k), seed)
    return pd.Series(fold, index=ids, name="fold")


def fold_dataset(dataset: Dataset, folds: pd.Series, index: int) -> Dataset:
    """``dataset`` with fold ``index`` as its validation tiles and the other folds as its training
    tiles; the test tiles stay test. ``folds`` must cover exactly the train and validation tiles."""
    table = dataset.split.copy()
    pool = table["split"].isin(["train", "val"])
    if set(table.loc[pool, "id"]) != set(folds.index):
        raise ValueError("the folds must cover exactly the dataset's train and validation tiles")
    if index not in set(folds):
        raise ValueError(f"no fold {index}; the folds are {sorted(set(folds))}")
    table.loc[pool, "split"] = np.where(table.loc[pool, "id"].map(folds) == index, "val", "train")
    return Dataset(dataset.root, dataset.tiles, table, None, dataset.fingerprint, split_hash(table))


def train_folds(arch: str, dataset: Dataset, runs_dir, folds: pd.Series, overrides: dict | None = None,
                training: dict | None = None, preset: str = "lite") -> list[Path]:
    """Train (or resume, or find finished) one model per fold into ``runs_dir/fold-<i>``; return
    the best models' paths, fold 0 first."""
    from salt_lib.experiments import train_run

    paths = []
    for index in sorted(set(folds)):
        run_dir = Path(runs_dir) / f"fold-{index}"
        paths.append(train_run(arch, fold_dataset(dataset, folds, index), run_dir, preset, overrides, training,
                               command=f"salt_lib.crossval.train_folds({arch!r}, fold {index} of {folds.nunique()})"))
    return paths


def out_of_fold_probabilities(models, dataset: Dataset, folds: pd.Series, tta: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Each train/validation tile's probabilities (N, 101, 101) from the one model that did not
    train on it (``models[i]`` is fold ``i``'s), and the masks, in the order of ``folds.index``."""
    from salt_lib.predict import predict

    pool = dataset.tiles.subset(list(folds.index))
    probabilities = np.zeros(pool.images.shape, dtype=np.float32)
    for index, model in enumerate(models):
        rows = np.flatnonzero(folds.to_numpy() == index)
        probabilities[rows] = predict(model, pool.images[rows], tta=tta)
    return probabilities, pool.masks


def out_of_fold_choice(probabilities: np.ndarray, masks: np.ndarray) -> dict:
    """The threshold and minimum component size chosen on out-of-fold predictions, with the
    out-of-fold tgs_score at each step."""
    from salt_lib.predict import choose_min_size, choose_threshold

    threshold, score = choose_threshold(probabilities, masks)
    min_size, cleaned = choose_min_size(probabilities, masks, threshold)
    return {"threshold": threshold, "oof_tgs_score": score, "min_size": min_size, "oof_tgs_score_min_size": cleaned,
            "tiles": len(masks)}
