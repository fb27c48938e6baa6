"""Chapter 7, results: the post-processing table as the chapter shows it and which of its steps
stand out, the source thesis's design beside this workbook's, and the chapter's findings built
from its tables.

``postprocessing_table`` is ``salt_lib.evaluate.postprocessing_table`` with floating-point noise
(a bootstrap bound of -1e-18 for one that is 0) set to 0; ``gain_summary`` says, from that table,
which steps' gains have a 95 % interval that excludes zero.

``source_thesis_table`` puts the source thesis's networks, input, split, augmentation, training,
metric and reported scores beside ours; every number of either side is computed (the thesis
networks' parameters by building the ``thesis`` presets, ours from the models' records and the
data set), except the source thesis's 4,000 tiles and its reported scores, which it alone holds
(``SOURCE_THESIS_TILES``; the scores are a notebook parameter). The chapter's figure is
``salt_lib.report.plot_postprocessing``. ``findings`` writes the chapter's closing sentences with
``report.finding``, ``compare_sentence`` and ``with_interval``.
"""

from __future__ import annotations

import gc

import pandas as pd

from salt_lib import evaluate, report
from salt_lib.dataset import Dataset
from salt_lib.evaluate import POSTPROCESSING_STEPS
from salt_lib.models import PRESETS, build_model
from salt_lib.recipes import THESIS as THESIS_RECIPE
from salt_lib.split import RATIOS, SPLITS

# Kaggle's labelled training tiles, all of which the source thesis split 6:2:2 (the shared copy
# used here holds 3,200 of them).
SOURCE_THESIS_TILES = 4000
ARCH_NAMES = {"unet": "U-Net", "resunet": "ResUNet"}
NOT_RECORDED = "not available here"
NOISE = 1e-12  # a number this close to 0 is floating-point noise of a sum that is 0 (scores are tenths over tiles)


# --------------------------------------------------------------------------------------------
# Post-processing, step by step
# --------------------------------------------------------------------------------------------


def without_noise(table: pd.DataFrame, noise: float = NOISE) -> pd.DataFrame:
    """``table`` with every float of magnitude below ``noise`` set to exactly 0 (never -0.0); other
    numbers unchanged, so a gain, its interval and the sums that check them keep their order."""
    floats = table.select_dtypes("float").columns
    return table.assign(**{column: table[column].mask(table[column].abs() < noise, 0.0) for column in floats})


