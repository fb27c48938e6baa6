"""The processor's model and bfloat16 support, read from a cpuinfo file, and the warning that a
bfloat16 model training on a CPU without it gets."""

from salt_lib import hardware

BLOCK = "processor\t: {n}\nvendor_id\t: X\nmodel name\t: {model}\n{cache}flags\t\t: {flags}\n\n"


def cpuinfo(tmp_path, name, model, flags, cache=""):
    path = tmp_path / name
    cache = f"cache size\t: {cache}\n" if cache else ""
    path.write_text(BLOCK.format(n=0, model=model, cache=cache, flags=flags)
                    + BLOCK.format(n=1, model="other", cache="cache size\t: 1 KB\n", flags="avx512_bf16"))
    return path


def test_the_first_processor_says_its_model_and_whether_it_computes_bfloat16(tmp_path):
    emulated = cpuinfo(tmp_path, "avx2", "AMD EPYC", "fpu sse2 avx avx2 fma")
    native = cpuinfo(tmp_path, "amx", "Intel Xeon", "avx2 avx512f amx_bf16 amx_tile")
    assert hardware.cpu_info(emulated) == {"model": "AMD EPYC", "cache": None,
                                           "flags": frozenset({"fpu", "sse2", "avx", "avx2", "fma"})}
    assert hardware.native_bfloat16(emulated) is False and hardware.native_bfloat16(native) is True
    assert hardware.describe_cpu(2, emulated) == "cpu AMD EPYC (2 cores, no native bfloat16)"
    assert hardware.describe_cpu(16, native) == "cpu Intel Xeon (16 cores, native bfloat16)"
    missing = tmp_path / "none"
    assert hardware.native_bfloat16(missing) is None and hardware.describe_cpu(2, missing) == "cpu (2 cores)"


def test_two_hosts_under_one_model_name_are_told_apart_by_their_cache(tmp_path):
    old = cpuinfo(tmp_path, "old", "Intel(R) Xeon(R) Processor", "avx512_bf16", cache="16384 KB")
    new = cpuinfo(tmp_path, "new", "Intel(R) Xeon(R) Processor", "avx512_bf16 amx_bf16", cache="491520 KB")
    amd = cpuinfo(tmp_path, "amd", "AMD EPYC", "avx2", cache="512 KB")
    assert hardware.cpu_info(new)["cache"] == "491520 KB"
    assert hardware.describe_cpu(2, old) == "cpu Intel(R) Xeon(R) Processor (2 cores, 16 MiB cache, native bfloat16)"
    assert hardware.describe_cpu(2, new) == "cpu Intel(R) Xeon(R) Processor (2 cores, 480 MiB cache, native bfloat16)"
    assert hardware.describe_cpu(2, amd) == "cpu AMD EPYC (2 cores, 512 KiB cache, no native bfloat16)"
    assert [hardware.cache_words(c) for c in ("1536 KB", "12 MB", "", None, "x KB")] == ["1536 KiB cache", "", "", "", ""]


def test_only_bfloat16_on_a_cpu_without_it_is_warned_about(tmp_path):
    emulated = cpuinfo(tmp_path, "avx2", "AMD EPYC", "avx2")
    native = cpuinfo(tmp_path, "bf16", "Intel Xeon", "avx512_bf16")
    warning = hardware.bfloat16_warning("mixed_bfloat16", "cpu AMD EPYC (2 cores, no native bfloat16)", emulated)
    assert warning.startswith("this CPU (AMD EPYC) has no native bfloat16 (avx512_bf16 or amx_bf16)") and "salt_lib bench" in warning
    assert hardware.bfloat16_warning("float32", "cpu (2 cores)", emulated) is None
    assert hardware.bfloat16_warning("mixed_bfloat16", "gpu NVIDIA H200", emulated) is None
    assert hardware.bfloat16_warning("mixed_bfloat16", "cpu (2 cores)", native) is None
    assert hardware.bfloat16_warning("mixed_bfloat16", "cpu (2 cores)", tmp_path / "none") is None  # unknown: no warning


def test_the_benchmarks_readme_holds_the_machines_table_its_two_results_make():
    import json

    from salt_lib.bench import machines_table, machine_name
    from salt_lib.files import REPO

    folder = REPO / "benchmarks" / "results"
    results = [json.loads((folder / name).read_text()) for name in ("bench.json", "bench_no_native_bf16.json")]
    readme = (REPO / "benchmarks" / "README.md").read_text()
    start = readme.index("by salt_lib.bench.machines_table -->\n") + len("by salt_lib.bench.machines_table -->\n")
    assert readme[start:readme.index("<!-- end of machines -->")] == machines_table(results)
    assert machine_name(results[1]["machine"]) == "2 cores, AMD EPYC, no native bfloat16"
    assert machine_name(results[0]["machine"]) == "2 cores, CPU model not recorded, bfloat16 support not recorded"
    xeon = {"cores": 2, "cpu_model": "Intel(R) Xeon(R) Processor", "cpu_cache": "491520 KB", "native_bfloat16": True}
    assert machine_name(xeon) == "2 cores, Intel(R) Xeon(R) Processor, 480 MiB cache, native bfloat16"
