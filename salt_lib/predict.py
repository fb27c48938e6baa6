"""From a trained model to salt masks: probabilities, flip test-time augmentation, a threshold
and a minimum component size chosen on validation, and competition submissions (their rows
from a folder of tiles, the CSV, and a check of its format).

Shapes: tiles (N, 101, 101) uint8 in; probabilities (N, 101, 101) float32 in [0, 1] out.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from tqdm import tqdm  # not tqdm.auto: its notebook check warns in kernels without ipywidgets

from salt_lib.data import read_image
from salt_lib.geometry import from_model, to_model
from salt_lib.metrics import tgs_score
from salt_lib.models import model_config
from salt_lib.rle import TILE_SHAPE, RLEError, rle_decode, rle_encode

SUBMISSION_HEADER = ("id", "rle_mask")  # the competition's CSV columns

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.025), 3)
MIN_SIZES = (0, 10, 20, 40, 60, 100)


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
    size, mode = model_geometry(model)
    if len(images) == 0:
        return np.zeros((0, *TILE_SHAPE), np.float32)
    x = to_model(images, size=size, mode=mode)
    probs = segmentation(model.predict(x, batch_size=batch_size, verbose=0))
    if tta:
        mirrored = segmentation(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0))[:, :, ::-1]
        probs = (probs + mirrored) / 2
    return from_model(probs, mode=mode)


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


def to_masks(probs: np.ndarray, threshold: float = 0.5, min_size: int = 0) -> np.ndarray:
    """Bool masks from probabilities: cut at ``threshold``, then drop regions under ``min_size``."""
    return remove_small_components(probs > threshold, min_size)


def submission_rows(models, files: dict, threshold: float = 0.5, min_size: int = 0, tta: bool = True,
                    batch: int = 256, progress: bool = True) -> list[tuple[str, str]]:
    """``(id, rle)`` for every tile of ``files`` (id -> PNG path, e.g. ``salt_lib.data.png_files``
    of Kaggle's test/images), sorted by id: the mean of ``models``' probabilities
    (``predict_ensemble``, flip TTA with ``tta``) cut at ``threshold``, regions under ``min_size``
    pixels dropped, run-length encoded. Tiles are read ``batch`` at a time, so memory stays
    bounded whatever the number of tiles (Kaggle's test set has 18,000)."""
    ids = sorted(files)
    rows = []
    with tqdm(total=len(ids), unit="tile", desc="predict", disable=not progress) as bar:
        for start in range(0, len(ids), batch):
            batch_ids = ids[start : start + batch]
            images = np.stack([read_image(files[tile_id]) for tile_id in batch_ids])
            masks = to_masks(predict_ensemble(models, images, tta=tta), threshold, min_size)
            rows.extend((tile_id, rle_encode(mask)) for tile_id, mask in zip(batch_ids, masks))
            bar.update(len(batch_ids))
    return rows


def write_submission(rows, path) -> Path:
    """Write ``(id, rle)`` rows as the competition's ``id,rle_mask`` CSV."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SUBMISSION_HEADER)
        writer.writerows(rows)
    return path


def check_submission(path, ids) -> str:
    """Check a submission CSV against the ids of the tiles it is for: the header is exactly
    ``id,rle_mask``; one row per tile, ids unique and the same as ``ids``; every ``rle_mask``
    decodes (``salt_lib.rle.rle_decode``) to a 101x101 mask. Returns a one-line summary that
    depends only on the file's format and size; raises ValueError naming the first problem."""
    path = Path(path)
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), None)
    if tuple(header or ()) != SUBMISSION_HEADER:
        raise ValueError(f"{path}: the header is {','.join(header or [])!r}, the competition expects 'id,rle_mask'.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"{path}: id {duplicated.iloc[0]!r} has more than one row; the competition expects one per tile.")
    expected = {str(tile_id) for tile_id in ids}
    missing, unknown = sorted(expected - set(table["id"])), sorted(set(table["id"]) - expected)
    if missing or unknown:
        raise ValueError(f"{path}: {len(missing)} test tiles have no row (e.g. {missing[:3]}) and {len(unknown)} rows "
                         f"name no test tile (e.g. {unknown[:3]}); {len(table)} rows for {len(expected)} tiles.")
    for tile_id, rle in zip(table["id"], table["rle_mask"]):
        try:
            rle_decode(rle, TILE_SHAPE)
        except RLEError as error:
            raise ValueError(f"{path}: the rle_mask of {tile_id} is invalid: {error}") from None
    return (f"{path.name}: header id,rle_mask; {len(table)} rows, one per test tile, ids unique and the tiles' own; "
            f"every rle_mask decodes to a {TILE_SHAPE[0]}x{TILE_SHAPE[1]} mask.")
