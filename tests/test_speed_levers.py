"""The time-to-quality levers of TrainConfig, each on tiny data: warm-up schedule, validation every
k epochs, derandomized flips, early crops, progressive resizing, Lovasz-stage crops; and the budget checks that refuse a run before it starts."""

import json

import numpy as np
import pytest

from salt_lib.data import TGSData
from salt_lib.synthetic import synthesize_tiles

TINY_128 = {"filters": 4, "depth": 2, "input_size": 128, "upsampling": "transpose"}


def tiles(n, seed):
    images, masks, depths = synthesize_tiles(n, seed=seed)
    return TGSData(ids=np.array([f"t{seed}_{i}" for i in range(n)]), images=images, masks=masks,
                   depths=depths, coverage=masks.reshape(n, -1).mean(axis=1))


def lr_at(schedule, step):
    return float(schedule(step))


def test_warm_up_rises_linearly_to_the_peak_then_decays_by_the_cosine():
    from salt_lib.train import WARMUP_START, learning_rate_schedule

    schedule = learning_rate_schedule(2e-3, total_steps=100, min_ratio=0.02, warmup=20)
    assert lr_at(schedule, 0) == pytest.approx(WARMUP_START * 2e-3)
    assert lr_at(schedule, 10) == pytest.approx((WARMUP_START + (1 - WARMUP_START) / 2) * 2e-3)
    assert lr_at(schedule, 20) == pytest.approx(2e-3)  # the peak, at the end of the warm-up
    # half way through the 80 cosine steps: the mean of peak and floor
    assert lr_at(schedule, 60) == pytest.approx(2e-3 * (0.02 + 0.98 * 0.5), rel=1e-5)
    assert lr_at(schedule, 100) == pytest.approx(2e-3 * 0.02, rel=1e-5)
    plain = learning_rate_schedule(1e-3, total_steps=100, min_ratio=0.02)
    assert lr_at(plain, 0) == pytest.approx(1e-3) and lr_at(plain, 100) == pytest.approx(2e-5, rel=1e-5)


def test_warm_up_epochs_are_steps_of_the_first_stage():
    from salt_lib.train import TrainConfig, warmup_steps

    assert warmup_steps(TrainConfig(epochs=8, warmup_epochs=2), total_steps=480) == 120
    assert warmup_steps(TrainConfig(epochs=8), total_steps=480) == 0


@pytest.mark.parametrize("settings, word", [
    ({"epochs": 0}, "epochs"), ({"epochs": -3}, "epochs"), ({"epochs": 2.5}, "epochs"),
    ({"lovasz_epochs": -1}, "lovasz_epochs"), ({"batch_size": 0}, "batch_size"),
    ({"val_every": 0}, "val_every"), ({"epochs": 4, "warmup_epochs": 4}, "warmup_epochs"),
    ({"augment": "none", "alternate_flips": True}, "alternate_flips"), ({"minutes": 0}, "minutes"),
    ({"ema_momentum": 1.0}, "ema_momentum"), ({"ema_momentum": -0.1}, "ema_momentum"),
])
def test_a_budget_or_lever_out_of_range_is_refused_by_name(settings, word):
    from salt_lib.train import TrainConfig

    with pytest.raises(ValueError, match=word):
        TrainConfig(**settings)


def test_alternate_flips_show_each_tile_in_both_orientations_over_two_epochs():
    from salt_lib.augment import TileBatches, alternate_flips

    n = 10
    flips = [alternate_flips(n, seed=3, epoch=e) for e in range(4)]
    assert (flips[0] ^ flips[1]).all() and (flips[1] ^ flips[2]).all()  # every tile changes side every epoch
    assert 0 < flips[0].sum() < n  # the phase differs between tiles
    # Through TileBatches: tiles whose image is asymmetric, seen as they are and mirrored.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 101, 101), dtype=np.uint8)
    masks = np.zeros((n, 101, 101), bool)
    masks[:, :, :30] = True  # salt on the left: mirrored, it is on the right
    batches = TileBatches(images, masks, n, "flip", lambda i, m: (i, m), seed=3, shuffle=False, alternate_flip=True)
    seen = []
    for _ in range(2):
        x, y = batches[0]
        seen.append(y[:, 50, 0] == 0)  # mirrored: the left column is empty
        batches.on_epoch_end()
        assert (x[seen[-1]] == images[seen[-1]][:, :, ::-1]).all()  # the image went with its mask
    assert (seen[0] ^ seen[1]).all()


