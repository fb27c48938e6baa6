"""Describing the tiles before any model sees them: the numbers behind chapters 1 and 2.

All functions take a ``TGSData`` (or its arrays) and return plain numbers or DataFrames; the
figures built from them live in ``salt_lib.report``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salt_lib.report.words import tr
from salt_lib.split import COVERAGE_CLASS_LABELS, SPLITS, coverage_class

GROUPS = ("no salt", "partial", "full")


def coverage_group(coverage) -> np.ndarray:
    """'no salt' (coverage 0), 'full' (coverage 1) or 'partial' for each tile (N,)."""
    coverage = np.asarray(coverage, dtype=float)
    return np.where(coverage == 0, GROUPS[0], np.where(coverage == 1, GROUPS[2], GROUPS[1]))


def sample_by_group(coverage, per_group: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Up to ``per_group`` tile indices of each coverage group, drawn with ``seed``, sorted."""
    rng = np.random.default_rng(seed)
    groups = coverage_group(coverage)
    picked = {}
    for group in GROUPS:
        members = np.flatnonzero(groups == group)
        picked[group] = np.sort(rng.choice(members, size=min(per_group, len(members)), replace=False))
    return picked


def overview(tiles) -> pd.DataFrame:
    """One row describing a labelled set: tiles, share of empty and full tiles, mean coverage,
    whether depths are known (and their range)."""
    depths = tiles.depths
    known = depths is not None and bool(np.isfinite(depths).any())
    return pd.DataFrame([{
        "tiles": len(tiles),
        "empty_share": float(np.mean(tiles.coverage == 0)),
        "full_share": float(np.mean(tiles.coverage == 1)),
        "mean_coverage": float(np.mean(tiles.coverage)),
        "mean_coverage_of_salt_tiles": float(np.mean(tiles.coverage[tiles.coverage > 0])) if np.any(tiles.coverage > 0) else np.nan,
        "depths": "yes" if known else "no",
        "depth_min": float(np.nanmin(depths)) if known else np.nan,
        "depth_max": float(np.nanmax(depths)) if known else np.nan,
    }])


def has_depths(tiles) -> bool:
    """Whether the set came with a depths.csv that covers at least one tile."""
    return tiles.depths is not None and bool(np.isfinite(tiles.depths).any())


def coverage_class_table(coverage) -> pd.DataFrame:
    """Tiles and their share per coverage class (0 = empty, k = (10k - 10, 10k] % salt)."""
    classes = coverage_class(coverage)
    counts = np.bincount(classes, minlength=11)
    return pd.DataFrame({"coverage_class": np.arange(11), "coverage": COVERAGE_CLASS_LABELS,
                         "tiles": counts, "share": counts / max(1, len(classes))})


def intensity_stats(images, masks) -> pd.DataFrame:
    """Grey levels (0..255) of the pixels inside and outside salt: count, mean, std and the
    5th, 50th and 95th percentiles. 'outside' counts every non-salt pixel, also of empty tiles;
    'outside, salt tiles' only those of tiles that hold some salt, which compares like with like."""
    images, masks = np.asarray(images), np.asarray(masks, dtype=bool)
    salt_tiles = masks.reshape(len(masks), -1).any(axis=1)
    regions = {
        "inside salt": images[masks],
        "outside salt": images[~masks],
        "outside, salt tiles": images[salt_tiles][~masks[salt_tiles]],
    }
    rows = []
    for region, pixels in regions.items():
        pixels = pixels.astype(float)
        stats = np.percentile(pixels, [5, 50, 95]) if len(pixels) else [np.nan] * 3
        rows.append({"region": region, "pixels": int(len(pixels)), "mean": pixels.mean() if len(pixels) else np.nan,
                     "std": pixels.std() if len(pixels) else np.nan, "p5": stats[0], "median": stats[1], "p95": stats[2]})
    return pd.DataFrame(rows)


def split_summary(tiles, split_table: pd.DataFrame) -> pd.DataFrame:
    """Per split: tiles, share of all tiles, empty-tile share and mean coverage; plus a total."""
    coverage = pd.Series(tiles.coverage, index=tiles.ids)
    rows = []
    for split in SPLITS:
        ids = split_table.loc[split_table["split"] == split, "id"]
        values = coverage.loc[ids].to_numpy()
        rows.append({"split": split, "tiles": len(values), "share": len(values) / len(split_table),
                     "empty_share": float(np.mean(values == 0)) if len(values) else np.nan,
                     "mean_coverage": float(np.mean(values)) if len(values) else np.nan})
    rows.append({"split": "all", "tiles": len(tiles), "share": 1.0, "empty_share": float(np.mean(tiles.coverage == 0)),
                 "mean_coverage": float(np.mean(tiles.coverage))})
    return pd.DataFrame(rows)


def split_class_counts(tiles, split_table: pd.DataFrame) -> pd.DataFrame:
    """Tiles per coverage class (rows) and split (columns), with the class labels."""
    classes = pd.Series(coverage_class(tiles.coverage), index=tiles.ids)
    table = pd.DataFrame({"coverage_class": np.arange(11), "coverage": COVERAGE_CLASS_LABELS})
    for split in SPLITS:
        ids = split_table.loc[split_table["split"] == split, "id"]
        table[split] = np.bincount(classes.loc[ids].to_numpy(), minlength=11)
    return table


def example_tiles(coverage, n: int = 4, seed: int = 0, low: float = 0.15, high: float = 0.85) -> np.ndarray:
    """``n`` tile indices with partial salt (coverage in [low, high]), drawn with ``seed``:
    tiles on which an augmentation visibly moves the salt boundary."""
    coverage = np.asarray(coverage, dtype=float)
    members = np.flatnonzero((coverage >= low) & (coverage <= high))
    if len(members) < n:  # small or unusual sets: fall back to any tile with salt
        members = np.flatnonzero(coverage > 0)
    return np.sort(np.random.default_rng(seed).choice(members, size=min(n, len(members)), replace=False))


