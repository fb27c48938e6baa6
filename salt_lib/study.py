"""Seed studies: the thesis's comparisons repeated over seeds, on one schedule, with paired tests.

A study compares *arms* (``Arm``: a network and its training settings) that differ in one
*factor* only: the architecture (``ARCHITECTURE_STUDY``: U-Net and ResUNet on ``recipes.DEFAULT``) or
the augmentation policy (``POLICY_STUDY``: the five policies at equal optimizer steps), or, for a
study that chooses a recipe on validation alone, the recipe (``LONG_SCHEDULE_STUDY``, and
``learning_rate_study`` for each network). Every arm is
trained once per seed; a seed changes the initial weights, the batch order and the augmentation
draws, nothing else.

``run_study(study, dataset, runs_dir, results_dir)`` goes seed by seed (the outer loop, so a
study stopped half-way holds as many seeds of every arm, give or take one) and arm by arm:

1. ``results_dir/<arm>-s<seed>/record.json`` that describes this run (same network, training
   settings with this seed, data fingerprint and split: ``salt_lib.records.reuse_problems``) is
   reused as it is: nothing is trained, no model file is needed. One that describes another run
   is an error that names the differences (delete the folder to redo that run).
2. Otherwise the model comes from ``salt_lib.experiments.train_or_reuse``: the study's committed
   model for this arm and seed if its record fits (``Study.model_paths``: seed 0 of the
   architecture study is ``models/unet_lite.keras`` / ``models/resunet_lite.keras``), else the run
   ``runs_dir/<arch>-<policy>-<key>``, trained, resumed after an interruption, or found finished.
3. The model is scored on the validation tiles and on the test tiles at the threshold and minimum
   component size of its record, which training chose on the validation tiles, and
   ``results_dir/<arm>-s<seed>/`` gets ``record.json`` (the model's record with ``arm``, ``seed``,
   ``study``, ``run_key``, ``optimizer_steps``, the test scores and the digests of the tiles'
   order), ``history.csv`` and ``tiles.csv`` (``id``, ``split``, ``position``, ``tgs_score`` of
   every validation and test tile). Small files, written atomically, meant to be committed; the
   chapters read them (``salt_lib.result_folders.read_results``) instead of retraining.

The test split is scored once per run, when its result is recorded, and never chooses anything:
the threshold, the minimum size and the best epoch come from the validation tiles, the study's
settings were fixed before it ran (``recipes.DEFAULT``, from the validation-only ablation), and
the tables report validation and test in separate columns.

The tables are pure functions of the loaded results (``read_results``' dict of ``Result``): ``seed_table``
(one row per arm and seed), ``seed_summary`` (per arm: mean, standard deviation, min and max over
seeds, and the seed-averaged per-tile test score with a bootstrap interval over tiles),
``paired_arm_table`` / ``pairwise_table`` (differences between arms, pooled over seeds with a
paired bootstrap over tiles, and seed by seed). ``differences_besides`` lists what differs between
arms besides the studied factor; the paired tables refuse to compare arms it finds differing.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from salt_lib.augment import POLICIES
from salt_lib.augment import check_policy, expand_offline
from salt_lib.dataset import Dataset
from salt_lib.evaluate import bootstrap_ci, evaluate_model, ids_digest, paired_bootstrap
from salt_lib.experiments import train_or_reuse
from salt_lib.files import REPO, atomic_write, portable_path
from salt_lib.models import PRESETS, preset_name, resolve_config
from salt_lib.recipes import DEFAULT, FAST, PROGRESSIVE, Recipe
from salt_lib.records import IGNORED_TRAINING_KEYS, config_path, network_fields, reuse_problems, run_folder_name, run_key
from salt_lib import result_folders
from salt_lib.result_folders import is_result, read_record, read_result
from salt_lib.report.sentences import HIGHER, LOWER, NOT_DISTINGUISHABLE, compare_sentence, verdict, with_interval
from salt_lib.report.words import compared_arms, comparison_label, readable, tr
from salt_lib.stats import holm, two_level_difference, two_level_interval
from salt_lib.train import TrainConfig

log = logging.getLogger(__name__)  # progress: the command line shows it, an executed chapter does not

FACTORS = ("arch", "augment", "recipe")  # what a study may vary between its arms (recipe: any setting, one network and data)
SEEDS = (0, 1, 2)
POLICY_BUDGET_EPOCHS = 10  # the policy study's budget, in epochs of the plain (unexpanded) training set
FINAL_POLICIES = ("none", "mirror", "flip", "flip_geo")  # the policy study at the final models' budget


@dataclass(frozen=True)
class Arm:
    """One arm of a study: ``arch`` built from ``preset`` with ``overrides`` (model options),
    trained with ``training`` (``TrainConfig`` fields; the study sets ``seed``). ``name`` names
    its result folders (``<name>-s<seed>``): lower-case letters, digits and underscores."""

    name: str
    arch: str
    preset: str = "lite"
    overrides: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", self.name):
            raise ValueError(f"arm name {self.name!r}: use lower-case letters, digits and underscores (it names folders)")

    def settings(self, seed: int) -> dict:
        """All ``TrainConfig`` fields of this arm's run with ``seed``."""
        if "seed" in self.training:
            raise ValueError(f"arm {self.name}: the study sets the seed; leave it out of the training settings")
        return TrainConfig.from_dict(self.training | {"seed": int(seed)}).to_dict()

    def network(self) -> dict:
        """The network's configuration as ``salt_lib.models.build_model`` records it, without building it."""
        preset = preset_name(self.preset)
        config = dataclasses.asdict(resolve_config(self.arch, preset, self.overrides))
        return json.loads(json.dumps(config | {"arch": self.arch, "preset": preset, "overrides": dict(self.overrides)}))

    def planned_record(self, seed: int, data_fingerprint: str | None = None, split: str | None = None) -> dict:
        """What a record of this arm's run would hold (network, training, data), for comparing
        arms before anything is trained (``differences_besides``)."""
        return self.network() | {"training": self.settings(seed),
                                 "provenance": {"data_fingerprint": data_fingerprint, "split_hash": split}}


@dataclass(frozen=True)
class Study:
    """Arms that differ in ``factor`` only (``"arch"`` or ``"augment"``), each trained with every
    seed of ``seeds``. ``reference`` is the arm the others are compared with first;
    ``model_paths`` maps ``(arm, seed)`` to a committed model (relative to the repository) that is
    used for that run when its record fits. A study that chooses a recipe (``score_test=False``)
    never scores the test tiles: its tables are validation-only."""

    name: str
    factor: str
    arms: tuple[Arm, ...]
    seeds: tuple[int, ...] = SEEDS
    reference: str | None = None
    model_paths: dict = field(default_factory=dict)
    score_test: bool = True  # False: a study that chooses a recipe scores validation only

    def __post_init__(self) -> None:
        if self.factor not in FACTORS:
            raise ValueError(f"study {self.name}: factor must be one of {FACTORS}, got {self.factor!r}")
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"study {self.name}: arms need distinct names, got {names}")
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"study {self.name}: reference {self.reference!r} is not one of its arms {names}")

    def arm(self, name: str) -> Arm:
        found = [arm for arm in self.arms if arm.name == name]
        if not found:
            raise ValueError(f"study {self.name} has no arm {name!r}; its arms: {', '.join(a.name for a in self.arms)}")
        return found[0]


