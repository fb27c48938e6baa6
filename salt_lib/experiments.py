"""Train or reuse: the workbook's steps between the split and the scores, each cached.

The notebooks never train a model whose result already exists. A model is identified by what
defines it: the architecture (every field of the resolved ``ModelConfig``), the training
settings (``TrainConfig`` without ``minutes`` and ``workers``, as ``salt_lib.train`` does: a
longer time budget continues a run rather than starting another), the data fingerprint and the
split. ``train_or_reuse``

1. reuses ``model_path`` (e.g. the committed ``models/unet_lite.keras``) when the JSON beside it
   records the same architecture, training settings and data fingerprint (and the same split,
   when its split file can be read);
2. otherwise trains into ``runs_dir/<arch>-<augment>-<key>``, ``key`` a hash of all of the
   above, with ``salt_lib.train.fit``, which finishes an interrupted run from its last epoch and
   does nothing for a finished one. Two chapters asking for the same model share the folder (the
   U-Net of chapter 4 is the ``flip`` run of chapter 3's study when their settings agree).

Predictions are cached too (``predictions``), keyed by the bytes of the model file and of the
tiles, so chapter 6 reuses what chapters 4 and 5 computed.

Layout of a workbook output folder (paths are notebook parameters)::

    split.csv                      the 6:2:2 split (chapter 2)
    runs/<arch>-<augment>-<key>/   run folders of salt_lib.train (best.keras, history.csv, ...)
    models/<name>.keras            the model a chapter used, with .config.json and .history.csv
    cache/probs-<model>-<tiles>.npy   salt probabilities (N, 101, 101) float32
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.data import DataError, TGSData, data_fingerprint, load_tgs
from salt_lib.evaluate import bootstrap_ci, per_tile_scores
from salt_lib.split import ids_of, load_split, save_split, split_622, split_hash

with warnings.catch_warnings():
    # salt_lib.train's tqdm.auto warns once, in notebooks without ipywidgets, that it falls back to
    # text progress bars: harmless, and noise in every chapter's output.
    warnings.filterwarnings("ignore", message="IProgress not found")
    import tqdm.auto  # noqa: F401

# Training settings that do not change what a run computes, or (minutes) that may grow to let a
# run continue: left out of run keys and reuse checks, as salt_lib.train does.
IGNORED_TRAINING_KEYS = ("minutes", "workers")


# --------------------------------------------------------------------------------------------
# Data and split
# --------------------------------------------------------------------------------------------


def ensure_data(data_dir, synthetic_tiles: int = 0, seed: int = 0) -> Path:
    """The data folder, after writing the embedded synthetic set there if it is missing.

    With ``synthetic_tiles > 0`` a missing folder gets ``synthetic_tiles`` labelled synthetic
    tiles (``make_synthetic_tgs``, written to a temporary folder and renamed, so an interrupted
    run never leaves half a data set). An existing synthetic folder with another number of tiles
    is an error (say which to delete). With ``synthetic_tiles == 0`` the folder must exist.
    """
    root = Path(data_dir)
    images = root / "train" / "images"
    if images.is_dir():
        if synthetic_tiles and (root / "SYNTHETIC.txt").is_file():
            found = sum(1 for _ in images.glob("*.png"))
            if found != synthetic_tiles:
                raise DataError(f"{root}: holds {found} synthetic tiles, the parameters ask for {synthetic_tiles}. "
                                f"Delete {root} to regenerate it, or set synthetic_tiles = {found}.")
        return root
    if synthetic_tiles <= 0:
        raise DataError(f"{root}: no train/images folder. Pass the folder of Kaggle's unzipped download, "
                        "or set synthetic_tiles > 0 to generate the synthetic data set there.")
    if root.exists() and any(root.iterdir()):
        raise DataError(f"{root}: exists but holds no train/images. Empty it or choose another data_dir.")
    from salt_lib.synthetic import make_synthetic_tgs

    partial = root.with_name(root.name + f".part{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    make_synthetic_tgs(partial, n_train=synthetic_tiles, n_test=0, seed=seed)
    if root.exists():
        root.rmdir()
    os.replace(partial, root)
    return root


def load_data(data_dir, synthetic_tiles: int = 0, seed: int = 0) -> TGSData:
    """The labelled tiles of ``data_dir`` (made first if synthetic and missing: ``ensure_data``)."""
    return load_tgs(ensure_data(data_dir, synthetic_tiles, seed))


def write_split(tiles: TGSData, split_file, seed: int = 0) -> pd.DataFrame:
    """Make the 6:2:2 split of ``tiles`` with ``seed``, write it to ``split_file``, return it."""
    table = split_622(tiles.ids, tiles.coverage, seed=seed)
    save_split(table, split_file)
    return table


def read_or_write_split(tiles: TGSData, split_file, seed: int = 0) -> pd.DataFrame:
    """The split in ``split_file`` if it covers exactly these tiles, else a fresh 6:2:2 split
    with ``seed`` written there. The split is a function of (tiles, seed), so rewriting a stale
    file loses nothing, and models are keyed by the split's content, so none is reused wrongly."""
    split_file = Path(split_file)
    if split_file.is_file():
        table = load_split(split_file)
        if set(table["id"]) == set(tiles.ids.astype(str)):
            return table
        print(f"{split_file} was made for other tiles; writing the split of these tiles there")
    return write_split(tiles, split_file, seed)


