"""Figures more than one chapter draws: tiles with their labelled and predicted salt, rows of
cases, and scores over training seeds. Every ``plot_*`` function takes arrays or tables and
returns a matplotlib Figure in constrained layout, every label, legend and title on its canvas;
it never saves and never loads a model. Tiles are drawn with the grey colour map, depth (rows)
downwards, as in the data.
"""

from __future__ import annotations

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from salt_lib.report.sentences import percent
from salt_lib.report.style import FULL_WIDTH, PREDICTION_COLOUR, NEUTRAL_COLOUR, SPLIT_MARKERS, TRUTH_COLOUR, network_colour
from salt_lib.report.words import NETWORK_NAMES, compared_arms, tr


def draw_tile(ax, image, truth=None, prediction=None, title: str | None = None) -> None:
    """One tile on ``ax``: the grey image, the labelled salt as an orange tint with its outline,
    and a prediction as a sky-blue outline."""
    ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    if truth is not None and truth.any():
        ax.imshow(np.ma.masked_where(~truth, truth), cmap=matplotlib.colors.ListedColormap([TRUTH_COLOUR]), alpha=0.3, vmin=0, vmax=1)
        _outline(ax, truth, TRUTH_COLOUR, 1.2)
    if prediction is not None:
        _outline(ax, prediction, PREDICTION_COLOUR, 1.2, linestyle="--")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=7, pad=2)


def _outline(ax, mask, colour, width, linestyle="-") -> None:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    if mask.all():  # a full tile has no inner boundary: outline the tile itself
        ax.add_patch(matplotlib.patches.Rectangle((-0.5, -0.5), mask.shape[1], mask.shape[0], fill=False,
                                                  edgecolor=colour, linewidth=2 * width, linestyle=linestyle))
        return
    # Pad so that salt touching the border gets a closed outline; then keep the tile's limits.
    rows, cols = mask.shape
    ax.contour(np.arange(-1, cols + 1), np.arange(-1, rows + 1), np.pad(mask, 1).astype(float), levels=[0.5],
               colors=[colour], linewidths=width, linestyles=linestyle)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)


def legend_handles(prediction: bool = False):
    handles = [Line2D([], [], color=TRUTH_COLOUR, lw=1.5, label=tr("labelled salt"))]
    if prediction:
        handles.append(Line2D([], [], color=PREDICTION_COLOUR, lw=1.5, ls="--", label=tr("prediction")))
    return handles


def wrapped(name: str, width: int = 11) -> str:
    """A policy or model name broken at underscores into lines of about ``width`` characters
    ('flip_geo\\nintensity': the underscore at a break is dropped), so that it fits above a tile
    or under a tick."""
    lines = [""]
    for word in re.split(r"(?<=_)", name):
        if lines[-1] and len(lines[-1]) + len(word) > width:
            lines.append("")
        lines[-1] += word
    return "\n".join(line[:-1] if line.endswith("_") and k < len(lines) - 1 else line for k, line in enumerate(lines))


def case_row(tiles, indices, predicted_masks, scores, kinds=None) -> dict:
    """One row for ``plot_cases``: the tiles at ``indices`` with their labelled and predicted
    masks, titled with the tile's id, its score and its salt coverage, under the kind of failure
    each shows where ``kinds`` (one per index, ``chapters.comparison.failure_cases``) is given."""
    indices = np.asarray(indices, dtype=int)
    titles = [tr("{tile}\nscore {score:.1f}, salt {salt}", tile=tiles.ids[i], score=scores[i], salt=percent(tiles.coverage[i]))
              for i in indices]
    if kinds is not None:
        titles = [f"{tr(kind)}\n{title}" for kind, title in zip(kinds, titles)]
    return {"images": tiles.images[indices], "truths": tiles.masks[indices], "predictions": np.asarray(predicted_masks)[indices],
            "titles": titles}


