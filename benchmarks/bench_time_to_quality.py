"""Time to quality: training recipes side by side, on validation, minutes and images to a score.

Each arm is a named recipe (``ARMS``: ``salt_lib.recipes``' THESIS and DEFAULT; ``short``,
DEFAULT's two stages cut to 8 + 10 epochs; each speed lever of ``TrainConfig`` alone on
``short``; and stacks of them) trained on the real tiles (``--data``, the project's split: seed 0)
with the lite U-Net or ResUNet, one arm after the other. After every scored epoch the run's
history has the validation tgs_score (no TTA, threshold tuned on validation), the seconds of
training and of validation; only validation tiles are scored, never the test split.

Per arm the JSON reports the minutes and the training images seen until the curve first reaches
each level (0.60 ... 0.78), the best score at the end of the budget, the finished model's record
(flip TTA, as ``best.config.json`` stores it), and the seconds per epoch split into training and
validation. ``--idle`` says the runs had the cores to themselves; runs made beside other work are
marked ``contended`` and their minutes are then epochs x the seconds per epoch measured on idle
cores by ``--time-epochs`` (one short timing run per arm), which the JSON says.

Writes ``benchmarks/results/time_to_quality.json`` and ``.png`` (validation score against
minutes, all arms) and prints the README's line. Runs are resumable and reused:
``runs/time_to_quality/<arm>-<net>-s<seed>``; ``--reuse ARM=RUN_DIR`` takes a finished run of the
same settings (e.g. the architecture study's seed-2 U-Net for ``default``).

Run (the committed result): ``python benchmarks/bench_time_to_quality.py --data ../shared/tgs-salt
--seed 2 --arms default,short,short+early_crop,short+alternate_flips,short+warmup,stack_a,stack_b
--reuse default=results/seeds_architecture/unet-s2 --idle default --readme`` (the ``thesis`` arm is
kept from an earlier run of the same seed; the JSON's ``commands`` lists every run that added arms,
such as ``--arms stack_c --idle stack_c --readme``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import salt_lib.quiet  # noqa: E402,F401  (TensorFlow's start-up noise)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from salt_lib.files import atomic_write, portable_path  # noqa: E402
from salt_lib.recipes import DEFAULT, FAST, RECIPES, THESIS, Recipe, variant  # noqa: E402
from salt_lib.records import devices_of, load_record, read_history  # noqa: E402
from salt_lib.result_folders import is_result, read_record, read_result, read_results  # noqa: E402

LEVELS = (0.60, 0.70, 0.75, 0.78)
SHORT = variant(DEFAULT, "short", epochs=8, lovasz_epochs=10, patience=18)
# Each lever alone on SHORT (DEFAULT's two stages cut to 8 + 10 epochs), then stacks of them:
# stack_a all four on SHORT's epochs; stack_b DEFAULT's 22 first-stage epochs on 64 x 64 crops
# (a quarter of the pixels) and 10 Lovasz epochs on the whole input; stack_c DEFAULT's 22 + 22
# epochs, both stages on 64 x 64 crops; stack_d the same with the Lovasz stage on whole tiles
# (stack_b's with DEFAULT's 22 Lovasz epochs); stack_e 16 first-stage epochs on the whole input
# brought down to 64 x 64 (progressive resizing: the whole tile at half the scale), then 12 Lovasz
# epochs at 128; stack_f stack_d's schedule (22 + 22 epochs) with progressive resizing in place of
# its windows; stack_g stack_f with the last 4 of its 22 first-stage epochs on the whole input
# at 128 (the cosine and Adam's moments carried on), to close the gap between the scales before
# the Lovasz stage; narrow_fp32 DEFAULT's schedule on a network of half the width (8 filters at the
# first level instead of 16: a quarter of the parameters and about a quarter of the arithmetic),
# in float32, the precision of a CPU without native bfloat16; default_fp32 DEFAULT itself in
# float32 (narrow_fp32's twin at the full width, which tells the width's cost from the precision's).
# ``short+batch_size`` doubles the batch and, as is usual for Adam, both stages' learning rates with
# it (the same images an epoch, half the steps).
ARMS: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    THESIS, DEFAULT, SHORT,
    variant(SHORT, "short+warmup", warmup_epochs=1, learning_rate=2e-3),
    variant(SHORT, "short+early_crop", early_crop=96),
    variant(SHORT, "short+alternate_flips", alternate_flips=True),
    variant(SHORT, "short+val_every", val_every=2),
    variant(SHORT, "short+ema", ema_momentum=0.99),
    variant(SHORT, "short+lovasz_crop", lovasz_crop=64),
    variant(SHORT, "short+batch_size", batch_size=64, learning_rate=2e-3, lovasz_learning_rate=6e-4),
    variant(SHORT, "stack_a", warmup_epochs=1, learning_rate=2e-3, early_crop=96, alternate_flips=True, val_every=2),
    variant(DEFAULT, "stack_b", lovasz_epochs=10, patience=32, early_crop=64, alternate_flips=True, val_every=2),
    variant(DEFAULT, "stack_c", early_crop=64, lovasz_crop=64, alternate_flips=True, val_every=2),
    variant(DEFAULT, "stack_d", early_crop=64, alternate_flips=True, val_every=2),
    variant(SHORT, "short+early_size", early_size=64),
    variant(DEFAULT, "stack_e", epochs=16, early_size=64, lovasz_epochs=12, patience=28, alternate_flips=True, val_every=2),
    variant(DEFAULT, "stack_f", early_size=64, alternate_flips=True, val_every=2),
    variant(DEFAULT, "stack_g", early_size=64, early_size_epochs=18, alternate_flips=True, val_every=2),
    variant(DEFAULT, "narrow_fp32", overrides={"filters": 8, "precision": "float32"}),
    variant(DEFAULT, "default_fp32", overrides={"precision": "float32"}),
    FAST,
)}
# The arms the README's sentence names and the figure draws bold (those that have run).
HEADLINE = ("default", "fast", "stack_b", "stack_e", "stack_f", "stack_g")


def first_reaching(history: pd.DataFrame, level: float, column: str) -> float | None:
    """``column`` (minutes or images) at the first epoch whose validation score reaches ``level``."""
    reached = history[history["val_tgs_score"] >= level]
    return None if reached.empty else float(reached[column].iloc[0])


def minutes_to(result: dict, arm: str, level: str = "0.78") -> str:
    value = result["arms"][arm]["reach"][level]["minutes"]
    return "not reached" if value is None else f"{value:.0f} min"


def recipe_of(arm: str) -> str | None:
    """The recipe of ``salt_lib.recipes`` that ``arm`` trains by, where it goes by another name
    there (``stack_g`` is ``progressive``)."""
    return next((name for name, recipe in RECIPES.items() if name != arm and arm in ARMS
                 and (recipe.overrides, recipe.training) == (ARMS[arm].overrides, ARMS[arm].training)), None)


def arm_label(arm: str) -> str:
    """An arm's name in the sentence and the figure, with the recipe it is where it has one."""
    recipe = recipe_of(arm)
    return f"{arm} (the recipe {recipe})" if recipe else arm


