"""The named recipes: valid settings, and the thesis profile's chapters 4 and 5 train with the default."""

from pathlib import Path

import yaml

from salt_lib.models import resolve_config
from salt_lib.recipes import DEFAULT, RECIPES, THESIS, variant
from salt_lib.train import TrainConfig

REPO = Path(__file__).resolve().parents[1]


def test_every_recipe_is_a_valid_model_and_training_configuration():
    for recipe in RECIPES.values():
        for arch in ("unet", "resunet"):
            resolve_config(arch, "lite", recipe.overrides)  # raises on an invalid option
        TrainConfig.from_dict(recipe.training)


def test_a_variant_changes_the_model_options_and_training_settings_it_names_and_keeps_the_rest():
    narrow = variant(DEFAULT, "narrow", overrides={"filters": 8}, lovasz_epochs=10)
    assert narrow.name == "narrow" and narrow.overrides == dict(DEFAULT.overrides, filters=8)
    assert narrow.training == dict(DEFAULT.training, lovasz_epochs=10)
    assert resolve_config("unet", "lite", narrow.overrides).filters == 8
    assert "filters" not in DEFAULT.overrides and DEFAULT.training["lovasz_epochs"] == 22  # the recipe itself is untouched
    assert variant(DEFAULT, "same").overrides == DEFAULT.overrides


def test_the_thesis_recipe_is_the_sources_and_shows_as_many_images_as_the_default():
    assert THESIS.overrides["geometry"] == "resize" and THESIS.training["loss"] == "bce"
    assert THESIS.training["learning_rate"] == 1e-4 and THESIS.training["min_learning_rate_ratio"] == 1.0  # constant
    assert THESIS.training["augment"] == "mirror"  # the 1:1 expansion doubles each epoch
    default = TrainConfig.from_dict(DEFAULT.training)
    assert 2 * THESIS.training["epochs"] == default.epochs + default.lovasz_epochs


def test_thesis_profile_chapters_4_and_5_repeat_the_default_recipe_for_both_networks():
    params = yaml.safe_load((REPO / "params" / "thesis.yaml").read_text())
    for chapter in ("04_unet", "05_resunet"):
        section = params[chapter]
        assert section["overrides"] == DEFAULT.overrides, chapter
        training = {key: value for key, value in section["training"].items() if key != "minutes"}  # a cap, not a setting
        assert training == DEFAULT.training, chapter
    assert params["04_unet"]["training"] == params["05_resunet"]["training"]


def test_thesis_profile_chapter_3_is_the_policy_study_of_the_command_line():
    """`python -m salt_lib study policies` writes the records chapter 3 reads in the thesis
    profile; the chapter reuses them only if it describes the same runs."""
    from salt_lib.study import POLICY_STUDY, policy_study

    section = yaml.safe_load((REPO / "params" / "thesis.yaml").read_text())["03_augmentation"]
    chapter = policy_study(section["seeds"], section["budget_epochs"], "unet", "lite", section["overrides"],
                           section["training"], section["policies"])
    assert chapter == POLICY_STUDY
    assert section["results_dir"] == "results/seeds_policies"
