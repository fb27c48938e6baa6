"""The training recipes the workbook names: the source thesis's, and the project's default.

A recipe is the model options (``overrides`` of the ``lite`` preset) and the ``TrainConfig``
fields of a run; the network (U-Net or ResU-Net) is chosen separately, so both networks train
with one recipe and differ only in their shortcuts.

``DEFAULT`` is what the recipe ablation on validation supports (``results/ablation``, README
"Recipe ablation"): 128x128 reflect-padded input (+0.016 [0.005, 0.027] over the native 101),
transposed-conv upsampling, the ``flip_geo`` policy, BCE + Dice then the Lovasz hinge for equal
halves of the budget, no early stop (every run gets its whole budget), bfloat16 mixed precision
(about 1.4x faster on a CPU with AVX512_BF16). The committed ``models/*_lite.keras`` were
trained with it; ``params/thesis.yaml``'s chapters 4 and 5 repeat it (a test checks).

``THESIS`` is the source thesis's recipe on the lite network: bicubic resize to 128x128, plain
BCE, Adam at a constant 1e-4 (a cosine that decays to 1.0 times its start), the 1:1 mirror
expansion; ``benchmarks/bench_time_to_quality.py`` races it against ``DEFAULT``.

The speed levers of ``TrainConfig`` (``warmup_epochs``, ``early_crop``, ``early_size``,
``early_size_epochs``, ``lovasz_crop``, ``alternate_flips``, ``val_every``) are options, and so is
the network's width (``filters``); ``benchmarks/bench_time_to_quality.py`` measures them as arms
built with ``variant``. ``FAST`` keeps DEFAULT's network and input with shorter stages, validation
every second epoch and derandomized flips: half the minutes, a lower score. ``PROGRESSIVE`` keeps
DEFAULT's stages and trains most of the first on the whole tile at half the scale (progressive
resizing): about three fifths of DEFAULT's minutes, the best end score of the faster arms.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    name: str
    overrides: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)


DEFAULT = Recipe(
    "default",
    overrides={"input_size": 128, "upsampling": "transpose", "precision": "mixed_bfloat16"},
    training={"augment": "flip_geo", "epochs": 22, "lovasz_epochs": 22, "patience": 44},
)

THESIS = Recipe(
    "thesis",
    overrides={"input_size": 128, "geometry": "resize", "upsampling": "upsample"},
    training={"augment": "mirror", "loss": "bce", "learning_rate": 1e-4, "min_learning_rate_ratio": 1.0,
              "epochs": 22, "patience": 22},
)

# DEFAULT with both stages cut to 12 epochs (the cosine compressed with them), validation every
# second epoch and derandomized flips; network and input as DEFAULT's. About half of DEFAULT's
# minutes; its finished U-Net and ResUNet score clearly lower on validation (benchmarks/README.md,
# "Time to quality", and the studies recipe_fast_unet and recipe_fast_resunet): a recipe for quick
# runs, not a replacement.
FAST = Recipe(
    "fast",
    overrides=dict(DEFAULT.overrides),
    training={"augment": "flip_geo", "epochs": 12, "lovasz_epochs": 12, "patience": 24, "alternate_flips": True,
              "val_every": 2},
)

# DEFAULT's 22 + 22 epochs with the first 18 of the first stage on the whole padded input brought
# down to 64 x 64 (progressive resizing, each epoch about a fifth of a full-size one), its last 4
# and the Lovasz stage at 128; derandomized flips and validation every second epoch, as FAST. The
# benchmark's arm stack_g (benchmarks/README.md, "Time to quality"); whether its finished U-Net
# and ResUNet match DEFAULT's is asked by the studies recipe_progressive_unet and _resunet.
PROGRESSIVE = Recipe(
    "progressive",
    overrides=dict(DEFAULT.overrides),
    training=dict(DEFAULT.training, early_size=64, early_size_epochs=18, alternate_flips=True, val_every=2),
)

RECIPES = {recipe.name: recipe for recipe in (DEFAULT, THESIS, FAST, PROGRESSIVE)}


def variant(recipe: Recipe, name: str, overrides: dict | None = None, **training) -> Recipe:
    """``recipe`` with some model options (``overrides``) and training settings changed, under
    another name (a benchmark's arm)."""
    return Recipe(name, dict(recipe.overrides, **(overrides or {})), dict(recipe.training, **training))
