"""Chapter 7's library: the post-processing ablation and the records it reconciles, the source
thesis table, the findings, and the Kaggle submission (rows, CSV, format check)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salt_lib.data import DataError, TGSData, png_files
from salt_lib.metrics import tgs_score
from salt_lib.rle import rle_decode, rle_encode
from salt_lib.synthetic import make_synthetic_tgs, synthesize_tiles

TINY = {"filters": 4, "depth": 2, "input_size": 101, "upsampling": "transpose"}


def tiles(n, seed):
    images, masks, depths = synthesize_tiles(n, seed=seed)
    return TGSData(ids=np.array([f"t{seed}_{i}" for i in range(n)]), images=images, masks=masks,
                   depths=depths, coverage=masks.reshape(n, -1).mean(axis=1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny U-Net trained for one epoch (its record holds the threshold and minimum size chosen
    on ``val`` and the three validation scores), the validation tiles, and a cache folder."""
    import keras

    from salt_lib.models import build_model
    from salt_lib.train import TrainConfig, fit

    keras.utils.set_random_seed(0)
    base = tmp_path_factory.mktemp("results")
    val = tiles(24, 1)
    fit(build_model("unet", "lite", TINY), tiles(40, 0), val, TrainConfig(epochs=1, batch_size=8), base / "run", verbose=False)
    return base / "run" / "best.keras", val, base / "cache"


# --- the post-processing ablation ---------------------------------------------------------------


def test_postprocessing_table_has_four_steps_scored_as_described_and_gains_that_add_up(trained):
    from salt_lib.chapters.results import POSTPROCESSING_STEPS, postprocessing_scores as postprocessing_table
    from salt_lib.predict import predict, to_masks
    from salt_lib.records import load_model, load_record

    model_path, val, cache = trained
    record = load_record(model_path)
    table = postprocessing_table(model_path, val, cache, n_resamples=500, name="tiny")
    assert list(table["step"]) == list(POSTPROCESSING_STEPS) and set(table["model"]) == {"tiny"}
    assert list(table["tta"]) == [False, True, True, True]
    assert list(table["threshold"]) == [0.5, 0.5, record["threshold"], record["threshold"]]
    assert list(table["min_size"]) == [0, 0, 0, record["min_size"]]
    # Each step's score, computed here without the library's table.
    model = load_model(model_path, compile=False)
    plain, flipped = predict(model, val.images, tta=False), predict(model, val.images, tta=True)
    expected = [tgs_score(val.masks, plain > 0.5), tgs_score(val.masks, flipped > 0.5),
                tgs_score(val.masks, flipped > record["threshold"]),
                tgs_score(val.masks, to_masks(flipped, record["threshold"], record["min_size"]))]
    np.testing.assert_allclose(table["tgs_score"], expected, atol=1e-12)
    # Gains are differences of consecutive steps, add up to the total, and lie in their intervals.
    np.testing.assert_allclose(table["gain"].iloc[1:], np.diff(expected), atol=1e-12)
    assert table["gain"].iloc[1:].sum() == pytest.approx(table["total_gain"].iloc[-1]) == pytest.approx(expected[3] - expected[0])
    assert table[["gain", "gain_low", "gain_high", "total_gain"]].iloc[0].isna().all()
    later = table.iloc[1:]
    assert ((later["gain_low"] <= later["gain"]) & (later["gain"] <= later["gain_high"])).all()
    assert ((later["total_low"] <= later["total_gain"]) & (later["total_gain"] <= later["total_high"])).all()
    # The validation set is one sample: a gain's interval has width unless every tile agrees.
    assert (later["gain_high"] - later["gain_low"] >= 0).all()


