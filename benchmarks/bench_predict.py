"""Predicting a Kaggle submission: wall time and peak memory of one model against an ensemble.

Each arm runs ``python -m salt_lib predict`` in a fresh process, as a user would, on a folder of
``--tiles`` synthetic 101x101 PNG tiles (Kaggle's test set has 18,000; the tiles' content does
not change the cost), with flip TTA, and checks the CSV it writes (``check_submission``). An
ensemble's threshold and minimum size are chosen on the validation tiles of ``--data`` first, as
``predict`` does for several ``--model`` files; that is part of its time. Peak memory is the
process's maximum resident set size.

``--idle`` says the cores had nothing else to do (pause any background training); without it the
times are marked contended in the JSON: not a speed result. Memory does not depend on that.

    python benchmarks/bench_predict.py --data ../shared/tgs-salt --idle
    python benchmarks/bench_predict.py --data ../shared/tgs-salt --tiles 500     # a quick look

Writes ``benchmarks/results/predict.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ARMS = {
    "single": ["models/unet_lite.keras"],
    "ensemble": ["models/unet_lite.keras", "models/seeds/unet-s1.keras", "models/seeds/unet-s2.keras"],
}
ARM_NAMES = {"single": "U-Net (one model)", "ensemble": "U-Net seed ensemble (3 models)"}

# Runs in the child process: the predict command, then its own peak memory as the last line.
CHILD = """
import json, resource, sys
from salt_lib import cli
code = cli.main(sys.argv[1:])
print(json.dumps({"rc": code, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_arm(models: list[str], images: Path, out: Path, data: str | None) -> dict:
    """One ``predict`` in its own process: wall seconds, peak resident memory (MB), the rows."""
    from salt_lib.data import png_files
    from salt_lib.submission import check_submission

    command = ["predict", "--model", *[str(REPO / m) for m in models], "--images", str(images), "--out", str(out)]
    if len(models) > 1:
        command += ["--data", data]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *command], capture_output=True, text=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"predict failed ({done.returncode}):\n{done.stderr[-2000:]}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    summary = check_submission(out, list(png_files(images)))
    return {"models": models, "seconds": round(seconds, 1), "peak_rss_mb": round(child["peak_rss_mb"], 1), "check": summary}


def table(result: dict) -> str:
    lines = [f"| predict, {result['tiles']:,} tiles, flip TTA | models | wall time | peak memory |", "|---|---|---|---|"]
    for name, arm in result["arms"].items():
        minutes, seconds = divmod(round(arm["seconds"]), 60)
        lines.append(f"| {ARM_NAMES.get(name, name)} | {len(arm['models'])} | {minutes} min {seconds:02d} s | "
                     f"{arm['peak_rss_mb'] / 1024:.2f} GB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the labelled data the models were trained on (an ensemble's validation tiles)")
    parser.add_argument("--tiles", type=int, default=18000, help="test tiles to predict (Kaggle's test set: 18,000)")
    parser.add_argument("--arms", default="single,ensemble", help=f"comma-separated, of: {', '.join(ARMS)}")
    parser.add_argument("--idle", action="store_true", help="the cores had nothing else to do while this ran")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "predict.json"))
    args = parser.parse_args()
    if args.tiles < 1:
        parser.error("--tiles must be at least 1")
    names = [name.strip() for name in args.arms.split(",") if name.strip()]
    unknown = sorted(set(names) - set(ARMS))
    if unknown:
        parser.error(f"unknown arm(s) {', '.join(unknown)}; known: {', '.join(ARMS)}")

    from salt_lib.files import atomic_write
    from salt_lib.synthetic import write_synthetic_folder

    with tempfile.TemporaryDirectory(prefix="bench-predict-") as scratch:
        scratch = Path(scratch)
        print(f"writing {args.tiles:,} synthetic test tiles ...", flush=True)
        images = write_synthetic_folder(scratch / "tiles", n_test=args.tiles, seed=7) / "test" / "images"
        arms = {}
        for name in names:
            print(f"{name}: predicting with {len(ARMS[name])} model(s) ...", flush=True)
            arms[name] = run_arm(ARMS[name], images, scratch / f"{name}.csv", args.data)
            print(f"  {arms[name]['seconds']:.0f} s, {arms[name]['peak_rss_mb']:.0f} MB; {arms[name]['check']}", flush=True)
    result = {"tiles": args.tiles, "tta": True, "cores": os.cpu_count(),
              "times": "idle cores" if args.idle else "CONTENDED cores (not a speed result; memory holds)",
              "command": "python benchmarks/bench_predict.py " + " ".join(sys.argv[1:]), "arms": arms}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as partial:
        partial.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
