"""The U-Net / ResU-Net skeleton: the source thesis's parameter counts, lite variants, names, options, provenance."""

import dataclasses
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from salt_lib import models
from salt_lib.models import ModelConfig, model_config, resunet, unet
from salt_lib.records import load_model, write_record

RESIDUAL_LAYER = re.compile(r"^(enc|dec)\d+_(shortcut|shortcut_bn|add|add_relu)$")


def names(model) -> list[str]:
    return [layer.name for layer in model.layers]


def tiny(**overrides):
    """Lite options that make a model quick to build and run on a CPU."""
    return {"filters": 4, **overrides}


@pytest.fixture(scope="module")
def unet_thesis():
    return unet("thesis")


@pytest.fixture(scope="module")
def resunet_thesis():
    return resunet("thesis")


# ---- the thesis presets -----------------------------------------------------------------------


def test_thesis_unet_parameter_count(unet_thesis):
    assert unet_thesis.count_params() == 31_031_685


def test_thesis_resunet_parameter_count(resunet_thesis):
    # The U-Net plus 3x3 shortcuts: encoder levels 1-5 (1->64, 64->128, ..., 512->1024:
    # 6,269,440 parameters) and decoder levels 6-8 (512, 256, 128 channels: 3,097,472).
    assert resunet_thesis.count_params() == 31_031_685 + 6_269_440 + 3_097_472 == 40_398_597


def test_thesis_unet_reads_like_the_figure(unet_thesis):
    layer_names = set(names(unet_thesis))
    for level in range(1, 6):
        assert {f"enc{level}_conv1", f"enc{level}_conv1_relu", f"enc{level}_conv2"} <= layer_names
    for level in range(1, 5):
        assert {f"enc{level}_pool", f"dec{level}_up", f"dec{level}_upconv", f"dec{level}_concat",
                f"dec{level}_conv1", f"dec{level}_conv2"} <= layer_names
    assert {"enc4_dropout", "enc5_dropout", "head_conv", "head_sigmoid"} <= layer_names
    assert "enc5_pool" not in layer_names  # the bottleneck is not pooled
    assert not any(name.endswith("_bn") for name in layer_names)  # the thesis's network has no BatchNorm
    assert unet_thesis.get_layer("enc4_dropout").rate == 0.5
    assert unet_thesis.get_layer("head_conv").filters == 2


def test_thesis_unet_wiring(unet_thesis):
    get = unet_thesis.get_layer
    # Level 4's dropout output is what is pooled and what the skip connection carries.
    assert get("enc4_pool").input is get("enc4_dropout").output
    skip, up = get("dec4_concat").input
    assert skip is get("enc4_dropout").output
    assert up is get("dec4_upconv_relu").output
    assert get("dec4_upconv").kernel_size == (2, 2)
    assert get("enc1_conv1").kernel_initializer.__class__.__name__ == "HeNormal"


def test_thesis_resunet_shortcuts(resunet_thesis):
    get = resunet_thesis.get_layer
    layer_names = set(names(resunet_thesis))
    assert {f"enc{level}_shortcut" for level in range(1, 6)} <= layer_names
    assert {"dec4_shortcut", "dec3_shortcut", "dec2_shortcut"} <= layer_names
    assert "dec1_shortcut" not in layer_names and "dec1_add" not in layer_names
    assert get("enc3_shortcut").kernel_size == (3, 3) and get("enc3_shortcut").activation.__name__ == "linear"
    # The shortcut is of the level's input, added after the two convs, then ReLU, then dropout.
    assert get("enc3_shortcut").input is get("enc2_pool").output
    assert get("enc4_dropout").input is get("enc4_add_relu").output
    assert get("dec4_shortcut").input is get("dec4_upconv_relu").output


# ---- one builder for both ---------------------------------------------------------------------


