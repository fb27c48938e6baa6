"""Seed studies: runs recorded once and reused without models, tables checked by hand, arms that
differ in more than the studied factor refused, and the committed studies checked when present."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salt_lib import evaluate, experiments, report, result_folders, study
from salt_lib.augment import POLICIES
from salt_lib.dataset import load_dataset
from salt_lib.recipes import DEFAULT
from salt_lib.result_folders import Result
from salt_lib.study import Arm, Study

REPO = Path(__file__).resolve().parents[1]
TINY = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}
TRAINING = {"epochs": 1, "batch_size": 8}
TINY_STUDY = Study("tiny", "arch", (Arm("unet", "unet", "lite", TINY, TRAINING), Arm("resunet", "resunet", "lite", TINY, TRAINING)),
                   seeds=(0, 1), reference="unet")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    base = tmp_path_factory.mktemp("study")
    return load_dataset(base / "data", synthetic_tiles=48, synthetic_seed=4)


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    """The tiny study run once: 2 arms x 2 seeds, one epoch each."""
    base = tmp_path_factory.mktemp("trained")
    results = study.run_study(TINY_STUDY, dataset, base / "runs", base / "results")
    return base, results


def test_a_study_writes_small_records_and_reuses_them_without_models(dataset, trained, tmp_path, monkeypatch, capsys, caplog):
    base, results = trained
    assert list(results) == ["unet-s0", "resunet-s0", "unet-s1", "resunet-s1"]  # seed by seed
    for name, result in results.items():
        folder = base / "results" / name
        assert sorted(p.name for p in folder.iterdir()) == ["history.csv", "record.json", "tiles.csv"]
        record = json.loads((folder / "record.json").read_text())
        arm, seed = name.split("-s")
        assert record["arm"] == arm and record["seed"] == int(seed) and record["training"]["seed"] == int(seed)
        assert record["study"]["factor"] == "arch" and record["study"]["arms"] == ["unet", "resunet"]
        assert record["tiles_order"]["test"]["ids_sha1"] == evaluate.ids_digest(dataset.test.ids)
        assert record["optimizer_steps"] == 1 * -(-len(dataset.train) // 8)  # one epoch of ceil(train / batch) steps
        tiles = pd.read_csv(folder / "tiles.csv")
        assert list(tiles.columns) == ["id", "split", "position", "tgs_score"]
        assert (tiles["split"] == "val").sum() == len(dataset.val) and (tiles["split"] == "test").sum() == len(dataset.test)
        assert list(tiles.loc[tiles["split"] == "test", "id"].astype(str)) == list(dataset.test.ids.astype(str))
        assert set(np.round(tiles["tgs_score"] * 10, 6)) <= set(range(11))  # a tile scores a multiple of 0.1
        # The test score in the record is the mean of the per-tile test scores; val is the one chosen on.
        assert record["test"]["tgs_score"] == pytest.approx(tiles.loc[tiles["split"] == "test", "tgs_score"].mean(), abs=1e-4)
        assert tiles.loc[tiles["split"] == "val", "tgs_score"].mean() == pytest.approx(record["val"]["tgs_score_min_size"])
        assert len(pd.read_csv(folder / "history.csv")) == 1
        assert record["versions"]["device"].startswith(("cpu", "gpu"))  # what trained it
    assert result_folders.read_results(base / "results").keys() == results.keys()

    # Again, with the result records only (no runs, no models): nothing is trained or scored.
    copy = tmp_path / "results"
    shutil.copytree(base / "results", copy)

    def refuse(*args, **kwargs):
        raise AssertionError("a recorded run was trained or scored again")

    monkeypatch.setattr(study, "train_or_reuse", refuse)
    monkeypatch.setattr(study, "evaluate_model", refuse)
    capsys.readouterr()
    with caplog.at_level("INFO", logger="salt_lib"):
        again = study.run_study(TINY_STUDY, dataset, tmp_path / "no-runs", copy)
    assert "result reused" in caplog.text and not (tmp_path / "no-runs").exists()
    assert "result reused" not in capsys.readouterr().out  # progress is logged, never printed into a chapter
    pd.testing.assert_frame_equal(study.seed_table(again), study.seed_table(results))
    pd.testing.assert_frame_equal(study.pairwise_table(again, "unet", n_resamples=200), study.pairwise_table(results, "unet", n_resamples=200))
    summary = study.seed_summary(again, n_resamples=200)
    assert list(summary["arm"]) == ["unet", "resunet"] and list(summary["seeds"]) == [2, 2]
    assert study.seed_table(again)["trained_on"].str.match(r"(tensorflow|jax|torch) on (cpu|gpu)").all()

    # Some arms only (how a study's runs are shared between processes or machines); an unknown arm is refused.
    only = study.run_study(TINY_STUDY, dataset, tmp_path / "no-runs", copy, seeds=[1], arms=["resunet"])
    assert list(only) == ["resunet-s1"] and only["resunet-s1"].record["study"]["arms"] == ["unet", "resunet"]
    with pytest.raises(ValueError, match=r"no arm 'unett'; its arms: unet, resunet"):
        study.run_study(TINY_STUDY, dataset, tmp_path / "no-runs", copy, arms=["unett"])

    # A record edited to another training setting is not taken for this run.
    record_file = copy / "resunet-s1" / "record.json"
    record = json.loads(record_file.read_text())
    record["training"]["learning_rate"] = 0.5
    record_file.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"resunet-s1.*training learning_rate is 0.5, not 0.001.*Delete"):
        study.run_study(TINY_STUDY, dataset, tmp_path / "no-runs", copy)


def test_a_committed_model_serves_seed_0_when_its_record_fits(dataset, trained, tmp_path, monkeypatch):
    base, results = trained
    finished = experiments.train_or_reuse("unet", dataset, base / "runs", "lite", TINY, TRAINING | {"seed": 0})
    assert finished.reused  # the study's own run, found finished
    published = experiments.publish(finished, tmp_path / "models", "unet_lite")

    def refuse(*args, **kwargs):
        raise AssertionError("trained although the committed model fits")

    monkeypatch.setattr(experiments, "train_run", refuse)
    one_arm = Study("tiny", "arch", TINY_STUDY.arms[:1], seeds=(0,), model_paths={("unet", 0): published})
    fresh = study.run_study(one_arm, dataset, tmp_path / "runs", tmp_path / "results")
    record = fresh["unet-s0"].record
    assert record["model_reused"] and record["model_file"].endswith("unet_lite.keras")
    assert np.array_equal(study.tile_scores(fresh["unet-s0"], "test"), study.tile_scores(results["unet-s0"], "test"))


def test_seed_ensembles_average_the_seeds_and_choose_on_validation(dataset, trained, tmp_path, monkeypatch):
    base, results = trained
    ensembles = study.write_seed_ensembles(TINY_STUDY, results, dataset, tmp_path / "ensembles", base / "runs")
    assert list(ensembles) == ["unet", "resunet"]
    for arm, ensemble in ensembles.items():
        record = ensemble.record
        assert record["seeds"] == [0, 1] and len(record["members"]) == 2 and "scored_at" in record["test"]
        assert record["tiles_order"]["test"]["ids_sha1"] == evaluate.ids_digest(dataset.test.ids)
        # The threshold is the ensemble's own, chosen on validation; the stored val score is the min-size one.
        tiles = ensemble.tiles
        assert tiles.loc[tiles["split"] == "val", "tgs_score"].mean() == pytest.approx(record["val"]["tgs_score_min_size"])
        assert tiles.loc[tiles["split"] == "test", "tgs_score"].mean() == pytest.approx(record["test"]["tgs_score"], abs=1e-4)
    table = study.ensemble_table(study.read_seed_ensembles(tmp_path / "ensembles"), "model", n_resamples=100)
    assert list(table["model"]) == ["resunet (seed ensemble)", "unet (seed ensemble)"] and list(table["seeds"]) == [2, 2]
    assert (table["test_ci_low"] <= table["test_tgs_score"]).all() and (table["test_tgs_score"] <= table["test_ci_high"]).all()
    summary = study.seed_summary(results, 100, name="model").set_index("model")
    sentences = study.ensemble_findings(table, summary.reset_index())
    for sentence, row in zip(sentences, table.itertuples()):
        mean = summary.loc[row.model.split()[0], "test_mean"]
        assert sentence.startswith(f"{report.readable(row.model)}, 2 seed models averaged: test tgs_score {row.test_tgs_score:.3f}")
        assert sentence.endswith(f", {row.test_tgs_score - mean:+.3f} against the mean of its seeds ({mean:.3f}).")
    assert "against" not in study.ensemble_findings(table)[0]
    # Written once: the same members again are reused without predicting.
    monkeypatch.setattr(study, "evaluate_model", lambda *a, **k: (_ for _ in ()).throw(AssertionError("scored again")))
    assert study.write_seed_ensembles(TINY_STUDY, results, dataset, tmp_path / "ensembles", base / "runs").keys() == ensembles.keys()
    moved = {key: replace(run, record=run.record | {"model_file": "moved/best.keras"}) for key, run in results.items()}
    with pytest.raises(FileNotFoundError, match="seed ensemble needs its members' model files"):
        study.write_seed_ensembles(TINY_STUDY, moved, dataset, tmp_path / "elsewhere", tmp_path / "no-runs", kept=tmp_path / "kept")
    # Kept members (model and record) rebuild the same ensemble where the run folders are gone.
    kept = study.keep_members(moved, base / "runs", tmp_path / "kept")
    assert sorted(path.name for path in kept) == sorted(f"{arm}-s{seed}{suffix}" for arm in ("unet", "resunet")
                                                        for seed in (0, 1) for suffix in (".keras", ".config.json"))
    assert study.keep_members(moved, base / "runs", tmp_path / "kept") == []  # never copied twice
    assert json.loads((tmp_path / "kept" / "unet-s1.config.json").read_text())["training"]["seed"] == 1
    monkeypatch.undo()
    rebuilt = study.write_seed_ensembles(TINY_STUDY, moved, dataset, tmp_path / "elsewhere", tmp_path / "no-runs", kept=tmp_path / "kept")
    for arm, ensemble in rebuilt.items():
        assert [Path(member).name for member in ensemble.record["members"]] == [f"{arm}-s{seed}.keras" for seed in (0, 1)]
        assert np.allclose(ensemble.tiles["tgs_score"], ensembles[arm].tiles["tgs_score"])
    assert study.read_seed_ensembles(tmp_path / "none") is None


def test_a_study_whose_arms_differ_besides_the_factor_is_refused_before_training(dataset, tmp_path):
    lopsided = Study("tiny", "arch", (TINY_STUDY.arms[0], Arm("resunet", "resunet", "lite", TINY, TRAINING | {"learning_rate": 0.01})))
    with pytest.raises(ValueError, match=r"training.learning_rate: unet 0.001, resunet 0.01"):
        study.run_study(lopsided, dataset, tmp_path / "runs", tmp_path / "results")
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------
# Tables on hand-made results
# ---------------------------------------------------------------------------------------------


def hand_result(arm, seed, test, val=(1.0, 0.0), arch=None, training=None, factor="arch"):
    """A result as result_folders.read_results returns it, with the given per-tile scores."""
    record = {"arm": arm, "seed": seed, "arch": arch or arm, "preset": "lite", "parameters": 100,
              "training": {"epochs": 4, "augment": "flip", "seed": seed} | (training or {}),
              "provenance": {"data_fingerprint": "f", "split_hash": "s"},
              "study": {"name": "hand", "factor": factor, "arms": ["unet", "resunet"]},
              "tiles_order": {"val": {"ids_sha1": "v"}, "test": {"ids_sha1": "t"}}}
    tiles = pd.concat([pd.DataFrame({"id": [f"{split}{i}" for i in range(len(scores))], "split": split,
                                     "position": range(len(scores)), "tgs_score": scores})
                       for split, scores in (("val", val), ("test", test))], ignore_index=True)
    return Result(record, tiles, pd.DataFrame({"epoch": [1]}))


@pytest.fixture
def hand_results():
    # Four test tiles. unet: seed means 0.5, 0.75, 0.25; resunet: 0.75, 0.75, 0.5.
    return {
        "unet-s0": hand_result("unet", 0, [1.0, 0.0, 1.0, 0.0]),
        "unet-s1": hand_result("unet", 1, [1.0, 1.0, 1.0, 0.0]),
        "unet-s2": hand_result("unet", 2, [1.0, 0.0, 0.0, 0.0]),
        "resunet-s0": hand_result("resunet", 0, [1.0, 1.0, 1.0, 0.0]),
        "resunet-s1": hand_result("resunet", 1, [1.0, 1.0, 0.0, 1.0]),
        "resunet-s2": hand_result("resunet", 2, [1.0, 1.0, 0.0, 0.0]),
    }


def test_seed_table_and_summary_by_hand(hand_results):
    table = study.seed_table(hand_results)
    assert list(zip(table["arm"], table["seed"])) == [("unet", 0), ("unet", 1), ("unet", 2), ("resunet", 0), ("resunet", 1), ("resunet", 2)]
    assert list(table["test_tgs_score"]) == [0.5, 0.75, 0.25, 0.75, 0.75, 0.5] and set(table["val_tgs_score"]) == {0.5}
    assert set(table["trained_on"]) == {"backend not recorded, device not recorded"}
    assert table["test_iou"].isna().all()  # the hand records hold no test metrics
    named = study.seed_table(hand_results, "model")
    assert list(named.columns[:2]) == ["model", "seed"] and list(named["model"]) == list(table["arm"])
    assert list(study.seed_summary(hand_results, n_resamples=50, name="policy")["policy"]) == ["unet", "resunet"]
    assert study.trained_on({"versions": {"backend": "jax", "device": "gpu NVIDIA H200"}}) == "jax on gpu NVIDIA H200"
    assert study.trained_on({"versions": {"backend": "tensorflow"}}) == "tensorflow, device not recorded"
    summary = study.seed_summary(hand_results, n_resamples=500).set_index("arm")
    assert summary.loc["unet", "seeds"] == 3 and summary.loc["unet", "test_mean"] == pytest.approx(0.5)
    assert summary.loc["unet", "test_sd"] == pytest.approx(0.25)  # sd of 0.5, 0.75, 0.25 with n - 1
    assert (summary.loc["unet", "test_min"], summary.loc["unet", "test_max"]) == (0.25, 0.75)
    assert summary.loc["resunet", "test_mean"] == pytest.approx(2 / 3)
    assert summary.loc["resunet", "test_sd"] == pytest.approx(np.std([0.75, 0.75, 0.5], ddof=1))
    assert summary.loc["unet", "val_sd"] == 0
    metrics = {f"{arm}-s{s}": replace(run, record=run.record | {"test": {"iou": 0.5 + 0.1 * s, "dice": 0.6, "empty_tile_accuracy": 0.9}})
               for (arm, s), run in ((tuple(key.split("-s")), run) for key, run in hand_results.items())
               for s in [int(s)]}
    with_metrics = study.seed_summary(metrics, n_resamples=50).set_index("arm")
    assert with_metrics.loc["unet", "test_iou_mean"] == pytest.approx(0.6) and with_metrics.loc["unet", "test_iou_sd"] == pytest.approx(0.1)
    assert with_metrics.loc["resunet", "test_dice_sd"] == 0
    # Seed-averaged unet tiles: 1, 1/3, 2/3, 0; the interval is over these four.
    assert summary.loc["unet", "test_ci_low"] >= 0 and summary.loc["unet", "test_ci_high"] <= 1
    assert summary.loc["unet", "test_ci_low"] < 0.5 < summary.loc["unet", "test_ci_high"]
    # Seeds and tiles together: the same mean, the two-level bootstrap's interval (stats.two_level_interval).
    from salt_lib.stats import two_level_interval

    per_tile = np.array([study.tile_scores(run, "test") for run in study.runs_of(hand_results, "unet").values()])
    together = two_level_interval(per_tile, 500)
    assert summary.loc["unet", "test_seeds_tiles"] == pytest.approx(0.5) and summary.loc["unet", "resampled"] == "seeds, then tiles"
    assert (summary.loc["unet", "test_seeds_tiles_low"], summary.loc["unet", "test_seeds_tiles_high"]) == (together["low"], together["high"])
    ids = hand_results["unet-s0"].tiles.query("split == 'test'").sort_values("position")["id"].astype(str)
    clusters = pd.Series([0, 0, 1, 1], index=ids.to_numpy())  # two mosaics of two tiles
    by_mosaic = study.seed_summary(hand_results, n_resamples=500, clusters=clusters).set_index("arm")
    assert by_mosaic.loc["unet", "resampled"] == "seeds, then mosaics"
    assert by_mosaic.loc["unet", "test_seeds_tiles_low"] == two_level_interval(per_tile, 500, cluster=clusters.to_numpy())["low"]
    sentence = study.summary_findings(summary.reset_index())[0]
    assert f"resampling seeds, then tiles together, the interval is [{together['low']:.3f}, {together['high']:.3f}]" in sentence


def test_paired_arm_table_by_hand(hand_results):
    row = study.paired_arm_table(hand_results, "unet", "resunet", n_resamples=500).iloc[0]
    assert row["comparison"] == "resunet - unet" and row["tiles"] == 4 and (row["seeds_a"], row["seeds_b"]) == (3, 3)
    # Pooled: resunet tiles 1, 1, 1/3, 1/3 minus unet tiles 1, 1/3, 2/3, 0 = 0, 2/3, -1/3, 1/3: mean 1/6.
    assert row["difference"] == pytest.approx(1 / 6)
    assert row["ci_low"] <= row["difference"] <= row["ci_high"] and row["verdict"] == "not distinguishable"
    # Per seed: 0.75 - 0.5, 0.75 - 0.75, 0.5 - 0.25.
    assert row["seed_difference_mean"] == pytest.approx(1 / 6)
    assert (row["seed_difference_min"], row["seed_difference_max"]) == (0.0, 0.25)
    assert row["seeds_b_higher"] == 2 and row["per_seed"] == "s0 +0.2500; s1 +0.0000; s2 +0.2500"
    # An arm that wins on every tile: "higher", every resample positive.
    better = {f"unet-s{s}": hand_result("unet", s, [0.0, 0.0, 0.5, 0.0]) for s in range(3)}
    better |= {f"resunet-s{s}": hand_result("resunet", s, [1.0, 1.0, 1.0, 1.0]) for s in range(2)}
    row = study.paired_arm_table(better, "unet", "resunet", n_resamples=500).iloc[0]
    assert row["verdict"] == "higher" and row["share_resamples_positive"] == 1.0
    assert (row["seeds_a"], row["seeds_b"], row["seeds_paired"]) == (3, 2, 2)
    assert row["difference"] == pytest.approx(1 - 0.125)  # resunet 1 on every tile, unet 0.125 pooled
    one_arm = {name: result for name, result in hand_results.items() if name.startswith("unet")}
    assert study.pairwise_table(one_arm, reference="unet").empty  # one arm run so far: nothing to compare
    other_arm = {name: result for name, result in hand_results.items() if name.startswith("resunet")}
    assert study.pairwise_table(other_arm, reference="unet").empty  # only the other arm run: the same
    table = study.pairwise_table(hand_results, n_resamples=200)
    assert list(table["comparison"]) == ["resunet - unet"]


def test_paired_tables_refuse_arms_that_differ_besides_the_factor(hand_results):
    hand_results["resunet-s1"] = hand_result("resunet", 1, [1.0, 1.0, 0.0, 1.0], training={"learning_rate": 3e-4})
    with pytest.raises(ValueError, match=r"training.learning_rate: .*resunet-s0 0.001.*resunet-s1 0.0003"):
        study.paired_arm_table(hand_results, "unet", "resunet")
    # Scores of other tiles are refused too.
    hand_results["resunet-s1"] = hand_result("resunet", 1, [1.0, 1.0, 0.0, 1.0])
    hand_results["resunet-s1"].record["tiles_order"]["test"]["ids_sha1"] = "other"
    with pytest.raises(ValueError, match="different test tiles"):
        study.paired_arm_table(hand_results, "unet", "resunet")


def test_the_split_optimism_is_random_minus_mosaic_with_each_side_drawn_on_its_own(hand_results):
    from salt_lib.chapters.comparison import split_optimism_findings, split_optimism_table

    # The mosaic split: other test tiles (ids m0..m3), another split hash, two seeds, U-Net only.
    def on_mosaic_split(seed, scores):
        result = hand_result("unet", seed, scores)
        result.record["provenance"]["split_hash"] = "mosaic"
        result.tiles["id"] = result.tiles["id"].str.replace("test", "m")
        return result

    mosaic_runs = {"unet-s0": on_mosaic_split(0, [1.0, 0.0, 0.0, 0.0]), "unet-s1": on_mosaic_split(1, [1.0, 1.0, 0.0, 0.0])}
    clusters = pd.Series({f"test{i}": i // 2 for i in range(4)} | {f"m{i}": 10 + i for i in range(4)})
    table = split_optimism_table(hand_results, mosaic_runs, clusters, n_resamples=500)
    row = table.iloc[0]
    assert list(table["model"]) == ["U-Net"]  # the ResUNet was not trained on the mosaic split
    assert (row["seeds_random"], row["seeds_mosaic"], row["tiles_random"], row["tiles_mosaic"]) == (3, 2, 4, 4)
    # U-Net on the random split: seed means 0.5, 0.75, 0.25 -> 0.5; on the mosaic split 0.25, 0.5 -> 0.375.
    assert row["test_random"] == pytest.approx(0.5) and row["test_mosaic"] == pytest.approx(0.375)
    assert row["optimism"] == pytest.approx(0.125)
    for name in ("test_random", "test_mosaic", "optimism"):
        assert row[f"{name}_low"] <= row[name] <= row[f"{name}_high"]
    assert row["optimism_low"] < 0 < row["optimism_high"]  # four tiles cannot tell
    (sentence,) = split_optimism_findings(table)
    assert "random minus mosaic +0.125 [" in sentence and "(not distinguishable from 0)" in sentence
    # A mosaic run with another recipe is refused: the gap would not be the split's alone.
    mosaic_runs["unet-s1"].record["training"]["learning_rate"] = 3e-4
    with pytest.raises(ValueError, match="differ in more than the seed and the split.*training.learning_rate"):
        split_optimism_table(hand_results, mosaic_runs, clusters)
    mosaic_runs["unet-s1"].record["training"].pop("learning_rate")
    with pytest.raises(ValueError, match="no mosaic for 4 of the test tiles"):
        split_optimism_table(hand_results, mosaic_runs, clusters.drop([f"m{i}" for i in range(4)]))


def test_the_two_splits_models_are_compared_on_the_tiles_both_hold_out_with_each_sides_seeds_drawn_on_their_own(hand_results):
    from salt_lib.chapters.comparison import same_tiles_findings, same_tiles_table, split_optimism_table

    # The mosaic split keeps test0 and test1 in test (test2, test3 went to training) and adds m0, m1.
    def on_mosaic_split(seed, scores):
        result = hand_result("unet", seed, scores)
        result.record["provenance"]["split_hash"] = "mosaic"
        result.tiles["id"] = result.tiles["id"].replace({"test2": "m0", "test3": "m1"})
        return result

    mosaic_runs = {"unet-s0": on_mosaic_split(0, [1.0, 1.0, 0.0, 0.0]), "unet-s1": on_mosaic_split(1, [0.0, 1.0, 0.0, 0.0])}
    clusters = pd.Series({f"test{i}": i for i in range(4)} | {"m0": 10, "m1": 11} | {"val0": 20, "val1": 21})
    table = same_tiles_table(hand_results, mosaic_runs, clusters, n_resamples=500).set_index("part")
    assert list(table.index) == ["val", "test"] and (table["model"] == "U-Net").all()
    test = table.loc["test"]
    assert (test["tiles"], test["seeds_random"], test["seeds_mosaic"]) == (2, 3, 2)
    # test0, test1: U-Net random seeds (1, 0), (1, 1), (1, 0) -> 2/3 mean; mosaic seeds (1, 1), (0, 1) -> 3/4.
    assert test["score_random"] == pytest.approx(4 / 6) and test["score_mosaic"] == pytest.approx(0.75)
    assert test["difference"] == pytest.approx(4 / 6 - 0.75) and test["difference_low"] <= test["difference"] <= test["difference_high"]
    assert table.loc["val", "tiles"] == 2 and table.loc["val", "difference"] == pytest.approx(0)  # both sides score val 1, 0
    optimism = split_optimism_table(hand_results, {k: on_mosaic_split(r.record["seed"], r.tiles.query("split == 'test'")["tgs_score"].tolist())
                                                   for k, r in mosaic_runs.items()}, clusters, n_resamples=200)
    sentences = same_tiles_findings(table.reset_index(), optimism)
    assert sentences[0].startswith("U-Net on the 2 test tiles that both splits hold out for test: trained on the random split 0.667, "
                                   "on the mosaic split 0.750, random minus mosaic -0.083 [")
    assert "the two splits' whole test means differ by" in sentences[0] and sentences[1].startswith("U-Net on the 2 validation tiles")
    mosaic_runs["unet-s1"].record["training"]["learning_rate"] = 3e-4
    with pytest.raises(ValueError, match="differ in more than the seed and the split"):
        same_tiles_table(hand_results, mosaic_runs, clusters)


def test_differences_besides_the_factor():
    unet = hand_result("unet", 0, [1.0]).record
    resunet = hand_result("resunet", 0, [1.0]).record | {"shortcut": "conv1"}
    assert study.differences_besides({"u": unet, "r": resunet}, "arch") == {}
    assert set(study.differences_besides({"u": unet, "r": resunet}, None)) == {"model.arch", "model.shortcut"}
    slower = resunet | {"training": resunet["training"] | {"learning_rate": 1e-4, "workers": 4, "minutes": 9.0}}
    assert study.differences_besides({"u": unet, "r": slower}, "arch") == {"training.learning_rate": {"u": 0.001, "r": 1e-4}}
    other_data = resunet | {"provenance": {"data_fingerprint": "g", "split_hash": "s"}}
    assert list(study.differences_besides({"u": unet, "r": other_data}, "arch")) == ["data.fingerprint"]
    # Policies: mirror's epochs are twice as long, so half as many are equal; one more is not.
    flip = unet | {"training": {"augment": "flip", "epochs": 10}}
    mirror = unet | {"training": {"augment": "mirror", "epochs": 5}}
    assert study.differences_besides({"flip": flip, "mirror": mirror}, "augment") == {}
    longer = unet | {"training": {"augment": "mirror", "epochs": 6}}
    assert list(study.differences_besides({"flip": flip, "mirror": longer}, "augment")) == ["training.epochs (plain epochs)"]
    assert "model.arch" in study.differences_besides({"flip": flip, "r": resunet | {"training": flip["training"]}}, "augment")


# ---------------------------------------------------------------------------------------------
# The thesis's two studies, as defined and (once committed) as run
# ---------------------------------------------------------------------------------------------


def test_the_architecture_study_is_the_default_recipe_for_both_networks():
    arms = {arm.name: arm for arm in study.ARCHITECTURE_STUDY.arms}
    assert list(arms) == ["unet", "resunet"] and study.ARCHITECTURE_STUDY.seeds == (0, 1, 2)
    for arm in arms.values():
        assert arm.arch == arm.name and arm.overrides == DEFAULT.overrides and arm.training == DEFAULT.training
    planned = {name: arm.planned_record(0, "f", "s") for name, arm in arms.items()}
    assert study.differences_besides(planned, "arch") == {}
    assert set(study.differences_besides(planned, None)) == {"model.arch", "model.shortcut"}
    assert study.ARCHITECTURE_STUDY.model_paths == {("unet", 0): "models/unet_lite.keras", ("resunet", 0): "models/resunet_lite.keras"}


def test_the_policy_study_gives_every_policy_the_same_optimizer_steps():
    arms = {arm.name: arm for arm in study.POLICY_STUDY.arms}
    assert tuple(arms) == POLICIES and study.POLICY_STUDY.reference == "none"
    assert arms["mirror"].training["epochs"] == study.POLICY_BUDGET_EPOCHS // 2 and arms["none"].training["epochs"] == study.POLICY_BUDGET_EPOCHS
    for arm in arms.values():
        assert arm.arch == "unet" and arm.overrides == DEFAULT.overrides
        settings = arm.settings(0)
        assert settings["loss"] == "bce_dice" and settings["lovasz_epochs"] == 0 and settings["patience"] >= settings["epochs"]
    # Equal steps on the real split (1,919 training tiles: 60 batches of 32 a plain epoch, 120 a mirror
    # epoch), on the synthetic default's 2,400, and as TileBatches counts them.
    assert study.check_equal_steps(study.POLICY_STUDY, 1919) == 10 * 60
    assert study.check_equal_steps(study.POLICY_STUDY, 2400) == 10 * 75
    # 48 tiles: a plain epoch is 2 batches (32 + 16), a mirror epoch 3 (96 tiles), so steps would differ.
    assert study.optimizer_steps(arms["none"].training, 48) == 20 and study.optimizer_steps(arms["mirror"].training, 48) == 15
    with pytest.raises(ValueError, match="none 20, mirror 15"):
        study.check_equal_steps(study.POLICY_STUDY, 48)
    assert study.steps_per_epoch("mirror", 29, 8) == 8 and study.steps_per_epoch("flip", 29, 8) == 4
    planned = {name: arm.planned_record(0, "f", "s") for name, arm in arms.items()}
    assert study.differences_besides(planned, "augment") == {}
    with pytest.raises(ValueError, match="multiple of 2"):
        study.equal_step_epochs("mirror", 7)


def check_study_records(definition: Study, results: dict, min_seeds: int = 3, same_seeds: bool = True,
                        every_arm: bool = True) -> None:
    """What a committed study must hold: >= ``min_seeds`` seeds of every arm, the same seeds
    for every arm (paired; ``same_seeds=False`` for a study whose later seeds are still being
    added), each the defined run (its run key), none cut by time, validation scored and test scored
    only by a study that scores it (``Study.score_test``); arms identical but for the factor; equal
    steps."""
    records = {key: run.record for key, run in results.items()}
    assert study.differences_besides(records, definition.factor) == {}
    seeds = {name: sorted(study.runs_of(results, name)) for name in study.arm_names(results)}
    assert not same_seeds or len({tuple(s) for s in seeds.values()}) == 1, f"arms with different seeds: {seeds}"
    present = study.arm_names(results)
    assert present and (not every_arm or len(present) == len(definition.arms)), present
    for arm in (arm for arm in definition.arms if arm.name in present):
        runs = study.runs_of(results, arm.name)
        assert len(runs) >= min_seeds, f"{arm.name}: {len(runs)} seeds"
        for seed, run in runs.items():
            record = run.record
            assert not record["cut_by_time"] and record["val"]["tiles"] > 0
            if definition.score_test:
                assert "scored_at" in record["test"]
            else:  # a study that chooses a recipe trains without looking at test; a reused committed model brings its own
                assert record.get("model_reused") or not record.get("test"), f"{arm.name} seed {seed}: test scored"
            assert record["run_key"] == study.run_key(arm.network(), arm.settings(seed), record["provenance"]["data_fingerprint"],
                                                      record["provenance"]["split_hash"]), f"{arm.name} seed {seed}: not the defined run"
    # no early stop: every run took its whole budget; and equal steps, but in a study of recipes
    # whose budget is part of the recipe (recipe_fast_*)
    assert all(record["optimizer_steps"] == study.optimizer_steps(record["training"], record["train_tiles"])
               for record in records.values() if "train_tiles" in record)
    budgets = {arm.name: (arm.settings(0)["epochs"], arm.settings(0)["lovasz_epochs"]) for arm in definition.arms}
    if len(set(budgets.values())) == 1:
        assert len({record["optimizer_steps"] for record in records.values()}) == 1
    split = "test" if definition.score_test else "val"
    reference = definition.reference if definition.reference in present else None  # a study in progress: every pair
    study.pairwise_table(results, reference, split=split, n_resamples=200)  # pairs on the same tiles


# The architecture and both U-Net policy studies are complete, three seeds each; the learning-rate
# studies have every arm's seed 0, and their later seeds arm by arm; the ResUNet's policy study is
# committed arm by arm as its runs finish.
@pytest.mark.parametrize("name,folder,min_seeds,same_seeds,every_arm", [
    ("architecture", "results/seeds_architecture", 3, True, True),
    ("policies", "results/seeds_policies", 3, True, True),
    ("policies_final", "results/seeds_policies_final", 3, True, True),
    ("policies_final_resunet", "results/seeds_policies_final_resunet", 1, False, False),
    ("learning_rate_unet", "results/seeds_learning_rate_unet", 1, False, True),
    ("learning_rate_resunet", "results/seeds_learning_rate_resunet", 1, False, True),
    ("recipe_fast_unet", "results/seeds_recipe_fast_unet", 1, False, False),
    ("recipe_fast_resunet", "results/seeds_recipe_fast_resunet", 1, False, False),
    ("recipe_progressive_unet", "results/seeds_recipe_progressive_unet", 1, False, False),
    ("recipe_progressive_resunet", "results/seeds_recipe_progressive_resunet", 1, False, False)])
def test_committed_seed_studies(name, folder, min_seeds, same_seeds, every_arm):
    if not (REPO / folder).is_dir():
        pytest.skip(f"{folder} is not committed yet (python -m salt_lib study {name} --data ../shared/tgs-salt)")
    check_study_records(study.STUDIES[name], result_folders.read_results(REPO / folder), min_seeds, same_seeds, every_arm)


def test_the_committed_mosaic_split_runs_are_the_architecture_studys_runs_on_the_mosaic_split():
    """results/seeds_architecture_mosaic: the architecture study's defined runs, trained and scored
    on chapter 2's mosaic split (its hash), every seed of an arm on the same tiles."""
    from salt_lib.records import load_record
    from salt_lib.split import load_split, split_hash

    folder = REPO / "results" / "seeds_architecture_mosaic"
    if not folder.is_dir():
        pytest.skip("the architecture study on the mosaic split is not committed yet (docs/training.md)")
    results = result_folders.read_results(folder)
    hashes = {run.record["provenance"]["split_hash"] for run in results.values()}
    assert len(hashes) == 1 and hashes != {load_record(REPO / "models" / "unet_lite.keras")["provenance"]["split_hash"]}
    mosaic_hash = hashes.pop()
    split_file = REPO / "reports" / "thesis" / "split_mosaic.csv"  # written by the thesis run's chapter 2, not committed
    if split_file.is_file():
        assert split_hash(load_split(split_file)) == mosaic_hash
    definition = study.STUDIES["architecture"]
    for run in results.values():
        record, arm = run.record, definition.arm(run.record["arm"])
        assert record["provenance"]["split_hash"] == mosaic_hash and not record["cut_by_time"] and "scored_at" in record["test"]
        assert record["run_key"] == study.run_key(arm.network(), arm.settings(record["seed"]), record["provenance"]["data_fingerprint"], mosaic_hash)
    for arm in study.arm_names(results):
        assert len(study.runs_of(results, arm)) >= 2
    study.seed_summary(results, n_resamples=100)  # every seed of an arm scored the same tiles


