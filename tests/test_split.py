import numpy as np
import pytest

from salt_lib.split import coverage_class, ids_of, load_split, save_split, split_622


def synthetic_coverage(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.39, 0.0, rng.random(n))


def check_split(table, ids, coverage):
    assert sorted(table["id"]) == sorted(ids)  # every id once, none in two splits
    assert not table["id"].duplicated().any()
    counts = table["split"].value_counts()
    n = len(ids)
    for name, ratio in (("train", 0.6), ("val", 0.2), ("test", 0.2)):
        assert abs(counts[name] - ratio * n) <= 6  # 11 classes, each rounded at most half a tile per cut
    classes = coverage_class(coverage)
    whole = np.bincount(classes, minlength=11) / n
    for name in ("train", "val", "test"):
        part = classes[(table["split"] == name).to_numpy()]
        share = np.bincount(part, minlength=11) / len(part)
        assert np.max(np.abs(share - whole)) <= 0.02, name


def test_split_is_stratified_complete_and_622():
    ids = [f"t{i:05d}" for i in range(4000)]
    coverage = synthetic_coverage(4000)
    check_split(split_622(ids, coverage, seed=0), ids, coverage)


def test_split_on_real_tiles(real_dataset):
    tiles = real_dataset.tiles
    check_split(split_622(tiles.ids, tiles.coverage), list(tiles.ids), tiles.coverage)


def test_deterministic_for_seed_and_varies_across_seeds():
    ids = [f"t{i}" for i in range(500)]
    coverage = synthetic_coverage(500)
    a, b, c = split_622(ids, coverage, 1), split_622(ids, coverage, 1), split_622(ids, coverage, 2)
    assert a.equals(b)
    assert not a["split"].equals(c["split"])


def test_coverage_classes():
    assert coverage_class([0, 1e-4, 0.1, 0.10001, 0.95, 1.0]).tolist() == [0, 1, 1, 2, 10, 10]
    with pytest.raises(ValueError):
        coverage_class([np.nan])


def test_csv_round_trip_and_validation(tmp_path):
    ids = [f"t{i}" for i in range(50)]
    table = split_622(ids, synthetic_coverage(50))
    path = save_split(table, tmp_path / "sub" / "split.csv")
    assert load_split(path).equals(table)
    assert set(ids_of(table, "val")) == set(table.loc[table.split == "val", "id"])
    path.write_text("id,split\na,train\na,val\n")
    with pytest.raises(ValueError, match="twice"):
        load_split(path)
    path.write_text("id,split\na,training\n")
    with pytest.raises(ValueError, match="unknown"):
        load_split(path)