def test_postprocessing_predicts_each_setting_once_and_reads_the_cache_after(trained):
    from salt_lib.chapters.results import postprocessing_scores as postprocessing_table

    model_path, val, cache = trained
    first = postprocessing_table({"a": model_path}, val, cache, n_resamples=200)
    cached = sorted(cache.glob("probs-*.npy"))
    assert [p.name.rsplit("-", 1)[1] for p in cached] == ["plain.npy", "tta.npy"]
    mtimes = [p.stat().st_mtime_ns for p in cached]
    again = postprocessing_table({"a": model_path, "b": model_path}, val, cache, n_resamples=200)
    assert sorted(cache.glob("probs-*.npy")) == cached and [p.stat().st_mtime_ns for p in cached] == mtimes
    pd.testing.assert_frame_equal(again[again["model"] == "b"].reset_index(drop=True), first.assign(model="b"))
    # An ensemble's probabilities are the mean of its members' cached ones: nothing new is predicted.
    from salt_lib.evaluate import predictions

    np.testing.assert_allclose(predictions([model_path, model_path], val, cache), predictions(model_path, val, cache), atol=1e-7)
    assert sorted(cache.glob("probs-*.npy")) == cached and [p.stat().st_mtime_ns for p in cached] == mtimes


def test_the_records_validation_scores_are_steps_3_and_4_and_the_no_tta_score_is_none(trained):
    from salt_lib.chapters.results import POSTPROCESSING_STEPS, check_postprocessing, record_reconciliation
    from salt_lib.chapters.results import postprocessing_scores as postprocessing_table
    from salt_lib.records import load_record

    model_path, val, cache = trained
    table = postprocessing_table({"tiny": model_path}, val, cache, n_resamples=200)
    recon = record_reconciliation({"tiny": model_path}, val, table, cache).set_index("recorded_as")
    recorded = load_record(model_path)["val"]
    assert list(recon.index) == ["val.tgs_score_no_tta", "val.tgs_score", "val.tgs_score_min_size"]
    assert list(recon["step"]) == ["none", POSTPROCESSING_STEPS[2], POSTPROCESSING_STEPS[3]]
    assert recon.loc["val.tgs_score", "recorded"] == recorded["tgs_score"]
    assert recon.loc["val.tgs_score", "recomputed"] == pytest.approx(table["tgs_score"].iloc[2], abs=1e-12)
    assert recon.loc["val.tgs_score_min_size", "recomputed"] == pytest.approx(table["tgs_score"].iloc[3], abs=1e-12)
    # Same machine, same weights: the record's numbers come back exactly.
    assert recon["difference"].abs().max() < 1e-9
    checks = check_postprocessing(table, recon.reset_index())
    assert checks["passed"].all() and len(checks) == 5
    broken = table.copy()
    broken.loc[2, "gain"] += 1.0  # a gain that no longer adds up, outside its interval
    failed = check_postprocessing(broken, recon.reset_index().assign(difference=[0.0, 0.0, 0.1])).set_index("check")["passed"]
    assert not failed["each model's gains add up to its total gain"]
    assert not failed["every gain interval contains its gain"]
    assert not failed["records' val.tgs_score and val.tgs_score_min_size are steps 3 and 4"]
    assert failed["every model has the four steps in order"]


# --- the source thesis, the figure and the findings ---------------------------------------------


