"""Do the fast input settings keep accuracy? Train the lite U-Net with each, same epochs, same tiles.

The speed benchmark (``python -m salt_lib bench``) measures images per second; this one measures
what the faster settings cost in tgs_score. Each variant is trained for the same number of
epochs on the same synthetic tiles with several seeds (variants interleaved seed by seed), then
scored on held-out tiles with the threshold chosen on validation and flip TTA. The paired
bootstrap over test tiles (all seeds pooled) gives each variant's difference to the 128-padded
baseline with a 95% interval. The issue's bar is "within 0.005"; the script prints the
difference and its interval and leaves the verdict to the reader of those numbers.

Run: ``python benchmarks/bench_accuracy.py [--epochs 12] [--seeds 2] [--train 1200]``
(about 35 minutes on 2 cores with the defaults). Runs are resumable: they live in
``runs/bench_accuracy/<variant>-s<seed>`` and a rerun continues or reuses them. Writes
``benchmarks/results/accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from salt_lib.data import TGSData  # noqa: E402
from salt_lib.evaluate import paired_bootstrap  # noqa: E402
from salt_lib.synthetic import synthesize_tiles  # noqa: E402

VARIANTS = {
    "baseline 128 padded": {},
    "101 native, transposed": {"input_size": 101, "upsampling": "transpose"},
    "101 native, decoder x0.5": {"input_size": 101, "upsampling": "transpose", "decoder_filters_scale": 0.5},
}


def tiles(n: int, seed: int, prefix: str) -> TGSData:
    images, masks, depths = synthesize_tiles(n, seed=seed)
    return TGSData(ids=np.array([f"{prefix}{i}" for i in range(n)]), images=images, masks=masks,
                   depths=depths, coverage=masks.reshape(n, -1).mean(axis=1))


def train_variant(name: str, overrides: dict, seed: int, data: dict, epochs: int, runs: Path) -> dict:
    """Train (or resume / reuse) one variant with one seed; its test scores per tile and speed."""
    import keras

    from salt_lib.evaluate import evaluate_model
    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    keras.utils.set_random_seed(seed)
    run_dir = runs / f"{name.replace(' ', '_').replace(',', '')}-s{seed}"
    config = TrainConfig(epochs=epochs, augment="flip", patience=epochs, seed=seed)
    history = fit(build_model("unet", "lite", overrides), data["train"], data["val"], config, run_dir,
                  provenance={"benchmark": "bench_accuracy", "variant": name}, verbose=True)
    result = evaluate_model(run_dir / "best.keras", data["test"])  # at the record's threshold and min_size
    record, per_tile = result.record, result.per_tile["tgs_score"]
    return {"variant": name, "seed": seed, "epochs": int(len(history)),
            "train_images_per_s": float(history["images_per_second"].median()),
            "val_tgs_score": record["val"]["tgs_score"], "test_tgs_score": float(per_tile.mean()), "per_tile": per_tile}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--train", type=int, default=1200, help="training tiles (val and test get a third each)")
    parser.add_argument("--runs", default=str(REPO / "runs" / "bench_accuracy"))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "accuracy.json"))
    args = parser.parse_args()

    held_out = args.train // 3
    data = {"train": tiles(args.train, 101, "tr"), "val": tiles(held_out, 102, "va"), "test": tiles(held_out, 103, "te")}
    results = [train_variant(name, overrides, seed, data, args.epochs, Path(args.runs))
               for seed in range(args.seeds) for name, overrides in VARIANTS.items()]  # interleaved by seed

    baseline = next(iter(VARIANTS))
    summary = []
    for name in VARIANTS:
        rows = [r for r in results if r["variant"] == name]
        mine = np.concatenate([r["per_tile"] for r in rows])
        base = np.concatenate([r["per_tile"] for r in results if r["variant"] == baseline])
        difference = paired_bootstrap(mine, base, n_resamples=2000)
        summary.append({"variant": name, "seeds": len(rows), "epochs": args.epochs,
                        "test_tgs_score_per_seed": [round(r["test_tgs_score"], 4) for r in rows],
                        "test_tgs_score_mean": round(float(mine.mean()), 4),
                        "train_images_per_s_median": round(float(np.median([r["train_images_per_s"] for r in rows])), 2),
                        "difference_vs_baseline": {k: round(float(v), 4) for k, v in difference.items()}})
    print(f"\n{'variant':<28} {'test tgs_score per seed':<26} {'mean':>7} {'img/s':>7}  difference vs baseline [95% CI]")
    for row in summary:
        d = row["difference_vs_baseline"]
        print(f"{row['variant']:<28} {str(row['test_tgs_score_per_seed']):<26} {row['test_tgs_score_mean']:>7.4f} "
              f"{row['train_images_per_s_median']:>7.1f}  {d['mean_difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"method": f"lite U-Net, {args.train} synthetic training tiles, {held_out} val, {held_out} test, "
                                         f"{args.epochs} epochs, augment flip, bce_dice, seeds 0..{args.seeds - 1}; "
                                         "test scored at the validation threshold with flip TTA; paired bootstrap over "
                                         "test tiles of all seeds", "variants": summary}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
