"""Scoring segmentations: the competition score and its relatives, with uncertainty.

Everything here works on numpy arrays (bool masks (N, 101, 101), probabilities in [0, 1]), except
``evaluate_model``, which loads a saved model and predicts first. Uncertainty comes from the
bootstrap over tiles: the test set is one sample of tiles, so we resample its tiles with
replacement and look at how the mean score moves. ``paired_bootstrap`` resamples the same tiles
for two models, which is what a comparison of two models on one test set needs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salt_lib import metrics
from salt_lib.split import coverage_class

SCORES = ("tgs_score", "seed_iou_metric", "iou", "dice", "empty_tile_accuracy")

COVERAGE_CLASS_LABELS = ["empty"] + [f"({10 * k - 10}, {10 * k}] %" for k in range(1, 11)]


def evaluate_model(model_path, tiles, tta: bool = True) -> dict:
    """Scores of a saved model on labelled tiles, with the threshold and minimum size in its JSON."""
    from salt_lib.models import load_model
    from salt_lib.predict import predict, to_masks

    model = load_model(model_path, compile=False)
    config = model.salt_config
    probs = predict(model, tiles.images, tta=tta)
    masks = to_masks(probs, config.get("threshold", 0.5), config.get("min_size", 0))
    scores = {name: round(value, 4) for name, value in score_masks(tiles.masks, masks).items()}
    return {"tiles": len(tiles), **scores, "threshold": config.get("threshold", 0.5), "min_size": config.get("min_size", 0)}


def score_masks(masks_true, masks_pred) -> dict[str, float]:
    """The five scores of ``SCORES`` (each a mean over tiles, in [0, 1]) for bool masks."""
    return {name: getattr(metrics, name)(masks_true, masks_pred) for name in SCORES}


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
    from salt_lib.predict import THRESHOLDS

    thresholds = THRESHOLDS if thresholds is None else np.asarray(thresholds)
    return pd.DataFrame({"threshold": thresholds, "tgs_score": [metrics.tgs_score(masks, probs > t) for t in thresholds]})


def score_table(masks_true, masks_pred, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per score of ``SCORES``: the value and a bootstrap 95 % CI over tiles.

    ``seed_iou_metric`` has no per-tile form in ``salt_lib.metrics``; its interval comes from the
    same formula applied tile by tile (``seed_iou_per_tile``).
    """
    per_tile = per_tile_scores(masks_true, masks_pred)
    rows = []
    for name in SCORES:
        interval = bootstrap_ci(per_tile[name], n_resamples, seed=seed)
        rows.append({"score": name, "value": interval["mean"], "ci_low": interval["low"], "ci_high": interval["high"]})
    return pd.DataFrame(rows)


def seed_iou_per_tile(masks_true, masks_pred) -> np.ndarray:
    """The per-tile form of ``metrics.seed_iou_metric`` (its mean is that metric)."""
    return metrics.seed_iou_per_tile(masks_true, masks_pred)


def per_tile_scores(masks_true, masks_pred) -> dict[str, np.ndarray]:
    """Each score of ``SCORES`` per tile (N,): their means are the scores of ``score_masks``."""
    true_empty = ~np.asarray(masks_true).reshape(len(masks_true), -1).any(axis=1)
    pred_empty = ~np.asarray(masks_pred).reshape(len(masks_pred), -1).any(axis=1)
    return {
        "tgs_score": metrics.tgs_score_per_tile(masks_true, masks_pred),
        "seed_iou_metric": seed_iou_per_tile(masks_true, masks_pred),
        "iou": metrics.iou_per_tile(masks_true, masks_pred),
        "dice": metrics.dice_per_tile(masks_true, masks_pred),
        "empty_tile_accuracy": (true_empty == pred_empty).astype(float),
    }


def best_and_worst(scores, iou, coverage, n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n`` best and ``n`` worst tiles by score (ties broken by IoU).

    The best are taken among tiles with salt: an empty tile predicted empty scores 1 too, but
    shows nothing. The worst come from all tiles, so missed and invented salt both show up.
    """
    scores, iou, coverage = (np.asarray(a, dtype=float) for a in (scores, iou, coverage))
    order = np.lexsort((iou, scores))  # ascending by score, then IoU
    with_salt = order[coverage[order] > 0]
    return with_salt[::-1][:n], order[:n]


def failure_cases(scores: dict[str, np.ndarray], iou: dict[str, np.ndarray], n: int = 4) -> np.ndarray:
    """Indices of the ``n`` tiles on which the models together do worst: lowest mean score over
    the models, ties broken by lowest mean IoU. ``scores`` and ``iou`` map a model name to its
    per-tile values (N,), the same tiles for every model."""
    mean_score = np.mean([np.asarray(v, dtype=float) for v in scores.values()], axis=0)
    mean_iou = np.mean([np.asarray(v, dtype=float) for v in iou.values()], axis=0)
    return np.lexsort((mean_iou, mean_score))[:n]


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
