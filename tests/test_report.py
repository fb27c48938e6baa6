"""The notebook layer: scoring with intervals, figure and table files, train-or-reuse caching,
the papermill runner, and the rules the committed notebooks follow."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from salt_lib import eda, evaluate, metrics, report, workbook
from salt_lib.dataset import load_dataset
from salt_lib.chapters import augmentation as augmentation_chapter
from salt_lib.chapters import comparison as comparison_chapter
from salt_lib.chapters import data as data_chapter
from salt_lib.chapters import model as model_chapter
from conftest import assert_chinese_with_the_same_numbers, disk_mask, in_both_languages

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TINY_MODEL = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}


# --------------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------------


def test_bootstrap_interval_contains_the_mean_and_narrows_with_more_tiles():
    rng = np.random.default_rng(1)
    few, many = rng.random(40) < 0.6, rng.random(4000) < 0.6
    wide, narrow = evaluate.bootstrap_ci(few.astype(float)), evaluate.bootstrap_ci(many.astype(float))
    for interval, values in ((wide, few), (narrow, many)):
        assert interval["mean"] == pytest.approx(values.mean())
        assert interval["low"] < interval["mean"] < interval["high"]
    # The interval of a mean shrinks like 1/sqrt(n): 100x the tiles, about a tenth of the width.
    ratio = (narrow["high"] - narrow["low"]) / (wide["high"] - wide["low"])
    assert 0.05 < ratio < 0.2


def test_bootstrap_is_repeatable_and_rejects_empty_input():
    values = np.linspace(0, 1, 50)
    assert evaluate.bootstrap_ci(values, seed=3) == evaluate.bootstrap_ci(values, seed=3)
    with pytest.raises(ValueError):
        evaluate.bootstrap_ci([])


def test_paired_bootstrap_of_a_constant_difference_is_that_constant():
    base = np.random.default_rng(0).random(200)
    same = evaluate.paired_bootstrap(base, base)
    assert same["mean_difference"] == same["low"] == same["high"] == 0
    shifted = evaluate.paired_bootstrap(base + 0.1, base)
    assert shifted["low"] == pytest.approx(0.1) and shifted["high"] == pytest.approx(0.1)
    assert shifted["share_positive"] == 1.0 and shifted["tiles"] == 200
    with pytest.raises(ValueError):
        evaluate.paired_bootstrap(base, base[:-1])


def test_paired_interval_is_narrower_than_the_unpaired_difference():
    # Tile difficulty varies a lot and both models share it: pairing removes that variation.
    rng = np.random.default_rng(2)
    difficulty = rng.random(300)
    a, b = difficulty + 0.02 * rng.random(300), difficulty + 0.02 * rng.random(300)
    paired = evaluate.paired_bootstrap(a, b)
    unpaired = evaluate.bootstrap_ci(a)
    assert paired["high"] - paired["low"] < 0.2 * (unpaired["high"] - unpaired["low"])


def test_coverage_bin_table_counts_add_up_and_means_are_per_class():
    coverage = np.array([0, 0, 0.05, 0.1, 0.15, 0.95, 1.0])
    scores = np.array([1, 0, 0.5, 0.3, 0.2, 0.9, 0.7])
    table = evaluate.coverage_bin_table(coverage, {"model": scores, "other": 1 - scores})
    assert table["tiles"].sum() == len(coverage)
    assert table["coverage_class"].tolist() == [0, 1, 2, 10]
    assert table.set_index("coverage_class").loc[1, "model"] == pytest.approx(0.4)  # 0.05 and 0.1
    assert table.set_index("coverage_class").loc[10, "other"] == pytest.approx(0.2)  # 0.95 and 1.0
    assert table.set_index("coverage_class").loc[0, "coverage"] == "empty"


def test_coverage_bin_table_has_a_bootstrap_interval_per_class_and_model():
    coverage = np.array([0.0] * 6 + [0.05] * 6)
    scores = np.array([1, 1, 1, 1, 1, 1, 0, 0.2, 0.4, 0.6, 0.8, 1.0])
    table = evaluate.coverage_bin_table(coverage, {"model": scores}, n_resamples=500).set_index("coverage_class")
    assert table.loc[0, "model_ci_low"] == table.loc[0, "model_ci_high"] == 1.0  # every empty tile scores 1
    low, high = table.loc[1, "model_ci_low"], table.loc[1, "model_ci_high"]
    assert table.loc[1, "model"] == pytest.approx(0.5)
    assert 0 < low < 0.5 < high < 1
    assert (low, high) == pytest.approx(tuple(evaluate.bootstrap_ci(scores[6:], 500).values())[1:])


def test_per_tile_scores_average_to_the_metrics():
    truth = np.stack([disk_mask(20), np.zeros((101, 101), bool), disk_mask(30), disk_mask(10)])
    pred = np.stack([disk_mask(18), disk_mask(3), disk_mask(30, (55, 50)), np.zeros((101, 101), bool)])
    per_tile = evaluate.per_tile_scores(truth, pred)
    assert set(per_tile) == set(evaluate.SCORES)
    for name, values in per_tile.items():
        assert values.mean() == pytest.approx(getattr(metrics, name)(truth, pred)), name


def test_score_table_has_an_interval_per_score():
    truth = np.stack([disk_mask(r) for r in (0, 10, 20, 30)] * 5)
    table = evaluate.score_table(truth, truth, n_resamples=200)
    assert table["score"].tolist() == list(evaluate.SCORES)
    assert np.allclose(table[["value", "ci_low", "ci_high"]], 1.0)  # a perfect prediction
    assert evaluate.check_intervals(table, [("value", "ci_low", "ci_high")])["passed"].all()


def test_check_intervals_catches_an_interval_that_misses_its_value():
    table = pd.DataFrame({"v": [0.5, 0.7], "lo": [0.4, 0.75], "hi": [0.6, 0.8]})
    checks = evaluate.check_intervals(table, [("v", "lo", "hi")]).set_index("check")["passed"]
    assert not checks["[lo, hi] contains v"] and checks["v in [0, 1]"]


def test_best_tiles_hold_salt_and_worst_are_the_lowest():
    scores = np.array([1.0, 1.0, 0.9, 0.0, 0.2, 0.5])
    coverage = np.array([0.0, 0.3, 0.5, 0.2, 0.0, 0.1])
    best, worst = evaluate.best_and_worst(scores, scores, coverage, n=2)
    assert best.tolist() == [1, 2]  # tile 0 scores 1 too but is empty
    assert worst.tolist() == [3, 4]


def test_worst_tiles_tied_at_zero_come_by_iou_then_by_the_salt_gotten_wrong():
    # Five tiles score 0; tile order would show 0, 1, 2, 3.
    scores = np.array([0, 0, 0, 0, 0, 1.0])
    iou = np.array([0.0, 0.0, 0.3, 0.0, 0.0, 1.0])
    coverage = np.array([0.05, 0.0, 0.5, 0.4, 0.0, 0.2])
    predicted = np.array([0.0, 0.1, 0.4, 0.0, 0.6, 0.2])
    _, worst = evaluate.best_and_worst(scores, iou, coverage, n=4, predicted_coverage=predicted)
    assert worst.tolist() == [4, 3, 1, 0]  # IoU 0 first; 0.6 falsely found, 0.4 missed, 0.1 found, 0.05 missed
    _, worst = evaluate.best_and_worst(scores, iou, coverage, n=2)
    assert worst.tolist() == [3, 0]  # without the prediction's coverage: the most salt missed first
    assert evaluate.wrong_share(np.array([0.4]), np.array([0.4]), np.array([1 / 3])) == pytest.approx([0.4])  # I 0.2, U 0.6


def test_best_tiles_tied_at_the_top_spread_over_coverage():
    # Six salt tiles score 1 (IoU decides nothing here), one empty tile scores 1, one tile 0.9.
    scores = np.array([1, 1, 1, 1, 1, 1, 0.9, 1])
    iou = np.array([0.99, 0.98, 0.9, 0.95, 0.93, 0.999, 0.8, 1.0])
    coverage = np.array([0.95, 0.9, 0.1, 0.5, 0.3, 0.99, 0.2, 0.0])
    best, _ = evaluate.best_and_worst(scores, iou, coverage, n=4)
    assert best.tolist() == [2, 3, 1, 5]  # coverage 0.1, 0.5, 0.9, 0.99: not the four fullest by IoU
    best, _ = evaluate.best_and_worst(np.array([1, 0.9, 0.9, 0.9]), np.array([1, 0.5, 0.7, 0.6]), np.array([0.2, 0.1, 0.9, 0.5]), n=2)
    assert best.tolist() == [0, 2]  # one place left among the ties: the best IoU


def test_failure_cases_show_one_tile_of_each_kind_of_error():
    truths = np.zeros((7, 10, 10), bool)
    truths[0, :2] = truths[1, :5] = True  # 0, 1: salt; 1 has more of it
    truths[3, :5] = truths[4, :5] = truths[5, :5] = True
    both = np.zeros((7, 10, 10), bool)
    truths[6, 0, 0], both[6, 9, 9] = True, True  # 6: a one-pixel sliver outlined wrongly: not a "wrong outline"
    both[2, :3] = True  # 2: empty tile, salt predicted by both
    both[3, 5:] = True  # 3: salt predicted in the wrong place by both
    both[4, :5] = True  # 4: right
    a, b = both.copy(), both.copy()
    a[5, :5] = True  # 5: a finds it, b does not
    scores = {"a": np.array([0, 0, 0, 0, 1, 1.0, 0]), "b": np.array([0, 0, 0, 0, 1, 0.0, 0])}
    cases = comparison_chapter.failure_cases(scores, truths, {"a": a, "b": b})
    assert cases == [(1, "missed salt"), (2, "false alarm"), (3, "wrong outline"), (5, "models disagree")]
    # More than there are kinds: the lowest scores fill up; a kind that does not occur is skipped.
    assert comparison_chapter.failure_cases(scores, truths, {"a": a, "b": b}, n=6)[-2:] == [(0, "low score"), (6, "low score")]
    same = {"a": scores["b"], "b": scores["b"]}  # no disagreement: its place goes to the lowest score left
    assert comparison_chapter.failure_cases(same, truths, {"a": both, "b": both}, n=4)[-1] == (0, "low score")


def test_the_threshold_plateau_is_where_the_score_is_within_the_tolerance_of_its_best():
    sweep = pd.DataFrame({"threshold": [0.1, 0.3, 0.5, 0.7, 0.9], "tgs_score": [0.70, 0.776, 0.78, 0.779, 0.60]})
    assert evaluate.threshold_plateau(sweep) == (0.3, 0.7)
    assert evaluate.threshold_plateau(sweep, tolerance=0.0) == (0.5, 0.5)


def test_threshold_sweep_finds_the_right_cut():
    truth = np.stack([disk_mask(20), disk_mask(30)])
    probs = np.where(truth, 0.7, 0.2).astype(np.float32)
    sweep = evaluate.threshold_sweep(probs, truth, thresholds=[0.1, 0.5, 0.8])
    assert sweep["tgs_score"].tolist() == [0.0, 1.0, 0.0]


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------


def test_save_table_writes_csv_tex_and_md_with_the_same_rows(tmp_path):
    table = pd.DataFrame({"model": ["U-Net", "ResUNet", "x_y"], "tgs_score": [0.81234, 0.8, np.nan], "parameters": [1, 2, 31031685],
                          "train_images_per_s": [3603.14, 36.58, 1.0]})
    returned = report.save_table(table, "06_demo", tmp_path)
    assert returned is table
    csv = pd.read_csv(tmp_path / "06_demo.csv")
    assert csv.columns.tolist() == table.columns.tolist()  # the names code reads back
    assert csv["tgs_score"].iloc[0] == pytest.approx(0.81234)  # full precision in the CSV
    tex = (tmp_path / "06_demo.tex").read_text()
    body = tex[tex.index("\\midrule") + len("\\midrule"): tex.index("\\bottomrule")].strip().splitlines()
    assert len(body) == 3 and body[0] == "U-Net & 0.812 & 1 & 3,603.140 \\\\"  # three decimals, thousands separators
    assert body[2] == "x\\_y & -- & 31,031,685 & 1.000 \\\\"  # LaTeX specials escaped, a missing value as --
    assert "\\begin{tabular}{lrrr}" in tex and "Model & TGS score & Parameters & Train images/s \\\\" in tex
    md = (tmp_path / "06_demo.md").read_text().splitlines()
    assert md[0] == "Table: Demo." and md[1] == ""
    assert md[2] == "| Model | TGS score | Parameters | Train images/s |" and md[3] == "|---|---:|---:|---:|"
    assert md[4] == "| U-Net | 0.812 | 1 | 3,603.140 |" and md[6] == "| x_y |  | 31,031,685 | 1.000 |" and len(md) == 7


def test_tables_name_the_networks_in_words_while_the_csv_keeps_the_code_names(tmp_path):
    table = pd.DataFrame({"model": ["unet (seed ensemble)", "resunet - unet", "unet-s2"], "arch": ["unet", "resunet", "unet"]})
    report.save_table(table, "06_demo", tmp_path)
    assert pd.read_csv(tmp_path / "06_demo.csv")["model"].tolist() == ["unet (seed ensemble)", "resunet - unet", "unet-s2"]
    md = (tmp_path / "06_demo.md").read_text().splitlines()
    assert md[4:] == ["| U-Net (seed ensemble) | U-Net |", "| ResUNet - U-Net | ResUNet |", "| unet-s2 | U-Net |"]
    report.use_thesis_style(language="zh")
    try:
        assert report.readable("resunet (seed ensemble)") == "ResUNet（种子集成）"
    finally:
        report.use_thesis_style(language="en")


def test_a_comparison_label_names_its_two_arms_in_order_and_reads_in_words():
    from salt_lib.report.words import compared_arms, comparison_label

    label = comparison_label("flip_alternate", "flip")
    assert label == "flip_alternate - flip" and compared_arms(label) == ("flip_alternate", "flip")
    assert report.readable(comparison_label("resunet", "unet")) == "ResUNet - U-Net"
    assert report.readable("flip, plus a shift - up to 10 % - of the tile") == "flip, plus a shift - up to 10 % - of the tile"
    with pytest.raises(ValueError):
        compared_arms("flip")


def test_a_table_word_in_a_cell_is_translated_while_ids_and_arm_names_stay():
    cells = ["kept", "not run", "learning rate", "flip_geo", "lr_half", "unet-s2"]
    assert [report.readable(c) for c in cells] == cells
    report.use_thesis_style(language="zh")
    try:
        assert [report.readable(c) for c in cells] == ["保留", "未运行", "学习率", "flip_geo", "lr_half", "unet-s2"]
    finally:
        report.use_thesis_style(language="en")


def test_headers_in_words_and_unknown_names_made_readable():
    assert [report.header(c) for c in ("tgs_score", "training_minutes", "train_images_per_s", "empty_tile_accuracy",
                                       "iou", "dice", "min_size", "thesis_iou_metric")] == [
        "TGS score", "Training (min)", "Train images/s", "Empty-tile accuracy", "IoU", "Dice", "Min. component (px)",
        "Thesis IoU metric"]
    assert report.header("mean_pixel_error") == "Mean pixel error" and report.header("U-Net") == "U-Net"


def test_every_header_has_a_chinese_translation():
    zh = report.TRANSLATIONS["zh"]
    assert sorted(set(report.HEADERS.values()) - set(zh)) == []


def test_the_column_names_of_the_committed_tables_all_have_headers():
    columns = {c for path in (REPO / "tables").glob("*.csv") for c in pd.read_csv(path, nrows=0).columns}
    bounds = {b for path in (REPO / "tables").glob("*.csv")
              for _, low, high in report.interval_columns(pd.read_csv(path, nrows=0).columns) for b in (low, high)}
    model_names = {"U-Net", "ResUNet"}  # 06_coverage_bins: one column per model, shown by its name
    assert sorted(columns - set(report.HEADERS) - bounds - model_names) == []


def test_intervals_are_found_by_the_names_the_chapters_use():
    assert report.interval_columns(["model", "tgs_score", "iou", "tgs_score_ci_low", "tgs_score_ci_high"]) == [
        ("tgs_score", "tgs_score_ci_low", "tgs_score_ci_high")]
    assert report.interval_columns(["policy", "val_tgs_score", "val_ci_low", "val_ci_high", "test_tgs_score",
                                    "test_ci_low", "test_ci_high"]) == [
        ("val_tgs_score", "val_ci_low", "val_ci_high"), ("test_tgs_score", "test_ci_low", "test_ci_high")]
    assert report.interval_columns(["difference", "tiles", "mean_difference", "ci_low", "ci_high"]) == [
        ("mean_difference", "ci_low", "ci_high")]
    assert report.interval_columns(["arm", "difference", "difference_low", "difference_high"]) == [
        ("difference", "difference_low", "difference_high")]
    assert report.interval_columns(["model", "tgs_score", "ci_low"]) == []  # no high end: no interval


def test_an_interval_is_one_cell_in_tex_and_md_while_the_csv_keeps_its_columns(tmp_path):
    table = pd.DataFrame({"model": ["U-Net", "ResUNet"], "tgs_score": [0.75875, 0.7671875],
                          "tgs_score_ci_low": [0.72984, 0.73796], "tgs_score_ci_high": [0.788125, 0.79594]})
    report.save_table(table, "06_example", tmp_path)
    assert (tmp_path / "06_example.csv").read_text().splitlines()[0] == "model,tgs_score,tgs_score_ci_low,tgs_score_ci_high"
    md = (tmp_path / "06_example.md").read_text().splitlines()
    assert md[2:] == ["| Model | TGS score [95 % CI] |", "|---|---:|", "| U-Net | 0.759 [0.730, 0.788] |",
                      "| ResUNet | 0.767 [0.738, 0.796] |"]
    tex = (tmp_path / "06_example.tex").read_text()
    assert "Model & TGS score [95 \\% CI] \\\\" in tex and "ResUNet & 0.767 [0.738, 0.796] \\\\" in tex
    difference = pd.DataFrame({"difference": ["ResUNet - U-Net"], "mean_difference": [0.0084375],
                               "ci_low": [-0.0040625], "ci_high": [0.02078125]})
    report.save_table(difference, "06_paired", tmp_path)
    assert (tmp_path / "06_paired.md").read_text().splitlines()[-1] == "| ResUNet - U-Net | +0.008 [-0.004, +0.021] |"
    assert "ResUNet - U-Net & +0.008 [$-$0.004, +0.021] \\\\" in (tmp_path / "06_paired.tex").read_text()


def test_tex_is_a_captioned_labelled_float(tmp_path):
    table = pd.DataFrame({"score": ["tgs_score", "iou"], "value": [0.7, 0.8], "ci_low": [0.6, 0.7], "ci_high": [0.8, 0.9]})
    report.save_table(table, "04_test_scores", tmp_path, caption="Test scores with 95 % bootstrap intervals.")
    tex = (tmp_path / "04_test_scores.tex").read_text().splitlines()
    assert tex[1:6] == ["\\begin{table}[htbp]", "\\centering", "\\small",
                        "\\caption{Test scores with 95 \\% bootstrap intervals.}", "\\label{tab:04_test_scores}"]
    assert tex[6:9] == ["\\begin{tabular}{lr}", "\\toprule", "Score & Value [95 \\% CI] \\\\"]
    assert tex[-3:] == ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    assert "TGS score & 0.700 [0.600, 0.800] \\\\" in tex and "IoU & 0.800 [0.700, 0.900] \\\\" in tex  # score names in words
    assert (tmp_path / "04_test_scores.md").read_text().splitlines()[0] == "Table: Test scores with 95 % bootstrap intervals."
    report.save_table(table, "04_test_scores", tmp_path)  # no caption: one from the name
    assert "\\caption{Test scores.}" in (tmp_path / "04_test_scores.tex").read_text()


def test_a_wide_table_is_split_into_parts_that_repeat_the_model_column(tmp_path):
    table = pd.read_csv(REPO / "tables" / "06_comparison.csv")
    assert len(table.columns) == 14
    report.save_table(table, "06_comparison", tmp_path, caption="The two networks on the test tiles.")
    tex = (tmp_path / "06_comparison.tex").read_text()
    assert tex.count("\\begin{table}") == tex.count("\\end{table}") == 2
    assert "\\caption{The two networks on the test tiles (part 1 of 2).}" in tex and "(part 2 of 2).}" in tex
    assert "\\label{tab:06_comparison}" in tex and "\\label{tab:06_comparison_part2}" in tex
    headers = [line for line in tex.splitlines() if line.startswith("Model &")]
    widths = [len(line.split(" & ")) for line in headers]
    assert len(headers) == 2 and all(w <= 8 for w in widths) and sum(widths) == 12 + 1  # 14 - 2 interval bounds, model twice
    assert "TGS score [95 \\% CI]" in tex and "Min. component (px)" in tex
    md = (tmp_path / "06_comparison.md").read_text()
    tables = [block for block in md.split("Table: ")[1:]]
    assert len(tables) == 2
    for block in tables:
        lines = [line for line in block.splitlines() if line.startswith("|")]
        assert lines[0].startswith("| Model |") and lines[0].count(" | ") + 1 <= 8
        assert lines[2].startswith("| U-Net |") and lines[3].startswith("| ResUNet |")
    assert report.table_parts(pd.DataFrame(columns=list("abcdefgh"))) == [list(range(8))]  # fits: one part
    assert report.table_parts(pd.DataFrame(columns=list("abcdefghijk")), key_columns=2) == [[0, 1, 2, 3, 4, 5, 6], [0, 1, 7, 8, 9, 10]]
    # The leading columns that name a row are repeated: arm and seed, not the scores after them.
    assert report.key_column_count(["arm", "seed", "val_tgs_score", "model"]) == 2
    assert report.key_column_count(["tgs_score", "model"]) == 1


def test_save_figure_writes_png_at_300_dpi_and_a_stable_pdf(tmp_path):
    import matplotlib.pyplot as plt

    report.use_thesis_style()
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    png, pdf = report.save_figure(fig, "01_demo", tmp_path)
    first = pdf.read_bytes()
    report.save_figure(fig, "01_demo", tmp_path)
    plt.close(fig)
    with Image.open(png) as image:
        assert round(image.info["dpi"][0]) == 300
    assert pdf.read_bytes() == first  # no creation date: same figure, same file


def test_the_chinese_font_cut_keeps_the_source_fonts_dates_so_its_pdfs_are_the_same_everywhere():
    from importlib.resources import files

    from fontTools.ttLib import TTFont

    from salt_lib.report.style import cjk_font_path

    source = TTFont(str(files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"), lazy=True)
    cut = TTFont(str(cjk_font_path()), lazy=True)  # made once per cache, at whatever time
    assert (cut["head"].created, cut["head"].modified) == (source["head"].created, source["head"].modified)


def test_names_must_be_chapter_prefixed(tmp_path):
    with pytest.raises(ValueError, match="chapter"):
        report.save_table(pd.DataFrame({"a": [1]}), "Comparison Table", tmp_path)


def test_level_table_adds_up_to_the_model_and_follows_the_data_flow():
    from salt_lib.models import build_model

    model = build_model("resunet", "lite", TINY_MODEL)
    levels = model_chapter.level_table(model)
    assert levels["parameters"].sum() == model.count_params()
    assert levels["level"].tolist() == ["input", "enc1", "enc2", "enc3", "dec2", "dec1", "head"]
    assert levels.set_index("level").loc["enc3", "side"] == 25 and levels.set_index("level").loc["dec1", "side"] == 101
    fig = model_chapter.plot_architecture(model)
    assert f"{model.count_params():,} parameters" in fig.axes[0].get_title()
    matplotlib.pyplot.close(fig)


def _inside_canvas(fig) -> bool:
    """Whether everything drawn (labels, legends, titles) lies on the figure's canvas."""
    fig.canvas.draw()
    drawn, canvas = fig.get_tightbbox(fig.canvas.get_renderer()), fig.bbox_inches
    return drawn.x0 >= -0.01 and drawn.y0 >= -0.01 and drawn.x1 <= canvas.x1 + 0.01 and drawn.y1 <= canvas.y1 + 0.01