def sentence(result: dict, level: str = "0.78", arms=HEADLINE) -> str:
    """The README's line, from the JSON this script writes; an arm that is a named recipe says so."""
    present = [arm for arm in arms if arm in result["arms"]]
    parts = [f"{arm_label(arm)} {minutes_to(result, arm, level)}" for arm in present]
    machine = f"; {result['cpu'].removeprefix('cpu ')}" if result.get("cpu") else ""
    return f"minutes to reach {level} on validation (lite U-Net, seed {result['seed']}{machine}): " + ", ".join(parts)


def arms_table(result: dict) -> str:
    """The arms as a Markdown table (benchmarks/README.md quotes it): epochs, minutes, minutes to
    0.75 and 0.78, the best per-epoch score and the finished model's score (flip TTA)."""

    def cell(value, digits=1):
        return "-" if value is None else f"{value:.{digits}f}"

    lines = ["| arm | epochs | minutes | to 0.75 | to 0.78 | best val (per epoch) | finished val (flip TTA) | minutes from | CPU |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, arm in result["arms"].items():
        lines.append(f"| {name} | {arm['epochs']} | {cell(arm['minutes'])} | {cell(arm['reach']['0.75']['minutes'])} | "
                     f"{cell(arm['reach']['0.78']['minutes'])} | {cell(arm['best_val_tgs_score'], 4)} | "
                     f"{cell(arm['final_val_tgs_score_tta'], 4)} | {arm['minutes_from']} | {arm.get('cpu', NOT_RECORDED)} |")
    return "\n".join(lines)


# What an arm measured before its timings named their CPU says it was timed on.
NOT_RECORDED = "not recorded"
SEVERAL = "several machines: "  # a run resumed elsewhere: its own seconds time no one CPU


def lever_rows(result: dict, reference: str = "short") -> list[dict]:
    """Each arm built on ``reference`` (the levers alone, ``short+...``, and the stacks) against it:
    the best per-epoch validation score, the finished model's (flip TTA) and the minutes, each
    with its change from ``reference``; one training seed per arm (the result's). Minutes timed on
    another CPU than the reference's (or on one not recorded) have no change: None."""
    arms = result["arms"]
    if reference not in arms:
        return []
    base = arms[reference]
    rows = []
    for name, arm in arms.items():
        if not (name.startswith(reference + "+") or name.startswith("stack_")):
            continue
        rows.append({"arm": name, "seeds": 1,
                     "best": arm["best_val_tgs_score"], "best_change": arm["best_val_tgs_score"] - base["best_val_tgs_score"],
                     "finished": arm["final_val_tgs_score_tta"],
                     "finished_change": arm["final_val_tgs_score_tta"] - base["final_val_tgs_score_tta"],
                     "minutes": arm["minutes"],
                     "minutes_change": arm["minutes"] - base["minutes"] if arm.get("cpu", NOT_RECORDED) == base.get("cpu", NOT_RECORDED)
                     else None})
    return rows


def lever_table(result: dict, reference: str = "short") -> str:
    """``lever_rows`` as a Markdown table (benchmarks/README.md quotes it)."""
    rows = lever_rows(result, reference)
    if not rows:
        return ""
    lines = [f"| arm | seeds | best val (per epoch) | vs {reference} | finished val (flip TTA) | vs {reference} | minutes | vs {reference} |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['arm']} | {row['seeds']} | {row['best']:.4f} | {row['best_change']:+.4f} | {row['finished']:.4f} | "
                     f"{row['finished_change']:+.4f} | {row['minutes']:.1f} | "
                     + ("another CPU |" if row["minutes_change"] is None else f"{row['minutes_change']:+.1f} |"))
    return "\n".join(lines)


RECIPE_TOLERANCE = 0.003  # how far below DEFAULT's mean a faster recipe's finished validation score may be


def recipe_rows(results_root: Path = REPO / "results", recipe: str = "fast") -> list[dict]:
    """``recipe`` against DEFAULT for each network, on validation (flip TTA, the finished model's
    score as its record stores it): the recipe's seeds (``results/seeds_recipe_<recipe>_<arch>``,
    ``python -m salt_lib study recipe_<recipe>_<arch>``) and DEFAULT's (``results/seeds_architecture``).
    Each recipe study's folder is read once, for its scores and for the pairing with DEFAULT."""

    def scores(runs: dict, arm: str) -> dict[int, float]:
        return {int(run.record["seed"]): float(run.record["val"]["tgs_score"]) for run in runs.values() if run.record["arm"] == arm}

    rows = []
    for arch in ("unet", "resunet"):
        runs = results_in(results_root / f"seeds_recipe_{recipe}_{arch}")
        faster = scores(runs, recipe)
        default = {int(record["seed"]): float(record["val"]["tgs_score"]) for record in
                   (read_record(run) for run in sorted((results_root / "seeds_architecture").glob(f"{arch}-s*")) if is_result(run))}
        if not faster or not default:
            continue
        val, default_val = float(np.mean(list(faster.values()))), float(np.mean(list(default.values())))
        rows.append({"network": arch, "seeds": sorted(faster), "by_seed": faster, "val": val,
                     "default_seeds": sorted(default), "default_by_seed": default, "default_val": default_val,
                     "difference": val - default_val, "within": val - default_val >= -RECIPE_TOLERANCE,
                     "paired": paired_with_default(runs, recipe)})
    return rows


def results_in(folder: Path) -> dict:
    """The result folders under ``folder`` (``result_folders.read_results``), none where there is none."""
    return read_results(folder) if folder.is_dir() and any(map(is_result, folder.iterdir())) else {}


def paired_with_default(runs: dict, recipe: str) -> dict | None:
    """``recipe`` - ``default`` on the validation tiles of a recipe study's ``runs``, over the seeds
    it ran both arms for (its ``default`` is DEFAULT's committed model of that seed, scored again):
    the mean difference and its 95 % interval from resampling seeds, then tiles
    (``salt_lib.study.paired_arm_table``, which pairs only the seeds both arms have). None where
    the study has no ``default`` run of a seed the recipe has."""
    from salt_lib.study import paired_arm_table

    seeds = {arm: {run.record["seed"] for run in runs.values() if run.record["arm"] == arm} for arm in ("default", recipe)}
    common = sorted(seeds["default"] & seeds[recipe])
    if not common:
        return None
    row = paired_arm_table(runs, "default", recipe, split="val").iloc[0]
    return {"seeds": common, "difference": float(row["difference_seeds_tiles"]),
            "low": float(row["difference_seeds_tiles_low"]), "high": float(row["difference_seeds_tiles_high"])}


def recipes_table(rows: dict[str, list[dict]]) -> str:
    """``recipe_rows`` of each recipe ({recipe: rows}) as one Markdown table (benchmarks/README.md
    quotes it): by network, DEFAULT's seeds and then each recipe's, every seed's score shown so the
    spread between seeds reads beside the difference of the means."""
    names = {"unet": "U-Net", "resunet": "ResUNet"}
    by_network = {}
    for recipe, found in rows.items():
        for row in found:
            by_network.setdefault(row["network"], []).append((recipe, row))
    if not by_network:
        return ""

    def by_seed(scores: dict) -> str:
        return ", ".join(f"{seed}: {val:.4f}" for seed, val in sorted(scores.items()))

    def pairing(paired: dict | None) -> str:
        if not paired:
            return "-"
        return (f"seed{'s' if len(paired['seeds']) > 1 else ''} {', '.join(map(str, paired['seeds']))}: "
                f"{paired['difference']:+.4f} [{paired['low']:+.4f}, {paired['high']:+.4f}]")

    lines = [f"| network | recipe | val by seed | mean val | recipe - default | within {RECIPE_TOLERANCE} | "
             "paired with default on the same tiles [95 % interval] |", "|---|---|---|---|---|---|---|"]
    for network in ("unet", "resunet"):
        if network not in by_network:
            continue
        first = by_network[network][0][1]
        lines.append(f"| {names[network]} | default | {by_seed(first['default_by_seed'])} | {first['default_val']:.4f} | | | |")
        for recipe, row in by_network[network]:
            lines.append(f"| {names[network]} | {recipe} | {by_seed(row['by_seed'])} | {row['val']:.4f} | "
                         f"{row['difference']:+.4f} | {'yes' if row['within'] else 'no'} | {pairing(row['paired'])} |")
    return "\n".join(lines)


BLOCK_START = "<!-- time to quality: generated by benchmarks/bench_time_to_quality.py --readme; do not edit by hand -->"
BLOCK_END = "<!-- end of time to quality -->"


# The faster recipes of salt_lib.recipes whose finished models are set against DEFAULT's by network.
FASTER_RECIPES = ("fast", "progressive")


def readme_blocks(result: dict, results_root: Path = REPO / "results") -> dict[str, str]:
    """What the READMEs show of the result, by file: README.md the sentence, benchmarks/README.md
    the sentence, the arms table, the levers against ``short`` and each of ``FASTER_RECIPES``
    against DEFAULT by network (those with a finished run)."""
    line = f"**{sentence(result)}**"
    levers = lever_table(result)
    recipes = recipes_table({recipe: recipe_rows(results_root, recipe) for recipe in FASTER_RECIPES})
    return {"README.md": line,
            "benchmarks/README.md": line + "\n\n" + arms_table(result) + (
                "\n\nEach lever alone and each stack against `short`, the same schedule without levers:\n\n" + levers if levers else "") + (
                "\n\nThe finished models of each faster recipe (`salt_lib.recipes`) and of `default`, by network "
                "(validation tgs_score with flip TTA, as each record stores it). Where a recipe's study also scored "
                "DEFAULT's committed model of a seed, the last column sets the two on the same validation tiles (the "
                "study's per-tile scores, after the small-mask removal chosen on validation), with a 95 % interval "
                f"from resampling seeds, then tiles:\n\n{recipes}" if recipes else "")}


def write_readme_blocks(result: dict, root: Path = REPO) -> None:
    """Replace the generated block (between ``BLOCK_START`` and ``BLOCK_END``) of each README."""
    for name, text in readme_blocks(result).items():
        path = root / name
        content = path.read_text()
        if BLOCK_START not in content or BLOCK_END not in content:
            raise SystemExit(f"{path}: has no generated time-to-quality block ({BLOCK_START} ... {BLOCK_END})")
        head, rest = content.split(BLOCK_START, 1)
        tail = rest.split(BLOCK_END, 1)[1]
        with atomic_write(path) as partial:
            partial.write_text(f"{head}{BLOCK_START}\n{text}\n{BLOCK_END}{tail}")


def images_per_epoch(train_tiles: int, training: dict) -> int:
    return train_tiles * (2 if training.get("augment") == "mirror" else 1)


def curve(history: pd.DataFrame, train_tiles: int, training: dict, costs: dict | None = None) -> pd.DataFrame:
    """A run's ``history`` with ``minutes`` and ``images_seen`` after each epoch. With ``costs``
    ({stage: {"train_seconds", "val_seconds"}}, measured on idle cores) an epoch takes its stage's
    training seconds plus, when it was scored, the validation seconds; otherwise the minutes are
    the run's own elapsed time."""
    history = history.copy()
    if costs:
        scored = history["val_tgs_score"].notna()
        stages = timing_stages(history, training)
        seconds = stages.map(lambda stage: costs[stage]["train_seconds"]) \
            + scored * stages.map(lambda stage: costs[stage]["val_seconds"])
        history["minutes"] = seconds.cumsum() / 60
    else:
        history["minutes"] = history["elapsed_seconds"] / 60
    per_epoch = images_per_epoch(train_tiles, training)
    history["images_seen"] = np.arange(1, len(history) + 1) * per_epoch
    return history


# The first stage's epochs after ``early_size_epochs`` train on the whole input: timed as this stage.
WHOLE = "main_whole"


def timing_stages(history: pd.DataFrame, training: dict | None = None) -> pd.Series:
    """The stage each epoch of ``history`` is timed as: its own, but ``WHOLE`` for the first
    stage's epochs after its first ``early_size_epochs`` (those at ``early_size``)."""
    stages = history["stage"].copy()
    training = training or {}
    if WHOLE in arm_stages(training):
        main = stages.index[stages == "main"]
        stages.loc[main[training["early_size_epochs"]:]] = WHOLE
    return stages


def epoch_costs(history: pd.DataFrame, training: dict | None = None) -> dict:
    """Median seconds of each stage's epochs (``timing_stages``): training, and validation where an
    epoch was scored."""
    costs = {}
    for stage, rows in history.groupby(timing_stages(history, training), sort=False):
        scored = rows[rows["val_tgs_score"].notna()]
        if "val_seconds" in rows:
            val = scored["val_seconds"]
        else:  # older histories: the epoch's elapsed time less its training
            val = (rows["elapsed_seconds"].diff().fillna(rows["elapsed_seconds"]) - rows["train_seconds"])[scored.index]
        costs[stage] = {"train_seconds": round(float(rows["train_seconds"].median()), 1),
                        "val_seconds": round(float(val.median()), 1) if len(val) else 0.0}
    return costs


def stage_signature(arch: str, recipe: Recipe, stage: str) -> str:
    """What one epoch of ``stage`` (one of ``arm_stages``) costs depends on: the network and its
    options, the batch, the loss, the input the stage trains on (a crop or a smaller size of it,
    or the whole input) and whether each step also updates a weight average (EMA), and whether its
    epochs are doubled (the 'mirror' policy adds every tile's mirror image to the training set)."""
    training = recipe.training
    loss = "lovasz" if stage == "lovasz" else training.get("loss", "bce_dice")
    crop = training.get("lovasz_crop" if stage == "lovasz" else "early_crop", 0)
    ema = {"ema": True} if training.get("ema_momentum") else {}
    size = {"size": training["early_size"]} if stage == "main" and training.get("early_size") else {}
    mirror = {"augment": "mirror"} if training.get("augment") == "mirror" else {}
    return json.dumps({"arch": arch, "overrides": recipe.overrides, "batch_size": training.get("batch_size", 32),
                       "loss": loss, "crop": crop} | ema | size | mirror, sort_keys=True)


def arm_run(run_dir: Path) -> tuple[pd.DataFrame, dict]:
    """A finished arm's history and record: a run folder (best.keras and its record), or a
    study's result folder (record.json, history.csv: ``salt_lib.study``)."""
    if is_result(run_dir):
        result = read_result(run_dir, need_history=True)
        return result.history, result.record
    return read_history(run_dir / "best.keras"), load_record(run_dir / "best.keras")


def check_same_training(record: dict, training: dict, name: str) -> None:
    """A reused run must have been trained with the arm's settings (budget included)."""
    from salt_lib.records import comparable_training
    from salt_lib.train import TrainConfig

    wanted = comparable_training(TrainConfig.from_dict(training).to_dict())
    saved = comparable_training(TrainConfig.from_dict(record["training"]).to_dict())
    if wanted != saved:
        differ = sorted(key for key in set(wanted) | set(saved) if wanted.get(key) != saved.get(key))
        raise SystemExit(f"--reuse {name}: that run differs from the arm in {', '.join(differ)}")


def arm_colour(name: str):
    """One colour an arm, the same in every figure: the headline arms the strong tab10 colours in
    HEADLINE's order, the others tab20b's muted ones in ARMS' order (more arms than one cycle has)."""
    if name in HEADLINE:
        return plt.cm.tab10(HEADLINE.index(name))
    others = [arm for arm in ARMS if arm not in HEADLINE]
    return plt.cm.tab20b(others.index(name) * 7 % 20) if name in others else "grey"  # neighbours apart in hue


def plot(curves: dict[str, pd.DataFrame], seed: int, cpus: dict[str, str] | None = None):
    """The curves against minutes and images; an arm timed on another CPU than ``default`` (by
    ``cpus``, arm -> CPU) is labelled so, since its minutes do not compare."""
    cpus = cpus or {}
    reference = cpus.get("default", NOT_RECORDED)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True, layout="constrained")
    for name, history in curves.items():
        scored = history[history["val_tgs_score"].notna()]
        style = {"lw": 2.2} if name in HEADLINE else {"lw": 1, "alpha": 0.8}
        style["color"] = arm_colour(name)
        label = arm_label(name) if cpus.get(name, NOT_RECORDED) == reference else f"{arm_label(name)} (another CPU)"
        axes[0].plot(scored["minutes"], scored["val_tgs_score"], marker=".", label=label, **style)
        axes[1].plot(scored["images_seen"] / 1000, scored["val_tgs_score"], marker=".", label=label, **style)
    axes[0].set_xlabel("minutes on 2 idle CPU cores")
    axes[1].set_xlabel("training images seen (thousands)")
    axes[0].set_ylabel("validation tgs_score (no TTA)")
    for ax in axes:
        ax.axhline(0.78, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0.55, 0.80)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()  # below the panels: on them it hides points
    fig.legend(handles, labels, title=f"arm (lite U-Net, seed {seed})", fontsize=8, loc="outside lower center", ncol=4)
    fig.suptitle("Time to quality: the validation score after every scored epoch (dotted: 0.78)")
    return fig


