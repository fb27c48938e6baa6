"""Losses: hand-computed values, a NumPy reference for the Lovasz hinge, gradients, compile use."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf  # only for GradientTape in the gradient test; the losses use keras.ops

from salt_lib import losses
from salt_lib.losses import bce, bce_dice, get_loss, lovasz_hinge, lovasz_symmetric, soft_dice_loss, soft_iou_loss

ALL_LOSSES = [bce, soft_iou_loss, soft_dice_loss, bce_dice, lovasz_hinge, lovasz_symmetric]


def value(loss, y_true, y_pred) -> float:
    return float(keras.ops.convert_to_numpy(loss(np.asarray(y_true, np.float32), np.asarray(y_pred, np.float32))))


def batch(*images) -> np.ndarray:
    """Stack 2-D arrays into a float32 (N, H, W, 1) batch."""
    return np.stack([np.asarray(image, np.float32) for image in images])[..., None]


# The 2x2 example used below:      truth  1 1      prediction  0.8 0.6
#                                         0 0                  0.2 0.0
TRUTH = batch([[1, 1], [0, 0]])
PRED = batch([[0.8, 0.6], [0.2, 0.0]])


def test_soft_iou_by_hand():
    # intersection = 0.8 + 0.6 = 1.4; sum(t) = 2; sum(p) = 1.6; union = 2 + 1.6 - 1.4 = 2.2
    # with smooth 1: IoU = (1.4 + 1) / (2.2 + 1) = 2.4 / 3.2 = 0.75, so the loss is 0.25
    assert value(soft_iou_loss, TRUTH, PRED) == pytest.approx(0.25, abs=1e-6)


def test_soft_dice_by_hand():
    # Dice = (2 * 1.4 + 1) / (2 + 1.6 + 1) = 3.8 / 4.6, so the loss is 0.8 / 4.6 = 4 / 23
    assert value(soft_dice_loss, TRUTH, PRED) == pytest.approx(4 / 23, abs=1e-6)


def test_bce_by_hand():
    # -log 0.8, -log 0.6 for the salt pixels; -log(1 - 0.2), -log(1 - 0) for the others; mean of 4
    expected = (-math.log(0.8) - math.log(0.6) - math.log(0.8) - 0.0) / 4  # = 0.23926
    assert value(bce, TRUTH, PRED) == pytest.approx(expected, abs=1e-5)
    assert value(bce_dice, TRUTH, PRED) == pytest.approx(expected + 4 / 23, abs=1e-5)


def test_per_image_then_batch_mean():
    # Image 2 is empty and predicted empty: IoU (0 + 1) / (0 + 1) = 1, loss 0. Batch: (0.25 + 0) / 2.
    truth = np.concatenate([TRUTH, batch(np.zeros((2, 2)))])
    pred = np.concatenate([PRED, batch(np.zeros((2, 2)))])
    assert value(soft_iou_loss, truth, pred) == pytest.approx(0.125, abs=1e-6)


def test_bce_equals_keras():
    rng = np.random.default_rng(0)
    truth = (rng.random((3, 8, 8, 1)) > 0.5).astype(np.float32)
    pred = rng.random((3, 8, 8, 1)).astype(np.float32)
    expected = float(np.mean(keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(truth, pred))))
    assert value(bce, truth, pred) == pytest.approx(expected, rel=1e-6)


# ---- the Lovasz hinge -------------------------------------------------------------------------


def lovasz_reference(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Berman et al.'s binary Lovasz hinge, per image then averaged, written plainly in NumPy."""
    per_image = []
    for truth, prob in zip(y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)):
        truth = truth.astype(np.float64)
        prob = np.clip(prob.astype(np.float64), 1e-7, 1 - 1e-7)
        logits = np.log(prob / (1 - prob))
        errors = 1 - logits * (2 * truth - 1)  # hinge errors
        order = np.argsort(-errors)  # largest error first
        errors, truth = errors[order], truth[order]
        # Jaccard loss after predicting the first i+1 pixels wrong, and its increments.
        intersection = truth.sum() - np.cumsum(truth)
        union = truth.sum() + np.cumsum(1 - truth)
        jaccard = 1 - intersection / union
        gradient = np.concatenate([jaccard[:1], np.diff(jaccard)])
        per_image.append(np.dot(np.maximum(errors, 0), gradient))
    return float(np.mean(per_image))


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, np.float64)))


def test_lovasz_by_hand():
    # Two pixels: truth (1, 0), logits (0.5, 1.0). Hinge errors: 1 - 0.5 * (+1) = 0.5 and
    # 1 - 1.0 * (-1) = 2. Sorted: 2 (truth 0), 0.5 (truth 1). With 1 true pixel:
    # intersection 1 - (0, 1) = (1, 0); union 1 + (1, 1) = (2, 2); Jaccard loss 1 - (1/2, 0) =
    # (0.5, 1); gradient (0.5, 0.5). Loss = 2 * 0.5 + 0.5 * 0.5 = 1.25.
    truth = batch([[1, 0]])
    pred = batch(sigmoid([[0.5, 1.0]]))
    assert value(lovasz_hinge, truth, pred) == pytest.approx(1.25, abs=1e-4)
    assert lovasz_reference(truth, pred) == pytest.approx(1.25, abs=1e-6)


def test_lovasz_matches_numpy_reference():
    rng = np.random.default_rng(3)
    truth = (rng.random((4, 5, 6, 1)) > 0.6).astype(np.float32)
    truth[1] = 0  # an image without salt
    truth[2] = 1  # an image full of salt
    pred = rng.uniform(0.01, 0.99, truth.shape).astype(np.float32)
    assert value(lovasz_hinge, truth, pred) == pytest.approx(lovasz_reference(truth, pred), rel=1e-5)


