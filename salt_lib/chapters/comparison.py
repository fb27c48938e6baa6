"""Chapter 6, the U-Net beside the ResUNet: the comparison table, scores per coverage class, the
paired difference, the failure cases, the thesis's full-size networks trained elsewhere (read
from their result folders), and the chapter's findings."""

from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from salt_lib.evaluate import Evaluation, bootstrap_ci, ids_digest
from salt_lib.report.sentences import HIGHER, LOWER, NOT_DISTINGUISHABLE, compare_sentence, verdict, with_interval
from salt_lib.report.style import FULL_WIDTH, HALF_WIDTH, NEUTRAL_COLOUR, network_colour
from salt_lib.report.words import NETWORK_NAMES, compared_arms, tr
from salt_lib.result_folders import Result
from salt_lib.study import epoch_factor


def training_images_per_second(record: dict, history: pd.DataFrame, train_tiles: int) -> float:
    """Training throughput (tiles per second): the median over epochs of the history's
    ``images_per_second``; without a history, epochs x tiles / wall seconds (which also counts
    the per-epoch validation, so it is a little lower)."""
    if len(history) and "images_per_second" in history:
        return float(history["images_per_second"].median())
    tiles_per_epoch = train_tiles * epoch_factor(record.get("training", {}).get("augment", "none"))
    seconds = record.get("wall_seconds") or np.nan
    return float((record.get("epochs_trained") or 0) * tiles_per_epoch / seconds)


def comparison_table(results: dict[str, Evaluation], train_tiles: int, n_resamples: int = 2000) -> pd.DataFrame:
    """Chapter 6's table: one row per model with its size, training cost and test scores, and the
    95% bootstrap interval of its test ``tgs_score`` (``tgs_score_ci_low`` / ``_high``)."""
    rows = []
    for name, result in results.items():
        record = result.record
        interval = bootstrap_ci(result.per_tile["tgs_score"], n_resamples)
        rows.append({"model": name, "arch": record.get("arch"), "parameters": record.get("parameters"),
                     "training_minutes": (record.get("wall_seconds") or np.nan) / 60,
                     "train_images_per_s": training_images_per_second(record, result.history, train_tiles),
                     **result.scores, "tgs_score_ci_low": interval["low"], "tgs_score_ci_high": interval["high"],
                     "threshold": record.get("threshold"), "min_size": record.get("min_size")})
    return pd.DataFrame(rows)


def check_comparison(bin_table: pd.DataFrame, tiles: int, paired: dict) -> pd.DataFrame:
    """Sanity checks of chapter 6: the coverage classes hold every test tile once; the paired
    interval contains the observed difference and lies within [-1, 1]."""
    checks = {
        "coverage classes hold every test tile": int(bin_table["tiles"].sum()) == tiles,
        "paired interval contains the mean difference": paired["low"] <= paired["mean_difference"] <= paired["high"],
        "paired interval inside [-1, 1]": -1 <= paired["low"] <= paired["high"] <= 1,
        "paired bootstrap used every test tile": paired["tiles"] == tiles,
    }
    return pd.DataFrame({"check": list(checks), "passed": [bool(v) for v in checks.values()]})


FAILURE_KINDS = ("missed salt", "false alarm", "wrong outline", "models disagree")


OUTLINE_MIN_COVERAGE = 0.1  # a "wrong outline" is of a body this large (share of the tile), not a sliver