def test_source_thesis_table_computes_both_sides(trained, tmp_path):
    from salt_lib.dataset import load_dataset
    from salt_lib.records import load_record
    from salt_lib.chapters.results import NOT_RECORDED, source_thesis_table

    make_synthetic_tgs(tmp_path / "tgs", n_train=30, n_test=0, seed=3)
    dataset = load_dataset(tmp_path / "tgs", cache_dir=tmp_path / "cache")
    record = load_record(trained[0])
    scores = pd.DataFrame({"model": ["U-Net"], "tgs_score": [0.7587], "tgs_score_ci_low": [0.7298], "tgs_score_ci_high": [0.7881],
                           "thesis_iou_metric": [0.7601], "thesis_iou_metric_ci_low": [0.7310], "thesis_iou_metric_ci_high": [0.7890]})
    table = source_thesis_table({"U-Net": record}, dataset, scores).set_index("aspect")
    assert list(table.columns) == ["source thesis", "this workbook"]
    assert table.loc["networks (parameters)", "source thesis"] == "U-Net 31,031,685; ResUNet 40,398,597"
    assert table.loc["networks (parameters)", "this workbook"] == f"{record['parameters']:,} (lite)"
    assert table.loc["input", "source thesis"] == "128x128, bicubic resize"
    assert table.loc["input", "this workbook"] == "101x101, native"
    counts = dataset.split["split"].value_counts()
    assert table.loc["split", "source thesis"] == "6:2:2 of 4,000 tiles (2,400 / 800 / 800)"
    assert table.loc["split", "this workbook"] == f"6:2:2 by coverage class of 30 tiles ({counts['train']} / {counts['val']} / {counts['test']})"
    assert table.loc["augmentation", "source thesis"].startswith("mirror")
    assert table.loc["augmentation", "this workbook"] == "flip"
    assert table.loc["test thesis_iou_metric", "source thesis"] == NOT_RECORDED
    assert table.loc["test thesis_iou_metric", "this workbook"] == "U-Net 0.760 [0.731, 0.789]"
    reported = source_thesis_table({"U-Net": record}, dataset, scores, {"U-Net": 0.8}).set_index("aspect")
    assert reported.loc["test thesis_iou_metric", "source thesis"] == "U-Net: 0.800"


def test_findings_come_from_the_tables():
    from salt_lib.chapters.results import findings

    post = pd.DataFrame({"model": ["U-Net"] * 4, "step": ["s1", "s2", "s3", "s4"], "gain": [np.nan, 0.01, -0.001, 0.002],
                         "gain_low": [np.nan, 0.004, -0.006, -0.001], "gain_high": [np.nan, 0.016, 0.004, 0.005],
                         "total_gain": [np.nan, 0.01, 0.009, 0.011], "total_low": [np.nan, 0.004, 0.001, 0.003],
                         "total_high": [np.nan, 0.016, 0.017, 0.019]})
    scores = pd.DataFrame({"model": ["U-Net"], "tgs_score": [0.7587], "tgs_score_ci_low": [0.7298], "tgs_score_ci_high": [0.7881],
                           "thesis_iou_metric": [0.7601], "thesis_iou_metric_ci_low": [0.7310], "thesis_iou_metric_ci_high": [0.7890]})
    ensemble = pd.DataFrame({"challenger": ["U-Net + ResUNet"], "baseline": ["U-Net"], "mean_difference": [0.012],
                             "ci_low": [0.002], "ci_high": [0.022]})
    sentences = findings(post, scores, {}, ensemble)
    assert sentences == [
        "U-Net, s2 (over s1, validation): +0.010 [+0.004, +0.016], higher than 0.",
        "U-Net, s3 (over s2, validation): -0.001 [-0.006, +0.004], not distinguishable from 0.",
        "U-Net, s4 (over s3, validation): +0.002 [-0.001, +0.005], not distinguishable from 0.",
        "U-Net, all post-processing (over s1, validation, tuned there: optimistic): +0.011 [+0.003, +0.019], higher than 0.",
        "U-Net on the test tiles (nothing tuned there): tgs_score 0.759 [0.730, 0.788], thesis_iou_metric 0.760 [0.731, 0.789].",
        "The source thesis's reported scores are not available here: the comparison with it is of setup "
        "(networks, input, split, augmentation, training, metric), not of scores.",
        "U-Net + ResUNet's tgs_score is higher than U-Net's: U-Net + ResUNet - U-Net = +0.012 [+0.002, +0.022].",
    ]
    assert findings(post, scores, {"U-Net": 0.8})[5] == \
        "U-Net's test thesis_iou_metric here, against the source thesis's reported: 0.760 [0.731, 0.789], lower than 0.800."


