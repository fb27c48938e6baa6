"""Scoring saved models: the one way to score a model file, its cached predictions, the scores
with their uncertainty, and the tables several chapters use (what only one chapter shows lives
in ``salt_lib.chapters``).

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib import metrics
from salt_lib.data import DataError, TGSData
from salt_lib.files import atomic_write
from salt_lib.predict import THRESHOLDS, choose_min_size, choose_threshold, predict_with_head, to_masks
from salt_lib.records import load_model, load_record, read_history, saved_ensemble
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
    salt = head_salt(paths, record, tiles, cache_dir, tta)
    masks = to_masks(probs, record.get("threshold", 0.5), record.get("min_size", 0), salt, record.get("empty_cut", 0.0))
    per_tile = per_tile_scores(tiles.masks, masks)
    return Evaluation(name or "+".join(path.stem for path in paths), paths[0] if len(paths) == 1 else paths, record,
                      history, probs, masks, per_tile, {score: float(values.mean()) for score, values in per_tile.items()})


def head_salt(paths, record: dict, tiles: TGSData, cache_dir=None, tta: bool = True):
    """The empty-tile head's salt probabilities (N,) for ``tiles`` when the record of a single
    model says to use them (``empty_cut`` above 0, chosen on validation by training), else None;
    from the same pass and cache as its probabilities (``model_outputs``)."""
    if len(paths) != 1 or record.get("empty_cut", 0.0) <= 0:
        return None
    return model_outputs(paths[0], tiles, cache_dir, tta, need_head=True)[1]


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
    its own; an ensemble's members' choices do not carry over to their average. An ensemble
    saved as a folder (``records.saved_ensemble``: exactly its members) gives its own record,
    chosen on out-of-fold predictions, and needs no ``val``."""
    paths = model_paths(model_path)
    if saved := saved_ensemble(paths):  # an ensemble folder (crossval.run_crossval) chose its own, out of fold
        return saved
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
    return model_outputs(paths[0], tiles, cache_dir, tta)[0]


def model_outputs(path, tiles: TGSData, cache_dir=None, tta: bool = True, need_head: bool = False):
    """One model file's salt probabilities (N, 101, 101) float32 and its empty-tile head's (N,),
    None for a model without the head, from one pass of the model (``predict.predict_with_head``).
    With a ``cache_dir`` both are cached there (``probs-<key>.npy``, ``salt-<key>.npy``) under a key
    of the model file's bytes and the tiles; ``need_head`` predicts again when only the
    probabilities are cached, as they were before the head's output was."""
    path = Path(path)
    cache = head_cache = None
    if cache_dir is not None:
        tiles_key = _digest("\n".join(tiles.ids.astype(str)), tiles.images.tobytes())
        key = f"{_digest(path.read_bytes())}-{tiles_key}-{'tta' if tta else 'plain'}"
        cache, head_cache = Path(cache_dir) / f"probs-{key}.npy", Path(cache_dir) / f"salt-{key}.npy"
        if cache.is_file() and (head_cache.is_file() or not need_head):
            return np.load(cache), (np.load(head_cache) if head_cache.is_file() else None)
    probs, salt = predict_with_head(load_model(path, compile=False), tiles.images, tta=tta)
    probs = probs.astype(np.float32)
    if cache is not None:
        with atomic_write(cache) as partial:
            np.save(partial, probs)
        if salt is not None:
            with atomic_write(head_cache) as partial:
                np.save(partial, salt)
    return probs, salt


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


def coverage_bin_table(coverage, per_tile: dict[str, np.ndarray], n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean per-tile score of each model in each coverage class (``salt_lib.split``'s eleven),
    with its 95 % bootstrap interval over the class's tiles.

    ``coverage`` (N,) salt shares; ``per_tile`` maps a model name to its (N,) per-tile scores.
    One row per class that has tiles: ``coverage_class``, ``coverage`` (a label), ``tiles``, one
    column per model (the mean), then ``<model>_ci_low`` and ``<model>_ci_high`` per model
    (``bootstrap_ci``; a class of few tiles has a wide interval). The ``tiles`` column adds up to N.
    """
    classes = coverage_class(coverage)
    rows = []
    for label in np.unique(classes):
        members = classes == label
        row = {"coverage_class": int(label), "coverage": COVERAGE_CLASS_LABELS[label], "tiles": int(members.sum())}
        row.update({name: float(np.asarray(scores)[members].mean()) for name, scores in per_tile.items()})
        for name, scores in per_tile.items():
            interval = bootstrap_ci(np.asarray(scores, dtype=float)[members], n_resamples, seed=seed)
            row.update({f"{name}_ci_low": interval["low"], f"{name}_ci_high": interval["high"]})
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


def best_and_worst(scores, iou, coverage, n: int = 4, predicted_coverage=None) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``n`` best and ``n`` worst tiles by score (ties broken by IoU).

    The best are taken among tiles with salt: an empty tile predicted empty scores 1 too, but
    shows nothing. Where more tiles tie at the last best score than there are places left (often
    many tiles score 1), the places go to tiles spread over the tied tiles' salt coverage, from
    least to most, so that the row shows small and large salt bodies rather than n near-full
    tiles. The worst come from all tiles, so missed and invented salt both show up: lowest score
    first, then lowest IoU, then the largest share of the tile that is wrong (salt missed or
    falsely found, ``wrong_share``; with ``predicted_coverage`` None, the salt coverage alone: the
    salt missed), so that among the many tiles scoring 0 the worst mistakes come first rather
    than the first tile ids. ``coverage`` and ``predicted_coverage`` are (N,) shares of the tile.
    """
    scores, iou, coverage = (np.asarray(a, dtype=float) for a in (scores, iou, coverage))
    predicted = np.zeros_like(coverage) if predicted_coverage is None else np.asarray(predicted_coverage, dtype=float)
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
    worst = np.lexsort((-wrong_share(coverage, predicted, iou), iou, scores))
    return best, worst[:n]


def wrong_share(coverage, predicted_coverage, iou) -> np.ndarray:
    """The share of each tile that a prediction gets wrong (salt missed plus salt falsely found),
    from the labelled and predicted salt shares and their IoU: with intersection I and union U,
    coverage + predicted = U + I and IoU = I / U, so the wrong share U - I is
    (coverage + predicted) (1 - IoU) / (1 + IoU)."""
    coverage, predicted, iou = (np.asarray(a, dtype=float) for a in (coverage, predicted_coverage, iou))
    return (coverage + predicted) * (1 - iou) / (1 + iou)


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


# --------------------------------------------------------------------------------------------
# Tables several chapters use
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Tile order, as result records store it
# --------------------------------------------------------------------------------------------


def ids_digest(ids) -> str:
    """A short digest of tile ids in their order: records of per-tile scores store it instead of
    the ids, so scores can be paired with the right tiles without listing the data's ids."""
    return hashlib.sha1("\n".join(np.asarray(ids).astype(str)).encode()).hexdigest()[:12]


