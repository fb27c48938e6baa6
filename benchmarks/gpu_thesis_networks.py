"""The source thesis's two full-size networks, trained as the thesis trained them, on a GPU (Keras on JAX).

Run by ``benchmarks/gpu_thesis_networks.sh`` on the GPU machine; it reads the tiles packed by
``benchmarks/gpu_pack_data.py`` and writes everything to ``--out``:

    bench.json                      train images/s of each network at batch 32, float32 and mixed bfloat16
    <arch>_thesis/history.csv       one row per epoch: loss, validation tgs_score and threshold, seconds
    <arch>_thesis/record.json       the recipe, data fingerprint, split hash, devices, versions, best epoch,
                                    whether a time cap cut the run
    <arch>_thesis/predictions.npz   uint8 probabilities (x255) of the best epoch's weights for the
                                    validation and test tiles, plain and left-right mirrored (for flip TTA)

The recipe is the thesis's: 128x128 bicubic resize, the 1:1 mirror expansion of the training split,
binary cross-entropy, Adam at 1e-4, batch 32, 120 epochs. The budget is in epochs; ``--deadline``
(seconds since the start) is a safety cap that, when it cuts a run, is written into its record.
The checkpoint kept is the epoch with the best validation tgs_score (threshold tuned on validation
every epoch, scored on the CPU while the GPU trains the next epoch). The test tiles are only
predicted here; they are scored once, on the CPU, by ``benchmarks/gpu_score_records.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402  (the backend is chosen above)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from salt_lib.augment import expand_offline  # noqa: E402
from salt_lib.geometry import from_model, to_model  # noqa: E402
from salt_lib.losses import get_loss  # noqa: E402
from salt_lib.models import build_model  # noqa: E402
from salt_lib.predict import choose_threshold  # noqa: E402
from salt_lib.train import library_versions, use_devices  # noqa: E402

START = time.perf_counter()
THESIS_RECIPE = {"input_size": 128, "geometry": "resize", "augment": "mirror (1:1 offline expansion)",
                 "loss": "bce", "optimizer": "adam", "learning_rate": 1e-4, "batch_size": 32}


def elapsed() -> float:
    return time.perf_counter() - START


def log(message: str) -> None:
    print(f"[{elapsed():6.1f} s] {message}", flush=True)


def build(arch: str, preset: str, precision: str, learning_rate: float) -> keras.Model:
    keras.mixed_precision.set_global_policy(precision)
    model = build_model(arch, preset)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=get_loss("bce"))
    return model


def bench(arch: str, preset: str, precision: str, x: np.ndarray, y: np.ndarray, steps: int, batch: int) -> dict:
    """Train images/s of a fresh model over ``steps`` timed steps after three warm-up steps."""
    model = build(arch, preset, precision, 1e-4)
    started = time.perf_counter()
    model.train_on_batch(x[:batch], y[:batch])  # compiles
    compile_seconds = time.perf_counter() - started
    for _ in range(2):
        model.train_on_batch(x[:batch], y[:batch])
    started = time.perf_counter()
    for step in range(steps):
        rows = slice((step * batch) % (len(x) - batch), (step * batch) % (len(x) - batch) + batch)
        loss = model.train_on_batch(x[rows], y[rows])
    float(np.asarray(loss))  # the last step has finished
    seconds = time.perf_counter() - started
    result = {"arch": arch, "preset": preset, "precision": precision, "batch_size": batch, "steps": steps,
              "parameters": int(model.count_params()), "train_images_per_second": round(steps * batch / seconds, 1),
              "compile_seconds": round(compile_seconds, 1)}
    log(f"bench {arch} {precision}: {result['train_images_per_second']} images/s (compile {compile_seconds:.1f} s)")
    keras.backend.clear_session()
    return result


def val_score(probs_model: np.ndarray, val_masks: np.ndarray) -> tuple[float, float]:
    """Threshold and tgs_score on validation of model-geometry probabilities (run in a thread)."""
    return choose_threshold(from_model(probs_model, mode="resize"), val_masks)


def predict_both(model, x: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 probabilities (N, 101, 101) of ``x`` and of its mirror (flipped back), x255."""
    plain = model.predict(x, batch_size=batch, verbose=0)
    mirrored = model.predict(np.ascontiguousarray(x[:, :, ::-1]), batch_size=batch, verbose=0)[:, :, ::-1]
    return tuple(np.round(from_model(p, mode="resize") * 255).astype(np.uint8) for p in (plain, mirrored))


