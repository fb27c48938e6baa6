"""Segmentation losses on ``keras.ops``, usable as ``model.compile(loss=...)`` on any backend.

Every loss is a plain function ``loss(y_true, y_pred) -> scalar``:

* ``y_true``: (N, H, W, 1) ground-truth masks, 0/1 (any numeric dtype; cast to float).
* ``y_pred``: (N, H, W, 1) predicted probabilities of salt in [0, 1] (our models end in a
  sigmoid).
* the result: a scalar, the mean over the batch of a per-image loss.

The losses:

* ``bce``: binary cross-entropy averaged over all pixels (the seed's loss).
* ``soft_iou_loss``: 1 - soft Jaccard index, per image, then the batch mean ("IoU as the
  objective"): the competition scores IoU, so optimise a differentiable IoU directly.
* ``soft_dice_loss``: 1 - soft Dice coefficient, per image, then the batch mean.
* ``bce_dice``: ``bce + soft_dice_loss``.
* ``lovasz_hinge``: the Lovasz hinge of Berman, Rannen Triki & Blaschko (CVPR 2018), a convex
  surrogate of the Jaccard loss, per image then the batch mean. It is defined on logits; see its
  docstring for how probabilities are converted.
* ``lovasz_symmetric``: the Lovasz hinge of salt and of background, averaged: on an empty tile it
  penalises every false-positive pixel, not only the worst one.

``get_loss(name)`` maps the names ``"bce" | "iou" | "dice" | "bce_dice" | "lovasz" |
"lovasz_symmetric"`` to them.
The functions are registered with Keras as serializable (package ``salt_lib``), so a model
compiled with one of them can be saved and loaded again once this module has been imported.
"""

from __future__ import annotations

from typing import Callable

import keras
from keras import ops

SMOOTH = 1.0  # added to numerator and denominator of the soft IoU and Dice (see soft_iou_loss)
LOGIT_EPSILON = 1e-7  # probabilities are clipped to [eps, 1 - eps] before taking the logit


def _prepare(y_true, y_pred):
    """Both as float tensors of y_pred's dtype, flattened to (N, H*W*C): one row per image."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    batch = ops.shape(y_pred)[0]
    return ops.reshape(y_true, (batch, -1)), ops.reshape(y_pred, (batch, -1))


@keras.saving.register_keras_serializable(package="salt_lib")
def bce(y_true, y_pred):
    """Binary cross-entropy, the mean over every pixel of the batch (equal to the batch mean of
    the per-image means, since all images have the same size).

    Probabilities are clipped to [1e-7, 1 - 1e-7] (Keras' epsilon) so log(0) never occurs; this
    equals ``keras.losses.binary_crossentropy`` averaged.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=False))


def soft_jaccard(y_true, y_pred, smooth: float = SMOOTH):
    """Per-image soft Jaccard index (N,): (sum(t*p) + s) / (sum(t) + sum(p) - sum(t*p) + s).

    With probabilities in place of a hard mask, the intersection and union become sums of
    products, which are differentiable. The smoothing ``s`` keeps 0/0 away: an empty truth with
    an empty prediction scores 1 (as in the competition), an empty truth with a predicted total
    area A scores 1/(A + 1). On 101x101 tiles s = 1 is one pixel, negligible otherwise.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=-1)
    union = ops.sum(y_true, axis=-1) + ops.sum(y_pred, axis=-1) - intersection
    return (intersection + smooth) / (union + smooth)


def soft_dice(y_true, y_pred, smooth: float = SMOOTH):
    """Per-image soft Dice coefficient (N,): (2 sum(t*p) + s) / (sum(t) + sum(p) + s)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=-1)
    total = ops.sum(y_true, axis=-1) + ops.sum(y_pred, axis=-1)
    return (2.0 * intersection + smooth) / (total + smooth)


@keras.saving.register_keras_serializable(package="salt_lib")
def soft_iou_loss(y_true, y_pred):
    """1 - soft Jaccard index, per image, averaged over the batch. 0 for a perfect prediction."""
    return 1.0 - ops.mean(soft_jaccard(y_true, y_pred))


@keras.saving.register_keras_serializable(package="salt_lib")
def soft_dice_loss(y_true, y_pred):
    """1 - soft Dice coefficient, per image, averaged over the batch."""
    return 1.0 - ops.mean(soft_dice(y_true, y_pred))


@keras.saving.register_keras_serializable(package="salt_lib")
def bce_dice(y_true, y_pred):
    """``bce + soft_dice_loss``: BCE's per-pixel gradients plus Dice's view of the whole mask."""
    return bce(y_true, y_pred) + soft_dice_loss(y_true, y_pred)