def plot_cases(rows: dict[str, dict]) -> plt.Figure:
    """Rows of tiles with the labelled salt tinted and the prediction outlined.

    ``rows`` maps a row label to ``{"images", "truths", "predictions", "titles"}`` (equal-length
    sequences); all rows should have the same number of tiles.
    """
    ncols = max(len(r["images"]) for r in rows.values())
    fig, axes = plt.subplots(len(rows), ncols, figsize=(FULL_WIDTH, 1.65 * len(rows) + 0.35), squeeze=False,
                             layout="constrained")
    for r, (label, row) in enumerate(rows.items()):
        for c in range(ncols):
            if c >= len(row["images"]):
                axes[r, c].axis("off")
                continue
            draw_tile(axes[r, c], row["images"][c], row["truths"][c], row["predictions"][c], row["titles"][c])
        axes[r, 0].set_ylabel(tr(label))
    fig.legend(handles=legend_handles(prediction=True), loc="outside lower center", ncol=2, frameon=False)
    return fig


def arm_label(arm: str) -> str:
    """How a figure names an arm of a study: a network as the text names it ('unet' -> 'U-Net'),
    a policy as it is ('flip_geo_intensity')."""
    return tr(NETWORK_NAMES.get(arm, arm))


def seed_differences(seeds: pd.DataFrame, arm: str, reference: str, score: str = "test_tgs_score") -> pd.Series:
    """Per training seed, ``score`` of ``arm`` minus that of ``reference`` (the same seed), from
    ``salt_lib.study.seed_table``; only seeds that both arms have."""
    by_arm = seeds.pivot_table(index=seeds.columns[1], columns=seeds.columns[0], values=score)
    return (by_arm[arm] - by_arm[reference]).dropna()


def plot_seed_scores(seeds: pd.DataFrame, summary: pd.DataFrame, xlabel: str = "arm",
                     paired: pd.DataFrame | None = None) -> plt.Figure:
    """A seed study at a glance (``salt_lib.study.seed_table`` and ``seed_summary``).

    Left: per arm, one mark per training seed for validation (open circle) and for test (filled
    square), a bar at each split's mean over seeds, and for test the 95 % bootstrap interval over
    tiles of the seed-averaged scores. Right, with ``paired`` (``study.pairwise_table`` against one
    reference, its ``comparison`` column 'arm - reference'): what the conclusions rest on, each
    arm minus the reference in test score (in validation score for a table of ``split`` val), one
    dot per seed (the same seed of both arms), the mean and the paired 95 % interval of the table,
    zero marked. A network keeps its colour
    (``network_colour``); a policy is drawn in the neutral colour."""
    arms = list(summary.iloc[:, 0])  # the arm column, however the chapter names it (arm, policy, model)
    if paired is not None and len(paired):
        fig, (ax, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.8), layout="constrained", gridspec_kw={"width_ratios": (3, 2)})
    else:
        fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.6), layout="constrained")
        right = None
    x = np.arange(len(arms))
    for offset, split in ((-0.15, "val"), (0.15, "test")):
        marker, filled = SPLIT_MARKERS[split], split == "test"
        for position, arm in enumerate(arms):
            colour = network_colour(arm)
            values = seeds.loc[seeds.iloc[:, 0] == arm, f"{split}_tgs_score"]
            ax.plot(np.full(len(values), position + offset), values, marker, ms=3.5, color=colour, alpha=0.8,
                    mfc=colour if filled else "none",
                    label=tr("{split}: one mark per seed", split=tr(split)) if position == 0 else None)
        means = summary[f"{split}_mean"]
        ax.hlines(means, x + offset - 0.1, x + offset + 0.1, color=[network_colour(arm) for arm in arms], lw=2,
                  linestyles="-" if filled else ":", label=tr("{split}: mean over seeds", split=tr(split)))
        if split == "test":
            for position, arm in enumerate(arms):
                mean = means.iloc[position]
                ax.errorbar([position + offset + 0.13], [mean], capsize=2.5, color=network_colour(arm), lw=0.9, fmt="none",
                            yerr=[[mean - summary["test_ci_low"].iloc[position]], [summary["test_ci_high"].iloc[position] - mean]],
                            label=tr("test: 95 % interval over tiles") if position == 0 else None)
    ax.set_xticks(x, [wrapped(arm_label(arm), 12) for arm in arms])
    ax.set_xlim(-0.5, len(arms) - 0.5)
    ax.set(xlabel=tr(xlabel), ylabel=tr("TGS score"))
    if right is not None:
        _plot_paired(right, seeds, paired)
    # The legend in the neutral colour: the marks say what is drawn, the colours (ticks) whose.
    grey = {"color": NEUTRAL_COLOUR, "ls": "none"}
    handles = [Line2D([], [], marker="o", mfc="none", **grey, label=tr("{split}: one mark per seed", split=tr("val"))),
               Line2D([], [], color=NEUTRAL_COLOUR, ls=":", lw=2, label=tr("{split}: mean over seeds", split=tr("val"))),
               Line2D([], [], marker="s", **grey, label=tr("{split}: one mark per seed", split=tr("test"))),
               Line2D([], [], color=NEUTRAL_COLOUR, lw=2, label=tr("{split}: mean over seeds", split=tr("test"))),
               Line2D([], [], marker="|", ms=9, **grey, label=tr("test: 95 % interval over tiles"))]
    if right is not None:
        handles += [Line2D([], [], marker="s", **grey, label=tr("difference of one seed")),
                    Line2D([], [], marker="D", **grey, label=tr("paired 95 % interval over tiles (seed means)"))]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False, fontsize="small")
    return fig