def failure_cases(scores: dict[str, np.ndarray], truths: np.ndarray, predictions: dict[str, np.ndarray],
                  n: int = 4) -> list[tuple[int, str]]:
    """``n`` test tiles that show how the models fail, as ``(index, kind)``: one tile of each kind of
    ``FAILURE_KINDS`` that occurs, then the lowest mean scores ("low score").

    * "missed salt": labelled salt that no model finds (every prediction empty); the largest such salt.
    * "false alarm": an empty tile on which every model predicts salt; the most salt predicted.
    * "wrong outline": a salt body of at least ``OUTLINE_MIN_COVERAGE`` of the tile, found by
      every model but outlined wrongly; the lowest mean IoU.
    * "models disagree": the largest spread of the models' scores (one right, one wrong).

    Ties go to the lower mean score. ``scores`` and ``predictions`` map a model name to its per-tile
    scores (N,) and binary masks (N, H, W); ``truths`` (N, H, W) are the labelled masks.
    """
    names = list(scores)
    score = np.array([np.asarray(scores[name], dtype=float) for name in names])  # (models, N)
    mean_score = score.mean(axis=0)
    truth_area = np.asarray(truths).reshape(len(truths), -1).sum(axis=1)
    areas = np.array([np.asarray(predictions[name]).reshape(len(truths), -1).sum(axis=1) for name in names])
    masks = [np.asarray(predictions[name]).reshape(len(truths), -1).astype(bool) for name in names]
    flat_truth = np.asarray(truths).reshape(len(truths), -1).astype(bool)
    iou = np.mean([(m & flat_truth).sum(axis=1) / np.maximum((m | flat_truth).sum(axis=1), 1) for m in masks], axis=0)
    candidates = {
        "missed salt": (truth_area > 0) & (areas.max(axis=0) == 0), "false alarm": (truth_area == 0) & (areas.min(axis=0) > 0),
        "wrong outline": (truth_area >= OUTLINE_MIN_COVERAGE * flat_truth.shape[1]) & (areas.min(axis=0) > 0) & (mean_score < 1),
        "models disagree": (score.max(axis=0) - score.min(axis=0)) > 0,
    }
    badness = {"missed salt": -truth_area, "false alarm": -areas.mean(axis=0), "wrong outline": iou,
               "models disagree": -(score.max(axis=0) - score.min(axis=0))}
    chosen: list[tuple[int, str]] = []
    for kind in FAILURE_KINDS:
        pool = [i for i in np.lexsort((mean_score, badness[kind])) if candidates[kind][i] and i not in {c for c, _ in chosen}]
        if pool and len(chosen) < n:
            chosen.append((int(pool[0]), kind))
    for i in np.lexsort((iou, mean_score)):
        if len(chosen) >= n:
            break
        if int(i) not in {c for c, _ in chosen}:
            chosen.append((int(i), "low score"))
    return chosen


def result_runs_table(runs: dict[str, Result], lite: dict[str, Evaluation], test_ids, n_resamples: int = 2000) -> pd.DataFrame:
    """One row per GPU-trained run and per lite model (``lite``: chapter 6's evaluations of the
    same test tiles): parameters, epochs trained of the budget, where and how fast it trained,
    validation and test ``tgs_score`` (test with its 95 % bootstrap interval over tiles).
    A run's per-tile scores must be for these test tiles in this order (checked by digest)."""
    digest = ids_digest(test_ids)
    rows = []
    for name, run in runs.items():
        record = run.record
        if record["tiles_order"]["test"]["ids_sha1"] != digest:
            raise ValueError(f"{name}: its test scores are for other tiles than this split's test tiles")
        scores = run.tiles.query("split == 'test'")["tgs_score"].to_numpy()
        interval = bootstrap_ci(scores, n_resamples)
        rows.append({"model": f"{record['arch']} thesis", "parameters": record["parameters"],
                     "epochs": tr("{trained} of {budget} (time cap)" if record.get("cut_by_time") else "{trained} of {budget}",
                                  trained=record["epochs_trained"], budget=record["recipe"]["epochs"]),
                     "best_epoch": record["best_epoch"], "trained_on": f"{record['device_kind']}, {record['recipe']['precision']}",
                     "train_images_per_s": record["median_train_images_per_second"],
                     "val_tgs_score": record["val"]["tgs_score_min_size"], "test_tgs_score": interval["mean"],
                     "test_ci_low": interval["low"], "test_ci_high": interval["high"]})
    for name, result in lite.items():
        record = result.record
        interval = bootstrap_ci(result.per_tile["tgs_score"], n_resamples)
        val = record.get("val", {})
        rows.append({"model": f"{name} ({record.get('preset', 'lite')})", "parameters": record.get("parameters"),
                     "epochs": str(record.get("epochs_trained")), "best_epoch": record.get("best_epoch"),
                     "trained_on": f"CPU, 2 cores, {record.get('precision', 'float32')}", "train_images_per_s": training_images_per_second(record, result.history, 0),
                     "val_tgs_score": val.get("tgs_score_min_size", val.get("tgs_score")), "test_tgs_score": interval["mean"],
                     "test_ci_low": interval["low"], "test_ci_high": interval["high"]})
    return pd.DataFrame(rows)


