"""From saved models and a folder of test tiles to a Kaggle submission: the one place that does it.

``write_submission_csv(model_path, images_dir, out, val)`` predicts every ``<id>.png`` of a
folder (Kaggle's ``test/images``) with one saved model, or with several averaged, cuts at the
threshold and minimum size of the model's record (of several: chosen on the validation tiles
``val``, ``salt_lib.evaluate.model_record``), and writes the competition's ``id,rle_mask`` CSV.
``python -m salt_lib predict`` and chapter 7 both call it. ``tiles_to_submit`` finds the tiles (and
writes a few synthetic ones for the quick profile, whose labelled data has none);
``kaggle_command`` is the command that uploads the file. ``submission_rows`` and
``write_submission`` make the rows and the file; ``check_submission`` checks a written file.
"""

from __future__ import annotations

import csv
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm  # not tqdm.auto: its notebook check warns in kernels without ipywidgets

from salt_lib.data import DataError, TGSData, png_files, read_image
from salt_lib.evaluate import model_paths, model_record
from salt_lib.files import atomic_write
from salt_lib.predict import predict_ensemble, predict_with_head, to_masks
from salt_lib.records import load_model
from salt_lib.report.words import tr
from salt_lib.rle import RLEError, rle_decode, rle_encode
from salt_lib.synthetic import write_synthetic_folder
from salt_lib.tile import TILE_SHAPE

COMPETITION = "tgs-salt-identification-challenge"
SUBMISSION_HEADER = ("id", "rle_mask")  # the competition's CSV columns


def tiles_to_submit(images_dir, synthetic_tiles: int = 0, seed: int = 1) -> dict[str, Path]:
    """The tiles to submit: id -> PNG path of every ``<id>.png`` in ``images_dir``; empty when the
    folder is missing or holds no PNG (a labelled-only data set, such as ../shared/tgs-salt).

    With ``synthetic_tiles > 0`` a missing ``images_dir``, which must then end in ``test/images``,
    first gets that many unlabelled synthetic tiles (``synthetic.write_synthetic_folder`` with no training
    tiles, in Kaggle's layout; an interrupted run leaves no half folder): the quick profile's stand-in for Kaggle's 18,000 test tiles. Choose a ``seed``
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
        write_synthetic_folder(root, n_test=synthetic_tiles, seed=seed)
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
    empty_cut = record.get("empty_cut", 0.0) if len(models) == 1 else 0.0  # a single model's head, chosen on validation
    rows = submission_rows(models, files, threshold, min_size, tta=tta, batch=batch, progress=progress, empty_cut=empty_cut)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_submission(rows, out)
    return {"path": out, "rows": len(rows), "threshold": threshold, "min_size": min_size,
            "models": [str(path) for path in paths], "tta": tta}


def kaggle_command(path, message: str) -> str:
    """The Kaggle command line that uploads the submission ``path`` with ``message`` (not run:
    it needs the user's Kaggle credentials and counts against the daily submission limit)."""
    return f"kaggle competitions submit -c {COMPETITION} -f {shlex.quote(str(path))} -m {shlex.quote(message)}"


def submission_rows(models, files: dict, threshold: float = 0.5, min_size: int = 0, tta: bool = True,
                    batch: int = 256, progress: bool = True, empty_cut: float = 0.0) -> list[tuple[str, str]]:
    """``(id, rle)`` for every tile of ``files`` (id -> PNG path, e.g. ``salt_lib.data.png_files``
    of Kaggle's test/images), sorted by id: the mean of ``models``' probabilities
    (``predict_ensemble``, flip TTA with ``tta``) cut at ``threshold``, regions under ``min_size``
    pixels dropped, with ``empty_cut`` (one model with an empty-tile head) the tiles its head
    calls empty emptied, run-length encoded. Tiles are read ``batch`` at a time, so memory stays
    bounded whatever the number of tiles (Kaggle's test set has 18,000)."""
    ids = sorted(files)
    rows = []
    with tqdm(total=len(ids), unit="tile", desc="predict", disable=not progress) as bar:
        for start in range(0, len(ids), batch):
            batch_ids = ids[start : start + batch]
            images = np.stack([read_image(files[tile_id]) for tile_id in batch_ids])
            if empty_cut > 0:  # one model with an empty-tile head: masks and head from one pass
                probs, salt = predict_with_head(models[0], images, tta=tta)
            else:
                probs, salt = predict_ensemble(models, images, tta=tta), None
            masks = to_masks(probs, threshold, min_size, salt, empty_cut)
            rows.extend((tile_id, rle_encode(mask)) for tile_id, mask in zip(batch_ids, masks))
            bar.update(len(batch_ids))
    return rows


def write_submission(rows, path) -> Path:
    """Write ``(id, rle)`` rows as the competition's ``id,rle_mask`` CSV."""
    path = Path(path)
    with atomic_write(path) as partial, partial.open("w", newline="") as handle:  # no half file if killed
        writer = csv.writer(handle)
        writer.writerow(SUBMISSION_HEADER)
        writer.writerows(rows)
    return path


def check_submission(path, ids) -> str:
    """Check a submission CSV against the ids of the tiles it is for: the header is exactly
    ``id,rle_mask``; one row per tile, ids unique and the same as ``ids``; every ``rle_mask``
    decodes (``salt_lib.rle.rle_decode``) to a 101x101 mask. Returns a one-line summary that
    depends only on the file's format and size, in ``use_thesis_style``'s language; raises
    ValueError naming the first problem."""
    path = Path(path)
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), None)
    if tuple(header or ()) != SUBMISSION_HEADER:
        raise ValueError(f"{path}: the header is {','.join(header or [])!r}, the competition expects 'id,rle_mask'.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise ValueError(f"{path}: id {duplicated.iloc[0]!r} has more than one row; the competition expects one per tile.")
    expected = {str(tile_id) for tile_id in ids}
    missing, unknown = sorted(expected - set(table["id"])), sorted(set(table["id"]) - expected)
    if missing or unknown:
        raise ValueError(f"{path}: {len(missing)} test tiles have no row (e.g. {missing[:3]}) and {len(unknown)} rows "
                         f"name no test tile (e.g. {unknown[:3]}); {len(table)} rows for {len(expected)} tiles.")
    for tile_id, rle in zip(table["id"], table["rle_mask"]):
        try:
            rle_decode(rle, TILE_SHAPE)
        except RLEError as error:
            raise ValueError(f"{path}: the rle_mask of {tile_id} is invalid: {error}") from None
    return tr("{name}: header id,rle_mask; {rows} rows, one per test tile, ids unique and the tiles' own; "
              "every rle_mask decodes to a {height}x{width} mask.", name=path.name, rows=len(table),
              height=TILE_SHAPE[0], width=TILE_SHAPE[1])
