"""What a newcomer finds around the notebooks: the model card agrees with the model records, the
citation file is valid CFF with the package's version, and the README shows `make lab` and the
`salt-lib` console script."""

import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import yaml

import salt_lib

REPO = Path(__file__).resolve().parents[1]
CARD = REPO / "models" / "README.md"
NAMES = {"U-Net": "unet_lite", "ResUNet": "resunet_lite"}


def card_tables() -> dict[str, pd.DataFrame]:
    """The card's Markdown tables, keyed by the section heading above each, rows indexed by model."""
    tables, section, rows = {}, None, []
    for line in CARD.read_text().splitlines() + [""]:
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            header, *body = [row for row in rows if not set("".join(row)) <= set("-:")]
            tables[section] = pd.DataFrame(body, columns=header).set_index("model")
            rows = []
    return tables


def record(model: str) -> dict:
    return json.loads((REPO / "models" / f"{NAMES[model]}.config.json").read_text())


def stage_epochs(model: str) -> str:
    stages = pd.read_csv(REPO / "models" / f"{NAMES[model]}.history.csv")["stage"].value_counts()
    return f"{stages.get('main', 0)} / {stages.get('lovasz', 0)}"


def test_model_card_numbers_agree_with_the_records():
    tables = card_tables()
    data, recipe, scores = tables["Data and split"], tables["Recipe"], tables["Scores"]
    comparison = pd.read_csv(REPO / "tables" / "06_comparison.csv").set_index("model")
    assert set(data.index) == set(recipe.index) == set(scores.index) == set(NAMES)
    for model in NAMES:
        rec = record(model)
        provenance, training = rec["provenance"], rec["training"]
        versions = rec["versions"]
        assert f"Saved with Keras {versions['keras']} on TensorFlow {versions['tensorflow']}" in CARD.read_text()
        assert data.loc[model, "data fingerprint"] == f"`{provenance['data_fingerprint']}`"
        assert data.loc[model, "split hash"] == f"`{provenance['split_hash']}`"
        train, val, test = (int(n.replace(",", "")) for n in data.loc[model, "train / val / test tiles"].split(" / "))
        assert (val, test) == (rec["val"]["tiles"], rec["test"]["tiles"])

        row = recipe.loc[model]
        assert int(row["parameters"].replace(",", "")) == rec["parameters"]
        assert row["augmentation"] == training["augment"]
        assert row["schedule planned (BCE+Dice + Lovasz epochs)"] == f"{training['epochs']} + {training['lovasz_epochs']}"
        assert row["epochs run (BCE+Dice / Lovasz)"] == stage_epochs(model)
        assert int(row["best epoch"]) == rec["best_epoch"]
        assert int(row["patience"]) == training["patience"]
        assert row["time cap"] == f"{training['minutes']:.0f} min"
        assert row["wall time"] == f"{rec['wall_seconds'] / 60:.1f} min"
        assert int(row["seed"]) == training["seed"]

        row = scores.loc[model]
        assert float(row["threshold"]) == rec["threshold"] and int(row["min size (px)"]) == rec["min_size"]
        assert row["val tgs_score (flip TTA)"] == f"{rec['val']['tgs_score']:.3f}"
        low, high = comparison.loc[model, ["tgs_score_ci_low", "tgs_score_ci_high"]]
        assert abs(comparison.loc[model, "tgs_score"] - rec["test"]["tgs_score"]) < 1e-4  # the table scored this file
        assert row["test tgs_score [95% CI]"] == f"{rec['test']['tgs_score']:.3f} [{low:.3f}, {high:.3f}]"
        # The record keeps four decimals; the table the precise value of the same scoring.
        for column, key in (("test IoU", "iou"), ("test Dice", "dice"), ("test empty-tile accuracy", "empty_tile_accuracy")):
            assert abs(comparison.loc[model, key] - rec["test"][key]) <= 5e-5
            assert row[column] == f"{comparison.loc[model, key]:.3f}"


def test_model_card_paired_difference_is_the_table_s():
    paired = pd.read_csv(REPO / "tables" / "06_paired_bootstrap.csv").iloc[0]
    sentence = f"{paired['mean_difference']:+.3f} [{paired['ci_low']:+.3f}, {paired['ci_high']:+.3f}]"
    assert sentence in CARD.read_text()


def test_model_card_lists_the_kept_seed_models():
    """The card's seed-model table names exactly the files in models/seeds/, each with its record
    of that network and seed."""
    table = card_tables()["Seed models"]
    kept = sorted((REPO / "models" / "seeds").glob("*.keras"))
    assert sorted(table["file"].str.strip("`")) == [f"seeds/{path.name}" for path in kept]
    arch = {"U-Net": "unet", "ResUNet": "resunet"}
    for model, row in table.iterrows():
        rec = json.loads((REPO / "models" / row["file"].strip("`")).with_suffix(".config.json").read_text())
        assert (rec["arch"], rec["training"]["seed"]) == (arch[model], int(row["seed"]))


def test_citation_cff_is_valid_and_carries_the_package_version():
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):  # required by the CFF 1.2.0 schema
        assert citation[key]
    assert all("name" in author or "family-names" in author for author in citation["authors"])
    assert citation["version"] == salt_lib.__version__
    assert "2019 thesis" in " ".join(citation["message"].split()) or "2019" in citation["abstract"]
    assert citation["license"] == "MIT" and (REPO / "LICENSE").read_text().startswith("MIT License")
    assert "the salt segmentation workbook authors" in (REPO / "LICENSE").read_text()


def test_readme_shows_make_lab_and_the_console_script():
    readme = (REPO / "README.md").read_text()
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"salt-lib": "salt_lib.cli:main"}
    from salt_lib.cli import main  # noqa: F401  (the entry point exists)

    assert re.search(r"^salt-lib \w+", readme, re.M), "the README shows the salt-lib console script in use"
    assert "make lab" in readme and re.search(r"^lab: \$\(STAMP\)\n\t\$\(BIN\)/jupyter lab --notebook-dir=notebooks$",
                                              (REPO / "Makefile").read_text(), re.M)
    for name in ("LICENSE", "CITATION.cff", "models/README.md"):
        assert name in readme
