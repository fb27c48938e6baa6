"""Scores for salt masks: the competition metric and its relatives.

The TGS competition treats each tile's mask as one object. A tile scores the mean, over the IoU
thresholds 0.50, 0.55, ..., 0.95, of ``IoU > t``; a tile with no salt scores 1 if the prediction is
empty too, else 0. The data set's score is the mean over tiles. Everything here is vectorised
numpy over whole stacks of tiles. ``thesis_iou_metric`` is the source thesis's approximation of it.
"""

from __future__ import annotations

import warnings

import numpy as np

IOU_THRESHOLDS = np.arange(0.5, 1.0, 0.05)  # 0.50, 0.55, ..., 0.95: ten thresholds


def as_binary_masks(masks, name: str = "masks") -> np.ndarray:
    """Return ``masks`` as a bool array (N, P) of flattened tiles.

    Accepts (N, H, W) or (N, H, W, 1) arrays of bool or of the values {0, 1}. Anything else (in
    particular probabilities) raises ValueError: thresholding is the caller's decision.
    """
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.ndim != 3:
        raise ValueError(f"{name}: expected (N, H, W) or (N, H, W, 1), got shape {masks.shape}")
    if masks.dtype != bool:
        if not np.all((masks == 0) | (masks == 1)):
            raise ValueError(
                f"{name}: values must be bool or 0/1; got e.g. {masks[(masks != 0) & (masks != 1)][:3]}."
                " Threshold probabilities first (e.g. probs > threshold)."
            )
        masks = masks.astype(bool)
    return masks.reshape(len(masks), -1)


def _overlaps(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-tile pixel counts: intersection, union, truth area, prediction area (each (N,))."""
    truth = as_binary_masks(y_true, "y_true")
    pred = as_binary_masks(y_pred, "y_pred")
    if truth.shape != pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {truth.shape} vs {pred.shape}")
    true_area = np.count_nonzero(truth, axis=1)
    pred_area = np.count_nonzero(pred, axis=1)
    intersection = np.count_nonzero(truth & pred, axis=1)
    return intersection, true_area + pred_area - intersection, true_area, pred_area


def iou_per_tile(y_true, y_pred) -> np.ndarray:
    """Intersection over union per tile (N,); two empty masks count as IoU 1."""
    intersection, union, _, _ = _overlaps(y_true, y_pred)
    return np.where(union == 0, 1.0, intersection / np.maximum(union, 1))


def tgs_score_per_tile(y_true, y_pred) -> np.ndarray:
    """The competition score of each tile (N,), in steps of 0.1 from 0 to 1."""
    tile_iou = iou_per_tile(y_true, y_pred)
    # An empty truth with an empty prediction has IoU 1 and passes every threshold; an empty
    # truth with any predicted pixel has IoU 0 and passes none: the competition's rule exactly.
    return (tile_iou[:, None] > IOU_THRESHOLDS[None, :]).mean(axis=1)


def tgs_score(y_true, y_pred) -> float:
    """The TGS competition metric: mean over tiles of :func:`tgs_score_per_tile`."""
    return float(tgs_score_per_tile(y_true, y_pred).mean())


def thesis_iou_metric(y_true, y_pred) -> float:
    """The source thesis's stepwise approximation of the competition metric, kept for comparison.

    Per tile ``floor(max(0, (iou - 0.45) * 20)) / 10``, averaged over tiles. It differs from
    :func:`tgs_score` in two places: at an IoU exactly on a threshold (0.5, 0.55, ...) it counts
    the threshold as passed, where the competition needs ``IoU > t`` (e.g. IoU 0.5 gives 0.1 here
    and 0 there); and at IoU 1 the formula gives 1.1, which we clip to 1 so that the two scores
    share a scale. Two empty masks count as IoU 1 in both.
    """
    return float(thesis_iou_per_tile(y_true, y_pred).mean())


def thesis_iou_per_tile(y_true, y_pred) -> np.ndarray:
    """The per-tile form of :func:`thesis_iou_metric` (N,), in steps of 0.1 from 0 to 1."""
    tile_iou = iou_per_tile(y_true, y_pred)
    # Round before flooring so that e.g. (0.55 - 0.45) * 20 = 1.9999999999999996 counts as 2.
    steps = np.floor(np.round(np.maximum(0.0, (tile_iou - 0.45) * 20), 9)) / 10
    return np.minimum(steps, 1.0)


def seed_iou_metric(y_true, y_pred) -> float:
    """Deprecated name of :func:`thesis_iou_metric` (goes in the next release)."""
    warnings.warn("seed_iou_metric is called thesis_iou_metric now", DeprecationWarning, stacklevel=2)
    return thesis_iou_metric(y_true, y_pred)


def seed_iou_per_tile(y_true, y_pred) -> np.ndarray:
    """Deprecated name of :func:`thesis_iou_per_tile` (goes in the next release)."""
    warnings.warn("seed_iou_per_tile is called thesis_iou_per_tile now", DeprecationWarning, stacklevel=2)
    return thesis_iou_per_tile(y_true, y_pred)


def iou(y_true, y_pred) -> float:
    """Mean per-tile intersection over union (two empty masks count as 1)."""
    return float(iou_per_tile(y_true, y_pred).mean())


def dice_per_tile(y_true, y_pred) -> np.ndarray:
    """Dice coefficient 2|A&B| / (|A| + |B|) per tile (N,); two empty masks count as 1."""
    intersection, _, true_area, pred_area = _overlaps(y_true, y_pred)
    total = true_area + pred_area
    return np.where(total == 0, 1.0, 2 * intersection / np.maximum(total, 1))


def dice(y_true, y_pred) -> float:
    """Mean per-tile Dice coefficient (two empty masks count as 1)."""
    return float(dice_per_tile(y_true, y_pred).mean())


def empty_tile_accuracy(y_true, y_pred) -> float:
    """Share of tiles whose emptiness (salt / no salt) the prediction gets right."""
    _, _, true_area, pred_area = _overlaps(y_true, y_pred)
    return float(np.mean((true_area == 0) == (pred_area == 0)))
