"""Several models as one: averaged probabilities, and a threshold chosen on validation for them."""

import numpy as np
import pytest

from salt_lib.data import DataError, TGSData
from salt_lib.synthetic import synthesize_tiles

# Two tiny networks of different shapes: a native-101 U-Net and a ResUNet on 64x64 resized tiles.
TINY_UNET = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}
TINY_RESUNET = {"filters": 4, "depth": 2, "input_size": 64, "geometry": "resize"}


def tiles(n, seed):
    images, masks, depths = synthesize_tiles(n, seed=seed)
    return TGSData(ids=np.array([f"t{seed}_{i}" for i in range(n)]), images=images, masks=masks,
                   depths=depths, coverage=masks.reshape(n, -1).mean(axis=1))


@pytest.fixture(scope="module")
def members():
    import keras

    from salt_lib.models import build_model

    keras.utils.set_random_seed(0)
    return build_model("unet", "lite", TINY_UNET), build_model("resunet", "lite", TINY_RESUNET)


def test_ensemble_probabilities_are_the_mean_of_the_members(members):
    from salt_lib.predict import predict, predict_ensemble

    images = tiles(6, 0).images
    single = [predict(model, images) for model in members]  # each at its own input size and geometry
    assert not np.allclose(single[0], single[1], atol=1e-3)
    np.testing.assert_allclose(predict_ensemble(list(members), images), (single[0] + single[1]) / 2, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(predict_ensemble(members[:1], images), single[0])
    with pytest.raises(ValueError, match="at least one model"):
        predict_ensemble([], images)


def test_an_ensemble_is_scored_at_the_threshold_its_averaged_probabilities_choose_on_validation(members, tmp_path):
    from salt_lib.evaluate import evaluate_model, predictions
    from salt_lib.predict import choose_threshold, predict
    from salt_lib.records import write_record

    paths = []
    for name, model in zip(("unet", "resunet"), members):
        path = tmp_path / f"{name}.keras"
        model.save(path)
        write_record(path, model.salt_config | {"threshold": 0.9, "min_size": 0})  # a member's own choice, not used
        paths.append(path)
    val, test = tiles(8, 1), tiles(6, 2)
    averaged_val = (predict(members[0], val.images) + predict(members[1], val.images)) / 2
    result = evaluate_model(paths, test, val=val)
    assert result.record["threshold"] == choose_threshold(averaged_val, val.masks)[0]
    assert result.record["val"]["tiles"] == 8 and result.name == "unet+resunet"
    np.testing.assert_allclose(result.probs, predictions(paths, test), atol=1e-6)
    np.testing.assert_allclose(result.probs, (predict(members[0], test.images) + predict(members[1], test.images)) / 2, atol=1e-5)
    with pytest.raises(DataError, match="validation split"):
        evaluate_model(paths, test)


def test_the_empty_tile_gate_empties_the_tiles_under_its_cut_and_is_chosen_on_labelled_tiles():
    from salt_lib.predict import choose_empty_cut, empty_tiles, to_masks

    masks = np.zeros((4, 101, 101), bool)
    masks[2:, 20:60, 20:60] = True  # tiles 0, 1 empty; 2, 3 hold salt
    probs = np.zeros((4, 101, 101), np.float32)
    probs[:, 30:70, 30:70] = 0.9  # a false salt blob on the empty tiles, a rough one on the others
    salt = np.array([0.05, 0.25, 0.9, 0.6])
    assert to_masks(probs, 0.5).any(axis=(1, 2)).all()
    gated = to_masks(probs, 0.5, 0, salt, 0.3)
    assert gated.any(axis=(1, 2)).tolist() == [False, False, True, True]
    assert empty_tiles(gated, None, 0.9) is gated and empty_tiles(gated, salt, 0.0) is gated
    cut, score = choose_empty_cut(probs, salt, masks, 0.5)
    assert 0.25 < cut <= 0.6 and score > choose_empty_cut(probs, salt, masks, 0.5, cuts=(0.0,))[1]
    # a head that says nothing useful leaves every tile alone: the smallest cut wins the tie
    assert choose_empty_cut(probs, np.ones(4), masks, 0.5)[0] == 0.0
    with pytest.raises(ValueError, match="one salt probability per tile"):
        empty_tiles(gated, salt[:3], 0.5)
