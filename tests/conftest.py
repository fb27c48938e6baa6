"""Shared fixtures: the real TGS tiles beside the repository, tiny Kaggle-layout folders, and the
check that a sentence in Chinese keeps the numbers of its English one."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from salt_lib.rle import rle_encode

REPO = Path(__file__).resolve().parents[1]
REAL_TGS = REPO.parent / "shared" / "tgs-salt"
sys.path.insert(0, str(REPO / "benchmarks"))  # tests of the helpers the benchmarks define


@pytest.fixture(scope="session")
def real_root() -> Path:
    """../shared/tgs-salt (read-only), or a skip that says why."""
    if not (REAL_TGS / "train" / "images").is_dir():
        pytest.skip(f"real TGS tiles not found at {REAL_TGS} (see its README); real-data checks skipped")
    return REAL_TGS


@pytest.fixture(scope="session")
def real_dataset(real_root, tmp_path_factory):
    """The real tiles with split_622(seed=0), the split the committed models were validated on."""
    from salt_lib.dataset import load_dataset

    return load_dataset(real_root, cache_dir=tmp_path_factory.mktemp("real-cache"))


def disk_mask(radius: float, center=(50, 50)) -> np.ndarray:
    """A bool (101, 101) disc, handy for hand-checked cases."""
    rows, cols = np.mgrid[:101, :101]
    return (rows - center[0]) ** 2 + (cols - center[1]) ** 2 <= radius**2


def write_tiny_tgs(root: Path, n: int = 6, sixteen_bit=(1,), with_csv=True, with_depths=True) -> list[str]:
    """Write n tiles in Kaggle's layout: RGB images, 8-bit masks (16-bit for indices in
    ``sixteen_bit``), train.csv and depths.csv. Tile 0 is empty. Returns the ids."""
    rng = np.random.default_rng(0)
    (root / "train" / "images").mkdir(parents=True)
    (root / "train" / "masks").mkdir(parents=True)
    ids = [f"{i:02d}tile{i:04d}" for i in range(n)]
    rows = []
    for i, tile_id in enumerate(ids):
        gray = rng.integers(0, 256, (101, 101), dtype=np.uint8)
        Image.fromarray(np.repeat(gray[..., None], 3, axis=2)).save(root / "train" / "images" / f"{tile_id}.png")
        mask = disk_mask(8 * i) if i else np.zeros((101, 101), bool)
        if i in sixteen_bit:
            Image.fromarray(mask.astype(np.uint16) * 65535).save(root / "train" / "masks" / f"{tile_id}.png")
        else:
            Image.fromarray(mask.astype(np.uint8) * 255).save(root / "train" / "masks" / f"{tile_id}.png")
        rows.append(f"{tile_id},{rle_encode(mask)}")
    if with_csv:
        (root / "train.csv").write_text("id,rle_mask\n" + "\n".join(rows) + "\n")
    if with_depths:
        (root / "depths.csv").write_text("id,z\n" + "\n".join(f"{t},{100 + 10 * i}" for i, t in enumerate(ids)) + "\n")
    return ids


@pytest.fixture
def tiny_root(tmp_path) -> Path:
    root = tmp_path / "tgs"
    write_tiny_tgs(root)
    return root


CHINESE = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")


def in_both_languages(build):
    """``build()`` (sentences) in English, then in Chinese; the style is English again after."""
    from salt_lib import report

    english = build()
    report.use_thesis_style(language="zh")
    try:
        chinese = build()
    finally:
        report.use_thesis_style(language="en")
    return english, chinese


def assert_chinese_with_the_same_numbers(english, chinese):
    """Each sentence of ``chinese`` (a str or a list) is Chinese and holds the numbers of its English one."""
    english, chinese = ([text] if isinstance(text, str) else list(text) for text in (english, chinese))
    assert len(chinese) == len(english) > 0
    for en, zh in zip(english, chinese):
        assert CHINESE.search(zh) and not CHINESE.search(en), (en, zh)
        assert sorted(NUMBER.findall(zh)) == sorted(NUMBER.findall(en)), (en, zh)
