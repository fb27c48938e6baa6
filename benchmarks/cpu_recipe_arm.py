"""One recipe-ablation arm on the CPU: the default recipe with one option switched on, against the
default recipe's run of the same seed, on validation only.

The GPU ablation (``benchmarks/gpu_recipe_ablation.py --set recipe``) has these arms and more but
waits for a lent GPU; this script runs one of them on the 2 CPU cores (about 50 minutes) so the
option is not left untried. The arm trains ``salt_lib.recipes.DEFAULT`` on the lite U-Net with
``ARMS[arm]`` added and the same seed as ``--reference`` (a finished DEFAULT run, e.g. the
architecture study's idle seed-2 U-Net); both best models are scored on the validation tiles at
their own validation-chosen threshold and minimum size (flip TTA), with a paired bootstrap over
tiles of (arm - reference). The test split is not looked at.

    .venv/bin/python benchmarks/cpu_recipe_arm.py --arm swa --data ../shared/tgs-salt --seed 2 \\
        --reference runs/study/unet-flip_geo-c12c618d5ffe

Resumable (the run lives in ``runs/cpu_ablation/<arm>``). Writes ``results/ablation_cpu/<arm>.json``
(both scores, the difference with its interval, the arm's record of what the option did, wall
time) and ``<arm>_tiles.csv`` (per-tile validation scores of both, in the split's order).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import salt_lib.quiet  # noqa: E402,F401  (TensorFlow's start-up noise)
import pandas as pd  # noqa: E402

from salt_lib.dataset import load_dataset  # noqa: E402
from salt_lib.evaluate import evaluate_model, paired_bootstrap  # noqa: E402
from salt_lib.experiments import train_run  # noqa: E402
from salt_lib.recipes import DEFAULT  # noqa: E402
from salt_lib.records import load_record  # noqa: E402

# arm -> (model overrides, TrainConfig fields) added to DEFAULT's
ARMS = {
    "swa": ({}, {"swa_epochs": 5}),
    "scse": ({"attention": "scse"}, {}),
    "empty_head": ({"empty_head": True}, {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arm", required=True, choices=sorted(ARMS))
    parser.add_argument("--data", required=True, help="the real tiles in Kaggle's layout, e.g. ../shared/tgs-salt")
    parser.add_argument("--reference", required=True, help="a finished run of the default recipe with --seed")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--runs", default=str(REPO / "runs" / "cpu_ablation"))
    parser.add_argument("--out", default=str(REPO / "results" / "ablation_cpu"))
    args = parser.parse_args()

    reference = Path(args.reference) / "best.keras"
    reference_record = load_record(reference)
    settings = reference_record["training"]
    if (reference_record["overrides"] != DEFAULT.overrides or settings["seed"] != args.seed
            or any(settings[key] != value for key, value in DEFAULT.training.items())):
        raise SystemExit(f"{reference} is not the default recipe with seed {args.seed}")
    dataset = load_dataset(args.data)
    overrides, extra = ARMS[args.arm]
    training = dict(DEFAULT.training, seed=args.seed, **extra)
    arm_model = train_run("unet", dataset, Path(args.runs) / args.arm, "lite", DEFAULT.overrides | overrides, training,
                          command=f"benchmarks/cpu_recipe_arm.py --arm {args.arm} --seed {args.seed}")
    scored = {name: evaluate_model(path, dataset.val, name=name) for name, path in
              (("reference", reference), (args.arm, arm_model))}
    paired = paired_bootstrap(scored[args.arm].per_tile["tgs_score"], scored["reference"].per_tile["tgs_score"])
    record = load_record(arm_model)
    result = {"arm": args.arm, "overrides": overrides, "training_added": extra, "seed": args.seed,
              "split_hash": dataset.split_hash, "data_fingerprint": dataset.fingerprint,
              "reference_run": str(Path(args.reference)), "epochs_trained": record["epochs_trained"],
              "wall_seconds": record["wall_seconds"], "cut_by_time": bool(record.get("cut_by_time", False)),
              "val_tgs_score": {name: round(evaluation.scores["tgs_score"], 4) for name, evaluation in scored.items()},
              "difference": {key: round(value, 4) if isinstance(value, float) else value for key, value in paired.items()},
              "option_record": record.get("swa") if args.arm == "swa" else None}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.arm}.json").write_text(json.dumps(result, indent=2) + "\n")
    pd.DataFrame({name: evaluation.per_tile["tgs_score"] for name, evaluation in scored.items()}).round(4).to_csv(
        out / f"{args.arm}_tiles.csv", index=False)
    d = result["difference"]
    print(f"{args.arm} - default (seed {args.seed}, validation, {d['tiles']} tiles): {d['mean_difference']:+.4f} "
          f"[{d['low']:+.4f}, {d['high']:+.4f}], better in {d['share_positive']:.0%} of resamples; "
          f"val {result['val_tgs_score']}")
    print(f"wrote {out / (args.arm + '.json')}")


if __name__ == "__main__":
    main()
