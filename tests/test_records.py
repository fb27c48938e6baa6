"""What lives beside a model file: the record's paths, one run key, reuse checks, and records
written before paths were portable."""

from __future__ import annotations

import json

import pytest

from salt_lib import records
from salt_lib.data import DataError
from salt_lib.files import REPO, portable_path, stored_path
from salt_lib.models import build_model, model_config
from salt_lib.train import TrainConfig

TINY = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}


def network(arch="unet", overrides=TINY):
    return model_config(build_model(arch, "lite", overrides))


def settings(**changes):
    return TrainConfig.from_dict({"epochs": 3, "augment": "flip"} | changes).to_dict()


def record_for(net, training, fingerprint="f1", split="s1"):
    return net | {"training": training, "provenance": {"data_fingerprint": fingerprint, "split_hash": split}}


def test_files_beside_a_model():
    assert records.config_path("run/best.keras").name == "best.config.json"
    assert records.history_path("run/best.keras").name == "history.csv"
    assert records.history_path("models/unet_lite.keras").name == "unet_lite.history.csv"


def test_run_key_ignores_exactly_budget_and_workers():
    key = records.run_key(network(), settings(), "f1", "s1")
    assert key == records.run_key(network(), settings(minutes=9, workers=4), "f1", "s1")
    assert key != records.run_key(network("resunet"), settings(), "f1", "s1")
    assert key != records.run_key(network(overrides=TINY | {"geometry": "resize"}), settings(), "f1", "s1")
    for other in (settings(epochs=4), settings(seed=1), settings(min_learning_rate_ratio=0.1)):
        assert key != records.run_key(network(), other, "f1", "s1")
    assert key != records.run_key(network(), settings(), "f2", "s1") != records.run_key(network(), settings(), "f1", "s2")


def test_reuse_needs_the_same_network_training_and_data():
    record = record_for(network(), settings())
    assert records.reuse_problems(record, network(), settings(), "f1", "s1") == []
    assert records.reuse_problems(record, network(), settings(minutes=5, workers=2), "f1", "s1") == []
    problems = records.reuse_problems(record, network(overrides=TINY | {"filters": 8}), settings(epochs=4), "f2", "s2")
    assert [p.split()[:2] for p in problems] == [["model", "filters"], ["training", "epochs"], ["data", "fingerprint"], ["split", "hash"]]
    # Records from before geometry moved to the network keep it in their training settings too.
    old = record | {"training": settings() | {"geometry": "pad"}}
    assert records.reuse_problems(old, network(), settings(), "f1", "s1") == []
    with pytest.raises(ValueError, match="geometry is a model option"):
        TrainConfig.from_dict({"geometry": "pad"})
    with pytest.warns(DeprecationWarning):  # the old policy name is the same run
        assert records.run_key(network(), settings(augment="seed"), "f1", "s1") == records.run_key(network(), settings(augment="mirror"), "f1", "s1")


def test_old_records_with_absolute_paths_are_still_read(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "history.csv").write_text("epoch,val_tgs_score\n1,0.5\n2,0.6\n")
    model = tmp_path / "models" / "old.keras"
    model.parent.mkdir()
    model.write_bytes(b"")
    old = {"arch": "unet", "exported_from": str(run), "provenance": {"data": "/somewhere/tgs-salt", "split_file": str(tmp_path / "gone.csv")}}
    records.config_path(model).write_text(json.dumps(old))
    assert records.load_record(model)["provenance"]["data"] == "/somewhere/tgs-salt"
    assert len(records.read_history(model)) == 2  # found through the absolute exported_from
    assert stored_path(old["exported_from"]) == run


def test_portable_paths_are_relative_to_the_repository(tmp_path):
    assert portable_path(REPO / "runs" / "x") == "runs/x"
    assert portable_path(REPO.parent / "shared" / "tgs-salt") == "../shared/tgs-salt"
    assert stored_path("runs/x") == REPO / "runs" / "x"
    assert stored_path(None) is None


def test_missing_record_names_the_fix(tmp_path):
    with pytest.raises(DataError, match="best.config.json next to best.keras"):
        records.load_record(tmp_path / "m.keras")


def test_options_added_later_leave_old_keys_and_records_fitting_at_their_defaults():
    from salt_lib.models import ModelConfig

    assert all(getattr(ModelConfig(), name) == value for name, value in records.ADDED_MODEL_DEFAULTS.items())
    assert all(getattr(TrainConfig(), name) == value for name, value in records.ADDED_TRAINING_DEFAULTS.items())
    # What a record written before these options holds (and what its key hashed).
    old_network = {k: v for k, v in network().items() if k not in records.ADDED_MODEL_DEFAULTS}
    old_training = {k: v for k, v in settings().items() if k not in records.ADDED_TRAINING_DEFAULTS}
    assert records.run_key(old_network, old_training, "f1", "s1") == records.run_key(network(), settings(), "f1", "s1")
    old_record = record_for(old_network, old_training)
    assert records.reuse_problems(old_record, network(), settings(), "f1", "s1") == []
    # Switched on, an added option counts, on either side.
    swa = settings(swa_epochs=3)
    assert records.run_key(network(), swa, "f1", "s1") != records.run_key(network(), settings(), "f1", "s1")
    assert records.reuse_problems(old_record, network(), swa, "f1", "s1") == ["training swa_epochs is 0, not 3"]
    assert records.reuse_problems(record_for(network(), swa), network(), settings(), "f1", "s1") == ["training swa_epochs is 3, not 0"]


def test_a_run_resumed_on_another_machine_names_each_machine_with_its_epochs():
    from salt_lib.train import note_device

    state = {}
    for epoch, device in enumerate(["cpu A", "cpu A", "cpu B", "cpu B", "cpu A"], 1):
        state["total_epochs"] = epoch
        note_device(state, device)
    assert state["devices"] == [{"device": "cpu A", "first_epoch": 1, "last_epoch": 2},
                                {"device": "cpu B", "first_epoch": 3, "last_epoch": 4},
                                {"device": "cpu A", "first_epoch": 5, "last_epoch": 5}]
    assert records.devices_of({"devices": state["devices"], "versions": {"device": "cpu A"}}) == state["devices"]
    # A run begun before segments were kept: its earlier epochs ran on a device it did not record.
    older = {"total_epochs": 21}
    note_device(older, "cpu B")
    assert older["devices"] == [{"device": None, "first_epoch": 1, "last_epoch": 20},
                                {"device": "cpu B", "first_epoch": 21, "last_epoch": 21}]
    # A record from before: the device that finished it, over all its epochs, or None.
    assert records.devices_of({"versions": {"device": "cpu A"}, "epochs_trained": 44}) == [
        {"device": "cpu A", "first_epoch": 1, "last_epoch": 44}]
    assert records.devices_of({"epochs_trained": 3})[0]["device"] is None