def this_machine() -> str:
    """The CPU that times an epoch now, in words (``hardware.describe_cpu``): a timing is a fact
    about one machine, and minutes added up from timings of two machines compare nothing."""
    import os

    from salt_lib.hardware import describe_cpu

    return describe_cpu(os.cpu_count())


def other_machines(timings: dict, machine: str) -> set[str]:
    """The machines other than ``machine`` that ``timings`` (``timings_by_cpu``) were measured on
    (NOT_RECORDED for an entry from before timings named theirs)."""
    return {cpu for by_cpu in timings_by_cpu(timings).values() for cpu in by_cpu} - {machine}


def timings_by_cpu(stored: dict) -> dict[str, dict[str, dict]]:
    """The idle timings as signature -> CPU -> seconds per epoch. A stage costs what the CPU makes
    of it, so one signature may be timed on several CPUs; an entry from before timings were kept
    per CPU (one cost, its ``cpu`` beside it or none) is read as the timing of that CPU."""
    by_signature = {}
    for signature, value in stored.items():
        if "train_seconds" in value:
            cpu = value.get("cpu", NOT_RECORDED)
            by_signature[signature] = {NOT_RECORDED if cpu == "unknown" else cpu: value}
        else:
            by_signature[signature] = dict(value)
    return by_signature


