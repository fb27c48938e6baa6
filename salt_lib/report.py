"""Figures and tables of the thesis, in one style, written under stable names.

* ``use_thesis_style()`` sets the look once per notebook: serif fonts at the thesis's sizes, the
  colour-blind-safe Okabe-Ito palette (seaborn's ``colorblind``), no top/right spines.
* ``save_figure(fig, "04_learning_curves", figures_dir)`` writes ``figures_dir/04_learning_curves.png``
  (300 dpi) and ``.pdf``; ``save_table(table, "06_comparison", tables_dir, caption=...)`` writes
  ``.csv`` (full precision, the column names code reads), ``.tex`` (a captioned, labelled booktabs
  ``table``, ready to ``\\input``) and ``.md`` (headers in words, three decimals, intervals in one
  cell, at most 8 columns a part), and returns the table so that a notebook cell shows it. Names
  start with the chapter number; the thesis text refers to them, so they do not change between runs.
* ``plot_*`` functions take arrays or tables and return a matplotlib Figure in constrained
  layout, every label, legend and title on its canvas; they never save.
* ``finding``, ``compare_sentence`` and ``findings`` turn a table's numbers into a chapter's
  findings: ``0.767 [0.738, 0.796]`` and a word chosen from the interval ("higher", "lower",
  "not distinguishable"), so no sentence carries a typed-in number.

Figure widths follow an A4 thesis with a 16 cm text block: ``FULL_WIDTH`` and ``HALF_WIDTH``
inches. Tiles are drawn with the grey colour map, depth (rows) downwards, as in the data.
"""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from salt_lib.augment import DESCRIPTIONS, augment_batch, check_policy, expand_offline
from salt_lib.evaluate import POSTPROCESSING_STEPS
from salt_lib.models import build_model

FULL_WIDTH = 6.3  # inches: a 16 cm text block
HALF_WIDTH = 3.1
DPI = 300

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}
TRUTH_COLOUR = OKABE_ITO["orange"]  # the labelled salt
PREDICTION_COLOUR = OKABE_ITO["sky_blue"]  # what a model predicts
SPLIT_COLOURS = {"train": OKABE_ITO["blue"], "val": OKABE_ITO["orange"], "test": OKABE_ITO["green"]}


LANGUAGES = ("en", "zh")

# Every word a figure or a table header shows, English -> Chinese: the one place to add or change
# a translation. Keys with {fields} are templates (``tr("best (epoch {epoch})", epoch=12)``);
# words not listed (ids, policy names, numbers) are shown as they are in both languages.
TRANSLATIONS = {"zh": {
    # tiles, legends and groups
    "labelled salt": "标注的盐体", "prediction": "预测", "no salt": "无盐", "partial": "部分含盐", "full": "全为盐",
    "empty": "无盐", "original": "原图", "original (= none)": "原图（= none）", "best": "最好", "worst": "最差",
    "{tile}\nscore {score:.1f}, salt {salt}": "{tile}\n得分 {score:.1f}，盐 {salt}",
    "missed salt": "漏检盐体", "false alarm": "误报", "wrong outline": "轮廓错误", "models disagree": "模型分歧",
    "low score": "低分",
    # coverage, intensity, depth, split
    "coverage class (upper bound, % salt; 0 = empty)": "覆盖率等级（上界，盐体占比 %；0 = 无盐）",
    "tiles (%)": "图块占比 (%)", "tiles": "图块数", "salt coverage of tiles with salt (%)": "含盐图块的盐体覆盖率 (%)",
    "inside salt": "盐体内部", "outside salt (tiles with salt)": "盐体外部（含盐图块）",
    "grey level (bins of 8 levels)": "灰度值（每 8 级一个区间）", "density": "密度",
    "depth z (depths.csv)": "深度 z（depths.csv）", "mean per depth bin": "各深度区间的平均值", "salt coverage (%)": "盐体覆盖率 (%)",
    "train": "训练集", "val": "验证集", "test": "测试集", "{split} ({tiles} tiles)": "{split}（{tiles} 个图块）",
    "tiles of the split (%)": "该划分中的图块占比 (%)",
    # augmentation
    "augmentation policy": "数据增强策略",
    "no TTA,\nthreshold 0.5": "无 TTA，\n阈值 0.5", "flip TTA,\nthreshold 0.5": "翻转 TTA，\n阈值 0.5",
    "flip TTA,\ntuned threshold": "翻转 TTA，\n调优阈值", "+ tuned\nmin size": "+ 调优的\n最小连通域",
    "validation gain\nover the step before": "验证集上相对\n上一步的提升", "score after each step": "每一步之后的得分",
    "gain of each step (mean, 95 % CI)": "每一步的提升（均值，95% 置信区间）", "arm": "实验组", "tgs_score": "tgs_score", "network": "网络",
    "{split}: one dot per seed": "{split}：每个随机种子一个点", "{split}: mean over seeds": "{split}：各种子的均值",
    "test: 95 % interval over tiles": "测试集：图块上的 95% 置信区间", "tgs_score (95 % CI)": "tgs_score（95% 置信区间）",
    # architecture
    "{level}\n{channels} filters, {side}×{side}": "{level}\n{channels} 个滤波器，{side}×{side}", "{level} (bottleneck)": "{level}（瓶颈层）",
    "pool": "池化", "up": "上采样", "input {side}×{side}×{channels}": "输入 {side}×{side}×{channels}",
    "head: sigmoid, {side}×{side}×1": "输出层：sigmoid，{side}×{side}×1", "skip (concatenate)": "跳跃连接（拼接）",
    "residual shortcut (add)": "残差捷径（相加）", "{arch} ({preset} preset): {parameters:,} parameters": "{arch}（{preset} 预设）：{parameters:,} 个参数",
    # training and evaluation
    "BCE": "BCE", "soft IoU": "软 IoU", "soft Dice": "软 Dice", "BCE + Dice": "BCE + Dice", "Lovasz hinge": "Lovasz hinge",
    "symmetric Lovasz hinge": "对称 Lovasz hinge", "Lovasz fine-tuning stage": "Lovasz 微调阶段",
    "best (epoch {epoch})": "最佳（第 {epoch} 轮）", "epoch": "轮次",
    "training loss (of its stage)": "训练损失（所在阶段的损失）", "validation tgs_score": "验证集 tgs_score",
    "{arch} thesis ({millions:.1f} M)": "{arch} 原论文网络（{millions:.1f} M）", "training loss (BCE)": "训练损失（BCE）",
    "circle: kept epoch": "圆圈：保留的轮次",
    "chosen threshold {threshold:.3f} (score {score:.3f} before the minimum size)": "选定阈值 {threshold:.3f}（应用最小连通域前得分 {score:.3f}）",
    "share of empty tiles ({share:.3f}): the score when no pixel is called salt\n(every empty tile scores 1, every salt tile 0)":
        "无盐图块占比（{share:.3f}）：没有像素被判为盐体时的得分\n（每个无盐图块得 1 分，每个含盐图块得 0 分）", "cliff": "陡降",
    "probability threshold": "概率阈值", "salt coverage of the tile (%); n: test tiles in the class": "图块的盐体覆盖率 (%)；n：该等级的测试图块数",
    "mean tgs_score": "平均 tgs_score", "zero: no difference": "零：无差异", "mean difference": "平均差值",
    "95 % interval bounds": "95% 置信区间边界", "{label} (tgs_score)": "{label}（tgs_score）", "bootstrap resamples": "自助重采样次数",
    # table headers (save_table's .tex and .md, after HEADERS; the .csv keeps the column names code reads)
    "Model": "模型", "Architecture": "网络结构", "Parameters": "参数量", "Preset": "预设", "Overrides": "覆盖参数",
    "Policy": "策略", "What it does": "作用", "Epochs": "轮数", "Best epoch": "最佳轮次", "Split": "划分",
    "Score": "指标", "Value": "数值", "CI low": "置信区间下限", "CI high": "置信区间上限", "IoU": "IoU", "Dice": "Dice",
    "Empty-tile accuracy": "空图块准确率", "Threshold": "阈值", "Min. component (px)": "最小连通域 (像素)",
    "Coverage": "覆盖率", "Coverage class": "覆盖率等级", "Tiles": "图块数", "Share": "占比", "Level": "层级",
    "Layers": "层数", "Side (px)": "边长 (像素)", "Channels": "通道数", "Difference": "差值",
    "Mean difference": "平均差值", "Resamples > 0 (share)": "差值为正的重采样占比", "Training (min)": "训练时间 (分钟)",
    "Train images/s": "训练速度 (图/秒)", "Training (s)": "训练时间 (秒)", "Trained on": "训练硬件",
    "TGS score": "TGS 得分", "Thesis IoU metric": "原论文 IoU 指标", "Val. TGS score": "验证集 TGS 得分",
    "Test TGS score": "测试集 TGS 得分", "Train": "训练集", "Validation": "验证集", "Test": "测试集", "All": "全部",
    "Empty masks": "空掩码", "Full masks": "全盐掩码", "Vertical-strip masks": "竖条掩码", "Aspect": "方面",
    "Source thesis": "原论文", "This workbook": "本工作簿", "Step": "步骤", "Flip TTA": "翻转 TTA",
    "Gain over the step before": "相对上一步的提升", "Total gain": "总提升", "Recorded as": "记录字段",
    "Recorded": "记录值", "Recomputed": "重新计算值",
    "Arm": "实验组", "Seed": "种子", "Seeds": "种子数", "Comparison": "比较", "Verdict": "结论",
    "Optimizer steps": "优化步数", "Test IoU": "测试 IoU", "Test Dice": "测试 Dice",
    "Test empty-tile accuracy": "测试无盐图块准确率", "Test IoU mean": "测试 IoU 均值", "Test IoU sd": "测试 IoU 标准差",
    "Test Dice mean": "测试 Dice 均值", "Test Dice sd": "测试 Dice 标准差",
    "Test empty-tile acc. mean": "测试无盐图块准确率均值", "Test empty-tile acc. sd": "测试无盐图块准确率标准差",
    "Test mean": "测试均值", "Test sd over seeds": "测试集种子间标准差", "Test min.": "测试最小值", "Test max.": "测试最大值",
    "Val. mean": "验证均值", "Val. sd over seeds": "验证集种子间标准差", "Val. min.": "验证最小值", "Val. max.": "验证最大值",
    "Seeds (right of -)": "种子数（减数）", "Seeds (left of -)": "种子数（被减数）", "Seeds paired": "配对种子数",
    "Mean difference per seed": "各种子差值均值", "Min. difference per seed": "各种子差值最小值",
    "Max. difference per seed": "各种子差值最大值", "Seeds left higher": "被减数更高的种子数", "Per seed": "逐种子",
    "Region": "区域", "Pixels": "像素数", "Mean": "均值", "Std. dev.": "标准差", "Median": "中位数",
    "5th pct.": "第 5 百分位", "95th pct.": "第 95 百分位", "Depths": "深度", "Min. depth": "最小深度",
    "Max. depth": "最大深度", "Empty tiles (share)": "无盐占比", "Full tiles (share)": "全盐占比",
    "Mean coverage": "平均覆盖率", "Mean coverage (salt tiles)": "含盐图块的平均覆盖率",
    "{value} [95 % CI]": "{value} [95% 置信区间]", "{caption} (part {part} of {parts})": "{caption}（第 {part} 部分，共 {parts} 部分）",
}}

