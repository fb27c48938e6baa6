"""Tests of the synthetic TGS-like data set: layout, determinism, statistics, and that it has a
real texture cue and no brightness shortcut."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from salt_lib.metrics import tgs_score
from salt_lib.rle import rle_decode
from bench_synthetic import brightness_threshold_scores  # benchmarks/, its other user
from salt_lib.synthetic import (
    convolve_columns,
    make_synthetic_tgs,
    ricker_wavelet,
    synthesize_tiles,
    tile_ids,
)

N_TRAIN, N_TEST = 24, 6


@pytest.fixture(scope="module")
def tiles():
    """1000 in-memory tiles: images uint8, masks bool, depths float."""
    return synthesize_tiles(1000, seed=0)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A small data set on disk, in Kaggle's layout."""
    return make_synthetic_tgs(tmp_path_factory.mktemp("synthetic") / "tgs", n_train=N_TRAIN, n_test=N_TEST, seed=3)


def read_grey(path) -> np.ndarray:
    return np.array(Image.open(path))


def all_files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# Layout and formats
# ---------------------------------------------------------------------------------------------


def test_layout_has_kaggle_folders_and_csvs(written):
    train_ids = sorted(p.stem for p in (written / "train" / "images").glob("*.png"))
    test_ids = sorted(p.stem for p in (written / "test" / "images").glob("*.png"))
    assert len(train_ids) == N_TRAIN and len(test_ids) == N_TEST
    assert sorted(p.stem for p in (written / "train" / "masks").glob("*.png")) == train_ids
    assert not set(train_ids) & set(test_ids)
    assert all(re.fullmatch(r"[0-9a-f]{10}", tile_id) for tile_id in train_ids + test_ids)

    train_csv = pd.read_csv(written / "train.csv", dtype=str, keep_default_na=False)
    assert list(train_csv.columns) == ["id", "rle_mask"]
    assert sorted(train_csv["id"]) == train_ids
    depths = pd.read_csv(written / "depths.csv", dtype={"id": str})
    assert list(depths.columns) == ["id", "z"]
    assert sorted(depths["id"]) == sorted(train_ids + test_ids)
    assert depths["z"].between(50, 960).all()


def test_images_are_rgb_with_equal_channels(written):
    for path in list((written / "train" / "images").glob("*.png")) + list((written / "test" / "images").glob("*.png")):
        image = Image.open(path)
        assert image.mode == "RGB" and image.size == (101, 101)
        pixels = np.array(image)
        assert np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])


def test_masks_are_8_and_16_bit_and_match_train_csv(written):
    train_csv = pd.read_csv(written / "train.csv", dtype=str, keep_default_na=False).set_index("id")["rle_mask"]
    modes = set()
    for path in (written / "train" / "masks").glob("*.png"):
        image = Image.open(path)
        modes.add(image.mode)
        pixels = np.array(image)
        full_value = 255 if image.mode == "L" else 65535
        assert set(np.unique(pixels)) <= {0, full_value}, (path.name, image.mode, np.unique(pixels))
        assert np.array_equal(pixels > 0, rle_decode(train_csv[path.stem]))
    assert "L" in modes and modes & {"I;16", "I;16B", "I"}, modes


def test_written_train_tiles_are_synthesize_tiles(written):
    images, masks, depths = synthesize_tiles(N_TRAIN, seed=3)
    train_csv = pd.read_csv(written / "train.csv", dtype=str, keep_default_na=False)
    depth_by_id = pd.read_csv(written / "depths.csv", dtype={"id": str}).set_index("id")["z"]
    for i, tile_id in enumerate(train_csv["id"]):
        assert np.array_equal(read_grey(written / "train" / "images" / f"{tile_id}.png")[..., 0], images[i])
        assert np.array_equal(rle_decode(train_csv["rle_mask"][i]), masks[i])
        assert depth_by_id[tile_id] == depths[i]