def costs_on(timings: dict, signatures: dict[str, str], cpu: str) -> dict | None:
    """Stage -> seconds per epoch on ``cpu``, when every stage's signature was timed there; else None."""
    if all(cpu in timings.get(signature, {}) for signature in signatures.values()):
        return {stage: timings[signature][cpu] for stage, signature in signatures.items()}
    return None


def arm_stages(training: dict) -> tuple[str, ...]:
    """The stages an arm is timed by (``timing_stages``)."""
    whole = (WHOLE,) if training.get("early_size") and training.get("early_size_epochs") else ()
    return ("main",) + whole + (("lovasz",) if training.get("lovasz_epochs") else ())


def arm_signatures(arch: str, recipe: Recipe, stages) -> dict[str, str]:
    return {stage: stage_signature(arch, recipe, stage) for stage in stages}


def run_machine(record: dict) -> str:
    """The CPU a run trained on, as its record names it (NOT_RECORDED for a record from before);
    for a run resumed on other machines, all of them with their epochs, after ``SEVERAL``."""
    segments = devices_of(record)
    machines = list(dict.fromkeys(segment["device"] or NOT_RECORDED for segment in segments))
    if len(machines) == 1:
        return machines[0]
    return SEVERAL + "; ".join(f"{segment['device'] or NOT_RECORDED} (epochs {segment['first_epoch']}-"
                               f"{segment['last_epoch']})" for segment in segments)


