"""U-Net and ResU-Net for salt segmentation, built from one encoder/decoder skeleton.

The thesis compares a U-Net with a residual U-Net (ResU-Net). They differ only in whether each
level adds a *shortcut* of its input to its output, so this module builds both with the same
functions and makes the shortcut an option (``ModelConfig.shortcut``), not a second network.

Reading the network (names match ``model.summary()`` and the thesis figure)::

    input                                              head_sigmoid  (size x size x 1, float32)
      enc1  -- skip ------------------------------------>  dec1
        enc1_pool                                        dec1_up
          enc2  -- skip ------------------------->  dec2
            enc2_pool                             dec2_up
              ...                               ...
                enc{depth+1}  (the bottleneck: the deepest level, not pooled)

* Level ``k`` works at resolution ``size / 2**(k-1)``; ``deck`` concatenates ``enck``'s output, so
  an encoder level and the decoder level at the same resolution share a number. The source
  thesis's classic numbering (encoder levels 1..5, decoder levels 6..9) maps to enc1..enc5 and dec4..dec1.
* Inside a level: ``enc3_conv1``, ``enc3_conv1_bn`` (lite only), ``enc3_conv1_relu``, the same for
  ``conv2``, then with a shortcut ``enc3_shortcut`` (+ ``_bn``), ``enc3_add``, ``enc3_add_relu``;
  then ``enc3_dropout`` where there is one, then ``enc3_pool``.
* A decoder level: ``dec3_up`` (UpSampling2D) + ``dec3_upconv`` (2x2 conv, + ``_bn``, ``_relu``),
  or with ``upsampling="transpose"`` just ``dec3_up`` (Conv2DTranspose, + ``_bn``, ``_relu``);
  then ``dec3_concat``, ``dec3_conv1``, ``dec3_conv2`` and the optional shortcut as above.
* With ``attention="scse"`` each decoder level ends with an scSE block: ``dec3_scse_pool``,
  ``dec3_scse_reduce``, ``dec3_scse_expand``, ``dec3_scse_channel`` (channel squeeze and
  excitation), ``dec3_scse_spatial_conv``, ``dec3_scse_spatial`` (spatial) and ``dec3_scse_add``.
* The head: ``head_conv`` (the thesis's 3x3 two-filter conv, optional) and ``head_sigmoid``.
* With ``empty_head=True`` a second output on the bottleneck: ``empty_head_pool`` (global
  average) and ``empty_head`` (a sigmoid unit: the probability that the tile has salt).

Every option lives in the frozen dataclass ``ModelConfig``, the network's whole contract with
the data included: its input size and how a 101x101 tile is brought to it and back
(``geometry``, see ``salt_lib.geometry``). Named presets are instances of it (``PRESETS``:
``lite``, sized for a CPU, and ``thesis``, the source thesis's networks). ``unet(preset,
**overrides)`` and ``resunet(...)`` pick a preset, replace fields and build. The resolved
configuration is attached as ``model.salt_config`` (a JSON-ready dict) for provenance;
``salt_lib.records`` saves it beside the ``.keras`` file and reattaches it on loading, and
``model_from_config`` rebuilds a fresh model from such a dict.

Only ``keras.layers`` / ``keras.ops`` are used (nothing from TensorFlow itself), so the models
run on any Keras 3 backend.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import warnings
from typing import Any

import keras
from keras import layers

from salt_lib.geometry import MODES

UPSAMPLING_MODES = ("upsample", "transpose")
SHORTCUT_KINDS = (None, "conv3", "conv1", "identity")
ATTENTION_KINDS = (None, "scse")
PRECISIONS = ("float32", "mixed_bfloat16")
SCSE_REDUCTION = 2  # channel squeeze ratio of the scSE block (Roy et al. 2018 use 2)
ARCHITECTURES = ("unet", "resunet")


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Every option of the U-Net / ResU-Net skeleton. The defaults are the ``lite`` U-Net.

    input_size: height = width of the (square) input in pixels; divisible by ``2**depth``.
    input_channels: channels of the input (1: the grey seismic tile).
    filters: width of level 1; level k has ``filters * 2**(k-1)`` (doubling per level).
    depth: number of 2x2 poolings; the network has ``depth + 1`` encoder levels (the last is
        the bottleneck) and ``depth`` decoder levels.
    batch_norm: True: every conv is conv (no bias) -> BatchNorm -> ReLU. False (the thesis): conv
        with bias -> ReLU.
    dropout: Dropout rate after the deepest ``dropout_levels`` encoder levels (0: none).
    dropout_levels: how many encoder levels, counted from the bottleneck up, get that dropout
        (the thesis: 2, i.e. levels 4 and 5; lite: 1, the bottleneck only).
    upsampling: ``"upsample"`` (UpSampling2D, then a 2x2 conv, as the thesis) or ``"transpose"``
        (a 2x2 stride-2 Conv2DTranspose).
    decoder_filters_scale: decoder level k has ``round(scale * filters * 2**(k-1))`` filters; below
        1 gives a narrower (cheaper) decoder.
    shortcut: None (U-Net) or the residual shortcut of each level (ResU-Net): ``"conv3"`` a 3x3
        conv (the thesis), ``"conv1"`` a 1x1 conv, ``"identity"`` the input itself where the channel
        counts match and a 1x1 projection where they differ (ResNet's "option B"). In this
        skeleton the encoder levels always change the channel count (so ``identity`` projects
        there) and the decoder levels never do (so it is a true identity there). With
        ``batch_norm`` a shortcut conv has no bias and is followed by BatchNorm; never a ReLU.
    shortcut_top_decoder: whether the full-resolution decoder level (dec1) also gets a shortcut;
        the thesis's ResU-Net leaves it out.
    head_filters: filters of an extra 3x3 conv before the 1x1 sigmoid (the thesis: 2); None: none.
    kernel_initializer: initializer of every conv kernel (the thesis: ``"he_normal"``).
    geometry: how a 101x101 tile becomes the ``input_size`` input and a prediction comes back:
        ``"pad"`` (reflect padding, cropped back) or ``"resize"`` (bicubic both ways); see
        ``salt_lib.geometry``.
    attention: None, or ``"scse"``: each decoder level ends with concurrent spatial and channel
        squeeze and excitation (Roy et al. 2018), the sum of the features rescaled per channel
        and per pixel (``scse_block``).
    empty_head: whether the network has a second output, ``empty_head`` (N, 1): the probability
        that the tile has any salt, from the bottleneck (``empty_tile_head``). Training adds its
        binary cross-entropy to the segmentation loss; predictions use the masks only.
    deep_supervision: whether every decoder level below the top also predicts the mask: a 1x1
        conv ``dec<k>_aux_logits``, resized (bilinear) to the input ``dec<k>_aux_resize`` and a
        float32 sigmoid ``aux<k>``. These outputs follow the masks (and the empty-tile head) and
        only add training losses (``TrainConfig.deep_supervision_weight``); predictions use the
        masks only.
    precision: the layers' dtype policy: ``"float32"``, or ``"mixed_bfloat16"`` (bfloat16
        compute, float32 weights; the sigmoid outputs stay float32). On a CPU with AVX512_BF16
        it trains about 1.4x faster (``python -m salt_lib bench``). The policy is stored with each
        layer, so a saved model loads with the precision it was trained in.
    """

    input_size: int = 128
    input_channels: int = 1
    filters: int = 16
    depth: int = 4
    batch_norm: bool = True
    dropout: float = 0.1
    dropout_levels: int = 1
    upsampling: str = "upsample"
    decoder_filters_scale: float = 1.0
    shortcut: str | None = None
    shortcut_top_decoder: bool = True
    head_filters: int | None = None
    kernel_initializer: str = "he_normal"
    geometry: str = "pad"
    attention: str | None = None
    empty_head: bool = False
    precision: str = "float32"
    deep_supervision: bool = False

    def __post_init__(self) -> None:
        # Validate here so that an invalid configuration cannot exist at all.
        for name in ("input_size", "input_channels", "filters", "depth"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.input_size % 2**self.depth and self.upsampling != "transpose":
            raise ValueError(
                f"input_size {self.input_size} must be divisible by 2**depth = {2**self.depth} "
                f"(the encoder halves it {self.depth} times and the decoder must double it back); "
                f"e.g. 128 or 112 work for depth 4. Odd sizes such as the native 101 need "
                f"upsampling='transpose'"
            )
        if self.input_size < 2**self.depth:
            raise ValueError(f"input_size {self.input_size} is too small for depth {self.depth}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not _is_int(self.dropout_levels) or not 0 <= self.dropout_levels <= self.depth + 1:
            raise ValueError(f"dropout_levels must be an integer in 0..depth+1 = 0..{self.depth + 1}, got {self.dropout_levels!r}")
        if self.upsampling not in UPSAMPLING_MODES:
            raise ValueError(f"upsampling must be one of {UPSAMPLING_MODES}, got {self.upsampling!r}")
        if self.shortcut not in SHORTCUT_KINDS:
            raise ValueError(f"shortcut must be one of {SHORTCUT_KINDS}, got {self.shortcut!r}")
        if not self.decoder_filters_scale > 0:
            raise ValueError(f"decoder_filters_scale must be positive, got {self.decoder_filters_scale!r}")
        if self.head_filters is not None and (not _is_int(self.head_filters) or self.head_filters < 1):
            raise ValueError(f"head_filters must be None or a positive integer, got {self.head_filters!r}")
        if self.geometry not in MODES:
            raise ValueError(f"geometry must be one of {MODES}, got {self.geometry!r}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not isinstance(self.empty_head, bool):
            raise ValueError(f"empty_head must be true or false, got {self.empty_head!r}")
        if not isinstance(self.deep_supervision, bool):
            raise ValueError(f"deep_supervision must be true or false, got {self.deep_supervision!r}")

    def encoder_filters(self, level: int) -> int:
        """Filters of encoder level ``level`` (1 = full resolution, depth+1 = bottleneck)."""
        return self.filters * 2 ** (level - 1)

    def decoder_filters(self, level: int) -> int:
        """Filters of decoder level ``level`` (1 = full resolution): the encoder's, scaled."""
        return max(1, round(self.encoder_filters(level) * self.decoder_filters_scale))

    def has_dropout(self, level: int) -> bool:
        """Whether encoder level ``level`` ends with Dropout (the deepest ``dropout_levels``)."""
        return self.dropout > 0 and level > self.depth + 1 - self.dropout_levels

    def has_decoder_shortcut(self, level: int) -> bool:
        """Whether decoder level ``level`` gets a residual shortcut."""
        return self.shortcut is not None and (level > 1 or self.shortcut_top_decoder)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The lite U-Net: small enough to train on a CPU (about 1.9 M parameters).
LITE = ModelConfig()

# The source thesis's U-Net (the classic zhixuhao Keras U-Net at 128x128): 31,031,685 parameters.
# The thesis resized its 101x101 tiles to 128x128 (bicubic), so that is this preset's geometry.
THESIS = ModelConfig(
    input_size=128,
    geometry="resize",
    filters=64,
    depth=4,
    batch_norm=False,
    dropout=0.5,
    dropout_levels=2,
    upsampling="upsample",
    head_filters=2,
)

PRESETS: dict[str, dict[str, ModelConfig]] = {
    "unet": {"lite": LITE, "thesis": THESIS},
    "resunet": {
        "lite": dataclasses.replace(LITE, shortcut="conv1"),
        # 3x3 conv shortcuts at encoder levels 1-5 and decoder levels 6-8 (not 9):
        # 40,398,597 parameters.
        "thesis": dataclasses.replace(THESIS, shortcut="conv3", shortcut_top_decoder=False),
    },
}

# Old names, accepted with a DeprecationWarning for one release (records and commands may use them).
DEPRECATED_PRESETS = {"seed": "thesis"}

CONFIG_FIELDS = tuple(field.name for field in dataclasses.fields(ModelConfig))


def resolve_config(arch: str, preset: str = "lite", overrides: dict[str, Any] | None = None) -> ModelConfig:
    """The preset ``PRESETS[arch][preset]`` with the fields in ``overrides`` replaced.

    Raises ValueError for an unknown architecture or preset, TypeError for an unknown override
    name (listing the valid ones), ValueError for an invalid value.
    """
    if arch not in PRESETS:
        raise ValueError(f"unknown architecture {arch!r}; valid: {', '.join(PRESETS)}")
    preset = preset_name(preset)
    if preset not in PRESETS[arch]:
        raise ValueError(f"unknown preset {preset!r} for {arch}; valid: {', '.join(PRESETS[arch])}")
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(CONFIG_FIELDS))
    if unknown:
        raise TypeError(f"unknown model option(s) {', '.join(unknown)}; valid options: {', '.join(CONFIG_FIELDS)}")
    return dataclasses.replace(PRESETS[arch][preset], **overrides)


def preset_name(preset: str) -> str:
    """The current name of ``preset``: ``"seed"`` is ``"thesis"`` now (with a DeprecationWarning)."""
    if preset in DEPRECATED_PRESETS:
        warnings.warn(f"preset {preset!r} is called {DEPRECATED_PRESETS[preset]!r} now; the old name goes in the next release",
                      DeprecationWarning, stacklevel=3)
        return DEPRECATED_PRESETS[preset]
    return preset


# --------------------------------------------------------------------------------------------
# Building blocks. Each takes a Keras tensor and returns one; ``name`` / ``prefix`` name layers.
# --------------------------------------------------------------------------------------------


def normalize_activate(x, name: str, cfg: ModelConfig):
    """[BatchNorm ``{name}_bn``] then ReLU ``{name}_relu``: what follows every conv layer."""
    if cfg.batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_unit(x, filters: int, kernel_size: int, name: str, cfg: ModelConfig):
    """A 'same'-padded conv named ``name``, then [BatchNorm] and ReLU. Keeps height and width."""
    x = layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        use_bias=not cfg.batch_norm,  # BatchNorm's own offset makes a bias redundant
        kernel_initializer=cfg.kernel_initializer,
        name=name,
    )(x)
    return normalize_activate(x, name, cfg)


def conv_block(x, filters: int, prefix: str, cfg: ModelConfig):
    """The two 3x3 conv units of a level: ``{prefix}_conv1``, ``{prefix}_conv2``."""
    x = conv_unit(x, filters, 3, f"{prefix}_conv1", cfg)
    return conv_unit(x, filters, 3, f"{prefix}_conv2", cfg)


def shortcut_branch(x, filters: int, prefix: str, cfg: ModelConfig):
    """The residual shortcut of ``x`` with ``filters`` channels (see ``ModelConfig.shortcut``).

    A conv ``{prefix}_shortcut`` (3x3 or 1x1, no activation) [+ BatchNorm ``{prefix}_shortcut_bn``],
    or ``x`` itself for ``"identity"`` when the channel counts already match.
    """
    if cfg.shortcut == "identity" and x.shape[-1] == filters:
        return x
    kernel_size = 3 if cfg.shortcut == "conv3" else 1
    x = layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        use_bias=not cfg.batch_norm,
        kernel_initializer=cfg.kernel_initializer,
        name=f"{prefix}_shortcut",
    )(x)
    if cfg.batch_norm:
        x = layers.BatchNormalization(name=f"{prefix}_shortcut_bn")(x)
    return x