def train_thesis(arch, preset, packed, args, deadline, out_dir: Path, devices) -> dict:
    """Train ``arch`` with the thesis's recipe until ``args.epochs`` or ``deadline``; write the run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    images, masks = expand_offline(packed["train_images"], packed["train_masks"], "mirror")
    x_train, y_train = to_model(images, 128, "resize"), to_model(masks, 128, "resize", mask=True)
    x_val, x_test = to_model(packed["val_images"], 128, "resize"), to_model(packed["test_images"], 128, "resize")
    val_masks = packed["val_masks"]
    model = build(arch, preset, args.precision, THESIS_RECIPE["learning_rate"])
    rng = np.random.default_rng(args.seed)
    steps = len(x_train) // args.batch_size  # whole batches only: one compiled step shape
    history, best = [], {"score": -1.0}
    pool = ThreadPoolExecutor(max_workers=1)
    pending = None
    cut_by_time = False
    epoch_seconds = []

    def settle(job):
        epoch, future, weights = job
        threshold, score = future.result()
        history[epoch - 1].update(val_tgs_score=round(score, 5), val_threshold=threshold)
        if score > best["score"]:
            best.update(score=score, threshold=threshold, epoch=epoch, weights=weights)

    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        order = rng.permutation(len(x_train))[: steps * args.batch_size]
        fitted = model.fit(x_train[order], y_train[order], batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
        train_seconds = time.perf_counter() - started
        probs = model.predict(x_val, batch_size=args.predict_batch, verbose=0)
        weights = model.get_weights()
        if pending:
            settle(pending)
        pending = (epoch, pool.submit(val_score, probs, val_masks), weights)
        epoch_seconds.append(time.perf_counter() - started)
        history.append({"epoch": epoch, "loss": round(float(fitted.history["loss"][-1]), 5),
                        "train_seconds": round(train_seconds, 2),
                        "images_per_second": round(steps * args.batch_size / train_seconds, 1),
                        "elapsed_seconds": round(elapsed(), 1)})
        if epoch % 10 == 0 or epoch == 1:
            pd.DataFrame(history).to_csv(out_dir / "history.csv", index=False)  # kept if the call is cut
            last = history[-2] if len(history) > 1 else {}
            log(f"{arch} epoch {epoch}: loss {history[-1]['loss']:.4f}, {history[-1]['images_per_second']} images/s, "
                f"val tgs_score (epoch {epoch - 1}) {last.get('val_tgs_score', float('nan'))}")
        typical = float(np.median(epoch_seconds[-5:]))
        if epoch < args.epochs and elapsed() + typical > deadline:
            cut_by_time = True
            log(f"{arch}: TIME CAP reached after {epoch} of {args.epochs} epochs (deadline {deadline:.0f} s of run time)")
            break
    settle(pending)
    pool.shutdown()
    pd.DataFrame(history).to_csv(out_dir / "history.csv", index=False)
    model.set_weights(best["weights"])
    val_plain, val_mirrored = predict_both(model, x_val, args.predict_batch)
    test_plain, test_mirrored = predict_both(model, x_test, args.predict_batch)
    np.savez_compressed(out_dir / "predictions.npz", val_ids=packed["val_ids"], val_probs=val_plain,
                        val_probs_mirrored=val_mirrored, test_ids=packed["test_ids"], test_probs=test_plain,
                        test_probs_mirrored=test_mirrored)
    epochs_done = len(history)
    record = {
        "arch": arch, "preset": preset, "parameters": int(model.count_params()),
        "recipe": THESIS_RECIPE | {"epochs": args.epochs, "precision": args.precision, "seed": args.seed},
        "epochs_trained": epochs_done, "cut_by_time": cut_by_time, "best_epoch": best["epoch"],
        "val_during_training": {"tgs_score": round(best["score"], 5), "threshold": best["threshold"],
                                "note": "no TTA, threshold tuned on validation each epoch"},
        "train_seconds": round(sum(row["train_seconds"] for row in history), 1),
        "median_train_images_per_second": float(np.median([row["images_per_second"] for row in history[1:] or history])),
        "train_tiles": int(len(x_train)), "steps_per_epoch": steps,
        "data": {"name": str(packed["data_name"]), "data_fingerprint": str(packed["data_fingerprint"]),
                 "split_hash": str(packed["split_hash"]),
                 "tiles": {part: int(len(packed[f"{part}_ids"])) for part in ("train", "val", "test")}},
        "devices": devices, "device_kind": device_kind(), "versions": library_versions(),
    }
    (out_dir / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    log(f"{arch}: {epochs_done} epochs, best val tgs_score {best['score']:.4f} at epoch {best['epoch']}; wrote {out_dir.name}/")
    keras.backend.clear_session()
    return record


def device_kind() -> str:
    import jax

    return ", ".join(sorted({device.device_kind for device in jax.devices()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".gpu/tgs_split.npz")
    parser.add_argument("--out", required=True)
    parser.add_argument("--archs", default="unet,resunet")
    parser.add_argument("--preset", default="thesis")
    parser.add_argument("--epochs", type=int, default=120)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--predict-batch", type=int, default=128)
    parser.add_argument("--precision", default="mixed_bfloat16", choices=("float32", "mixed_bfloat16"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bench-steps", type=int, default=30)
    parser.add_argument("--deadline", type=float, default=480, help="seconds since start: a safety cap, recorded if it cuts")
    parser.add_argument("--limit", type=int, default=0, help="use only this many tiles per split (a smoke test)")
    parser.add_argument("--devices", default="all")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out.parent / "jax-cache" if os.environ.get("OUT") is None else Path("/tmp/jax-cache")
    import jax

    # Fresh models of one architecture compile to the same program: compile each once.
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    devices = use_devices(args.devices)
    log(f"backend {keras.backend.backend()}, devices {devices} ({device_kind()})")
    with np.load(args.data) as stored:
        packed = {key: stored[key] for key in stored.files}
    if args.limit:
        for part in ("train", "val", "test"):
            for kind in ("ids", "images", "masks"):
                packed[f"{part}_{kind}"] = packed[f"{part}_{kind}"][: args.limit]
    archs = [name for name in args.archs.split(",") if name]

    x = to_model(packed["train_images"][:256], 128, "resize")
    y = to_model(packed["train_masks"][:256], 128, "resize", mask=True)
    results = [bench(arch, args.preset, precision, x, y, args.bench_steps, args.batch_size)
               for arch in archs for precision in ("float32", "mixed_bfloat16")]
    (out / "bench.json").write_text(json.dumps({"device_kind": device_kind(), "results": results}, indent=2) + "\n")

    for index, arch in enumerate(archs):
        reserve = 25  # seconds to predict and write after the last epoch
        deadline = elapsed() + (args.deadline - elapsed() - reserve * (len(archs) - index)) / (len(archs) - index)
        train_thesis(arch, args.preset, packed, args, deadline, out / f"{arch}_{args.preset}", devices)
    log("done")


if __name__ == "__main__":
    main()
