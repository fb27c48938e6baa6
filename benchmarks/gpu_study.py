"""The thesis's seed studies (``salt_lib.study``) on one GPU machine, every run its own process.

The study code is the CPU path's, unchanged: each process calls ``salt_lib.study.run_study`` for
one arm and one seed (Keras on JAX), which trains with ``salt_lib.train.fit`` and writes the run's
result folder (``record.json``, ``history.csv``, ``tiles.csv``) exactly as
``python -m salt_lib study ...`` does. The runs of a study are independent, so they run side by
side (a lite network uses a sliver of the GPU; the host's cores do the augmentation and the
per-epoch validation score). At the driver's deadline whatever finished is packed into one
``seeds.tgz`` under ``--out``; back here, unpack it into ``results/`` and run the same
``python -m salt_lib study NAME --data ../shared/tgs-salt``: it reuses every returned result
(its record must describe the same network, settings, seed, data and split, and its tiles the
same order) and trains on the CPU only what is missing.

The tiles come from ``benchmarks/gpu_pack_data.py``'s ``.gpu/tgs_split.npz`` (the GPU machine has
no ``../shared``); ``packed_dataset`` rebuilds the ``Dataset`` with the same fingerprint and split
hash, and checks the hash against the split it rebuilds.

    python benchmarks/gpu_study.py --out $OUT                          # both studies, every seed
    python benchmarks/gpu_study.py --out $OUT --runs architecture:1,2 policies:0,1,2
    python benchmarks/gpu_study.py --out DIR --run architecture:unet:1 # one run (what the driver starts)
    python benchmarks/gpu_study.py --out $OUT --runs crossval_unet     # the five fold models of `crossval`

**Fold models.** ``crossval_unet`` (or ``crossval_resunet``, ``:FOLDS`` to pick some) trains the
fold models of ``python -m salt_lib crossval`` (``salt_lib.crossval.train_fold``: the same folds,
recipe and run keys; ``--k``, ``--grouped``, ``--fold-seed``, ``--overrides`` and ``--training``
mean what they mean there). Each finished fold comes back as ``crossval_<arch>-fold<i>.tgz``, its
run folder with the best model stripped of optimizer state (about 8 MB for the lite networks). Back
here, unpack them into the ``--runs`` folder of ``crossval`` and run it: it finds those folds
finished, trains only the missing ones, and chooses the threshold on the out-of-fold predictions.

Each record names what trained it (``versions.backend``, ``versions.device``).

**Compiling, not training, was the cost.** In the ten-epoch policy study trained this way, each
run's first epoch (where XLA compiles the training and prediction steps, fifteen processes at once)
took most of its wall time; the later epochs took seconds (``--report results/seeds_policies``
prints it from the committed histories). So the runs share one persistent JAX compilation cache
(``work/jax-cache``), and the seeds of one arm, which compile the same programs, wait for their
first seed (the arm's leader) to finish its first epoch: then they find its programs compiled
(``start_order``). Arms compile side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def packed_dataset(path):
    """The ``salt_lib.dataset.Dataset`` packed in ``path`` (``gpu_pack_data.pack``): the same tiles,
    split, fingerprint and split hash as ``load_dataset`` gives on the original folder."""
    from salt_lib.data import TGSData
    from salt_lib.dataset import Dataset
    from salt_lib.split import split_hash

    with np.load(path) as packed:
        parts = ("train", "val", "test")
        ids = np.concatenate([packed[f"{part}_ids"] for part in parts]).astype(object)
        images = np.concatenate([packed[f"{part}_images"] for part in parts])
        masks = np.concatenate([packed[f"{part}_masks"] for part in parts])
        table = pd.DataFrame({"id": ids, "split": np.concatenate([[part] * len(packed[f"{part}_ids"]) for part in parts])})
        fingerprint, stored_hash = str(packed["data_fingerprint"]), str(packed["split_hash"])
        name = str(packed["data_name"])
    if split_hash(table) != stored_hash:
        raise ValueError(f"{path}: its split hashes to {split_hash(table)}, but it says {stored_hash}")
    tiles = TGSData(ids=ids, images=images, masks=masks, depths=None,
                    coverage=masks.reshape(len(masks), -1).mean(axis=1), fingerprint=fingerprint)
    return Dataset(Path("..") / "shared" / name, tiles, table, None, fingerprint, stored_hash)


def studies(smoke: bool = False) -> dict:
    """The studies by name; ``smoke``: every study with the same arms cut to two plain epochs of
    each stage they have (``smoke_arm``) and no committed models (a test of the machinery)."""
    import dataclasses

    from salt_lib.study import STUDIES

    if not smoke:
        return STUDIES
    return {name: dataclasses.replace(study, model_paths={}, arms=tuple(smoke_arm(arm) for arm in study.arms))
            for name, study in STUDIES.items()}


def smoke_arm(arm):
    """``arm`` with its training cut to a smoke test's (``smoke_training``)."""
    import dataclasses

    return dataclasses.replace(arm, training=smoke_training(arm.training))