# --------------------------------------------------------------------------------------------
# Equal optimizer steps across augmentation policies
# --------------------------------------------------------------------------------------------


def epoch_factor(policy: str) -> int:
    """How many training examples an epoch of ``policy`` holds per training tile: 2 for ``mirror``
    (its 1:1 offline expansion, ``salt_lib.augment.expand_offline``, the same call that sizes
    ``TileBatches``' epoch), 1 for the others."""
    one = np.zeros((1, 1, 1), np.uint8)
    return len(expand_offline(one, one.astype(bool), check_policy(policy))[0])


def steps_per_epoch(policy: str, train_tiles: int, batch_size: int) -> int:
    """Optimizer steps in one epoch of ``policy`` on ``train_tiles`` tiles: ``len(TileBatches)``,
    ceil(expanded tiles / batch size)."""
    return math.ceil(epoch_factor(policy) * int(train_tiles) / int(batch_size))


def equal_step_epochs(policy: str, budget_epochs: int) -> int:
    """Epochs of ``policy`` that show as many training examples as ``budget_epochs`` epochs of
    the plain training set (``budget_epochs / epoch_factor``); a ValueError if that is no whole number."""
    factor = epoch_factor(policy)
    if budget_epochs % factor:
        raise ValueError(f"a budget of {budget_epochs} plain epochs is no whole number of {policy!r} epochs "
                         f"(each is {factor} plain epochs long): choose a multiple of {factor}")
    return budget_epochs // factor


def optimizer_steps(training: dict, train_tiles: int) -> int:
    """Optimizer steps of a run without early stop: all its stages' epochs times ``steps_per_epoch``."""
    config = TrainConfig.from_dict(training)
    return (config.epochs + config.lovasz_epochs) * steps_per_epoch(config.augment, train_tiles, config.batch_size)


def check_equal_steps(study: "Study", train_tiles: int) -> int:
    """The optimizer steps every arm of an ``augment`` study takes on ``train_tiles`` tiles; a
    ValueError if they differ. Equal plain epochs are equal steps unless a last, partial batch
    rounds differently (ceil(2N / b) < 2 ceil(N / b) when N mod b is in (0, b/2]); on the real
    split (1,919 training tiles, batches of 32) every policy takes 600 steps."""
    steps = {arm.name: optimizer_steps(arm.training, train_tiles) for arm in study.arms}
    if len(set(steps.values())) > 1:
        raise ValueError(f"study {study.name}: on {train_tiles} training tiles the arms would take different numbers of "
                         f"optimizer steps ({', '.join(f'{name} {n}' for name, n in steps.items())}), because a last, "
                         "partial batch rounds differently; choose a batch size for which they agree")
    return next(iter(steps.values()))


# --------------------------------------------------------------------------------------------
# The thesis's two studies
# --------------------------------------------------------------------------------------------


def architecture_study(seeds=SEEDS) -> Study:
    """U-Net against ResUNet, both with exactly ``recipes.DEFAULT`` (model options and training);
    seed 0 is the committed ``models/<arch>_lite.keras`` when its record fits."""
    arms = tuple(Arm(arch, arch, "lite", dict(DEFAULT.overrides), dict(DEFAULT.training)) for arch in ("unet", "resunet"))
    return Study("architecture", "arch", arms, tuple(seeds), reference="unet",
                 model_paths={("unet", 0): "models/unet_lite.keras", ("resunet", 0): "models/resunet_lite.keras"})


def policy_study(seeds=SEEDS, budget_epochs: int = POLICY_BUDGET_EPOCHS, arch: str = "unet", preset: str = "lite",
                 overrides: dict | None = None, training: dict | None = None, policies=POLICIES) -> Study:
    """The augmentation policies on one network (default: the U-Net with ``recipes.DEFAULT``'s
    model options), BCE + Dice, no Lovasz stage, ``budget_epochs`` plain epochs' worth of
    optimizer steps each (``equal_step_epochs``: ``mirror`` gets half the epochs, each twice as
    long), no early stop. ``training`` adds settings shared by every arm (e.g. a batch size);
    chapter 3 builds its study here from its parameters, so the thesis profile's chapter and
    ``python -m salt_lib study policies`` describe the same runs."""
    overrides = dict(DEFAULT.overrides if overrides is None else overrides)
    shared = {"loss": "bce_dice", "lovasz_epochs": 0} | dict(training or {}) | {"patience": budget_epochs}
    arms = tuple(Arm(check_policy(policy), arch, preset, overrides,
                     shared | {"augment": check_policy(policy), "epochs": equal_step_epochs(policy, budget_epochs)})
                 for policy in policies)
    return Study("policies", "augment", arms, tuple(seeds), reference=arms[0].name)


def read_results(results_dir, command: str = "python -m salt_lib study ...") -> dict[str, dict] | None:
    """A study's committed records (``result_folders.read_results``), or None (the reason logged)
    when ``results_dir`` is empty ("" : this profile has none) or does not exist yet (``command``
    makes it): the chapter then leaves the section out."""
    if not results_dir:
        log.info("No seed-study records in this profile (the results folder parameter is empty).")
        return None
    if not Path(results_dir).is_dir():
        log.info("%s does not exist yet: `%s` makes it (hours on a CPU; rerun to continue).", results_dir, command)
        return None
    return result_folders.read_results(results_dir)


def summary_findings(summary: pd.DataFrame, score: str = "test tgs_score") -> list[str]:
    """One sentence per row of ``seed_summary``: the seed-averaged test score with its interval
    over tiles, and with several seeds their standard deviation, range and the interval that
    resamples seeds and tiles (or mosaics) together."""
    sentences = []
    for arm, row in zip(summary.iloc[:, 0], summary.itertuples()):
        sentence = tr("{arm}: {seeds} seeds, {score} {interval}" if row.seeds != 1 else "{arm}: {seeds} seed, {score} {interval}",
                      arm=readable(arm), seeds=row.seeds, score=tr(score),
                      interval=with_interval(row.test_mean, row.test_ci_low, row.test_ci_high))
        if row.seeds > 1:
            sentence = tr("{sentence}, standard deviation over seeds {sd:.3f} (range {low:.3f} to {high:.3f})",
                          sentence=sentence, sd=row.test_sd, low=row.test_min, high=row.test_max)
            if getattr(row, "resampled", ""):
                sentence = tr("{sentence}; resampling {resampled} together, the interval is [{low:.3f}, {high:.3f}]",
                              sentence=sentence, resampled=tr(row.resampled), low=row.test_seeds_tiles_low,
                              high=row.test_seeds_tiles_high)
        sentences.append(tr("{sentence}.", sentence=sentence))
    return sentences


# A decided comparison as ``distinguishable_pairs`` lists it, for each verdict.
DECIDED_PAIRS = {HIGHER: "{comparison} is higher than 0", LOWER: "{comparison} is lower than 0"}


