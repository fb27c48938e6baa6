"""Loading TGS salt tiles from the layout of Kaggle's download.

    root/train/images/<id>.png   seismic tile, 101x101 (RGB with equal channels, or grayscale)
    root/train/masks/<id>.png    salt mask, 8-bit (0/255) or 16-bit (0/65535)
    root/train.csv               optional: id,rle_mask (used when masks/ is missing, else cross-checked)
    root/depths.csv              optional: id,z
    root/test/images/<id>.png    for split="test"

The user's folder is only ever read. Decoded arrays are cached in a ``.npz`` under a cache folder
(``~/.cache/salt_lib`` or ``$XDG_CACHE_HOME/salt_lib``, or the ``cache_dir`` you pass), keyed by
the bytes of every input file, so a changed file can never be served from a stale cache. That key
is also the data's content fingerprint (``TGSData.fingerprint``), which models record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from salt_lib.files import atomic_write
from salt_lib.rle import RLEError, rle_decode
from salt_lib.tile import TILE_SHAPE

LOADER_VERSION = "1"  # bump when decoding changes, so old caches are not reused


class DataError(Exception):
    """Input data that cannot be used as it is; the message names the file and the fix."""


@dataclass(frozen=True)
class TGSData:
    """Tiles of one split. ``images`` (N, 101, 101) uint8; ``masks`` (N, 101, 101) bool or None
    for the unlabelled test split; ``depths`` (N,) float or None; ``coverage`` (N,) salt share of
    each tile in [0, 1] (NaN for unlabelled tiles); ``fingerprint`` a short hash of every file
    ``load_tgs`` read (None for a subset or for tiles made in memory)."""

    ids: np.ndarray
    images: np.ndarray
    masks: np.ndarray | None
    depths: np.ndarray | None
    coverage: np.ndarray
    fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, ids) -> "TGSData":
        """The tiles with the given ids, in that order."""
        position = {tile_id: i for i, tile_id in enumerate(self.ids)}
        missing = [tile_id for tile_id in ids if tile_id not in position]
        if missing:
            raise KeyError(f"{len(missing)} ids not in this data set, e.g. {missing[:3]}")
        index = np.array([position[tile_id] for tile_id in ids], dtype=np.int64)
        return TGSData(
            ids=self.ids[index],
            images=self.images[index],
            masks=None if self.masks is None else self.masks[index],
            depths=None if self.depths is None else self.depths[index],
            coverage=self.coverage[index],
        )

    def summary(self) -> dict:
        """A few numbers that describe the set, for printing."""
        labelled = self.masks is not None
        return {
            "tiles": len(self),
            "empty_share": float(np.mean(self.coverage == 0)) if labelled else None,
            "mean_coverage": float(np.mean(self.coverage)) if labelled else None,
            "mean_intensity": float(self.images.mean()) if len(self) else None,
            "depth_range": None if self.depths is None else (float(self.depths.min()), float(self.depths.max())),
        }


def default_cache_dir() -> Path:
    """Where decoded arrays are cached unless the caller says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "salt_lib"


