"""TensorFlow's native start-up log kept out of the command line's and the notebooks' output.

Importing TensorFlow 2.21 writes, from C++ and before its logging is configured, lines such as
``WARNING: All log messages before absl::InitializeLog() is called are written to STDERR``, the
oneDNN notice and ``Could not find cuda drivers on your machine``. ``TF_CPP_MIN_LOG_LEVEL`` does
not reach these (they come before absl reads it), so ``install()`` (called by ``salt_lib``'s
``__init__``) sets that variable for what comes later and wraps the first ``import tensorflow``:
file descriptor 2 goes to a temporary file during the import, and afterwards every line that is
not start-up noise (``NATIVE_LOG_LINE``) is written back to stderr, so real errors still show.
Standard library only: every module may sit above this one.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

# TensorFlow's C++ start-up log (absl format: level, date, time, thread id, file:line). It names
# the CPU, probes for CUDA and carries timestamps and thread ids, so it differs on every run and
# says nothing about the work.
NATIVE_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:[\d.]+\s+\d+ [\w.]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.)$")


def drop_native_log(text: str) -> str:
    """``text`` without TensorFlow's start-up log lines (line endings kept)."""
    return "".join(line for line in text.splitlines(keepends=True) if not NATIVE_LOG_LINE.match(line.rstrip("\r\n")))


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` with fd 2 captured, then replays the useful lines."""

    def __init__(self, loader, finder):
        self.loader, self.finder = loader, finder

    def __getattr__(self, name):  # is_package, get_resource_reader, ...: the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        if self.finder in sys.meta_path:  # once: later imports take the normal path
            sys.meta_path.remove(self.finder)
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile(mode="w+b") as captured:
            os.dup2(captured.fileno(), 2)
            try:
                module.__loader__ = module.__spec__.loader = self.loader  # as if imported normally
                self.loader.exec_module(module)
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                captured.seek(0)
                kept = drop_native_log(captured.read().decode(errors="replace"))
                if kept:
                    sys.stderr.write(kept)
                    sys.stderr.flush()


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` through the other finders and hands back a quiet loader. Looking it
    up (``importlib.util.find_spec``, as Keras does to choose a backend) imports nothing."""

    def __init__(self):
        self.searching = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self.searching:
            return None
        self.searching = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.searching = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self)
        return spec


def install() -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user chose a level; child processes such as
    papermill's kernels inherit it), with it TensorFlow's Python logger to errors only, and quiet
    the first TensorFlow import of this process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3":
        # TensorFlow's Python warnings too (e.g. "... triggered tf.function retracing", a speed hint
        # a notebook kernel prints on stdout): errors still show. Standard logging, no TF import.
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    try:
        os.fstat(2)
    except OSError:
        return  # no file descriptor 2 to capture (a detached process)
    sys.meta_path.insert(0, _QuietTensorFlowFinder())