def test_committed_seed_ensembles_are_the_committed_seeds():
    """Each committed seed ensemble averages exactly the committed study's runs, and its members are
    committed (the seed-0 models, the others under models/seeds/ with their records), so a clone can
    rebuild it."""
    folder = REPO / "results" / "ensembles_architecture"
    if not folder.is_dir():
        pytest.skip("results/ensembles_architecture is not committed yet (study architecture --ensembles)")
    runs = result_folders.read_results(REPO / "results" / "seeds_architecture")
    for arm, ensemble in study.read_seed_ensembles(folder).items():
        record, seeds = ensemble.record, study.runs_of(runs, arm)
        assert record["seeds"] == list(seeds) and record["run_keys"] == [run.record["run_key"] for run in seeds.values()]
        for seed, member in zip(seeds, record["members"]):
            assert (REPO / member).is_file(), member
            kept = json.loads((REPO / member).with_suffix(".config.json").read_text())
            assert (kept["arch"], kept["training"]["seed"]) == (seeds[seed].record["arch"], seed), member
        assert "scored_at" in record["test"] and len(ensemble.tiles) == len(seeds[0].tiles)


def planned_results(definition: Study, seeds=(0, 1, 2)) -> dict:
    """Results as the defined study would record them (no training), for checking the check."""
    results = {}
    for seed in seeds:
        for index, arm in enumerate(definition.arms):
            result = hand_result(arm.name, seed, [1.0, 0.5 * (index % 2)])
            result.record.update(arm.planned_record(seed, "f", "s") | {
                "study": {"factor": definition.factor, "arms": [a.name for a in definition.arms]},
                "cut_by_time": False, "val": {"tiles": 2}, "test": {"scored_at": "now"} if definition.score_test else {},
                "optimizer_steps": 600,
                "run_key": study.run_key(arm.network(), arm.settings(seed), "f", "s")})
            results[f"{arm.name}-s{seed}"] = result
    return results


