"""Chapter 3, data augmentation: what each policy does, and the policy grid (the same tiles under
every policy). The policy study's tables and findings are ``salt_lib.study``'s, shared with
chapter 6's architecture study."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from salt_lib.augment import DESCRIPTIONS, augment_batch, check_policy, expand_offline
from salt_lib.report.figures import draw_tile, wrapped
from salt_lib.report.style import FULL_WIDTH
from salt_lib.report.words import tr


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
    return (f"Each policy was trained with {seeds} training seed{'s' if seeds != 1 else ''}, every run for the same "
            f"{optimizer_steps:,} optimizer steps.")
