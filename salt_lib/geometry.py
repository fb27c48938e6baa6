"""Input geometry: 101x101 tiles to the model's size x size input, and predictions back.

The TGS tiles are 101x101 pixels, an odd size that 2x2 pooling cannot halve cleanly, so the
models take ``size`` x ``size`` (128 for the source thesis; 112 is also used: both are divisible by
2**4). Two ways to get there, each with an exact inverse for predictions:

* ``mode="resize"`` (the source thesis's choice): bicubic interpolation to size x size, and bicubic back.
  We use scikit-image's ``resize(order=3)`` (a cubic spline through the pixel values, pixel
  centres aligned): scikit-image is a declared dependency of the project, whereas OpenCV only
  arrives indirectly (through imaug, in two competing wheels), and its spline is the more
  accurate one: resizing a smooth tile to 128 and back is off by 6e-5 on average against 5e-4
  for ``cv2.INTER_CUBIC``. OpenCV is about 10x faster (0.1 ms against ~1.5 ms a tile), which is
  still under a minute for all 22,000 test tiles. Anti-aliasing is off, so resizing a prediction
  back does not blur it. Each result is clipped to its input's value range (cubic interpolation
  overshoots at sharp edges), so a [0, 1] image stays in [0, 1] and a probability map stays a
  probability map.
* ``mode="pad"``: reflect padding (mirror without repeating the edge pixel), centred:
  ``(size - 101) // 2`` pixels before (13 for 128) and the rest after (14 for 128). The inverse
  is a crop, so pad-then-crop returns the very same numbers. The pixels keep their size, but the
  model sees mirrored salt bodies in the border.

Masks (``mask=True``) stay binary: with ``pad`` they are simply reflected; with ``resize`` they
go through the same bicubic as the images (so a mask stays registered with its image to sub-pixel
accuracy) and are thresholded at 0.5.

Shapes: batches (N, 101, 101) or (N, 101, 101, 1) in, (N, size, size, 1) float32 out, and
(N, size, size[, 1]) in, (N, 101, 101) float32 out.
"""

from __future__ import annotations

import numpy as np
from skimage.transform import resize

from salt_lib.tile import TILE

MODES = ("resize", "pad")


def as_float_batch(images: np.ndarray, side: int | None = None, name: str = "images") -> np.ndarray:
    """(N, H, W) or (N, H, W, 1) -> float32 (N, H, W); ``side`` (if given) must equal H and W.

    Unsigned integers (uint8 PNG pixels, 16-bit masks) are divided by their dtype's maximum to
    [0, 1]; bool becomes 0/1; floats are kept as they are (cast to float32).
    """
    array = np.asarray(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1] != array.shape[2] or (side is not None and array.shape[1] != side):
        expected = f"{side}x{side}" if side is not None else "square"
        raise ValueError(
            f"{name} must be a batch (N, H, W) or (N, H, W, 1) of {expected} tiles, got shape {array.shape}"
        )
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.unsignedinteger):
        return array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float32)
    raise ValueError(f"{name} must be unsigned integer, bool or float, got dtype {array.dtype}")


def binarize(masks: np.ndarray) -> np.ndarray:
    """float32 0/1 masks: ``>= 0.5`` is salt (masks already scaled to [0, 1] by ``as_float_batch``)."""
    return (masks >= 0.5).astype(np.float32)


def pad_widths(size: int) -> tuple[int, int]:
    """Pixels added before and after a 101-pixel side to reach ``size`` (13, 14 for 128)."""
    if size < TILE:
        raise ValueError(f"pad mode needs size >= {TILE}, got {size}")
    before = (size - TILE) // 2
    return before, size - TILE - before


def resize_batch(batch: np.ndarray, size: int) -> np.ndarray:
    """Bicubic resize of float32 (N, H, W) to float32 (N, size, size), one image at a time,
    each clipped to its own input range."""
    out = np.empty((len(batch), size, size), dtype=np.float32)
    for i, image in enumerate(batch):
        out[i] = resize(
            image, (size, size), order=3, mode="reflect", anti_aliasing=False, preserve_range=True, clip=True
        )
    return out


def _check_mode_and_size(mode: str, size: int) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")


def to_model(images: np.ndarray, size: int = 128, mode: str = "resize", mask: bool = False) -> np.ndarray:
    """101x101 tiles -> float32 (N, size, size, 1), the model's input (or target) geometry.

    images: (N, 101, 101) or (N, 101, 101, 1); uint8 is scaled to [0, 1], floats are kept.
    mode: ``"resize"`` (bicubic) or ``"pad"`` (centred reflect padding; needs size >= 101).
    mask: True for ground-truth masks: the result is exactly 0/1 (see the module docstring).
    """
    _check_mode_and_size(mode, size)
    batch = as_float_batch(images, TILE, "masks" if mask else "images")
    if mask:
        batch = binarize(batch)
    if mode == "pad":
        before, after = pad_widths(size)
        out = np.pad(batch, ((0, 0), (before, after), (before, after)), mode="reflect")
    else:
        out = resize_batch(batch, size)
        if mask:
            out = binarize(out)
    return out[..., None]


def from_model(
    maps: np.ndarray, mode: str = "resize", size: int | None = None, mask: bool = False
) -> np.ndarray:
    """The inverse of ``to_model``: (N, size, size[, 1]) model outputs -> float32 (N, 101, 101).

    maps: predictions (probabilities) or masks in the model's geometry.
    mode: the mode ``to_model`` used: ``"pad"`` crops the centre, ``"resize"`` resizes back.
    size: optional check that the maps are size x size (it is read from their shape anyway).
    mask: True to return exact 0/1 masks (resized maps are thresholded at 0.5).
    """
    batch = as_float_batch(maps, size, "maps")
    size = batch.shape[1]
    _check_mode_and_size(mode, size)
    if mode == "pad":
        before, _ = pad_widths(size)
        out = batch[:, before : before + TILE, before : before + TILE]
    else:
        out = resize_batch(batch, TILE)
    return binarize(out) if mask else out