def test_postprocessing_figure_shows_scores_and_gain_intervals():
    from salt_lib.chapters.results import POSTPROCESSING_STEPS
    from salt_lib.chapters.results import plot_postprocessing

    rows = [{"model": model, "step": step, "tgs_score": 0.7 + 0.01 * k, "gain": np.nan if k == 0 else 0.01,
             "gain_low": np.nan if k == 0 else 0.0, "gain_high": np.nan if k == 0 else 0.02}
            for model in ("U-Net", "ResUNet") for k, step in enumerate(POSTPROCESSING_STEPS)]
    fig = plot_postprocessing(pd.DataFrame(rows))
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines()] == ["U-Net", "ResUNet"]
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [0.70, 0.71, 0.72, 0.73])
    assert len(right.containers) == 2 and len(right.get_xticks()) == 3  # one error-bar set per model, steps 2-4
    # Half a step of margin on both sides: no marker or error bar on a panel's edge.
    assert left.get_xlim() == (-0.5, 3.5) and right.get_xlim() == (0.5, 3.5)
    # Each panel its title, both axes say validation, one legend for both panels.
    assert left.get_title() and right.get_title() and left.get_title() != right.get_title()
    assert left.get_ylabel().startswith("validation") and right.get_ylabel().startswith("validation")
    assert [text.get_text() for text in fig.legends[0].get_texts()] == ["U-Net", "ResUNet"] and left.get_legend() is None
    assert all(len(line) <= 10 for tick in right.get_xticklabels() for line in tick.get_text().split("\n"))


# --- the post-processing summary ----------------------------------------------------------------


def test_noise_around_zero_becomes_zero_and_nothing_else_changes():
    from salt_lib.chapters.results import without_noise

    table = pd.DataFrame({"model": ["a", "a", "a"], "gain": [np.nan, 0.0062, -1.1626e-18],
                          "total_low": [np.nan, 6.2402e-04, -1.1626e-18], "min_size": [0, 0, 40]})
    clean = without_noise(table)
    assert clean["total_low"].iloc[2] == 0.0 and not np.signbit(clean["total_low"].iloc[2])
    assert clean["gain"].iloc[2] == 0.0 and np.isnan(clean["gain"].iloc[0])
    pd.testing.assert_frame_equal(clean.iloc[:2], table.iloc[:2])
    assert list(clean["min_size"]) == [0, 0, 40]


def test_the_chapter_s_postprocessing_table_is_the_evaluate_table_without_noise(trained):
    from salt_lib.chapters import results

    model_path, val, cache = trained
    plain = results.postprocessing_scores({"tiny": model_path}, val, cache, n_resamples=200)
    shown = results.postprocessing_table({"tiny": model_path}, val, cache, n_resamples=200)
    pd.testing.assert_frame_equal(shown, results.without_noise(plain))
    floats = shown.select_dtypes("float")
    assert not ((floats.abs() > 0) & (floats.abs() < results.NOISE)).any().any()


def test_gain_summary_names_the_steps_whose_interval_excludes_zero_and_the_others():
    from salt_lib.chapters.results import POSTPROCESSING_STEPS
    from salt_lib.chapters.results import gain_summary

    def table(intervals):
        rows = []
        for model, gains in intervals.items():
            rows.append({"model": model, "step": POSTPROCESSING_STEPS[0], "gain": np.nan, "gain_low": np.nan, "gain_high": np.nan})
            rows += [{"model": model, "step": step, "gain": gain, "gain_low": low, "gain_high": high}
                     for step, (gain, low, high) in zip(POSTPROCESSING_STEPS[1:], gains)]
        return pd.DataFrame(rows)

    noise = (0.002, -0.005, 0.011)
    mixed = table({"U-Net": [(0.0062, 0.0006, 0.0119), noise, noise], "ResUNet": [noise, (-0.004, -0.008, -0.001), noise]})
    assert gain_summary(mixed) == [
        "2 of the 6 step gains on validation have a 95 % interval that excludes zero: "
        "U-Net step 2 (flip TTA, threshold 0.5), +0.006 [+0.001, +0.012], higher than 0; "
        "ResUNet step 3 (flip TTA, tuned threshold), -0.004 [-0.008, -0.001], lower than 0.",
        "The other 4 intervals contain zero, so this validation set cannot tell those steps from doing nothing: "
        "U-Net steps 3 and 4; ResUNet steps 2 and 4.",
    ]
    assert gain_summary(table({"U-Net": [noise] * 3})) == [
        "None of the 3 step gains on validation has a 95 % interval that excludes zero: "
        "this validation set cannot tell any step from doing nothing."]
    clear = (0.01, 0.002, 0.02)
    assert gain_summary(table({"U-Net": [clear] * 3})) == [
        "3 of the 3 step gains on validation have a 95 % interval that excludes zero: "
        "U-Net step 2 (flip TTA, threshold 0.5), +0.010 [+0.002, +0.020], higher than 0; "
        "U-Net step 3 (flip TTA, tuned threshold), +0.010 [+0.002, +0.020], higher than 0; "
        "U-Net step 4 (+ tuned min size), +0.010 [+0.002, +0.020], higher than 0."]