@dataclass(frozen=True)
class Dataset:
    """The labelled tiles, their split and the provenance every model records."""

    root: Path
    tiles: TGSData
    split: pd.DataFrame
    split_file: Path
    fingerprint: str
    split_hash: str

    def part(self, name: str) -> TGSData:
        """The tiles of split ``name`` ('train', 'val' or 'test')."""
        return self.tiles.subset(ids_of(self.split, name))

    def provenance(self) -> dict:
        return {"data": str(self.root.resolve()), "data_fingerprint": self.fingerprint,
                "split_file": str(self.split_file.resolve()), "split_hash": self.split_hash}

    def describe(self) -> str:
        counts = self.split["split"].value_counts()
        return (f"{len(self.tiles)} labelled tiles in {self.root} (fingerprint {self.fingerprint}); split "
                f"{self.split_file.name} (hash {self.split_hash}): train {counts.get('train', 0)}, "
                f"val {counts.get('val', 0)}, test {counts.get('test', 0)}")


def prepare(data_dir, split_file, synthetic_tiles: int = 0, seed: int = 0, split_seed: int = 0) -> Dataset:
    """Tiles, split and fingerprint for a chapter: ``load_data`` + ``read_or_write_split``."""
    tiles = load_data(data_dir, synthetic_tiles, seed)
    table = read_or_write_split(tiles, split_file, split_seed)
    return Dataset(Path(data_dir), tiles, table, Path(split_file), data_fingerprint(data_dir), split_hash(table))


# --------------------------------------------------------------------------------------------
# Train or reuse
# --------------------------------------------------------------------------------------------


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