# The losses of salt_lib.losses as a legend names them (a training stage is labelled by its loss).
LOSS_NAMES = {"bce": "BCE", "iou": "soft IoU", "dice": "soft Dice", "bce_dice": "BCE + Dice", "lovasz": "Lovasz hinge",
              "lovasz_symmetric": "symmetric Lovasz hinge"}
# The architectures of salt_lib.models as the text names them.
NETWORK_NAMES = {"unet": "U-Net", "resunet": "ResUNet"}

_style = {"language": "en"}  # set by use_thesis_style: the one switch


def tr(text: str, **values) -> str:
    """``text`` in the language ``use_thesis_style`` chose, from ``TRANSLATIONS``, formatted with
    ``values``; text without a translation is returned as it is."""
    template = TRANSLATIONS.get(_style["language"], {}).get(text, text)
    return template.format(**values) if values else template


def network_name(arch: str) -> str:
    """How the text names an architecture of ``salt_lib.models``: 'unet' -> 'U-Net'."""
    return NETWORK_NAMES.get(arch, arch)


def cjk_font_path(cache_dir=None) -> Path:
    """A static Regular (weight 400) Noto Sans SC, cut from the variable font that the
    ``justmytype-intl-cjk`` package installs (SIL Open Font License 1.1) and cached: matplotlib
    draws a variable font at its default instance, which for Noto Sans SC is Thin. The first call
    takes about 20 s; the result lives in ``<cache>/fonts/``."""
    from importlib.resources import files

    from salt_lib.data import default_cache_dir
    from salt_lib.files import atomic_write

    try:
        source = Path(str(files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"))
    except ModuleNotFoundError:
        source = None
    if source is None or not source.is_file():
        raise RuntimeError("language='zh' needs the Noto Sans SC font of the justmytype-intl-cjk package: "
                           "run `make` (or `pip install -r requirements.lock`) to install it.")
    target = Path(cache_dir or default_cache_dir()) / "fonts" / f"NotoSansSC-Regular-{source.stat().st_size}-v2.ttf"
    if not target.is_file():
        from fontTools.ttLib import TTFont
        from fontTools.varLib import instancer

        target.parent.mkdir(parents=True, exist_ok=True)
        regular = instancer.instantiateVariableFont(TTFont(source), {"wght": 400}, updateFontNames=True)
        with atomic_write(target) as tmp:
            regular.save(tmp)
    return target


def use_thesis_style(language: str = "en") -> None:
    """Set the thesis look for every later figure (matplotlib rcParams, seaborn theme) and a
    short float display for pandas tables in notebooks. ``language`` ("en" or "zh") switches the
    labels, legends and titles of every ``plot_*`` figure and the headers ``save_table`` writes;
    "zh" sets Chinese in Noto Sans SC beside the Latin text in DejaVu Serif."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
    sns.set_theme(context="paper", style="ticks", palette="colorblind", font="serif")
    family = ["DejaVu Serif"]  # ships with matplotlib: identical on every machine
    if language == "zh":
        from matplotlib import font_manager

        font = cjk_font_path()
        font_manager.fontManager.addfont(str(font))
        family.append(font_manager.FontProperties(fname=str(font)).get_name())  # glyph by glyph fallback
    matplotlib.rcParams.update({
        "font.family": family,
        "font.serif": ["DejaVu Serif"],
        "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8,
        "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 10,
        "axes.spines.top": False, "axes.spines.right": False,
        "figure.figsize": (FULL_WIDTH, 0.6 * FULL_WIDTH), "figure.dpi": 100,
        "savefig.dpi": DPI, "savefig.bbox": "tight", "savefig.pad_inches": 0.03,
        "image.cmap": "gray", "image.interpolation": "nearest",
        "pdf.fonttype": 42,  # embed TrueType: text stays text in the PDF
        "svg.hashsalt": "salt_lib",
    })
    _style["language"] = language
    pd.set_option("display.precision", 4)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    if not re.fullmatch(r"\d\d_[a-z0-9_]+", name):
        raise ValueError(f"figure/table name {name!r}: use '<chapter>_<what>', e.g. '04_learning_curves' (lowercase, digits, _)")
    return name


def save_figure(fig, name: str, figures_dir) -> list[Path]:
    """Write ``fig`` as ``figures_dir/<name>.png`` (300 dpi) and ``.pdf``; return both paths.

    The figure stays open, so a notebook still shows it. The PDF carries no creation date, so
    rerunning a figure with the same content gives the same file.
    """
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{_check_name(name)}.png", folder / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=DPI, metadata={"Software": None})
    fig.savefig(paths[1], metadata={"CreationDate": None, "Creator": None, "Producer": None})
    return paths


# Column names the chapters' tables use (snake_case, as code reads them back from the .csv) ->
# the header a reader sees in the .tex and .md, in English; ``tr`` then gives the chosen language.
# A name not listed is shown with spaces for underscores and a capital first letter.
HEADERS = {
    "model": "Model", "arch": "Architecture", "parameters": "Parameters", "preset": "Preset", "overrides": "Overrides",
    "policy": "Policy", "what it does": "What it does", "epochs": "Epochs", "best_epoch": "Best epoch", "split": "Split",
    "score": "Score", "value": "Value", "ci_low": "CI low", "ci_high": "CI high",
    "tgs_score": "TGS score", "thesis_iou_metric": "Thesis IoU metric", "iou": "IoU", "dice": "Dice",
    "empty_tile_accuracy": "Empty-tile accuracy", "threshold": "Threshold", "min_size": "Min. component (px)",
    "training_minutes": "Training (min)", "train_images_per_s": "Train images/s", "train_seconds": "Training (s)",
    "trained_on": "Trained on", "val_tgs_score": "Val. TGS score", "test_tgs_score": "Test TGS score",
    "coverage": "Coverage", "coverage_class": "Coverage class", "tiles": "Tiles", "share": "Share",
    "train": "Train", "val": "Validation", "test": "Test", "all": "All",
    "level": "Level", "layers": "Layers", "side": "Side (px)", "channels": "Channels",
    "difference": "Difference", "mean_difference": "Mean difference", "share_resamples_positive": "Resamples > 0 (share)",
    "region": "Region", "pixels": "Pixels", "mean": "Mean", "std": "Std. dev.", "median": "Median",
    "p5": "5th pct.", "p95": "95th pct.", "depths": "Depths", "depth_min": "Min. depth", "depth_max": "Max. depth",
    "empty_share": "Empty tiles (share)", "full_share": "Full tiles (share)", "mean_coverage": "Mean coverage",
    "mean_coverage_of_salt_tiles": "Mean coverage (salt tiles)",
    "empty_masks": "Empty masks", "full_masks": "Full masks", "vertical_strip_masks": "Vertical-strip masks",
    "aspect": "Aspect", "source thesis": "Source thesis", "this workbook": "This workbook",
    "step": "Step", "tta": "Flip TTA", "gain": "Gain over the step before", "total_gain": "Total gain",
    "recorded_as": "Recorded as", "recorded": "Recorded", "recomputed": "Recomputed",
    # seed studies (salt_lib.study)
    "arm": "Arm", "seed": "Seed", "seeds": "Seeds", "comparison": "Comparison", "verdict": "Verdict",
    "steps": "Optimizer steps", "train_minutes": "Training (min)",
    "test_iou": "Test IoU", "test_dice": "Test Dice", "test_empty_tile_accuracy": "Test empty-tile accuracy",
    "test_iou_mean": "Test IoU mean", "test_iou_sd": "Test IoU sd", "test_dice_mean": "Test Dice mean",
    "test_dice_sd": "Test Dice sd", "test_empty_tile_accuracy_mean": "Test empty-tile acc. mean",
    "test_empty_tile_accuracy_sd": "Test empty-tile acc. sd",
    "test_mean": "Test mean", "test_sd": "Test sd over seeds", "test_min": "Test min.", "test_max": "Test max.",
    "val_mean": "Val. mean", "val_sd": "Val. sd over seeds", "val_min": "Val. min.", "val_max": "Val. max.",
    "seeds_a": "Seeds (right of -)", "seeds_b": "Seeds (left of -)", "seeds_paired": "Seeds paired",
    "seed_difference_mean": "Mean difference per seed", "seed_difference_min": "Min. difference per seed",
    "seed_difference_max": "Max. difference per seed", "seeds_b_higher": "Seeds left higher", "per_seed": "Per seed",
}
MAX_COLUMNS = 8  # columns a table shows side by side on a 16 cm text block; wider tables are split
ROW_KEYS = ("model", "arm", "policy", "seed", "comparison", "step")  # columns that name a row


def key_column_count(columns) -> int:
    """How many leading ``columns`` name a row (``ROW_KEYS``: e.g. ``arm`` and ``seed``); at least 1.
    A split table repeats them in every part, so each part's rows can be told apart."""
    count = 0
    for column in columns:
        if str(column) not in ROW_KEYS:
            break
        count += 1
    return max(count, 1)


def header(column: str) -> str:
    """The header a reader sees for ``column``: ``HEADERS``' words, or the name with spaces for
    underscores and a capital first letter; in ``use_thesis_style``'s language."""
    words = HEADERS.get(column) or str(column).replace("_", " ")
    return tr(words[:1].upper() + words[1:])


def interval_columns(columns) -> list[tuple[str, str, str]]:
    """(value, low, high) column triples of a table's 95 % intervals, by the names the chapters
    use: ``X`` with ``X_ci_low``/``X_ci_high``; ``<split>_ci_low``/``_ci_high`` with the
    ``<split>_...`` value before them (``val_tgs_score``); a bare ``ci_low``/``ci_high`` (or
    ``low``/``high``) pair with the column just before it; ``X`` with ``X_low``/``X_high``."""
    columns = [str(c) for c in columns]
    triples, used = [], set()
    for position, low in enumerate(columns):
        for low_end, high_end in (("ci_low", "ci_high"), ("low", "high")):
            if low != low_end and not low.endswith("_" + low_end):
                continue
            prefix = low[: -len(low_end)].rstrip("_")
            high = f"{prefix}_{high_end}" if prefix else high_end
            if high not in columns:
                continue
            before = [c for c in columns[:position] if c not in used and c not in (low, high)]
            if prefix and prefix in columns:
                value = prefix
            elif prefix:
                value = next((c for c in reversed(before) if c.startswith(prefix + "_")), None)
            else:
                value = before[-1] if before else None
            if value is not None:
                triples.append((value, low, high))
                used.update((value, low, high))
            break
    return triples


def _cell(value, float_digits: int) -> str:
    """A table cell as text: floats with ``float_digits`` decimals, numbers with thousands
    separators (31,031,685; 3,603.100), a missing value as ''."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else f"{value:,.{float_digits}f}"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _is_number(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def shown_table(table: pd.DataFrame, float_digits: int = 3) -> tuple[pd.DataFrame, list[bool]]:
    """What ``save_table`` shows of ``table``: every cell as text, headers from ``header``, each
    95 % interval merged into its value's column as ``0.767 [0.738, 0.796]`` (signed for a
    difference), and the names of scores in a ``score`` column in words. Returns the text table
    and, per column, whether it holds numbers (right-aligned)."""
    intervals = {value: (low, high) for value, low, high in interval_columns(table.columns)
                 if all(_is_number(table[c].dtype) for c in (value, low, high))}
    bounds = {bound for pair in intervals.values() for bound in pair}
    columns, numeric = {}, []
    for column in table.columns:
        if column in bounds:
            continue
        values = table[column]
        if column in intervals:
            low, high = (table[bound] for bound in intervals[column])
            signed = "difference" in str(column)
            cells = [_cell(v, float_digits) if np.isnan(lo) or np.isnan(hi) or np.isnan(v)
                     else with_interval(v, lo, hi, float_digits, signed) for v, lo, hi in zip(values, low, high)]
            columns[tr("{value} [95 % CI]", value=header(column))] = cells
            numeric.append(True)
            continue
        if column == "score":
            values = values.map(lambda v: header(v) if v in HEADERS else v)
        columns[header(column)] = [_cell(v, float_digits) for v in values]
        numeric.append(_is_number(table[column].dtype))
    return pd.DataFrame(columns, index=range(len(table))), numeric


def table_parts(shown: pd.DataFrame, key_columns: int = 1, max_columns: int = MAX_COLUMNS) -> list[list[int]]:
    """Column positions of each part of ``shown`` when it has more than ``max_columns`` columns:
    the first ``key_columns`` (those that name a row, e.g. ``model``) in every part, the others
    shared out evenly in their order. One part when the table fits."""
    count = len(shown.columns)
    if count <= max_columns:
        return [list(range(count))]
    if not 0 <= key_columns < max_columns:
        raise ValueError(f"key_columns={key_columns}: leave room for other columns in a part of {max_columns}")
    others = list(range(key_columns, count))
    parts = -(-len(others) // (max_columns - key_columns))
    size, extra = divmod(len(others), parts)
    chunks, start = [], 0
    for k in range(parts):
        stop = start + size + (1 if k < extra else 0)
        chunks.append(list(range(key_columns)) + others[start:stop])
        start = stop
    return chunks


_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                   "<": r"\textless{}", ">": r"\textgreater{}"}  # < and > are other glyphs in OT1 text


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped, for a cell or a caption."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def _latex_cell(text: str, is_number: bool) -> str:
    if not text:
        return "--"
    cell = latex_escape(text)
    if is_number:
        cell = re.sub(r"-(?=\d)", "$-$", cell)  # a minus sign, not a hyphen
    return "{[}" + cell[1:] if cell.startswith("[") else cell  # "\\ [" would read as a row skip


def _latex_table(shown: pd.DataFrame, numeric: list[bool], caption: str, label: str) -> str:
    spec = "".join("r" if is_number else "l" for is_number in numeric)
    lines = ["\\begin{table}[htbp]", "\\centering", "\\small", f"\\caption{{{latex_escape(caption)}}}",
             f"\\label{{{label}}}", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
             " & ".join(_latex_cell(h, False) for h in shown.columns) + " \\\\", "\\midrule"]
    lines += [" & ".join(_latex_cell(v, n) for v, n in zip(row, numeric)) + " \\\\" for row in shown.itertuples(index=False)]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def _markdown_lines(headers, rows, numeric) -> list[str]:
    escape = lambda text: str(text).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(escape, headers)) + " |",
             "|" + "|".join("---:" if is_number else "---" for is_number in numeric) + "|"]
    return lines + ["| " + " | ".join(map(escape, row)) + " |" for row in rows]


def default_caption(name: str) -> str:
    """A caption made from a table's name when none is given: ``06_coverage_bins`` -> 'Coverage bins.'"""
    words = name.split("_", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:] + "."


def save_table(table: pd.DataFrame, name: str, tables_dir, float_digits: int = 3, caption: str | None = None,
               key_columns: int | None = None, max_columns: int = MAX_COLUMNS) -> pd.DataFrame:
    """Write ``table`` as ``tables_dir/<name>.csv``, ``.tex`` and ``.md``; return it unchanged.

    * ``.csv``: every column as it is, full precision; code reads these back.
    * ``.tex``: a complete ``table`` float (``\\centering``, ``\\caption{caption}``,
      ``\\label{tab:<name>}``, booktabs rules), ready to ``\\input``; ``.md``: the same table after a
      ``Table: caption`` line. Both show ``shown_table``: headers in words (``HEADERS``, in
      ``use_thesis_style``'s language), floats with ``float_digits`` decimals, whole numbers with
      thousands separators, and each 95 % interval in its value's cell, ``0.767 [0.738, 0.796]``.
    * A table shown with more than ``max_columns`` columns is split into parts of at most that
      many, each repeating the first ``key_columns`` columns (default: the leading columns that
      name a row, ``key_column_count``): consecutive floats captioned
      "... (part 1 of 2)", labelled ``tab:<name>``, ``tab:<name>_part2``, ...

    ``caption`` is one sentence; None makes one from ``name`` (``default_caption``).
    """
    folder = Path(tables_dir)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / _check_name(name)
    table.to_csv(base.with_suffix(".csv"), index=False)  # column names as the code reads them back
    text, numeric = shown_table(table, float_digits)
    parts = table_parts(text, key_column_count(table.columns) if key_columns is None else key_columns, max_columns)
    caption = tr(caption) if caption else default_caption(name)
    latex, markdown = [f"% {name}: written by salt_lib.report.save_table; do not edit by hand\n"], []
    for k, positions in enumerate(parts, start=1):
        part = text.iloc[:, positions]
        part_numeric = [numeric[p] for p in positions]
        title = caption if len(parts) == 1 else (
            tr("{caption} (part {part} of {parts})", caption=caption.rstrip("."), part=k, parts=len(parts)) + caption[-1:] * caption.endswith("."))
        label = f"tab:{name}" if k == 1 else f"tab:{name}_part{k}"
        latex.append(_latex_table(part, part_numeric, title, label))
        markdown.append("\n".join([f"Table: {title}", ""] + _markdown_lines(part.columns, part.itertuples(index=False), part_numeric)) + "\n")
    base.with_suffix(".tex").write_text("".join(latex[:1]) + "\n".join(latex[1:]))
    base.with_suffix(".md").write_text("\n".join(markdown))
    return table


def markdown_table(table: pd.DataFrame, float_digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table of ``table`` as it is (column names and every column;
    numbers right-aligned), for printed summaries such as ``salt_lib.bench``'s."""
    numeric = [_is_number(dtype) for dtype in table.dtypes]
    rows = ([_cell(v, float_digits) for v in row] for row in table.itertuples(index=False))
    return "\n".join(_markdown_lines(table.columns, rows, numeric)) + "\n"


# --------------------------------------------------------------------------------------------
# Findings: sentences built from a table's numbers, the wording chosen by the interval
# --------------------------------------------------------------------------------------------

HIGHER, LOWER, NOT_DISTINGUISHABLE = "higher", "lower", "not distinguishable"


def with_interval(value: float, low: float, high: float, digits: int = 3, signed: bool = False) -> str:
    """``value [low, high]`` with ``digits`` decimals, e.g. ``0.767 [0.738, 0.796]``; ``signed``
    writes every sign, for differences: ``+0.008 [-0.004, +0.021]``."""
    fmt = f"{{:{'+' if signed else ''}.{digits}f}}".format
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def verdict(low: float, high: float, reference: float = 0.0) -> str:
    """``"higher"`` if the interval lies above ``reference``, ``"lower"`` if below, and
    ``"not distinguishable"`` if it contains it (an end point on the reference counts as containing)."""
    if low > high:
        raise ValueError(f"interval [{low}, {high}]: the low end is above the high end")
    if low > reference:
        return HIGHER
    if high < reference:
        return LOWER
    return NOT_DISTINGUISHABLE


def finding(name: str, value: float, low: float, high: float, reference: float = 0.0, unit: str = "",
            digits: int = 3) -> str:
    """One sentence on a number and its 95% interval against ``reference``, e.g.
    ``"flip - none: +0.033 [0.010, 0.056], higher than 0."``. Signed numbers when the reference is
    0 (the number is then a difference); ``unit`` follows the interval."""
    signed = reference == 0
    word = verdict(low, high, reference)
    ref = "0" if signed else f"{reference:.{digits}f}"
    number = with_interval(value, low, high, digits, signed) + (f" {unit}" if unit else "")
    tail = f"not distinguishable from {ref}" if word == NOT_DISTINGUISHABLE else f"{word} than {ref}"
    return f"{name}: {number}, {tail}."


def compare_sentence(a_name: str, b_name: str, difference: float, low: float, high: float,
                     score: str = "tgs_score", digits: int = 3) -> str:
    """A sentence on ``a - b`` with its paired 95% interval, e.g. ``"ResUNet's tgs_score is not
    distinguishable from U-Net's: ResUNet - U-Net = +0.008 [-0.004, +0.021]."``"""
    word = verdict(low, high, 0.0)
    relation = "not distinguishable from" if word == NOT_DISTINGUISHABLE else f"{word} than"
    return (f"{a_name}'s {score} is {relation} {b_name}'s: "
            f"{a_name} - {b_name} = {with_interval(difference, low, high, digits, signed=True)}.")


def findings(table: pd.DataFrame, name: str, value: str, low: str = "ci_low", high: str = "ci_high",
             reference: float = 0.0, unit: str = "", digits: int = 3) -> list[str]:
    """``finding`` for every row of ``table``: the row's label from column ``name``, its number
    and interval from columns ``value``, ``low``, ``high``."""
    return [finding(str(row[name]), row[value], row[low], row[high], reference, unit, digits)
            for _, row in table.iterrows()]


def network_findings(table: pd.DataFrame) -> list[str]:
    """One sentence per network of ``evaluate.result_runs_table`` (the source thesis's full-size
    networks beside the lite ones): its size, epochs and test score with its interval."""
    return [f"{row.model}: {row.parameters / 1e6:.1f} M parameters, {row.epochs} epochs (kept {row.best_epoch}), "
            f"test tgs_score {with_interval(row.test_tgs_score, row.test_ci_low, row.test_ci_high)}."
            for row in table.itertuples()]


def model_findings(record: dict, history: pd.DataFrame, scores: pd.DataFrame) -> list[str]:
    """A model chapter's findings from its record (training, selection, validation), its history
    and its test score table (``evaluate.score_table``: ``score``, ``value``, ``ci_low``, ``ci_high``)."""
    training = record.get("training", {})
    test = scores.set_index("score")
    sentences = []
    if len(history):
        stages = history["stage"].value_counts()
        cap = " (cut short by the time cap)" if record.get("cut_by_time") else ""
        last = int(history["epoch"].max())
        trend = ""
        if len(history) >= 10:
            change = history["val_tgs_score"].iloc[-5:].mean() - history["val_tgs_score"].iloc[-10:-5].mean()
            trend = (f"; the validation score of the last five epochs averages {abs(change):.3f} "
                     f"{'above' if change >= 0 else 'below'} that of the five before")
        sentences.append(f"Trained {last} epochs ({stages.get('main', 0)} {LOSS_NAMES.get(training.get('loss'), training.get('loss'))}"
                         + (f" + {stages.get('lovasz', 0)} Lovasz hinge" if stages.get("lovasz", 0) else "")
                         + f") in {record.get('wall_seconds', 0) / 60:.1f} minutes{cap}; the kept weights are from epoch "
                         f"{record.get('best_epoch')}{trend}.")
    val = record.get("val", {})
    if val:
        sentences.append(f"Validation chose the threshold {record.get('threshold')} and the minimum salt region "
                         f"{record.get('min_size')} px; there the model scores {val.get('tgs_score_min_size', val.get('tgs_score')):.3f} "
                         "(flip TTA), an optimistic number since the same tiles chose the epoch and both settings.")
    row = test.loc["tgs_score"]
    sentences.append(f"On the test tiles, scored once: tgs_score {with_interval(row['value'], row['ci_low'], row['ci_high'])}"
                     + (f", {abs(val['tgs_score_min_size'] - row['value']):.3f} {'below' if val['tgs_score_min_size'] > row['value'] else 'above'} "
                        "the validation score." if val.get("tgs_score_min_size") else "."))
    if "thesis_iou_metric" in test.index:
        same = abs(test.loc["thesis_iou_metric", "value"] - row["value"]) < 1e-9
        sentences.append(f"The source thesis's stepwise IoU metric gives {test.loc['thesis_iou_metric', 'value']:.3f}"
                         + (", the same: the two differ only for a tile whose IoU is exactly one of the thresholds 0.50, 0.55, ..., 0.95 (chapter 7)."
                            if same else ", not the same: some tiles have an IoU exactly on a threshold (chapter 7)."))
    return sentences


def comparison_findings(paired: pd.DataFrame, bins: pd.DataFrame, models) -> list[str]:
    """Chapter 6's findings from its paired bootstrap table (one row: ``difference`` names it
    ``challenger - baseline``, with ``mean_difference``, ``ci_low``, ``ci_high``) and its coverage
    bins (one column of mean scores per model)."""
    row = paired.iloc[0]
    challenger, baseline = str(row["difference"]).split(" - ")
    sentences = [compare_sentence(challenger, baseline, row["mean_difference"], row["ci_low"], row["ci_high"])
                 + f" The challenger is ahead in {row['share_resamples_positive']:.0%} of the resamples; one training run each."]
    counted = bins[bins["tiles"] > 0]
    for model in models:
        best, worst = counted.loc[counted[model].idxmax()], counted.loc[counted[model].idxmin()]
        sentences.append(f"{model} does best on {best['coverage']} tiles ({best[model]:.3f}, {best['tiles']} tiles) and "
                         f"worst on {worst['coverage']} tiles ({worst[model]:.3f}, {worst['tiles']} tiles).")
    return sentences


# --------------------------------------------------------------------------------------------
# Tiles
# --------------------------------------------------------------------------------------------


def percent(share: float) -> str:
    """A salt share as a label: '0%' and '100%' only for none and all of it, one decimal below 1 %
    and above 99 % ('0.3%', '99.6%')."""
    return f"{share:.1%}" if 0 < share < 0.01 or 0.99 < share < 1 else f"{share:.0%}"


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


def _legend_handles(prediction: bool = False):
    handles = [Line2D([], [], color=TRUTH_COLOUR, lw=1.5, label=tr("labelled salt"))]
    if prediction:
        handles.append(Line2D([], [], color=PREDICTION_COLOUR, lw=1.5, ls="--", label=tr("prediction")))
    return handles


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
    fig.legend(handles=_legend_handles(), loc="outside lower center", ncol=2, frameon=False)
    return fig


def plot_coverage(coverage, class_table: pd.DataFrame) -> plt.Figure:
    """Left: share of tiles per coverage class (class 0 = no salt). Right: histogram of the
    coverage of tiles that hold salt."""
    coverage = np.asarray(coverage, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4), layout="constrained")
    colours = [OKABE_ITO["black"]] + [OKABE_ITO["blue"]] * 10
    left.bar(class_table["coverage_class"], 100 * class_table["share"], color=colours)
    left.set_xticks(class_table["coverage_class"], ["0"] + [f"{10 * k}" for k in range(1, 11)])
    left.set(xlabel=tr("coverage class (upper bound, % salt; 0 = empty)"), ylabel=tr("tiles (%)"))
    right.hist(100 * coverage[coverage > 0], bins=np.linspace(0, 100, 41), color=OKABE_ITO["blue"])
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
                                  (tr("outside salt (tiles with salt)"), images[salt_tiles][~masks[salt_tiles]], OKABE_ITO["blue"])):
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
    left.hist(depths[known], bins=30, color=OKABE_ITO["blue"])
    left.set(xlabel=tr("depth z (depths.csv)"), ylabel=tr("tiles"))
    right.scatter(depths[known], 100 * coverage[known], s=3, alpha=0.3, color=OKABE_ITO["blue"], linewidths=0)
    edges = np.linspace(depths[known].min(), depths[known].max(), 11)
    which = np.clip(np.digitize(depths[known], edges) - 1, 0, 9)
    means = [100 * coverage[known][which == b].mean() if np.any(which == b) else np.nan for b in range(10)]
    right.plot((edges[:-1] + edges[1:]) / 2, means, color=OKABE_ITO["vermillion"], marker="o", ms=3, label=tr("mean per depth bin"))
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
               color=SPLIT_COLOURS[split], label=tr("{split} ({tiles} tiles)", split=tr(split), tiles=class_counts[split].sum()))
    ax.set_xticks(class_counts["coverage_class"], ["0"] + [f"{10 * k}" for k in range(1, 11)])
    ax.set(xlabel=tr("coverage class (upper bound, % salt; 0 = empty)"), ylabel=tr("tiles of the split (%)"))
    ax.legend(frameon=False)
    return fig


