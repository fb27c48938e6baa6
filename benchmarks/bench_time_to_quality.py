"""Time to quality: the source thesis's recipe against the project's default, on validation.

Trains the lite U-Net on the real tiles (``--data``, the project's split: seed 0) with each of
``salt_lib.recipes.THESIS`` (128x128 bicubic resize, BCE, constant Adam 1e-4, the 1:1 mirror
expansion) and ``salt_lib.recipes.DEFAULT``, one after the other, and records the validation
tgs_score after every epoch against wall time and against training images seen. Only the
validation tiles are scored. Both budgets show the network the same number of images (the
thesis's 22 epochs of the mirrored set = the default's 44 epochs of the plain one).

Writes ``benchmarks/results/time_to_quality.json`` (per-epoch curves, minutes and images to reach
each score level) and ``.png``, and prints the README's sentence. Runs are resumable and reused:
they live in ``runs/time_to_quality/<recipe>``, and ``--reuse RECIPE=RUN_DIR`` takes a finished
run of the same settings and ``--seed`` instead (e.g. the architecture study's idle seed-2 U-Net);
its wall times count only if it also ran alone on the same machine, which the JSON records as given.

Run: ``python benchmarks/bench_time_to_quality.py --data ../shared/tgs-salt`` (about 2 hours on
2 idle cores: the thesis arm took 68 min, the default 47 min). Run nothing else meanwhile. The
committed result reused the architecture study's idle seed-2 U-Net for the default arm:
``... --seed 2 --reuse default=runs/study/unet-flip_geo-c12c618d5ffe`` (68 min of new training).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import salt_lib.quiet  # noqa: E402,F401  (TensorFlow's start-up noise)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from salt_lib.dataset import load_dataset  # noqa: E402
from salt_lib.experiments import train_run  # noqa: E402
from salt_lib.files import portable_path  # noqa: E402
from salt_lib.recipes import DEFAULT, THESIS  # noqa: E402
from salt_lib.records import load_record, read_history  # noqa: E402

LEVELS = (0.60, 0.70, 0.75, 0.78)


def first_reaching(history: pd.DataFrame, level: float, column: str) -> float | None:
    """``column`` (minutes or images) at the first epoch whose validation score reaches ``level``."""
    reached = history[history["val_tgs_score"] >= level]
    return None if reached.empty else float(reached[column].iloc[0])


def sentence(result: dict, level: str = "0.75") -> str:
    """The README's sentence, from the JSON this script writes."""

    def minutes(name):
        value = result["reach"][name][level]["minutes"]
        return "not reached" if value is None else f"{value:.0f}"

    return f"minutes to reach {level} on validation: thesis recipe {minutes('thesis')} vs default {minutes('default')}"


def curve(run_dir: Path, train_tiles: int, mirrored: bool) -> pd.DataFrame:
    history = read_history(run_dir / "best.keras").copy()
    history["minutes"] = history["elapsed_seconds"] / 60
    per_epoch = train_tiles * (2 if mirrored else 1)
    history["images_seen"] = range(per_epoch, per_epoch * (len(history) + 1), per_epoch)
    return history


def plot(curves: dict[str, pd.DataFrame]):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True, layout="constrained")
    for name, history in curves.items():
        axes[0].plot(history["minutes"], history["val_tgs_score"], marker=".", label=name)
        axes[1].plot(history["images_seen"] / 1000, history["val_tgs_score"], marker=".", label=name)
    axes[0].set_xlabel("wall time on 2 CPU cores (minutes)")
    axes[1].set_xlabel("training images seen (thousands)")
    axes[0].set_ylabel("validation tgs_score")
    for ax in axes:
        ax.axhline(0.75, color="grey", lw=0.8, ls=":", label="0.75, the README's level")
        ax.grid(alpha=0.3)
    axes[0].legend(title="recipe (lite U-Net)")
    fig.suptitle("Time to quality: validation score after every epoch")
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the real tiles in Kaggle's layout, e.g. ../shared/tgs-salt")
    parser.add_argument("--runs", default=str(REPO / "runs" / "time_to_quality"))
    parser.add_argument("--reuse", action="append", default=[], metavar="RECIPE=RUN_DIR",
                        help="take a finished run of the same settings for this recipe")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "time_to_quality"))
    parser.add_argument("--seed", type=int, default=0, help="the training seed of both arms (a reused run must have it)")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="scale both budgets (a smoke test)")
    args = parser.parse_args()

    dataset = load_dataset(args.data)
    reuse = dict(item.split("=", 1) for item in args.reuse)
    curves, runs = {}, {}
    for recipe in (THESIS, DEFAULT):
        training = dict(recipe.training, seed=args.seed)
        if args.epochs_scale != 1:
            for key in ("epochs", "lovasz_epochs", "patience"):
                if key in training:
                    training[key] = max(1, round(training[key] * args.epochs_scale))
        run_dir = Path(reuse.get(recipe.name) or Path(args.runs) / recipe.name)
        train_run("unet", dataset, run_dir, "lite", recipe.overrides, training,
                  command=f"benchmarks/bench_time_to_quality.py ({recipe.name})")
        record = load_record(run_dir / "best.keras")
        curves[recipe.name] = curve(run_dir, len(dataset.train), training["augment"] == "mirror")
        runs[recipe.name] = {"run_dir": portable_path(run_dir), "reused": recipe.name in reuse, "overrides": recipe.overrides,
                             "training": training, "wall_seconds": record.get("wall_seconds"),
                             "cut_by_time": bool(record.get("cut_by_time", False)),
                             "best_val_tgs_score": round(float(curves[recipe.name]["val_tgs_score"].max()), 4)}
    reach = {name: {f"{level:.2f}": {"minutes": first_reaching(history, level, "minutes"),
                                     "images": first_reaching(history, level, "images_seen")}
                    for level in LEVELS} for name, history in curves.items()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"seed": args.seed, "data_fingerprint": dataset.fingerprint, "split_hash": dataset.split_hash, "runs": runs, "reach": reach,
              "curves": {name: history[["epoch", "stage", "minutes", "images_seen", "val_tgs_score"]].round(4).to_dict("list")
                         for name, history in curves.items()}}
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    fig = plot(curves)
    fig.savefig(out.with_suffix(".png"), dpi=150)

    print(sentence(result))
    for name, run in runs.items():
        print(f"  {name}: best validation {run['best_val_tgs_score']:.3f}, {run['wall_seconds'] / 60:.0f} min"
              f"{' (cut by the time cap)' if run['cut_by_time'] else ''}")
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