# --- the submission -----------------------------------------------------------------------------


def write_csv(path, rows, header="id,rle_mask"):
    path.write_text(header + "\n" + "".join(f"{tile_id},{rle}\n" for tile_id, rle in rows))
    return path


def test_check_submission_accepts_a_good_file_and_names_each_problem(tmp_path):
    from salt_lib.submission import check_submission

    disc = np.zeros((101, 101), bool)
    disc[40:60, 30:50] = True
    ids = ["a1", "b2", "c3"]
    good = write_csv(tmp_path / "good.csv", [("a1", ""), ("b2", rle_encode(disc)), ("c3", "1 101")])
    assert check_submission(good, ids) == ("good.csv: header id,rle_mask; 3 rows, one per test tile, ids unique and "
                                           "the tiles' own; every rle_mask decodes to a 101x101 mask.")
    from conftest import assert_chinese_with_the_same_numbers, in_both_languages

    assert_chinese_with_the_same_numbers(*in_both_languages(lambda: check_submission(good, ids)))
    with pytest.raises(ValueError, match=r"1 test tiles have no row \(e.g. \['c3'\]\)"):
        check_submission(write_csv(tmp_path / "missing.csv", [("a1", ""), ("b2", "")]), ids)
    with pytest.raises(ValueError, match="id 'b2' has more than one row"):
        check_submission(write_csv(tmp_path / "twice.csv", [("a1", ""), ("b2", ""), ("b2", "1 5"), ("c3", "")]), ids)
    with pytest.raises(ValueError, match="rows name no test tile"):
        check_submission(write_csv(tmp_path / "stranger.csv", [("a1", ""), ("b2", ""), ("zz", "")]), ids)
    with pytest.raises(ValueError, match="the rle_mask of b2 is invalid: a run ends at pixel 10209"):
        check_submission(write_csv(tmp_path / "long.csv", [("a1", ""), ("b2", "10200 10"), ("c3", "")]), ids)
    with pytest.raises(ValueError, match="the rle_mask of c3 is invalid: not a list"):
        check_submission(write_csv(tmp_path / "odd.csv", [("a1", ""), ("b2", ""), ("c3", "5 x")]), ids)
    with pytest.raises(ValueError, match="header is 'id,mask'"):
        check_submission(write_csv(tmp_path / "header.csv", [("a1", ""), ("b2", ""), ("c3", "")], header="id,mask"), ids)


def test_submission_has_one_row_per_image_with_the_model_s_masks(trained, tmp_path):
    from salt_lib.predict import predict, to_masks
    from salt_lib.submission import check_submission
    from salt_lib.records import load_model, load_record
    from salt_lib.submission import write_submission_csv

    model_path, val, cache = trained
    root = make_synthetic_tgs(tmp_path / "tgs", n_train=0, n_test=7, seed=4)
    images_dir = root / "test" / "images"
    out = tmp_path / "out" / "submission.csv"  # its folder does not exist yet
    done = write_submission_csv(model_path, images_dir, out, batch=3, progress=False)
    record = load_record(model_path)
    assert done == {"path": out, "rows": 7, "threshold": record["threshold"], "min_size": record["min_size"],
                    "models": [str(model_path)], "tta": True}
    files = png_files(images_dir)
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert table["id"].tolist() == sorted(files)
    assert check_submission(out, list(files)).startswith("submission.csv: header id,rle_mask; 7 rows")
    # The rows are the model's masks at its record's threshold and minimum size, batches or not.
    from salt_lib.data import read_image

    images = np.stack([read_image(files[tile_id]) for tile_id in sorted(files)])
    masks = to_masks(predict(load_model(model_path, compile=False), images), record["threshold"], record["min_size"])
    np.testing.assert_array_equal(np.stack([rle_decode(rle) for rle in table["rle_mask"]]), masks)
    with pytest.raises(DataError, match="validation split"):
        write_submission_csv([model_path, model_path], images_dir, out, progress=False)
    with pytest.raises(DataError, match="no PNG images"):
        write_submission_csv(model_path, tmp_path / "nowhere", out, progress=False)