@pytest.mark.parametrize("definition", [study.ARCHITECTURE_STUDY, study.POLICY_STUDY], ids=lambda d: d.name)
def test_the_committed_records_check_passes_the_defined_runs_and_catches_others(definition):
    results = planned_results(definition)
    check_study_records(definition, results)
    with pytest.raises(AssertionError, match="2 seeds"):
        check_study_records(definition, planned_results(definition, seeds=(0, 1)))
    check_study_records(definition, planned_results(definition, seeds=(0, 1)), min_seeds=2)
    unpaired = planned_results(definition)
    del unpaired[f"{definition.arms[0].name}-s2"]  # one arm a seed short
    with pytest.raises(AssertionError, match="arms with different seeds"):
        check_study_records(definition, unpaired, min_seeds=2)
    changed = results[f"{definition.arms[1].name}-s2"].record
    changed["training"] = changed["training"] | {"batch_size": 16}
    with pytest.raises(AssertionError):
        check_study_records(definition, results)


def test_the_committed_records_check_takes_a_study_arm_by_arm_and_a_tuning_study_without_test():
    definition = study.STUDIES["learning_rate_unet"]
    assert not definition.score_test
    results = planned_results(definition, seeds=(0,))
    check_study_records(definition, results, min_seeds=1)
    partial = {key: run for key, run in results.items() if not key.startswith("lr_double")}
    with pytest.raises(AssertionError):
        check_study_records(definition, partial, min_seeds=1)
    check_study_records(definition, partial, min_seeds=1, every_arm=False)
    results["lr_half-s0"].record["test"] = {"scored_at": "now", "tgs_score": 0.8}  # a tuning run that looked at test
    with pytest.raises(AssertionError, match="test scored"):
        check_study_records(definition, results, min_seeds=1)