def _synthetic_tiles(n: int = 8):
    from salt_lib.data import TGSData
    from salt_lib.synthetic import synthesize_tiles

    images, masks, _ = synthesize_tiles(n, seed=2)
    return TGSData(ids=np.array([f"tile{k:02d}" for k in range(n)]), images=images, masks=masks, depths=None,
                   coverage=masks.mean(axis=(1, 2)))


def test_sample_tiles_leave_out_a_group_without_tiles():
    report.use_thesis_style()
    tiles = _synthetic_tiles()
    fig = data_chapter.plot_sample_tiles(tiles, {"no salt": np.array([0, 1, 2]), "partial": np.array([3, 4, 5]), "full": np.array([], int)})
    assert len(fig.axes) == 2 * 3  # two rows, no empty third one
    assert [fig.axes[0].get_ylabel(), fig.axes[3].get_ylabel()] == ["no salt", "partial"]
    assert fig.get_suptitle() == "" and fig.axes[0].get_title() == f"tile00 ({report.percent(tiles.coverage[0])})"  # the chapter says which
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)


def test_augmentation_grid_shows_the_original_once_and_names_every_column():
    report.use_thesis_style()
    tiles = _synthetic_tiles(3)
    fig = augmentation_chapter.plot_augmentation_grid(tiles.images, tiles.masks, ["none", "mirror", "flip_geo_intensity"])
    top = [ax.get_title() for ax in fig.axes[:3]]
    assert len(fig.axes) == 3 * 3 and top == ["original (= none)", "mirror", "flip_geo\nintensity"]
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)


