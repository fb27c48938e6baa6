"""The choices the chapters make from their validation tables, in one place and with pandas alone,
so that the README's findings (``chapters.summary``) read the same choice as the chapter that made
it instead of repeating its rule."""

from __future__ import annotations

import pandas as pd


def submission_choice(table: pd.DataFrame) -> str:
    """Chapter 7: the candidate of ``results.submission_candidates``' table with the highest
    validation tgs_score (the first listed of equals)."""
    return str(table.loc[table["tgs_score"].idxmax(), "model"])


def closest_alternative(on_validation: pd.DataFrame) -> pd.Series:
    """Chapter 3: the row of ``study.pairwise_table(..., reference=<the recipe's policy>, split="val")``
    whose policy comes closest to (or furthest above) the recipe's, by the difference over seeds
    and mosaics (the first listed of equals)."""
    return on_validation.loc[on_validation["difference_seeds_tiles"].idxmax()]


def decided(on_validation: pd.DataFrame, direction: str) -> pd.DataFrame:
    """The rows of a validation comparison table (``study.pairwise_table(..., split="val")`` or
    one built from it) that decide ``direction`` (``"higher"`` or ``"lower"``): the interval that
    draws seeds, then mosaics, lies on that side of 0 and the Holm-adjusted p is under 0.05
    (chapters 3 and 6). The one rule every choice and finding of those chapters reads."""
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction {direction!r}: choose 'higher' or 'lower'")
    side = (on_validation["difference_seeds_tiles_low"] > 0 if direction == "higher"
            else on_validation["difference_seeds_tiles_high"] < 0)
    return on_validation[side & (on_validation["p_holm"] < 0.05)]


def beats_recipe(on_validation: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``study.pairwise_table(..., reference=<the recipe's arm>, split="val")`` whose
    arm scores higher than the recipe's, as a choice needs it (``decided``)."""
    return decided(on_validation, "higher")
