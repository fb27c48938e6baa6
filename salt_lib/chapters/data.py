"""Chapters 1 and 2, the tiles and the split: the figures (the numbers and findings are
``salt_lib.eda``'s)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from salt_lib.report.figures import draw_tile, legend_handles
from salt_lib.report.sentences import percent
from salt_lib.report.style import FULL_WIDTH, HALF_WIDTH, NEUTRAL_BAR, OKABE_ITO, SPLIT_HATCHES, SPLIT_SHADES, TRUTH_COLOUR
from salt_lib.report.words import tr


def plot_sample_tiles(tiles, groups: dict[str, np.ndarray]) -> plt.Figure:
    """A row of tiles per coverage group (``eda.sample_by_group``), salt outlined, each titled
    with its id and salt coverage. A group without tiles (real data has no tile full of salt)
    gets no row; the chapter says which."""
    shown = {group: indices for group, indices in groups.items() if len(indices)}
    if not shown:
        raise ValueError(f"no tiles in any group of {list(groups)}")
    ncols = max(len(v) for v in shown.values())
    fig, axes = plt.subplots(len(shown), ncols, figsize=(FULL_WIDTH, 1.45 * len(shown) + 0.45), squeeze=False,
                             layout="constrained")
    for row, (group, indices) in enumerate(shown.items()):
        for col in range(ncols):
            ax = axes[row, col]
            if col >= len(indices):
                ax.axis("off")
                continue
            i = indices[col]
            draw_tile(ax, tiles.images[i], tiles.masks[i], title=f"{tiles.ids[i]} ({percent(tiles.coverage[i])})")
        axes[row, 0].set_ylabel(tr(group))
    fig.legend(handles=legend_handles(), loc="outside lower center", ncol=2, frameon=False)
    return fig


def plot_coverage(coverage, class_table: pd.DataFrame) -> plt.Figure:
    """Left: share of tiles per coverage class (class 0 = no salt). Right: histogram of the
    coverage of tiles that hold salt."""
    coverage = np.asarray(coverage, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4), layout="constrained")
    colours = [OKABE_ITO["black"]] + [NEUTRAL_BAR] * 10
    left.bar(class_table["coverage_class"], 100 * class_table["share"], color=colours)
    left.set_xticks(class_table["coverage_class"], ["0"] + [f"{10 * k}" for k in range(1, 11)])
    left.set(xlabel=tr("coverage class (upper bound, % salt; 0 = empty)"), ylabel=tr("tiles (%)"))
    right.hist(100 * coverage[coverage > 0], bins=np.linspace(0, 100, 41), color=NEUTRAL_BAR)
    right.set(xlabel=tr("salt coverage of tiles with salt (%)"), ylabel=tr("tiles"))
    return fig


def plot_intensity(images, masks) -> plt.Figure:
    """Grey-level distributions of pixels inside salt and outside it (in tiles with salt), as
    densities over bins of 8 grey levels. In the TGS tiles one level in every 4 to 16 is about
    twice as common as its neighbours and the level after it rare (a trace of rescaling), so
    bins of one level draw a comb of spikes; bins of 8, with edges between levels, hold each
    spike with its gap."""
    images, masks = np.asarray(images), np.asarray(masks, dtype=bool)
    salt_tiles = masks.reshape(len(masks), -1).any(axis=1)
    fig, ax = plt.subplots(figsize=(HALF_WIDTH * 1.4, 2.3), layout="constrained")
    bins = np.arange(0, 257, 8) - 0.5  # 32 bins, edges between grey levels
    for label, pixels, colour in ((tr("inside salt"), images[masks], TRUTH_COLOUR),
                                  (tr("outside salt (tiles with salt)"), images[salt_tiles][~masks[salt_tiles]], OKABE_ITO["black"])):
        if len(pixels):
            ax.hist(pixels, bins=bins, density=True, histtype="step", linewidth=1.3, color=colour, label=label)
    ax.set(xlabel=tr("grey level (bins of 8 levels)"), ylabel=tr("density"), xlim=(-0.5, 255.5))
    fig.legend(frameon=False, loc="outside upper center", ncol=2)
    return fig


def plot_depth(depths, coverage) -> plt.Figure:
    """Left: depth histogram. Right: coverage against depth, with the mean per depth bin."""
    depths, coverage = np.asarray(depths, dtype=float), np.asarray(coverage, dtype=float)
    known = np.isfinite(depths)
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4), layout="constrained")
    left.hist(depths[known], bins=30, color=NEUTRAL_BAR)
    left.set(xlabel=tr("depth z (depths.csv)"), ylabel=tr("tiles"))
    right.scatter(depths[known], 100 * coverage[known], s=3, alpha=0.3, color=NEUTRAL_BAR, linewidths=0)
    edges = np.linspace(depths[known].min(), depths[known].max(), 11)
    which = np.clip(np.digitize(depths[known], edges) - 1, 0, 9)
    means = [100 * coverage[known][which == b].mean() if np.any(which == b) else np.nan for b in range(10)]
    right.plot((edges[:-1] + edges[1:]) / 2, means, color=OKABE_ITO["black"], marker="o", ms=3, label=tr("mean per depth bin"))
    right.set(xlabel=tr("depth z (depths.csv)"), ylabel=tr("salt coverage (%)"))
    right.legend(frameon=False)
    return fig


def plot_split_coverage(class_counts: pd.DataFrame) -> plt.Figure:
    """Share of each split's tiles per coverage class (``eda.split_class_counts``), side by side."""
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.4), layout="constrained")
    splits = [c for c in ("train", "val", "test") if c in class_counts]
    width = 0.8 / len(splits)
    for k, split in enumerate(splits):
        share = 100 * class_counts[split] / max(1, class_counts[split].sum())
        ax.bar(class_counts["coverage_class"] + (k - (len(splits) - 1) / 2) * width, share, width,
               color=SPLIT_SHADES[split], hatch=SPLIT_HATCHES[split], edgecolor="black", linewidth=0.4, label=tr("{split} ({tiles} tiles)", split=tr(split), tiles=class_counts[split].sum()))
    ax.set_xticks(class_counts["coverage_class"], ["0"] + [f"{10 * k}" for k in range(1, 11)])
    ax.set(xlabel=tr("coverage class (upper bound, % salt; 0 = empty)"), ylabel=tr("tiles of the split (%)"))
    ax.legend(frameon=False)
    return fig