def smoke_training(training: dict) -> dict:
    """``training`` with two plain epochs' worth of optimizer steps in each of its stages
    (``mirror``: one epoch of the doubled set), a final stage of one epoch a cycle when it has
    cycles, a first stage that ends on the whole input where it did (``early_size_epochs``: all
    but its last epoch at the small size), and no early stop."""
    from salt_lib.study import equal_step_epochs

    epochs = equal_step_epochs(training.get("augment", "flip"), 2)
    lovasz = training.get("cycles") or (epochs if training.get("lovasz_epochs") else 0)
    cut = {"epochs": epochs, "lovasz_epochs": lovasz, "patience": 8}
    if training.get("early_size_epochs"):
        cut["early_size_epochs"] = max(1, min(training["early_size_epochs"], epochs - 1))
    return dict(training) | cut


CROSSVAL = {"crossval_unet": "unet", "crossval_resunet": "resunet"}  # --runs names of the fold models
MAX_FOLD_ARCHIVES = 6  # the machine returns at most 8 files: seeds.tgz, logs.tgz and the folds
PORTABLE = "best.portable.keras"  # a finished fold's best model without optimizer state


def fold_settings(args) -> tuple[dict, dict]:
    """The fold models' network options and training settings: the default recipe's with
    ``--overrides`` and ``--training`` (JSON) over them, as ``python -m salt_lib crossval`` builds
    them; with ``--smoke``, cut as the studies' arms are (``smoke_training``)."""
    from salt_lib.recipes import DEFAULT

    overrides = dict(DEFAULT.overrides) | json.loads(args.overrides or "{}")
    training = dict(DEFAULT.training) | json.loads(args.training or "{}")
    return overrides, smoke_training(training) if args.smoke else training


def run_fold(spec: str, dataset, args) -> None:
    """Train fold model ``spec`` (``crossval_<arch>:fold:<i>``) into ``run_folder(...)/fold-<i>``,
    and beside its best model a copy without optimizer state (``PORTABLE``), which is what returns."""
    import keras

    from salt_lib import crossval, mosaic
    from salt_lib.files import atomic_write

    name, _, index = spec.split(":")
    groups = mosaic.mosaic_labels(dataset.tiles) if args.grouped else None
    folds = crossval.pool_folds(dataset, args.k, groups, args.fold_seed)
    overrides, training = fold_settings(args)
    best = crossval.train_fold(CROSSVAL[name], dataset, run_folder(Path(args.work), spec), folds, int(index), overrides, training)
    with atomic_write(best.with_name(PORTABLE)) as partial:  # killed at the deadline: no half file to pack
        keras.models.load_model(best, compile=False).save(partial)


def pack_folds(work: Path, out: Path, specs: list[str]) -> list[str]:
    """Each finished fold model of ``specs`` as ``out/<name>-fold<i>.tgz``: its run folder's state,
    record and history, and the model without optimizer state under its own name (``best.keras``),
    which ``crossval`` here reads as a finished run. Returns the archives' names."""
    archives = []
    for spec in specs:
        name, _, index = spec.split(":")
        folder = run_folder(work, spec) / f"fold-{index}"
        if not (folder / PORTABLE).is_file():
            continue
        archive = out / f"{name}-fold{index}.tgz"
        with tarfile.open(archive, "w:gz") as packed:
            for file in ("state.json", "best.config.json", "history.csv"):
                packed.add(folder / file, arcname=f"fold-{index}/{file}")
            packed.add(folder / PORTABLE, arcname=f"fold-{index}/best.keras")
        archives.append(archive.name)
    return archives


def limited(dataset, limit: int):
    """``dataset`` cut to its first ``limit`` tiles of each part (for ``--smoke``)."""
    keep = pd.concat([dataset.split[dataset.split["split"] == part].head(limit) for part in ("train", "val", "test")])
    return type(dataset)(dataset.root, dataset.tiles.subset(keep["id"].to_numpy()), keep, None, dataset.fingerprint, dataset.split_hash)


