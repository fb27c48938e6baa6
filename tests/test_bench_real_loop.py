"""The real-loop benchmark measures salt_lib.train.fit beside the bare step (a tiny, fast case)."""

from salt_lib.bench import Variant, real_loop


def test_real_loop_reports_the_loop_beside_the_bare_step():
    row = real_loop(Variant("tiny", overrides={"filters": 4, "depth": 2}), train_tiles=64, val_tiles=32, epochs=2, steps=2)
    assert row["bare_images_per_s"] > 0 and row["loop_images_per_s"] > 0
    assert row["loop_min"] <= row["loop_images_per_s"] <= row["loop_max"]
    assert row["loop_vs_bare"] == round(row["loop_images_per_s"] / row["bare_images_per_s"], 3)
    assert row["epoch_wall_s"] > 0 and row["augment"] == "flip_geo"