def minutes_source(idle: bool, run_cpu: str, timings: dict, signatures: dict[str, str], cpu: str):
    """Where an arm's minutes come from, as (costs or None, words, CPU): its own run where that had
    idle cores on ``cpu``; else its epochs x the seconds per epoch timed on ``cpu``; else its own
    idle run on another CPU; else the timings of one other CPU that has timed all its stages; else
    its own contended run, which is no speed result."""
    timed_here = costs_on(timings, signatures, cpu)
    if idle and run_cpu == cpu:
        return None, "the run itself, on idle cores", run_cpu
    if timed_here:
        return timed_here, "epochs x seconds per epoch measured on idle cores", cpu
    if idle:
        return None, "the run itself, on idle cores", run_cpu
    for other in sorted({machine for by_cpu in timings.values() for machine in by_cpu}):
        if costs := costs_on(timings, signatures, other):
            return costs, "epochs x seconds per epoch measured on idle cores", other
    return None, "the run itself, on CONTENDED cores (not a speed result)", run_cpu


def timed(history: pd.DataFrame, costs: dict, source: str, cpu: str) -> dict:
    """The parts of an arm's result that depend on its minutes: from ``history`` (``curve``'s)."""
    return {
        "minutes_from": source, "cpu": cpu,
        "epoch_costs": {stage: {k: v for k, v in cost.items() if k in ("train_seconds", "val_seconds", "from")}
                        for stage, cost in costs.items()},
        "best_val_tgs_score": round(float(history["val_tgs_score"].max()), 4),
        "minutes": round(float(history["minutes"].iloc[-1]), 1),
        "reach": {f"{level:.2f}": {"minutes": first_reaching(history, level, "minutes"),
                                   "images": first_reaching(history, level, "images_seen")} for level in LEVELS},
        "curve": {column: [None if value != value else value for value in values]  # unscored epochs: null
                  for column, values in history[["epoch", "stage", "minutes", "images_seen", "val_tgs_score"]]
                  .round(4).to_dict("list").items()},
    }