def assert_same_skeleton(plain, residual):
    """The residual model has every layer of the plain one (same name, same type) plus only
    shortcut / add layers."""
    plain_types = {layer.name: type(layer) for layer in plain.layers}
    residual_types = {layer.name: type(layer) for layer in residual.layers}
    extra = set(residual_types) - set(plain_types)
    assert set(plain_types) <= set(residual_types)
    assert extra and all(RESIDUAL_LAYER.match(name) for name in extra), sorted(extra)
    assert all(residual_types[name] is cls for name, cls in plain_types.items())


def test_thesis_models_share_the_skeleton(unet_thesis, resunet_thesis):
    assert_same_skeleton(unet_thesis, resunet_thesis)


def test_lite_models_share_the_skeleton():
    plain, residual = unet("lite"), resunet("lite")
    assert_same_skeleton(plain, residual)
    extra = set(names(residual)) - set(names(plain))
    # conv1 shortcuts with BatchNorm at every level: 5 encoder + 4 decoder levels, 4 layers each.
    assert len(extra) == 9 * 4
    assert residual.get_layer("enc2_shortcut").kernel_size == (1, 1)


# ---- the lite presets -------------------------------------------------------------------------


def test_lite_defaults():
    model = unet("lite")
    layer_names = set(names(model))
    assert model.input_shape == (None, 128, 128, 1)
    assert model.get_layer("enc1_conv1").filters == 16
    assert model.get_layer("enc5_conv1").filters == 256  # depth 4: five levels, doubling
    assert "enc6_conv1" not in layer_names
    assert {"enc1_conv1_bn", "enc5_dropout", "dec1_up", "dec1_upconv", "dec1_concat", "head_sigmoid"} <= layer_names
    assert "enc4_dropout" not in layer_names and "head_conv" not in layer_names
    assert model.get_layer("enc1_conv1").use_bias is False  # BatchNorm follows
    assert not any(RESIDUAL_LAYER.match(name) for name in layer_names)


@pytest.mark.parametrize(
    "depth, upsampling, shortcut, size",
    [
        (4, "upsample", None, 128),
        (4, "upsample", "conv3", 128),
        (4, "upsample", "conv1", 128),
        (4, "upsample", "identity", 128),
        (4, "transpose", None, 112),
        (4, "transpose", "conv3", 112),
        (4, "transpose", "conv1", 112),
        (4, "transpose", "identity", 112),
        (3, "upsample", "conv1", 112),
        (3, "transpose", None, 128),
    ],
)
def test_lite_variants_build_and_predict(depth, upsampling, shortcut, size):
    model = unet("lite", **tiny(depth=depth, upsampling=upsampling, shortcut=shortcut, input_size=size))
    x = np.random.default_rng(0).random((2, size, size, 1), dtype=np.float32)
    y = keras.ops.convert_to_numpy(model(x, training=False))
    assert y.shape == (2, size, size, 1)
    assert y.dtype == np.float32
    assert np.all((y >= 0) & (y <= 1))
    assert f"enc{depth + 1}_conv2" in names(model) and f"enc{depth + 1}_pool" not in names(model)


def test_transpose_upsampling_names():
    model = unet("lite", **tiny(upsampling="transpose"))
    assert type(model.get_layer("dec1_up")).__name__ == "Conv2DTranspose"
    assert "dec1_upconv" not in names(model) and "dec1_up_bn" in names(model)


def test_identity_shortcut_projects_only_where_channels_change():
    model = resunet("lite", **tiny(shortcut="identity"))
    layer_names = set(names(model))
    assert {f"enc{level}_shortcut" for level in range(1, 6)} <= layer_names  # channels change
    assert model.get_layer("enc2_shortcut").kernel_size == (1, 1)
    assert not any(name.startswith("dec") and name.endswith("_shortcut") for name in layer_names)
    assert {f"dec{level}_add" for level in range(1, 5)} <= layer_names  # a true identity


def test_decoder_scale_and_dropout_options():
    model = unet("lite", **tiny(decoder_filters_scale=0.5, dropout=0.0))
    assert model.get_layer("enc1_conv1").filters == 4
    assert model.get_layer("dec1_conv1").filters == 2
    assert model.get_layer("dec4_upconv").filters == 16
    assert not any(name.endswith("_dropout") for name in names(model))


