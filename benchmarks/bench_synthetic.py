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

from salt_lib.metrics import IOU_THRESHOLDS, tgs_score  # noqa: E402
from salt_lib.synthetic import make_synthetic_tgs, synthesize_tiles  # noqa: E402


def brightness_threshold_scores(images, masks) -> dict[str, np.ndarray]:
    """Competition score of the global grey-level rules ``image > t`` and ``image < t``.

    images uint8 (N, H, W), masks bool (N, H, W). Returns ``{"above": (256,), "below": (256,),
    "empty": float}``: the score of each t = 0..255 for each rule, and of predicting no salt
    anywhere. Same definition as ``salt_lib.metrics.tgs_score`` (its ``IOU_THRESHOLDS``), computed for all 512 rules
    at once from per-tile grey-level histograms of the salt and non-salt pixels.
    """
    images = np.asarray(images, dtype=np.int64).reshape(len(images), -1)
    masks = np.asarray(masks, dtype=bool).reshape(len(masks), -1)
    n = len(images)
    offsets = 256 * np.arange(n)[:, None]
    salt_hist = np.bincount((images + offsets)[masks], minlength=256 * n).reshape(n, 256)
    rock_hist = np.bincount((images + offsets)[~masks], minlength=256 * n).reshape(n, 256)
    truth_area = masks.sum(axis=1)[:, None]

    def score(true_positive, false_positive):
        union = truth_area + false_positive
        iou = np.where(union == 0, 1.0, true_positive / np.maximum(union, 1))
        return (iou[:, :, None] > IOU_THRESHOLDS).mean(axis=2).mean(axis=0)

    # Pixels with grey level > t: reverse cumulative sums, shifted by one level.
    salt_above = np.cumsum(salt_hist[:, ::-1], axis=1)[:, ::-1]
    rock_above = np.cumsum(rock_hist[:, ::-1], axis=1)[:, ::-1]
    pad = np.zeros((n, 1), np.int64)
    above = score(np.hstack([salt_above[:, 1:], pad]), np.hstack([rock_above[:, 1:], pad]))
    # Pixels with grey level < t: cumulative sums up to t - 1.
    below = score(np.hstack([pad, np.cumsum(salt_hist, axis=1)[:, :-1]]),
                  np.hstack([pad, np.cumsum(rock_hist, axis=1)[:, :-1]]))
    return {"above": above, "below": below, "empty": float(np.mean(truth_area == 0))}


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
