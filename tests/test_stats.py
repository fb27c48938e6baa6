"""Two-level (seeds and tiles) bootstrap intervals and Holm's correction, on hand-made cases."""

import numpy as np
import pytest

from salt_lib.stats import bootstrap_p, holm, two_level_difference, two_level_interval, two_level_means


def test_constant_scores_have_a_zero_width_interval():
    result = two_level_interval(np.full((3, 50), 0.7))
    assert result == pytest.approx({"mean": 0.7, "low": 0.7, "high": 0.7})


def test_the_interval_widens_when_seeds_disagree_which_a_tile_bootstrap_would_miss():
    rng = np.random.default_rng(0)
    tiles = rng.random(200)
    agreeing = np.stack([tiles] * 3)
    disagreeing = agreeing + np.array([[-0.1], [0.0], [0.1]])  # the seed moves every tile
    width = lambda r: r["high"] - r["low"]  # noqa: E731
    assert width(two_level_interval(disagreeing)) > 1.5 * width(two_level_interval(agreeing))


def test_clusters_are_drawn_whole():
    scores = np.array([[1.0, 1.0, 0.0, 0.0]])
    together = two_level_means(scores, resamples=500, cluster=[0, 0, 1, 1])
    # whole clusters: a resample holds 0, 2 or 4 copies of the ones, so its mean is 0, 0.5 or 1
    assert set(np.round(together, 6)) <= {0.0, 0.5, 1.0}
    apart = two_level_means(scores, resamples=500)
    assert len(set(np.round(apart, 6))) > 3


def test_a_paired_difference_keeps_seed_and_tile_together():
    rng = np.random.default_rng(1)
    b = rng.random((3, 100))
    a = b + 0.02  # better by the same amount on every seed and tile: no spread at all
    result = two_level_difference(a, b)
    assert result["difference"] == pytest.approx(0.02)
    assert result["low"] == pytest.approx(0.02) and result["high"] == pytest.approx(0.02)
    assert result["p_value"] == pytest.approx(1 / 2000)
    with pytest.raises(ValueError):
        two_level_difference(a, b[:, :10])


def test_bootstrap_p_of_a_difference_centred_on_zero_is_near_one():
    assert bootstrap_p(np.linspace(-1, 1, 1001)) == pytest.approx(1.0, abs=0.01)
    assert bootstrap_p(np.linspace(0.1, 1, 100)) == pytest.approx(0.01)


def test_holm_multiplies_the_smallest_by_m_and_keeps_the_order():
    assert holm([0.01, 0.04, 0.03, 0.5]).tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.3, 0.6]).tolist() == pytest.approx([0.6, 0.6])


def test_a_gap_between_models_of_different_seeds_keeps_the_tiles_paired():
    from salt_lib.stats import two_level_gap

    tiles = np.linspace(0, 1, 40)  # tiles of very different difficulty, scored alike by both sides
    a = np.stack([tiles + 0.1, tiles + 0.1, tiles + 0.1])  # three seeds
    b = np.stack([tiles, tiles])  # two seeds
    gap = two_level_gap(a, b, 500)
    assert gap["difference"] == pytest.approx(0.1) and gap["low"] == pytest.approx(0.1) and gap["high"] == pytest.approx(0.1)
    assert gap["p_value"] < 0.01  # paired by tile, the tiles' spread does not blur the gap
    noisy = two_level_gap(a + np.array([[0.05], [-0.05], [0.0]]), b, 500)  # the seeds disagree: a wider interval
    assert noisy["low"] < 0.1 < noisy["high"]
    with pytest.raises(ValueError, match="same tiles"):
        two_level_gap(a, b[:, :10])