def residual_merge(x, shortcut, prefix: str):
    """``ReLU(x + shortcut)``: layers ``{prefix}_add`` and ``{prefix}_add_relu``.

    As in the source thesis, the level's convs keep their own ReLU and the sum gets one more.
    """
    x = layers.Add(name=f"{prefix}_add")([x, shortcut])
    return layers.Activation("relu", name=f"{prefix}_add_relu")(x)


def encoder_block(x, level: int, cfg: ModelConfig):
    """Encoder level ``level``: two conv units [+ shortcut of the input] [+ Dropout].

    Takes (N, s, s, c); returns (N, s, s, encoder_filters(level)), the tensor that is both
    pooled to the next level and passed to the decoder as the skip connection.
    """
    prefix = f"enc{level}"
    filters = cfg.encoder_filters(level)
    y = conv_block(x, filters, prefix, cfg)
    if cfg.shortcut is not None:
        y = residual_merge(y, shortcut_branch(x, filters, prefix, cfg), prefix)
    if cfg.has_dropout(level):
        y = layers.Dropout(cfg.dropout, name=f"{prefix}_dropout")(y)
    return y


def upsampling_unit(x, filters: int, prefix: str, cfg: ModelConfig, target: int | None = None):
    """Double height and width (to ``target``, the skip's side) and set the channels to ``filters``.

    ``"upsample"``: UpSampling2D ``{prefix}_up`` (nearest) + 2x2 conv unit ``{prefix}_upconv``.
    ``"transpose"``: Conv2DTranspose ``{prefix}_up`` (2x2, stride 2) [+ BatchNorm] + ReLU. When the
    skip's side is odd (a native 101 input pools to 50, 25, 12, 6), a 3x3 'valid' transposed
    conv maps n to 2n + 1 instead, as the public TGS kernels that train on 101x101 tiles do.
    """
    odd = target is not None and target == 2 * x.shape[1] + 1
    if cfg.upsampling == "upsample":
        x = layers.UpSampling2D(2, name=f"{prefix}_up")(x)
        return conv_unit(x, filters, 2, f"{prefix}_upconv", cfg)
    x = layers.Conv2DTranspose(
        filters,
        3 if odd else 2,
        strides=2,
        padding="valid" if odd else "same",
        use_bias=not cfg.batch_norm,
        kernel_initializer=cfg.kernel_initializer,
        name=f"{prefix}_up",
    )(x)
    return normalize_activate(x, f"{prefix}_up", cfg)


