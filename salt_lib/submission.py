"""From saved models and a folder of test tiles to a Kaggle submission: the one place that does it.

``write_submission_csv(model_path, images_dir, out, val)`` predicts every ``<id>.png`` of a
folder (Kaggle's ``test/images``) with one saved model, or with several averaged, cuts at the
threshold and minimum size of the model's record (of several: chosen on the validation tiles
``val``, ``salt_lib.evaluate.model_record``), and writes the competition's ``id,rle_mask`` CSV.
``python -m salt_lib predict`` and chapter 7 both call it. ``tiles_to_submit`` finds the tiles (and
writes a few synthetic ones for the quick profile, whose labelled data has none);
``kaggle_command`` is the command that uploads the file. ``salt_lib.predict.check_submission``
checks a written file.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from salt_lib.data import DataError, TGSData, png_files
from salt_lib.evaluate import model_paths, model_record
from salt_lib.predict import submission_rows, write_submission
from salt_lib.records import load_model
from salt_lib.synthetic import make_synthetic_tgs

COMPETITION = "tgs-salt-identification-challenge"


def tiles_to_submit(images_dir, synthetic_tiles: int = 0, seed: int = 1) -> dict[str, Path]:
    """The tiles to submit: id -> PNG path of every ``<id>.png`` in ``images_dir``; empty when the
    folder is missing or holds no PNG (a labelled-only data set, such as ../shared/tgs-salt).

    With ``synthetic_tiles > 0`` a missing ``images_dir``, which must then end in ``test/images``,
    first gets that many unlabelled synthetic tiles (``make_synthetic_tgs`` with no training
    tiles, in Kaggle's layout, written beside and renamed so that an interrupted run leaves no
    half folder): the quick profile's stand-in for Kaggle's 18,000 test tiles. Choose a ``seed``
    other than the labelled synthetic set's so that the ids differ from its tiles'.
    """
    images_dir = Path(images_dir)
    if synthetic_tiles > 0 and not images_dir.exists():
        if images_dir.parts[-2:] != ("test", "images"):
            raise DataError(f"{images_dir}: synthetic test tiles are written in Kaggle's layout, into a folder "
                            "<root>/test/images. Name such a folder, or set synthetic_test_tiles = 0.")
        root = images_dir.parent.parent
        if root.exists() and any(root.iterdir()):
            raise DataError(f"{root}: exists but holds no test/images. Empty it or choose another test_images_dir.")
        partial = root.with_name(root.name + f".part{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        make_synthetic_tgs(partial, n_train=0, n_test=synthetic_tiles, seed=seed)
        if root.exists():
            root.rmdir()
        os.replace(partial, root)
    return png_files(images_dir)


def write_submission_csv(model_path, images_dir, out, val: TGSData | None = None, cache_dir=None, tta: bool = True,
                         batch: int = 256, progress: bool = True) -> dict:
    """Predict every tile of ``images_dir`` with ``model_path`` (one ``.keras`` file, or several:
    their probabilities averaged, threshold and minimum size chosen on ``val``, which is needed
    then; its probabilities are cached in ``cache_dir``) and write the ``id,rle_mask`` CSV ``out``
    (its folder made if missing), one row per tile, sorted by id.

    Returns what was done: ``path``, ``rows``, ``threshold``, ``min_size``, ``models`` (paths as
    given) and ``tta``. DataError for a folder without PNG tiles or missing validation tiles.
    """
    paths = model_paths(model_path)
    files = png_files(images_dir)
    if not files:
        raise DataError(f"{images_dir}: no PNG images in this folder. Point it at e.g. test/images.")
    record = model_record(paths, val, cache_dir, tta)  # fails on a missing validation split before loading models
    threshold, min_size = record.get("threshold", 0.5), record.get("min_size", 0)
    models = [load_model(path, compile=False) for path in paths]
    rows = submission_rows(models, files, threshold, min_size, tta=tta, batch=batch, progress=progress)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_submission(rows, out)
    return {"path": out, "rows": len(rows), "threshold": threshold, "min_size": min_size,
            "models": [str(path) for path in paths], "tta": tta}


def kaggle_command(path, message: str) -> str:
    """The Kaggle command line that uploads the submission ``path`` with ``message`` (not run:
    it needs the user's Kaggle credentials and counts against the daily submission limit)."""
    return f"kaggle competitions submit -c {COMPETITION} -f {shlex.quote(str(path))} -m {shlex.quote(message)}"