def run_one(spec: str, args) -> None:
    name, arm, seed = spec.split(":")
    from salt_lib.study import run_study

    dataset = packed_dataset(args.data)
    if args.limit:
        dataset = limited(dataset, args.limit)
    if name in CROSSVAL:
        return run_fold(spec, dataset, args)
    run_study(studies(args.smoke)[name], dataset, run_folder(Path(args.work), spec), Path(args.work) / "results" / f"seeds_{name}",
              seeds=[int(seed)], arms=[arm])


def run_folder(work: Path, spec: str) -> Path:
    """Where run ``spec`` (STUDY:ARM:SEED) trains: a folder of its own, so that the driver can see
    when its first epoch is done."""
    return work / "runs" / spec.replace(":", "-")


def compile_group(spec: str) -> str:
    """``STUDY:ARM``: the runs that compile the same programs (the seeds of one arm: a seed changes
    the weights' values, not the computation)."""
    return spec.rsplit(":", 1)[0]


def start_order(planned: list[str], started: set[str], warm: set[str]) -> list[str]:
    """The planned runs, not yet started, that may start now: each arm's first run (its leader) at
    once, the others once their leader is ``warm`` (its first epoch done, or its process ended)."""
    leaders = {}
    for spec in planned:
        leaders.setdefault(compile_group(spec), spec)
    return [spec for spec in planned if spec not in started
            and (leaders[compile_group(spec)] == spec or leaders[compile_group(spec)] in warm)]


def first_epoch_done(work: Path, spec: str) -> bool:
    """Whether run ``spec`` has written a history row (its programs are compiled and cached)."""
    return any(len(path.read_text().splitlines()) > 1 for path in run_folder(work, spec).glob("*/history.csv"))


def compile_report(results_dir) -> pd.DataFrame:
    """For each result under ``results_dir`` (its ``*/record.json`` with ``history.csv`` beside):
    the run's wall seconds, its first epoch's (the compiling one), the median of its other epochs,
    and the share of the wall time the first epoch took."""
    rows = []
    for record_path in sorted(Path(results_dir).glob("*/record.json")):
        history = pd.read_csv(record_path.with_name("history.csv"))
        record = json.loads(record_path.read_text())
        epoch_seconds = history["elapsed_seconds"].diff().fillna(history["elapsed_seconds"])
        rows.append({"run": record_path.parent.name, "device": record.get("versions", {}).get("device", "?"),
                     "epochs": len(history), "wall_s": round(float(record.get("wall_seconds", history["elapsed_seconds"].iloc[-1])), 1),
                     "first_epoch_s": round(float(epoch_seconds.iloc[0]), 1),
                     "other_epochs_median_s": round(float(epoch_seconds.iloc[1:].median()), 1) if len(history) > 1 else float("nan")})
    table = pd.DataFrame(rows, columns=["run", "device", "epochs", "wall_s", "first_epoch_s", "other_epochs_median_s"])
    return table.assign(first_epoch_share=(table["first_epoch_s"] / table["wall_s"]).round(2))


def planned_runs(selection: list[str], smoke: bool = False, k: int = 5, fold_training: dict | None = None) -> list[str]:
    """``["architecture:1,2", "policies:0"]`` -> ``["architecture:unet:1", ...]``: every arm of each
    named study with the seeds given (default the study's), longest runs first; ``crossval_unet``
    (``:FOLDS``, default all ``k``) -> ``crossval_unet:fold:0``, ... (trained with ``fold_training``)."""
    from salt_lib.study import optimizer_steps

    runs = []
    for item in selection:
        name, _, chosen = item.partition(":")
        numbers = [int(s) for s in chosen.split(",")] if chosen else None
        if name in CROSSVAL:
            folds = numbers if numbers is not None else list(range(k))
            if not set(folds) <= set(range(k)) or len(folds) > MAX_FOLD_ARCHIVES:
                raise SystemExit(f"{item}: folds are 0..{k - 1}, at most {MAX_FOLD_ARCHIVES} a call (one returned file each)")
            runs += [(optimizer_steps(fold_training or {}, 1000), f"{name}:fold:{fold}") for fold in folds]
            continue
        study = studies(smoke)[name]
        for seed in numbers if numbers is not None else study.seeds:
            runs += [(optimizer_steps(arm.training, 1000), f"{name}:{arm.name}:{seed}") for arm in study.arms]
    return [spec for _, spec in sorted(runs, key=lambda run: -run[0])]


