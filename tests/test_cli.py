"""The command line: one clear line and exit status 2 for a user's mistake; a valid submission."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from salt_lib.rle import rle_decode
from salt_lib.synthetic import make_synthetic_tgs

REPO = Path(__file__).resolve().parents[1]
TINY = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}


def cli(*args, tmp_path=None):
    return subprocess.run([sys.executable, "-m", "salt_lib", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300)


def assert_clean_error(result, phrase):
    assert result.returncode == 2, result.stderr[-1500:]
    assert "Traceback" not in result.stderr
    assert phrase in result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A synthetic data set and a tiny model trained on it for one epoch."""
    from salt_lib.data import load_tgs
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    base = tmp_path_factory.mktemp("cli")
    root = base / "tgs"
    make_synthetic_tgs(root, n_train=40, n_test=37, seed=5)
    data = load_tgs(root, cache_dir=base / "cache")
    fit(build_model("unet", "lite", TINY), data.subset(data.ids[:30]), data.subset(data.ids[30:]),
        TrainConfig(epochs=1, batch_size=8), base / "run", verbose=False)
    return root, base / "run" / "best.keras"


def test_submission_has_one_row_per_image_in_competition_format(trained, tmp_path):
    root, model = trained
    out = tmp_path / "sub" / "submission.csv"
    result = cli("predict", "--model", model, "--images", root / "test" / "images", "--out", out, "--batch", "16")
    assert result.returncode == 0, result.stderr[-2000:]
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["id", "rle_mask"]
    expected_ids = sorted(p.stem for p in (root / "test" / "images").glob("*.png"))
    assert table["id"].tolist() == expected_ids  # every image once, ids from the file names
    for rle in table["rle_mask"]:
        mask = rle_decode(rle)  # valid, inside the tile
        assert (rle == "") == (not mask.any())


@pytest.fixture(scope="module")
def second_model(trained, tmp_path_factory):
    """Another tiny network (a ResUNet on 64x64 resized tiles) on the same data, for an ensemble."""
    from salt_lib.data import load_tgs
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    root, _ = trained
    base = tmp_path_factory.mktemp("cli-second")
    data = load_tgs(root, cache_dir=base / "cache")
    fit(build_model("resunet", "lite", {"filters": 4, "depth": 2, "input_size": 64, "geometry": "resize"}),
        data.subset(data.ids[:30]), data.subset(data.ids[30:]), TrainConfig(epochs=1, batch_size=8), base / "run", verbose=False)
    return base / "run" / "best.keras"


def test_evaluate_scores_several_models_as_one(trained, second_model):
    root, model = trained
    result = cli("evaluate", "--model", model, second_model, "--data", root, "--split", "test")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["models"] == [str(model), str(second_model)]
    for key in ("tgs_score", "thesis_iou_metric", "iou", "dice", "empty_tile_accuracy"):
        assert 0 <= report[key] <= 1
    assert 0.05 <= report["threshold"] <= 0.95  # chosen on validation for the average


def test_predict_with_several_models_writes_a_valid_submission(trained, second_model, tmp_path):
    root, model = trained
    out = tmp_path / "submission.csv"
    images = root / "test" / "images"
    missing_data = cli("predict", "--model", model, second_model, "--images", images, "--out", out)
    assert_clean_error(missing_data, "pass --data")
    result = cli("predict", "--model", model, second_model, "--data", root, "--images", images, "--out", out, "--batch", "16")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "the mean of 2 models" in result.stdout
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["id"].tolist() == sorted(p.stem for p in images.glob("*.png"))
    for rle in table["rle_mask"]:
        assert (rle == "") == (not rle_decode(rle).any())


def test_evaluate_prints_all_scores(trained):
    root, model = trained
    result = cli("evaluate", "--model", model, "--data", root, "--split", "val")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    for key in ("tgs_score", "thesis_iou_metric", "iou", "dice", "empty_tile_accuracy"):
        assert 0 <= report[key] <= 1
    assert report["split"] == "val"