def test_seed_scores_show_a_dot_per_seed_the_means_and_the_test_interval_on_the_canvas():
    report.use_thesis_style()
    seeds = pd.DataFrame({"arm": ["none", "none", "flip_geo_intensity", "flip_geo_intensity"], "seed": [0, 1, 0, 1],
                          "val_tgs_score": [0.60, 0.64, 0.70, 0.72], "test_tgs_score": [0.58, 0.62, 0.69, 0.73]})
    summary = pd.DataFrame({"arm": ["none", "flip_geo_intensity"], "val_mean": [0.62, 0.71], "test_mean": [0.60, 0.71],
                            "test_ci_low": [0.55, 0.66], "test_ci_high": [0.65, 0.76]})
    fig = report.plot_seed_scores(seeds, summary, "augmentation policy")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["none", "flip_geo\nintensity"]  # no underscore at a break
    assert ax.get_ylabel() == "TGS score"
    val = [line for line in ax.get_lines() if line.get_marker() == "o"]
    test = [line for line in ax.get_lines() if line.get_marker() == "s"]
    assert [len(line.get_xdata()) for line in val + test] == [2, 2, 2, 2]  # per split and arm, one mark per seed
    assert all(line.get_markerfacecolor() == "none" for line in val)  # validation hollow, test filled
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["val: one mark per seed", "val: mean over seeds", "test: one mark per seed", "test: mean over seeds",
                      "test: 95 % interval over tiles"]
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)