def test_a_global_dtype_policy_does_not_leak_into_a_model_its_config_is_the_precision():
    """The record must describe the network: Keras's global policy set elsewhere does not change
    the layers of a model built here (``ModelConfig.precision`` does)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = unet("lite", **tiny(depth=2, input_size=32))
        assert keras.config.dtype_policy().name == "mixed_float16"  # and the caller's policy is left as it was
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("enc1_conv1").compute_dtype == "float32" and model_config(model)["precision"] == "float32"
    assert model.output.dtype == "float32"


# ---- configuration errors ---------------------------------------------------------------------


def test_scse_attention_adds_the_hand_counted_parameters_at_each_decoder_level():
    plain, attended = unet("lite", **tiny(depth=2)), unet("lite", **tiny(depth=2, attention="scse"))
    # Decoder levels of C = 8 (dec2) and 4 (dec1) channels, squeezed to C/2: Dense C -> C/2
    # (C*C/2 + C/2), Dense C/2 -> C (C/2*C + C) and the 1x1 conv C -> 1 (C + 1).
    dec2, dec1 = 8 * 4 + 4 + 4 * 8 + 8 + 8 + 1, 4 * 2 + 2 + 2 * 4 + 4 + 4 + 1
    assert (dec2, dec1) == (85, 27)
    assert attended.count_params() - plain.count_params() == dec2 + dec1
    assert attended.get_layer("dec2_scse_reduce").units == 4 and attended.get_layer("dec1_scse_expand").units == 4
    added = set(names(attended)) - set(names(plain))
    assert added == {f"dec{level}_scse_{part}" for level in (1, 2)
                     for part in ("pool", "reduce", "expand", "channel", "spatial_conv", "spatial", "add")}
    assert attended.predict(np.zeros((2, 128, 128, 1), np.float32), verbose=0).shape == (2, 128, 128, 1)


def test_empty_tile_head_is_a_second_output_of_shape_n_by_1():
    model = unet("lite", **tiny(depth=2, empty_head=True))
    masks, has_salt = model.predict(np.zeros((3, 128, 128, 1), np.float32), verbose=0)
    assert masks.shape == (3, 128, 128, 1) and has_salt.shape == (3, 1)
    assert ((0 <= has_salt) & (has_salt <= 1)).all()
    assert model.get_layer("empty_head").input.shape[-1] == 4 * 2**2  # from the bottleneck's channels
    plain = unet("lite", **tiny(depth=2))
    assert model.count_params() - plain.count_params() == 16 + 1  # one unit on 16 pooled channels


def test_bfloat16_precision_computes_in_bfloat16_keeps_float32_outputs_and_survives_a_save(tmp_path):
    before = keras.config.dtype_policy().name
    model = unet("lite", **tiny(depth=2, precision="mixed_bfloat16"))
    assert keras.config.dtype_policy().name == before  # the global policy is restored after building
    assert model.get_layer("enc1_conv1").compute_dtype == "bfloat16"
    assert model.get_layer("enc1_conv1").variable_dtype == "float32"  # weights stay float32
    assert model.get_layer("head_sigmoid").compute_dtype == "float32" and model.output.dtype == "float32"
    assert model_config(model)["precision"] == "mixed_bfloat16"
    x = np.random.default_rng(0).random((2, 128, 128, 1)).astype(np.float32)
    path = tmp_path / "bf16.keras"
    model.save(path)
    write_record(path, model_config(model))
    loaded = load_model(path, compile=False)
    assert loaded.get_layer("enc1_conv1").compute_dtype == "bfloat16"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    # bfloat16 has an 8-bit mantissa: the same weights in float32 give close, not equal, outputs
    plain = unet("lite", **tiny(depth=2))
    plain.set_weights(model.get_weights())
    assert np.abs(plain.predict(x, verbose=0) - model.predict(x, verbose=0)).max() < 0.05


def test_default_models_are_unchanged_by_the_later_options():
    """attention (and the other options added since) default to off: the presets keep their sizes."""
    assert unet("lite").count_params() == 1_945_953 and resunet("lite").count_params() == 2_014_193
    assert models.LITE.attention is None and models.LITE.empty_head is False and models.LITE.precision == "float32"


def test_unknown_override_lists_valid_options():
    with pytest.raises(TypeError, match=r"unknown model option\(s\) filterz.*valid options:.*filters.*depth"):
        unet("lite", filterz=8)


@pytest.mark.parametrize("size, depth", [(100, 4), (101, 4), (112, 5), (0, 4)])
def test_invalid_input_size(size, depth):
    with pytest.raises(ValueError, match="input_size"):
        unet("lite", input_size=size, depth=depth)


@pytest.mark.parametrize(
    "overrides, pattern",
    [
        ({"upsampling": "bilinear"}, "upsampling"),
        ({"shortcut": "conv5"}, "shortcut"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout_levels": 6}, "dropout_levels"),
        ({"decoder_filters_scale": 0}, "decoder_filters_scale"),
        ({"filters": 0}, "filters"),
        ({"attention": "cbam"}, "attention"),
        ({"empty_head": "yes"}, "empty_head"),
        ({"precision": "float16"}, "precision"),
    ],
)
def test_invalid_values(overrides, pattern):
    with pytest.raises(ValueError, match=pattern):
        models.resolve_config("unet", "lite", overrides)


def test_unknown_architecture_or_preset():
    with pytest.raises(ValueError, match="valid: lite, thesis"):
        unet("huge")
    with pytest.raises(ValueError, match="valid: unet, resunet"):
        models.build_model("segnet")


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        models.PRESETS["unet"]["lite"].filters = 32


# ---- provenance -------------------------------------------------------------------------------


def test_model_carries_its_config():
    model = resunet("lite", **tiny(depth=3))
    config = model_config(model)
    assert config["arch"] == "resunet" and config["preset"] == "lite"
    assert config["overrides"] == {"filters": 4, "depth": 3}
    assert config["depth"] == 3 and config["shortcut"] == "conv1" and config["filters"] == 4
    assert set(config) == set(models.CONFIG_FIELDS) | {"arch", "preset", "overrides"}
    assert ModelConfig(**{name: config[name] for name in models.CONFIG_FIELDS}) == models.resolve_config(
        "resunet", "lite", {"filters": 4, "depth": 3}
    )


# Keras' own saving code trips a NumPy 2 DeprecationWarning (the __array__ copy keyword).
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_save_load_keeps_config_and_weights(tmp_path: Path):
    model = unet("lite", **tiny(depth=2, input_size=32))
    path = tmp_path / "unet_lite.keras"
    model.save(path)
    write_record(path, model_config(model))

    loaded = load_model(path, compile=False)
    assert model_config(loaded) == model_config(model)
    for saved, restored in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(saved), keras.ops.convert_to_numpy(restored))

    # Plain Keras loading drops the attribute; model_config says so and how to fix it.
    with pytest.raises(ValueError, match="salt_lib.records.load_model"):
        model_config(keras.models.load_model(path, compile=False))

    rebuilt = models.model_from_config(model_config(loaded))
    assert names(rebuilt) == names(model) and rebuilt.count_params() == model.count_params()
    assert model_config(rebuilt) == model_config(model)


def test_geometry_is_part_of_the_network_config():
    assert models.resolve_config("unet", "lite").geometry == "pad"
    assert models.resolve_config("unet", "lite", {"geometry": "resize"}).geometry == "resize"
    with pytest.raises(ValueError, match="geometry must be one of"):
        models.resolve_config("unet", "lite", {"geometry": "crop"})


def test_old_preset_name_still_builds_with_a_deprecation_warning():
    with pytest.warns(DeprecationWarning, match="thesis"):
        config = models.resolve_config("unet", "seed")
    assert config == models.PRESETS["unet"]["thesis"]


def test_model_code_uses_keras_only():
    # Model and loss code must run on the JAX backend too: no TensorFlow calls.
    for module in ("models.py", "losses.py"):
        source = (Path(models.__file__).parent / module).read_text()
        assert not re.search(r"\btf\.|import tensorflow|from tensorflow", source), module