def probability_to_logit(y_pred, epsilon: float = LOGIT_EPSILON):
    """log(p / (1 - p)) of p clipped to [eps, 1 - eps]; with eps = 1e-7 the logits lie within
    about +-16, far beyond the hinge's margin of 1."""
    p = ops.clip(y_pred, epsilon, 1.0 - epsilon)
    return ops.log(p) - ops.log(1.0 - p)


def lovasz_gradient(gt_sorted):
    """Gradient of the Lovasz extension of the Jaccard loss w.r.t. sorted errors (Berman et al.,
    Alg. 1), for each row of ``gt_sorted`` (N, P): the 0/1 truth ordered by decreasing error.

    jaccard[i] is the Jaccard loss of predicting wrong exactly the i+1 pixels with the largest
    errors; the gradient is its increments. The union is never 0: it is at least the number of
    true pixels, and when there are none its first entry is already 1.
    """
    gts = ops.sum(gt_sorted, axis=-1, keepdims=True)
    intersection = gts - ops.cumsum(gt_sorted, axis=-1)
    union = gts + ops.cumsum(1.0 - gt_sorted, axis=-1)
    jaccard = 1.0 - intersection / union
    return ops.concatenate([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], axis=-1)


def _lovasz_hinge_of_logits(y_true, logits):
    """Per-image binary Lovasz hinge (N,) of flattened 0/1 ``y_true`` and ``logits`` (N, P)."""
    signs = 2.0 * y_true - 1.0
    errors = 1.0 - logits * signs
    order = ops.argsort(-errors, axis=-1)  # decreasing errors, per image
    errors_sorted = ops.take_along_axis(errors, order, axis=-1)
    gt_sorted = ops.take_along_axis(y_true, order, axis=-1)
    # The gradient weights depend only on the order, not on the error values (as in the paper).
    weights = ops.stop_gradient(lovasz_gradient(gt_sorted))
    return ops.sum(ops.relu(errors_sorted) * weights, axis=-1)


@keras.saving.register_keras_serializable(package="salt_lib")
def lovasz_hinge(y_true, y_pred):
    """The binary Lovasz hinge, per image, averaged over the batch.

    Berman et al. define it on logits s: with signs y = 2t - 1 the hinge errors are
    ``1 - s * y``; sorted in decreasing order, ``relu(errors)`` is dotted with the Lovasz
    gradient of the Jaccard loss. Our models output sigmoid probabilities, so they are turned back
    into logits first (``probability_to_logit``, clipped at about +-16). A confident correct
    prediction therefore has error 1 - 16 < 0 and costs nothing.

    An image with no salt is well defined: its Jaccard loss is 1 as soon as one pixel is
    wrong, so only the largest error counts (the weights are (1, 0, 0, ...)) and the loss is
    ``relu(largest error)``, finite with a finite gradient. On an empty tile this hinge therefore
    teaches little: it pushes down one pixel at a time (``lovasz_symmetric`` does better).
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(_lovasz_hinge_of_logits(y_true, probability_to_logit(y_pred)))


@keras.saving.register_keras_serializable(package="salt_lib")
def lovasz_symmetric(y_true, y_pred):
    """The Lovasz hinge on both classes: ``(hinge(s, t) + hinge(-s, 1 - t)) / 2`` per image, then
    the batch mean, with s the logits (as in ``lovasz_hinge``).

    The second term is the hinge of the background as the positive class (logit(1 - p) = -s).
    On a tile without salt the background is the whole tile, so every pixel with a positive
    logit costs, not only the largest; on a full tile the same holds for the salt. About two
    in five TGS tiles are empty, which is why this form helped from-scratch TGS models.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    logits = probability_to_logit(y_pred)
    salt = _lovasz_hinge_of_logits(y_true, logits)
    background = _lovasz_hinge_of_logits(1.0 - y_true, -logits)
    return ops.mean((salt + background) / 2.0)


LOSSES: dict[str, Callable] = {
    "bce": bce,
    "iou": soft_iou_loss,
    "dice": soft_dice_loss,
    "bce_dice": bce_dice,
    "lovasz": lovasz_hinge,
    "lovasz_symmetric": lovasz_symmetric,
}


def get_loss(name: str) -> Callable:
    """The loss function called ``name``: one of ``LOSSES`` ("bce", "iou", "dice", "bce_dice", "lovasz",
    "lovasz_symmetric")."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid names: {', '.join(LOSSES)}")
    return LOSSES[name]