def distinguishable_pairs(pairs: pd.DataFrame) -> str:
    """How many of ``pairwise_table``'s comparisons the interval can decide, and which."""
    decided = pairs[pairs["verdict"] != NOT_DISTINGUISHABLE]
    listed = tr("; ").join(tr(DECIDED_PAIRS[row.verdict], comparison=readable(row.comparison)) for row in decided.itertuples())
    if len(pairs) == 1:  # two arms: one comparison, and nothing to correct for
        return tr("The one pair can be told apart on these tiles: {listed}." if listed else
                  "The one pair cannot be told apart on these tiles.", listed=listed)
    sentence = tr("Of the {pairs} pairs, {decided} can be told apart on these tiles: {listed}." if listed else
                  "Of the {pairs} pairs, {decided} can be told apart on these tiles.", pairs=len(pairs), decided=len(decided), listed=listed)
    if len(pairs) >= 5:
        sentence = tr("{sentence} With this many comparisons at 95 % each, about one in twenty would be decided by chance alone.",
                      sentence=sentence)
    if "p_holm" in pairs and pairs["p_value"].notna().any():
        held = pairs[pairs["p_holm"] < 0.05]
        names = tr("; ").join(readable(c) for c in held["comparison"])
        sentence = tr("{sentence} With seeds and tiles resampled together and Holm's correction for the {pairs} comparisons, "
                      "{held} keep an adjusted p under 0.05: {names}." if names else
                      "{sentence} With seeds and tiles resampled together and Holm's correction for the {pairs} comparisons, "
                      "{held} keep an adjusted p under 0.05.", sentence=sentence, pairs=len(pairs), held=len(held), names=names)
    return sentence


def pair_findings(pairs: pd.DataFrame, score: str = "tgs_score") -> list[str]:
    """One sentence per row of ``paired_arm_table`` / ``pairwise_table``: the pooled difference
    with its paired interval and the word it supports (``report.sentences.compare_sentence``), then how the
    seeds agree: in how many of the paired seeds the second arm scored higher, and the range of
    the per-seed differences."""
    sentences = []
    for row in pairs.itertuples():
        b, a = (readable(name) for name in compared_arms(row.comparison))
        sentence = compare_sentence(b, a, row.difference, row.ci_low, row.ci_high, score)
        if row.seeds_paired:
            sentence = tr("{sentence} Seed by seed, {b} scored higher in {higher} of {paired} (differences {low:+.3f} to {high:+.3f}).",
                          sentence=sentence, b=b, higher=row.seeds_b_higher, paired=row.seeds_paired,
                          low=row.seed_difference_min, high=row.seed_difference_max)
        if getattr(row, "resampled", "") and row.difference_seeds_tiles == row.difference_seeds_tiles:
            sentence = tr("{sentence} Resampling {resampled} together: {interval} (p = {p_value:.3f}, Holm-adjusted p = {p_holm:.3f})."
                          if hasattr(row, "p_holm") else "{sentence} Resampling {resampled} together: {interval} (p = {p_value:.3f}).",
                          sentence=sentence, resampled=tr(row.resampled), p_value=row.p_value, p_holm=getattr(row, "p_holm", None),
                          interval=with_interval(row.difference_seeds_tiles, row.difference_seeds_tiles_low,
                                                 row.difference_seeds_tiles_high, signed=True))
        sentences.append(sentence)
    return sentences


def ensemble_findings(ensembles: pd.DataFrame, summary: pd.DataFrame | None = None, score: str = "test tgs_score") -> list[str]:
    """One sentence per row of ``ensemble_table``: the seed ensemble's test score with its interval
    over tiles, and against the mean of its own seeds' models where ``seed_summary`` is given."""
    means = {} if summary is None else dict(zip(summary.iloc[:, 0], summary["test_mean"]))
    sentences = []
    for row in ensembles.itertuples():
        arm = row[1].removesuffix(" (seed ensemble)")
        sentence = tr("{name}, {seeds} seed models averaged: {score} {interval}", name=readable(row[1]), seeds=row.seeds,
                      score=tr(score), interval=with_interval(row.test_tgs_score, row.test_ci_low, row.test_ci_high))
        if arm in means:
            sentence = tr("{sentence}, {difference:+.3f} against the mean of its seeds ({mean:.3f})",
                          sentence=sentence, difference=row.test_tgs_score - means[arm], mean=means[arm])
        sentences.append(tr("{sentence}.", sentence=sentence))
    return sentences


# The architecture study's networks (recipes.DEFAULT, seeds 0-2), committed: the default-recipe
# arm of every later study of one network, reused when their records fit.
COMMITTED_MODELS = {
    "unet": {0: "models/unet_lite.keras", 1: "models/seeds/unet-s1.keras", 2: "models/seeds/unet-s2.keras"},
    "resunet": {0: "models/resunet_lite.keras", 1: "models/seeds/resunet-s1.keras", 2: "models/seeds/resunet-s2.keras"},
}


def final_policy_study(seeds=SEEDS, policies=FINAL_POLICIES, arch: str = "unet") -> Study:
    """The augmentation policies at the final models' budget: ``arch`` (the U-Net:
    ``policies_final``; the ResUNet: ``policies_final_resunet``) with exactly ``recipes.DEFAULT``
    (22 BCE + Dice then 22 Lovasz plain epochs, no early stop) but the policy, at equal optimizer
    steps (``mirror``: 11 + 11 epochs, each twice as long). With ``flip`` among the policies an arm
    ``flip_alternate`` adds derandomized flips (``TrainConfig.alternate_flips``: each tile mirrored
    in every other epoch), which tells a gain of ``mirror`` (both orientations every epoch) over
    ``flip`` (one at random) from what showing both orientations evenly gives. The ``flip_geo``
    arm is DEFAULT itself, so its seeds are the architecture study's networks, committed
    (``COMMITTED_MODELS``) and reused when their records fit: twelve runs are new. ``python -m
    salt_lib study policies_final`` (about 45 CPU minutes a U-Net run) or
    ``benchmarks/gpu_study.py --runs policies_final`` on a GPU."""
    def arm(name: str, policy: str, **extra) -> Arm:
        return Arm(name, arch, "lite", dict(DEFAULT.overrides),
                   dict(DEFAULT.training) | {"augment": check_policy(policy),
                                             "epochs": equal_step_epochs(policy, DEFAULT.training["epochs"]),
                                             "lovasz_epochs": equal_step_epochs(policy, DEFAULT.training["lovasz_epochs"])} | extra)

    arms = [arm(check_policy(policy), policy) for policy in policies]
    if "flip" in [a.name for a in arms]:
        arms.append(arm("flip_alternate", "flip", alternate_flips=True))
    return Study("policies_final" + ("" if arch == "unet" else f"_{arch}"), "augment", tuple(arms), tuple(seeds), reference=arms[0].name,
                 model_paths={("flip_geo", seed): path for seed, path in COMMITTED_MODELS[arch].items() if "flip_geo" in policies})


LEARNING_RATE_SCALES = {"lr_half": 0.5, "lr_double": 2.0}  # arms of the learning-rate study besides the default


