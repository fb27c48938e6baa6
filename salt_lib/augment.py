"""Data augmentation for the training split: named policies built with imgaug.

Augmentation shows the network plausible variants of the training tiles so that it learns salt
shapes rather than memorising tiles. Seismic sections have a physical "up" (depth grows
downwards), so no policy flips vertically or rotates by more than a few degrees; a left-right
mirror, on the other hand, is just as plausible a section as the original.

The policies, from least to most augmentation (``POLICIES``, explained in ``DESCRIPTIONS``):

* ``none``: the tiles as they are.
* ``mirror`` (called ``seed`` before): the source thesis's winner. Before training, every
  training tile is joined by its left-right mirror, so the training set doubles
  (``expand_offline``); nothing random happens during training.
* ``flip``: each tile is mirrored left-right with probability 0.5, drawn anew every epoch.
* ``flip_geo``: ``flip``, then on half of the tiles a small affine warp (shift up to 10 %,
  zoom 0.9-1.1, rotation up to 10 degrees) and on half of them a mild elastic warp; pixels that
  the warp pulls in from outside the tile are filled by mirroring the tile at its border.
* ``flip_geo_intensity``: ``flip_geo``, then changes of contrast (gamma) and brightness
  (multiply and add) on half of the tiles and a slight Gaussian blur on a quarter of them. These
  change the image only; the mask is untouched.

Three rules keep the evaluation honest:

1. Only the training split is ever augmented or expanded. Split first (``salt_lib.split``),
   then expand the training part; validation and test tiles never pass through this module.
   ``expand_ids`` names each mirror ``"<id>_mirror"`` so every copy can be traced to its
   original (``original_id``), which is in the same (training) list.
2. Image and mask are transformed together with identical geometry: the masks travel through
   imgaug as segmentation maps, which are warped with nearest-neighbour sampling and so stay
   binary.
3. Every random draw comes from an explicit seed, so a run can be repeated exactly. In
   ``TileBatches`` the seed of each batch is derived from (seed, epoch, batch index), so the
   result does not depend on which prefetching thread happens to build the batch.

What it costs (``augmentation_cost``, 32 real tiles a batch, 2-core CPU): about 1.5 ms for
``flip``, 10 ms for ``flip_geo`` and 15 ms for ``flip_geo_intensity``, some 1 % of a lite U-Net
training step (1.0-1.3 s), and Keras builds batches ahead on another thread anyway.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Callable

import imgaug.augmenters as iaa
import keras
import numpy as np

POLICIES = ("none", "mirror", "flip", "flip_geo", "flip_geo_intensity")
# Old names, accepted with a DeprecationWarning for one release (records and commands may use them).
DEPRECATED_POLICIES = {"seed": "mirror"}

DESCRIPTIONS = {
    "none": "No augmentation: the network sees the training tiles exactly as they are.",
    "mirror": (
        "The source thesis's winner: before training every training tile is joined by its "
        "left-right mirror, doubling the training set; nothing random happens during training."
    ),
    "flip": "Each tile is mirrored left-right with probability 0.5, drawn anew for every batch.",
    "flip_geo": (
        "flip, plus (each on half of the tiles) a small affine warp - shift up to 10 %, zoom "
        "0.9-1.1, rotation up to 10 degrees - and a mild elastic warp, borders filled by mirroring."
    ),
    "flip_geo_intensity": (
        "flip_geo, plus random contrast (gamma) and brightness on half of the tiles and a slight "
        "blur on a quarter of them; these change the image only, never the mask."
    ),
}

MIRROR_SUFFIX = "_mirror"  # id of a mirrored copy = id of its original + this suffix

# Policies that draw random numbers during training (the others are fixed functions of the data).
RANDOM_POLICIES = ("flip", "flip_geo", "flip_geo_intensity")

# Separate random streams for the two things TileBatches draws, so that changing one (e.g. the
# batch size) does not silently change the other.
_ORDER_STREAM = 0
_AUGMENT_STREAM = 1
_FLIP_STREAM = 2
_CROP_STREAM = 3


# --------------------------------------------------------------------------------------------
# Policy names
# --------------------------------------------------------------------------------------------


def check_policy(policy: str) -> str:
    """The current name of ``policy`` if it is one of ``POLICIES`` (an old name of
    ``DEPRECATED_POLICIES`` gives a DeprecationWarning); otherwise a ValueError naming them."""
    if policy in DEPRECATED_POLICIES:
        warnings.warn(f"augmentation policy {policy!r} is called {DEPRECATED_POLICIES[policy]!r} now; "
                      "the old name goes in the next release", DeprecationWarning, stacklevel=2)
        policy = DEPRECATED_POLICIES[policy]
    if policy not in POLICIES:
        raise ValueError(f"unknown augmentation policy {policy!r}; valid policies are: {', '.join(POLICIES)}")
    return policy


# --------------------------------------------------------------------------------------------
# Offline expansion (the "mirror" policy)
# --------------------------------------------------------------------------------------------


def mirror(tiles: np.ndarray) -> np.ndarray:
    """Left-right mirror of a batch (N, H, W) of images or masks; same shape and dtype."""
    return np.ascontiguousarray(tiles[:, :, ::-1])


def expand_offline(images: np.ndarray, masks: np.ndarray, policy: str) -> tuple[np.ndarray, np.ndarray]:
    """Expand the TRAINING split before training, as the policy asks.

    Takes ``images`` (N, H, W) and ``masks`` (N, H, W). For ``mirror`` returns (2N, H, W) arrays:
    the N originals followed by their N mirrors, in the same order (row N + i mirrors row i).
    For every other policy returns the inputs unchanged (the very same arrays).

    Call this after splitting and only on the training split: a mirror of a validation tile in
    the training set would leak that tile's answer into training.
    """
    if check_policy(policy) != "mirror":
        return images, masks
    images, masks = np.asarray(images), np.asarray(masks)
    if images.shape != masks.shape:
        raise ValueError(f"images {images.shape} and masks {masks.shape} must have the same shape")
    return np.concatenate([images, mirror(images)]), np.concatenate([masks, mirror(masks)])


def expand_ids(ids, policy: str) -> np.ndarray:
    """The ids that go with ``expand_offline``'s rows: for ``mirror`` the N ids followed by
    ``"<id>_mirror"`` for each (2N strings); for other policies the ids unchanged (as an array)."""
    ids = np.asarray(ids).astype(str)
    if check_policy(policy) != "mirror":
        return ids
    return np.concatenate([ids, np.char.add(ids, MIRROR_SUFFIX)])


def original_id(tile_id: str) -> str:
    """The id of the tile a copy was made from: ``"abc_mirror"`` -> ``"abc"``; others unchanged."""
    return tile_id[: -len(MIRROR_SUFFIX)] if tile_id.endswith(MIRROR_SUFFIX) else tile_id


# --------------------------------------------------------------------------------------------
# On-the-fly policies as imgaug augmenters
# --------------------------------------------------------------------------------------------


def _masks_mirror_at_borders_too(augmenter: iaa.Augmenter) -> iaa.Augmenter:
    """Make a geometric augmenter fill the MASK's border by mirroring, as it does the image's.

    imgaug pads segmentation maps with background (mode "constant") whatever mode the image
    uses. With mode="reflect" for the image, salt touching the border would be mirrored into the
    image but not into the mask, and the two would disagree near the edges. imgaug keeps the
    mask's mode in this attribute for exactly this purpose (see its source comment "Special
    order, mode and cval parameters for ... segmentation maps"); interpolation stays nearest
    neighbour, so masks stay binary.
    """
    augmenter._mode_segmentation_maps = "reflect"
    return augmenter


def _flip() -> iaa.Augmenter:
    """Left-right mirror with probability 0.5 (never up-down: depth has a direction)."""
    return iaa.Fliplr(0.5)


def _small_affine() -> iaa.Augmenter:
    """Shift up to 10 % in x and y, zoom 0.9-1.1, rotate up to 10 degrees, on half the tiles.
    Bilinear interpolation (order=1) for the image: smooth and cheap."""
    affine = iaa.Affine(
        translate_percent={"x": (-0.1, 0.1), "y": (-0.1, 0.1)},
        scale=(0.9, 1.1),
        rotate=(-10, 10),
        order=1,
        mode="reflect",
    )
    return iaa.Sometimes(0.5, _masks_mirror_at_borders_too(affine))


def _mild_elastic() -> iaa.Augmenter:
    """A gentle elastic warp on half the tiles: pixels move by about 0.6 px on average and at
    most about 4 px (alpha up to 20, smoothness sigma 5, measured on 101x101 tiles)."""
    elastic = iaa.ElasticTransformation(alpha=(0, 20), sigma=5, order=1, mode="reflect")
    return iaa.Sometimes(0.5, _masks_mirror_at_borders_too(elastic))


def _intensity() -> list[iaa.Augmenter]:
    """Contrast and brightness on half the tiles, a slight blur on a quarter of them.
    imgaug applies these to images only; segmentation maps pass through untouched."""
    contrast_and_brightness = iaa.Sequential(
        [
            iaa.GammaContrast((0.8, 1.25)),
            iaa.Multiply((0.9, 1.1)),
            iaa.Add((-15, 15)),
        ]
    )
    return [
        iaa.Sometimes(0.5, contrast_and_brightness),
        iaa.Sometimes(0.25, iaa.GaussianBlur(sigma=(0.0, 0.8))),
    ]


def augmenter(policy: str, random_flip: bool = True) -> iaa.Augmenter | None:
    """A fresh imgaug augmenter for an on-the-fly policy, or None for ``none`` and ``mirror``
    (which draw nothing at training time). Each call builds a new object (about 0.2 ms), so
    threads never share one augmenter's random state. ``random_flip=False`` leaves out the
    policy's random left-right flip (``TileBatches`` then flips on a schedule: ``alternate_flips``);
    for ``flip`` nothing is left, and the result is None."""
    policy = check_policy(policy)
    if policy not in RANDOM_POLICIES:
        return None
    steps = [_flip()] if random_flip else []
    if policy in ("flip_geo", "flip_geo_intensity"):
        steps += [_small_affine(), _mild_elastic()]
    if policy == "flip_geo_intensity":
        steps += _intensity()
    return iaa.Sequential(steps) if steps else None


def _check_batch(images: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch: uint8 images (B, H, W) and masks of the same shape (any nonzero value
    is salt). Returns the images and the masks as bool."""
    images, masks = np.asarray(images), np.asarray(masks)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be a uint8 batch (B, H, W), got {images.dtype} {images.shape}")
    if masks.shape != images.shape:
        raise ValueError(f"masks {masks.shape} must have the images' shape {images.shape}")
    return images, masks.astype(bool, copy=False)


