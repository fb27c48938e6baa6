"""The repository's front door: a README a newcomer reads in minutes, whose findings table is the
one the committed tables give, and tracked text that speaks of the project only."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from salt_lib.chapters import summary

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FIRST_SCREEN = 60  # lines


def test_the_readme_is_short_and_its_first_screen_has_the_commands_and_the_findings():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200
    first = "\n".join(lines[:FIRST_SCREEN])
    assert "make workbook" in first and "make test" in first
    assert summary.START in first, "the findings table starts on the first screen"
    assert re.search(r"^## The chapters$", README.read_text(), re.M)
    chapters = sorted(path.stem for path in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for name in chapters:  # one line per chapter
        assert len([line for line in lines if re.match(rf"^\d\. `{name}`: ", line)]) == 1, name


def test_the_readme_findings_table_is_the_one_the_committed_tables_give():
    text = README.read_text()
    assert summary.with_findings(text) == text, "run `python -m salt_lib.chapters.summary` after a thesis run"
    block = text[text.index(summary.START):text.index(summary.END)]
    assert block.count("\n| ") >= 8  # the header and the rows: nothing silently left out
    for name in re.findall(r"\(tables/(\w+)\.md\)", block):
        assert (REPO / "tables" / f"{name}.md").is_file(), name


def test_the_findings_rows_follow_the_tables(tmp_path):
    (tmp_path / "06_paired_bootstrap.csv").write_text(
        "difference,tiles,mean_difference,ci_low,ci_high,share_resamples_positive\nResUNet - U-Net,10,0.02,0.01,0.03,1.0\n")
    assert summary.findings_rows(tmp_path) == [
        ("ResUNet - U-Net, paired over the 10 test tiles", "+0.020 [+0.010, +0.030], higher than 0", "06_paired_bootstrap")]
    assert summary.findings_rows(tmp_path / "none") == []


def test_each_tuned_choice_of_a_recipe_is_a_row_and_a_choice_not_run_is_none(tmp_path):
    (tmp_path / "06_tuning.csv").write_text(
        "model,choice,recipe,seeds,closest,difference,difference_low,difference_high,p_holm,outcome\n"
        "U-Net,policy,flip_geo,3,flip,-0.001,-0.01,0.007,1.0,kept\nResUNet,policy,flip_geo,0,,,,,,not run\n")
    assert summary.findings_rows(tmp_path) == [
        ("U-Net's recipe at the final budget, policy, validation: the closest alternative, flip - flip_geo (the recipe's), "
         "3 seeds, seeds and mosaics resampled, Holm p 1.00: kept", "-0.001 [-0.010, +0.007], not distinguishable from 0", "06_tuning")]


def test_the_submitted_model_s_row_is_the_one_validation_chose(tmp_path):
    (tmp_path / "07_submission_candidates.csv").write_text(
        "model,members,tiles,tgs_score,tgs_score_ci_low,tgs_score_ci_high\nU-Net,1,9,0.78,0.75,0.81\nU-Net ×3,3,9,0.79,0.76,0.82\n")
    (tmp_path / "07_submitted_model.csv").write_text(
        "model,tiles,tgs_score,tgs_score_ci_low,tgs_score_ci_high\nU-Net,8,0.77,0.74,0.80\nU-Net ×3,8,0.775,0.745,0.805\n")
    assert summary.findings_rows(tmp_path) == [
        ("the submitted model, chosen on validation among 2 candidates: U-Net ×3 (3 models), test tgs_score",
         "0.775 [0.745, 0.805]", "07_submitted_model")]


def test_the_moved_notes_are_linked_from_the_readme():
    text = README.read_text()
    for path in ("benchmarks/README.md", "docs/workbook.md", "docs/install.md", "docs/data.md", "docs/training.md", "docs/gpu.md"):
        assert (REPO / path).is_file() and f"({path})" in text, path


# How the repository was built is history, kept in git: no tracked text speaks of it.
DEVELOPMENT_WORDS = re.compile(r"\bsessions?\b|\bissues? #?\d+|\bhelpers?\b", re.IGNORECASE)
TEXT_SUFFIXES = {".md", ".py", ".ipynb", ".yaml", ".yml", ".cfg", ".toml", ".txt", ".sh", ".tex", ".cff"}
# Where the words are meant otherwise or must be named: Keras's clear_session (an API name, which
# the pattern does not match: the underscore joins it to the word) and this file.
EXEMPT = {"tests/test_front_door.py"}


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    return [name for name in listed if (Path(name).suffix in TEXT_SUFFIXES or Path(name).name in ("Makefile", "LICENSE"))
            and name not in EXEMPT and (REPO / name).is_file()]


def test_the_word_check_catches_development_talk():
    for sentence in ("This session re-ran chapters 1, 2", "Issue 9 asked for ResUNet >= 0.80", "the helpers' tests",
                     "see issue #20", "waits for a GPU session"):
        assert DEVELOPMENT_WORDS.search(sentence), sentence
    for sentence in ("keras.backend.clear_session()", "the issue of empty tiles", "a helpful figure"):
        assert not DEVELOPMENT_WORDS.search(sentence), sentence


@pytest.mark.parametrize("folder", ["README.md", "docs", "notebooks", "salt_lib", "benchmarks", "models", "params", "results"])
def test_no_tracked_text_speaks_of_how_it_was_built(folder):
    files = [name for name in tracked_text_files() if name == folder or name.startswith(folder + "/")]
    assert files, f"no tracked text under {folder}"
    offenders = [f"{name}:{number}: {line.strip()[:100]}" for name in files
                 for number, line in enumerate((REPO / name).read_text(errors="replace").splitlines(), 1)
                 if DEVELOPMENT_WORDS.search(line)]
    assert not offenders, "\n".join(offenders[:20])