def time_stage(signature: str, dataset, epochs: int = 2) -> dict:
    """Seconds per epoch of the stage ``signature`` describes, measured now in a throw-away run of
    one untimed epoch (it compiles) and ``epochs`` timed ones, each scored."""
    import tempfile

    from salt_lib.experiments import train_run

    described = json.loads(signature)
    training = {"epochs": epochs + 1, "loss": described["loss"], "batch_size": described["batch_size"],
                "early_crop": described["crop"], "early_size": described.get("size", 0),
                "augment": described.get("augment", "flip_geo"),
                "patience": 99, "ema_momentum": 0.99 if described.get("ema") else 0.0}
    with tempfile.TemporaryDirectory() as folder:
        train_run(described["arch"], dataset, Path(folder) / "run", "lite", described["overrides"], training, verbose=False)
        history = read_history(Path(folder) / "run" / "best.keras").iloc[1:]
    return epoch_costs(history)["main"]


def idle_timing(signature: str, dataset, machine: str, flag: str) -> dict:
    """``time_stage`` now, as a stored timing: the seconds, how they were measured and on which CPU."""
    return time_stage(signature, dataset) | {"from": f"a timing run on idle cores ({flag})", "cpu": machine}


def parse_args(argv=None) -> tuple[argparse.Namespace, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the real tiles in Kaggle's layout, e.g. ../shared/tgs-salt")
    parser.add_argument("--arms", default="thesis,default,stack_a", help=f"comma-separated, of: {', '.join(ARMS)}")
    parser.add_argument("--arch", default="unet", choices=("unet", "resunet"))
    parser.add_argument("--runs", default=str(REPO / "runs" / "time_to_quality"))
    parser.add_argument("--reuse", action="append", default=[], metavar="ARM=RUN_DIR",
                        help="take a finished run of the same settings for this arm")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "time_to_quality"))
    parser.add_argument("--seed", type=int, default=0, help="the training seed of every arm (a reused run must have it)")
    parser.add_argument("--train-only", action="store_true", help="train the arms, write no results")
    parser.add_argument("--idle", default="", help="comma-separated arms whose runs had the cores to themselves")
    parser.add_argument("--time-epochs", action="store_true",
                        help="measure the seconds per epoch of each contended arm's stages that no idle run has "
                             "measured, now (on what must be idle cores)")
    parser.add_argument("--cpu", default="", help="the CPU whose idle timings give the minutes (default: this machine's)")
    parser.add_argument("--readme", action="store_true", help="also rewrite the READMEs' generated blocks from the result")
    parser.add_argument("--time-only", default="", metavar="ARMS",
                        help="only measure (on what must be idle cores) the seconds per epoch of these arms' stages that "
                             "no idle run has measured, and store them in the result's idle_timings")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.arms.split(",") if name.strip()]
    timed_only = [name.strip() for name in args.time_only.split(",") if name.strip()]
    unknown = sorted(set(names + timed_only) - set(ARMS))
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(unknown)}; known: {', '.join(ARMS)}")
    args.names, args.timed_only = names, timed_only
    args.idle = {name.strip() for name in args.idle.split(",") if name.strip()}
    args.reuse = dict(item.split("=", 1) for item in args.reuse)
    return args, parser