def comparison_findings(paired: pd.DataFrame, bins: pd.DataFrame, models) -> list[str]:
    """Chapter 6's findings from its paired bootstrap table (one row: ``difference`` names it
    ``challenger - baseline``, with ``mean_difference``, ``ci_low``, ``ci_high``) and its coverage
    bins (one column of mean scores per model)."""
    row = paired.iloc[0]
    challenger, baseline = compared_arms(row["difference"])
    sentences = [tr("{comparison} The challenger is ahead in {share:.0%} of the resamples; one training run each.",
                    comparison=compare_sentence(challenger, baseline, row["mean_difference"], row["ci_low"], row["ci_high"]),
                    share=row["share_resamples_positive"])]
    counted = bins[bins["tiles"] > 0]
    for model in models:
        best, worst = counted.loc[counted[model].idxmax()], counted.loc[counted[model].idxmin()]
        sentences.append(tr("{model} does best on {best} tiles ({best_score:.3f}, {best_tiles} tiles) and "
                            "worst on {worst} tiles ({worst_score:.3f}, {worst_tiles} tiles).",
                            model=model, best=tr(best["coverage"]), best_score=best[model], best_tiles=best["tiles"],
                            worst=tr(worst["coverage"]), worst_score=worst[model], worst_tiles=worst["tiles"]))
    return sentences


def network_findings(table: pd.DataFrame) -> list[str]:
    """One sentence per network of ``result_runs_table`` (the source thesis's full-size
    networks beside the lite ones): its size, epochs and test score with its interval."""
    return [tr("{model}: {millions:.1f} M parameters, {epochs} epochs (kept {best_epoch}), test tgs_score {interval}.",
               model=row.model, millions=row.parameters / 1e6, epochs=row.epochs, best_epoch=row.best_epoch,
               interval=with_interval(row.test_tgs_score, row.test_ci_low, row.test_ci_high))
            for row in table.itertuples()]


def plot_coverage_bins(table: pd.DataFrame, models) -> plt.Figure:
    """Mean test ``tgs_score`` per coverage class for each model (``evaluate.coverage_bin_table``);
    each tick names the class and its number of tiles. Columns ``<model>_ci_low`` and
    ``<model>_ci_high``, where a table has them, are drawn as 95 % error bars."""
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.6), layout="constrained")
    x = np.arange(len(table))
    width = 0.8 / max(1, len(models))
    for k, name in enumerate(models):
        position = x + (k - (len(models) - 1) / 2) * width
        error = None
        if f"{name}_ci_low" in table and f"{name}_ci_high" in table:
            error = [table[name] - table[f"{name}_ci_low"], table[f"{name}_ci_high"] - table[name]]
        ax.bar(position, table[name], width, label=name, color=network_colour(name), yerr=error, capsize=2,
               error_kw={"lw": 0.8, "ecolor": "black"})
    if "coverage_class" in table:  # "0-10" under the tick reads better than "(0, 10] %"
        classes = [tr("empty") if k == 0 else f"{10 * k - 10}–{10 * k}" for k in table["coverage_class"]]
    else:
        classes = [tr(value) for value in table["coverage"]]
    ax.set_xticks(x, [f"{name}\n(n={tiles:,})" for name, tiles in zip(classes, table["tiles"])], fontsize=7)
    ax.set_xlim(-0.5, len(table) - 0.5)
    ax.set(xlabel=tr("salt coverage of the tile (%); n: test tiles in the class"), ylabel=tr("mean test TGS score"), ylim=(0, 1.05))
    handles, labels = ax.get_legend_handles_labels()
    if error is not None:
        handles.append(Line2D([], [], color="black", marker="|", ms=8, ls="none", lw=0.8))
        labels.append(tr("95 % bootstrap interval over the class's tiles"))
    fig.legend(handles, labels, frameon=False, ncol=len(handles), loc="outside upper center")
    return fig


