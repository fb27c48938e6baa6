"""Everything that lives beside a saved model: its record, its history, its run key.

A model ``m.keras`` comes with ``m.config.json`` (the record: the network's ``ModelConfig``
fields, the training settings, provenance, the threshold and scores) and a history, one row per
epoch (``history.csv`` beside a run's ``best.keras``, ``m.history.csv`` beside an exported
model). This module names those files (``config_path``, ``history_path``), reads them
(``load_record``, ``devices_of``, ``read_history``, ``load_model``), writes them (``write_record``,
``export_model``) and decides whether a record fits a request (``run_key``, ``reuse_problems``).

Paths inside records are portable (``salt_lib.files.portable_path``); records written before
that hold absolute paths and are still read (``salt_lib.files.stored_path``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras
import pandas as pd

import salt_lib.losses  # noqa: F401  (registers the losses, so compiled models load)
from salt_lib.data import DataError
from salt_lib.files import atomic_write, portable_path, stored_path, write_json
from salt_lib.models import CONFIG_FIELDS
from salt_lib.split import load_split, split_hash

# Training settings that do not change what a run computes (workers), or that may grow to let a
# run continue (minutes): left out of run keys and reuse checks.
IGNORED_TRAINING_KEYS = ("minutes", "workers")
# Options added after models were committed and run folders were named by key: at these values
# (their defaults; tests/test_records.py checks that) they are left out of run keys, and a record
# without them has them, so older records still fit and keep their keys.
ADDED_MODEL_DEFAULTS: dict = {"attention": None, "empty_head": False, "precision": "float32", "deep_supervision": False}
ADDED_TRAINING_DEFAULTS: dict = {"swa_epochs": 0, "empty_head_weight": 0.1, "val_every": 1, "warmup_epochs": 0,
                                 "alternate_flips": False, "early_crop": 0, "lovasz_crop": 0, "cycles": 0, "early_size": 0,
                                 "early_size_epochs": 0,
                                 "deep_supervision_weight": 0.1, "ema_momentum": 0.0}


def config_path(model_path) -> Path:
    """The record beside a ``.keras`` file: ``run/unet_lite.keras`` -> ``run/unet_lite.config.json``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".config.json")


def history_path(model_path) -> Path:
    """Where a model's history belongs: ``history.csv`` beside a run's ``best.keras``, else
    ``<stem>.history.csv`` beside the model (as ``export_model`` writes it)."""
    model_path = Path(model_path)
    if model_path.name == "best.keras":
        return model_path.with_name("history.csv")
    return model_path.with_name(model_path.stem + ".history.csv")


def load_record(model_path) -> dict:
    """The record beside a saved model; DataError if it is missing."""
    path = config_path(model_path)
    if not path.is_file():
        raise DataError(f"{path}: missing. A model needs the JSON that salt_lib.train writes beside it "
                        "(best.config.json next to best.keras; copy both).")
    return json.loads(path.read_text())


def write_record(model_path, record: dict) -> Path:
    """Write ``record`` beside ``model_path`` (atomically); return the JSON's path."""
    return write_json(config_path(model_path), record)


def devices_of(record: dict) -> list[dict]:
    """The devices that trained a run, from its record: its ``devices`` segments (device, first and
    last epoch), or, for a record from before they were kept, one segment of the device that
    finished it (``versions.device``, None where not recorded) over all its epochs."""
    if record.get("devices"):
        return record["devices"]
    device = (record.get("versions") or {}).get("device")
    return [{"device": device if device and device != "unknown" else None, "first_epoch": 1,
             "last_epoch": record.get("epochs_trained")}]


def read_history(model_path) -> pd.DataFrame:
    """The model's history table: ``history_path``, else the ``history.csv`` of the run it was
    exported from (``exported_from`` in its record); an empty table if neither exists."""
    candidates = [history_path(model_path)]
    if config_path(model_path).is_file():
        exported_from = stored_path(load_record(model_path).get("exported_from"))
        if exported_from:
            candidates.append(exported_from / "history.csv")
    path = next((path for path in candidates if path.is_file()), None)
    return pd.read_csv(path) if path else pd.DataFrame()