def test_alternate_flips_need_a_policy_with_a_flip():
    from salt_lib.augment import TileBatches

    images, masks = np.zeros((2, 101, 101), np.uint8), np.zeros((2, 101, 101), bool)
    with pytest.raises(ValueError, match="flip"):
        TileBatches(images, masks, 2, "mirror", lambda i, m: (i, m), alternate_flip=True)


def test_crop_batch_cuts_image_and_mask_at_the_same_place():
    from salt_lib.augment import crop_batch

    x = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1)
    cx, cy = crop_batch(x, x.copy(), 4, seed=1)
    assert cx.shape == cy.shape == (2, 4, 4, 1) and (cx == cy).all()
    for crop, whole in zip(cx[..., 0], x[..., 0]):  # a window of the original: consecutive rows and columns
        row, col = divmod(int(crop[0, 0]) % 64, 8)
        assert (crop == whole[row:row + 4, col:col + 4]).all()
    with pytest.raises(ValueError, match="crop"):
        crop_batch(x, x, 9, seed=0)


def test_early_crops_train_small_inputs_and_keep_a_model_at_its_own_size(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.predict import predict
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit

    config = TrainConfig(epochs=2, batch_size=8, augment="flip", lovasz_epochs=1, early_crop=64, val_every=2,
                         warmup_epochs=1, alternate_flips=True)
    history = fit(build_model("unet", "lite", TINY_128), tiles(24, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    # 24 tiles a batch of 8: 3 steps an epoch; crops shrink the input, not the batches
    assert history["epoch"].tolist() == [1, 2, 3]
    # epoch 1 is not scored (every 2nd epoch and each stage's last); 2 and 3 are
    assert np.isnan(history["val_tgs_score"].iloc[0]) and history["val_tgs_score"].iloc[1:].between(0, 1).all()
    assert (history["val_seconds"] >= 0).all()
    model = load_model(tmp_path / "run" / "best.keras", compile=False)
    assert model.input_shape[1:3] == (128, 128)  # the kept model takes the whole input
    assert predict(model, tiles(3, 5).images).shape == (3, 101, 101)
    record = json.loads((tmp_path / "run" / "best.config.json").read_text())
    assert record["training"]["early_crop"] == 64 and record["input_size"] == 128


def test_shrinking_a_batch_averages_blocks_of_pixels_and_keeps_the_masks_binary():
    from salt_lib.augment import shrink_batch

    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    y = np.zeros((2, 4, 4, 1), np.float32)
    y[0, :2, :2] = 1  # a whole block of salt
    y[0, 2, 2] = y[0, 2, 3] = 1  # half a block: cut at 0.5, salt
    y[1, 0, 2] = 1  # a quarter of a block: background
    sx, sy = shrink_batch(x, y, 2)
    assert sx.shape == sy.shape == (2, 2, 2, 1)
    assert sx[0, 0, 0, 0] == pytest.approx(np.mean([0, 1, 4, 5])) and sx[1, 1, 1, 0] == pytest.approx(np.mean([26, 27, 30, 31]))
    assert sy[..., 0].tolist() == [[[1, 0], [0, 1]], [[0, 0], [0, 0]]]
    for side in (3, 4, 0):
        with pytest.raises(ValueError, match="early_size"):
            shrink_batch(x, y, side)


def test_progressive_resizing_trains_the_first_stage_smaller_and_predicts_at_the_models_size(tmp_path):
    from salt_lib.augment import TileBatches
    from salt_lib.models import build_model
    from salt_lib.predict import predict
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, _prepare_for, fit

    model = build_model("unet", "lite", TINY_128)
    train = tiles(24, 1)
    batches = TileBatches(train.images, train.masks, 8, "flip", _prepare_for(model), seed=0, shrink=64)
    x, y = batches[0]
    assert x.shape == y.shape == (8, 64, 64, 1) and set(np.unique(y)) <= {0.0, 1.0}
    config = TrainConfig(epochs=2, batch_size=8, augment="flip", lovasz_epochs=1, early_size=64)
    history = fit(model, train, tiles(8, 2), config, tmp_path / "run", verbose=False)
    assert history["stage"].tolist() == ["main", "main", "lovasz"]
    assert history["val_tgs_score"].between(0, 1).all()  # scored on whole validation tiles at 128
    kept = load_model(tmp_path / "run" / "best.keras", compile=False)
    assert kept.input_shape[1:3] == (128, 128)  # the kept model takes the whole input
    assert predict(kept, tiles(3, 5).images).shape == (3, 101, 101)
    assert json.loads((tmp_path / "run" / "best.config.json").read_text())["training"]["early_size"] == 64


def test_progressive_resizing_can_end_the_first_stage_on_the_whole_input_with_the_optimizer_carried_on(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit, stage_parts

    settings = dict(epochs=3, batch_size=8, augment="flip", lovasz_epochs=1, early_size=64)
    config = TrainConfig(**settings, early_size_epochs=1)
    assert stage_parts(config, 0, 3) == [(0, 1, 0, 64), (1, 3, 0, 0)] and stage_parts(config, 1, 1) == [(0, 1, 0, 0)]
    assert stage_parts(TrainConfig(**settings), 0, 3) == [(0, 3, 0, 64)]
    train, val = tiles(24, 1), tiles(8, 2)
    history = fit(build_model("unet", "lite", TINY_128), train, val, config, tmp_path / "split", verbose=False)
    plain = fit(build_model("unet", "lite", TINY_128), train, val, TrainConfig(**settings), tmp_path / "plain", verbose=False)
    assert history["stage"].tolist() == ["main", "main", "main", "lovasz"]
    # one cosine over the whole first stage: the learning rate goes on from where the 64 part left it
    assert history["learning_rate"].tolist() == pytest.approx(plain["learning_rate"].tolist())
    assert history["val_tgs_score"].between(0, 1).all()
    # the first epoch trains the 64 twin (a quarter of the pixels), the next two the whole input
    assert history["loss"].iloc[1] != pytest.approx(plain["loss"].iloc[1])
    last = load_model(tmp_path / "split" / "best.keras", compile=False)
    assert last.input_shape[1:3] == (128, 128)
    assert json.loads((tmp_path / "split" / "best.config.json").read_text())["training"]["early_size_epochs"] == 1


def test_a_run_stopped_where_its_first_stage_changes_size_resumes_on_the_whole_input(tmp_path, monkeypatch):
    import salt_lib.train as train
    from salt_lib.models import build_model

    settings = dict(epochs=3, batch_size=8, augment="flip", early_size=64, early_size_epochs=1)
    data = tiles(16, 1), tiles(8, 2)
    whole = train.fit(build_model("unet", "lite", TINY_128), *data, train.TrainConfig(**settings), tmp_path / "whole", verbose=False)
    real, calls = train._save_resume_point, []

    def killed_after_the_first(*args):
        real(*args)
        calls.append(1)
        raise KeyboardInterrupt("killed after the 64 part")

    monkeypatch.setattr(train, "_save_resume_point", killed_after_the_first)
    with pytest.raises(KeyboardInterrupt):
        train.fit(build_model("unet", "lite", TINY_128), *data, train.TrainConfig(**settings), tmp_path / "run", verbose=False)
    assert json.loads((tmp_path / "run" / "state.json").read_text())["epoch"] == 1
    monkeypatch.setattr(train, "_save_resume_point", real)
    resumed = train.fit(build_model("unet", "lite", TINY_128), *data, train.TrainConfig(**settings), tmp_path / "run", verbose=False)
    assert resumed["epoch"].tolist() == [1, 2, 3]
    assert resumed["learning_rate"].tolist() == pytest.approx(whole["learning_rate"].tolist())


@pytest.mark.parametrize("settings, word", [
    ({"epochs": 3, "early_size_epochs": 1}, "set early_size too"),
    ({"epochs": 3, "early_size": 64, "early_size_epochs": 3}, "fewer than epochs"),
])
def test_early_size_epochs_needs_early_size_and_fewer_epochs_than_the_stage(settings, word):
    from salt_lib.train import TrainConfig

    with pytest.raises(ValueError, match=word):
        TrainConfig(**settings)


def test_progressive_resizing_needs_a_divisor_of_the_input_and_no_early_crop(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    with pytest.raises(ValueError, match="early_crop .* early_size"):
        TrainConfig(epochs=2, early_crop=64, early_size=64)
    with pytest.raises(ValueError, match="divide"):
        fit(build_model("unet", "lite", TINY_128), tiles(8, 1), tiles(4, 2), TrainConfig(epochs=1, early_size=48),
            tmp_path / "run", verbose=False)


def test_lovasz_crops_train_the_second_stage_on_windows_and_score_whole_tiles(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.predict import predict
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit

    config = TrainConfig(epochs=1, batch_size=8, augment="flip", lovasz_epochs=2, lovasz_crop=64)
    history = fit(build_model("unet", "lite", TINY_128), tiles(24, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    assert history["stage"].tolist() == ["main", "lovasz", "lovasz"]
    assert history["val_tgs_score"].between(0, 1).all()  # every epoch scored on the whole validation tiles
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["finished"] and state["total_epochs"] == 3
    model = load_model(tmp_path / "run" / "best.keras", compile=False)
    assert model.input_shape[1:3] == (128, 128)  # the kept model takes the whole input
    assert predict(model, tiles(3, 5).images).shape == (3, 101, 101)
    assert json.loads((tmp_path / "run" / "best.config.json").read_text())["training"]["lovasz_crop"] == 64
    with pytest.raises(ValueError, match="lovasz_epochs"):
        TrainConfig(epochs=2, lovasz_crop=64)  # a crop for a stage that does not run


def test_early_crop_must_fit_the_network():
    from salt_lib.models import build_model
    from salt_lib.train import _smaller_twin

    model = build_model("unet", "lite", TINY_128)
    assert _smaller_twin(model, 64).input_shape[1:3] == (64, 64)
    for side in (66, 128):
        with pytest.raises(ValueError, match="early_crop, lovasz_crop"):
            _smaller_twin(model, side)


def test_a_run_killed_after_it_said_finished_writes_its_record_when_rerun(tmp_path, monkeypatch):
    import salt_lib.train as train
    from salt_lib.models import build_model

    config = train.TrainConfig(epochs=1, batch_size=8, augment="none", patience=2)
    real = train._finalise_best

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed before the record was written")

    monkeypatch.setattr(train, "_finalise_best", killed)
    with pytest.raises(KeyboardInterrupt):
        train.fit(build_model("unet", "lite", TINY_128), tiles(8, 1), tiles(4, 2), config, tmp_path / "run", verbose=False)
    assert json.loads((tmp_path / "run" / "state.json").read_text())["finished"]
    assert not (tmp_path / "run" / "best.config.json").exists()
    monkeypatch.setattr(train, "_finalise_best", real)
    train.fit(build_model("unet", "lite", TINY_128), tiles(8, 1), tiles(4, 2), config, tmp_path / "run", verbose=False)
    assert train.run_finished(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "best.config.json").read_text())["epochs_trained"] == 1


@pytest.mark.parametrize("epochs", ["0", "-3"])
def test_train_refuses_a_budget_below_one_epoch_before_creating_anything(tmp_path, epochs):
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "salt_lib", "train", "--data", "synthetic", "--arch", "unet", "--out", str(out),
                             "--epochs", epochs], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "epochs must be a whole number of at least 1" in result.stderr
    assert not out.exists()


def test_cycles_restart_the_final_stage_and_keep_a_scored_snapshot_per_cycle(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, cycle_snapshots, fit

    config = TrainConfig(epochs=1, batch_size=8, augment="flip", lovasz_epochs=4, cycles=2, patience=9)
    history = fit(build_model("unet", "lite", TINY_128), tiles(16, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    lovasz = history[history["stage"] == "lovasz"]["learning_rate"].tolist()
    # two steps an epoch, two epochs (four steps) a cycle; the rate after each epoch: half way down
    # the cosine, then back at the stage's rate (the restart), and the same again in cycle 2
    assert lovasz[0] == pytest.approx(3e-4 * (0.02 + 0.98 * 0.5), rel=1e-4)
    assert lovasz[1] == pytest.approx(3e-4) and lovasz[2:] == pytest.approx(lovasz[:2])
    assert [path.name for path in cycle_snapshots(tmp_path / "run")] == ["cycle-1.weights.h5", "cycle-2.weights.h5"]
    record = json.loads((tmp_path / "run" / "best.config.json").read_text())
    assert [row["cycle"] for row in record["snapshots"]] == [1, 2]
    assert [row["epoch"] for row in record["snapshots"]] == [3, 5]  # after 1 + 2 and 1 + 4 epochs
    for row in record["snapshots"]:
        assert 0 <= row["val_tgs_score"] <= 1 and 0 <= row["ensemble_val_tgs_score"] <= 1
    assert record["snapshots"][0]["ensemble_val_tgs_score"] == record["snapshots"][0]["val_tgs_score"]  # one snapshot


def test_cycles_must_divide_the_final_stage():
    from salt_lib.train import TrainConfig

    with pytest.raises(ValueError, match="cycles"):
        TrainConfig(epochs=4, lovasz_epochs=10, cycles=3)


def test_deep_supervision_adds_a_resized_mask_output_per_lower_decoder_level_and_trains(tmp_path):
    from salt_lib.models import build_model
    from salt_lib.predict import predict
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit, output_kinds, stage_losses

    overrides = dict(TINY_128, depth=3, deep_supervision=True, empty_head=True)
    model = build_model("unet", "lite", overrides)
    assert output_kinds(model) == ["mask", "empty", "aux", "aux"]
    assert [output.shape[1:] for output in model.outputs] == [(128, 128, 1), (1,), (128, 128, 1), (128, 128, 1)]
    assert [layer.name for layer in model.layers if layer.name.startswith("aux")] == ["aux3", "aux2"]
    assert stage_losses(model, "bce_dice", 0.25, 0.1)["loss_weights"] == [1.0, 0.25, 0.1, 0.1]
    fit(model, tiles(16, 1), tiles(8, 2), TrainConfig(epochs=1, batch_size=8, augment="flip", lovasz_epochs=1),
        tmp_path / "run", verbose=False)
    reloaded = load_model(tmp_path / "run" / "best.keras", compile=False)
    assert predict(reloaded, tiles(2, 3).images).shape == (2, 101, 101)  # the masks, not an auxiliary output
    plain = build_model("unet", "lite", TINY_128)
    assert output_kinds(plain) == ["mask"] and len(plain.outputs) == 1


def test_weight_ema_scores_and_keeps_the_average_and_trains_on_from_the_latest_weights(tmp_path):
    import keras

    from salt_lib.models import build_model
    from salt_lib.records import load_model
    from salt_lib.train import TrainConfig, fit

    config = TrainConfig(epochs=1, batch_size=8, augment="flip", patience=2, ema_momentum=0.5)
    history = fit(build_model("unet", "lite", TINY_128), tiles(24, 1), tiles(8, 2), config, tmp_path / "run", verbose=False)
    assert len(history) == 1 and history["val_tgs_score"].between(0, 1).all()
    latest = load_model(tmp_path / "run" / "last-e1.keras", compile=True)  # the resume point: latest weights, the average in its optimizer
    optimizer = getattr(latest.optimizer, "inner_optimizer", latest.optimizer)
    assert optimizer.use_ema and optimizer.ema_momentum == 0.5
    averages = [keras.ops.convert_to_numpy(v) for v in optimizer._model_variables_moving_average]
    weights = [keras.ops.convert_to_numpy(v) for v in latest.trainable_variables]
    best = load_model(tmp_path / "run" / "best.keras", compile=False)  # what was scored and kept: the average
    kept = [keras.ops.convert_to_numpy(v) for v in best.trainable_variables]
    assert len(kept) == len(averages) == len(weights)
    for average, value in zip(averages, kept):
        np.testing.assert_allclose(value, average, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(a, w) for a, w in zip(averages, weights))  # three steps: the average lags the latest