def test_seed_scores_of_networks_show_the_paired_differences_per_seed_in_the_networks_colours():
    report.use_thesis_style()
    seeds = pd.DataFrame({"model": ["unet"] * 3 + ["resunet"] * 3, "seed": [0, 1, 2, 2, 0, 1],
                          "val_tgs_score": [0.78, 0.79, 0.77, 0.76, 0.77, 0.78], "test_tgs_score": [0.77, 0.78, 0.76, 0.75, 0.78, 0.76]})
    summary = pd.DataFrame({"model": ["unet", "resunet"], "val_mean": [0.78, 0.77], "test_mean": [0.77, 0.763],
                            "test_ci_low": [0.74, 0.73], "test_ci_high": [0.80, 0.79]})
    paired = pd.DataFrame({"comparison": ["resunet - unet"], "difference": [-0.007], "ci_low": [-0.015], "ci_high": [0.002]})
    fig = report.plot_seed_scores(seeds, summary, "network", paired=paired)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["U-Net", "ResUNet"]
    assert [t.get_text() for t in right.get_xticklabels()] == ["ResUNet\n\u2212 U-Net"]
    per_seed = [line for line in right.get_lines() if line.get_marker() == "s"]
    assert len(per_seed) == 1 and np.allclose(sorted(per_seed[0].get_ydata()), [-0.02, -0.01, 0.01])  # seed by seed: +0.01, -0.02, -0.01
    assert per_seed[0].get_color() == report.NETWORK_COLOURS["resunet"]
    interval = [line for line in right.get_lines() if line.get_marker() == "D"][0]
    assert interval.get_ydata()[0] == pytest.approx(-0.007)
    assert right.get_ylabel() == "difference in\ntest TGS score"
    assert "paired 95 % interval over tiles (seed means)" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)


def test_seed_scores_against_a_long_reference_on_validation_name_it_once_and_draw_validation_differences():
    report.use_thesis_style()
    seeds = pd.DataFrame({"policy": ["flip_geo", "flip_geo", "flip_alternate", "flip_alternate"], "seed": [0, 1, 0, 1],
                          "val_tgs_score": [0.78, 0.79, 0.80, 0.78], "test_tgs_score": [0.77, 0.76, 0.70, 0.70]})
    summary = pd.DataFrame({"policy": ["flip_geo", "flip_alternate"], "val_mean": [0.785, 0.79], "test_mean": [0.765, 0.70],
                            "test_ci_low": [0.74, 0.67], "test_ci_high": [0.79, 0.73]})
    paired = pd.DataFrame({"comparison": ["flip_alternate - flip_geo"], "split": ["val"], "difference": [0.005],
                           "ci_low": [-0.01], "ci_high": [0.02]})
    fig = report.plot_seed_scores(seeds, summary, "augmentation policy", paired=paired)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["flip_geo", "flip\nalternate"]  # fits under its tick
    assert [t.get_text() for t in right.get_xticklabels()] == ["flip\nalternate"] and right.get_xlabel() == "each minus flip_geo"
    assert right.get_ylabel() == "difference in\nvalidation TGS score"
    per_seed = [line for line in right.get_lines() if line.get_marker() == "s"][0]
    assert np.allclose(sorted(per_seed.get_ydata()), [-0.01, 0.02])  # validation, seed by seed: +0.02, -0.01
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)
    report.use_thesis_style(language="zh")
    fig = report.plot_seed_scores(seeds, summary, "augmentation policy", paired=paired)
    assert fig.axes[1].get_xlabel() == "各项减去 flip_geo" and fig.axes[1].get_ylabel() == "验证集\nTGS 得分之差"
    matplotlib.pyplot.close(fig)
    report.use_thesis_style()


def test_the_committed_policy_is_judged_on_validation_by_the_two_level_interval_and_holm():
    def table(rows):
        return pd.DataFrame([{"comparison": c, "split": "val", "seeds_paired": n, "difference_seeds_tiles": d,
                              "difference_seeds_tiles_low": low, "difference_seeds_tiles_high": high, "p_holm": p}
                             for c, n, d, low, high, p in rows])

    kept = augmentation_chapter.committed_policy_findings(table([
        ("none - flip_geo", 3, -0.012, -0.020, -0.004, 0.01), ("flip - flip_geo", 3, 0.004, -0.002, 0.010, 0.40)]), "flip_geo")
    assert kept == [
        "On validation, with 3 paired seeds per comparison, resampling seeds, then mosaics, and Holm's correction for the 2 "
        "comparisons with flip_geo, no policy scores higher than flip_geo (the closest, flip: +0.004 [-0.002, +0.010]), so the "
        "recipe keeps flip_geo: the study does not contradict the policy of chapters 4 and 5.",
        "On the same footing, none (-0.012 [-0.020, -0.004]) scores lower than flip_geo."]
    # above 0 but not held after Holm's correction: not a reason to change the recipe
    unheld = table([("flip - flip_geo", 1, 0.006, 0.001, 0.011, 0.08)])
    assert "no policy scores higher than flip_geo" in augmentation_chapter.committed_policy_findings(unheld, "flip_geo")[0]
    changed = augmentation_chapter.committed_policy_findings(table([
        ("mirror - flip_geo", 2, 0.009, 0.002, 0.016, 0.02), ("flip - flip_geo", 3, 0.012, 0.004, 0.020, 0.01)]), "flip_geo")
    assert changed == [
        "On validation, with 2 to 3 paired seeds per comparison, resampling seeds, then mosaics, and Holm's correction for the 2 "
        "comparisons with flip_geo, mirror (+0.009 [+0.002, +0.016]); flip (+0.012 [+0.004, +0.020]) score higher than flip_geo, "
        "the policy of the recipe: this study does not support it, and the models of chapters 4 and 5 would be retrained with flip."]


def test_learning_curves_name_the_losses_and_the_shaded_stage():
    report.use_thesis_style()
    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "stage": ["main", "main", "lovasz", "lovasz"],
                            "loss": [1.0, 0.8, 0.5, 0.4], "val_tgs_score": [0.5, 0.6, 0.7, 0.65]})
    fig = model_chapter.plot_learning_curves(history, "bce")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "BCE (left axis)", "Lovasz hinge (right axis)", "Lovasz fine-tuning stage", "best (epoch 3)"]
    left, right, second = fig.axes  # the second stage's loss on its own axis, not joined to the first
    assert [list(line.get_xdata()) for line in left.get_lines()] == [[1, 2]]
    assert [list(line.get_xdata()) for line in second.get_lines()] == [[3, 4]]
    assert left.get_ylabel() == "training loss: BCE" and second.get_ylabel() == "training loss: Lovasz hinge"
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)
    fig = model_chapter.plot_learning_curves(history.iloc[:2])  # no second stage: the default loss, no shading
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["BCE + Dice", "best (epoch 2)"]
    matplotlib.pyplot.close(fig)


def test_threshold_sweep_marks_the_choice_the_empty_share_and_the_cliff():
    report.use_thesis_style()
    sweep = pd.DataFrame({"threshold": [0.1, 0.3, 0.5, 0.7, 0.8, 0.9], "tgs_score": [0.2, 0.7, 0.78, 0.7, 0.45, 0.4]})
    fig = model_chapter.plot_threshold_sweep(sweep, 0.5, empty_share=0.4)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0] == "chosen threshold 0.500 (score 0.780 before the minimum size)" and labels[1].startswith("share of empty tiles (0.400)")
    assert labels[2].startswith("jump between thresholds 0.100 and 0.300: the background probabilities cluster\nat sigmoid(-1) = 0.269")
    cliff = [text for text in fig.axes[0].texts if text.get_text() == "cliff"]
    assert len(cliff) == 1 and cliff[0].xy == (0.8, 0.45)  # the first point past the best below halfway to 0.4
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)
    # A curve that only slopes down and never reaches the plateau has no cliff to mark.
    gentle = sweep.assign(tgs_score=[0.2, 0.7, 0.78, 0.7, 0.6, 0.55])
    fig = model_chapter.plot_threshold_sweep(gentle, 0.5, empty_share=0.4)
    assert not [text for text in fig.axes[0].texts if text.get_text() == "cliff"]
    matplotlib.pyplot.close(fig)
    # A rise of 0.1 or less between neighbouring thresholds is no jump; one away from 0.269 is not explained by it.
    assert model_chapter.threshold_jump(sweep.assign(tgs_score=[0.65, 0.7, 0.78, 0.7, 0.6, 0.55])) is None
    fig = model_chapter.plot_threshold_sweep(sweep.assign(tgs_score=[0.2, 0.25, 0.78, 0.7, 0.6, 0.55]), 0.5)
    assert [t.get_text() for t in fig.legends[0].get_texts()][1] == (
        "jump between thresholds 0.300 and 0.500: many probabilities lie between them")
    matplotlib.pyplot.close(fig)


