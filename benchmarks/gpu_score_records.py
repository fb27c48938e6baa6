"""Score the thesis networks trained on the GPU, on the CPU, and write their small committed records.

``benchmarks/gpu_thesis_networks.sh`` returns, per network, uint8 validation and test
probabilities (plain and mirrored), a history and a record. This script, run here with the real
tiles, does what the project does for every model: flip TTA (the mean of the two maps), the
threshold and the minimum component size chosen on validation, then the test split scored once.

    .venv/bin/python benchmarks/gpu_score_records.py --runs runs/gpu --data ../shared/tgs-salt --out results/gpu

Writes ``<out>/bench.json`` and ``<out>/log.txt`` (copied), and per network ``<out>/<arch>_thesis/``:
``record.json`` (the device's record plus validation and test scores with 95% bootstrap intervals),
``history.csv``, and ``tiles.csv`` (per-tile scores of validation and test in the split's order, for
paired comparisons; no tile ids: the record holds a digest of them instead).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.dataset import load_dataset
from salt_lib.evaluate import SCORES, bootstrap_ci, ids_digest, per_tile_scores
from salt_lib.predict import choose_min_size, choose_threshold, to_masks
from salt_lib.result_folders import write_result


def score_run(run_dir: Path, dataset, out_dir: Path) -> dict:
    record = json.loads((run_dir / "record.json").read_text())
    for key, expected in (("data_fingerprint", dataset.fingerprint), ("split_hash", dataset.split_hash)):
        if record["data"][key] != expected:
            raise SystemExit(f"{run_dir}: trained on {key} {record['data'][key]}, but this data has {expected}")
    with np.load(run_dir / "predictions.npz") as stored:
        packed = {key: stored[key] for key in stored.files}
    parts = {"val": dataset.val, "test": dataset.test}
    probs = {}
    for part, tiles in parts.items():
        if list(packed[f"{part}_ids"].astype(str)) != list(tiles.ids.astype(str)):
            raise SystemExit(f"{run_dir}: {part} predictions are not in the split's order")
        plain = packed[f"{part}_probs"].astype(np.float32) / 255
        probs[part] = (plain + packed[f"{part}_probs_mirrored"].astype(np.float32) / 255) / 2, plain
    val_masks = dataset.val.masks
    _, score_no_tta = choose_threshold(probs["val"][1], val_masks)
    threshold, score_tta = choose_threshold(probs["val"][0], val_masks)
    min_size, score_min_size = choose_min_size(probs["val"][0], val_masks, threshold)
    record["val"] = {"tgs_score_no_tta": round(score_no_tta, 4), "tgs_score": round(score_tta, 4), "threshold": threshold,
                     "min_size": min_size, "tgs_score_min_size": round(score_min_size, 4), "tiles": len(val_masks)}
    # The settings are fixed on validation above; the test split is scored once, here.
    rows = []
    for part, tiles in parts.items():
        scores = per_tile_scores(tiles.masks, to_masks(probs[part][0], threshold, min_size))
        rows.append(pd.DataFrame({"split": part, "position": np.arange(len(tiles))} | {k: np.round(v, 5) for k, v in scores.items()}))
        if part == "test":
            interval = bootstrap_ci(scores["tgs_score"])
            record["test"] = {name: round(float(np.mean(scores[name])), 4) for name in SCORES} | {
                "tgs_score_low": round(interval["low"], 4), "tgs_score_high": round(interval["high"], 4),
                "threshold": threshold, "min_size": min_size, "tiles": len(tiles),
                "scored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    record["tiles_order"] = {part: {"ids_sha1": ids_digest(tiles.ids), "order": f"salt_lib.split.ids_of(split, '{part}')"}
                             for part, tiles in parts.items()}
    write_result(out_dir, record, pd.concat(rows), history=pd.read_csv(run_dir / "history.csv"))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/gpu", help="the folder the device call returned")
    parser.add_argument("--data", default="../shared/tgs-salt")
    parser.add_argument("--out", default="results/gpu")
    parser.add_argument("--preset", default="thesis", help="the preset name in the returned folder names")
    args = parser.parse_args()
    runs, out = Path(args.runs), Path(args.out)
    dataset = load_dataset(args.data)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("bench.json", "log.txt"):
        shutil.copyfile(runs / name, out / name)
    for arch in ("unet", "resunet"):
        record = score_run(runs / f"{arch}_{args.preset}", dataset, out / f"{arch}_thesis")
        val, test = record["val"], record["test"]
        print(f"{arch} thesis: {record['epochs_trained']} epochs (best {record['best_epoch']}), val tgs_score "
              f"{val['tgs_score_no_tta']:.4f} no TTA, {val['tgs_score']:.4f} TTA @ {val['threshold']}, "
              f"{val['tgs_score_min_size']:.4f} min size {val['min_size']}; test {test['tgs_score']:.4f} "
              f"[{test['tgs_score_low']:.4f}, {test['tgs_score_high']:.4f}], IoU {test['iou']:.4f}")


if __name__ == "__main__":
    main()