def learning_rate_study(arch: str, seeds=SEEDS, scales=None) -> Study:
    """The learning rate chosen on validation for one network (``learning_rate_<arch>``, test
    never scored): ``recipes.DEFAULT`` (its seeds are the committed networks), against the same
    recipe with both stages' learning rates (``learning_rate``, ``lovasz_learning_rate``)
    multiplied by each of ``scales`` (default ``LEARNING_RATE_SCALES``: half and double). Run for
    the U-Net and the ResUNet, it says whether the recipe chosen on the U-Net is fair to both.
    ``python -m salt_lib study learning_rate_resunet`` (about 55 CPU minutes a ResUNet run)."""
    defaults = TrainConfig.from_dict(DEFAULT.training)
    arms = [Arm("default", arch, "lite", dict(DEFAULT.overrides), dict(DEFAULT.training))]
    for name, scale in (LEARNING_RATE_SCALES if scales is None else scales).items():
        arms.append(Arm(name, arch, "lite", dict(DEFAULT.overrides),
                        dict(DEFAULT.training) | {"learning_rate": defaults.learning_rate * scale,
                                                  "lovasz_learning_rate": defaults.lovasz_learning_rate * scale}))
    return Study(f"learning_rate_{arch}", "recipe", tuple(arms), tuple(seeds), reference="default",
                 model_paths={("default", seed): path for seed, path in COMMITTED_MODELS[arch].items()}, score_test=False)


LONG_CYCLES = 4  # cosine cycles with warm restarts in the long schedule's final stage
LONG_LOVASZ_EPOCHS = 88  # four cycles of 22 epochs: the default recipe's Lovasz stage, four times


def long_schedule_study(seeds=SEEDS, cycles: int = LONG_CYCLES, lovasz_epochs: int = LONG_LOVASZ_EPOCHS) -> Study:
    """Toward a stronger final model, on validation only (``score_test=False``): the U-Net with
    ``recipes.DEFAULT`` (its seeds are the committed U-Nets), against the default recipe with a
    long final stage of ``cycles`` cosine cycles with warm restarts (``lovasz_epochs`` in all,
    a snapshot per cycle, ``TrainConfig.cycles``), alone and with each of deep supervision, the
    empty-tile head and scSE attention, and with all three. ``python -m salt_lib study
    long_schedule`` (about 2.5 CPU hours a long run) or ``benchmarks/gpu_study.py --runs
    long_schedule`` on a GPU; the test tiles wait until a recipe is chosen from these tables."""
    long = dict(DEFAULT.training) | {"lovasz_epochs": lovasz_epochs, "cycles": cycles, "patience": DEFAULT.training["epochs"] + lovasz_epochs}
    ingredients = {"cycles": {}, "cycles_ds": {"deep_supervision": True}, "cycles_head": {"empty_head": True},
                   "cycles_scse": {"attention": "scse"},
                   "cycles_all": {"deep_supervision": True, "empty_head": True, "attention": "scse"}}
    arms = (Arm("default", "unet", "lite", dict(DEFAULT.overrides), dict(DEFAULT.training)),
            *(Arm(name, "unet", "lite", dict(DEFAULT.overrides) | extra, long) for name, extra in ingredients.items()))
    return Study("long_schedule", "recipe", arms, tuple(seeds), reference="default",
                 model_paths={("default", seed): path for seed, path in COMMITTED_MODELS["unet"].items()}, score_test=False)


def recipe_study(recipe: Recipe, arch: str, seeds=SEEDS) -> Study:
    """Whether ``recipe`` (a faster one, ``salt_lib.recipes``) trains as good a model as
    ``recipes.DEFAULT`` for one network, on validation only (``recipe_<name>_<arch>``, test never
    scored): DEFAULT's seeds are the committed networks. ``python -m salt_lib study
    recipe_fast_unet --seeds 0 1`` (FAST: 24 epochs, about half of DEFAULT's CPU time)."""
    arms = (Arm("default", arch, "lite", dict(DEFAULT.overrides), dict(DEFAULT.training)),
            Arm(recipe.name, arch, "lite", dict(recipe.overrides), dict(recipe.training)))
    return Study(f"recipe_{recipe.name}_{arch}", "recipe", arms, tuple(seeds), reference="default",
                 model_paths={("default", seed): path for seed, path in COMMITTED_MODELS[arch].items()}, score_test=False)


ARCHITECTURE_STUDY = architecture_study()
POLICY_STUDY = policy_study()
FINAL_POLICY_STUDY = final_policy_study()
LONG_SCHEDULE_STUDY = long_schedule_study()
STUDIES = {study.name: study for study in (ARCHITECTURE_STUDY, POLICY_STUDY, FINAL_POLICY_STUDY, final_policy_study(arch="resunet"),
                                           LONG_SCHEDULE_STUDY, learning_rate_study("unet"), learning_rate_study("resunet"),
                                           recipe_study(FAST, "unet"), recipe_study(FAST, "resunet"),
                                           recipe_study(PROGRESSIVE, "unet"), recipe_study(PROGRESSIVE, "resunet"))}
# What each network's recipe is tuned with, on validation: (network, the choice) -> the study
# that makes that choice for it.
TUNING_STUDIES = {("unet", "policy"): "policies_final", ("unet", "learning rate"): "learning_rate_unet",
                  ("resunet", "policy"): "policies_final_resunet", ("resunet", "learning rate"): "learning_rate_resunet"}


def results_folder(name: str, results_root="results") -> Path:
    """Where ``python -m salt_lib study <name>`` writes its result records by default:
    ``results_root/seeds_<name>``."""
    return Path(results_root) / f"seeds_{name}"


def tuning_results(results_root) -> dict:
    """``TUNING_STUDIES`` with each study and its records, ``{(arch, choice): (study, results)}``,
    read from ``results_root/seeds_<name>`` where ``python -m salt_lib study <name>`` writes them
    (None where a study has not run), for ``chapters.comparison.tuning_table``."""
    return {key: (STUDIES[name], read_results(results_folder(name, results_root), f"python -m salt_lib study {name} --data DIR"))
            for key, name in TUNING_STUDIES.items()}


def recipe_arm(study: Study) -> str:
    """The name of the arm of ``study`` that is ``recipes.DEFAULT`` itself (its network options
    and every training setting), the arm a tuning study's alternatives are measured against; a
    ValueError if there is none."""
    recipe = TrainConfig.from_dict(DEFAULT.training)
    for arm in study.arms:
        if arm.overrides == DEFAULT.overrides and TrainConfig.from_dict(arm.training) == recipe:
            return arm.name
    raise ValueError(f"study {study.name} has no arm with exactly the default recipe (arms: {', '.join(a.name for a in study.arms)})")


# --------------------------------------------------------------------------------------------
# What differs between arms
# --------------------------------------------------------------------------------------------


def arch_fields(preset: str = "lite") -> set[str]:
    """The network fields an architecture's preset sets: ``arch`` and the ``ModelConfig`` fields
    in which the architectures' ``preset`` differ (for ``lite``: the shortcut)."""
    configs = [dataclasses.asdict(PRESETS[arch][preset]) for arch in PRESETS if preset in PRESETS[arch]]
    return {"arch"} | {name for name in configs[0] if len({json.dumps(c[name], default=str) for c in configs}) > 1}


