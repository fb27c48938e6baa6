"""The CPU recipe arm (benchmarks/cpu_recipe_arm.py): the committed SWA arm is the default recipe
plus SWA against a default run of the same seed, on validation, and benchmarks/README.md quotes it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.evaluate import paired_bootstrap

REPO = Path(__file__).resolve().parents[1]
ARM = REPO / "results" / "ablation_cpu"


def test_committed_swa_arm_agrees_with_its_tiles():
    result = json.loads((ARM / "swa.json").read_text())
    tiles = pd.read_csv(ARM / "swa_tiles.csv")
    assert result["training_added"] == {"swa_epochs": 5} and not result["cut_by_time"]
    assert result["split_hash"] == "ab5ecfcbedce" and len(tiles) == result["difference"]["tiles"] == 641  # validation only
    for name, score in result["val_tgs_score"].items():
        assert np.isclose(tiles[name].mean(), score, atol=1e-3), name
    paired = paired_bootstrap(tiles["swa"], tiles["reference"])
    assert np.isclose(paired["mean_difference"], result["difference"]["mean_difference"], atol=1e-3)
    assert np.isclose(paired["low"], result["difference"]["low"], atol=2e-3)
    swa = result["option_record"]
    assert len(swa["epochs"]) == 5 and swa["kept"] == (swa["val_tgs_score"] >= swa["best_single_val_tgs_score"])


def test_readme_quotes_the_swa_arm():
    result = json.loads((ARM / "swa.json").read_text())
    readme = " ".join((REPO / "benchmarks" / "README.md").read_text().split())
    d = result["difference"]
    assert f"{d['mean_difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]" in readme
    swa = result["option_record"]
    assert f"{swa['val_tgs_score']:.3f}" in readme and f"{swa['best_single_val_tgs_score']:.3f}" in readme
