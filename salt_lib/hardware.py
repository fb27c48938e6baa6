"""What the processor can do, read from Linux's ``/proc/cpuinfo``: its model name, and whether it
computes bfloat16 natively (the ``avx512_bf16`` or ``amx_bf16`` instructions). Without either,
Keras's ``mixed_bfloat16`` policy, which the default recipe trains in, is emulated on the CPU and
a training step runs several times slower than in float32 (``python -m salt_lib bench`` measures
both levers on the machine at hand). Provenance and warnings only: no run key holds any of it."""

from __future__ import annotations

import functools
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_info(path: Path = CPUINFO) -> dict:
    """``{"model": name or None, "flags": set of instruction-set flags or None}`` of the first
    processor ``path`` lists; both None where there is no such file (not Linux)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return {"model": None, "flags": None}
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor's block ends at the first blank line
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags")
    return {"model": fields.get("model name"), "flags": frozenset(flags.split()) if flags is not None else None}


def native_bfloat16(path: Path = CPUINFO) -> bool | None:
    """True if the CPU computes bfloat16 natively, False if it does not, None if unknown."""
    flags = cpu_info(path)["flags"]
    return None if flags is None else any(flag in flags for flag in BFLOAT16_FLAGS)


def describe_cpu(cores: int, path: Path = CPUINFO) -> str:
    """The CPU in words, e.g. 'cpu AMD EPYC (2 cores, no native bfloat16)'."""
    model, native = cpu_info(path)["model"], native_bfloat16(path)
    bf16 = "" if native is None else ", native bfloat16" if native else ", no native bfloat16"
    return " ".join(["cpu"] + ([model] if model else []) + [f"({cores} cores{bf16})"])


def bfloat16_warning(precision: str, device: str, path: Path = CPUINFO) -> str | None:
    """A warning when a model in ``mixed_bfloat16`` trains on a CPU (``device`` as
    ``train.compute_device`` names it) that has no native bfloat16; None otherwise."""
    if precision != "mixed_bfloat16" or not device.startswith("cpu") or native_bfloat16(path) is not False:
        return None
    return (f"this CPU ({cpu_info(path)['model'] or 'unknown model'}) has no native bfloat16 ({' or '.join(BFLOAT16_FLAGS)}): "
            "the mixed_bfloat16 policy runs emulated and a training step may be several times slower than in float32 "
            "(`python -m salt_lib bench` measures both here); `train --overrides '{\"precision\": \"float32\"}'` "
            "trains in float32, as another model (precision is part of its run key).")
