"""Tile geometry: 101x101 to the model's size and back, by padding and by bicubic resizing."""

import numpy as np
import pytest

from salt_lib.geometry import from_model, pad_widths, to_model

ROWS, COLS = np.mgrid[:101, :101]


def smooth_tile() -> np.ndarray:
    """A smooth float32 (101, 101) image in [0.1, 0.9]: a few wavelengths across the tile."""
    return (0.5 + 0.4 * np.sin(2 * np.pi * ROWS / 50) * np.cos(2 * np.pi * COLS / 40)).astype(np.float32)


def blob() -> np.ndarray:
    """A bool (101, 101) salt body: a disc with an elliptical bulge, touching no border."""
    disc = (ROWS - 55) ** 2 + (COLS - 45) ** 2 <= 25**2
    bulge = ((ROWS - 30) / 12.0) ** 2 + ((COLS - 70) / 20.0) ** 2 <= 1
    return disc | bulge


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize("size, before, after", [(128, 13, 14), (112, 5, 6), (101, 0, 0)])
def test_pad_widths(size, before, after):
    assert pad_widths(size) == (before, after)


def test_pad_is_centred_reflection():
    tiles = np.random.default_rng(0).random((2, 101, 101), dtype=np.float32)
    out = to_model(tiles, size=128, mode="pad")
    assert out.shape == (2, 128, 128, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 13:114, 13:114, 0], tiles)
    # Reflect mirrors without repeating the edge pixel: row 12 is row 1 of the tile, and the
    # last padded row (127) is row 101 - 1 - 14 = 86.
    np.testing.assert_array_equal(out[:, 12, 13:114, 0], tiles[:, 1])
    np.testing.assert_array_equal(out[:, 127, 13:114, 0], tiles[:, 86])


@pytest.mark.parametrize("size", [128, 112])
def test_pad_then_crop_is_exact(size):
    tiles = np.random.default_rng(1).integers(0, 256, (3, 101, 101, 1), dtype=np.uint8)
    back = from_model(to_model(tiles, size=size, mode="pad"), mode="pad", size=size)
    assert back.shape == (3, 101, 101) and back.dtype == np.float32
    np.testing.assert_array_equal(back, tiles[..., 0].astype(np.float32) / np.float32(255))


def test_uint8_is_scaled_and_both_layouts_agree():
    tiles = np.full((1, 101, 101), 255, dtype=np.uint8)
    tiles[0, 40:60, 40:60] = 0
    with_channel = to_model(tiles[..., None], size=128, mode="resize")
    without = to_model(tiles, size=128, mode="resize")
    np.testing.assert_array_equal(with_channel, without)
    assert with_channel.shape == (1, 128, 128, 1) and with_channel.dtype == np.float32
    # A sharp edge makes bicubic overshoot; the result is clipped to the input's [0, 1].
    assert with_channel.min() == 0.0 and with_channel.max() == 1.0
    assert np.all(with_channel[0, :5, :5] == 1.0)


@pytest.mark.parametrize("size", [128, 112])
def test_resize_round_trip_of_a_smooth_image(size):
    tile = smooth_tile()
    back = from_model(to_model(tile[None], size=size, mode="resize"), mode="resize")
    assert back.shape == (1, 101, 101)
    # Measured: max error 2.1e-3 (128) / 0.9e-3 (112), mean ~6e-5, on values in [0.1, 0.9].
    assert np.abs(back[0] - tile).max() < 5e-3
    assert np.abs(back[0] - tile).mean() < 5e-4


@pytest.mark.parametrize("mode", ["resize", "pad"])
@pytest.mark.parametrize("size", [128, 112])
def test_masks_stay_binary_and_survive_a_round_trip(mode, size):
    masks = np.stack([blob(), np.zeros((101, 101), bool)])
    model_masks = to_model(masks, size=size, mode=mode, mask=True)
    assert model_masks.shape == (2, size, size, 1) and model_masks.dtype == np.float32
    assert set(np.unique(model_masks)) <= {0.0, 1.0}
    assert not model_masks[1].any()
    back = from_model(model_masks, mode=mode, mask=True)
    assert set(np.unique(back)) <= {0.0, 1.0}
    assert iou(back[0] > 0.5, masks[0]) > 0.95
    assert not back[1].any()
    if mode == "pad":
        np.testing.assert_array_equal(back, masks.astype(np.float32))


def test_mask_dtypes():
    # PNG masks come as 0/255 (uint8) or 0/65535 (uint16); both mean the same mask.
    mask = blob()
    as_uint8 = to_model((mask * 255).astype(np.uint8)[None], mask=True)
    as_uint16 = to_model((mask * 65535).astype(np.uint16)[None], mask=True)
    as_bool = to_model(mask[None], mask=True)
    np.testing.assert_array_equal(as_uint8, as_bool)
    np.testing.assert_array_equal(as_uint16, as_bool)


def test_probability_maps_come_back_as_probabilities():
    maps = np.zeros((1, 128, 128, 1), np.float32)
    maps[0, 30:90, 30:90] = 1.0
    back = from_model(maps, mode="resize")
    assert back.min() >= 0.0 and back.max() <= 1.0


@pytest.mark.parametrize(
    "shape",
    [(101, 101), (2, 100, 100), (2, 101, 101, 3), (2, 101, 100), (2, 1, 101, 101)],
)
def test_wrong_tile_shapes_raise(shape):
    with pytest.raises(ValueError, match="shape"):
        to_model(np.zeros(shape, np.float32))


def test_other_errors():
    tiles = np.zeros((1, 101, 101), np.float32)
    with pytest.raises(ValueError, match="mode"):
        to_model(tiles, mode="crop")
    with pytest.raises(ValueError, match="size >= 101"):
        to_model(tiles, size=96, mode="pad")
    with pytest.raises(ValueError, match="dtype"):
        to_model(tiles.astype(np.int8))
    with pytest.raises(ValueError, match="128x128"):
        from_model(np.zeros((1, 112, 112, 1), np.float32), mode="pad", size=128)
    with pytest.raises(ValueError, match="shape"):
        from_model(np.zeros((112, 112), np.float32))