def test_tile_ids_are_unique_hex_and_deterministic():
    ids = tile_ids(5000, seed=1)
    assert len(set(ids)) == 5000
    assert all(re.fullmatch(r"[0-9a-f]{10}", tile_id) for tile_id in ids)
    assert ids == tile_ids(5000, seed=1) and ids != tile_ids(5000, seed=2)


# ---------------------------------------------------------------------------------------------
# Determinism and safety
# ---------------------------------------------------------------------------------------------


def test_synthesize_tiles_shapes_and_determinism():
    images, masks, depths = synthesize_tiles(40, seed=7)
    assert images.shape == masks.shape == (40, 101, 101) and depths.shape == (40,)
    assert images.dtype == np.uint8 and masks.dtype == bool and depths.dtype.kind == "f"
    again = synthesize_tiles(40, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip((images, masks, depths), again))
    other = synthesize_tiles(40, seed=8)
    assert not np.array_equal(images, other[0]) and not np.array_equal(masks, other[1])


def test_same_seed_writes_byte_identical_files(tmp_path, written):
    again = make_synthetic_tgs(tmp_path / "again", n_train=N_TRAIN, n_test=N_TEST, seed=3)
    assert all_files(again) == all_files(written)
    other = all_files(make_synthetic_tgs(tmp_path / "other", n_train=N_TRAIN, n_test=N_TEST, seed=4))
    assert set(other) != set(all_files(written))  # different ids


def test_refuses_to_overwrite_an_existing_data_set(tmp_path):
    root = make_synthetic_tgs(tmp_path / "tgs", n_train=8, n_test=2, seed=0)
    before = all_files(root)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        make_synthetic_tgs(root, n_train=8, n_test=2, seed=1)
    assert all_files(root) == before  # nothing touched

    # With overwrite=True the old tiles go (no stale mix), files that are not tiles stay.
    (root / "notes.txt").write_text("mine")
    stale = root / "train" / "images" / "0000000000.png"
    stale.write_bytes(next((root / "train" / "images").glob("*.png")).read_bytes())
    make_synthetic_tgs(root, n_train=5, n_test=1, seed=1, overwrite=True)
    assert (root / "notes.txt").read_text() == "mine"
    assert not stale.exists()
    assert len(list((root / "train" / "images").glob("*.png"))) == 5
    assert len(list((root / "test" / "images").glob("*.png"))) == 1


def test_refuses_a_train_folder_with_files_from_elsewhere(tmp_path):
    (tmp_path / "train" / "images").mkdir(parents=True)
    (tmp_path / "train" / "images" / "real_tile.png").write_bytes(b"not ours")
    with pytest.raises(FileExistsError):
        make_synthetic_tgs(tmp_path, n_train=2, n_test=1)
    assert (tmp_path / "train" / "images" / "real_tile.png").read_bytes() == b"not ours"


# ---------------------------------------------------------------------------------------------
# Statistics like the real set
# ---------------------------------------------------------------------------------------------


def test_coverage_distribution_is_close_to_the_real_one(tiles):
    _, masks, _ = tiles
    coverage = masks.mean(axis=(1, 2))
    assert abs(np.mean(coverage == 0) - 0.39) < 0.03
    salty = coverage[coverage > 0]
    quartile_share = np.histogram(salty, bins=[0, 0.25, 0.5, 0.75, 1.0 + 1e-9])[0] / len(salty)
    assert np.all(quartile_share >= 0.10), quartile_share
    assert np.mean(coverage == 1) >= 0.01  # some fully salt tiles
    assert np.sum((coverage > 0) & (coverage < 0.01)) >= 10  # and some with a few dozen pixels


def test_depths_are_plausible(tiles):
    _, _, depths = tiles
    assert depths.min() >= 50 and depths.max() <= 960 and depths.std() > 150


def test_images_use_varied_brightness_and_contrast(tiles):
    images, masks, _ = tiles
    shown = images.max(axis=(1, 2)) > 0
    assert 0.005 < np.mean(~shown) < 0.05  # a few all-black tiles, as in the real set
    assert not masks[~shown].any()  # and those have no salt
    means, spreads = images[shown].mean(axis=(1, 2)), images[shown].std(axis=(1, 2))
    assert means.std() > 15 and spreads.std() > 5