def _wrapped(name: str, width: int = 11) -> str:
    """A policy or model name broken after underscores into lines of about ``width`` characters
    ('flip_geo_\\nintensity'), so that it fits above a tile or under a tick."""
    lines = [""]
    for word in re.split(r"(?<=_)", name):
        if lines[-1] and len(lines[-1]) + len(word) > width:
            lines.append("")
        lines[-1] += word
    return "\n".join(lines)


def plot_augmentation_grid(images, masks, policies, seed: int = 0) -> plt.Figure:
    """The same tiles (rows) as they are and under each augmentation policy (columns, named at the
    top), with the transformed mask outlined. ``none`` would repeat the original column, so the
    original is shown once and titled for it; the ``mirror`` column shows the mirrored copy that
    policy adds before training."""
    images, masks = np.asarray(images), np.asarray(masks, dtype=bool)
    chosen = [check_policy(policy) for policy in policies]
    columns = ["original"] + [policy for policy in chosen if policy != "none"]
    titles = [tr("original (= none)") if "none" in chosen else tr("original")] + [_wrapped(tr(p)) for p in columns[1:]]
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


# The post-processing steps (salt_lib.evaluate.POSTPROCESSING_STEPS) as tick labels, on two lines.
STEP_LABELS = dict(zip(POSTPROCESSING_STEPS, ("no TTA,\nthreshold 0.5", "flip TTA,\nthreshold 0.5", "flip TTA,\ntuned threshold",
                                              "+ tuned\nmin size")))


