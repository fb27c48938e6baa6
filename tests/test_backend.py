"""salt_lib runs on both Keras backends it supports, and spreads training over devices on request.

The JAX check runs in a subprocess: a Keras backend is fixed when Keras is first imported, and
this test process imports it with TensorFlow.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from salt_lib.train import library_versions, use_devices

REPO = Path(__file__).resolve().parents[1]

JAX_STEP = """
import json, sys
import numpy as np
import keras
from salt_lib.losses import get_loss
from salt_lib.models import build_model
from salt_lib.train import library_versions, use_devices

devices = use_devices("all")
model = build_model("resunet", "lite", {"filters": 4, "depth": 2, "input_size": 32})
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=get_loss("bce_dice"))
rng = np.random.default_rng(0)
x = rng.random((4, 32, 32, 1), dtype=np.float32)
y = (rng.random((4, 32, 32, 1)) > 0.5).astype(np.float32)
before = [w.copy() for w in model.get_weights()]
loss = float(model.train_on_batch(x, y))
changed = any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
print(json.dumps({"backend": keras.backend.backend(), "loss": loss, "changed": changed, "devices": devices,
                  "versions": library_versions(), "tensorflow_imported": "tensorflow" in sys.modules}))
"""


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install jax==0.10.2)")
def test_one_training_step_under_jax():
    env = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", JAX_STEP], capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == "jax"
    assert result["loss"] > 0 and result["changed"]  # a real step: finite loss, the weights moved
    assert result["devices"] == ["cpu:0"]
    assert result["versions"]["backend"] == "jax" and result["versions"]["jax"]
    assert "tensorflow" not in result["versions"]
    assert not result["tensorflow_imported"], "salt_lib imported TensorFlow under the JAX backend"


def test_versions_name_the_backend_that_runs():
    versions = library_versions()
    assert versions["backend"] == keras.backend.backend()
    assert versions[versions["backend"]]  # e.g. versions["tensorflow"] == "2.21.0"


def test_use_devices():
    assert use_devices(None) == [] and use_devices("default") == []
    available = keras.distribution.list_devices()
    assert use_devices("all") == available
    assert use_devices("1") == available[:1]
    with pytest.raises(ValueError, match="device"):
        use_devices(str(len(available) + 1))
    with pytest.raises(ValueError, match="unknown device"):
        use_devices("gpu:7")
    assert keras.distribution.distribution() is None  # one device: no distribution was set


def test_cli_rejects_missing_devices(tmp_path, capsys):
    from salt_lib.cli import main

    data = tmp_path / "data"
    assert main(["synth", "--out", str(data), "--n-train", "40", "--n-test", "0"]) == 0
    capsys.readouterr()
    status = main(["train", "--data", str(data), "--arch", "unet", "--epochs", "1", "--devices", "gpu:3",
                   "--out", str(tmp_path / "run")])
    assert status == 2
    error = capsys.readouterr().err
    assert "unknown device(s) gpu:3" in error and len(error.strip().splitlines()) == 1
