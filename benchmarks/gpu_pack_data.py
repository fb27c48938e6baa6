"""Pack the labelled tiles and the project's 6:2:2 split into one compressed .npz for the GPU machine.

The GPU machine sees only the repository's working tree (no ``../shared``), so the tiles travel as
one git-ignored file: uint8 images and bool masks of train/val/test, their ids, and the data
fingerprint and split hash that every record carries. Nothing of it is committed.

    .venv/bin/python benchmarks/gpu_pack_data.py --data ../shared/tgs-salt --out .gpu/tgs_split.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from salt_lib.data import load_tgs
from salt_lib.split import ids_of, split_622, split_hash


def pack(data_dir, out, split_seed: int = 0) -> Path:
    tiles = load_tgs(data_dir)
    table = split_622(tiles.ids, tiles.coverage, seed=split_seed)
    arrays = {"data_fingerprint": np.array(tiles.fingerprint), "split_hash": np.array(split_hash(table)),
              "data_name": np.array(Path(data_dir).resolve().name)}
    for part in ("train", "val", "test"):
        subset = tiles.subset(ids_of(table, part))
        arrays |= {f"{part}_ids": subset.ids.astype(str), f"{part}_images": subset.images,
                   f"{part}_masks": subset.masks.astype(bool)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/tgs-salt")
    parser.add_argument("--out", default=".gpu/tgs_split.npz")
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args()
    out = pack(args.data, args.out, args.split_seed)
    with np.load(out) as packed:
        sizes = {part: len(packed[f"{part}_ids"]) for part in ("train", "val", "test")}
        print(f"{out}: {out.stat().st_size / 2**20:.1f} MiB, {sizes}, split hash {packed['split_hash']}, "
              f"data fingerprint {packed['data_fingerprint']}")


if __name__ == "__main__":
    main()