def plot_paired_difference(resampled_means, result: dict, label: str) -> plt.Figure:
    """Histogram of the bootstrap means of a per-tile score difference, with its mean, its 95 %
    interval (``evaluate.paired_bootstrap``) and zero marked, each named in the legend."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH * 1.4, 2.7), layout="constrained")
    ax.hist(resampled_means, bins=40, color="0.7")
    ax.axvline(0, color="black", lw=0.8, ls=":", label=tr("zero: no difference"))
    ax.axvline(result["mean_difference"], color="black", lw=1.2, label=tr("mean difference"))
    for k, bound in enumerate((result["low"], result["high"])):
        ax.axvline(bound, color="black", ls="--", lw=1, label=tr("95 % interval bounds") if k == 0 else None)
    ax.set(xlabel=tr("{label} (tgs_score)", label=label), ylabel=tr("bootstrap resamples"))
    fig.legend(frameon=False, loc="outside lower center", ncol=3, fontsize=7)
    return fig


def plot_result_runs(runs: dict[str, Result]) -> plt.Figure:
    """Training loss and validation ``tgs_score`` (no TTA, threshold tuned each epoch) per epoch of
    runs read by ``salt_lib.result_folders.read_results``; each run's kept (best) epoch is circled."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4), layout="constrained")
    for name, run in runs.items():
        history, record = run.history, run.record
        colour = network_colour(record["arch"])
        label = tr("{arch} thesis ({millions:.1f} M)", arch=NETWORK_NAMES.get(record["arch"], record["arch"]), millions=record["parameters"] / 1e6)
        left.plot(history["epoch"], history["loss"], color=colour, lw=1, label=label)
        right.plot(history["epoch"], history["val_tgs_score"], color=colour, lw=1, label=label)
        best = history.loc[history["epoch"] == record["best_epoch"]]
        right.scatter(best["epoch"], best["val_tgs_score"], s=40, facecolors="none", edgecolors=colour, zorder=3)
    left.set_yscale("log")
    left.set_ylabel(tr("training loss (BCE)"))
    right.set_ylabel(tr("validation tgs_score"))
    for ax in (left, right):
        ax.set_xlabel(tr("epoch"))
    # Below the panels, off the curves: the runs, then what the circles mean.
    handles = left.get_legend_handles_labels()[0] + [
        Line2D([], [], marker="o", mfc="none", mec=NEUTRAL_COLOUR, ls="none", ms=7, label=tr("circle: kept epoch"))]
    fig.legend(handles=handles, frameon=False, loc="outside lower center", ncol=len(handles), fontsize="small")
    return fig


def scores_by_id(runs, part: str) -> pd.DataFrame:
    """The per-tile ``tgs_score`` of ``runs`` on ``part`` ('val' or 'test'): one column per run,
    indexed by tile id."""
    return pd.concat([run.tiles[run.tiles["split"] == part].set_index("id")["tgs_score"] for run in runs], axis=1)


