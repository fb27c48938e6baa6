"""Neighbours and mosaics from tile edges: recovered on a synthetic section cut into shuffled
tiles (precision and recall), mosaics as connected pairs, and a split that keeps mosaics whole."""

import numpy as np
import pandas as pd
import pytest

from salt_lib.mosaic import (cut_section, grouped_split, has_neighbour_in, mosaic_groups, neighbour_pairs,
                             precision_recall, synthetic_section)


@pytest.fixture(scope="module")
def section_tiles():
    image, mask = synthetic_section(6, 9, seed=2)
    return cut_section(image, mask, seed=0)


def test_a_section_is_cut_into_shuffled_tiles_whose_neighbours_are_known(section_tiles):
    ids, images, masks, truth = section_tiles
    assert images.shape == (54, 101, 101) and images.dtype == np.uint8 and masks.dtype == bool
    assert len(truth) == 6 * 8 + 5 * 9  # pairs across and down the grid
    assert 0.05 < masks.mean() < 0.6  # some salt, not all


def test_neighbours_are_recovered_from_the_edges_with_high_precision_and_recall(section_tiles):
    ids, images, masks, truth = section_tiles
    found = neighbour_pairs(images, ids)
    precision, recall = precision_recall(found, truth)
    assert precision >= 0.97, precision
    assert recall >= 0.8, recall
    assert (found["distance"] < found["runner_up"]).all()


def test_a_blank_tile_is_nobodys_neighbour(section_tiles):
    ids, images, masks, truth = section_tiles
    blank = images.copy()
    blank[0] = 0
    found = neighbour_pairs(blank, ids)
    assert ids[0] not in set(found["a"]) | set(found["b"])


def test_tiles_of_another_section_rarely_match_this_one(section_tiles):
    ids, images, masks, truth = section_tiles
    other_ids, other, _, _ = cut_section(*synthetic_section(6, 9, seed=7), seed=1)
    found = neighbour_pairs(np.concatenate([images, other]), np.concatenate([ids, np.char.add("o", other_ids)]))
    crossing = found[found["a"].str.startswith("o") != found["b"].str.startswith("o")]
    assert len(crossing) <= 2


def test_mosaics_are_the_connected_pairs():
    pairs = pd.DataFrame({"a": ["a", "b", "x"], "b": ["b", "c", "y"], "direction": ["right", "below", "right"]})
    groups = mosaic_groups(["c", "a", "z", "b", "x", "y"], pairs)
    assert groups.tolist() == [0, 0, 1, 0, 2, 2]


def test_the_grouped_split_keeps_every_mosaic_in_one_part_and_the_shares_near_6_2_2(section_tiles):
    rng = np.random.default_rng(0)
    ids = np.array([f"t{i}" for i in range(500)])
    coverage = np.where(rng.random(500) < 0.4, 0.0, rng.random(500))
    groups = np.arange(500)
    groups[:60] = np.repeat(np.arange(20), 3)  # 20 mosaics of 3 tiles
    split = grouped_split(ids, coverage, groups, seed=0)
    assert split.groupby("mosaic")["split"].nunique().max() == 1
    shares = split["split"].value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.6, abs=0.01) and shares["val"] == pytest.approx(0.2, abs=0.01)
    empty = split[coverage == 0]["split"].value_counts(normalize=True)
    assert empty["train"] == pytest.approx(0.6, abs=0.03)  # stratified by coverage as far as groups allow
    assert split.equals(grouped_split(ids, coverage, groups, seed=0))


def test_has_neighbour_in_looks_both_ways():
    split = pd.DataFrame({"id": ["a", "b", "c", "d"], "split": ["test", "train", "test", "val"]})
    pairs = pd.DataFrame({"a": ["b", "c"], "b": ["a", "d"], "direction": ["right", "below"]})
    result = has_neighbour_in(split, pairs)
    assert result.to_dict() == {"a": True, "c": False}


def test_the_neighbour_gap_is_the_difference_of_means_with_a_mosaic_bootstrap():
    from salt_lib.mosaic import neighbour_gap

    ids = [f"t{i}" for i in range(40)]
    scores = pd.Series([1.0] * 10 + [0.5] * 30, index=ids)
    flags = pd.Series([True] * 10 + [False] * 30, index=ids)
    mosaics = pd.Series(range(40), index=ids)
    gap = neighbour_gap(scores, flags, mosaics)
    assert gap["difference"] == pytest.approx(0.5) and gap["tiles_with"] == 10 and gap["tiles_without"] == 30
    assert gap["difference_low"] == pytest.approx(0.5) and gap["difference_high"] == pytest.approx(0.5)  # no spread
    noisy = pd.Series(np.random.default_rng(0).random(40), index=ids)
    gap = neighbour_gap(noisy, flags, mosaics)
    assert gap["difference_low"] < gap["difference"] < gap["difference_high"]
    # tiles of one mosaic move together: one mosaic of all flagged tiles makes that side's mean fixed
    together = neighbour_gap(noisy, flags, pd.Series([0] * 10 + list(range(1, 31)), index=ids))
    assert together["difference_high"] - together["difference_low"] < gap["difference_high"] - gap["difference_low"]
    # one column per training seed: the means are over seeds and tiles, and seeds that disagree widen the interval
    seeds = pd.DataFrame({0: noisy, 1: noisy, 2: noisy})
    same = neighbour_gap(seeds, flags, mosaics)
    assert same["difference"] == pytest.approx(gap["difference"]) and same["tiles_with"] == 10
    shifted = pd.DataFrame({0: noisy, 1: noisy + flags * 0.3, 2: noisy - flags * 0.3})
    wide = neighbour_gap(shifted, flags, mosaics)
    assert wide["difference"] == pytest.approx(gap["difference"])
    assert wide["difference_high"] - wide["difference_low"] > same["difference_high"] - same["difference_low"]


def test_the_recovery_table_and_the_summary_count_what_they_say():
    from salt_lib.mosaic import neighbour_summary, recovery_table

    table = recovery_table(seeds=(2,))
    assert table[["tiles", "true_pairs"]].iloc[0].tolist() == [54, 93]
    assert 0.97 <= table["precision"].iloc[0] <= 1 and table["recall"].iloc[0] >= 0.8
    ids = ["a", "b", "c", "d", "e"]
    pairs = pd.DataFrame({"a": ["a", "b"], "b": ["b", "c"], "direction": ["right", "below"]})
    groups = mosaic_groups(ids, pairs)
    random_split = pd.DataFrame({"id": ids, "split": ["train", "test", "test", "val", "test"]})
    summary = neighbour_summary(ids, pairs, groups, random_split, random_split.assign(split=["test"] * 3 + ["train", "val"]))
    counts = dict(zip(summary["quantity"], summary["count"]))
    assert counts["tiles in mosaics"] == 3 and counts["mosaics of two or more tiles"] == 1
    assert counts["tiles in the largest mosaic"] == 3 and counts["pairs side by side"] == 1
    assert counts["test tiles with a train neighbour, random split"] == 1  # b touches a
    assert counts["test tiles with a train neighbour, mosaic split"] == 0
