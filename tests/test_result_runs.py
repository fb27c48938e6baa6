"""Records of runs trained elsewhere (results/gpu): read, tabulated beside the lite models, plotted."""

import json

import numpy as np
import pandas as pd
import pytest

from salt_lib import evaluate, result_folders
from salt_lib.chapters import comparison as comparison_chapter


def write_run(folder, arch, parameters, test_ids, test_scores, cut=True):
    folder.mkdir(parents=True)
    record = {"arch": arch, "parameters": parameters, "recipe": {"epochs": 120, "precision": "mixed_bfloat16"},
              "epochs_trained": 3, "cut_by_time": cut, "best_epoch": 2, "device_kind": "NVIDIA H200",
              "median_train_images_per_second": 3000.0, "val": {"tgs_score_min_size": 0.7},
              "tiles_order": {"test": {"ids_sha1": evaluate.ids_digest(test_ids)}}}
    (folder / "record.json").write_text(json.dumps(record))
    pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.5, 0.2, 0.1], "val_tgs_score": [0.5, 0.7, 0.6]}).to_csv(folder / "history.csv", index=False)
    pd.DataFrame({"split": "test", "position": np.arange(len(test_scores)), "tgs_score": test_scores}).to_csv(folder / "tiles.csv", index=False)


def test_result_runs_table_and_figure(tmp_path):
    ids = np.array(["a", "b", "c", "d"])
    write_run(tmp_path / "resunet_thesis", "resunet", 40_000_000, ids, [1.0, 0.0, 0.5, 0.5])
    write_run(tmp_path / "unet_thesis", "unet", 31_000_000, ids, [1.0, 1.0, 0.5, 0.5], cut=False)
    runs = result_folders.read_results(tmp_path)
    assert list(runs) == ["unet_thesis", "resunet_thesis"]  # smallest network first
    table = comparison_chapter.result_runs_table(runs, {}, ids, n_resamples=200)
    unet, resunet = table.iloc[0], table.iloc[1]
    assert unet["test_tgs_score"] == pytest.approx(0.75) and resunet["test_tgs_score"] == pytest.approx(0.5)
    assert unet["test_ci_low"] <= 0.75 <= unet["test_ci_high"]
    assert unet["epochs"] == "3 of 120" and resunet["epochs"] == "3 of 120 (time cap)"
    fig = comparison_chapter.plot_result_runs(runs)
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 2
    # The legend sits below the panels, not over the curves, and names the networks as the text does.
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["U-Net thesis (31.0 M)", "ResUNet thesis (40.0 M)", "circle: kept epoch"]


def test_result_runs_refuse_scores_of_other_tiles(tmp_path):
    write_run(tmp_path / "unet_thesis", "unet", 31_000_000, np.array(["a", "b"]), [1.0, 0.0])
    runs = result_folders.read_results(tmp_path)
    with pytest.raises(ValueError, match="other tiles"):
        comparison_chapter.result_runs_table(runs, {}, np.array(["b", "a"]))


def test_no_records_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run records"):
        result_folders.read_results(tmp_path)