def pack_results(work: Path, out: Path) -> list[str]:
    results = work / "results"
    done = sorted(str(record.parent.relative_to(results)) for record in results.glob("*/*/record.json"))
    with tarfile.open(out / "seeds.tgz", "w:gz") as archive:
        for folder in done:
            archive.add(results / folder, arcname=folder)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".gpu/tgs_split.npz")
    parser.add_argument("--out", required=True, help="where seeds.tgz and the logs go")
    parser.add_argument("--work", default="/tmp/gpu-study", help="run and result folders")
    parser.add_argument("--runs", nargs="+", default=["architecture", "policies"],
                        help="STUDY or STUDY:SEEDS (comma-separated); default both studies with their seeds")
    parser.add_argument("--run", help="one run, STUDY:ARM:SEED (what the driver starts)")
    parser.add_argument("--deadline", type=float, default=500, help="seconds the driver waits for the runs")
    parser.add_argument("--smoke", action="store_true", help="two epochs per run (tests the machinery; not a result)")
    parser.add_argument("--limit", type=int, default=0, help="tiles per split (with --smoke)")
    parser.add_argument("--k", type=int, default=5, help="folds, for crossval_<arch> (as crossval's --k)")
    parser.add_argument("--grouped", action="store_true", help="folds keep mosaics whole (as crossval's --grouped)")
    parser.add_argument("--fold-seed", type=int, default=0, help="seed of the fold assignment (crossval's --seed)")
    parser.add_argument("--overrides", help="fold models' options over the default recipe's, as JSON (as crossval's)")
    parser.add_argument("--training", help="fold models' training settings over the default recipe's, as JSON (as crossval's)")
    parser.add_argument("--report", metavar="RESULTS", help="print each result's first-epoch (compile) share of its wall time and exit")
    args = parser.parse_args()
    if args.report:
        return print(compile_report(args.report).to_string(index=False))
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras loads (every salt_lib import here is in a function)
    if args.run:
        return run_one(args.run, args)
    out, work = Path(args.out), Path(args.work)
    logs = work / "logs"  # the GPU machine returns at most 8 files: the logs come back as one archive
    logs.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "2",
                        "PYTHONUNBUFFERED": "1", "JAX_COMPILATION_CACHE_DIR": str(work / "jax-cache"),
                        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    started = time.perf_counter()
    extra = (["--smoke", "--limit", str(args.limit)] if args.smoke else []) + ["--k", str(args.k), "--fold-seed", str(args.fold_seed)]
    extra += (["--grouped"] if args.grouped else []) + [f"--{key}={value}" for key in ("overrides", "training")
                                                         if (value := getattr(args, key))]
    planned, procs, warm, reported = planned_runs(args.runs, args.smoke, args.k, fold_settings(args)[1]), {}, set(), set()
    print(f"{len(planned)} runs planned: {' '.join(planned)}", flush=True)
    while len(reported) < len(planned):
        clock = time.perf_counter() - started
        for spec in start_order(planned, set(procs), warm):
            log = open(logs / (spec.replace(":", "-") + ".log"), "w")
            procs[spec] = subprocess.Popen([sys.executable, __file__, "--data", args.data, "--out", args.out,
                                            "--work", args.work, "--run", spec, *extra], env=env, stdout=log, stderr=subprocess.STDOUT)
            print(f"{spec}: started at {clock:.0f} s", flush=True)
        for spec, proc in procs.items():
            if spec not in warm and (proc.poll() is not None or first_epoch_done(work, spec)):
                warm.add(spec)
            if spec not in reported and proc.poll() is not None:
                reported.add(spec)
                print(f"{spec}: exit {proc.returncode} at {clock:.0f} s", flush=True)
        if clock > args.deadline:
            for spec in [spec for spec in planned if spec not in reported]:
                if spec in procs:
                    procs[spec].kill()
                print(f"{spec}: {'killed' if spec in procs else 'never started'} at the driver's deadline ({args.deadline:.0f} s)",
                      flush=True)
            break
        time.sleep(2)
    done = pack_results(work, out) + pack_folds(work, out, [spec for spec in planned if spec.split(":")[0] in CROSSVAL])
    print(json.dumps({"finished": done, "seconds": round(time.perf_counter() - started, 1)}), flush=True)
    for folder in sorted((work / "results").glob("seeds_*")):  # what compiling cost this time
        print(f"{folder.name}:\n{compile_report(folder).to_string(index=False)}", flush=True)
    with tarfile.open(out / "logs.tgz", "w:gz") as archive:
        archive.add(logs, arcname="logs")


if __name__ == "__main__":
    main()
