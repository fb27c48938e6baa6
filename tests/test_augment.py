import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import ndimage

from salt_lib.augment import (
    POLICIES,
    RANDOM_POLICIES,
    TileBatches,
    augment_batch,
    augmentation_cost,
    augmenter,
    check_policy,
    expand_ids,
    expand_offline,
    original_id,
)
from salt_lib.split import split_622

BRIGHT, DARK = 220, 20  # salt pixels and background of the aligned test tiles
THRESHOLD = 120  # halfway: survives the intensity ops (gamma, +-10 %, +-15 grey levels)


def disc_tiles(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n tiles whose image is bright exactly where the mask is true: one disc each, at a random
    centre (often cut by the border, so border handling is tested) with radius 10..35."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:101, :101]
    masks = np.stack(
        [
            (rows - rng.integers(0, 101)) ** 2 + (cols - rng.integers(0, 101)) ** 2 <= rng.integers(10, 36) ** 2
            for _ in range(n)
        ]
    )
    images = np.where(masks, BRIGHT, DARK).astype(np.uint8)
    return images, masks


def noise_tiles(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n tiles of random noise (no two alike, none symmetric) with a random mask."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 101, 101), dtype=np.uint8)
    return images, rng.random((n, 101, 101)) < 0.3


def tagged_tiles(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n tiles whose top row starts and ends with the tile's number (i // 256, i % 256 and the
    same mirrored), the rest random: ``tile_number`` reads a tile back even after a flip."""
    images, masks = noise_tiles(n)
    images[:, 0, 0], images[:, 0, 1] = np.arange(n) // 256, np.arange(n) % 256
    images[:, 0, -1], images[:, 0, -2] = images[:, 0, 0], images[:, 0, 1]
    return images, masks


def tile_number(image: np.ndarray) -> int:
    return int(image[0, 0]) * 256 + int(image[0, 1])


def boundary_band(mask: np.ndarray) -> np.ndarray:
    """Pixels within one pixel of the mask's outline (the tile's edge is not an outline)."""
    inside = ndimage.binary_erosion(mask, border_value=1)
    return ndimage.binary_dilation(mask) & ~inside


# ---------------------------------------------------------------------------- policy names


@pytest.mark.parametrize(
    "call",
    [
        lambda: augmenter("mirrored"),
        lambda: augment_batch(*disc_tiles(2), "mirrored", seed=0),
        lambda: expand_offline(*disc_tiles(2), "mirrored"),
        lambda: expand_ids(["a"], "mirrored"),
        lambda: augmentation_cost(*disc_tiles(2), "mirrored"),
        lambda: TileBatches(*disc_tiles(2), 2, "mirrored", prepare=lambda i, m: (i, m)),
    ],
)
def test_unknown_policy_is_a_value_error_that_lists_the_valid_names(call):
    with pytest.raises(ValueError, match="mirrored") as error:
        call()
    for name in POLICIES:
        assert name in str(error.value)


def test_augmenter_is_none_exactly_for_the_policies_without_random_draws():
    assert augmenter("none") is None and augmenter("mirror") is None
    for policy in RANDOM_POLICIES:
        assert augmenter(policy) is not None


# ---------------------------------------------------------------------------- augment_batch


@pytest.mark.parametrize("policy", POLICIES)
def test_image_and_mask_get_the_same_geometry(policy):
    images, masks = disc_tiles(48)
    changed = 0
    for seed in (0, 1, 2):
        out_images, out_masks = augment_batch(images, masks, policy, seed=seed)
        assert out_images.shape == images.shape and out_images.dtype == np.uint8
        assert out_masks.shape == masks.shape and out_masks.dtype == bool
        changed += int(np.sum(np.any(out_masks != masks, axis=(1, 2))))
        for image, mask in zip(out_images, out_masks):
            disagree = (image > THRESHOLD) != mask
            # Bilinear image, nearest-neighbour mask: they may differ on the outline, nowhere else.
            assert np.sum(disagree & ~boundary_band(mask)) <= 3
            assert disagree.mean() <= 0.02
    if policy in RANDOM_POLICIES:
        assert changed > 30  # the check above was not vacuous: most tiles were moved
    else:
        assert changed == 0


@pytest.mark.parametrize("policy", ("flip_geo", "flip_geo_intensity"))
def test_salt_at_the_border_is_mirrored_into_the_mask_as_into_the_image(policy):
    # Salt along the left and right edges: a shift or zoom-out pulls pixels in from outside the
    # tile, which the image fills by mirroring (salt). The mask must show salt there too.
    masks = np.zeros((64, 101, 101), bool)
    masks[:, :, :30] = masks[:, :, -30:] = True
    images = np.where(masks, BRIGHT, DARK).astype(np.uint8)
    out_images, out_masks = augment_batch(images, masks, policy, seed=5)
    edges = np.r_[0:3, 98:101]
    edge_salt_in_image = out_images[:, 20:80, edges] > THRESHOLD
    assert edge_salt_in_image.mean() > 0.99
    assert np.mean(out_masks[:, 20:80, edges] == edge_salt_in_image) > 0.99


@pytest.mark.parametrize("policy", POLICIES)
def test_masks_stay_binary_and_keep_roughly_their_salt(policy):
    images, masks = noise_tiles(16)[0], disc_tiles(16)[1]
    out_images, out_masks = augment_batch(images, masks.astype(np.uint8), policy, seed=3)
    assert out_masks.dtype == bool and out_masks.shape == masks.shape
    assert out_images.dtype == np.uint8 and out_images.shape == images.shape
    assert abs(out_masks.mean() - masks.mean()) < 0.05


@pytest.mark.parametrize("policy", RANDOM_POLICIES)
def test_same_seed_same_result_other_seed_other_result(policy):
    images, masks = noise_tiles(16)
    first = augment_batch(images, masks, policy, seed=7)
    again = augment_batch(images, masks, policy, seed=7)
    other = augment_batch(images, masks, policy, seed=8)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_augment_batch_leaves_its_inputs_alone():
    images, masks = noise_tiles(8)
    before = images.copy(), masks.copy()
    augment_batch(images, masks, "flip_geo_intensity", seed=0)
    assert np.array_equal(images, before[0]) and np.array_equal(masks, before[1])


def test_flip_mirrors_about_half_the_tiles_and_leaves_the_rest():
    images, masks = noise_tiles(200)
    out_images, out_masks = augment_batch(images, masks, "flip", seed=0)
    flipped = np.array([np.array_equal(o, i[:, ::-1]) for o, i in zip(out_images, images)])
    kept = np.array([np.array_equal(o, i) for o, i in zip(out_images, images)])
    assert np.all(flipped | kept)
    assert 70 <= flipped.sum() <= 130  # Binomial(200, 0.5): mean 100, sd 7
    assert np.array_equal(out_masks[flipped], masks[flipped][:, :, ::-1])
    assert np.array_equal(out_masks[kept], masks[kept])


def test_bad_batches_are_refused():
    images, masks = noise_tiles(2)
    with pytest.raises(ValueError, match="uint8"):
        augment_batch(images.astype(np.float32), masks, "flip", seed=0)
    with pytest.raises(ValueError, match="shape"):
        augment_batch(images, masks[:, :50], "flip", seed=0)


# ---------------------------------------------------------------------------- offline expansion


def test_seed_expansion_appends_the_mirror_of_every_tile():
    images, masks = noise_tiles(5)
    ids = [f"t{i}" for i in range(5)]
    big_images, big_masks = expand_offline(images, masks, "mirror")
    big_ids = expand_ids(ids, "mirror")
    assert big_images.shape == (10, 101, 101) and big_masks.shape == (10, 101, 101)
    assert np.array_equal(big_images[:5], images) and np.array_equal(big_masks[:5], masks)
    assert np.array_equal(big_images[5:], images[:, :, ::-1])
    assert np.array_equal(big_masks[5:], masks[:, :, ::-1])
    assert list(big_ids) == ids + [f"t{i}_mirror" for i in range(5)]
    assert [original_id(tile_id) for tile_id in big_ids] == ids + ids


@pytest.mark.parametrize("policy", [p for p in POLICIES if p != "mirror"])
def test_other_policies_expand_nothing(policy):
    images, masks = noise_tiles(3)
    out_images, out_masks = expand_offline(images, masks, policy)
    assert out_images is images and out_masks is masks
    assert list(expand_ids(["a", "b", "c"], policy)) == ["a", "b", "c"]


def test_a_mirror_comes_from_its_own_split_and_never_from_another():
    ids = [f"t{i:04d}" for i in range(200)]
    coverage = np.random.default_rng(0).random(200)
    table = split_622(ids, coverage, seed=0)
    train_ids = table.loc[table["split"] == "train", "id"].tolist()
    held_out = set(table.loc[table["split"] != "train", "id"])
    expanded = expand_ids(train_ids, "mirror")
    assert len(expanded) == 2 * len(train_ids) and len(set(expanded)) == len(expanded)
    for tile_id in expanded:
        assert original_id(tile_id) in train_ids
        assert original_id(tile_id) not in held_out


# ---------------------------------------------------------------------------- TileBatches


def as_model_input(images, masks):
    """A stand-in for salt_lib.geometry: (B, 101, 101, 1) float32 in [0, 1], masks 0/1."""
    return images[..., None].astype(np.float32) / 255, masks[..., None].astype(np.float32)


def keep_uint8(images, masks):
    return images, masks


def epoch_tiles(batches: TileBatches) -> list[int]:
    """Tile numbers of one epoch in the order served (needs tagged tiles and keep_uint8)."""
    return [tile_number(image) for index in range(len(batches)) for image in batches[index][0]]


@pytest.mark.parametrize(
    "policy, n, batch_size, expected", [("none", 50, 8, 7), ("mirror", 50, 8, 13), ("flip", 64, 32, 2)]
)
def test_length_and_batch_shapes(policy, n, batch_size, expected):
    batches = TileBatches(*tagged_tiles(n), batch_size, policy, prepare=as_model_input)
    assert len(batches) == expected == math.ceil(n * (2 if policy == "mirror" else 1) / batch_size)
    x, y = batches[0]
    assert x.shape == y.shape == (batch_size, 101, 101, 1) and x.dtype == np.float32
    last_x, _ = batches[len(batches) - 1]
    assert len(last_x) == n * (2 if policy == "mirror" else 1) - (len(batches) - 1) * batch_size
    with pytest.raises(IndexError):
        batches[len(batches)]


def test_an_epoch_serves_every_tile_once_and_the_next_epoch_reshuffles():
    images, masks = tagged_tiles(50)
    batches = TileBatches(images, masks, 8, "none", prepare=keep_uint8, seed=1)
    first = epoch_tiles(batches)
    assert sorted(first) == list(range(50))
    batches.on_epoch_end()
    second = epoch_tiles(batches)
    assert sorted(second) == list(range(50)) and second != first
    x, y = batches[0]  # unaugmented: each image arrives with its own mask
    rows = [tile_number(image) for image in x]
    assert np.array_equal(x, images[rows]) and np.array_equal(y, masks[rows])


def test_seed_policy_serves_every_tile_and_every_mirror_once():
    images, masks = tagged_tiles(20)
    batches = TileBatches(images, masks, 6, "mirror", prepare=keep_uint8)
    served = np.concatenate([batches[index][0] for index in range(len(batches))])
    assert len(served) == 40
    is_mirror = np.array([any(np.array_equal(s, m) for m in images[:, :, ::-1]) for s in served])
    assert is_mirror.sum() == 20
    assert sorted(tile_number(s) for s in served[~is_mirror]) == list(range(20))
    assert sorted(tile_number(s[:, ::-1]) for s in served[is_mirror]) == list(range(20))


def test_without_shuffle_the_order_is_the_input_order():
    batches = TileBatches(*tagged_tiles(20), 6, "none", prepare=keep_uint8, shuffle=False)
    assert epoch_tiles(batches) == list(range(20))
    batches.on_epoch_end()
    assert epoch_tiles(batches) == list(range(20))


def test_batches_depend_only_on_seed_epoch_and_index_not_on_threads():
    images, masks = noise_tiles(48)
    one = TileBatches(images, masks, 8, "flip_geo", prepare=keep_uint8, seed=3)
    two = TileBatches(images, masks, 8, "flip_geo", prepare=keep_uint8, seed=3)
    other = TileBatches(images, masks, 8, "flip_geo", prepare=keep_uint8, seed=4)
    for _ in range(2):  # epochs 0 and 1
        in_order = [one[index] for index in range(len(one))]
        # Four threads, indices in reverse: as a prefetching pool might build them.
        with ThreadPoolExecutor(4) as pool:
            threaded = list(pool.map(two.__getitem__, reversed(range(len(two)))))[::-1]
        for (x1, y1), (x2, y2) in zip(in_order, threaded):
            assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
        assert not np.array_equal(in_order[0][0], other[0][0])
        for batches in (one, two, other):
            batches.on_epoch_end()


def test_keras_fit_runs_on_tile_batches_with_worker_threads():
    import keras

    served = []  # (epoch, batch index, tile numbers), from whichever thread built the batch
    lock = threading.Lock()

    class Recorded(TileBatches):
        def __getitem__(self, index):
            epoch = self.epoch
            x, y = super().__getitem__(index)
            with lock:
                served.append((epoch, index, [tile_number(image) for image in x]))
            return as_model_input(x, y)

    batches = Recorded(*tagged_tiles(24), 8, "flip", prepare=keep_uint8, workers=2)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((101, 101, 1)), keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(batches, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2
    assert batches.epoch >= 2  # Keras called on_epoch_end
    # Keras also builds a batch or two to learn the shapes; every epoch it trained on saw each
    # batch index, and so each tile, exactly once.
    trained = [e for e in {e for e, _, _ in served} if len([s for s in served if s[0] == e]) == len(batches)]
    assert len(trained) == 2
    for epoch in trained:
        tiles = sorted(t for e, _, numbers in served if e == epoch for t in numbers)
        assert tiles == list(range(24))


# ---------------------------------------------------------------------------- cost


def test_augmentation_cost_is_a_small_positive_time_per_batch():
    images, masks = noise_tiles(8)
    cheap = augmentation_cost(images, masks, "none", batch_size=8, batches=2)
    dear = augmentation_cost(images, masks, "flip_geo_intensity", batch_size=8, batches=2)
    assert 0 < cheap < dear < 1.0


def test_old_policy_name_still_works_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="mirror"):
        assert check_policy("seed") == "mirror"
