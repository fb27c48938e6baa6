import numpy as np
import pandas as pd
import pytest

from salt_lib.rle import RLEError, rle_decode, rle_encode


def test_hand_checked_column_major_runs():
    mask = np.zeros((3, 3), bool)
    mask[1:, 0] = True  # pixels 2, 3 in column-major order
    mask[0, 1] = True  # pixel 4: the run continues across the column boundary
    mask[2, 2] = True  # pixel 9
    assert rle_encode(mask) == "2 3 9 1"
    assert np.array_equal(rle_decode("2 3 9 1", shape=(3, 3)), mask)


def test_empty_and_full():
    assert rle_encode(np.zeros((101, 101), bool)) == ""
    assert not rle_decode("").any()
    assert rle_encode(np.ones((101, 101), bool)) == "1 10201"
    assert rle_decode("1 10201").all()


def test_round_trip_random_masks():
    rng = np.random.default_rng(1)
    for density in (0.01, 0.5, 0.99):
        mask = rng.random((101, 101)) < density
        assert np.array_equal(rle_decode(rle_encode(mask)), mask)


@pytest.mark.parametrize(
    "bad", ["1", "a 2", "0 3", "5 0", "10 5 12 3", "10201 2", "1 -3", "1.5 2"]
)
def test_malformed_or_overrunning_rle_is_rejected(bad):
    with pytest.raises(RLEError):
        rle_decode(bad)


def test_real_csv_decodes_to_the_png_masks_and_encodes_back_exactly(real_root, real_dataset):
    table = pd.read_csv(real_root / "train.csv", dtype=str, keep_default_na=False).set_index("id")
    assert len(table) == len(real_dataset.tiles)
    for tile_id, mask in zip(real_dataset.tiles.ids, real_dataset.tiles.masks):
        text = table.loc[tile_id, "rle_mask"]
        assert np.array_equal(rle_decode(text), mask), tile_id
        assert rle_encode(mask) == text, tile_id