def test_lovasz_on_an_empty_truth_is_the_largest_error():
    # No salt: the weights are (1, 0, ...), so the loss is relu(largest error) = 1 + logit(0.7).
    truth = batch(np.zeros((3, 3)))
    pred = batch(np.full((3, 3), 0.1)).copy()
    pred[0, 1, 1, 0] = 0.7
    assert value(lovasz_hinge, truth, pred) == pytest.approx(1 + math.log(0.7 / 0.3), abs=1e-5)


def test_symmetric_lovasz_matches_numpy_reference():
    # The background's hinge is the salt hinge of the flipped truth and flipped probabilities.
    rng = np.random.default_rng(4)
    truth = (rng.random((4, 5, 6, 1)) > 0.6).astype(np.float32)
    truth[1] = 0
    truth[2] = 1
    pred = rng.uniform(0.01, 0.99, truth.shape).astype(np.float32)
    expected = (lovasz_reference(truth, pred) + lovasz_reference(1 - truth, 1 - pred)) / 2
    assert value(lovasz_symmetric, truth, pred) == pytest.approx(expected, rel=1e-5)


def test_symmetric_lovasz_on_an_empty_truth_counts_every_false_positive():
    # No salt, logits (2, 1, -3) by hand. Salt hinge: only the largest error counts, 1 + 2 = 3.
    # Background hinge: truth all 1, logits (-2, -1, 3); errors 1 + 2 = 3, 1 + 1 = 2, 1 - 3 = -2;
    # sorted (3, 2, -2) with truth (1, 1, 1): intersection 3 - (1, 2, 3) = (2, 1, 0), union 3;
    # Jaccard loss (1/3, 2/3, 1), gradient (1/3, 1/3, 1/3): 3/3 + 2/3 + 0 = 5/3.
    # Mean of the two: (3 + 5/3) / 2 = 7/3. The second false positive (logit 1) adds 1/3 here,
    # while the one-class hinge ignores it.
    truth = batch([[0, 0, 0]])
    pred = batch(sigmoid([[2.0, 1.0, -3.0]]))
    assert value(lovasz_hinge, truth, pred) == pytest.approx(3.0, abs=1e-4)
    assert value(lovasz_symmetric, truth, pred) == pytest.approx(7 / 3, abs=1e-4)
    fewer = batch(sigmoid([[2.0, -1.0, -3.0]]))  # the second false positive removed
    assert value(lovasz_hinge, truth, fewer) == pytest.approx(3.0, abs=1e-4)
    assert value(lovasz_symmetric, truth, fewer) < value(lovasz_symmetric, truth, pred)


# ---- properties of every loss -----------------------------------------------------------------


def blob_batch():
    """A (2, 16, 16, 1) truth: a square of salt, and an empty image."""
    truth = np.zeros((2, 16, 16, 1), np.float32)
    truth[0, 4:12, 3:10] = 1
    return truth


@pytest.mark.parametrize("loss", [soft_iou_loss, soft_dice_loss, lovasz_hinge])
def test_perfect_prediction_costs_nothing(loss):
    truth = blob_batch()
    # Exact 0/1 probabilities: for the Lovasz hinge they become logits of about +-16.
    assert value(loss, truth, truth) == pytest.approx(0.0, abs=1e-6)


def test_perfect_prediction_bce_is_tiny():
    truth = blob_batch()
    assert 0 <= value(bce, truth, truth) < 1e-6


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda f: f.__name__)
def test_gradients_are_finite(loss):
    truth = tf.constant(blob_batch())  # includes an empty-truth image
    start = np.random.default_rng(0).random(truth.shape).astype(np.float32)
    start[0, 0, 0, 0], start[0, 5, 5, 0] = 0.0, 1.0  # saturated probabilities too
    pred = tf.Variable(start)
    with tf.GradientTape() as tape:
        result = loss(truth, pred)
    gradient = tape.gradient(result, pred).numpy()
    assert np.isfinite(float(result))
    assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda f: f.__name__)
def test_loss_decreases_toward_the_truth(loss):
    truth = blob_batch()
    start = np.random.default_rng(1).uniform(0.2, 0.8, truth.shape).astype(np.float32)
    steps = [value(loss, truth, (1 - a) * start + a * truth) for a in (0.0, 0.2, 0.4, 0.6)]
    assert all(later < earlier for earlier, later in zip(steps, steps[1:])), steps


# ---- lookup and use in Keras ------------------------------------------------------------------


def test_get_loss():
    assert get_loss("bce") is bce and get_loss("iou") is soft_iou_loss and get_loss("dice") is soft_dice_loss
    assert get_loss("bce_dice") is bce_dice and get_loss("lovasz") is lovasz_hinge
    with pytest.raises(ValueError, match="valid names: bce, iou, dice, bce_dice, lovasz"):
        get_loss("focal")


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras' saving code
def test_usable_in_compile_and_saved_models(tmp_path):
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs))
    x = np.random.default_rng(0).random((4, 8, 8, 1)).astype(np.float32)
    y = (x > 0.5).astype(np.float32)
    for name in losses.LOSSES:
        model.compile(optimizer="sgd", loss=get_loss(name))
        assert np.isfinite(model.train_on_batch(x, y)), name
    # The losses are registered, so a compiled model loads without custom_objects.
    model.save(tmp_path / "m.keras")
    assert keras.models.load_model(tmp_path / "m.keras").loss is losses.LOSSES[name]  # the last one compiled