def label_checks(masks) -> pd.DataFrame:
    """Counts that reveal how the masks were drawn (one row): empty masks, full masks (every
    pixel salt), and *vertical strips*: masks with salt that are the same in every row, i.e. one
    or more whole-height column bands. In the TGS labels full-salt tiles were left empty and some
    partly salted tiles were drawn as such strips (label noise a model cannot learn from the image)."""
    masks = np.asarray(masks).astype(bool).reshape(len(masks), masks.shape[1], -1)
    salted = masks.any(axis=(1, 2))
    full = masks.all(axis=(1, 2))
    strips = salted & ~full & (masks == masks[:, :1, :]).all(axis=(1, 2))
    return pd.DataFrame([{"tiles": len(masks), "empty_masks": int((~salted).sum()), "full_masks": int(full.sum()),
                          "vertical_strip_masks": int(strips.sum())}])


def findings(overview_table: pd.DataFrame, checks: pd.DataFrame) -> list[str]:
    """Chapter 1's findings, every number from its tables (``overview`` and ``label_checks``)."""
    row, check = overview_table.iloc[0], checks.iloc[0]
    sentences = [tr("{tiles:,} labelled tiles; {empty:.1%} of them have no salt, and a tile with salt is on average "
                    "{coverage:.1%} salt.", tiles=row["tiles"], empty=row["empty_share"], coverage=row["mean_coverage_of_salt_tiles"])]
    if check["full_masks"]:
        sentences.append(tr("{full:,} masks are salt in every pixel.", full=check["full_masks"]))
    else:
        sentences.append(tr("No mask is salt in every pixel, although salt bodies larger than a tile are common in seismic "
                            "sections: tiles lying wholly inside one were most likely labelled empty, so an empty mask may "
                            "not always mean no salt."))
    sentences.append(tr("{strips:,} masks ({share:.1%}) are vertical strips, the same in every row: a pattern of the "
                        "labelling rather than a shape of salt.", strips=check["vertical_strip_masks"],
                        share=check["vertical_strip_masks"] / check["tiles"]))
    sentences.append(tr("Depths are known for these tiles." if row["depths"] == "yes" else
                        "This copy has no depths.csv, so depth plays no part here."))
    return sentences


def span(values, fmt: str) -> str:
    """'a to b across the parts' of ``values`` formatted with ``fmt``, or 'a in every part' when
    both ends read the same."""
    low, high = format(min(values), fmt), format(max(values), fmt)
    return tr("{low} in every part", low=low) if low == high else tr("{low} to {high} across the parts", low=low, high=high)


def split_findings(summary: pd.DataFrame, class_counts: pd.DataFrame) -> list[str]:
    """Chapter 2's findings from ``split_summary`` and ``split_class_counts``: the parts' sizes,
    how close their empty shares and mean coverages are, and whether every coverage class is in
    every part."""
    parts = summary[summary["split"].isin(SPLITS)]
    sizes = tr(", ").join(tr("{split} {tiles:,} ({share:.1%})", split=tr(row.split), tiles=row.tiles, share=row.share)
                          for row in parts.itertuples())
    empty, coverage = parts["empty_share"], parts["mean_coverage"]
    missing = [(row.coverage, split) for row in class_counts.itertuples() for split in SPLITS if getattr(row, split) == 0
               and sum(getattr(row, s) for s in SPLITS) > 0]
    sentences = [tr("Parts: {sizes}.", sizes=sizes),
                 tr("The share of empty tiles is {empty}, and the mean coverage is {coverage}: the stratification kept the "
                    "parts alike.", empty=span(empty, ".1%"), coverage=span(coverage, ".3f"))]
    sentences.append(tr("Every coverage class that occurs is in every part.") if not missing else
                     tr("Missing from a part: {missing}.", missing=tr("; ").join(
                         tr("{coverage} in {split}", coverage=tr(label), split=tr(split)) for label, split in missing)))
    return sentences


def neighbour_findings(recovery: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """Chapter 2's findings on neighbouring tiles, from ``mosaic.recovery_table`` and
    ``mosaic.neighbour_summary``: how well edges recover true neighbours, how many tiles of this
    set sit in mosaics, and how many test tiles touch a training tile under each split."""
    counts = dict(zip(summary["quantity"], summary["count"]))
    random_touch = counts["test tiles with a train neighbour, random split"]
    mosaic_touch = counts["test tiles with a train neighbour, mosaic split"]
    return [tr("On {sections} synthetic sections cut into shuffled tiles, the edges recover the true neighbours with a "
               "precision of {precision_low:.2f} to {precision_high:.2f} and a recall of {recall_low:.2f} to {recall_high:.2f}.",
               sections=len(recovery), precision_low=recovery["precision"].min(), precision_high=recovery["precision"].max(),
               recall_low=recovery["recall"].min(), recall_high=recovery["recall"].max()),
            tr("Among these {tiles:,} tiles it finds {pairs:,} neighbour pairs, joining {joined:,} tiles into {mosaics:,} "
               "mosaics of two to {largest} tiles; the other tiles have no neighbour here.", tiles=counts["tiles"],
               pairs=counts["pairs side by side"] + counts["pairs one above the other"], joined=counts["tiles in mosaics"],
               mosaics=counts["mosaics of two or more tiles"], largest=counts["tiles in the largest mosaic"]),
            tr("Under the random split {random:,} test tiles have a neighbour in the training tiles; under the mosaic "
               "split {mosaic:,} do.", random=random_touch, mosaic=mosaic_touch)]