def plot_postprocessing(table: pd.DataFrame) -> plt.Figure:
    """``salt_lib.evaluate.postprocessing_table`` as two panels, both on the validation tiles:
    left, each model's ``tgs_score`` after each step; right, each step's gain over the one before
    with its paired 95 % bootstrap interval, zero marked. Each panel has its title; one legend
    below both names the models (the same colour in both panels)."""
    import textwrap

    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.9), gridspec_kw={"width_ratios": (4, 3)},
                                      layout="constrained")
    colours = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion")]
    models = list(dict.fromkeys(table["model"]))
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
    right.set_xlim(steps[1] - 0.5, steps[-1] + 0.5)
    left.set_ylabel(tr("validation tgs_score"))
    right.set_ylabel(tr("validation gain\nover the step before"))
    left.set_title(tr("score after each step"), fontsize=8)
    right.set_title(tr("gain of each step (mean, 95 % CI)"), fontsize=8)
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=max(1, len(models)), frameon=False,
               fontsize="small")
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
    ax.set_xticks(x, [_wrapped(tr(arm), 14) for arm in arms])
    ax.set_xlim(-0.5, len(arms) - 0.5)
    ax.set(xlabel=tr(xlabel), ylabel=tr("tgs_score"))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False, fontsize="small")
    return fig


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def policy_descriptions(policies) -> pd.DataFrame:
    """What each augmentation policy does (``salt_lib.augment.DESCRIPTIONS``), one row each."""
    return pd.DataFrame({"policy": list(policies), "what it does": [DESCRIPTIONS[check_policy(p)] for p in policies]})