def augment_batch(images: np.ndarray, masks: np.ndarray, policy: str, seed: int,
                  random_flip: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Augment one batch of TRAINING tiles, image and mask together.

    Takes ``images`` uint8 (B, H, W) and ``masks`` bool (B, H, W) and returns new arrays of the
    same shapes: uint8 images and bool masks that went through identical geometry. The same
    (images, masks, policy, seed) always give the same result. ``none`` and ``mirror`` return
    copies unchanged (``mirror``'s copies are made once, by ``expand_offline``).
    ``random_flip=False`` skips the policy's random flip (see ``augmenter``).

    Validation and test tiles must never pass through here: they are scored as they are.
    """
    images, masks = _check_batch(images, masks)
    pipeline = augmenter(policy, random_flip)
    if pipeline is None or len(images) == 0:
        return images.copy(), masks.copy()
    pipeline.seed_(int(seed))
    # imgaug wants segmentation maps as (B, H, W, classes); one bool "class" here: salt.
    images_out, masks_out = pipeline(images=images, segmentation_maps=masks[..., None])
    return np.asarray(images_out, dtype=np.uint8), np.asarray(masks_out[..., 0], dtype=bool)


def augmentation_cost(
    images: np.ndarray, masks: np.ndarray, policy: str, batch_size: int = 32, batches: int = 20
) -> float:
    """Seconds per batch that augmentation alone costs: the mean over ``batches`` calls of
    ``augment_batch`` on ``batch_size`` tiles taken in turn from ``images`` uint8 (N, H, W) and
    ``masks`` bool (N, H, W) (cycling when N is small). One untimed warm-up batch first."""
    policy = check_policy(policy)
    n = len(images)
    if n == 0 or batch_size < 1 or batches < 1:
        raise ValueError("need at least one tile, batch_size >= 1 and batches >= 1")

    def rows(b: int) -> np.ndarray:
        return np.arange(b * batch_size, (b + 1) * batch_size) % n

    augment_batch(images[rows(0)], masks[rows(0)], policy, seed=0)  # warm-up: imports, caches
    start = time.perf_counter()
    for b in range(batches):
        augment_batch(images[rows(b)], masks[rows(b)], policy, seed=b)
    return (time.perf_counter() - start) / batches


# --------------------------------------------------------------------------------------------
# Keras input pipeline
# --------------------------------------------------------------------------------------------


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """The order (int64 permutation of 0..n-1) in which tiles are visited in ``epoch``; the
    identity when ``shuffle`` is False. A pure function of (n, seed, epoch)."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, _ORDER_STREAM, epoch]).permutation(n)


def alternate_flips(n: int, seed: int, epoch: int) -> np.ndarray:
    """Derandomized flips: bool (n,), which tiles are mirrored left-right in ``epoch``. Each
    tile draws a phase once from ``seed`` and then alternates, so any two consecutive epochs
    show every tile once as it is and once mirrored (Jordan 2024, "94% on CIFAR-10 in 3.29
    seconds", found this better than independent random flips)."""
    phase = np.random.default_rng([seed, _FLIP_STREAM]).integers(0, 2, n).astype(bool)
    return phase ^ bool(epoch % 2)


def crop_batch(x: np.ndarray, y: np.ndarray, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random ``side`` x ``side`` crops of a prepared batch: ``x`` and ``y`` (B, S, S, C) (the
    model's input and mask), each pair cut at the same place, drawn from ``seed``. The pixels keep
    their scale, so a network trained on crops predicts whole inputs (it is convolutional)."""
    size = x.shape[1]
    if not 0 < side <= size:
        raise ValueError(f"a crop side must be between 1 and the input's {size}, got {side}")
    offsets = np.random.default_rng(seed).integers(0, size - side + 1, size=(len(x), 2))
    rows = offsets[:, :1, None] + np.arange(side)[None, :, None]  # (B, side, 1)
    cols = offsets[:, None, 1:] + np.arange(side)[None, None, :]  # (B, 1, side)
    batch = np.arange(len(x))[:, None, None]
    return x[batch, rows, cols], y[batch, rows, cols]


def shrink_batch(x: np.ndarray, y: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """A prepared batch ``x``, ``y`` (B, S, S, C) at ``side`` x ``side``: each k x k block of pixels
    averaged (k = S / side, a whole number), the masks then cut at 0.5 again. The whole input at a
    coarser scale (progressive resizing), where ``crop_batch`` keeps the scale and cuts a window."""
    size = x.shape[1]
    if not 0 < side < size or size % side:
        raise ValueError(f"an early_size must divide the input's {size} and be smaller, got {side}")
    k = size // side

    def blocks(a: np.ndarray) -> np.ndarray:
        return a.reshape(len(a), side, k, side, k, a.shape[-1]).mean(axis=(2, 4), dtype=np.float32)

    return blocks(x), (blocks(y) >= 0.5).astype(y.dtype)


def batch_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of batch ``index`` in ``epoch``: a pure function of the three,
    so it does not matter which thread builds the batch or when."""
    return int(np.random.SeedSequence([seed, _AUGMENT_STREAM, epoch, index]).generate_state(1)[0])


class TileBatches(keras.utils.PyDataset):
    """Batches of augmented TRAINING tiles for ``model.fit``.

    ``images`` uint8 (N, 101, 101) and ``masks`` bool (N, 101, 101) are the training split only.
    Each batch is ``prepare(aug_images, aug_masks)``, which turns uint8 tiles and bool masks into
    the model's ``(x, y)``, e.g. with ``salt_lib.geometry``::

        prepare = lambda im, m: (to_model(im), to_model(m, mask=True))
        batches = TileBatches(train.images, train.masks, 32, "flip", prepare, seed=0)
        model.fit(batches, epochs=..., validation_data=(x_val, y_val), shuffle=False)

    * ``len(batches)`` is ceil(N / batch_size), or ceil(2N / batch_size) for ``mirror``, whose
      mirrors are made once here; the last batch may be smaller.
    * Each epoch visits every (expanded) tile exactly once, in an order drawn from (seed,
      epoch); ``on_epoch_end`` (called by Keras) moves on to the next epoch. With
      ``shuffle=False`` the order is always 0..N-1 (augmentation still changes per epoch).
    * Batch ``index`` of an epoch is augmented with ``batch_seed(seed, epoch, index)``, so
      prefetching threads may build batches in any order and get the same result.
    * Pass ``shuffle=False`` to ``fit``: we shuffle the tiles ourselves; Keras would otherwise
      also permute the order of the batches with Python's global ``random``.
    * ``alternate_flip=True`` (a policy with a flip only) replaces the policy's random flip by
      ``alternate_flips``: each tile is mirrored in every other epoch; the rest of the policy
      (warps, intensity) stays random.
    * ``crop=c`` cuts each prepared pair (x, y) to a random c x c window (``crop_batch``; a
      ``prepare`` that returns a plain mask ``y``, not a tuple), at the same scale; ``shrink=s``
      instead brings the whole pair down to s x s (``shrink_batch``: progressive resizing).
    * Keras (3.15) builds a batch or two of epoch 0 to learn the shapes and calls
      ``on_epoch_end`` once as ``fit`` starts, so ``fit``'s first epoch is our epoch 1. That is
      the same in every run, so runs stay repeatable.

    Augmentation stays off the training step's critical path: Keras builds batches ahead of
    time. With ``workers=1`` (the default) the TensorFlow backend prefetches them on a
    tf.data thread; ``workers>1`` adds a pool of that many threads (``max_queue_size``
    batches ahead). imgaug and OpenCV do their heavy lifting outside Python's GIL, so threads
    suffice; ``use_multiprocessing=True`` would need a picklable ``prepare``.
    """

    def __init__(
        self,
        images: np.ndarray,
        masks: np.ndarray,
        batch_size: int,
        policy: str,
        prepare: Callable[[np.ndarray, np.ndarray], tuple],
        seed: int = 0,
        shuffle: bool = True,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
        alternate_flip: bool = False,
        crop: int | None = None,
        shrink: int | None = None,
    ):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        policy = check_policy(policy)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        images, masks = _check_batch(images, masks)
        self.images, self.masks = expand_offline(images, masks, policy)
        self.batch_size = int(batch_size)
        self.policy = policy
        self.prepare = prepare
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        if alternate_flip and policy not in RANDOM_POLICIES:
            raise ValueError(f"alternate flips replace a policy's random flip; {policy!r} has none "
                             f"(policies with a flip: {', '.join(RANDOM_POLICIES)})")
        self.alternate_flip = bool(alternate_flip)
        self.crop = int(crop) if crop else None
        self.shrink = int(shrink) if shrink else None
        if self.crop and self.shrink:
            raise ValueError("a batch is either cropped or shrunk, not both")
        # (epoch, order) live in one attribute and are replaced in one assignment, so a thread
        # building a batch always sees an epoch together with that epoch's order.
        self._state = (0, epoch_order(len(self.images), self.seed, 0, self.shuffle))

    @property
    def epoch(self) -> int:
        """The epoch whose batches ``__getitem__`` returns now (0 at the start)."""
        return self._state[0]

    def __len__(self) -> int:
        """Number of batches per epoch: ceil(tiles / batch_size)."""
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int):
        """Batch ``index`` of the current epoch: ``prepare(aug_images, aug_masks)``."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        epoch, order = self._state  # one read: epoch and order belong together
        rows = order[index * self.batch_size : (index + 1) * self.batch_size]
        images, masks = self.images[rows], self.masks[rows]
        if self.alternate_flip:
            flipped = alternate_flips(len(self.images), self.seed, epoch)[rows]
            images, masks = images.copy(), masks.copy()
            images[flipped], masks[flipped] = mirror(images[flipped]), mirror(masks[flipped])
        augment_seed = batch_seed(self.seed, epoch, index)
        images, masks = augment_batch(images, masks, self.policy, seed=augment_seed, random_flip=not self.alternate_flip)
        if self.crop:
            return crop_batch(*self.prepare(images, masks), self.crop, seed=[augment_seed, _CROP_STREAM])
        if self.shrink:
            return shrink_batch(*self.prepare(images, masks), self.shrink)
        return self.prepare(images, masks)

    def on_epoch_end(self):
        """Move on to the next epoch: a new order (if shuffling) and new augmentation draws."""
        epoch = self._state[0] + 1
        self._state = (epoch, epoch_order(len(self.images), self.seed, epoch, self.shuffle))
