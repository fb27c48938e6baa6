"""Training end to end on tiny synthetic data: bookkeeping, provenance, resume after kill -9."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salt_lib.data import TGSData
from salt_lib.synthetic import make_synthetic_tgs, synthesize_tiles

REPO = Path(__file__).resolve().parents[1]
# A tiny native-101 U-Net (4 filters, 2 poolings): a few seconds per run on a CPU.
TINY = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}


def tiles(n, seed):
    images, masks, depths = synthesize_tiles(n, seed=seed)
    return TGSData(ids=np.array([f"t{seed}_{i}" for i in range(n)]), images=images, masks=masks,
                   depths=depths, coverage=masks.reshape(n, -1).mean(axis=1))


def test_fit_records_history_best_model_and_provenance(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, compute_device, fit

    model = build_model("unet", "lite", TINY)
    config = TrainConfig(epochs=2, batch_size=8, augment="flip", lovasz_epochs=1, patience=5)
    history = fit(model, tiles(32, 1), tiles(16, 2), config, tmp_path / "run",
                  provenance={"data_fingerprint": "abc"}, verbose=False)
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["stage"].tolist() == ["main", "main", "lovasz"]
    assert history["val_tgs_score"].between(0, 1).all()
    record = json.loads((tmp_path / "run" / "best.config.json").read_text())
    for key in ("arch", "preset", "overrides", "training", "provenance", "threshold", "min_size", "val",
                "wall_seconds", "versions", "git_commit", "epochs_trained", "parameters"):
        assert key in record, key
    assert record["provenance"]["data_fingerprint"] == "abc"
    assert record["cut_by_time"] is False and not history["cut_by_time"].any()  # the epoch budget ended it
    assert record["training"]["loss"] == "bce_dice" and record["epochs_trained"] == 3
    assert record["devices"] == [{"device": compute_device(), "first_epoch": 1, "last_epoch": 3}]  # one machine
    assert 0 <= record["val"]["tgs_score"] <= 1 and record["val"]["tiles"] == 16
    assert 0.05 <= record["threshold"] <= 0.95
    reloaded = load_model(tmp_path / "run" / "best.keras", compile=False)
    assert reloaded.salt_config["threshold"] == record["threshold"]
    # Finished runs are not retrained: a second call returns the same history at once, also with
    # another worker count or budget (the run key ignores exactly those).
    again = fit(build_model("unet", "lite", TINY), tiles(32, 1), tiles(16, 2), dataclasses.replace(config, workers=2, minutes=30),
                tmp_path / "run", provenance={"data_fingerprint": "abc"}, verbose=False)
    assert again.equals(history)


def test_a_time_cap_that_cuts_the_run_says_so_in_output_history_and_record(tmp_path, capsys):
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    # 0.01 minutes (0.6 s) is less than one epoch: the cap stops the run after its first epoch.
    config = TrainConfig(epochs=4, batch_size=8, minutes=0.01)
    history = fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    assert history["epoch"].tolist() == [1]
    assert history["cut_by_time"].tolist() == [True]
    record = json.loads((tmp_path / "run" / "best.config.json").read_text())
    assert record["cut_by_time"] is True and record["epochs_trained"] == 1
    assert "TIME CAP" in capsys.readouterr().out  # printed even with verbose=False


def test_a_bfloat16_model_on_a_cpu_without_native_bfloat16_is_warned_about_once_at_the_start(tmp_path, monkeypatch, caplog):
    from salt_lib import train
    from salt_lib.models import build_model

    asked = []
    monkeypatch.setattr(train, "bfloat16_warning", lambda precision, device: asked.append((precision, device)) or "emulated bfloat16")
    monkeypatch.setattr(train, "compute_device", lambda: "cpu AMD EPYC (2 cores, no native bfloat16)")
    config = train.TrainConfig(epochs=1, batch_size=8)
    with caplog.at_level("WARNING", logger="salt_lib.train"):
        train.fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    assert asked == [("float32", "cpu AMD EPYC (2 cores, no native bfloat16)")]  # the model's own precision
    assert [r.getMessage() for r in caplog.records if r.name == "salt_lib.train"] == ["emulated bfloat16"]
    train.fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    assert len(asked) == 1  # a finished run trains nothing and warns of nothing


def test_export_drops_optimizer_and_keeps_record_history_and_split_hash(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.records import export_model, load_model
    from salt_lib.split import save_split, split_622, split_hash
    from salt_lib.train import TrainConfig, fit

    split_file = tmp_path / "split.csv"
    split = split_622([f"t{i}" for i in range(20)], np.linspace(0, 1, 20), seed=0)
    save_split(split, split_file)
    fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), TrainConfig(epochs=2, batch_size=8),
        tmp_path / "run", provenance={"split_file": str(split_file)}, verbose=False)
    json_path = export_model(tmp_path / "run", tmp_path / "models" / "unet_lite.keras")
    exported = tmp_path / "models" / "unet_lite.keras"
    assert json_path == tmp_path / "models" / "unet_lite.config.json"
    assert exported.stat().st_size < (tmp_path / "run" / "best.keras").stat().st_size  # no optimizer slots
    record, original = json.loads(json_path.read_text()), json.loads((tmp_path / "run" / "best.config.json").read_text())
    assert record["provenance"]["split_hash"] == split_hash(split)
    assert record["exported_from"].endswith("run") and not Path(record["exported_from"]).is_absolute()  # no machine path
    assert record["val"] == original["val"]
    history = pd.read_csv(tmp_path / "models" / "unet_lite.history.csv")
    assert history.equals(pd.read_csv(tmp_path / "run" / "history.csv")) and len(history) == 2
    assert load_model(exported, compile=False).salt_config["threshold"] == original["threshold"]


def test_other_settings_in_the_same_folder_are_refused(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.train import RunMismatch, TrainConfig, fit

    fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), TrainConfig(epochs=1, batch_size=8),
        tmp_path, verbose=False)
    with pytest.raises(RunMismatch, match="other settings"):
        fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), TrainConfig(epochs=1, batch_size=8, loss="bce"),
            tmp_path, verbose=False)


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "tgs"
    make_synthetic_tgs(root, n_train=80, n_test=12, seed=3)
    return root


def train_command(data, out, epochs):
    return [sys.executable, "-m", "salt_lib", "train", "--data", str(data), "--arch", "unet", "--overrides",
            json.dumps(TINY), "--epochs", str(epochs), "--batch-size", "8", "--out", str(out)]


def test_training_resumes_after_kill_9(synthetic_root, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    process = subprocess.Popen(train_command(synthetic_root, out, 12), env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state_file = out / "state.json"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if state_file.is_file() and json.loads(state_file.read_text()).get("total_epochs", 0) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "training ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = json.loads(state_file.read_text())["total_epochs"]
    assert killed_at < 12
    before = pd.read_csv(out / "history.csv")
    finished = subprocess.run(train_command(synthetic_root, out, 12), env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert f"resuming stage 'main' at epoch {killed_at + 1}" in finished.stdout
    after = pd.read_csv(out / "history.csv")
    # Epochs continue where the kill left them: the rows before it are kept as they were.
    assert after["epoch"].tolist() == list(range(1, len(after) + 1))
    pd.testing.assert_frame_equal(after.iloc[:killed_at], before.iloc[:killed_at])
    assert len(after) > killed_at
    assert (out / "best.keras").is_file() and len(list(out.glob("last-e*.keras"))) == 1
    assert "test:" in finished.stdout and "tgs_score" in finished.stdout


def test_weight_averaging_gives_a_loadable_average_and_records_whether_it_was_kept(tmp_path):
    import keras

    from salt_lib.models import build_model
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit

    run = tmp_path / "run"
    config = TrainConfig(epochs=3, batch_size=8, swa_epochs=2, patience=5)
    fit(build_model("unet", "lite", TINY), tiles(16, 1), tiles(8, 2), config, run, verbose=False)
    swa = json.loads((run / "best.config.json").read_text())["swa"]
    assert swa["epochs"] == [2, 3] and sorted(p.name for p in run.glob("swa-e*")) == ["swa-e2.weights.h5", "swa-e3.weights.h5"]
    assert swa["kept"] == (swa["val_tgs_score"] >= swa["best_single_val_tgs_score"])

    def kernel(model):  # a conv kernel: averaged, and untouched by the BatchNorm re-estimation
        return keras.ops.convert_to_numpy(model.get_layer("dec1_conv2").kernel)

    snapshot = build_model("unet", "lite", TINY)
    kernels = []
    for epoch in (2, 3):
        snapshot.load_weights(run / f"swa-e{epoch}.weights.h5")
        kernels.append(kernel(snapshot))
    assert not np.allclose(kernels[0], kernels[1])
    averaged = load_model(run / "swa.keras", compile=False)
    np.testing.assert_allclose(kernel(averaged), (kernels[0] + kernels[1]) / 2, rtol=1e-6, atol=1e-7)
    best = load_model(run / "best.keras", compile=False)  # loadable with its record either way
    assert np.array_equal(kernel(best), kernel(averaged)) == swa["kept"]


def test_batch_norm_recalibration_sets_the_mean_of_the_batch_statistics():
    import keras

    from salt_lib.geometry import to_model
    from salt_lib.models import build_model
    from salt_lib.train import recalibrate_batch_norm

    model = build_model("unet", "lite", TINY)
    images = tiles(8, 3).images
    conv = keras.Model(model.input, model.get_layer("enc1_conv1").output)  # the input of enc1_conv1_bn
    outputs = [keras.ops.convert_to_numpy(conv(to_model(images[i : i + 4], 101, "pad"))) for i in (0, 4)]
    kernel_before = keras.ops.convert_to_numpy(model.get_layer("enc1_conv1").kernel)
    recalibrate_batch_norm(model, images, batch_size=4)
    norm = model.get_layer("enc1_conv1_bn")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(norm.moving_mean),
                               np.mean([out.mean(axis=(0, 1, 2)) for out in outputs], axis=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(norm.moving_variance),
                               np.mean([out.var(axis=(0, 1, 2)) for out in outputs], axis=0), rtol=1e-3, atol=1e-6)
    assert norm.momentum == 0.99  # restored
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.get_layer("enc1_conv1").kernel), kernel_before)


def test_empty_tile_head_loss_is_the_segmentation_loss_plus_weighted_bce_of_has_salt():
    from salt_lib.losses import bce, bce_dice
    from salt_lib.models import build_model
    from salt_lib.predict import predict
    from salt_lib.train import has_salt, stage_losses

    model = build_model("unet", "lite", TINY | {"empty_head": True})
    model.compile(optimizer="adam", **stage_losses(model, "bce_dice", 0.25))
    # A hand-made batch: one empty tile, one half salt, one with a single salt pixel.
    masks = np.zeros((3, 101, 101), bool)
    masks[1, :, :50] = True
    masks[2, 7, 9] = True
    target = has_salt(masks)
    assert target.tolist() == [[0.0], [1.0], [1.0]]
    x = np.random.default_rng(0).random((3, 101, 101, 1)).astype(np.float32)
    y = masks[..., None].astype(np.float32)
    probs, salt = model.predict(x, verbose=0)
    expected = float(bce_dice(y, probs)) + 0.25 * float(bce(target, salt))
    assert model.evaluate(x, (y, target), verbose=0, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-4)
    assert predict(model, (x[..., 0] * 255).astype(np.uint8)).shape == (3, 101, 101)  # the masks only


def test_a_network_with_the_empty_tile_head_trains_and_scores(tmp_path, monkeypatch):
    from salt_lib.models import build_model
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit

    history = fit(build_model("unet", "lite", TINY | {"empty_head": True}), tiles(16, 1), tiles(8, 2),
                  TrainConfig(epochs=1, batch_size=8), tmp_path / "run", verbose=False)
    assert history["val_tgs_score"].between(0, 1).all()
    assert len(load_model(tmp_path / "run" / "best.keras", compile=False).outputs) == 2
    # the head's cut is chosen on validation with the threshold and minimum size; cut 0 (no
    # tile emptied) is among the candidates, so the gate never scores below the masks alone
    from salt_lib.evaluate import evaluate_model
    from salt_lib.predict import EMPTY_CUTS, salt_probability
    from salt_lib.records import load_record

    record = load_record(tmp_path / "run" / "best.keras")
    assert record["empty_cut"] in EMPTY_CUTS and record["val"]["empty_cut"] == record["empty_cut"]
    assert record["val"]["tgs_score_empty_cut"] >= record["val"]["tgs_score_min_size"] - 1e-9
    test = tiles(8, 3)
    result = evaluate_model(tmp_path / "run" / "best.keras", test)
    salt = salt_probability(load_model(tmp_path / "run" / "best.keras", compile=False), test.images)
    assert salt.shape == (8,) and not result.masks[salt < record["empty_cut"]].any()
    # The head's output is cached beside the probabilities, from one pass of the model: a second
    # evaluation loads no model; a cache of the probabilities alone is predicted again when the
    # head's output is needed.
    from salt_lib import evaluate

    probs, cached_salt = evaluate.model_outputs(tmp_path / "run" / "best.keras", test, tmp_path / "cache", need_head=True)
    assert np.array_equal(cached_salt, salt) and np.array_equal(probs, result.probs)
    (head_file,) = (tmp_path / "cache").glob("salt-*.npy")
    loaded = []
    monkeypatch.setattr(evaluate, "load_model", lambda *a, **k: loaded.append(a) or load_model(*a, **k))
    again = evaluate_model(tmp_path / "run" / "best.keras", test, tmp_path / "cache")
    assert not loaded and np.array_equal(again.masks, result.masks)
    head_file.unlink()
    assert evaluate.model_outputs(tmp_path / "run" / "best.keras", test, tmp_path / "cache")[1] is None  # not asked for
    assert np.array_equal(evaluate.model_outputs(tmp_path / "run" / "best.keras", test, tmp_path / "cache", need_head=True)[1], salt)
    assert len(loaded) == 1 and head_file.is_file()
