"""Neighbouring tiles and the mosaics they form, rebuilt from the tiles' edges; a split by mosaic.

The TGS tiles were cut from a few dozen large seismic sections, so many tiles have neighbours in
the set: a tile's right edge continues into another tile's left edge, its bottom into another's
top. A random split puts neighbours into train and test, and a model may then score on a test
tile partly by having seen the salt body continue in its training neighbour. This module finds
the neighbours as the public TGS mosaic kernels did:

1. For every tile, each edge is extrapolated one pixel outwards (``2 * edge - next row/column in``)
   and z-scored (the tiles' brightness and contrast differ), so tile ``a``'s extrapolated right
   edge predicts tile ``b``'s left column when ``b`` lies right of ``a``, and vice versa.
2. ``edge_distances``: the mean squared difference of both predictions for every ordered pair.
3. ``neighbour_pairs``: a pair is kept when it is the best match both ways (``b`` is ``a``'s best
   right neighbour and ``a`` is ``b``'s best left one), its distance is small (``max_distance``) and
   clearly below the runner-up's (``ratio``). Flat edges (blank tiles) match everything and are
   never paired.
4. ``mosaic_groups``: tiles joined by kept pairs form a mosaic (connected components); a tile with
   no neighbour is a mosaic of one.

``grouped_split`` then cuts 6:2:2 with no mosaic across parts, stratified by coverage as far as
groups allow, and ``has_neighbour_in`` says which tiles of one part touch a tile of another.
``synthetic_section`` and ``cut_section`` make a large section and its shuffled tiles, where the
true neighbours are known: the tests measure precision and recall on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salt_lib.tile import TILE
from salt_lib.split import RATIOS, SPLITS, coverage_class, deal_groups

DIRECTIONS = ("right", "below")  # b is right of a; b is below a
MAX_DISTANCE = 0.4  # mean squared difference of z-scored edges: chosen on synthetic sections
RATIO = 0.6  # the best match must be this much closer than the runner-up
FLAT = 1e-3  # an edge whose standard deviation (grey levels / 255) is below this is flat


def _zscore(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows z-scored, and which rows are not flat."""
    mean = vectors.mean(axis=1, keepdims=True)
    std = vectors.std(axis=1, keepdims=True)
    return (vectors - mean) / np.maximum(std, FLAT), std[:, 0] > FLAT


