"""The one way from a data folder to tiles and a split: synthetic data made once, the content
fingerprint computed by the loader, and a split file that must split exactly these tiles."""

from __future__ import annotations

import pytest

from salt_lib.data import DataError, load_tgs
from salt_lib.dataset import ensure_data, load_dataset, resolve_split
from salt_lib.split import load_split, split_622, split_hash


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    base = tmp_path_factory.mktemp("dataset")
    return load_dataset(base / "data", base / "split.csv", synthetic_tiles=40, synthetic_seed=3, cache_dir=base / "cache"), base


def test_synthetic_data_is_made_once_and_a_size_mismatch_is_an_error(made):
    dataset, base = made
    assert len(dataset.tiles) == 40 and (base / "data" / "SYNTHETIC.txt").is_file()
    assert not list(base.glob("data.part*"))  # written to a temporary folder, then renamed
    with pytest.raises(DataError, match="ask for 50"):
        ensure_data(base / "data", synthetic_tiles=50)
    with pytest.raises(DataError, match="no such folder"):
        load_dataset(base / "nowhere")


def test_parts_follow_the_split_and_provenance_is_portable(made):
    dataset, base = made
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == len(dataset.tiles)
    assert set(dataset.val.ids) == set(dataset.split.loc[dataset.split["split"] == "val", "id"])
    assert dataset.split_hash == split_hash(load_split(base / "split.csv"))  # written where it was asked for
    provenance = dataset.provenance()
    assert provenance["data_fingerprint"] == dataset.fingerprint and provenance["split_hash"] == dataset.split_hash
    assert not provenance["data"].startswith("/") and not provenance["split_file"].startswith("/")


def test_fingerprint_comes_from_the_loader_and_follows_the_content(tiny_root, tmp_path):
    first = load_tgs(tiny_root, cache_dir=tmp_path / "cache")
    cached = load_tgs(tiny_root, cache_dir=tmp_path / "cache")
    assert first.fingerprint and cached.fingerprint == first.fingerprint
    assert first.subset(first.ids[:2]).fingerprint is None  # a subset is other content
    (tiny_root / "depths.csv").write_text("id,z\n")
    assert load_tgs(tiny_root, cache_dir=tmp_path / "cache").fingerprint != first.fingerprint


def test_split_is_read_written_or_made_in_memory(made, tmp_path):
    dataset, _ = made
    tiles = dataset.tiles
    in_memory = resolve_split(tiles, None, seed=1)
    assert split_hash(in_memory) == split_hash(split_622(tiles.ids, tiles.coverage, seed=1))
    assert not list(tmp_path.iterdir())
    written = resolve_split(tiles, tmp_path / "split.csv", seed=1)
    assert split_hash(resolve_split(tiles, tmp_path / "split.csv", seed=2)) == split_hash(written)  # the file wins


@pytest.mark.parametrize("content", ["id,split\nnot-a-tile,train\n", "subset"])
def test_a_split_file_made_for_other_tiles_is_an_error_never_rewritten(made, tmp_path, content):
    dataset, _ = made
    split_file = tmp_path / "split.csv"
    if content == "subset":
        dataset.split.iloc[:-1].to_csv(split_file, index=False)  # one tile short: never used for a subset
    else:
        split_file.write_text(content)
    before = split_file.read_text()
    with pytest.raises(DataError, match="Delete .*split.csv to make a fresh split") as error:
        resolve_split(dataset.tiles, split_file)
    assert "\n" not in str(error.value) and str(split_file) in str(error.value)
    assert split_file.read_text() == before