def test_tiles_to_submit_writes_synthetic_test_tiles_only_when_asked(tmp_path):
    from salt_lib.submission import kaggle_command, tiles_to_submit

    assert tiles_to_submit(tmp_path / "real" / "test" / "images") == {}  # a labelled-only data set: nothing to submit
    folder = tmp_path / "quick-test" / "test" / "images"
    files = tiles_to_submit(folder, synthetic_tiles=5, seed=1)
    assert len(files) == 5 and all(path.parent == folder for path in files.values())
    assert not list((tmp_path / "quick-test").glob("train/**/*.png"))  # unlabelled tiles only
    assert tiles_to_submit(folder, synthetic_tiles=9, seed=1) == files  # an existing folder is read, never rewritten
    assert not set(files) & set(tiles_to_submit(tmp_path / "other" / "test" / "images", 5, seed=0))  # other seed, other ids
    with pytest.raises(DataError, match="test/images"):
        tiles_to_submit(tmp_path / "flat", synthetic_tiles=3)
    assert kaggle_command("out/sub mission.csv", "U-Net + ResUNet, flip TTA") == (
        "kaggle competitions submit -c tgs-salt-identification-challenge -f 'out/sub mission.csv' -m 'U-Net + ResUNet, flip TTA'")


def test_paired_differences_name_both_models_and_are_empty_without_baselines():
    from salt_lib.evaluate import Evaluation, paired_differences, paired_table

    def scored(values):
        return Evaluation("m", None, {}, pd.DataFrame(), None, np.zeros((len(values), 1, 1)), {"tgs_score": np.asarray(values)}, {})

    results = {"A + B": scored([1.0, 0.9, 0.5, 0.0]), "A": scored([0.9, 0.9, 0.4, 0.0])}
    table = paired_differences(results, "A + B", ["A"], n_resamples=200)
    assert table[["challenger", "baseline", "difference"]].values.tolist() == [["A + B", "A", "A + B - A"]]
    assert table["mean_difference"].iloc[0] == pytest.approx(0.05)
    empty = paired_differences(results, "A", [], n_resamples=200)
    assert empty.empty and list(empty.columns)[:6] == list(paired_table(
        {"tiles": 0, "mean_difference": 0, "low": 0, "high": 0, "share_positive": 0}, "", "").columns)


# --- which model is submitted --------------------------------------------------------------------


