"""Chapter 1 and 2 numbers and their findings sentences, on hand-made masks and tables."""

import numpy as np
import pandas as pd

from salt_lib import eda


def masks_by_hand():
    empty = np.zeros((6, 6), bool)
    full = np.ones((6, 6), bool)
    strip = np.zeros((6, 6), bool)
    strip[:, 2:4] = True  # two whole-height columns: a vertical strip
    blob = np.zeros((6, 6), bool)
    blob[3:, 1:5] = True  # salt in the lower half only: not a strip
    return np.stack([empty, empty, full, strip, blob])


def test_label_checks_count_empty_full_and_vertical_strip_masks():
    row = eda.label_checks(masks_by_hand()).iloc[0]
    assert (row["tiles"], row["empty_masks"], row["full_masks"], row["vertical_strip_masks"]) == (5, 2, 1, 1)


def test_findings_are_built_from_the_tables():
    overview = pd.DataFrame([{"tiles": 3200, "empty_share": 0.379375, "mean_coverage_of_salt_tiles": 0.4043, "depths": "no"}])
    checks = pd.DataFrame([{"tiles": 3200, "empty_masks": 1214, "full_masks": 0, "vertical_strip_masks": 89}])
    sentences = eda.findings(overview, checks)
    assert sentences[0] == "3,200 labelled tiles; 37.9% of them have no salt, and a tile with salt is on average 40.4% salt."
    assert sentences[1].startswith("No mask is salt in every pixel")
    assert sentences[2].startswith("89 masks (2.8%) are vertical strips")
    assert sentences[3] == "This copy has no depths.csv, so depth plays no part here."
    checks.loc[0, "full_masks"] = 7
    assert eda.findings(overview, checks)[1] == "7 masks are salt in every pixel."


def test_split_findings_name_the_parts_and_a_missing_class():
    summary = pd.DataFrame({"split": ["train", "val", "test", "all"], "tiles": [60, 20, 20, 100],
                            "share": [0.6, 0.2, 0.2, 1.0], "empty_share": [0.40, 0.35, 0.45, 0.4],
                            "mean_coverage": [0.25, 0.24, 0.26, 0.25]})
    classes = pd.DataFrame({"coverage_class": [0, 10], "coverage": ["empty", "(90, 100] %"],
                            "train": [24, 3], "val": [7, 1], "test": [9, 0]})
    sentences = eda.split_findings(summary, classes)
    assert sentences[0] == "Parts: train 60 (60.0%), val 20 (20.0%), test 20 (20.0%)."
    assert sentences[1] == ("The share of empty tiles is 35.0% to 45.0% across the parts, and the mean coverage is "
                            "0.240 to 0.260 across the parts: the stratification kept the parts alike.")
    alike = summary.assign(mean_coverage=[0.2506, 0.2514, 0.2510, 0.251])  # the same to three decimals
    assert "the mean coverage is 0.251 in every part:" in eda.split_findings(alike, classes)[1]
    assert sentences[2] == "Missing from a part: (90, 100] % in test."
    classes.loc[1, "test"] = 1
    assert eda.split_findings(summary, classes)[2] == "Every coverage class that occurs is in every part."


def test_the_chapter_1_and_2_findings_read_in_chinese_with_the_english_numbers():
    from pathlib import Path

    from conftest import assert_chinese_with_the_same_numbers, in_both_languages

    tables = {name: pd.read_csv(Path(__file__).resolve().parents[1] / "tables" / f"{name}.csv") for name in (
        "01_overview", "01_label_checks", "02_split_summary", "02_split_classes", "02_neighbour_recovery", "02_neighbours")}
    overview, checks, summary, classes = (tables[name] for name in ("01_overview", "01_label_checks", "02_split_summary", "02_split_classes"))
    missing = classes.assign(val=classes["val"].where(classes.index != 3, 0))

    def build():
        return [*eda.findings(overview, checks), *eda.findings(overview.assign(depths="yes"), checks.assign(full_masks=1234)),
                *eda.split_findings(summary, classes), *eda.split_findings(summary.assign(empty_share=0.38), missing),
                *eda.neighbour_findings(tables["02_neighbour_recovery"], tables["02_neighbours"])]

    english, chinese = in_both_languages(build)
    assert "Missing from a part: " in english[13] and "in every part" in english[12]
    assert_chinese_with_the_same_numbers(english, chinese)
    assert chinese[8] == "各部分：训练集 1,919（60.0%）、验证集 641（20.0%）、测试集 640（20.0%）。"