def neighbour_gap_table(seed_runs: dict[str, Result], split: pd.DataFrame, pairs: pd.DataFrame, mosaics: pd.Series,
                        n_resamples: int = 2000) -> pd.DataFrame:
    """What the neighbours across the random split are worth, without training anything: for each
    network of the seed study, the test score (over its seeds and tiles) of test tiles with a
    neighbour among the training tiles against those without (``mosaic.neighbour_gap``: the
    interval resamples seeds, then whole mosaics), and what that gap adds to the whole test mean
    (``optimism``: the difference times the share of test tiles with a neighbour). ``split``:
    the runs' split (id, part); ``pairs``: ``mosaic.neighbour_pairs`` of the tiles; ``mosaics``:
    their ``mosaic.mosaic_labels``."""
    from salt_lib import mosaic
    from salt_lib.report.words import network_name

    flags = mosaic.has_neighbour_in(split, pairs)
    rows = []
    for arch in dict.fromkeys(run.record["arch"] for run in seed_runs.values()):
        runs = [run for run in seed_runs.values() if run.record["arch"] == arch]
        scores = scores_by_id(runs, "test")
        gap = mosaic.neighbour_gap(scores, flags, mosaics, n_resamples)
        share = gap["tiles_with"] / (gap["tiles_with"] + gap["tiles_without"])
        rows.append({"model": network_name(arch), "seeds": len(runs), "tiles_with_neighbour": gap["tiles_with"],
                     "score_with_neighbour": gap["with_neighbour"], "tiles_without": gap["tiles_without"],
                     "score_without": gap["without_neighbour"], "difference": gap["difference"],
                     "difference_low": gap["difference_low"], "difference_high": gap["difference_high"],
                     "optimism": share * gap["difference"], "optimism_low": share * gap["difference_low"],
                     "optimism_high": share * gap["difference_high"]})
    return pd.DataFrame(rows)


def neighbour_findings(table: pd.DataFrame) -> list[str]:
    """Sentences from ``neighbour_gap_table``: the gap with its interval and a word chosen from it,
    and the random split's optimism for the whole test mean."""
    sentences = []
    for row in table.itertuples():
        sentences.append(tr(
            "{model}: the {tiles_with} test tiles with a training neighbour score {difference} against the "
            "{tiles_without} without one ({verdict}); that makes the random split's test mean optimistic by {optimism}.",
            model=row.model, tiles_with=row.tiles_with_neighbour, tiles_without=row.tiles_without,
            difference=with_interval(row.difference, row.difference_low, row.difference_high, signed=True),
            verdict=tr(verdict(row.difference_low, row.difference_high)),
            optimism=with_interval(row.optimism, row.optimism_low, row.optimism_high, signed=True)))
    return sentences


def runs_on_both_splits(random_runs: dict[str, Result], mosaic_runs: dict[str, Result]) -> dict[str, dict]:
    """For each network trained on both splits, its runs on each: ``{arch: {"random": runs,
    "mosaic": runs}}``. A ValueError if a network's runs differ in more than the seed and the split
    (``study.differences_besides``): then a gap would not be the split's alone."""
    from salt_lib.study import differences_besides

    both = {}
    arches = [arch for arch in dict.fromkeys(run.record["arch"] for run in random_runs.values())
              if any(run.record["arch"] == arch for run in mosaic_runs.values())]
    for arch in arches:
        sides = {name: {key: run for key, run in runs.items() if run.record["arch"] == arch}
                 for name, runs in (("random", random_runs), ("mosaic", mosaic_runs))}
        records = {f"{name} {key}": run.record for name, runs in sides.items() for key, run in runs.items()}
        differences = {key: values for key, values in differences_besides(records, None).items() if key != "data.split_hash"}
        if differences:
            raise ValueError(f"{arch}: the runs on the two splits differ in more than the seed and the split: {sorted(differences)}")
        both[arch] = sides
    return both


