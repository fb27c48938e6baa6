"""Measured timings of the data layer and the metric (prints figures; asserts nothing).

    .venv/bin/python benchmarks/bench_foundation.py [--data DIR]

Reports: cold load (empty cache) and warm load (cache hit) of a Kaggle-layout folder, and the
time of tgs_score / thesis_iou_metric / iou / dice on 10,000 tiles. Medians of several repeats.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from salt_lib.data import load_tgs
from salt_lib.metrics import dice, iou, tgs_score, thesis_iou_metric

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "tgs-salt"


def timed(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_load(root: Path) -> None:
    cold = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            data = load_tgs(root, cache_dir=cache)
            cold.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as cache:
        load_tgs(root, cache_dir=cache)
        warm = timed(lambda: load_tgs(root, cache_dir=cache))
    print(f"load {root} ({len(data)} tiles): cold median {statistics.median(cold):.2f} s, warm median {warm:.3f} s")


def bench_metrics(n: int = 10_000) -> None:
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:101, :101]
    radius = rng.integers(0, 50, n)[:, None, None]
    truth = (rows - 50) ** 2 + (cols - 50) ** 2 < radius**2
    pred = (rows - 53) ** 2 + (cols - 48) ** 2 < (radius + rng.integers(-5, 5, n)[:, None, None]) ** 2
    for function in (tgs_score, thesis_iou_metric, iou, dice):
        print(f"{function.__name__} on {n} tiles: median {timed(lambda: function(truth, pred)):.3f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(REAL))
    args = parser.parse_args()
    if Path(args.data).is_dir():
        bench_load(Path(args.data))
    else:
        print(f"no data at {args.data}; skipping load timings")
    bench_metrics()
