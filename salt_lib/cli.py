"""Command line: ``python -m salt_lib COMMAND`` (or the ``salt-lib`` console script).

Errors a user can cause (a missing folder, a broken tile) print one clear line and exit with
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from salt_lib.data import DataError
from salt_lib.evaluate import evaluate_model


def cmd_synth(args) -> None:
    from salt_lib.synthetic import make_synthetic_tgs

    root = Path(args.out)
    if args.if_missing and (root / "train" / "images").is_dir():
        print(f"synthetic data already at {root}; reusing it")
        return
    start = time.perf_counter()
    make_synthetic_tgs(root, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    print(f"wrote {args.n_train} train + {args.n_test} test synthetic tiles to {root} in {time.perf_counter() - start:.1f} s")


def cmd_summary(args) -> None:
    from salt_lib.data import load_tgs
    from salt_lib.split import split_622

    start = time.perf_counter()
    data = load_tgs(args.data)
    elapsed = time.perf_counter() - start
    summary = data.summary()
    summary["load_seconds"] = round(elapsed, 3)
    summary["split_622"] = split_622(data.ids, data.coverage).groupby("split").size().to_dict()
    print(json.dumps(summary, indent=2))


def load_run_data(data_dir, split_file=None, seed: int = 0):
    """The labelled tiles and their 6:2:2 split: read from ``split_file`` if it exists, else made
    with ``split_622`` (and written there when a path is given)."""
    from salt_lib.data import load_tgs
    from salt_lib.split import load_split, save_split, split_622

    data = load_tgs(data_dir)
    if split_file and Path(split_file).is_file():
        table = load_split(split_file)
    else:
        table = split_622(data.ids, data.coverage, seed=seed)
        if split_file:
            save_split(table, split_file)
    return data, table


def cmd_train(args) -> None:
    from salt_lib.data import data_fingerprint
    from salt_lib.split import ids_of, split_hash

    out = Path(args.out)
    split_file = Path(args.split) if args.split else out / "split.csv"
    data, table = load_run_data(args.data, split_file)  # bad data fails here, before Keras loads
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit, use_devices

    devices = use_devices(args.devices)  # before the model is built: its weights are placed per device
    train, val = data.subset(ids_of(table, "train")), data.subset(ids_of(table, "val"))
    overrides = json.loads(args.overrides) if args.overrides else {}
    model = build_model(args.arch, args.preset, overrides)
    fields = {"epochs": args.epochs, "minutes": args.minutes, "augment": args.augment, "loss": args.loss,
              "batch_size": args.batch_size, "learning_rate": args.lr, "lovasz_epochs": args.lovasz_epochs,
              "geometry": args.geometry, "seed": args.seed, "patience": args.patience}
    config = TrainConfig(**{k: v for k, v in fields.items() if v is not None})
    model.salt_config["geometry"] = config.geometry
    provenance = {"data": str(Path(args.data).resolve()), "data_fingerprint": data_fingerprint(args.data),
                  "split_file": str(split_file.resolve()), "split_hash": split_hash(table), "command": "python -m salt_lib " + " ".join(sys.argv[1:])}
    if devices:
        provenance["devices"] = devices
    print(f"training {args.arch} ({args.preset}, {model.count_params():,} parameters) on {len(train)} tiles, "
          f"validating on {len(val)}; run folder {out}" + (f"; data parallel on {', '.join(devices)}" if devices else ""))
    fit(model, train, val, config, out, provenance=provenance)
    report = evaluate_model(out / "best.keras", data.subset(ids_of(table, "test")))
    print("test:", json.dumps(report))


def model_data(model_path, data_dir, split_file=None):
    """A saved model's JSON record (empty if it has none), the labelled tiles and their split:
    ``split_file`` (see ``load_run_data``), else the split file the record names if it is still
    there, else ``split_622`` made afresh and not written (the stored path may be another machine's)."""
    from salt_lib.models import config_path

    record = json.loads(config_path(model_path).read_text()) if config_path(model_path).is_file() else {}
    saved = record.get("provenance", {}).get("split_file")
    data, table = load_run_data(data_dir, split_file or (saved if saved and Path(saved).is_file() else None))
    return record, data, table


def cmd_evaluate(args) -> None:
    from salt_lib.split import ids_of

    model_path = _existing_model(args.model)
    _, data, table = model_data(model_path, args.data, args.split_file)
    report = evaluate_model(model_path, data.subset(ids_of(table, args.split)))
    print(json.dumps({"split": args.split, **report}, indent=2))


def cmd_export(args) -> None:
    from salt_lib.models import config_path
    from salt_lib.split import ids_of, split_hash

    best = Path(args.run_dir) / "best.keras"
    if not best.is_file() or not config_path(best).is_file():
        raise DataError(f"{args.run_dir}: no best.keras with its best.config.json. Point --run at a folder `train --out` wrote.")
    record, data, table = model_data(best, args.data)
    saved_hash = record.get("provenance", {}).get("split_hash")
    if saved_hash and saved_hash != split_hash(table):
        raise DataError(f"{args.run_dir} was validated on split {saved_hash}, but {args.data} gives split {split_hash(table)}: "
                        "pass the data it was trained on (its split file must still be where its JSON says).")
    from salt_lib.train import export_model

    test = evaluate_model(best, data.subset(ids_of(table, "test")))
    print("test:", json.dumps(test))
    print(f"wrote {args.out} and {export_model(args.run_dir, args.out, test_scores=test)}")


def cmd_predict(args) -> None:
    import numpy as np
    from tqdm.auto import tqdm

    from salt_lib.data import png_files, read_image
    from salt_lib.rle import rle_encode

    model_path = _existing_model(args.model)
    files = png_files(args.images) if Path(args.images).is_dir() else None
    if files is None:
        raise DataError(f"{args.images}: no such folder of PNG tiles.")
    if not files:
        raise DataError(f"{args.images}: no PNG images in this folder. Point --images at e.g. test/images.")
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a"):
            pass
    except OSError as error:
        raise DataError(f"{out}: cannot write the submission here ({error.strerror}). Choose another --out.") from None
    read_image(files[min(files)])  # a broken first tile fails now, not after loading Keras
    from salt_lib.models import load_model
    from salt_lib.predict import predict, to_masks, write_submission

    model = load_model(model_path, compile=False)
    threshold, min_size = model.salt_config.get("threshold", 0.5), model.salt_config.get("min_size", 0)
    ids = sorted(files)
    rows = []
    # Batches keep memory bounded: 18,000 test tiles never sit in memory at once.
    with tqdm(total=len(ids), unit="tile", desc="predict") as bar:
        for start in range(0, len(ids), args.batch):
            batch_ids = ids[start : start + args.batch]
            images = np.stack([read_image(files[tile_id]) for tile_id in batch_ids])
            masks = to_masks(predict(model, images, tta=not args.no_tta), threshold, min_size)
            rows.extend((tile_id, rle_encode(mask)) for tile_id, mask in zip(batch_ids, masks))
            bar.update(len(batch_ids))
    write_submission(rows, out)
    print(f"wrote {len(rows)} rows to {out} (threshold {threshold}, min_size {min_size})")


def _existing_model(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such model file. Train one with `python -m salt_lib train`, or use models/unet_lite.keras.")
    return path


def cmd_bench(args) -> None:
    from salt_lib.bench import main as bench_main

    bench_main(args.out, rounds=args.rounds, steps=args.steps, include_seed=not args.no_seed)


def cmd_workbook(args) -> None:
    from salt_lib.workbook import WorkbookError, main as workbook_main

    try:
        workbook_main(args.profile, data=args.data, only=args.only, out=args.out, in_place=args.in_place, render=args.render)
    except WorkbookError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None


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
    train.add_argument("--preset", choices=("lite", "seed"), default="lite")
    train.add_argument("--overrides", help='model options as JSON, e.g. \'{"filters": 8}\'')
    train.add_argument("--epochs", type=int)
    train.add_argument("--minutes", type=float, help="wall-clock budget")
    train.add_argument("--augment", help="none | seed | flip | flip_geo | flip_geo_intensity")
    train.add_argument("--loss", help="bce | iou | dice | bce_dice | lovasz")
    train.add_argument("--lovasz-epochs", type=int, help="second stage with the Lovasz hinge")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--geometry", choices=("pad", "resize"))
    train.add_argument("--seed", type=int)
    train.add_argument("--patience", type=int, help="epochs without a better validation score before a stage stops")
    train.add_argument("--split", help="split CSV to use (default: made and saved as OUT/split.csv)")
    train.add_argument("--devices", help="data parallel over local devices: all | a count | gpu:0,gpu:1 "
                       "(several devices need KERAS_BACKEND=jax; the batch size is the global batch)")
    train.add_argument("--out", required=True, help="run folder")
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score a saved model on a split")
    evaluate.add_argument("--model", required=True)
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
    predict.add_argument("--model", required=True)
    predict.add_argument("--images", required=True, help="folder of <id>.png tiles")
    predict.add_argument("--out", required=True, help="submission CSV")
    predict.add_argument("--batch", type=int, default=256)
    predict.add_argument("--no-tta", action="store_true")
    predict.set_defaults(run=cmd_predict)

    bench = commands.add_parser("bench", help="measure training / inference speed, memory, augmentation overhead")
    bench.add_argument("--out", help="JSON file for the results")
    bench.add_argument("--rounds", type=int, default=5)
    bench.add_argument("--steps", type=int, default=4)
    bench.add_argument("--no-seed", action="store_true", help="skip the 31M/40M-parameter seed presets")
    bench.set_defaults(run=cmd_bench)
    workbook = commands.add_parser("workbook", help="run the notebooks in order with papermill (params/<profile>.yaml)")
    workbook.add_argument("--profile", default="quick", help="quick (synthetic data, minutes) or thesis (real data, hours)")
    workbook.add_argument("--data", help="data folder for every notebook (default: the profile's data_dir)")
    workbook.add_argument("--only", help="comma-separated notebook numbers or names, e.g. 03,04")
    workbook.add_argument("--out", help="folder for the executed notebooks (default reports/<profile>)")
    workbook.add_argument("--in-place", action="store_true",
                          help="run the notebooks on their own defaults and write the outputs back into notebooks/")
    workbook.add_argument("--render", action="store_true", help="only re-render 04/05 from notebooks/templates/")
    workbook.set_defaults(run=cmd_workbook)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (DataError, FileExistsError, FileNotFoundError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