def test_case_titles_carry_the_tile_id():
    report.use_thesis_style()
    tiles = _synthetic_tiles(4)
    row = report.case_row(tiles, [2, 0], tiles.masks, np.array([0.1, 0.2, 0.9, 0.4]))
    assert row["titles"][0] == f"tile02\nscore 0.9, salt {report.percent(tiles.coverage[2])}"
    fig = report.plot_cases({"best": row, "worst": row})
    assert fig.axes[0].get_title().startswith("tile02") and fig.axes[0].get_ylabel() == "best"
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)


def test_coverage_bins_count_tiles_under_the_ticks_and_draw_intervals_when_given():
    report.use_thesis_style()
    table = pd.read_csv(REPO / "tables" / "06_coverage_bins.csv")
    fig = comparison_chapter.plot_coverage_bins(table, ["U-Net", "ResUNet"])
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(fig.axes) == 1 and ticks[0] == "empty\n(n=243)" and ticks[1] == "0–10\n(n=95)"
    bars = lambda fig: [c for c in fig.axes[0].containers if isinstance(c, matplotlib.container.BarContainer)]  # noqa: E731
    assert len(bars(fig)) == 2 and all(b.errorbar is not None for b in bars(fig))  # the committed table has intervals
    assert [bar.patches[0].get_facecolor()[:3] for bar in bars(fig)] == [
        matplotlib.colors.to_rgb(report.NETWORK_COLOURS[arch]) for arch in ("unet", "resunet")]
    assert "95 % bootstrap interval over the class's tiles" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)
    fig = comparison_chapter.plot_coverage_bins(table.drop(columns=["ResUNet_ci_low", "ResUNet_ci_high"]), ["U-Net", "ResUNet"])
    assert [b.errorbar is not None for b in bars(fig)] == [True, False]
    matplotlib.pyplot.close(fig)


def test_paired_difference_names_its_lines():
    report.use_thesis_style()
    fig = comparison_chapter.plot_paired_difference(np.random.default_rng(0).normal(0.01, 0.005, 500),
                                        {"mean_difference": 0.01, "low": 0.0, "high": 0.02}, "B - A")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["zero: no difference", "mean difference", "95 % interval bounds"]
    assert _inside_canvas(fig)
    matplotlib.pyplot.close(fig)


def test_percent_labels_never_call_a_little_salt_none():
    assert [report.percent(x) for x in (0.0, 0.003, 0.01, 0.456, 1.0)] == ["0%", "0.3%", "1%", "46%", "100%"]


def test_tile_outline_lies_on_the_mask():
    import matplotlib.pyplot as plt

    mask = np.zeros((101, 101), bool)
    mask[70:90, 10:30] = True  # a square low in the tile: a flipped outline would sit high
    fig, ax = plt.subplots()
    report.draw_tile(ax, np.zeros((101, 101), np.uint8), truth=mask)
    vertices = np.concatenate([path.vertices for collection in ax.collections for path in collection.get_paths()])
    plt.close(fig)
    assert 68 < vertices[:, 1].min() and vertices[:, 1].max() < 91
    assert 8 < vertices[:, 0].min() and vertices[:, 0].max() < 31


# --------------------------------------------------------------------------------------------
# eda and the chapters' tables
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_dataset(tmp_path_factory):
    base = tmp_path_factory.mktemp("eda")
    return load_dataset(base / "data", base / "split.csv", synthetic_tiles=40, synthetic_seed=3)


def test_eda_tables_count_every_tile(synthetic_dataset):
    tiles = synthetic_dataset.tiles
    assert eda.coverage_class_table(tiles.coverage)["tiles"].sum() == len(tiles)
    counts = eda.split_class_counts(tiles, synthetic_dataset.split)
    assert counts[["train", "val", "test"]].to_numpy().sum() == len(tiles)
    summary = eda.split_summary(tiles, synthetic_dataset.split).set_index("split")
    assert summary.loc[["train", "val", "test"], "tiles"].sum() == summary.loc["all", "tiles"] == len(tiles)
    stats = eda.intensity_stats(tiles.images, tiles.masks).set_index("region")
    assert stats.loc["inside salt", "pixels"] + stats.loc["outside salt", "pixels"] == tiles.images.size
    groups = eda.sample_by_group(tiles.coverage, 3, seed=1)
    assert all((tiles.coverage[groups["no salt"]] == 0)) and all(tiles.coverage[groups["full"]] == 1)


def test_parameter_counts_compare_with_the_thesis_network():
    table = model_chapter.parameter_counts("unet", "lite", TINY_MODEL)
    assert table["preset"].tolist() == ["lite", "thesis"]
    assert table.loc[1, "parameters"] == 31_031_685 > table.loc[0, "parameters"]


def test_policy_descriptions_accept_the_old_policy_name():
    with pytest.warns(DeprecationWarning):
        table = augmentation_chapter.policy_descriptions(["none", "seed"])
    assert "mirror" in table.loc[1, "what it does"]


# --------------------------------------------------------------------------------------------
# workbook runner
# --------------------------------------------------------------------------------------------


def _notebook(path: Path, parameters: str, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# A chapter"))
    nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)


