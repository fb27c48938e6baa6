"""The thesis's findings in one table, read from a tables folder (the thesis profile writes
``tables/``): the README shows it between ``START`` and ``END``, and a test keeps it equal to what
``findings_table`` makes from the committed tables. Refresh it after a thesis run with
``python -m salt_lib.chapters.summary`` (rewrites README.md's block in place).

Every number comes from a chapter's ``.csv`` and carries its 95 % interval; the word after a
difference is chosen from the interval (``report.sentences.verdict``). Pandas only, no figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from salt_lib.chapters.choices import submission_choice
from salt_lib.files import REPO
from salt_lib.report.sentences import verdict, with_interval
from salt_lib.report.words import compared_arms, network_name

START = "<!-- findings: generated from tables/ by `python -m salt_lib.chapters.summary`; do not edit by hand -->"
END = "<!-- end of findings -->"


def _difference(value, low, high) -> str:
    word = verdict(low, high)
    return f"{with_interval(value, low, high, signed=True)}, {'not distinguishable from 0' if word == 'not distinguishable' else word + ' than 0'}"


def _seeds(n) -> str:
    return f"{n} seed{'s' * (int(n) != 1)}"


def findings_rows(tables_dir) -> list[tuple[str, str, str]]:
    """``(finding, number [95 % CI], table)`` rows from the chapters' tables in ``tables_dir``; a
    table that is missing (a profile without that section) gives no rows."""
    folder = Path(tables_dir)
    read = lambda name: pd.read_csv(folder / f"{name}.csv") if (folder / f"{name}.csv").is_file() else None  # noqa: E731
    rows = []
    if (table := read("06_comparison")) is not None:
        for row in table.itertuples():
            rows.append((f"{row.model} lite (2 M parameters), test tgs_score, one seed",
                         with_interval(row.tgs_score, row.tgs_score_ci_low, row.tgs_score_ci_high), "06_comparison"))
    if (table := read("06_paired_bootstrap")) is not None:
        row = table.iloc[0]
        rows.append((f"{row['difference']}, paired over the {row['tiles']} test tiles",
                     _difference(row["mean_difference"], row["ci_low"], row["ci_high"]), "06_paired_bootstrap"))
    if (table := read("06_seeds_summary")) is not None:
        for row in table.itertuples():
            rows.append((f"{network_name(row.model)} lite over {row.seeds} training seeds, mean test tgs_score (sd {row.test_sd:.3f})",
                         with_interval(row.test_mean, row.test_ci_low, row.test_ci_high), "06_seeds_summary"))
    if (table := read("06_seeds_paired")) is not None:
        row = table.iloc[0]
        b, a = (network_name(name) for name in compared_arms(row["comparison"]))
        rows.append((f"{b} - {a} over the seeds ({b} higher in {row['seeds_b_higher']} of {row['seeds_paired']})",
                     _difference(row["difference"], row["ci_low"], row["ci_high"]), "06_seeds_paired"))
    if (table := read("06_seed_ensembles")) is not None:
        for row in table.itertuples():
            name = str(row.model).replace(" (seed ensemble)", "")
            rows.append((f"{network_name(name)} seed ensemble ({row.seeds} models averaged), test tgs_score",
                         with_interval(row.test_tgs_score, row.test_ci_low, row.test_ci_high), "06_seed_ensembles"))
    if (table := read("06_split_optimism")) is not None:
        for row in table.itertuples():
            rows.append((f"{row.model}: random split - mosaic split (no mosaic across parts), test tgs_score, "
                         f"{row.seeds_random} and {row.seeds_mosaic} seeds", _difference(row.optimism, row.optimism_low, row.optimism_high),
                         "06_split_optimism"))
    if (table := read("06_same_tiles")) is not None:
        for row in table[table["part"] == "test"].itertuples():
            rows.append((f"{row.model}: random-split models - mosaic-split models on the {row.tiles} test tiles both splits "
                         f"hold out, {row.seeds_random} and {row.seeds_mosaic} seeds",
                         _difference(row.difference, row.difference_low, row.difference_high), "06_same_tiles"))
    if (table := read("06_tuning")) is not None:
        for row in table[table["outcome"] != "not run"].itertuples():
            rows.append((f"{row.model}'s recipe at the final budget, {row.choice}, validation: the closest alternative, "
                         f"{row.closest} - {row.recipe} (the recipe's), {_seeds(row.seeds)}, seeds and mosaics resampled, "
                         f"Holm p {row.p_holm:.2f}: {row.outcome}",
                         _difference(row.difference, row.difference_low, row.difference_high), "06_tuning"))
    if (table := read("06_thesis_networks")) is not None:
        for row in table[table["model"].str.endswith(" thesis")].itertuples():
            rows.append((f"the source thesis's {network_name(row.model.split()[0])} ({row.parameters / 1e6:.1f} M parameters, "
                         f"its recipe), test tgs_score", with_interval(row.test_tgs_score, row.test_ci_low, row.test_ci_high),
                         "06_thesis_networks"))
    if (table := read("03_policy_vs_none")) is not None:
        for row in table[table["comparison"] == "mirror - none"].itertuples():
            rows.append((f"augmentation: the thesis's mirror expansion - none, {row.seeds_paired} seeds, short budget",
                         _difference(row.difference, row.ci_low, row.ci_high), "03_policy_vs_none"))
    if (table := read("03_final_pairs")) is not None:
        for row in table[table["comparison"] == "mirror - none"].itertuples():
            rows.append((f"augmentation: the thesis's mirror expansion - none, {_seeds(row.seeds_paired)}, the final models' budget",
                         _difference(row.difference, row.ci_low, row.ci_high), "03_final_pairs"))
    if (table := read("07_postprocessing")) is not None:
        for model, steps in table.groupby("model", sort=False):
            last = steps.iloc[-1]
            rows.append((f"{model}: flip TTA, tuned threshold and min size over the bare network (validation)",
                         _difference(last["total_gain"], last["total_low"], last["total_high"]), "07_postprocessing"))
    if (candidates := read("07_submission_candidates")) is not None and (submitted := read("07_submitted_model")) is not None:
        chosen = candidates[candidates["model"] == submission_choice(candidates)].iloc[0]
        members = int(chosen["members"])
        for row in submitted[submitted["model"] == chosen["model"]].itertuples():
            rows.append((f"the submitted model, chosen on validation among {len(candidates)} candidates: {row.model} "
                         f"({members} model{'s' * (members > 1)}), test tgs_score",
                         with_interval(row.tgs_score, row.tgs_score_ci_low, row.tgs_score_ci_high), "07_submitted_model"))
    return rows


def findings_table(tables_dir=REPO / "tables") -> str:
    """``findings_rows`` as a Markdown table, between the ``START`` and ``END`` markers."""
    lines = [START, "", "| finding | tgs_score [95 % CI] | table |", "|---|---|---|"]
    lines += [f"| {what} | {number} | [`{name}`](tables/{name}.md) |" for what, number, name in findings_rows(tables_dir)]
    return "\n".join(lines + ["", END])


def with_findings(text: str, tables_dir=REPO / "tables") -> str:
    """``text`` (a README) with the block between the markers replaced by ``findings_table``."""
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + findings_table(tables_dir) + text[end:]


def main(readme=REPO / "README.md") -> int:
    path = Path(readme)
    path.write_text(with_findings(path.read_text()))
    print(f"wrote the findings table of {path} from {REPO / 'tables'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