def parameter_counts(arch: str, preset: str = "lite", overrides: dict | None = None) -> pd.DataFrame:
    """Parameters of this chapter's model and of the source thesis's (the ``thesis`` preset, built
    only to be counted)."""
    rows = []
    for label, (chosen_preset, chosen_overrides) in {"this chapter": (preset, overrides or {}), "thesis (source thesis)": ("thesis", {})}.items():
        model = build_model(arch, chosen_preset, chosen_overrides)
        rows.append({"model": label, "arch": arch, "preset": model.salt_config["preset"],
                     "overrides": json.dumps(chosen_overrides, sort_keys=True), "parameters": int(model.count_params())})
        del model
        gc.collect()  # the thesis models hold 120-160 MB of weights
    return pd.DataFrame(rows)


def level_table(model) -> pd.DataFrame:
    """The network level by level, in data-flow order: layers, output side and channels, and
    parameters. Levels are the layer-name prefixes of ``salt_lib.models`` (input, enc1..,
    dec..1, head); the output is the level's last layer before pooling."""
    rows: dict[str, dict] = {}
    for layer in model.layers:
        level = layer.name.split("_")[0]
        row = rows.setdefault(level, {"level": level, "layers": 0, "parameters": 0, "side": None, "channels": None})
        row["layers"] += 1
        row["parameters"] += int(layer.count_params())
        if not layer.name.endswith("_pool"):
            shape = layer.output.shape
            row["side"], row["channels"] = int(shape[1]), int(shape[-1])
    return pd.DataFrame(list(rows.values()))


