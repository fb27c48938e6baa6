"""Chapters 4 and 5, one network each: its architecture drawn level by level and counted, its
learning curves, the threshold sweep, and the chapter's findings from the model's record,
history and test scores."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from salt_lib.evaluate import threshold_plateau
from salt_lib.models import parameter_count, preset_name
from salt_lib.report.sentences import with_interval
from salt_lib.report.style import FULL_WIDTH, HALF_WIDTH, NEUTRAL_COLOUR
from salt_lib.report.words import LOSS_NAMES, NETWORK_NAMES, tr


def parameter_counts(arch: str, preset: str = "lite", overrides: dict | None = None) -> pd.DataFrame:
    """Parameters of this chapter's model and of the source thesis's (the ``thesis`` preset, built
    only to be counted)."""
    rows = []
    for label, (chosen_preset, chosen_overrides) in {"this chapter": (preset, overrides or {}), "thesis (source thesis)": ("thesis", {})}.items():
        name = preset_name(chosen_preset)  # once: an old name warns once
        rows.append({"model": label, "arch": arch, "preset": name,
                     "overrides": json.dumps(chosen_overrides, sort_keys=True),
                     "parameters": parameter_count(arch, name, chosen_overrides)})
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
        arrow((ex + box_w, ey), (x, y), colour="0.45", ls="--")
        previous = level
    shortcut_colour = "black"
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
    handles = [Line2D([], [], color="0.45", ls="--", label=tr("skip (concatenate)"))]
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
    Each stage's loss is its own line, named by its loss: ``loss`` for the first stage (the
    record's ``training["loss"]``; None: ``TrainConfig``'s default), solid on the left axis, and the
    Lovasz hinge of the optional second stage, dashed on its own axis at the right of the panel,
    since the two losses have different units. The second stage is shaded on both panels; the
    kept (best) epoch is circled."""
    from salt_lib.train import TrainConfig

    names = {"main": LOSS_NAMES.get(loss or TrainConfig.loss, loss or TrainConfig.loss), "lovasz": LOSS_NAMES["lovasz"]}
    fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.6), layout="constrained")
    stages = list(dict.fromkeys(history["stage"]))
    second = left.twinx() if len(stages) > 1 else None
    if second is not None:
        second.spines["right"].set_visible(True)
    for k, stage in enumerate(stages):
        rows = history[history["stage"] == stage]
        ax = left if k == 0 else second
        name = tr(names.get(stage, stage))
        side = "" if second is None else tr("{loss} (right axis)" if k else "{loss} (left axis)", loss=name)
        ax.plot(rows["epoch"], rows["loss"], marker="o" if k == 0 else "^", ms=3, color=NEUTRAL_COLOUR,
                ls="-" if k == 0 else "--", label=side or name)
        ax.set_ylabel(tr("training loss: {loss}", loss=name))
    right.plot(history["epoch"], history["val_tgs_score"], marker="o", ms=3, color=NEUTRAL_COLOUR)
    best = history["val_tgs_score"].idxmax()
    right.scatter(history.loc[best, "epoch"], history.loc[best, "val_tgs_score"], s=45, facecolors="none",
                  edgecolors="black", linewidths=1.1, zorder=3, label=tr("best (epoch {epoch})", epoch=history.loc[best, "epoch"]))
    lovasz = history[history["stage"] == "lovasz"]
    for ax in (left, right):
        if len(lovasz):  # one legend entry for the shading
            ax.axvspan(lovasz["epoch"].min() - 0.5, lovasz["epoch"].max() + 0.5, color="0.9", zorder=0,
                       label=tr("Lovasz fine-tuning stage") if ax is left else None)
        ax.set_xlabel(tr("epoch"))
    right.set_ylabel(tr("validation tgs_score"))
    losses = [line for ax in (left, second) if ax is not None for line in ax.get_lines()]
    handles = losses + [h for ax in (left, right) for h in ax.get_legend_handles_labels()[0] if h not in losses]
    fig.legend(handles=handles, frameon=False, loc="outside lower center", ncol=min(len(handles), 4), fontsize=7)
    return fig


LOVASZ_BACKGROUND = float(1 / (1 + np.exp(1)))  # sigmoid(-1) = 0.269: where a Lovasz-trained network puts background


