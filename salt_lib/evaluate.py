"""Scoring saved models: the one way to score a model file, its cached predictions, the scores
with their uncertainty, and the chapters' result tables.

``evaluate_model(model_path, tiles, cache_dir)`` loads a saved model with its record, predicts
(with flip TTA; cached in ``cache_dir`` when one is given), cuts at the record's threshold and
minimum size, and scores every tile (``Evaluation``). Given several model files it scores them as
one model (an ensemble): their probabilities averaged, cut at a threshold and minimum size chosen
on the validation tiles with those averaged probabilities (``ensemble_record``). Everything else works on numpy arrays
(bool masks (N, 101, 101), probabilities in [0, 1]). Uncertainty comes from the bootstrap over
tiles: the test set is one sample of tiles, so we resample its tiles with replacement and look at
how the mean score moves. ``paired_bootstrap`` resamples the same tiles for two models, which is
what a comparison of two models on one test set needs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib import metrics
from salt_lib.augment import check_policy
from salt_lib.data import DataError, TGSData
from salt_lib.files import atomic_write
from salt_lib.predict import THRESHOLDS, choose_min_size, choose_threshold, predict_ensemble, to_masks
from salt_lib.records import load_model, load_record, read_history
from salt_lib.split import COVERAGE_CLASS_LABELS, coverage_class

SCORES = ("tgs_score", "thesis_iou_metric", "iou", "dice", "empty_tile_accuracy")


# --------------------------------------------------------------------------------------------
# Scoring a saved model
# --------------------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """A saved model scored on labelled tiles at the threshold and minimum size of its record:
    probabilities and masks (N, 101, 101), per-tile scores (``per_tile_scores``) and their
    means (``scores``)."""

    name: str
    model_path: Path | tuple[Path, ...]  # several for an ensemble
    record: dict
    history: pd.DataFrame
    probs: np.ndarray
    masks: np.ndarray
    per_tile: dict
    scores: dict

    def summary(self) -> dict:
        """What the command line prints and an export stores: tiles, the scores (4 decimals),
        threshold and minimum size."""
        return {"tiles": len(self.masks), **{name: round(value, 4) for name, value in self.scores.items()},
                "threshold": self.record.get("threshold", 0.5), "min_size": self.record.get("min_size", 0)}


def evaluate_model(model_path, tiles: TGSData, cache_dir=None, name: str | None = None, tta: bool = True,
                   val: TGSData | None = None) -> Evaluation:
    """Predict (cached in ``cache_dir`` if given, see ``predictions``) and score a saved model
    on labelled ``tiles``, with the threshold and minimum size of its record.

    ``model_path`` may also be a list of model files, scored as one model (an ensemble): their
    probabilities averaged, its threshold and minimum size chosen on ``val`` (needed then) by
    ``ensemble_record``; the ensemble has no history.
    """
    paths = model_paths(model_path)
    probs = predictions(paths, tiles, cache_dir, tta)
    record = model_record(paths, val, cache_dir, tta)
    history = read_history(paths[0]) if len(paths) == 1 else pd.DataFrame()
    masks = to_masks(probs, record.get("threshold", 0.5), record.get("min_size", 0))
    per_tile = per_tile_scores(tiles.masks, masks)
    return Evaluation(name or "+".join(path.stem for path in paths), paths[0] if len(paths) == 1 else paths, record,
                      history, probs, masks, per_tile, {score: float(values.mean()) for score, values in per_tile.items()})


def model_paths(model_path) -> tuple[Path, ...]:
    """One model file or several (a list or tuple) as a tuple of paths."""
    paths = model_path if isinstance(model_path, (list, tuple)) else [model_path]
    return tuple(Path(path) for path in paths)


def model_record(model_path, val: TGSData | None = None, cache_dir=None, tta: bool = True) -> dict:
    """The record that says how to cut a model's probabilities into masks (``threshold``,
    ``min_size``) and what they scored on validation (``val``): one model file's own record, or
    for several files used as one, ``ensemble_record`` (chosen on ``val``, which is needed then)."""
    paths = model_paths(model_path)
    return load_record(paths[0]) if len(paths) == 1 else ensemble_record(paths, val, cache_dir, tta)


def ensemble_record(model_path, val: TGSData | None, cache_dir=None, tta: bool = True) -> dict:
    """What a record holds for several models used as one: ``members``, and the threshold and
    minimum size that maximise ``tgs_score`` of their averaged probabilities on the validation
    tiles ``val`` (with the scores there under ``val``). A single model's record chose them on
    its own; an ensemble's members' choices do not carry over to their average."""
    paths = model_paths(model_path)
    if val is None or len(val) == 0:
        raise DataError("several models are scored as one with a threshold and minimum size chosen on the validation "
                        "split: pass the labelled data they were trained on (--data).")
    splits = {load_record(path).get("provenance", {}).get("split_hash") for path in paths} - {None}
    if len(splits) > 1:
        raise DataError(f"{', '.join(map(str, paths))} were validated on different splits ({', '.join(sorted(splits))}): "
                        "their validation tiles may be another's training tiles. Combine models of one split.")
    probs = predictions(paths, val, cache_dir, tta)
    threshold, score = choose_threshold(probs, val.masks)
    min_size, score_cleaned = choose_min_size(probs, val.masks, threshold)
    return {"members": [str(path) for path in paths], "threshold": threshold, "min_size": min_size, "tta": tta,
            "val": {"tgs_score": score, "threshold": threshold, "min_size": min_size,
                    "tgs_score_min_size": score_cleaned, "tiles": len(val)}}


def predictions(model_path, tiles: TGSData, cache_dir=None, tta: bool = True) -> np.ndarray:
    """Salt probabilities (N, 101, 101) float32 of a saved model for ``tiles``, with flip TTA;
    of several model files, the mean of theirs (as ``salt_lib.predict.predict_ensemble``), each
    model's read from the cache when it is there.

    With a ``cache_dir`` each model's probabilities are cached there under a key of the model
    file's bytes and the tiles (ids and pixels), so a retrained model or other tiles never get
    stale probabilities, and an ensemble of models scored before predicts nothing again.
    """
    paths = model_paths(model_path)
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path}: no such model. Train it first (`python -m salt_lib train`, or the chapters "
                            "04_unet / 05_resunet, which publish theirs to models_dir), or fix the path.")
    if len(paths) > 1:
        total = predictions(paths[0], tiles, cache_dir, tta).copy()
        for path in paths[1:]:
            total += predictions(path, tiles, cache_dir, tta)
        return total / len(paths)
    cache = None
    if cache_dir is not None:
        tiles_key = _digest("\n".join(tiles.ids.astype(str)), tiles.images.tobytes())
        models_key = _digest(paths[0].read_bytes())
        cache = Path(cache_dir) / f"probs-{models_key}-{tiles_key}-{'tta' if tta else 'plain'}.npy"
        if cache.is_file():
            return np.load(cache)
    probs = predict_ensemble([load_model(paths[0], compile=False)], tiles.images, tta=tta).astype(np.float32)
    if cache is not None:
        with atomic_write(cache) as partial:
            np.save(partial, probs)
    return probs


def _digest(*parts) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return digest.hexdigest()[:16]


def per_tile_scores(masks_true, masks_pred) -> dict[str, np.ndarray]:
    """Each score of ``SCORES`` per tile (N,); their means are the scores (the ``salt_lib.metrics``
    function of the same name)."""
    true_empty = ~np.asarray(masks_true).reshape(len(masks_true), -1).any(axis=1)
    pred_empty = ~np.asarray(masks_pred).reshape(len(masks_pred), -1).any(axis=1)
    return {
        "tgs_score": metrics.tgs_score_per_tile(masks_true, masks_pred),
        "thesis_iou_metric": metrics.thesis_iou_per_tile(masks_true, masks_pred),
        "iou": metrics.iou_per_tile(masks_true, masks_pred),
        "dice": metrics.dice_per_tile(masks_true, masks_pred),
        "empty_tile_accuracy": (true_empty == pred_empty).astype(float),
    }


# --------------------------------------------------------------------------------------------
# Uncertainty
# --------------------------------------------------------------------------------------------


def bootstrap_means(values, n_resamples: int = 2000, seed: int = 0) -> np.ndarray:
    """Means of ``n_resamples`` resamples (with replacement, same size) of ``values`` (N,)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"need a non-empty 1-D array of per-tile values, got shape {values.shape}")
    rng = np.random.default_rng(seed)
    # Resample in chunks so that 10,000 resamples of 4,000 tiles never need 300 MB at once.
    chunks = [values[rng.integers(0, len(values), size=(size, len(values)))].mean(axis=1)
              for size in np.diff(np.r_[0:n_resamples:500, n_resamples])]
    return np.concatenate(chunks)