def load_model(model_path, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` file and attach its record as ``model.salt_config`` (the network's
    configuration, input geometry included, and the threshold).

    A model compiled with a ``salt_lib.losses`` loss loads without ``custom_objects``;
    ``compile=False`` skips optimizer and loss altogether.
    """
    model = keras.models.load_model(Path(model_path), compile=compile)
    if config_path(model_path).is_file():
        model.salt_config = load_record(model_path)
    return model


def network_fields(config: dict) -> dict:
    """The fields of a record or ``model.salt_config`` that define the network: every
    ``ModelConfig`` field (input size and geometry included) and ``arch``; an option added
    later (``ADDED_MODEL_DEFAULTS``) only where it is not at its default."""
    fields = {name: config.get(name, ADDED_MODEL_DEFAULTS.get(name)) for name in (*CONFIG_FIELDS, "arch")}
    return _without_added_defaults(fields, ADDED_MODEL_DEFAULTS)


def comparable_training(training: dict) -> dict:
    """Training settings without the ones that do not change the result (``IGNORED_TRAINING_KEYS``),
    and without options added later while at their default (``ADDED_TRAINING_DEFAULTS``)."""
    kept = {k: v for k, v in training.items() if k not in IGNORED_TRAINING_KEYS}
    return _without_added_defaults(kept, ADDED_TRAINING_DEFAULTS)


def _without_added_defaults(fields: dict, added_defaults: dict) -> dict:
    return {k: v for k, v in fields.items() if not (k in added_defaults and v == added_defaults[k])}


def run_key(network: dict, training: dict, data_fingerprint: str | None, split: str | None) -> str:
    """A 12-character hash of what defines a trained model: the network (``network_fields`` of
    ``network``), the training settings but budget and workers (``comparable_training``), the
    data fingerprint and the split. Training resumes only a run of the same key, and the
    notebooks name run folders by it."""
    described = {"model": network_fields(network), "training": comparable_training(training),
                 "data_fingerprint": data_fingerprint, "split_hash": split}
    return hashlib.sha1(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:12]


def run_folder_name(arch: str, augment: str, key: str) -> str:
    """The name of the run folder a model with ``run_key`` ``key`` trains in under a runs folder:
    ``<arch>-<augment>-<key>`` (``augment`` the policy's current name, as records store it)."""
    return f"{arch}-{augment}-{key}"


def reuse_problems(record: dict, network: dict, training: dict, data_fingerprint: str, wanted_split: str) -> list[str]:
    """Why a saved model's ``record`` does not fit this network, these training settings (all
    ``TrainConfig`` fields) and this data (empty: it fits).

    Compares what ``run_key`` hashes. A training setting that the record does not know any more
    (``geometry``, which moved to the network) is skipped; a split is compared where the record
    names one (its ``split_hash``, or a ``split_file`` still on this machine).
    """
    wanted, saved = network_fields(network), network_fields(record)
    problems = [f"model {name} is {saved.get(name, ADDED_MODEL_DEFAULTS.get(name))!r}, not {wanted.get(name, ADDED_MODEL_DEFAULTS.get(name))!r}"
                for name in (*CONFIG_FIELDS, "arch") if saved.get(name) != wanted.get(name)]
    wanted, saved = comparable_training(training), comparable_training(record.get("training", {}))
    added = [name for name in ADDED_TRAINING_DEFAULTS if name in saved and name not in wanted]  # on in the record only
    for name in (*wanted, *added):
        saved_value, value = (settings.get(name, ADDED_TRAINING_DEFAULTS.get(name)) for settings in (saved, wanted))
        if saved_value != value:
            problems.append(f"training {name} is {saved_value!r}, not {value!r}")
    provenance = record.get("provenance", {})
    if provenance.get("data_fingerprint") != data_fingerprint:
        problems.append(f"data fingerprint is {provenance.get('data_fingerprint')!r}, not {data_fingerprint!r}")
    saved_split = provenance.get("split_hash") or _split_hash_of_file(provenance.get("split_file"))
    if saved_split is not None and saved_split != wanted_split:
        problems.append(f"split hash is {saved_split!r}, not {wanted_split!r}")
    return problems


def _split_hash_of_file(value) -> str | None:
    path = stored_path(value)
    return split_hash(load_split(path)) if path and path.is_file() else None


def export_model(run_dir, destination, test_scores: dict | None = None) -> Path:
    """Copy a run's best model to ``destination`` (a ``.keras`` path) without optimizer state
    (a third of the size), with its record and its history (``<stem>.history.csv``) beside it.
    A record without a split hash gets one from its split file; ``test_scores``
    (``salt_lib.evaluate.evaluate_model(...).summary()`` on the test split) are stored as
    ``test``. Returns the record's path."""
    run_dir, destination = Path(run_dir), Path(destination)
    best = run_dir / "best.keras"
    record = load_record(best)
    provenance = record.setdefault("provenance", {})
    if "split_hash" not in provenance and (saved_split := _split_hash_of_file(provenance.get("split_file"))):
        provenance["split_hash"] = saved_split
    model = keras.models.load_model(best, compile=False)  # drops the optimizer
    with atomic_write(destination) as partial:
        model.save(partial)
    with atomic_write(history_path(destination)) as partial:
        read_history(best).to_csv(partial, index=False)
    extra = {"exported_from": portable_path(run_dir)} | ({"test": test_scores} if test_scores else {})
    return write_record(destination, record | extra)


ENSEMBLE_FILE = "ensemble.json"  # beside an ensemble's members (salt_lib.crossval.run_crossval writes it)


def saved_ensemble(paths) -> dict | None:
    """The record of an ensemble saved as a folder: the ``ENSEMBLE_FILE`` beside ``paths`` when it
    names exactly these files (in any order) as its ``members``, else None."""
    paths = [Path(path) for path in paths]
    folders = {path.resolve().parent for path in paths}
    if len(folders) != 1 or not (saved := folders.pop() / ENSEMBLE_FILE).is_file():
        return None
    record = json.loads(saved.read_text())
    return record if sorted(record.get("members", [])) == sorted(path.name for path in paths) else None
