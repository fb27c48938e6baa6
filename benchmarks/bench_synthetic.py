"""Benchmark the synthetic data set: time to write it, and how far brightness alone gets.

Run: ``python benchmarks/bench_synthetic.py [n_train] [n_test]`` (defaults 4000 and 1000). Prints
the seconds to generate and write the Kaggle layout into a temporary folder, then, on 1000
in-memory tiles, the competition score of predicting no salt anywhere and of the best single
global grey-level threshold (``image > t`` or ``image < t``), which must stay within 0.1 of it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from salt_lib.metrics import tgs_score  # noqa: E402
from salt_lib.synthetic import brightness_threshold_scores, make_synthetic_tgs, synthesize_tiles  # noqa: E402


def time_writing(n_train: int, n_test: int) -> float:
    """Seconds to generate and write the data set into a fresh temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        make_synthetic_tgs(Path(folder) / "tgs", n_train=n_train, n_test=n_test, seed=0)
        return time.perf_counter() - start


def time_in_memory(n: int) -> float:
    """Seconds for ``synthesize_tiles(n)`` alone (no PNG encoding)."""
    start = time.perf_counter()
    synthesize_tiles(n, seed=0)
    return time.perf_counter() - start


def threshold_baseline(n: int = 1000, seed: int = 0) -> dict:
    """Scores of the all-empty prediction and of the best global grey-level threshold."""
    images, masks, _ = synthesize_tiles(n, seed=seed)
    scores = brightness_threshold_scores(images, masks)
    rule = "above" if scores["above"].max() >= scores["below"].max() else "below"
    threshold = int(np.argmax(scores[rule]))
    prediction = images > threshold if rule == "above" else images < threshold
    # The same, leaving out the two rules that flag no pixel at all (> 255 and < 0).
    nontrivial = max(scores["above"][:255].max(), scores["below"][1:].max())
    return {
        "nontrivial": nontrivial,
        "empty": tgs_score(masks, np.zeros_like(masks)),
        "best_rule": f"image {'>' if rule == 'above' else '<'} {threshold}",
        "best": tgs_score(masks, prediction),  # recomputed with the shared metric as a check
    }


def main() -> None:
    n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    n_test = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print(f"synthesize_tiles({n_train + n_test}) in memory: {time_in_memory(n_train + n_test):.1f} s")
    print(f"make_synthetic_tgs({n_train} train + {n_test} test) incl. PNG/CSV writing: {time_writing(n_train, n_test):.1f} s")
    baseline = threshold_baseline()
    print(f"1000 tiles: all-empty score {baseline['empty']:.3f}; best global threshold "
          f"({baseline['best_rule']}) {baseline['best']:.3f}; margin {baseline['best'] - baseline['empty']:+.3f} (limit +0.100)")
    print(f"best threshold that flags at least some pixels: {baseline['nontrivial']:.3f}")


if __name__ == "__main__":
    main()
