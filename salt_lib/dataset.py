"""From a data folder to labelled tiles and their split: the one way in.

``load_dataset(data_dir, split_file, split_seed, synthetic_tiles)`` is what the command line,
the notebooks and the tests call. It

1. makes the embedded synthetic data set in ``data_dir`` if asked to and it is missing
   (``ensure_data``);
2. loads the labelled tiles once (``salt_lib.data.load_tgs``, which also gives the content
   fingerprint that models record);
3. resolves the 6:2:2 split (``resolve_split``): read from ``split_file`` if it exists, else made
   with ``split_622`` (and written to ``split_file`` when one is named). A split file that does not
   split exactly these tiles is an error naming the file and the fix: it is never rewritten or
   used for a subset silently.

The result, a ``Dataset``, holds the train / val / test tiles, the fingerprint, the split table
and its hash, and the provenance a trained model records (with portable paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from salt_lib.data import DataError, TGSData, load_tgs
from salt_lib.files import portable_path
from salt_lib.split import ids_of, load_split, save_split, split_622, split_hash
from salt_lib.synthetic import write_synthetic_folder


@dataclass(frozen=True)
class Dataset:
    """The labelled tiles of a folder, their split and the provenance every model records.

    ``split_file`` is where the split was read from or written to (None: made in memory with
    ``split_622``); ``fingerprint`` hashes the folder's files, ``split_hash`` the split's content.
    """

    root: Path
    tiles: TGSData
    split: pd.DataFrame
    split_file: Path | None
    fingerprint: str
    split_hash: str

    def part(self, name: str) -> TGSData:
        """The tiles of split ``name`` ('train', 'val' or 'test')."""
        return self.tiles.subset(ids_of(self.split, name))

    @cached_property
    def train(self) -> TGSData:
        return self.part("train")

    @cached_property
    def val(self) -> TGSData:
        return self.part("val")

    @cached_property
    def test(self) -> TGSData:
        return self.part("test")

    def provenance(self) -> dict:
        """What a model trained on this data records: the folder and split file as portable
        paths (``salt_lib.files.portable_path``), the fingerprint and the split hash."""
        return {"data": portable_path(self.root), "data_fingerprint": self.fingerprint,
                "split_file": portable_path(self.split_file) if self.split_file else None, "split_hash": self.split_hash}

    def describe(self) -> str:
        counts = self.split["split"].value_counts()
        source = self.split_file.name if self.split_file else "split_622"
        return (f"{len(self.tiles)} labelled tiles in {self.root} (fingerprint {self.fingerprint}); split "
                f"{source} (hash {self.split_hash}): train {counts.get('train', 0)}, "
                f"val {counts.get('val', 0)}, test {counts.get('test', 0)}")


def load_dataset(data_dir, split_file=None, split_seed: int = 0, synthetic_tiles: int = 0, synthetic_seed: int = 0,
                 cache_dir=None) -> Dataset:
    """The labelled tiles of ``data_dir`` and their split (see the module docstring).

    ``split_file``: the split to use (read if it exists, else made with ``split_seed`` and written
    there); None makes it in memory. ``synthetic_tiles > 0`` writes that many synthetic tiles
    (seed ``synthetic_seed``) into a missing ``data_dir`` first. ``cache_dir``: where decoded
    arrays are cached (``load_tgs``). DataError for a folder or split file that does not fit.
    """
    root = ensure_data(data_dir, synthetic_tiles, synthetic_seed)
    tiles = load_tgs(root, cache_dir=cache_dir)
    table = resolve_split(tiles, split_file, split_seed)
    return Dataset(root, tiles, table, Path(split_file) if split_file else None, tiles.fingerprint, split_hash(table))


def resolve_split(tiles: TGSData, split_file=None, seed: int = 0) -> pd.DataFrame:
    """The 6:2:2 split of ``tiles``: the one in ``split_file`` if that file exists, else
    ``split_622(seed)`` (written to ``split_file`` when one is named).

    A split file that does not list exactly these tiles raises DataError naming the file and the
    fix: a split made for other tiles is never rewritten, nor used for the tiles it shares.
    """
    if split_file is None:
        return split_622(tiles.ids, tiles.coverage, seed=seed)
    split_file = Path(split_file)
    if not split_file.is_file():
        table = split_622(tiles.ids, tiles.coverage, seed=seed)
        save_split(table, split_file)
        return table
    table = load_split(split_file)
    listed, present = set(table["id"]), set(tiles.ids.astype(str))
    if listed != present:
        raise DataError(f"{split_file}: splits {len(listed)} tiles, but the data holds {len(present)} "
                        f"({len(present - listed)} of them not in the file, {len(listed - present)} ids in the file not in the data). "
                        f"Delete {split_file} to make a fresh split of these tiles (seed {seed}), or pass the split file made for this data.")
    return table


def ensure_data(data_dir, synthetic_tiles: int = 0, seed: int = 0) -> Path:
    """The data folder, after writing the embedded synthetic set there if it is missing.

    With ``synthetic_tiles > 0`` a missing folder gets ``synthetic_tiles`` labelled synthetic
    tiles (``synthetic.write_synthetic_folder``: an interrupted run never leaves half a data
    set). An existing synthetic folder with another number of tiles
    is an error (say which to delete). With ``synthetic_tiles == 0`` the folder must exist
    (``load_tgs`` says what is wrong with it).
    """
    root = Path(data_dir)
    images = root / "train" / "images"
    if images.is_dir():
        if synthetic_tiles and (root / "SYNTHETIC.txt").is_file():
            found = sum(1 for _ in images.glob("*.png"))
            if found != synthetic_tiles:
                raise DataError(f"{root}: holds {found} synthetic tiles, the parameters ask for {synthetic_tiles}. "
                                f"Delete {root} to regenerate it, or set synthetic_tiles = {found}.")
        return root
    if synthetic_tiles <= 0:
        return root
    if root.exists() and any(root.iterdir()):
        raise DataError(f"{root}: exists but holds no train/images. Empty it or choose another data_dir.")
    return write_synthetic_folder(root, n_train=synthetic_tiles, seed=seed)
