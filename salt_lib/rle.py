"""Run-length encoding of salt masks in the TGS competition's convention.

Pixels are numbered column-major (down the first column, then the next) starting at 1, and a
mask is written as space-separated ``start length`` pairs. An empty mask is the empty string.
"""

from __future__ import annotations

import numpy as np

from salt_lib.tile import TILE_SHAPE


class RLEError(ValueError):
    """A run-length string that is malformed or does not fit the tile."""


def rle_encode(mask: np.ndarray) -> str:
    """Encode a 2-D mask (bool or 0/1) as the competition's run-length string."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"rle_encode expects a 2-D mask, got shape {mask.shape}")
    pixels = np.concatenate([[0], mask.flatten(order="F").astype(bool).view(np.int8), [0]])
    edges = np.flatnonzero(pixels[1:] != pixels[:-1]) + 1  # 1-indexed run starts and ends
    starts, ends = edges[::2], edges[1::2]
    runs = np.empty(2 * len(starts), dtype=np.int64)
    runs[0::2], runs[1::2] = starts, ends - starts
    return " ".join(map(str, runs))


def rle_decode(rle: str, shape: tuple[int, int] = TILE_SHAPE) -> np.ndarray:
    """Decode a run-length string to a bool mask of ``shape``.

    Raises RLEError when the string is not pairs of positive integers, when runs overlap or are
    out of order, or when a run goes past the last pixel of the tile.
    """
    height, width = shape
    n_pixels = height * width
    text = "" if rle is None or (isinstance(rle, float) and np.isnan(rle)) else str(rle).strip()
    flat = np.zeros(n_pixels, dtype=bool)
    if not text:
        return flat.reshape(shape, order="F")
    tokens = text.split()
    if len(tokens) % 2 or not all(t.isdigit() for t in tokens):
        raise RLEError(f"not a list of 'start length' pairs of positive integers: {text[:60]!r}")
    runs = np.asarray(tokens, dtype=np.int64).reshape(-1, 2)
    starts, lengths = runs[:, 0] - 1, runs[:, 1]
    if np.any(starts < 0) or np.any(lengths < 1):
        raise RLEError(f"run starts are 1-indexed and lengths positive: {text[:60]!r}")
    ends = starts + lengths
    if np.any(starts[1:] < ends[:-1]):
        raise RLEError(f"runs overlap or are out of order: {text[:60]!r}")
    if ends[-1] > n_pixels:
        raise RLEError(f"a run ends at pixel {ends[-1]}, past the {height}x{width} tile ({n_pixels} pixels)")
    # Mark run boundaries with +1/-1 and integrate: one pass, no Python loop over runs.
    marks = np.zeros(n_pixels + 1, dtype=np.int32)
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends, -1)
    flat = np.cumsum(marks[:-1]) > 0
    return flat.reshape(shape, order="F")
