"""Chapter 3, data augmentation: what each policy does, the policy grid (the same tiles under
every policy), and whether the policy study at the final models' budget supports the recipe's
policy. The policy studies' tables and findings are ``salt_lib.study``'s, shared with chapter 6's
architecture study."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from salt_lib.augment import DESCRIPTIONS, augment_batch, check_policy, expand_offline
from salt_lib.chapters.choices import beats_recipe, closest_alternative, decided
from salt_lib.report.figures import draw_tile, wrapped
from salt_lib.report.sentences import HIGHER, LOWER, with_interval
from salt_lib.report.style import FULL_WIDTH
from salt_lib.report.words import compared_arms, tr


def policy_descriptions(policies) -> pd.DataFrame:
    """What each augmentation policy does (``salt_lib.augment.DESCRIPTIONS``), one row each."""
    return pd.DataFrame({"policy": list(policies), "what it does": [DESCRIPTIONS[check_policy(p)] for p in policies]})


def plot_augmentation_grid(images, masks, policies, seed: int = 0) -> plt.Figure:
    """The same tiles (rows) as they are and under each augmentation policy (columns, named at the
    top), with the transformed mask outlined. ``none`` would repeat the original column, so the
    original is shown once and titled for it; the ``mirror`` column shows the mirrored copy that
    policy adds before training."""
    images, masks = np.asarray(images), np.asarray(masks, dtype=bool)
    chosen = [check_policy(policy) for policy in policies]
    columns = ["original"] + [policy for policy in chosen if policy != "none"]
    titles = [tr("original (= none)") if "none" in chosen else tr("original")] + [wrapped(tr(p)) for p in columns[1:]]
    fig, axes = plt.subplots(len(images), len(columns), figsize=(FULL_WIDTH, FULL_WIDTH / len(columns) * len(images) + 0.4),
                             squeeze=False, layout="constrained")
    for c, policy in enumerate(columns):
        if policy == "original":
            out_images, out_masks = images, masks
        elif policy == "mirror":
            expanded_images, expanded_masks = expand_offline(images, masks, "mirror")
            out_images, out_masks = expanded_images[len(images):], expanded_masks[len(images):]
        else:
            out_images, out_masks = augment_batch(images, masks, policy, seed=seed)
        for r in range(len(images)):
            draw_tile(axes[r, c], out_images[r], out_masks[r])
        axes[0, c].set_title(titles[c], fontsize=8)
    return fig


def budget_sentence(seeds: int, optimizer_steps: int) -> str:
    """What every run of the policy study was given: its training seeds and optimizer steps."""
    template = ("Each policy was trained with {seeds} training seed, every run for the same {steps:,} optimizer steps."
                if seeds == 1 else
                "Each policy was trained with {seeds} training seeds, every run for the same {steps:,} optimizer steps.")
    return tr(template, seeds=seeds, steps=optimizer_steps)


# The sentences of ``committed_policy_findings``, keyed by whether they name more than one (seed,
# policy): whole templates, so that each translates as one phrase.
COMMITTED_BASIS = {
    False: "On validation, with {seeds} paired seed per comparison, resampling seeds, then mosaics, and Holm's correction "
           "for the {comparisons} comparisons with {committed}",
    True: "On validation, with {seeds} paired seeds per comparison, resampling seeds, then mosaics, and Holm's correction "
          "for the {comparisons} comparisons with {committed}"}
COMMITTED_HIGHER = {
    False: "{basis}, {named} scores higher than {committed}, the policy of the recipe: this study does not support it, and "
           "the models of chapters 4 and 5 would be retrained with {alternative}.",
    True: "{basis}, {named} score higher than {committed}, the policy of the recipe: this study does not support it, and "
          "the models of chapters 4 and 5 would be retrained with {alternative}."}
COMMITTED_LOWER = {False: "On the same footing, {named} scores lower than {committed}.",
                   True: "On the same footing, {named} score lower than {committed}."}


def committed_policy_findings(rows: pd.DataFrame, committed: str) -> list[str]:
    """Whether ``rows``, the policy study at the final models' budget, supports ``committed``, the policy of
    the recipe (``recipes.DEFAULT``), read from ``study.pairwise_table(..., reference=committed,
    split="val")``: every choice is made on validation. A policy decides against ``committed``
    only when the interval that draws seeds, then mosaics, lies on one side of 0 and its
    Holm-adjusted p is under 0.05; otherwise the sentence names the policy that came closest."""
    def named(part):
        return tr("; ").join(tr("{arm} ({interval})", arm=compared_arms(r.comparison)[0], interval=with_interval(
            r.difference_seeds_tiles, r.difference_seeds_tiles_low, r.difference_seeds_tiles_high, signed=True)) for r in part.itertuples())

    higher, lower = beats_recipe(rows), decided(rows, LOWER)
    low, high = rows["seeds_paired"].min(), rows["seeds_paired"].max()
    seeds = tr("{low} to {high}", low=low, high=high) if rows["seeds_paired"].nunique() > 1 else f"{low}"
    basis = tr(COMMITTED_BASIS[high > 1], seeds=seeds, comparisons=len(rows), committed=committed)
    if len(higher):
        sentences = [tr(COMMITTED_HIGHER[len(higher) > 1], basis=basis, named=named(higher), committed=committed,
                        alternative=compared_arms(closest_alternative(higher)["comparison"])[0])]
    else:
        closest = closest_alternative(rows)
        interval = with_interval(closest.difference_seeds_tiles, closest.difference_seeds_tiles_low, closest.difference_seeds_tiles_high, signed=True)
        sentences = [tr("{basis}, no policy scores higher than {committed} (the closest, {closest}: {interval}), so the recipe "
                        "keeps {committed}: the study does not contradict the policy of chapters 4 and 5.",
                        basis=basis, committed=committed, closest=compared_arms(closest.comparison)[0], interval=interval)]
    if len(lower):
        sentences.append(tr(COMMITTED_LOWER[len(lower) > 1], named=named(lower), committed=committed))
    return sentences


# Two ways of showing every training tile in both orientations, each against a random flip
# (``flip``): both in every epoch (``mirror``, the source thesis's 1:1 expansion) or one in each
# of alternate epochs (``flip_alternate``, derandomized flips).
BOTH_ORIENTATIONS = ("mirror", "flip_alternate")


def both_orientations_table(results: dict, n_resamples: int = 2000, clusters: pd.Series | None = None) -> pd.DataFrame:
    """On validation, each policy of ``BOTH_ORIENTATIONS`` in ``results`` (the policy study at
    the final budget) minus ``flip`` (``study.pairwise_table`` with ``flip`` the reference: seeds,
    then ``clusters``, Holm's correction over these comparisons). Empty when ``flip`` or both
    others have no runs."""
    from salt_lib.study import arm_names, pairwise_table

    present = [name for name in arm_names(results) if name in ("flip", *BOTH_ORIENTATIONS)]
    if "flip" not in present or len(present) < 2:
        return pd.DataFrame(columns=["comparison", "p_value", "p_holm"])
    chosen = {name: run for name, run in results.items() if run.record["arm"] in present}
    return pairwise_table(chosen, reference="flip", split="val", n_resamples=n_resamples, clusters=clusters)


ORIENTATION_OUTCOMES = {HIGHER: "{arm} scores higher than flip", LOWER: "{arm} scores lower than flip"}


def both_orientations_findings(table: pd.DataFrame) -> list[str]:
    """What ``both_orientations_table`` says of the source thesis's mirror expansion: whether
    showing each tile in both orientations beats a random flip on validation, every epoch
    (``mirror``) or in alternate epochs (``flip_alternate``), and so whether a gain of ``mirror``
    is more data or the even showing of both orientations. A comparison is decided when its
    interval over seeds, then mosaics, lies on one side of 0 and its Holm-adjusted p is under 0.05."""
    if not len(table):
        return []
    parts = []
    for row in table.itertuples():
        interval = with_interval(row.difference_seeds_tiles, row.difference_seeds_tiles_low, row.difference_seeds_tiles_high, signed=True)
        template = ("{arm} - flip {interval} ({seeds} paired seed, Holm p {p_holm:.2f})" if row.seeds_paired == 1 else
                    "{arm} - flip {interval} ({seeds} paired seeds, Holm p {p_holm:.2f})")
        parts.append(tr(template, arm=compared_arms(row.comparison)[0], interval=interval, seeds=row.seeds_paired, p_holm=row.p_holm))
    outcomes = [tr(ORIENTATION_OUTCOMES[word], arm=compared_arms(row.comparison)[0]) for word in (HIGHER, LOWER)
                for row in decided(table, word).itertuples()]
    outcome = tr("; ").join(outcomes) if outcomes else tr("neither way of showing both orientations is distinguishable from a random flip")
    return [tr("Both orientations of every tile against a random flip, on validation: {parts}: {outcome}.",
               parts=tr("; ").join(parts), outcome=outcome)]