def test_export_scores_the_test_split_and_copies_model_json_and_history(trained, tmp_path):
    from salt_lib.dataset import load_dataset

    root, model = trained
    out = tmp_path / "models" / "unet_tiny.keras"
    result = cli("export", "--run", model.parent, "--data", root, "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(out.with_name("unet_tiny.config.json").read_text())
    assert record["test"]["tiles"] == len(load_dataset(root, cache_dir=tmp_path / "cache").test)
    assert 0 <= record["test"]["tgs_score"] <= 1
    assert record["exported_from"].endswith("run") and not Path(record["exported_from"]).is_absolute()  # no machine path
    assert len(pd.read_csv(out.with_name("unet_tiny.history.csv"))) == 1


def test_a_split_file_made_for_other_tiles_is_one_line_and_exit_2(trained, tmp_path):
    root, model = trained
    split_file = tmp_path / "other.csv"
    split_file.write_text("id,split\nnot-a-tile,train\n")
    result = cli("evaluate", "--model", model, "--data", root, "--split-file", split_file)
    assert_clean_error(result, f"{split_file}: splits 1 tiles")
    error = result.stderr[result.stderr.index("error: "):]  # after TensorFlow's start-up log
    assert len(error.strip().splitlines()) == 1 and "Delete" in error
    assert split_file.read_text() == "id,split\nnot-a-tile,train\n"


def test_export_of_a_folder_that_is_no_run(trained, tmp_path):
    root, _ = trained
    assert_clean_error(cli("export", "--run", tmp_path, "--data", root, "--out", tmp_path / "m.keras"), "no best.keras")


def test_missing_model_file(trained, tmp_path):
    root, _ = trained
    result = cli("predict", "--model", tmp_path / "nope.keras", "--images", root / "test" / "images", "--out", tmp_path / "s.csv")
    assert_clean_error(result, "no such model file")


def test_a_file_that_is_no_model_fails_and_leaves_no_submission_behind(trained, tmp_path):
    root, _ = trained
    broken = tmp_path / "not_a_model.keras"
    broken.write_bytes(b"these bytes are no Keras archive")
    out = tmp_path / "new" / "sub.csv"
    result = cli("predict", "--model", broken, "--images", root / "test" / "images", "--out", out)
    assert result.returncode != 0
    assert not out.exists() and not out.parent.exists(), "a failed predict leaves no (empty) CSV a user might upload"
    assert list(tmp_path.iterdir()) == [broken]


def test_a_failed_predict_keeps_an_earlier_submission_as_it_was(trained, tmp_path):
    root, _ = trained
    broken = tmp_path / "not_a_model.keras"
    broken.write_bytes(b"these bytes are no Keras archive")
    out = tmp_path / "sub.csv"
    out.write_text("id,rle_mask\nearlier,1 5\n")
    assert cli("predict", "--model", broken, "--images", root / "test" / "images", "--out", out).returncode != 0
    assert out.read_text() == "id,rle_mask\nearlier,1 5\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["not_a_model.keras", "sub.csv"]  # no partial file


def test_folder_without_pngs(trained, tmp_path):
    _, model = trained
    (tmp_path / "empty").mkdir()
    assert_clean_error(cli("predict", "--model", model, "--images", tmp_path / "empty", "--out", tmp_path / "s.csv"), "no PNG images")


def test_tile_of_wrong_size(trained, tmp_path):
    _, model = trained
    (tmp_path / "imgs").mkdir()
    Image.fromarray(np.zeros((64, 80), np.uint8)).save(tmp_path / "imgs" / "odd.png")
    assert_clean_error(cli("predict", "--model", model, "--images", tmp_path / "imgs", "--out", tmp_path / "s.csv"), "expected 101x101")


def test_unwritable_output_path(trained, tmp_path):
    root, model = trained
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("predict", "--model", model, "--images", root / "test" / "images", "--out", blocker / "sub.csv")
    assert_clean_error(result, "cannot write the submission")


def test_training_on_a_missing_folder(tmp_path):
    assert_clean_error(cli("train", "--data", tmp_path / "nowhere", "--arch", "unet", "--out", tmp_path / "run"), "no such folder")


# TensorFlow's start-up noise: absl's preamble, the oneDNN notice, CUDA probes, CPU-feature lines.
TENSORFLOW_NOISE = ("absl::InitializeLog", "oneDNN custom operations", "Could not find cuda drivers",
                    "cudart_stub", "cuda_", "cpu_feature_guard", "rebuild TensorFlow with the appropriate compiler flags")


def test_a_command_that_loads_tensorflow_prints_none_of_its_start_up_noise(tmp_path):
    """`predict` with a committed model imports Keras on TensorFlow; its output carries only our lines
    (the environment is the user's: TF_CPP_MIN_LOG_LEVEL is not set beforehand)."""
    import os

    make_synthetic_tgs(tmp_path / "tgs", n_train=4, n_test=3, seed=1)
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")}
    out = tmp_path / "submission.csv"
    result = subprocess.run([sys.executable, "-m", "salt_lib", "predict", "--model", REPO / "models" / "unet_lite.keras",
                             "--images", tmp_path / "tgs" / "test" / "images", "--out", out, "--no-tta"],
                            cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "wrote 3 rows" in result.stdout
    output = result.stdout + result.stderr
    assert "tensorflow" in subprocess.run([sys.executable, "-c", "import keras; print(keras.backend.backend())"],
                                          capture_output=True, text=True, env=env).stdout
    noisy = [line for line in output.splitlines() if any(marker in line for marker in TENSORFLOW_NOISE)]
    assert not noisy, noisy


def test_a_command_shows_progress_while_it_runs_and_leaves_no_handler_behind(tmp_path, capsys):
    import logging

    from salt_lib import cli

    logger = logging.getLogger("salt_lib.study")
    before = list(logging.getLogger("salt_lib").handlers)
    with cli.progress_on_stdout():
        logger.info("policies [1/15] none-s0: result reused")
    assert capsys.readouterr().out == "policies [1/15] none-s0: result reused\n"
    assert cli.main(["train", "--data", str(tmp_path / "nowhere"), "--arch", "unet", "--out", str(tmp_path / "run")]) == 2
    assert logging.getLogger("salt_lib").handlers == before
    logger.info("not shown: no command is running")
    assert capsys.readouterr().out == ""


def test_crossval_writes_an_ensemble_folder_that_predict_serves_without_data(trained, tmp_path):
    root, _ = trained
    training = json.dumps({"epochs": 1, "lovasz_epochs": 0, "batch_size": 8, "augment": "none"})
    overrides = json.dumps(TINY | {"precision": "float32"})
    result = cli("crossval", "--data", root, "--k", "2", "--grouped", "--overrides", overrides, "--training", training,
                 "--runs", tmp_path / "runs", "--out", tmp_path / "ensemble")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "out of fold" in result.stdout and "the test split is not scored here" in result.stdout
    members = sorted((tmp_path / "ensemble").glob("*.keras"))
    assert len(members) == 2 and (tmp_path / "ensemble" / "ensemble.json").is_file()
    out = tmp_path / "submission.csv"
    result = cli("predict", "--model", *members, "--images", root / "test" / "images", "--out", out, "--batch", "16")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "the mean of 2 models" in result.stdout
    assert len(pd.read_csv(out, dtype=str, keep_default_na=False)) == len(list((root / "test" / "images").glob("*.png")))
    assert_clean_error(cli("crossval", "--data", tmp_path / "nowhere", "--out", tmp_path / "e2"), "nowhere")


def test_train_starts_from_a_named_recipe_and_the_flags_change_it(tmp_path, monkeypatch):
    import salt_lib.evaluate as evaluate
    import salt_lib.experiments as experiments
    from salt_lib import cli as command_line
    from salt_lib.recipes import FAST

    root = tmp_path / "tgs"
    make_synthetic_tgs(root, n_train=20, n_test=2, seed=3)
    seen = {}

    def train_run(arch, dataset, out, preset, overrides, training, command):
        seen.update(overrides=overrides, training=training)
        raise SystemExit(0)  # stop before anything trains

    monkeypatch.setattr(experiments, "train_run", train_run)
    monkeypatch.setattr(evaluate, "evaluate_model", None)
    with pytest.raises(SystemExit):
        command_line.main(["train", "--data", str(root), "--arch", "unet", "--recipe", "fast", "--epochs", "3",
                           "--overrides", '{"filters": 8}', "--out", str(tmp_path / "run")])
    assert seen["training"] == FAST.training | {"epochs": 3}
    assert seen["overrides"] == FAST.overrides | {"filters": 8}
    assert_clean_error(cli("train", "--data", root, "--arch", "unet", "--recipe", "quick", "--out", tmp_path / "r2"), "--recipe")
