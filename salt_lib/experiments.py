"""Train or reuse: how the command line and the notebooks get a trained model.

``train_run`` trains one run from a config (``salt_lib train`` and the notebooks both call it).
``train_or_reuse`` is the notebooks' step between the split and the scores: they never train a
model whose result already exists. A model is identified by ``salt_lib.records.run_key``: the
network (every ``ModelConfig`` field), the training settings but budget and workers, the data
fingerprint and the split. ``train_or_reuse``

1. reuses ``model_path`` (e.g. the committed ``models/unet_lite.keras``) when its record
   describes the same (``salt_lib.records.reuse_problems`` is empty);
2. otherwise trains into ``runs_dir/<arch>-<augment>-<key>`` with ``train_run``, which finishes
   an interrupted run from its last epoch and does nothing for a finished one. Two chapters
   asking for the same model share the folder (the U-Net of chapter 4 is the ``flip`` run of
   chapter 3's study when their settings agree).

``publish`` copies the model a chapter used, with its record and history, to
``models_dir/<name>.keras``, where chapter 6 looks.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import keras
import pandas as pd

from salt_lib.augment import check_policy
from salt_lib.dataset import Dataset
from salt_lib.files import atomic_write
from salt_lib.models import build_model, model_config
from salt_lib.records import config_path, history_path, load_record, read_history, reuse_problems, run_folder_name, run_key

with warnings.catch_warnings():
    # salt_lib.train's tqdm.auto warns once, in notebooks without ipywidgets, that it falls back to
    # text progress bars: harmless, and noise in every chapter's output.
    warnings.filterwarnings("ignore", message="IProgress not found")
    from salt_lib.train import TrainConfig, fit, run_finished


@dataclass
class Experiment:
    """A trained model and its record: ``model_path`` (.keras), ``record`` (its JSON: scores,
    threshold, provenance), ``history`` (one row per epoch; empty if none was kept), where it
    came from (``run_dir``, ``reused``) and a sentence saying why (``note``)."""

    name: str
    model_path: Path
    record: dict
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    run_dir: Path | None = None
    reused: bool = False
    note: str = ""

    def describe(self) -> str:
        val = self.record.get("val", {})
        score = val.get("tgs_score_min_size", val.get("tgs_score", float("nan")))  # what the kept settings score
        return (f"{self.name}: {self.note} {self.record.get('parameters', 0):,} parameters, "
                f"{self.record.get('epochs_trained')} epochs in {self.record.get('wall_seconds', 0):.0f} s; "
                f"validation tgs_score {score:.4f} at threshold {self.record.get('threshold')} "
                f"and min_size {self.record.get('min_size')}.")


def train_run(arch: str, dataset: Dataset, run_dir, preset: str = "lite", overrides: dict | None = None,
              training: dict | None = None, command: str | None = None, verbose: bool = True) -> Path:
    """Train ``arch`` (``preset`` with ``overrides``, ``training`` the ``TrainConfig`` fields) on
    ``dataset``'s train tiles, selecting on its val tiles, into ``run_dir`` (resumed if
    unfinished, nothing done if finished); return the best model's path. ``command`` is stored
    in the record's provenance (default: this call)."""
    config = TrainConfig.from_dict(training)
    keras.utils.set_random_seed(config.seed)  # the initial weights too come from the seed (fit seeds the rest)
    model = build_model(arch, preset, overrides)
    command = command or f"salt_lib.experiments.train_run({arch!r}, preset={preset!r}, overrides={overrides!r}, training={training!r})"
    if verbose:
        print(f"training {arch} ({preset}, {model.count_params():,} parameters) on {len(dataset.train)} tiles, "
              f"validating on {len(dataset.val)}; run folder {run_dir}")
    fit(model, dataset.train, dataset.val, config, run_dir, provenance=dataset.provenance() | {"command": command}, verbose=verbose)
    return Path(run_dir) / "best.keras"


def train_or_reuse(arch: str, dataset: Dataset, runs_dir, preset: str = "lite", overrides: dict | None = None,
                   training: dict | None = None, model_path=None, name: str | None = None, verbose: bool = False) -> Experiment:
    """A trained ``arch`` for these settings and data: ``model_path`` if it fits (see
    ``salt_lib.records.reuse_problems``), else the run ``runs_dir/<arch>-<augment>-<key>``
    (trained, resumed or found done).

    ``training`` holds ``TrainConfig`` fields (epochs, minutes, augment, loss, ...); ``name``
    (default ``arch``) labels the result. ``verbose`` shows salt_lib.train's progress.
    """
    name = name or arch
    settings = TrainConfig.from_dict(training).to_dict()  # fails on a typo before anything is trained
    network = model_config(build_model(arch, preset, overrides))
    notes = []
    if model_path:
        model_path = Path(model_path)
        if model_path.is_file():
            problems = reuse_problems(load_record(model_path), network, settings, dataset.fingerprint, dataset.split_hash)
            if not problems:
                return Experiment(name, model_path, load_record(model_path), read_history(model_path), reused=True,
                                  note=f"reused {model_path} (its JSON records the same model, training settings and data);")
            notes.append(f"{model_path} does not fit ({'; '.join(problems[:3])}{'; ...' if len(problems) > 3 else ''}), so")
        else:
            notes.append(f"{model_path} does not exist, so")
    key = run_key(network, settings, dataset.fingerprint, dataset.split_hash)
    run_dir = Path(runs_dir) / run_folder_name(arch, check_policy(settings['augment']), key)
    best = run_dir / "best.keras"
    reused = run_finished(run_dir)
    if reused:
        notes.append(f"reused the finished run {run_dir};")
    else:
        train_run(arch, dataset, run_dir, preset, overrides, settings, verbose=verbose,
                  command=f"salt_lib.experiments.train_or_reuse({arch!r}, preset={preset!r}, overrides={overrides!r}, training={training!r})")
        notes.append(f"trained in {run_dir};")
    return Experiment(name, best, load_record(best), read_history(best), run_dir, reused=reused, note=" ".join(notes))


def publish(experiment: Experiment, models_dir, name: str) -> Path:
    """Copy the experiment's model, record and history to ``models_dir/<name>.keras``,
    ``.config.json`` and ``.history.csv`` (where chapter 6 looks); return the model path."""
    source, target = experiment.model_path, Path(models_dir) / f"{name}.keras"
    history = read_history(source)  # beside it, or that of the run it was exported from
    for origin, destination in ((source, target), (config_path(source), config_path(target))):
        if origin.resolve() != destination.resolve():
            with atomic_write(destination) as partial:
                shutil.copyfile(origin, partial)
    if len(history):
        with atomic_write(history_path(target)) as partial:
            history.to_csv(partial, index=False)
    else:
        history_path(target).unlink(missing_ok=True)  # no stale history from another model
    return target
