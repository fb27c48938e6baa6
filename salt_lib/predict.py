"""From a trained model to salt masks: probabilities, flip test-time augmentation, a threshold
and a minimum component size chosen on validation, and for a network with an empty-tile head the
head probability under which a tile is emptied, also chosen on validation (``salt_lib.submission``
turns the masks into a competition submission).

Shapes: tiles (N, 101, 101) uint8 in; probabilities (N, 101, 101) float32 in [0, 1] out.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from salt_lib.geometry import from_model, to_model
from salt_lib.metrics import tgs_score
from salt_lib.models import model_config
from salt_lib.tile import TILE_SHAPE

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)
MIN_SIZES = (0, 10, 20, 40, 60, 100)
EMPTY_CUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # head probabilities under which a tile is called empty


def model_geometry(model) -> tuple[int, str]:
    """The model's input side (pixels) and how tiles get there ('pad' or 'resize'), from its
    configuration (``model.salt_config``: ``ModelConfig.input_size`` and ``geometry``)."""
    config = model_config(model)
    return int(config["input_size"]), config.get("geometry", "pad")


def predict(model, images: np.ndarray, tta: bool = True, batch_size: int = 32) -> np.ndarray:
    """Salt probabilities (N, 101, 101) for uint8 tiles (N, 101, 101).

    With ``tta`` the model also sees each tile mirrored left-right, and the two probability maps
    (the mirrored one flipped back) are averaged: the section's geology has no preferred side.
    """
    return predict_with_head(model, images, tta, batch_size)[0]


def salt_probability(model, images: np.ndarray, tta: bool = True, batch_size: int = 32) -> np.ndarray | None:
    """The empty-tile head's probability (N,) that each uint8 tile (N, 101, 101) holds salt, the
    mean over the tile and its mirror with ``tta``; None for a model without the head
    (``ModelConfig.empty_head``)."""
    return predict_with_head(model, images, tta, batch_size)[1]


def predict_with_head(model, images: np.ndarray, tta: bool = True, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray | None]:
    """``predict``'s probabilities and ``salt_probability``'s head output from one pass of the
    model over the tiles (and their mirrors with ``tta``); the head's is None without the head."""
    size, mode = model_geometry(model)
    head = bool(model_config(model).get("empty_head"))
    if len(images) == 0:
        return np.zeros((0, *TILE_SHAPE), np.float32), (np.zeros(0, np.float32) if head else None)
    x = to_model(images, size=size, mode=mode)

    def run(batch):
        outputs = model.predict(batch, batch_size=batch_size, verbose=0)
        return segmentation(outputs), (np.asarray(outputs[1], np.float32).reshape(-1) if head else None)

    probs, salt = run(x)
    if tta:
        mirrored, mirrored_salt = run(x[:, :, ::-1])
        probs = (probs + mirrored[:, :, ::-1]) / 2
        salt = (salt + mirrored_salt) / 2 if head else None
    return from_model(probs, mode=mode), salt


def segmentation(outputs) -> np.ndarray:
    """The salt probabilities among a model's outputs: the first of a model with an empty-tile
    head (``ModelConfig.empty_head``), the only one otherwise."""
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def predict_ensemble(models, images: np.ndarray, tta: bool = True, batch_size: int = 32) -> np.ndarray:
    """The mean of several models' salt probabilities (N, 101, 101) for uint8 tiles (N, 101, 101).

    Each model predicts with its own input size and geometry (``predict``, flip TTA with ``tta``),
    so networks of different shapes can be averaged; one model gives its own probabilities.
    """
    if not models:
        raise ValueError("an ensemble needs at least one model")
    total = predict(models[0], images, tta=tta, batch_size=batch_size).astype(np.float32)
    for model in models[1:]:
        total += predict(model, images, tta=tta, batch_size=batch_size)
    return total / len(models)


def remove_small_components(masks: np.ndarray, min_size: int) -> np.ndarray:
    """Drop connected salt regions smaller than ``min_size`` pixels from bool masks (N, H, W)."""
    if min_size <= 0:
        return masks
    cleaned = masks.copy()
    for tile in cleaned:
        labels, count = ndimage.label(tile)
        if count:
            sizes = np.bincount(labels.ravel())
            tile[(sizes < min_size)[labels] & (labels > 0)] = False
    return cleaned


def choose_threshold(probs: np.ndarray, masks: np.ndarray, thresholds=THRESHOLDS) -> tuple[float, float]:
    """The probability threshold that maximises ``tgs_score`` on labelled tiles: (threshold, score)."""
    scores = [tgs_score(masks, probs > t) for t in thresholds]
    best = int(np.argmax(scores))
    return float(thresholds[best]), float(scores[best])


def choose_min_size(probs, masks, threshold: float, sizes=MIN_SIZES) -> tuple[int, float]:
    """The smallest-component size to drop that maximises ``tgs_score``: (min_size, score)."""
    binary = probs > threshold
    scores = [tgs_score(masks, remove_small_components(binary, size)) for size in sizes]
    best = int(np.argmax(scores))
    return int(sizes[best]), float(scores[best])


def to_masks(probs: np.ndarray, threshold: float = 0.5, min_size: int = 0, salt=None, empty_cut: float = 0.0) -> np.ndarray:
    """Bool masks from probabilities: cut at ``threshold``, then drop regions under ``min_size``;
    with the empty-tile head's ``salt`` probabilities (N,), tiles under ``empty_cut`` are emptied."""
    return empty_tiles(remove_small_components(probs > threshold, min_size), salt, empty_cut)


def empty_tiles(masks: np.ndarray, salt, cut: float) -> np.ndarray:
    """``masks`` (N, H, W) with every tile whose head says salt with probability under ``cut``
    emptied; unchanged without ``salt`` or with ``cut`` 0."""
    if salt is None or cut <= 0:
        return masks
    salt = np.asarray(salt, float).reshape(-1)
    if len(salt) != len(masks):
        raise ValueError(f"one salt probability per tile: {len(salt)} for {len(masks)} tiles")
    return np.where((salt < cut)[:, None, None], False, masks)


def choose_empty_cut(probs, salt, masks, threshold: float, min_size: int = 0, cuts=EMPTY_CUTS) -> tuple[float, float]:
    """The head probability under which a tile is called empty that maximises ``tgs_score`` on
    labelled tiles, after ``threshold`` and ``min_size``: (cut, score); cut 0 empties nothing, so
    it wins whenever the head does not help (ties go to the smaller cut)."""
    binary = remove_small_components(probs > threshold, min_size)
    scores = [tgs_score(masks, empty_tiles(binary, salt, cut)) for cut in cuts]
    best = int(np.argmax(scores))
    return float(cuts[best]), float(scores[best])