def time_only(args, dataset, previous: dict, out: Path) -> None:
    """Time every stage of ``args.timed_only``'s arms not yet timed on this machine (DEFAULT's too:
    a new machine needs them), on what must be idle cores; each measurement is stored at once."""
    timings = timings_by_cpu(previous.get("idle_timings", {}))
    machine = this_machine()
    if others := other_machines(timings, machine):
        print(f"note: {out} also holds timings of {', '.join(sorted(others))}; this is {machine}. An arm's "
              f"minutes are added up from the timings of one CPU (--cpu), never of two.", flush=True)
    for name in args.timed_only:
        stages = arm_stages(ARMS[name].training)
        for stage, signature in arm_signatures(args.arch, ARMS[name], stages).items():
            if machine in timings.get(signature, {}):
                continue
            print(f"timing the {stage} stage of {name} on idle cores ...", flush=True)
            timings.setdefault(signature, {})[machine] = idle_timing(signature, dataset, machine, "--time-only")
            print(f"  {timings[signature][machine]}", flush=True)
            with atomic_write(out) as partial:
                partial.write_text(json.dumps(previous | {"idle_timings": timings}, indent=2) + "\n")


def train_arms(args, dataset) -> dict[str, Path]:
    """Train (or resume, or take a reused finished run of) each arm of ``args.names``: its run folder."""
    from salt_lib.experiments import train_run

    run_dirs = {}
    for index, name in enumerate(args.names, 1):
        recipe = ARMS[name]
        training = dict(recipe.training, seed=args.seed)
        run_dir = Path(args.reuse.get(name) or Path(args.runs) / f"{name}-{args.arch}-s{args.seed}")
        print(f"[{index}/{len(args.names)}] {name}: {run_dir}", flush=True)
        start = time.perf_counter()
        if is_result(run_dir):  # a study's result folder: nothing to train
            check_same_training(read_record(run_dir), training, name)
            run_dirs[name] = run_dir
            continue
        train_run(args.arch, dataset, run_dir, "lite", recipe.overrides, training,
                  command=f"benchmarks/bench_time_to_quality.py --arms {name} --seed {args.seed}")
        print(f"[{index}/{len(args.names)}] {name}: done ({(time.perf_counter() - start) / 60:.1f} min)", flush=True)
        run_dirs[name] = run_dir
    return run_dirs