def load_tgs(root, split: str = "train", cache_dir=None, use_cache: bool = True) -> TGSData:
    """Load the ``train`` (labelled) or ``test`` (unlabelled) tiles under ``root``, with their
    content fingerprint (the hash of every input file, computed once: it is also the cache key).

    Raises DataError for anything in the folder that does not fit the layout above.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: no such folder. Pass the folder that holds train/ (Kaggle's unzipped download).")
    split_dir = root / split
    if not split_dir.is_dir():
        raise DataError(f"{split_dir}: missing. Unzip Kaggle's {split}.zip into {root} so that {split}/images/ exists.")
    image_files = png_files(split_dir / "images")
    if not image_files:
        raise DataError(f"{split_dir / 'images'}: no PNG images. Expected one <id>.png per tile.")
    mask_dir = split_dir / "masks"
    mask_files = png_files(mask_dir) if split == "train" and mask_dir.is_dir() else {}
    rle_csv = root / "train.csv" if split == "train" and (root / "train.csv").is_file() else None
    depths_csv = root / "depths.csv" if (root / "depths.csv").is_file() else None

    inputs = sorted(image_files.values()) + sorted(mask_files.values()) + [p for p in (rle_csv, depths_csv) if p]
    fingerprint = _fingerprint(inputs)
    cache_file = Path(cache_dir or default_cache_dir()) / f"tgs-{split}-{fingerprint}.npz"
    if use_cache and cache_file.is_file():
        return dataclasses.replace(_read_cache(cache_file), fingerprint=fingerprint)
    data = dataclasses.replace(_decode(split, image_files, mask_files, mask_dir, rle_csv, depths_csv), fingerprint=fingerprint)
    if use_cache:
        _write_cache(cache_file, data)
    return data


def png_files(folder) -> dict[str, Path]:
    """Map tile id -> PNG path for a folder of tiles (e.g. Kaggle's test/images); empty if the
    folder is missing. DataError on ids that occur twice (e.g. a.png and a.PNG)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".png" or not path.is_file():
            continue
        if path.stem in files:
            raise DataError(f"{path}: duplicate id {path.stem!r} (also {files[path.stem].name}). Keep one file per tile.")
        files[path.stem] = path
    return files


def _fingerprint(paths) -> str:
    digest = hashlib.sha1(LOADER_VERSION.encode())
    for path in paths:
        digest.update(str(Path(path).name).encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def _decode(split, image_files, mask_files, mask_dir, rle_csv, depths_csv) -> TGSData:
    ids = np.array(sorted(image_files))
    images = _read_all(lambda tile_id: read_image(image_files[tile_id]), ids, np.uint8)
    masks = None
    if split == "train":
        orphans = sorted(set(mask_files) - set(image_files))
        if orphans:
            raise DataError(f"{mask_files[orphans[0]]}: a mask without an image ({len(orphans)} such). Add train/images/{orphans[0]}.png or remove the mask.")
        rle_masks = _read_rle_csv(rle_csv) if rle_csv else {}
        masks = _labelled_masks(ids, mask_files, mask_dir, rle_masks, rle_csv)
    coverage = masks.reshape(len(ids), -1).mean(axis=1) if masks is not None else np.full(len(ids), np.nan)
    depths = _read_depths(depths_csv, ids) if depths_csv else None
    return TGSData(ids=ids, images=images, masks=masks, depths=depths, coverage=coverage)


def _labelled_masks(ids, mask_files, mask_dir, rle_masks, rle_csv) -> np.ndarray:
    """Masks from PNGs where present, else from train.csv; the two must agree where both exist."""
    for tile_id in ids:
        if tile_id not in mask_files and tile_id not in rle_masks:
            where = f"{mask_dir / (tile_id + '.png')}" if mask_files else f"{mask_dir}"
            raise DataError(f"{where}: no mask for image {tile_id}.png, and no row for it in train.csv. Add the mask or its RLE row.")
    if not mask_files:
        return np.stack([rle_masks[tile_id] for tile_id in ids])
    masks = _read_all(lambda tile_id: _read_mask(mask_files[tile_id]) if tile_id in mask_files else rle_masks[tile_id], ids, bool)
    for i, tile_id in enumerate(ids):
        if tile_id in rle_masks and tile_id in mask_files and not np.array_equal(rle_masks[tile_id], masks[i]):
            raise DataError(f"{rle_csv}: the RLE of {tile_id} disagrees with {mask_files[tile_id]}. Fix or remove one of them.")
    return masks


def _read_all(read_one, ids, dtype) -> np.ndarray:
    # PNG decoding releases the GIL, so a few threads make a cold load several times faster.
    out = np.empty((len(ids), *TILE_SHAPE), dtype=dtype)
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        for i, tile in enumerate(pool.map(read_one, ids)):
            out[i] = tile
    return out


def _open_png(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image.load()
            array = np.asarray(image)
    except Exception as error:  # PIL raises many types for broken files
        raise DataError(f"{path}: unreadable or truncated PNG ({error}). Re-extract it from the download.") from None
    if array.shape[:2] != TILE_SHAPE:
        raise DataError(f"{path}: tile is {array.shape[1]}x{array.shape[0]}, expected 101x101. TGS tiles are 101x101 pixels.")
    return array


def read_image(path) -> np.ndarray:
    """One tile as grayscale uint8 from an RGB(A) PNG with equal channels or a grayscale PNG;
    DataError names the file if it is not an 8-bit image."""
    path = Path(path)
    array = _open_png(path)
    if array.ndim == 3:
        array = array[..., 0]  # Kaggle's images repeat one channel three times
    if array.dtype != np.uint8:
        raise DataError(f"{path}: image has dtype {array.dtype}, expected 8-bit. Save seismic tiles as 8-bit PNG.")
    return array


def _read_mask(path: Path) -> np.ndarray:
    """Bool (101, 101) from an 8-bit (0/255) or 16-bit (0/65535) mask PNG."""
    array = _open_png(path)
    if array.ndim == 3:
        array = array[..., 0]
    salt_value = 65535 if array.dtype == np.uint16 or array.max(initial=0) > 255 else 255
    if not np.all((array == 0) | (array == salt_value)):
        odd = np.unique(array[(array != 0) & (array != salt_value)])[:5]
        raise DataError(f"{path}: mask has values {odd.tolist()} besides 0 and {salt_value}. A mask holds background (0) and salt ({salt_value}) only.")
    return array == salt_value


def _read_rle_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as error:
        raise DataError(f"{path}: not a readable CSV ({error}). Expected columns id,rle_mask.") from None
    if list(table.columns[:2]) != ["id", "rle_mask"]:
        raise DataError(f"{path}: columns are {list(table.columns)}, expected id,rle_mask.")
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise DataError(f"{path}: id {duplicated.iloc[0]!r} appears more than once. Keep one row per tile.")
    masks = {}
    for tile_id, rle in zip(table["id"], table["rle_mask"]):
        try:
            masks[tile_id] = rle_decode(rle)
        except RLEError as error:
            raise DataError(f"{path}: row {tile_id}: {error}. Fix or remove the row.") from None
    return masks


def _read_depths(path: Path, ids) -> np.ndarray | None:
    try:
        table = pd.read_csv(path)
        if list(table.columns[:2]) != ["id", "z"]:
            raise ValueError(f"columns are {list(table.columns)}, expected id,z")
        z = pd.to_numeric(table["z"], errors="raise").to_numpy(dtype=float)
    except Exception as error:
        raise DataError(f"{path}: unparsable depths ({error}). Expected a CSV with columns id,z and numeric z.") from None
    by_id = dict(zip(table["id"].astype(str), z))
    if len(by_id) != len(table):
        raise DataError(f"{path}: an id appears more than once. Keep one depth per tile.")
    depths = np.array([by_id.get(tile_id, np.nan) for tile_id in ids])
    # Depths are optional information: tiles without a row get NaN rather than an error.
    return depths


def _write_cache(cache_file: Path, data: TGSData) -> None:
    buffer = io.BytesIO()
    arrays = {"ids": data.ids.astype(str), "images": data.images, "coverage": data.coverage}
    if data.masks is not None:
        arrays["masks"] = np.packbits(data.masks, axis=-1)
    if data.depths is not None:
        arrays["depths"] = data.depths
    np.savez(buffer, **arrays)
    with atomic_write(cache_file) as partial:
        partial.write_bytes(buffer.getvalue())


def _read_cache(cache_file: Path) -> TGSData:
    with np.load(cache_file, allow_pickle=False) as arrays:
        masks = np.unpackbits(arrays["masks"], axis=-1, count=TILE_SHAPE[1]).astype(bool) if "masks" in arrays else None
        return TGSData(
            ids=arrays["ids"],
            images=arrays["images"],
            masks=masks,
            depths=arrays["depths"] if "depths" in arrays else None,
            coverage=arrays["coverage"],
        )