def training_settings(training: dict | None) -> dict:
    """``TrainConfig(**training)`` as a dict (all fields, defaults filled in); a ValueError names
    unknown keys."""
    from salt_lib.train import TrainConfig

    training = dict(training or {})
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(training) - known)
    if unknown:
        raise ValueError(f"unknown training setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    return TrainConfig(**training).to_dict()


def _comparable_training(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in IGNORED_TRAINING_KEYS}


def model_fields(arch: str, preset: str = "lite", overrides: dict | None = None) -> dict:
    """Every ``ModelConfig`` field of ``arch``/``preset`` with ``overrides``, plus ``arch``."""
    from salt_lib.models import resolve_config

    return dataclasses.asdict(resolve_config(arch, preset, overrides)) | {"arch": arch}


def run_key(arch: str, preset: str, overrides: dict | None, training: dict | None, dataset: Dataset) -> str:
    """A 12-character hash of what defines a trained model (see the module docstring)."""
    described = {"model": model_fields(arch, preset, overrides), "training": _comparable_training(training_settings(training)),
                 "data_fingerprint": dataset.fingerprint, "split_hash": dataset.split_hash}
    return hashlib.sha1(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:12]


def reuse_problems(record: dict, arch: str, preset: str, overrides: dict | None, training: dict | None, dataset: Dataset) -> list[str]:
    """Why a saved model's JSON ``record`` does not fit these settings and data (empty: it fits).

    Compares every model field, the training settings (but ``minutes`` and ``workers``), the
    data fingerprint and, where the record names a readable split (its ``split_hash``, or its
    ``split_file`` on this machine), the split.
    """
    problems = []
    for name, value in model_fields(arch, preset, overrides).items():
        if record.get(name) != value:
            problems.append(f"model {name} is {record.get(name)!r}, not {value!r}")
    wanted, saved = _comparable_training(training_settings(training)), _comparable_training(record.get("training", {}))
    for name in sorted(set(wanted) | set(saved)):
        if saved.get(name) != wanted.get(name):
            problems.append(f"training {name} is {saved.get(name)!r}, not {wanted.get(name)!r}")
    provenance = record.get("provenance", {})
    if provenance.get("data_fingerprint") != dataset.fingerprint:
        problems.append(f"data fingerprint is {provenance.get('data_fingerprint')!r}, not {dataset.fingerprint!r}")
    saved_split = provenance.get("split_hash")
    if saved_split is None and provenance.get("split_file") and Path(provenance["split_file"]).is_file():
        saved_split = split_hash(load_split(provenance["split_file"]))
    if saved_split is not None and saved_split != dataset.split_hash:
        problems.append(f"split hash is {saved_split!r}, not {dataset.split_hash!r}")
    return problems


def load_record(model_path) -> dict:
    """The JSON beside a saved model (``models.config_path``); DataError if it is missing."""
    from salt_lib.models import config_path

    path = config_path(model_path)
    if not path.is_file():
        raise DataError(f"{path}: missing. A model needs the JSON that salt_lib.train writes beside it "
                        "(best.config.json next to best.keras; copy both).")
    return json.loads(path.read_text())


def history_path(model_path) -> Path:
    """Where a model's training history belongs: ``history.csv`` beside a run's ``best.keras``,
    else ``<stem>.history.csv`` beside the model (as ``publish`` writes it)."""
    model_path = Path(model_path)
    if model_path.name == "best.keras":
        return model_path.with_name("history.csv")
    return model_path.with_name(model_path.stem + ".history.csv")


def find_history(model_path) -> Path | None:
    """The model's history file: ``history_path``, else the ``history.csv`` of the run it was
    exported from (``exported_from`` in its JSON, see ``salt_lib.train.export_model``), if
    either exists."""
    candidates = [history_path(model_path)]
    json_path = Path(model_path).with_name(Path(model_path).stem + ".config.json")
    if json_path.is_file():
        exported_from = json.loads(json_path.read_text()).get("exported_from")
        if exported_from:
            candidates.append(Path(exported_from) / "history.csv")
    return next((path for path in candidates if path.is_file()), None)


def read_history(model_path) -> pd.DataFrame:
    """The model's history table (see ``find_history``), or an empty table if none was kept."""
    path = find_history(model_path)
    return pd.read_csv(path) if path else pd.DataFrame()


def train_or_reuse(arch: str, dataset: Dataset, runs_dir, preset: str = "lite", overrides: dict | None = None,
                   training: dict | None = None, model_path=None, name: str | None = None, verbose: bool = False) -> Experiment:
    """A trained ``arch`` for these settings and data: ``model_path`` if it fits (see
    ``reuse_problems``), else the run ``runs_dir/<arch>-<augment>-<key>`` (trained, resumed or
    found done).

    ``training`` holds ``TrainConfig`` fields (epochs, minutes, augment, loss, ...); ``name``
    (default ``arch``) labels the result. ``verbose`` shows salt_lib.train's progress.
    """
    name = name or arch
    settings = training_settings(training)  # fails on a typo before anything is trained
    notes = []
    if model_path:
        model_path = Path(model_path)
        if model_path.is_file():
            problems = reuse_problems(load_record(model_path), arch, preset, overrides, training, dataset)
            if not problems:
                return Experiment(name, model_path, load_record(model_path), read_history(model_path), reused=True,
                                  note=f"reused {model_path} (its JSON records the same model, training settings and data);")
            notes.append(f"{model_path} does not fit ({'; '.join(problems[:3])}{'; ...' if len(problems) > 3 else ''}), so")
        else:
            notes.append(f"{model_path} does not exist, so")
    run_dir = Path(runs_dir) / f"{arch}-{settings['augment']}-{run_key(arch, preset, overrides, training, dataset)}"
    best = run_dir / "best.keras"
    if _finished(run_dir):
        notes.append(f"reused the finished run {run_dir};")
        return Experiment(name, best, load_record(best), read_history(best), run_dir, reused=True, note=" ".join(notes))
    _train(arch, preset, overrides, settings, dataset, run_dir, verbose)
    notes.append(f"trained in {run_dir};")
    return Experiment(name, best, load_record(best), read_history(best), run_dir, reused=False, note=" ".join(notes))


def _finished(run_dir: Path) -> bool:
    state = run_dir / "state.json"
    return state.is_file() and json.loads(state.read_text()).get("finished", False) and (run_dir / "best.config.json").is_file()


def _train(arch, preset, overrides, settings, dataset: Dataset, run_dir: Path, verbose: bool) -> None:
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    model = build_model(arch, preset, overrides)
    config = TrainConfig(**settings)
    model.salt_config["geometry"] = config.geometry
    provenance = dataset.provenance() | {
        "command": f"salt_lib.experiments.train_or_reuse({arch!r}, preset={preset!r}, overrides={overrides!r}, training={settings!r})"}
    fit(model, dataset.part("train"), dataset.part("val"), config, run_dir, provenance=provenance, verbose=verbose)


def publish(experiment: Experiment, models_dir, name: str) -> Path:
    """Copy the experiment's model, JSON and history to ``models_dir/<name>.keras``,
    ``.config.json`` and ``.history.csv`` (where chapter 6 looks); return the model path."""
    from salt_lib.models import config_path

    target = Path(models_dir) / f"{name}.keras"
    target.parent.mkdir(parents=True, exist_ok=True)
    history = find_history(experiment.model_path)
    pairs = [(experiment.model_path, target), (config_path(experiment.model_path), config_path(target)),
             (history or history_path(experiment.model_path), history_path(target))]
    for source, destination in pairs:
        if not source.is_file():
            destination.unlink(missing_ok=True)  # no stale history from another model
        elif source.resolve() != destination.resolve():
            partial = destination.with_name(destination.name + ".part")
            shutil.copyfile(source, partial)
            os.replace(partial, destination)
    return target


def policy_descriptions(policies) -> pd.DataFrame:
    """What each augmentation policy does (``salt_lib.augment.DESCRIPTIONS``), one row each."""
    from salt_lib.augment import DESCRIPTIONS, check_policy

    return pd.DataFrame({"policy": list(policies), "what it does": [DESCRIPTIONS[check_policy(p)] for p in policies]})


def parameter_counts(arch: str, preset: str = "lite", overrides: dict | None = None) -> pd.DataFrame:
    """Parameters of this chapter's model and of the seed preset (built only to be counted)."""
    from salt_lib.models import build_model

    rows = []
    for label, (chosen_preset, chosen_overrides) in {"this chapter": (preset, overrides or {}), "seed (source thesis)": ("seed", {})}.items():
        model = build_model(arch, chosen_preset, chosen_overrides)
        rows.append({"model": label, "arch": arch, "preset": chosen_preset,
                     "overrides": json.dumps(chosen_overrides, sort_keys=True), "parameters": int(model.count_params())})
        del model
        gc.collect()  # the seed models hold 120-160 MB of weights
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Predictions and scores
# --------------------------------------------------------------------------------------------


def _digest(*parts) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return digest.hexdigest()[:16]


def predictions(model_path, tiles: TGSData, cache_dir, tta: bool = True) -> np.ndarray:
    """Salt probabilities (N, 101, 101) float32 of a saved model for ``tiles``, with flip TTA.

    Cached in ``cache_dir`` under a key of the model file's bytes and the tiles (ids and pixels),
    so a retrained model or other tiles never get stale probabilities.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise DataError(f"{model_path}: no such model. Run the chapter that trains it first "
                        "(04_unet / 05_resunet publish theirs to models_dir), or fix the path.")
    tiles_key = _digest("\n".join(tiles.ids.astype(str)), tiles.images.tobytes())
    key = f"probs-{_digest(model_path.read_bytes())}-{tiles_key}-{'tta' if tta else 'plain'}"
    path = Path(cache_dir) / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    from salt_lib.models import load_model
    from salt_lib.predict import predict

    probs = predict(load_model(model_path, compile=False), tiles.images, tta=tta).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + f".part{os.getpid()}.npy")
    np.save(partial, probs)
    os.replace(partial, path)
    return probs


@dataclass
class Evaluation:
    """A saved model scored on labelled tiles at the threshold and minimum size of its JSON:
    probabilities and masks (N, 101, 101), per-tile scores (``evaluate.per_tile_scores``) and
    their means (``scores``)."""

    name: str
    model_path: Path
    record: dict
    history: pd.DataFrame
    probs: np.ndarray
    masks: np.ndarray
    per_tile: dict
    scores: dict


def evaluate_saved(model_path, tiles: TGSData, cache_dir, name: str | None = None, tta: bool = True) -> Evaluation:
    """Predict (cached) and score a saved model on labelled ``tiles``."""
    from salt_lib.predict import to_masks

    model_path = Path(model_path)
    probs = predictions(model_path, tiles, cache_dir, tta)
    record = load_record(model_path)
    masks = to_masks(probs, record.get("threshold", 0.5), record.get("min_size", 0))
    per_tile = per_tile_scores(tiles.masks, masks)
    return Evaluation(name or model_path.stem, model_path, record, read_history(model_path), probs, masks, per_tile,
                      {score: float(values.mean()) for score, values in per_tile.items()})


def training_images_per_second(record: dict, history: pd.DataFrame, train_tiles: int) -> float:
    """Training throughput (tiles per second): the median over epochs of the history's
    ``images_per_second``; without a history, epochs x tiles / wall seconds (which also counts
    the per-epoch validation, so it is a little lower)."""
    if len(history) and "images_per_second" in history:
        return float(history["images_per_second"].median())
    tiles_per_epoch = train_tiles * (2 if record.get("training", {}).get("augment") == "seed" else 1)
    seconds = record.get("wall_seconds") or np.nan
    return float((record.get("epochs_trained") or 0) * tiles_per_epoch / seconds)


def policy_table(runs: dict[str, Experiment], dataset: Dataset, cache_dir, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The augmentation study's table: per policy, the validation and test ``tgs_score`` (at the
    policy's own validation-tuned threshold) with bootstrap 95 % intervals over tiles."""
    val, test = dataset.part("val"), dataset.part("test")
    rows = []
    for policy, run in runs.items():
        row = {"policy": policy, "epochs": run.record.get("epochs_trained"), "train_seconds": run.record.get("wall_seconds")}
        for split, tiles in (("val", val), ("test", test)):
            scores = evaluate_saved(run.model_path, tiles, cache_dir, policy).per_tile["tgs_score"]
            interval = bootstrap_ci(scores, n_resamples, seed=seed)
            row |= {f"{split}_tgs_score": interval["mean"], f"{split}_ci_low": interval["low"], f"{split}_ci_high": interval["high"]}
        rows.append(row | {"threshold": run.record.get("threshold")})
    return pd.DataFrame(rows)


def comparison_table(results: dict[str, Evaluation], train_tiles: int, n_resamples: int = 2000) -> pd.DataFrame:
    """Chapter 6's table: one row per model with its size, training cost and test scores, and the
    95% bootstrap interval of its test ``tgs_score`` (``tgs_score_ci_low`` / ``_high``)."""
    rows = []
    for name, result in results.items():
        record = result.record
        interval = bootstrap_ci(result.per_tile["tgs_score"], n_resamples)
        rows.append({"model": name, "arch": record.get("arch"), "parameters": record.get("parameters"),
                     "training_minutes": (record.get("wall_seconds") or np.nan) / 60,
                     "train_images_per_s": training_images_per_second(record, result.history, train_tiles),
                     **result.scores, "tgs_score_ci_low": interval["low"], "tgs_score_ci_high": interval["high"],
                     "threshold": record.get("threshold"), "min_size": record.get("min_size")})
    return pd.DataFrame(rows)