def test_runner_names_the_failing_notebook_and_cell_and_keeps_the_partial_copy(tmp_path):
    notebooks, params = tmp_path / "notebooks", tmp_path / "params"
    notebooks.mkdir()
    params.mkdir()
    _notebook(notebooks / "01_fine.ipynb", "x = 1\nout_dir = 'nowhere'", "print('x is', x)", "print(out_dir)")
    _notebook(notebooks / "02_broken.ipynb", "x = 1", "y = x + 1", "ratio = y / 0", "print('never')")
    _notebook(notebooks / "03_after.ipynb", "x = 1", "print('not reached')")
    (params / "demo.yaml").write_text(yaml.safe_dump({"shared": {"x": 5}, "01_fine": {"out_dir": "{out}/sub"}}))
    with pytest.raises(workbook.WorkbookError) as failure:
        workbook.run_workbook("demo", out=tmp_path / "out", notebooks_dir=notebooks, params_dir=params, root=tmp_path, progress=False)
    message = str(failure.value)
    assert "02_broken.ipynb" in message and "ZeroDivisionError" in message
    assert "In [4]" in message  # parameters, injected parameters, y = ..., then this and "ratio = y / 0" in message
    assert str(tmp_path / "out" / "02_broken.ipynb") in message and "--only 02,03" in message
    assert "\n" not in message  # one paragraph
    partial = nbformat.read(tmp_path / "out" / "02_broken.ipynb", as_version=4)
    assert any(o.get("ename") == "ZeroDivisionError" for c in partial.cells if c.cell_type == "code" for o in c.outputs)
    assert not (tmp_path / "out" / "03_after.ipynb").exists()  # the run stops at the failure
    fine = nbformat.read(tmp_path / "out" / "01_fine.ipynb", as_version=4)
    printed = [o["text"] for c in fine.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream"]
    assert printed == ["x is 5\n", "../out/sub\n"]  # shared value, {out}, path relative to the notebook's folder
    assert "papermill" not in fine.metadata and all("papermill" not in c.metadata for c in fine.cells)


def test_profile_keys_must_be_parameters_of_the_notebook(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_a.ipynb", "epochs = 1\ndata_dir = 'x'\nsynthetic_tiles = 5")
    with pytest.raises(workbook.WorkbookError, match="epoch.*does not declare"):
        workbook.parameters_for(notebooks / "01_a.ipynb", {"01_a": {"epoch": 3}}, tmp_path, profile_name="demo")
    with pytest.raises(workbook.WorkbookError, match="parameters of no notebook"):
        workbook.check_shared_keys({"shared": {"epochz": 1}}, [notebooks / "01_a.ipynb"], "demo")
    values = workbook.parameters_for(notebooks / "01_a.ipynb", {"shared": {"data_dir": "d", "epochs": 2}}, tmp_path,
                                     data=tmp_path / "real", root=tmp_path)
    assert values == {"data_dir": "../real", "epochs": 2, "synthetic_tiles": 0}
    with pytest.raises(workbook.WorkbookError, match="no notebook '09'"):
        workbook.select([notebooks / "01_a.ipynb"], "01,09")


@pytest.mark.parametrize("profile", ["quick", "thesis"])
def test_profiles_fit_the_notebooks(profile):
    settings = workbook.load_profile(profile)
    workbook.check_shared_keys(settings, NOTEBOOKS, profile)
    for notebook in NOTEBOOKS:
        values = workbook.parameters_for(notebook, settings, REPO / "reports" / profile, profile_name=profile)
        for key, value in values.items():
            if key.endswith(("_dir", "_file", "_path")) and value is not None:
                assert not Path(value).is_absolute(), (notebook.stem, key)  # executed notebooks carry no machine paths
                assert (notebook.parent / value).resolve().is_relative_to(REPO.parent), (notebook.stem, key)


def test_strip_volatile_removes_timings_and_native_logs_only(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"duration": 3.2, "start_time": "2025-01-01"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.9"}
    cell = nbformat.v4.new_code_cell("import keras", metadata={"papermill": {"duration": 1.0}, "execution": {"iopub.execute_input": "2025-01-01T00:00:00"}, "tags": []})
    log = "I0000 00:00:1795599382.707529   13573 port.cc:153] oneDNN custom operations are on.\n"
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=log),
                    nbformat.v4.new_output("stream", name="stderr", text=log + "UserWarning: keep me\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="result\n")]
    nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell("x = 2", metadata={"tags": ["injected-parameters"]}))
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    workbook.strip_volatile(path)
    cleaned = nbformat.read(path, as_version=4)
    assert "papermill" not in cleaned.metadata and cleaned.metadata["language_info"] == {"name": "python"}
    assert cleaned.cells[0].metadata == {}
    assert cleaned.cells[1].id == "injected-parameters"  # the same id on every run
    assert [o["text"] for o in cleaned.cells[0].outputs] == ["UserWarning: keep me\n", "result\n"]


# --------------------------------------------------------------------------------------------
# The committed notebooks
# --------------------------------------------------------------------------------------------


def test_there_are_seven_chapters():
    assert [p.stem for p in NOTEBOOKS] == ["01_eda", "02_split", "03_augmentation", "04_unet", "05_resunet", "06_comparison",
                                           "07_results"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_first_and_plain(path):
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    tagged = [cell for cell in code if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0], "exactly one parameters cell, the first code cell"
    for statement in ast.parse(tagged[0].source).body:
        assert isinstance(statement, ast.Assign) and len(statement.targets) == 1, ast.unparse(statement)
        ast.literal_eval(statement.value)  # plain literals only
    assert all("environ" not in cell.source and "getenv" not in cell.source for cell in code)
    assert all("injected-parameters" not in cell.metadata.get("tags", []) for cell in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cells_stay_thin(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            tree = ast.parse(cell.source)
            assert not any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) for node in ast.walk(tree)), cell.source
            assert len(cell.source.splitlines()) <= 8, cell.source


def test_model_chapters_are_the_rendered_template(tmp_path):
    rendered = workbook.render_model_chapters(notebooks_dir=tmp_path)
    assert [p.name for p in rendered] == ["04_unet.ipynb", "05_resunet.ipynb"]
    first = rendered[0].read_bytes()
    workbook.render_model_chapters(notebooks_dir=tmp_path)
    assert rendered[0].read_bytes() == first  # deterministic, cell ids included
    for path in rendered:
        assert workbook.model_chapter_sources(path) == workbook.model_chapter_sources(REPO / "notebooks" / path.name), (
            f"{path.name} differs from notebooks/templates/model_chapter.py: run `python -m salt_lib workbook --render`")
    unet, resunet = (workbook.model_chapter_sources(p) for p in rendered)
    differing = [i for i, (a, b) in enumerate(zip(unet, resunet)) if a != b]
    assert len(unet) == len(resunet) and differing == [0, 1]  # the title cell and the parameters cell


def test_quick_profile_only_moves_outputs():
    """The quick settings live once, in the notebooks' parameters cells: params/quick.yaml only
    points their output paths at the output folder."""
    settings = workbook.load_profile("quick")
    for section in settings.values():
        for key, value in section.items():
            assert key.endswith(("_dir", "_file", "_path", "_paths")), key
            assert "{out}" in json.dumps(value), key


def test_cli_workbook_reports_a_bad_selection_in_one_line(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "salt_lib", "workbook", "--only", "99", "--out", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "no notebook '99'" in result.stderr


# --- findings: the wording comes from the interval ---------------------------------------------


def test_with_interval_three_decimals_and_signs_for_differences():
    assert report.with_interval(0.76719, 0.73796, 0.79594) == "0.767 [0.738, 0.796]"
    assert report.with_interval(0.0084, -0.0041, 0.0208, signed=True) == "+0.008 [-0.004, +0.021]"


def test_verdict_from_the_interval_and_the_reference():
    assert report.verdict(0.005, 0.027) == "higher"
    assert report.verdict(-0.04, -0.01) == "lower"
    assert report.verdict(-0.004, 0.021) == "not distinguishable"
    assert report.verdict(0.0, 0.02) == "not distinguishable"  # an end point on the reference
    assert report.verdict(0.71, 0.75, reference=0.70) == "higher"
    assert report.verdict(0.65, 0.69, reference=0.70) == "lower"
    with pytest.raises(ValueError):
        report.verdict(0.2, 0.1)


def test_findings_on_a_fixed_table_of_differences():
    table = pd.DataFrame({"arm": ["128 padded input", "half decoder", "flip only"],
                          "difference": [0.016, -0.016, 0.003],
                          "ci_low": [0.005, -0.027, -0.008], "ci_high": [0.027, -0.005, 0.014]})
    assert report.findings(table, "arm", "difference") == [
        "128 padded input: +0.016 [+0.005, +0.027], higher than 0.",
        "half decoder: -0.016 [-0.027, -0.005], lower than 0.",
        "flip only: +0.003 [-0.008, +0.014], not distinguishable from 0.",
    ]


def test_findings_against_a_target_score_and_with_a_unit():
    table = pd.DataFrame({"model": ["U-Net", "ResUNet"], "tgs_score": [0.7587, 0.7672],
                          "tgs_score_ci_low": [0.7298, 0.7380], "tgs_score_ci_high": [0.7881, 0.7959]})
    assert report.findings(table, "model", "tgs_score", "tgs_score_ci_low", "tgs_score_ci_high", reference=0.80) == [
        "U-Net: 0.759 [0.730, 0.788], lower than 0.800.",
        "ResUNet: 0.767 [0.738, 0.796], lower than 0.800.",
    ]
    assert report.finding("speed-up", 1.8, 1.6, 2.1, reference=1.0, unit="x", digits=1) == \
        "speed-up: 1.8 [1.6, 2.1] x, higher than 1.0."


def test_compare_sentence_on_the_committed_paired_bootstrap_table():
    paired = pd.read_csv(Path(__file__).resolve().parents[1] / "tables" / "06_paired_bootstrap.csv").iloc[0]
    word = report.verdict(paired["ci_low"], paired["ci_high"])
    relation = "not distinguishable from" if word == report.NOT_DISTINGUISHABLE else f"{word} than"
    assert report.compare_sentence("ResUNet", "U-Net", paired["mean_difference"], paired["ci_low"], paired["ci_high"]) == (
        f"ResUNet's tgs_score is {relation} U-Net's: ResUNet - U-Net = "
        f"{paired['mean_difference']:+.3f} [{paired['ci_low']:+.3f}, {paired['ci_high']:+.3f}].")
    assert report.compare_sentence("A", "B", 0.02, 0.01, 0.03, score="IoU") == \
        "A's IoU is higher than B's: A - B = +0.020 [+0.010, +0.030]."
    assert report.compare_sentence("A", "B", -0.02, -0.03, -0.01) == \
        "A's tgs_score is lower than B's: A - B = -0.020 [-0.030, -0.010]."


# --- language: one translation table, one switch --------------------------------------------


@pytest.fixture
def chinese():
    """The zh style for one test, then back to English for the others."""
    report.use_thesis_style(language="zh")
    yield
    report.use_thesis_style()


def test_every_label_the_figures_use_has_a_chinese_translation_with_the_same_fields():
    import string

    package = REPO / "salt_lib"
    sources = [ast.parse(path.read_text()) for path in sorted((package / "report").glob("*.py")) + sorted((package / "chapters").glob("*.py"))]
    keys = {node.args[0].value for source in sources for node in ast.walk(source)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr"
            and node.args and isinstance(node.args[0], ast.Constant)}
    assert len(keys) > 40
    zh = report.TRANSLATIONS["zh"]
    assert sorted(keys - set(zh)) == []
    fields = lambda text: sorted(f for _, f, _, _ in string.Formatter().parse(text) if f)  # noqa: E731
    assert all(fields(zh[key]) == fields(key) for key in zh)


def sentence_templates(paths) -> set[str]:
    """Every English template the modules at ``paths`` pass to ``tr``: a string, either string of
    ``a if ... else b``, or every string of a module-level dict indexed in the call (``tr(WORDS[word])``)."""
    templates = set()
    for path in paths:
        source = ast.parse(Path(path).read_text())
        tables = {target.id: node.value for node in source.body if isinstance(node, ast.Assign)
                  for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict)}

        def strings(node):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return {node.value}
            if isinstance(node, ast.IfExp):
                return strings(node.body) | strings(node.orelse)
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in tables:
                return {value.value for value in tables[node.value.id].values if isinstance(value, ast.Constant)}
            return set()

        templates |= {key for node in ast.walk(source) if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr"
                      and node.args for key in strings(node.args[0])}
    return templates


def test_every_sentence_template_has_a_chinese_translation_with_the_same_fields_and_formats():
    import string

    package = REPO / "salt_lib"
    paths = [*sorted((package / "report").glob("*.py")), *sorted((package / "chapters").glob("*.py")),
             package / "study.py", package / "eda.py", package / "submission.py"]
    templates = sentence_templates(paths)
    assert {"{name}: {number}, higher than {reference}.", "On the same footing, {named} score lower than {committed}.",
            "{comparison} is lower than 0"} <= templates
    zh = report.TRANSLATIONS["zh"]
    assert sorted(templates - set(zh)) == []
    fields = lambda text: {(name, spec) for _, name, spec, _ in string.Formatter().parse(text) if name is not None}  # noqa: E731
    assert {key: fields(zh[key]) for key in zh if fields(zh[key]) != fields(key)} == {}


def test_sentences_of_report_sentences_read_in_chinese_with_the_english_numbers():
    def build():
        return [report.finding("flip - none", 0.033, 0.010, 0.056), report.finding("a", -0.02, -0.03, -0.01),
                report.finding("x", 0.6, 0.55, 0.65, reference=0.6, unit="px"),
                *report.findings(pd.DataFrame({"n": ["a", "b"], "v": [0.1, -0.1], "ci_low": [0.05, -0.2], "ci_high": [0.2, 0.1]}), "n", "v"),
                *(report.compare_sentence("ResUNet", "U-Net", *interval) for interval in
                  ((0.008, -0.004, 0.021), (0.03, 0.01, 0.05), (-0.03, -0.05, -0.01)))]

    english, chinese = in_both_languages(build)
    assert_chinese_with_the_same_numbers(english, chinese)
    assert chinese[0] == "flip - none：+0.033 [+0.010, +0.056]，高于 0。"
    assert chinese[-1] == "ResUNet 的 tgs_score 低于 U-Net：ResUNet - U-Net = -0.030 [-0.050, -0.010]。"
    assert english == build()  # and English again after


def test_chapter_3_findings_read_in_chinese_with_the_english_numbers():
    committed = pd.read_csv(REPO / "tables" / "03_final_vs_committed.csv")
    orientations = pd.read_csv(REPO / "tables" / "03_final_orientations.csv")
    beaten = committed.copy()  # two policies above the recipe's, decided, and one seed paired
    beaten.loc[[1, 2], ["difference_seeds_tiles", "difference_seeds_tiles_low", "difference_seeds_tiles_high", "p_holm"]] = [0.02, 0.01, 0.03, 0.01]
    beaten["seeds_paired"] = [1, 1, 2, 1]
    decided = orientations.assign(difference_seeds_tiles_low=[0.001, -0.013], difference_seeds_tiles_high=[0.004, -0.001],
                                  p_holm=0.01, seeds_paired=[3, 1])

    def build():
        return [augmentation_chapter.budget_sentence(1, 12_345), augmentation_chapter.budget_sentence(3, 12_345),
                *augmentation_chapter.committed_policy_findings(committed, "flip_geo"),
                *augmentation_chapter.committed_policy_findings(beaten, "flip_geo"),
                *augmentation_chapter.both_orientations_findings(orientations),
                *augmentation_chapter.both_orientations_findings(decided)]

    english, chinese = in_both_languages(build)
    assert len(english) == 8 and "scores lower than flip_geo" in english[3] and "1 to 2 paired seeds" in english[4]
    assert_chinese_with_the_same_numbers(english, chinese)
    assert chinese[3] == "在相同条件下，none（-0.013 [-0.024, -0.004]）的得分低于 flip_geo。"


def test_chapter_6_findings_read_in_chinese_with_the_english_numbers():
    tables = {name: pd.read_csv(REPO / "tables" / f"06_{name}.csv") for name in (
        "paired_bootstrap", "coverage_bins", "thesis_networks", "neighbour_gap", "split_optimism", "same_tiles", "tuning")}
    optimism = pd.concat([tables["split_optimism"], tables["split_optimism"].assign(optimism_low=0.01)])
    tuning = tables["tuning"].assign(study=["policies_final", "learning_rate_unet", "policies_final_resunet", "learning_rate_resunet"],
                                     alternatives="none, mirror", pending=["", "mirror", "", "lr_half, lr_double"])
    beaten = tuning.assign(outcome=["not run", "not run", "not run", "beaten"], seeds=[0, 0, 0, 2], pending=["", "", "", "lr_half"])

    def build():
        return [*comparison_chapter.comparison_findings(tables["paired_bootstrap"], tables["coverage_bins"], ["U-Net", "ResUNet"]),
                *comparison_chapter.network_findings(tables["thesis_networks"]),
                *comparison_chapter.neighbour_findings(tables["neighbour_gap"]),
                *comparison_chapter.split_optimism_findings(optimism),
                *comparison_chapter.same_tiles_findings(tables["same_tiles"], tables["split_optimism"]),
                *comparison_chapter.same_tiles_findings(tables["same_tiles"].assign(difference_low=-0.05, difference_high=0.05),
                                                        tables["split_optimism"]),
                *comparison_chapter.same_tiles_findings(tables["same_tiles"], tables["split_optimism"].iloc[:0]),
                *comparison_chapter.tuning_findings(tuning), *comparison_chapter.tuning_findings(beaten)]

    english, chinese = in_both_languages(build)
    assert any("policies_final and python -m salt_lib study learning_rate_unet would" in s for s in english)
    assert any("mirror has not run yet, so " in s for s in english) and any("; lr_half has not run yet; " in s for s in english)
    assert any("inside this interval" in s for s in english) and any("outside this interval" in s for s in english)
    assert_chinese_with_the_same_numbers(english, chinese)


def model_chapter_inputs():
    """A model chapter's record, history (22 BCE + Dice and 22 Lovasz epochs) and test scores."""
    record = {"training": {"loss": "bce_dice"}, "wall_seconds": 2700, "best_epoch": 40, "cut_by_time": False,
              "threshold": 0.5, "min_size": 20, "val": {"tgs_score_min_size": 0.80}}
    history = pd.DataFrame({"epoch": range(1, 45), "stage": ["main"] * 22 + ["lovasz"] * 22,
                            "val_tgs_score": np.linspace(0.5, 0.8, 44)})
    scores = pd.DataFrame({"score": ["tgs_score", "thesis_iou_metric"], "value": [0.78, 0.78],
                           "ci_low": [0.75, 0.75], "ci_high": [0.81, 0.81]})
    return record, history, scores


def test_model_chapter_findings_read_in_chinese_with_the_english_numbers():
    record, history, scores = model_chapter_inputs()
    sweep = pd.DataFrame({"threshold": np.linspace(0.1, 0.9, 9), "tgs_score": [0.7, 0.75, 0.79, 0.8, 0.799, 0.79, 0.75, 0.7, 0.6]})

    def build():
        return [*model_chapter.model_findings(record, history, scores),
                *model_chapter.model_findings(record | {"cut_by_time": True, "val": {"tgs_score_min_size": 0.7}},
                                              history.iloc[:8].assign(stage="main"), scores.assign(value=[0.78, 0.77])),
                *model_chapter.model_findings(record | {"val": {}}, history.assign(val_tgs_score=np.linspace(0.8, 0.5, 44)),
                                              scores.iloc[:1]),
                model_chapter.plateau_sentence(sweep)]

    english, chinese = in_both_languages(build)
    assert len(english) == 11 and "(cut short by the time cap)" in english[4] and english[-1].startswith("Within 0.005")
    assert_chinese_with_the_same_numbers(english, chinese)
    assert chinese[0].startswith("共训练 44 轮（22 轮 BCE + Dice + 22 轮 Lovasz hinge），用时 45.0 分钟")


def test_the_sample_tiles_caption_reads_in_chinese_with_the_english_numbers():
    def build():
        return [data_chapter.sample_tiles_caption(groups) for groups in (
            {"no salt": np.arange(4), "partial": np.arange(4), "full": np.array([])},
            {"no salt": np.arange(3), "partial": np.arange(3), "full": np.arange(2)},
            {"no salt": np.array([]), "partial": np.arange(3), "full": np.array([])})]

    english, chinese = in_both_languages(build)
    assert english[2].endswith("(partial); no tile of this set is in the group 'no salt' or 'full', so it has no row.")
    assert_chinese_with_the_same_numbers(english, chinese)
    assert "“无盐”或“全为盐”" in chinese[2]


def test_english_is_the_default_and_unknown_languages_are_refused():
    report.use_thesis_style()
    assert report.tr("epoch") == "epoch" and report.tr("best (epoch {epoch})", epoch=3) == "best (epoch 3)"
    with pytest.raises(ValueError, match="zh"):
        report.use_thesis_style(language="fr")


def test_a_zh_figure_draws_every_glyph(chinese, tmp_path, caplog):
    import warnings

    history = pd.read_csv(Path(__file__).resolve().parents[1] / "models" / "unet_lite.history.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = model_chapter.plot_learning_curves(history)
        report.save_figure(fig, "04_learning_curves", tmp_path)  # drawing is where missing glyphs show
        matplotlib.pyplot.close(fig)
    problems = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    problems += [r.getMessage() for r in caplog.records if "findfont" in r.getMessage() or "missing" in r.getMessage()]
    assert problems == []
    texts = [t.get_text() for ax in fig.axes for t in [ax.xaxis.label, ax.yaxis.label]]
    texts += [t.get_text() for t in fig.legends[0].get_texts()]
    best = int(history.loc[history["val_tgs_score"].idxmax(), "epoch"])
    assert "轮次" in texts and f"最佳（第 {best} 轮）" in texts and "Lovasz 微调阶段" in texts
    assert (tmp_path / "04_learning_curves.png").stat().st_size > 10_000


def test_zh_table_headers_in_tex_and_md_while_the_csv_keeps_the_column_names(chinese, tmp_path):
    table = pd.DataFrame({"model": ["U-Net"], "tgs_score": [0.7587], "ci_low": [0.7298], "ci_high": [0.7881], "iou": [0.79]})
    assert report.save_table(table, "06_example", tmp_path) is table
    assert (tmp_path / "06_example.csv").read_text().splitlines()[0] == "model,tgs_score,ci_low,ci_high,iou"
    assert (tmp_path / "06_example.md").read_text().splitlines()[2] == "| 模型 | TGS 得分 [95% 置信区间] | IoU |"
    assert "模型 & TGS 得分 [95\\% 置信区间] & IoU \\\\" in (tmp_path / "06_example.tex").read_text()
    wide = pd.DataFrame({c: [1.0] for c in ["model", "iou", "dice", "threshold", "tgs_score", "epochs", "tiles", "share", "mean"]})
    report.save_table(wide, "06_wide", tmp_path, caption="Wide")
    assert "\\caption{Wide（第 1 部分，共 2 部分）}" in (tmp_path / "06_wide.tex").read_text()


def test_every_chapter_declares_language_and_the_workbook_passes_it(tmp_path):
    for notebook in NOTEBOOKS:
        assert workbook.declared_parameters(notebook)["language"]["default"] == "\"en\"", notebook.name
        source = "".join(cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code")
        assert "report.use_thesis_style(language=language)" in source and "use_thesis_style()" not in source
        values = workbook.parameters_for(notebook, workbook.load_profile("quick"), tmp_path, profile_name="quick", language="zh")
        assert values["language"] == "zh"
    with pytest.raises(workbook.WorkbookError, match="--in-place"):
        workbook.run_workbook(in_place=True, language="zh", out=tmp_path, progress=False)


def test_a_chinese_run_writes_its_own_chapters_figures_and_tables_beside_the_english_ones():
    chapter = NOTEBOOKS[0]
    thesis, quick = workbook.load_profile("thesis"), workbook.load_profile("quick")
    assert workbook.default_out("thesis", "zh") == REPO / "reports" / "thesis-zh"
    assert workbook.default_out("thesis") == workbook.default_out("thesis", "en") == REPO / "reports" / "thesis"
    english = workbook.parameters_for(chapter, thesis, workbook.default_out("thesis"), profile_name="thesis")
    chinese = workbook.parameters_for(chapter, thesis, workbook.default_out("thesis", "zh"), profile_name="thesis", language="zh")
    for key in ("figures_dir", "tables_dir"):  # the thesis's committed folders: a zh subfolder
        assert chinese[key] == str(Path(english[key]) / "zh")
    out = workbook.default_out("quick", "zh")  # the quick run's folders lie in its own out already
    chinese = workbook.parameters_for(chapter, quick, out, profile_name="quick", language="zh")
    assert (chapter.parent / chinese["figures_dir"]).resolve() == out / "figures"


def test_model_and_comparison_findings_are_built_from_record_history_and_tables():
    record, history, scores = model_chapter_inputs()
    sentences = model_chapter.model_findings(record, history, scores)
    assert sentences[0] == ("Trained 44 epochs (22 BCE + Dice + 22 Lovasz hinge) in 45.0 minutes; the kept weights are from "
                            "epoch 40; the validation score of the last five epochs averages 0.035 above that of the five before.")
    assert "threshold 0.5 and the minimum salt region 20 px; there the model scores 0.800" in sentences[1]
    assert sentences[2] == "On the test tiles, scored once: tgs_score 0.780 [0.750, 0.810], 0.020 below the validation score."
    assert sentences[3].startswith("The source thesis's stepwise IoU metric gives 0.780, the same")
    paired = pd.DataFrame([{"difference": "ResUNet - U-Net", "mean_difference": 0.03, "ci_low": 0.01, "ci_high": 0.05,
                            "share_resamples_positive": 0.99}])
    bins = pd.DataFrame({"coverage": ["empty", "(0, 10] %", "(90, 100] %"], "tiles": [10, 5, 0],
                         "U-Net": [0.9, 0.3, np.nan], "ResUNet": [0.8, 0.4, np.nan]})
    first, unet, resunet = comparison_chapter.comparison_findings(paired, bins, ["U-Net", "ResUNet"])
    assert first.startswith("ResUNet's tgs_score is higher than U-Net's: ResUNet - U-Net = +0.030 [+0.010, +0.050].")
    assert unet == "U-Net does best on empty tiles (0.900, 10 tiles) and worst on (0, 10] % tiles (0.300, 5 tiles)."
    assert resunet.startswith("ResUNet does best on empty tiles (0.800")


def test_network_findings_give_size_epochs_and_the_test_interval():
    table = pd.DataFrame({"model": ["unet thesis", "U-Net (lite)"], "parameters": [31_031_685, 1_945_953],
                          "epochs": ["96 of 120 (time cap)", 44], "best_epoch": [45, 42], "test_tgs_score": [0.744, 0.7725],
                          "test_ci_low": [0.713, 0.744], "test_ci_high": [0.775, 0.801]})
    assert comparison_chapter.network_findings(table) == [
        "unet thesis: 31.0 M parameters, 96 of 120 (time cap) epochs (kept 45), test tgs_score 0.744 [0.713, 0.775].",
        "U-Net (lite): 1.9 M parameters, 44 epochs (kept 42), test tgs_score 0.772 [0.744, 0.801]."]


def test_a_salt_share_reads_100_percent_only_when_it_is_all_salt():
    assert [report.percent(x) for x in (0, 0.003, 0.5, 0.996, 1.0)] == ["0%", "0.3%", "50%", "99.6%", "100%"]


def test_findings_are_shown_as_markdown_text():
    shown = report.markdown(["ResUNet - U-Net = -0.005 [-0.017, +0.006].", "", "  Both do\nbest on empty tiles. "])
    assert type(shown).__name__ == "Markdown"
    assert shown.data == "ResUNet - U-Net = -0.005 [-0.017, +0.006]. Both do best on empty tiles."
    assert report.markdown(["One.", "Two."], bullets=True).data == "- One.\n- Two."
    assert report.markdown([]).data == ""


def test_a_section_with_nothing_to_show_is_left_out_of_the_executed_copy(tmp_path):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    shown = new_code_cell("x", outputs=[new_output("stream", name="stdout", text="a table\n")])
    cells = [new_markdown_cell("# Chapter"), new_markdown_cell("## Empty", metadata={"tags": [workbook.SECTION_TAG]}),
             new_code_cell("if False: show()"), new_markdown_cell("More text of the empty section."), new_code_cell("y = 1"),
             new_markdown_cell("## Kept", metadata={"tags": [workbook.SECTION_TAG]}), shown,
             new_markdown_cell("## Findings"), new_code_cell("z")]
    path = tmp_path / "07_demo.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    assert workbook.section_spans(cells) == [(1, 5), (5, 7)]
    assert workbook.drop_empty_sections(path) == 4
    assert [cell.source for cell in nbformat.read(path, 4).cells] == ["# Chapter", "## Kept", "x", "## Findings", "z"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_cell_carries_its_own_id(path):
    # A cell without an id gets a random one each time papermill runs it: the executed chapter
    # would then differ from run to run, and the workbook would no longer rewrite it byte for byte.
    ids = [cell.get("id") for cell in nbformat.read(path, as_version=4).cells]
    assert all(ids) and len(set(ids)) == len(ids), ids