def measure_arms(args, dataset, run_dirs: dict[str, Path], timings: dict, cpu: str) -> tuple[dict, dict]:
    """The arms trained now: their result entries and their curves (validation score against
    minutes and images seen). ``timings`` (signature -> CPU -> seconds) gains the idle runs'
    epochs and, with ``--time-epochs``, timing runs made now on this machine."""
    machine = this_machine()
    loaded = {name: arm_run(run_dir) for name, run_dir in run_dirs.items()}
    for name in args.idle & set(loaded):
        run_cpu = run_machine(loaded[name][1])
        if run_cpu.startswith(SEVERAL):
            raise SystemExit(f"--idle {name}: its run trained on {run_cpu}, so its epochs' seconds time no one CPU; "
                             f"time its stages with --time-only {name} on idle cores instead")
        for stage, cost in epoch_costs(loaded[name][0], ARMS[name].training).items():
            timings.setdefault(stage_signature(args.arch, ARMS[name], stage), {})[run_cpu] = cost | {
                "from": f"the {name} run, on idle cores", "cpu": run_cpu}
    arms, curves = {}, {}
    for name, run_dir in run_dirs.items():
        recipe = ARMS[name]
        training = dict(recipe.training, seed=args.seed)
        history, record = loaded[name]
        check_same_training(record, training, name)
        signatures = arm_signatures(args.arch, recipe, timing_stages(history, training).unique())
        for stage, signature in signatures.items():
            if args.time_epochs and machine not in timings.get(signature, {}):
                print(f"timing the {stage} stage of {name} on idle cores ...", flush=True)
                timings.setdefault(signature, {})[machine] = idle_timing(signature, dataset, machine, "--time-epochs")
        costs, source, arm_cpu = minutes_source(name in args.idle, run_machine(record), timings, signatures, cpu)
        curves[name] = curve(history, len(dataset.train), training, costs)
        arms[name] = {
            "run_dir": portable_path(run_dir), "reused": name in args.reuse, "overrides": recipe.overrides, "training": training,
            "epochs": len(history), "wall_seconds": record.get("wall_seconds"),
            "cut_by_time": bool(record.get("cut_by_time", False)),
            "final_val_tgs_score_tta": round(float(record["val"]["tgs_score"]), 4),
        } | timed(curves[name], costs or epoch_costs(history, training), source, arm_cpu)
    return arms, curves


def kept_arms(args, dataset, previous: dict, trained: dict, timings: dict, cpu: str) -> tuple[dict, dict]:
    """Arms measured before (same seed, network and data) and not re-run now, with their curves.
    A stored curve is timed again with the current timings of ``cpu`` where every stage of it has
    been timed there (but an arm's own idle run on ``cpu``)."""
    previous_arms = previous.get("arms", {})
    kept = {name: arm for name, arm in previous_arms.items() if name not in trained} \
        if previous.get("data_fingerprint") == dataset.fingerprint else {}
    curves = {}
    for name, arm in kept.items():
        curves[name] = pd.DataFrame(arm["curve"]).astype({"val_tgs_score": float})
        signatures = arm_signatures(args.arch, ARMS[name], timing_stages(curves[name], arm["training"]).unique()) \
            if name in ARMS else {}
        own_idle_run = arm.get("cpu") == cpu and arm["minutes_from"].startswith("the run itself")
        costs = costs_on(timings, signatures, cpu) if signatures and not own_idle_run else None
        if costs:
            curves[name] = curve(curves[name].drop(columns=["minutes"]), len(dataset.train), arm["training"], costs)
            kept[name] = arm | timed(curves[name], costs, "epochs x seconds per epoch measured on idle cores", cpu)
    return kept, curves


def main() -> None:
    args, parser = parse_args()
    from salt_lib.dataset import load_dataset

    dataset = load_dataset(args.data)
    out = Path(args.out).with_suffix(".json")
    previous = json.loads(out.read_text()) if out.is_file() else {}
    if previous and not args.train_only and (previous.get("seed"), previous.get("arch", "unet")) != (args.seed, args.arch):
        parser.error(f"{out} holds seed {previous.get('seed')} of the {previous.get('arch', 'unet')}; writing seed {args.seed} "
                     f"of the {args.arch} there would drop its arms. Pass another --out.")
    if args.timed_only:
        time_only(args, dataset, previous, out)
        return
    run_dirs = train_arms(args, dataset)
    if args.train_only:
        return

    # Seconds per epoch on idle cores, by what an epoch's cost depends on and by CPU: from the idle
    # runs, the earlier result, or (--time-epochs) a timing run now on this machine.
    cpu = args.cpu or this_machine()
    timings = timings_by_cpu(previous.get("idle_timings", {})) if previous.get("arms") else {}
    arms, curves = measure_arms(args, dataset, run_dirs, timings, cpu)
    kept, kept_curves = kept_arms(args, dataset, previous, arms, timings, cpu)
    curves |= kept_curves
    command = "python benchmarks/bench_time_to_quality.py " + " ".join(sys.argv[1:])
    commands = list(dict.fromkeys([c for c in previous.get("commands", []) if kept] + [command]))  # in order, each once
    result = {"seed": args.seed, "arch": args.arch, "data_fingerprint": dataset.fingerprint, "split_hash": dataset.split_hash,
              "cpu": cpu, "commands": commands, "idle_timings": timings,
              "arms": {name: (kept | arms)[name] for name in ARMS if name in kept | arms}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as partial:
        partial.write_text(json.dumps(result, indent=2, default=lambda v: None if v != v else v) + "\n")
    fig = plot({name: curves[name] for name in result["arms"]}, args.seed,
               {name: arm.get("cpu", NOT_RECORDED) for name, arm in result["arms"].items()})
    with atomic_write(out.with_suffix(".png")) as partial:
        fig.savefig(partial, dpi=150, format="png")

    print(sentence(result))
    print(arms_table(result))
    print(lever_table(result))
    if args.readme:
        write_readme_blocks(result)
        print("rewrote the time-to-quality blocks of README.md and benchmarks/README.md")
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
