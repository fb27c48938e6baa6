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
from salt_lib.report.style import FULL_WIDTH, PREDICTION_COLOUR, SPLIT_COLOURS, TRUTH_COLOUR
from salt_lib.report.words import tr


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
    """A policy or model name broken after underscores into lines of about ``width`` characters
    ('flip_geo_\\nintensity'), so that it fits above a tile or under a tick."""
    lines = [""]
    for word in re.split(r"(?<=_)", name):
        if lines[-1] and len(lines[-1]) + len(word) > width:
            lines.append("")
        lines[-1] += word
    return "\n".join(lines)


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


def plot_seed_scores(seeds: pd.DataFrame, summary: pd.DataFrame, xlabel: str = "arm") -> plt.Figure:
    """A seed study at a glance (``salt_lib.study.seed_table`` and ``seed_summary``): per arm, one
    dot per training seed for validation and for test, a bar at each split's mean over seeds, and
    for test the 95 % bootstrap interval over tiles of the seed-averaged scores."""
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.6), layout="constrained")
    arms = list(summary.iloc[:, 0])  # the arm column, however the chapter names it (arm, policy, model)
    x = np.arange(len(arms))
    for offset, split in ((-0.15, "val"), (0.15, "test")):
        colour = SPLIT_COLOURS[split]
        for position, arm in enumerate(arms):
            values = seeds.loc[seeds.iloc[:, 0] == arm, f"{split}_tgs_score"]
            ax.plot(np.full(len(values), position + offset), values, "o", ms=3.5, color=colour, alpha=0.6,
                    label=tr("{split}: one dot per seed", split=tr(split)) if position == 0 else None)
        means = summary[f"{split}_mean"]
        ax.hlines(means, x + offset - 0.1, x + offset + 0.1, color=colour, lw=2,
                  label=tr("{split}: mean over seeds", split=tr(split)))
        if split == "test":
            ax.errorbar(x + offset + 0.13, means, yerr=[means - summary["test_ci_low"], summary["test_ci_high"] - means],
                        fmt="none", capsize=2.5, color=colour, lw=0.9, label=tr("test: 95 % interval over tiles"))
    ax.set_xticks(x, [wrapped(tr(arm), 14) for arm in arms])
    ax.set_xlim(-0.5, len(arms) - 0.5)
    ax.set(xlabel=tr(xlabel), ylabel=tr("tgs_score"))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False, fontsize="small")
    return fig