SHORT_REFERENCE = 5  # characters: a reference this short ('none', 'U-Net') is named under each tick of the paired panel


def _plot_paired(ax, seeds: pd.DataFrame, paired: pd.DataFrame) -> None:
    """``plot_seed_scores``'s right panel: per comparison 'arm - reference', the per-seed
    differences, the mean difference and its paired interval, in the score of the table's split
    (its ``split`` column: test, or val for a study that chooses on validation)."""
    split = paired["split"].iloc[0] if "split" in paired else "test"
    for position, row in enumerate(paired.itertuples()):
        arm, reference = compared_arms(row.comparison)
        colour = network_colour(arm)
        differences = seed_differences(seeds, arm, reference, score=f"{split}_tgs_score")
        ax.plot(np.full(len(differences), position - 0.12), differences, "s", ms=3.5, color=colour, alpha=0.8,
                label=tr("difference of one seed") if position == 0 else None)
        ax.errorbar([position + 0.12], [row.difference], yerr=[[row.difference - row.ci_low], [row.ci_high - row.difference]],
                    fmt="D", ms=4, capsize=3, color=colour, lw=1,
                    label=tr("paired 95 % interval over tiles (seed means)") if position == 0 else None)
    ax.axhline(0, color="black", lw=0.8)
    ax.margins(y=0.12)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:+.3f}"))
    sides = [compared_arms(c) for c in paired["comparison"]]
    references = {arm_label(reference) for _, reference in sides}
    if len(references) == 1 and len(next(iter(references))) > SHORT_REFERENCE:  # too wide under every tick: said once
        names = [wrapped(arm_label(arm), 10) for arm, _ in sides]
        ax.set_xlabel(tr("each minus {reference}", reference=references.pop()), fontsize=8)
    else:
        names = [f"{wrapped(arm_label(arm), 10)}\n\u2212 {arm_label(reference)}" for arm, reference in sides]
    ax.set_xticks(np.arange(len(paired)), names, fontsize=7)
    ax.set_xlim(-0.6, len(paired) - 0.4)
    ax.set_ylabel(tr("difference in\ntest TGS score") if split == "test" else tr("difference in\nvalidation TGS score"))