def test_the_study_command(dataset, trained, tmp_path, monkeypatch, capsys):
    from salt_lib import cli

    assert set(cli.STUDY_NAMES) == set(study.STUDIES)
    args = cli.build_parser().parse_args(["study", "policies", "--data", "d", "--seeds", "3", "4"])
    assert (args.name, args.seeds, args.runs, args.results, args.arms) == ("policies", [3, 4], "runs/study", None, None)
    assert cli.build_parser().parse_args(["study", "policies", "--data", "d", "--arms", "none", "mirror"]).arms == ["none", "mirror"]
    assert args.ensembles is None and cli.build_parser().parse_args(["study", "architecture", "--data", "d", "--ensembles", "e"]).ensembles == "e"
    assert cli.main(["study", "architecture", "--data", str(tmp_path / "missing")]) == 2
    # The whole command on the tiny study's records: reused, and the tables printed.
    base, _ = trained
    shutil.copytree(base / "results", tmp_path / "results")
    monkeypatch.setitem(study.STUDIES, "architecture", TINY_STUDY)
    capsys.readouterr()
    assert cli.main(["study", "architecture", "--data", str(dataset.root), "--runs", str(tmp_path / "no-runs"),
                     "--results", str(tmp_path / "results"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("result reused") == 4 and "per arm:" in out and "resunet - unet" in out
    assert not (tmp_path / "no-runs").exists()


def test_the_study_findings_read_in_chinese_with_the_english_numbers():
    from conftest import assert_chinese_with_the_same_numbers, in_both_languages

    tables = {name: pd.read_csv(REPO / "tables" / f"{name}.csv") for name in (
        "03_final_summary", "03_final_pairs", "03_policy_vs_none", "03_final_vs_committed", "06_seeds_summary", "06_seeds_paired",
        "06_seed_ensembles")}
    one_seed = tables["06_seeds_summary"].assign(seeds=[1, 3], resampled=["", ""])
    unpaired = tables["06_seeds_paired"].drop(columns=["p_holm"]).assign(seeds_paired=0)

    def build():
        return [*study.summary_findings(tables["03_final_summary"]), *study.summary_findings(one_seed),
                *study.summary_findings(tables["06_seeds_summary"], score="validation tgs_score"),
                *study.pair_findings(tables["03_final_pairs"]), *study.pair_findings(unpaired),
                *(study.distinguishable_pairs(tables[name]) for name in ("03_final_pairs", "03_policy_vs_none", "03_final_vs_committed")),
                study.distinguishable_pairs(tables["03_final_pairs"].drop(columns=["p_holm"])),
                *study.ensemble_findings(tables["06_seed_ensembles"], tables["06_seeds_summary"]),
                *study.ensemble_findings(tables["06_seed_ensembles"])]

    english, chinese = in_both_languages(build)
    assert "Holm-adjusted p" in english[12] and "Holm-adjusted" not in english[19] and "Seed by seed" not in english[19]
    assert_chinese_with_the_same_numbers(english, chinese)
    assert chinese[0].startswith("none：3 个种子，测试集 tgs_score 0.759 [0.730, 0.788]，种子间标准差 0.007（范围 0.751 至 0.763）；")


def test_findings_sentences_are_built_from_the_tables(hand_results, tmp_path, caplog):
    summary = study.seed_summary(hand_results, n_resamples=500)
    sentences = study.summary_findings(summary)
    assert sentences[0].startswith("U-Net: 3 seeds, test tgs_score 0.500 [")
    assert "standard deviation over seeds 0.250 (range 0.250 to 0.750); resampling seeds, then tiles together, the interval is [" in sentences[0]
    pairs = study.pairwise_table(hand_results, reference="unet", n_resamples=500)
    (sentence,) = study.pair_findings(pairs)
    assert sentence.startswith("ResUNet's tgs_score is not distinguishable from U-Net's: ResUNet - U-Net = +0.167 [")
    assert "Seed by seed, ResUNet scored higher in 2 of 3 (differences +0.000 to +0.250). Resampling seeds, then tiles together: " in sentence
    row = pairs.iloc[0]
    assert row["difference_seeds_tiles"] == pytest.approx(row["seed_difference_mean"])  # over the paired seeds
    assert row["difference_seeds_tiles_low"] <= row["difference_seeds_tiles"] <= row["difference_seeds_tiles_high"]
    assert sentence.endswith(f"(p = {row['p_value']:.3f}, Holm-adjusted p = {row['p_holm']:.3f}).") and row["p_holm"] == row["p_value"]
    # one pair: nothing to correct for (its p is in its own finding)
    assert study.distinguishable_pairs(pairs) == "The one pair cannot be told apart on these tiles."
    decided = pairs.assign(verdict="higher", p_holm=0.01)
    assert study.distinguishable_pairs(decided) == "The one pair can be told apart on these tiles: ResUNet - U-Net is higher than 0."
    three = pd.concat([decided, pairs.assign(comparison="b - a"), pairs.assign(comparison="c - a")], ignore_index=True)
    assert study.distinguishable_pairs(three) == (
        "Of the 3 pairs, 1 can be told apart on these tiles: ResUNet - U-Net is higher than 0. With seeds and tiles "
        "resampled together and Holm's correction for the 3 comparisons, 1 keep an adjusted p under 0.05: ResUNet - U-Net.")
    # with clusters (tile id -> mosaic) whole mosaics are drawn; every test tile needs one
    tiles = next(iter(hand_results.values())).tiles
    ids = tiles.loc[tiles["split"] == "test", "id"].astype(str)
    clustered = study.pairwise_table(hand_results, reference="unet", n_resamples=500, clusters=pd.Series(0, index=ids))
    assert clustered["resampled"].iloc[0] == "seeds, then mosaics"
    assert clustered["difference_seeds_tiles"].iloc[0] == pytest.approx(row["difference_seeds_tiles"])
    with pytest.raises(ValueError, match="no mosaic for"):
        study.pairwise_table(hand_results, reference="unet", n_resamples=50, clusters=pd.Series(0, index=ids[:1]))
    with caplog.at_level("INFO", logger="salt_lib"):
        assert study.read_results("") is None and study.read_results(tmp_path / "missing", "make it") is None
    assert "does not exist yet: `make it` makes it" in caplog.text


@pytest.mark.parametrize("name, arch", [("policies_final", "unet"), ("policies_final_resunet", "resunet")])
def test_the_final_budget_policy_study_is_the_default_recipe_but_the_policy_and_reuses_the_committed_networks(name, arch):
    from salt_lib.records import load_record, reuse_problems

    final = study.STUDIES[name]
    arms = {arm.name: arm for arm in final.arms}
    assert tuple(arms) == (*study.FINAL_POLICIES, "flip_alternate") and final.reference == "none" and final.factor == "augment"
    assert {arm.arch for arm in final.arms} == {arch}
    assert arms["flip_alternate"].training == arms["flip"].training | {"alternate_flips": True}  # derandomized flips
    assert arms["flip_geo"].training == DEFAULT.training and arms["flip_geo"].overrides == DEFAULT.overrides
    assert (arms["mirror"].training["epochs"], arms["mirror"].training["lovasz_epochs"]) == (11, 11)
    assert study.check_equal_steps(final, 1919) == 44 * 60  # the final models' 2,640 steps, every policy
    planned = {name: arm.planned_record(0, "f", "s") for name, arm in arms.items()}
    assert study.differences_besides(planned, "augment") == {}  # how the flips are drawn is part of the policy
    assert "training.alternate_flips" in study.differences_besides(planned, None)
    for seed in final.seeds:  # the architecture study's networks are this study's flip_geo runs
        path = REPO / final.model_paths[("flip_geo", seed)]
        record = load_record(path)
        provenance = record["provenance"]
        assert reuse_problems(record, arms["flip_geo"].network(), arms["flip_geo"].settings(seed),
                              provenance["data_fingerprint"], provenance["split_hash"]) == [], path


@pytest.mark.parametrize("arch", ["unet", "resunet"])
def test_the_learning_rate_studies_scale_both_stages_rates_for_one_network_on_validation(arch):
    from salt_lib.records import load_record, reuse_problems
    from salt_lib.train import TrainConfig

    rates = study.STUDIES[f"learning_rate_{arch}"]
    assert rates.factor == "recipe" and not rates.score_test and rates.reference == "default"
    arms = {arm.name: arm for arm in rates.arms}
    assert list(arms) == ["default", "lr_half", "lr_double"] and {arm.arch for arm in rates.arms} == {arch}
    default = TrainConfig.from_dict(DEFAULT.training)
    for name, scale in (("default", 1.0), ("lr_half", 0.5), ("lr_double", 2.0)):
        settings = arms[name].settings(0)
        assert (settings["learning_rate"], settings["lovasz_learning_rate"]) == (default.learning_rate * scale, default.lovasz_learning_rate * scale)
    planned = {name: arm.planned_record(0, "f", "s") for name, arm in arms.items()}
    assert sorted(study.differences_besides(planned, None)) == ["training.learning_rate", "training.lovasz_learning_rate"]
    for seed, path in study.COMMITTED_MODELS[arch].items():  # the default arm is the committed networks
        record = load_record(REPO / rates.model_paths[("default", seed)])
        assert rates.model_paths[("default", seed)] == path and reuse_problems(
            record, arms["default"].network(), arms["default"].settings(seed),
            record["provenance"]["data_fingerprint"], record["provenance"]["split_hash"]) == []


# What each faster recipe's study may change against DEFAULT, one network and input: FAST its budget
# and the levers it stacks; PROGRESSIVE, on the same 22 + 22 epochs, the first stage's scale and the
# levers that cost nothing.
RECIPE_DIFFERENCES = {
    "fast": ["training.alternate_flips", "training.epochs", "training.lovasz_epochs", "training.patience", "training.val_every"],
    "progressive": ["training.alternate_flips", "training.early_size", "training.early_size_epochs", "training.val_every"]}


@pytest.mark.parametrize("arch", ["unet", "resunet"])
@pytest.mark.parametrize("name", sorted(RECIPE_DIFFERENCES))
def test_a_recipe_study_sets_the_recipe_against_the_committed_default_on_validation(name, arch):
    from salt_lib.recipes import RECIPES
    from salt_lib.train import TrainConfig

    faster = study.STUDIES[f"recipe_{name}_{arch}"]
    assert faster.factor == "recipe" and not faster.score_test and faster.reference == "default"
    arms = {arm.name: arm for arm in faster.arms}
    assert list(arms) == ["default", name] and {arm.arch for arm in faster.arms} == {arch}
    assert arms[name].settings(0) == TrainConfig.from_dict(RECIPES[name].training | {"seed": 0}).to_dict()
    planned = {arm_name: arm.planned_record(0, "f", "s") for arm_name, arm in arms.items()}
    assert sorted(study.differences_besides(planned, None)) == RECIPE_DIFFERENCES[name]
    assert {seed: faster.model_paths[("default", seed)] for seed in study.COMMITTED_MODELS[arch]} == study.COMMITTED_MODELS[arch]


def test_a_policy_study_from_a_chapters_parameters_keeps_equal_steps_and_shared_settings():
    quick = study.policy_study([0], 6, "unet", "lite", {"filters": 8}, {"batch_size": 8, "learning_rate": 0.003},
                               ["none", "mirror"])
    none, mirror = quick.arms
    assert (none.training["epochs"], mirror.training["epochs"]) == (6, 3) and quick.reference == "none"
    assert none.training["batch_size"] == mirror.training["batch_size"] == 8 and none.overrides == {"filters": 8}
    assert none.training["patience"] == 6 and none.training["lovasz_epochs"] == 0
    assert study.check_equal_steps(quick, 360) == 6 * 45


def test_the_training_notes_policy_table_is_the_chapters():
    """docs/training.md's policy table repeats chapter 3's generated summary (tables/03_policy_summary.csv)."""
    summary = pd.read_csv(REPO / "tables" / "03_policy_summary.csv").set_index("policy")
    readme = (REPO / "docs" / "training.md").read_text()
    section = readme[readme.index("**The augmentation study**"):readme.index("**The architecture study**")]
    rows = re.findall(r"^\| (\w+) \| (0\.\d{3}) \[(0\.\d{3}), (0\.\d{3})\] \| (0\.\d{3}) \|$", section, re.M)
    assert [row[0] for row in rows] == list(summary.index)
    for arm, mean, low, high, sd in rows:
        expected = summary.loc[arm, ["test_mean", "test_ci_low", "test_ci_high", "test_sd"]]
        assert [f"{value:.3f}" for value in expected] == [mean, low, high, sd], arm
    device = json.loads((REPO / "results" / "device_check" / "unet-s2" / "record.json").read_text())
    assert f"(val {device['val']['tgs_score_min_size']:.3f}, test {device['test']['tgs_score']:.3f})" in readme
    assert device["versions"]["device"].startswith("gpu") and device["seed"] == 2 and device["arm"] == "unet"


def test_the_training_notes_architecture_table_is_the_chapters():
    """docs/training.md's architecture-study table and paired difference repeat chapter 6's generated tables."""
    summary = pd.read_csv(REPO / "tables" / "06_seeds_summary.csv").set_index("model")
    pair = pd.read_csv(REPO / "tables" / "06_seeds_paired.csv").iloc[0]
    readme = (REPO / "docs" / "training.md").read_text()
    section = readme[readme.index("**The architecture study**"):readme.index("## Commands")]
    rows = re.findall(r"^\| (\w+) \| (\d+) \| (0\.\d{3}) \[(0\.\d{3}), (0\.\d{3})\] \| (0\.\d{3}) \| (0\.\d{3}) \|$", section, re.M)
    assert [row[0] for row in rows] == list(summary.index)
    for model, seeds, mean, low, high, sd, val in rows:
        expected = summary.loc[model, ["test_mean", "test_ci_low", "test_ci_high", "test_sd", "val_mean"]]
        assert int(seeds) == summary.loc[model, "seeds"] and [f"{v:.3f}" for v in expected] == [mean, low, high, sd, val], model
    assert f"{pair['difference']:+.3f}\n[{pair['ci_low']:+.3f}, {pair['ci_high']:+.3f}]" in section
    assert f"seed by seed {pair['seed_difference_min']:+.3f} to {pair['seed_difference_max']:+.3f} (ResUNet higher in {pair['seeds_b_higher']} of {pair['seeds_paired']})" in section
    ensembles = pd.read_csv(REPO / "tables" / "06_seed_ensembles.csv")
    rows = re.findall(r"^\| (\w+) \| (0\.\d{3}) \[(0\.\d{3}), (0\.\d{3})\] \| (0\.\d{3}) \|$", section, re.M)
    assert [f"{row[0]} (seed ensemble)" for row in rows] == list(ensembles["model"])
    for row, (_, expected) in zip(rows, ensembles.iterrows()):
        assert list(row[1:]) == [f"{expected[key]:.3f}" for key in ("test_tgs_score", "test_ci_low", "test_ci_high", "val_tgs_score")]
    seeds = pd.read_csv(REPO / "tables" / "06_seeds.csv")
    assert f"whole study is {seeds['train_minutes'].sum() / 60:.1f} hours of training" in section
    idle = seeds[seeds["seed"] == 2].set_index("model")["train_minutes"]
    assert f"took {idle['unet']:.1f} min (U-Net) and {idle['resunet']:.1f} min\n(ResUNet)" in section
    cpu = seeds[(seeds["seed"] == 2) & (seeds["model"] == "unet")].iloc[0]
    assert f"seed-2 U-Net (val {cpu['val_tgs_score']:.3f}, test {cpu['test_tgs_score']:.3f})" in section
    device = json.loads((REPO / "results" / "device_check" / "unet-s2" / "record.json").read_text())
    assert f"moved the test score by\n{abs(device['test']['tgs_score'] - cpu['test_tgs_score']):.3f}" in section


def test_the_long_schedule_study_varies_the_recipe_on_one_u_net_and_never_scores_test(dataset, tmp_path, monkeypatch, capsys):
    from salt_lib.records import load_record, reuse_problems

    long = study.STUDIES["long_schedule"]
    arms = {arm.name: arm for arm in long.arms}
    assert list(arms) == ["default", "cycles", "cycles_ds", "cycles_head", "cycles_scse", "cycles_all"]
    assert long.factor == "recipe" and not long.score_test and long.reference == "default"
    assert {arm.arch for arm in long.arms} == {"unet"} and arms["default"].training == DEFAULT.training
    for name in list(arms)[1:]:
        settings = arms[name].settings(0)
        assert settings["cycles"] == study.LONG_CYCLES and settings["lovasz_epochs"] % settings["cycles"] == 0
        assert settings["epochs"] == DEFAULT.training["epochs"]  # the first stage is the default's
    assert arms["cycles_all"].network()["attention"] == "scse" and arms["cycles_ds"].network()["deep_supervision"]
    planned = {name: arm.planned_record(0, "f", "s") for name, arm in arms.items()}
    assert study.differences_besides(planned, "recipe") == {}  # one network kind, one data set
    assert "training.cycles" in study.differences_besides(planned, None)
    record = load_record(REPO / long.model_paths[("default", 1)])  # its default arm is the committed U-Nets
    assert reuse_problems(record, arms["default"].network(), arms["default"].settings(1),
                          record["provenance"]["data_fingerprint"], record["provenance"]["split_hash"]) == []
    # The machinery on a tiny network: validation scored, the test tiles never.
    tiny = Study("tiny_long", "recipe", tuple(replace(arm, overrides=arm.overrides | TINY, training=TRAINING | {"epochs": 1, "lovasz_epochs": 2, "cycles": 2} if arm.name != "default" else TRAINING)
                                             for arm in long.arms[:3]), seeds=(0,), reference="default", score_test=False)
    results = study.run_study(tiny, dataset, tmp_path / "runs", tmp_path / "results")
    for result in results.values():
        assert set(result.tiles["split"]) == {"val"} and "test" not in result.record and "test" not in result.record["tiles_order"]
    table = study.seed_table(results)
    assert table["test_tgs_score"].isna().all() and table["val_tgs_score"].between(0, 1).all()
    summary = study.seed_summary(results, n_resamples=100)
    assert summary["test_mean"].isna().all() and summary["val_mean"].between(0, 1).all()
    pairs = study.pairwise_table(results, reference="default", split="val", n_resamples=100)
    assert list(pairs["comparison"]) == ["cycles - default", "cycles_ds - default"]
    curve = study.snapshot_table(results)  # the cycles' curve, from the records' end-of-cycle snapshots
    assert list(curve["arm"]) == ["cycles", "cycles", "cycles_ds", "cycles_ds"] and list(curve["cycle"]) == [1, 2, 1, 2]
    assert list(curve["epoch"]) == [2, 3, 2, 3] and (curve["seeds"] == 1).all()
    snapshots = results["cycles-s0"].record["snapshots"]
    assert curve["ensemble_mean"].iloc[1] == snapshots[1]["ensemble_val_tgs_score"]
    assert curve["single_mean"].iloc[0] == curve["ensemble_mean"].iloc[0] == snapshots[0]["val_tgs_score"]  # one snapshot is its own ensemble
    assert study.snapshot_table({"default-s0": results["default-s0"]}).empty
    # The command on these records: compared on validation, the curve printed, nothing trained.
    from salt_lib import cli

    monkeypatch.setitem(study.STUDIES, "long_schedule", tiny)
    capsys.readouterr()
    assert cli.main(["study", "long_schedule", "--data", str(dataset.root), "--runs", str(tmp_path / "no-runs"),
                     "--results", str(tmp_path / "results"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "paired (val):" in out and "cycles_ds - default" in out and "end-of-cycle snapshots" in out
    assert "paired (test)" not in out and not (tmp_path / "no-runs").exists()
    assert study.run_study(tiny, dataset, tmp_path / "runs", tmp_path / "results").keys() == results.keys()  # reused


def test_the_recipe_arm_of_every_tuning_study_is_the_default_recipe_itself():
    assert {study.recipe_arm(study.STUDIES[name]) for name in study.TUNING_STUDIES.values()} <= {"flip_geo", "default"}
    assert study.recipe_arm(study.STUDIES["policies_final"]) == "flip_geo"
    assert study.recipe_arm(study.STUDIES["learning_rate_resunet"]) == "default"
    with pytest.raises(ValueError, match="no arm with exactly the default recipe"):
        study.recipe_arm(TINY_STUDY)


def test_what_was_tuned_for_which_network_is_read_from_the_tuning_studies_on_validation(tmp_path):
    from salt_lib.chapters.comparison import tuning_findings, tuning_table

    def lr_run(arm, seed, val, rate):
        record = hand_result(arm, seed, [1.0, 0.0], val=val, arch="resunet", factor="recipe",
                             training={"learning_rate": rate}).record
        return Result(record | {"study": {"name": "learning_rate_resunet", "factor": "recipe"}},
                      hand_result(arm, seed, [1.0, 0.0], val=val).tiles, pd.DataFrame({"epoch": [1]}))

    # Four validation tiles; lr_double is higher on every tile of both seeds, lr_half equal to the default.
    runs = {f"{arm}-s{s}": lr_run(arm, s, val, rate) for s in (0, 1) for arm, val, rate in (
        ("default", [0.5, 0.5, 0.0, 1.0], 1e-3), ("lr_half", [0.5, 0.5, 0.0, 1.0], 5e-4), ("lr_double", [1.0, 1.0, 0.5, 1.0], 2e-3))}
    tuning = {("unet", "policy"): (study.STUDIES["policies_final"], None),
              ("resunet", "learning rate"): (study.STUDIES["learning_rate_resunet"], runs)}
    table = tuning_table(tuning, n_resamples=400)
    assert list(table["model"]) == ["U-Net", "ResUNet"] and list(table["outcome"]) == ["not run", "beaten"]
    unet, resunet = table.iloc[0], table.iloc[1]
    assert unet["seeds"] == 0 and np.isnan(unet["difference"]) and unet["alternatives"] == "none, mirror, flip, flip_alternate"
    assert resunet["recipe"] == "default" and resunet["closest"] == "lr_double" and resunet["seeds"] == 2
    assert resunet["difference"] == pytest.approx(0.375) and resunet["difference_low"] > 0 and resunet["p_holm"] < 0.05
    assert tuning_findings(table) == [
        "U-Net: its policy was not tested for it (python -m salt_lib study policies_final would).",
        "ResUNet: its learning rate was tested on validation, the recipe's default against lr_half, lr_double "
        f"(learning_rate_resunet, 2 paired seeds): lr_double scores higher (+0.375 [{resunet['difference_low']:+.3f}, "
        f"{resunet['difference_high']:+.3f}], Holm p {resunet['p_holm']:.2f})."]
    assert list(table["pending"]) == ["none, mirror, flip, flip_alternate", ""]
    # equal or lower scores keep the recipe's arm, naming the closest alternative
    lower = runs | {f"lr_double-s{s}": lr_run("lr_double", s, [0.0, 0.5, 0.0, 0.5], 2e-3) for s in (0, 1)}
    kept = tuning_table({("resunet", "learning rate"): (study.STUDIES["learning_rate_resunet"], lower)}, n_resamples=200)
    assert list(kept["outcome"]) == ["kept"] and kept["closest"][0] == "lr_half" and kept["difference"][0] == 0
    assert kept["pending"][0] == "" and "no alternative scores higher (the closest, lr_half: +0.000" in tuning_findings(kept)[0]
    # while an alternative has not run, the recipe's arm is kept only so far, and the sentence says which is missing
    partial = {name: run for name, run in runs.items() if not name.startswith("lr_double")}
    so_far = tuning_table({("resunet", "learning rate"): (study.STUDIES["learning_rate_resunet"], partial)}, n_resamples=200)
    assert list(so_far["outcome"]) == ["kept so far"] and so_far["pending"][0] == "lr_double"
    assert tuning_findings(so_far)[0].endswith("; lr_double has not run yet, so default is kept so far.")
    # a study's folder that does not exist yet reads as not run
    assert all(results is None for _, results in study.tuning_results(tmp_path).values())


def test_the_tuning_tables_words_read_in_chinese():
    choices = {choice for _, choice in study.TUNING_STUDIES}
    assert choices | {"kept", "kept so far", "beaten", "not run"} <= report.TRANSLATIONS["zh"].keys()


def test_both_orientations_are_each_compared_with_a_random_flip_on_validation():
    from salt_lib.chapters import augmentation as augmentation_chapter

    def run(arm, seed, shift):
        val = [min(1.0, 0.5 + 0.05 * tile + shift) for tile in range(8)]
        return hand_result(arm, seed, [0.5] * 4, val=val, arch="unet", training={"augment": "flip" if arm == "flip_alternate" else arm, "alternate_flips": arm == "flip_alternate",
                                     "epochs": 2 if arm == "mirror" else 4}, factor="augment")

    results = {f"{arm}-s{seed}": run(arm, seed, shift + 0.01 * seed)
               for arm, shift in (("none", -0.2), ("flip", 0.0), ("mirror", 0.1), ("flip_alternate", 0.0)) for seed in (0, 1)}
    table = augmentation_chapter.both_orientations_table(results, n_resamples=200)
    assert list(table["comparison"]) == ["mirror - flip", "flip_alternate - flip"]  # none is not one of them
    assert set(table["split"]) == {"val"} and list(table["seeds_paired"]) == [2, 2]
    assert table["difference_seeds_tiles"].iloc[0] > 0.05 and table["difference_seeds_tiles"].iloc[1] == pytest.approx(0)
    assert list(table["p_holm"]) == sorted(table["p_holm"])  # Holm over these two comparisons only
    [finding] = augmentation_chapter.both_orientations_findings(table)
    assert finding.startswith("Both orientations of every tile against a random flip, on validation: mirror - flip +0.")
    assert "flip_alternate - flip +0.000" in finding and "(2 paired seeds, Holm p " in finding
    assert "flip_alternate scores" not in finding
    without_flip = {name: result for name, result in results.items() if not name.startswith("flip-")}
    assert augmentation_chapter.both_orientations_table(without_flip).empty
    assert augmentation_chapter.both_orientations_findings(augmentation_chapter.both_orientations_table(without_flip)) == []


def test_a_comparison_decides_only_with_its_interval_on_one_side_of_zero_and_holm_p_under_005():
    from salt_lib.chapters.choices import beats_recipe, decided

    table = pd.DataFrame({"comparison": ["a - r", "b - r", "c - r", "d - r", "e - r"],
                          "difference_seeds_tiles": [0.02, -0.02, 0.01, -0.01, float("nan")],
                          "difference_seeds_tiles_low": [0.01, -0.03, 0.001, -0.02, float("nan")],
                          "difference_seeds_tiles_high": [0.03, -0.01, 0.02, 0.001, float("nan")],
                          "p_holm": [0.01, 0.02, 0.20, 0.01, float("nan")]})
    assert list(decided(table, "higher")["comparison"]) == ["a - r"]  # c is above 0 but Holm p 0.20
    assert list(decided(table, "lower")["comparison"]) == ["b - r"]  # d's interval reaches above 0
    assert beats_recipe(table).equals(decided(table, "higher"))
    with pytest.raises(ValueError, match="'higher' or 'lower'"):
        decided(table, "same")