def edges(images: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For ``direction`` "right" (or "below"): each tile's last column (row), its extrapolation one
    pixel beyond, the first column (row) and the extrapolation before it, z-scored as (N, 101)
    float arrays, and a bool (N,) mask of tiles whose edges on both sides are not flat."""
    tiles = np.asarray(images, dtype=np.float32) / 255.0
    if direction == "below":
        tiles = tiles.transpose(0, 2, 1)  # rows become columns: "below" is "right" of the transpose
    elif direction != "right":
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    last, first = tiles[:, :, -1], tiles[:, :, 0]
    beyond_last = 2 * last - tiles[:, :, -2]
    before_first = 2 * first - tiles[:, :, 1]
    outputs, usable = [], np.ones(len(tiles), bool)
    for vectors in (last, beyond_last, first, before_first):
        scored, not_flat = _zscore(vectors)
        outputs.append(scored)
        usable &= not_flat
    return (*outputs, usable)


def _mean_squared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) mean squared differences of the rows of a and b."""
    squared = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.maximum(squared, 0) / a.shape[1]


def edge_distances(images: np.ndarray, direction: str) -> np.ndarray:
    """(N, N) float: how badly tile b continues tile a in ``direction`` (inf for a == b or a flat
    edge): the mean of a's extrapolated edge against b's first line and b's extrapolated edge
    against a's last line."""
    last, beyond_last, first, before_first, usable = edges(images, direction)
    distance = 0.5 * (_mean_squared(beyond_last, first) + _mean_squared(last, before_first))
    distance[~usable, :] = np.inf
    distance[:, ~usable] = np.inf
    np.fill_diagonal(distance, np.inf)
    return distance


def neighbour_pairs(images: np.ndarray, ids, max_distance: float = MAX_DISTANCE, ratio: float = RATIO) -> pd.DataFrame:
    """The neighbour pairs found among uint8 tiles ``images`` (N, 101, 101): a DataFrame with
    columns ``a``, ``b`` (ids: b lies right of or below a), ``direction``, ``distance`` and
    ``runner_up`` (the next best distance either way)."""
    ids = np.asarray(ids).astype(str)
    if len(ids) != len(images):
        raise ValueError(f"{len(ids)} ids for {len(images)} tiles")
    rows = []
    for direction in DIRECTIONS:
        distance = edge_distances(images, direction)
        if len(ids) < 3:
            continue
        best_b = distance.argmin(axis=1)  # for each a, the best tile to its right
        best_a = distance.argmin(axis=0)  # for each b, the best tile to its left
        for a, b in enumerate(best_b):
            d = distance[a, b]
            if not np.isfinite(d) or best_a[b] != a or d > max_distance:
                continue
            runner_up = min(np.partition(distance[a], 1)[1], np.partition(distance[:, b], 1)[1])
            if d < ratio * runner_up:
                rows.append({"a": ids[a], "b": ids[b], "direction": direction, "distance": float(d),
                             "runner_up": float(runner_up)})
    return pd.DataFrame(rows, columns=["a", "b", "direction", "distance", "runner_up"])


def mosaic_groups(ids, pairs: pd.DataFrame) -> np.ndarray:
    """The mosaic of each tile (N,) int, numbered from 0 by first appearance in ``ids``: tiles
    joined by ``pairs`` (directly or through others) share a number."""
    ids = np.asarray(ids).astype(str)
    index = {tile_id: i for i, tile_id in enumerate(ids)}
    parent = np.arange(len(ids))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(pairs["a"], pairs["b"]):
        ra, rb = root(index[a]), root(index[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(len(ids))])
    _, numbered = np.unique(roots, return_inverse=True)
    order = {}  # renumber by first appearance, so the numbers do not depend on union order
    return np.array([order.setdefault(group, len(order)) for group in numbered])


def grouped_split(ids, coverage, groups, seed: int = 0) -> pd.DataFrame:
    """A 6:2:2 split (columns ``id``, ``split``, ``mosaic``) in which no mosaic spans two parts.

    Mosaics of several tiles go first, largest first, each to the part furthest below its share;
    then the single tiles, coverage class by class (``split.coverage_class``), each class shuffled
    with ``seed`` and dealt so that every part approaches its share of that class and of the whole.
    """
    ids = np.asarray(ids).astype(str)
    groups = np.asarray(groups)
    classes = coverage_class(coverage)
    if not len(ids) == len(groups) == len(classes):
        raise ValueError("ids, coverage and groups must have one entry per tile")
    split = np.asarray(SPLITS)[deal_groups(groups, classes, RATIOS, seed)]
    return pd.DataFrame({"id": ids, "split": split.astype(str), "mosaic": groups})


def has_neighbour_in(split_table: pd.DataFrame, pairs: pd.DataFrame, part: str = "test", other: str = "train") -> pd.Series:
    """For each tile of ``part``: whether one of its neighbours (``pairs``) is in ``other``;
    a bool Series indexed by tile id."""
    where = dict(zip(split_table["id"], split_table["split"]))
    members = split_table.loc[split_table["split"] == part, "id"]
    touching = set()
    for a, b in zip(pairs["a"], pairs["b"]):
        if where.get(a) == part and where.get(b) == other:
            touching.add(a)
        if where.get(b) == part and where.get(a) == other:
            touching.add(b)
    return pd.Series([tile_id in touching for tile_id in members], index=members.to_numpy(), name=f"neighbour_in_{other}")


def recovery_table(seeds=(1, 2, 3), tiles_down: int = 6, tiles_across: int = 9) -> pd.DataFrame:
    """How well ``neighbour_pairs`` recovers the true neighbours of synthetic sections cut into
    shuffled tiles: one row per section (seed) with its tiles, true pairs, pairs found, precision
    and recall."""
    rows = []
    for seed in seeds:
        ids, images, _, truth = cut_section(*synthetic_section(tiles_down, tiles_across, seed=seed), seed=seed)
        found = neighbour_pairs(images, ids)
        precision, recall = precision_recall(found, truth)
        rows.append({"section": seed, "tiles": len(ids), "true_pairs": len(truth), "pairs_found": len(found),
                     "precision": precision, "recall": recall})
    return pd.DataFrame(rows)


def neighbour_summary(ids, pairs: pd.DataFrame, groups, random_split: pd.DataFrame, mosaic_split: pd.DataFrame) -> pd.DataFrame:
    """What the reconstruction finds among real tiles, as (quantity, count) rows: pairs side by
    side and one above the other, tiles in mosaics of two or more, those mosaics, the largest, and
    the test tiles with a neighbour in train under the random and the mosaic split."""
    sizes = pd.Series(np.asarray(groups)).value_counts()
    several = sizes[sizes > 1]
    rows = [("tiles", len(ids)),
            ("pairs side by side", int((pairs["direction"] == "right").sum())),
            ("pairs one above the other", int((pairs["direction"] == "below").sum())),
            ("tiles in mosaics", int(several.sum())),
            ("mosaics of two or more tiles", len(several)),
            ("tiles in the largest mosaic", int(sizes.max()) if len(sizes) else 0),
            ("test tiles with a train neighbour, random split", int(has_neighbour_in(random_split, pairs).sum())),
            ("test tiles with a train neighbour, mosaic split", int(has_neighbour_in(mosaic_split, pairs).sum()))]
    return pd.DataFrame(rows, columns=["quantity", "count"])


def mosaic_labels(tiles, pairs: pd.DataFrame | None = None) -> pd.Series:
    """Each tile's mosaic number (a Series indexed by id) for ``tiles`` (``TGSData``): the
    ``mosaic_groups`` of their ``neighbour_pairs`` (found among their images unless given); what
    the intervals that resample whole mosaics (``neighbour_gap``, ``study.paired_arm_table``) group by."""
    pairs = neighbour_pairs(tiles.images, tiles.ids) if pairs is None else pairs
    return pd.Series(mosaic_groups(tiles.ids, pairs), index=np.asarray(tiles.ids).astype(str), name="mosaic")


def neighbour_gap(scores, flags: pd.Series, mosaics: pd.Series, n_resamples: int = 2000,
                  level: float = 0.95, seed: int = 0) -> dict:
    """How much better tiles with a neighbour in train score than tiles without one.

    ``scores``: each tile's tgs_score (index: id), a Series, or a DataFrame with one column per
    training seed; ``flags``: bool, whether it has a train neighbour (``has_neighbour_in``);
    ``mosaics``: its mosaic number. The interval is ``stats.two_level_means``' on each side:
    seeds, then whole mosaics (neighbouring tiles are not independent). Returns the two means
    (over seeds and tiles), their tile counts, the difference and its interval."""
    from salt_lib.stats import percentile_interval, two_level_means

    table = scores.to_frame() if isinstance(scores, pd.Series) else scores
    flag = flags.reindex(table.index).fillna(False).astype(bool).to_numpy()
    groups = mosaics.reindex(table.index).to_numpy()
    sides = {name: table.to_numpy(float)[chosen].T for name, chosen in (("with", flag), ("without", ~flag))}
    means = {name: float(side.mean()) if side.size else np.nan for name, side in sides.items()}
    if all(side.size for side in sides.values()):
        differences = (two_level_means(sides["with"], n_resamples, seed, cluster=groups[flag])
                       - two_level_means(sides["without"], n_resamples, seed + 1, cluster=groups[~flag]))
        low, high = percentile_interval(differences, level)
    else:
        low = high = np.nan
    return {"with_neighbour": means["with"], "tiles_with": int(flag.sum()),
            "without_neighbour": means["without"], "tiles_without": int((~flag).sum()),
            "difference": means["with"] - means["without"], "difference_low": float(low), "difference_high": float(high)}


# --------------------------------------------------------------------------------------------
# A large synthetic section, cut into tiles whose neighbours are known (for tests and chapter 2)
# --------------------------------------------------------------------------------------------


def synthetic_section(tiles_down: int, tiles_across: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seismic-like section of ``tiles_down`` x ``tiles_across`` tiles: uint8 image and bool salt
    mask, each (tiles_down * 101, tiles_across * 101). Folded layers (a stratigraphic series read
    at smoothly shifted depths, convolved with a Ricker wavelet) and salt bodies where a smooth
    field is high, weak and chaotic inside."""
    from salt_lib.synthetic import convolve_columns, layer_reflectivity, random_smooth_field

    rng = np.random.default_rng(seed)
    margin = 64  # rows above and below, cut off at the end: the convolution wraps around in depth
    rows = np.arange(-margin, tiles_down * TILE + margin, dtype=float)
    cols = np.arange(tiles_across * TILE, dtype=float)
    trace_length = len(rows) + 400
    trace = layer_reflectivity(rng, 1, trace_length)[0]
    shift = 60 * random_smooth_field(rng, 1, rows, cols, np.array([150.0]))[0] + 0.1 * cols[None, :]
    depth = np.clip(rows[:, None] + margin + 200 + shift, 0, trace_length - 2)
    low = np.floor(depth).astype(int)
    reflectivity = trace[low] * (1 - (depth - low)) + trace[low + 1] * (depth - low)
    salt_field = random_smooth_field(rng, 1, rows, cols, np.array([80.0]))[0]
    salt = salt_field > 0.8
    reflectivity = np.where(salt, 0.15 * rng.standard_normal(reflectivity.shape), reflectivity)
    seismic = convolve_columns(reflectivity[None].astype(np.float32), np.array([0.06]))[0]
    seismic += 0.05 * rng.standard_normal(seismic.shape)
    grey = np.clip(128 + 40 * seismic / seismic.std(), 0, 255).astype(np.uint8)
    return grey[margin:-margin], salt[margin:-margin]


def cut_section(image: np.ndarray, mask: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """Cut a section into 101 x 101 tiles in a shuffled order: ids (``s<row>_<col>`` shuffled
    names ``t0000`` ...), images, masks, and the true neighbour pairs (columns a, b, direction)."""
    down, across = image.shape[0] // TILE, image.shape[1] // TILE
    rng = np.random.default_rng(seed)
    order = rng.permutation(down * across)
    names = {}
    images, masks = [], []
    for position, cell in enumerate(order):
        r, c = divmod(int(cell), across)
        names[(r, c)] = f"t{position:04d}"
        images.append(image[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE])
        masks.append(mask[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE])
    truth = [{"a": names[(r, c)], "b": names[(r, c + 1)], "direction": "right"} for r in range(down) for c in range(across - 1)]
    truth += [{"a": names[(r, c)], "b": names[(r + 1, c)], "direction": "below"} for r in range(down - 1) for c in range(across)]
    ids = np.array([f"t{position:04d}" for position in range(len(order))])
    return ids, np.stack(images), np.stack(masks), pd.DataFrame(truth)


def precision_recall(found: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    """Share of ``found`` pairs that are true, and of true pairs that were found."""
    key = lambda table: set(zip(table["a"], table["b"], table["direction"]))  # noqa: E731
    found_set, true_set = key(found), key(truth)
    hits = len(found_set & true_set)
    return (hits / len(found_set) if found_set else 1.0), (hits / len(true_set) if true_set else 1.0)
