"""Command line: ``python -m salt_lib COMMAND`` (or the ``salt-lib`` console script).

Errors a user can cause (a missing folder, a broken tile) print one clear line and exit with
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from salt_lib.data import DataError


def cmd_synth(args) -> None:
    from salt_lib.synthetic import make_synthetic_tgs

    root = Path(args.out)
    if args.if_missing and (root / "train" / "images").is_dir():
        print(f"synthetic data already at {root}; reusing it")
        return
    start = time.perf_counter()
    make_synthetic_tgs(root, n_train=args.n_train, n_test=args.n_test, seed=args.seed)
    print(f"wrote {args.n_train} train + {args.n_test} test synthetic tiles to {root} in {time.perf_counter() - start:.1f} s")


def cmd_summary(args) -> None:
    from salt_lib.data import load_tgs
    from salt_lib.split import split_622

    start = time.perf_counter()
    data = load_tgs(args.data)
    elapsed = time.perf_counter() - start
    summary = data.summary()
    summary["load_seconds"] = round(elapsed, 3)
    summary["split_622"] = split_622(data.ids, data.coverage).groupby("split").size().to_dict()
    print(json.dumps(summary, indent=2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="salt_lib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="write the synthetic TGS-like data set in Kaggle's layout")
    synth.add_argument("--out", required=True, help="folder to create")
    synth.add_argument("--n-train", type=int, default=4000)
    synth.add_argument("--n-test", type=int, default=1000)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--if-missing", action="store_true", help="do nothing if the folder already holds a data set")
    synth.set_defaults(run=cmd_synth)

    summary = commands.add_parser("summary", help="load a data set and print what it holds")
    summary.add_argument("--data", required=True, help="folder in Kaggle's layout (holds train/)")
    summary.set_defaults(run=cmd_summary)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (DataError, FileExistsError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