def postprocessing_table(model_paths, val, cache_dir=None, n_resamples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """``salt_lib.evaluate.postprocessing_table`` of ``model_paths`` (name -> model file) on the
    validation tiles ``val``, with its floating-point noise set to 0 (``without_noise``)."""
    return without_noise(evaluate.postprocessing_table(model_paths, val, cache_dir, n_resamples, seed))


def _step_numbers(numbers: list[int]) -> str:
    """``[3]`` -> "step 3", ``[2, 3, 4]`` -> "steps 2, 3 and 4"."""
    words = [str(n) for n in numbers]
    return f"step {words[0]}" if len(words) == 1 else f"steps {', '.join(words[:-1])} and {words[-1]}"


def gain_summary(postprocessing: pd.DataFrame) -> list[str]:
    """Which steps' gains in ``postprocessing`` (``postprocessing_table``) stand out from the
    tile-to-tile noise: the steps whose 95 % interval excludes zero, each with its gain, interval
    and direction, then the others, whose interval contains zero. Steps are numbered as in
    ``POSTPROCESSING_STEPS`` (1 is the network alone, which has no gain)."""
    later = postprocessing[postprocessing["gain"].notna()]
    clear, unclear = [], {}
    for _, row in later.iterrows():
        number = POSTPROCESSING_STEPS.index(row["step"]) + 1
        word = report.verdict(row["gain_low"], row["gain_high"])
        if word == report.NOT_DISTINGUISHABLE:
            unclear.setdefault(row["model"], []).append(number)
        else:
            clear.append(f"{row['model']} step {number} ({row['step']}), "
                         f"{report.with_interval(row['gain'], row['gain_low'], row['gain_high'], signed=True)}, {word} than 0")
    total, others = len(later), sum(len(numbers) for numbers in unclear.values())
    if not clear:
        return [f"None of the {total} step gains on validation has a 95 % interval that excludes zero: "
                "this validation set cannot tell any step from doing nothing."]
    has = "has" if len(clear) == 1 else "have"
    sentences = [f"{len(clear)} of the {total} step gains on validation {has} a 95 % interval that excludes zero: "
                 + "; ".join(clear) + "."]
    if unclear:
        which = "; ".join(f"{model} {_step_numbers(numbers)}" for model, numbers in unclear.items())
        interval = "interval contains" if others == 1 else "intervals contain"
        sentences.append(f"The other {others} {interval} zero, so this validation set cannot tell those steps "
                         f"from doing nothing: {which}.")
    return sentences


# --------------------------------------------------------------------------------------------
# The source thesis beside this workbook
# --------------------------------------------------------------------------------------------


def thesis_parameters() -> dict[str, int]:
    """Parameters of the source thesis's networks (the ``thesis`` presets, built only to be
    counted): ``{"U-Net": 31031685, "ResUNet": 40398597}``."""
    counts = {}
    for arch in PRESETS:
        model = build_model(arch, "thesis")
        counts[ARCH_NAMES[arch]] = int(model.count_params())
        del model
        gc.collect()  # 120-160 MB of weights each
    return counts


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
        ("training", f"{report.LOSS_NAMES[training['loss']]}, Adam at a constant {training['learning_rate']:g}",
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
    return f"{report.LOSS_NAMES.get(loss, loss)} ({training.get('epochs', '?')} epochs){lovasz}, Adam from {training.get('learning_rate', 0):g}"


def _scores(scores: pd.DataFrame, score: str) -> str:
    return "; ".join(f"{row['model']} {report.with_interval(row[score], row[f'{score}_ci_low'], row[f'{score}_ci_high'])}"
                     for _, row in scores.iterrows())


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------


def findings(postprocessing: pd.DataFrame, scores: pd.DataFrame, source_reported: dict[str, float] | None = None,
             ensemble_differences: pd.DataFrame | None = None) -> list[str]:
    """The chapter's findings, every number from its tables: each post-processing step's gain on
    validation and all three together (``report.finding``: the word chosen by the interval), each
    model's test scores, each against the score the source thesis reported where one is given,
    and the submitted ensemble against its members (``report.compare_sentence``)."""
    sentences = []
    for model, rows in postprocessing.groupby("model", sort=False):
        steps = list(rows["step"])
        for (_, row), before in zip(rows.iloc[1:].iterrows(), steps):
            sentences.append(report.finding(f"{model}, {row['step']} (over {before}, validation)",
                                            row["gain"], row["gain_low"], row["gain_high"]))
        last = rows.iloc[-1]
        sentences.append(report.finding(f"{model}, all post-processing (over {steps[0]}, validation, tuned there: optimistic)",
                                        last["total_gain"], last["total_low"], last["total_high"]))
    for _, row in scores.iterrows():
        sentences.append(f"{row['model']} on the test tiles (nothing tuned there): tgs_score "
                         f"{report.with_interval(row['tgs_score'], row['tgs_score_ci_low'], row['tgs_score_ci_high'])}, "
                         f"thesis_iou_metric {report.with_interval(row['thesis_iou_metric'], row['thesis_iou_metric_ci_low'], row['thesis_iou_metric_ci_high'])}.")
    by_model = scores.set_index("model")
    for model, value in (source_reported or {}).items():
        if model in by_model.index:
            row = by_model.loc[model]
            sentences.append(report.finding(f"{model}'s test thesis_iou_metric here, against the source thesis's reported",
                                            row["thesis_iou_metric"], row["thesis_iou_metric_ci_low"],
                                            row["thesis_iou_metric_ci_high"], reference=value))
    if not source_reported:
        sentences.append(f"The source thesis's reported scores are {NOT_RECORDED}: the comparison with it is of "
                         "setup (networks, input, split, augmentation, training, metric), not of scores.")
    for _, row in (ensemble_differences if ensemble_differences is not None else pd.DataFrame()).iterrows():
        sentences.append(report.compare_sentence(row["challenger"], row["baseline"], row["mean_difference"],
                                                 row["ci_low"], row["ci_high"]))
    return sentences
