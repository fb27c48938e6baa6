"""The real-loop benchmark measures salt_lib.train.fit beside the bare step (a tiny, fast case)."""

import pytest

from salt_lib.bench import Variant, real_loop


def test_real_loop_reports_the_loop_beside_the_bare_step():
    row = real_loop(Variant("tiny", overrides={"filters": 4, "depth": 2}), train_tiles=64, val_tiles=32, epochs=2, steps=2)
    assert row["bare_images_per_s"] > 0 and row["loop_images_per_s"] > 0
    assert row["loop_min"] <= row["loop_images_per_s"] <= row["loop_max"]
    # the ratio of the unrounded speeds: the rounded ones it is shown beside may differ in its last digit
    assert row["loop_vs_bare"] == pytest.approx(row["loop_images_per_s"] / row["bare_images_per_s"], abs=1e-3)
    assert row["epoch_wall_s"] > 0 and row["augment"] == "flip_geo"