def comparable_settings(record: dict, factor: str | None = None) -> dict:
    """A record's network, training settings and data as one flat dict (``model.<field>``,
    ``training.<field>``, ``data.<field>``), without what may differ between runs of a study:
    the seed, the settings that do not change a run (``records.IGNORED_TRAINING_KEYS``), and the
    ``factor``. For ``factor="arch"`` that is the fields the architecture's preset sets
    (``arch_fields``); for ``"augment"`` the policy and whether its flips alternate
    (``alternate_flips``), and the epochs are counted in plain epochs
    (times ``epoch_factor``), so that ``mirror``'s half as many, twice as long epochs are equal."""
    network = network_fields(record)
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    training = TrainConfig.from_dict({k: v for k, v in record.get("training", {}).items() if k in known}).to_dict()
    flat = {f"model.{k}": v for k, v in network.items()} | {"model.preset": preset_name(record.get("preset", "lite"))}
    flat |= {f"training.{k}": v for k, v in training.items() if k not in (*IGNORED_TRAINING_KEYS, "seed")}
    provenance = record.get("provenance", {})
    flat |= {"data.fingerprint": provenance.get("data_fingerprint"), "data.split_hash": provenance.get("split_hash")}
    if factor == "arch":
        for name in arch_fields(flat["model.preset"]):
            flat.pop(f"model.{name}", None)
    elif factor == "augment":  # the policy, and how its flips are drawn
        flat.pop("training.alternate_flips", None)
        factor_of = epoch_factor(flat.pop("training.augment"))
        for name in ("epochs", "lovasz_epochs"):
            flat[f"training.{name} (plain epochs)"] = flat.pop(f"training.{name}") * factor_of
    elif factor == "recipe":  # arms are recipes: only the network's kind and the data are shared
        flat = {key: value for key, value in flat.items() if key.startswith("data.") or key in ("model.arch", "model.preset")}
    elif factor is not None:
        raise ValueError(f"factor must be one of {FACTORS} or None, got {factor!r}")
    return flat


def differences_besides(records: dict[str, dict], factor: str | None) -> dict[str, dict]:
    """What differs between ``records`` (a name, e.g. ``"unet-s0"``, to a model or result record)
    besides the studied ``factor`` (see ``comparable_settings``): ``{key: {name: value}}`` for
    every key whose value is not the same in all records; empty when they differ in the factor
    (and the seed) only."""
    flat = {name: comparable_settings(record, factor) for name, record in records.items()}
    keys = sorted(set().union(*flat.values())) if flat else []
    missing = object()
    differences = {}
    for key in keys:
        values = {name: settings.get(key, missing) for name, settings in flat.items()}
        if len({json.dumps(v, sort_keys=True, default=str) if v is not missing else "<missing>" for v in values.values()}) > 1:
            differences[key] = {name: (None if v is missing else v) for name, v in values.items()}
    return differences


def check_same_besides(records: dict[str, dict], factor: str | None) -> None:
    """A ValueError naming each difference that ``differences_besides`` finds."""
    differences = differences_besides(records, factor)
    if differences:
        lines = [f"{key}: " + ", ".join(f"{name} {value!r}" for name, value in values.items())
                 for key, values in differences.items()]
        raise ValueError(f"these runs differ in more than {factor or 'the seed'}, so their difference would not be "
                         f"the {factor}'s alone: " + "; ".join(lines))


# --------------------------------------------------------------------------------------------
# Running a study
# --------------------------------------------------------------------------------------------


def result_name(arm: str, seed: int) -> str:
    return f"{arm}-s{int(seed)}"


def run_study(study: Study, dataset: Dataset, runs_dir, results_dir, seeds=None, verbose: bool = False,
              arms=None) -> dict[str, dict]:
    """Train or reuse every run of ``study`` (seed by seed, arm by arm; see the module
    docstring), writing ``results_dir/<arm>-s<seed>/``. Returns the results of these runs as
    ``salt_lib.result_folders.read_results`` reads them: ``{"<arm>-s<seed>": Result}``. ``seeds`` (default the study's) may add seeds to a finished study; ``arms`` (names,
    default all) runs only those arms, e.g. to share a study's runs between processes or machines
    (the records still name the whole study); ``verbose`` shows training's per-epoch progress. A
    result folder describing another run is a ValueError."""
    seeds = tuple(int(seed) for seed in (study.seeds if seeds is None else seeds))
    chosen = [study.arm(name) for name in arms] if arms else list(study.arms)
    planned = {arm.name: arm.planned_record(seeds[0], dataset.fingerprint, dataset.split_hash) for arm in study.arms}
    check_same_besides(planned, study.factor)  # before anything trains
    if study.factor == "augment":
        check_equal_steps(study, len(dataset.train))
    results_dir = Path(results_dir)
    total, results = len(seeds) * len(chosen), {}
    for index, (seed, arm) in enumerate(itertools.product(seeds, chosen), 1):
        name = result_name(arm.name, seed)
        started = time.perf_counter()
        result, how = _reuse_result(study, arm, seed, dataset, results_dir / name), "result reused"
        if result is None:
            log.info("%s [%d/%d] %s: getting the model ...", study.name, index, total, name)
            model_path = study.model_paths.get((arm.name, seed))
            experiment = train_or_reuse(arm.arch, dataset, runs_dir, arm.preset, arm.overrides, arm.settings(seed),
                                        model_path=REPO / model_path if model_path else None, name=name, verbose=verbose)
            result = write_result(study, arm, seed, dataset, experiment, results_dir / name)
            how = experiment.note.rstrip(";")
        results[name] = result
        scores = ", ".join(f"{part} {tile_scores(result, part).mean():.4f}" for part, _ in scored_parts(study, dataset))
        log.info("%s [%d/%d] %s: %s; tgs_score %s (%.0f s)", study.name, index, total, name, how, scores, time.perf_counter() - started)
    return results


def _reuse_result(study: Study, arm: Arm, seed: int, dataset: Dataset, folder: Path) -> dict | None:
    """The result in ``folder`` if it records this arm's run with ``seed`` on this data; None if
    there is none; a ValueError naming the differences if it records another run."""
    if not is_result(folder):
        return None
    record = read_record(folder)
    problems = reuse_problems(record, arm.network(), arm.settings(seed), dataset.fingerprint, dataset.split_hash)
    if record.get("seed") != seed:
        problems.append(f"seed is {record.get('seed')!r}, not {seed}")
    for part, tiles in scored_parts(study, dataset):
        if record.get("tiles_order", {}).get(part, {}).get("ids_sha1") != ids_digest(tiles.ids):
            problems.append(f"its {part} scores are for other tiles than this split's")
    if problems:
        raise ValueError(f"{folder / 'record.json'} records another run than study {study.name}'s {arm.name} with "
                         f"seed {seed} ({'; '.join(problems)}). Delete {folder} to redo this run, "
                         "or write the study to another results folder.")
    return read_result(folder, need_history=True)


def scored_parts(study: Study, dataset: Dataset) -> list[tuple[str, object]]:
    """The splits a study's runs are scored on: validation, and the test tiles unless the study
    chooses a recipe (``Study.score_test``)."""
    return [("val", dataset.val)] + ([("test", dataset.test)] if study.score_test else [])