def plot_threshold_sweep(sweep: pd.DataFrame, chosen: float, empty_share: float | None = None) -> plt.Figure:
    """Validation ``tgs_score`` against the probability threshold, the chosen threshold marked
    with its score. With ``empty_share`` (the share of validation tiles without salt) a dotted
    line marks the score when no pixel is called salt (each empty tile scores 1 and each tile with
    salt 0): where the curve falls to it at high thresholds, the fall ("cliff") is where the
    threshold passes the probabilities the network gives salt, and it is marked."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH * 1.4, 3.2), layout="constrained")
    ax.plot(sweep["threshold"], sweep["tgs_score"], marker="o", ms=2.5, color=NEUTRAL_COLOUR)
    at = int(np.argmin(np.abs(sweep["threshold"].to_numpy(dtype=float) - chosen)))
    score = float(sweep["tgs_score"].iloc[at])
    ax.axvline(chosen, color="black", ls="--", lw=1,
               label=tr("chosen threshold {threshold:.3f} (score {score:.3f} before the minimum size)", threshold=chosen, score=score))
    ax.plot([sweep["threshold"].iloc[at]], [score], "o", ms=6, mfc="none", color="black")
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
    jump = threshold_jump(sweep)
    if jump is not None:
        low, high = jump
        at_background = low - 0.01 <= LOVASZ_BACKGROUND <= high + 0.01
        ax.axvspan(low, high, color="0.85", zorder=0,
                   label=tr("jump between thresholds {low:.3f} and {high:.3f}: the background probabilities cluster\n"
                            "at sigmoid(-1) = {at:.3f} (Lovasz logits near -1); below it nearly every pixel is salt",
                            low=low, high=high, at=LOVASZ_BACKGROUND) if at_background else
                   tr("jump between thresholds {low:.3f} and {high:.3f}: many probabilities lie between them",
                      low=low, high=high))
        if at_background:
            ax.axvline(LOVASZ_BACKGROUND, color="0.5", lw=0.6, zorder=0)
    ax.set(xlabel=tr("probability threshold"), ylabel=tr("validation tgs_score"))
    fig.legend(frameon=False, loc="outside lower center", fontsize=7)
    return fig


def threshold_jump(sweep: pd.DataFrame, size: float = 0.1) -> tuple[float, float] | None:
    """The two neighbouring thresholds of ``sweep`` (``evaluate.threshold_sweep``) between which
    the score rises most, where it rises by more than ``size``; None where it never does. A jump
    means many probabilities lie between the two (a Lovasz-trained network's background sits at
    sigmoid(-1) = 0.269, ``LOVASZ_BACKGROUND``)."""
    scores, thresholds = sweep["tgs_score"].to_numpy(dtype=float), sweep["threshold"].to_numpy(dtype=float)
    if len(scores) < 2:
        return None
    rise = np.diff(scores)
    k = int(np.argmax(rise))
    return (float(thresholds[k]), float(thresholds[k + 1])) if rise[k] > size else None


def model_findings(record: dict, history: pd.DataFrame, scores: pd.DataFrame) -> list[str]:
    """A model chapter's findings from its record (training, selection, validation), its history
    and its test score table (``evaluate.score_table``: ``score``, ``value``, ``ci_low``, ``ci_high``)."""
    test = scores.set_index("score")
    sentences = []
    if len(history):
        sentences.append(_training_sentence(record, history))
    val = record.get("val", {})
    if val:
        sentences.append(tr("Validation chose the threshold {threshold} and the minimum salt region {min_size} px; there the "
                            "model scores {score:.3f} (flip TTA), an optimistic number since the same tiles chose the epoch "
                            "and both settings.", threshold=record.get("threshold"), min_size=record.get("min_size"),
                            score=val.get("tgs_score_min_size", val.get("tgs_score"))))
    row = test.loc["tgs_score"]
    interval = with_interval(row["value"], row["ci_low"], row["ci_high"])
    if val.get("tgs_score_min_size"):
        gap = val["tgs_score_min_size"] - row["value"]
        sentences.append(tr("On the test tiles, scored once: tgs_score {interval}, {gap:.3f} below the validation score." if gap > 0 else
                            "On the test tiles, scored once: tgs_score {interval}, {gap:.3f} above the validation score.",
                            interval=interval, gap=abs(gap)))
    else:
        sentences.append(tr("On the test tiles, scored once: tgs_score {interval}.", interval=interval))
    if "thesis_iou_metric" in test.index:
        same = abs(test.loc["thesis_iou_metric", "value"] - row["value"]) < 1e-9
        sentences.append(tr("The source thesis's stepwise IoU metric gives {value:.3f}, the same: the two differ only for a tile "
                            "whose IoU is exactly one of the thresholds 0.50, 0.55, ..., 0.95 (chapter 7)." if same else
                            "The source thesis's stepwise IoU metric gives {value:.3f}, not the same: some tiles have an IoU "
                            "exactly on a threshold (chapter 7).", value=test.loc["thesis_iou_metric", "value"]))
    return sentences


def _training_sentence(record: dict, history: pd.DataFrame) -> str:
    """How long the model of ``record`` trained, with which losses, which epoch it kept and, with ten
    epochs or more, whether the last five epochs' validation score is above or below the five before."""
    training, stages = record.get("training", {}), history["stage"].value_counts()
    loss = tr(LOSS_NAMES.get(training.get("loss"), training.get("loss")))
    losses = (tr("{main} {loss} + {lovasz} Lovasz hinge", main=stages.get("main", 0), loss=loss, lovasz=stages.get("lovasz", 0))
              if stages.get("lovasz", 0) else tr("{main} {loss}", main=stages.get("main", 0), loss=loss))
    sentence = tr("Trained {epochs} epochs ({losses}) in {minutes:.1f} minutes (cut short by the time cap); the kept weights are "
                  "from epoch {best_epoch}" if record.get("cut_by_time") else
                  "Trained {epochs} epochs ({losses}) in {minutes:.1f} minutes; the kept weights are from epoch {best_epoch}",
                  epochs=int(history["epoch"].max()), losses=losses, minutes=record.get("wall_seconds", 0) / 60,
                  best_epoch=record.get("best_epoch"))
    if len(history) >= 10:
        change = history["val_tgs_score"].iloc[-5:].mean() - history["val_tgs_score"].iloc[-10:-5].mean()
        sentence = tr("{sentence}; the validation score of the last five epochs averages {change:.3f} above that of the five before"
                      if change >= 0 else
                      "{sentence}; the validation score of the last five epochs averages {change:.3f} below that of the five before",
                      sentence=sentence, change=abs(change))
    return tr("{sentence}.", sentence=sentence)


def plateau_sentence(sweep: pd.DataFrame, tolerance: float = 0.005) -> str:
    """Where the validation score of ``sweep`` (``evaluate.threshold_sweep``) stays within
    ``tolerance`` of its best, as a sentence."""
    low, high = threshold_plateau(sweep, tolerance)
    return tr("Within {tolerance:g} of its best, the validation score holds for thresholds from {low:.2f} to {high:.2f}.",
              tolerance=tolerance, low=low, high=high)
