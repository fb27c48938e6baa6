import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import disk_mask
from salt_lib.data import DataError, load_tgs
from salt_lib.rle import rle_encode


def folder_digest(root: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load(root, tmp_path, **kwargs):
    return load_tgs(root, cache_dir=tmp_path / "cache", **kwargs)


def test_loads_layout_with_8_and_16_bit_masks_and_depths(tiny_root, tmp_path):
    before = folder_digest(tiny_root)
    data = load(tiny_root, tmp_path)
    assert data.images.shape == (6, 101, 101) and data.images.dtype == np.uint8
    assert data.masks.shape == (6, 101, 101) and data.masks.dtype == bool
    assert np.array_equal(data.masks[1], disk_mask(8))  # the 16-bit mask
    assert np.array_equal(data.masks[2], disk_mask(16))
    assert not data.masks[0].any() and data.coverage[0] == 0
    assert data.coverage[2] == pytest.approx(disk_mask(16).mean())
    assert data.depths.tolist() == [100, 110, 120, 130, 140, 150]
    assert list(data.ids) == sorted(data.ids)
    assert folder_digest(tiny_root) == before  # nothing of the user's data changed
    assert not list(tiny_root.rglob("*.npz"))  # the cache lives elsewhere
    assert list((tmp_path / "cache").glob("*.npz"))


def test_warm_cache_returns_identical_arrays_and_notices_changes(tiny_root, tmp_path):
    cold = load(tiny_root, tmp_path)
    warm = load(tiny_root, tmp_path)
    for field in ("ids", "images", "masks", "depths", "coverage"):
        assert np.array_equal(getattr(cold, field), getattr(warm, field)), field
    # Change one mask: the content key changes, so the new mask is read, not the stale cache.
    tile_id = cold.ids[3]
    Image.fromarray(np.zeros((101, 101), np.uint8)).save(tiny_root / "train" / "masks" / f"{tile_id}.png")
    (tiny_root / "train.csv").unlink()
    assert not load(tiny_root, tmp_path).masks[3].any()


def test_masks_from_csv_when_masks_folder_is_missing(tiny_root, tmp_path):
    expected = load(tiny_root, tmp_path, use_cache=False)
    shutil.rmtree(tiny_root / "train" / "masks")
    assert np.array_equal(load(tiny_root, tmp_path).masks, expected.masks)


def test_depths_are_optional_and_test_split_is_unlabelled(tiny_root, tmp_path):
    (tiny_root / "depths.csv").unlink()
    assert load(tiny_root, tmp_path).depths is None
    (tiny_root / "test" / "images").mkdir(parents=True)
    shutil.copy(next((tiny_root / "train" / "images").iterdir()), tiny_root / "test" / "images" / "abc.png")
    test = load(tiny_root, tmp_path, split="test")
    assert test.masks is None and list(test.ids) == ["abc"] and np.isnan(test.coverage).all()


# Each bad input: (how to break the folder, a phrase the error must contain).
def break_missing_train(root):
    shutil.rmtree(root / "train")


def break_no_images(root):
    for path in (root / "train" / "images").iterdir():
        path.unlink()


def first(root, kind):
    return sorted((root / "train" / kind).iterdir())[0]


def break_image_without_mask(root):
    first(root, "masks").unlink()
    (root / "train.csv").unlink()


def break_mask_without_image(root):
    shutil.copy(first(root, "masks"), root / "train" / "masks" / "zzzzorphan.png")


def break_truncated_png(root):
    path = first(root, "images")
    path.write_bytes(path.read_bytes()[:200])


def break_not_a_png(root):
    first(root, "images").write_text("hello")


def break_wrong_size(root):
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(first(root, "images"))


def break_mask_values(root):
    Image.fromarray(np.full((101, 101), 7, np.uint8)).save(first(root, "masks"))


def break_rle_past_tile(root):
    shutil.rmtree(root / "train" / "masks")
    lines = (root / "train.csv").read_text().splitlines()
    lines[1] = lines[1].split(",")[0] + ",10200 5"
    (root / "train.csv").write_text("\n".join(lines) + "\n")


def break_rle_malformed(root):
    lines = (root / "train.csv").read_text().splitlines()
    lines[2] = lines[2].split(",")[0] + ",12 x"
    (root / "train.csv").write_text("\n".join(lines) + "\n")


def break_rle_disagrees(root):
    lines = (root / "train.csv").read_text().splitlines()
    lines[2] = lines[2].split(",")[0] + "," + rle_encode(disk_mask(3))
    (root / "train.csv").write_text("\n".join(lines) + "\n")


def break_duplicate_file_ids(root):
    shutil.copy(first(root, "images"), first(root, "images").with_suffix(".PNG"))


def break_duplicate_csv_ids(root):
    lines = (root / "train.csv").read_text().splitlines()
    (root / "train.csv").write_text("\n".join(lines + [lines[1]]) + "\n")


def break_depths(root):
    (root / "depths.csv").write_text("id,z\nabc,deep\n")


def break_depths_columns(root):
    (root / "depths.csv").write_text("tile;depth\nabc;3\n")


@pytest.mark.parametrize(
    "breaker, phrase",
    [
        (break_missing_train, "train: missing"),
        (break_no_images, "no PNG images"),
        (break_image_without_mask, "no mask for image"),
        (break_mask_without_image, "a mask without an image"),
        (break_truncated_png, "unreadable or truncated"),
        (break_not_a_png, "unreadable or truncated"),
        (break_wrong_size, "expected 101x101"),
        (break_mask_values, "besides 0 and 255"),
        (break_rle_past_tile, "past the 101x101 tile"),
        (break_rle_malformed, "start length"),
        (break_rle_disagrees, "disagrees"),
        (break_duplicate_file_ids, "duplicate id"),
        (break_duplicate_csv_ids, "more than once"),
        (break_depths, "unparsable depths"),
        (break_depths_columns, "unparsable depths"),
    ],
)
def test_bad_input_raises_data_error_naming_the_file(tiny_root, tmp_path, breaker, phrase):
    breaker(tiny_root)
    before = folder_digest(tiny_root)
    with pytest.raises(DataError, match=phrase) as error:
        load(tiny_root, tmp_path)
    assert str(tiny_root) in str(error.value)  # the message points at the offending file
    assert folder_digest(tiny_root) == before


def test_missing_root(tmp_path):
    with pytest.raises(DataError, match="no such folder"):
        load(tmp_path / "nowhere", tmp_path)


def test_real_tiles_load_with_their_quirks(real_dataset):
    assert len(real_dataset.tiles) == 3200
    assert real_dataset.tiles.images.shape == (3200, 101, 101)
    assert 0.35 < np.mean(real_dataset.tiles.coverage == 0) < 0.43  # about 39% empty, as the README says
    assert real_dataset.tiles.depths is None  # this copy has no depths.csv
    assert real_dataset.tiles.images.std() > 10  # real seismic contrast, not a constant channel
