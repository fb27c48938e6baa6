"""K-fold cross-validation over train + validation, for an ensemble of fold models.

The test split stays as it is and untouched. The train and validation tiles together are dealt
into ``k`` folds (``assign_folds``: coverage-stratified, and with ``groups`` no mosaic of
neighbouring tiles across folds); fold ``i``'s model trains on the other folds and is validated
on fold ``i`` (``fold_dataset``), so every tile has exactly one out-of-fold prediction. The
threshold and minimum component size of the ensemble are chosen on those out-of-fold predictions
(``out_of_fold_choice``); the ensemble (the mean of the fold models' probabilities, as
``predict --model A B ...`` serves it) is scored on test once, after everything is fixed.

``run_crossval`` does all of it in one resumable call and writes the ensemble as a folder:
each fold's model without optimizer state (``<arch>-fold<i>.keras`` with its record and
history), the folds (``folds.csv``) and ``ensemble.json`` (members, the out-of-fold threshold
and minimum size, each fold's validation score). ``evaluate.model_record`` reads that file for
exactly its members, so ``predict --model DIR/*.keras`` needs no labelled data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.dataset import Dataset
from salt_lib.files import atomic_write, portable_path, write_json
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


def pool_folds(dataset: Dataset, k: int, groups: pd.Series | None = None, seed: int = 0) -> pd.Series:
    """The folds of ``dataset``'s train and validation tiles (``assign_folds``); ``groups``: tile id
    -> mosaic, each mosaic kept whole within a fold. The folds depend on the tiles, not on the order
    the split table lists them in (a packed copy of the data lists them part by part)."""
    pool = dataset.split[dataset.split["split"] != "test"]
    ids = np.sort(pool["id"].astype(str).to_numpy())
    labels = None if groups is None else groups.reindex(ids).to_numpy()
    if labels is not None and pd.isna(labels).any():
        raise ValueError(f"groups: no mosaic for {int(pd.isna(labels).sum())} of the train and validation tiles")
    return assign_folds(ids, dataset.tiles.subset(list(ids)).coverage, k, labels, seed)


def train_fold(arch: str, dataset: Dataset, runs_dir, folds: pd.Series, index: int, overrides: dict | None = None,
               training: dict | None = None, preset: str = "lite") -> Path:
    """Train (or resume, or find finished) fold ``index``'s model into ``runs_dir/fold-<index>``;
    return the best model's path."""
    from salt_lib.experiments import train_run

    return train_run(arch, fold_dataset(dataset, folds, index), Path(runs_dir) / f"fold-{index}", preset, overrides, training,
                     command=f"salt_lib.crossval.train_folds({arch!r}, fold {index} of {folds.nunique()})")


def train_folds(arch: str, dataset: Dataset, runs_dir, folds: pd.Series, overrides: dict | None = None,
                training: dict | None = None, preset: str = "lite") -> list[Path]:
    """Train (or resume, or find finished) one model per fold into ``runs_dir/fold-<i>``; return
    the best models' paths, fold 0 first."""
    return [train_fold(arch, dataset, runs_dir, folds, index, overrides, training, preset) for index in sorted(set(folds))]


def out_of_fold_probabilities(model_paths, dataset: Dataset, folds: pd.Series, tta: bool = True,
                              cache_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """Each train/validation tile's probabilities (N, 101, 101) from the one model that did not
    train on it (``model_paths[i]`` is fold ``i``'s model file), and the masks, in the order of
    ``folds.index``. With ``cache_dir`` each fold's predictions are cached there
    (``evaluate.model_outputs``), so a rerun predicts nothing again."""
    from salt_lib.evaluate import model_outputs

    pool = dataset.tiles.subset(list(folds.index))
    probabilities = np.zeros(pool.images.shape, dtype=np.float32)
    for index, path in enumerate(model_paths):
        rows = np.flatnonzero(folds.to_numpy() == index)
        probabilities[rows] = model_outputs(path, pool.subset(list(pool.ids[rows])), cache_dir, tta)[0]
    return probabilities, pool.masks


def out_of_fold_choice(probabilities: np.ndarray, masks: np.ndarray) -> dict:
    """The threshold and minimum component size chosen on out-of-fold predictions, with the
    out-of-fold tgs_score at each step."""
    from salt_lib.predict import choose_min_size, choose_threshold

    threshold, score = choose_threshold(probabilities, masks)
    min_size, cleaned = choose_min_size(probabilities, masks, threshold)
    return {"threshold": threshold, "oof_tgs_score": score, "min_size": min_size, "oof_tgs_score_min_size": cleaned,
            "tiles": len(masks)}


def run_crossval(arch: str, dataset: Dataset, runs_dir, out_dir, k: int = 5, groups: pd.Series | None = None,
                 overrides: dict | None = None, training: dict | None = None, preset: str = "lite", seed: int = 0,
                 command: str | None = None) -> dict:
    """Train ``k`` fold models of ``arch`` over ``dataset``'s train + validation tiles (``groups``:
    tile id -> mosaic, kept whole within a fold; resumed in ``runs_dir`` by calling again), choose
    the threshold and minimum size on their out-of-fold predictions, and write the ensemble to
    ``out_dir`` (see the module's docstring). The test tiles are not predicted. Returns the
    ensemble's record, as written to ``out_dir/ensemble.json``."""
    from salt_lib.records import ENSEMBLE_FILE, export_model, load_record

    folds = pool_folds(dataset, k, groups, seed)
    paths = train_folds(arch, dataset, runs_dir, folds, overrides, training, preset)
    probabilities, masks = out_of_fold_probabilities(paths, dataset, folds, cache_dir=Path(runs_dir) / "cache")
    choice = out_of_fold_choice(probabilities, masks)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    members = []
    for index, path in enumerate(paths):
        member = out / f"{arch}-fold{index}.keras"
        export_model(path.parent, member)
        members.append(member.name)
    table = pd.DataFrame({"id": folds.index, "fold": folds.to_numpy()})
    with atomic_write(out / "folds.csv") as partial:
        table.to_csv(partial, index=False)
    fold_scores = [load_record(path).get("val", {}).get("tgs_score_min_size") for path in paths]
    record = {"members": members, "arch": arch, "preset": preset, "k": k, "grouped": groups is not None,
              "threshold": choice["threshold"], "min_size": choice["min_size"],
              "val": {"chosen_on": "out-of-fold predictions of the train and validation tiles", "tgs_score": choice["oof_tgs_score"],
                      "tgs_score_min_size": choice["oof_tgs_score_min_size"], "tiles": choice["tiles"], "per_fold": fold_scores},
              "provenance": dataset.provenance() | {"folds_hash": split_hash(table.assign(split=table["fold"].astype(str))),
                                                    "runs": portable_path(runs_dir), "command": command}}
    write_json(out / ENSEMBLE_FILE, record)  # last: a folder without it is not an ensemble yet
    return record

