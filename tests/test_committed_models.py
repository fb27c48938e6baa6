"""The trained models committed under models/: small, complete, and true to their JSON.

Each ``models/*.keras`` must come with its provenance JSON and history, stay under 15 MB, load,
and have the parameter count its JSON states. Where the real tiles are beside the repository,
the model is re-scored on the validation split its JSON names (by hash), and must reproduce the
validation score stored in that JSON: the numbers in the README come from these files.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = sorted((REPO / "models").glob("*.keras"))


def record_of(path):
    from salt_lib.records import load_record

    return load_record(path)


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_committed_model_is_complete_and_small(path):
    assert path.stat().st_size < 15 * 2**20
    record = record_of(path)
    for key in ("arch", "preset", "overrides", "training", "threshold", "min_size", "val", "wall_seconds", "versions", "git_commit"):
        assert key in record, key
    assert {"data_fingerprint", "split_hash", "command"} <= set(record["provenance"])
    assert record["wall_seconds"] <= 90 * 60  # the budget for a lite model on 2 cores
    history = pd.read_csv(path.with_name(path.stem + ".history.csv"))
    assert len(history) == record["epochs_trained"] and history["val_tgs_score"].max() <= 1


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_committed_model_loads_with_its_parameter_count(path):
    from salt_lib.records import load_model

    model = load_model(path, compile=False)
    assert model.count_params() == record_of(path)["parameters"]
    assert model.salt_config["threshold"] == record_of(path)["threshold"]


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_committed_model_reproduces_its_validation_score(path, real_dataset):
    from salt_lib.evaluate import evaluate_model

    record = record_of(path)
    if real_dataset.split_hash != record["provenance"]["split_hash"]:
        pytest.skip("the model was validated on another split than split_622(seed=0) of these tiles")
    report = evaluate_model(path, real_dataset.val).summary()
    assert report["tiles"] == record["val"]["tiles"]
    assert report["tgs_score"] == pytest.approx(record["val"]["tgs_score_min_size"], abs=0.002)


@pytest.mark.parametrize("section, arch", [("04_unet", "unet"), ("05_resunet", "resunet")])
def test_thesis_profile_reuses_the_committed_model(section, arch):
    """`make thesis` retrains a chapter's model unless its committed JSON records exactly the
    profile's settings: a drift between params/thesis.yaml and models/ would cost 90 minutes."""
    import yaml

    from salt_lib.models import build_model, model_config
    from salt_lib.records import reuse_problems
    from salt_lib.train import TrainConfig

    params = yaml.safe_load((REPO / "params" / "thesis.yaml").read_text())[section]
    path = REPO / params["model_path"]
    record = record_of(path)
    network = model_config(build_model(arch, params.get("preset", "lite"), params["overrides"]))
    training = TrainConfig.from_dict(params["training"]).to_dict()
    provenance = record["provenance"]
    assert reuse_problems(record, network, training, provenance["data_fingerprint"], provenance["split_hash"]) == []


def test_committed_unet_and_resunet_share_one_recipe_and_schedule():
    """The two committed networks differ only in their shortcuts: the same model options, the
    same training settings (budget, losses, augmentation, seed), the same data and split, and
    neither was cut short by its time cap."""
    from salt_lib.records import comparable_training, network_fields

    unet, resunet = record_of(REPO / "models" / "unet_lite.keras"), record_of(REPO / "models" / "resunet_lite.keras")
    assert unet["overrides"] == resunet["overrides"]
    assert comparable_training(unet["training"]) == comparable_training(resunet["training"])
    for key in ("data_fingerprint", "split_hash"):
        assert unet["provenance"][key] == resunet["provenance"][key]
    different = {name for name, value in network_fields(unet).items() if network_fields(resunet).get(name) != value}
    assert different == {"arch", "shortcut"}
    assert not unet.get("cut_by_time") and not resunet.get("cut_by_time")
    assert unet["epochs_trained"] == resunet["epochs_trained"] == unet["training"]["epochs"] + unet["training"]["lovasz_epochs"]