def test_submission_candidates_are_scored_on_validation_and_the_best_is_chosen(trained, tmp_path):
    import shutil

    from salt_lib.chapters.results import submission_candidates, submission_choice
    from salt_lib.evaluate import evaluate_model
    from salt_lib.records import config_path, history_path

    path, val, cache = trained
    twin = tmp_path / "twin.keras"  # the same network under another name: a two-member ensemble of equals
    for source, target in ((path, twin), (config_path(path), config_path(twin)), (history_path(path), history_path(twin))):
        if source.is_file():
            shutil.copy(source, target)
    paths = {"A": str(path), "B": str(twin)}
    table = submission_candidates({"A": ["A"], "A + B": ["A", "B"]}, paths, val, cache, n_resamples=200)
    assert list(table["model"]) == ["A", "A + B"] and list(table["members"]) == [1, 2]
    single = evaluate_model(path, val, cache)
    assert table.loc[0, "tgs_score"] == pytest.approx(single.scores["tgs_score"])  # at its record's threshold and min size
    assert (table["tgs_score_ci_low"] <= table["tgs_score"]).all() and (table["tgs_score"] <= table["tgs_score_ci_high"]).all()
    # The average of two equal models is the model: chosen on these tiles, it scores at least as well.
    assert table.loc[1, "tgs_score"] >= table.loc[0, "tgs_score"] - 1e-9
    assert submission_choice(table) == ("A + B" if table.loc[1, "tgs_score"] > table.loc[0, "tgs_score"] else "A")
    with pytest.raises(ValueError, match="unknown: C"):
        submission_candidates({"C": ["C"]}, paths, val, cache)
    with pytest.raises(ValueError, match="one or more members"):
        submission_candidates({"A": []}, paths, val, cache)


def test_the_choice_sentence_names_the_best_candidate_and_how_close_the_next_is():
    from salt_lib.chapters.results import findings, submission_choice, submission_choice_sentence

    table = pd.DataFrame({"model": ["U-Net", "U-Net ×3", "ResUNet"], "members": [1, 3, 1], "tgs_score": [0.785, 0.791, 0.770],
                          "tgs_score_ci_low": [0.76, 0.767, 0.745], "tgs_score_ci_high": [0.81, 0.815, 0.795]})
    assert submission_choice(table) == "U-Net ×3"
    sentence = submission_choice_sentence(table)
    assert sentence == ("Submitted: U-Net ×3 (3 models), the candidate with the highest validation tgs_score, "
                        "0.791 [0.767, 0.815]; the next best, U-Net, scores 0.785, inside that interval. The choice is "
                        "made on the validation tiles alone; the test tiles score it once.")
    apart = table.assign(tgs_score_ci_low=[0.76, 0.788, 0.745])
    assert "scores 0.785." in submission_choice_sentence(apart)
    empty = pd.DataFrame({"model": [], "step": [], "gain": [], "gain_low": [], "gain_high": [], "total_gain": [],
                          "total_low": [], "total_high": []})
    assert sentence in findings(empty, table.iloc[:0], {"U-Net": 0.8}, None, table)


def test_the_results_findings_read_in_chinese_with_the_english_numbers():
    from pathlib import Path

    from conftest import assert_chinese_with_the_same_numbers, in_both_languages
    from salt_lib.chapters.results import findings, gain_summary, submission_choice_sentence, submission_sentence

    tables = {name: pd.read_csv(Path(__file__).resolve().parents[1] / "tables" / f"07_{name}.csv")
              for name in ("postprocessing", "test_scores", "submitted_differences", "submission_candidates")}
    post, candidates = tables["postprocessing"], tables["submission_candidates"]
    differences = tables["submitted_differences"]
    differences[["challenger", "baseline"]] = differences["difference"].str.split(" - ", expand=True)
    clear = post.assign(gain_low=post["gain_low"].where(post["gain"].isna(), 0.0001))
    apart = candidates.assign(tgs_score=[0.9] + [0.5] * (len(candidates) - 1))

    def build():
        return [*findings(post, tables["test_scores"], None, differences, candidates),
                *findings(post, tables["test_scores"], {"U-Net": 0.8, "ResUNet": 0.75}),
                submission_choice_sentence(candidates), submission_choice_sentence(candidates.iloc[:1]),
                submission_choice_sentence(apart),
                submission_sentence("U-Net ×3", {"rows": 18000, "threshold": 0.55, "min_size": 0}),
                *gain_summary(post), *gain_summary(clear), *gain_summary(post.assign(gain_low=-0.01, gain_high=0.01))]

    english, chinese = in_both_languages(build)
    assert any("(1 model)" in s for s in english) and any(s.startswith("None of the 6 step gains") for s in english)
    assert_chinese_with_the_same_numbers(english, chinese)
    assert "ResUNet 第 2、3 和 4 步" in chinese[-3]
