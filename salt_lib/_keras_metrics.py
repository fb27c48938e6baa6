"""The competition score as a stateful Keras metric, on ``keras.ops`` (any Keras backend)."""

from __future__ import annotations

import keras
from keras import ops

from salt_lib.metrics import IOU_THRESHOLDS


@keras.saving.register_keras_serializable(package="salt_lib")
class TGSScore(keras.metrics.Metric):
    """Mean competition score over all tiles seen, with predictions cut at ``threshold``.

    ``y_true`` is a (N, H, W, 1) mask of 0/1 and ``y_pred`` probabilities of the same shape.
    """

    def __init__(self, threshold: float = 0.5, name: str = "tgs_score", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        batch = ops.shape(y_pred)[0]
        truth = ops.reshape(ops.cast(y_true > 0.5, "float32"), (batch, -1))
        pred = ops.reshape(ops.cast(y_pred > self.threshold, "float32"), (batch, -1))
        intersection = ops.sum(truth * pred, axis=1)
        union = ops.sum(truth, axis=1) + ops.sum(pred, axis=1) - intersection
        tile_iou = ops.where(union > 0, intersection / ops.maximum(union, 1.0), 1.0)
        thresholds = ops.convert_to_tensor(IOU_THRESHOLDS, dtype="float32")
        passed = ops.cast(tile_iou[:, None] > thresholds[None, :], "float32")
        self.total.assign_add(ops.sum(ops.mean(passed, axis=1)))
        self.count.assign_add(ops.cast(batch, "float32"))

    def result(self):
        return self.total / ops.maximum(self.count, 1.0)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}
