"""The time-to-quality benchmark: its reach rule on a hand-made curve, and the committed result
(benchmarks/results/time_to_quality.json) agrees with its own curves and with the README."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench_time_to_quality import LEVELS, first_reaching, sentence  # benchmarks/, its other user

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "time_to_quality.json"


def test_first_reaching_takes_the_first_epoch_at_or_above_the_level():
    history = pd.DataFrame({"val_tgs_score": [0.5, 0.75, 0.7, 0.8], "minutes": [1.0, 2.0, 3.0, 4.0]})
    assert first_reaching(history, 0.75, "minutes") == 2.0  # reached exactly counts; a later dip does not undo it
    assert first_reaching(history, 0.78, "minutes") == 4.0
    assert first_reaching(history, 0.9, "minutes") is None


def test_sentence_says_not_reached():
    result = {"reach": {"thesis": {"0.75": {"minutes": None}}, "default": {"0.75": {"minutes": 12.4}}}}
    assert sentence(result) == "minutes to reach 0.75 on validation: thesis recipe not reached vs default 12"


@pytest.fixture(scope="module")
def committed() -> dict:
    assert RESULT.is_file(), f"{RESULT} is committed (python benchmarks/bench_time_to_quality.py makes it)"
    return json.loads(RESULT.read_text())


def test_committed_result_agrees_with_its_curves(committed):
    assert set(committed["runs"]) == {"thesis", "default"}
    assert committed["split_hash"] == "ab5ecfcbedce"  # the project's split of the real tiles
    images = set()
    for name, run in committed["runs"].items():
        curve = pd.DataFrame(committed["curves"][name])
        assert not run["cut_by_time"], f"{name}: a time-capped run is no time-to-quality figure"
        assert run["training"]["seed"] == committed["seed"]
        assert curve["minutes"].is_monotonic_increasing and curve["images_seen"].is_monotonic_increasing
        assert run["best_val_tgs_score"] == pytest.approx(curve["val_tgs_score"].max(), abs=1e-4)
        images.add(int(curve["images_seen"].iloc[-1]))
        for level in LEVELS:
            reach = committed["reach"][name][f"{level:.2f}"]
            for column in ("minutes", "images"):
                expected = first_reaching(curve, level, "minutes" if column == "minutes" else "images_seen")
                assert reach[column] == (None if expected is None else pytest.approx(expected, abs=1e-3)), (name, level, column)
    assert len(images) == 1, f"both recipes see the same number of training images: {images}"


def test_readme_quotes_the_committed_sentence(committed):
    readme = (REPO / "README.md").read_text()
    assert sentence(committed) in readme
    assert "benchmarks/results/time_to_quality.png" in readme
    assert (REPO / "benchmarks" / "results" / "time_to_quality.png").is_file()


def test_readme_numbers_come_from_the_committed_result(committed):
    readme = " ".join((REPO / "README.md").read_text().split())
    runs, reach = committed["runs"], committed["reach"]["default"]
    for claim in (f"passed 0.70 after {reach['0.70']['minutes']:.0f} min",
                  f"0.75 after {reach['0.75']['minutes']:.0f} min",
                  f"best of {runs['default']['best_val_tgs_score']:.3f} after {runs['default']['wall_seconds'] / 60:.0f} min",
                  f"peaked at {runs['thesis']['best_val_tgs_score']:.3f}",
                  f"in its {runs['thesis']['wall_seconds'] / 60:.0f} minutes"):
        assert claim in readme, claim