def sample_tiles_caption(groups: dict[str, np.ndarray]) -> str:
    """The caption of ``plot_sample_tiles``: which coverage groups its rows show and which group,
    if any, has no tile in this set (``eda.sample_by_group``'s groups)."""
    shown = [group for group, indices in groups.items() if len(indices)]
    missing = [group for group, indices in groups.items() if not len(indices)]
    per_row = max((len(indices) for indices in groups.values()), default=0)
    caption = tr("Figure: up to {per_row} tiles of each coverage group, one row each ({groups})", per_row=per_row,
                 groups=tr(", ").join(tr(group) for group in shown))
    if missing:
        caption = tr("{caption}; no tile of this set is in the group {groups}, so it has no row", caption=caption,
                     groups=tr(" or ").join(tr("'{group}'", group=tr(group)) for group in missing))
    return tr("{caption}.", caption=caption)


def plot_neighbour_pairs(tiles, pairs: pd.DataFrame, per_direction: int = 3) -> plt.Figure:
    """Neighbour pairs found among ``tiles`` (``mosaic.neighbour_pairs``), joined as the section
    held them: ``per_direction`` pairs side by side (top row) and as many one above the other
    (bottom row), the closest matches first, the seam marked; each titled with its edge distance."""
    index = {tile_id: i for i, tile_id in enumerate(tiles.ids)}
    fig, axes = plt.subplots(2, per_direction, figsize=(FULL_WIDTH, 4.6), squeeze=False, layout="constrained")
    for row, direction in enumerate(("right", "below")):
        chosen = pairs[pairs["direction"] == direction].sort_values("distance").head(per_direction)
        for col in range(per_direction):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col >= len(chosen):
                ax.axis("off")
                continue
            pair = chosen.iloc[col]
            a, b = tiles.images[index[pair["a"]]], tiles.images[index[pair["b"]]]
            joined = np.concatenate([a, b], axis=1 if direction == "right" else 0)
            ax.imshow(joined, cmap="gray", vmin=0, vmax=255)
            seam = a.shape[1] - 0.5
            (ax.axvline if direction == "right" else ax.axhline)(seam, color=OKABE_ITO["yellow"], lw=0.9, ls=":")
            ax.set_title(tr("distance {distance}", distance=f"{pair['distance']:.3f}"), fontsize=8)
        axes[row, 0].set_ylabel(tr("side by side") if direction == "right" else tr("one above the other"))
    return fig