def write_result(study: Study, arm: Arm, seed: int, dataset: Dataset, experiment, folder) -> dict:
    """Score ``experiment``'s model (a ``salt_lib.experiments.Experiment``) on the validation and
    test tiles at its record's threshold and minimum size, and write ``folder``'s
    ``history.csv``, ``tiles.csv`` and, last, ``record.json``. Returns the result as
    ``read_result`` reads it."""
    folder = Path(folder)
    record = dict(experiment.record)
    rows = []
    for part, tiles in scored_parts(study, dataset):
        # Threshold and minimum size are the record's, chosen on validation: the test split only gets scored.
        evaluation = evaluate_model(experiment.model_path, tiles, name=result_name(arm.name, seed))
        rows.append(pd.DataFrame({"id": tiles.ids.astype(str), "split": part, "position": np.arange(len(tiles)),
                                  "tgs_score": evaluation.per_tile["tgs_score"]}))
        if part == "test":
            interval = bootstrap_ci(evaluation.per_tile["tgs_score"])
            record["test"] = evaluation.summary() | {"tgs_score_low": round(interval["low"], 4),
                                                     "tgs_score_high": round(interval["high"], 4),
                                                     "scored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    settings = arm.settings(seed)
    steps = steps_per_epoch(settings["augment"], len(dataset.train), settings["batch_size"])
    record |= {
        "arm": arm.name, "seed": seed,
        "study": {"name": study.name, "factor": study.factor, "arms": [a.name for a in study.arms], "reference": study.reference},
        "run_key": run_key(arm.network(), settings, dataset.fingerprint, dataset.split_hash),
        "model_file": portable_path(experiment.model_path), "model_reused": bool(experiment.reused),
        "train_tiles": len(dataset.train), "steps_per_epoch": steps,
        "optimizer_steps": int(record.get("epochs_trained") or 0) * steps,
        "tiles_order": {part: {"ids_sha1": ids_digest(tiles.ids), "order": f"salt_lib.split.ids_of(split, '{part}')"}
                        for part, tiles in scored_parts(study, dataset)},
    }
    history = experiment.history if len(experiment.history) else pd.DataFrame({"epoch": []})
    tiles = pd.concat(rows, ignore_index=True)
    return result_folders.write_result(folder, record, tiles, history)


MEMBERS = REPO / "models" / "seeds"
"""Where the CLI keeps the seed models a committed seed ensemble needs (``keep_members``)."""


def kept_member(record: dict, folder) -> Path:
    """Where ``keep_members`` keeps the model of ``record``'s run: ``folder/<arm>-s<seed>.keras``."""
    return Path(folder) / f"{record['arm']}-s{record['seed']}.keras"


def trained_path(record: dict, runs_dir) -> Path:
    """The model file a study result was scored from: its record's ``model_file`` (relative to the
    repository) where that exists, else the run folder ``train_or_reuse`` trains it in under
    ``runs_dir`` (``<arch>-<augment>-<run_key>/best.keras``)."""
    stored = Path(record["model_file"])
    stored = stored if stored.is_absolute() else REPO / stored
    if stored.is_file():
        return stored
    return Path(runs_dir) / run_folder_name(record["arch"], record["training"]["augment"], record["run_key"]) / "best.keras"


def member_path(record: dict, runs_dir, kept=None) -> Path:
    """A seed-ensemble member's model file: its copy kept under ``kept`` (``keep_members``) where
    there is one, else ``trained_path``."""
    if kept is not None and kept_member(record, kept).is_file():
        return kept_member(record, kept)
    return trained_path(record, runs_dir)


def keep_members(results: dict[str, dict], runs_dir, folder) -> list[Path]:
    """Copy each run's model that lives only in ``runs_dir`` to ``kept_member`` under ``folder``
    (its weights without the optimizer's state, a third of the file; its ``.config.json`` record
    beside it), so a seed ensemble can be rebuilt from a clone. Runs whose model is already outside
    ``runs_dir`` (a committed model) or already kept are left alone; a kept file is never
    overwritten. Returns the files written."""
    import keras

    written = []
    for run in results.values():
        record = run.record
        source, target = trained_path(record, runs_dir), kept_member(record, folder)
        if target.is_file() or Path(runs_dir).resolve() not in source.resolve().parents:
            continue
        if not source.is_file():
            raise FileNotFoundError(f"{record['arm']} seed {record['seed']}: no model at {source} to keep")
        # the record first: a kept .keras file is what marks a member as kept
        with atomic_write(config_path(target)) as partial:
            partial.write_bytes(config_path(source).read_bytes())
        with atomic_write(target) as partial:
            keras.models.load_model(source, compile=False).save(partial)  # the weights, not the optimizer's state
        written += [config_path(target), target]
    return written


def write_seed_ensembles(study: Study, results: dict[str, dict], dataset: Dataset, folder, runs_dir,
                         cache_dir=None, kept=None) -> dict[str, dict]:
    """Each arm's seed ensemble: the probabilities of its seeds' models averaged (flip TTA), the
    threshold and minimum size chosen on the validation tiles for that average
    (``evaluate.ensemble_record``), then both splits scored per tile, the test split once.
    Writes ``folder/<arm>/record.json`` and ``tiles.csv``; returns ``{arm: Result}``.
    The members' model files (``member_path``: kept under ``kept``, committed, or in ``runs_dir`` as
    ``run_study``'s) must be on this machine (a ``FileNotFoundError`` names a missing one); an arm's
    ensemble already written for the same members is reused."""
    folder, ensembles = Path(folder), {}
    for arm in arm_names(results):
        runs = runs_of(results, arm)
        records = [run.record for run in runs.values()]
        members = [member_path(record, runs_dir, kept) for record in records]
        target = folder / arm
        if is_result(target):
            stored = read_result(target)
            if stored.record.get("run_keys") == [record["run_key"] for record in records]:
                ensembles[arm] = stored
                continue
        missing = [str(path) for path in members if not path.is_file()]
        if missing:
            raise FileNotFoundError(f"{arm}'s seed ensemble needs its members' model files; missing: {', '.join(missing)}")
        rows, record = [], {}
        for part, tiles in (("val", dataset.val), ("test", dataset.test)):
            evaluation = evaluate_model(tuple(members), tiles, cache_dir, name=f"{arm} seed ensemble", val=dataset.val)
            record = evaluation.record
            rows.append(pd.DataFrame({"id": tiles.ids.astype(str), "split": part, "position": np.arange(len(tiles)),
                                      "tgs_score": evaluation.per_tile["tgs_score"]}))
            if part == "test":
                interval = bootstrap_ci(evaluation.per_tile["tgs_score"])
                test = evaluation.summary() | {"tgs_score_low": round(interval["low"], 4), "tgs_score_high": round(interval["high"], 4),
                                               "scored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        record = {"arm": arm, "seeds": sorted(runs), "study": study.name, "members": [portable_path(path) for path in members],
                  "run_keys": [r["run_key"] for r in records], "threshold": record["threshold"], "min_size": record["min_size"],
                  "val": record["val"], "test": test, "provenance": records[0]["provenance"],
                  "tiles_order": records[0]["tiles_order"]}
        tiles = pd.concat(rows, ignore_index=True)
        ensembles[arm] = result_folders.write_result(target, record, tiles)
    return ensembles


def read_seed_ensembles(folder) -> dict[str, dict] | None:
    """``write_seed_ensembles``' results under ``folder`` (None when there are none), in their
    study's arm order where the study is defined here, else by name."""
    folder = Path(folder)
    found = sorted(path.parent for path in folder.glob("*/record.json")) if folder.is_dir() else []
    ensembles = {path.name: read_result(path) for path in found}

    def position(arm: str) -> int:
        defined = STUDIES.get(ensembles[arm].record.get("study"))
        names = [candidate.name for candidate in defined.arms] if defined else []
        return names.index(arm) if arm in names else len(names)

    return {arm: ensembles[arm] for arm in sorted(ensembles, key=position)} or None


def ensemble_table(ensembles: dict[str, dict], name: str = "arm", n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per arm's seed ensemble: its members' seeds, validation and test ``tgs_score`` (test
    with a bootstrap 95 % interval over tiles), and the threshold and minimum size chosen on validation."""
    rows = []
    for arm, ensemble in ensembles.items():
        record, tiles = ensemble.record, ensemble.tiles
        test = tiles.loc[tiles["split"] == "test", "tgs_score"].to_numpy()
        interval = bootstrap_ci(test, n_resamples, seed=seed)
        rows.append({name: f"{arm} (seed ensemble)", "seeds": len(record["seeds"]),
                     "val_tgs_score": tiles.loc[tiles["split"] == "val", "tgs_score"].mean(), "test_tgs_score": test.mean(),
                     "test_ci_low": interval["low"], "test_ci_high": interval["high"],
                     "threshold": record["threshold"], "min_size": record["min_size"]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def arm_names(results: dict[str, dict]) -> list[str]:
    """The arms in ``results`` in the study's order (its records' ``study.arms``), else as they come."""
    found = list(dict.fromkeys(run.record["arm"] for run in results.values()))
    order = next((run.record.get("study", {}).get("arms") for run in results.values()), None) or found
    return [name for name in order if name in found] + [name for name in found if name not in order]


def runs_of(results: dict[str, dict], arm: str) -> dict[int, dict]:
    """The runs of ``arm`` by seed, in seed order; a KeyError if there are none."""
    runs = {run.record["seed"]: run for run in results.values() if run.record["arm"] == arm}
    if not runs:
        raise KeyError(f"no results of arm {arm!r}; the arms are {arm_names(results)}")
    return dict(sorted(runs.items()))


def tile_scores(run: dict, split: str) -> np.ndarray:
    """A run's per-tile ``tgs_score`` on ``split`` ('val' or 'test') in the split's order."""
    part = run.tiles[run.tiles["split"] == split]
    if not len(part):
        raise ValueError(f"{run['record'].get('arm')} seed {run['record'].get('seed')}: no {split} tiles in its tiles.csv")
    return part.sort_values("position")["tgs_score"].to_numpy(dtype=float)


def check_same_tiles(runs: list[dict], split: str) -> None:
    """A ValueError unless ``runs`` scored the same ``split`` tiles in the same order (by digest)."""
    digests = {run.record.get("tiles_order", {}).get(split, {}).get("ids_sha1") for run in runs}
    if len(digests) > 1:
        raise ValueError(f"these runs scored different {split} tiles (digests {sorted(map(str, digests))}): "
                         "per-tile scores can be paired only on the same tiles")


def tile_clusters(run, split: str, clusters: pd.Series) -> np.ndarray:
    """The cluster (``clusters``: tile id -> mosaic, ``mosaic.mosaic_labels``) of each of a run's
    ``split`` tiles, in the order of ``tile_scores``; a ValueError naming how many have none."""
    part = run.tiles[run.tiles["split"] == split].sort_values("position")
    cluster = clusters.reindex(part["id"].astype(str).to_numpy()).to_numpy()
    if pd.isna(cluster).any():
        raise ValueError(f"clusters: no mosaic for {int(pd.isna(cluster).sum())} of the {split} tiles")
    return cluster


TEST_METRICS = ("iou", "dice", "empty_tile_accuracy")  # besides tgs_score, from each record's test scores


def seed_table(results: dict[str, dict], name: str = "arm") -> pd.DataFrame:
    """One row per arm and seed: validation and test ``tgs_score`` (means over tiles), the test
    IoU, Dice and empty-tile accuracy (``TEST_METRICS``, from the record), epochs, optimizer steps,
    training minutes, threshold and minimum size (both chosen on validation), and what trained the
    model (``trained_on``: the Keras backend and the device its record names). ``name`` names the
    arm column as the chapter's reader knows it (``policy``, ``model``)."""
    rows = []
    for arm in arm_names(results):
        for seed, run in runs_of(results, arm).items():
            record = run.record
            test = record.get("test") or {}
            tested = bool((run.tiles["split"] == "test").any())  # a study that chooses a recipe scores validation only
            rows.append({name: arm, "seed": seed, "val_tgs_score": tile_scores(run, "val").mean(),
                         "test_tgs_score": tile_scores(run, "test").mean() if tested else np.nan,
                         **{f"test_{metric}": test.get(metric, np.nan) for metric in TEST_METRICS},
                         "epochs": record.get("epochs_trained"), "best_epoch": record.get("best_epoch"),
                         "steps": record.get("optimizer_steps"), "train_minutes": (record.get("wall_seconds") or np.nan) / 60,
                         "threshold": record.get("threshold"), "min_size": record.get("min_size"),
                         "trained_on": trained_on(record)})
    return pd.DataFrame(rows)


def snapshot_table(results: dict[str, dict], name: str = "arm") -> pd.DataFrame:
    """The long schedule's curve, one row per arm with end-of-cycle snapshots
    (``TrainConfig.cycles``) and cycle k: the seeds that reached it, the epoch it ends, and over
    those seeds the mean, min and max validation ``tgs_score`` of the k-th snapshot alone
    (``single_*``) and of the snapshot ensemble of cycles 1..k (``ensemble_*``, the mean of their
    probabilities), as the records' ``snapshots`` hold them (flip TTA, threshold tuned on
    validation). Empty when no record has snapshots."""
    rows = []
    for arm in arm_names(results):
        curves = pd.DataFrame([row for run in runs_of(results, arm).values() for row in run.record.get("snapshots") or []])
        for cycle, scores in (curves.groupby("cycle") if len(curves) else []):
            row = {name: arm, "cycle": int(cycle), "seeds": len(scores), "epoch": scores["epoch"].max()}
            for kind, column in (("single", "val_tgs_score"), ("ensemble", "ensemble_val_tgs_score")):
                row |= {f"{kind}_mean": scores[column].mean(), f"{kind}_min": scores[column].min(), f"{kind}_max": scores[column].max()}
            rows.append(row)
    return pd.DataFrame(rows, columns=[name, "cycle", "seeds", "epoch", "single_mean", "single_min", "single_max",
                                       "ensemble_mean", "ensemble_min", "ensemble_max"])


def trained_on(record: dict) -> str:
    """'<backend> on <device>' from a record's ``versions`` (e.g. 'jax on gpu NVIDIA H200'); records
    written before the device was recorded say so."""
    versions = record.get("versions") or {}
    backend = versions.get("backend") or "backend not recorded"
    return f"{backend} on {versions['device']}" if versions.get("device") else f"{backend}, device not recorded"


def seed_summary(results: dict[str, dict], n_resamples: int = 2000, seed: int = 0, name: str = "arm",
                 clusters: pd.Series | None = None) -> pd.DataFrame:
    """One row per arm (its column named ``name``): the number of seeds; the mean, standard
    deviation across seeds (n - 1 in the denominator; NaN for one seed), min and max of the
    validation and the test ``tgs_score``; the bootstrap 95 % interval over test tiles of the
    seed-averaged per-tile test scores (``test_ci_low``/``_high``; their mean is ``test_mean``);
    the same mean with a two-level interval that draws seeds, then tiles, or with ``clusters``
    (tile id -> mosaic) whole mosaics of neighbouring tiles (``test_seeds_tiles`` with
    ``_low``/``_high``, ``stats.two_level_interval``; what it drew in ``resampled``); and the
    mean and standard deviation over seeds of the test IoU, Dice and empty-tile accuracy."""
    per_run = seed_table(results, name)
    rows = []

    def sd(values):
        return values.std(ddof=1) if len(values) > 1 else np.nan

    for arm in arm_names(results):
        runs = runs_of(results, arm)
        check_same_tiles(list(runs.values()), "test")
        scores = per_run[per_run[name] == arm]
        row = {name: arm, "seeds": len(runs)}
        interval = {"low": np.nan, "high": np.nan}
        together = {"mean": np.nan, "low": np.nan, "high": np.nan}
        if scores["test_tgs_score"].notna().all():
            per_tile = np.array([tile_scores(run, "test") for run in runs.values()])  # (seeds, tiles)
            interval = bootstrap_ci(per_tile.mean(axis=0), n_resamples, seed=seed)
            cluster = None if clusters is None else tile_clusters(next(iter(runs.values())), "test", clusters)
            together = two_level_interval(per_tile, n_resamples, seed=seed, cluster=cluster)
        for split in ("test", "val"):  # test first, its interval right after its mean (one cell in the thesis tables)
            values = scores[f"{split}_tgs_score"]
            row[f"{split}_mean"] = values.mean()
            if split == "test":
                row |= {"test_ci_low": interval["low"], "test_ci_high": interval["high"],
                        "test_seeds_tiles": together["mean"], "test_seeds_tiles_low": together["low"],
                        "test_seeds_tiles_high": together["high"]}
            row |= {f"{split}_sd": sd(values), f"{split}_min": values.min(), f"{split}_max": values.max()}
        for metric in TEST_METRICS:
            values = scores[f"test_{metric}"]
            row |= {f"test_{metric}_mean": values.mean(), f"test_{metric}_sd": sd(values)}
        row["resampled"] = "" if np.isnan(together["mean"]) else "seeds, then mosaics" if clusters is not None else "seeds, then tiles"
        rows.append(row)
    return pd.DataFrame(rows)


def paired_arm_table(results: dict[str, dict], a: str, b: str, split: str = "test", factor: str | None = None,
                     n_resamples: int = 2000, seed: int = 0, clusters: pd.Series | None = None) -> pd.DataFrame:
    """The difference ``b - a`` in ``tgs_score`` on ``split``, as one row:

    * pooled: each arm's per-tile scores averaged over the seeds it has, the difference's mean
      with a paired bootstrap 95 % interval over tiles (``difference``, ``ci_low``, ``ci_high``,
      ``share_resamples_positive``) and the word the interval supports (``verdict``);
    * seed spread: the differences of the per-seed means, paired by seed over the seeds both arms
      have (``seed_difference_mean``/``_min``/``_max``, ``seeds_b_higher``, and ``per_seed``);
    * seeds and tiles together: over the paired seeds, a two-level bootstrap that draws seeds,
      then tiles, or with ``clusters`` (tile id -> mosaic, ``mosaic.mosaic_labels``) whole
      mosaics of neighbouring tiles (``stats.two_level_difference``): ``difference_seeds_tiles``
      with its ``_low``/``_high`` interval and the bootstrap ``p_value`` of no difference.

    A ValueError if the arms' records differ in more than ``factor`` (default: the ``study.factor``
    their records name; see ``differences_besides``) or their scores are for different tiles.
    """
    runs_a, runs_b = runs_of(results, a), runs_of(results, b)
    records = {result_name(arm, s): run.record for arm, runs in ((a, runs_a), (b, runs_b)) for s, run in runs.items()}
    if factor is None:
        factors = {record.get("study", {}).get("factor") for record in records.values()}
        if len(factors) != 1 or None in factors:
            raise ValueError(f"name the factor that {a} and {b} differ in (their records say {sorted(map(str, factors))})")
        factor = factors.pop()
    check_same_besides(records, factor)
    check_same_tiles([*runs_a.values(), *runs_b.values()], split)
    pooled_a = np.mean([tile_scores(run, split) for run in runs_a.values()], axis=0)
    pooled_b = np.mean([tile_scores(run, split) for run in runs_b.values()], axis=0)
    paired = paired_bootstrap(pooled_b, pooled_a, n_resamples, seed=seed)
    common = sorted(set(runs_a) & set(runs_b))
    per_seed = np.array([tile_scores(runs_b[s], split).mean() - tile_scores(runs_a[s], split).mean() for s in common])
    together = {"difference": np.nan, "low": np.nan, "high": np.nan, "p_value": np.nan}
    if common:
        cluster = None if clusters is None else tile_clusters(next(iter(runs_a.values())), split, clusters)
        together = two_level_difference([tile_scores(runs_b[s], split) for s in common],
                                        [tile_scores(runs_a[s], split) for s in common], n_resamples, seed=seed, cluster=cluster)
    return pd.DataFrame([{
        "comparison": comparison_label(b, a), "split": split, "seeds_a": len(runs_a), "seeds_b": len(runs_b), "tiles": paired["tiles"],
        "difference": paired["mean_difference"], "ci_low": paired["low"], "ci_high": paired["high"],
        "share_resamples_positive": paired["share_positive"], "verdict": verdict(paired["low"], paired["high"]),
        "seeds_paired": len(common),
        "seed_difference_mean": per_seed.mean() if len(common) else np.nan,
        "seed_difference_min": per_seed.min() if len(common) else np.nan,
        "seed_difference_max": per_seed.max() if len(common) else np.nan,
        "seeds_b_higher": int((per_seed > 0).sum()),
        "per_seed": "; ".join(f"s{s} {d:+.4f}" for s, d in zip(common, per_seed)),
        "difference_seeds_tiles": together["difference"], "difference_seeds_tiles_low": together["low"],
        "difference_seeds_tiles_high": together["high"], "p_value": together["p_value"],
        "resampled": ("seeds, then mosaics" if clusters is not None else "seeds, then tiles") if common else "",
    }])


def pairwise_table(results: dict[str, dict], reference: str | None = None, split: str = "test", factor: str | None = None,
                   n_resamples: int = 2000, seed: int = 0, clusters: pd.Series | None = None) -> pd.DataFrame:
    """``paired_arm_table`` for each arm against ``reference`` (``other - reference``), or, with
    no reference, for every pair of arms in the study's order (``later - earlier``). With five
    policies that is ten comparisons, each at 95 %: ``p_holm`` is each row's ``p_value`` adjusted
    for all the rows of the table by Holm's step-down method (``stats.holm``)."""
    names = arm_names(results)
    if reference is not None:
        # no pair without the reference's own runs (a study run for another arm only, e.g. a new seed)
        pairs = [(reference, name) for name in names if name != reference] if reference in names else []
    else:
        pairs = list(itertools.combinations(names, 2))
    if not pairs:  # a study run for one arm only: nothing to compare yet
        return pd.DataFrame(columns=["comparison", "p_value", "p_holm"])
    table = pd.concat([paired_arm_table(results, a, b, split, factor, n_resamples, seed, clusters) for a, b in pairs], ignore_index=True)
    table["p_holm"] = holm(table["p_value"].fillna(1.0)) if len(table) else []
    return table