# ---------------------------------------------------------------------------------------------
# The label needs texture, not brightness
# ---------------------------------------------------------------------------------------------


def test_no_global_brightness_threshold_beats_predicting_no_salt(tiles):
    images, masks, _ = tiles
    scores = brightness_threshold_scores(images, masks)
    empty_score = tgs_score(masks, np.zeros_like(masks))
    assert scores["empty"] == pytest.approx(empty_score)
    best = max(scores["above"].max(), scores["below"].max())
    assert best <= empty_score + 0.1, (best, empty_score)

    # The fast histogram scores agree with the shared metric, at the best and at other rules.
    for rule, threshold in [("above", int(np.argmax(scores["above"]))), ("below", int(np.argmax(scores["below"]))),
                            ("above", 120), ("below", 90), ("above", 0), ("below", 255)]:
        prediction = images > threshold if rule == "above" else images < threshold
        assert scores[rule][threshold] == pytest.approx(tgs_score(masks, prediction)), (rule, threshold)


def interior_and_exterior(mask, margin=5):
    """Pixels at least ``margin`` pixels inside the salt, and at least that far outside it."""
    return ndimage.binary_erosion(mask, iterations=margin), ndimage.binary_erosion(~mask, iterations=margin)


def test_salt_interior_is_weaker_and_less_layered_than_the_sediments(tiles):
    images, masks, _ = tiles
    coverage = masks.mean(axis=(1, 2))
    amplitude_ratios, lateral_continuity = [], []
    for image, mask in zip(images[(coverage > 0.2) & (coverage < 0.8)], masks[(coverage > 0.2) & (coverage < 0.8)]):
        inside, outside = interior_and_exterior(mask)
        if inside.sum() < 300 or outside.sum() < 300:
            continue
        grey = image.astype(float)
        vertical_change = np.abs(np.diff(grey, axis=0, prepend=grey[:1]))
        amplitude_ratios.append(vertical_change[inside].mean() / vertical_change[outside].mean())
        # Layers continue sideways: a pixel's vertical change resembles the one 4 columns over.
        change = np.diff(grey, axis=0, prepend=grey[:1])
        shifted = np.roll(change, 4, axis=1)
        region_pairs = []
        for region in (inside, outside):
            both = region & np.roll(region, 4, axis=1)
            both[:, :4] = False
            region_pairs.append(np.corrcoef(change[both], shifted[both])[0, 1])
        lateral_continuity.append(region_pairs)
    amplitude_ratios = np.array(amplitude_ratios)
    lateral_continuity = np.array(lateral_continuity)
    assert len(amplitude_ratios) >= 100
    # Salt is quieter than the layers around it in most tiles, and by a clear margin overall.
    assert np.median(amplitude_ratios) < 0.6, np.median(amplitude_ratios)
    assert np.mean(amplitude_ratios < 1) > 0.85
    # And it lacks their lateral continuity.
    inside_continuity, outside_continuity = np.median(lateral_continuity, axis=0)
    assert inside_continuity < 0.3 < outside_continuity, (inside_continuity, outside_continuity)


# ---------------------------------------------------------------------------------------------
# Physics building blocks
# ---------------------------------------------------------------------------------------------


def test_fft_convolution_equals_direct_convolution_with_the_ricker_wavelet():
    rng = np.random.default_rng(0)
    reflectivity = rng.normal(size=(2, 200, 3))
    peak = np.array([0.05, 0.12])
    seismic = convolve_columns(reflectivity, peak)
    for tile in range(2):
        wavelet = ricker_wavelet(peak[tile], half_length=60)
        assert wavelet[60] == 1.0 and np.argmax(wavelet) == 60
        for col in range(3):
            direct = np.convolve(reflectivity[tile, :, col], wavelet, mode="same")
            np.testing.assert_allclose(seismic[tile, 60:140, col], direct[60:140], atol=1e-6)