def plot_architecture(model) -> plt.Figure:
    """The U-shaped network of ``model``: encoder levels down the left, decoder levels up the
    right, each a box with its filters and side; concatenated skips as horizontal arrows; with a
    residual shortcut (ResUNet), a loop beside each level that has one."""
    levels = level_table(model).set_index("level")
    config = getattr(model, "salt_config", {}) or {}
    names = set(layer.name for layer in model.layers)
    encoders = sorted((lv for lv in levels.index if lv.startswith("enc")), key=lambda s: int(s[3:]))
    decoders = sorted((lv for lv in levels.index if lv.startswith("dec")), key=lambda s: -int(s[3:]))
    depth = len(encoders)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 0.62 * depth + 1.6), layout="constrained")
    box_w, box_h = 1.75, 0.46
    # Encoder level k steps down and right; decoder level k mirrors it, a gap apart, so that
    # levels at the same resolution sit on one row and the bottleneck is centred below.
    step, gap = 0.9, 0.8
    total_width = 2 * step * (depth - 1) + box_w + gap
    position = {level: (step * (k - 1), -(k - 1)) for k, level in enumerate(encoders, start=1)}
    position[encoders[-1]] = ((total_width - box_w) / 2, -(depth - 1))
    for level in decoders:
        k = int(level[3:])
        position[level] = (total_width - step * (k - 1) - box_w, -(k - 1))
    centre = total_width / 2

    def box(level, colour, label):
        x, y = position[level]
        ax.add_patch(FancyBboxPatch((x, y - box_h / 2), box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=colour, edgecolor="black", linewidth=0.6, alpha=0.9))
        row = levels.loc[level]
        ax.text(x + box_w / 2, y, tr("{level}\n{channels} filters, {side}×{side}", level=label, channels=row["channels"], side=row["side"]),
                ha="center", va="center", fontsize=6.5)

    def arrow(start, end, colour="black", style="-|>", rad=0.0, ls="-", lw=0.8):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=7, color=colour, lw=lw,
                                     linestyle=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0))

    for k, level in enumerate(encoders, start=1):
        box(level, "#cfe3f3" if k < depth else "#f3e2c7", tr("{level} (bottleneck)", level=level) if k == depth else level)
        if k < depth:
            x, y = position[level]
            nx, ny = position[encoders[k]]
            arrow((x + box_w * 0.5, y - box_h / 2), (nx + box_w * 0.3, ny + box_h / 2))
            ax.text((x + nx) / 2 + box_w * 0.2, (y + ny) / 2, tr("pool"), fontsize=6, ha="right", va="center", color="0.3")
    previous = encoders[-1]
    for level in decoders:
        box(level, "#d5eedf", level)
        x, y = position[level]
        px, py = position[previous]
        arrow((px + box_w * 0.7, py + box_h / 2), (x + box_w * 0.5, y - box_h / 2))
        ax.text((x + px) / 2 + box_w * 0.85, (y + py) / 2, tr("up"), fontsize=6, ha="left", va="center", color="0.3")
        enc = "enc" + level[3:]
        ex, ey = position[enc]
        arrow((ex + box_w, ey), (x, y), colour=OKABE_ITO["blue"], ls="--")
        previous = level
    shortcut_colour = OKABE_ITO["vermillion"]
    for level in encoders + decoders:
        if f"{level}_add" in names:  # an arc on the outer side, from the level's input to its output
            x, y = position[level]
            if level.startswith("enc"):
                arrow((x, y + box_h / 2 - 0.06), (x, y - box_h / 2 + 0.06), colour=shortcut_colour, rad=0.9, lw=1.0)
            else:
                arrow((x + box_w, y - box_h / 2 + 0.06), (x + box_w, y + box_h / 2 - 0.06), colour=shortcut_colour, rad=0.9, lw=1.0)
    # Input and output.
    x1, y1 = position["enc1"]
    d1x, d1y = position[decoders[-1]]
    ax.text(x1 + box_w / 2, y1 + 0.75, tr("input {side}×{side}×{channels}", side=levels.loc["input", "side"], channels=levels.loc["input", "channels"]),
            ha="center", fontsize=6.5)
    arrow((x1 + box_w / 2, y1 + 0.65), (x1 + box_w / 2, y1 + box_h / 2))
    ax.text(d1x + box_w / 2, d1y + 0.75, tr("head: sigmoid, {side}×{side}×1", side=levels.loc["head", "side"]),
            ha="center", fontsize=6.5)
    arrow((d1x + box_w / 2, d1y + box_h / 2), (d1x + box_w / 2, d1y + 0.65))
    handles = [Line2D([], [], color=OKABE_ITO["blue"], ls="--", label=tr("skip (concatenate)"))]
    if any(f"{lv}_add" in names for lv in encoders + decoders):
        handles.append(Line2D([], [], color=shortcut_colour, label=tr("residual shortcut (add)")))
    ax.legend(handles=handles, loc="lower left", frameon=False, fontsize=7)
    arch = NETWORK_NAMES.get(config.get("arch"), model.name)
    title = tr("{arch} ({preset} preset): {parameters:,} parameters", arch=arch, preset=config.get("preset", "?"), parameters=model.count_params())
    ax.set_title(title)
    ax.set_xlim(-0.45, 2 * centre + 0.45)
    ax.set_ylim(-(depth - 1) - 0.6, 1.05)
    ax.set_aspect("auto")
    ax.axis("off")
    return fig


