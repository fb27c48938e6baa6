"""The appendix "Reproducing this thesis", from the records beside the chapters' models.

It lists the commands that rebuild the workbook and the book, each model's training command, the
library versions the records carry, the data fingerprint and split hash, and the device and
training minutes of every run. Records are read as JSON (no Keras): the ``.config.json`` beside
each chapter's model (04/05 ``model_path``) and the ``record.json`` of every run of the results
folders that the chapters read (``results_dir``, ``seed_results_dir``, ``mosaic_results_dir``, ``gpu_results_dir``).
"""

from __future__ import annotations

import json
from pathlib import Path

from salt_lib.book.document import TEXTS
from salt_lib.files import REPO

RESULT_KEYS = ("results_dir", "seed_results_dir", "mosaic_results_dir", "gpu_results_dir")


def chapter_records(chapters, notebooks_dir: Path) -> dict[str, dict]:
    """Run name -> record, for the models and result folders the chapters' parameters name
    (paths relative to ``notebooks_dir``, where the chapters ran)."""
    records = {}
    for chapter in chapters:
        params = chapter.parameters
        # The model a model chapter used: its model_path, else the one it published to models_dir.
        candidates = [params.get("model_path")] + ([f"{params['models_dir']}/{params['arch']}.keras"] if params.get("models_dir") and params.get("arch") else [])
        for path in filter(None, candidates):
            config = (Path(notebooks_dir) / path).with_suffix("").with_suffix(".config.json")
            if config.is_file():
                records[f"{chapter.number:02d} {params.get('arch', chapter.stem)}"] = json.loads(config.read_text())
                break
        for key in RESULT_KEYS:
            folder = params.get(key)
            if folder and (Path(notebooks_dir) / folder).is_dir():
                for record in sorted((Path(notebooks_dir) / folder).glob("*/record.json")):
                    records[f"{Path(folder).name}/{record.parent.name}"] = json.loads(record.read_text())
    return records


def _device(record: dict) -> str:
    versions = record.get("versions") or {}
    kind = record.get("device_kind") or record.get("trained_on") or record.get("device") or versions.get("device")
    if isinstance(kind, dict):
        kind = kind.get("device_kind") or json.dumps(kind)
    backend = versions.get("backend", "")
    kind = kind or "-"  # the record does not say
    return f"{kind} ({backend})" if backend else str(kind)


def _minutes(record: dict) -> float | None:
    seconds = record.get("wall_seconds") or record.get("train_seconds")
    if seconds is None and isinstance(record.get("study"), dict):
        seconds = record["study"].get("wall_seconds")
    return None if seconds is None else seconds / 60


def appendix_markdown(chapters, profile: str, language: str, tools: dict[str, str]) -> str:
    """The appendix's sections as Markdown."""
    words = TEXTS[language]
    records = chapter_records(chapters, REPO / "notebooks")  # the chapters ran there, whatever folder holds their copies
    workbook = "make workbook" if profile == "quick" else f"make {profile}" if profile == "thesis" else f"python -m salt_lib workbook --profile {profile}"
    ran_in = chapters[0].language if chapters else "en"  # the chapters' language, not the book's
    suffix = lambda lang: f" LANGUAGE={lang}" if lang != "en" else ""  # noqa: E731
    lines = [f"## {words['commands']} {{.unnumbered}}", "",
             "```bash", f"{workbook}{suffix(ran_in)}   # the chapters (params/{profile}.yaml)",
             f"make book PROFILE={profile}{suffix(language)}   # this book", "```"]
    commands = sorted({r.get("provenance", {}).get("command") for r in records.values() if isinstance(r.get("provenance"), dict)} - {None})
    commands = [c for c in commands if c.startswith(("python -m salt_lib", "make"))]  # study runs record a library call
    studies = sorted({r["study"]["name"] for r in records.values() if isinstance(r.get("study"), dict) and r["study"].get("name")})
    commands += [f"python -m salt_lib study {name} --data DATA   # results/seeds_{name}" for name in studies]
    if commands:
        lines += ["", "```bash", *commands, "```"]
    versions: dict[str, set] = {}
    for record in records.values():
        for name, version in (record.get("versions") or {}).items():
            if name in ("device", "backend"):  # not libraries: the runs table shows them
                continue
            versions.setdefault(name, set()).add(str(version))
    lines += ["", f"## {words['versions']} {{.unnumbered}}", "",
              "| | |", "|---|---|", *[f"| {name} | {', '.join(sorted(v))} |" for name, v in sorted(versions.items())]]
    provenance = [r.get("provenance") or r.get("data") or {} for r in records.values()]
    fingerprints = sorted({p.get("data_fingerprint") for p in provenance if isinstance(p, dict)} - {None})
    splits = sorted({p.get("split_hash") for p in provenance if isinstance(p, dict)} - {None})
    lines += ["", f"## {words['data']} {{.unnumbered}}", "",
              f"- {words['fingerprint']}: {', '.join(f'`{f}`' for f in fingerprints) or '-'}",
              f"- {words['split_hash']}: {', '.join(f'`{s}`' for s in splits) or '-'}"]
    lines += ["", f"## {words['runs']} {{.unnumbered}}", ""]
    if records:
        lines += ["| " + " | ".join(words["run_headers"]) + " |", "|---|---|---|---:|"]
        for name, record in records.items():
            minutes = _minutes(record)
            arch = f"{record.get('arch', '')} {record.get('preset', '')}".strip()
            lines.append(f"| {name} | {arch} | {_device(record)} | {'' if minutes is None else f'{minutes:.1f} ' + words['minutes']} |")
    else:
        lines.append(words["no_records"])
    lines += ["", f"{words['book_tools']}: " + ", ".join(f"{name} {version}" for name, version in tools.items()) + "."]
    return "\n".join(lines)


def repo_relative(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)
