"""The GPU machine's study driver (benchmarks/gpu_study.py): the packed tiles rebuild the same
Dataset as the folder they came from, so a result trained there is reused here."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_pack_data import pack  # benchmarks/, on sys.path through conftest
from gpu_study import compile_report, first_epoch_done, packed_dataset, planned_runs, run_folder, start_order, studies

from salt_lib.dataset import load_dataset
from salt_lib.evaluate import ids_digest


def test_packed_tiles_rebuild_the_dataset_of_their_folder(tmp_path):
    original = load_dataset(tmp_path / "data", synthetic_tiles=40, synthetic_seed=3)
    packed = packed_dataset(pack(tmp_path / "data", tmp_path / "packed.npz"))
    assert (packed.fingerprint, packed.split_hash) == (original.fingerprint, original.split_hash)
    for part in ("train", "val", "test"):
        mine, theirs = packed.part(part), original.part(part)
        assert ids_digest(mine.ids) == ids_digest(theirs.ids)  # the order results record and are checked against
        assert np.array_equal(mine.images, theirs.images) and np.array_equal(mine.masks, theirs.masks)
        assert np.allclose(mine.coverage, theirs.coverage)


def test_a_packed_split_that_does_not_match_its_hash_is_refused(tmp_path):
    path = pack(load_dataset(tmp_path / "data", synthetic_tiles=40, synthetic_seed=3).root, tmp_path / "packed.npz")
    with np.load(path) as stored:
        arrays = {key: stored[key] for key in stored.files}
    arrays["val_ids"], arrays["test_ids"] = arrays["test_ids"], arrays["val_ids"]  # val and test swapped
    np.savez(tmp_path / "swapped.npz", **arrays)
    with pytest.raises(ValueError, match="its split hashes to"):
        packed_dataset(tmp_path / "swapped.npz")


def test_planned_runs_name_every_arm_and_seed_longest_first():
    runs = planned_runs(["architecture:1,2", "policies:0"])
    assert runs[:4] == ["architecture:unet:1", "architecture:resunet:1", "architecture:unet:2", "architecture:resunet:2"]
    assert sorted(runs[4:]) == sorted(f"policies:{p}:0" for p in ("none", "mirror", "flip", "flip_geo", "flip_geo_intensity"))
    assert len(planned_runs(["policies"])) == 15  # the study's own seeds


def test_every_study_has_a_smoke_version_of_its_arms_with_equal_steps_and_no_committed_models():
    from salt_lib.study import STUDIES, check_equal_steps, differences_besides

    smoke = studies(smoke=True)
    assert set(smoke) == set(STUDIES)
    for name, study in smoke.items():
        assert study.model_paths == {} and [arm.name for arm in study.arms] == [arm.name for arm in STUDIES[name].arms]
        for arm in study.arms:
            settings = arm.settings(0)  # a valid TrainConfig: cycles divide the final stage
            assert settings["epochs"] <= 2 and settings["lovasz_epochs"] <= 4
            if arm.training.get("early_size_epochs"):  # PROGRESSIVE: its first stage still ends on the whole input
                assert 0 < settings["early_size_epochs"] < settings["epochs"]
        if study.factor == "augment":  # every policy the same optimizer steps (128 tiles: 4 batches of 32 a plain epoch)
            assert check_equal_steps(study, 128) == (8 if name == "policies" else 16), name
        planned = {arm.name: arm.planned_record(0, "f", "s") for arm in study.arms}
        assert differences_besides(planned, study.factor) == {}, name
    assert len(planned_runs(["long_schedule:0", "learning_rate_resunet:1"], smoke=True)) == 9


def test_the_seeds_of_an_arm_wait_for_its_first_seed_and_arms_start_side_by_side():
    planned = ["policies_final:flip:1", "policies_final:none:1", "policies_final:flip:2", "policies_final:none:2"]
    assert start_order(planned, set(), set()) == ["policies_final:flip:1", "policies_final:none:1"]
    started = {"policies_final:flip:1", "policies_final:none:1"}
    assert start_order(planned, started, set()) == []  # the leaders are still compiling
    assert start_order(planned, started, {"policies_final:none:1"}) == ["policies_final:none:2"]
    assert start_order(planned, started | {"policies_final:none:2"}, {"policies_final:flip:1", "policies_final:none:1"}) == [
        "policies_final:flip:2"]


def test_a_run_is_warm_once_its_history_has_a_row(tmp_path):
    spec = "long_schedule:cycles:0"
    assert not first_epoch_done(tmp_path, spec)
    history = run_folder(tmp_path, spec) / "unet-flip_geo-abc" / "history.csv"
    history.parent.mkdir(parents=True)
    history.write_text("epoch,stage,elapsed_seconds\n")
    assert not first_epoch_done(tmp_path, spec)  # the header is written before the first epoch ends
    history.write_text("epoch,stage,elapsed_seconds\n1,main,40.0\n")
    assert first_epoch_done(tmp_path, spec)
    assert not first_epoch_done(tmp_path, "long_schedule:cycles:1")  # each run has a folder of its own


def test_the_compile_report_gives_the_first_epochs_share_of_each_runs_wall_time(tmp_path):
    import json

    for name, elapsed in (("flip-s0", [380.0, 383.0, 386.0, 389.0]), ("flip-s1", [40.0, 42.0, 44.0, 46.0])):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "record.json").write_text(json.dumps({"versions": {"device": "gpu X"}, "wall_seconds": elapsed[-1] + 1}))
        (folder / "history.csv").write_text("epoch,elapsed_seconds\n" + "".join(f"{i + 1},{e}\n" for i, e in enumerate(elapsed)))
    report = compile_report(tmp_path).set_index("run")
    assert report.loc["flip-s0", "first_epoch_s"] == 380.0 and report.loc["flip-s0", "other_epochs_median_s"] == 3.0
    assert report.loc["flip-s0", "first_epoch_share"] == round(380 / 390, 2)
    assert report.loc["flip-s1", "first_epoch_share"] == round(40 / 47, 2) and report.loc["flip-s1", "device"] == "gpu X"


def test_the_committed_gpu_histories_show_compiling_took_most_of_each_run():
    from salt_lib.files import REPO

    report = compile_report(REPO / "results" / "seeds_policies")
    assert len(report) == 15 and (report["device"] == "gpu NVIDIA H200").all()
    assert (report["first_epoch_share"] > 0.8).all() and (report["other_epochs_median_s"] < 10).all()


def test_fold_runs_are_planned_one_per_fold_and_capped_by_the_files_that_return():
    assert planned_runs(["crossval_unet"], k=3) == ["crossval_unet:fold:0", "crossval_unet:fold:1", "crossval_unet:fold:2"]
    assert planned_runs(["crossval_resunet:1,3"]) == ["crossval_resunet:fold:1", "crossval_resunet:fold:3"]
    with pytest.raises(SystemExit, match="folds are 0..4"):
        planned_runs(["crossval_unet:5"])
    with pytest.raises(SystemExit, match="at most 6"):
        planned_runs(["crossval_unet"], k=10)


def test_fold_models_trained_by_the_driver_are_finished_runs_for_crossval_here(tmp_path):
    """A fold trained through the GPU driver's path (here on the CPU backend) and unpacked into the
    runs folder of ``crossval``: crossval finds it finished and trains only the other fold."""
    import argparse
    import json
    import tarfile

    from gpu_study import pack_folds, run_one

    from salt_lib.crossval import run_crossval
    from salt_lib.recipes import DEFAULT
    from salt_lib.records import load_record

    original = load_dataset(tmp_path / "data", synthetic_tiles=40, synthetic_seed=3)
    packed = pack(original.root, tmp_path / "packed.npz")
    tiny = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose", "precision": "float32"}
    training = {"epochs": 1, "lovasz_epochs": 0, "batch_size": 8, "augment": "none"}
    args = argparse.Namespace(data=packed, work=tmp_path / "work", smoke=False, limit=0, k=2, grouped=False, fold_seed=0,
                              overrides=json.dumps(tiny), training=json.dumps(training))
    run_one("crossval_unet:fold:1", args)
    out = tmp_path / "out"
    out.mkdir()
    assert pack_folds(tmp_path / "work", out, ["crossval_unet:fold:0", "crossval_unet:fold:1"]) == ["crossval_unet-fold1.tgz"]
    with tarfile.open(out / "crossval_unet-fold1.tgz") as archive:
        archive.extractall(tmp_path / "runs", filter="data")
    returned = (tmp_path / "runs" / "fold-1" / "history.csv").read_text()
    record = run_crossval("unet", original, tmp_path / "runs", tmp_path / "ensemble", 2, None, dict(DEFAULT.overrides) | tiny,
                          dict(DEFAULT.training) | training, command="test")
    assert (tmp_path / "runs" / "fold-1" / "history.csv").read_text() == returned  # found finished, not trained again
    assert (tmp_path / "runs" / "fold-0" / "history.csv").is_file()  # the missing fold trained here
    assert "train_folds('unet', fold 1 of 2)" in load_record(tmp_path / "ensemble" / "unet-fold1.keras")["provenance"]["command"]
    assert record["members"] == ["unet-fold0.keras", "unet-fold1.keras"] and len(record["val"]["per_fold"]) == 2
