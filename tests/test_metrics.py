import numpy as np
import pytest

from conftest import disk_mask
from salt_lib.metrics import (
    dice,
    empty_tile_accuracy,
    iou,
    seed_iou_metric,
    thesis_iou_metric,
    tgs_score,
    tgs_score_per_tile,
)


def stack(*masks):
    return np.stack(masks)


EMPTY = np.zeros((101, 101), bool)


def test_empty_truth_rules():
    one_pixel = EMPTY.copy()
    one_pixel[3, 3] = True
    scores = tgs_score_per_tile(stack(EMPTY, EMPTY, one_pixel), stack(EMPTY, one_pixel, EMPTY))
    assert scores.tolist() == [1.0, 0.0, 0.0]


def test_threshold_counting_by_hand():
    # Truth 100 pixels (a 10x10 square); prediction covers 75 of them and nothing else:
    # IoU = 75/100 = 0.75 passes thresholds 0.50..0.70 (5 of 10) but not 0.75 (strict >).
    truth = EMPTY.copy()
    truth[:10, :10] = True
    pred = EMPTY.copy()
    pred[:10, :10] = True
    pred[:10, :2] = False  # remove 20
    pred[:5, 2] = False  # remove 5 -> 75 left
    assert pred.sum() == 75
    assert tgs_score_per_tile(truth[None], pred[None]).tolist() == [0.5]
    # IoU 0.5 exactly: the competition gives 0 (needs > 0.5); the seed formula gives 0.1.
    half = EMPTY.copy()
    half[:10, :5] = True
    assert tgs_score(truth[None], half[None]) == 0.0
    assert thesis_iou_metric(truth[None], half[None]) == pytest.approx(0.1)


def test_perfect_and_disjoint_and_mean_over_tiles():
    a, b = disk_mask(20), disk_mask(10, center=(10, 10))
    assert tgs_score(stack(a, b), stack(a, b)) == 1.0
    assert thesis_iou_metric(stack(a, b), stack(a, b)) == 1.0  # clipped from the formula's 1.1
    assert tgs_score(stack(a, b), stack(b, a)) == 0.0
    assert tgs_score(stack(a, EMPTY), stack(a, a)) == 0.5


def test_iou_dice_and_empty_accuracy_by_hand():
    truth = EMPTY.copy()
    truth[:10, :10] = True  # 100 px
    pred = EMPTY.copy()
    pred[:10, 5:15] = True  # 100 px, 50 shared
    assert iou(truth[None], pred[None]) == pytest.approx(50 / 150)
    assert dice(truth[None], pred[None]) == pytest.approx(2 * 50 / 200)
    assert empty_tile_accuracy(stack(truth, EMPTY, EMPTY), stack(pred, pred, EMPTY)) == pytest.approx(2 / 3)


def test_accepts_channel_axis_and_01_ints_rejects_probabilities():
    a = disk_mask(15)[None]
    assert tgs_score(a[..., None].astype(np.uint8), a.astype(np.float32)) == 1.0
    with pytest.raises(ValueError, match="Threshold"):
        tgs_score(a, a * 0.7)
    with pytest.raises(ValueError, match="shape"):
        tgs_score(a, np.concatenate([a, a]))


def test_competition_reference_loop_agrees_on_random_tiles():
    """A plain per-tile loop written from the competition's description, vs the vectorised code."""
    rng = np.random.default_rng(0)
    truth = np.stack([disk_mask(r) for r in rng.integers(0, 40, 50)])
    pred = np.stack([disk_mask(r, center=(50 + s, 50)) for r, s in zip(rng.integers(0, 40, 50), rng.integers(-8, 8, 50))])
    expected = []
    for t, p in zip(truth, pred):
        if t.sum() == 0:
            expected.append(float(p.sum() == 0))
            continue
        tile_iou = (t & p).sum() / (t | p).sum()
        expected.append(np.mean([tile_iou > th for th in np.arange(0.5, 1.0, 0.05)]))
    assert tgs_score(truth, pred) == pytest.approx(np.mean(expected))


def test_old_metric_name_still_works_with_a_deprecation_warning():
    a = disk_mask(10)
    with pytest.warns(DeprecationWarning, match="thesis_iou_metric"):
        assert seed_iou_metric(stack(a), stack(a)) == thesis_iou_metric(stack(a), stack(a))
