"""Training a segmentation model, resumably, with the thesis's bookkeeping.

``fit(model, train, val, config, out_dir)`` trains with Adam and a cosine learning-rate schedule,
scores the validation tiles after every epoch with the competition metric (the probability
threshold tuned on them), keeps the best weights, stops early when the score stalls, and can
fine-tune a second stage with the Lovasz hinge. The budget is in epochs; an optional time cap
(``minutes``) may cut a stage short, and then says so in the output, the history and the record.

Everything a run needs to continue is written after each finished epoch into ``out_dir``:

    last-e<k>.keras   model and optimizer state after epoch k (older ones are removed)
    state.json        where the run stands: stage, epoch, best score, elapsed seconds
    history.csv       one row per finished epoch
    best.keras        the weights with the best validation score so far, and best.config.json beside it
    cycle-<k>.weights.h5  with ``cycles``: the weights at the end of each cosine cycle of the final stage
    swa-e<k>.weights.h5, swa.keras   with ``swa_epochs``: the weights after each of the final stage's
                      last epochs, and their average (best.keras too if it scores at least as well)

Run the same command again after a crash, even ``kill -9``, and it goes on from the last finished
epoch. Files are written to a temporary name and renamed, so a kill never leaves half a file.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from salt_lib import __version__
from salt_lib.augment import RANDOM_POLICIES, TileBatches, check_policy
from salt_lib.files import REPO, atomic_write
from salt_lib.geometry import to_model
from salt_lib.hardware import bfloat16_warning, describe_cpu
from salt_lib.losses import get_loss
from salt_lib.models import model_config, model_from_config
from salt_lib.predict import choose_empty_cut, choose_min_size, choose_threshold, model_geometry, predict, predict_with_head
from salt_lib.records import config_path, history_path, load_model, read_history, run_key, write_json, write_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Everything about a run that is not the network. Units: minutes, epochs, tiles."""

    epochs: int = 40  # the budget: the same epochs give the same model on any machine
    # A safety cap on wall-clock time, not the budget. Each stage gets a share in proportion to
    # its epochs (so a long first stage cannot eat the Lovasz stage's time); a stage stops at the
    # first epoch end after which another epoch would overrun its share. A cut is never silent:
    # it is printed, marked in the history (``cut_by_time``) and in the record.
    minutes: float | None = None
    batch_size: int = 32
    learning_rate: float = 1e-3
    min_learning_rate_ratio: float = 0.02  # cosine decays to lr * this
    loss: str = "bce_dice"
    augment: str = "flip"
    patience: int = 8  # epochs without a better validation score before stopping
    lovasz_epochs: int = 0  # second stage: fine-tune with the Lovasz hinge for this many epochs
    lovasz_learning_rate: float = 3e-4
    val_tta: bool = False  # flip TTA when scoring validation every epoch (the final score always uses it)
    seed: int = 0
    workers: int = 1  # threads that prepare augmented batches ahead of the training step
    # Weight averaging (SWA): average the weights after each of the final stage's last k epochs
    # (those that ran), re-estimate BatchNorm statistics on the training tiles, and keep the
    # average as best.keras when it scores at least as well on validation as the best epoch.
    swa_epochs: int = 0
    # Weight of the empty-tile head's binary cross-entropy, added to the segmentation loss (only
    # for a network with that head: ModelConfig.empty_head).
    empty_head_weight: float = 0.1
    # Weight of each auxiliary mask loss of a deeply supervised network (ModelConfig.deep_supervision).
    deep_supervision_weight: float = 0.1
    # Speed levers (time to quality), each off by default:
    # score validation after every k-th epoch of a stage (and always after its last epoch); the
    # best weights are chosen among the scored epochs.
    val_every: int = 1
    # warm the first stage's learning rate up linearly from WARMUP_START x learning_rate to
    # learning_rate over this many epochs, then decay it by the cosine (a one-cycle shape).
    warmup_epochs: int = 0
    # derandomized flips: each tile is mirrored in every other epoch instead of at random
    # (``augment.alternate_flips``; a policy with a flip only).
    alternate_flips: bool = False
    # the first stage trains on random early_crop x early_crop windows of the model's input (same
    # pixel scale, fewer pixels a step); validation and the later stages see the whole input.
    early_crop: int = 0
    # the same for the Lovasz stage: it trains on random lovasz_crop x lovasz_crop windows (0: the
    # whole input), is scored on whole tiles after each epoch, and keeps a model at its own size.
    lovasz_crop: int = 0
    # progressive resizing: the first stage trains on the whole input brought down to early_size x
    # early_size (each block of pixels averaged; a divisor of the input size), a coarser scale
    # where early_crop keeps the scale and cuts a window; validation and the later stages see
    # the whole input at its own size.
    early_size: int = 0
    # with early_size: only the first early_size_epochs of the first stage's epochs train at
    # early_size, the rest on the whole input (0: all of them), so the network settles at its own
    # scale before the next stage; the optimizer (its moments and the cosine) carries on across the change.
    early_size_epochs: int = 0
    # Long schedules: the final stage runs as this many equal cosine cycles, each restarting at the
    # stage's learning rate (warm restarts, SGDR); the weights at the end of every cycle are kept
    # (a snapshot), and at the end the snapshots are scored on validation alone and as a snapshot
    # ensemble (their mean probability) of the first 1, 2, ... cycles; the record holds the curve.
    cycles: int = 0
    # Weight EMA: keep an exponential moving average of the weights over the optimizer steps of
    # each stage (Adam's ``use_ema``, 0: off; 0.99 averages over about 100 steps) and score, keep
    # and snapshot the average instead of the latest weights; training itself goes on from the
    # latest weights, and the average resumes with the optimizer's state.
    ema_momentum: float = 0.0

    def __post_init__(self) -> None:
        for name, least in (("epochs", 1), ("batch_size", 1), ("lovasz_epochs", 0), ("patience", 1),
                            ("val_every", 1), ("warmup_epochs", 0), ("early_crop", 0), ("lovasz_crop", 0), ("early_size", 0),
                            ("early_size_epochs", 0), ("swa_epochs", 0), ("cycles", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}")
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be fewer than epochs ({self.epochs})")
        if not 0 <= self.ema_momentum < 1:
            raise ValueError(f"ema_momentum must be at least 0 (off) and below 1, got {self.ema_momentum!r}")
        for name in ("empty_head_weight", "deep_supervision_weight"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)!r}")
        if self.alternate_flips and check_policy(self.augment) not in RANDOM_POLICIES:
            raise ValueError(f"alternate_flips replaces a policy's random flip; {self.augment!r} has none "
                             f"(policies with a flip: {', '.join(RANDOM_POLICIES)})")
        if self.early_crop and self.early_size:
            raise ValueError(f"early_crop ({self.early_crop}) and early_size ({self.early_size}) both shrink the "
                             f"first stage's input; choose one")
        if self.early_size_epochs and not self.early_size:
            raise ValueError(f"early_size_epochs ({self.early_size_epochs}) counts epochs at early_size; set early_size too")
        if self.early_size_epochs >= self.epochs:
            raise ValueError(f"early_size_epochs ({self.early_size_epochs}) must be fewer than epochs ({self.epochs}); "
                             f"0 trains the whole first stage at early_size")
        if self.lovasz_crop and not self.lovasz_epochs:
            raise ValueError(f"lovasz_crop ({self.lovasz_crop}) crops the Lovasz stage's tiles; set lovasz_epochs too")
        final_epochs = self.lovasz_epochs or self.epochs
        if self.cycles and final_epochs % self.cycles:
            raise ValueError(f"cycles ({self.cycles}) must divide the final stage's {final_epochs} epochs")
        if self.minutes is not None and not self.minutes > 0:
            raise ValueError(f"minutes (a time cap) must be positive, got {self.minutes!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, settings: dict | None) -> "TrainConfig":
        """A config from a dict of its fields (missing ones take their defaults, an old policy
        name its current one); a ValueError names unknown keys (``geometry`` is the network's
        now: ``ModelConfig.geometry``)."""
        settings = dict(settings or {})
        if "augment" in settings:
            settings["augment"] = check_policy(settings["augment"])
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            moved = " (geometry is a model option now: pass it with the model's overrides)" if "geometry" in unknown else ""
            raise ValueError(f"unknown training setting(s) {', '.join(unknown)}{moved}; valid: {', '.join(sorted(known))}")
        return cls(**settings)


WARMUP_START = 0.1  # the warm-up starts at this fraction of the peak learning rate


class RunMismatch(FileExistsError):
    """``out_dir`` holds a run made with other settings; it is never overwritten silently."""


def fit(model, train, val, config: TrainConfig, out_dir, provenance: dict | None = None, verbose: bool = True) -> pd.DataFrame:
    """Train ``model`` on ``train`` (a TGSData), select on ``val``; return the history table.

    ``provenance`` (data fingerprint, split file, ...) is stored in best.config.json with the scores.
    If ``out_dir`` holds an unfinished run with the same settings, training resumes from it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance = provenance or {}
    key = run_key(model_config(model), config.to_dict(), provenance.get("data_fingerprint"), provenance.get("split_hash"))
    state = _load_state(out_dir, key)
    if state.get("finished"):
        if not config_path(out_dir / "best.keras").is_file():
            # Killed after the state said finished but before the record was written: write it now.
            _finalise_best(out_dir, val, config, provenance, model_config(model))
        elif verbose:
            print(f"{out_dir}: run already finished (best val tgs_score {state['best_score']:.4f}); nothing to do")
        return read_history(out_dir / "best.keras")
    device = compute_device()
    if verbose and state.get("devices") and state["devices"][-1]["device"] != device:
        print(f"note: epochs up to {state['devices'][-1]['last_epoch']} of this run trained on "
              f"{state['devices'][-1]['device'] or 'a device not recorded'}, the rest trains on {device}; "
              f"the record keeps both (devices)")
    if warning := bfloat16_warning(model_config(model).get("precision", "float32"), device):
        log.warning(warning)
    stages = stages_of(config)
    full = model  # the network at its own input size: what is scored and kept
    size = int(model_config(model)["input_size"])
    if config.early_size and size % config.early_size:
        raise ValueError(f"early_size ({config.early_size}) must divide the network's input size ({size}): "
                         f"each early_size pixel averages a whole block of the input's (e.g. 64 for 128)")
    if (config.early_crop or config.lovasz_crop or config.early_size) and len(model.outputs) > 1:
        raise ValueError("early_crop, lovasz_crop and early_size change the masks' size; a network with more "
                         "outputs (empty-tile head, deep supervision) needs whole tiles")

    for stage_index, (stage, loss, learning_rate, epochs) in enumerate(stages):
        if stage_index < state["stage"]:
            continue
        start_epoch = state["epoch"] if stage_index == state["stage"] else 0
        if start_epoch >= epochs or state.get("stop"):
            state.update(stage=stage_index + 1, epoch=0, stop=False, wait=0)
            continue
        keras.utils.set_random_seed(config.seed + 1000 * stage_index + start_epoch)
        if start_epoch and verbose:
            print(f"resuming stage {stage!r} at epoch {start_epoch + 1} of {epochs} from {out_dir}")
        previous = None  # the network of the stage's previous part, trained in this call
        for first, last, crop, shrink in stage_parts(config, stage_index, epochs):
            if start_epoch >= last or state.get("stop"):
                continue
            begin = max(start_epoch, first)
            batches = TileBatches(
                train.images, train.masks, config.batch_size, config.augment, _prepare_for(full),
                seed=config.seed + 1000 * stage_index, workers=config.workers,
                alternate_flip=config.alternate_flips, crop=crop or None, shrink=shrink or None,
            )
            trainee = _smaller_twin(full, crop or shrink) if crop or shrink else full
            if previous is None:
                model = _model_for_stage(trainee, out_dir, state, stage_index, loss, learning_rate,
                                         epochs * len(batches), config)
                if model.input_shape[1:3] != trainee.input_shape[1:3]:  # resumed where the part begins
                    model = _carry_on(model, trainee, loss, config)
            else:
                model = _carry_on(previous, trainee, loss, config)
            for _ in range(begin):
                batches.on_epoch_end()  # replay the shuffles, so a resumed run sees the same order
            recorder = EpochRecorder(val, config, out_dir, state, stage, stage_index, epochs, verbose, device,
                                     scored=full if crop or shrink else None)
            model.fit(batches, epochs=last, initial_epoch=begin, callbacks=[recorder], verbose=0, shuffle=False)
            previous = model
        state.update(stage=stage_index + 1, epoch=0, stop=False, wait=0)
        write_json(out_dir / "state.json", state)
    if config.cycles and "snapshots" not in state:
        state["snapshots"] = score_snapshots(full, out_dir, val)
        write_json(out_dir / "state.json", state)
    if config.swa_epochs and "swa" not in state:
        state["swa"] = average_snapshots(model, out_dir, train, val, config)
        write_json(out_dir / "state.json", state)
    state["finished"] = True
    write_json(out_dir / "state.json", state)
    _finalise_best(out_dir, val, config, provenance, model_config(full))
    return read_history(out_dir / "best.keras")


def _prepare_for(model):
    """The batch function of ``TileBatches``: uint8 tiles and bool masks to ``model``'s (x, y),
    with a target for every output (``output_kinds``)."""
    size, geometry = model_geometry(model)
    kinds = output_kinds(model)

    def prepare(images, masks):
        x, y = to_model(images, size, geometry), to_model(masks, size, geometry, mask=True)
        if len(kinds) == 1:
            return x, y
        return x, tuple(has_salt(masks) if kind == "empty" else y for kind in kinds)

    return prepare


def output_kinds(model) -> list[str]:
    """What each output of ``model`` predicts, in order: "mask", "empty" (the empty-tile head),
    "aux" (a deep-supervision mask)."""
    config = model_config(model)
    depth = int(config["depth"])
    return (["mask"] + (["empty"] if config.get("empty_head") else [])
            + (["aux"] * (depth - 1) if config.get("deep_supervision") else []))


def stage_parts(config: TrainConfig, stage_index: int, epochs: int) -> list[tuple[int, int, int, int]]:
    """The parts of a stage that train on one input each: (first epoch, end epoch, crop, shrink),
    epochs counted from 0 and the end excluded, 0 for no crop or shrink. One part but for a first
    stage whose first ``early_size_epochs`` train at ``early_size`` and the rest on the whole input."""
    if stage_index > 0:
        return [(0, epochs, config.lovasz_crop, 0)]
    if config.early_size and config.early_size_epochs:
        return [(0, config.early_size_epochs, 0, config.early_size), (config.early_size_epochs, epochs, 0, 0)]
    return [(0, epochs, config.early_crop, config.early_size)]


def _carry_on(source, target, loss: str, config: TrainConfig):
    """``target`` (the same network at another input size) with ``source``'s weights and a copy of
    its optimizer, state included (moments, step count and so the learning rate's schedule), so
    training goes on where ``source`` stopped."""
    target.set_weights(source.get_weights())
    optimizer = source.optimizer.__class__.from_config(source.optimizer.get_config())
    target.compile(optimizer=optimizer, **stage_losses(target, loss, config.empty_head_weight, config.deep_supervision_weight))
    optimizer.build(target.trainable_variables)
    if [tuple(v.shape) for v in optimizer.variables] != [tuple(v.shape) for v in source.optimizer.variables]:
        raise ValueError("the optimizer's state does not fit the network it should carry on to")
    for mine, theirs in zip(optimizer.variables, source.optimizer.variables):
        mine.assign(theirs)
    return target


def _smaller_twin(model, side: int):
    """The same network for ``side`` x ``side`` inputs, with ``model``'s weights (a convolutional
    network's weights do not depend on the input size)."""
    config = model_config(model)
    depth = int(config["depth"])
    if side % 2**depth or side >= config["input_size"]:
        raise ValueError(f"a smaller input (early_crop, lovasz_crop, early_size) of {side} must be smaller than the input "
                         f"({config['input_size']}) and divisible by 2**depth = {2**depth}")
    twin = model_from_config(config | {"input_size": side})
    twin.set_weights(model.get_weights())
    return twin


def stages_of(config: TrainConfig) -> list[tuple[str, str, float, int]]:
    """The training stages: (name, loss, learning rate, epochs); the Lovasz stage is optional."""
    stages = [("main", config.loss, config.learning_rate, config.epochs)]
    if config.lovasz_epochs:
        stages.append(("lovasz", "lovasz", config.lovasz_learning_rate, config.lovasz_epochs))
    return stages


def stage_deadline(config: TrainConfig, stage_index: int) -> float | None:
    """Seconds of run time (all stages so far) by which stage ``stage_index`` must end, or None."""
    if config.minutes is None:
        return None
    epochs = [stage[3] for stage in stages_of(config)]
    return config.minutes * 60 * sum(epochs[: stage_index + 1]) / sum(epochs)


class EpochRecorder(keras.callbacks.Callback):
    """After each epoch: score validation, log a history row, keep the best, save a resume point."""

    def __init__(self, val, config, out_dir, state, stage, stage_index, epochs, verbose, device, scored=None):
        super().__init__()
        # ``scored``: the network that is scored and kept, when the one trained is its cropped twin
        self.scored = scored
        self.device = device  # what trains these epochs (``note_device``)
        self.val, self.config, self.out_dir, self.state = val, config, out_dir, state
        self.stage, self.stage_index, self.epochs = stage, stage_index, epochs
        self.verbose = verbose
        self.bar = None
        self.n_train = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()
        steps = self.params.get("steps")
        self.n_train = steps * self.config.batch_size  # tiles per epoch, up to the last partial batch
        self.bar = tqdm(total=steps, desc=f"{self.stage} epoch {epoch + 1}/{self.epochs}", unit="batch",
                        leave=False, disable=not self.verbose, mininterval=2)

    def _over_time(self, train_seconds: float) -> bool:
        """Whether another epoch as long as this one would overrun this stage's share of the cap."""
        deadline = stage_deadline(self.config, self.stage_index)
        return deadline is not None and self.state["elapsed"] + train_seconds > deadline

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)
        if logs and batch % 10 == 0:
            self.bar.set_postfix(loss=f"{float(logs.get('loss', np.nan)):.4f}")

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()
        train_seconds = time.perf_counter() - self.epoch_start
        state = self.state
        latest = _swap_in_average(self.model) if self.config.ema_momentum else None
        scored = self.model
        if self.scored is not None:
            self.scored.set_weights(self.model.get_weights())
            scored = self.scored
        validated = (epoch + 1) % self.config.val_every == 0 or epoch + 1 == self.epochs
        improved = False
        threshold = score = np.nan
        if validated:
            probs = predict(scored, self.val.images, tta=self.config.val_tta)
            threshold, score = choose_threshold(probs, self.val.masks)
            improved = score > state.get("best_score", -1.0)
            if improved:
                state.update(best_score=score, best_threshold=threshold, best_epoch=state.get("total_epochs", 0) + 1, wait=0)
                _save_model(scored, self.out_dir / "best.keras")
            else:
                state["wait"] = state.get("wait", 0) + 1
        epoch_seconds = time.perf_counter() - self.epoch_start
        state["elapsed"] = state.get("elapsed", 0.0) + epoch_seconds
        state.update(epoch=epoch + 1, stage=self.stage_index, total_epochs=state.get("total_epochs", 0) + 1)
        note_device(state, self.device)
        stalled = state.get("wait", 0) >= self.config.patience
        cut = not stalled and epoch + 1 < self.epochs and self._over_time(train_seconds)
        row = {
            "epoch": state["total_epochs"], "stage": self.stage, "loss": float((logs or {}).get("loss", np.nan)),
            "val_tgs_score": score, "val_threshold": threshold,
            "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
            "train_seconds": round(train_seconds, 2), "images_per_second": round(self.n_train / train_seconds, 2),
            "elapsed_seconds": round(state["elapsed"], 1), "cut_by_time": cut,
            "val_seconds": round(epoch_seconds - train_seconds, 2),
        }
        _append_history(self.out_dir, row)
        if stalled or cut:
            state["stop"] = True
            self.model.stop_training = True
        if cut:
            state["cut_by_time"] = True
            # Loud whatever ``verbose`` says: a run that ends short of its epochs must not look finished.
            tqdm.write(f"TIME CAP: stage {self.stage!r} cut after epoch {epoch + 1} of {self.epochs} by --minutes "
                       f"{self.config.minutes} ({state['elapsed'] / 60:.1f} min elapsed); history and record say cut_by_time")
        final_stage = self.stage_index == len(stages_of(self.config)) - 1
        if self.config.cycles and final_stage and (epoch + 1) % (self.epochs // self.config.cycles) == 0:
            cycle = (epoch + 1) // (self.epochs // self.config.cycles)
            _save_weights(scored, self.out_dir / f"cycle-{cycle}.weights.h5")
            state.setdefault("cycle_epochs", {})[str(cycle)] = state["total_epochs"]
        if self.config.swa_epochs and final_stage:
            _save_snapshot(self.model, self.out_dir, state["total_epochs"], self.config.swa_epochs)
        if latest is not None:  # training (and its resume point) goes on from the latest weights
            for variable, value in zip(self.model.trainable_variables, latest):
                variable.assign(value)
        _save_resume_point(self.model, self.out_dir, state)
        if self.verbose:
            mark = " *" if improved else ""
            scored_text = f"val tgs_score {score:.4f} @ {threshold:.3f}{mark}" if validated else "not scored"
            tqdm.write(f"{self.stage} epoch {epoch + 1}/{self.epochs}: loss {row['loss']:.4f}, "
                       f"{scored_text} ({train_seconds:.0f} s)")


def _swap_in_average(model) -> list[np.ndarray]:
    """Set ``model``'s trainable weights to its optimizer's moving average (``use_ema``) and return
    the latest weights they replace, to be assigned back."""
    latest = [keras.ops.convert_to_numpy(variable) for variable in model.trainable_variables]
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    optimizer.finalize_variable_values(model.trainable_variables)
    return latest


def _save_weights(model, path: Path) -> None:
    """``model.save_weights(path)`` through a temporary name (Keras wants the .weights.h5 ending)."""
    partial = path.with_name("partial-" + path.name)
    model.save_weights(partial)
    os.replace(partial, path)


def cycle_snapshots(out_dir) -> list[Path]:
    """The end-of-cycle snapshots of a run with ``cycles``, first cycle first."""
    return sorted(Path(out_dir).glob("cycle-*.weights.h5"), key=lambda path: int(path.name.split("-")[1].split(".")[0]))


def score_snapshots(model, out_dir: Path, val) -> list[dict]:
    """Score each end-of-cycle snapshot on ``val`` (flip TTA, threshold tuned there) alone, and the
    snapshot ensemble of cycles 1..k (the mean of their probabilities) for every k. ``model`` is a
    network of the run's architecture; its weights are changed. Returns one dict per cycle."""
    rows, total = [], None
    for k, path in enumerate(cycle_snapshots(out_dir), 1):
        model.load_weights(path)
        probs = predict(model, val.images, tta=True)
        total = probs if total is None else total + probs
        single = choose_threshold(probs, val.masks)[1]
        ensemble = choose_threshold(total / k, val.masks)[1]
        rows.append({"cycle": k, "val_tgs_score": single, "ensemble_val_tgs_score": ensemble})
        tqdm.write(f"cycle {k}: snapshot val tgs_score {single:.4f}, snapshot ensemble of {k}: {ensemble:.4f}")
    return rows


def _save_snapshot(model, out_dir: Path, epoch: int, keep: int) -> None:
    """Save the weights after ``epoch`` as ``swa-e<epoch>.weights.h5``; keep only the last ``keep``."""
    # Written under another name and renamed, as atomic_write does (whose partial names Keras refuses
    # here: a weights file's name must end in .weights.h5).
    partial = out_dir / f"partial-swa-e{epoch}.weights.h5"
    model.save_weights(partial)
    os.replace(partial, out_dir / f"swa-e{epoch}.weights.h5")
    for path in snapshot_paths(out_dir)[:-keep]:
        path.unlink()


def snapshot_paths(out_dir: Path) -> list[Path]:
    """The weight snapshots in ``out_dir``, oldest epoch first."""
    return sorted(Path(out_dir).glob("swa-e*.weights.h5"), key=snapshot_epoch)


def snapshot_epoch(path: Path) -> int:
    """The epoch after which a snapshot was taken: ``swa-e12.weights.h5`` -> 12."""
    return int(path.name.removeprefix("swa-e").split(".")[0])


def average_snapshots(model, out_dir: Path, train, val, config: TrainConfig) -> dict:
    """Weight averaging at the end of a run: average the snapshots' weights (``average_weights``),
    re-estimate BatchNorm statistics on ``train`` (``recalibrate_batch_norm``), save the result as
    swa.keras, and as best.keras when its validation tgs_score (flip TTA, tuned threshold) is at
    least that of best.keras. Returns what happened: the epochs averaged, both scores, ``kept``."""
    snapshots = snapshot_paths(out_dir)
    if not snapshots:
        return {"epochs": [], "kept": False}
    candidate = keras.models.load_model(out_dir / "best.keras", compile=False)
    candidate.salt_config = model_config(model)
    best_score = choose_threshold(predict(candidate, val.images, tta=True), val.masks)[1]
    average_weights(candidate, snapshots)
    recalibrate_batch_norm(candidate, train.images, config.batch_size)
    score = choose_threshold(predict(candidate, val.images, tta=True), val.masks)[1]
    _save_model(candidate, out_dir / "swa.keras")
    kept = score >= best_score
    if kept:
        _save_model(candidate, out_dir / "best.keras")
    epochs = [snapshot_epoch(path) for path in snapshots]
    tqdm.write(f"weight average of epochs {epochs}: val tgs_score {score:.4f}, best epoch {best_score:.4f}: "
               f"{'kept as best.keras' if kept else 'not kept'}")
    return {"epochs": epochs, "val_tgs_score": score,
            "best_single_val_tgs_score": best_score, "kept": kept}


def average_weights(model, weight_files) -> None:
    """Set ``model``'s weights to the elementwise mean of those in ``weight_files`` (``.weights.h5``
    files of the same architecture). Non-float variables keep the last file's values."""
    total = None
    for path in weight_files:
        model.load_weights(path)
        values = [keras.ops.convert_to_numpy(weight) for weight in model.weights]
        total = values if total is None else [t + v if np.issubdtype(v.dtype, np.floating) else v for t, v in zip(total, values)]
    model.set_weights([t / len(weight_files) if np.issubdtype(t.dtype, np.floating) else t for t in total])


def recalibrate_batch_norm(model, images: np.ndarray, batch_size: int) -> None:
    """Re-estimate each BatchNormalization layer's moving mean and variance as the mean of its
    batch statistics over uint8 tiles ``images`` (N, 101, 101), in training mode; no other
    weight changes. Averaged weights need this: their activations differ from any epoch's."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    size, geometry = model_geometry(model)
    momenta = [layer.momentum for layer in norms]
    try:
        for index, start in enumerate(range(0, len(images), batch_size)):
            for layer in norms:
                layer.momentum = index / (index + 1)  # moving = running mean of the batches' statistics
            model(to_model(images[start : start + batch_size], size, geometry), training=True)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum


def has_salt(masks: np.ndarray) -> np.ndarray:
    """The empty-tile head's target for bool masks (N, H, W): (N, 1) float32, 1 where a tile has salt."""
    return np.asarray(masks).reshape(len(masks), -1).any(axis=1, keepdims=True).astype(np.float32)


def stage_losses(model, loss: str, empty_head_weight: float, deep_supervision_weight: float = 0.1) -> dict:
    """``compile``'s loss arguments for a stage: the segmentation loss ``loss``; for a network with
    the empty-tile head its binary cross-entropy times ``empty_head_weight``, and for a deeply
    supervised one ``loss`` on every auxiliary mask times ``deep_supervision_weight``, added to it."""
    kinds = output_kinds(model)
    if len(kinds) == 1:
        return {"loss": get_loss(loss)}
    losses = {"mask": (get_loss(loss), 1.0), "empty": (get_loss("bce"), empty_head_weight),
              "aux": (get_loss(loss), deep_supervision_weight)}
    return {"loss": [losses[kind][0] for kind in kinds], "loss_weights": [losses[kind][1] for kind in kinds]}


def _model_for_stage(model, out_dir, state, stage_index, loss, learning_rate, total_steps, config: TrainConfig):
    """The model to train in this stage: resumed from disk if a resume point exists, compiled fresh
    at a stage's start (the Lovasz stage starts from the best weights of the first)."""
    resume = out_dir / state["last"] if state.get("last") else None
    if resume and resume.is_file() and state["stage"] == stage_index and state["epoch"] > 0:
        restored = load_model(resume, compile=True)
        restored.salt_config = getattr(model, "salt_config", {})
        return restored
    if stage_index > 0 and (out_dir / "best.keras").is_file():
        with warnings.catch_warnings():
            # a network compiled in the stage before (early_size_epochs) has an optimizer that a best
            # model saved uncompiled does not: its weights load, and the stage compiles a new optimizer
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(out_dir / "best.keras")
    if config.cycles and stage_index == len(stages_of(config)) - 1:
        schedule = keras.optimizers.schedules.CosineDecayRestarts(
            learning_rate, first_decay_steps=max(1, total_steps // config.cycles), t_mul=1.0, m_mul=1.0,
            alpha=config.min_learning_rate_ratio)
    else:
        schedule = learning_rate_schedule(learning_rate, total_steps, config.min_learning_rate_ratio,
                                          warmup_steps(config, total_steps) if stage_index == 0 else 0)
    optimizer = keras.optimizers.Adam(schedule, use_ema=bool(config.ema_momentum), ema_momentum=config.ema_momentum or 0.99)
    model.compile(optimizer=optimizer, **stage_losses(model, loss, config.empty_head_weight, config.deep_supervision_weight))
    return model


def warmup_steps(config: TrainConfig, total_steps: int) -> int:
    """Optimizer steps of the first stage's warm-up: ``warmup_epochs`` of its ``total_steps``."""
    return total_steps * config.warmup_epochs // config.epochs


def learning_rate_schedule(peak: float, total_steps: int, min_ratio: float, warmup: int = 0):
    """A stage's learning rate per optimizer step: a cosine from ``peak`` to ``peak * min_ratio``
    over ``total_steps``; with ``warmup`` steps, first a linear rise from ``WARMUP_START * peak``
    to ``peak`` and then the cosine over the remaining steps."""
    if not warmup:
        return keras.optimizers.schedules.CosineDecay(peak, decay_steps=max(1, total_steps), alpha=min_ratio)
    return keras.optimizers.schedules.CosineDecay(WARMUP_START * peak, decay_steps=max(1, total_steps - warmup),
                                                  alpha=min_ratio, warmup_target=peak, warmup_steps=warmup)


def run_finished(out_dir) -> bool:
    """Whether ``out_dir`` holds a finished run: its state says so and its best model has a record."""
    state = _read_state(Path(out_dir))
    return bool(state and state.get("finished")) and config_path(Path(out_dir) / "best.keras").is_file()


def _read_state(out_dir: Path) -> dict | None:
    path = out_dir / "state.json"
    return json.loads(path.read_text()) if path.is_file() else None


def note_device(state: dict, device: str) -> None:
    """Count the epoch just ended (``state["total_epochs"]``) as trained on ``device``, in
    ``state["devices"]``: one segment per stretch of epochs on one device, so a run resumed on
    another machine says which epochs ran where (its epochs' seconds are then timings of two).
    A run begun before segments were kept has its earlier epochs as ``device`` None."""
    epoch = state["total_epochs"]
    segments = state.setdefault("devices", [])
    if not segments and epoch > 1:
        segments.append({"device": None, "first_epoch": 1, "last_epoch": epoch - 1})
    if segments and segments[-1]["device"] == device and segments[-1]["last_epoch"] == epoch - 1:
        segments[-1]["last_epoch"] = epoch
    else:
        segments.append({"device": device, "first_epoch": epoch, "last_epoch": epoch})


def _load_state(out_dir: Path, run_key: str) -> dict:
    state = _read_state(out_dir)
    if state is None:
        return {"run_key": run_key, "stage": 0, "epoch": 0}
    if state.get("run_key") != run_key:
        raise RunMismatch(f"{out_dir} holds a run with other settings (key {state.get('run_key')}, now {run_key}). "
                          "Use another --out folder, or delete that folder to start over.")
    return state


def _save_model(model, path: Path) -> None:
    with atomic_write(path) as partial:
        model.save(partial)


def _save_resume_point(model, out_dir: Path, state: dict) -> None:
    name = f"last-e{state['total_epochs']}.keras"
    _save_model(model, out_dir / name)
    previous = state.get("last")
    state["last"] = name
    write_json(out_dir / "state.json", state)  # the state points at the new file only once it exists
    if previous and previous != name:
        (out_dir / previous).unlink(missing_ok=True)


def _append_history(out_dir: Path, row: dict) -> None:
    path = history_path(out_dir / "best.keras")
    history = read_history(out_dir / "best.keras")
    # Rows past the resume point belong to an epoch that was killed before its state was saved.
    history = history[history["epoch"] < row["epoch"]] if len(history) else history
    with atomic_write(path) as partial:
        pd.concat([history, pd.DataFrame([row])], ignore_index=True).to_csv(partial, index=False)


def _finalise_best(out_dir: Path, val, config: TrainConfig, provenance: dict | None, architecture: dict) -> dict:
    """Re-score the best weights on validation with flip TTA, tune the threshold and the minimum
    component size there (and, for a network with an empty-tile head, the head probability under
    which a tile is emptied: ``empty_cut``), and write best.config.json: the model's provenance.
    Returns that dict."""
    state = _read_state(out_dir)
    model = keras.models.load_model(out_dir / "best.keras", compile=False)
    model.salt_config = architecture
    probs, salt = predict_with_head(model, val.images, tta=True)  # salt: None without an empty-tile head
    threshold, score = choose_threshold(probs, val.masks)
    min_size, score_cleaned = choose_min_size(probs, val.masks, threshold)
    gate = {}
    if salt is not None:
        empty_cut, score_gated = choose_empty_cut(probs, salt, val.masks, threshold, min_size)
        gate = {"empty_cut": empty_cut, "tgs_score_empty_cut": score_gated}
    record = architecture | {
        "parameters": int(model.count_params()),
        "training": config.to_dict(),
        "provenance": provenance or {},
        "epochs_trained": state.get("total_epochs"),
        "best_epoch": state.get("best_epoch"),
        "wall_seconds": round(state.get("elapsed", 0.0), 1),  # summed over ``devices``
        "devices": state.get("devices", []),  # which epochs ran on which device (``note_device``)
        "cut_by_time": bool(state.get("cut_by_time", False)),  # the --minutes cap ended a stage early
        **({"swa": state["swa"]} if "swa" in state else {}),
        **({"snapshots": [row | {"epoch": state.get("cycle_epochs", {}).get(str(row["cycle"]))} for row in state["snapshots"]]}
           if "snapshots" in state else {}),
        "val": {"tgs_score_no_tta": state.get("best_score"), "tgs_score": score, "threshold": threshold,
                "min_size": min_size, "tgs_score_min_size": score_cleaned, "tiles": len(val)} | gate,
        "threshold": threshold,
        "min_size": min_size,
        **({"empty_cut": gate["empty_cut"]} if gate else {}),
        "versions": library_versions(),
        "git_commit": git_commit(),
    }
    write_record(out_dir / "best.keras", record)
    return record


def library_versions() -> dict:
    """Versions of Python, salt_lib, Keras, numpy and the Keras backend that runs (TensorFlow or JAX)."""
    import importlib

    backend = keras.backend.backend()
    module = importlib.import_module({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend, backend))
    return {"python": platform.python_version(), "salt_lib": __version__, "keras": keras.__version__,
            backend: getattr(module, "__version__", None), "numpy": np.__version__, "backend": backend,
            "device": compute_device()}


def compute_device() -> str:
    """What trained the model, in words: the first accelerator the backend sees (e.g. 'gpu NVIDIA
    H200'), else the CPU (``hardware.describe_cpu``: its model, cores, cache and whether it
    computes bfloat16 natively). Provenance only: no run key holds it."""
    import os

    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "cpu":
            return f"{device.platform} {getattr(device, 'device_kind', '')}".strip()
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return f"gpu {gpus[0].name}"
    return describe_cpu(os.cpu_count())


def use_devices(spec: str | None) -> list[str]:
    """Train on the local devices that ``spec`` names, data parallel; returns their names.

    ``spec``: None or "default" (Keras's own choice, nothing set), "all" (every local accelerator,
    or the CPU when there is none), a count ("2": the first two) or names ("gpu:0,gpu:1"). With
    more than one device this sets a ``keras.distribution.DataParallel`` distribution: every device
    holds the weights and takes an equal share of each global batch, so ``batch_size`` is the
    global batch and results match one device's up to floating-point rounding. Call it before the
    model is built. Keras distributes on the JAX backend only: more than one device under another
    backend is a ValueError that says so; one device is the plain single-device run anyway.
    """
    if spec in (None, "", "default"):
        return []
    available = keras.distribution.list_devices()
    if spec == "all":
        devices = available
    elif str(spec).isdigit():
        if not 0 < int(spec) <= len(available):
            raise ValueError(f"--devices {spec}: this machine has {len(available)} device(s): {', '.join(available)}")
        devices = available[: int(spec)]
    else:
        devices = [name.strip() for name in str(spec).split(",") if name.strip()]
        unknown = sorted(set(devices) - set(available))
        if unknown:
            raise ValueError(f"--devices: unknown device(s) {', '.join(unknown)}; this machine has {', '.join(available)}")
    if len(devices) > 1:
        if keras.backend.backend() != "jax":
            raise ValueError(f"data-parallel training over {len(devices)} devices needs KERAS_BACKEND=jax "
                             f"(Keras distributes on JAX only); this run uses {keras.backend.backend()}")
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return list(devices)


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