def bootstrap_ci(values, n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Mean of per-tile ``values`` and its percentile-bootstrap confidence interval.

    Returns ``{"mean", "low", "high"}``: ``low``/``high`` are the (1 - level) / 2 and
    (1 + level) / 2 quantiles of the resampled means.
    """
    means = bootstrap_means(values, n_resamples, seed)
    tail = (1 - level) / 2
    return {"mean": float(np.mean(values)), "low": float(np.quantile(means, tail)), "high": float(np.quantile(means, 1 - tail))}


def paired_bootstrap(scores_a, scores_b, n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Mean of ``scores_a - scores_b`` (per tile, same tiles in the same order) with its
    bootstrap confidence interval, and the share of resamples in which a beats b.

    Resampling the differences keeps each tile's pair together, so the interval reflects how
    the two models differ on the same tiles, not the (larger) spread between tiles.
    """
    scores_a, scores_b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if scores_a.shape != scores_b.shape:
        raise ValueError(f"paired scores need the same tiles: shapes {scores_a.shape} and {scores_b.shape}")
    difference = scores_a - scores_b
    means = bootstrap_means(difference, n_resamples, seed)
    tail = (1 - level) / 2
    return {"mean_difference": float(difference.mean()), "low": float(np.quantile(means, tail)),
            "high": float(np.quantile(means, 1 - tail)), "share_positive": float(np.mean(means > 0)),
            "tiles": int(len(difference))}


def coverage_bin_table(coverage, per_tile: dict[str, np.ndarray]) -> pd.DataFrame:
    """Mean per-tile score of each model in each coverage class (``salt_lib.split``'s eleven).

    ``coverage`` (N,) salt shares; ``per_tile`` maps a model name to its (N,) per-tile scores.
    One row per class that has tiles: ``coverage_class``, ``coverage`` (a label), ``tiles`` and one
    column per model. The ``tiles`` column adds up to N.
    """
    classes = coverage_class(coverage)
    rows = []
    for label in np.unique(classes):
        members = classes == label
        row = {"coverage_class": int(label), "coverage": COVERAGE_CLASS_LABELS[label], "tiles": int(members.sum())}
        row.update({name: float(np.asarray(scores)[members].mean()) for name, scores in per_tile.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def threshold_sweep(probs, masks, thresholds=None) -> pd.DataFrame:
    """``tgs_score`` of ``probs > t`` for each threshold t: columns ``threshold``, ``tgs_score``."""
    thresholds = THRESHOLDS if thresholds is None else np.asarray(thresholds)
    return pd.DataFrame({"threshold": thresholds, "tgs_score": [metrics.tgs_score(masks, probs > t) for t in thresholds]})


def threshold_plateau(sweep: pd.DataFrame, tolerance: float = 0.005) -> tuple[float, float]:
    """The lowest and highest threshold of ``threshold_sweep``'s table whose score is within
    ``tolerance`` of the best: how much the choice of threshold matters."""
    near = sweep.loc[sweep["tgs_score"] >= sweep["tgs_score"].max() - tolerance, "threshold"]
    return float(near.min()), float(near.max())


def score_table(masks_true, masks_pred, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per score of ``SCORES``: the value and a bootstrap 95 % CI over tiles (each
    score's per-tile form, ``per_tile_scores``, resampled)."""
    per_tile = per_tile_scores(masks_true, masks_pred)
    rows = []
    for name in SCORES:
        interval = bootstrap_ci(per_tile[name], n_resamples, seed=seed)
        rows.append({"score": name, "value": interval["mean"], "ci_low": interval["low"], "ci_high": interval["high"]})
    return pd.DataFrame(rows)


def best_and_worst(scores, iou, coverage, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n`` best and ``n`` worst tiles by score (ties broken by IoU).

    The best are taken among tiles with salt: an empty tile predicted empty scores 1 too, but
    shows nothing. Where more tiles tie at the last best score than there are places left (often
    many tiles score 1), the places go to tiles spread over the tied tiles' salt coverage, from
    least to most, so that the row shows small and large salt bodies rather than n near-full
    tiles. The worst come from all tiles, so missed and invented salt both show up.
    """
    scores, iou, coverage = (np.asarray(a, dtype=float) for a in (scores, iou, coverage))
    order = np.lexsort((iou, scores))  # ascending by score, then IoU
    with_salt = order[coverage[order] > 0][::-1]
    if len(with_salt) > n > 0:
        last = scores[with_salt[n - 1]]
        sure = with_salt[scores[with_salt] > last]
        tied = with_salt[scores[with_salt] == last]  # by IoU, best first
        places = n - len(sure)
        if places > 1:  # spread over coverage: the least, the most and evenly between
            tied = tied[np.argsort(coverage[tied], kind="stable")]
            tied = tied[np.round(np.linspace(0, len(tied) - 1, places)).astype(int)]
        best = np.concatenate([sure, tied[:places]])
    else:
        best = with_salt[:n]
    return best, order[:n]


FAILURE_KINDS = ("missed salt", "false alarm", "wrong outline", "models disagree")
OUTLINE_MIN_COVERAGE = 0.1  # a "wrong outline" is of a body this large (share of the tile), not a sliver


def failure_cases(scores: dict[str, np.ndarray], truths: np.ndarray, predictions: dict[str, np.ndarray],
                  n: int = 4) -> list[tuple[int, str]]:
    """``n`` test tiles that show how the models fail, as ``(index, kind)``: one tile of each kind of
    ``FAILURE_KINDS`` that occurs, then the lowest mean scores ("low score").

    * "missed salt": labelled salt that no model finds (every prediction empty); the largest such salt.
    * "false alarm": an empty tile on which every model predicts salt; the most salt predicted.
    * "wrong outline": a salt body of at least ``OUTLINE_MIN_COVERAGE`` of the tile, found by
      every model but outlined wrongly; the lowest mean IoU.
    * "models disagree": the largest spread of the models' scores (one right, one wrong).

    Ties go to the lower mean score. ``scores`` and ``predictions`` map a model name to its per-tile
    scores (N,) and binary masks (N, H, W); ``truths`` (N, H, W) are the labelled masks.
    """
    names = list(scores)
    score = np.array([np.asarray(scores[name], dtype=float) for name in names])  # (models, N)
    mean_score = score.mean(axis=0)
    truth_area = np.asarray(truths).reshape(len(truths), -1).sum(axis=1)
    areas = np.array([np.asarray(predictions[name]).reshape(len(truths), -1).sum(axis=1) for name in names])
    masks = [np.asarray(predictions[name]).reshape(len(truths), -1).astype(bool) for name in names]
    flat_truth = np.asarray(truths).reshape(len(truths), -1).astype(bool)
    iou = np.mean([(m & flat_truth).sum(axis=1) / np.maximum((m | flat_truth).sum(axis=1), 1) for m in masks], axis=0)
    candidates = {
        "missed salt": (truth_area > 0) & (areas.max(axis=0) == 0), "false alarm": (truth_area == 0) & (areas.min(axis=0) > 0),
        "wrong outline": (truth_area >= OUTLINE_MIN_COVERAGE * flat_truth.shape[1]) & (areas.min(axis=0) > 0) & (mean_score < 1),
        "models disagree": (score.max(axis=0) - score.min(axis=0)) > 0,
    }
    badness = {"missed salt": -truth_area, "false alarm": -areas.mean(axis=0), "wrong outline": iou,
               "models disagree": -(score.max(axis=0) - score.min(axis=0))}
    chosen: list[tuple[int, str]] = []
    for kind in FAILURE_KINDS:
        pool = [i for i in np.lexsort((mean_score, badness[kind])) if candidates[kind][i] and i not in {c for c, _ in chosen}]
        if pool and len(chosen) < n:
            chosen.append((int(pool[0]), kind))
    for i in np.lexsort((iou, mean_score)):
        if len(chosen) >= n:
            break
        if int(i) not in {c for c, _ in chosen}:
            chosen.append((int(i), "low score"))
    return chosen


def paired_table(result: dict, challenger: str, baseline: str) -> pd.DataFrame:
    """``paired_bootstrap``'s result as a one-row table naming the two models."""
    return pd.DataFrame([{"difference": f"{challenger} - {baseline}", "tiles": result["tiles"],
                          "mean_difference": result["mean_difference"], "ci_low": result["low"],
                          "ci_high": result["high"], "share_resamples_positive": result["share_positive"]}])


def check_intervals(table: pd.DataFrame, columns) -> pd.DataFrame:
    """Sanity checks of scores with intervals: for each ``(value, low, high)`` column triple,
    every value and bound lies in [0, 1] and every interval contains its value. One row per check
    with ``passed`` True/False: stable output for notebook tests."""
    rows = []
    for value, low, high in columns:
        rows.append({"check": f"{value} in [0, 1]", "passed": bool(table[value].between(0, 1).all())})
        rows.append({"check": f"[{low}, {high}] inside [0, 1]",
                     "passed": bool(table[low].between(0, 1).all() and table[high].between(0, 1).all())})
        rows.append({"check": f"[{low}, {high}] contains {value}",
                     "passed": bool(((table[low] <= table[value]) & (table[value] <= table[high])).all())})
    return pd.DataFrame(rows)


def check_comparison(bin_table: pd.DataFrame, tiles: int, paired: dict) -> pd.DataFrame:
    """Sanity checks of chapter 6: the coverage classes hold every test tile once; the paired
    interval contains the observed difference and lies within [-1, 1]."""
    checks = {
        "coverage classes hold every test tile": int(bin_table["tiles"].sum()) == tiles,
        "paired interval contains the mean difference": paired["low"] <= paired["mean_difference"] <= paired["high"],
        "paired interval inside [-1, 1]": -1 <= paired["low"] <= paired["high"] <= 1,
        "paired bootstrap used every test tile": paired["tiles"] == tiles,
    }
    return pd.DataFrame({"check": list(checks), "passed": [bool(v) for v in checks.values()]})


# --------------------------------------------------------------------------------------------
# The chapters' result tables
# --------------------------------------------------------------------------------------------


def training_images_per_second(record: dict, history: pd.DataFrame, train_tiles: int) -> float:
    """Training throughput (tiles per second): the median over epochs of the history's
    ``images_per_second``; without a history, epochs x tiles / wall seconds (which also counts
    the per-epoch validation, so it is a little lower)."""
    if len(history) and "images_per_second" in history:
        return float(history["images_per_second"].median())
    policy = check_policy(record.get("training", {}).get("augment", "none"))
    tiles_per_epoch = train_tiles * (2 if policy == "mirror" else 1)
    seconds = record.get("wall_seconds") or np.nan
    return float((record.get("epochs_trained") or 0) * tiles_per_epoch / seconds)


def comparison_table(results: dict[str, Evaluation], train_tiles: int, n_resamples: int = 2000) -> pd.DataFrame:
    """Chapter 6's table: one row per model with its size, training cost and test scores, and the
    95% bootstrap interval of its test ``tgs_score`` (``tgs_score_ci_low`` / ``_high``)."""
    rows = []
    for name, result in results.items():
        record = result.record
        interval = bootstrap_ci(result.per_tile["tgs_score"], n_resamples)
        rows.append({"model": name, "arch": record.get("arch"), "parameters": record.get("parameters"),
                     "training_minutes": (record.get("wall_seconds") or np.nan) / 60,
                     "train_images_per_s": training_images_per_second(record, result.history, train_tiles),
                     **result.scores, "tgs_score_ci_low": interval["low"], "tgs_score_ci_high": interval["high"],
                     "threshold": record.get("threshold"), "min_size": record.get("min_size")})
    return pd.DataFrame(rows)


def score_intervals(results: dict[str, Evaluation], scores=("tgs_score", "thesis_iou_metric"), n_resamples: int = 2000,
                    seed: int = 0) -> pd.DataFrame:
    """One row per model (``results``: name -> ``Evaluation`` of the same tiles): ``tiles``, each
    score of ``scores`` with its 95 % bootstrap interval over tiles (``<score>_ci_low``,
    ``<score>_ci_high``), and the record's ``threshold`` and ``min_size``."""
    rows = []
    for name, result in results.items():
        row = {"model": name, "tiles": len(result.masks)}
        for score in scores:
            interval = bootstrap_ci(result.per_tile[score], n_resamples, seed=seed)
            row |= {score: interval["mean"], f"{score}_ci_low": interval["low"], f"{score}_ci_high": interval["high"]}
        rows.append(row | {"threshold": result.record.get("threshold"), "min_size": result.record.get("min_size")})
    return pd.DataFrame(rows)


def paired_differences(results: dict[str, Evaluation], challenger: str, baselines, score: str = "tgs_score",
                       n_resamples: int = 2000) -> pd.DataFrame:
    """``paired_table`` rows of ``challenger`` minus each of ``baselines`` (names in ``results``,
    evaluations of the same tiles), from their per-tile ``score``, with the two names in
    ``challenger`` and ``baseline``; no rows for no baselines."""
    rows = [paired_table(paired_bootstrap(results[challenger].per_tile[score], results[baseline].per_tile[score], n_resamples),
                         challenger, baseline).assign(challenger=challenger, baseline=baseline) for baseline in baselines]
    columns = ["difference", "tiles", "mean_difference", "ci_low", "ci_high", "share_resamples_positive", "challenger", "baseline"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


# Chapter 7's post-processing steps, in order: each adds one thing to the one before.
POSTPROCESSING_STEPS = ("no TTA, threshold 0.5", "flip TTA, threshold 0.5", "flip TTA, tuned threshold", "+ tuned min size")


def postprocessing_table(model_path, val: TGSData, cache_dir=None, n_resamples: int = 2000, seed: int = 0,
                         name: str | None = None) -> pd.DataFrame:
    """The post-processing ablation on the labelled tiles ``val`` (chapter 7): one row per step of
    ``POSTPROCESSING_STEPS``, each adding one thing to the one before:

    1. the network's probabilities (no TTA) cut at 0.5;
    2. averaged with those of the left-right mirrored tile (flip TTA), cut at 0.5;
    3. cut at the threshold of the model's record (``model_record``: chosen on validation);
    4. salt regions under the record's ``min_size`` pixels dropped.

    ``model_path``: one model file, several as one (a list: an ensemble, its threshold and minimum
    size chosen on ``val``), or a dict name -> either, for one block of rows per model (``name``
    labels a single one). Columns: ``model``, ``step``, ``tta``, ``threshold``, ``min_size``,
    ``tgs_score`` (mean over tiles), ``gain`` over the step before with its paired bootstrap 95 %
    interval over tiles (``gain_low``, ``gain_high``), and ``total_gain`` over step 1 with its
    interval (``total_low``, ``total_high``); both NaN in step 1. A model's gains add up to its
    last ``total_gain``. Probabilities come from ``predictions`` (cached: nothing is predicted twice).
    """
    if isinstance(model_path, dict):
        return pd.concat([postprocessing_table(path, val, cache_dir, n_resamples, seed, model_name)
                          for model_name, path in model_path.items()], ignore_index=True)
    paths = model_paths(model_path)
    record = model_record(paths, val, cache_dir)
    threshold, min_size = record.get("threshold", 0.5), record.get("min_size", 0)
    plain, flipped = predictions(paths, val, cache_dir, tta=False), predictions(paths, val, cache_dir, tta=True)
    settings = [(plain, False, 0.5, 0), (flipped, True, 0.5, 0), (flipped, True, threshold, 0), (flipped, True, threshold, min_size)]
    scores = [metrics.tgs_score_per_tile(val.masks, to_masks(probs, cut, size)) for probs, _, cut, size in settings]
    none = {"mean_difference": np.nan, "low": np.nan, "high": np.nan}  # step 1 has nothing before it
    rows = []
    for k, (step, (_, tta, cut, size)) in enumerate(zip(POSTPROCESSING_STEPS, settings)):
        gain = paired_bootstrap(scores[k], scores[k - 1], n_resamples, seed=seed) if k else none
        total = paired_bootstrap(scores[k], scores[0], n_resamples, seed=seed) if k else none
        rows.append({"model": name or "+".join(path.stem for path in paths), "step": step, "tta": tta, "threshold": cut,
                     "min_size": size, "tgs_score": float(scores[k].mean()),
                     "gain": gain["mean_difference"], "gain_low": gain["low"], "gain_high": gain["high"],
                     "total_gain": total["mean_difference"], "total_low": total["low"], "total_high": total["high"]})
    return pd.DataFrame(rows)


def record_reconciliation(model_paths_by_name: dict, val: TGSData, table: pd.DataFrame, cache_dir=None) -> pd.DataFrame:
    """The validation scores a model's record holds beside the same scores recomputed here, and the
    step of the post-processing ``table`` (``postprocessing_table`` of these models on ``val``)
    that each one is:

    * ``val.tgs_score_no_tta``: the training loop's selection score, the kept epoch's probabilities
      (flip TTA only if the record's training says ``val_tta``) at the threshold tuned on
      validation, with no minimum size: no step of the table (step 1 with step 3's kind of threshold);
    * ``val.tgs_score``: step 3 (flip TTA, tuned threshold);
    * ``val.tgs_score_min_size``: step 4 (+ tuned min size).

    One row per model and recorded score (a score the record lacks, e.g. an ensemble's
    ``tgs_score_no_tta``, is left out): ``model``, ``recorded_as``, ``step`` (or "none"),
    ``recorded``, ``recomputed``, ``difference`` (recomputed - recorded).
    """
    rows = []
    for name, path in model_paths_by_name.items():
        recorded = model_record(path, val, cache_dir).get("val", {})
        steps = table[table["model"] == name].set_index("step")["tgs_score"]
        recomputed = {"tgs_score": steps[POSTPROCESSING_STEPS[2]], "tgs_score_min_size": steps[POSTPROCESSING_STEPS[3]]}
        if "tgs_score_no_tta" in recorded:
            val_tta = load_record(model_paths(path)[0]).get("training", {}).get("val_tta", False)
            recomputed["tgs_score_no_tta"] = choose_threshold(predictions(path, val, cache_dir, val_tta), val.masks)[1]
        for key, step in (("tgs_score_no_tta", "none"), ("tgs_score", POSTPROCESSING_STEPS[2]),
                          ("tgs_score_min_size", POSTPROCESSING_STEPS[3])):
            if recorded.get(key) is not None:
                rows.append({"model": name, "recorded_as": f"val.{key}", "step": step, "recorded": float(recorded[key]),
                             "recomputed": float(recomputed[key]), "difference": float(recomputed[key] - recorded[key])})
    return pd.DataFrame(rows)


def check_postprocessing(table: pd.DataFrame, reconciliation: pd.DataFrame, tolerance: float = 0.005) -> pd.DataFrame:
    """Sanity checks of chapter 7's post-processing table and the records it reconciles: every
    model has the four steps in order; its gains add up to its total gain; every interval
    contains its gain; the records' ``val.tgs_score`` and ``val.tgs_score_min_size`` are steps 3
    and 4 recomputed (within ``tolerance``: predictions on another machine may differ in the last
    bits). One row per check with ``passed``: stable output for notebook tests."""
    by_model = list(table.groupby("model", sort=False))
    later = table[table["step"] != POSTPROCESSING_STEPS[0]]
    tuned = reconciliation[reconciliation["step"] != "none"]
    checks = {
        "every model has the four steps in order": all(list(rows["step"]) == list(POSTPROCESSING_STEPS) for _, rows in by_model),
        "each model's gains add up to its total gain": all(
            abs(rows["gain"].sum() - rows["total_gain"].iloc[-1]) < 1e-9 for _, rows in by_model),
        "every gain interval contains its gain": bool(((later["gain_low"] <= later["gain"]) & (later["gain"] <= later["gain_high"])).all()),
        "every total interval contains its total": bool(
            ((later["total_low"] <= later["total_gain"]) & (later["total_gain"] <= later["total_high"])).all()),
        "records' val.tgs_score and val.tgs_score_min_size are steps 3 and 4": bool(
            len(tuned) and (tuned["difference"].abs() <= tolerance).all()),
    }
    return pd.DataFrame({"check": list(checks), "passed": [bool(v) for v in checks.values()]})


# --------------------------------------------------------------------------------------------
# Runs trained elsewhere (the thesis's full-size networks on a GPU): small committed records
# --------------------------------------------------------------------------------------------


def ids_digest(ids) -> str:
    """A short digest of tile ids in their order: records of per-tile scores store it instead of
    the ids, so scores can be paired with the right tiles without listing the data's ids."""
    return hashlib.sha1("\n".join(np.asarray(ids).astype(str)).encode()).hexdigest()[:12]


def read_result_runs(results_dir) -> dict[str, dict]:
    """The runs under ``results_dir`` (``benchmarks/gpu_score_records.py`` writes them): for each
    folder with a ``record.json``, ``{"record", "history", "tiles"}`` (the record dict, the
    per-epoch history and the per-tile scores of validation and test in the split's order)."""
    runs = {}
    for folder in sorted(Path(results_dir).iterdir()):
        if (folder / "record.json").is_file():
            runs[folder.name] = {"record": json.loads((folder / "record.json").read_text()),
                                 "history": pd.read_csv(folder / "history.csv"),
                                 "tiles": pd.read_csv(folder / "tiles.csv")}
    if not runs:
        raise FileNotFoundError(f"{results_dir}: no run records (folders with record.json)")
    return dict(sorted(runs.items(), key=lambda item: item[1]["record"]["parameters"]))  # smallest network first


def result_runs_table(runs: dict[str, dict], lite: dict[str, Evaluation], test_ids, n_resamples: int = 2000) -> pd.DataFrame:
    """One row per GPU-trained run and per lite model (``lite``: chapter 6's evaluations of the
    same test tiles): parameters, epochs trained of the budget, where and how fast it trained,
    validation and test ``tgs_score`` (test with its 95 % bootstrap interval over tiles).
    A run's per-tile scores must be for these test tiles in this order (checked by digest)."""
    digest = ids_digest(test_ids)
    rows = []
    for name, run in runs.items():
        record = run["record"]
        if record["tiles_order"]["test"]["ids_sha1"] != digest:
            raise ValueError(f"{name}: its test scores are for other tiles than this split's test tiles")
        scores = run["tiles"].query("split == 'test'")["tgs_score"].to_numpy()
        interval = bootstrap_ci(scores, n_resamples)
        rows.append({"model": f"{record['arch']} thesis", "parameters": record["parameters"],
                     "epochs": f"{record['epochs_trained']} of {record['recipe']['epochs']}" + (" (time cap)" if record.get("cut_by_time") else ""),
                     "best_epoch": record["best_epoch"], "trained_on": f"{record['device_kind']}, {record['recipe']['precision']}",
                     "train_images_per_s": record["median_train_images_per_second"],
                     "val_tgs_score": record["val"]["tgs_score_min_size"], "test_tgs_score": interval["mean"],
                     "test_ci_low": interval["low"], "test_ci_high": interval["high"]})
    for name, result in lite.items():
        record = result.record
        interval = bootstrap_ci(result.per_tile["tgs_score"], n_resamples)
        val = record.get("val", {})
        rows.append({"model": f"{name} ({record.get('preset', 'lite')})", "parameters": record.get("parameters"),
                     "epochs": str(record.get("epochs_trained")), "best_epoch": record.get("best_epoch"),
                     "trained_on": f"CPU, 2 cores, {record.get('precision', 'float32')}", "train_images_per_s": training_images_per_second(record, result.history, 0),
                     "val_tgs_score": val.get("tgs_score_min_size", val.get("tgs_score")), "test_tgs_score": interval["mean"],
                     "test_ci_low": interval["low"], "test_ci_high": interval["high"]})
    return pd.DataFrame(rows)
