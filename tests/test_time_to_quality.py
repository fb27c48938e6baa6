"""The time-to-quality benchmark: its rules on hand-made curves, and the committed result
(benchmarks/results/time_to_quality.json) agrees with its own curves and with the README."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench_time_to_quality import (ARMS, BLOCK_END, BLOCK_START, LEVELS, NOT_RECORDED, costs_on, curve,  # benchmarks/
                                   epoch_costs, first_reaching, lever_rows, minutes_source, other_machines,
                                   readme_blocks, recipe_of, recipe_rows, recipes_table, run_machine, sentence, stage_signature,
                                   timings_by_cpu)

from salt_lib.recipes import DEFAULT, variant

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "time_to_quality.json"


def test_first_reaching_takes_the_first_epoch_at_or_above_the_level():
    history = pd.DataFrame({"val_tgs_score": [0.5, 0.75, None, 0.7, 0.8], "minutes": [1.0, 2.0, 2.5, 3.0, 4.0]})
    assert first_reaching(history, 0.75, "minutes") == 2.0  # reached exactly counts; a later dip does not undo it
    assert first_reaching(history, 0.78, "minutes") == 4.0  # an epoch that was not scored never counts
    assert first_reaching(history, 0.9, "minutes") is None


def test_sentence_says_not_reached():
    result = {"seed": 2, "arms": {"default": {"reach": {"0.78": {"minutes": 44.6}}},
                                  "fast": {"reach": {"0.78": {"minutes": None}}}}}
    assert sentence(result) == "minutes to reach 0.78 on validation (lite U-Net, seed 2): default 45 min, fast not reached"
    result["cpu"] = "cpu Intel Xeon (2 cores, native bfloat16)"  # the CPU whose timings give the minutes
    assert sentence(result) == ("minutes to reach 0.78 on validation (lite U-Net, seed 2; Intel Xeon (2 cores, native "
                                "bfloat16)): default 45 min, fast not reached")
    result["arms"]["stack_g"] = {"reach": {"0.78": {"minutes": None}}}  # an arm that is a recipe by another name
    assert sentence(result).endswith("fast not reached, stack_g (the recipe progressive) not reached")
    assert recipe_of("stack_g") == "progressive" and recipe_of("fast") is None and recipe_of("stack_f") is None


def test_minutes_from_idle_costs_count_training_every_epoch_and_validation_when_scored():
    history = pd.DataFrame({"stage": ["main", "main", "lovasz"], "val_tgs_score": [None, 0.6, 0.7],
                            "elapsed_seconds": [100.0, 250.0, 400.0]})
    costs = {"main": {"train_seconds": 24.0, "val_seconds": 6.0}, "lovasz": {"train_seconds": 54.0, "val_seconds": 6.0}}
    timed = curve(history, train_tiles=10, training={"augment": "flip"}, costs=costs)
    assert timed["minutes"].tolist() == pytest.approx([0.4, 0.9, 1.9])
    assert timed["images_seen"].tolist() == [10, 20, 30]
    own = curve(history, train_tiles=10, training={"augment": "mirror"})  # the mirror doubles an epoch
    assert own["minutes"].tolist() == pytest.approx([100 / 60, 250 / 60, 400 / 60]) and own["images_seen"].iloc[-1] == 60


def test_epoch_costs_split_training_and_validation_of_the_scored_epochs():
    history = pd.DataFrame({"stage": ["main"] * 4, "train_seconds": [10.0, 10.0, 10.0, 12.0],
                            "val_seconds": [0.1, 4.0, 0.1, 4.0], "val_tgs_score": [None, 0.5, None, 0.6]})
    assert epoch_costs(history) == {"main": {"train_seconds": 10.0, "val_seconds": 4.0}}
    older = pd.DataFrame({"stage": ["main"] * 2, "train_seconds": [10.0, 10.0], "val_tgs_score": [0.5, 0.6],
                          "elapsed_seconds": [13.0, 26.0]})  # no val_seconds column: elapsed less training
    assert epoch_costs(older) == {"main": {"train_seconds": 10.0, "val_seconds": 3.0}}


def test_arms_that_train_the_same_input_share_a_timing():
    signature = {name: stage_signature("unet", ARMS[name], "main") for name in ARMS}
    assert signature["short"] == signature["default"] == signature["short+warmup"] == signature["short+val_every"]
    assert signature["short+early_crop"] == signature["stack_a"] != signature["short"] != signature["stack_b"]
    assert stage_signature("unet", ARMS["stack_a"], "lovasz") == stage_signature("unet", ARMS["default"], "lovasz")
    assert signature["short+ema"] != signature["short"]  # the average costs every step a little: timed on its own
    lovasz = {name: stage_signature("unet", ARMS[name], "lovasz") for name in ARMS}
    assert lovasz["short+lovasz_crop"] == lovasz["stack_c"] != lovasz["short"] == lovasz["stack_b"]
    assert lovasz["short+lovasz_crop"] == stage_signature("unet", ARMS["stack_c"], "main").replace('"bce_dice"', '"lovasz"')
    assert signature["short+batch_size"] != signature["short"]  # a bigger batch is timed on its own
    assert signature["default_fp32"] != signature["default"]  # and float32 apart from bfloat16
    assert lovasz["default_fp32"] != lovasz["default"] != lovasz["narrow_fp32"] != lovasz["default_fp32"]


def test_every_arm_but_the_references_is_a_variant_of_one_recipe_on_one_factor():
    """The lever arms each add one setting to `short` (DEFAULT cut to FAST's epochs)."""
    short = ARMS["short"].training
    for name, recipe in ARMS.items():
        if name.startswith("short+"):
            changed = {key for key in set(recipe.training) | set(short) if recipe.training.get(key) != short.get(key)}
            lever = name.removeprefix("short+")
            # a learning rate may follow its lever (the warm-up's peak, the batch's scaling)
            assert changed - {"learning_rate", "lovasz_learning_rate"} == {
                {"warmup": "warmup_epochs", "ema": "ema_momentum"}.get(lever, lever)}, (name, changed)
            assert recipe.overrides == ARMS["short"].overrides


def test_the_first_stages_epochs_on_the_whole_input_are_timed_as_the_whole_inputs_stage():
    from bench_time_to_quality import WHOLE, arm_stages, epoch_costs, timing_stages

    stack_g, training = ARMS["stack_g"], ARMS["stack_g"].training
    assert arm_stages(training) == ("main", WHOLE, "lovasz") and arm_stages(ARMS["stack_f"].training) == ("main", "lovasz")
    # the 64 part is timed as stack_f's first stage, the rest as DEFAULT's, the Lovasz stage as DEFAULT's
    assert stage_signature("unet", stack_g, "main") == stage_signature("unet", ARMS["stack_f"], "main")
    assert stage_signature("unet", stack_g, WHOLE) == stage_signature("unet", ARMS["default"], "main")
    assert stage_signature("unet", stack_g, "lovasz") == stage_signature("unet", ARMS["default"], "lovasz")
    history = pd.DataFrame({"stage": ["main"] * 3 + ["lovasz"] * 2, "val_tgs_score": [np.nan, 0.5, 0.6, 0.7, 0.72],
                            "train_seconds": [30.0, 30.0, 110.0, 85.0, 85.0], "val_seconds": [0.0, 10.0, 10.0, 10.0, 10.0],
                            "elapsed_seconds": [30.0, 70.0, 190.0, 285.0, 380.0]})
    small = {"early_size": 64, "early_size_epochs": 2}
    assert timing_stages(history, small).tolist() == ["main", "main", WHOLE, "lovasz", "lovasz"]
    assert timing_stages(history, {"early_size": 64}).tolist() == history["stage"].tolist()
    costs = epoch_costs(history, small)
    assert costs["main"]["train_seconds"] == 30.0 and costs[WHOLE]["train_seconds"] == 110.0
    minutes = curve(history, 100, small, costs)["minutes"]
    assert minutes.iloc[-1] * 60 == pytest.approx(30 + 40 + 120 + 95 + 95)


def test_the_narrow_arm_changes_only_the_networks_width_and_precision_and_is_timed_apart():
    narrow, default = ARMS["narrow_fp32"], ARMS["default"]
    assert narrow.training == default.training
    changed = {key for key in set(narrow.overrides) | set(default.overrides) if narrow.overrides.get(key) != default.overrides.get(key)}
    assert changed == {"filters", "precision"} and narrow.overrides["filters"] == 8 and narrow.overrides["precision"] == "float32"
    for stage in ("main", "lovasz"):
        assert stage_signature("unet", narrow, stage) != stage_signature("unet", default, stage)


def test_each_lever_and_stack_is_set_against_the_schedule_it_changes():
    def arm(best, finished, minutes):
        return {"best_val_tgs_score": best, "final_val_tgs_score_tta": finished, "minutes": minutes}

    result = {"arms": {"default": arm(0.78, 0.79, 45.0), "short": arm(0.74, 0.75, 17.5),
                       "short+warmup": arm(0.73, 0.745, 17.6), "stack_a": arm(0.71, 0.72, 15.7)}}
    rows = {row["arm"]: row for row in lever_rows(result)}
    assert set(rows) == {"short+warmup", "stack_a"}  # the references are not levers
    assert rows["short+warmup"]["best_change"] == pytest.approx(-0.01) and rows["stack_a"]["minutes_change"] == pytest.approx(-1.8)
    assert rows["stack_a"]["finished_change"] == pytest.approx(-0.03) and rows["stack_a"]["seeds"] == 1
    # minutes of another CPU than the reference's are not set against it
    result["arms"]["stack_c"] = arm(0.71, 0.72, 11.8) | {"cpu": "cpu AMD EPYC (2 cores, native bfloat16)"}
    rows = {row["arm"]: row for row in lever_rows(result)}
    assert rows["stack_c"]["minutes_change"] is None and rows["stack_c"]["best_change"] == pytest.approx(-0.03)
    assert lever_rows({"arms": {"default": arm(0.78, 0.79, 45.0)}}) == []


@pytest.fixture(scope="module")
def committed() -> dict:
    assert RESULT.is_file(), f"{RESULT} is committed (python benchmarks/bench_time_to_quality.py makes it)"
    return json.loads(RESULT.read_text())


def test_committed_result_agrees_with_its_curves(committed):
    assert {"thesis", "default"} <= set(committed["arms"]) <= set(ARMS)
    assert committed["split_hash"] == "ab5ecfcbedce"  # the project's split of the real tiles
    for name, arm in committed["arms"].items():
        curve_ = pd.DataFrame(arm["curve"])
        assert not arm["cut_by_time"], f"{name}: a time-capped run is no time-to-quality figure"
        assert arm["training"]["seed"] == committed["seed"]
        assert "CONTENDED" not in arm["minutes_from"], f"{name}: its minutes are not from idle cores"
        assert curve_["minutes"].is_monotonic_increasing and curve_["images_seen"].is_monotonic_increasing
        assert arm["best_val_tgs_score"] == pytest.approx(curve_["val_tgs_score"].max(), abs=1e-4)
        for level in LEVELS:
            reach = arm["reach"][f"{level:.2f}"]
            for column in ("minutes", "images"):
                expected = first_reaching(curve_, level, "minutes" if column == "minutes" else "images_seen")
                assert reach[column] == (None if expected is None else pytest.approx(expected, abs=1e-3)), (name, level, column)


def test_the_readmes_show_the_committed_result(committed):
    for name, text in readme_blocks(committed).items():
        content = (REPO / name).read_text()
        assert f"{BLOCK_START}\n{text}\n{BLOCK_END}" in content, f"{name}: rerun the bench with --readme"
    assert sentence(committed) in (REPO / "README.md").read_text()
    assert (REPO / "benchmarks" / "results" / "time_to_quality.png").is_file()


def test_the_predict_benchmark_serves_committed_models_and_reads_its_result_as_a_table():
    from bench_predict import ARMS as PREDICT_ARMS, table  # benchmarks/

    for models in PREDICT_ARMS.values():
        assert all((REPO / model).is_file() for model in models)
    assert len(PREDICT_ARMS["ensemble"]) == 3 and PREDICT_ARMS["single"][0] in PREDICT_ARMS["ensemble"]
    result = {"tiles": 18000, "arms": {"single": {"models": ["a"], "seconds": 312.4, "peak_rss_mb": 1024.0},
                                       "ensemble": {"models": ["a", "b", "c"], "seconds": 61.0, "peak_rss_mb": 1536.0}}}
    assert table(result).splitlines()[2:] == ["| U-Net (one model) | 1 | 5 min 12 s | 1.00 GB |",
                                              "| U-Net seed ensemble (3 models) | 3 | 1 min 01 s | 1.50 GB |"]


def test_the_benchmarks_readme_shows_the_committed_predict_result():
    from bench_predict import table  # benchmarks/

    result = json.loads((REPO / "benchmarks" / "results" / "predict.json").read_text())
    assert result["times"] == "idle cores" and result["tiles"] == 18000
    assert all(arm["check"].startswith(f"{name}.csv: header id,rle_mask; 18000 rows") for name, arm in result["arms"].items())
    assert table(result) in (REPO / "benchmarks" / "README.md").read_text()


def test_timings_name_their_machine_and_those_of_another_are_pointed_out():
    timings = {"a": {"train_seconds": 38.4, "cpu": "cpu AMD EPYC (2 cores, native bfloat16)"},
               "b": {"train_seconds": 50.6}}  # from before timings named their machine
    assert other_machines(timings, "cpu AMD EPYC (2 cores, native bfloat16)") == {NOT_RECORDED}
    assert other_machines(timings, "cpu Intel Xeon (2 cores)") == {NOT_RECORDED, "cpu AMD EPYC (2 cores, native bfloat16)"}
    assert other_machines({}, "cpu Intel Xeon (2 cores)") == set()


AMD, XEON = "cpu AMD EPYC (2 cores, native bfloat16)", "cpu Intel Xeon (2 cores, native bfloat16)"


def test_a_stage_keeps_one_timing_per_cpu_and_older_single_timings_are_read_as_their_cpus():
    stored = {"a": {"train_seconds": 38.4, "val_seconds": 6.1, "cpu": AMD},
              "b": {"train_seconds": 50.6, "val_seconds": 5.6},  # before timings named their CPU
              "c": {AMD: {"train_seconds": 9.6, "val_seconds": 6.2}, XEON: {"train_seconds": 22.0, "val_seconds": 12.0}}}
    by_cpu = timings_by_cpu(stored)
    assert set(by_cpu["a"]) == {AMD} and set(by_cpu["b"]) == {NOT_RECORDED} and set(by_cpu["c"]) == {AMD, XEON}
    assert costs_on(by_cpu, {"main": "c", "lovasz": "a"}, AMD) == {"main": by_cpu["c"][AMD], "lovasz": by_cpu["a"][AMD]}
    assert costs_on(by_cpu, {"main": "c", "lovasz": "a"}, XEON) is None  # the Lovasz stage was never timed there


def test_an_arms_minutes_come_from_one_cpu_and_say_which():
    timings = {"main": {AMD: {"train_seconds": 9.6, "val_seconds": 6.2}, XEON: {"train_seconds": 22.0, "val_seconds": 12.0}},
               "lovasz": {AMD: {"train_seconds": 35.0, "val_seconds": 4.9}}}
    both = {"main": "main", "lovasz": "lovasz"}
    # an idle run on the CPU asked for is its own timing
    assert minutes_source(True, XEON, timings, both, XEON) == (None, "the run itself, on idle cores", XEON)
    # a contended run takes the timings of the CPU asked for, when all its stages were timed there ...
    costs, source, cpu = minutes_source(False, XEON, timings, {"main": "main"}, XEON)
    assert costs == {"main": timings["main"][XEON]} and cpu == XEON and "idle cores" in source
    # ... else those of one other CPU that timed them all, never a mix of two
    costs, source, cpu = minutes_source(False, XEON, timings, both, XEON)
    assert cpu == AMD and costs == {"main": timings["main"][AMD], "lovasz": timings["lovasz"][AMD]}
    costs, source, cpu = minutes_source(False, XEON, {"main": timings["main"]}, both, XEON)
    assert costs is None and "CONTENDED" in source


def test_progressive_resizing_is_timed_apart_from_the_whole_input():
    signature = {name: stage_signature("unet", ARMS[name], "main") for name in ARMS}
    assert signature["short+early_size"] != signature["short"] != signature["short+early_crop"]
    assert signature["short+early_size"] == signature["stack_e"]
    assert stage_signature("unet", ARMS["stack_e"], "lovasz") == stage_signature("unet", ARMS["default"], "lovasz")


def test_a_faster_recipe_is_set_against_the_default_by_network_from_the_records(tmp_path):
    def record(folder, arm, seed, val):
        run = tmp_path / folder / f"{arm}-s{seed}"
        run.mkdir(parents=True)
        arch = "resunet" if "resunet" in folder else "unet"
        (run / "record.json").write_text(json.dumps({"seed": seed, "arm": arm, "arch": arch, "preset": "lite", "val": {"tgs_score": val},
                                                     "study": {"factor": "recipe"}}))
        # per-tile scores on 40 validation tiles whose mean is ``val``
        scores = np.full(40, val) + np.tile([-0.01, 0.01], 20)
        pd.DataFrame({"id": [f"t{i}" for i in range(40)], "split": "val", "position": range(40), "tgs_score": scores}).to_csv(
            run / "tiles.csv", index=False)

    for seed, val in ((0, 0.782), (1, 0.785), (2, 0.788)):
        record("seeds_architecture", "unet", seed, val)
    record("seeds_architecture", "resunet", 0, 0.775)
    record("seeds_recipe_fast_unet", "fast", 2, 0.783)
    record("seeds_recipe_fast_unet", "default", 2, 0.788)  # the study's reference arm is not the recipe
    rows = recipe_rows(tmp_path)
    assert len(rows) == 1  # the ResUNet has no FAST run yet
    assert rows[0]["seeds"] == [2] and rows[0]["default_seeds"] == [0, 1, 2]
    assert rows[0]["difference"] == pytest.approx(0.783 - 0.785) and rows[0]["within"]
    record("seeds_recipe_fast_resunet", "fast", 0, 0.770)
    rows = recipe_rows(tmp_path)
    assert [row["network"] for row in rows] == ["unet", "resunet"] and not rows[1]["within"]  # 0.005 below
    assert rows[0]["by_seed"] == {2: 0.783} and rows[1]["default_by_seed"] == {0: 0.775}
    # paired on the same tiles only where the study also scored DEFAULT's model of that seed
    assert rows[0]["paired"]["seeds"] == [2] and rows[0]["paired"]["difference"] == pytest.approx(0.783 - 0.788)
    assert rows[1]["paired"] is None
    assert recipes_table({"fast": []}) == ""
    # one table of every faster recipe: by network, DEFAULT's seeds first, then each recipe's
    assert "| fast |" in readme_blocks(RESULT_STUB, tmp_path)["benchmarks/README.md"]
    assert "| progressive |" not in readme_blocks(RESULT_STUB, tmp_path)["benchmarks/README.md"]
    record("seeds_recipe_progressive_resunet", "progressive", 2, 0.776)
    table = recipes_table({"fast": recipe_rows(tmp_path, "fast"), "progressive": recipe_rows(tmp_path, "progressive")})
    assert table.splitlines()[2:] == [
        "| U-Net | default | 0: 0.7820, 1: 0.7850, 2: 0.7880 | 0.7850 | | | |",
        "| U-Net | fast | 2: 0.7830 | 0.7830 | -0.0020 | yes | seed 2: -0.0050 [-0.0050, -0.0050] |",
        "| ResUNet | default | 0: 0.7750 | 0.7750 | | | |",
        "| ResUNet | fast | 0: 0.7700 | 0.7700 | -0.0050 | no | - |",
        "| ResUNet | progressive | 2: 0.7760 | 0.7760 | +0.0010 | yes | - |"]
    assert table in readme_blocks(RESULT_STUB, tmp_path)["benchmarks/README.md"]


RESULT_STUB = {"seed": 2, "cpu": "cpu X (2 cores)", "arms": {}}


def test_the_progressive_recipe_is_the_arm_stack_g_that_the_benchmark_measured():
    from salt_lib.recipes import PROGRESSIVE, RECIPES

    assert RECIPES["progressive"] is PROGRESSIVE
    assert (PROGRESSIVE.overrides, PROGRESSIVE.training) == (ARMS["stack_g"].overrides, ARMS["stack_g"].training)
    assert PROGRESSIVE.training["epochs"] == DEFAULT.training["epochs"] and PROGRESSIVE.training["early_size_epochs"] < 22


def test_the_mirror_policy_doubling_the_epochs_is_timed_apart():
    thesis = json.loads(stage_signature("unet", ARMS["thesis"], "main"))
    assert thesis["augment"] == "mirror"  # time_stage trains with it, so an epoch holds both copies
    mirrored = variant(ARMS["default"], "default+mirror", augment="mirror")
    assert stage_signature("unet", mirrored, "main") != stage_signature("unet", ARMS["default"], "main")
    assert "augment" not in json.loads(stage_signature("unet", ARMS["default"], "main"))  # stored timings keep their keys


def test_a_run_resumed_on_another_cpu_is_no_timing_of_one():
    one = {"devices": [{"device": "cpu A", "first_epoch": 1, "last_epoch": 44}]}
    assert run_machine(one) == "cpu A"
    assert run_machine({"versions": {"device": "cpu A"}}) == "cpu A" and run_machine({}) == NOT_RECORDED
    two = {"devices": [{"device": None, "first_epoch": 1, "last_epoch": 20},
                       {"device": "cpu B", "first_epoch": 21, "last_epoch": 44}]}
    assert run_machine(two) == f"several machines: {NOT_RECORDED} (epochs 1-20); cpu B (epochs 21-44)"
    # its own seconds are then never the minutes of --idle: epochs x a timing of one CPU, or none
    assert minutes_source(False, run_machine(two), {}, {}, "cpu B")[1].startswith("the run itself, on CONTENDED")
