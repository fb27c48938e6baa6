"""Cross-validation folds over train + validation: stratified, mosaics whole, test untouched,
one out-of-fold prediction per tile."""

import numpy as np
import pandas as pd
import pytest

from salt_lib.crossval import assign_folds, fold_dataset, out_of_fold_choice, out_of_fold_probabilities, train_folds
from salt_lib.dataset import load_dataset
from salt_lib.split import coverage_class


def test_folds_are_balanced_stratified_and_keep_mosaics_whole():
    rng = np.random.default_rng(0)
    ids = [f"t{i}" for i in range(300)]
    coverage = np.where(rng.random(300) < 0.4, 0.0, rng.random(300))
    groups = np.arange(300)
    groups[:40] = np.repeat(np.arange(10), 4)
    folds = assign_folds(ids, coverage, 5, groups, seed=0)
    assert sorted(folds.unique()) == [0, 1, 2, 3, 4]
    assert folds.value_counts().max() - folds.value_counts().min() <= 2
    assert pd.Series(folds.to_numpy()[:40]).groupby(groups[:40]).nunique().max() == 1
    empty = folds[coverage_class(coverage) == 0].value_counts()
    assert empty.max() - empty.min() <= 4
    assert folds.equals(assign_folds(ids, coverage, 5, groups, seed=0))
    with pytest.raises(ValueError, match="k must"):
        assign_folds(ids, coverage, 1)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return load_dataset(tmp_path_factory.mktemp("cv") / "synthetic", synthetic_tiles=40)


def test_a_fold_dataset_validates_on_its_fold_and_keeps_the_test_split(dataset):
    pool = dataset.split[dataset.split["split"] != "test"]
    folds = assign_folds(pool["id"], dataset.tiles.subset(list(pool["id"])).coverage, 3)
    seen = []
    for index in range(3):
        fold = fold_dataset(dataset, folds, index)
        assert set(fold.val.ids) == set(folds.index[folds == index])
        assert set(fold.test.ids) == set(dataset.test.ids)
        assert not set(fold.train.ids) & set(fold.val.ids) and fold.split_hash != dataset.split_hash
        seen += list(fold.val.ids)
    assert sorted(seen) == sorted(folds.index)  # every tile validated exactly once
    with pytest.raises(ValueError, match="cover exactly"):
        fold_dataset(dataset, folds.iloc[1:], 0)


def test_fold_models_give_one_out_of_fold_prediction_per_tile(dataset, tmp_path):
    from salt_lib.predict import predict
    from salt_lib.records import load_model

    pool = dataset.split[dataset.split["split"] != "test"]
    folds = assign_folds(pool["id"], dataset.tiles.subset(list(pool["id"])).coverage, 2)
    tiny = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}
    paths = train_folds("unet", dataset, tmp_path / "cv", folds, tiny, {"epochs": 1, "batch_size": 8, "augment": "none"})
    assert [path.parent.name for path in paths] == ["fold-0", "fold-1"]
    probabilities, masks = out_of_fold_probabilities(paths, dataset, folds, cache_dir=tmp_path / "cache")
    assert probabilities.shape == (len(folds), 101, 101) and masks.shape == probabilities.shape
    assert len(list((tmp_path / "cache").glob("probs-*.npy"))) == 2  # one file per fold, read on a rerun
    for index, path in enumerate(paths):  # each tile's prediction is its own fold's model's
        rows = np.flatnonzero(folds.to_numpy() == index)
        own = predict(load_model(path, compile=False), dataset.tiles.subset(list(folds.index[rows])).images, tta=True)
        np.testing.assert_allclose(probabilities[rows], own, atol=1e-5)
    again, _ = out_of_fold_probabilities(paths, dataset, folds, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(again, probabilities)
    choice = out_of_fold_choice(probabilities, masks)
    assert 0 <= choice["oof_tgs_score"] <= choice["oof_tgs_score_min_size"] <= 1 and choice["tiles"] == len(folds)


def test_a_crossval_run_saves_an_ensemble_folder_that_scores_without_validation_tiles(dataset, tmp_path):
    from salt_lib import evaluate
    from salt_lib.crossval import run_crossval
    from salt_lib.records import ENSEMBLE_FILE, load_record, saved_ensemble

    tiny = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}
    training = {"epochs": 1, "batch_size": 8, "augment": "none"}
    pool = dataset.split[dataset.split["split"] != "test"]["id"].astype(str)
    groups = pd.Series(np.arange(len(pool)) // 2, index=pool.to_numpy())  # neighbours two by two
    record = run_crossval("unet", dataset, tmp_path / "runs", tmp_path / "ensemble", 2, groups, tiny, training, command="test")
    out = tmp_path / "ensemble"
    members = sorted(out.glob("*.keras"))
    assert [path.name for path in members] == ["unet-fold0.keras", "unet-fold1.keras"] == record["members"]
    assert all(load_record(path)["arch"] == "unet" for path in members)  # each member carries its record
    folds = pd.read_csv(out / "folds.csv")
    assert sorted(folds["id"]) == sorted(pool) and folds.groupby(groups.reindex(folds["id"]).to_numpy())["fold"].nunique().max() == 1
    assert record["grouped"] and record["val"]["tiles"] == len(pool) and len(record["val"]["per_fold"]) == 2
    assert 0 <= record["val"]["tgs_score"] <= record["val"]["tgs_score_min_size"] <= 1
    assert saved_ensemble(members) == record and saved_ensemble(members[:1]) is None  # exactly its members
    # Scored as one model without validation tiles: its threshold and minimum size are the out-of-fold ones.
    result = evaluate.evaluate_model(members, dataset.test)
    assert (result.record["threshold"], result.record["min_size"]) == (record["threshold"], record["min_size"])
    assert result.masks.shape == (len(dataset.test), 101, 101)
    # Rerun: every fold is found finished, and the folder is written again the same.
    before = (out / ENSEMBLE_FILE).read_text()
    assert run_crossval("unet", dataset, tmp_path / "runs", out, 2, groups, tiny, training, command="test") == record
    assert (out / ENSEMBLE_FILE).read_text() == before
    with pytest.raises(ValueError, match="no mosaic for"):
        run_crossval("unet", dataset, tmp_path / "runs", out, 2, groups.iloc[1:], tiny, training)


def test_the_folds_do_not_depend_on_the_order_of_the_split_table(dataset):
    from salt_lib.crossval import pool_folds
    from salt_lib.dataset import Dataset

    shuffled = dataset.split.sample(frac=1.0, random_state=1).reset_index(drop=True)
    other = Dataset(dataset.root, dataset.tiles, shuffled, None, dataset.fingerprint, dataset.split_hash)
    pd.testing.assert_series_equal(pool_folds(other, 3), pool_folds(dataset, 3))