def plot_learning_curves(history: pd.DataFrame, loss: str | None = None) -> plt.Figure:
    """Training loss and validation ``tgs_score`` per epoch (``salt_lib.train``'s history.csv).
    The loss curve of each stage is named by its loss: ``loss`` for the first stage (the record's
    ``training["loss"]``; None: ``TrainConfig``'s default) and the Lovasz hinge for the optional
    second stage, which is shaded on both panels."""
    from salt_lib.train import TrainConfig

    names = {"main": LOSS_NAMES.get(loss or TrainConfig.loss, loss or TrainConfig.loss), "lovasz": LOSS_NAMES["lovasz"]}
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.5), layout="constrained")
    for stage, rows in history.groupby("stage", sort=False):
        left.plot(rows["epoch"], rows["loss"], marker="o", ms=3, label=tr(names.get(stage, stage)))
    right.plot(history["epoch"], history["val_tgs_score"], marker="o", ms=3, color=OKABE_ITO["green"])
    best = history["val_tgs_score"].idxmax()
    right.scatter(history.loc[best, "epoch"], history.loc[best, "val_tgs_score"], s=40, facecolors="none",
                  edgecolors=OKABE_ITO["vermillion"], zorder=3, label=tr("best (epoch {epoch})", epoch=history.loc[best, "epoch"]))
    lovasz = history[history["stage"] == "lovasz"]
    for ax in (left, right):
        if len(lovasz):  # one legend entry for the shading, in the left panel's legend
            ax.axvspan(lovasz["epoch"].min() - 0.5, lovasz["epoch"].max() + 0.5, color="0.92", zorder=0,
                       label=tr("Lovasz fine-tuning stage") if ax is left else None)
        ax.set_xlabel(tr("epoch"))
    left.set_ylabel(tr("training loss (of its stage)"))
    right.set_ylabel(tr("validation tgs_score"))
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    fig.legend(handles=handles, frameon=False, loc="outside lower center", ncol=len(handles))
    return fig


