"""Intervals for studies over seeds and tiles, and a correction for comparing many pairs.

A study's score varies with the training seed and with the test tiles. Resampling tiles alone
treats the seeds' models as fixed; resampling seeds alone ignores that the tiles are a sample.
``two_level_bootstrap`` resamples both: seeds with replacement, then tiles with replacement, the
same tiles for every seed of a resample, as a hierarchical bootstrap does (Davison & Hinkley
1997, section 3.8). Paired differences (two arms on the same seeds and tiles) are resampled the
same way, pairs kept together. ``cluster`` keeps tiles of one cluster (a mosaic of neighbouring
tiles) together.

``holm`` adjusts the p-values of a family of comparisons (Holm 1979): the i-th smallest is
multiplied by (m - i + 1), and the running maximum keeps the order; a difference is decided at
level alpha when its adjusted p-value is below alpha. ``bootstrap_p`` is the two-sided bootstrap
p-value of "no difference": twice the share of resampled differences on the other side of 0.
"""

from __future__ import annotations

import numpy as np


def _resample_indices(rng, n: int, resamples: int) -> np.ndarray:
    return rng.integers(0, n, size=(resamples, n))


def two_level_means(scores, resamples: int = 2000, seed: int = 0, cluster=None) -> np.ndarray:
    """Bootstrap distribution (resamples,) of the mean of ``scores`` (seeds, tiles): each resample
    draws seeds with replacement, then tiles (or whole clusters of tiles, ``cluster`` (tiles,)
    labels) with replacement, and averages the drawn scores."""
    scores = _seeds_by_tiles(scores)
    rng = np.random.default_rng(seed)
    seed_weights = _draw_weights(rng, len(scores), resamples)  # (resamples, seeds)
    tile_weights = _tile_weights(rng, scores.shape[1], resamples, cluster)  # (resamples, tiles)
    return _weighted_means(scores, seed_weights, tile_weights)


def two_level_gap(scores_a, scores_b, resamples: int = 2000, level: float = 0.95, seed: int = 0,
                  cluster=None) -> dict[str, float]:
    """``scores_a - scores_b`` on the same tiles by models of different seeds (``scores_a``
    (seeds_a, tiles), ``scores_b`` (seeds_b, tiles), e.g. networks trained on two splits): each
    resample draws each side's seeds on its own, then one set of tiles (or clusters) for both, so
    the tiles stay paired. Returns the difference of the means, its interval and the bootstrap
    p-value of no difference."""
    a, b = _seeds_by_tiles(scores_a), _seeds_by_tiles(scores_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"both sides need the same tiles, got {a.shape[1]} and {b.shape[1]}")
    rng = np.random.default_rng(seed)
    weights_a, weights_b = _draw_weights(rng, len(a), resamples), _draw_weights(rng, len(b), resamples)
    tile_weights = _tile_weights(rng, a.shape[1], resamples, cluster)
    differences = _weighted_means(a, weights_a, tile_weights) - _weighted_means(b, weights_b, tile_weights)
    low, high = percentile_interval(differences, level)
    return {"difference": float(a.mean() - b.mean()), "low": float(low), "high": float(high),
            "p_value": bootstrap_p(differences)}


def _seeds_by_tiles(scores) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or 0 in scores.shape:
        raise ValueError(f"scores must be (seeds, tiles) with at least one of each, got shape {scores.shape}")
    return scores


def _draw_weights(rng, n: int, resamples: int) -> np.ndarray:
    """How often each of ``n`` items is drawn in each resample (resamples, n)."""
    return np.stack([np.bincount(row, minlength=n) for row in _resample_indices(rng, n, resamples)])


def _tile_weights(rng, n_tiles: int, resamples: int, cluster=None) -> np.ndarray:
    """How often each tile is drawn in each resample: tiles on their own, or as often as their
    cluster (``cluster``: (tiles,) labels) is drawn."""
    if cluster is None:
        return _draw_weights(rng, n_tiles, resamples)
    labels, members = np.unique(np.asarray(cluster), return_inverse=True)
    return _draw_weights(rng, len(labels), resamples)[:, members]


def _weighted_means(scores, seed_weights, tile_weights) -> np.ndarray:
    totals = np.einsum("rs,st,rt->r", seed_weights, scores, tile_weights)
    return totals / (seed_weights.sum(axis=1) * tile_weights.sum(axis=1))


def two_level_interval(scores, resamples: int = 2000, level: float = 0.95, seed: int = 0, cluster=None) -> dict[str, float]:
    """Mean of ``scores`` (seeds, tiles) with a two-level bootstrap interval: mean, low, high."""
    means = two_level_means(scores, resamples, seed, cluster)
    low, high = percentile_interval(means, level)
    return {"mean": float(np.mean(scores)), "low": float(low), "high": float(high)}


def two_level_difference(scores_a, scores_b, resamples: int = 2000, level: float = 0.95, seed: int = 0,
                         cluster=None) -> dict[str, float]:
    """``scores_a - scores_b``, both (seeds, tiles) on the same seeds and tiles (row i of each
    trained with seed i), with a two-level interval and the bootstrap p-value of no difference."""
    a, b = np.asarray(scores_a, float), np.asarray(scores_b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired scores need one shape, got {a.shape} and {b.shape}")
    differences = two_level_means(a - b, resamples, seed, cluster)
    low, high = percentile_interval(differences, level)
    return {"difference": float(np.mean(a - b)), "low": float(low), "high": float(high),
            "p_value": bootstrap_p(differences)}


def percentile_interval(draws, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap ``draws``: their percentiles at both tails."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_p(differences) -> float:
    """Two-sided bootstrap p-value of "no difference" from resampled differences: twice the
    smaller share on either side of 0 (capped at 1; at least one resample's worth)."""
    differences = np.asarray(differences, float)
    below, above = np.mean(differences <= 0), np.mean(differences >= 0)
    return float(min(1.0, max(2 * min(below, above), 1 / len(differences))))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the order given."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted
