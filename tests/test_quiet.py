"""TensorFlow's native start-up log is dropped, everything else written during the import stays."""

import subprocess
import sys
import textwrap
from pathlib import Path

from salt_lib.quiet import drop_native_log

REPO = Path(__file__).resolve().parents[1]
NOISE = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
         "I0000 00:00:1795668795.419859   25557 port.cc:153] oneDNN custom operations are on.\n"
         "I0000 00:00:1795668795.420255   25557 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.\n"
         "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.\n")


def test_drop_native_log_keeps_every_other_line():
    assert drop_native_log(NOISE) == ""
    assert drop_native_log("real problem\n" + NOISE + "another\n") == "real problem\nanother\n"


def test_a_module_named_tensorflow_is_imported_with_its_native_noise_dropped_and_its_errors_kept(tmp_path):
    """A stand-in ``tensorflow`` package writes noise and a real line to file descriptor 2 (as C++
    code does) while it is imported after ``import salt_lib``."""
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(textwrap.dedent(f"""
        import os
        os.write(2, {NOISE!r}.encode())
        os.write(2, b"a real error line\\n")
        __version__ = "fake"
    """))
    script = "import salt_lib, os, tensorflow; print(tensorflow.__version__, os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "fake 3\n"
    assert result.stderr == "a real error line\n"
