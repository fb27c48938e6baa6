"""Score the recipe-ablation arms (``benchmarks/gpu_recipe_ablation.py``) on validation, here on the CPU.

Each arm returned its best checkpoint's validation probabilities (flip TTA). Every arm is scored
the same way: the threshold that maximises its validation tgs_score, then per-tile scores, then a
paired bootstrap over the validation tiles of (arm - base). Only validation is used: this table
chooses the recipe, so the test split stays unseen.

    .venv/bin/python benchmarks/gpu_ablation_table.py --runs runs/gpu_ablation --data ../shared/tgs-salt --out results/ablation

Writes ``<out>/ablation.csv`` and ``.md`` (one row per arm), and per arm ``<out>/<arm>/`` with the
history, the run summary and the per-tile validation scores (no probabilities, no tile ids).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.dataset import load_dataset
from salt_lib.evaluate import bootstrap_ci, ids_digest, paired_bootstrap
from salt_lib.metrics import tgs_score_per_tile
from salt_lib.predict import choose_threshold
from salt_lib.report.tables import markdown_table

BASELINE = "base"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/gpu_ablation")
    parser.add_argument("--data", default="../shared/tgs-salt")
    parser.add_argument("--out", default="results/ablation")
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    dataset = load_dataset(args.data)
    val = dataset.val
    out = Path(args.out)
    per_tile, rows = {}, []
    for path in sorted(Path(args.runs).glob("*.npz")):
        with np.load(path) as stored:
            summary = json.loads(str(stored["summary"]))
            if list(stored["val_ids"].astype(str)) != list(val.ids.astype(str)):
                raise SystemExit(f"{path}: validation tiles differ from this split's")
            probs = stored["val_probs"].astype(np.float32) / 255
            history = pd.read_csv(io.StringIO(str(stored["history"])))
        if summary["split_hash"] != dataset.split_hash or summary["data_fingerprint"] != dataset.fingerprint:
            raise SystemExit(f"{path}: trained on other data or another split")
        threshold, _ = choose_threshold(probs, val.masks)
        scores = tgs_score_per_tile(val.masks, probs > threshold)
        per_tile[summary["arm"]] = scores
        interval = bootstrap_ci(scores, args.resamples)
        stages = " + ".join(f"{loss} {epochs}" for loss, epochs in summary["stages"])
        rows.append({"arm": summary["arm"], "input": summary["overrides"].get("input_size"),
                     "decoder_scale": summary["overrides"].get("decoder_filters_scale", 1.0), "augment": summary["augment"],
                     "stages (loss epochs)": stages, "best_epoch": int(history.loc[history["val_tgs_score"].idxmax(), "epoch"]),
                     "val_tgs_score": interval["mean"], "val_ci_low": interval["low"], "val_ci_high": interval["high"],
                     "threshold": threshold})
        arm_dir = out / summary["arm"]
        arm_dir.mkdir(parents=True, exist_ok=True)
        history.to_csv(arm_dir / "history.csv", index=False)
        (arm_dir / "summary.json").write_text(json.dumps(summary | {"val_ids_sha1": ids_digest(val.ids), "threshold": threshold}, indent=2) + "\n")
        pd.DataFrame({"position": np.arange(len(scores)), "tgs_score": np.round(scores, 5)}).to_csv(arm_dir / "val_tiles.csv", index=False)
    table = pd.DataFrame(rows)
    for column in ("difference_vs_base", "difference_low", "difference_high", "share_better"):
        table[column] = np.nan
    for index, row in table.iterrows():
        if row["arm"] != BASELINE:
            paired = paired_bootstrap(per_tile[row["arm"]], per_tile[BASELINE], args.resamples)
            table.loc[index, ["difference_vs_base", "difference_low", "difference_high", "share_better"]] = (
                paired["mean_difference"], paired["low"], paired["high"], paired["share_positive"])
    table.to_csv(out / "ablation.csv", index=False)
    (out / "ablation.md").write_text(markdown_table(table, float_digits=3) + "\n")
    shutil.copyfile(Path(args.runs) / "log.txt", out / "log.txt")
    print(markdown_table(table, float_digits=3))


if __name__ == "__main__":
    main()
