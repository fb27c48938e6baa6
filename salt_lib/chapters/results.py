"""Chapter 7, results: the post-processing ablation on validation (its table, figure and which of
its steps stand out), the three validation scores of a record reconciled, the source thesis's
design beside this workbook's, and the chapter's findings built from its tables.

``postprocessing_table`` runs the four steps of ``POSTPROCESSING_STEPS`` on the validation tiles,
with floating-point noise (a bootstrap bound of -1e-18 for one that is 0) set to 0;
``gain_summary`` says which steps' gains have a 95 % interval that excludes zero.

``source_thesis_table`` puts the source thesis's networks, input, split, augmentation, training,
metric and reported scores beside ours; every number of either side is computed (the thesis
networks' parameters by building the ``thesis`` presets, ours from the models' records and the
data set), except the source thesis's 4,000 tiles and its reported scores, which it alone holds
(``SOURCE_THESIS_TILES``; the scores are a notebook parameter).
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from salt_lib import metrics
from salt_lib.chapters.choices import submission_choice
from salt_lib.data import TGSData
from salt_lib.dataset import Dataset
from salt_lib.evaluate import model_paths, model_record, paired_bootstrap, predictions
from salt_lib.models import PRESETS, parameter_count
from salt_lib.predict import choose_threshold, to_masks
from salt_lib.recipes import THESIS as THESIS_RECIPE
from salt_lib.records import load_record
from salt_lib.report.sentences import HIGHER, LOWER, NOT_DISTINGUISHABLE, compare_sentence, finding, verdict, with_interval
from salt_lib.report.style import FULL_WIDTH, NEUTRAL_COLOUR, network_colour
from salt_lib.report.words import LOSS_NAMES, NETWORK_NAMES, tr
from salt_lib.split import RATIOS, SPLITS


# Chapter 7's post-processing steps, in order: each adds one thing to the one before.
POSTPROCESSING_STEPS = ("no TTA, threshold 0.5", "flip TTA, threshold 0.5", "flip TTA, tuned threshold", "+ tuned min size")


def postprocessing_scores(model_path, val: TGSData, cache_dir=None, n_resamples: int = 2000, seed: int = 0,
                         name: str | None = None) -> pd.DataFrame:
    """The post-processing ablation on the labelled tiles ``val`` (chapter 7): one row per step of
    ``POSTPROCESSING_STEPS``, each adding one thing to the one before:

    1. the network's probabilities (no TTA) cut at 0.5;
    2. averaged with those of the left-right mirrored tile (flip TTA), cut at 0.5;
    3. cut at the threshold of the model's record (``model_record``: chosen on validation);
    4. salt regions under the record's ``min_size`` pixels dropped.

    ``model_path``: one model file, several as one (a list: an ensemble, its threshold and minimum
    size chosen on ``val``), or a dict name -> either, for one block of rows per model (``name``
    labels a single one). Columns: ``model``, ``step``, ``tta``, ``threshold``, ``min_size``,
    ``tgs_score`` (mean over tiles), ``gain`` over the step before with its paired bootstrap 95 %
    interval over tiles (``gain_low``, ``gain_high``), and ``total_gain`` over step 1 with its
    interval (``total_low``, ``total_high``); both NaN in step 1. A model's gains add up to its
    last ``total_gain``. Probabilities come from ``predictions`` (cached: nothing is predicted twice).
    """
    if isinstance(model_path, dict):
        return pd.concat([postprocessing_scores(path, val, cache_dir, n_resamples, seed, model_name)
                          for model_name, path in model_path.items()], ignore_index=True)
    paths = model_paths(model_path)
    record = model_record(paths, val, cache_dir)
    threshold, min_size = record.get("threshold", 0.5), record.get("min_size", 0)
    plain, flipped = predictions(paths, val, cache_dir, tta=False), predictions(paths, val, cache_dir, tta=True)
    settings = [(plain, False, 0.5, 0), (flipped, True, 0.5, 0), (flipped, True, threshold, 0), (flipped, True, threshold, min_size)]
    scores = [metrics.tgs_score_per_tile(val.masks, to_masks(probs, cut, size)) for probs, _, cut, size in settings]
    none = {"mean_difference": np.nan, "low": np.nan, "high": np.nan}  # step 1 has nothing before it
    rows = []
    for k, (step, (_, tta, cut, size)) in enumerate(zip(POSTPROCESSING_STEPS, settings)):
        gain = paired_bootstrap(scores[k], scores[k - 1], n_resamples, seed=seed) if k else none
        total = paired_bootstrap(scores[k], scores[0], n_resamples, seed=seed) if k else none
        rows.append({"model": name or "+".join(path.stem for path in paths), "step": step, "tta": tta, "threshold": cut,
                     "min_size": size, "tgs_score": float(scores[k].mean()),
                     "gain": gain["mean_difference"], "gain_low": gain["low"], "gain_high": gain["high"],
                     "total_gain": total["mean_difference"], "total_low": total["low"], "total_high": total["high"]})
    return pd.DataFrame(rows)


def record_reconciliation(model_paths_by_name: dict, val: TGSData, table: pd.DataFrame, cache_dir=None) -> pd.DataFrame:
    """The validation scores a model's record holds beside the same scores recomputed here, and the
    step of the post-processing ``table`` (``postprocessing_table`` of these models on ``val``)
    that each one is:

    * ``val.tgs_score_no_tta``: the training loop's selection score, the kept epoch's probabilities
      (flip TTA only if the record's training says ``val_tta``) at the threshold tuned on
      validation, with no minimum size: no step of the table (step 1 with step 3's kind of threshold);
    * ``val.tgs_score``: step 3 (flip TTA, tuned threshold);
    * ``val.tgs_score_min_size``: step 4 (+ tuned min size).

    One row per model and recorded score (a score the record lacks, e.g. an ensemble's
    ``tgs_score_no_tta``, is left out): ``model``, ``recorded_as``, ``step`` (or "none"),
    ``recorded``, ``recomputed``, ``difference`` (recomputed - recorded).
    """
    rows = []
    for name, path in model_paths_by_name.items():
        recorded = model_record(path, val, cache_dir).get("val", {})
        steps = table[table["model"] == name].set_index("step")["tgs_score"]
        recomputed = {"tgs_score": steps[POSTPROCESSING_STEPS[2]], "tgs_score_min_size": steps[POSTPROCESSING_STEPS[3]]}
        if "tgs_score_no_tta" in recorded:
            val_tta = load_record(model_paths(path)[0]).get("training", {}).get("val_tta", False)
            recomputed["tgs_score_no_tta"] = choose_threshold(predictions(path, val, cache_dir, val_tta), val.masks)[1]
        for key, step in (("tgs_score_no_tta", "none"), ("tgs_score", POSTPROCESSING_STEPS[2]),
                          ("tgs_score_min_size", POSTPROCESSING_STEPS[3])):
            if recorded.get(key) is not None:
                rows.append({"model": name, "recorded_as": f"val.{key}", "step": step, "recorded": float(recorded[key]),
                             "recomputed": float(recomputed[key]), "difference": float(recomputed[key] - recorded[key])})
    return pd.DataFrame(rows)


def check_postprocessing(table: pd.DataFrame, reconciliation: pd.DataFrame, tolerance: float = 0.005) -> pd.DataFrame:
    """Sanity checks of chapter 7's post-processing table and the records it reconciles: every
    model has the four steps in order; its gains add up to its total gain; every interval
    contains its gain; the records' ``val.tgs_score`` and ``val.tgs_score_min_size`` are steps 3
    and 4 recomputed (within ``tolerance``: predictions on another machine may differ in the last
    bits). One row per check with ``passed``: stable output for notebook tests."""
    by_model = list(table.groupby("model", sort=False))
    later = table[table["step"] != POSTPROCESSING_STEPS[0]]
    tuned = reconciliation[reconciliation["step"] != "none"]
    checks = {
        "every model has the four steps in order": all(list(rows["step"]) == list(POSTPROCESSING_STEPS) for _, rows in by_model),
        "each model's gains add up to its total gain": all(
            abs(rows["gain"].sum() - rows["total_gain"].iloc[-1]) < 1e-9 for _, rows in by_model),
        "every gain interval contains its gain": bool(((later["gain_low"] <= later["gain"]) & (later["gain"] <= later["gain_high"])).all()),
        "every total interval contains its total": bool(
            ((later["total_low"] <= later["total_gain"]) & (later["total_gain"] <= later["total_high"])).all()),
        "records' val.tgs_score and val.tgs_score_min_size are steps 3 and 4": bool(
            len(tuned) and (tuned["difference"].abs() <= tolerance).all()),
    }
    return pd.DataFrame({"check": list(checks), "passed": [bool(v) for v in checks.values()]})


# Kaggle's labelled training tiles, all of which the source thesis split 6:2:2 (the shared copy
# used here holds 3,200 of them).
SOURCE_THESIS_TILES = 4000




NOT_RECORDED = "not available here"


NOISE = 1e-12  # a number this close to 0 is floating-point noise of a sum that is 0 (scores are tenths over tiles)


def without_noise(table: pd.DataFrame, noise: float = NOISE) -> pd.DataFrame:
    """``table`` with every float of magnitude below ``noise`` set to exactly 0 (never -0.0); other
    numbers unchanged, so a gain, its interval and the sums that check them keep their order."""
    floats = table.select_dtypes("float").columns
    return table.assign(**{column: table[column].mask(table[column].abs() < noise, 0.0) for column in floats})


def postprocessing_table(model_paths, val, cache_dir=None, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """``postprocessing_scores`` of ``model_paths`` (name -> model file) on the
    validation tiles ``val``, with its floating-point noise set to 0 (``without_noise``)."""
    return without_noise(postprocessing_scores(model_paths, val, cache_dir, n_resamples, seed))


def _step_numbers(numbers: list[int]) -> str:
    """``[3]`` -> "step 3", ``[2, 3, 4]`` -> "steps 2, 3 and 4"."""
    words = [str(n) for n in numbers]
    return (tr("step {step}", step=words[0]) if len(words) == 1 else
            tr("steps {steps} and {last}", steps=tr(", ").join(words[:-1]), last=words[-1]))


# A step whose gain's interval excludes zero, as ``gain_summary`` names it, for each verdict.
CLEAR_GAINS = {HIGHER: "{model} step {number} ({step}), {gain}, higher than 0",
               LOWER: "{model} step {number} ({step}), {gain}, lower than 0"}


def gain_summary(postprocessing: pd.DataFrame) -> list[str]:
    """Which steps' gains in ``postprocessing`` (``postprocessing_table``) stand out from the
    tile-to-tile noise: the steps whose 95 % interval excludes zero, each with its gain, interval
    and direction, then the others, whose interval contains zero. Steps are numbered as in
    ``POSTPROCESSING_STEPS`` (1 is the network alone, which has no gain)."""
    later = postprocessing[postprocessing["gain"].notna()]
    clear, unclear = [], {}
    for _, row in later.iterrows():
        number = POSTPROCESSING_STEPS.index(row["step"]) + 1
        word = verdict(row["gain_low"], row["gain_high"])
        if word == NOT_DISTINGUISHABLE:
            unclear.setdefault(row["model"], []).append(number)
        else:
            clear.append(tr(CLEAR_GAINS[word], model=row["model"], number=number, step=tr(row["step"]),
                            gain=with_interval(row["gain"], row["gain_low"], row["gain_high"], signed=True)))
    total, others = len(later), sum(len(numbers) for numbers in unclear.values())
    if not clear:
        return [tr("None of the {total} step gains on validation has a 95 % interval that excludes zero: "
                   "this validation set cannot tell any step from doing nothing.", total=total)]
    sentences = [tr("{clear} of the {total} step gains on validation has a 95 % interval that excludes zero: {steps}."
                    if len(clear) == 1 else
                    "{clear} of the {total} step gains on validation have a 95 % interval that excludes zero: {steps}.",
                    clear=len(clear), total=total, steps=tr("; ").join(clear))]
    if unclear:
        which = tr("; ").join(f"{model} {_step_numbers(numbers)}" for model, numbers in unclear.items())
        sentences.append(tr("The other {others} interval contains zero, so this validation set cannot tell those steps "
                            "from doing nothing: {steps}." if others == 1 else
                            "The other {others} intervals contain zero, so this validation set cannot tell those steps "
                            "from doing nothing: {steps}.", others=others, steps=which))
    return sentences


def thesis_parameters() -> dict[str, int]:
    """Parameters of the source thesis's networks (the ``thesis`` presets, built only to be
    counted): ``{"U-Net": 31031685, "ResUNet": 40398597}``."""
    return {NETWORK_NAMES[arch]: parameter_count(arch, "thesis") for arch in PRESETS}


def input_words(config: dict) -> str:
    """How a 101x101 tile reaches the network (``ModelConfig.input_size`` and ``geometry``), in words."""
    side = int(config.get("input_size", 128))
    if config.get("geometry", "pad") == "resize":
        return f"{side}x{side}, bicubic resize"
    return "101x101, native" if side == 101 else f"{side}x{side}, reflect padding"


def source_thesis_table(records: dict[str, dict], dataset: Dataset, scores: pd.DataFrame,
                        source_reported: dict[str, float] | None = None) -> pd.DataFrame:
    """The source thesis's design and results beside this workbook's, one row per aspect
    (columns ``aspect``, ``source thesis``, ``this workbook``): networks and their parameters,
    input, split, augmentation, training, metric, and the test scores.

    ``records``: name -> record of each of our models; ``dataset``: our tiles and split;
    ``scores``: ``salt_lib.evaluate.score_intervals`` of our models on the test tiles (with
    ``tgs_score`` and ``thesis_iou_metric``); ``source_reported``: name -> the test score the
    source thesis reported (its own metric), NOT_RECORDED where empty.
    """
    thesis = PRESETS["unet"]["thesis"]
    counts = dataset.split["split"].value_counts()
    source_counts = [round(SOURCE_THESIS_TILES * ratio) for ratio in RATIOS]
    ratio = ":".join(str(round(10 * r)) for r in RATIOS)
    training = THESIS_RECIPE.training
    reported = "; ".join(f"{name}: {value:.3f}" for name, value in (source_reported or {}).items()) or NOT_RECORDED
    rows = [
        ("networks (parameters)", "; ".join(f"{name} {n:,}" for name, n in thesis_parameters().items()),
         _per_model(records, lambda r: f"{r.get('parameters', 0):,} ({r.get('preset', 'lite')})")),
        ("input", input_words({"input_size": thesis.input_size, "geometry": thesis.geometry}),
         _per_model(records, input_words)),
        ("split", f"{ratio} of {SOURCE_THESIS_TILES:,} tiles ({' / '.join(f'{n:,}' for n in source_counts)})",
         f"{ratio} by coverage class of {len(dataset.split):,} tiles ({' / '.join(f'{counts.get(s, 0):,}' for s in SPLITS)})"),
        ("augmentation", f"{training['augment']}: each training tile and its left-right mirror, 1:1",
         _per_model(records, lambda r: r.get("training", {}).get("augment", "?"))),
        ("training", f"{LOSS_NAMES[training['loss']]}, Adam at a constant {training['learning_rate']:g}",
         _per_model(records, _training_words)),
        ("metric", "thesis_iou_metric: floor(max(0, (IoU - 0.45) * 20)) / 10 per tile",
         "tgs_score: share of t = 0.50, 0.55, ..., 0.95 with IoU > t per tile"),
        ("test thesis_iou_metric", reported, _scores(scores, "thesis_iou_metric")),
        ("test tgs_score", "not reported (the thesis scored its own metric)", _scores(scores, "tgs_score")),
    ]
    return pd.DataFrame(rows, columns=["aspect", "source thesis", "this workbook"])


def _per_model(records: dict[str, dict], describe) -> str:
    """``describe(record)`` once if every model gives the same words, else per model."""
    words = {name: describe(record) for name, record in records.items()}
    if len(set(words.values())) == 1:
        return next(iter(words.values()))
    return "; ".join(f"{name} {text}" for name, text in words.items())


def _training_words(record: dict) -> str:
    training = record.get("training", {})
    lovasz = f" then Lovasz hinge ({training['lovasz_epochs']} epochs)" if training.get("lovasz_epochs") else ""
    loss = training.get("loss", "?")
    return f"{LOSS_NAMES.get(loss, loss)} ({training.get('epochs', '?')} epochs){lovasz}, Adam from {training.get('learning_rate', 0):g}"


def _scores(scores: pd.DataFrame, score: str) -> str:
    return "; ".join(f"{row['model']} {with_interval(row[score], row[f'{score}_ci_low'], row[f'{score}_ci_high'])}"
                     for _, row in scores.iterrows())


def findings(postprocessing: pd.DataFrame, scores: pd.DataFrame, source_reported: dict[str, float] | None = None,
             ensemble_differences: pd.DataFrame | None = None, candidates: pd.DataFrame | None = None) -> list[str]:
    """The chapter's findings, every number from its tables: each post-processing step's gain on
    validation and all three together (``finding``: the word chosen by the interval), each
    model's test scores, each against the score the source thesis reported where one is given,
    which submission candidate validation chose (``submission_choice_sentence``), and the
    submitted model against each network alone (``compare_sentence``)."""
    sentences = []
    for model, rows in postprocessing.groupby("model", sort=False):
        steps = list(rows["step"])
        for (_, row), before in zip(rows.iloc[1:].iterrows(), steps):
            sentences.append(finding(tr("{model}, {step} (over {before}, validation)", model=model, step=tr(row["step"]),
                                        before=tr(before)), row["gain"], row["gain_low"], row["gain_high"]))
        last = rows.iloc[-1]
        sentences.append(finding(tr("{model}, all post-processing (over {first}, validation, tuned there: optimistic)",
                                    model=model, first=tr(steps[0])), last["total_gain"], last["total_low"], last["total_high"]))
    for _, row in scores.iterrows():
        sentences.append(tr("{model} on the test tiles (nothing tuned there): tgs_score {tgs_score}, thesis_iou_metric {thesis}.",
                            model=row["model"], tgs_score=with_interval(row["tgs_score"], row["tgs_score_ci_low"], row["tgs_score_ci_high"]),
                            thesis=with_interval(row["thesis_iou_metric"], row["thesis_iou_metric_ci_low"], row["thesis_iou_metric_ci_high"])))
    by_model = scores.set_index("model")
    for model, value in (source_reported or {}).items():
        if model in by_model.index:
            row = by_model.loc[model]
            sentences.append(finding(tr("{model}'s test thesis_iou_metric here, against the source thesis's reported", model=model),
                                     row["thesis_iou_metric"], row["thesis_iou_metric_ci_low"],
                                     row["thesis_iou_metric_ci_high"], reference=value))
    if not source_reported:
        sentences.append(tr("The source thesis's reported scores are {reported}: the comparison with it is of "
                            "setup (networks, input, split, augmentation, training, metric), not of scores.", reported=tr(NOT_RECORDED)))
    if candidates is not None and len(candidates):
        sentences.append(submission_choice_sentence(candidates))
    for _, row in (ensemble_differences if ensemble_differences is not None else pd.DataFrame()).iterrows():
        sentences.append(compare_sentence(row["challenger"], row["baseline"], row["mean_difference"],
                                                 row["ci_low"], row["ci_high"]))
    return sentences


# The post-processing steps (POSTPROCESSING_STEPS) as tick labels, on two lines.
STEP_LABELS = dict(zip(POSTPROCESSING_STEPS, ("no TTA,\nthreshold 0.5", "flip TTA,\nthreshold 0.5", "flip TTA,\ntuned threshold",
                                              "+ tuned\nmin size")))


SCORE_SPAN = 0.2  # the least range of plot_postprocessing's score axis


def plot_postprocessing(table: pd.DataFrame) -> plt.Figure:
    """``postprocessing_table`` as two panels, both on the validation tiles:
    left, each model's ``tgs_score`` after each step; right, each step's gain over the one before
    with its paired 95 % bootstrap interval, zero marked. The left axis spans at least
    ``SCORE_SPAN``, so that it does not magnify differences of a few thousandths that the right
    panel shows within their noise. Each panel has its title; one legend below both names the
    models (a network in its colour, ``network_colour``; the same in both panels)."""

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.9), gridspec_kw={"width_ratios": (4, 3)},
                                      layout="constrained")
    models = list(dict.fromkeys(table["model"]))
    others = iter(["0.25", "0.55", "0.75"])  # a model that is no single network (an ensemble) in grey
    colours = [network_colour(model) if network_colour(model) != NEUTRAL_COLOUR else next(others) for model in models]
    steps = np.arange(len(POSTPROCESSING_STEPS))
    width = 0.6 / max(1, len(models))
    for k, (model, colour) in enumerate(zip(models, colours)):
        rows = table[table["model"] == model]
        left.plot(steps, rows["tgs_score"], marker="o", ms=3, color=colour, drawstyle="steps-mid", label=model)
        later = rows.iloc[1:]
        offset = steps[1:] + (k - (len(models) - 1) / 2) * width
        right.errorbar(offset, later["gain"], yerr=[later["gain"] - later["gain_low"], later["gain_high"] - later["gain"]],
                       fmt="o", ms=3, capsize=2, color=colour, label=model)
    right.axhline(0, color="black", lw=0.8)
    # Each label's lines wrapped at 10 characters, so that neighbouring ticks do not touch.
    labels = ["\n".join(part for line in tr(STEP_LABELS[step]).split("\n") for part in textwrap.wrap(line, 10))
              for step in POSTPROCESSING_STEPS]
    left.set_xticks(steps, labels, fontsize=7)
    right.set_xticks(steps[1:], labels[1:], fontsize=7)
    left.set_xlim(steps[0] - 0.5, steps[-1] + 0.5)  # half a step of margin: no marker or bar on a panel's edge
    # A span of at least SCORE_SPAN, so that the left panel does not magnify differences the
    # right panel shows with their intervals (of a few thousandths, within the tile-to-tile noise).
    middle = (table["tgs_score"].min() + table["tgs_score"].max()) / 2
    low = max(0.0, min(table["tgs_score"].min() - 0.02, middle - SCORE_SPAN / 2))
    left.set_ylim(low, min(1.0, max(table["tgs_score"].max() + 0.02, low + SCORE_SPAN)))
    right.set_xlim(steps[1] - 0.5, steps[-1] + 0.5)
    left.set_ylabel(tr("validation tgs_score"))
    right.set_ylabel(tr("validation gain\nover the step before"))
    left.set_title(tr("score after each step"), fontsize=8)
    right.set_title(tr("gain of each step (mean, 95 % CI)"), fontsize=8)
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=max(1, len(models)), frameon=False,
               fontsize="small")
    return fig


def submission_candidates(candidates: dict[str, list[str]], paths: dict[str, str], val: TGSData, cache_dir=None,
                          n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """The candidates for the submission (``candidates``: name -> members, names in ``paths``) on
    the validation tiles alone: each scored as ``evaluate.evaluate_model`` scores it (flip TTA; a
    single model at its record's threshold and minimum size, several averaged at those chosen on
    these tiles for their average), ``tgs_score`` with its 95 % bootstrap interval over tiles, and
    its number of ``members``. The test tiles are not touched: ``submission_choice`` picks from
    this table."""
    from salt_lib import evaluate

    unknown = sorted({member for members in candidates.values() for member in members} - set(paths))
    if unknown or not candidates or not all(candidates.values()):
        raise ValueError(f"submission candidates need one or more members each, named in the model paths "
                         f"({', '.join(paths)}); unknown: {', '.join(unknown) or 'none'}")
    scored = {name: evaluate.evaluate_model([paths[member] for member in members], val, cache_dir, name, val=val)
              for name, members in candidates.items()}
    table = evaluate.score_intervals(scored, scores=("tgs_score",), n_resamples=n_resamples, seed=seed)
    table.insert(1, "members", [len(candidates[name]) for name in table["model"]])
    return table


def submission_choice_sentence(table: pd.DataFrame) -> str:
    """Which candidate is submitted and why, from ``submission_candidates``' table."""
    name = submission_choice(table)
    chosen = table.set_index("model").loc[name]
    others = table[table["model"] != name]
    runner = others.loc[others["tgs_score"].idxmax()] if len(others) else None
    margin = "" if runner is None else tr(
        "; the next best, {runner}, scores {score:.3f}, inside that interval" if runner["tgs_score"] >= chosen["tgs_score_ci_low"]
        else "; the next best, {runner}, scores {score:.3f}", runner=runner["model"], score=runner["tgs_score"])
    members = int(chosen["members"])
    return tr("Submitted: {name} ({members} models), the candidate with the highest validation tgs_score, {interval}{margin}. "
              "The choice is made on the validation tiles alone; the test tiles score it once." if members > 1 else
              "Submitted: {name} ({members} model), the candidate with the highest validation tgs_score, {interval}{margin}. "
              "The choice is made on the validation tiles alone; the test tiles score it once.", name=name, members=members,
              interval=with_interval(chosen["tgs_score"], chosen["tgs_score_ci_low"], chosen["tgs_score_ci_high"]), margin=margin)


def submission_sentence(submitted: str, written: dict) -> str:
    """What ``submission.write_submission_csv`` wrote (its returned ``written``), as a sentence."""
    return tr("The submission of {submitted} holds {rows:,} rows, one per test tile, cut at the threshold {threshold} and "
              "minimum salt region {min_size} px chosen on validation.", submitted=submitted, rows=written["rows"],
              threshold=written["threshold"], min_size=written["min_size"])