def split_optimism_table(random_runs: dict[str, Result], mosaic_runs: dict[str, Result], mosaics: pd.Series,
                         n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """What the random split's neighbours are worth, with training: for each network trained on
    both splits, its test score (over seeds and tiles) on the random split's test tiles and on the
    mosaic split's (no mosaic across parts, chapter 2), and ``optimism`` = random - mosaic.

    The two test sets are different tiles, so each side is drawn on its own: seeds, then whole
    mosaics (``stats.two_level_means``, ``mosaics``: tile id -> mosaic), and the interval is that
    of the difference of the draws. A ValueError if a network's runs differ in more than the seed
    and the split (``study.differences_besides``): then the gap would not be the split's alone."""
    from salt_lib.report.words import network_name
    from salt_lib.stats import two_level_means
    from salt_lib.study import check_same_tiles, tile_clusters, tile_scores

    tail = 2.5
    rows = []
    for k, (arch, sides) in enumerate(runs_on_both_splits(random_runs, mosaic_runs).items()):
        row, draws = {"model": network_name(arch)}, {}
        for j, (name, runs) in enumerate(sides.items()):
            check_same_tiles(list(runs.values()), "test")
            scores = np.array([tile_scores(run, "test") for run in runs.values()])
            cluster = tile_clusters(next(iter(runs.values())), "test", mosaics)
            draws[name] = two_level_means(scores, n_resamples, seed + 2 * k + j, cluster=cluster)
            low, high = np.percentile(draws[name], [tail, 100 - tail])
            row |= {f"seeds_{name}": len(runs), f"tiles_{name}": scores.shape[1],
                    f"test_{name}": float(scores.mean()), f"test_{name}_low": float(low), f"test_{name}_high": float(high)}
        low, high = np.percentile(draws["random"] - draws["mosaic"], [tail, 100 - tail])
        rows.append(row | {"optimism": row["test_random"] - row["test_mosaic"], "optimism_low": float(low), "optimism_high": float(high)})
    return pd.DataFrame(rows)


def split_optimism_findings(table: pd.DataFrame) -> list[str]:
    """Sentences from ``split_optimism_table``: each network's test score on the two splits and
    the random split's optimism with its interval and a word chosen from it."""
    words = {HIGHER: "the interval lies above 0", LOWER: "the interval lies below 0",
             NOT_DISTINGUISHABLE: "not distinguishable from 0"}
    return [tr("{model} trained on the mosaic split scores {mosaic} on its test tiles ({seeds_mosaic} seeds) against {random} "
               "on the random split ({seeds_random} seeds): random minus mosaic {optimism} ({verdict}).",
               model=row.model, mosaic=with_interval(row.test_mosaic, row.test_mosaic_low, row.test_mosaic_high),
               seeds_mosaic=row.seeds_mosaic, random=with_interval(row.test_random, row.test_random_low, row.test_random_high),
               seeds_random=row.seeds_random, optimism=with_interval(row.optimism, row.optimism_low, row.optimism_high, signed=True),
               verdict=tr(words[verdict(row.optimism_low, row.optimism_high)]))
            for row in table.itertuples()]


def same_tiles_table(random_runs: dict[str, Result], mosaic_runs: dict[str, Result], mosaics: pd.Series,
                     n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The two splits' models on the same tiles: for each network trained on both splits and for
    validation and test, the tiles both splits put in that part (no model of either trained on
    them), each side's score there (over its seeds), and random minus mosaic, with an interval
    that draws each side's seeds on its own and then whole mosaics, the same for both
    (``stats.two_level_gap``). Where the two models score alike on these tiles, a gap between
    the two splits' test means is which tiles each test set drew, not what the models learned.
    A ValueError as ``runs_on_both_splits`` says."""
    from salt_lib.report.words import network_name
    from salt_lib.stats import two_level_gap

    rows = []
    for k, (arch, both) in enumerate(runs_on_both_splits(random_runs, mosaic_runs).items()):
        for j, part in enumerate(("val", "test")):
            sides = [scores_by_id(runs.values(), part) for runs in both.values()]
            common = sides[0].index.intersection(sides[1].index)
            random_scores, mosaic_scores = (side.loc[common].to_numpy().T for side in sides)  # (seeds, tiles)
            gap = two_level_gap(random_scores, mosaic_scores, n_resamples, seed=seed + 2 * k + j,
                                cluster=mosaics.reindex(common.astype(str)).to_numpy())
            rows.append({"model": network_name(arch), "part": part, "tiles": len(common),
                         "seeds_random": len(random_scores), "seeds_mosaic": len(mosaic_scores),
                         "score_random": float(random_scores.mean()), "score_mosaic": float(mosaic_scores.mean()),
                         "difference": gap["difference"], "difference_low": gap["low"], "difference_high": gap["high"],
                         "p_value": gap["p_value"]})
    return pd.DataFrame(rows)


def same_tiles_findings(table: pd.DataFrame, split_optimism: pd.DataFrame) -> list[str]:
    """Sentences from ``same_tiles_table``: on the test tiles both splits share, each network's
    score from either split's models and their difference, set against the whole test means'
    gap (``split_optimism_table``)."""
    gaps = dict(zip(split_optimism["model"], split_optimism["optimism"]))
    sentences = []
    for row in table[table["part"] == "test"].itertuples():
        clause = tr("{model} on the {tiles} test tiles that both splits hold out for test: trained on the random split "
                    "{score_random:.3f}, on the mosaic split {score_mosaic:.3f}, random minus mosaic {difference} ({verdict})",
                    model=row.model, tiles=row.tiles, score_random=row.score_random, score_mosaic=row.score_mosaic,
                    difference=with_interval(row.difference, row.difference_low, row.difference_high, signed=True),
                    verdict=tr(verdict(row.difference_low, row.difference_high)))
        if row.model not in gaps:
            sentences.append(tr("{clause}.", clause=clause))
            continue
        inside = row.difference_low <= gaps[row.model] <= row.difference_high
        sentences.append(tr(
            "{clause}; the two splits' whole test means differ by {gap:+.3f}, inside this interval: these tiles are too few "
            "to tell the models' own difference from which tiles each test set drew." if inside else
            "{clause}; the two splits' whole test means differ by {gap:+.3f}, outside this interval: on the same tiles the "
            "models differ by less, so most of the gap between the splits' test means is which tiles each test set drew.",
            clause=clause, gap=gaps[row.model]))
    for row in table[table["part"] == "val"].itertuples():
        sentences.append(tr("{model} on the {tiles} validation tiles that both splits hold out for validation: "
                            "{score_random:.3f} from the random split's models, {score_mosaic:.3f} from the mosaic split's, "
                            "random minus mosaic {difference}.",
                            model=row.model, tiles=row.tiles, score_random=row.score_random, score_mosaic=row.score_mosaic,
                            difference=with_interval(row.difference, row.difference_low, row.difference_high, signed=True)))
    return sentences


def tuning_table(tuning: dict, clusters: pd.Series | None = None, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """What each network's recipe was tuned on: one row per (network, choice) of ``tuning``
    (``{(arch, choice): (study, results)}``, e.g. from ``study.TUNING_STUDIES``; ``results`` the
    study's records, or None where it has not run). Each row names the study, the recipe's arm
    (``study.recipe_arm``) and the alternatives (those compared, once any is), and, over the alternatives with seeds paired
    with the recipe's, on validation (``study.pairwise_table``, seeds then ``clusters``, Holm's
    correction within the study): the paired seeds, the alternative that came closest to (or
    furthest above) the recipe and its difference, the alternatives not yet compared (``pending``),
    and the ``outcome``: ``kept`` (no alternative higher by ``choices.beats_recipe``), ``kept so far``
    (none of those compared is higher, but some alternatives have not run), ``beaten`` (the closest is
    higher) or ``not run``."""
    from salt_lib.chapters.choices import beats_recipe, closest_alternative
    from salt_lib.report.words import network_name
    from salt_lib.study import arm_names, pairwise_table, recipe_arm

    rows = []
    for (arch, choice), (study, results) in tuning.items():
        recipe = recipe_arm(study)
        others = [arm.name for arm in study.arms if arm.name != recipe]
        row = {"model": network_name(arch), "choice": choice, "study": study.name, "recipe": recipe,
               "alternatives": ", ".join(others), "seeds": 0, "closest": "", "difference": np.nan, "difference_low": np.nan,
               "difference_high": np.nan, "p_holm": np.nan, "pending": ", ".join(others), "outcome": "not run"}
        pairs = pairwise_table(results, reference=recipe, split="val", n_resamples=n_resamples, seed=seed,
                               clusters=clusters) if results and recipe in arm_names(results) else None
        if pairs is not None and len(pairs):
            pairs = pairs[pairs["seeds_paired"] > 0]
        if pairs is not None and len(pairs):
            closest, beaten = closest_alternative(pairs), len(beats_recipe(pairs)) > 0
            compared = [compared_arms(label)[0] for label in pairs["comparison"]]
            pending = [name for name in others if name not in compared]
            row |= {"alternatives": ", ".join(compared), "pending": ", ".join(pending),
                    "seeds": int(pairs["seeds_paired"].min()), "closest": compared_arms(closest.comparison)[0],
                    "difference": closest.difference_seeds_tiles, "difference_low": closest.difference_seeds_tiles_low,
                    "difference_high": closest.difference_seeds_tiles_high, "p_holm": closest.p_holm,
                    "outcome": "beaten" if beaten else "kept so far" if pending else "kept"}
        rows.append(row)
    return pd.DataFrame(rows)


def tuning_findings(table: pd.DataFrame) -> list[str]:
    """One sentence per network from ``tuning_table``: which of its recipe's choices were tested
    on validation for it, against what and with what outcome, and which were not (and the study
    that would test them)."""
    sentences = []
    for model, rows in table.groupby("model", sort=False):
        parts = []
        for row in rows[rows["outcome"] != "not run"].itertuples():
            interval = with_interval(row.difference, row.difference_low, row.difference_high, signed=True)
            tested = tr("its {choice} was tested on validation, the recipe's {recipe} against {alternatives} ({study}, "
                        "{seeds} paired seed)" if row.seeds == 1 else
                        "its {choice} was tested on validation, the recipe's {recipe} against {alternatives} ({study}, "
                        "{seeds} paired seeds)",
                        choice=tr(row.choice), recipe=row.recipe, alternatives=row.alternatives, study=row.study, seeds=row.seeds)
            if row.outcome == "beaten":
                parts.append(tr("{tested}: {closest} scores higher ({interval}, Holm p {p_holm:.2f})",
                                tested=tested, closest=row.closest, interval=interval, p_holm=row.p_holm))
            else:
                parts.append(tr("{tested}: no alternative scores higher (the closest, {closest}: {interval}, Holm p {p_holm:.2f})",
                                tested=tested, closest=row.closest, interval=interval, p_holm=row.p_holm))
            if row.pending:
                several = "," in row.pending
                if row.outcome == "beaten":
                    template = "{pending} have not run yet" if several else "{pending} has not run yet"
                else:
                    template = ("{pending} have not run yet, so {recipe} is kept so far" if several else
                                "{pending} has not run yet, so {recipe} is kept so far")
                parts.append(tr(template, pending=row.pending, recipe=row.recipe))
        missing = rows[rows["outcome"] == "not run"]
        if len(missing):
            parts.append(tr("its {choices} were not tested for it ({commands} would)" if len(missing) > 1 else
                            "its {choices} was not tested for it ({commands} would)",
                            choices=tr(" and ").join(tr(choice) for choice in missing["choice"]),
                            commands=functools.reduce(lambda a, b: tr("{a} and {b}", a=a, b=b),
                                                      (f"python -m salt_lib study {name}" for name in missing["study"]))))
        sentences.append(tr("{model}: {parts}.", model=model, parts=tr("; ").join(parts)))
    return sentences
