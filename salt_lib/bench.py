"""Speed benchmark: training and inference images/s, peak memory, augmentation overhead.

``python -m salt_lib bench --out bench.json`` measures, on random tiles at batch 32:

* the four named models (lite and thesis presets of U-Net and ResUNet): train and predict images/s;
* the speed levers for the lite U-Net, side by side: the plain fp32 baseline (128x128
  reflect-padded input), 112 padded, the native 101 input (valid transposed convolutions), a
  narrower decoder, XLA ``jit_compile``, bfloat16 mixed precision, batch 64;
* augmentation cost per batch for every policy, as a share of the baseline's step time;
* peak resident memory of the process.

``python -m salt_lib bench --real-loop EPOCHS`` instead measures the training loop a real run
uses (``salt_lib.train.fit``: TileBatches, the augmentation, callbacks, per-epoch validation and
saves) beside the bare ``train_on_batch`` step of the same network, so the gap between them is a
number, with its spread over epochs (``real_loop``).

CPU timings are noisy (single runs here differ by up to 1.6x), so the variants are timed in
interleaved rounds, each round a few steps of every variant in turn, and the medians reported.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from salt_lib.augment import POLICIES, augmentation_cost
from salt_lib.data import TGSData
from salt_lib.hardware import cache_words, cpu_info, native_bfloat16
from salt_lib.losses import get_loss
from salt_lib.models import build_model
from salt_lib.report.tables import markdown_table
from salt_lib.synthetic import synthesize_tiles
from salt_lib.train import TrainConfig, fit


@dataclass
class Variant:
    """One way to train: which model options, and how it is compiled."""

    name: str
    arch: str = "unet"
    preset: str = "lite"
    overrides: dict = field(default_factory=dict)
    batch_size: int = 32
    jit_compile: bool = False


LEVERS = [
    Variant("baseline fp32, 128 padded"),
    Variant("128 padded, transposed", overrides={"upsampling": "transpose"}),
    Variant("112 padded", overrides={"input_size": 112}),
    Variant("101 native, transposed", overrides={"input_size": 101, "upsampling": "transpose"}),
    Variant("101 native, decoder x0.5", overrides={"input_size": 101, "upsampling": "transpose", "decoder_filters_scale": 0.5}),
    Variant("128 + XLA jit_compile", jit_compile=True),
    Variant("128 + bfloat16 mixed", overrides={"precision": "mixed_bfloat16"}),
    Variant("128, batch 64", batch_size=64),
]

PRESET_MODELS = [Variant(f"{arch} {preset}", arch=arch, preset=preset) for arch in ("unet", "resunet") for preset in ("lite", "thesis")]


def build_variant(variant: Variant):
    """Compiled model for ``variant`` (Adam, BCE + Dice), plus a random batch of its input size."""
    model = build_model(variant.arch, variant.preset, variant.overrides)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=get_loss("bce_dice"), jit_compile=variant.jit_compile)
    size = int(model.input_shape[1])
    rng = np.random.default_rng(0)
    x = rng.random((variant.batch_size, size, size, 1), dtype=np.float32)
    y = (rng.random((variant.batch_size, size, size, 1)) > 0.6).astype(np.float32)
    return model, x, y


def time_train_steps(model, x, y, steps: int) -> float:
    """Training images per second over ``steps`` steps on one batch."""
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return steps * len(x) / (time.perf_counter() - start)


def time_predict(model, x, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(x)
    return steps * len(x) / (time.perf_counter() - start)


def compare(variants, rounds: int, steps: int, warmup: int = 2, predict: bool = True) -> list[dict]:
    """Interleaved timing of ``variants``: ``rounds`` rounds of ``steps`` steps each; medians."""
    built = []
    for variant in variants:
        model, x, y = build_variant(variant)
        for _ in range(warmup):  # graph tracing and first-call allocations are not the speed
            model.train_on_batch(x, y)
            model.predict_on_batch(x)
        built.append((variant, model, x, y))
    train_rates = {v.name: [] for v in variants}
    predict_rates = {v.name: [] for v in variants}
    for _ in range(rounds):
        for variant, model, x, y in built:
            train_rates[variant.name].append(time_train_steps(model, x, y, steps))
            if predict:
                predict_rates[variant.name].append(time_predict(model, x, steps))
    rows = []
    for variant, model, _, _ in built:
        rates = train_rates[variant.name]
        rows.append({
            "variant": variant.name, "parameters": int(model.count_params()), "input": int(model.input_shape[1]),
            "batch": variant.batch_size, "train_images_per_s": round(statistics.median(rates), 2),
            "train_min": round(min(rates), 2), "train_max": round(max(rates), 2),
            "predict_images_per_s": round(statistics.median(predict_rates[variant.name]), 2) if predict else None,
        })
    return rows


def augmentation_overhead(step_seconds: float, batch_size: int = 32) -> list[dict]:
    """Seconds of augmentation per batch for each policy, and its share of a training step."""
    images, masks, _ = synthesize_tiles(256, seed=1)
    rows = []
    for policy in POLICIES:
        cost = augmentation_cost(images, masks, policy, batch_size=batch_size, batches=20)
        rows.append({"policy": policy, "ms_per_batch": round(1000 * cost, 2), "share_of_step": round(cost / step_seconds, 4)})
    return rows


def real_loop(variant: Variant, train_tiles: int = 640, val_tiles: int = 320, epochs: int = 3, augment: str = "flip_geo",
              workers: int = 1, steps: int = 6) -> dict:
    """The training loop as a real run drives it, next to the bare step, for one ``variant``.

    ``salt_lib.train.fit`` trains on ``train_tiles`` synthetic tiles (real shape, the augmentation
    policy, TileBatches, the callbacks, the per-epoch validation score with threshold tuning on
    ``val_tiles``, the resume point and best-model saves) for ``epochs`` epochs in a temporary
    folder. Returned: the bare ``train_on_batch`` images/s of the same network (median of
    ``steps`` timed steps after warm-up), the loop's training images/s per epoch (median, min,
    max over the epochs after the first, which includes graph tracing), the epoch wall time with
    validation and saving (median), and the gap: how much of the bare speed the loop loses.
    """
    images, masks, _ = synthesize_tiles(train_tiles + val_tiles, seed=3)
    coverage = masks.reshape(len(masks), -1).mean(axis=1)

    def part(rows):
        return TGSData(ids=np.array([f"t{i}" for i in range(len(images))])[rows], images=images[rows], masks=masks[rows],
                       depths=None, coverage=coverage[rows])

    train, val = part(slice(0, train_tiles)), part(slice(train_tiles, None))
    model, x, y = build_variant(variant)
    for _ in range(2):
        model.train_on_batch(x, y)
    bare = statistics.median(time_train_steps(model, x, y, 1) for _ in range(steps))
    config = TrainConfig(epochs=epochs, batch_size=variant.batch_size, augment=augment, patience=epochs + 1, workers=workers)
    model = build_model(variant.arch, variant.preset, variant.overrides)
    with tempfile.TemporaryDirectory() as folder:
        history = fit(model, train, val, config, folder, provenance={"data_fingerprint": "bench"}, verbose=False)
    later = history.iloc[1:] if len(history) > 1 else history
    loop = float(later["images_per_second"].median())
    walls = history["elapsed_seconds"].diff().fillna(history["elapsed_seconds"]).iloc[1:]
    return {"variant": variant.name, "augment": augment, "workers": workers, "bare_images_per_s": round(bare, 2),
            "loop_images_per_s": round(loop, 2), "loop_min": round(float(later["images_per_second"].min()), 2),
            "loop_max": round(float(later["images_per_second"].max()), 2),
            "epoch_wall_s": round(float(walls.median()), 2) if len(walls) else None,
            "loop_vs_bare": round(loop / bare, 3)}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(rounds: int = 5, steps: int = 4, include_thesis: bool = True) -> dict:
    """All measurements as one JSON-ready dict."""
    levers = compare(LEVERS, rounds=rounds, steps=steps)
    baseline = levers[0]["train_images_per_s"]
    for row in levers:
        row["speedup_vs_baseline"] = round(row["train_images_per_s"] / baseline, 2)
    presets = compare([v for v in PRESET_MODELS if include_thesis or v.preset == "lite"], rounds=max(2, rounds // 2), steps=2, warmup=1)
    step_seconds = 32 / baseline
    return {
        "machine": machine(),
        "method": f"{rounds} interleaved rounds x {steps} steps per variant; medians (min-max in the JSON)",
        "levers": levers,
        "presets": presets,
        "augmentation": augmentation_overhead(step_seconds),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def machine() -> dict:
    """What the figures were measured on: the processor, its model, its cache and whether it
    computes bfloat16 natively (``salt_lib.hardware``), the cores this process may use, Keras and
    its backend."""
    info = cpu_info()
    return {"processor": platform.processor() or platform.machine(), "cpu_model": info["model"],
            "cpu_cache": info["cache"], "native_bfloat16": native_bfloat16(), "cores": _cores(), "keras": keras.__version__,
            "backend": keras.backend.backend()}


NATIVE_101 = {"input_size": 101, "upsampling": "transpose"}

BF16 = {"precision": "mixed_bfloat16"}
# The recipe's network (salt_lib.recipes.DEFAULT): 128 padded, transposed, bfloat16.
RECIPE_128 = {"input_size": 128, "upsampling": "transpose"} | BF16

# The real loop beside the bare step: the lite U-Net at 128 padded and at the native 101 (which
# trained the first committed models), with one and with two batch-building threads; then the
# bfloat16 lever on each, and the default recipe's two networks.
REAL_LOOP = [
    (Variant("lite 128 padded"), 1),
    (Variant("lite 128 padded"), 2),
    (Variant("lite 101 native", overrides=NATIVE_101), 1),
    (Variant("lite 101 native", overrides=NATIVE_101), 2),
    (Variant("lite 101 native, bfloat16", overrides=NATIVE_101 | BF16), 1),
    (Variant("recipe U-Net: 128 padded, transposed, bfloat16", overrides=RECIPE_128), 1),
    (Variant("recipe ResUNet: 128 padded, transposed, bfloat16", arch="resunet", overrides=RECIPE_128), 1),
]


def run_real_loop(epochs: int = 4, train_tiles: int = 640) -> list[dict]:
    """``real_loop`` for each of ``REAL_LOOP``, one after the other."""
    return [real_loop(variant, train_tiles=train_tiles, epochs=epochs, workers=workers) for variant, workers in REAL_LOOP]


def machines_table(results: list[dict]) -> str:
    """The speed levers side by side on several machines (``results``: what ``run`` returned on
    each): train images/s of each variant and its speed-up over that machine's float32 baseline,
    one column per machine named by what its ``machine`` record says, as a Markdown table."""
    columns = {}
    for result in results:
        baseline = result["levers"][0]["train_images_per_s"]
        columns[machine_name(result["machine"])] = {
            row["variant"]: f"{row['train_images_per_s']:.1f} ({row['train_images_per_s'] / baseline:.2f}x)" for row in result["levers"]}
    return markdown_table(pd.DataFrame(columns).rename_axis("variant").reset_index())


def machine_name(machine: dict) -> str:
    """A ``machine`` record in words: '2 cores, AMD EPYC, no native bfloat16', with the cache where
    the record keeps it ('2 cores, Intel(R) Xeon(R) Processor, 480 MiB cache, native bfloat16');
    what it lacks is said as not recorded."""
    native = machine.get("native_bfloat16", "not recorded")
    bf16 = {True: "native bfloat16", False: "no native bfloat16"}.get(native, "bfloat16 support not recorded")
    cache = cache_words(machine.get("cpu_cache"))
    return f"{machine['cores']} cores, {machine.get('cpu_model') or 'CPU model not recorded'}, {cache + ', ' if cache else ''}{bf16}"


def main(out: str | None, rounds: int, steps: int, include_thesis: bool, real_loop_epochs: int = 0) -> dict:
    if real_loop_epochs:
        rows = run_real_loop(epochs=real_loop_epochs)
        print(markdown_table(pd.DataFrame(rows), float_digits=2))
        result = {"machine": machine(),
                  "method": f"salt_lib.train.fit for {real_loop_epochs} epochs of 640 synthetic tiles (batch 32, flip_geo, "
                            "validation on 320 tiles every epoch); loop figures over the epochs after the first",
                  "real_loop": rows}
        if out:
            Path(out).write_text(json.dumps(result, indent=2) + "\n")
            print(f"wrote {out}")
        return result
    result = run(rounds=rounds, steps=steps, include_thesis=include_thesis)
    levers = ["variant", "input", "batch", "parameters", "train_images_per_s", "train_min", "train_max", "speedup_vs_baseline", "predict_images_per_s"]
    print(markdown_table(pd.DataFrame(result["levers"])[levers], float_digits=2))
    print(markdown_table(pd.DataFrame(result["presets"])[["variant", "parameters", "train_images_per_s", "predict_images_per_s"]], float_digits=2))
    print(markdown_table(pd.DataFrame(result["augmentation"])[["policy", "ms_per_batch", "share_of_step"]], float_digits=4))
    print(f"\npeak resident memory: {result['peak_rss_mb']} MB")
    if out:
        Path(out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    return result
