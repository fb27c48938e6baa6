"""Recipe ablation for the lite U-Net at an equal epoch budget, on validation only, on a GPU.

The arms run in parallel as separate processes on one GPU machine (a lite U-Net uses a sliver of
the GPU; the host's CPU cores do the augmentation and the per-epoch validation score). Each arm
trains with the project's own ``salt_lib.train.fit`` (the CPU recipe's code path: TileBatches,
the imgaug policy, the validation-selected checkpoint) for the same number of epochs, and
returns its best checkpoint's validation probabilities (flip TTA, uint8) and its history in one
``<arm>.npz``. Scoring and the paired comparison happen on the CPU
(``benchmarks/gpu_ablation_table.py``). Nothing here looks at the test split.

    python benchmarks/gpu_recipe_ablation.py --out $OUT                 # all arms, in parallel
    python benchmarks/gpu_recipe_ablation.py --set recipe --out $OUT    # the default recipe's options
    python benchmarks/gpu_recipe_ablation.py --out DIR --arm base        # one arm (what the driver runs)

Stage 2 (the Lovasz fine-tuning) is run as a second ``fit`` from stage 1's best weights, exactly
as ``TrainConfig.lovasz_epochs`` does, so that its loss can differ between arms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

NATIVE = {"input_size": 101, "upsampling": "transpose"}
# name: (model overrides, augment, stage-1 loss, stage-1 epochs, stage-2 loss, stage-2 epochs)
ARMS = {
    "base": (NATIVE, "flip_geo", "bce_dice", 20, "lovasz", 20),
    "lovasz_symmetric": (NATIVE, "flip_geo", "bce_dice", 20, "lovasz_symmetric", 20),
    "lovasz_early": (NATIVE, "flip_geo", "bce_dice", 8, "lovasz", 32),
    "pad128": ({"input_size": 128, "upsampling": "transpose"}, "flip_geo", "bce_dice", 20, "lovasz", 20),
    "half_decoder": (NATIVE | {"decoder_filters_scale": 0.5}, "flip_geo", "bce_dice", 20, "lovasz", 20),
    "flip_only": (NATIVE, "flip", "bce_dice", 20, "lovasz", 20),
}
# The second round, on the default recipe (salt_lib.recipes.DEFAULT: 128 padded, transposed,
# bfloat16, flip_geo, 22 + 22 epochs): the options the first round did not try. An arm may add
# stage-2 training settings as a seventh element (SWA averages the Lovasz stage's last epochs).
RECIPE = {"input_size": 128, "upsampling": "transpose", "precision": "mixed_bfloat16"}
RECIPE_ARMS = {
    "default": (RECIPE, "flip_geo", "bce_dice", 22, "lovasz", 22),
    "float32": (RECIPE | {"precision": "float32"}, "flip_geo", "bce_dice", 22, "lovasz", 22),
    "scse": (RECIPE | {"attention": "scse"}, "flip_geo", "bce_dice", 22, "lovasz", 22),
    "empty_head": (RECIPE | {"empty_head": True}, "flip_geo", "bce_dice", 22, "lovasz", 22),
    "swa5": (RECIPE, "flip_geo", "bce_dice", 22, "lovasz", 22, {"swa_epochs": 5}),
    "lovasz_symmetric": (RECIPE, "flip_geo", "bce_dice", 22, "lovasz_symmetric", 22),
}
ARM_SETS = {"first": ARMS, "recipe": RECIPE_ARMS}


def tgs_part(packed, part: str, limit: int):
    from salt_lib.data import TGSData

    masks = packed[f"{part}_masks"][: limit or None]
    return TGSData(ids=packed[f"{part}_ids"][: limit or None], images=packed[f"{part}_images"][: limit or None],
                   masks=masks, depths=None, coverage=masks.reshape(len(masks), -1).mean(axis=1))


def run_arm(name: str, args) -> None:
    import keras

    from salt_lib.models import build_model
    from salt_lib.predict import predict
    from salt_lib.records import load_model, read_history
    from salt_lib.train import TrainConfig, fit

    overrides, augment, loss1, epochs1, loss2, epochs2, *extra = ARM_SETS[args.set][name]
    stage2_extra = extra[0] if extra else {}
    if args.epochs_scale != 1:
        epochs1, epochs2 = max(1, round(epochs1 * args.epochs_scale)), max(1, round(epochs2 * args.epochs_scale))
    with np.load(args.data) as stored:
        packed = {key: stored[key] for key in stored.files}
    train, val = tgs_part(packed, "train", args.limit), tgs_part(packed, "val", args.limit)
    provenance = {"data_fingerprint": str(packed["data_fingerprint"]), "split_hash": str(packed["split_hash"])}
    work = Path(args.work) / name
    started = time.perf_counter()
    common = {"augment": augment, "patience": 10_000, "seed": args.seed, "workers": 2}
    model = build_model("unet", "lite", overrides)
    fit(model, train, val, TrainConfig(epochs=epochs1, loss=loss1, **common), work / "stage1", provenance, verbose=False)
    keras.backend.clear_session()
    model = build_model("unet", "lite", overrides)
    model.load_weights(work / "stage1" / "best.keras")
    stage2 = TrainConfig(epochs=epochs2, loss=loss2, learning_rate=TrainConfig().lovasz_learning_rate, **common, **stage2_extra)
    fit(model, train, val, stage2, work / "stage2", provenance, verbose=False)
    best = load_model(work / "stage2" / "best.keras", compile=False)
    probs = predict(best, val.images, tta=True)
    history1, history2 = read_history(work / "stage1" / "best.keras"), read_history(work / "stage2" / "best.keras")
    history1["stage"], history2["stage"] = loss1, loss2
    history2["epoch"] += len(history1)
    history = np.array(pd.concat([history1, history2]).to_csv(index=False))
    summary = {"arm": name, "overrides": overrides, "augment": augment, "stages": [[loss1, epochs1], [loss2, epochs2]], "stage2": stage2_extra,
               "seed": args.seed, "seconds": round(time.perf_counter() - started, 1), **provenance}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{name}.npz", val_probs=np.round(probs * 255).astype(np.uint8), val_ids=val.ids,
                        history=history, summary=np.array(json.dumps(summary)))
    print(f"{name}: done in {summary['seconds']} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=".gpu/tgs_split.npz")
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", default="/tmp/ablation-runs", help="run folders (not returned)")
    parser.add_argument("--arm", help="run this arm only (the driver runs each arm so)")
    parser.add_argument("--set", choices=tuple(ARM_SETS), default="first",
                        help="first: the 101-native round (results/ablation); recipe: the default recipe's options")
    parser.add_argument("--arms", help="comma-separated arms of the set (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="tiles per split (a smoke test)")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="scale every arm's epochs (a smoke test)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds the driver waits for all arms")
    args = parser.parse_args()
    if args.arm:
        return run_arm(args.arm, args)
    env = os.environ | {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    arms = args.arms.split(",") if args.arms else list(ARM_SETS[args.set])
    procs = {name: subprocess.Popen([sys.executable, __file__, *sys.argv[1:], "--arm", name], env=env) for name in arms}
    deadline = time.perf_counter() + args.timeout
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(1, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            proc.kill()
            print(f"{name}: killed at the driver's timeout", flush=True)
    print(json.dumps({name: proc.returncode for name, proc in procs.items()}))


if __name__ == "__main__":
    main()