def scse_block(x, prefix: str):
    """Concurrent spatial and channel squeeze and excitation (scSE, Roy et al. 2018) of ``x``.

    Channel (cSE): global average ``{prefix}_scse_pool``, Dense ``_reduce`` (channels /
    ``SCSE_REDUCTION``, ReLU) and ``_expand`` (channels, sigmoid) give one weight per channel;
    ``_channel`` rescales ``x`` by them. Spatial (sSE): a 1x1 sigmoid conv ``_spatial_conv`` gives
    one weight per pixel; ``_spatial`` rescales ``x`` by it. ``_add`` sums the two. Same shape out.
    """
    channels = x.shape[-1]
    weights = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}_scse_pool")(x)
    weights = layers.Dense(max(1, channels // SCSE_REDUCTION), activation="relu", name=f"{prefix}_scse_reduce")(weights)
    weights = layers.Dense(channels, activation="sigmoid", name=f"{prefix}_scse_expand")(weights)
    channel = layers.Multiply(name=f"{prefix}_scse_channel")([x, weights])
    pixels = layers.Conv2D(1, 1, activation="sigmoid", name=f"{prefix}_scse_spatial_conv")(x)
    spatial = layers.Multiply(name=f"{prefix}_scse_spatial")([x, pixels])
    return layers.Add(name=f"{prefix}_scse_add")([channel, spatial])


def decoder_block(x, skip, level: int, cfg: ModelConfig):
    """Decoder level ``level``: upsample ``x``, concatenate ``skip``, two conv units [+ shortcut]
    [+ scSE attention].

    Takes ``x`` (N, s/2, s/2, c) from the level below and ``skip`` (N, s, s, c') from encoder level
    ``level``; returns (N, s, s, decoder_filters(level)). The shortcut (if any) is of the
    upsampled tensor, as in the source thesis.
    """
    prefix = f"dec{level}"
    filters = cfg.decoder_filters(level)
    up = upsampling_unit(x, filters, prefix, cfg, target=skip.shape[1])
    y = layers.Concatenate(name=f"{prefix}_concat")([skip, up])
    y = conv_block(y, filters, prefix, cfg)
    if cfg.has_decoder_shortcut(level):
        y = residual_merge(y, shortcut_branch(up, filters, prefix, cfg), prefix)
    if cfg.attention == "scse":
        y = scse_block(y, prefix)
    return y


def head(x, cfg: ModelConfig):
    """[3x3 conv unit ``head_conv``] then the 1x1 sigmoid conv ``head_sigmoid``.

    Returns (N, s, s, 1) probabilities of salt. The sigmoid layer computes in float32 even under
    a mixed-precision policy, so probabilities (and the loss on them) keep full precision.
    """
    if cfg.head_filters:
        x = conv_unit(x, cfg.head_filters, 3, "head_conv", cfg)
    return layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="head_sigmoid")(x)


def empty_tile_head(bottleneck):
    """Global average ``empty_head_pool`` then a float32 sigmoid unit ``empty_head``: (N, 1), the
    probability that the tile has any salt (39 % of TGS tiles have none)."""
    x = layers.GlobalAveragePooling2D(name="empty_head_pool")(bottleneck)
    return layers.Dense(1, activation="sigmoid", dtype="float32", name="empty_head")(x)


def auxiliary_head(x, level: int, size: int):
    """Deep supervision at decoder level ``level``: a 1x1 conv to one channel, resized to the
    input's ``size`` (bilinear) and a float32 sigmoid ``aux<level>``: (N, size, size, 1)."""
    x = layers.Conv2D(1, 1, name=f"dec{level}_aux_logits")(x)
    x = layers.Resizing(size, size, interpolation="bilinear", name=f"dec{level}_aux_resize")(x)
    return layers.Activation("sigmoid", dtype="float32", name=f"aux{level}")(x)


def assemble(cfg: ModelConfig, name: str = "unet") -> keras.Model:
    """The U-shaped network for ``cfg``: (N, size, size, channels) -> (N, size, size, 1), and with
    ``cfg.empty_head`` a second output (N, 1): ``[masks, has_salt]``. The layers get
    ``cfg.precision`` as their dtype policy (Keras's global policy is restored afterwards)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(cfg.precision)
    try:
        return _assemble(cfg, name)
    finally:
        keras.config.set_dtype_policy(previous)


def _assemble(cfg: ModelConfig, name: str) -> keras.Model:
    inputs = keras.Input((cfg.input_size, cfg.input_size, cfg.input_channels), name="input")
    x = inputs
    skips = []
    for level in range(1, cfg.depth + 1):
        x = encoder_block(x, level, cfg)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    x = encoder_block(x, cfg.depth + 1, cfg)  # the bottleneck: the deepest level, not pooled
    bottleneck = x
    auxiliary = []
    for level in range(cfg.depth, 0, -1):
        x = decoder_block(x, skips[level - 1], level, cfg)
        if cfg.deep_supervision and level > 1:
            auxiliary.append(auxiliary_head(x, level, cfg.input_size))
    outputs = [head(x, cfg)] + ([empty_tile_head(bottleneck)] if cfg.empty_head else []) + auxiliary
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name)


# --------------------------------------------------------------------------------------------
# Public constructors and provenance
# --------------------------------------------------------------------------------------------


def build_model(arch: str, preset: str = "lite", overrides: dict[str, Any] | None = None) -> keras.Model:
    """Build ``arch`` (``"unet"`` or ``"resunet"``) from ``preset`` with ``overrides`` applied.

    The model is named ``{arch}_{preset}`` and carries ``model.salt_config``: every field of the
    resolved ``ModelConfig`` plus ``arch``, ``preset`` and the ``overrides`` as given.
    """
    preset = preset_name(preset)
    cfg = resolve_config(arch, preset, overrides)
    model = assemble(cfg, name=f"{arch}_{preset}")
    model.salt_config = dataclasses.asdict(cfg) | {"arch": arch, "preset": preset, "overrides": dict(overrides or {})}
    return model


def parameter_count(arch: str, preset: str = "lite", overrides: dict[str, Any] | None = None) -> int:
    """The number of parameters of ``build_model(arch, preset, overrides)``; the model is built
    only to be counted and freed at once (the thesis presets hold 120-160 MB of weights)."""
    model = build_model(arch, preset, overrides)
    count = int(model.count_params())
    del model
    gc.collect()
    return count


def unet(preset: str = "lite", **overrides: Any) -> keras.Model:
    """The U-Net (no shortcuts by default). ``unet("thesis")`` is the source thesis's 31,031,685-parameter U-Net."""
    return build_model("unet", preset, overrides)


def resunet(preset: str = "lite", **overrides: Any) -> keras.Model:
    """The ResU-Net: the same skeleton with residual shortcuts (lite: 1x1, thesis: 3x3)."""
    return build_model("resunet", preset, overrides)


def model_config(model: keras.Model) -> dict[str, Any]:
    """The provenance dict of a model built here or loaded with ``salt_lib.records.load_model`` (a copy)."""
    config = getattr(model, "salt_config", None)
    if config is None:
        raise ValueError(
            f"model {model.name!r} carries no salt_lib configuration: it was not built by "
            "salt_lib.models, or it was loaded with keras.models.load_model, which drops it; "
            "load with salt_lib.records.load_model (reads the JSON beside the .keras file)"
        )
    return json.loads(json.dumps(dict(config)))  # a plain, independent copy


def model_from_config(config: dict[str, Any]) -> keras.Model:
    """A fresh (untrained) model from a provenance dict, e.g. one read from the JSON file.

    Every ``ModelConfig`` field is taken from the dict (not from today's preset), so the same
    architecture comes back even if the presets change later.
    """
    fields = {name: config[name] for name in CONFIG_FIELDS if name in config}
    model = build_model(config["arch"], config["preset"], fields)
    model.salt_config["overrides"] = dict(config.get("overrides", {}))
    return model