def plot_result_runs(runs: dict[str, dict]) -> plt.Figure:
    """Training loss and validation ``tgs_score`` (no TTA, threshold tuned each epoch) per epoch of
    runs read by ``salt_lib.evaluate.read_result_runs``; each run's kept (best) epoch is circled."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4), layout="constrained")
    colours = [OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["green"], OKABE_ITO["vermillion"]]
    for colour, (name, run) in zip(colours, runs.items()):
        history, record = run["history"], run["record"]
        label = tr("{arch} thesis ({millions:.1f} M)", arch=record["arch"], millions=record["parameters"] / 1e6)
        left.plot(history["epoch"], history["loss"], color=colour, lw=1, label=label)
        right.plot(history["epoch"], history["val_tgs_score"], color=colour, lw=1, label=label)
        best = history.loc[history["epoch"] == record["best_epoch"]]
        right.scatter(best["epoch"], best["val_tgs_score"], s=40, facecolors="none", edgecolors=colour, zorder=3)
    left.set_yscale("log")
    left.set_ylabel(tr("training loss (BCE)"))
    right.set_ylabel(tr("validation tgs_score"))
    for ax in (left, right):
        ax.set_xlabel(tr("epoch"))
    right.legend(frameon=False, loc="lower right", title=tr("circle: kept epoch"), title_fontsize="small")
    return fig


def plot_threshold_sweep(sweep: pd.DataFrame, chosen: float, empty_share: float | None = None) -> plt.Figure:
    """Validation ``tgs_score`` against the probability threshold, the chosen threshold marked
    with its score. With ``empty_share`` (the share of validation tiles without salt) a dotted
    line marks the score when no pixel is called salt (each empty tile scores 1 and each tile with
    salt 0): where the curve falls to it at high thresholds, the fall ("cliff") is where the
    threshold passes the probabilities the network gives salt, and it is marked."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH * 1.4, 2.9), layout="constrained")
    ax.plot(sweep["threshold"], sweep["tgs_score"], marker="o", ms=2.5, color=OKABE_ITO["blue"])
    at = int(np.argmin(np.abs(sweep["threshold"].to_numpy(dtype=float) - chosen)))
    score = float(sweep["tgs_score"].iloc[at])
    ax.axvline(chosen, color=OKABE_ITO["vermillion"], ls="--", lw=1,
               label=tr("chosen threshold {threshold:.3f} (score {score:.3f} before the minimum size)", threshold=chosen, score=score))
    ax.plot([sweep["threshold"].iloc[at]], [score], "o", ms=6, mfc="none", color=OKABE_ITO["vermillion"])
    if empty_share is not None:
        ax.axhline(empty_share, color="0.4", ls=":", lw=1,
                   label=tr("share of empty tiles ({share:.3f}): the score when no pixel is called salt\n"
                            "(every empty tile scores 1, every salt tile 0)", share=empty_share))
        # The cliff: the first threshold past the best one where the score is below halfway down.
        scores, thresholds = sweep["tgs_score"].to_numpy(dtype=float), sweep["threshold"].to_numpy(dtype=float)
        peak = int(np.argmax(scores))
        below = np.flatnonzero((np.arange(len(scores)) > peak) & (scores < (scores[peak] + empty_share) / 2))
        # Marked only where the curve really falls to the plateau (within 0.05 of the share).
        if len(below) and scores[below[0]:].min() < empty_share + 0.05:
            x, y = thresholds[below[0]], scores[below[0]]
            right_side = x > thresholds.min() + 0.7 * np.ptp(thresholds)
            ax.annotate(tr("cliff"), (x, y), xytext=(-12 if right_side else 12, 12), textcoords="offset points",
                        ha="right" if right_side else "left", fontsize=7, arrowprops={"arrowstyle": "-", "lw": 0.6, "color": "0.3"})
    ax.set(xlabel=tr("probability threshold"), ylabel=tr("validation tgs_score"))
    fig.legend(frameon=False, loc="outside lower center", fontsize=7)
    return fig


def case_row(tiles, indices, predicted_masks, scores, kinds=None) -> dict:
    """One row for ``plot_cases``: the tiles at ``indices`` with their labelled and predicted
    masks, titled with the tile's id, its score and its salt coverage, under the kind of failure
    each shows where ``kinds`` (one per index, ``evaluate.failure_cases``) is given."""
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
    fig.legend(handles=_legend_handles(prediction=True), loc="outside lower center", ncol=2, frameon=False)
    return fig


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
        ax.bar(position, table[name], width, label=name, yerr=error, capsize=2, error_kw={"lw": 0.8})
    if "coverage_class" in table:  # "0-10" under the tick reads better than "(0, 10] %"
        classes = [tr("empty") if k == 0 else f"{10 * k - 10}–{10 * k}" for k in table["coverage_class"]]
    else:
        classes = [tr(value) for value in table["coverage"]]
    ax.set_xticks(x, [f"{name}\n(n={tiles:,})" for name, tiles in zip(classes, table["tiles"])], fontsize=7)
    ax.set_xlim(-0.5, len(table) - 0.5)
    ax.set(xlabel=tr("salt coverage of the tile (%); n: test tiles in the class"), ylabel=tr("mean tgs_score"), ylim=(0, 1.05))
    fig.legend(frameon=False, ncol=len(models), loc="outside upper center")
    return fig


def plot_paired_difference(resampled_means, result: dict, label: str) -> plt.Figure:
    """Histogram of the bootstrap means of a per-tile score difference, with its mean, its 95 %
    interval (``evaluate.paired_bootstrap``) and zero marked, each named in the legend."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH * 1.4, 2.7), layout="constrained")
    ax.hist(resampled_means, bins=40, color=OKABE_ITO["blue"], alpha=0.8)
    ax.axvline(0, color="black", lw=0.8, label=tr("zero: no difference"))
    ax.axvline(result["mean_difference"], color=OKABE_ITO["vermillion"], lw=1.2, label=tr("mean difference"))
    for k, bound in enumerate((result["low"], result["high"])):
        ax.axvline(bound, color=OKABE_ITO["vermillion"], ls="--", lw=1, label=tr("95 % interval bounds") if k == 0 else None)
    ax.set(xlabel=tr("{label} (tgs_score)", label=label), ylabel=tr("bootstrap resamples"))
    fig.legend(frameon=False, loc="outside lower center", ncol=3, fontsize=7)
    return fig


