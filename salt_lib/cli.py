"""Command line: ``python -m salt_lib COMMAND`` (or the ``salt-lib`` console script).

Errors a user can cause (a missing folder, a broken tile, a split file made for other data, a
notebook that fails) print one clear line and exit with status 2, never a traceback.

Keras and everything built on it (``models``, ``records``, ``train``, ``experiments``,
``evaluate``, ``predict``, ``submission``, ``bench``) is imported inside the commands, after the
data were checked: importing it takes seconds, and a mistyped path should fail at once.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

from salt_lib.book.sources import BookError
from salt_lib.data import DataError, load_tgs, png_files, read_image
from salt_lib.dataset import load_dataset
from salt_lib.files import stored_path, unwritable
from salt_lib.recipes import RECIPES
from salt_lib.split import split_622
from salt_lib.synthetic import make_synthetic_tgs
from salt_lib.workbook import WorkbookError
from salt_lib.workbook import main as workbook_main


def cmd_synth(args) -> None:
    root = Path(args.out)
    if args.if_missing and (root / "train" / "images").is_dir():
        print(f"synthetic data already at {root}; reusing it")
        return
    start = time.perf_counter()
    make_synthetic_tgs(root, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    print(f"wrote {args.n_train} train + {args.n_test} test synthetic tiles to {root} in {time.perf_counter() - start:.1f} s")


def cmd_summary(args) -> None:
    start = time.perf_counter()
    data = load_tgs(args.data)
    elapsed = time.perf_counter() - start
    summary = data.summary()
    summary["load_seconds"] = round(elapsed, 3)
    summary["split_622"] = split_622(data.ids, data.coverage).groupby("split").size().to_dict()
    print(json.dumps(summary, indent=2))


def cmd_train(args) -> None:
    out = Path(args.out)
    fields = {"epochs": args.epochs, "minutes": args.minutes, "augment": args.augment, "loss": args.loss,
              "batch_size": args.batch_size, "learning_rate": args.lr, "lovasz_epochs": args.lovasz_epochs,
              "seed": args.seed, "patience": args.patience, "swa_epochs": args.swa_epochs}
    training = {k: v for k, v in fields.items() if v is not None}
    recipe = RECIPES[args.recipe] if args.recipe else None
    if recipe:  # the named recipe, changed by the flags given
        training = dict(recipe.training) | training
    from salt_lib.train import TrainConfig, use_devices

    TrainConfig.from_dict(training)  # a bad budget is refused before any file is written
    dataset = load_dataset(args.data, args.split or out / "split.csv")
    from salt_lib.evaluate import evaluate_model
    from salt_lib.experiments import train_run

    devices = use_devices(args.devices)  # before the model is built: its weights are placed per device
    if devices:
        print(f"data parallel on {', '.join(devices)} (global batch split across them)")
    overrides = (dict(recipe.overrides) if recipe else {}) | (json.loads(args.overrides) if args.overrides else {})
    if args.geometry:
        overrides["geometry"] = args.geometry
    best = train_run(args.arch, dataset, out, args.preset, overrides, training, command="python -m salt_lib " + " ".join(sys.argv[1:]))
    print("test:", json.dumps(evaluate_model(best, dataset.test).summary()))


def record_split_file(record: dict, split_file=None) -> Path | None:
    """The split to score a saved model on: ``split_file`` if given, else the split file its
    record names if that is on this machine, else None (``split_622`` made afresh, not written:
    a stored path may be another machine's)."""
    if split_file:
        return Path(split_file)
    saved = stored_path(record.get("provenance", {}).get("split_file"))
    return saved if saved and saved.is_file() else None


def cmd_evaluate(args) -> None:
    model_paths = [_existing_model(path) for path in args.model]
    from salt_lib.evaluate import evaluate_model
    from salt_lib.records import load_record

    dataset = load_dataset(args.data, record_split_file(load_record(model_paths[0]), args.split_file))
    # Several models are one ensemble, its threshold and minimum size chosen on the validation split.
    result = evaluate_model(model_paths, dataset.part(args.split), val=dataset.val)
    members = {"models": [str(path) for path in model_paths]} if len(model_paths) > 1 else {}
    print(json.dumps({"split": args.split, **members, **result.summary()}, indent=2))


def cmd_export(args) -> None:
    from salt_lib.evaluate import evaluate_model
    from salt_lib.records import config_path, export_model, load_record

    best = Path(args.run_dir) / "best.keras"
    if not best.is_file() or not config_path(best).is_file():
        raise DataError(f"{args.run_dir}: no best.keras with its best.config.json. Point --run at a folder `train --out` wrote.")
    record = load_record(best)
    dataset = load_dataset(args.data, record_split_file(record))
    saved_hash = record.get("provenance", {}).get("split_hash")
    if saved_hash and saved_hash != dataset.split_hash:
        raise DataError(f"{args.run_dir} was validated on split {saved_hash}, but {args.data} gives split {dataset.split_hash}: "
                        "pass the data it was trained on (its split file must still be where its JSON says).")
    test = evaluate_model(best, dataset.test).summary()
    print("test:", json.dumps(test))
    print(f"wrote {args.out} and {export_model(args.run_dir, args.out, test_scores=test)}")


def cmd_predict(args) -> None:
    model_paths = [_existing_model(path) for path in args.model]
    from salt_lib.records import saved_ensemble

    # Several files are averaged; their threshold and minimum size are chosen on the validation split,
    # unless they are an ensemble folder, which chose its own out of fold.
    needs_val = len(model_paths) > 1 and not saved_ensemble(model_paths)
    if needs_val and not args.data:
        raise DataError("several --model files are averaged, and their threshold and minimum size are chosen on the "
                        "validation split: pass --data, the labelled data they were trained on (an ensemble folder "
                        "with its ensemble.json needs none).")
    files = png_files(args.images) if Path(args.images).is_dir() else None
    if files is None:
        raise DataError(f"{args.images}: no such folder of PNG tiles.")
    if not files:
        raise DataError(f"{args.images}: no PNG images in this folder. Point --images at e.g. test/images.")
    out = Path(args.out)
    problem = unwritable(out)
    if problem:  # checked without creating anything: a failed command leaves no file behind
        raise DataError(f"{out}: cannot write the submission here ({problem}). Choose another --out.")
    read_image(files[min(files)])  # a broken first tile fails now, not after loading Keras
    from salt_lib.records import load_record
    from salt_lib.submission import write_submission_csv

    val = None
    if needs_val:
        val = load_dataset(args.data, record_split_file(load_record(model_paths[0]), args.split_file)).val
    done = write_submission_csv(model_paths, args.images, out, val=val, tta=not args.no_tta, batch=args.batch)
    averaged = f", the mean of {len(model_paths)} models" if len(model_paths) > 1 else ""
    print(f"wrote {done['rows']} rows to {out} (threshold {done['threshold']}, min_size {done['min_size']}{averaged})")


def _existing_model(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such model file. Train one with `python -m salt_lib train`, or use models/unet_lite.keras.")
    return path


def cmd_crossval(args) -> None:
    dataset = load_dataset(args.data, args.split)  # bad data fails here, before Keras loads
    training = json.loads(args.training) if args.training else {}
    overrides = json.loads(args.overrides) if args.overrides else {}
    from salt_lib import crossval, mosaic
    from salt_lib.recipes import DEFAULT
    from salt_lib.records import ENSEMBLE_FILE

    groups = mosaic.mosaic_labels(dataset.tiles) if args.grouped else None
    print(f"cross-validation: {args.k} folds of {args.arch} over the train and validation tiles of {dataset.describe()}"
          f"{', mosaics kept whole' if args.grouped else ''}; runs in {args.runs}, the ensemble in {args.out}", flush=True)
    record = crossval.run_crossval(args.arch, dataset, args.runs, args.out, args.k, groups, dict(DEFAULT.overrides) | overrides,
                                   dict(DEFAULT.training) | training, seed=args.seed, command="python -m salt_lib " + " ".join(sys.argv[1:]))
    val = record["val"]
    print(f"out of fold ({val['tiles']} tiles): tgs_score {val['tgs_score_min_size']:.4f} at threshold {record['threshold']} and "
          f"min_size {record['min_size']}; per fold {', '.join(f'{score:.4f}' for score in val['per_fold'])}")
    print(f"wrote {Path(args.out) / ENSEMBLE_FILE}; the test split is not scored here. Once the recipe is fixed: "
          f"python -m salt_lib evaluate --model {args.out}/*.keras --data {args.data}")


STUDY_NAMES = ("architecture", "policies", "policies_final", "policies_final_resunet", "long_schedule",
               "learning_rate_unet", "learning_rate_resunet", "recipe_fast_unet", "recipe_fast_resunet",
               "recipe_progressive_unet", "recipe_progressive_resunet")  # salt_lib.study.STUDIES (kept here: the parser loads no Keras)


def cmd_study(args) -> None:
    dataset = load_dataset(args.data, args.split)  # bad data fails here, before Keras loads
    import pandas as pd

    from salt_lib import study as studies

    study = studies.STUDIES[args.name]
    results_dir = Path(args.results) if args.results else studies.results_folder(study.name)
    print(f"study {study.name}: arms {', '.join(arm.name for arm in study.arms)} differing in {study.factor}; "
          f"seeds {' '.join(map(str, args.seeds or study.seeds))}; {dataset.describe()}; runs in {args.runs}, "
          f"results in {results_dir}", flush=True)
    results = studies.run_study(study, dataset, args.runs, results_dir, seeds=args.seeds, verbose=not args.quiet, arms=args.arms)
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.float_format", "{:.4f}".format):
        print("\nper seed:\n" + studies.seed_table(results).to_string(index=False))
        print("\nper arm:\n" + studies.seed_summary(results).to_string(index=False))
        split = "test" if study.score_test else "val"  # a study that chooses a recipe compares on validation
        pairs = studies.pairwise_table(results, study.reference if len(study.arms) == 2 or not study.score_test else None, split)
        if len(pairs):
            print(f"\npaired ({split}):\n" + pairs.drop(columns="per_seed").to_string(index=False))
        cycles = studies.snapshot_table(results)
        if len(cycles):
            print("\nend-of-cycle snapshots (val), alone and as a snapshot ensemble of the cycles so far:\n" + cycles.to_string(index=False))
        if args.ensembles:
            folder = Path(args.ensembles)
            for kept in studies.keep_members(results, args.runs, studies.MEMBERS):
                print(f"kept {kept} (a seed-ensemble member, to commit)", flush=True)
            ensembles = studies.write_seed_ensembles(study, results, dataset, folder, args.runs, cache_dir=Path(args.runs) / "cache",
                                                     kept=studies.MEMBERS)
            print(f"\nseed ensembles ({folder}):\n" + studies.ensemble_table(ensembles).to_string(index=False))


def cmd_bench(args) -> None:
    from salt_lib.bench import main as bench_main

    bench_main(args.out, rounds=args.rounds, steps=args.steps, include_thesis=not args.no_thesis, real_loop_epochs=args.real_loop)


def cmd_workbook(args) -> None:
    workbook_main(args.profile, data=args.data, only=args.only, out=args.out, in_place=args.in_place, render=args.render,
                  language=args.language)


def cmd_book(args) -> None:
    from salt_lib.book import main as book_main

    book_main(args.profile, args.language, chapters_dir=args.chapters, out_dir=args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salt_lib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="write the synthetic TGS-like data set in Kaggle's layout")
    synth.add_argument("--out", required=True, help="folder to create")
    synth.add_argument("--n-train", type=int, default=4000)
    synth.add_argument("--n-test", type=int, default=1000)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--if-missing", action="store_true", help="do nothing if the folder already holds a data set")
    synth.set_defaults(run=cmd_synth)

    summary = commands.add_parser("summary", help="load a data set and print what it holds")
    summary.add_argument("--data", required=True, help="folder in Kaggle's layout (holds train/)")
    summary.set_defaults(run=cmd_summary)

    train = commands.add_parser("train", help="train a U-Net or ResUNet (resumes an unfinished run in --out)")
    train.add_argument("--data", required=True)
    train.add_argument("--arch", choices=("unet", "resunet"), required=True)
    train.add_argument("--preset", choices=("lite", "thesis", "seed"), default="lite",
                       help="lite (sized for a CPU) or thesis (the source thesis's network; 'seed' is its old name)")
    train.add_argument("--recipe", choices=tuple(RECIPES), help="start from a named recipe (salt_lib.recipes: default, "
                       "the committed models'; fast, its shorter stages; progressive, its first stage mostly at half scale; thesis, "
                       "the source thesis's); the other flags change it")
    train.add_argument("--overrides", help='model options as JSON, e.g. \'{"filters": 8}\'')
    train.add_argument("--epochs", type=int)
    train.add_argument("--minutes", type=float, help="safety cap on wall-clock time (the budget is --epochs); "
                       "a cut run says so in its history and record (cut_by_time)")
    train.add_argument("--augment", help="none | mirror | flip | flip_geo | flip_geo_intensity ('seed' is mirror's old name)")
    train.add_argument("--loss", help="bce | iou | dice | bce_dice | lovasz | lovasz_symmetric")
    train.add_argument("--lovasz-epochs", type=int, help="second stage with the Lovasz hinge")
    train.add_argument("--swa-epochs", type=int, help="average the weights of the last stage's last N epochs (SWA); "
                       "kept when it scores at least as well on validation")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--geometry", choices=("pad", "resize"), help="how tiles reach the input size (a model option)")
    train.add_argument("--seed", type=int)
    train.add_argument("--patience", type=int, help="epochs without a better validation score before a stage stops")
    train.add_argument("--split", help="split CSV to use (default: made and saved as OUT/split.csv)")
    train.add_argument("--devices", help="data parallel over local devices: all | a count | gpu:0,gpu:1 "
                       "(several devices need KERAS_BACKEND=jax; the batch size is the global batch)")
    train.add_argument("--out", required=True, help="run folder")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score a saved model, or several as one (averaged), on a split")
    evaluate.add_argument("--model", required=True, nargs="+",
                          help="one .keras file, or several: their probabilities are averaged and the threshold and "
                          "minimum size chosen on the validation split")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--split", choices=("train", "val", "test"), default="test")
    evaluate.add_argument("--split-file", help="default: the split file named in the model's JSON")
    evaluate.set_defaults(run=cmd_evaluate)

    export = commands.add_parser("export", help="score a run's best model on the test split and copy it, "
                                 "without optimizer state, with its JSON and history (e.g. to models/)")
    export.add_argument("--run", dest="run_dir", required=True, help="run folder of `train`")
    export.add_argument("--data", required=True, help="the data the run was trained on")
    export.add_argument("--out", required=True, help="destination .keras file, e.g. models/unet_lite.keras")
    export.set_defaults(run=cmd_export)

    predict = commands.add_parser("predict", help="write a competition submission (id,rle_mask)")
    predict.add_argument("--model", required=True, nargs="+",
                         help="one .keras file, or several: their probabilities are averaged (needs --data)")
    predict.add_argument("--images", required=True, help="folder of <id>.png tiles")
    predict.add_argument("--data", help="for several models: the labelled data they were trained on, whose "
                         "validation split chooses the threshold and minimum size")
    predict.add_argument("--split-file", help="default: the split file named in the first model's JSON")
    predict.add_argument("--out", required=True, help="submission CSV")
    predict.add_argument("--batch", type=int, default=256)
    predict.add_argument("--no-tta", action="store_true")
    predict.set_defaults(run=cmd_predict)

    bench = commands.add_parser("bench", help="measure training / inference speed, memory, augmentation overhead")
    bench.add_argument("--out", help="JSON file for the results")
    bench.add_argument("--real-loop", type=int, default=0, metavar="EPOCHS",
                       help="instead: the real training loop (salt_lib.train.fit) beside the bare step, for EPOCHS epochs each")
    bench.add_argument("--rounds", type=int, default=5)
    bench.add_argument("--steps", type=int, default=4)
    bench.add_argument("--no-thesis", "--no-seed", dest="no_thesis", action="store_true",
                       help="skip the 31M/40M-parameter thesis presets")
    bench.set_defaults(run=cmd_bench)

    study = commands.add_parser("study", help="a seed study (salt_lib.study): every arm trained with every seed on one "
                                "schedule, scored on val and test, small records in --results; rerun to continue")
    study.add_argument("name", choices=STUDY_NAMES, help="architecture (U-Net vs ResUNet, the default recipe), policies "
                       "(the five augmentation policies at equal optimizer steps, 10 epochs' worth) or policies_final "
                       "(four policies and derandomized flips on the U-Net's default recipe at its full budget; "
                       "policies_final_resunet: the ResUNet's), long_schedule (cosine cycles with warm restarts, deep "
                       "supervision, the empty-tile head and scSE, on validation only) or learning_rate_unet / "
                       "learning_rate_resunet (half and double the default learning rates, on validation only) or "
                       "recipe_fast_unet / recipe_fast_resunet (the FAST recipe against the default, on validation only), "
                       "recipe_progressive_unet / recipe_progressive_resunet (the PROGRESSIVE recipe, the same way)")
    study.add_argument("--data", required=True, help="the labelled data, e.g. ../shared/tgs-salt")
    study.add_argument("--split", help="split CSV (default: split_622 with seed 0, the committed models' split)")
    study.add_argument("--seeds", type=int, nargs="+", help="default: the study's (0 1 2)")
    study.add_argument("--arms", nargs="+", help="run only these arms (default: all)")
    study.add_argument("--runs", default="runs/study", help="where models train (large files, not committed)")
    study.add_argument("--results", help="where the small result records go (default results/seeds_<name>)")
    study.add_argument("--quiet", action="store_true", help="one line per run, no per-epoch progress")
    study.add_argument("--ensembles", metavar="DIR", help="also score each arm's seed ensemble (its seeds' models "
                       "averaged; needs their model files, which it first copies from --runs to models/seeds/ to be committed) "
                       "into DIR, e.g. results/ensembles_architecture")
    study.set_defaults(run=cmd_study)

    crossval = commands.add_parser("crossval", help="k fold models over train + validation (the default recipe), threshold and "
                                   "minimum size chosen out of fold, saved as an ensemble folder that predict serves; rerun to continue")
    crossval.add_argument("--data", required=True, help="the labelled data, e.g. ../shared/tgs-salt")
    crossval.add_argument("--split", help="split CSV whose test tiles stay out (default: split_622 with seed 0)")
    crossval.add_argument("--arch", choices=("unet", "resunet"), default="unet")
    crossval.add_argument("--k", type=int, default=5, help="folds")
    crossval.add_argument("--grouped", action="store_true", help="keep mosaics of neighbouring tiles within one fold")
    crossval.add_argument("--overrides", help="model options over the default recipe's, as JSON")
    crossval.add_argument("--training", help='training settings over the default recipe\'s, as JSON, e.g. \'{"cycles": 4}\'')
    crossval.add_argument("--seed", type=int, default=0, help="seed of the fold assignment")
    crossval.add_argument("--runs", default="runs/crossval", help="where the fold models train (large files, not committed)")
    crossval.add_argument("--out", default="models/ensemble", help="the ensemble folder: fold models, folds.csv, ensemble.json")
    crossval.set_defaults(run=cmd_crossval)

    workbook = commands.add_parser("workbook", help="run the notebooks in order with papermill (params/<profile>.yaml)")
    workbook.add_argument("--profile", default="quick", help="quick (synthetic data, minutes) or thesis (real data, hours)")
    workbook.add_argument("--data", help="data folder for every notebook (default: the profile's data_dir)")
    workbook.add_argument("--only", help="comma-separated notebook numbers or names, e.g. 03,04")
    workbook.add_argument("--out", help="folder for the executed notebooks (default reports/<profile>; reports/<profile>-zh with --language zh)")
    workbook.add_argument("--in-place", action="store_true",
                          help="run the notebooks on their own defaults and write the outputs back into notebooks/")
    workbook.add_argument("--render", action="store_true", help="only re-render 04/05 from notebooks/templates/")
    workbook.add_argument("--language", choices=("en", "zh"),
                          help="figure labels and table headers in English (the notebooks' default) or Chinese; a Chinese run "
                               "writes the thesis's figures and tables into figures/zh and tables/zh")
    workbook.set_defaults(run=cmd_workbook)

    book = commands.add_parser("book", help="the thesis as book/<profile>/thesis.pdf and thesis.html, from the executed "
                               "chapters of a profile and their figures and tables (docs/book.md)")
    book.add_argument("--profile", default="thesis", help="thesis (reports/thesis, figures/, tables/) or quick (reports/quick)")
    book.add_argument("--language", choices=("en", "zh"), default="en", help="the book's fixed texts and captions in English or Chinese")
    book.add_argument("--chapters", help="folder of the executed chapters (default reports/<profile>; the committed "
                      "notebooks/ hold the quick profile's)")
    book.add_argument("--out", help="output folder (default book/<profile>)")
    book.set_defaults(run=cmd_book)
    return parser


@contextmanager
def progress_on_stdout():
    """While a command runs, print the library's progress lines (``logging`` at INFO under
    ``salt_lib``) on stdout; nothing sets this up in a notebook, so an executed chapter holds none
    of them, and the handler is gone again when the command returns."""
    logger = logging.getLogger("salt_lib")
    handler, level = _Stdout(), logger.level
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class _Stdout(logging.StreamHandler):
    """A handler writing to whatever ``sys.stdout`` is at the time of each line."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):  # StreamHandler.__init__ sets it; the property always answers sys.stdout
        pass


def main(argv=None) -> int:
    # Old names (the "seed" preset and policy) still work for one release; say so on the console.
    warnings.filterwarnings("default", category=DeprecationWarning, module="salt_lib")
    args = build_parser().parse_args(argv)
    try:
        with progress_on_stdout():
            args.run(args)
    except (DataError, WorkbookError, BookError, FileExistsError, FileNotFoundError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
