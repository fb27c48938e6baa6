"""Train or reuse, publishing, and scoring saved models with cached predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from salt_lib import evaluate, experiments, records
from salt_lib.data import DataError
from salt_lib.dataset import load_dataset
from salt_lib.chapters import comparison as comparison_chapter

TINY = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    base = tmp_path_factory.mktemp("experiments")
    return load_dataset(base / "data", base / "split.csv", synthetic_tiles=40, synthetic_seed=3)


def test_train_or_reuse_trains_once_then_reuses_and_publishes(dataset, tmp_path):
    training = {"epochs": 1, "batch_size": 8}
    first = experiments.train_or_reuse("unet", dataset, tmp_path / "runs", "lite", TINY, training)
    assert not first.reused and first.model_path.is_file() and len(first.history) == 1
    assert first.run_dir.name.startswith("unet-flip-")
    assert first.record["provenance"]["split_hash"] == dataset.split_hash
    assert first.record["geometry"] == "pad" and "geometry" not in first.record["training"]  # stored once, with the network
    again = experiments.train_or_reuse("unet", dataset, tmp_path / "runs", "lite", TINY, training)
    assert again.reused and again.run_dir == first.run_dir and "finished run" in again.note
    # More workers or a longer budget is the same run (one run key for training and reuse).
    assert experiments.train_or_reuse("unet", dataset, tmp_path / "runs", "lite", TINY, training | {"workers": 2}).reused

    published = experiments.publish(first, tmp_path / "models", "unet")
    assert sorted(p.name for p in published.parent.iterdir()) == ["unet.config.json", "unet.history.csv", "unet.keras"]
    reused = experiments.train_or_reuse("unet", dataset, tmp_path / "elsewhere", "lite", TINY, training, model_path=published)
    assert reused.reused and reused.model_path == published and len(reused.history) == 1
    assert not (tmp_path / "elsewhere").exists()
    # An exported model finds its history through exported_from.
    exported = tmp_path / "exported" / "unet_lite.keras"
    exported.parent.mkdir()
    exported.write_bytes(published.read_bytes())
    exported.with_name("unet_lite.config.json").write_text(json.dumps(first.record | {"exported_from": str(first.run_dir)}))
    assert len(records.read_history(exported)) == 1
    # Another training setting: the published model does not fit, so a new run trains.
    other = experiments.train_or_reuse("unet", dataset, tmp_path / "runs", "lite", TINY, training | {"seed": 1}, model_path=published)
    assert not other.reused and other.run_dir != first.run_dir and "does not fit" in other.note

    # Predictions are cached by model and tiles: the second call reads the file.
    cache = tmp_path / "cache"
    probs = evaluate.predictions(published, dataset.test, cache)
    assert probs.shape == (len(dataset.test), 101, 101) and probs.dtype == np.float32
    assert len(list(cache.glob("probs-*.npy"))) == 1
    assert np.array_equal(evaluate.predictions(published, dataset.test, cache), probs)
    result = evaluate.evaluate_model(published, dataset.test, cache, "U-Net")
    table = comparison_chapter.comparison_table({"U-Net": result}, len(dataset.train))
    assert table.loc[0, "parameters"] == first.record["parameters"] and 0 <= table.loc[0, "tgs_score"] <= 1
    assert table.loc[0, "tgs_score"] == pytest.approx(evaluate.evaluate_model(published, dataset.test).summary()["tgs_score"], abs=1e-4)
    assert table.loc[0, "tgs_score_ci_low"] <= table.loc[0, "tgs_score"] <= table.loc[0, "tgs_score_ci_high"]


def test_the_seed_also_fixes_the_initial_weights(dataset, tmp_path, monkeypatch):
    """The same command gives the same model: train_run seeds the network's initialisation too."""
    initial = []
    monkeypatch.setattr(experiments, "fit", lambda model, *args, **kwargs: initial.append(model.get_weights()))
    for seed in (3, 3, 4):
        experiments.train_run("unet", dataset, tmp_path / f"s{seed}", "lite", TINY, {"epochs": 1, "seed": seed}, verbose=False)
    first, again, other = initial
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_unknown_training_setting_fails_before_training(dataset, tmp_path):
    with pytest.raises(ValueError, match="unknown training setting"):
        experiments.train_or_reuse("unet", dataset, tmp_path, "lite", TINY, {"epoch": 3})
    assert not list(tmp_path.iterdir())


def test_missing_model_names_the_chapters_to_run(dataset, tmp_path):
    with pytest.raises(DataError, match="04_unet"):
        evaluate.evaluate_model(tmp_path / "unet.keras", dataset.test, tmp_path)
