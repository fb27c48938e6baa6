"""What the processor can do, read from Linux's ``/proc/cpuinfo``: its model name, its cache, and
whether it computes bfloat16 natively (the ``avx512_bf16`` or ``amx_bf16`` instructions). Without either,
Keras's ``mixed_bfloat16`` policy, which the default recipe trains in, is emulated on the CPU and
a training step runs several times slower than in float32 (``python -m salt_lib bench`` measures
both levers on the machine at hand). Virtual machines often show every Xeon under one model name
("Intel(R) Xeon(R) Processor") whatever its generation, so the label names the cache that Linux
reports too: two hosts with one name and different caches are two CPUs, whose epochs may take twice
as long on one as on the other. Provenance and warnings only: no run key holds any of it."""

from __future__ import annotations

import functools
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_info(path: Path = CPUINFO) -> dict:
    """``{"model": name or None, "cache": e.g. "491520 KB" or None, "flags": set of instruction-set
    flags or None}`` of the first processor ``path`` lists; all None where there is no such file
    (not Linux)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return {"model": None, "cache": None, "flags": None}
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor's block ends at the first blank line
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags")
    return {"model": fields.get("model name"), "cache": fields.get("cache size"),
            "flags": frozenset(flags.split()) if flags is not None else None}


def native_bfloat16(path: Path = CPUINFO) -> bool | None:
    """True if the CPU computes bfloat16 natively, False if it does not, None if unknown."""
    flags = cpu_info(path)["flags"]
    return None if flags is None else any(flag in flags for flag in BFLOAT16_FLAGS)


def cache_words(cache: str | None) -> str:
    """cpuinfo's cache size in words: '491520 KB' -> '480 MiB cache', '512 KB' -> '512 KiB cache';
    '' where it is missing or not in KB."""
    number, _, unit = (cache or "").partition(" ")
    if unit != "KB" or not number.isdigit():
        return ""
    kib = int(number)
    return f"{kib // 1024} MiB cache" if kib >= 1024 and kib % 1024 == 0 else f"{kib} KiB cache"


def describe_cpu(cores: int, path: Path = CPUINFO) -> str:
    """The CPU in words, e.g. 'cpu AMD EPYC (2 cores, 512 KiB cache, no native bfloat16)'."""
    info, native = cpu_info(path), native_bfloat16(path)
    bf16 = None if native is None else "native bfloat16" if native else "no native bfloat16"
    details = [part for part in (f"{cores} cores", cache_words(info["cache"]), bf16) if part]
    return " ".join(["cpu"] + ([info["model"]] if info["model"] else []) + [f"({', '.join(details)})"])


def bfloat16_warning(precision: str, device: str, path: Path = CPUINFO) -> str | None:
    """A warning when a model in ``mixed_bfloat16`` trains on a CPU (``device`` as
    ``train.compute_device`` names it) that has no native bfloat16; None otherwise."""
    if precision != "mixed_bfloat16" or not device.startswith("cpu") or native_bfloat16(path) is not False:
        return None
    return (f"this CPU ({cpu_info(path)['model'] or 'unknown model'}) has no native bfloat16 ({' or '.join(BFLOAT16_FLAGS)}): "
            "the mixed_bfloat16 policy runs emulated and a training step may be several times slower than in float32 "
            "(`python -m salt_lib bench` measures both here); `train --overrides '{\"precision\": \"float32\"}'` "
            "trains in float32, as another model (precision is part of its run key).")
